"""Shared fixtures: the committed demo data, the catalog, the stores (files and a real
PostGIS), and on each the app called in process and a live server."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from geo_service.data.catalog import Catalog, load_catalog
from geo_service.data.geojson_io import read_geojson
from tests.support import CATALOG_DIR, DATA_DIR, InProcessClient, LiveServer, lifespan, run_cli

#: The stores the API, coverage and locator tests run against, one parametrised fixture.
STORE_KINDS = ["file", pytest.param("postgis", marks=pytest.mark.postgis)]


@pytest.fixture(scope="session")
def postgis_server() -> str:
    """The URL of the PostGIS server the tests may use (``GEO_SERVICE_TEST_POSTGIS``, set
    by ``scripts/throwaway-postgis run``, which ``make test`` uses). Without one the PostGIS
    tests are skipped — except in CI, where that is a failure."""
    url = os.environ.get("GEO_SERVICE_TEST_POSTGIS")
    if not url:
        message = (
            "no PostGIS server: run `make test`, or "
            "`scripts/throwaway-postgis run -- .venv/bin/python -m pytest ...`"
        )
        if os.environ.get("CI") or os.environ.get("GEO_SERVICE_REQUIRE_POSTGIS"):
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def demo_store(request, tmp_path_factory) -> Callable[[str], str]:
    """Make a store holding the demo district's source layers, by kind: ``file:`` (the
    data folder), or a new schema in the PostGIS server loaded by ``geo-service db load``
    (without coverage layers: the app computes them into it). Returns its URL (for
    ``GEO_SERVICE_STORE``)."""
    no_results = tmp_path_factory.mktemp("no-derived")

    def make(kind: str) -> str:
        if kind == "file":
            return "file:"
        schema = f"test_{secrets.token_hex(4)}"
        url = f"{request.getfixturevalue('postgis_server')}?schema={schema}"
        env = {"GEO_SERVICE_DERIVED_DIR": str(no_results)}
        loaded = run_cli("db", "load", "--store", url, env=env)
        assert loaded.returncode == 0, loaded.stderr
        return url

    return make


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(CATALOG_DIR)


@pytest.fixture(scope="session")
def demo():
    """The committed demo layers, keyed by layer id (EPSG:4326)."""
    return {path.stem: read_geojson(path) for path in sorted(DATA_DIR.glob("*.geojson"))}


@pytest.fixture(scope="session")
def two_district_city():
    """A synthetic city of two districts side by side (EPSG:4326 layers; ~30 s to make)."""
    from geo_service.demo.city import generate_city

    return generate_city(scale=0.05, seed=3, workers=2)


@pytest.fixture
def data_copy(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """A writable copy of the catalog and data folders: (catalog_dir, data_dir). Derived
    layers go to a fresh folder (also for subprocesses, through the environment)."""
    monkeypatch.setenv("GEO_SERVICE_DERIVED_DIR", str(tmp_path / "derived"))
    catalog_dir, data_dir = tmp_path / "layers", tmp_path / "data"
    shutil.copytree(CATALOG_DIR, catalog_dir)
    shutil.copytree(DATA_DIR, data_dir)
    return catalog_dir, data_dir


@pytest.fixture(scope="session")
def warm_derived(tmp_path_factory) -> Path:
    """A derived folder holding the coverage layers and walking graph of the committed
    demo, computed once for the session. A copy of it starts an app over an unchanged copy
    of the demo as a server restarted on its cache starts: the layers are fresh (their
    manifest names the inputs' content), nothing is computed again until an edit."""
    from geo_service.api.app import create_app
    from geo_service.settings import Settings

    folder = tmp_path_factory.mktemp("warm")
    app = create_app(Settings(derived_dir=folder / "derived", state_dir=folder / "state"))
    app.state.refresh.close()
    return folder / "derived"


@pytest.fixture(scope="session")
def seeded_derived(warm_derived) -> Callable[[Path], Path]:
    """``seeded_derived(folder)``: a new derived folder ``folder`` holding a copy of
    :func:`warm_derived`, for an app over the committed demo or an unchanged copy of it
    (on PostGIS only the walking graph is reused: its coverage layers live in the store)."""

    def seed(folder: Path) -> Path:
        shutil.copytree(warm_derived, folder)
        return folder

    return seed


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory) -> Path:
    """The session server's private state (API keys, audit log)."""
    return tmp_path_factory.mktemp("state")


@pytest.fixture(scope="session", params=STORE_KINDS)
def store_kind(request) -> str:
    """The kind of store the session's app runs on, each in turn; ``server`` and ``api``
    share it, so a test using both gets one of each over the same kind."""
    return request.param


#: The rate limit of the session's app: high enough never to refuse a test's request.
RATE_LIMIT_PER_MINUTE = 100_000


@pytest.fixture(scope="session")
def server(store_kind, tmp_path_factory, state_dir, demo_store):
    """The service on the committed demo data, computing its derived layers afresh, from
    each store in turn: ``geo-service serve`` in a subprocess, for what needs a real
    server (GDAL, QGIS, the browser, schemathesis)."""
    live = LiveServer(
        env={
            "GEO_SERVICE_STORE": demo_store(store_kind),
            "GEO_SERVICE_DERIVED_DIR": str(tmp_path_factory.mktemp("derived")),
            "GEO_SERVICE_STATE_DIR": str(state_dir),
            "GEO_SERVICE_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT_PER_MINUTE),
        }
    )
    yield live
    live.stop()


@pytest.fixture(scope="session")
def client(server: LiveServer):
    """An HTTP client of :func:`server` (what the browser tests compare their pages with)."""
    with httpx.Client(base_url=server.url, timeout=30.0) as http:
        yield http


@pytest.fixture(scope="session")
def api(store_kind, tmp_path_factory, state_dir, demo_store, seeded_derived):
    """The same service as :func:`server` — the committed demo data and its coverage, the
    session's state folder — built by ``create_app`` and called in process
    (:class:`~tests.support.InProcessClient`, base URL ``http://testserver``), from each
    store in turn: the API's logic without a server. (The coverage the server computes
    afresh comes here from :func:`warm_derived`, computed the same way once.)"""
    from geo_service.api.app import create_app
    from geo_service.settings import Settings

    settings = Settings(
        store=demo_store(store_kind),
        derived_dir=seeded_derived(tmp_path_factory.mktemp("api") / "derived"),
        state_dir=state_dir,
        rate_limit_per_minute=RATE_LIMIT_PER_MINUTE,
    )
    app = create_app(settings)
    try:
        with lifespan(app):
            yield InProcessClient(app)
    finally:
        app.state.refresh.close()
        getattr(app.state.store, "close", lambda: None)()


#: Our ends of the pipes to the browser's driver, while it runs.
_BROWSER_FDS: set[int] = set()


def _children() -> set[str]:
    tasks = Path("/proc/self/task").iterdir()
    return {pid for task in tasks for pid in (task / "children").read_text().split()}


def _pipes_to(pids: set[str]) -> set[int]:
    """Our file descriptors on the pipes that are the standard streams of ``pids``."""
    theirs = set()
    for pid in pids:
        for stream in ("0", "1", "2"):
            with contextlib.suppress(OSError):
                theirs.add(str(Path(f"/proc/{pid}/fd/{stream}").readlink()))
    ours = set()
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            target = str(fd.readlink())
            if target.startswith("pipe:") and target in theirs:
                ours.add(int(fd.name))
    return ours


def _let_go_of_the_browser() -> None:
    """In a process forked from the tests' process (compute workers no longer are: they
    start from the fork server; any other ``os.fork``), put /dev/null in place of the
    browser driver's pipes. A worker still holding them keeps
    the driver from seeing its input closed, and the session's end waits for it forever."""
    if not _BROWSER_FDS:
        return
    null = os.open(os.devnull, os.O_RDWR)
    for fd in _BROWSER_FDS:
        with contextlib.suppress(OSError):
            os.dup2(null, fd, inheritable=False)
    os.close(null)


os.register_at_fork(after_in_child=_let_go_of_the_browser)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session (a launch costs ~2 s)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import chromium_path

    before = _children()
    with sync_playwright() as playwright:
        _BROWSER_FDS.update(_pipes_to(_children() - before))
        assert _BROWSER_FDS, "the browser driver's pipes were not found"
        try:
            chromium = playwright.chromium.launch(
                executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"]
            )
            yield chromium
            chromium.close()
        finally:
            _BROWSER_FDS.clear()


@dataclass
class Editable:
    """An app over a writable copy of the demo in a store of some kind, called in process,
    and a staff key for it."""

    api: InProcessClient
    staff: dict[str, str]
    key_id: str
    kind: str


@contextlib.contextmanager
def _editable(kind: str, url: str, catalog_dir: Path, folder: Path, seed) -> Iterator[Editable]:
    """:class:`Editable` of an app over the store at ``url``, its state and derived folders
    in ``folder``, starting from the session's computed coverage (``seed``:
    :func:`seeded_derived`), its lifespan run as a server runs it (its shutdown stops the
    compute workers)."""
    from geo_service.api.app import create_app
    from geo_service.data.keys import KeyStore
    from geo_service.settings import Settings

    settings = Settings(
        store=url,
        catalog_dir=catalog_dir,
        state_dir=folder / "state",
        derived_dir=seed(folder / "derived"),
    )
    app = create_app(settings)
    key, record = KeyStore(settings.state_dir / "keys.json").create("staff", "gis")
    try:
        with lifespan(app):
            yield Editable(InProcessClient(app), {"X-API-Key": key}, record.id, kind)
    finally:
        app.state.refresh.close()
        getattr(app.state.store, "close", lambda: None)()


@pytest.fixture(params=STORE_KINDS)
def editable(request, demo_store, data_copy, tmp_path, seeded_derived) -> Editable:
    """:class:`Editable` of each kind of store (the file store's folder is ``data_copy``)."""
    url = f"file:{data_copy[1]}" if request.param == "file" else demo_store("postgis")
    with _editable(request.param, url, data_copy[0], tmp_path, seeded_derived) as editable:
        yield editable


@pytest.fixture(scope="module", params=STORE_KINDS)
def shared_editable(request, demo_store, tmp_path_factory, seeded_derived) -> Editable:
    """:class:`Editable` of each kind of store shared by a module's tests that must change
    nothing (refused edits: each checks the version and the audit log stay as they were)."""
    folder = tmp_path_factory.mktemp("editable")
    shutil.copytree(CATALOG_DIR, folder / "layers")
    shutil.copytree(DATA_DIR, folder / "data")
    url = f"file:{folder / 'data'}" if request.param == "file" else demo_store("postgis")
    with _editable(request.param, url, folder / "layers", folder, seeded_derived) as editable:
        yield editable


@pytest.fixture
def street():
    """A walking graph in EPSG:4549: a 3 km street along y = 0 with a 400 m side street at
    x = 700 (figures on it can be worked out by hand)."""
    import geopandas as gpd
    from shapely.geometry import LineString

    from geo_service.analysis.network import build_walk_graph

    roads = gpd.GeoDataFrame(
        geometry=[
            LineString([(0, 0), (700, 0)]),
            LineString([(700, 0), (1500, 0)]),
            LineString([(1500, 0), (3000, 0)]),
            LineString([(700, 0), (700, 400)]),
        ],
        crs="EPSG:4549",
    )
    return build_walk_graph(roads)
