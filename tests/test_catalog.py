"""The layer catalog: loads, and a broken entry names its file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from geo_service.data.catalog import load_catalog
from geo_service.errors import CatalogError, LayerNotFound


def test_catalog_has_every_layer_with_both_languages(catalog):
    assert {s.id for s in catalog} == {
        "district",
        "subdistricts",
        "communities",
        "water",
        "roads",
        "compounds",
        "compound_entrances",
        "service_centres",
        "pocket_parks",
        "trails",
        "central_households",
        "landmarks",
        "service_circles",
        "reached_streets",
        "compound_coverage",
        "community_coverage",
        "coverage_gaps",
    }
    for spec in catalog:
        assert spec.title.zh and spec.title.en and spec.description.zh and spec.description.en
        assert spec.licence and spec.keywords and spec.style.color.startswith("#")


def test_access_levels(catalog):
    assert catalog.get("central_households").access == "restricted"
    public = {s.id for s in catalog.visible("public")}
    assert "central_households" not in public and "compounds" in public
    assert "central_households" in {s.id for s in catalog.visible("restricted")}
    with pytest.raises(LayerNotFound):
        catalog.get("nope")


def _break(catalog_dir: Path, layer: str, change) -> None:
    path = catalog_dir / f"{layer}.yaml"
    entry = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(entry)
    path.write_text(yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e["properties"][1].update(type="text"), "properties[1].type"),
        (lambda e: e.pop("title"), "title"),
        (lambda e: e["title"].pop("en"), "title.en"),
        (lambda e: e.update(access="secret"), "access"),
        (lambda e: e.update(source="../../etc/passwd"), "source"),
        (lambda e: e["style"].update(color="red"), "style.color"),
        (lambda e: e.update(unknown_key=1), "unknown_key"),
        (lambda e: e.update(id="other"), "id"),
        (lambda e: e["provenance"].pop("synthetic"), "provenance.synthetic"),
    ],
)
def test_broken_entry_names_file_and_field(data_copy, change, field):
    catalog_dir, _ = data_copy
    _break(catalog_dir, "compounds", change)
    with pytest.raises(CatalogError) as error:
        load_catalog(catalog_dir)
    message = str(error.value)
    assert "compounds.yaml" in message
    assert f"field '{field}'" in message


def test_bad_yaml_is_reported(data_copy):
    catalog_dir, _ = data_copy
    (catalog_dir / "trails.yaml").write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"trails\.yaml: cannot read YAML"):
        load_catalog(catalog_dir)


def test_empty_or_missing_folder(tmp_path):
    with pytest.raises(CatalogError, match="no layer files"):
        load_catalog(tmp_path)
    with pytest.raises(CatalogError, match="does not exist"):
        load_catalog(tmp_path / "missing")


def test_service_vocabulary_matches_the_catalog(catalog):
    from geo_service.data.vocabulary import SERVICE_VOCABULARY

    services = catalog.get("service_centres").get_property("services")
    assert services.enum == SERVICE_VOCABULARY and services.list_separator == ";"
