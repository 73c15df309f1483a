"""The store contract, the same for every store (``file:`` now; the PostGIS store joins the
parametrisation): pages with filters, sorting and offsets against a pandas reference,
how many matched, extent, version, by-URL opening."""

from __future__ import annotations

import os

import numpy as np
import pytest
import shapely

from geo_service.api.app import create_app
from geo_service.data.stores import FeatureQuery, open_store, store_schemes
from geo_service.errors import InvalidQuery, ProfileError
from geo_service.settings import Settings
from tests.support import DATA_DIR, InProcessClient

#: The stores under test, by URL.
STORE_URLS = ["file:"]


@pytest.fixture(scope="module", params=STORE_URLS)
def store(request, catalog):
    # source layers only: no derived folder needed
    return open_store(request.param, catalog, DATA_DIR)


def _reference(frame, query: FeatureQuery):
    """The page as pandas computes it from the whole layer."""
    if query.bbox is not None:
        frame = frame[frame.geometry.intersects(shapely.box(*query.bbox))]
    for name, value in query.filters.items():
        frame = frame[frame[name] == value]
    if query.sortby:
        frame = frame.sort_values(
            [n for n, _ in query.sortby],
            ascending=[a for _, a in query.sortby],
            kind="stable",
            na_position="last",
        )
    end = None if query.limit is None else query.offset + query.limit
    return frame["id"].astype(str).tolist()[query.offset : end], len(frame)


QUERIES = [
    FeatureQuery(limit=10),
    FeatureQuery(limit=7, offset=465),
    FeatureQuery(sortby=(("population", False),), limit=25, offset=30),
    FeatureQuery(sortby=(("subdistrict_id", True), ("population", False)), limit=50),
    FeatureQuery(filters={"community_id": "HL01"}, sortby=(("population", True),)),
    FeatureQuery(bbox=(120.20, 31.50, 120.30, 31.60), limit=20, offset=5),
    FeatureQuery(bbox=(120.20, 31.50, 120.30, 31.60), filters={"subdistrict_id": "HL"}),
    FeatureQuery(bbox=(0.0, 0.0, 1.0, 1.0)),
    FeatureQuery(limit=10, offset=10_000),
]


@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
def test_pages_equal_the_reference(store, demo, query):
    page = store.page("compounds", query)
    expected_ids, expected_matched = _reference(demo["compounds"], query)
    assert page.frame["id"].astype(str).tolist() == expected_ids
    assert page.matched == expected_matched
    assert page.frame.index.tolist() == expected_ids  # indexed by feature id


def test_unknown_properties_are_refused(store):
    with pytest.raises(InvalidQuery, match="no property 'nope'"):
        store.page("compounds", FeatureQuery(filters={"nope": 1}))
    with pytest.raises(InvalidQuery, match="no property 'nope' to sort by"):
        store.page("compounds", FeatureQuery(sortby=(("nope", True),)))


def test_extent_and_count(store, demo):
    for layer_id in ("compounds", "service_centres", "trails"):
        np.testing.assert_allclose(store.extent(layer_id), demo[layer_id].total_bounds)
        assert store.count(layer_id) == len(demo[layer_id])


def test_version_changes_with_the_layer(data_copy, catalog):
    _, data_dir = data_copy
    before = open_store(f"file:{data_dir}", catalog, DATA_DIR)
    path = data_dir / "compounds.geojson"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    after = open_store(f"file:{data_dir}", catalog, DATA_DIR)
    assert after.version("compounds") != before.version("compounds")
    assert after.version("trails") == before.version("trails")


def test_stores_are_opened_by_url(catalog):
    assert "file" in store_schemes()
    with pytest.raises(ProfileError, match=r"unknown scheme 'mysql'.*use one of file:"):
        open_store("mysql://localhost/db", catalog, DATA_DIR)


def test_items_etags_come_from_the_layer_version(data_copy, tmp_path):
    """An items page's ETag is the layer's version with the query: the same page is 304
    before any encoding; a new version of the layer, a new ETag."""
    catalog_dir, data_dir = data_copy

    def api():
        settings = Settings(
            catalog_dir=catalog_dir, data_dir=data_dir, derived_dir=tmp_path / "derived"
        )
        return InProcessClient(create_app(settings))

    first = api()
    url = "/collections/compounds/items"
    page = first.get(url, params={"limit": 3})
    etag = page.headers["etag"]
    assert etag.startswith('W/"v-') and page.json()["numberReturned"] == 3
    again = first.get(url, params={"limit": 3}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert first.get(url, params={"limit": 4}).headers["etag"] != etag
    path = data_dir / "compounds.geojson"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert api().get(url, params={"limit": 3}).headers["etag"] != etag
