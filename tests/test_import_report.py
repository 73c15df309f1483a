"""The import report and commit: per-feature checks, what a file would add, change and
remove in the current layer, and the atomic commit.

Real files written by GDAL (pyogrio) from the committed demo data; no mocks.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geo_service.data.catalog import Catalog
from geo_service.data.stores.file import read_layer
from geo_service.errors import ImportFailed
from geo_service.importing.files import read_import_file
from geo_service.importing.report import commit_import, plan_import
from tests import import_fixtures as fx


@pytest.fixture(scope="module")
def centres():
    return fx.demo_layer("service_centres")


# --- Chinese datums --------------------------------------------------------------------


def _edited_centres(centres):
    """The centres table with 2 edited, 3 dropped, 1 new and 4 broken rows, and the ids."""
    table = fx.centres_table(centres)
    edited = table["编号"].iloc[[0, 1]].tolist()
    table.loc[0, "容量"] = int(table.loc[0, "容量"]) + 10
    table.loc[1, "英文名称"] = table.loc[1, "英文名称"] + " (renamed)"
    dropped = table["编号"].iloc[-3:].tolist()
    table = table.iloc[:-3]
    template = table.iloc[[5]].reset_index(drop=True)

    def new_row(suffix: str, **changes) -> pd.DataFrame:
        row = template.copy()
        row["编号"], row["名称"] = f"C-NEW-{suffix}", f"新建{suffix}社区党群服务中心"
        row["英文名称"] = f"New {suffix} Community Centre"
        for column, value in changes.items():
            row[column] = value
        return row

    broken = {
        "enum": new_row("enum", 级别="village"),
        "required": new_row("required", 开放时间=""),
        "type": new_row("type", 容量="many"),
        "coordinates": new_row("nan", 经度=np.nan),
    }
    table = pd.concat([table, new_row("ok"), *broken.values()], ignore_index=True)
    return table, edited, dropped, "C-NEW-ok", broken


def test_dry_run_reports_what_would_change_and_what_is_rejected(
    tmp_path, catalog: Catalog, centres
):
    table, edited, dropped, added, broken = _edited_centres(centres)
    path = fx.write_csv(table, tmp_path / "edited.csv")

    report = plan_import(
        catalog.get("service_centres"),
        read_import_file(path, crs="wgs84", mapping=fx.CENTRE_MAPPING),
        centres,
    )

    assert report.rows_read == len(table)
    assert report.accepted_count == len(table) - len(broken)
    assert report.changes.added == [added]
    assert report.changes.changed == {edited[0]: ["capacity"], edited[1]: ["name_en"]}
    assert report.changes.removed == dropped and report.changes.removed_rejected == []
    assert len(report.changes.unchanged) == len(centres) - len(dropped) - len(edited)
    rejected = {r.id: [(x.field, x.code) for x in r.reasons] for r in report.rejected}
    assert rejected == {
        "C-NEW-enum": [("level", "enum")],
        "C-NEW-required": [("opening_hours", "required")],
        "C-NEW-type": [("capacity", "type")],
        "C-NEW-nan": [("geometry", "coordinates")],
    }
    first_broken_row = len(table) - len(broken) + 2  # spreadsheet rows: header is row 1
    assert [r.row for r in report.rejected] == list(range(first_broken_row, len(table) + 2))
    assert sorted(n for _, _, n in report.reason_counts()) == [1, 1, 1, 1]
    assert report.layer_problems == [
        f"(features): expected {len(centres)} features, found {report.accepted_count} "
        "(update expected_count in the catalog entry service_centres.yaml first)"
    ]
    data = json.loads(json.dumps(report.to_dict()))
    assert data["features"] == {
        "read": len(table),
        "accepted": report.accepted_count,
        "rejected": 4,
    }
    assert data["changes"]["changed"]["count"] == 2 and data["findings"] == []
    text = fx.rendered(report)
    assert "'village' is not one of district, subdistrict, community" in text
    assert "'many' is not a number" in text


def test_a_rejected_existing_feature_is_named_among_the_removed(
    tmp_path, catalog: Catalog, centres
):
    table = fx.centres_table(centres)
    table.loc[3, "服务"] = "party_education;karaoke"
    path = fx.write_csv(table, tmp_path / "c.csv")

    report = plan_import(
        catalog.get("service_centres"),
        read_import_file(path, crs="wgs84", mapping=fx.CENTRE_MAPPING),
        centres,
    )

    assert report.changes.removed == report.changes.removed_rejected == [table.loc[3, "编号"]]
    assert "unknown item(s) 'karaoke'" in report.rejected[0].reasons[0].message


def test_extra_columns_are_dropped_and_listed(tmp_path, catalog: Catalog, centres):
    table = fx.centres_table(centres).assign(备注="", 电话="0510-0000")
    path = fx.write_csv(table, tmp_path / "c.csv")

    report = plan_import(
        catalog.get("service_centres"),
        read_import_file(path, crs="wgs84", mapping=fx.CENTRE_MAPPING),
        centres,
    )

    assert report.dropped_columns == ["备注", "电话"]
    assert list(report.accepted.columns) == [
        *catalog.get("service_centres").property_names,
        "geometry",
    ]


def test_each_broken_rule_rejects_only_its_features(tmp_path, catalog: Catalog, centres):
    table = fx.centres_table(centres)
    table.loc[2, "容量"] = 0
    table.loc[4, "开放时间"] = "9 to 5"
    twin = table.iloc[[10]].assign(名称="重复编号中心", 英文名称="Repeated id centre")
    table = pd.concat([table, twin], ignore_index=True)
    path = fx.write_csv(table, tmp_path / "c.csv")

    report = plan_import(
        catalog.get("service_centres"),
        read_import_file(path, crs="wgs84", mapping=fx.CENTRE_MAPPING),
        centres,
    )

    rejected = {r.row: [(x.field, x.code) for x in r.reasons] for r in report.rejected}
    assert rejected == {
        2 + 2: [("capacity", "minimum")],
        4 + 2: [("opening_hours", "opening_hours")],
        10 + 2: [("id", "unique")],
        len(table) + 1: [("id", "unique")],
    }
    assert report.accepted_count == len(table) - len(rejected)


def test_geometry_rules_reject_bad_shapes(tmp_path, catalog: Catalog):
    compounds = fx.demo_layer("compounds")
    broken = compounds.head(5).copy()
    bowtie = shapely.Polygon([(120.30, 31.50), (120.31, 31.51), (120.31, 31.50), (120.30, 31.51)])
    broken.loc[0, "geometry"] = bowtie
    broken.loc[1, "geometry"] = shapely.Point(120.3, 31.5)
    broken.loc[2, "geometry"] = None
    broken.loc[3, "geometry"] = shapely.MultiPolygon([broken.geometry.iloc[3]])
    path = tmp_path / "compounds.geojson"
    pyogrio.write_dataframe(broken, path, driver="GeoJSON", layer_options={"RFC7946": "YES"})

    report = plan_import(catalog.get("compounds"), read_import_file(path), compounds)

    codes = {r.row: [x.code for x in r.reasons] for r in report.rejected}
    assert codes == {1: ["geometry_invalid"], 2: ["geometry_type"], 3: ["geometry_missing"]}
    assert "Self-intersection" in report.rejected[0].reasons[0].message
    assert "demoted 1 one-part MultiPolygon(s) to Polygon" in report.notes
    assert report.changes.unchanged == broken["id"].iloc[3:].tolist()


# --- the column mapping ----------------------------------------------------------------


def test_commit_writes_a_layer_the_store_reads_cleanly(tmp_path, data_copy, catalog, centres):
    _, data_dir = data_copy
    spec = catalog.get("service_centres")
    table = fx.centres_table(centres)
    table.loc[0, "容量"] = int(table.loc[0, "容量"]) + 10
    path = fx.write_csv(table, tmp_path / "c.csv")
    report = plan_import(
        spec, read_import_file(path, crs="wgs84", mapping=fx.CENTRE_MAPPING), centres
    )

    written = commit_import(report, spec, data_dir)

    frame, problems = read_layer(spec, data_dir)
    assert written == data_dir / spec.source and problems == []
    assert frame["capacity"].iloc[0] == centres["capacity"].iloc[0] + 10
    assert frame["id"].tolist() == centres["id"].tolist()
    assert sorted(p.name for p in data_dir.iterdir() if p.name.startswith(".")) == [".history"]
    kept = sorted(p.name for p in (data_dir / ".history" / spec.id).iterdir())
    assert kept == ["1.geojson", "2.geojson", "versions.json"]  # no temporary file left


def test_a_refused_commit_leaves_the_layer_file_byte_identical(
    tmp_path, data_copy, catalog: Catalog, centres
):
    _, data_dir = data_copy
    spec = catalog.get("service_centres")
    target = data_dir / spec.source
    before, files_before = target.read_bytes(), sorted(data_dir.iterdir())
    swapped = fx.centres_table(centres).rename(columns={"经度": "纬度", "纬度": "经度"})
    nothing = plan_import(
        spec,
        read_import_file(
            fx.write_csv(swapped, tmp_path / "s.csv"), crs="wgs84", mapping=fx.CENTRE_MAPPING
        ),
        centres,
    )
    table, *_ = _edited_centres(centres)
    miscounted = plan_import(
        spec,
        read_import_file(
            fx.write_csv(table, tmp_path / "e.csv"), crs="wgs84", mapping=fx.CENTRE_MAPPING
        ),
        centres,
    )

    with pytest.raises(ImportFailed, match=r"no feature of s\.csv was accepted"):
        commit_import(nothing, spec, data_dir)
    expected = f"expected {len(centres)} features, found {miscounted.accepted_count}"
    with pytest.raises(ImportFailed, match=expected):
        commit_import(miscounted, spec, data_dir)
    with pytest.raises(ImportFailed, match="for layer 'service_centres', not 'pocket_parks'"):
        commit_import(miscounted, catalog.get("pocket_parks"), data_dir)

    assert target.read_bytes() == before
    assert sorted(data_dir.iterdir()) == files_before
