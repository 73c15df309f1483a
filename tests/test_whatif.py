"""The fast what-if (walks kept from start-up, the change merged in) gives the reference's
answer (every walk done again), for sites added, centres closed and both."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest

from geo_service.analysis.circles import facility_circles
from geo_service.analysis.coverage import access_points
from geo_service.analysis.facility_sets import facility_set, life_circle_requirements
from geo_service.analysis.scenario import scenario_coverage
from geo_service.analysis.whatif import life_circle_facilities, what_if
from geo_service.api.app import create_app
from geo_service.crs import to_metric
from geo_service.settings import Settings
from tests.conftest import STORE_KINDS
from tests.support import InProcessClient


@pytest.fixture(scope="module", params=STORE_KINDS)
def app(request, tmp_path_factory, demo_store, seeded_derived):
    folder = tmp_path_factory.mktemp("whatif")
    settings = Settings(
        derived_dir=seeded_derived(folder / "derived"),
        state_dir=folder / "state",
        store=demo_store(request.param),
    )
    return create_app(settings)


@pytest.fixture(scope="module")
def frames(app):
    """The reference's inputs: demand, gates and headline centres (metric CRS)."""
    context, store = app.state.coverage, app.state.store
    config = context.profile.analysis
    crs = context.graph.crs
    headline = next(s for s in config.facility_sets if s.key == config.headline_set)
    centres = facility_set(headline).select(store.query(headline.layer))
    layers = {r.facilities.layer for r in life_circle_requirements(config)}
    metric = {name: to_metric(store.query(name), crs) for name in layers}
    return {
        "demand": to_metric(store.query(config.demand_layer), crs),
        "gates": to_metric(store.query(config.gates_layer), crs),
        "centres": to_metric(centres, crs),
        "types": life_circle_facilities(metric, config, crs),
    }


def _reference(app, frames, added, removed):
    context = app.state.coverage
    config = context.profile.analysis
    return scenario_coverage(
        context.graph,
        frames["demand"],
        frames["gates"],
        frames["centres"],
        added,
        removed,
        context.params,
        gate_key=config.gate_key,
        population=config.population,
        area_keys=tuple(a.key for a in config.areas),
        types=frames["types"],
    )


def _sites(app, frames, kind: str) -> gpd.GeoDataFrame:
    """Proposed sites: a point in the largest gap compound, a polygon (a park) over the
    second largest, or both."""
    crs = app.state.coverage.graph.crs
    gaps = to_metric(app.state.store.query("coverage_gaps"), crs).sort_values("rank")
    inside_gap = gaps.geometry.iloc[0].representative_point()
    park = gaps.geometry.iloc[1].buffer(-5)
    shapes = {"none": [], "point": [inside_gap], "polygon": [park], "both": [inside_gap, park]}
    chosen = shapes[kind]
    # the point: a community centre with elderly care and health; the park: nothing said
    offered = [("community", "elderly_care;health"), (None, "")][: len(chosen)]
    return gpd.GeoDataFrame(
        {
            "id": [f"proposed-{k + 1}" for k in range(len(chosen))],
            "level": [level for level, _ in offered],
            "services": [services for _, services in offered],
        },
        geometry=chosen,
        crs=crs,
    )


def _closures(frames, kind: str) -> list[str]:
    ids = frames["centres"]["id"].tolist()
    return {"none": [], "one": ids[:1], "ten": ids[3:13], "all": ids}[kind]


@pytest.mark.parametrize(
    "add, close",
    [
        ("point", "none"),
        ("polygon", "none"),
        ("both", "none"),
        ("none", "one"),
        ("none", "ten"),
        ("point", "ten"),
        ("both", "all"),
    ],
)
def test_fast_what_if_equals_the_reference(app, frames, add, close):
    added, removed = _sites(app, frames, add), _closures(frames, close)
    expected = _reference(app, frames, added, removed)
    assert what_if(app.state.coverage.whatif, added, removed) == expected
    if add != "none":
        assert expected["gain"]["compounds"] > 0
    if close != "none":
        assert expected["loss"]["compounds"] > 0


def test_closing_every_centre_leaves_nobody_covered(app, frames):
    answer = what_if(
        app.state.coverage.whatif, _sites(app, frames, "none"), _closures(frames, "all")
    )
    district = answer["after"]["district"]
    assert district["residents_15"] == 0 and district["share_15"] == 0.0
    published = app.state.store.query("compound_coverage")
    assert answer["loss"]["compounds"] == int((published["centre_m"] <= 1000).sum())


def test_the_api_answers_with_area_changes(app, frames):
    """Each area whose covered residents change is listed with its gain and loss, and the
    per-area figures add up to the district's."""
    api = InProcessClient(app)
    removed = _closures(frames, "ten")
    body = api.post("/coverage/scenario", json={"remove": removed}).json()
    communities = [a for a in body["areas"] if a["level"] == "community_id"]
    assert communities and all(a["lost_residents"] > 0 for a in communities)
    assert sum(a["lost_residents"] for a in communities) == body["loss"]["residents"]
    subdistricts = [a for a in body["areas"] if a["level"] == "subdistrict_id"]
    assert sum(a["lost_residents"] for a in subdistricts) == body["loss"]["residents"]
    assert body["criterion"]["criterion"] == "distance"


def test_a_proposed_centre_serves_the_types_it_offers(app, frames):
    """In the largest gap: a community centre with elderly care and health raises those
    types' shares, not the others'; the same site offering nothing changes no type."""
    added = _sites(app, frames, "point")
    answer = what_if(app.state.coverage.whatif, added, [])
    changed = {t["type"] for t in answer["types"] if t["share_after"] != t["share_before"]}
    assert changed == {"svc_elderly_care", "svc_health"}
    for t in answer["types"]:
        assert t["share_after"] >= t["share_before"]
        assert t["areas_lacking_after"] <= t["areas_lacking_before"]
    silent = what_if(app.state.coverage.whatif, added.assign(services=""), [])
    assert all(t["share_after"] == t["share_before"] for t in silent["types"])
    # at sub-district level it is no community centre: the 5-minute types ask for one
    upper = what_if(app.state.coverage.whatif, added.assign(level="subdistrict"), [])
    assert all(t["share_after"] == t["share_before"] for t in upper["types"])


def test_the_api_answer_from_a_compute_worker_equals_the_answer_in_process(app, frames):
    """The what-if runs in a worker process forked from the app (compute_workers=1, the
    default); its answer is the one computed here, in the test's own process, and a
    facility's service circles are the polygons computed here."""
    assert app.state.settings.compute_workers == 1
    api = InProcessClient(app)
    removed = _closures(frames, "ten")
    body = api.post("/coverage/scenario", json={"remove": removed}).json()
    expected = what_if(app.state.coverage.whatif, _sites(app, frames, "none"), removed)
    assert body == json.loads(json.dumps(expected))
    centre = frames["centres"].iloc[0]
    circles = api.get(f"/coverage/circles/service_centres/{centre['id']}").json()
    context = app.state.coverage
    points = access_points(frames["centres"].iloc[[0]], "id").geometry.to_numpy()
    here = gpd.GeoSeries(
        facility_circles(context.graph, points, context.params), crs=context.graph.crs
    )
    served = gpd.GeoDataFrame.from_features(circles["features"], crs=4326).to_crs(context.graph.crs)
    assert served["minutes"].tolist() == [c.minutes for c in context.params.circles]
    for mine, theirs in zip(here, served.geometry, strict=True):
        assert mine.symmetric_difference(theirs).area < 1e-3 * mine.area  # coordinates rounded
