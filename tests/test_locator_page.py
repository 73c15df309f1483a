"""The public locator page in a real Chromium: search a community, centres listed in
walking order as the API gives them, list and map in step, filters, the centre card
(address, phone, today's and the week's hours), English, keyboard only, screen-reader
labels, axe-core; no request leaves 127.0.0.1."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.browser import PHONE, open_page
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
        closes = feature["properties"]["closes_at"][11:16]
        said = "即将关门" if feature["properties"]["closes_soon"] else f"开放至{closes}"
        assert said in shown.nth(i).inner_text()
    page.context.close()


def test_in_the_evening_centres_closing_before_the_walk_ends_are_flagged(browser, server, client):
    at = "2026-12-02T19:45"  # a Wednesday: many centres close at 20:00
    visit = open_page(browser, f"{server.url}/locator?at={at}", viewport=PHONE)
    page = visit.page
    _search(page, "水秀社区")
    expected = _nearest_from_api(client, "水秀社区", at=at)
    soon = [f for f in expected if f["properties"]["closes_soon"]]
    assert soon, "the fixture point should reach a centre closing at 20:00"
    shown = page.locator(RESULTS)
    for i, feature in enumerate(expected):
        card = shown.nth(i)
        flagged = card.locator(".open.soon").count() == 1
        assert flagged == feature["properties"]["closes_soon"], feature["id"]
        if flagged:
            time = feature["properties"]["closes_at"][11:16]
            assert f"即将关门（{time}）" in card.inner_text()
    assert visit.errors == []
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


#: Everything a resident taps on the phone: at least 44 x 44 CSS px (WCAG 2.5.5).
TARGETS = [
    "#lang",
    "#q",
    "form button",
    "#results .actions a",
    "#results .actions button.route",
    "#results details.week summary",
    ".leaflet-control-zoom a",
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


def test_touch_targets_and_the_focus_ring(locator):
    page = locator.page
    _search(page, "水秀社区")
    for selector in TARGETS:
        boxes = page.eval_on_selector_all(
            selector,
            "els => els.filter(e => e.offsetParent !== null).map(e => {"
            " const r = e.getBoundingClientRect(); return [r.width, r.height]; })",
        )
        assert boxes, selector
        small = [box for box in boxes if min(box) < 44 - 0.5]
        assert not small, (selector, small)
    page.focus("#lang")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # a keyboard focus, so :focus-visible applies
    color = page.eval_on_selector("#lang", "e => getComputedStyle(e).outlineColor")
    rgb = tuple(int(v) for v in color[color.index("(") + 1 : color.index(")")].split(",")[:3])
    for neighbour in ((255, 255, 255), (250, 250, 250)):  # the page and its background
        assert _contrast(rgb, neighbour) >= 3, (color, neighbour)
    wraps = page.eval_on_selector(
        "#lang", "e => e.getClientRects().length > 1 || e.scrollHeight > e.clientHeight + 1"
    )
    assert not wraps


def test_suggestions_are_a_combobox_the_arrow_keys_walk(locator, client):
    page = locator.page
    page.fill("#q", "shuixui")  # a typo of shuixiu (水秀)
    page.wait_for_selector("#places [role=option]")
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
