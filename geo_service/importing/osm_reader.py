"""Reading an OpenStreetMap extract (.osm.pbf or .osm XML) with GDAL's OSM driver.

pyogrio's bundled GDAL reads four layers: ``points`` (tagged nodes), ``lines`` (ways that
are not areas), ``multipolygons`` (closed ways that are areas, and multipolygon/boundary
relations) and ``multilinestrings`` (route relations). The driver's osmconf.ini is written
per read from the tag mapping, so every tag the rules look at arrives as a column of its
own (``name:en``, ``building:levels``, ...) and nothing has to be parsed from ``other_tags``.

GDAL reports broken relations of clipped extracts (rings that do not close) as warnings;
they are recorded here (``warnings.catch_warnings`` around each layer read, so not
thread-safe: run imports one at a time per process) and become notes; features whose
geometry cannot be built are dropped and counted. A read emits no warnings.
"""

from __future__ import annotations

import tempfile
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyogrio.raw import read

from geo_service.crs import STORAGE_CRS
from geo_service.errors import ImportFailed
from geo_service.importing.osm_mapping import TagMapping

LAYERS = ("points", "lines", "multipolygons", "multilinestrings")
OSM_TYPE_PREFIX = {"node": "n", "way": "w", "relation": "r"}

#: Tags read besides those the mapping names.
BASE_KEYS = (
    "name",
    "name:en",
    "name:zh",
    "highway",
    "footway",
    "foot",
    "access",
    "area",
    "sidewalk",
    "sidewalk:both",
    "sidewalk:left",
    "sidewalk:right",
    "bridge",
    "tunnel",
    "route",
    "type",
    "boundary",
    "admin_level",
    "building",
    "building:levels",
    "building:flats",
    "landuse",
    "leisure",
    "population",
    "opening_hours",
    "alt_name",
    "short_name",
    "official_name",
    "loc_name",
    "old_name",
    "addr:full",
    "addr:street",
    "addr:housenumber",
    "phone",
    "contact:phone",
)
#: GDAL's default list of keys whose closed ways are areas.
_AREA_KEYS = (
    "aeroway,amenity,boundary,building,craft,geological,historic,landuse,leisure,military,"
    "natural,office,place,shop,sport,tourism,highway=platform,public_transport=platform"
)
_IGNORE = "created_by,converted_by,source,time,ele,note,todo,openGeoDB:,fixme,FIXME"
#: The driver keeps its node index in memory up to MAX_TMPFILE_SIZE MB (default 100) and
#: allocates all of it on every open; sized to the file (MB of index per MB of file), reads
#: of small extracts take a tenth of the time.
_INDEX_MB_PER_FILE_MB = 20
_INDEX_MB = (10, 100)


@dataclass
class OsmLayers:
    """The four layers as GeoDataFrames in EPSG:4326, one column per tag key (null where
    untagged) plus ``osm_type``, ``osm_id`` (int) and ``key`` (``n1``, ``w2``, ``r3``)."""

    points: gpd.GeoDataFrame
    lines: gpd.GeoDataFrame
    multipolygons: gpd.GeoDataFrame
    multilinestrings: gpd.GeoDataFrame
    read: dict[str, int] = field(default_factory=dict)
    unbuildable: dict[str, int] = field(default_factory=dict)
    repaired: int = 0
    gdal_messages: Counter[str] = field(default_factory=Counter)


def osmconf(mapping: TagMapping) -> str:
    """The text of an osmconf.ini that reads every key the mapping uses as a column."""
    keys = ",".join(dict.fromkeys([*BASE_KEYS, *mapping.tag_keys]))
    area_keys = ",".join(dict.fromkeys([*_AREA_KEYS.split(","), *mapping.area_keys]))
    parts = [
        "[general]",
        f"closed_ways_are_polygons={area_keys}",
        "attribute_name_laundering=no",
    ]
    for layer in LAYERS:
        parts += [
            f"[{layer}]",
            "osm_id=yes",
            f"attributes={keys}",
            "other_tags=no",
            f"ignore={_IGNORE}",
        ]
        if layer == "points":
            parts.append("unsignificant=created_by,converted_by,source,time,ele,attribution")
    parts += ["[other_relations]", "osm_id=yes", "attributes=name,type", "other_tags=no"]
    return "\n".join(parts) + "\n"


def read_osm(
    path: Path | str,
    mapping: TagMapping,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    on_layer=None,
) -> OsmLayers:
    """Read the four layers of an extract; only features meeting ``bbox`` (lon/lat) if given.

    ``on_layer(name)`` is called after each layer (for progress). Raises
    :class:`~geo_service.errors.ImportFailed` if the file cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(f"{path}: no such OpenStreetMap extract")
    messages: Counter[str] = Counter()
    frames, unbuildable, repaired = {}, {}, 0
    size_mb = path.stat().st_size / 2**20
    index_mb = int(np.clip(np.ceil(size_mb * _INDEX_MB_PER_FILE_MB), *_INDEX_MB))
    with tempfile.TemporaryDirectory(prefix="geo_service_osm_") as tmp:
        config = Path(tmp) / "osmconf.ini"
        config.write_text(osmconf(mapping), encoding="utf-8")
        for layer in LAYERS:
            frame, dropped, fixed = _read_layer(path, layer, config, index_mb, bbox, messages)
            for key in [*BASE_KEYS, *mapping.tag_keys]:
                if key not in frame:
                    frame[key] = None
            frames[layer], unbuildable[layer] = frame, dropped
            repaired += fixed
            if on_layer is not None:
                on_layer(layer)
    return OsmLayers(
        **frames,
        read={layer: len(frames[layer]) + unbuildable[layer] for layer in LAYERS},
        unbuildable=unbuildable,
        repaired=repaired,
        gdal_messages=messages,
    )


def _read_layer(path: Path, layer: str, config: Path, index_mb: int, bbox, messages):
    options = {"CONFIG_FILE": str(config), "MAX_TMPFILE_SIZE": str(index_mb)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            meta, _, wkb, fields = read(path, layer=layer, bbox=bbox, **options)
        except (DataSourceError, DataLayerError) as exc:
            raise ImportFailed(
                f"{path}: not an OpenStreetMap extract GDAL can read: {exc}"
            ) from exc
    for warning in caught:
        if issubclass(warning.category, RuntimeWarning):  # GDAL's CPLE warnings
            messages[str(warning.message)] += 1
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    table = pd.DataFrame(dict(zip(meta["fields"], fields, strict=True)))
    geometry = shapely.from_wkb(wkb, on_invalid="ignore")
    built = ~shapely.is_missing(geometry)
    repaired = 0
    if layer == "multipolygons":
        invalid = built & ~shapely.is_valid(geometry)
        geometry[invalid] = polygonal(shapely.make_valid(geometry[invalid]))
        repaired = int(invalid.sum())
        built &= ~(shapely.is_missing(geometry) | shapely.is_empty(geometry))
    table = table.loc[built].reset_index(drop=True)
    table = table.astype(object).where(table.notna(), None)
    _add_ids(table, layer)
    frame = gpd.GeoDataFrame(table, geometry=geometry[built], crs=STORAGE_CRS)
    return frame, int((~built).sum()), repaired


def _add_ids(table: pd.DataFrame, layer: str) -> None:
    osm_id = table.pop("osm_id")
    if layer == "multipolygons":
        way_id = table.pop("osm_way_id")
        kind = np.where(osm_id.notna(), "relation", "way")
        osm_id = osm_id.where(osm_id.notna(), way_id)
    else:
        kind = {"points": "node", "lines": "way"}.get(layer, "relation")
        kind = np.full(len(table), kind, dtype=object)
    ids = osm_id.to_numpy(dtype=np.int64) if len(table) else np.zeros(0, dtype=np.int64)
    table.insert(0, "osm_type", kind.astype(object))
    table.insert(1, "osm_id", ids)
    table.insert(0, "key", osm_key(table["osm_type"], table["osm_id"]))


def osm_key(osm_type: pd.Series, osm_id: pd.Series) -> np.ndarray:
    """Feature ids in the OSM shorthand: ``n123``, ``w45``, ``r6``."""
    prefix = osm_type.map(OSM_TYPE_PREFIX).to_numpy(dtype=object)
    return (prefix + osm_id.astype(str).to_numpy(dtype=object)).astype(object)


def polygonal(geometries: np.ndarray) -> np.ndarray:
    """The polygonal part of each geometry as a MultiPolygon (None where there is none)."""
    geometries = np.asarray(geometries, dtype=object)
    parts, index = shapely.get_parts(geometries, return_index=True)
    keep = np.isin(shapely.get_type_id(parts), (3, 6))
    result = np.full(len(geometries), None, dtype=object)
    if keep.any():
        polygons = shapely.get_parts(parts[keep])
        owners = np.repeat(index[keep], shapely.get_num_geometries(parts[keep]))
        shapely.multipolygons(polygons, indices=owners, out=result)
    return result
