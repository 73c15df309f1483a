"""The interface every store implements (files, PostGIS): the one seam between the
service and where its layers live."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import geopandas as gpd

from geo_service.data.catalog import Catalog
from geo_service.data.layer_rows import LayerRows
from geo_service.data.vector_tiles import TileAddress
from geo_service.data.versions import LayerVersion

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class FeatureQuery:
    """What to read from a layer: features intersecting ``bbox`` (lon/lat) whose
    properties equal ``filters``, sorted by ``sortby`` (``(name, ascending)`` pairs, then
    stored order; missing values last), ``limit`` of them (None: all) from ``offset`` —
    or, for a store that pages by key, after the page whose ``next_cursor`` is ``cursor``
    (``offset`` is then ignored)."""

    bbox: BBox | None = None
    filters: Mapping[str, object] = field(default_factory=dict)
    sortby: tuple[tuple[str, bool], ...] = ()
    limit: int | None = None
    offset: int = 0
    cursor: str | None = None
    #: Also each feature's GeoJSON text, if the store builds them; the page's frame may
    #: then hold the ids alone (the texts carry the features).
    with_texts: bool = False


@dataclass(frozen=True)
class FeaturePage:
    """The features of a query's page (EPSG:4326, indexed by feature id), how many
    features matched the query in all, and — from a store that pages by key — the opaque
    cursor of the next page (None on the last page, and from stores that page by offset)."""

    frame: gpd.GeoDataFrame
    matched: int
    next_cursor: str | None = None
    #: With ``FeatureQuery.with_texts``, from a store that builds them (PostGIS, in SQL):
    #: each feature's compact GeoJSON Feature text, CRS84, every property; else None.
    texts: list[str] | None = None
    #: The version of the layer the page was read from (what its ETag must name).
    version: str | None = None


@runtime_checkable
class LayerStore(Protocol):
    """The layers of a catalog, in EPSG:4326 lon/lat: read, and written whole."""

    catalog: Catalog

    def has(self, layer_id: str) -> bool:
        """Whether the store holds the layer (a derived layer may not be computed yet)."""
        ...

    def count(self, layer_id: str) -> int:
        """Number of features in the layer."""
        ...

    def page(self, layer_id: str, query: FeatureQuery) -> FeaturePage:
        """The page of features ``query`` asks for, and how many matched."""
        ...

    def is_instant(self, layer_id: str, query: FeatureQuery) -> bool:
        """Whether :meth:`page` answers ``query`` from memory in time proportional to the
        page alone (no I/O, no search, no sort), so a server may call it on its event loop."""
        ...

    def query(
        self,
        layer_id: str,
        *,
        bbox: BBox | None = None,
        where: Mapping[str, object] | None = None,
    ) -> gpd.GeoDataFrame:
        """Features of the layer intersecting ``bbox`` (lon/lat) whose properties equal
        ``where``; all features without filters, in stored order."""
        ...

    def vector_tile(
        self,
        layer_id: str,
        tile: TileAddress,
        properties: Sequence[str],
        where: Mapping[str, object] | None = None,
    ) -> bytes:
        """The features reaching ``tile`` (WebMercatorQuad) and matching ``where`` as a
        Mapbox Vector Tile of one layer named ``layer_id``, each feature with
        ``properties``; ``b""`` when none reaches it."""
        ...

    def feature(self, layer_id: str, feature_id: str) -> gpd.GeoDataFrame:
        """The one-row frame of feature ``feature_id``; ``FeatureNotFound`` if absent."""
        ...

    def extent(self, layer_id: str) -> BBox | None:
        """The layer's bounding box (lon/lat); None for an empty layer."""
        ...

    def version(self, layer_id: str) -> str:
        """A token that changes whenever the layer's features change (for ETags and
        caches)."""
        ...

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
        """Replace the layer's features by ``frame`` (EPSG:4326) atomically: checked against
        the catalog first (:class:`DataValidationError`, nothing written), then all or
        nothing. A source layer's write is a new :class:`LayerVersion` by ``author``
        (default: the command-line user) from ``source``; the version it replaces stays
        readable. Writers of a layer go one at a time, also across processes; with
        ``expected_version`` (the version the change was based on) a layer changed since
        is not written (:class:`PreconditionFailed`). ``whole_layer``: ``frame`` is the layer
        as loaded whole, so its count must be the catalog's ``expected_count``; False for
        feature edits, which add and remove features on purpose. ``frame`` may come in
        chunks (:data:`~geo_service.data.layer_rows.LayerRows`), each checked as it comes
        and written as it comes where the store can. Returns the new version token."""
        ...

    def history(self, layer_id: str) -> list[LayerVersion]:
        """The layer's versions, oldest first; the last is the current one (numbered as if
        recorded when the store first sees the layer, or a change made outside it)."""
        ...

    def read_version(self, layer_id: str, number: int) -> gpd.GeoDataFrame:
        """The features of version ``number`` (EPSG:4326, indexed by id);
        :class:`VersionNotFound` if there is none or it was pruned."""
        ...

    def prune(self, layer_id: str, keep: int) -> list[int]:
        """Drop the features of all but the ``keep`` latest versions (never the current
        one); their records stay, marked not kept. Returns the numbers pruned."""
        ...

    def read_note(self, name: str) -> dict | None:
        """A small JSON document kept beside the layers (the coverage manifest), or None."""
        ...

    def write_note(self, name: str, document: dict) -> None:
        """Keep ``document`` under ``name``, atomically."""
        ...
