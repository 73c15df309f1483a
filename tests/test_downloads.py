"""Downloads in every format, read back with GDAL (pyogrio): every value survives."""

from __future__ import annotations

import csv
import io
import zipfile

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

FORMATS = ["gpkg", "shp", "csv", "fgb", "kml", "geojson"]


def _download(api, tmp_path, layer: str, fmt: str, **params):
    response = api.get(f"/downloads/{layer}.{fmt}", params=params)
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and layer in disposition
    path = tmp_path / f"{layer}.{'zip' if fmt == 'shp' else fmt}"
    path.write_bytes(response.content)
    return path, response


def _read_back(path, fmt: str, layer: str):
    if fmt == "shp":
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            assert {
                f"{layer}.shp",
                f"{layer}.dbf",
                f"{layer}.shx",
                f"{layer}.prj",
                f"{layer}.cpg",
                "fields.csv",
            } <= set(names)
            assert archive.read(f"{layer}.cpg").decode().strip().upper() in ("UTF-8", "UTF8")
            listing = archive.read("fields.csv").decode("utf-8-sig")
        mapping = {
            row["shapefile_field"]: row["property"] for row in csv.DictReader(io.StringIO(listing))
        }
        frame = pyogrio.read_dataframe(f"/vsizip/{path}/{layer}.shp")
        return frame.rename(columns=mapping)
    if fmt == "csv":
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # BOM for Excel
        table = pd.read_csv(
            io.BytesIO(raw), encoding="utf-8-sig", keep_default_na=False, na_values=[""]
        )
        via_gdal = pyogrio.read_dataframe(path, encoding="UTF-8")
        assert len(via_gdal) == len(table)
        if "WKT" in table:
            geometry = shapely.from_wkt(table.pop("WKT"))
        else:
            geometry = shapely.points(table.pop("lon"), table.pop("lat"))
        return table.assign(geometry=geometry)
    return pyogrio.read_dataframe(path)


def _same(expected: pd.Series, got: pd.Series) -> bool:
    if expected.dtype == bool or str(expected.dtype) == "bool":
        return list(expected.astype(bool)) == list(got.astype(bool))
    if pd.api.types.is_numeric_dtype(expected):
        return np.allclose(expected.astype(float), pd.to_numeric(got).astype(float), equal_nan=True)
    return list(expected.fillna("")) == list(got.fillna("").astype(str))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layer", ["service_centres", "compounds", "compound_coverage"])
def test_every_value_survives(api, demo, tmp_path, layer, fmt):
    expected = demo[layer] if layer in demo else _coverage(api)
    path, _ = _download(api, tmp_path, layer, fmt)
    got = _read_back(path, fmt, layer)
    assert len(got) == len(expected)
    got = got.set_index(got["id"].astype(str)).loc[expected["id"]]
    for column in expected.columns.drop("geometry"):
        assert _same(expected[column].reset_index(drop=True), got[column].reset_index(drop=True)), (
            layer,
            fmt,
            column,
        )
    distance = shapely.hausdorff_distance(
        shapely.force_2d(np.asarray(got.geometry)), np.asarray(expected.geometry)
    )
    assert distance.max() < 1e-6


def _coverage(api):
    import geopandas as gpd

    body = api.get("/layers/compound_coverage.geojson").content
    return gpd.read_file(io.BytesIO(body))


def test_filters_apply_to_downloads(api, demo, tmp_path):
    path, _ = _download(
        api, tmp_path, "compounds", "gpkg", bbox="120.25,31.54,120.28,31.57", subdistrict_id="LY"
    )
    got = pyogrio.read_dataframe(path)
    box = shapely.box(120.25, 31.54, 120.28, 31.57)
    compounds = demo["compounds"]
    expected = compounds[compounds.intersects(box) & (compounds["subdistrict_id"] == "LY")]
    assert sorted(got["id"]) == sorted(expected["id"]) and len(got) > 0


def test_long_shapefile_field_names_are_mapped_and_listed(api, tmp_path):
    path, _ = _download(api, tmp_path, "compound_coverage", "shp")
    with zipfile.ZipFile(path) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("fields.csv").decode("utf-8-sig"))))
    short = [r["shapefile_field"] for r in rows]
    assert all(len(name) <= 10 for name in short) and len(set(short)) == len(short)
    long_names = {r["property"]: r["shapefile_field"] for r in rows if len(r["property"]) > 10}
    assert "centre_community_m" in long_names


def test_downloads_in_another_crs(api, tmp_path):
    path, response = _download(
        api,
        tmp_path,
        "service_centres",
        "gpkg",
        crs="http://www.opengis.net/def/crs/EPSG/0/4549",
    )
    frame = pyogrio.read_dataframe(path)
    assert frame.crs.to_epsg() == 4549
    assert 500_000 < frame.geometry.x.mean() < 540_000  # eastings of Wuxi
    assert response.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4549>"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/downloads/central_households.gpkg", 404),
        ("/downloads/nope.gpkg", 404),
        ("/downloads/compounds.exe", 400),
        ("/downloads/compounds.gpkg?colour=red", 400),
        ("/collections/compounds/items?f=pdf", 400),
    ],
)
def test_bad_downloads(api, path, status):
    response = api.get(path)
    assert response.status_code == status
    assert response.json()["description"]


def test_items_f_parameter_gives_the_same_download(api):
    via_items = api.get("/collections/trails/items", params={"f": "geojson"})
    via_downloads = api.get("/downloads/trails.geojson")
    assert via_items.content == via_downloads.content
    assert "trails.geojson" in via_items.headers["content-disposition"]


@pytest.mark.parametrize("layer", ["service_centres", "community_coverage"])
def test_workbook_has_titled_columns_and_every_value(api, catalog, tmp_path, layer):
    from geo_service.data.export import column_title

    path, response = _download(api, tmp_path, layer, "xlsx")
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    got = pyogrio.read_dataframe(path)
    spec = catalog.get(layer)
    body = api.get(f"/collections/{layer}/items", params={"limit": 1000}).json()
    expected = pd.DataFrame([f["properties"] for f in body["features"]])
    assert len(got) == len(expected)
    for name in spec.property_names:
        header = column_title(spec, name)
        label = spec.get_property(name).title or spec.get_property(name).description
        assert header.startswith(label.zh) and f"({name})" in header  # people's headers
        assert _same(expected[name], got[header]), (layer, name)
    if spec.geometry_type == "Point":
        lon = [f["geometry"]["coordinates"][0] for f in body["features"]]
        assert np.allclose(got["经度 Longitude"].astype(float), lon)
