"""The public service-centre locator page: a mobile-first HTML page (Leaflet, our own
``locator.js``; each centre's card drawn by ``locator-card.js``) over the public API —
place search, nearest centres on foot, filters, route, phone-map links, address, phone
and the week's hours — in Chinese with an English switch. Public layers only."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2

from geo_service.data.catalog import Catalog
from geo_service.maps.assets import LOCAL_ASSETS, AssetError, external_asset_count
from geo_service.maps.client_layers import Labels, client_layer, source_url, used_properties
from geo_service.maps.definition import MapLayer
from geo_service.maps.page import PageBase
from geo_service.maps.tiles import TILE_SOURCES, datum_of

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)

#: Background layers of the locator map, drawn from our own public layers.
BACKGROUND = (
    MapLayer(layer="water", group="basemap", interactive=False, tooltip=None),
    MapLayer(layer="district", group="basemap", fill=False, interactive=False, tooltip=None),
    MapLayer(layer="communities", group="basemap", fill=False, interactive=False, tooltip=None),
    MapLayer(layer="roads", group="basemap", interactive=False, tooltip=None),
)


def locator_page(
    catalog: Catalog,
    bounds: tuple[float, float, float, float],
    *,
    base: PageBase,
    basemaps: list[str] | tuple[str, ...] = (),
    tianditu_key: str | None = None,
    labels: dict[str, Labels] | None = None,
    languages: tuple[str, ...] = ("zh", "en"),
    centre_term: dict[str, str] | None = None,
    pinyin: bool = True,
) -> str:
    """The locator page's HTML.

    Parameters
    ----------
    bounds
        minlon, minlat, maxlon, maxlat (WGS 84) the map opens on.
    base
        URL prefixes of the static folder and of the API the page calls.
    labels
        Labels of services and levels (:func:`~geo_service.maps.client_layers.value_labels`).
    languages
        The page's languages, its default first.
    centre_term
        What the page calls a centre, ``{"zh": …, "en": …}``.
    pinyin
        Whether place names can be searched in pinyin (a district in China).
    """
    labels = labels or {}
    centre_term = centre_term or {"zh": "服务中心", "en": "service centre"}
    title = f"{centre_term['zh']}查询" if languages[0] == "zh" else f"Find a {centre_term['en']}"
    public = {spec.id for spec in catalog.visible("public")}
    background = []
    for entry in BACKGROUND:
        if entry.layer in public:
            spec = catalog.get(entry.layer)
            url = source_url(spec, entry, base.api or "", used_properties(spec, entry))
            background.append(client_layer(spec, entry, url=url))
    synthetic = any(catalog.get(layer_id).provenance.synthetic for layer_id in public)
    tiles = [
        {**TILE_SOURCES[name], "url": str(TILE_SOURCES[name]["url"]).replace("{key}", key)}
        for name in basemaps
        for key in [tianditu_key or ""]
    ]
    config = {
        "api": base.api or "",
        "bounds": bounds,
        "background": background,
        "services": labels.get("services", {}),
        "levels": labels.get("level", {}),
        "languages": list(languages),
        "centreTerm": centre_term,
        "pinyin": pinyin,
        "tiles": tiles,
        "datum": datum_of(basemaps),
        "synthetic": synthetic,
    }
    page = _TEMPLATES.get_template("locator.html").render(
        static=base.static,
        assets=LOCAL_ASSETS,
        config=json.dumps(config, ensure_ascii=False).replace("</", "<\\/"),
        services=labels.get("services", {}),
        synthetic=synthetic,
        lang=languages[0],
        title=title,
    )
    if external_asset_count(page):
        raise AssetError("the locator page would load assets from another host")
    return page
