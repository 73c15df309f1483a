"""The planner map drawing a big layer from vector tiles, in a real Chromium: the map
definition's ``tiles_above`` switches the layers above it to tiles; their features draw,
coloured by class, answer a click with their popup, and take the what-if's highlights."""

from __future__ import annotations

import shutil

import geopandas as gpd
import httpx
import pytest
import yaml
from playwright.sync_api import expect

from geo_service.data.vector_tiles import first_zoom_within
from tests.browser import open_page
from tests.support import CATALOG_DIR, DATA_DIR, ROOT, LiveServer

#: End to end: Chromium against `geo-service serve`.
pytestmark = pytest.mark.slow

LAYER = "GeoService.layers.find(l => l.gsDefinition.id === '{}')"
TILED = "compound_coverage"
ROADS_PER_TILE = 1000


@pytest.fixture(scope="module")
def tiled_server(tmp_path_factory, seeded_derived):
    """The demo served with a planner map that tiles layers of more than 400 features
    (the compounds and their coverage: 471 each; roads), each drawn from the zoom where
    its tiles hold at most 1,000 features (the roads from further in than the map opens),
    and the layers of more than 15,000 vertices (the centres' dissolved circles)."""
    folder = tmp_path_factory.mktemp("tiled")
    shutil.copytree(ROOT / "maps", folder / "maps")
    planner = yaml.safe_load((folder / "maps" / "planner.yaml").read_text(encoding="utf-8"))
    planner["tiles_above"] = 400
    planner["features_per_tile"] = ROADS_PER_TILE
    planner["vertices_above"] = 15_000  # the centres' three circles: ~21,000 vertices
    (folder / "maps" / "planner.yaml").write_text(yaml.safe_dump(planner, allow_unicode=True))
    live = LiveServer(
        env={
            "GEO_SERVICE_MAPS_DIR": str(folder / "maps"),
            "GEO_SERVICE_CATALOG_DIR": str(CATALOG_DIR),
            "GEO_SERVICE_STORE": f"file:{DATA_DIR}",
            "GEO_SERVICE_DERIVED_DIR": str(seeded_derived(folder / "derived")),
            "GEO_SERVICE_STATE_DIR": str(folder / "state"),
        }
    )
    yield live
    live.stop()


@pytest.fixture(scope="module")
def page(browser, tiled_server):
    visit = open_page(browser, f"{tiled_server.url}/maps/planner")
    visit.page.wait_for_function(f"() => {LAYER.format(TILED)}.gsLoaded", timeout=30_000)
    visit.home = visit.page.evaluate(
        "() => { const map = GeoService.layers[0]._map;"
        " const c = map.getCenter(); return [c.lat, c.lng, map.getZoom()]; }"
    )
    yield visit
    visit.page.context.close()


def _at_home(page) -> None:
    """Back to the view the page opened on (a test before may have zoomed in), with the
    tiles in view loaded."""
    page.page.evaluate(
        "([lat, lon, zoom]) => { const map = GeoService.layers[0]._map; map.closePopup();"
        " map.setView([lat, lon], zoom, {animate: false}); }",
        page.home,
    )
    page.page.wait_for_function(
        "() => GeoService.layers.filter(l => l.gsDefinition.tiles && l._map)"
        ".every(l => l.gsLoaded)",
        timeout=30_000,
    )


def test_layers_above_the_threshold_come_as_tiles(page):
    tiled = page.page.evaluate(
        "() => GeoService.layers.filter(l => l.gsDefinition.tiles).map(l => l.gsDefinition.id)"
    )
    assert sorted(tiled) == ["compound_coverage", "compounds", "roads", "service_circles"]
    template = page.page.evaluate(f"() => {LAYER.format(TILED)}.gsDefinition.tiles")
    assert "/collections/compound_coverage/tiles/WebMercatorQuad/{z}/{y}/{x}?properties=" in (
        template
    )
    assert page.errors == [] and page.external == []


def test_tiled_features_draw_with_their_class_colours(page, tiled_server):
    """Every compound in view is drawn, each filled with the colour of its class."""
    _at_home(page)
    seen = page.page.evaluate(
        f"""() => {{ const layer = {LAYER.format(TILED)}; const out = {{}};
        layer.eachLayer(s => {{ out[s.feature.properties.id] =
            layer.options.style(s.feature).fillColor; }});
        return out; }}"""
    )
    west, south, east, north = page.page.evaluate(
        "() => { const b = GeoService.layers[0]._map.getBounds();"
        " return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }"
    )

    in_view = httpx.get(
        f"{tiled_server.url}/collections/{TILED}/items",
        params={"bbox": f"{west},{south},{east},{north}", "limit": 1000},
    ).json()["features"]
    assert in_view and {f["id"] for f in in_view} <= set(seen)
    colours = ["#2c7bb6", "#abd9e9", "#ffffbf", "#fdae61", "#d7191c"]
    breaks = [5, 10, 15, 20]
    for feature in in_view:
        minutes = feature["properties"]["centre_min"]
        if minutes is None:
            continue
        expected = colours[next((i for i, b in enumerate(breaks) if minutes <= b), 4)]
        assert seen[feature["id"]] == expected, feature["id"]


def test_the_dissolved_circles_draw_from_tiles_in_their_colours(page, tiled_server):
    """Three polygons of many vertices, cut into tiles: each circle of the centres is
    drawn, filled with the colour its minutes take in the map definition."""
    _at_home(page)
    seen = page.page.evaluate(
        f"""() => {{ const layer = {LAYER.format("service_circles")}; const out = {{}};
        layer.eachLayer(s => {{ out[s.feature.properties.id] =
            layer.options.style(s.feature).fillColor; }});
        return out; }}"""
    )
    circles = httpx.get(
        f"{tiled_server.url}/collections/service_circles/items",
        params={"facility_set": "centre"},
    ).json()["features"]
    planner = yaml.safe_load((ROOT / "maps" / "planner.yaml").read_text(encoding="utf-8"))
    classes = next(e for e in planner["layers"] if e["layer"] == "service_circles")["classes"]
    colour_of = dict(zip(classes["values"], classes["colors"], strict=True))
    assert len(circles) == 3
    assert seen == {c["id"]: colour_of[c["properties"]["minutes"]] for c in circles}


def _click_at(page, lon: float, lat: float) -> str:
    """Centre the map on (lon, lat) at zoom 17, wait for the tiled layers in view, click
    there: the text of the popup that opens."""
    page.page.evaluate(
        "([lon, lat]) => { GeoService.layers[0]._map.setView([lat, lon], 17, {animate: false}); }",
        [lon, lat],
    )
    page.page.wait_for_function(
        "() => GeoService.layers.filter(l => l.gsDefinition.tiles && l._map)"
        ".every(l => l.gsLoaded)",
        timeout=30_000,
    )
    page.page.wait_for_timeout(300)
    map_box = page.page.locator(".leaflet-container").first.bounding_box()
    point = page.page.evaluate(
        "([lon, lat]) => GeoService.layers[0]._map.latLngToContainerPoint([lat, lon])",
        [lon, lat],
    )
    page.page.evaluate("() => { GeoService.layers[0]._map.closePopup(); }")
    page.page.wait_for_function("() => !document.querySelector('.leaflet-popup')")
    page.page.mouse.click(map_box["x"] + point["x"], map_box["y"] + point["y"])
    popup = page.page.locator(".leaflet-popup-content .gs-popup")
    popup.wait_for(timeout=10_000)
    return popup.inner_text()


def test_a_click_opens_the_topmost_tiled_feature_there(page, tiled_server):
    """Where a compound lies inside a service circle (both tiled), a click on it opens
    the compound, the layer above in the map definition; a click inside the circle but
    off every compound opens the circle, drawn in a tile under the compounds' tile."""
    items = f"{tiled_server.url}/collections/{TILED}/items"
    compounds = gpd.GeoDataFrame.from_features(
        httpx.get(items, params={"limit": 1000}).json()["features"], crs=4326
    )
    circles = gpd.GeoDataFrame.from_features(
        httpx.get(
            f"{tiled_server.url}/collections/service_circles/items",
            params={"facility_set": "centre"},
        ).json()["features"],
        crs=4326,
    )
    metric = compounds.estimate_utm_crs()
    within_circle = compounds[compounds.within(circles.union_all())]
    compound = within_circle.iloc[0]
    inside = compound.geometry.representative_point()

    text = _click_at(page, inside.x, inside.y)
    assert compound["name_zh"] in text

    # 60-100 m from that compound, in a circle, 5 m clear of every compound
    around = gpd.GeoSeries([inside], crs=4326).to_crs(metric)
    ring = around.buffer(100).difference(around.buffer(60))
    clear = (
        ring.intersection(circles.to_crs(metric).union_all())
        .difference(compounds.to_crs(metric).buffer(5).union_all())
        .to_crs(4326)
        .iloc[0]
    )
    assert not clear.is_empty
    off = clear.representative_point()
    text = _click_at(page, off.x, off.y)
    assert "Service" in text and compound["name_zh"] not in text
    assert page.errors == []


def test_a_layer_too_dense_for_the_zoom_asks_to_be_zoomed_in(browser, tiled_server, catalog):
    """Opened on the district, the roads (their densest tile holds more than 1,000 at this
    zoom) load no tile and the legend asks to zoom in; its button zooms to the level they
    draw from, where they draw and the note goes."""
    roads = gpd.read_file(DATA_DIR / "roads.geojson")
    first_zoom = first_zoom_within(roads, ROADS_PER_TILE)
    visit = open_page(browser, f"{tiled_server.url}/maps/planner")
    page = visit.page
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/roads/tiles/" in r.url else None)
    try:
        page.wait_for_function(f"() => {LAYER.format(TILED)}.gsFeatureCount > 0", timeout=30_000)
        roads_layer = LAYER.format("roads")
        assert page.evaluate(f"() => {roads_layer}.gsDefinition.tilesMinZoom") == first_zoom
        opened_at = page.evaluate("() => GeoService.layers[0]._map.getZoom()")
        assert round(opened_at) < first_zoom
        assert page.evaluate(f"() => [{roads_layer}.gsZoomIn, {roads_layer}.gsFeatureCount]") == [
            True,
            0,
        ]
        assert asked == []
        note = page.locator(".gs-legend section[data-layer=roads] .gs-zoom-in")
        if not page.locator(".gs-legend").evaluate("box => box.open"):
            page.click(".gs-legend summary")
        title = catalog.get("roads").title
        assert f"{title.zh}：放大后显示 / {title.en}: shown when zoomed in" in note.inner_text()
        note.locator("button").click()
        # Tiles for the new zoom can arrive before the zoom's animation ends (zoomend,
        # when the layer and the legend learn of it): wait for both.
        page.wait_for_function(
            f"() => !{roads_layer}.gsZoomIn && {roads_layer}.gsFeatureCount > 0", timeout=30_000
        )
        assert page.evaluate("() => GeoService.layers[0]._map.getZoom()") == first_zoom
        assert asked and all(f"/tiles/WebMercatorQuad/{first_zoom}/" in url for url in asked)
        expect(note).to_have_count(0)
        assert visit.errors == []
    finally:
        page.context.close()
