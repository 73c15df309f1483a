"""``/planning``: new sites (maximal and set covering) and capacity (E2SFCA) through the
API, in process — the answers are the analysis functions' on the app's own data, the
sites open as a what-if that covers what the answer says, and bad requests get a 4xx."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from geo_service.analysis.capacity import Decay, centre_capacity_access
from geo_service.analysis.siting import maximal_covering, set_covering
from geo_service.analysis.siting_inputs import candidate_nodes, siting_inputs
from geo_service.api.app import create_app
from geo_service.crs import to_metric
from geo_service.settings import Settings
from tests.support import InProcessClient


@pytest.fixture(scope="module")
def app(tmp_path_factory, seeded_derived):
    folder = tmp_path_factory.mktemp("planning")
    derived = seeded_derived(folder / "derived")
    return create_app(Settings(derived_dir=derived, state_dir=folder / "state"))


@pytest.fixture(scope="module")
def api(app):
    return InProcessClient(app)


@pytest.fixture(scope="module")
def district_m(app):
    context = app.state.coverage
    return to_metric(app.state.store.query("district"), context.graph.crs).union_all()


def test_mclp_answer_is_the_solvers_on_the_apps_data(app, api, district_m):
    body = {"method": "mclp", "sites": 8, "minutes": 10, "spacing_m": 300}
    response = api.post("/planning/sites", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    context = app.state.coverage
    baseline = context.whatif
    xy = candidate_nodes(baseline.graph, 300.0, district_m)
    problem = siting_inputs(baseline, baseline.centres, xy, context.params.circle_m(10))
    expected = maximal_covering(problem.reach, problem.to_cover, 8)
    assert answer["status"] == "optimal" and answer["gap"] == 0.0
    assert answer["criterion"]["distance_m"] == context.params.circle_m(10)
    assert answer["criterion"]["minutes"] == 10
    assert answer["criterion"]["facilities"]["key"] == "centres"
    assert answer["candidates"] == {
        "count": len(xy),
        "on_network": int(problem.placeable.sum()),
        "source": "network nodes every 300 m",
    }
    assert answer["residents"]["newly_covered"] == pytest.approx(expected.covered)
    assert answer["residents"]["covered_today"] == pytest.approx(
        problem.population[problem.covered_today].sum()
    )
    sites = answer["sites"]["features"]
    assert [s["properties"]["candidate"] for s in sites] == expected.chosen.tolist()
    to_lonlat = Transformer.from_crs(baseline.graph.crs, 4326, always_xy=True)
    for site in sites:
        lon, lat = to_lonlat.transform(*xy[site["properties"]["candidate"]])
        assert site["geometry"]["coordinates"] == pytest.approx([lon, lat], abs=1e-7)


def test_the_answer_opens_as_a_what_if_that_covers_what_it_says(api):
    answer = api.post("/planning/sites", json={"method": "mclp", "sites": 5, "minutes": 15}).json()
    outcome = api.post("/coverage/scenario", json=answer["scenario"])
    assert outcome.status_code == 200, outcome.text
    figures = outcome.json()
    gained = (
        figures["after"]["district"]["residents_15"] - figures["before"]["district"]["residents_15"]
    )
    assert gained == pytest.approx(answer["residents"]["newly_covered"])
    assert figures["before"]["district"]["residents_15"] == pytest.approx(
        answer["residents"]["covered_today"]
    )


def test_lscp_covers_everyone_it_can_with_the_fewest_sites(app, api, district_m):
    answer = api.post(
        "/planning/sites", json={"method": "lscp", "minutes": 15, "spacing_m": 400}
    ).json()
    context = app.state.coverage
    baseline = context.whatif
    xy = candidate_nodes(baseline.graph, 400.0, district_m)
    problem = siting_inputs(baseline, baseline.centres, xy, context.params.circle_m(15))
    expected = set_covering(problem.reach, ~problem.covered_today)
    assert len(answer["sites"]["features"]) == len(expected.chosen)
    residents = answer["residents"]
    assert residents["covered_today"] + residents["newly_covered"] + residents[
        "beyond_every_candidate"
    ] == pytest.approx(residents["total"])
    assert answer["compounds"]["beyond_every_candidate"] == len(expected.uncoverable)


def test_the_circle_under_the_time_criterion(app, api):
    params = app.state.coverage.params.varied(criterion="time", speed_mps=1.0)
    answer = api.post(
        "/planning/sites",
        json={"sites": 3, "minutes": 10, "criterion": "time", "speed_mps": 1.0, "greedy": True},
    ).json()
    assert answer["criterion"]["distance_m"] == params.circle_m(10) == 600.0
    assert answer["criterion"]["criterion"] == "time"
    assert answer["criterion"]["text_en"] == params.describe()["text_en"]


def test_greedy_preview_and_given_candidates(api):
    first = api.post("/planning/sites", json={"sites": 3, "minutes": 10}).json()
    points = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": site["geometry"], "properties": {}}
            for site in first["sites"]["features"]
        ],
    }
    again = api.post(
        "/planning/sites",
        json={"sites": 3, "minutes": 10, "candidates": points, "greedy": True},
    ).json()
    assert again["status"] == "greedy" and again["candidates"]["source"] == "given points"
    assert again["candidates"]["count"] == 3
    assert again["residents"]["newly_covered"] == pytest.approx(first["residents"]["newly_covered"])


def test_a_candidate_layer_and_a_life_circle_type(app, api):
    types = [requirement for requirement, _ in app.state.coverage.whatif.types]
    kind = types[0]
    answer = api.post(
        "/planning/sites",
        json={"sites": 2, "facilities": kind.key, "candidate_layer": "pocket_parks"},
    ).json()
    assert answer["criterion"]["facilities"]["key"] == kind.key
    assert answer["criterion"]["minutes"] == kind.circle
    assert answer["candidates"] == {
        "count": len(app.state.store.query("pocket_parks")),
        "on_network": answer["candidates"]["on_network"],
        "source": "the features of pocket_parks",
    }


def test_candidates_far_from_the_network_place_nothing(api):
    nowhere = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]}}],
    }
    answer = api.post("/planning/sites", json={"candidates": nowhere}).json()
    assert answer["candidates"] == {"count": 1, "on_network": 0, "source": "given points"}
    assert answer["sites"]["features"] == [] and answer["residents"]["newly_covered"] == 0
    assert answer["bound"] == 0.0


def test_sites_download_as_a_geojson_layer(api):
    response = api.post("/planning/sites", params={"f": "geojson"}, json={"sites": 2})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    assert 'filename="sites-mclp-15min.geojson"' in response.headers["content-disposition"]
    body = response.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 2


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"method": "pmedian"}, "method"),
        ({"sites": 0}, "sites"),
        ({"sites": 10_000}, "sites"),
        ({"minutes": 7}, "minutes"),
        ({"facilities": "nope"}, "facilities must be one of"),
        ({"spacing_m": 1}, "spacing_m"),
        ({"time_limit_s": 0}, "time_limit_s"),
        ({"criterion": "crow"}, "criterion"),
        ({"criterion": "time", "speed_mps": 0}, "speed_mps"),
        ({"candidate_layer": "nope"}, "no layer 'nope'"),
        ({"candidate_layer": "central_households"}, "no layer 'central_households'"),
        ({"surprise": 1}, "surprise"),
        (
            {
                "candidates": {
                    "type": "FeatureCollection",
                    "features": [
                        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [999, 0]}}
                    ],
                }
            },
            "lon/lat",
        ),
        ({"candidates": {"type": "FeatureCollection", "features": []}}, "candidates"),
        (
            {
                "candidates": {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "geometry": {"type": "Point", "coordinates": [0, False]},
                        }
                    ],
                }
            },
            "coordinates",
        ),
        ({"greedy": 0}, "greedy"),
        ({"sites": 2.5}, "sites"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(api, body, fragment):
    response = api.post("/planning/sites", json=body)
    assert 400 <= response.status_code < 500, response.text
    assert fragment in response.text


def test_capacity_scores_are_e2sfca_of_the_centres(app, api):
    response = api.get("/planning/capacity")
    assert response.status_code == 200, response.text
    answer = response.json()
    context = app.state.coverage
    capacity = app.state.store.query("service_centres").set_index("id")["capacity"].astype(float)
    decay = Decay.steps(tuple(c.distance_m for c in context.params.circles))
    ids, _, result = centre_capacity_access(context.whatif, capacity, decay)
    assert answer["decay"] == {
        "kind": "step",
        "limits_m": list(decay.limits_m),
        "weights": [1.0, 0.68, 0.22],
    }
    scores = {c["id"]: c["score"] for c in answer["compounds"]}
    units = context.whatif.units
    np.testing.assert_allclose([scores[i] for i in units.ids], result.score * 1000)
    communities = answer["areas"]["community_id"]
    assert len(communities) == len(set(units.areas["community_id"][1]))
    centre = answer["centres"][0]
    assert centre["id"] == ids[0] and centre["capacity"] == capacity[ids[0]]
    gaussian = api.get("/planning/capacity", params={"decay": "gaussian"}).json()
    assert gaussian["decay"]["kind"] == "gaussian"
    assert api.get("/planning/capacity", params={"decay": "linear"}).status_code == 400
