"""The locator API: nearest centres on foot, filters, routes, phone-map links, the centre
card's address, phone and week of hours."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import holidays
import numpy as np
import opening_hours
import pytest
import shapely
from pyproj import Geod, Transformer

from geo_service.analysis.map_links import spot, walking_links
from geo_service.analysis.network import build_walk_graph
from geo_service.analysis.routing import NearestWalks
from geo_service.datums import bd09_to_wgs84, gcj02_to_wgs84, wgs84_to_gcj02
from tests.reference import walking_distances
from tests.support import CATALOG_DIR, DATA_DIR, InProcessClient

METRIC = "EPSG:4549"
#: Opening hours of a centre that closes on public holidays.
HOLIDAY_HOURS = "Mo-Su 08:30-17:30; PH off"
ORIGIN = (120.262, 31.560)


def test_nearest_centres_in_walking_order_match_the_reference(api, demo):
    body = api.get("/locator/nearest", params={"lon": ORIGIN[0], "lat": ORIGIN[1], "n": 8}).json()
    distances = [f["properties"]["distance_m"] for f in body["features"]]
    assert len(distances) == 8 and distances == sorted(distances)
    centres = demo["service_centres"].to_crs(METRIC).set_index("id")
    to_metric = Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)
    origin_xy = np.array([to_metric.transform(*ORIGIN)])
    ids = [f["id"] for f in body["features"]]
    targets = shapely.get_coordinates(centres.geometry[ids].to_numpy())
    expected = [
        walking_distances(
            demo["roads"].to_crs(METRIC).geometry, origin_xy, targets[[k]], max_snap_m=250
        )[0]
        for k in range(len(ids))
    ]
    np.testing.assert_allclose(distances, expected, atol=0.06)  # the API rounds to 0.1 m
    every = walking_distances(
        demo["roads"].to_crs(METRIC).geometry,
        origin_xy,
        shapely.get_coordinates(centres.geometry.to_numpy()),
        max_snap_m=250,
    )
    assert distances[0] == pytest.approx(np.min(every), abs=0.06)
    first = body["features"][0]["properties"]
    assert first["minutes"] == pytest.approx(first["distance_m"] / (1000 / 900) / 60, abs=0.06)


def test_route_runs_from_the_origin_to_the_centre(api):
    feature = api.get(
        "/locator/nearest", params={"lon": ORIGIN[0], "lat": ORIGIN[1], "n": 1}
    ).json()["features"][0]
    route = feature["properties"]["route"]["coordinates"]
    assert route[0] == pytest.approx(list(ORIGIN), abs=1e-7)
    assert route[-1] == pytest.approx(feature["geometry"]["coordinates"], abs=1e-7)
    lons, lats = zip(*route, strict=True)
    length = Geod(ellps="GRS80").line_length(lons, lats)
    assert length == pytest.approx(feature["properties"]["distance_m"], rel=0.005)


def test_filters_by_service_and_opening_hours(api):
    saturday_evening = "2026-11-28T19:00"
    body = api.get(
        "/locator/nearest",
        params={
            "lon": ORIGIN[0],
            "lat": ORIGIN[1],
            "n": 10,
            "service": "legal_aid",
            "open_now": "true",
            "at": saturday_evening,
        },
    ).json()
    assert body["features"]
    for feature in body["features"]:
        assert "legal_aid" in feature["properties"]["services"]
        assert feature["properties"]["open_now"] is True
    closed_everywhere = api.get(
        "/locator/nearest",
        params={"lon": ORIGIN[0], "lat": ORIGIN[1], "open_now": "true", "at": "2026-11-29T03:00"},
    )
    assert closed_everywhere.json()["features"] == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lon": 121.47, "lat": 31.23}, "outside the district"),
        ({"lon": "NaN", "lat": 31.5}, "lon"),
        ({"lon": 120.2, "lat": 95}, "lat"),
        ({"lon": 120.2, "lat": 31.5, "n": 0}, "n"),
        ({"lon": 120.2, "lat": 31.5, "n": 1000}, "n"),
        ({"lon": 120.2, "lat": 31.5, "service": "karaoke"}, "service must be one of"),
        ({"lon": 120.2, "lat": 31.5, "at": "yesterday"}, "ISO 8601"),
        ({"lon": 120.2}, "lat"),
    ],
)
def test_bad_locator_requests(api, params, message):
    response = api.get("/locator/nearest", params=params)
    assert response.status_code == 400
    assert message in response.json()["description"]


def _point(text: str, *, lat_first: bool) -> tuple[float, float]:
    first, second = (float(v) for v in text.split(",")[:2])
    return (second, first) if lat_first else (first, second)


def _metres(a, b) -> float:
    return Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2]


def test_map_app_links_walk_from_the_point_to_the_centre(api):
    """Each link parsed back, in its app's datum and axis order, lands on the resident's
    point and on the centre (within 0.5 m), asking for a walk."""
    feature = api.get(
        "/locator/nearest", params={"lon": ORIGIN[0], "lat": ORIGIN[1], "n": 1}
    ).json()["features"][0]
    centre = tuple(feature["geometry"]["coordinates"])
    links = feature["properties"]["links"]
    assert list(links) == ["amap", "baidu", "tencent", "apple", "geo"]  # the profile's order
    parsed = {app: (urlsplit(url), parse_qs(urlsplit(url).query)) for app, url in links.items()}

    amap = parsed["amap"][1]
    assert parsed["amap"][0].path == "/navigation" and amap["mode"] == ["walk"]
    assert amap["callnative"] == ["1"] and amap["coordinate"] == ["gaode"]
    ends = {
        "amap": [gcj02_to_wgs84(*_point(amap[k][0], lat_first=False)) for k in ("from", "to")],
    }
    assert amap["to"][0].endswith(feature["properties"]["name_zh"])
    baidu = parsed["baidu"][1]
    assert baidu["mode"] == ["walking"] and baidu["coord_type"] == ["bd09ll"]
    ends["baidu"] = [
        bd09_to_wgs84(*_point(baidu[k][0].split("|")[0].removeprefix("latlng:"), lat_first=True))
        for k in ("origin", "destination")
    ]
    tencent = parsed["tencent"][1]
    assert tencent["type"] == ["walk"] and tencent["referer"]
    ends["tencent"] = [
        gcj02_to_wgs84(*_point(tencent[k][0], lat_first=True)) for k in ("fromcoord", "tocoord")
    ]
    apple = parsed["apple"][1]
    assert apple["dirflg"] == ["w"]
    ends["apple"] = [  # in mainland China Apple Maps draws GCJ-02
        gcj02_to_wgs84(*_point(apple[k][0], lat_first=True)) for k in ("saddr", "daddr")
    ]
    for app, (start, end) in ends.items():
        assert _metres(start, ORIGIN) < 0.5, app
        assert _metres(end, centre) < 0.5, app
    assert 200 < _metres(_point(amap["to"][0], lat_first=False), centre) < 800  # GCJ-02 moved
    geo = links["geo"]
    assert (
        geo.startswith("geo:")
        and _metres(_point(geo[4:].split("?")[0], lat_first=True), centre) < 0.5
    )


def test_links_outside_china_are_in_wgs84():
    origin, centre = (24.94, 60.17), (24.95, 60.18)  # Helsinki
    links = walking_links(
        spot(*origin, "My location"),
        spot(*centre, "Keskus"),
        ("google", "apple", "osm", "geo"),
        in_china=False,
    )
    google = parse_qs(urlsplit(links["google"]).query)
    assert google["travelmode"] == ["walking"]
    assert _point(google["origin"][0], lat_first=True) == pytest.approx(origin)
    assert _point(google["destination"][0], lat_first=True) == pytest.approx(centre)
    apple = parse_qs(urlsplit(links["apple"]).query)
    assert _point(apple["daddr"][0], lat_first=True) == pytest.approx(centre)  # no GCJ-02
    route = parse_qs(urlsplit(links["osm"]).query)["route"][0].split(";")
    assert [_point(p, lat_first=True) for p in route] == [
        pytest.approx(origin),
        pytest.approx(centre),
    ]


def test_gcj02_known_point():
    # The transform's published reference pair (WGS 84 → GCJ-02), Beijing.
    g_lon, g_lat = wgs84_to_gcj02(116.404, 39.915)
    assert (g_lon, g_lat) == pytest.approx((116.410244, 39.916403), abs=2e-5)


@pytest.mark.parametrize(
    "params",
    [
        {"lon": 120.30, "lat": 31.58, "n": 1},
        {"lon": 120.10, "lat": 31.45, "n": 6, "service": "legal_aid"},
        {"lon": 120.25, "lat": 31.59, "n": 10, "open_now": "true", "at": "2026-11-29T10:00"},
        {  # 11 centres offer legal aid and are open then: fewer than asked for
            "lon": 120.15,
            "lat": 31.55,
            "n": 20,
            "service": "legal_aid",
            "open_now": "true",
            "at": "2026-11-28T19:00",
        },
    ],
)
def test_nearest_are_the_nearest_of_every_candidate(api, demo, params):
    # Against walking distances to every centre from the networkx reference.
    body = api.get("/locator/nearest", params=params).json()
    got = [f["properties"]["distance_m"] for f in body["features"]]
    assert got == sorted(got)
    centres = demo["service_centres"]
    wanted = np.ones(len(centres), dtype=bool)
    if "service" in params:
        wanted &= [params["service"] in s.split(";") for s in centres["services"]]
    if "open_now" in params:
        at = datetime.fromisoformat(params["at"])
        wanted &= [opening_hours.OpeningHours(t).is_open(at) for t in centres["opening_hours"]]
    to_metric = Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)
    origin_xy = np.array([to_metric.transform(params["lon"], params["lat"])])
    every = walking_distances(
        demo["roads"].to_crs(METRIC).geometry,
        origin_xy,
        shapely.get_coordinates(centres.to_crs(METRIC).geometry.to_numpy()),
        max_snap_m=250,
    )
    expected = np.sort(every[wanted & np.isfinite(every)])[: params["n"]]
    assert len(got) == len(expected) > 0
    np.testing.assert_allclose(got, expected, atol=0.06)  # the API rounds to 0.1 m
    by_id = dict(zip(centres["id"], every, strict=True))
    np.testing.assert_allclose(got, [by_id[f["id"]] for f in body["features"]], atol=0.06)


@pytest.fixture(scope="module")
def nearest_walks(demo):
    graph = build_walk_graph(demo["roads"], METRIC)
    centres = demo["service_centres"].to_crs(METRIC).geometry.to_numpy()
    return NearestWalks(graph, centres, max_snap_m=250)


def test_bounded_search_finds_what_a_search_of_the_whole_network_finds(nearest_walks):
    graph = nearest_walks.graph
    rng = np.random.default_rng(5)
    nodes = graph.nodes[graph.edge_u[rng.choice(graph.main_edges, 25, replace=False)]]
    origins = shapely.points(nodes + rng.normal(0, 30, nodes.shape))
    few = np.arange(0, 86, 9)
    for origin in origins:
        for count, subset in ((1, None), (4, None), (12, None), (4, few), (15, few)):
            # radius_m=inf: one Dijkstra over the whole network
            whole = nearest_walks.walks(origin, count=count, subset=subset, radius_m=np.inf)
            assert len(whole) == min(count, 86 if subset is None else len(few))
            for radius_m in (None, 1.0, 100.0, 600.0, 1500.0):
                bounded = nearest_walks.walks(origin, count=count, subset=subset, radius_m=radius_m)
                assert [(w.facility, w.distance_m) for w in bounded] == [
                    (w.facility, w.distance_m) for w in whole
                ]
                for walk in bounded:
                    assert walk.route.length == pytest.approx(walk.distance_m, abs=1e-6)


def test_a_search_that_stops_short_is_widened_until_the_nearest_is_certain():
    # O-E runs east 1000 m; O-P-Q north. Within 350 m of the origin only F (on O-E,
    # 995 m along it) has a finite distance; G, behind P, is nearer (711 m) but beyond.
    x0, y0 = 500_000.0, 3_500_000.0
    roads = gpd.GeoDataFrame(
        geometry=[
            shapely.LineString([(x0, y0), (x0 + 1000, y0)]),
            shapely.LineString([(x0, y0), (x0, y0 + 400)]),
            shapely.LineString([(x0, y0 + 400), (x0, y0 + 1400)]),
        ],
        crs=METRIC,
    )
    facilities = shapely.points([(x0 + 990, y0 + 5), (x0 + 5, y0 + 700)])  # F, G
    finder = NearestWalks(build_walk_graph(roads, METRIC), facilities, max_snap_m=250)
    origin = shapely.Point(x0 + 3, y0 - 3)
    for radius_m in (None, 350.0, np.inf):
        walks = finder.walks(origin, count=1, radius_m=radius_m)
        assert [(w.facility, round(w.distance_m, 6)) for w in walks] == [(1, 711.0)]
        assert walks[0].route.length == pytest.approx(711.0)
        both = finder.walks(origin, count=3, radius_m=radius_m)
        assert [(w.facility, round(w.distance_m, 6)) for w in both] == [(1, 711.0), (0, 995.0)]


def demo_with_contacts(folder: Path) -> dict[str, dict]:
    """A copy of the demo's catalog and data in ``folder`` (``layers/``, ``data/``) where
    the first community centre has an address and a phone, the second an address only
    (the catalog declares both; the demo itself has neither: no invented addresses) and
    closes on public holidays (:data:`HOLIDAY_HOURS`). Returns them by centre id."""
    shutil.copytree(CATALOG_DIR, folder / "layers")
    shutil.copytree(DATA_DIR, folder / "data")
    path = folder / "data" / "service_centres.geojson"
    collection = json.loads(path.read_text(encoding="utf-8"))
    first, second = [
        f["properties"]["id"]
        for f in collection["features"]
        if f["properties"]["level"] == "community"
    ][:2]
    contacts = {
        first: {"address": "湖滨路 1 号（测试数据）", "phone": "0510 8501-2345"},
        second: {"address": "湖滨路 2 号（测试数据）", "phone": None},
    }
    hours = {second: HOLIDAY_HOURS}
    for feature in collection["features"]:
        blank = {"address": None, "phone": None}
        feature["properties"].update(contacts.get(feature["properties"]["id"], blank))
        if feature["properties"]["id"] in hours:
            feature["properties"]["opening_hours"] = hours[feature["properties"]["id"]]
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return contacts


@pytest.fixture(scope="module")
def with_contacts(tmp_path_factory):
    """The app over :func:`demo_with_contacts`, called in process, and the contacts."""
    from geo_service.api.app import create_app
    from geo_service.settings import Settings

    folder = tmp_path_factory.mktemp("contacts")
    contacts = demo_with_contacts(folder)
    app = create_app(
        Settings(
            store=f"file:{folder / 'data'}",
            catalog_dir=folder / "layers",
            state_dir=folder / "state",
            derived_dir=folder / "derived",
        )
    )
    yield InProcessClient(app), contacts
    app.state.refresh.close()


def library_week(text: str, first: date) -> list[dict]:
    """The week of ``text`` (without ``PH``) asked of the library day by day: each day's
    open intervals between its midnights, "24:00" for the midnight that ends it."""
    hours = opening_hours.OpeningHours(text)
    week = []
    for k in range(7):
        midnight = datetime.combine(first + timedelta(days=k), datetime.min.time())
        night = midnight + timedelta(days=1)
        week.append(
            {
                "date": midnight.date().isoformat(),
                "intervals": [
                    [start.strftime("%H:%M"), "24:00" if end == night else end.strftime("%H:%M")]
                    for start, end, state, _ in hours.intervals(midnight, night)
                    if state == opening_hours.State.OPEN
                ],
            }
        )
    return week


def holiday_week(first: date) -> list[dict]:
    """The week of :data:`HOLIDAY_HOURS` from the ``holidays`` library's Chinese calendar."""
    days = [first + timedelta(days=k) for k in range(7)]
    calendar = holidays.country_holidays("CN", years={d.year for d in days})
    return [
        {"date": d.isoformat(), "intervals": [] if d in calendar else [["08:30", "17:30"]]}
        for d in days
    ]


def test_centres_carry_their_address_phone_and_week(with_contacts, demo):
    api, contacts = with_contacts
    first, second = contacts
    centres = demo["service_centres"].set_index("id")
    at = "2026-09-29T10:00"  # a Tuesday; the week holds National Day (1 October)
    lon, lat = centres.geometry[first].x, centres.geometry[first].y
    body = api.get("/locator/nearest", params={"lon": lon, "lat": lat, "n": 8, "at": at}).json()
    features = body["features"]
    assert features[0]["id"] == first  # asked from its door
    assert {f["id"] for f in features} >= set(contacts), "both centres should be near"
    for feature in features:
        p = feature["properties"]
        given = contacts.get(feature["id"], {"address": None, "phone": None})
        assert (p["address"], p["phone"]) == (given["address"], given["phone"]), feature["id"]
        if feature["id"] == second:
            expected = holiday_week(date(2026, 9, 29))
        else:
            expected = library_week(centres.at[feature["id"], "opening_hours"], date(2026, 9, 29))
        assert p["week"] == expected, feature["id"]
        assert p["week"][0]["date"] == at[:10] and len(p["week"]) == 7
    assert any(not day["intervals"] for f in features for day in f["properties"]["week"])


def test_a_centre_closed_for_the_holiday_week_says_when_it_opens(with_contacts, demo):
    api, contacts = with_contacts
    second = list(contacts)[1]
    centres = demo["service_centres"].set_index("id")
    lon, lat = centres.geometry[second].x, centres.geometry[second].y
    at = "2026-10-02T10:00"  # National Day's holiday, a day the parser's calendar misses
    body = api.get("/locator/nearest", params={"lon": lon, "lat": lat, "n": 1, "at": at}).json()
    p = body["features"][0]["properties"]
    assert body["features"][0]["id"] == second
    week = holiday_week(date(2026, 10, 2))
    reopens = next(day for day in week if day["intervals"])
    assert p["open_now"] is False
    assert p["opens_at"] == f"{reopens['date']}T08:30"
    assert p["week"] == week and week[0]["intervals"] == []


def test_the_demo_has_no_addresses_or_phones(api, demo):
    assert not {"address", "phone"} & set(demo["service_centres"].columns)
    body = api.get("/locator/nearest", params={"lon": ORIGIN[0], "lat": ORIGIN[1], "n": 20}).json()
    assert all(f["properties"]["address"] is None for f in body["features"])
    assert all(f["properties"]["phone"] is None for f in body["features"])
    today = body["at"][:10]
    assert all(f["properties"]["week"][0]["date"] == today for f in body["features"])
