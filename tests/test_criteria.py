"""Every figure states its criterion, and the same walks give the figures under another
one: walking time instead of distance, another speed, the 15-minute circle at 800 m,
another facility set; the sensitivity table puts them side by side."""

from __future__ import annotations

import numpy as np
import pytest

from geo_service.api.app import create_app
from geo_service.coverage_params import CoverageParams, circles_for
from geo_service.errors import InvalidParameter
from geo_service.settings import Settings
from tests.conftest import STORE_KINDS
from tests.support import InProcessClient


@pytest.fixture(scope="module", params=STORE_KINDS)
def api(request, tmp_path_factory, demo_store, seeded_derived):
    derived = seeded_derived(tmp_path_factory.mktemp("criteria") / "derived")
    settings = Settings(derived_dir=derived, store=demo_store(request.param))
    return InProcessClient(create_app(settings))


@pytest.fixture(scope="module")
def compounds(api):
    body = api.get("/collections/compound_coverage/items", params={"limit": 1000}).json()
    return [f["properties"] for f in body["features"]]


def _share(compounds, key: str, limit_m: float) -> float:
    people = np.array([c["population"] for c in compounds], dtype=float)
    metres = np.array([np.inf if c[f"{key}_m"] is None else c[f"{key}_m"] for c in compounds])
    return float(people[metres <= limit_m].sum() / people.sum())


def test_the_published_summary_states_its_criterion(api):
    body = api.get("/coverage/summary").json()
    criterion = body["criterion"]
    assert criterion["criterion"] == "distance" and criterion["facilities"] == "centre"
    assert criterion["circles_m"] == {"5": 300.0, "10": 500.0, "15": 1000.0}
    assert "GB 50180-2018" in criterion["text_en"] and "300 m" in criterion["text_en"]
    assert "1000 m" in body["gaps"]["rule_en"]


def test_figures_under_walking_time(api, compounds):
    body = api.get("/coverage/summary", params={"criterion": "time", "speed_mps": 0.9}).json()
    circles = body["criterion"]["circles_m"]
    assert circles == {"5": 270.0, "10": 540.0, "15": 810.0}  # minutes × 60 × 0.9 m/s
    for minutes, metres in circles.items():
        share = body["district"][f"share_{minutes}"]
        assert share == pytest.approx(_share(compounds, "centre", metres), abs=1e-3)


def test_another_15_minute_circle_and_facility_set(api, compounds):
    body = api.get(
        "/coverage/summary", params={"circle_15_m": 800, "facilities": "centre_community"}
    ).json()
    assert body["criterion"]["facilities_title"]["en"] == "Community service centre"
    share = body["district"]["share_15"]
    assert share == pytest.approx(_share(compounds, "centre_community", 800), abs=1e-3)
    by_area = api.get("/coverage/summary", params={"by": "subdistrict_id"}).json()
    published = api.get("/coverage/summary").json()
    assert by_area["areas"] == published["subdistricts"]
    assert by_area["district"] == published["district"]


def test_sensitivity_table(api):
    rows = {r["variant"]: r for r in api.get("/coverage/sensitivity").json()["variants"]}
    published = api.get("/coverage/summary").json()["district"]
    assert rows["headline"]["share_15"] == published["share_15"]
    assert rows["circle_15_800m"]["share_15"] <= published["share_15"]
    assert rows["time_0.9"]["share_15"] <= rows["headline"]["share_15"]
    assert set(rows) >= {"set_centre_community", "set_centre_district", "set_park"}
    assert rows["set_centre_district"]["share_15"] < published["share_15"]


@pytest.mark.parametrize(
    "params",
    [
        {"criterion": "walking"},
        {"speed_mps": 0},
        {"circle_15_m": 400},
        {"criterion": "time", "circle_15_m": 900},
        {"facilities": "nope"},
        {"by": "nope"},
    ],
)
def test_bad_criteria_are_400(api, params):
    response = api.get("/coverage/summary", params=params)
    assert response.status_code == 400, response.text


def test_varied_params():
    params = CoverageParams()
    assert params.varied(criterion="time").circles == circles_for("time", 1000 / 900)
    back = params.varied(criterion="time").varied(criterion="distance")
    assert [c.distance_m for c in back.circles] == [300.0, 500.0, 1000.0]
    with pytest.raises(InvalidParameter):
        params.varied(circle_15_m=450)


def test_the_coverage_page_answers_a_planner(api):
    page = api.get("/coverage/summary", params={"f": "html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    published = api.get("/coverage/summary").json()
    assert published["criterion"]["rule_en"] in text.replace("&#x27;", "'")
    # Areas by name, the least covered first, with their share as a percentage.
    names = {
        f["properties"]["id"]: f["properties"]["name_zh"]
        for f in api.get("/collections/subdistricts/items").json()["features"]
    }
    ranked = sorted(published["subdistricts"], key=lambda r: r["share_15"])
    positions = [text.index(names[r["group"]]) for r in ranked]
    assert positions == sorted(positions)
    assert f"{100 * ranked[0]['share_15']:.1f}%" in text
    gaps = published["gaps"]
    assert f"{gaps['compounds']:,} compounds, {gaps['residents']:,} residents" in text
    assert "15分钟生活圈取800米" in text  # the sensitivity table


def _site(lon: float, lat: float) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "NEW-1",
                "properties": {},
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            }
        ],
    }


def test_what_if_names_the_compounds_gained_and_lost(api, compounds):
    gaps = api.get("/collections/coverage_gaps/items", params={"sortby": "rank"}).json()
    top = gaps["features"][0]
    ring = np.array(top["geometry"]["coordinates"][0])
    lon, lat = ring.mean(axis=0)  # inside the (convex) gap compound
    added = api.post("/coverage/scenario", json={"add": _site(lon, lat), "remove": []}).json()
    assert top["properties"]["id"] in added["gain"]["ids"]
    by_id = {c["id"]: c for c in compounds}
    assert added["gain"]["residents"] == sum(by_id[i]["population"] for i in added["gain"]["ids"])
    assert added["loss"] == {"compounds": 0, "residents": 0, "ids": []}
    # Closing a centre loses exactly the compounds it alone brought within 1000 m.
    centre = max(
        {c["centre_id"] for c in compounds if c["centre_id"]},
        key=lambda i: sum(c["population"] for c in compounds if c["centre_id"] == i),
    )
    closed = api.post("/coverage/scenario", json={"remove": [centre]}).json()
    assert closed["loss"]["compounds"] > 0 and closed["gain"]["compounds"] == 0
    assert all(by_id[i]["centre_id"] == centre for i in closed["loss"]["ids"])
    assert all(by_id[i]["centre_m"] <= 1000 for i in closed["loss"]["ids"])
    assert closed["after"]["district"]["share_15"] < closed["before"]["district"]["share_15"]
