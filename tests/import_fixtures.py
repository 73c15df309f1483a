"""Files to import, built from the committed demo data: the service centres as a Chinese
spreadsheet (CSV, XLSX) in WGS 84, GCJ-02 or BD-09, as a GBK Shapefile, and any demo layer
in the vector formats GDAL writes."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geo_service.data.geojson_io import read_geojson
from geo_service.datums import wgs84_to_bd09, wgs84_to_gcj02
from tests.support import DATA_DIR

#: The centres' spreadsheet columns (as a Chinese office would name them) → properties.
CENTRE_COLUMNS = {
    "编号": "id",
    "名称": "name_zh",
    "英文名称": "name_en",
    "级别": "level",
    "社区": "community_id",
    "街道": "subdistrict_id",
    "服务": "services",
    "开放时间": "opening_hours",
    "容量": "capacity",
}
#: The column mapping for those spreadsheets.
CENTRE_MAPPING = {"columns": CENTRE_COLUMNS, "types": {"capacity": "integer"}}
_FORWARD = {"wgs84": lambda lon, lat: (lon, lat), "gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def demo_layer(layer_id: str) -> gpd.GeoDataFrame:
    """A committed demo layer (EPSG:4326)."""
    return read_geojson(DATA_DIR / f"{layer_id}.geojson")


def centres_table(centres: gpd.GeoDataFrame, datum: str = "wgs84") -> pd.DataFrame:
    """The centres as a table with Chinese column names and 经度/纬度 in ``datum``."""
    table = pd.DataFrame({source: centres[target] for source, target in CENTRE_COLUMNS.items()})
    lon, lat = _FORWARD[datum](centres.geometry.x.to_numpy(), centres.geometry.y.to_numpy())
    table["经度"], table["纬度"] = lon, lat
    return table.reset_index(drop=True)


def write_csv(table: pd.DataFrame, path: Path, *, encoding: str = "utf-8") -> Path:
    """``table`` as CSV in ``encoding`` (``utf-8-sig`` writes a byte-order mark)."""
    table.to_csv(path, index=False, encoding=encoding)
    return path


def write_xlsx(table: pd.DataFrame, path: Path, *, sheet: str = "centres") -> Path:
    """``table`` as an XLSX workbook with one sheet (written by GDAL)."""
    pyogrio.write_dataframe(table, path, driver="XLSX", layer=sheet)
    return path


def write_gbk_shapefile_zip(
    frame: gpd.GeoDataFrame, path: Path, *, language_driver: int = 0
) -> Path:
    """``frame`` as a zipped GBK Shapefile without ``.cpg``: Chinese field names and
    values, and only the .dbf header's ``language_driver`` id (0: none, 0x4D: GBK, as
    ArcGIS in China writes) to say which encoding they are in. The names inside the zip
    are GBK without the UTF-8 flag, as Windows in China zips them."""
    folder = path.parent / f"{path.stem}-parts"
    folder.mkdir()
    shp = folder / "服务中心.shp"
    pyogrio.write_dataframe(frame, shp, encoding="GBK")
    (folder / "服务中心.cpg").unlink()
    dbf = bytearray(shp.with_suffix(".dbf").read_bytes())
    dbf[29] = language_driver
    shp.with_suffix(".dbf").write_bytes(bytes(dbf))
    stand_in = "abcdefgh"  # as many bytes as 服务中心 in GBK, swapped for it below
    with zipfile.ZipFile(path, "w") as archive:
        for part in sorted(folder.iterdir()):
            archive.write(part, f"data/{stand_in}{part.suffix}")
    zipped = path.read_bytes().replace(stand_in.encode(), "服务中心".encode("gbk"))
    path.write_bytes(zipped)
    return path


def centres_with_chinese_fields(centres: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The centres with the spreadsheet's Chinese column names (fit a DBF's 10 bytes in GBK)."""
    renamed = {target: source for source, target in CENTRE_COLUMNS.items()}
    return centres.rename(columns=renamed)


def write_vector(frame: gpd.GeoDataFrame, path: Path, driver: str, layer: str) -> Path:
    """``frame`` written by GDAL's ``driver`` as layer ``layer`` (appended if ``path``
    exists; GeoJSON as RFC 7946, without a "crs" member)."""
    options = {"RFC7946": "YES"} if driver == "GeoJSON" else None
    pyogrio.write_dataframe(
        frame, path, driver=driver, layer=layer, append=path.exists(), layer_options=options
    )
    return path


def rendered(report) -> str:
    """An import report's table as the CLI prints it (plain text)."""
    import io

    from rich.console import Console

    console = Console(width=200, record=True, file=io.StringIO())
    console.print(report.table())
    return console.export_text()
