"""The public locator page in a real Chromium: search a community, centres listed in
walking order as the API gives them, list and map in step, filters, the centre card
(address, phone, today's and the week's hours, open or closed when the walk ends), the
map-app links parsed back to the walk's two ends, English, keyboard only (phone and
desktop), touch targets, screen-reader labels, axe-core; no request leaves 127.0.0.1."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import httpx
import pytest
from pyproj import Geod

from geo_service.datums import bd09_to_wgs84, gcj02_to_wgs84
from tests.browser import PHONE, hold_requests, open_page, wait_until
from tests.support import LiveServer
from tests.test_locator import demo_with_contacts

#: End to end: Chromium against `geo-service serve`.
pytestmark = pytest.mark.slow

RESULTS = "#results li.result"
#: The background layers (water, district, communities, roads) are on the map.
BACKGROUND_DRAWN = """() => { let n = 0;
    GeoService.locator.map.eachLayer(l => { if (l instanceof L.GeoJSON) n++; });
    return n >= 4; }"""


def _nearest_from_api(client, query: str, **filters) -> list[dict]:
    place = client.get("/locator/places", params={"q": query, "limit": 8}).json()["features"][0]
    lon, lat = place["geometry"]["coordinates"]
    params = {"lon": f"{lon:.6f}", "lat": f"{lat:.6f}", "n": 5, **filters}
    return client.get("/locator/nearest", params=params).json()["features"]


def _suggestions_for(query: str) -> str:
    """The suggestions once they answer ``query``, not one of its prefixes typed before."""
    return f"#places[data-query='{query}'] [role=option]"


def _search(page, query: str) -> None:
    page.fill("#q", query)
    page.press("#q", "Enter")
    page.wait_for_selector(RESULTS)
    page.wait_for_function("() => document.body.dataset.gsBusy === 'false'")


@pytest.fixture
def locator(browser, server):
    visit = open_page(browser, f"{server.url}/locator", viewport=PHONE, is_mobile=True)
    yield visit
    visit.page.context.close()


def test_search_lists_the_centres_the_api_gives_in_walking_order(locator, client):
    page = locator.page
    _search(page, "水秀社区")
    expected = _nearest_from_api(client, "水秀社区")
    items = page.locator(RESULTS)
    assert items.count() == len(expected) == 5
    for i, feature in enumerate(expected):
        item = items.nth(i)
        assert item.get_attribute("data-id") == feature["id"]
        assert feature["properties"]["name_zh"] in item.locator("h3").inner_text()
        metres = round(feature["properties"]["distance_m"])
        assert f"步行 {metres} 米" in item.locator(".walk").inner_text()
    distances = [f["properties"]["distance_m"] for f in expected]
    assert distances == sorted(distances)
    # The map shows the same centres, numbered as in the list, and the route to the first.
    assert page.locator(".centre-marker").count() == 5
    assert page.locator(".centre-marker.selected").inner_text() == "1"
    assert page.evaluate("GeoService.locator.route.getLayers().length") == 1
    assert "水秀社区" in page.locator("#origin").inner_text()
    assert locator.external == []
    assert locator.errors == []


def test_choosing_a_centre_on_the_map_selects_it_in_the_list(locator):
    page = locator.page
    _search(page, "shuixiu")
    # The marker's own click (a pixel click could land on a neighbour drawn over it
    # while the map still moves to the results).
    page.locator(".centre-marker").nth(2).dispatch_event("click")
    page.wait_for_function(
        "() => document.querySelectorAll('#results li.result')[2].classList.contains('selected')"
    )
    third = page.locator(RESULTS).nth(2)
    assert third.locator("button.route").get_attribute("aria-pressed") == "true"
    assert page.locator(".centre-marker.selected").inner_text() == "3"
    links = third.locator(".actions a")  # walking navigation, the profile's apps in order
    hrefs = [links.nth(k).get_attribute("href") for k in range(links.count())]
    assert [urlsplit(h).netloc or urlsplit(h).scheme for h in hrefs] == [
        "uri.amap.com",
        "api.map.baidu.com",
        "apis.map.qq.com",
        "maps.apple.com",
        "geo",
    ]
    assert parse_qs(urlsplit(hrefs[0]).query)["mode"] == ["walk"]
    assert links.nth(0).inner_text() == "高德地图步行导航"


#: Where each app's link holds the walk's ends (analysis/map_links.py, from each app's
#: URI documentation): host -> the query keys of start and end, the text before the
#: point, whether latitude comes first, the point's datum back to WGS 84, the key and
#: value asking for a walk. Apple Maps draws GCJ-02 in mainland China.
LINK_ENDS = {
    "uri.amap.com": (("from", "to"), "", False, gcj02_to_wgs84, ("mode", "walk")),
    "api.map.baidu.com": (
        ("origin", "destination"),
        "latlng:",
        True,
        bd09_to_wgs84,
        ("mode", "walking"),
    ),
    "apis.map.qq.com": (("fromcoord", "tocoord"), "", True, gcj02_to_wgs84, ("type", "walk")),
    "maps.apple.com": (("saddr", "daddr"), "", True, gcj02_to_wgs84, ("dirflg", "w")),
}


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2]


def _read_point(text: str, prefix: str, lat_first: bool) -> tuple[float, float]:
    """``(lon, lat)`` as written at the start of ``text`` after ``prefix``, up to a name
    (``,name`` or ``|name:``) or a label."""
    first, second = (float(v) for v in text.removeprefix(prefix).split("|")[0].split(",")[:2])
    return (second, first) if lat_first else (first, second)


def test_the_cards_map_app_links_walk_from_the_point_to_the_centre(locator, client, demo):
    """Each link of each card, read from the page and parsed back in its app's datum and
    axis order, starts at the searched place and ends at the centre of that card (the
    demo's coordinates), within a metre; geo: (WGS 84) names the centre."""
    page = locator.page
    _search(page, "水秀社区")
    place = client.get("/locator/places", params={"q": "水秀社区", "limit": 8}).json()
    origin = tuple(place["features"][0]["geometry"]["coordinates"])
    centres = demo["service_centres"].set_index("id")
    cards = page.locator(RESULTS)
    assert cards.count() == 5
    for i in range(cards.count()):
        card = cards.nth(i)
        centre_id = card.get_attribute("data-id")
        door = centres.geometry[centre_id]
        centre = (door.x, door.y)
        links = card.locator(".actions a")
        hrefs = [links.nth(k).get_attribute("href") for k in range(links.count())]
        assert len(hrefs) == 5
        for href in hrefs[:4]:
            url = urlsplit(href)
            query = parse_qs(url.query)
            keys, prefix, lat_first, to_wgs84, (walk_key, walk) = LINK_ENDS[url.netloc]
            assert query[walk_key] == [walk], href
            # read in the app's axis order (the other order lands thousands of km away)
            written = [_read_point(query[k][0], prefix, lat_first) for k in keys]
            start, end = (tuple(float(v) for v in to_wgs84(*p)) for p in written)
            assert _metres(start, origin) < 1, (href, start, origin)
            assert _metres(end, centre) < 1, (href, end, centre)
            assert 100 < _metres(written[1], centre) < 2000, href  # shifted: not WGS 84
        amap = parse_qs(urlsplit(hrefs[0]).query)
        assert amap["to"][0].split(",", 2)[2] == centres.name_zh[centre_id]
        geo = hrefs[4]
        assert geo.startswith("geo:")
        point, _, label = unquote(geo.removeprefix("geo:")).partition("?q=")
        for text in (point, label.split("(")[0]):
            assert _metres(_read_point(text, "", True), centre) < 1, geo
        assert label.endswith(f"({centres.name_zh[centre_id]})")


def test_service_filter_narrows_the_results(locator, client):
    page = locator.page
    _search(page, "水秀社区")
    page.select_option("#service", "legal_aid")
    page.wait_for_function("() => document.body.dataset.gsBusy === 'false'")
    expected = _nearest_from_api(client, "水秀社区", service="legal_aid")
    ids = [page.locator(RESULTS).nth(i).get_attribute("data-id") for i in range(len(expected))]
    assert ids == [f["id"] for f in expected]
    for feature in expected:
        assert "legal_aid" in feature["properties"]["services"]
    assert "法律援助" in page.locator(RESULTS).first.inner_text()


def test_english_switch(locator):
    page = locator.page
    _search(page, "水秀社区")
    page.click("#lang")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("h1").inner_text() == "Find a Party-and-public service centre"
    assert page.locator("label[for=q]").inner_text().startswith("Community, compound")
    first = page.locator(RESULTS).first
    assert "m on foot, about" in first.locator(".walk").inner_text()
    assert first.locator(".level").inner_text() == "Community"
    assert "Party-member education" in first.inner_text()
    assert "中文" in page.locator("#lang").inner_text()
    page.click("#lang")
    assert page.locator("h1").inner_text() == "党群服务中心查询"


def test_keyboard_alone_reaches_the_results(browser, server):
    visit = open_page(browser, f"{server.url}/locator")
    page = visit.page
    try:
        for _ in range(5):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "q":
                break
        assert page.evaluate("document.activeElement.id") == "q"
        page.keyboard.type("水秀社区")
        page.keyboard.press("Enter")
        page.wait_for_selector(RESULTS)
        page.wait_for_function("() => document.body.dataset.gsBusy === 'false'")
        assert "找到 5 个服务中心" in page.locator("#status").inner_text()
        assert page.locator("#status").get_attribute("aria-live") == "polite"
        presses = 0
        while not page.evaluate("!!document.activeElement.closest('#results')"):
            assert presses < 40, "the results are not reachable with Tab"
            page.keyboard.press("Tab")
            presses += 1
        first = page.locator(RESULTS).nth(0)
        assert page.evaluate("document.activeElement.tagName") == "SUMMARY"  # the week
        page.keyboard.press("Enter")
        assert first.locator("details.week").get_attribute("open") is not None
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "route"
        links = first.locator(".actions a").count()
        assert links == 5  # Amap, Baidu, Tencent, Apple, geo: (the demo district is in China)
        for _ in range(links + 2):  # past the links and the second centre's week
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # the second centre's "show route"
        assert page.locator(RESULTS).nth(1).get_attribute("class") == "result selected"
        assert page.evaluate("document.activeElement.getAttribute('aria-pressed')") == "true"
        assert visit.errors == []
    finally:
        page.context.close()


def test_on_a_desktop_the_keyboard_alone_takes_a_suggestion_and_reaches_the_links(
    browser, server, client
):
    """Desktop viewport, keys only: Tab to the search box, type, walk the suggestions with
    the arrow keys, Enter; focus moves to the answer, then Tab goes through the first
    centre's card — its week, its route button, its map-app links (the API's, in order) —
    each with a visible focus ring."""
    visit = open_page(browser, f"{server.url}/locator")  # tests.browser.DESKTOP
    page = visit.page
    try:
        assert page.evaluate("innerWidth") >= 900  # the two-column layout
        for _ in range(5):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "q":
                break
        assert page.evaluate("document.activeElement.id") == "q"
        _assert_focus_ring(page)
        page.keyboard.type("shuixui")  # a typo of shuixiu (水秀)
        page.wait_for_selector(_suggestions_for("shuixui"))
        places = client.get("/locator/places", params={"q": "shuixui", "limit": 8}).json()
        assert page.locator("#places [role=option]").count() == len(places["features"]) >= 2
        page.keyboard.press("ArrowDown")
        page.keyboard.press("ArrowDown")
        assert page.get_attribute("#q", "aria-activedescendant") == "place-1"
        page.keyboard.press("Enter")
        page.wait_for_selector(RESULTS)
        page.wait_for_function("() => document.body.dataset.gsBusy === 'false'")
        chosen = places["features"][1]
        assert page.input_value("#q") == chosen["properties"]["name_zh"]
        assert chosen["properties"]["name_zh"] in page.locator("#origin").inner_text()
        lon, lat = chosen["geometry"]["coordinates"]
        params = {"lon": f"{lon:.6f}", "lat": f"{lat:.6f}", "n": 5}
        expected = client.get("/locator/nearest", params=params).json()["features"]
        cards = page.locator(RESULTS)
        assert [cards.nth(i).get_attribute("data-id") for i in range(cards.count())] == [
            f["id"] for f in expected
        ]
        assert page.evaluate("document.activeElement.id") == "results-heading"

        presses = 0
        while not page.evaluate("!!document.activeElement.closest('#results')"):
            assert presses < 10, "the first card is not reachable with Tab"
            page.keyboard.press("Tab")
            presses += 1
        first = expected[0]
        in_first = f"document.activeElement.closest('li.result').dataset.id === '{first['id']}'"
        links = list(first["properties"]["links"].values())
        stops = [("SUMMARY", None), ("BUTTON", None)] + [("A", href) for href in links]
        for k, (tag, href) in enumerate(stops):
            if k:
                page.keyboard.press("Tab")
            assert page.evaluate(in_first), (k, tag)
            assert page.evaluate("document.activeElement.tagName") == tag, k
            if href:
                assert page.evaluate("document.activeElement.getAttribute('href')") == href
            _assert_focus_ring(page)
        assert len(links) == 5  # Amap, Baidu, Tencent, Apple, geo:
        page.keyboard.press("Tab")  # past the last link: the second card
        assert not page.evaluate(in_first)
        assert visit.errors == [] and visit.external == []
    finally:
        page.context.close()


def test_a_point_outside_the_district_gets_an_explanation(locator):
    page = locator.page
    page.wait_for_function(BACKGROUND_DRAWN)
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + 5, box["y"] + box["height"] - 5)  # the lake, far out
    page.wait_for_function("() => document.body.dataset.gsBusy === 'false'")
    assert page.locator("#status").inner_text().startswith("这个位置不在本区范围内")
    assert page.locator(RESULTS).count() == 0
    page.click("#lang")  # the message follows the language
    assert page.locator("#status").inner_text().startswith("This place is outside the district")


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_locator_accessibility_and_screenshots(browser, server, viewport):
    options = {"viewport": viewport} if viewport else {}
    visit = open_page(browser, f"{server.url}/locator", bypass_csp=True, **options)
    try:
        _search(visit.page, "水秀社区")
        assert visit.serious_accessibility_violations() == []
        name = "locator-phone" if viewport else "locator-desktop"
        assert visit.screenshot(name).stat().st_size > 20_000
    finally:
        visit.page.context.close()


def test_my_location_finds_the_centres_near_the_phone(browser, server, client):
    place = client.get("/locator/places", params={"q": "西园社区"}).json()["features"][0]
    lon, lat = place["geometry"]["coordinates"]
    visit = open_page(
        browser,
        f"{server.url}/locator",
        viewport=PHONE,
        geolocation={"longitude": lon, "latitude": lat},
        permissions=["geolocation"],
    )
    try:
        page = visit.page
        page.click("#locate")
        page.wait_for_selector(RESULTS)
        page.wait_for_function("() => document.body.dataset.gsBusy === 'false'")
        params = {"lon": f"{lon:.6f}", "lat": f"{lat:.6f}", "n": 5}
        expected = client.get("/locator/nearest", params=params).json()["features"]
        assert [page.locator(RESULTS).nth(i).get_attribute("data-id") for i in range(5)] == [
            f["id"] for f in expected
        ]
        assert page.locator("#origin").inner_text() == "出发地：我的位置"
    finally:
        visit.page.context.close()


def test_open_now_filter_matches_the_api(browser, server, client):
    at = "2026-11-28T14:00"  # a Saturday afternoon: some centres are open, some closed
    visit = open_page(browser, f"{server.url}/locator?at={at}", viewport=PHONE)
    page = visit.page
    _search(page, "水秀社区")
    page.check("#open-now")
    page.wait_for_function("() => document.body.dataset.gsBusy === 'false'")
    expected = _nearest_from_api(client, "水秀社区", open_now="true", at=at)
    everyone = _nearest_from_api(client, "水秀社区", at=at)
    shown = page.locator(RESULTS)
    assert [shown.nth(i).get_attribute("data-id") for i in range(shown.count())] == [
        f["id"] for f in expected
    ]
    assert len(expected) >= 1
    assert all(f["properties"]["open_now"] is True for f in expected)
    assert [f["id"] for f in expected] != [f["id"] for f in everyone]  # the filter did work
    for i, feature in enumerate(expected):  # open until when, from the API's closing time
        kind = _on_the_way(feature["properties"])
        assert shown.nth(i).locator(f".open.{kind}").inner_text() == _said(feature, kind, "zh")
    page.context.close()


#: What the card says of a centre open now, for the resident who sets out: "late" closed
#: by the time the walk ends, "soon" open on arrival but closing within 15 minutes after,
#: "yes" open on arrival and for a while after ({time}: the API's closes_at).
SAID = {
    "late": {
        "zh": "步行到达时已关门（{time}关门）",
        "en": "Closed by the time you walk there (closes {time})",
    },
    "soon": {"zh": "即将关门（{time}），请抓紧", "en": "Closes soon ({time}): hurry"},
    "yes": {"zh": "开放至{time}", "en": "Open until {time}"},
}


def _on_the_way(p: dict) -> str:
    """The API's answer for a centre open now, as the card's kind (a key of SAID); the
    API's fields checked against each other: arrival is ``at`` plus the walk."""
    assert p["open_now"] is True
    if p["open_on_arrival"] is False:
        assert p["closes_soon"]  # closing before arrival is closing soon after it
        return "late"
    return "soon" if p["closes_soon"] else "yes"


def _said(feature: dict, kind: str, lang: str) -> str:
    closes = feature["properties"]["closes_at"]
    return SAID[kind][lang].format(time=closes[11:16])


def _arrival(at: str, feature: dict) -> datetime:
    return datetime.fromisoformat(at) + timedelta(minutes=feature["properties"]["minutes"])


def test_in_the_evening_a_centre_closed_on_arrival_is_not_said_to_close_soon(
    browser, server, client
):
    # A Wednesday evening: many centres close at 20:00. The time is the API's to choose:
    # the first at which, from 水秀社区, one centre open now is closed by the time the walk
    # ends and another is open on arrival but closes within 15 minutes after.
    by_time = {}
    for minute in range(30, 60, 5):
        at = f"2026-12-02T19:{minute:02d}"
        open_now = [
            f for f in _nearest_from_api(client, "水秀社区", at=at) if f["properties"]["open_now"]
        ]
        by_time[at] = {
            kind: [f for f in open_now if _on_the_way(f["properties"]) == kind] for kind in SAID
        }
    at = next((at for at, kinds in by_time.items() if kinds["late"] and kinds["soon"]), None)
    assert at, "the fixture point should reach centres closing at 20:00 on arrival and after"
    for feature in by_time[at]["late"]:  # the API's own fields agree with each other
        assert _arrival(at, feature) >= datetime.fromisoformat(feature["properties"]["closes_at"])
    for feature in by_time[at]["soon"]:
        closes = datetime.fromisoformat(feature["properties"]["closes_at"])
        assert timedelta(0) < closes - _arrival(at, feature) < timedelta(minutes=15)

    visit = open_page(browser, f"{server.url}/locator?at={at}", viewport=PHONE)
    page = visit.page
    try:
        _search(page, "水秀社区")
        assert [
            page.locator(RESULTS).nth(i).get_attribute("data-id")
            for i in range(page.locator(RESULTS).count())
        ] == [f["id"] for f in _nearest_from_api(client, "水秀社区", at=at)]
        for lang in ("zh", "en"):
            for kind, features in by_time[at].items():
                for feature in features:
                    card = page.locator(f'{RESULTS}[data-id="{feature["id"]}"]')
                    status = card.locator(".open")
                    assert status.get_attribute("class") == f"open {kind}", feature["id"]
                    assert status.inner_text() == _said(feature, kind, lang), feature["id"]
                    if kind == "late":  # no "hurry" for a centre that will be closed
                        text = card.inner_text()
                        assert "即将关门" not in text and "请抓紧" not in text
                        assert "Closes soon" not in text and "hurry" not in text
            page.click("#lang")
        assert visit.errors == []
    finally:
        page.context.close()


def test_at_night_the_page_says_which_centre_opens_first(browser, server, client):
    at = "2026-12-03T04:30"
    visit = open_page(browser, f"{server.url}/locator?at={at}", viewport=PHONE)
    page = visit.page
    _search(page, "水秀社区")
    page.check("#open-now")
    page.wait_for_function("() => document.body.dataset.gsBusy === 'false'")
    place = client.get("/locator/places", params={"q": "水秀社区", "limit": 8}).json()
    lon, lat = place["features"][0]["geometry"]["coordinates"]
    params = {"lon": f"{lon:.6f}", "lat": f"{lat:.6f}", "n": 5, "open_now": "true", "at": at}
    first = client.get("/locator/nearest", params=params).json()["opening_next"][0]
    status = page.locator("#status").inner_text()
    assert first["name_zh"] in status and first["opens_at"][11:16] + "开放" in status
    assert page.locator(RESULTS).count() == 0 and visit.errors == []
    page.context.close()


#: Everything a resident taps on the phone: at least 44 x 44 CSS px (WCAG 2.5.5). (The
#: label of the search box is not one: the box itself, below it, is the target.)
TARGETS = [
    ".skip",
    "#lang",
    "#q",
    "form button",
    "#service",
    "label.check",  # the "open now" checkbox and its words, one target
    "#share",
    "#results .actions a",
    "#results .actions button.route",
    "#results details.week summary",
    ".leaflet-control-zoom a",
    ".leaflet-control-attribution a",
    ".centre-marker",
]


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a, b) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


#: The focused element's ring as drawn: whether :focus-visible applies, the computed
#: outline, and whether the element is inside the window (scrolled to).
FOCUS_RING = """() => { const e = document.activeElement, s = getComputedStyle(e);
    const r = e.getBoundingClientRect();
    return { tag: e.tagName, visible: e.matches(':focus-visible'), style: s.outlineStyle,
      width: parseFloat(s.outlineWidth), color: s.outlineColor,
      inside: r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth };
    }"""


def _assert_focus_ring(page) -> None:
    """The focused element shows a keyboard focus ring: a solid outline at least 2 px wide
    whose colour contrasts 3:1 or more with the page and the cards (WCAG 2.4.11), in view."""
    ring = page.evaluate(FOCUS_RING)
    assert ring["visible"] and ring["inside"], ring
    assert ring["style"] == "solid" and ring["width"] >= 2, ring
    color = ring["color"]
    rgb = tuple(int(v) for v in color[color.index("(") + 1 : color.index(")")].split(",")[:3])
    for neighbour in ((255, 255, 255), (250, 250, 250)):  # the cards and the page
        assert _contrast(rgb, neighbour) >= 3, (ring, neighbour)


def _small(page, selector: str) -> list[list[float]]:
    """The sizes of the shown elements matching ``selector`` under 44 x 44 CSS px."""
    boxes = page.eval_on_selector_all(
        selector,
        "els => els.filter(e => e.offsetParent !== null).map(e => {"
        " const r = e.getBoundingClientRect(); return [r.width, r.height]; })",
    )
    assert boxes, selector
    return [box for box in boxes if min(box) < 44 - 0.5]


def test_touch_targets_and_the_focus_ring(locator):
    page = locator.page
    _search(page, "水秀社区")
    small = {selector: _small(page, selector) for selector in TARGETS}
    assert not any(small.values()), small
    page.fill("#q", "shuixiu")  # the suggestions too
    page.wait_for_selector(_suggestions_for("shuixiu"))
    assert not _small(page, "#places [role=option]")
    page.keyboard.press("Escape")
    page.focus("#lang")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # a keyboard focus, so :focus-visible applies
    assert page.evaluate("document.activeElement.id") == "lang"
    _assert_focus_ring(page)
    wraps = page.eval_on_selector(
        "#lang", "e => e.getClientRects().length > 1 || e.scrollHeight > e.clientHeight + 1"
    )
    assert not wraps


def test_suggestions_are_a_combobox_the_arrow_keys_walk(locator, client):
    page = locator.page
    page.fill("#q", "shuixui")  # a typo of shuixiu (水秀)
    page.wait_for_selector(_suggestions_for("shuixui"))
    box = page.locator("#q")
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-expanded") == "true"
    options = page.locator("#places [role=option]")
    expected = client.get("/locator/places", params={"q": "shuixui", "limit": 8}).json()
    assert options.count() == len(expected["features"]) >= 2
    assert "水秀社区" in options.nth(0).inner_text()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == "place-1"
    assert options.nth(1).get_attribute("aria-selected") == "true"
    assert options.nth(0).get_attribute("aria-selected") == "false"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # wraps round to the last
    assert box.get_attribute("aria-activedescendant") == f"place-{options.count() - 1}"
    page.keyboard.press("ArrowDown")  # back to the first
    page.keyboard.press("ArrowDown")  # and the second
    chosen = expected["features"][1]["properties"]["name_zh"]
    page.keyboard.press("Enter")
    page.wait_for_selector(RESULTS)
    page.wait_for_function("() => document.body.dataset.gsBusy === 'false'")
    assert box.input_value() == chosen and box.get_attribute("aria-expanded") == "false"
    assert chosen in page.locator("#origin").inner_text()
    assert locator.errors == []


def test_suggestions_for_a_prefix_answered_late_never_replace_the_later_ones(locator, client):
    """Answers can come back out of order: the suggestions for "s", held back until
    those for "shuixiu" are shown, must not replace them when they arrive."""
    page = locator.page
    held = hold_requests(page, r"/locator/places\?", lambda query: query["q"] == ["s"])
    page.fill("#q", "s")
    wait_until(page, lambda: held, "the search for s")
    page.fill("#q", "shuixiu")
    page.wait_for_selector(_suggestions_for("shuixiu"))

    def names(q: str) -> list[str]:
        found = client.get("/locator/places", params={"q": q, "limit": 8}).json()
        return [f["properties"]["name_zh"] for f in found["features"]]

    later, earlier = names("shuixiu"), names("s")
    assert later and earlier != later  # the two answers can be told apart
    answered = page.evaluate("GeoService.locator.answers.places")
    held[0].continue_()
    page.wait_for_function(f"() => GeoService.locator.answers.places > {answered}")
    options = page.locator("#places [role=option]")
    assert options.count() == len(later)
    assert all(later[i] in options.nth(i).inner_text() for i in range(len(later)))
    assert page.get_attribute("#places", "data-query") == "shuixiu"
    assert locator.errors == []


def test_a_suggestion_taken_while_a_search_is_under_way_keeps_the_list_closed(locator, client):
    """Type, take a suggestion with the keys while the search for the text typed since
    is still unanswered: when that answer comes, the list stays closed over the results."""
    page = locator.page
    page.fill("#q", "shuixui")
    page.wait_for_selector(_suggestions_for("shuixui"))
    held = hold_requests(page, r"/locator/places\?", lambda query: query["q"] == ["shuixuix"])
    page.press("#q", "x")
    wait_until(page, lambda: held, "the search for shuixuix")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_selector(RESULTS)
    page.wait_for_function("() => document.body.dataset.gsBusy === 'false'")
    assert client.get("/locator/places", params={"q": "shuixuix"}).json()["features"]
    answered = page.evaluate("GeoService.locator.answers.places")
    held[0].continue_()
    page.wait_for_function(f"() => GeoService.locator.answers.places > {answered}")
    assert page.get_attribute("#q", "aria-expanded") == "false"
    assert page.is_hidden("#places")
    assert locator.errors == []


def test_centres_for_an_earlier_filter_answered_late_never_replace_the_later_ones(locator, client):
    """A filter chosen then changed back: the centres for the first choice, held back
    until those for the second are shown, must not replace them, and the page is not
    said to be busy once the latest answer is in."""
    page = locator.page
    _search(page, "水秀社区")
    held = hold_requests(page, r"/locator/nearest\?", lambda query: "service" in query)
    page.select_option("#service", "legal_aid")
    wait_until(page, lambda: held, "the centres offering legal aid")
    page.select_option("#service", "")
    wait_until(page, lambda: page.evaluate("document.body.dataset.gsBusy") == "false", "all")
    every = [f["id"] for f in _nearest_from_api(client, "水秀社区")]
    legal_aid = [f["id"] for f in _nearest_from_api(client, "水秀社区", service="legal_aid")]
    assert every != legal_aid  # the two answers can be told apart
    answered = page.evaluate("GeoService.locator.answers.nearest")
    held[0].continue_()
    page.wait_for_function(f"() => GeoService.locator.answers.nearest > {answered}")
    shown = page.locator(RESULTS)
    assert [shown.nth(i).get_attribute("data-id") for i in range(shown.count())] == every
    assert page.evaluate("document.body.dataset.gsBusy") == "false"
    assert locator.errors == []


def test_a_street_is_a_place_to_start_from(locator, client, demo):
    street = demo["roads"]["name"].dropna().iloc[0]
    _search(locator.page, street)
    assert street in locator.page.locator("#origin").inner_text()


def test_a_landmark_by_its_everyday_name_is_a_place_to_start_from(locator, client, demo):
    seat = demo["landmarks"].set_index("id").loc["L00"]  # 滨湖区人民政府, also called 区政府
    _search(locator.page, "区政府")
    assert seat["name_zh"] in locator.page.locator("#origin").inner_text()
    lon, lat = seat.geometry.x, seat.geometry.y
    expected = client.get("/locator/nearest", params={"lon": lon, "lat": lat, "n": 5}).json()
    shown = locator.page.locator(RESULTS)
    ids = [shown.nth(i).get_attribute("data-id") for i in range(shown.count())]
    assert ids == [f["id"] for f in expected["features"]]


def test_a_shared_link_reopens_the_same_answer(browser, server, client):
    at = "2026-11-28T14:00"
    visit = open_page(browser, f"{server.url}/locator?at={at}", viewport=PHONE)
    page = visit.page
    _search(page, "水秀社区")
    page.select_option("#service", "legal_aid")
    page.wait_for_function("() => document.body.dataset.gsBusy === 'false'")
    shown = page.locator(RESULTS)
    ids = [shown.nth(i).get_attribute("data-id") for i in range(shown.count())]
    href = page.locator("#share").get_attribute("href")
    query = parse_qs(urlsplit(href).query)
    assert query["service"] == ["legal_aid"] and query["at"] == [at]
    assert query["from"] == ["水秀社区"]
    assert page.evaluate("location.search") == "?" + urlsplit(href).query  # address bar too
    lon, lat = float(query["lon"][0]), float(query["lat"][0])
    expected = client.get(
        "/locator/nearest",
        params={"lon": lon, "lat": lat, "n": 5, "service": "legal_aid", "at": at},
    ).json()["features"]
    assert ids == [f["id"] for f in expected]
    page.context.close()

    again = open_page(browser, f"{server.url}{href}", viewport=PHONE)
    again.page.wait_for_selector(RESULTS)
    again.page.wait_for_function("() => document.body.dataset.gsBusy === 'false'")
    reopened = again.page.locator(RESULTS)
    assert [reopened.nth(i).get_attribute("data-id") for i in range(reopened.count())] == ids
    assert "水秀社区" in again.page.locator("#origin").inner_text()
    assert again.page.locator("#service").input_value() == "legal_aid"
    assert again.errors == []
    again.page.context.close()


#: A small phone: the narrowest width the page is laid out for.
NARROW = {"width": 360, "height": 740}
WEEKDAYS = {"zh": "一二三四五六日", "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}


@pytest.fixture(scope="module")
def contacts_server(tmp_path_factory):
    """The service on a copy of the demo where two centres have an address and a phone
    (:func:`tests.test_locator.demo_with_contacts`), and those contacts."""
    folder = tmp_path_factory.mktemp("contacts-server")
    contacts = demo_with_contacts(folder)
    live = LiveServer(
        env={
            "GEO_SERVICE_STORE": f"file:{folder / 'data'}",
            "GEO_SERVICE_CATALOG_DIR": str(folder / "layers"),
            "GEO_SERVICE_DERIVED_DIR": str(folder / "derived"),
            "GEO_SERVICE_STATE_DIR": str(folder / "state"),
            "GEO_SERVICE_RATE_LIMIT_PER_MINUTE": "100000",
        }
    )
    yield live, contacts
    live.stop()


def _at_the_door(browser, live, centre, demo, *, at: str, lang: str, **options):
    """The locator opened by a shared link at ``centre``'s door, at local time ``at``:
    the visit and the API's answer to the same question."""
    door = demo["service_centres"].set_index("id").geometry[centre]
    query = {"lon": f"{door.x:.6f}", "lat": f"{door.y:.6f}", "at": at}
    link = f"{live.url}/locator?{urlencode({**query, 'from': 'door', 'lang': lang})}"
    visit = open_page(browser, link, viewport=NARROW, is_mobile=True, **options)
    visit.page.wait_for_selector(RESULTS)
    visit.page.wait_for_function("() => document.body.dataset.gsBusy === 'false'")
    answer = httpx.get(f"{live.url}/locator/nearest", params={**query, "n": 5}).json()
    return visit, answer["features"]


def _hours(intervals: list, lang: str) -> str:
    """A day's intervals as the card writes them."""
    closed = {"zh": "休息", "en": "Closed"}[lang]
    return {"zh": "、", "en": ", "}[lang].join(f"{a}–{b}" for a, b in intervals) or closed


def _weekday(day: str, lang: str) -> str:
    k = date.fromisoformat(day).weekday()
    return "周" + WEEKDAYS["zh"][k] if lang == "zh" else WEEKDAYS["en"][k]


def _check_week(card, feature: dict, at: str, lang: str) -> None:
    """The card's week table holds the API's week, today's row marked."""
    rows = card.locator("details.week tr")
    week = feature["properties"]["week"]
    assert rows.count() == len(week) == 7
    for k, day in enumerate(week):
        row = rows.nth(k)
        assert row.get_attribute("data-date") == day["date"]
        assert row.locator("th").text_content().startswith(_weekday(day["date"], lang))
        assert row.locator("td").text_content() == _hours(day["intervals"], lang)
    today = card.locator("details.week tr.today")
    assert today.count() == 1
    assert today.get_attribute("data-date") == at[:10] == week[0]["date"]
    assert today.get_attribute("aria-current") == "date"
    assert {"zh": "今天", "en": "today"}[lang] in today.locator("th").text_content()


def test_the_card_gives_address_phone_and_the_weeks_hours(browser, contacts_server, demo):
    live, contacts = contacts_server
    first = next(iter(contacts))
    at = "2026-09-30T10:00"  # a Wednesday; Sunday 4 October in the week
    visit, features = _at_the_door(browser, live, first, demo, at=at, lang="zh", bypass_csp=True)
    page = visit.page
    try:
        cards = page.locator(RESULTS)
        assert [cards.nth(i).get_attribute("data-id") for i in range(cards.count())] == [
            f["id"] for f in features
        ]
        card = cards.first
        assert card.get_attribute("data-id") == first
        assert f"地址：{contacts[first]['address']}" in card.inner_text()
        tel = card.locator("a.tel")
        phone = contacts[first]["phone"]
        assert tel.get_attribute("href") == "tel:" + re.sub(r"[^\d+]", "", phone)
        assert tel.inner_text() == f"电话：{phone}"
        box = tel.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44
        for i, feature in enumerate(features):
            other = cards.nth(i)
            has = contacts.get(feature["id"], {"address": None, "phone": None})
            assert other.locator(".address").count() == (has["address"] is not None)
            assert other.locator("a.tel").count() == (has["phone"] is not None)
            _check_week(other, feature, at, "zh")
        today = features[0]["properties"]["week"][0]["intervals"]
        assert card.locator(".hours-today").inner_text() == "今天：" + _hours(today, "zh")
        summary = card.locator("details.week summary")
        assert not card.locator("details.week table").is_visible()
        summary.click()
        assert card.locator("details.week table").is_visible()
        assert card.locator("tr.today").inner_text().startswith(_weekday(at[:10], "zh"))
        closed = [d for f in features for d in f["properties"]["week"] if not d["intervals"]]
        assert closed and "休息" in page.locator("#results").text_content()
        cards.nth(1).locator("button.route").click()  # a redraw keeps the week open
        assert cards.first.locator("details.week table").is_visible()
        assert visit.serious_accessibility_violations() == []
        assert visit.errors == [] and visit.external == []
    finally:
        page.context.close()


def test_in_english_colons_are_ascii_and_the_language_button_is_one_line(
    browser, contacts_server, demo
):
    live, contacts = contacts_server
    first = next(iter(contacts))
    at = "2026-10-03T18:00"  # a Saturday evening: a closed Sunday ahead
    visit, features = _at_the_door(browser, live, first, demo, at=at, lang="en")
    page = visit.page
    try:
        card = page.locator(RESULTS).first
        card.locator("details.week summary").click()
        _check_week(card, features[0], at, "en")
        assert f"Address: {contacts[first]['address']}" in card.inner_text()
        assert card.locator("a.tel").inner_text().startswith("Phone: ")
        assert card.locator(".hours-today").inner_text().startswith("Today: ")
        assert "Hours for the next 7 days" in card.inner_text()
        visible = page.evaluate("document.body.innerText")
        assert "Services: " in visible and "From: door" in visible
        assert "：" not in visible  # no full-width colon in English
        button = page.evaluate(
            """() => { const b = document.getElementById('lang');
                const label = document.getElementById('lang-label');
                const s = getComputedStyle(b);
                const px = v => parseFloat(v);
                return { text: label.textContent, label: label.getBoundingClientRect().height,
                  line: px(getComputedStyle(label).lineHeight),
                  button: b.getBoundingClientRect().height,
                  chrome: px(s.paddingTop) + px(s.paddingBottom) + px(s.borderTopWidth)
                    + px(s.borderBottomWidth), minimum: px(s.minHeight) }; }"""
        )
        assert button["text"] == "中文"
        assert button["label"] == pytest.approx(button["line"], abs=0.5)  # one line
        one_line = max(button["minimum"], button["line"] + button["chrome"])
        assert button["button"] == pytest.approx(one_line, abs=0.5)
        assert visit.errors == []
    finally:
        page.context.close()
