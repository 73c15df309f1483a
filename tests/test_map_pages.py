"""The planner map and the public locator in a real Chromium, served by the running
service: layers drawn, toggled, searched; no request leaves 127.0.0.1; no console error;
keyboard use; axe-core finds no serious or critical violation."""

from __future__ import annotations

import re

import pytest

from tests.browser import PHONE, hold_requests, open_page, search_tips, wait_until

#: End to end: Chromium against `geo-service serve`.
pytestmark = pytest.mark.slow

PLANNER_READY = """() => GeoService.layers.length > 0 && GeoService.layers.every(
    l => !l._map || l.gsFeatureCount > 0 || l.gsZoomIn || l.gsError)"""
LAYER_STATE = """() => GeoService.layers.map(l => ({
    id: l.gsDefinition.id, shown: !!l._map, count: l.gsFeatureCount, error: l.gsError || null}))"""
#: Lines and areas on the map (drawn on a canvas, so counted in Leaflet, not the DOM).
PATHS = """() => { let n = 0;
    GeoService.layers.find(l => l._map)._map.eachLayer(l => { if (l instanceof L.Path) n++; });
    return n; }"""
LAYER = "GeoService.layers.find(l => l.gsDefinition.id === '{}')"


def _planner(browser, server, **options):
    visit = open_page(browser, f"{server.url}/maps/planner", **options)
    visit.page.wait_for_function(PLANNER_READY, timeout=30_000)
    return visit


def _matched(client, layer_id: str, **filters) -> int:
    response = client.get(
        f"/collections/{layer_id}/items", params={"f": "json", "limit": 1, **filters}
    )
    return response.json()["numberMatched"]


@pytest.fixture(scope="module")
def planner(browser, server):
    visit = _planner(browser, server)
    yield visit
    visit.page.context.close()


def test_planner_draws_its_layers_from_the_api(planner, client):
    layers = {layer["id"]: layer for layer in planner.page.evaluate(LAYER_STATE)}
    assert list(layers) == [
        "water", "roads", "district", "subdistricts", "communities", "compounds",
        "community_coverage", "service_circles", "reached_streets", "compound_coverage",
        "coverage_gaps",
        "service_centres", "pocket_parks", "trails",
    ]  # fmt: skip
    assert "central_households" not in layers
    hidden = {"compounds", "community_coverage", "reached_streets"}
    assert {i for i, layer in layers.items() if not layer["shown"]} == hidden
    for layer_id, layer in layers.items():
        assert layer["error"] is None
        if layer_id in hidden:
            assert layer["count"] == 0  # not loaded until shown
        elif layer_id == "service_circles":
            assert layer["count"] == _matched(client, layer_id, facility_set="centre") == 3
        else:
            assert layer["count"] == _matched(client, layer_id), layer_id
    lines_and_areas = sum(
        layer["count"]
        for i, layer in layers.items()
        if layer["shown"] and i not in {"service_centres", "pocket_parks"}
    )
    assert planner.page.evaluate(PATHS) == lines_and_areas
    markers = planner.page.locator(".gs-marker, .marker-cluster").count()
    assert 10 < markers <= 86 + 36


def test_planner_loads_nothing_from_elsewhere_and_logs_no_error(planner):
    assert planner.external == []
    assert planner.errors == []
    assert '<script src="http' not in planner.page.content()


def test_planner_notice_title_and_legend(planner):
    page = planner.page
    assert "示例数据" in page.locator(".gs-notice").inner_text()
    assert "Synthetic demo data" in page.locator(".gs-notice").inner_text()
    assert page.locator("h1").inner_text().startswith("15分钟生活圈")
    legend = page.locator(".gs-legend")
    assert legend.locator("section[data-layer=compound_coverage] li").count() == 6
    assert legend.locator("section[data-layer=service_centres] li").count() == 3
    assert legend.locator("section[data-layer=compounds]").count() == 0
    assert page.locator(".leaflet-control-scale").count() == 1
    assert page.locator(".leaflet-control-zoom-fullscreen").count() == 1
    measure = page.locator(".gs-measure")
    assert measure.get_attribute("role") == "button"
    assert measure.get_attribute("aria-label") == "测量距离 / Measure distance"


def test_toggling_a_layer_changes_what_is_drawn(browser, server, client):
    visit = _planner(browser, server)  # a page of its own: the compounds stay loaded after
    page = visit.page
    try:
        before = page.evaluate(PATHS)
        page.hover(".leaflet-control-layers")
        page.get_by_label("住宅小区（示例） / Residential compounds (demo)").check()
        page.wait_for_function(
            "() => GeoService.layers.find(l => l.gsDefinition.id === 'compounds').gsFeatureCount"
        )
        compounds = _matched(client, "compounds")
        assert page.evaluate(PATHS) == before + compounds
        assert page.locator(".gs-legend section[data-layer=compounds]").count() == 1
        page.get_by_label("住宅小区（示例） / Residential compounds (demo)").uncheck()
        page.get_by_label("社区（示例） / Communities (demo)").uncheck()
        assert page.evaluate(PATHS) == before - _matched(client, "communities")
        page.get_by_label("社区（示例） / Communities (demo)").check()
        assert page.evaluate(PATHS) == before
    finally:
        page.context.close()


def test_popups_and_tooltips_speak_chinese_and_english(planner):
    page = planner.page
    text = page.evaluate(
        """() => new Promise(done => {
            const layer = """
        + LAYER.format("service_centres")
        + """;
            const marker = layer.getLayers().find(m => m.feature.properties.level === 'district');
            layer.zoomToShowLayer(marker, () => {
                marker.openPopup();
                done([document.querySelector('.leaflet-popup-content').innerText,
                      marker.getTooltip().getContent()]);
            });
        })"""
    )
    popup, tooltip = text
    assert "区级 / District" in popup
    assert "党员教育 / Party-member education" in popup
    assert re.search(r"周[一二三四五六日].*\d\d:\d\d–\d\d:\d\d / (Mon|Tue|Wed|Thu|Fri)", popup)
    assert "undefined" not in popup and "NaN" not in popup
    assert re.fullmatch(r"\S+党群服务中心 / .+Centre", tooltip)
    community = page.evaluate(
        "() => { const c = " + LAYER.format("community_coverage") + "; return null; }"
    )
    assert community is None
    page.keyboard.press("Escape")


def test_planner_by_keyboard_alone(browser, server):
    visit = _planner(browser, server)
    page = visit.page
    try:
        page.keyboard.press("Tab")  # the map itself (arrow keys pan it)
        assert "leaflet-container" in page.evaluate("document.activeElement.className")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className").startswith(
            "leaflet-control-zoom-in"
        )
        for _ in range(8):  # zoom out, full screen, measure, clear, search
            page.keyboard.press("Tab")
            if "search-button" in page.evaluate("document.activeElement.className"):
                break
        assert "search-button" in page.evaluate("document.activeElement.className")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.className") == "search-input"
        page.keyboard.type("shuixiu")
        page.locator(search_tips("shuixiu")).first.wait_for()
        zoom = page.evaluate("() => GeoService.layers[0]._map.getZoom()")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        page.wait_for_function(f"() => GeoService.layers[0]._map.getZoom() > {zoom}")
        assert visit.errors == []
    finally:
        page.context.close()


def test_a_layer_that_fails_to_load_says_so_and_retries(browser, server):
    visit = open_page(browser, f"{server.url}/maps/planner")
    page = visit.page
    try:
        page.route("**/collections/compounds/items*", lambda route: route.abort())
        page.wait_for_function(PLANNER_READY)
        page.hover(".leaflet-control-layers")
        label = "住宅小区（示例） / Residential compounds (demo)"
        page.get_by_label(label).check()
        page.wait_for_function("() => " + LAYER.format("compounds") + ".gsError")
        assert "Could not load" in page.locator("#gs-status").inner_text()
        page.unroute("**/collections/compounds/items*")
        page.get_by_label(label).uncheck()
        page.get_by_label(label).check()
        page.wait_for_function("() => " + LAYER.format("compounds") + ".gsFeatureCount > 0")
        assert page.locator("#gs-status").inner_text() == ""
    finally:
        page.context.close()


def test_planner_search_finds_a_community_by_pinyin(planner):
    page = planner.page
    page.locator(".leaflet-control-search .search-button").click()
    page.locator(".leaflet-control-search input").press_sequentially("shuixiu")
    tip = page.locator(search_tips("shuixiu")).first
    tip.wait_for()
    assert tip.inner_text().startswith("水秀社区")
    zoom = page.evaluate("() => GeoService.layers[0]._map.getZoom()")
    tip.click()
    page.wait_for_function(f"() => GeoService.layers[0]._map.getZoom() > {zoom}")


def test_planner_search_aborts_the_search_for_a_prefix_when_more_is_typed(browser, server, client):
    """The search for "s", still unanswered when "huixiu" is typed after it, is aborted
    by the page: its answer can never replace the tips for "shuixiu" (answers can come
    back out of order)."""
    visit = _planner(browser, server)  # a page of its own: the module's has searched
    page = visit.page
    try:
        held = hold_requests(page, r"/locator/places\?", lambda query: query["q"] == ["s"])
        aborted = []
        page.on("requestfailed", lambda request: aborted.append(request.url))
        page.locator(".leaflet-control-search .search-button").click()
        box = page.locator(".leaflet-control-search input")
        box.press_sequentially("s")
        wait_until(page, lambda: held, "the search for s")
        box.press_sequentially("huixiu")
        page.locator(search_tips("shuixiu")).first.wait_for()
        wait_until(page, lambda: held[0].request.url in aborted, "the search for s aborted")

        def titles(q: str) -> list[str]:
            found = client.get("/locator/places", params={"q": q, "limit": 10}).json()
            return [
                f"{p['name_zh']} {p['name_en']}"
                for p in (f["properties"] for f in found["features"])
            ]

        later = titles("shuixiu")
        assert titles("s") != later  # the two answers can be told apart
        assert page.locator(".leaflet-control-search .search-tip").all_inner_texts() == later
        assert visit.errors == []
    finally:
        page.context.close()


def test_planner_accessibility(browser, server):
    visit = _planner(browser, server, bypass_csp=True)
    page = visit.page
    try:
        assert visit.serious_accessibility_violations() == []
        # Again with the layer control open, the search open and a popup showing.
        page.locator(".leaflet-control-search .search-button").click()
        page.evaluate("() => { " + LAYER.format("communities") + ".getLayers()[0].openPopup(); }")
        page.locator(".leaflet-popup-content").wait_for()
        page.hover(".leaflet-control-layers")
        assert page.locator(".leaflet-control-layers-expanded").count() == 1
        assert page.locator(".leaflet-control-search input.search-input").is_visible()
        assert visit.serious_accessibility_violations() == []
    finally:
        page.context.close()


def test_planner_screenshots(browser, server):
    for name, viewport in (("planner-desktop", None), ("planner-phone", PHONE)):
        options = {"viewport": viewport} if viewport else {}
        visit = _planner(browser, server, **options)
        path = visit.screenshot(name)
        assert path.stat().st_size > 20_000
        visit.page.context.close()
