"""``geo-service init``, ``import file`` and ``validate`` as a user runs them: dry runs
that change nothing, plausibility findings in the report, commits that are atomic."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import yaml

from geo_service.data.audit import AuditLog
from geo_service.data.geojson_io import read_geojson, write_geojson
from geo_service.datums import wgs84_to_gcj02
from tests.support import DATA_DIR, make_district, run_cli

#: End to end: the geo-service command in a subprocess.
pytestmark = pytest.mark.slow


@pytest.fixture
def district(tmp_path):
    return make_district(tmp_path / "binhu")


@pytest.fixture(scope="module")
def centres() -> gpd.GeoDataFrame:
    return read_geojson(DATA_DIR / "service_centres.geojson")


def _csv_in_gcj02(centres: gpd.GeoDataFrame, path) -> None:
    lon, lat = wgs84_to_gcj02(centres.geometry.x.to_numpy(), centres.geometry.y.to_numpy())
    table = pd.DataFrame(centres.drop(columns="geometry"))
    table["lon"], table["lat"] = lon, lat
    table.to_csv(path, index=False)


def _cli(district, *args):
    return run_cli("--district", str(district), *args)


def test_gcj02_file_read_as_wgs84_is_caught_and_not_written(district, centres, tmp_path):
    source = tmp_path / "centres_amap.csv"
    _csv_in_gcj02(centres, source)
    target = district / "data" / "geojson" / "service_centres.geojson"
    before = target.read_bytes()
    dry = _cli(district, "import", "file", "service_centres", str(source), "--crs", "wgs84",
               "--json")  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    datum = [f for f in report["findings"] if f["check"] == "datum_gcj02"]
    assert len(datum) == 1 and datum[0]["count"] == len(centres)
    assert "--crs gcj02" in datum[0]["message"]
    refused = _cli(district, "import", "file", "service_centres", str(source), "--crs", "wgs84",
                   "--commit")  # fmt: skip
    assert refused.returncode == 1 and "GCJ-02" in refused.stderr
    assert target.read_bytes() == before


def test_gcj02_file_with_its_datum_commits_the_original_points(district, centres, tmp_path):
    source = tmp_path / "centres_amap.csv"
    _csv_in_gcj02(centres, source)
    done = _cli(district, "import", "file", "service_centres", str(source), "--crs", "gcj02",
                "--commit", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
    written = read_geojson(district / "data" / "geojson" / "service_centres.geojson")
    moved = written.to_crs(4549).distance(centres.to_crs(4549), align=False)
    assert moved.max() < 0.01
    assert _cli(district, "validate").returncode == 0
    (entry,) = AuditLog(district / "var" / "audit.log").entries()  # the write is audited
    assert (entry["action"], entry["layer"], entry["path"]) == (
        "import",
        "service_centres",
        "geo-service import file service_centres",
    )
    assert entry["features"] == len(centres) and entry["author"].startswith("cli:")


def test_validate_reports_a_shifted_layer(district, centres):
    shifted = centres.copy()
    lon, lat = wgs84_to_gcj02(centres.geometry.x.to_numpy(), centres.geometry.y.to_numpy())
    shifted = shifted.set_geometry(gpd.points_from_xy(lon, lat), crs=4326)
    write_geojson(
        shifted,
        district / "data" / "geojson" / "service_centres.geojson",
        name="service_centres",
        description="shifted",
    )
    result = _cli(district, "validate")
    assert result.returncode == 1
    assert "datum_gcj02" in result.stdout and f"{len(centres)} of {len(centres)}" in result.stdout


def test_init_writes_a_district_that_loads(tmp_path):
    folder = tmp_path / "suzhou"
    done = run_cli("init", str(folder), "--name", "姑苏区", "--name-en", "Gusu",
                   "--bbox", "120.58,31.28,120.66,31.34")  # fmt: skip
    assert done.returncode == 0, done.stderr
    profile = yaml.safe_load((folder / "district.yaml").read_text(encoding="utf-8"))
    assert profile["timezone"] == "Asia/Shanghai" and profile["country"] == "CN"
    assert profile["metric_crs"] == "EPSG:4549"
    assert profile["languages"][0] == "zh"
    assert profile["phone_maps"][:2] == ["amap", "baidu"]
    outline = read_geojson(folder / "data" / "geojson" / "district.geojson")
    assert outline.total_bounds.tolist() == pytest.approx([120.58, 31.28, 120.66, 31.34])
    again = run_cli("init", str(folder), "--name", "x", "--bbox", "120.58,31.28,120.66,31.34")
    assert again.returncode == 1 and "not empty" in again.stderr


def test_init_refuses_a_bad_bbox(tmp_path):
    done = run_cli("init", str(tmp_path / "x"), "--name", "x", "--bbox", "120.6,31.3,120.5,31.2")
    assert done.returncode == 1 and "--bbox" in done.stderr
    assert not (tmp_path / "x").exists()


def test_init_takes_the_outline_from_a_boundary_file(tmp_path):
    outline = read_geojson(DATA_DIR / "district.geojson")[["id", "geometry"]]
    boundary = tmp_path / "outline.gpkg"
    outline.to_crs(4549).to_file(boundary)  # any format and CRS
    done = run_cli("init", str(tmp_path / "d"), "--name", "滨湖区", "--boundary", str(boundary))
    assert done.returncode == 0, done.stderr
    written = read_geojson(tmp_path / "d" / "data" / "geojson" / "district.geojson")
    difference = written.to_crs(4549).symmetric_difference(outline.to_crs(4549).union_all())
    assert difference.area.sum() < 1.0  # m²: the same outline, reprojected back
    profile = yaml.safe_load((tmp_path / "d" / "district.yaml").read_text(encoding="utf-8"))
    assert profile["metric_crs"] == "EPSG:4549" and profile["name"]["local"] == "滨湖区"
