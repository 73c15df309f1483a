"""The catalog ``init`` writes agrees with what the importers produce and the analysis
computes."""

from __future__ import annotations

import pytest

from geo_service.data.catalog import LayerSpec
from geo_service.data.district_catalog import planner_definition, source_layer_entries
from geo_service.data.profile import load_profile
from geo_service.importing.osm_schema import GEOMETRY_TYPES, LAYER_SCHEMAS
from geo_service.maps.definition import MapDefinition
from geo_service.pipeline.derived_catalog import derived_layer_entries
from tests.support import ROOT


@pytest.fixture(scope="module")
def binhu():
    return load_profile(ROOT)


def test_source_entries_are_the_osm_import_schemas(binhu):
    entries = {e["id"]: LayerSpec.model_validate(e) for e in source_layer_entries(binhu)}
    assert set(entries) == set(LAYER_SCHEMAS)
    for layer, columns in LAYER_SCHEMAS.items():
        assert entries[layer].property_names == list(columns), layer
        assert entries[layer].geometry_type == GEOMETRY_TYPES[layer]


def test_derived_entries_follow_the_analysis_configuration(binhu, catalog):
    entries = {e["id"]: LayerSpec.model_validate(e) for e in derived_layer_entries(binhu)}
    generated = entries["compound_coverage"].property_names
    committed = catalog.get("compound_coverage").property_names
    per_set = [c for c in committed if c.startswith(("centre", "park", "trail"))]
    assert [c for c in generated if c in per_set] == per_set
    reach = [c for c in catalog.get("community_coverage").property_names if "reach_" in c]
    assert [c for c in entries["community_coverage"].property_names if "reach_" in c] == reach
    lacks = entries["community_coverage"].get_property("lacks").enum
    assert lacks == catalog.get("community_coverage").get_property("lacks").enum
    circles = entries["service_circles"].get_property("facility_set").enum
    assert circles == tuple(s.key for s in binhu.analysis.facility_sets)


def test_planner_definition_names_only_generated_layers(binhu):
    definition = MapDefinition.model_validate(planner_definition(binhu))
    ids = {e["id"] for e in [*source_layer_entries(binhu), *derived_layer_entries(binhu)]}
    assert {entry.layer for entry in definition.layers} <= ids
