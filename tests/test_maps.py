"""Map pages as built: definitions checked against the catalog, every asset local, layers
by clearance, optional tile basemaps, and the standalone build (opened from disk in
Chromium with no server)."""

from __future__ import annotations

import re
import shutil

import httpx
import pytest
import shapely
import yaml

from geo_service.data.profile import load_profile
from geo_service.data.stores import FileStore
from geo_service.data.vector_tiles import first_zoom_within
from geo_service.datums import wgs84_to_gcj02
from geo_service.errors import CatalogError
from geo_service.maps.assets import LOCAL_ASSETS, AssetError, external_asset_count
from geo_service.maps.definition import load_map_definition
from geo_service.maps.pages import STATIC_DIR, MapPages
from geo_service.settings import Settings
from tests.browser import open_page, search_tips
from tests.support import DATA_DIR, ROOT, LiveServer, run_cli

PLANNER = ROOT / "maps" / "planner.yaml"


@pytest.fixture(scope="module")
def store(catalog):
    return FileStore(catalog, DATA_DIR)


def _pages(store, tmp_path, **settings) -> MapPages:
    settings = Settings(derived_dir=tmp_path / "derived", **settings)
    return MapPages(settings, store, load_profile(settings.profile_path))


def test_every_local_asset_exists():
    for name, path in LOCAL_ASSETS.items():
        assert (STATIC_DIR / path).is_file(), name


def test_external_assets_are_counted():
    assert external_asset_count('<script src="https://cdn.example/x.js"></script>') == 1
    assert external_asset_count('<link rel="stylesheet" href="//cdn.example/x.css">') == 1
    assert external_asset_count('<script src="/static/maps/x.js"></script>') == 0
    assert external_asset_count('<a href="https://www.openstreetmap.org">OSM</a>') == 0


def test_a_folium_element_without_a_local_copy_is_refused():
    from folium import plugins

    from geo_service.maps.assets import use_local_assets

    with pytest.raises(AssetError, match=r"leaflet\.draw"):
        use_local_assets(plugins.Draw(), "/static/maps/")  # not vendored


def test_public_planner_page_has_public_layers_only(store, tmp_path):
    page = _pages(store, tmp_path).planner("public")
    assert external_asset_count(page) == 0
    assert not re.search(r"""(src|href)=["']?https?://""", page)
    assert '<html lang="zh-CN">' in page
    assert "central_households" not in page
    assert '"id": "service_centres"' in page
    assert "user-scalable=no" not in page
    assert "Synthetic demo data" in page
    assert _pages(store, tmp_path).planner("public") == page  # same bytes: one ETag


def test_restricted_planner_page_offers_the_households(store, tmp_path):
    page = _pages(store, tmp_path).planner("restricted")
    assert '"id": "central_households"' in page


def _maps_with(tmp_path, definition: dict):
    """A maps folder holding ``definition`` as its planner."""
    maps_dir = tmp_path / "maps"
    maps_dir.mkdir()
    (maps_dir / "planner.yaml").write_text(yaml.safe_dump(definition), encoding="utf-8")
    return maps_dir


def _tiled_layers(page: str) -> set[str]:
    return set(re.findall(r'"/collections/(\w+)/tiles/WebMercatorQuad/\{z\}/\{y\}/\{x\}', page))


def test_layers_with_more_features_than_tiles_above_come_as_tiles(store, tmp_path):
    definition = yaml.safe_load(PLANNER.read_text(encoding="utf-8"))
    assert definition["tiles_above"] == 5000  # the demo's layers all load whole
    assert _tiled_layers(_pages(store, tmp_path).planner()) == set()
    definition["tiles_above"] = store.count("compounds") - 1
    maps_dir = _maps_with(tmp_path, definition)
    bigger = {
        entry["layer"]
        for entry in definition["layers"]
        if store.has(entry["layer"]) and store.count(entry["layer"]) > definition["tiles_above"]
    }
    assert "compounds" in bigger and "service_centres" not in bigger
    page = _pages(store, tmp_path, maps_dir=maps_dir).planner()
    assert _tiled_layers(page) == bigger
    assert "Leaflet.VectorGrid.bundled.min.js" in page
    # over GCJ-02 tiles our layers shift feature by feature in the browser: no tiles
    amap = _pages(store, tmp_path, maps_dir=maps_dir, basemaps=["amap"]).planner()
    assert _tiled_layers(amap) == set()
    # a standalone file inlines every layer
    inlined = _pages(store, tmp_path, maps_dir=maps_dir).planner(
        features=lambda spec, entry: {"type": "FeatureCollection", "features": []}
    )
    assert _tiled_layers(inlined) == set()


def _tiles_min_zoom(page: str, layer: str) -> int:
    found = re.search(rf'"id": "{layer}",.*?"tilesMinZoom": (\d+)', page, flags=re.S)
    return int(found.group(1))


def test_a_tiled_layer_draws_from_the_zoom_where_its_tiles_are_light(store, tmp_path):
    """Each tiled layer draws from the lowest zoom at which its densest tile holds no more
    than the definition's ``features_per_tile``: the roads later than the compounds."""
    definition = yaml.safe_load(PLANNER.read_text(encoding="utf-8"))
    definition.update(tiles_above=store.count("compounds") - 1, features_per_tile=300)
    maps_dir = _maps_with(tmp_path, definition)
    page = _pages(store, tmp_path, maps_dir=maps_dir).planner()
    roads, compounds = (_tiles_min_zoom(page, layer) for layer in ("roads", "compounds"))
    assert roads == first_zoom_within(store.query("roads"), 300)
    assert compounds == first_zoom_within(store.query("compounds"), 300)
    assert roads > compounds > 0


def test_a_layer_of_few_but_heavy_features_comes_as_tiles(store, tmp_path):
    """``vertices_above``: a layer whose features hold more vertices in all than this is
    tiled however few they are (a city's three dissolved service circles)."""
    definition = yaml.safe_load(PLANNER.read_text(encoding="utf-8"))
    definition.update(tiles_above=10**6, vertices_above=5000)
    maps_dir = _maps_with(tmp_path, definition)
    heavy = {
        entry["layer"]
        for entry in definition["layers"]
        if store.has(entry["layer"])
        and shapely.get_num_coordinates(store.query(entry["layer"]).geometry.to_numpy()).sum()
        > 5000
    }
    assert "roads" in heavy and "service_centres" not in heavy
    assert _tiled_layers(_pages(store, tmp_path, maps_dir=maps_dir).planner()) == heavy


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["layers"][0].update(group="nowhere"), "unknown group 'nowhere'"),
        (lambda d: d["layers"][6]["classes"]["colors"].pop(), "colors needs 5 items"),
        (lambda d: d["layers"][3].update(popup=["no_such_field"]), "no properties no_such_field"),
        (lambda d: d["layers"].append({"layer": "nope", "group": "basemap"}), "no layer 'nope'"),
    ],
)
def test_a_broken_map_definition_is_named(store, tmp_path, change, message):
    definition = yaml.safe_load(PLANNER.read_text(encoding="utf-8"))
    change(definition)
    maps_dir = _maps_with(tmp_path, definition)
    with pytest.raises(CatalogError, match=re.escape(message)):
        load_map_definition(maps_dir / "planner.yaml").check_against(store.catalog)
        _pages(store, tmp_path, maps_dir=maps_dir)


def test_tile_basemaps_are_optional_and_never_mix_datums(store, tmp_path):
    with pytest.raises(ValueError, match="cannot be mixed"):
        Settings(basemaps=["amap", "osm"])
    with pytest.raises(ValueError, match="needs GEO_SERVICE_TIANDITU_KEY"):
        Settings(basemaps=["tianditu"])
    osm = _pages(store, tmp_path, basemaps=["osm"]).planner()
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in osm
    assert 'GeoService.datum = "wgs84"' in osm
    amap = _pages(store, tmp_path, basemaps=["amap"]).planner()
    assert 'GeoService.datum = "gcj02"' in amap
    assert external_asset_count(amap) == 0
    tianditu = _pages(store, tmp_path, basemaps=["tianditu"], tianditu_key="k123").planner()
    assert "tk=k123" in tianditu


@pytest.mark.slow
def test_amap_tiles_shift_our_layers_to_gcj02(api, browser, tmp_path):
    default = api.get("/maps/planner").headers["content-security-policy"]
    assert "img-src 'self' data: blob:;" in default
    live = LiveServer(
        env={
            "GEO_SERVICE_BASEMAPS": '["amap"]',
            "GEO_SERVICE_DERIVED_DIR": str(tmp_path / "derived"),
        }
    )
    visit = open_page(browser, f"{live.url}/maps/planner")
    try:
        policy = httpx.get(f"{live.url}/maps/planner").headers["content-security-policy"]
        assert "img-src 'self' data: blob: https://*.is.autonavi.com;" in policy
        visit.page.wait_for_function(
            "() => GeoService.layers.filter(l => l._map).every(l => l.gsFeatureCount > 0)"
        )
        drawn, stored = visit.page.evaluate(
            """() => {
                const centres = GeoService.layers.find(
                    l => l.gsDefinition.id === 'service_centres').getLayers();
                const m = centres[0];
                return [[m.getLatLng().lng, m.getLatLng().lat], m.feature.geometry.coordinates];
            }"""
        )
        assert drawn == pytest.approx(list(wgs84_to_gcj02(*stored)), abs=1e-9)
        assert abs(drawn[0] - stored[0]) > 0.003  # ~450 m east: really shifted
        assert all("autonavi.com" in url for url in visit.external)  # tiles only, blocked
        visit.page.context.close()
        visit = open_page(browser, f"{live.url}/locator")
        visit.page.wait_for_function("() => window.GeoService && GeoService.datum === 'gcj02'")
        shifted = visit.page.evaluate(
            "(() => { const p = GeoService.toMap(120.25, 31.5); return [p.lng, p.lat]; })()"
        )
        assert shifted == pytest.approx(list(wgs84_to_gcj02(120.25, 31.5)), abs=1e-9)
        assert all("autonavi.com" in url for url in visit.external)  # the blocked tiles
        assert [e for e in visit.errors if "Failed to load resource" not in e] == []
    finally:
        visit.page.context.close()
        live.stop()


def test_static_assets_are_served(api):
    response = api.get("/static/maps/vendor/leaflet/leaflet.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert response.text.startswith("/* @preserve\n * Leaflet 1.9.4")
    assert api.get("/static/maps/../settings.py").status_code == 404


@pytest.mark.slow
def test_js_gcj02_shift_matches_python(browser, server):
    visit = open_page(browser, f"{server.url}/maps/planner")
    try:
        visit.page.wait_for_function("() => window.GeoService && GeoService.wgs84ToGcj02")
        for lon, lat in [(120.25, 31.5), (120.1, 31.42), (116.39, 39.91)]:
            js = visit.page.evaluate(f"GeoService.wgs84ToGcj02({lon}, {lat})")
            assert js == pytest.approx(list(wgs84_to_gcj02(lon, lat)), abs=1e-9)
    finally:
        visit.page.context.close()


@pytest.mark.slow
def test_standalone_build_opens_from_disk_with_every_layer(browser, tmp_path):
    out = tmp_path / "maps"
    result = run_cli(
        "maps", "build", "--out", str(out), "--api-url", "http://127.0.0.1:9/",
        env={"GEO_SERVICE_DERIVED_DIR": str(tmp_path / "derived")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "map layer service_centres: 86 features inlined" in result.stderr
    planner = (out / "planner.html").read_text(encoding="utf-8")
    locator = (out / "locator.html").read_text(encoding="utf-8")
    assert external_asset_count(planner) == external_asset_count(locator) == 0
    assert (out / "static" / LOCAL_ASSETS["leaflet"]).is_file()
    assert '"api": "http://127.0.0.1:9/"' in locator
    assert "central_households" not in planner
    visit = open_page(browser, (out / "planner.html").as_uri())
    try:
        visit.page.wait_for_function(
            "() => GeoService.layers.filter(l => l._map).every(l => l.gsFeatureCount > 0)"
        )
        counts = visit.page.evaluate(
            "() => Object.fromEntries(GeoService.layers.map("
            "l => [l.gsDefinition.id, l.gsFeatureCount]))"
        )
        assert counts["service_centres"] == 86
        assert counts["communities"] == 78
        assert counts["compounds"] == 0  # hidden until shown, but inline
        assert '"id": "compounds"' in planner
        visit.page.locator(".leaflet-control-search .search-button").click()
        visit.page.locator(".leaflet-control-search input").press_sequentially("shuixiu")
        tip = visit.page.locator(search_tips("shuixiu")).first
        assert tip.inner_text().startswith("水秀社区")
        assert visit.external == []
        assert visit.errors == []
    finally:
        visit.page.context.close()


@pytest.mark.parametrize(
    ("hours", "lang", "shown"),
    [
        ("Sa,Su 09:00-12:00", "zh", "周六、周日 09:00–12:00"),
        ("Sa,Su 09:00-12:00", "en", "Sat, Sun 09:00–12:00"),
        ("Mo-Fr 08:30-12:00,13:30-17:30", "zh", "周一至周五 08:30–12:00、13:30–17:30"),
        (None, "en", "not given"),
        (None, "zh", "未提供"),
    ],
)
@pytest.mark.slow
def test_opening_hours_read_as_words(browser, server, hours, lang, shown):
    visit = open_page(browser, f"{server.url}/locator")
    try:
        visit.page.wait_for_function("() => window.GeoService && GeoService.formatHours")
        text = visit.page.evaluate("([h, l]) => GeoService.formatHours(h, l)", [hours, lang])
        assert text == shown
    finally:
        visit.page.context.close()


def _shown_at_start(page: str, layer: str) -> bool:
    found = re.search(rf'"id": "{layer}",.*?"visible": (true|false)', page, flags=re.S)
    return found.group(1) == "true"


def test_the_reached_streets_stand_in_for_circles_not_built(catalog, warm_derived, tmp_path):
    """A city's circles are drawn by the reached streets alone (no polygons above the
    segment limit): the planner then shows the streets at start and hides the empty
    circles; with the polygons built, the circles show and the streets wait in the
    layer control."""
    derived = tmp_path / "derived"
    shutil.copytree(warm_derived, derived)
    built = FileStore(catalog, DATA_DIR, derived)
    page = _pages(built, tmp_path).planner()
    assert _shown_at_start(page, "service_circles")
    assert not _shown_at_start(page, "reached_streets")
    (derived / "service_circles.geojson").write_text(
        '{"type": "FeatureCollection", "features": []}', encoding="utf-8"
    )
    streets_only = FileStore(catalog, DATA_DIR, derived)
    assert streets_only.count("service_circles") == 0
    page = _pages(streets_only, tmp_path).planner()
    assert not _shown_at_start(page, "service_circles")
    assert _shown_at_start(page, "reached_streets")
