"""The life-circle table: each type of service within its own circle, from the centre
levels that provide it there (a higher level does not stand in for a lower one), the
clause stated, and "lacks" derived from it."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pydantic import ValidationError

from geo_service.analysis.coverage import compound_access
from geo_service.analysis.facility_sets import life_circle_requirements
from geo_service.analysis.network import build_walk_graph
from geo_service.analysis.statistics import life_circle_check
from geo_service.api.app import create_app
from geo_service.coverage_params import CoverageParams
from geo_service.data.analysis_config import AnalysisConfig
from geo_service.settings import Settings
from tests.conftest import STORE_KINDS
from tests.support import InProcessClient

CRS = "EPSG:4549"
X0, Y0 = 500_000.0, 3_500_000.0
BASIS = {"zh": "依据", "en": "basis"}


def _config(**row) -> AnalysisConfig:
    return AnalysisConfig(
        levels=[{"key": k, "title": {"en": k}} for k in ("community", "subdistrict")],
        services=[{"key": "elderly_care", "title": {"zh": "养老服务", "en": "Elderly care"}}],
        life_circle_types=[{"type": "svc_elderly_care", "circle": 5, "basis": BASIS, **row}],
    )


def test_a_higher_level_does_not_stand_in_for_a_lower_one():
    """A sub-district centre 100 m from compound K0 offers elderly care, the community
    centre is 900 m away: at the 5-minute circle (300 m) from community centres K0 is not
    reached; with any level counting, it is."""
    roads = gpd.GeoDataFrame(geometry=[shapely.LineString([(X0, Y0), (X0 + 2000, Y0)])], crs=CRS)
    graph = build_walk_graph(roads, CRS)
    centres = gpd.GeoDataFrame(
        {
            "id": ["S", "C"],
            "level": ["subdistrict", "community"],
            "services": ["elderly_care", "elderly_care"],
        },
        geometry=[shapely.Point(X0, Y0), shapely.Point(X0 + 1000, Y0)],
        crs=CRS,
    )
    gates = shapely.points([(X0 + 100, Y0), (X0 + 900, Y0)])
    base = pd.DataFrame({"id": ["K0", "K1"], "population": [300, 100], "community_id": "A"})
    params = CoverageParams()
    shares = {}
    for levels in ((), ("community",)):
        [requirement] = life_circle_requirements(_config(centre_levels=levels))
        chosen = requirement.facilities.select(centres)
        assert chosen["id"].tolist() == (["C"] if levels else ["S", "C"])
        entries = gpd.GeoDataFrame({"facility_id": chosen["id"]}, geometry=chosen.geometry, crs=CRS)
        table = compound_access(
            graph, gates, np.arange(2), 2, {requirement.key: entries}, params, base=base
        )
        check = life_circle_check(
            table, [(requirement.key, params.circle_m(requirement.circle))], params,
            by="community_id",
        )  # fmt: skip
        shares[levels] = check.loc["A", f"reach_{requirement.key}"]
        assert check.loc["A", "lacks"] == ("svc_elderly_care" if levels else "")
    assert shares == {(): 1.0, ("community",): 0.25}


@pytest.mark.parametrize(
    "row, message",
    [
        ({"type": "svc_nothing"}, "is not svc_<service> or a facility set"),
        ({"type": "park", "centre_levels": ["community"]}, "centre_levels are for services"),
        ({"centre_levels": ["province"]}, "unknown levels"),
        ({"circle": 20}, "Input should be 5, 10 or 15"),
        ({"basis": {}}, "give at least one of zh, en"),
    ],
)
def test_the_table_is_checked(row, message):
    with pytest.raises(ValidationError, match=message):
        _config(**row)


@pytest.fixture(scope="module", params=STORE_KINDS)
def api(request, tmp_path_factory, demo_store, seeded_derived):
    folder = tmp_path_factory.mktemp("life_circle")
    derived = seeded_derived(folder / "derived")
    settings = Settings(derived_dir=derived, store=demo_store(request.param))
    return InProcessClient(create_app(settings))


def test_the_api_states_each_type_with_its_circle_and_clause(api):
    table = api.get("/coverage/life-circle").json()
    communities = api.get("/collections/community_coverage/items", params={"limit": 1000}).json()[
        "features"
    ]
    circles = {5: 300.0, 10: 500.0, 15: 1000.0}
    assert "50%" in table["lacks"]["rule_en"] and table["area_level"] == "community_id"
    for row in table["types"]:
        assert row["distance_m"] == circles[row["circle_minutes"]]
        assert row["basis"]["zh"] and row["basis"]["en"]
        # the areas lacking it are the published communities whose reach is under 50%
        lacking = [c for c in communities if c["properties"][f"reach_{row['type']}"] < 0.5]
        assert row["areas_lacking"] == len(lacking) and row["areas"] == len(communities)
        named = [c for c in communities if row["type"] in (c["properties"]["lacks"] or "")]
        assert len(named) == len(lacking)
    kinds = {row["type"]: row for row in table["types"]}
    assert kinds["svc_elderly_care"]["circle_minutes"] == 5
    assert kinds["svc_elderly_care"]["centre_levels"] == ["community"]
    assert "GB 50180-2018" in kinds["svc_elderly_care"]["basis"]["en"]
    assert kinds["svc_legal_aid"]["circle_minutes"] == 15


def test_under_walking_time_each_circle_is_its_minutes_at_the_speed(api):
    table = api.get("/coverage/life-circle", params={"criterion": "time"}).json()
    speed = table["criterion"]["walking_speed_mps"]
    for row in table["types"]:
        assert row["distance_m"] == pytest.approx(row["circle_minutes"] * 60 * speed)
    published = {r["type"]: r for r in api.get("/coverage/life-circle").json()["types"]}
    # 5 minutes at 1.11 m/s is 333 m, more than 300 m: no type is reached by fewer
    for row in table["types"]:
        if row["circle_minutes"] == 5:
            assert row["share"] >= published[row["type"]]["share"]


def test_the_summary_page_shows_the_table(api):
    page = api.get("/coverage/summary", params={"f": "html"}).text
    assert "生活圈配置 Life-circle table" in page
    assert "老年人日间照料中心" in page and "5分钟 5 min (300 m)" in page
