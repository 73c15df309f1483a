"""Select and encode features for items responses.

The store pages; CRS84 feature texts with every property are kept per layer version once
encoded, so a page seen before is a lookup and a join; other CRSs and property subsets are
encoded per request.
"""

from __future__ import annotations

import json

import geopandas as gpd

from geo_service.api.ogc.crs import CRS84, to_output
from geo_service.api.ogc.query import ItemsQuery
from geo_service.data.catalog import LayerSpec
from geo_service.data.geojson_io import feature_texts
from geo_service.data.stores import FeaturePage, FeatureQuery, LayerStore

#: Feature texts kept per layer version (beyond it the layer's cache starts again).
MAX_CACHED_TEXTS = 200_000


def _default_representation(query: ItemsQuery) -> bool:
    """CRS84, every property, with geometry: the texts a store may build and we keep."""
    return query.crs.uri == CRS84 and query.properties is None and not query.skip_geometry


def _store_query(query: ItemsQuery, *, paged: bool, texts: bool = False) -> FeatureQuery:
    return FeatureQuery(
        bbox=query.bbox,
        filters=query.filters or {},
        sortby=tuple(query.sortby or ()),
        limit=query.limit if paged else None,
        offset=query.offset if paged else 0,
        cursor=query.cursor if paged else None,
        with_texts=texts and _default_representation(query),
    )


def matching(store: LayerStore, spec: LayerSpec, query: ItemsQuery) -> gpd.GeoDataFrame:
    """Every feature matching the query (bbox and property filters), sorted as asked."""
    return store.page(spec.id, _store_query(query, paged=False)).frame


def select(
    store: LayerStore, spec: LayerSpec, query: ItemsQuery, *, for_geojson: bool = True
) -> FeaturePage:
    """The requested page of the matching features, paged by the store; ``for_geojson``:
    texts from the store when it builds them (then the frame may hold only the ids)."""
    return store.page(spec.id, _store_query(query, paged=True, texts=for_geojson))


class FeatureEncoder:
    """GeoJSON texts of features; for the default representation kept per layer version."""

    def __init__(self):
        self._cache: dict[str, tuple[str, dict[str, str]]] = {}  # layer: (version, texts)

    def _default_texts(self, spec: LayerSpec, page: gpd.GeoDataFrame, version: str) -> list[str]:
        cached_version, texts = self._cache.get(spec.id, (None, {}))
        if cached_version != version or len(texts) > MAX_CACHED_TEXTS:
            texts = {}
            self._cache[spec.id] = (version, texts)
        missing = [i for i in page.index if i not in texts]
        if missing:
            encoded = feature_texts(page.loc[missing], id_property=spec.id_property)
            texts.update(zip(missing, encoded, strict=True))
        return [texts[i] for i in page.index]

    def texts(
        self,
        spec: LayerSpec,
        page: gpd.GeoDataFrame,
        query: ItemsQuery,
        version: str,
        built: list[str] | None = None,
    ) -> list[str]:
        """The features of ``page`` (a store page of layer version ``version``) as GeoJSON
        texts, in the query's CRS and properties; ``built``: the texts the store built."""
        if _default_representation(query):
            return built if built is not None else self._default_texts(spec, page, version)
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
