"""The district profile, the metric CRS choice and check, and China's datums."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import yaml
from pyproj import CRS, Geod, Transformer

from geo_service.crs import (
    MAX_SCALE_ERROR,
    check_metric_crs,
    metric_crs_for,
    scale_error,
    worst_scale_error,
)
from geo_service.data.profile import load_profile, parse_profile
from geo_service.data.vocabulary import SERVICE_VOCABULARY
from geo_service.datums import (
    bd09_to_wgs84,
    gcj02_to_wgs84,
    one_step_gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from geo_service.errors import ProfileError, UnsuitableCRS
from tests.support import ROOT

GEOD = Geod(ellps="WGS84")
HELSINKI = (24.90, 60.15, 24.99, 60.20)


@pytest.fixture(scope="module")
def binhu():
    return load_profile(ROOT)


@pytest.fixture(scope="module")
def raw_binhu() -> dict:
    return yaml.safe_load((ROOT / "district.yaml").read_text(encoding="utf-8"))


def test_binhu_profile_matches_its_catalog(binhu, catalog):
    services = catalog.get("service_centres").get_property("services")
    levels = catalog.get("service_centres").get_property("level")
    assert binhu.analysis.service_keys == services.enum == SERVICE_VOCABULARY
    assert tuple(t.key for t in binhu.analysis.levels) == levels.enum
    assert binhu.metric_crs == "EPSG:4549" and binhu.timezone == "Asia/Shanghai"
    assert binhu.map_links == ("amap", "baidu", "tencent", "apple", "geo")
    for figure in binhu.figures:
        assert figure.layer is None or figure.layer in catalog


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Asia/Wuxi"}, "timezone"),
        ({"metric_crs": "EPSG:4326"}, "metric_crs"),
        ({"output_crs": ["EPSG:999999"]}, "output_crs"),
        ({"languages": ["fr"]}, "languages"),
        ({"country": "China"}, "country"),
        ({"unknown_field": 1}, "unknown_field"),
        ({"holidays": "ZZ"}, "holidays"),
        ({"holidays": "CN-XX"}, "holidays"),
        ({"extra_holidays": ["2026-02-30"]}, "extra_holidays"),
    ],
)
def test_a_broken_profile_names_the_field(raw_binhu, change, field):
    with pytest.raises(ProfileError, match=f"field '{field}"):
        parse_profile({**raw_binhu, **change})


def test_a_holiday_calendar_of_a_subdivision_and_the_districts_own_days(raw_binhu):
    profile = parse_profile({**raw_binhu, "holidays": "DE-BY", "extra_holidays": ["2026-12-03"]})
    assert profile.holidays == "DE-BY"
    assert profile.extra_holidays == (date(2026, 12, 3),)


def test_analysis_sets_must_exist(raw_binhu):
    analysis = {**raw_binhu["analysis"], "gap_set": "centre_province"}
    with pytest.raises(ProfileError, match="gap_set"):
        parse_profile({**raw_binhu, "analysis": analysis})


def test_regional_links_only_in_china(raw_binhu):
    abroad = parse_profile({**raw_binhu, "country": "FI", "timezone": "Europe/Helsinki"})
    assert abroad.map_links == ("apple", "geo")  # no Chinese apps abroad


def test_metric_crs_offered_even_if_not_listed(raw_binhu):
    profile = parse_profile({**raw_binhu, "output_crs": ["EPSG:4326"]})
    assert profile.offered_crs == ("EPSG:4326", "EPSG:4549")


@pytest.mark.parametrize(
    ("bounds", "code"),
    [
        ((120.03, 31.38, 120.37, 31.60), 4549),  # Wuxi: CGCS2000 GK CM 120E
        ((116.2, 39.8, 116.6, 40.0), 4548),  # Beijing: CM 117E
        ((113.1, 22.9, 113.5, 23.3), 4547),  # Guangzhou: CM 114E
        (HELSINKI, 32635),
        ((-58.5, -34.7, -58.3, -34.5), 32721),  # Buenos Aires
        ((126.8, 37.4, 127.2, 37.7), 32652),  # Seoul: in GCJ-02's box, not in China
        ((100.4, 13.6, 100.7, 13.9), 32647),  # Bangkok
        ((120.9, 30.7, 122.2, 31.9), 32651),  # Shanghai, across CGCS2000 zones' edge
    ],
)
def test_metric_crs_chosen_from_the_extent(bounds, code):
    crs = metric_crs_for(bounds)
    assert crs.to_epsg() == code
    centre = ((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
    assert abs(scale_error(crs, *centre)) < 0.001  # a good zone: under 1 m per km
    assert check_metric_crs(crs, bounds) == crs


def test_a_crs_that_misses_the_data_is_refused_with_its_scale_error():
    error = scale_error(CRS.from_epsg(4549), 24.945, 60.175)
    # The error is real: a 1 km east-west line in Helsinki measured in EPSG:4549.
    lon2, lat2, _ = GEOD.fwd(24.94, 60.17, 90, 1000.0)
    to_4549 = Transformer.from_crs(4326, 4549, always_xy=True)
    x, y = to_4549.transform([24.94, lon2], [60.17, lat2])
    measured = float(np.hypot(np.diff(x), np.diff(y))[0])
    assert measured / 1000.0 - 1 == pytest.approx(error, abs=0.01)
    assert abs(error) > 0.05
    worst = worst_scale_error(CRS.from_epsg(4549), HELSINKI)
    with pytest.raises(UnsuitableCRS, match=rf"{worst:+.2%}".replace("+", r"\+")) as caught:
        check_metric_crs("EPSG:4549", HELSINKI)
    assert "EPSG:32635" in str(caught.value)


def test_data_across_utm_zones_gets_a_transverse_mercator_of_its_own():
    bounds = (29.8, 50.3, 30.2, 50.5)  # Kyiv, on the edge of UTM 35 and 36
    crs = metric_crs_for(bounds)
    assert crs.to_epsg() is None and "+lon_0=30" in crs.srs
    assert abs(worst_scale_error(crs, bounds)) < 1e-5
    assert check_metric_crs(crs, bounds) == crs


def test_data_wider_than_a_zone_gets_a_scale_factor_that_spreads_the_error():
    """Six degrees of longitude around 120E (ten times the synthetic city): on the central
    meridian with k = 1 the edges come out over 0.1% long; k < 1 halves the worst error
    and the CRS passes its own check."""
    wide = (117.27, 29.12, 123.12, 33.82)
    lon = (wide[0] + wide[2]) / 2
    centred = CRS.from_proj4(f"+proj=tmerc +lon_0={lon} +k=1 +x_0=500000 +ellps=WGS84 +units=m")
    assert worst_scale_error(centred, wide) > MAX_SCALE_ERROR
    crs = metric_crs_for(wide)
    assert f"+lon_0={lon:.4f}" in crs.srs and "+k=0.9995" in crs.srs
    errors = [scale_error(crs, x, y) for x in wide[::2] for y in wide[1::2]]
    assert max(errors) < MAX_SCALE_ERROR / 2 + 1e-5 and scale_error(crs, lon, 31) < 0
    assert check_metric_crs(crs, wide) == crs


def test_data_too_wide_for_any_one_crs_is_told_so():
    """Twelve degrees of longitude: even the spread transverse Mercator is over 0.1% at
    the edges, so the message does not suggest it; a whole hemisphere does not break the
    choice either."""
    wide = (114.0, 29.0, 126.0, 34.0)
    assert abs(worst_scale_error(metric_crs_for(wide), wide)) > MAX_SCALE_ERROR
    with pytest.raises(UnsuitableCRS, match="too wide for any one transverse Mercator") as caught:
        check_metric_crs("EPSG:4549", wide)
    assert "Use " not in str(caught.value)
    assert metric_crs_for((0.0, 0.0, 170.0, 1.0)).is_projected


def test_a_zone_a_little_way_off_the_data_is_accepted_within_its_scale_error():
    shanghai = (120.9, 30.7, 122.2, 31.9)  # EPSG:4549's area ends at 121.5E
    assert 0 < worst_scale_error(CRS.from_epsg(4549), shanghai) < MAX_SCALE_ERROR
    assert check_metric_crs("EPSG:4549", shanghai).to_epsg() == 4549


def test_profile_names_and_offered_crs_are_checked(raw_binhu):
    with pytest.raises(ProfileError, match="field 'name'"):
        parse_profile({**raw_binhu, "name": {}})
    with pytest.raises(ProfileError, match="EPSG codes"):
        parse_profile({**raw_binhu, "output_crs": ["ESRI:102100"]})
    custom = parse_profile({**raw_binhu, "metric_crs": "+proj=tmerc +lon_0=120.2 +units=m"})
    assert custom.offered_crs == ("EPSG:4326", "EPSG:4490", "EPSG:4549", "EPSG:3857")


def test_a_geographic_crs_is_not_metric():
    with pytest.raises(UnsuitableCRS, match="not a projected CRS"):
        check_metric_crs("EPSG:4490", (120.0, 31.3, 120.4, 31.6))


@pytest.fixture(scope="module")
def wuxi_grid() -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.meshgrid(np.linspace(120.03, 120.37, 40), np.linspace(31.38, 31.60, 40))
    return lon.ravel(), lat.ravel()


@pytest.mark.parametrize(
    ("forward", "inverse"), [(wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84)]
)
def test_datum_inverse_round_trips_within_a_centimetre(wuxi_grid, forward, inverse):
    lon, lat = wuxi_grid
    shifted = forward(lon, lat)
    _, _, offset = GEOD.inv(lon, lat, *shifted)
    assert offset.min() > 300 and offset.max() < 1200  # the datums really are apart
    _, _, error = GEOD.inv(lon, lat, *inverse(*shifted))
    assert error.max() < 0.01


def test_one_step_inverse_is_not_enough(wuxi_grid):
    lon, lat = wuxi_grid
    _, _, error = GEOD.inv(lon, lat, *one_step_gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat)))
    assert error.max() > 1.0


def test_gcj02_is_wgs84_outside_china():
    assert wgs84_to_gcj02(24.94, 60.17) == (24.94, 60.17)
    assert gcj02_to_wgs84(24.94, 60.17) == (24.94, 60.17)
    lon, _lat = wgs84_to_gcj02(np.array([24.94, 120.3]), np.array([60.17, 31.5]))
    assert lon[0] == 24.94 and lon[1] != 120.3
