"""Stores by URL: ``file:`` (the settings' data folder), ``file:/some/folder``,
``postgresql://user@host:port/db?schema=NAME``; a scheme registers the function that
opens it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from geo_service.data.catalog import Catalog
from geo_service.data.stores.base import LayerStore
from geo_service.data.stores.file import FileStore
from geo_service.errors import ProfileError
from geo_service.settings import Settings

Opener = Callable[[str, Catalog, Path, Path | None, int | None], LayerStore]


def _open_file(url: str, catalog: Catalog, data_dir: Path, derived_dir: Path | None, keep):
    path = urlsplit(url).path
    return FileStore(catalog, Path(path) if path else data_dir, derived_dir, keep_versions=keep)


def _open_postgis(url: str, catalog: Catalog, data_dir: Path, derived_dir: Path | None, keep):
    from geo_service.data.stores.postgis import PostGISStore  # psycopg only when used

    return PostGISStore(catalog, url, keep_versions=keep)


_OPENERS: dict[str, Opener] = {
    "file": _open_file,
    "postgresql": _open_postgis,
    "postgres": _open_postgis,
}


def store_schemes() -> tuple[str, ...]:
    """The URL schemes a store can be opened with."""
    return tuple(_OPENERS)


def open_store(
    url: str,
    catalog: Catalog,
    data_dir: Path,
    derived_dir: Path | None = None,
    *,
    keep_versions: int | None = None,
) -> LayerStore:
    """The store at ``url`` for ``catalog``: ``file:`` reads ``data_dir`` (``file:PATH``
    another folder), derived layers from ``derived_dir``; ``postgresql://...`` a PostGIS
    database; ``keep_versions``: the retention of older versions' features (None: all).
    An unknown scheme is refused naming the ones there are."""
    scheme = urlsplit(url).scheme
    if scheme not in _OPENERS:
        raise ProfileError(
            f"store {url!r}: unknown scheme {scheme or '(none)'!r}; use one of "
            + ", ".join(f"{s}:" for s in _OPENERS)
        )
    return _OPENERS[scheme](url, catalog, data_dir, derived_dir, keep_versions)


def open_configured_store(
    settings: Settings, catalog: Catalog, *, derived: bool = True
) -> LayerStore:
    """The store ``settings`` name (``GEO_SERVICE_STORE``), with their data folder, their
    derived folder (unless not ``derived``) and their retention of versions."""
    return open_store(
        settings.store,
        catalog,
        settings.data_dir,
        settings.derived_dir if derived else None,
        keep_versions=settings.keep_versions,
    )
