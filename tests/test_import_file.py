"""Importing files into a layer: formats, encodings, CRSs and Chinese datums, column
mappings and type conversion.

Real files written by GDAL (pyogrio) from the committed demo data; no mocks.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
import yaml
from pyproj import Geod

from geo_service.data.catalog import Catalog
from geo_service.errors import ImportFailed
from geo_service.importing.files import read_import_file
from geo_service.importing.mapping import convert_value
from geo_service.importing.report import plan_import
from tests import import_fixtures as fx

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def centres():
    return fx.demo_layer("service_centres")


def _distances_m(a, b) -> np.ndarray:
    _, _, distance = GEOD.inv(a.geometry.x, a.geometry.y, b.geometry.x, b.geometry.y)
    return np.asarray(distance)


def _write_table(table: pd.DataFrame, path: Path) -> Path:
    return fx.write_csv(table, path) if path.suffix == ".csv" else fx.write_xlsx(table, path)


# --- Chinese datums --------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_a_point_list_in_a_chinese_datum_comes_back_within_a_centimetre(
    tmp_path, catalog: Catalog, centres, datum, suffix
):
    path = _write_table(fx.centres_table(centres, datum), tmp_path / f"centres{suffix}")

    incoming = read_import_file(path, crs=datum, mapping=fx.CENTRE_MAPPING)

    assert (incoming.crs_used, incoming.crs_source) == (datum, "caller")
    assert incoming.frame.crs.to_epsg() == 4326
    assert incoming.frame["name_zh"].tolist() == centres["name_zh"].tolist()
    assert _distances_m(centres, incoming.frame).max() < 0.01
    report = plan_import(catalog.get("service_centres"), incoming, centres)
    assert (report.accepted_count, len(report.rejected)) == (len(centres), 0)
    assert len(report.changes.unchanged) == len(centres)


@pytest.mark.parametrize(("datum", "low_m", "high_m"), [("gcj02", 480, 510), ("bd09", 1135, 1190)])
def test_the_same_list_taken_as_wgs84_is_hundreds_of_metres_off(
    tmp_path, catalog: Catalog, centres, datum, low_m, high_m
):
    path = fx.write_csv(fx.centres_table(centres, datum), tmp_path / "centres.csv")

    incoming = read_import_file(path, crs="wgs84", mapping=fx.CENTRE_MAPPING)

    offsets = _distances_m(centres, incoming.frame)
    # measured in Binhu: GCJ-02 484.7-508.5 m, BD-09 1137.8-1187.7 m
    assert low_m < offsets.min() and offsets.max() < high_m
    report = plan_import(catalog.get("service_centres"), incoming, centres)
    assert report.changes.changed == {i: ["geometry"] for i in centres["id"]}
    shifts = np.array(list(report.changes.shift_m.values()))
    assert low_m < shifts.min() and shifts.max() < high_m
    assert "Geometry moves" in fx.rendered(report)


def test_a_file_without_crs_is_refused_with_how_to_state_it(tmp_path, centres):
    path = fx.write_csv(fx.centres_table(centres, "gcj02"), tmp_path / "centres.csv")

    with pytest.raises(ImportFailed, match="crs=") as caught:
        read_import_file(path, mapping=fx.CENTRE_MAPPING)

    message = str(caught.value)
    assert "GCJ-02 (Amap/Gaode, Tencent: crs=gcj02)" in message
    assert "BD-09 (Baidu: crs=bd09)" in message


def test_an_unknown_crs_option_is_refused(tmp_path, centres):
    path = fx.write_csv(fx.centres_table(centres), tmp_path / "centres.csv")

    with pytest.raises(ImportFailed, match="unknown crs 'mars'"):
        read_import_file(path, crs="mars", mapping=fx.CENTRE_MAPPING)


# --- encodings -------------------------------------------------------------------------


def test_a_gbk_shapefile_without_cpg_keeps_its_chinese(tmp_path, catalog: Catalog, centres):
    path = fx.write_gbk_shapefile_zip(fx.centres_with_chinese_fields(centres), tmp_path / "c.zip")

    incoming = read_import_file(path, mapping=fx.CENTRE_MAPPING)

    assert incoming.frame["name_zh"].tolist() == centres["name_zh"].tolist()
    assert (incoming.crs_used, incoming.crs_source) == ("EPSG:4326", "file")
    report = plan_import(catalog.get("service_centres"), incoming, centres)
    assert report.encoding == "GB18030"
    assert "GBK" in report.encoding_detail and "no .cpg" in report.encoding_detail
    assert report.source_layer == "服务中心"
    assert len(report.changes.unchanged) == len(centres)
    assert "GB18030 (GBK/GB2312-compatible)" in fx.rendered(report)


def test_a_shapefile_header_naming_gbk_is_read_as_gbk(tmp_path, centres):
    frame = fx.centres_with_chinese_fields(centres)
    path = fx.write_gbk_shapefile_zip(frame, tmp_path / "c.zip", language_driver=0x4D)

    incoming = read_import_file(path, mapping=fx.CENTRE_MAPPING)

    assert incoming.encoding == "CP936" and "language driver 0x4d" in incoming.encoding_detail
    assert incoming.frame["name_zh"].tolist() == centres["name_zh"].tolist()


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8"), ("gbk", "GB18030")],
)
def test_csv_encoding_is_detected(tmp_path, centres, encoding, expected):
    path = fx.write_csv(fx.centres_table(centres), tmp_path / "c.csv", encoding=encoding)

    incoming = read_import_file(path, crs="wgs84", mapping=fx.CENTRE_MAPPING)

    assert incoming.encoding == expected
    assert ("byte-order mark" in incoming.encoding_detail) == (encoding == "utf-8-sig")
    assert incoming.frame["name_zh"].tolist() == centres["name_zh"].tolist()


# --- per-feature checks and the dry run ------------------------------------------------


def test_swapped_axes_reject_every_feature(tmp_path, catalog: Catalog, centres):
    table = fx.centres_table(centres).rename(columns={"经度": "纬度", "纬度": "经度"})
    path = fx.write_csv(table, tmp_path / "swapped.csv")

    report = plan_import(
        catalog.get("service_centres"),
        read_import_file(path, crs="wgs84", mapping=fx.CENTRE_MAPPING),
        centres,
    )

    assert (report.rows_read, report.accepted_count) == (len(centres), 0)
    assert report.reason_counts() == [("geometry", "lonlat_range", len(centres))]
    assert all("swapped" in r.reasons[0].message for r in report.rejected)
    assert not report.committable
    assert len(report.changes.removed) == len(centres)


def test_a_mapping_file_names_columns_defaults_and_crs(tmp_path, catalog: Catalog, centres):
    table = fx.centres_table(centres, "bd09").rename(columns={"经度": "X坐标", "纬度": "Y坐标"})
    table = table.drop(columns=["级别"])[table["级别"] == "community"]
    path = fx.write_xlsx(table, tmp_path / "c.xlsx")
    columns = {k: v for k, v in fx.CENTRE_COLUMNS.items() if k != "级别"}
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        yaml.safe_dump(
            {
                "columns": columns,
                "types": {"capacity": "integer"},
                "defaults": {"level": "community"},
                "x": "X坐标",
                "y": "Y坐标",
                "crs": "bd09",
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )

    incoming = read_import_file(path, mapping=mapping)
    report = plan_import(catalog.get("service_centres"), incoming, centres)

    community = centres[centres["level"] == "community"]
    assert (report.crs_used, report.crs_source) == ("bd09", "caller")
    assert report.source_layer == "centres"
    assert sorted(report.changes.unchanged) == sorted(community["id"])
    assert len(report.changes.removed) == len(centres) - len(community)


def test_a_mapping_with_an_unknown_key_or_column_is_refused(tmp_path, centres):
    path = fx.write_csv(fx.centres_table(centres), tmp_path / "c.csv")

    with pytest.raises(ImportFailed, match="field 'colums'"):
        read_import_file(path, crs="wgs84", mapping={"colums": {"名称": "name_zh"}})
    with pytest.raises(ImportFailed, match=r"names column\(s\) 地址"):
        read_import_file(path, crs="wgs84", mapping={"columns": {"地址": "address"}})


@pytest.mark.parametrize(
    ("value", "type_", "expected"),
    [
        ("1,200", "integer", 1200),
        ("12.0", "integer", 12),
        (12.0, "string", "12"),
        (" 是 ", "boolean", True),
        ("0", "boolean", False),
        ("3.5", "number", 3.5),
        ("", "integer", None),
        ("party_education;health", "string", "party_education;health"),
    ],
)
def test_values_convert_to_catalog_types(value, type_, expected):
    assert convert_value(value, type_) == expected


@pytest.mark.parametrize(
    ("value", "type_"), [("12.5", "integer"), ("nan", "number"), ("maybe", "boolean")]
)
def test_values_that_will_not_convert_say_why(value, type_):
    with pytest.raises(ValueError, match=re.escape(repr(value))):
        convert_value(value, type_)


# --- other formats ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("driver", "suffix"),
    [("GPKG", ".gpkg"), ("FlatGeobuf", ".fgb"), ("LIBKML", ".kml"), ("GeoJSON", ".geojson")],
)
def test_a_demo_layer_round_trips_through_gdal_formats(
    tmp_path, catalog: Catalog, centres, driver, suffix
):
    path = fx.write_vector(centres, tmp_path / f"centres{suffix}", driver, "service_centres")

    incoming = read_import_file(path)
    report = plan_import(catalog.get("service_centres"), incoming, centres)

    assert incoming.crs_source == ("rfc7946" if driver == "GeoJSON" else "file")
    assert report.dropped_columns == [] and report.rejected == []
    assert sorted(report.changes.unchanged) == sorted(centres["id"])


def test_a_geopackage_layer_is_chosen_by_option(tmp_path, catalog: Catalog, centres):
    compounds = fx.demo_layer("compounds")
    path = fx.write_vector(centres, tmp_path / "both.gpkg", "GPKG", "service_centres")
    fx.write_vector(compounds, path, "GPKG", "compounds")

    first = read_import_file(path)
    chosen = read_import_file(path, layer="compounds")
    report = plan_import(catalog.get("compounds"), chosen, compounds)

    overridden = read_import_file(path, crs="gcj02")
    assert "the file declares EPSG:4326; the caller's gcj02 was used" in overridden.notes
    assert first.layer == "service_centres" and len(first.frame) == len(centres)
    assert "holds layers service_centres, compounds" in first.notes[0]
    assert (chosen.layer, len(chosen.frame)) == ("compounds", len(compounds))
    assert sorted(report.changes.unchanged) == sorted(compounds["id"])
    with pytest.raises(ImportFailed, match="no layer 'parks'"):
        read_import_file(path, layer="parks")


def test_single_polygons_are_promoted_for_a_multipolygon_layer(tmp_path, catalog: Catalog):
    communities = fx.demo_layer("communities")
    single = communities.set_geometry(shapely.get_geometry(communities.geometry.to_numpy(), 0))
    path = tmp_path / "communities.geojson"
    pyogrio.write_dataframe(single, path, driver="GeoJSON")

    report = plan_import(catalog.get("communities"), read_import_file(path), communities)

    assert f"promoted {len(communities)} single Polygon(s) to MultiPolygon" in report.notes
    assert set(report.accepted.geom_type) == {"MultiPolygon"}
    assert sorted(report.changes.unchanged) == sorted(communities["id"])


def test_a_projected_shapefile_without_prj_takes_the_callers_crs(tmp_path, catalog: Catalog):
    compounds = fx.demo_layer("compounds")
    short = {"community_id": "comm_id", "subdistrict_id": "subd_id", "party_branch": "party"}
    path = tmp_path / "compounds.shp"
    pyogrio.write_dataframe(compounds.rename(columns=short).to_crs(4549), path)
    path.with_suffix(".prj").unlink()
    mapping = {"columns": {v: k for k, v in short.items()}}

    with pytest.raises(ImportFailed, match="look projected, in metres"):
        read_import_file(path, mapping=mapping)
    incoming = read_import_file(path, mapping=mapping, crs="EPSG:4549")
    report = plan_import(catalog.get("compounds"), incoming, compounds)

    assert (incoming.crs_used, incoming.crs_source, incoming.encoding) == (
        "EPSG:4549",
        "caller",
        "UTF-8",
    )
    assert sorted(report.changes.unchanged) == sorted(compounds["id"])


def test_a_geojson_with_a_crs_member_is_reprojected(tmp_path, catalog: Catalog, centres):
    path = tmp_path / "centres.geojson"
    pyogrio.write_dataframe(centres.to_crs(4549), path, driver="GeoJSON")

    incoming = read_import_file(path)

    assert (incoming.crs_used, incoming.crs_source) == ("EPSG:4549", "file")
    report = plan_import(catalog.get("service_centres"), incoming, centres)
    assert sorted(report.changes.unchanged) == sorted(centres["id"])


# --- commit ----------------------------------------------------------------------------
