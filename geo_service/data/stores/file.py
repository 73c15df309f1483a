"""A store that reads each layer's GeoJSON file once and keeps it in memory with a
spatial index. Paths come from the catalog only, never from a request."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo_service.data.catalog import Catalog, LayerSpec
from geo_service.data.geojson_io import write_atomic
from geo_service.data.layer_rows import LayerRows, whole_frame
from geo_service.data.stores.base import BBox, FeaturePage, FeatureQuery
from geo_service.data.stores.file_history import FileHistory
from geo_service.data.stores.file_layers import (  # noqa: F401 - also imported from here
    check_data,
    file_stat_key,
    file_version,
    read_layer,
    write_layer_file,
    write_layer_version,
)
from geo_service.data.validation import Problem
from geo_service.data.vector_tiles import TileAddress, encode_tile
from geo_service.data.versions import LayerVersion
from geo_service.errors import (
    DataValidationError,
    FeatureNotFound,
    InvalidQuery,
    LayerNotFound,
    VersionNotFound,
)

log = logging.getLogger(__name__)


class FileStore:
    """All layers of ``catalog`` read from ``data_dir`` at construction; derived layers
    from ``derived_dir`` when they are there and valid (else they are computed and written
    next), which also keeps the notes (``NAME.json``).

    Raises :class:`DataValidationError` naming the file and field if any source layer's
    data does not match its catalog entry.
    """

    def __init__(
        self,
        catalog: Catalog,
        data_dir: Path,
        derived_dir: Path | None = None,
        *,
        keep_versions: int | None = None,
    ):
        self.catalog = catalog
        self.keep_versions = keep_versions
        self.data_dir = Path(data_dir)
        self.derived_dir = Path(derived_dir) if derived_dir is not None else None
        self._frames: dict[str, gpd.GeoDataFrame] = {}
        self._versions: dict[str, str] = {}
        self._stats: dict[str, tuple] = {}
        self._history = FileHistory(self.data_dir)
        started = time.perf_counter()
        problems: list[Problem] = []
        for spec in catalog:
            if spec.derived and self.derived_dir is None:
                continue
            frame, layer_problems = read_layer(spec, self._folder(spec), whole_layer=False)
            if spec.derived and layer_problems:  # not computed yet, or stale: made anew
                log.info("derived layer %s not loaded: %s", spec.id, layer_problems[0].message)
                continue
            problems += layer_problems
            if frame is not None and not layer_problems:
                self._install(spec, frame)
        if problems:
            shown = "\n  ".join(str(p) for p in problems[:10])
            more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
            raise DataValidationError(f"data does not match the catalog:\n  {shown}{more}")
        log.info(
            "loaded %d layers (%d features) from %s in %.2f s",
            len(self._frames),
            sum(map(len, self._frames.values())),
            self.data_dir,
            time.perf_counter() - started,
        )

    def _folder(self, spec: LayerSpec) -> Path:
        if spec.derived:
            if self.derived_dir is None:
                raise LayerNotFound(f"layer {spec.id!r}: this store has no derived folder")
            return self.derived_dir
        return self.data_dir

    def _install(
        self,
        spec: LayerSpec,
        frame: gpd.GeoDataFrame,
        written: tuple[str, tuple | None] | None = None,
    ) -> None:
        """Serve ``frame`` as the layer; ``written``: the (version, stat key) of the file
        it was written as (else read from the file now)."""
        frame = frame.set_index(frame[spec.id_property].astype(str), drop=False)
        frame.index.name = None
        frame.sindex  # noqa: B018 - build the spatial index now, not on first query
        path = self._folder(spec) / spec.source
        if written is None:
            written = (file_version(path), file_stat_key(path))
        self._versions[spec.id], self._stats[spec.id] = written
        self._frames[spec.id] = frame

    def _refresh(self, spec: LayerSpec) -> None:
        """Read the layer again if its file changed since (a write by another process,
        e.g. another server worker): one ``stat`` per read when it did not."""
        path = self._folder(spec) / spec.source
        if file_stat_key(path) == self._stats.get(spec.id):
            return
        for _ in range(3):  # the version and the frame of the same file, not a newer one's
            key, version = file_stat_key(path), file_version(path)
            frame, problems = read_layer(spec, self._folder(spec), whole_layer=False)
            if file_stat_key(path) == key:
                break
        else:
            return
        if frame is not None and not problems:
            log.info("%s changed on disk: read again", spec.source)
            self._install(spec, frame, (version, key))

    def has(self, layer_id: str) -> bool:
        """Whether the layer is loaded."""
        return layer_id in self._frames

    def write(
        self,
        layer_id: str,
        frame: LayerRows,
        *,
        description: str,
        author: str | None = None,
        source: str = "write",
        expected_version: str | None = None,
        whole_layer: bool = True,
    ) -> str:
        """Write the layer's file (checked, then renamed over the old one) and serve it; a
        source layer's previous file is kept first and the new version recorded after,
        under the layer's lock; with ``expected_version`` only if the file is still that
        version (:class:`PreconditionFailed`); ``whole_layer``: see the contract. Chunks
        are joined first: this store serves its layers from memory."""
        frame = whole_frame(frame)
        spec = self.catalog.get(layer_id)
        folder = self._folder(spec)
        if spec.derived:  # computed layers are made again, not versioned
            written = write_layer_file(
                spec, frame, folder, description=description, whole_layer=whole_layer
            )
            self._install(spec, written)
            return self._versions[layer_id]
        frame_written, record, stat = write_layer_version(
            spec,
            frame,
            folder,
            description=description,
            author=author,
            source=source,
            before=(self._versions[layer_id], self._frames[layer_id])
            if layer_id in self._frames
            else None,
            expected_version=expected_version,
            keep_versions=self.keep_versions,
            whole_layer=whole_layer,
        )
        self._install(spec, frame_written, (record.version, stat))
        return record.version

    def history(self, layer_id: str) -> list[LayerVersion]:
        """The layer's versions, oldest first, the current file last."""
        spec = self.catalog.get(layer_id)
        if layer_id not in self._frames:
            return self._history.recorded(layer_id)
        frame = self._frame(layer_id)  # read again if another process wrote it
        return self._history.records(
            layer_id, self._folder(spec) / spec.source, self._versions[layer_id], len(frame)
        )

    def read_version(self, layer_id: str, number: int) -> gpd.GeoDataFrame:
        """Version ``number``'s features (the current frame for the current version)."""
        spec = self.catalog.get(layer_id)
        records = {r.number: r for r in self.history(layer_id)}
        record = records.get(number)
        if record is not None and record.version == self._versions.get(layer_id):
            return self._frames[layer_id]
        path = self._history.copy_path(layer_id, number)
        if record is None or not record.kept or not path.is_file():
            raise VersionNotFound(f"layer {layer_id!r} has no version {number} to read")
        frame, problems = read_layer(
            spec.model_copy(update={"source": path.name}), path.parent, whole_layer=False
        )
        if frame is None:
            raise VersionNotFound(f"version {number} of {layer_id!r}: {problems[0].message}")
        return frame.set_index(frame[spec.id_property].astype(str), drop=False)

    def prune(self, layer_id: str, keep: int) -> list[int]:
        """Remove the kept copies of all but the ``keep`` latest versions (≥ 1: never the
        current one); their records stay, marked not kept."""
        return self._history.prune(layer_id, self.history(layer_id), keep)

    def _note_path(self, name: str) -> Path:
        if self.derived_dir is None:
            raise LayerNotFound("this store has no derived folder for its notes")
        return self.derived_dir / f"{name}.json"

    def read_note(self, name: str) -> dict | None:
        """``NAME.json`` in the derived folder, or None if absent or unreadable."""
        try:
            return json.loads(self._note_path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def write_note(self, name: str, document: dict) -> None:
        """Write ``NAME.json`` in the derived folder atomically."""
        write_atomic(self._note_path(name), json.dumps(document, ensure_ascii=False, indent=1))

    def _frame(self, layer_id: str) -> gpd.GeoDataFrame:
        spec = self.catalog.get(layer_id)  # LayerNotFound for unknown ids
        if layer_id in self._frames:
            self._refresh(spec)
        try:
            return self._frames[layer_id]
        except KeyError:  # a derived layer of a store opened without derived layers
            raise LayerNotFound(f"layer {layer_id!r} is not loaded") from None

    def count(self, layer_id: str) -> int:
        """Number of features in the layer."""
        return len(self._frame(layer_id))

    def query(
        self,
        layer_id: str,
        *,
        bbox: BBox | None = None,
        where: Mapping[str, object] | None = None,
    ) -> gpd.GeoDataFrame:
        """Features intersecting ``bbox`` (lon/lat) and matching ``where``, stored order
        (the caller's own frame: changing it changes nothing stored)."""
        selected = self._select(layer_id, bbox, where)
        return selected.copy() if selected is self._frames.get(layer_id) else selected

    def _select(
        self, layer_id: str, bbox: BBox | None, where: Mapping[str, object] | None
    ) -> gpd.GeoDataFrame:
        frame = self._frame(layer_id)
        if bbox is not None:
            hits = frame.sindex.query(shapely.box(*bbox), predicate="intersects")
            frame = frame.iloc[np.sort(hits)]
        for name, value in (where or {}).items():
            if name not in frame.columns or name == frame.geometry.name:
                raise InvalidQuery(f"layer {layer_id!r} has no property {name!r}")
            frame = frame[frame[name] == value]
        return frame

    def page(self, layer_id: str, query: FeatureQuery) -> FeaturePage:
        """The page ``query`` asks for: filtered, sorted (stable, missing values last) and
        sliced in memory; ``matched`` counts the filtered features."""
        frame = self._select(layer_id, query.bbox, query.filters)
        if query.sortby:
            names = [name for name, _ in query.sortby]
            unknown = [n for n in names if n not in frame.columns or n == frame.geometry.name]
            if unknown:
                raise InvalidQuery(f"layer {layer_id!r} has no property {unknown[0]!r} to sort by")
            frame = frame.sort_values(
                names,
                ascending=[ascending for _, ascending in query.sortby],
                kind="stable",
                na_position="last",
            )
        end = None if query.limit is None else query.offset + query.limit
        page = frame.iloc[query.offset : end]
        return FeaturePage(page, len(frame), version=self._versions[layer_id])

    def is_instant(self, layer_id: str, query: FeatureQuery) -> bool:
        """A loaded layer's page without bbox, filters or sort: a slice of the frame."""
        return (
            layer_id in self._frames
            and query.bbox is None
            and not query.filters
            and not query.sortby
            and query.limit is not None
        )

    def extent(self, layer_id: str) -> BBox | None:
        """The layer's bounding box (lon/lat); None for an empty layer."""
        frame = self._frame(layer_id)
        if frame.empty:
            return None
        minx, miny, maxx, maxy = (float(v) for v in frame.total_bounds)
        return minx, miny, maxx, maxy

    def version(self, layer_id: str) -> str:
        """A digest of the layer file's bytes when it was read or written."""
        self._frame(layer_id)
        return self._versions[layer_id]

    def vector_tile(
        self,
        layer_id: str,
        tile: TileAddress,
        properties: Sequence[str],
        where: Mapping[str, object] | None = None,
    ) -> bytes:
        """The tile's features from the spatial index, encoded in Python."""
        frame = self._select(layer_id, tile.lonlat_bounds(), where)
        return encode_tile(frame, layer_id, tile, properties)

    def feature(self, layer_id: str, feature_id: str) -> gpd.GeoDataFrame:
        """The one-row frame of feature ``feature_id``."""
        frame = self._frame(layer_id)
        if feature_id not in frame.index:
            raise FeatureNotFound(f"layer {layer_id!r} has no feature {feature_id!r}")
        return frame.loc[[feature_id]]
