"""Select and encode features for items responses.

Whole-layer CRS84 feature texts are encoded once per layer and reused, so a page is a
slice and a join; other CRSs and property subsets are encoded per request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_service.api.ogc.crs import CRS84, to_output
from geo_service.api.ogc.query import ItemsQuery
from geo_service.data.catalog import LayerSpec
from geo_service.data.geojson_io import feature_texts
from geo_service.data.stores import FeatureQuery, LayerStore


@dataclass(frozen=True)
class Page:
    """One page of a query: the ids of the features on it, and how many matched in all."""

    ids: pd.Index
    matched: int


def _store_query(query: ItemsQuery, *, paged: bool) -> FeatureQuery:
    return FeatureQuery(
        bbox=query.bbox,
        filters=query.filters or {},
        sortby=tuple(query.sortby or ()),
        limit=query.limit if paged else None,
        offset=query.offset if paged else 0,
    )


def matching(store: LayerStore, spec: LayerSpec, query: ItemsQuery) -> gpd.GeoDataFrame:
    """Every feature matching the query (bbox and property filters), sorted as asked."""
    return store.page(spec.id, _store_query(query, paged=False)).frame


def select(store: LayerStore, spec: LayerSpec, query: ItemsQuery) -> Page:
    """The requested page of the matching features (ids only: the store pages)."""
    page = store.page(spec.id, _store_query(query, paged=True))
    return Page(page.frame.index, page.matched)


class FeatureEncoder:
    """GeoJSON texts of features, cached per layer for the default representation."""

    def __init__(self, store: LayerStore):
        self.store = store
        self._cache: dict[tuple[str, str], tuple[gpd.GeoDataFrame, np.ndarray]] = {}

    def _layer(self, spec: LayerSpec) -> tuple[gpd.GeoDataFrame, np.ndarray]:
        key = (spec.id, self.store.version(spec.id))  # a new version: encoded anew
        if key not in self._cache:
            frame = self.store.query(spec.id)
            texts = np.array(feature_texts(frame, id_property=spec.id_property), dtype=object)
            self._cache = {k: v for k, v in self._cache.items() if k[0] != spec.id}
            self._cache[key] = (frame, texts)
        return self._cache[key]

    def texts(self, spec: LayerSpec, ids: pd.Index, query: ItemsQuery) -> list[str]:
        """The features ``ids`` as GeoJSON texts, in the query's CRS and properties."""
        full, texts = self._layer(spec)
        if query.crs.uri == CRS84 and query.properties is None and not query.skip_geometry:
            return texts[full.index.get_indexer(ids)].tolist()
        page = full.loc[ids]
        columns = (
            list(query.properties)
            if query.properties is not None
            else [c for c in page.columns if c != page.geometry.name]
        )
        if spec.id_property not in columns:
            columns = [spec.id_property, *columns]
        out = page[[*columns, page.geometry.name]]
        if not query.skip_geometry:
            out = out.set_geometry(to_output(out.geometry.to_numpy(), query.crs))
        texts = feature_texts(
            out,
            id_property=spec.id_property,
            precision=query.crs.precision,
            geometry=not query.skip_geometry,
        )
        if query.properties is not None and spec.id_property not in query.properties:
            texts = [_drop_property(t, spec.id_property) for t in texts]
        return texts


def _drop_property(text: str, name: str) -> str:
    feature = json.loads(text)
    feature["properties"].pop(name, None)
    return json.dumps(feature, ensure_ascii=False, separators=(",", ":"))


def collection_document(texts: list[str], *, matched: int, links: list[dict]) -> bytes:
    """An items response: FeatureCollection with numberMatched, numberReturned and links."""
    tail = json.dumps(
        {"numberMatched": matched, "numberReturned": len(texts), "links": links},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return ('{"type":"FeatureCollection","features":[' + ",".join(texts) + "]," + tail[1:]).encode(
        "utf-8"
    )


def feature_document(text: str, links: list[dict]) -> bytes:
    """A single-feature response with its links."""
    body = json.dumps({"links": links}, ensure_ascii=False, separators=(",", ":"))
    return (text[:-1] + "," + body[1:]).encode("utf-8")
