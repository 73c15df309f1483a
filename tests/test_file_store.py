"""The file store: whole layers, bbox and property queries, single features."""

from __future__ import annotations

import pytest

from geo_service.data.catalog import load_catalog
from geo_service.data.stores import FileStore
from geo_service.errors import DataValidationError, FeatureNotFound, InvalidQuery, LayerNotFound
from tests.support import CATALOG_DIR, DATA_DIR


@pytest.fixture(scope="module")
def store() -> FileStore:
    return FileStore(load_catalog(CATALOG_DIR), DATA_DIR)


def test_whole_layer_in_stored_order(store, demo):
    frame = store.query("service_centres")
    assert frame["id"].tolist() == demo["service_centres"]["id"].tolist()
    assert store.count("central_households") == 262


def test_bbox_and_property_filters(store, demo):
    bbox = (120.25, 31.54, 120.28, 31.57)
    hits = store.query("compounds", bbox=bbox, where={"subdistrict_id": "LY"})
    expected = demo["compounds"].cx[bbox[0] : bbox[2], bbox[1] : bbox[3]]
    expected = expected[expected["subdistrict_id"] == "LY"]
    assert sorted(hits["id"]) == sorted(expected["id"]) and len(hits) > 0
    assert store.query("service_centres", where={"level": "district"})["id"].tolist() == ["D00"]


def test_feature_lookup_and_errors(store):
    assert store.feature("communities", "HL01")["name_zh"].iloc[0] == "水秀社区"
    with pytest.raises(FeatureNotFound):
        store.feature("communities", "XX99")
    with pytest.raises(LayerNotFound):
        store.query("nope")
    with pytest.raises(InvalidQuery, match="no property 'colour'"):
        store.query("compounds", where={"colour": "red"})


def test_missing_file_stops_loading(data_copy):
    catalog_dir, data_dir = data_copy
    (data_dir / "water.geojson").unlink()
    with pytest.raises(DataValidationError, match=r"water\.geojson: field '\(file\)'"):
        FileStore(load_catalog(catalog_dir), data_dir)
