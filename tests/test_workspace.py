"""The planner's summary panel in Chromium, as a planner uses it: read the headline and
its criterion, find the least covered sub-district, rank the communities, open one on the
map, select one on the map, read the gaps — every figure equal to the API's."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
import shapely.geometry
from openpyxl import load_workbook
from playwright.sync_api import expect
from pypdf import PdfReader

from geo_service.data.keys import KeyStore
from tests.browser import PHONE, hold_requests, open_page, search_tips, wait_until

#: End to end: Chromium against `geo-service serve`.
pytestmark = pytest.mark.slow

READY = "() => document.querySelector('.gs-workspace .gs-headline') !== null"
ROWS = ".gs-workspace tbody tr"


def _percent(share: float) -> str:
    return f"{100 * share:.1f}%"


@pytest.fixture(scope="module")
def workspace(browser, server):
    visit = open_page(browser, f"{server.url}/maps/planner")
    visit.page.wait_for_function(READY, timeout=30_000)
    yield visit
    visit.page.context.close()


@pytest.fixture(scope="module")
def published(client):
    return client.get("/coverage/summary").json()


def test_headline_and_criterion(workspace, published):
    panel = workspace.page.locator(".gs-workspace")
    assert panel.locator("[data-figure=share]").inner_text() == _percent(
        published["district"]["share_15"]
    )
    text = panel.locator(".gs-criterion").inner_text()
    assert published["criterion"]["rule_zh"] in text and "1000 m" in text


def test_areas_from_the_least_covered(workspace, published, client):
    names = {
        f["properties"]["id"]: f["properties"]["name_zh"]
        for f in client.get("/collections/subdistricts/items").json()["features"]
    }
    ranked = sorted(published["subdistricts"], key=lambda r: r["share_15"])
    bars = workspace.page.locator(".gs-bars li")
    assert bars.count() == len(ranked)
    for k, row in enumerate(ranked):
        item = bars.nth(k)
        assert item.get_attribute("data-area") == row["group"]
        assert names[row["group"]] in item.inner_text()
        assert _percent(row["share_15"]) in item.inner_text()


def test_community_table_sorts_and_filters(workspace, client):
    page = workspace.page
    communities = client.get("/collections/community_coverage/items", params={"limit": 1000})
    features = [f["properties"] for f in communities.json()["features"]]
    assert page.locator(ROWS).count() == len(features)
    lowest = min(features, key=lambda c: (c["share_15"], c["id"]))
    assert page.locator(ROWS).nth(0).locator("td").nth(2).inner_text() == _percent(
        lowest["share_15"]
    )
    page.click(".gs-workspace button[data-sort=residents]")
    page.click(".gs-workspace button[data-sort=residents]")  # the most residents first
    biggest = max(features, key=lambda c: c["residents"])
    assert page.locator(ROWS).nth(0).get_attribute("data-id") == biggest["id"]
    page.select_option(".gs-workspace select[data-filter=area]", "MS")
    in_mashan = [c for c in features if c["subdistrict_id"] == "MS"]
    assert page.locator(ROWS).count() == len(in_mashan)
    page.select_option(".gs-workspace select[data-filter=area]", "")
    page.click(".gs-workspace button[data-sort=share]")


def test_a_row_opens_its_community_on_the_map(workspace, client):
    page = workspace.page
    row = page.locator(ROWS).nth(0)
    community = row.get_attribute("data-id")
    name = client.get(f"/collections/community_coverage/items/{community}").json()
    zoom_before = page.evaluate("GeoService.layers[0]._map.getZoom()")
    row.locator("button").click()
    page.wait_for_selector(".leaflet-popup-content", timeout=30_000)
    assert name["properties"]["name_zh"] in page.locator(".leaflet-popup-content").inner_text()
    page.wait_for_function(f"() => GeoService.layers[0]._map.getZoom() > {zoom_before}")
    assert page.locator(f'{ROWS}[data-id="{community}"]').get_attribute("class") == "selected"


def test_a_community_clicked_on_the_map_selects_its_row(workspace):
    page = workspace.page
    # the choropleth is hidden until shown (a test before may have shown it, or not)
    page.hover(".leaflet-control-layers")
    page.get_by_label(re.compile("Community coverage")).check()
    page.wait_for_function(
        "() => GeoService.layers.find(l => l.gsDefinition.id === 'community_coverage')"
        ".gsFeatureCount > 0",
        timeout=30_000,
    )
    target = page.locator(ROWS).nth(5).get_attribute("data-id")
    assert page.locator(f'{ROWS}[data-id="{target}"]').get_attribute("class") is None
    # Leaflet's click on the community's shape (the event a mouse click makes there).
    page.evaluate(
        """(id) => {
        const layer = GeoService.layers.find(l => l.gsDefinition.id === 'community_coverage');
        layer.eachLayer(s => {
            if (s.feature.properties.id === id) s.fire('click', {latlng: s.getCenter()}, true);
        });
    }""",
        target,
    )
    assert page.locator(f'{ROWS}[data-id="{target}"]').get_attribute("class") == "selected"


def test_a_community_found_by_search_opens_its_card(browser, server, client):
    visit = open_page(browser, f"{server.url}/maps/planner")
    page = visit.page
    try:
        page.wait_for_function(READY, timeout=30_000)
        page.locator(".leaflet-control-search .search-button").click()
        page.locator(".leaflet-control-search input").press_sequentially("shuixiu")
        tip = page.locator(search_tips("shuixiu")).first
        tip.wait_for()
        tip.click()
        page.wait_for_selector(".leaflet-popup-content", timeout=30_000)
        card = page.locator(".leaflet-popup-content").inner_text()
        shuixiu = client.get("/collections/community_coverage/items/HL01").json()["properties"]
        assert "水秀社区" in card
        assert _percent(shuixiu["share_15"]) in card
        assert _percent(shuixiu["reach_svc_party_education"]) in card  # per service type
        assert page.locator(f'{ROWS}[data-id="HL01"]').get_attribute("class") == "selected"
        # The panel's card: gaps inside it and the centres its compounds walk to.
        page.wait_for_function(
            "() => { const c = document.querySelector('.gs-card');"
            " return c && !c.innerText.includes('Loading'); }",
            timeout=30_000,
        )
        panel_card = page.locator(".gs-card").inner_text()
        gaps = client.get(
            "/collections/coverage_gaps/items", params={"community_id": "HL01"}
        ).json()["features"]
        for gap in gaps:
            assert gap["properties"]["name_zh"] in panel_card
        compounds = client.get(
            "/collections/compound_coverage/items",
            params={"community_id": "HL01", "limit": 1000},
        ).json()["features"]
        walks = {}
        for c in (f["properties"] for f in compounds):
            walks[c["centre_id"]] = min(walks.get(c["centre_id"], 1e9), c["centre_m"])
        nearest_id = min(walks, key=walks.get)
        centre = client.get(f"/collections/service_centres/items/{nearest_id}").json()
        first_line = page.locator(".gs-card ul").last.locator("li").first.inner_text()
        assert centre["properties"]["name_zh"] in first_line
        assert f"{round(walks[nearest_id]):,} m" in first_line
        life = client.get("/coverage/life-circle").json()["types"]
        elderly = next(t for t in life if t["type"] == "svc_elderly_care")
        assert elderly["title"]["zh"] in panel_card
    finally:
        page.context.close()


def test_gap_total_and_list(workspace, published, client):
    page = workspace.page
    gaps = published["gaps"]
    assert page.locator("[data-figure=gaps]").inner_text() == f"{gaps['compounds']:,}"
    assert page.locator("[data-figure=gap-residents]").inner_text() == f"{gaps['residents']:,}"
    first = client.get("/collections/coverage_gaps/items", params={"sortby": "rank"}).json()
    top = first["features"][0]["properties"]
    assert top["name_zh"] in page.locator(".gs-gaps li").nth(0).inner_text()
    assert page.locator(".gs-gaps li").count() == min(10, gaps["compounds"])


def test_workspace_logs_no_error_and_loads_nothing_from_elsewhere(workspace):
    assert workspace.errors == [] and workspace.external == []


def test_workspace_accessibility(browser, server):
    visit = open_page(browser, f"{server.url}/maps/planner", bypass_csp=True)  # to inject axe
    try:
        visit.page.wait_for_function(READY, timeout=30_000)
        assert visit.page.locator(".gs-workspace").get_attribute("open") is not None
        assert visit.serious_accessibility_violations() == []
    finally:
        visit.page.context.close()


def _click_at(page, lon: float, lat: float) -> None:
    """A real mouse click on the map where (lon, lat) is drawn."""
    x, y = page.evaluate(
        """([lon, lat]) => { const map = GeoService.layers[0]._map;
        map.setView([lat, lon], 16, {animate: false});
        const p = map.latLngToContainerPoint([lat, lon]);
        const r = map.getContainer().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y]; }""",
        [lon, lat],
    )
    page.mouse.click(x, y)


def test_what_if_by_clicking_a_new_centre(browser, server, client):
    gap = client.get("/collections/coverage_gaps/items", params={"sortby": "rank"}).json()
    top = gap["features"][0]
    point = shapely.geometry.shape(top["geometry"]).representative_point()
    visit = open_page(browser, f"{server.url}/maps/planner")
    page = visit.page
    try:
        page.wait_for_function(READY, timeout=30_000)
        page.click(".gs-workspace button[data-whatif=add]")
        assert page.get_attribute(".gs-workspace button[data-whatif=add]", "aria-pressed") == "true"
        _click_at(page, point.x, point.y)
        page.wait_for_selector("[data-figure=whatif]", timeout=30_000)
        result = page.evaluate("GeoService.whatIf().result")
        assert len(page.evaluate("GeoService.whatIf().added")) == 1  # one click, one site
        # The same what-if through the API gives the same figures.
        body = {
            "add": {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "id": "NEW-1",
                        "properties": page.evaluate("GeoService.whatIf().offers[0]"),
                        "geometry": page.evaluate("GeoService.whatIf().added[0]"),
                    }
                ],
            },
            "remove": [],
        }
        expected = client.post("/coverage/scenario", json=body).json()
        assert result["gain"] == expected["gain"] and result["after"] == expected["after"]
        # the proposed centre: the finest level, every service (the form's defaults)
        offered = body["add"]["features"][0]["properties"]
        assert offered["level"] == "community" and len(offered["services"]) == 8
        assert result["types"] == expected["types"]
        changed = [t for t in expected["types"] if t["share_after"] != t["share_before"]]
        assert changed and page.locator(".gs-whatif-types tbody tr").count() >= len(changed)
        assert top["properties"]["id"] in result["gain"]["ids"]  # the gap it was put in
        shown = page.locator("[data-figure=whatif]").inner_text()
        assert f"{expected['gain']['residents']:,}" in shown
        before = _percent(expected["before"]["district"]["share_15"])
        after = _percent(expected["after"]["district"]["share_15"])
        assert f"{before} → {after}" in shown
        page.click(".gs-workspace button[data-whatif=clear]")
        assert page.locator("[data-figure=whatif]").count() == 0
        assert visit.errors == []
    finally:
        page.context.close()


def _what_ifs_held(page, holding: list[bool]) -> list:
    """Hold back the page's what-if requests as ``holding`` says: each request takes
    (pops) the last flag, and goes through when there is none left."""
    return hold_requests(
        page, r"/coverage/scenario$", lambda query: bool(holding) and holding.pop()
    )


def _what_if_body(page) -> dict:
    """The what-if the page has made: its sites (with what they offer) and closures."""
    return page.evaluate(
        """() => { const w = GeoService.whatIf();
        return {add: {type: 'FeatureCollection', features: w.added.map((g, k) =>
            ({type: 'Feature', id: 'NEW-' + (k + 1), properties: w.offers[k], geometry: g}))},
            remove: w.removed}; }"""
    )


def test_a_what_if_answered_late_never_replaces_the_later_one(browser, server, client):
    """Two sites proposed in turn, the answer for the first alone held back until the
    answer for both is shown: when it comes it is dropped. Then a site proposed and
    cleared before its answer comes: nothing is shown when it does."""
    gaps = client.get("/collections/coverage_gaps/items", params={"sortby": "rank"}).json()
    first, second = (
        shapely.geometry.shape(f["geometry"]).representative_point() for f in gaps["features"][:2]
    )
    visit = open_page(browser, f"{server.url}/maps/planner")
    page = visit.page
    try:
        page.wait_for_function(READY, timeout=30_000)
        holding = [True]  # the first what-if is held back
        held = _what_ifs_held(page, holding)
        page.click(".gs-workspace button[data-whatif=add]")
        _click_at(page, first.x, first.y)
        wait_until(page, lambda: held, "the what-if for the first site")
        holding.append(False)  # the next goes through
        _click_at(page, second.x, second.y)
        page.wait_for_selector("[data-figure=whatif]", timeout=30_000)
        body = _what_if_body(page)
        assert len(body["add"]["features"]) == 2
        both = client.post("/coverage/scenario", json=body).json()
        alone = client.post(
            "/coverage/scenario",
            json={
                **body,
                "add": {"type": "FeatureCollection", "features": body["add"]["features"][:1]},
            },
        ).json()
        assert alone["gain"] != both["gain"]  # the two answers can be told apart
        answered = page.evaluate("GeoService.whatIfAnswered()")
        held.pop().continue_()
        page.wait_for_function(f"() => GeoService.whatIfAnswered() > {answered}")
        assert page.evaluate("GeoService.whatIf().result.gain") == both["gain"]
        assert f"{both['gain']['residents']:,}" in page.inner_text("[data-figure=whatif]")

        page.click(".gs-workspace button[data-whatif=clear]")
        page.click(".gs-workspace button[data-whatif=add]")
        holding.append(True)
        _click_at(page, first.x, first.y)
        wait_until(page, lambda: held, "the what-if for a site about to be cleared")
        page.click(".gs-workspace button[data-whatif=clear]")
        answered = page.evaluate("GeoService.whatIfAnswered()")
        held.pop().continue_()
        page.wait_for_function(f"() => GeoService.whatIfAnswered() > {answered}")
        assert page.locator("[data-figure=whatif]").count() == 0
        assert page.evaluate("GeoService.whatIf().result") is None
        assert visit.errors == []
    finally:
        page.context.close()


def test_what_if_by_clicking_a_centre_to_close(browser, server, client):
    compounds = client.get("/collections/compound_coverage/items", params={"limit": 1000}).json()
    served = [f["properties"]["centre_id"] for f in compounds["features"]]
    centre = max(set(filter(None, served)), key=served.count)  # the busiest centre
    visit = open_page(browser, f"{server.url}/maps/planner")
    page = visit.page
    try:
        page.wait_for_function(READY, timeout=30_000)
        page.click(".gs-workspace button[data-whatif=close]")
        x, y = page.evaluate(
            """async (id) => { const layer = GeoService.layers.find(
                l => l.gsDefinition.id === 'service_centres');
            let marker = null;
            layer.eachLayer(m => { if (m.feature.properties.id === id) marker = m; });
            const map = layer._map;
            map.closePopup();
            map.setView(marker.getLatLng(), 17, {animate: false});
            // the markers are placed at the new view in the next frames (later if a zoom
            // animation of the page's start was still running): wait until it is there
            const at = map.latLngToContainerPoint(marker.getLatLng());
            const map_box = map.getContainer().getBoundingClientRect();
            const x = map_box.left + at.x, y = map_box.top + at.y;
            for (let frame = 0; frame < 300; frame++) {
                await new Promise(r => requestAnimationFrame(r));
                const box = marker.getElement().getBoundingClientRect();
                const cx = box.left + box.width / 2, cy = box.top + box.height / 2;
                if (Math.abs(cx - x) < 3 && Math.abs(cy - y) < 3) return [cx, cy];
            }
            throw new Error("the centre's marker never moved to its place"); }""",
            centre,
        )
        page.mouse.click(x, y)
        page.wait_for_selector("[data-figure=whatif]", timeout=30_000)
        result = page.evaluate("GeoService.whatIf().result")
        removed = page.evaluate("GeoService.whatIf().removed")
        # The marker under the click (the busiest centre, or one drawn on top of it).
        centres = client.get("/collections/service_centres/items", params={"limit": 100})
        assert len(removed) == 1
        assert removed[0] in {f["id"] for f in centres.json()["features"]}
        expected = client.post("/coverage/scenario", json={"remove": removed}).json()
        assert result["loss"] == expected["loss"] and expected["loss"]["compounds"] > 0
        assert (
            f"{expected['loss']['residents']:,}"
            in page.locator("[data-figure=whatif]").inner_text()
        )
        assert visit.errors == []
    finally:
        page.context.close()


def test_a_what_if_saved_by_name_reopens_and_deletes(browser, server, client, state_dir):
    """Add a centre, read the per-community change, save it by name (the staff key asked
    for, then given), clear, reopen it from the list, delete it — against the API."""
    key, _ = KeyStore(state_dir / "keys.json").create("staff", "workspace test")
    gap = client.get("/collections/coverage_gaps/items", params={"sortby": "rank"}).json()
    point = shapely.geometry.shape(gap["features"][0]["geometry"]).representative_point()
    visit = open_page(browser, f"{server.url}/maps/planner")
    page = visit.page
    try:
        page.wait_for_function(READY, timeout=30_000)
        # said once the list has come, not before
        expect(page.locator(".gs-workspace")).to_contain_text("No saved scenarios")
        page.click(".gs-workspace button[data-whatif=add]")
        _click_at(page, point.x, point.y)
        page.wait_for_selector("[data-figure=whatif]", timeout=30_000)
        result = page.evaluate("GeoService.whatIf().result")
        communities = [a for a in result["areas"] if a["level"] == "community_id"]
        rows = page.locator(".gs-whatif-areas tbody tr")
        assert rows.count() == len(communities) > 0
        biggest = max(communities, key=lambda a: a["gained_residents"])
        assert rows.first.get_attribute("data-area") == biggest["id"]
        assert f"{biggest['gained_residents']:,}" in rows.first.inner_text()
        page.fill("input[name=scenario-name]", "新中心 试算")
        page.click(".gs-scenario-save button[type=submit]")
        page.wait_for_selector("input[name=api-key]", timeout=30_000)  # 401: a key is asked
        page.fill("input[name=api-key]", key)
        page.click(".gs-scenario-save button[type=submit]")
        page.wait_for_selector(".gs-scenarios li", timeout=30_000)
        listed = client.get("/scenarios").json()["scenarios"]
        assert [s["name"] for s in listed] == ["新中心 试算"]
        scenario_id = listed[0]["id"]
        page.click(".gs-workspace button[data-whatif=clear]")
        assert page.evaluate("GeoService.whatIf().added.length") == 0
        page.click(f"button[data-open='{scenario_id}']")
        page.wait_for_selector("[data-figure=whatif]", timeout=30_000)
        reopened = client.get(f"/scenarios/{scenario_id}").json()
        assert page.evaluate("GeoService.whatIf().result") == reopened["answer"]
        assert page.evaluate("GeoService.whatIf().added") == [
            f["geometry"] for f in reopened["add"]["features"]
        ]
        assert reopened["answer"]["gain"] == result["gain"]
        page.click(f"button[data-delete='{scenario_id}']")
        page.wait_for_function(
            "() => document.querySelector('.gs-scenarios') === null", timeout=30_000
        )
        assert client.get("/scenarios").json() == {"scenarios": []}
        # The only error logged: the browser reporting the first save's 401.
        assert all("401" in error for error in visit.errors), visit.errors
    finally:
        page.context.close()


def test_a_click_on_a_compound_inside_a_circle_opens_the_compound(browser, server, client):
    items = client.get("/collections/compound_coverage/items", params={"limit": 1000}).json()
    inside = next(f for f in items["features"] if f["properties"]["centre_circle"] == 5)
    point = shapely.geometry.shape(inside["geometry"]).representative_point()
    visit = open_page(browser, f"{server.url}/maps/planner")
    page = visit.page
    try:
        page.wait_for_function(READY, timeout=30_000)
        _click_at(page, point.x, point.y)
        page.wait_for_selector(".leaflet-popup-content", timeout=30_000)
        assert (
            inside["properties"]["name_zh"] in page.locator(".leaflet-popup-content").inner_text()
        )
    finally:
        page.context.close()


def test_on_a_phone_the_layer_list_is_not_covered(browser, server):
    visit = open_page(browser, f"{server.url}/maps/planner", viewport=PHONE, is_mobile=True)
    page = visit.page
    try:
        page.wait_for_function(READY, timeout=30_000)
        page.hover(".leaflet-control-layers")  # opens the list, as a tap does
        boxes = page.locator(".leaflet-control-layers-selector")
        last = boxes.nth(boxes.count() - 1)
        last.click(timeout=5_000)  # fails if the title, notice or a panel lies over it
    finally:
        page.context.close()


def test_the_print_layout_keeps_the_map_furniture_and_drops_the_controls(browser, server, client):
    """Printed, the planner shows title, synthetic-data notice, criterion, date, sources,
    legend, scale and north arrow, and no control; Chromium's PDF of it says so."""
    visit = open_page(browser, f"{server.url}/maps/planner")
    page = visit.page
    try:
        page.wait_for_function(READY, timeout=30_000)
        page.emulate_media(media="print")
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        shown = page.evaluate(
            """Array.from(document.querySelectorAll('.leaflet-control'))
               .filter(e => getComputedStyle(e).display !== 'none')
               .map(e => e.className.split(' ')[0])"""
        )
        assert set(shown) == {
            "gs-info",
            "gs-legend",
            "leaflet-control-scale",
            "gs-north",
            "leaflet-control-attribution",
        }
        assert page.evaluate("document.querySelector('details.gs-legend').open")
        criterion = client.get("/coverage/summary").json()["criterion"]
        info = page.locator(".gs-info").inner_text()
        for text in (criterion["rule_zh"], "示例数据", "来源 Sources", "打印于 Printed"):
            assert text in info, text
        pdf = PdfReader(io.BytesIO(page.pdf(format="A4", landscape=True)))
        # Chromium's PDF maps some glyphs to CJK radicals (⾏ for 行): NFKC folds them.
        text = unicodedata.normalize(
            "NFKC", "".join("".join(p.extract_text().split()) for p in pdf.pages)
        )
        # (its text maps a few glyphs to CJK radicals NFKC keeps, e.g. ⺠ for 民: the
        # Chinese criterion is matched by its figures, the English one whole)
        for phrase in ("15分钟生活圈=1000米", criterion["rule_en"], "Legend", "N北"):
            assert unicodedata.normalize("NFKC", "".join(phrase.split())) in text, phrase
        assert "概览" not in text and "新增中心" not in text  # no panel, no buttons
    finally:
        page.context.close()


def test_the_report_downloads_from_the_panel(browser, server, client):
    """The district's PDF and Excel report from the panel's links, read back: the same
    headline as the API; with a community selected, that community's report."""
    visit = open_page(browser, f"{server.url}/maps/planner", accept_downloads=True)
    page = visit.page
    try:
        page.wait_for_function(READY, timeout=30_000)
        summary = client.get("/coverage/summary").json()
        with page.expect_download(timeout=60_000) as pdf_download:
            page.click("a[data-report=pdf]")
        pdf = PdfReader(pdf_download.value.path())
        text = "".join("".join(p.extract_text().split()) for p in pdf.pages)
        assert pdf_download.value.suggested_filename == "coverage-report-binhu.pdf"
        assert _percent(summary["district"]["share_15"]) in text
        with page.expect_download(timeout=60_000) as xlsx_download:
            page.click("a[data-report=xlsx]")
        book = load_workbook(io.BytesIO(xlsx_download.value.path().read_bytes()))
        rows = dict(book["概况 Summary"].iter_rows(min_row=2, max_col=2, values_only=True))
        assert rows["15分钟覆盖率 Share within 15 min"] == summary["district"]["share_15"]
        first = page.locator(ROWS).first
        community = first.get_attribute("data-id")
        first.locator("button").click()
        # the card's centres load after the row is selected and push the links down: wait
        # for it, or the click may land where the link was
        page.wait_for_function(
            "() => { const c = document.querySelector('.gs-card');"
            " return c && !c.innerText.includes('Loading'); }",
            timeout=30_000,
        )
        href = page.get_attribute("a[data-report=pdf]", "href")
        assert href.endswith(f"reports/coverage.pdf?area={community}")
        with page.expect_download(timeout=60_000) as community_download:
            page.click("a[data-report=pdf]")
        assert community_download.value.suggested_filename == f"coverage-report-{community}.pdf"
        assert visit.errors == []
    finally:
        page.context.close()


def test_the_keyboard_route_is_the_panel_not_the_markers(browser, server):
    """Tab from the map reaches the panel's community table without stopping on any of
    the markers; Enter on a community selects it and opens it on the map."""
    visit = open_page(browser, f"{server.url}/maps/planner")
    page = visit.page
    try:
        page.wait_for_function(READY, timeout=30_000)
        page.evaluate("document.activeElement.blur()")
        reached, presses = None, 0
        while presses < 60:
            presses += 1
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "({cls: document.activeElement.className || '',"
                " community: document.activeElement.dataset.community || null})"
            )
            assert "leaflet-marker-icon" not in focused["cls"]
            if focused["community"]:
                reached = focused["community"]
                break
        assert reached, "the community table is not within 60 Tab presses"
        page.keyboard.press("Enter")
        page.wait_for_selector(f"tr.selected[data-id='{reached}']")
        page.wait_for_selector(".leaflet-popup-content")
        assert visit.errors == []
    finally:
        page.context.close()


def test_a_scenario_that_fails_to_open_leaves_the_what_if_answered(
    browser, server, client, state_dir
):
    """A site added, its what-if under way; then a listed scenario opened that another
    planner has deleted meanwhile. The open fails and says so; the what-if it made stale
    is asked again and answered, never left "Computing…"."""
    key, _ = KeyStore(state_dir / "keys.json").create("staff", "workspace test")
    gaps = client.get("/collections/coverage_gaps/items", params={"sortby": "rank"}).json()
    site = shapely.geometry.shape(gaps["features"][0]["geometry"]).representative_point()
    staff = {"X-API-Key": key}
    elsewhere = shapely.geometry.shape(gaps["features"][1]["geometry"]).representative_point()
    change = {
        "add": {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {}, "geometry": elsewhere.__geo_interface__}
            ],
        },
        "remove": [],
    }
    created = client.post("/scenarios", json={"name": "deleted meanwhile", **change}, headers=staff)
    assert created.status_code == 201, created.text
    scenario_id = created.json()["id"]
    visit = open_page(browser, f"{server.url}/maps/planner")
    page = visit.page
    try:
        page.wait_for_function(READY, timeout=30_000)
        page.wait_for_selector(f"button[data-open='{scenario_id}']", timeout=30_000)
        assert client.delete(f"/scenarios/{scenario_id}", headers=staff).status_code == 204
        held = _what_ifs_held(page, [True])  # the first is held back, the next goes through
        page.click(".gs-workspace button[data-whatif=add]")
        _click_at(page, site.x, site.y)
        wait_until(page, lambda: held, "the what-if for the site")
        page.click(f"button[data-open='{scenario_id}']")
        page.wait_for_selector("[data-figure=whatif]", timeout=30_000)
        assert "Scenario failed" in page.locator(".gs-workspace").inner_text()
        body = _what_if_body(page)
        assert len(body["add"]["features"]) == 1
        expected = client.post("/coverage/scenario", json=body).json()
        assert page.evaluate("GeoService.whatIf().result.gain") == expected["gain"]
        answered = page.evaluate("GeoService.whatIfAnswered()")
        held.pop().continue_()
        page.wait_for_function(f"() => GeoService.whatIfAnswered() > {answered}")
        assert "Computing" not in page.locator(".gs-workspace").inner_text()
        assert page.evaluate("GeoService.whatIf().busy") is False
    finally:
        page.context.close()
        client.delete(f"/scenarios/{scenario_id}", headers=staff)
