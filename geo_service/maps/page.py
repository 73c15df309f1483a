"""What every map page shares: where it finds things, bilingual labels, and rendering a
folium figure into a self-contained, stable, offline-safe HTML page."""

from __future__ import annotations

import re
from dataclasses import dataclass

from branca.element import Element, Figure

from geo_service.data.catalog import Text
from geo_service.maps.assets import AssetError, external_asset_count, use_local_assets, walk


@dataclass(frozen=True)
class PageBase:
    """Where a page finds things, as URL prefixes seen from the page: ``static`` our
    static folder, ``api`` the service root (None in a standalone file)."""

    static: str
    api: str | None


def both(text: Text) -> str:
    """``"中文 / English"``."""
    return text.zh if text.zh == text.en else f"{text.zh} / {text.en}"


def page_html(figure: Figure, static_base: str) -> str:
    """Render ``figure`` with local assets, in Chinese, zoomable on a phone, to the same
    bytes every time; raise :class:`AssetError` if anything would still load from another
    host."""
    use_local_assets(figure, static_base)
    figure.header.add_child(Element('<link rel="icon" href="data:,">'), name="favicon")
    ids = {element._id for element in walk(figure)}
    page = _number_element_ids(figure.render(), ids)
    page = page.replace("<html>", '<html lang="zh-CN">', 1)
    page = page.replace(
        "maximum-scale=1.0, user-scalable=no", "maximum-scale=5.0, user-scalable=yes"
    )
    if external_asset_count(page):
        raise AssetError("the page would load assets from another host")
    return page


_RANDOM_ID = re.compile(r"_([0-9a-f]{32})\b")


def _number_element_ids(page: str, ids: set[str]) -> str:
    """folium names elements with random ids; number them in order of appearance
    instead (only those ids, never data that happens to look like one)."""
    numbers: dict[str, str] = {}

    def number(match: re.Match) -> str:
        if match[1] not in ids:
            return match[0]
        return "_" + numbers.setdefault(match[1], str(len(numbers) + 1))

    return _RANDOM_ID.sub(number, page)
