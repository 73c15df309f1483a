"""The planner panel's "Where to build" and "Capacity" in Chromium, as a planner uses
them: ask for new sites (a preview, then the exact answer), read the answer in words,
see the sites on the map, open them as a what-if, download them; colour the compounds by
capacity and read the least-served communities — every figure equal to the API's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.browser import open_page

#: End to end: Chromium against `geo-service serve`.
pytestmark = pytest.mark.slow

READY = "() => document.querySelector('.gs-workspace .gs-headline') !== null"
#: The question asked on the page (the form's fields), as the API's body.
QUESTION = {"method": "mclp", "sites": 4, "facilities": "centres", "minutes": 10, "spacing_m": 300}
#: The exact solve's time limit the page sends.
TIME_LIMIT_S = 10
STATUS_TEXT = {"optimal": "optimal", "time_limit": "of optimal", "greedy": "greedy preview"}


@pytest.fixture(scope="module")
def planner(browser, server):
    visit = open_page(browser, f"{server.url}/maps/planner")
    visit.page.wait_for_function(READY, timeout=30_000)
    yield visit
    visit.page.context.close()


def _ask(page, question: dict) -> None:
    """Fill in the "Where to build" form."""
    page.select_option("select[name=siting-method]", question["method"])
    page.fill("input[name=siting-sites]", str(question["sites"]))
    page.select_option("select[name=siting-facilities]", question["facilities"])
    page.select_option("select[name=siting-minutes]", str(question["minutes"]))
    page.fill("input[name=siting-spacing]", str(question["spacing_m"]))


def _answer_matches(page, expected: dict) -> None:
    page.wait_for_selector(f".gs-siting-answer[data-status={expected['status']}]", timeout=60_000)
    answer = page.locator(".gs-siting-answer")
    newly = round(expected["residents"]["newly_covered"])
    assert answer.locator("[data-figure=siting-newly]").inner_text() == f"{newly:,}"
    criterion = expected["criterion"]
    text = answer.inner_text()
    within = f"within {criterion['minutes']} minutes ({round(criterion['distance_m']):,} m on foot)"
    assert within in text
    assert STATUS_TEXT[expected["status"]] in text
    sites = expected["sites"]["features"]
    assert f"{len(sites)} new sites cover {newly:,} more residents" in text
    assert page.evaluate("GeoService.siting().answer.sites") == expected["sites"]
    assert page.locator(".gs-site-marker").count() == len(sites)


def _solve(page) -> dict:
    """Ask the exact solve on the page and return the answer the page was given: the
    solver's time limit is wall-clock time, so a second solve under load may stop at
    another point; the page's own answer is the one it must show."""
    _ask(page, QUESTION)
    with page.expect_response(
        lambda r: r.url.endswith("/planning/sites") and r.request.method == "POST",
        timeout=60_000,
    ) as solved:
        page.click(".gs-workspace button[data-siting=solve]")
    return solved.value.json()


def _solved(page) -> dict:
    """The page's exact answer, solved first if no test before has (any order runs)."""
    answer = page.evaluate("GeoService.siting().answer")
    if answer is None or answer["status"] == "greedy":
        _answer_matches(page, _solve(page))
        answer = page.evaluate("GeoService.siting().answer")
    return answer


def test_preview_then_solve_say_what_the_api_says(planner, client):
    page = planner.page
    _ask(page, QUESTION)
    preview = {**QUESTION, "greedy": True}
    expected = client.post("/planning/sites", json=preview).json()
    page.click(".gs-workspace button[data-siting=preview]")
    _answer_matches(page, expected)
    assert page.evaluate("GeoService.siting().body") == preview
    exact = {**QUESTION, "greedy": False, "time_limit_s": TIME_LIMIT_S}
    expected = _solve(page)
    assert expected["status"] in ("optimal", "time_limit")
    _answer_matches(page, expected)
    assert page.evaluate("GeoService.siting().body") == exact
    # The same question through the API: the same criterion, sites spaced as asked.
    again = client.post("/planning/sites", json=exact).json()
    assert again["criterion"] == expected["criterion"]
    assert len(again["sites"]["features"]) == len(expected["sites"]["features"])


def test_the_sites_open_as_a_what_if(planner, client):
    page = planner.page
    scenario = _solved(page)["scenario"]
    page.click(".gs-workspace button[data-siting=whatif]")
    page.wait_for_selector("[data-figure=whatif]", timeout=30_000)
    result = page.evaluate("GeoService.whatIf().result")
    expected = client.post("/coverage/scenario", json=scenario).json()
    for figure in ("before", "after", "gain", "loss", "types", "areas"):
        assert result[figure] == expected[figure], figure
    shown = page.locator("[data-figure=whatif]").inner_text()
    assert f"{expected['gain']['residents']:,}" in shown
    assert page.evaluate("GeoService.whatIf().added") == [
        f["geometry"] for f in scenario["add"]["features"]
    ]


def test_the_sites_download_as_geojson(planner):
    page = planner.page
    answer = _solved(page)
    with page.expect_download() as info:
        page.click(".gs-workspace button[data-siting=download]")
    download = info.value
    minutes = answer["criterion"]["minutes"]
    assert download.suggested_filename == f"sites-mclp-{minutes}min.geojson"
    layer = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert layer == answer["sites"]


def test_capacity_lists_the_least_served_communities(planner, client):
    page = planner.page
    page.click(".gs-workspace button[data-capacity=show]")
    page.wait_for_selector(".gs-capacity-least li", timeout=30_000)
    capacity = client.get("/planning/capacity").json()
    scored = [a for a in capacity["areas"]["community_id"] if a["score"] is not None]
    least = sorted(scored, key=lambda a: (a["score"], a["id"]))[:5]
    items = page.locator(".gs-capacity-least li")
    assert [items.nth(k).get_attribute("data-area") for k in range(items.count())] == [
        a["id"] for a in least
    ]
    for k, area in enumerate(least):
        assert items.nth(k).locator(".gs-capacity-score").inner_text() == f"{area['score']:.1f}"
    decay = capacity["decay"]
    stated = page.locator(".gs-capacity-decay").inner_text()
    weights = " / ".join(f"{w:g}" for w in decay["weights"])
    limits = " / ".join(f"{m:g}" for m in decay["limits_m"])
    assert f"weights {weights} within {limits} m" in stated
    # the compounds coloured: the least served in the first class, the best in the last
    colours = page.evaluate(
        """() => { const out = {};
        GeoService.layers.find(l => l.gsDefinition.id === 'compound_coverage')
            .eachLayer(s => { out[s.feature.properties.id] = s.options.fillColor; });
        return out; }"""
    )
    ranked = sorted(capacity["compounds"], key=lambda c: c["score"])
    assert colours[ranked[-1]["id"]] == "#2c7bb6"
    assert colours[ranked[0]["id"]] == ("#67001f" if ranked[0]["score"] == 0 else "#d7191c")


def test_planning_logs_no_error_and_loads_nothing_from_elsewhere(planner):
    assert planner.errors == [] and planner.external == []


def test_planning_by_keyboard_and_accessibility(browser, server):
    visit = open_page(browser, f"{server.url}/maps/planner", bypass_csp=True)  # to inject axe
    page = visit.page
    try:
        page.wait_for_function(READY, timeout=30_000)
        page.focus(".gs-workspace button[data-siting=preview]")
        page.keyboard.press("Enter")
        page.wait_for_selector(".gs-siting-answer[data-status=greedy]", timeout=30_000)
        assert page.evaluate("document.activeElement.dataset.siting") == "preview"
        page.focus(".gs-workspace button[data-capacity=show]")
        page.keyboard.press("Enter")
        page.wait_for_selector(".gs-capacity-least li", timeout=30_000)
        assert visit.serious_accessibility_violations() == []
        assert visit.errors == []
    finally:
        page.context.close()


def test_a_community_opened_from_the_table_keeps_the_focus_though_capacity_names_it(
    browser, server
):
    """With capacity shown, a least-served community has a button in the capacity list
    and one in the community table (the same data-community). Opened from the table by
    the keyboard, the focus stays on the table's button as the panel is drawn again (on
    the selection, then when the card's centres come), not on the capacity list's."""
    visit = open_page(browser, f"{server.url}/maps/planner")
    page = visit.page
    try:
        page.wait_for_function(READY, timeout=30_000)
        page.click(".gs-workspace button[data-capacity=show]")
        page.wait_for_selector(".gs-capacity-least li", timeout=30_000)
        area = page.get_attribute(".gs-capacity-least li", "data-area")
        page.focus(f".gs-workspace tr[data-id='{area}'] button[data-community='{area}']")
        page.keyboard.press("Enter")
        page.wait_for_function(  # the card's last draw: its centres have come
            "() => { const card = document.querySelector('.gs-card');"
            " return card && !card.innerText.includes('载入中'); }",
            timeout=30_000,
        )
        focused = "document.activeElement"
        assert page.evaluate(f"{focused}.dataset.community") == area
        assert page.evaluate(f"{focused}.closest('tr') && {focused}.closest('tr').dataset.id")
        assert page.evaluate(f"!{focused}.closest('.gs-capacity-least')")
        assert visit.errors == []
    finally:
        page.context.close()
