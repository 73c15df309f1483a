"""Store calls run off the event loop, so a slow store (a database round trip, a search or
sort of a big layer) cannot stall the other requests; only a store's instant pages (a slice
of a layer in memory) are answered on the loop, and their kept texts equal fresh ones."""

from __future__ import annotations

import asyncio

import pytest

from geo_service.analysis.locator import LocatorIndex
from geo_service.api.app import create_app
from geo_service.data.stores import FeatureQuery
from geo_service.settings import Settings
from tests.conftest import STORE_KINDS
from tests.support import InProcessClient


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class WatchedStore:
    """A real store whose reads record whether they ran in an event loop's thread."""

    def __init__(self, store):
        self._store = store
        self.calls: list[tuple[str, bool]] = []

    def __getattr__(self, name):
        attribute = getattr(self._store, name)
        if not callable(attribute) or name == "is_instant":
            return attribute

        def watched(*args, **kwargs):
            self.calls.append((name, _on_event_loop()))
            return attribute(*args, **kwargs)

        return watched


@pytest.fixture(scope="module", params=STORE_KINDS)
def watched(request, demo_store, tmp_path_factory, seeded_derived):
    """The app on a store of each kind (coverage computed), its store watched."""
    derived = seeded_derived(tmp_path_factory.mktemp("watched") / "derived")
    settings = Settings(store=demo_store(request.param), derived_dir=derived)
    app = create_app(settings)
    store = app.state.store
    app.state.store = WatchedStore(store)
    yield request.param, app.state.store, InProcessClient(app)
    getattr(store, "close", lambda: None)()


ROUTES = [
    "/",
    "/collections",
    "/collections/compounds",
    "/collections/compounds/items?bbox=120.2,31.5,120.3,31.6",
    "/collections/compounds/items?sortby=-population&limit=5",
    "/collections/compounds/items?community_id=HL01",
    "/collections/compounds/items?bbox=120.2,31.5,120.3,31.6&f=html",
    "/collections/compounds/items?bbox=120.2,31.5,120.3,31.6&crs=http://www.opengis.net/def/crs/EPSG/0/4549",
    "/layers",
    "/layers/compounds",
    "/layers/compounds.geojson",
    "/summary",
]


@pytest.mark.parametrize("route", ROUTES)
def test_store_reads_run_off_the_event_loop(watched, route):
    _, store, api = watched
    store.calls.clear()
    response = api.get(route)
    assert response.status_code == 200, response.text
    assert store.calls, "the route read nothing from the store"
    assert [name for name, on_loop in store.calls if on_loop] == []


def test_a_feature_by_id_is_read_off_the_event_loop(watched, demo):
    _, store, api = watched
    feature_id = str(demo["compounds"]["id"].iloc[3])
    store.calls.clear()
    response = api.get(f"/collections/compounds/items/{feature_id}")
    assert response.json()["id"] == feature_id
    assert store.calls and not any(on_loop for _, on_loop in store.calls)


def test_only_instant_pages_are_answered_on_the_loop(watched):
    """A plain slice of a file-store layer is instant (read on the loop once its texts
    are kept); nothing of the PostGIS store is."""
    kind, store, api = watched
    url = "/collections/compounds/items?limit=7&offset=20"
    assert store.is_instant("compounds", FeatureQuery(limit=7, offset=20)) == (kind == "file")
    for query in (
        FeatureQuery(bbox=(120.2, 31.5, 120.3, 31.6), limit=7),
        FeatureQuery(filters={"community_id": "HL01"}, limit=7),
        FeatureQuery(sortby=(("population", True),), limit=7),
        FeatureQuery(),
    ):
        assert not store.is_instant("compounds", query)
    first = api.get(url)  # texts encoded (or built by the store) off the loop
    store.calls.clear()
    again = api.get(url)  # the texts are kept now
    assert again.content == first.content and again.json()["numberReturned"] == 7
    on_loop = {name for name, on_loop in store.calls if on_loop}
    assert on_loop == ({"page"} if kind == "file" else set())


def test_kept_texts_equal_fresh_ones(watched, demo):
    """Pages answered from kept texts are the bytes another app encodes when it sees the
    same pages in the opposite order (pages inside, and overlapping, pages seen before)."""
    _, _, api = watched
    urls = [
        f"/collections/compounds/items?limit={n}&offset={o}"
        for n, o in ((50, 0), (5, 10), (30, 40), (1000, 0))
    ]
    seen = [api.get(url).content for url in urls]
    other = InProcessClient(create_app(api.app.state.settings))
    assert [other.get(url).content for url in reversed(urls)] == seen[::-1]
    assert len(api.get(urls[-1]).json()["features"]) == len(demo["compounds"])


def test_the_locator_builds_and_answers_off_the_event_loop(watched, monkeypatch):
    """Routing is CPU work: the locator's index is built from the store, and each answer
    computed, in a thread; two answers of one loop never run at once."""
    _, store, api = watched
    on_loop, running, overlap = [], [0], []
    nearest = LocatorIndex.nearest

    def watched_nearest(self, *args, **kwargs):
        on_loop.append(_on_event_loop())
        running[0] += 1
        overlap.append(running[0] > 1)
        try:
            return nearest(self, *args, **kwargs)
        finally:
            running[0] -= 1

    monkeypatch.setattr(LocatorIndex, "nearest", watched_nearest)
    store.calls.clear()
    api.app.state.locator_index = None  # built again from the watched store

    async def answers(client):
        points = [(120.262, 31.56), (120.255, 31.577), (120.28, 31.54), (120.24, 31.57)]
        asked = [client.get("/locator/nearest", params={"lon": x, "lat": y}) for x, y in points]
        return await asyncio.gather(*asked)

    responses = api._run(answers)
    assert [r.status_code for r in responses] == [200] * 4
    assert on_loop == [False] * 4 and not any(overlap)
    assert store.calls and not any(loop for _, loop in store.calls)
