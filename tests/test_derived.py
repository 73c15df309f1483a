"""Derived coverage layers: computed once, cached, recomputed when an input changes."""

from __future__ import annotations

import json

import pytest

from geo_service.data.catalog import load_catalog
from geo_service.data.derived import district_profile, is_fresh
from geo_service.data.geojson_io import read_geojson
from geo_service.data.stores import FileStore
from geo_service.pipeline.derived_layers import compute_derived
from geo_service.settings import Settings
from tests.support import run_cli


@pytest.fixture
def settings(data_copy, tmp_path) -> Settings:
    catalog_dir, data_dir = data_copy
    return Settings(catalog_dir=catalog_dir, data_dir=data_dir, derived_dir=tmp_path / "derived")


def _store(settings: Settings) -> FileStore:
    """The district's file store as a new process would open it."""
    return FileStore(load_catalog(settings.catalog_dir), settings.data_dir, settings.derived_dir)


def _fresh(settings: Settings) -> bool:
    return is_fresh(_store(settings), settings, district_profile(settings))


@pytest.mark.slow  # end to end: the whole coverage run, written, reused and run again
def test_compute_write_reuse_and_recompute(settings):
    assert not _fresh(settings)
    store = _store(settings)
    assert not store.has("compound_coverage")
    manifest = compute_derived(store, settings)
    assert store.has("compound_coverage")  # written through the store, served at once
    folder = settings.derived_dir
    assert {p.name for p in folder.glob("*.geojson")} == {
        "service_circles.geojson",
        "reached_streets.geojson",
        "compound_coverage.geojson",
        "community_coverage.geojson",
        "coverage_gaps.geojson",
    }
    assert len(list(folder.glob("graph-*.npz"))) == 1
    assert manifest["summary"]["district"]["residents"] == 500_000
    assert _fresh(settings)

    stamp = (folder / "compound_coverage.geojson").stat().st_mtime_ns
    compute_derived(_store(settings), settings)
    assert (folder / "compound_coverage.geojson").stat().st_mtime_ns == stamp  # reused

    # an input layer changes: the results are stale and get recomputed; roads unchanged,
    # so the cached graph is kept
    graph_file = next(folder.glob("graph-*.npz"))
    centres = settings.data_dir / "service_centres.geojson"
    centres.write_text(
        centres.read_text(encoding="utf-8").replace('"capacity":80', '"capacity":81'),
        encoding="utf-8",
    )
    assert not _fresh(settings)
    compute_derived(_store(settings), settings)
    assert _fresh(settings)
    assert next(folder.glob("graph-*.npz")) == graph_file

    # a parameter changes: stale too
    wider = settings.model_copy(update={"circle_15_m": 800.0})
    assert not _fresh(wider)
    narrow = compute_derived(_store(settings), wider)
    assert narrow["summary"]["district"]["share_15"] < manifest["summary"]["district"]["share_15"]


def test_derived_layers_match_their_catalog_entries(settings):
    compute_derived(_store(settings), settings)
    store = _store(settings)  # reads every derived layer back
    coverage = store.query("compound_coverage")
    assert len(coverage) == 471
    assert store.count("community_coverage") == 78
    circles = store.query("service_circles")
    assert len(circles) == 18
    areas = circles.set_index("id")["area_km2"]
    assert areas["centre-5"] < areas["centre-10"] < areas["centre-15"]
    gaps = store.query("coverage_gaps")
    assert gaps["rank"].tolist() == list(range(1, len(gaps) + 1))
    assert (gaps["centre_community_m"].fillna(1e9) > 1000).all()
    assert gaps["population"].is_monotonic_decreasing


def test_summary_agrees_with_the_compound_layer(settings):
    manifest = compute_derived(_store(settings), settings)
    compounds = read_geojson(settings.derived_dir / "compound_coverage.geojson")
    within = compounds.loc[compounds["centre_m"] <= 1000, "population"].sum()
    assert manifest["summary"]["district"]["residents_15"] == within
    saved = json.loads((settings.derived_dir / "coverage.json").read_text(encoding="utf-8"))
    assert saved["params"]["circles"][2] == {"minutes": 15, "distance_m": 1000.0}


@pytest.mark.slow  # end to end: the geo-service command in a subprocess
def test_cli_coverage_prints_the_summary(data_copy):
    result = run_cli(
        "coverage",
        "--catalog-dir",
        str(data_copy[0]),
        "--data-dir",
        str(data_copy[1]),
        env={"COLUMNS": "160"},
    )
    assert result.returncode == 0, result.stderr
    assert "Residents within walking reach" in result.stdout
    assert "district" in result.stdout and "HL" in result.stdout and "≤15 min" in result.stdout
    assert "computing from 8 input layers" in result.stderr
    assert "circles: 18 dissolved polygons" in result.stderr
