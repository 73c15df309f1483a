"""Where an import compares and commits: the district's data folder when the layers are
served from files (``GEO_SERVICE_STORE=file:``), else the configured store (PostGIS), whose
checked, atomic write makes the new version every server sharing it then serves."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import geopandas as gpd

from geo_service.data.audit import AuditLog
from geo_service.data.catalog import Catalog
from geo_service.data.stores import LayerStore, open_configured_store
from geo_service.data.stores.file_history import FileHistory
from geo_service.data.versions import LayerVersion
from geo_service.settings import Settings


class ImportTarget:
    """The current layers an import is compared with, and where its commit goes."""

    def __init__(self, settings: Settings, catalog: Catalog):
        self.catalog = catalog
        url = urlsplit(settings.store)
        self.folder: Path | None = None
        self._store: LayerStore | None = None
        self._settings = settings
        if url.scheme == "file":
            self.folder = Path(url.path) if url.path else Path(settings.data_dir)

    @property
    def store(self) -> LayerStore:
        """The configured store (opened on first use; not for a data folder)."""
        if self._store is None:
            self._store = open_configured_store(self._settings, self.catalog, derived=False)
        return self._store

    def describe(self) -> str:
        """Where commits go, for messages."""
        if self.folder is not None:
            return str(self.folder)
        location = getattr(self.store, "location", None)
        return location.shown() if location is not None else urlsplit(self._settings.store).scheme

    def current(self, layer_id: str) -> gpd.GeoDataFrame | None:
        """The layer as it is now (EPSG:4326), or None if there is none yet."""
        from geo_service.data.stores.file import read_layer

        spec = self.catalog.get(layer_id)
        if self.folder is not None:
            if not (self.folder / spec.source).is_file():
                return None
            return read_layer(spec, self.folder)[0]
        return self.store.query(layer_id) if self.store.has(layer_id) else None

    def latest(self, layer_id: str) -> LayerVersion:
        """The layer's current version record (after a commit: the one it made)."""
        if self.folder is not None:
            return FileHistory(self.folder).recorded(layer_id)[-1]
        return self.store.history(layer_id)[-1]

    def audit(self, layer_id: str, *, action: str, command: str) -> None:
        """Append the layer's current version, just made by ``command``, to the audit log."""
        log = AuditLog(self._settings.state_dir / "audit.log")
        log.record_change(layer_id, self.latest(layer_id), action=action, path=command)

    @property
    def destination(self) -> Path | LayerStore:
        """What :func:`geo_service.importing.report.commit_import` writes to."""
        return self.folder if self.folder is not None else self.store

    def close(self) -> None:
        """Close the store if it was opened."""
        if self._store is not None:
            getattr(self._store, "close", lambda: None)()

    def __enter__(self) -> ImportTarget:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
