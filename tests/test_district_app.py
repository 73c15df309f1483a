"""A district's profile drives the service (in process: create_app + TestClient): time
zone, map links, offered CRSs, headline figures, the metric CRS check, optional and empty
layers."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from geo_service.api.app import create_app
from geo_service.errors import ProfileError, UnsuitableCRS
from geo_service.settings import Settings
from tests.support import ROOT, InProcessClient, make_district

#: A point inside the demo district, near its streets.
INSIDE = {"lon": 120.28, "lat": 31.55}


def client_for(folder: Path, **settings) -> InProcessClient:
    return InProcessClient(create_app(Settings(district_dir=folder, **settings)))


@pytest.fixture(scope="module")
def abroad(tmp_path_factory, seeded_derived) -> InProcessClient:
    """The demo data under a profile of a district outside China with no figures (its
    coverage is the demo's: the profile changes no input of it)."""
    folder = make_district(
        tmp_path_factory.mktemp("abroad"),
        country="FI",
        timezone="Europe/Helsinki",
        output_crs=["EPSG:4326"],
        figures=[],
        languages=["en", "zh"],
    )
    seeded_derived(folder / "cache" / "derived")  # the district's default derived folder
    return client_for(folder)


def test_opening_hours_are_judged_in_the_districts_time(abroad, api):
    at = "2026-12-01T12:00:00+00:00"
    here = abroad.get("/locator/nearest", params={**INSIDE, "at": at}).json()
    wuxi = api.get("/locator/nearest", params={**INSIDE, "at": at}).json()
    assert here["at"] == "2026-12-01T14:00"  # Helsinki is UTC+2 in December
    assert wuxi["at"] == "2026-12-01T20:00"  # Wuxi is UTC+8


def test_regional_links_only_inside_china(abroad, api):
    links = abroad.get("/locator/nearest", params=INSIDE).json()["features"][0]["properties"]
    assert set(links["links"]) == {"apple", "geo"}  # the Chinese apps left out abroad
    lat, lon = links["links"]["geo"][4:].split("?")[0].split(",")
    feature = abroad.get("/locator/nearest", params=INSIDE).json()["features"][0]
    assert [float(lon), float(lat)] == pytest.approx(feature["geometry"]["coordinates"], abs=1e-6)
    china = api.get("/locator/nearest", params=INSIDE).json()["features"][0]["properties"]
    assert set(china["links"]) == {"amap", "baidu", "tencent", "apple", "geo"}


def test_offered_crs_come_from_the_profile(abroad):
    offered = abroad.get("/collections").json()["crs"]
    assert offered == [
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "http://www.opengis.net/def/crs/EPSG/0/4326",
        "http://www.opengis.net/def/crs/EPSG/0/4549",
    ]
    refused = abroad.get("/collections/compounds/items", params={"crs": "EPSG:3857"})
    assert refused.status_code == 400 and "not offered" in refused.json()["description"]


def test_summary_without_figures_is_not_an_error(abroad):
    response = abroad.get("/summary")
    assert response.status_code == 200
    assert response.json()["figures"] == []


def test_locator_page_opens_in_the_first_language(abroad, api):
    assert '<html lang="en">' in abroad.get("/locator").text
    assert '<html lang="zh-CN">' in api.get("/locator").text


def test_a_metric_crs_that_misses_the_data_stops_start_up(tmp_path):
    folder = make_district(tmp_path / "d", metric_crs="EPSG:32635")
    with pytest.raises(UnsuitableCRS, match="EPSG:4549"):
        create_app(Settings(district_dir=folder))


def test_optional_layers_may_be_absent_and_derived_layers_empty(tmp_path):
    folder = make_district(
        tmp_path / "d",
        drop_layers=("pocket_parks", "trails", "water", "compound_entrances"),
        figures=[],
    )
    # Every compound within 15 "minutes" when the circle is 100 km: no gaps at all.
    api = client_for(folder, circle_15_m=100_000.0)
    gaps = api.get("/collections/coverage_gaps/items").json()
    assert gaps["numberMatched"] == 0 and gaps["features"] == []
    summary = api.get("/coverage/summary").json()
    assert summary["district"]["share_15"] == 1.0
    compounds = api.get("/collections/compound_coverage/items", params={"limit": 1})
    assert compounds.json()["features"][0]["properties"]["park_m"] is None
    assert api.get("/maps/planner").status_code == 200


def test_chinese_basemaps_are_refused_outside_china(tmp_path, seeded_derived):
    folder = make_district(tmp_path / "d", country="FI", timezone="Europe/Helsinki")
    seeded_derived(folder / "cache" / "derived")  # the demo's coverage: the check comes after
    with pytest.raises(ProfileError, match="amap cover China only"):
        create_app(Settings(district_dir=folder, basemaps=["amap"]))


def test_a_profile_that_does_not_fit_the_catalog_is_named(tmp_path):
    raw = yaml.safe_load((ROOT / "district.yaml").read_text(encoding="utf-8"))
    analysis = {**raw["analysis"], "population": "residents", "gate_key": "owner"}
    folder = make_district(tmp_path / "d", analysis=analysis)
    with pytest.raises(ProfileError) as caught:
        create_app(Settings(district_dir=folder))
    assert "'compounds' has no population column 'residents'" in str(caught.value)
    assert "'compound_entrances' has no column 'owner'" in str(caught.value)
