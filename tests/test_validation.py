"""Data against catalog entries, on tiny fixtures."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, Polygon

from geo_service.data.validation import validate_layer


def _centres(catalog, **changes) -> gpd.GeoDataFrame:
    rows = {
        "id": ["C-1", "C-2"],
        "name_zh": ["甲中心", "乙中心"],
        "name_en": ["A", "B"],
        "level": ["community", "district"],
        "community_id": ["X01", "X02"],
        "subdistrict_id": ["X", "X"],
        "services": ["health;culture", "legal_aid"],
        "opening_hours": ["Mo-Fr 08:30-17:30", "Mo-Su 09:00-12:00"],
        "capacity": [50, 80],
    }
    rows.update(changes)
    return gpd.GeoDataFrame(
        rows, geometry=[Point(120.2, 31.5), Point(120.3, 31.55)], crs="EPSG:4326"
    )


def _messages(catalog, frame, layer="service_centres") -> list[str]:
    spec = catalog.get(layer).model_copy(update={"expected_count": None})
    return [str(p) for p in validate_layer(spec, frame)]


def test_clean_fixture_has_no_problems(catalog):
    assert _messages(catalog, _centres(catalog)) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"level": ["community", "city"]}, "field 'level': values outside"),
        ({"services": ["health;shopping", "culture"]}, "field 'services': values outside"),
        ({"opening_hours": ["Mo-Fx 25:00", "Mo-Fr 08:00-12:00"]}, "not valid OSM opening_hours"),
        ({"capacity": [0, 10]}, "field 'capacity': below minimum"),
        ({"capacity": ["many", "few"]}, "field 'capacity': expected integer"),
        ({"capacity": [1.5, 2.0]}, "field 'capacity': expected integer"),
        ({"id": ["C-1", "C-1"]}, "field 'id': must be unique"),
        ({"name_zh": ["甲中心", None]}, "field 'name_zh': required but empty in 1 feature(s): C-2"),
        ({"colour": ["red", "blue"]}, "field 'colour': not declared"),
    ],
)
def test_each_mismatch_is_named(catalog, changes, expected):
    messages = _messages(catalog, _centres(catalog, **changes))
    assert any(expected in m for m in messages), messages
    assert all(m.startswith("service_centres.geojson: field '") for m in messages)


def test_missing_required_column(catalog):
    frame = _centres(catalog).drop(columns="capacity")
    assert _messages(catalog, frame) == [
        "service_centres.geojson: field 'capacity': missing from the data"
    ]


def test_geometry_problems(catalog):
    bowtie = Polygon([(120, 31), (120.1, 31.1), (120.1, 31), (120, 31.1)])
    frame = _centres(catalog).set_geometry([Point(120.2, 31.5), bowtie])
    messages = _messages(catalog, frame)
    assert any("expected Point in 1 feature(s): C-2" in m for m in messages)
    assert any("invalid geometry (Self-intersection" in m for m in messages)


def test_wrong_crs_and_count(catalog):
    frame = _centres(catalog).to_crs("EPSG:4549")
    spec = catalog.get("service_centres")
    messages = [str(p) for p in validate_layer(spec, frame)]
    assert any("field 'crs': expected EPSG:4326" in m for m in messages)
    assert any("outside lon/lat range" in m for m in messages)
    assert any("expected 86 features, found 2" in m for m in messages)
