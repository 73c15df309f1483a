"""The store contract, the same for every store (the file store and PostGIS): pages with
filters, sorting, offsets and keyset cursors against a pandas reference, how many matched,
features by id, extent, version, atomic writes and notes, by-URL opening."""

from __future__ import annotations

import gc
import json
import os
import time
import weakref

import numpy as np
import pandas as pd
import psycopg
import pytest
import shapely

from geo_service.api.app import create_app
from geo_service.data.geojson_io import feature_texts, read_geojson
from geo_service.data.stores import FeatureQuery, open_store, store_schemes
from geo_service.errors import (
    Conflict,
    DataValidationError,
    FeatureNotFound,
    InvalidQuery,
    ProfileError,
    StoreUnavailable,
)
from geo_service.settings import Settings
from tests.conftest import STORE_KINDS
from tests.support import DATA_DIR, InProcessClient


@pytest.fixture(scope="module", params=STORE_KINDS)
def store(request, catalog, demo_store):
    """A store of each kind holding the demo's source layers (no derived folder)."""
    store = open_store(demo_store(request.param), catalog, DATA_DIR)
    yield store
    getattr(store, "close", lambda: None)()


@pytest.fixture(scope="module")
def postgis_store(catalog, demo_store):
    store = open_store(demo_store("postgis"), catalog, DATA_DIR)
    yield store
    store.close()


@pytest.fixture(params=STORE_KINDS)
def writable_store(request, catalog, demo_store, data_copy, tmp_path):
    """A store of each kind that a test may write to (a copy of the data folder, or a
    schema of its own), with a derived folder for the file store's notes."""
    url = f"file:{data_copy[1]}" if request.param == "file" else demo_store("postgis")
    store = open_store(url, catalog, data_copy[1], tmp_path / "derived")
    yield store
    getattr(store, "close", lambda: None)()


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


def _keyset_ids(store, layer_id: str, query: FeatureQuery) -> tuple[list[str], set[int]]:
    """Every id reached by following the pages' cursors (offsets where the store has no
    cursor), and the numberMatched each page reported."""
    ids, matched, cursor, offset = [], set(), None, 0
    while True:
        page = store.page(
            layer_id, FeatureQuery(**{**query.__dict__, "cursor": cursor, "offset": offset})
        )
        ids += page.frame.index.tolist()
        matched.add(page.matched)
        if len(page.frame) < query.limit:
            return ids, matched
        cursor = page.next_cursor
        offset = 0 if cursor is not None else offset + query.limit


KEYSET_QUERIES = [
    ("compounds", FeatureQuery(limit=50)),
    ("compounds", FeatureQuery(limit=64, with_texts=True)),  # PostGIS: its kept order
    ("roads", FeatureQuery(limit=1000, with_texts=True)),
    ("compounds", FeatureQuery(sortby=(("subdistrict_id", True), ("population", False)), limit=40)),
    ("compounds", FeatureQuery(sortby=(("name_zh", False),), limit=100)),
    ("compounds", FeatureQuery(filters={"subdistrict_id": "HL"}, limit=30)),
    ("compounds", FeatureQuery(bbox=(120.20, 31.50, 120.30, 31.60), limit=20)),
    ("roads", FeatureQuery(sortby=(("name", True),), limit=700)),  # mostly missing: last
    ("roads", FeatureQuery(sortby=(("name", False), ("length_m", True)), limit=999)),
]


@pytest.mark.parametrize(("layer_id", "query"), KEYSET_QUERIES, ids=range(len(KEYSET_QUERIES)))
def test_following_the_pages_visits_the_reference_order_once(store, demo, layer_id, query):
    whole = FeatureQuery(bbox=query.bbox, filters=query.filters, sortby=query.sortby)
    expected, expected_matched = _reference(demo[layer_id], whole)
    ids, matched = _keyset_ids(store, layer_id, query)
    assert ids == expected
    assert matched == {expected_matched}


SOURCE_LAYERS = sorted(p.stem for p in DATA_DIR.glob("*.geojson"))


@pytest.mark.postgis
@pytest.mark.parametrize("layer_id", SOURCE_LAYERS)
def test_feature_texts_built_in_sql_are_ours(postgis_store, catalog, demo, layer_id):
    """The GeoJSON PostGIS builds for a page holds what our encoder writes: the same
    features, ids, properties in catalog order, values and coordinates."""
    page = postgis_store.page(layer_id, FeatureQuery(with_texts=True))
    spec = catalog.get(layer_id)
    frame = demo[layer_id]
    lacking = [name for name in spec.property_names if name not in frame.columns]
    frame = frame.assign(**dict.fromkeys(lacking))[[*spec.property_names, "geometry"]]
    ours = feature_texts(frame, id_property=spec.id_property)
    built = [json.loads(text) for text in page.texts]
    assert built == [json.loads(text) for text in ours]
    assert [list(f["properties"]) for f in built] == [spec.property_names] * len(built)
    assert postgis_store.page(layer_id, FeatureQuery(limit=1)).texts is None  # not asked


@pytest.mark.postgis
def test_a_cursor_is_for_its_own_query_and_version(catalog, demo_store, demo):
    """(The file store pages by offset: it has no cursor to refuse.)"""
    store = open_store(demo_store("postgis"), catalog, DATA_DIR)
    first = store.page("compounds", FeatureQuery(limit=10))
    assert first.next_cursor is not None
    with pytest.raises(InvalidQuery, match="another query"):
        store.page(
            "compounds", FeatureQuery(limit=10, sortby=(("id", True),), cursor=first.next_cursor)
        )
    with pytest.raises(InvalidQuery, match="cursor is not valid"):
        store.page("compounds", FeatureQuery(limit=10, cursor="bm90IGEgY3Vyc29y"))
    store.write("compounds", demo["compounds"], description="the same again")
    with pytest.raises(Conflict, match="changed since this page"):
        store.page("compounds", FeatureQuery(limit=10, cursor=first.next_cursor))


def test_features_by_id_equal_the_file(store, demo):
    for layer_id in ("compounds", "service_centres", "roads"):
        expected = demo[layer_id].iloc[[0, len(demo[layer_id]) // 2, -1]]
        for _, row in expected.iterrows():
            got = store.feature(layer_id, str(row["id"]))
            assert got.index.tolist() == [str(row["id"])]
            for name, value in row.drop("geometry").items():
                assert _same(got.iloc[0][name], value), (layer_id, name)
            assert got.geometry.iloc[0].equals_exact(row.geometry, 1e-9)
    with pytest.raises(FeatureNotFound):
        store.feature("compounds", "no-such-compound")


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_declared_properties_the_data_lacks_read_as_null(
    kind, catalog, demo, demo_store, tmp_path, seeded_derived
):
    store = open_store(demo_store(kind), catalog, DATA_DIR)
    declared = catalog.get("service_centres").property_names
    lacking = [name for name in declared if name not in demo["service_centres"].columns]
    assert lacking == ["address", "phone"]  # optional; the synthetic demo has none
    one = store.feature("service_centres", "D00")
    assert one[lacking].isna().all(axis=None)
    page = store.query("service_centres")
    assert set(declared) <= set(page.columns) and page[lacking].isna().all(axis=None)
    settings = Settings(
        store=demo_store(kind),
        derived_dir=seeded_derived(tmp_path / "derived"),
        state_dir=tmp_path / "state",
    )
    api = InProcessClient(create_app(settings))
    for path in ("/collections/service_centres/items/D00", "/collections/service_centres/items"):
        for accept in ("application/geo+json", "text/html"):
            response = api.get(path, headers={"Accept": accept})
            assert response.status_code == 200, (path, accept, response.text[:300])
    properties = api.get("/collections/service_centres/items/D00").json()["properties"]
    assert properties["address"] is None and properties["phone"] is None
    getattr(store, "close", lambda: None)()


def _same(a, b) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    return a == b


def test_a_write_is_served_at_once_with_a_new_version(writable_store, demo):
    store = writable_store
    before = {layer: store.version(layer) for layer in ("compounds", "trails")}
    changed = demo["compounds"].iloc[::-1].copy()  # stored order reversed
    changed["population"] = changed["population"] + 1
    version = store.write("compounds", changed, description="one more resident each")
    assert version == store.version("compounds") != before["compounds"]
    assert store.version("trails") == before["trails"]
    assert store.count("compounds") == len(changed)
    assert store.page("compounds", FeatureQuery(limit=3)).frame.index.tolist() == (
        changed["id"][:3].tolist()
    )
    page = store.page("compounds", FeatureQuery(sortby=(("id", True),)))
    assert page.frame["population"].tolist() == (changed.sort_values("id")["population"].tolist())
    np.testing.assert_allclose(store.extent("compounds"), changed.total_bounds, atol=1e-7)


@pytest.mark.postgis
def test_kept_texts_belong_to_their_version(catalog, demo_store, demo):
    """Texts kept for a page are served again for the same version only: after a write
    (here by another process's store, as another worker would) the page is built anew."""
    url = demo_store("postgis")
    reader, writer = (open_store(url, catalog, DATA_DIR) for _ in range(2))
    query = FeatureQuery(limit=5, with_texts=True)
    first = reader.page("compounds", query)
    assert reader.page("compounds", query).texts == first.texts  # kept, same bytes
    renamed = demo["compounds"].assign(name_en=demo["compounds"]["name_en"] + " (renamed)")
    changed = renamed.iloc[::-1]  # and in another order
    writer.write("compounds", changed, description="renamed")
    again = reader.page("compounds", query)
    assert again.version == writer.version("compounds") != first.version
    assert again.frame.index.tolist() == changed["id"][:5].tolist()
    assert [json.loads(t)["properties"]["name_en"] for t in again.texts] == (
        changed["name_en"][:5].tolist()
    )
    for store in (reader, writer):
        store.close()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda f: f.assign(population=-5), "population"),  # breaks the catalog's minimum
        (lambda f: f.assign(population=2**70), "population"),  # beyond a 64-bit integer
        (lambda f: f.drop(columns="name_zh"), "name_zh"),
        (lambda f: f.assign(name_en=[v + "\x00" for v in f["name_en"]]), "NUL character"),
    ],
    ids=["minimum", "overflow", "missing-column", "nul"],
)
def test_a_refused_write_leaves_the_previous_version(writable_store, demo, change, reason):
    store = writable_store
    before = store.version("compounds")
    with pytest.raises(DataValidationError, match=reason):
        store.write("compounds", change(demo["compounds"].copy()), description="broken")
    assert store.version("compounds") == before
    assert store.count("compounds") == len(demo["compounds"])
    page = store.page("compounds", FeatureQuery(limit=3))
    assert page.frame["population"].tolist() == demo["compounds"]["population"][:3].tolist()


def _by_set(streets):
    """The reached streets in chunks, one facility set each, as a run draws them."""
    for _, rows in streets.groupby("facility_set", sort=False):
        yield rows


def test_a_layer_written_in_chunks_reads_as_one_written_whole(writable_store, warm_derived):
    store = writable_store
    streets = read_geojson(warm_derived / "reached_streets.geojson")
    assert streets["facility_set"].nunique() > 1  # more than one chunk
    version = store.write("reached_streets", _by_set(streets), description="in chunks")
    assert store.version("reached_streets") == version
    assert store.count("reached_streets") == len(streets)
    read = store.query("reached_streets").set_index("id")
    assert read.index.tolist() == streets["id"].tolist()
    np.testing.assert_allclose(read["length_km"], streets["length_km"], rtol=1e-12)
    assert shapely.equals_exact(read.geometry.to_numpy(), streets.geometry.to_numpy(), 1e-7).all()
    np.testing.assert_allclose(store.extent("reached_streets"), streets.total_bounds, atol=1e-7)


def _second_chunk_broken(streets, breaks):
    chunks = _by_set(streets)
    yield next(chunks)
    yield breaks(next(chunks))
    yield from chunks


@pytest.mark.parametrize(
    ("breaks", "error", "reason"),
    [
        (lambda c: c.assign(minutes=0), DataValidationError, "minutes"),  # below the minimum
        (lambda c: c.assign(id=["centre-15", *c["id"][1:]]), DataValidationError, "centre-15"),
        (lambda c: 1 / 0, ZeroDivisionError, "division"),  # the run fails while drawing
    ],
    ids=["invalid", "id-of-another-chunk", "run-fails"],
)
def test_a_chunk_refused_midway_leaves_the_previous_layer(
    writable_store, warm_derived, breaks, error, reason
):
    store = writable_store
    streets = read_geojson(warm_derived / "reached_streets.geojson")
    store.write("reached_streets", streets, description="whole")
    before = store.version("reached_streets")
    shorter = streets.assign(length_km=0.0)
    with pytest.raises(error, match=reason):
        store.write("reached_streets", _second_chunk_broken(shorter, breaks), description="broken")
    assert store.version("reached_streets") == before
    assert store.query("reached_streets")["length_km"].tolist() == streets["length_km"].tolist()


@pytest.mark.postgis
def test_postgis_copies_the_chunks_as_they_come(postgis_store, warm_derived):
    """The chunks are written as they come, never gathered: when a chunk is asked for,
    nothing holds the ones before any more."""
    streets = read_geojson(warm_derived / "reached_streets.geojson")
    made, held_when_asked = [], []

    def chunks():
        for _, rows in streets.groupby("facility_set", sort=False):
            gc.collect()
            held_when_asked.append(sum(ref() is not None for ref in made))
            chunk = rows.copy()
            made.append(weakref.ref(chunk))
            yield chunk
            del chunk

    postgis_store.write("reached_streets", chunks(), description="in chunks")
    assert len(made) == streets["facility_set"].nunique() > 2
    assert held_when_asked == [0] * len(made)
    assert postgis_store.count("reached_streets") == len(streets)


@pytest.mark.postgis
def test_a_slowly_drawn_layer_outlasts_the_urls_statement_timeout(
    catalog, demo_store, warm_derived
):
    """The URL's statement timeout guards reads; a layer whose chunks take longer to draw
    than it allows (the streets of a city) is still written."""
    url = demo_store("postgis") + "&options=-c%20statement_timeout%3D300"
    store = open_store(url, catalog, DATA_DIR)
    streets = read_geojson(warm_derived / "reached_streets.geojson")

    def slowly():
        for chunk in _by_set(streets):
            time.sleep(0.2)  # 1.2 s in all, one COPY
            yield chunk

    try:
        # the timeout does hold on this store's queries
        with store._connection() as conn, pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT pg_sleep(0.5)")
        store.write("reached_streets", slowly(), description="slowly")
        assert store.count("reached_streets") == len(streets)
    finally:
        store.close()


def test_notes_round_trip(writable_store):
    store = writable_store
    assert store.read_note("coverage") is None
    store.write_note("coverage", {"digest": "abc", "summary": {"share": 0.5, "名": [1, None]}})
    assert store.read_note("coverage") == {
        "digest": "abc",
        "summary": {"share": 0.5, "名": [1, None]},
    }


def test_file_version_is_the_content(data_copy, catalog):
    """The file store's version is a digest of the file: a touch is no new version, an
    edit is."""
    _, data_dir = data_copy
    store = open_store(f"file:{data_dir}", catalog, DATA_DIR)
    before = {layer: store.version(layer) for layer in ("compounds", "trails")}
    path = data_dir / "compounds.geojson"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert (
        open_store(f"file:{data_dir}", catalog, DATA_DIR).version("compounds")
        == (before["compounds"])
    )
    assert store.version("compounds") == before["compounds"]  # read again: same content
    path.write_text(path.read_text(encoding="utf-8").replace('"households":', '"households": '))
    after = open_store(f"file:{data_dir}", catalog, DATA_DIR)
    assert after.version("compounds") != before["compounds"]
    assert after.version("trails") == before["trails"]
    assert store.version("compounds") == after.version("compounds")  # seen without restart


def test_stores_are_opened_by_url(catalog):
    assert {"file", "postgresql", "postgres"} <= set(store_schemes())
    with pytest.raises(ProfileError, match=r"unknown scheme 'mysql'.*use one of file:"):
        open_store("mysql://localhost/db", catalog, DATA_DIR)


@pytest.mark.postgis
def test_a_postgis_store_says_what_is_missing(catalog, postgis_server):
    with pytest.raises(ProfileError, match="run `geo-service db init` and `geo-service db load`"):
        open_store(f"{postgis_server}?schema=never_made", catalog, DATA_DIR)
    with pytest.raises(ProfileError, match="schema"):
        open_store(f"{postgis_server}?schema=Robert'); DROP", catalog, DATA_DIR)


def test_items_etags_come_from_the_layer_version(data_copy, tmp_path, seeded_derived):
    """An items page's ETag is the layer's version with the query: the same page is 304
    before any encoding; a new version of the layer, a new ETag. (The landmarks: not an
    input of the coverage, so the second app starts on the same coverage.)"""
    catalog_dir, data_dir = data_copy
    seeded_derived(tmp_path / "derived")

    def api():
        settings = Settings(
            catalog_dir=catalog_dir, data_dir=data_dir, derived_dir=tmp_path / "derived"
        )
        return InProcessClient(create_app(settings))

    first = api()
    url = "/collections/landmarks/items"
    page = first.get(url, params={"limit": 3})
    etag = page.headers["etag"]
    assert etag.startswith('W/"v-') and page.json()["numberReturned"] == 3
    again = first.get(url, params={"limit": 3}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert first.get(url, params={"limit": 4}).headers["etag"] != etag
    path = data_dir / "landmarks.geojson"
    text = path.read_text(encoding="utf-8")
    assert '"kind":"townhall"' in text
    path.write_text(text.replace('"kind":"townhall"', '"kind": "townhall"', 1))
    assert api().get(url, params={"limit": 3}).headers["etag"] != etag


@pytest.mark.postgis
def test_every_collection_reads_the_same_from_both_stores(demo_store, tmp_path):
    """The same district served from files and from PostGIS: every collection's features
    (source and computed) equal, values and coordinates."""
    apis = {
        kind: InProcessClient(
            create_app(Settings(store=demo_store(kind), derived_dir=tmp_path / kind))
        )
        for kind in ("file", "postgis")
    }
    collections = apis["file"].get("/collections").json()["collections"]
    assert len(collections) >= 14
    for collection in collections:
        url = f"/collections/{collection['id']}/items"
        pages = [api.get(url, params={"limit": 10000}).json() for api in apis.values()]
        assert pages[0]["numberMatched"] == pages[1]["numberMatched"], collection["id"]
        assert pages[0]["features"] == pages[1]["features"], collection["id"]


@pytest.mark.postgis
def test_a_write_that_fails_in_the_database_changes_nothing(catalog, demo_store, demo):
    """A failure at the very end of the write's transaction (the database refuses to
    record the new version: a trigger raises, as a full disk would) rolls everything back:
    the old table, its rows and its version stay, and the next write succeeds."""
    url = demo_store("postgis")
    store = open_store(url, catalog, DATA_DIR)
    schema = url.split("?schema=")[1]
    before = store.version("compounds")
    changed = demo["compounds"].assign(population=demo["compounds"]["population"] + 1)
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        conn.execute(
            f"CREATE FUNCTION {schema}.refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$"
        )
        conn.execute(
            f"CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON {schema}.layers "
            f"FOR EACH ROW EXECUTE FUNCTION {schema}.refuse()"
        )
        with pytest.raises(StoreUnavailable, match=r"left unchanged.*No space left"):
            store.write("compounds", changed, description="refused")
        assert store.version("compounds") == before
        page = store.page("compounds", FeatureQuery(limit=5))
        assert page.frame["population"].tolist() == demo["compounds"]["population"][:5].tolist()
        conn.execute(f"DROP TRIGGER refuse ON {schema}.layers")
    assert store.write("compounds", changed, description="accepted") != before
    assert (
        store.page("compounds", FeatureQuery(limit=1)).frame["population"].iloc[0]
        == (changed["population"].iloc[0])
    )
    store.close()
