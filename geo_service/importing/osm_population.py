"""The ``compounds`` layer (where people live, the demand) and its population estimate.

Compounds are residential buildings (``building=apartments|residential|house|...``, the
keys of ``compounds.building_levels`` in the tag mapping; optionally ``building=yes``
inside ``landuse=residential`` without an amenity, shop, office, ... tag), or
``landuse=residential`` areas. The population of each
comes from, first to last:

1. ``table`` (``PopulationOptions.table``): a CSV (``id,population[,households]``) or a
   dict ``{id: population}``; ``population_source`` ``"table"``;
2. the ``population`` tag (digits, thousands separators allowed): ``"tag"``;
3. an estimate from the floor area: ``"floor_area"`` for buildings, footprint (m²) ×
   storeys (``building:levels``, else the building type's default in the mapping: 6 for
   apartments, 4 residential, 5 dormitory, 2 house/detached/terraced, ...) × persons per
   m² (default 1/35); ``"landuse_area"`` for landuse areas, land area × floor-area ratio
   (default 1.5) × persons per m². Rounded half up.

``households`` is ``building:flats`` where tagged, else population / household size when
one is set, else null. Compounds with 0 residents are dropped and counted. Areas are
measured in the metric CRS; geometries stay lon/lat (EPSG:4326).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_service.crs import STORAGE_CRS
from geo_service.errors import ImportFailed
from geo_service.importing.osm_areas import clip_polygons, inside, names
from geo_service.importing.osm_mapping import CompoundRules
from geo_service.importing.osm_reader import OsmLayers

_COUNT = re.compile(r"\d+")


@dataclass(frozen=True)
class PopulationOptions:
    """How the demand layer is built and its population estimated.

    Parameters
    ----------
    source
        ``"buildings"`` (residential buildings) or ``"landuse"`` (``landuse=residential``
        areas).
    persons_per_m2
        Residents per m² of floor area; ``None`` takes the mapping's (1/35).
    building_yes_in_residential
        Also count ``building=yes`` inside ``landuse=residential`` as homes.
    table
        Known populations by compound id (``w123``, ``r45``): a CSV path with columns
        ``id``, ``population`` and optionally ``households``, or a dict.
    household_size
        Persons per household for the households estimate; ``None`` takes the mapping's.
    """

    source: Literal["buildings", "landuse"] = "buildings"
    persons_per_m2: float | None = None
    building_yes_in_residential: bool = False
    table: Path | str | Mapping[str, int] | None = None
    household_size: float | None = None

    def __post_init__(self) -> None:
        if self.source not in ("buildings", "landuse"):
            raise ImportFailed(f"population source must be buildings or landuse: {self.source!r}")
        for name in ("persons_per_m2", "household_size"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ImportFailed(f"{name} must be > 0, not {value}")


def load_population_table(table: Path | str | Mapping[str, int]) -> pd.DataFrame:
    """A population table indexed by compound id: ``population`` and ``households``."""
    if isinstance(table, Mapping):
        frame = pd.DataFrame({"id": list(table), "population": list(table.values())})
    else:
        try:
            frame = pd.read_csv(table, dtype={"id": str})
        except (OSError, ValueError) as exc:
            raise ImportFailed(f"{table}: cannot read the population table: {exc}") from exc
    missing = {"id", "population"} - set(frame.columns)
    if missing:
        raise ImportFailed(f"population table needs columns id, population; missing {missing}")
    duplicated = frame["id"].astype(str)[frame["id"].astype(str).duplicated()]
    if len(duplicated):
        raise ImportFailed(f"population table: ids listed twice: {sorted(set(duplicated))[:5]}")
    population = pd.to_numeric(frame["population"], errors="coerce")
    if population.isna().any() or (population < 0).any():
        raise ImportFailed("population table: every population must be a number >= 0")
    households = frame["households"] if "households" in frame else pd.Series(np.nan, frame.index)
    return pd.DataFrame(
        {
            "population": np.floor(population.to_numpy(float) + 0.5).astype(np.int64),
            "households": pd.to_numeric(households, errors="coerce").to_numpy(float),
        },
        index=frame["id"].astype(str).to_numpy(),
    )


def parse_count(values: np.ndarray) -> np.ndarray:
    """Whole numbers from tag text (``"1200"``, ``"1,200"``, ``"1 200"``); NaN otherwise."""
    result = np.full(len(values), np.nan)
    for i, value in enumerate(values):
        if isinstance(value, str):
            digits = re.sub(r"[,\s\u202f\u00a0]", "", value)
            if _COUNT.fullmatch(digits):
                result[i] = float(digits)
    return result


def parse_levels(values: np.ndarray) -> np.ndarray:
    """``building:levels`` as a positive number of storeys; NaN where absent or not one."""
    levels = np.array(pd.to_numeric(pd.Series(values, dtype=object), errors="coerce"), float)
    levels[~(levels > 0)] = np.nan
    return levels


def _residential(layers: OsmLayers, rules: CompoundRules, options: PopulationOptions):
    """Residential buildings, or landuse areas, with their floor-area multiplier (storeys
    or floor-area ratio) and the population source of an estimate."""
    polygons = layers.multipolygons
    if options.source == "landuse":
        frame = polygons[polygons["landuse"].isin(rules.landuse)]
        factor = np.full(len(frame), rules.landuse_floor_area_ratio)
        return frame, factor, "landuse_area"
    homes = polygons["building"].isin(list(rules.building_levels))
    if options.building_yes_in_residential:
        landuse = polygons[polygons["landuse"].isin(rules.landuse)].geometry.to_numpy()
        other_use = polygons[rules.non_residential_keys].notna().any(axis=1)
        yes = np.flatnonzero((polygons["building"].eq("yes") & ~other_use).to_numpy())
        points = shapely.point_on_surface(polygons.geometry.to_numpy()[yes])
        hit, _ = shapely.STRtree(landuse).query(points, predicate="covered_by")
        homes.iloc[yes[np.unique(hit)]] = True
    frame = polygons[homes]
    default = frame["building"].map(dict(rules.building_levels)).fillna(rules.building_yes_levels)
    levels = parse_levels(frame["building:levels"].to_numpy(dtype=object))
    factor = np.where(np.isnan(levels), default.to_numpy(float), levels)
    return frame, factor, "floor_area"


def compounds(
    layers: OsmLayers,
    rules: CompoundRules,
    options: PopulationOptions,
    district: shapely.Geometry,
    metric_crs,
) -> tuple[gpd.GeoDataFrame, dict[str, int], list[str]]:
    """The ``compounds`` layer in ``district`` (buildings by their representative point;
    landuse areas clipped), with population; see the module docstring."""
    frame, factor, estimate_source = _residential(layers, rules, options)
    geometry = frame.geometry.to_numpy()
    if options.source == "landuse":
        geometry = clip_polygons(geometry, district)
        kept = ~pd.isna(geometry)
    else:
        kept = inside(geometry, district)
    frame, factor, geometry = frame[kept], factor[kept], geometry[kept]
    area_m2 = gpd.GeoSeries(geometry, crs=STORAGE_CRS).to_crs(metric_crs).area.to_numpy()
    floor_area = area_m2 * factor
    persons_per_m2 = options.persons_per_m2 or rules.persons_per_m2
    population = np.floor(floor_area * persons_per_m2 + 0.5)
    source = np.full(len(frame), estimate_source, dtype=object)
    tagged = parse_count(frame["population"].to_numpy(dtype=object))
    population = np.where(np.isnan(tagged), population, tagged)
    source[~np.isnan(tagged)] = "tag"
    households = parse_count(frame["building:flats"].to_numpy(dtype=object))
    ids = frame["key"].to_numpy(dtype=object)
    notes = []
    if options.table is not None:
        table = load_population_table(options.table)
        known = pd.Series(ids).isin(table.index).to_numpy()
        population[known] = table["population"].reindex(ids[known]).to_numpy()
        table_households = table["households"].reindex(ids[known]).to_numpy()
        households[known] = np.where(
            np.isnan(table_households), households[known], table_households
        )
        source[known] = "table"
        unknown = len(set(table.index) - set(ids))
        if unknown:
            notes.append(f"{unknown} population table ids are not compounds in the district")
    household_size = options.household_size or rules.household_size
    if household_size is not None:
        estimate = np.floor(population / household_size + 0.5)
        households = np.where(np.isnan(households), estimate, households)
    result = gpd.GeoDataFrame(
        {
            "id": ids,
            "osm_id": frame["osm_id"].to_numpy(dtype=np.int64),
            "osm_type": frame["osm_type"].to_numpy(dtype=object),
            **names(frame),
            "population": population.astype(np.int64),
            "households": pd.array(np.where(np.isnan(households), None, households), dtype="Int64"),
            "population_source": source,
            "floor_area_m2": floor_area,
        },
        geometry=geometry,
        crs=STORAGE_CRS,
    )
    empty = result["population"].to_numpy() == 0
    result = result[~empty].reset_index(drop=True)
    counts = {
        "compounds_matched": len(kept),
        "compounds_outside": int((~kept).sum()),
        "compounds_dropped_no_residents": int(empty.sum()),
        "compounds": len(result),
        "population": int(result["population"].sum()),
    }
    if empty.any():
        notes.append(f"{int(empty.sum())} compounds dropped: 0 residents")
    return result, counts, notes
