"""Read and write layer files as GeoJSON (RFC 7946, WGS 84 lon/lat).

The writer is deterministic (same frame, same bytes: fixed property order, coordinates
rounded to ``precision`` decimals, one feature per line) and atomic (a temporary file
renamed over the target), so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from geo_service.crs import STORAGE_CRS, is_storage_crs
from geo_service.data.catalog import LayerSpec

#: 7 decimals of a degree is about 1 cm on the ground.
COORDINATE_PRECISION = 7
#: Features made into text at a time when a layer is written to a file.
WRITE_CHUNK_ROWS = 50_000

# GDAL refuses a GeoJSON object over 200 MB by default; a city's dissolved service circle is
# one such feature. Our files are our own: no limit.
pyogrio.set_gdal_config_options({"OGR_GEOJSON_MAX_OBJ_SIZE": "0"})


def _json_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if value is getattr(np, "nan", None):
        return None
    return str(value) if not isinstance(value, str) else value


def round_coordinates(geometries: np.ndarray, precision: int = COORDINATE_PRECISION) -> np.ndarray:
    """Round every coordinate of ``geometries`` to ``precision`` decimals (vectorised)."""
    return shapely.transform(geometries, lambda xy: np.round(xy, precision))


def feature_texts(
    gdf: gpd.GeoDataFrame,
    *,
    id_property: str = "id",
    precision: int = COORDINATE_PRECISION,
    geometry: bool = True,
) -> list[str]:
    """Each row of ``gdf`` as the compact GeoJSON text of one Feature (coordinates as they
    are in ``gdf``, rounded to ``precision`` decimals; ``"geometry": null`` if not
    ``geometry``)."""
    geometries = round_coordinates(gdf.geometry.to_numpy(), precision) if geometry else None
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    records = gdf[columns].to_dict(orient="records")
    texts = []
    for i, record in enumerate(records):
        properties = {key: _json_value(value) for key, value in record.items()}
        shape = geometries[i] if geometry else None
        feature = {
            "type": "Feature",
            "id": properties.get(id_property),
            "properties": properties,
            "geometry": json.loads(shapely.to_geojson(shape)) if shape else None,
        }
        texts.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    return texts


def feature_collection_text(
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    description: str,
    id_property: str = "id",
    precision: int = COORDINATE_PRECISION,
) -> str:
    """The GeoJSON text of ``gdf`` (must be in EPSG:4326), one feature per line."""
    return "".join(
        feature_collection_pieces(
            gdf, name=name, description=description, id_property=id_property, precision=precision
        )
    )


def feature_collection_pieces(
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    description: str,
    id_property: str = "id",
    precision: int = COORDINATE_PRECISION,
    chunk_rows: int = WRITE_CHUNK_ROWS,
) -> Iterator[str]:
    """:func:`feature_collection_text` in pieces of at most ``chunk_rows`` features, made
    as they are asked for (a city's streets are never one string)."""
    if not is_storage_crs(gdf.crs):
        raise ValueError(f"GeoJSON is written in EPSG:4326, not {gdf.crs}")
    header = {"type": "FeatureCollection", "name": name, "description": description}
    yield json.dumps(header, ensure_ascii=False)[:-1] + ', "features": ['
    for start in range(0, len(gdf), chunk_rows):
        features = feature_texts(
            gdf.iloc[start : start + chunk_rows], id_property=id_property, precision=precision
        )
        yield ("\n" if start == 0 else ",\n") + ",\n".join(features)
    yield "\n]}\n"


def layer_geojson(spec: LayerSpec, frame: gpd.GeoDataFrame) -> bytes:
    """The features of ``frame`` (a layer ``spec`` describes, EPSG:4326) as a GeoJSON
    FeatureCollection in UTF-8 bytes, named by the layer id and described by its English
    title (marked synthetic where the data is)."""
    description = spec.title.en
    if spec.provenance.synthetic:
        description += " — synthetic demo data, not real."
    text = feature_collection_text(
        frame, name=spec.id, description=description, id_property=spec.id_property
    )
    return text.encode("utf-8")


def write_atomic(path: Path, text: str | Iterable[str]) -> None:
    """Write ``text`` (a string, or pieces written one after another) to ``path`` through
    a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.writelines([text] if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_geojson(gdf: gpd.GeoDataFrame, path: Path, *, name: str, description: str) -> None:
    """Write ``gdf`` to ``path`` as deterministic GeoJSON, atomically, in pieces."""
    write_atomic(path, feature_collection_pieces(gdf, name=name, description=description))


def read_geojson(path: Path) -> gpd.GeoDataFrame:
    """Read a GeoJSON layer file (EPSG:4326) into a GeoDataFrame."""
    gdf = pyogrio.read_dataframe(path)
    if gdf.crs is None:
        gdf = gdf.set_crs(STORAGE_CRS)
    return gdf
