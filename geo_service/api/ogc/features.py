"""Select and encode features for items responses.

The store pages; CRS84 feature texts with every property are kept (UTF-8) per layer version
once encoded, so a page seen before is a lookup and a join; other CRSs and property subsets
are encoded per request.
"""

from __future__ import annotations

import json

import geopandas as gpd

from geo_service.api.ogc.crs import CRS84, to_output
from geo_service.api.ogc.query import ItemsQuery
from geo_service.data.catalog import LayerSpec
from geo_service.data.geojson_io import feature_texts
from geo_service.data.stores import FeaturePage, FeatureQuery, LayerStore
from geo_service.data.stores.kept_texts import KeptTexts


def _default_representation(query: ItemsQuery) -> bool:
    """CRS84, every property, with geometry: the texts a store may build and we keep."""
    return query.crs.uri == CRS84 and query.properties is None and not query.skip_geometry


def store_query(query: ItemsQuery, *, paged: bool = True, texts: bool = False) -> FeatureQuery:
    """The store's query for an items query: its page (``paged``) or every match."""
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
    return store.page(spec.id, store_query(query, paged=False)).frame


def select(
    store: LayerStore, spec: LayerSpec, query: ItemsQuery, *, for_geojson: bool = True
) -> FeaturePage:
    """The requested page of the matching features, paged by the store; ``for_geojson``:
    texts from the store when it builds them (then the frame may hold only the ids)."""
    return store.page(spec.id, store_query(query, paged=True, texts=for_geojson))


class FeatureEncoder:
    """GeoJSON texts (UTF-8) of features; for the default representation kept per layer
    version, so a page seen before is a lookup."""

    def __init__(self):
        self._kept = KeptTexts()

    def cached(
        self, spec: LayerSpec, page: gpd.GeoDataFrame, query: ItemsQuery, version: str
    ) -> list[bytes] | None:
        """The page's texts if every one is kept already (a lookup: no encoding), else
        None."""
        if not _default_representation(query):
            return None
        return self._kept.get(spec.id, version, page.index.tolist())

    def texts(
        self,
        spec: LayerSpec,
        page: gpd.GeoDataFrame,
        query: ItemsQuery,
        version: str,
        built: list[bytes] | None = None,
    ) -> list[bytes]:
        """The features of ``page`` (a store page of layer version ``version``) as GeoJSON
        texts, in the query's CRS and properties; ``built``: the texts the store built.
        CPU-bound for big pages: call it off the event loop."""
        if built is not None:
            return built
        if _default_representation(query):
            ids = page.index.tolist()
            texts = self._kept.of(spec.id, version)
            missing = [i for i in ids if i not in texts]
            if missing:
                fresh = feature_texts(page.loc[missing], id_property=spec.id_property)
                texts.update(zip(missing, (t.encode("utf-8") for t in fresh), strict=True))
            return [texts[i] for i in ids]
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
        return [t.encode("utf-8") for t in texts]


def _drop_property(text: str, name: str) -> str:
    feature = json.loads(text)
    feature["properties"].pop(name, None)
    return json.dumps(feature, ensure_ascii=False, separators=(",", ":"))


def collection_document(texts: list[bytes], *, matched: int, links: list[dict]) -> bytes:
    """An items response: FeatureCollection with numberMatched, numberReturned and links."""
    tail = json.dumps(
        {"numberMatched": matched, "numberReturned": len(texts), "links": links},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    return b'{"type":"FeatureCollection","features":[' + b",".join(texts) + b"]," + tail[1:]


def feature_document(text: bytes, links: list[dict]) -> bytes:
    """A single-feature response with its links."""
    body = json.dumps({"links": links}, ensure_ascii=False, separators=(",", ":"))
    return text[:-1] + b"," + body[1:].encode("utf-8")
