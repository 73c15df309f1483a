"""The geo-service command as a user runs it."""

from __future__ import annotations

import pytest

from geo_service.data.catalog import load_catalog
from tests.support import CATALOG_DIR, run_cli

#: End to end: the geo-service command in a subprocess.
pytestmark = pytest.mark.slow


def test_layers_list_shows_every_layer_with_counts():
    result = run_cli("layers", "list", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    for text in ("compounds", "住宅小区（示例）", "471", "central_households", "restricted", "262"):
        assert text in result.stdout


def test_layers_show_prints_schema_and_article_figures():
    result = run_cli("layers", "show", "district", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "compound_party_branches: 471" in result.stdout
    assert "alliances: 17" in result.stdout
    assert "features: 1" in result.stdout


def test_layers_show_unknown_layer_fails_clearly():
    result = run_cli("layers", "show", "nope")
    assert result.returncode == 1
    assert "no layer 'nope'" in result.stderr and "compounds" in result.stderr


def test_validate_passes_on_the_demo_data(tmp_path, catalog):
    sources = [spec for spec in catalog if not spec.derived]
    env = {"COLUMNS": "200", "GEO_SERVICE_DERIVED_DIR": str(tmp_path)}
    result = run_cli("validate", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"catalog and data valid: {len(sources)} layers" in result.stdout
    assert "run `geo-service coverage`" in result.stdout
    assert run_cli("coverage", env=env).returncode == 0
    result = run_cli("validate", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"catalog and data valid: {len(catalog)} layers" in result.stdout


def test_validate_reports_every_broken_layer(data_copy):
    catalog_dir, data_dir = data_copy
    (data_dir / "trails.geojson").unlink()
    compounds = data_dir / "compounds.geojson"
    compounds.write_text(
        compounds.read_text(encoding="utf-8").replace('"population":', '"population":-', 1),
        encoding="utf-8",
    )
    result = run_cli(
        "validate",
        "--catalog-dir",
        str(catalog_dir),
        "--data-dir",
        str(data_dir),
        env={"COLUMNS": "200"},
    )
    assert result.returncode == 1
    assert "data file does not exist" in result.stdout
    assert "population: below minimum 1.0 in 1 feature(s)" in result.stdout
    assert "2 problem(s)" in result.stderr


def test_demo_generate_writes_valid_layers(tmp_path):
    result = run_cli("demo", "generate", "--seed", "11", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    written = sorted(path.stem for path in tmp_path.glob("*.geojson"))
    assert written == sorted(spec.id for spec in load_catalog(CATALOG_DIR) if not spec.derived)
    assert f"{len(written)} layers" in result.stdout
    assert "compounds: 471" in result.stderr.replace("\n", " ") or "compounds 471" in result.stderr
    check = run_cli("validate", "--data-dir", str(tmp_path), env={"COLUMNS": "200"})
    assert check.returncode == 0, check.stdout
