"""The GeoJSON writer: deterministic, atomic, faithful to Chinese text."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from shapely.geometry import Point

from geo_service.data import geojson_io
from geo_service.data.geojson_io import read_geojson, write_geojson


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "id": ["a", "b"],
            "name_zh": ["水秀社区", "长广溪"],
            "n": [1, 2],
            "ok": [True, False],
            "x": [1.25, None],
        },
        geometry=[Point(120.123456789, 31.5), Point(120.2, 31.987654321)],
        crs="EPSG:4326",
    )


def test_round_trip_keeps_values_and_rounds_to_7_decimals(tmp_path):
    path = tmp_path / "t.geojson"
    write_geojson(_frame(), path, name="t", description="d")
    back = read_geojson(path)
    assert back["name_zh"].tolist() == ["水秀社区", "长广溪"]
    assert back["n"].tolist() == [1, 2] and back["ok"].tolist() == [True, False]
    assert back.geometry.x.tolist() == [120.1234568, 120.2]
    assert back.geometry.y.tolist() == [31.5, 31.9876543]
    assert (
        path.read_bytes()
        == geojson_io.feature_collection_text(_frame(), name="t", description="d").encode()
    )


def test_refuses_other_crs(tmp_path):
    with pytest.raises(ValueError, match="EPSG:4326"):
        write_geojson(_frame().to_crs(3857), tmp_path / "t.geojson", name="t", description="d")


def test_a_crash_mid_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "t.geojson"
    write_geojson(_frame(), path, name="t", description="old")
    before = path.read_bytes()

    def fail(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(geojson_io.os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        write_geojson(_frame(), path, name="t", description="new")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.geojson"]


@pytest.mark.parametrize("chunk_rows", [1, 2, 3])
def test_written_in_pieces_the_text_is_the_same(chunk_rows):
    """One feature per line, commas between, whatever the pieces (and no features)."""
    frame = _frame()
    pieces = list(
        geojson_io.feature_collection_pieces(
            frame, name="t", description="d", chunk_rows=chunk_rows
        )
    )
    assert len(pieces) == 2 + -(-len(frame) // chunk_rows)
    lines = "".join(pieces).split("\n")
    header = '{"type": "FeatureCollection", "name": "t", "description": "d", "features": ['
    assert lines[0] == header and lines[-2:] == ["]}", ""]
    assert lines[1].endswith("},") and lines[2].endswith("}}") and len(lines) == 5
    assert [json.loads(line.rstrip(","))["id"] for line in lines[1:3]] == ["a", "b"]
    empty = "".join(geojson_io.feature_collection_pieces(frame.iloc[:0], name="t", description="d"))
    assert empty == header + "\n]}\n"
    assert json.loads(empty)["features"] == []


def test_a_refused_layer_keeps_the_old_file(tmp_path):
    path = tmp_path / "t.geojson"
    write_geojson(_frame(), path, name="t", description="old")
    before = path.read_bytes()
    with pytest.raises(ValueError, match="EPSG:4326"):
        write_geojson(_frame().to_crs(3857), path, name="t", description="new")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.geojson"]
