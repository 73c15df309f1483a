"""Turn the generated geometry into the demo layers' attribute tables (catalog order)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from geo_service.crs import STORAGE_CRS
from geo_service.data.vocabulary import SERVICE_VOCABULARY
from geo_service.demo import binhu
from geo_service.demo.binhu import METRIC_CRS
from geo_service.demo.compounds import allocate
from geo_service.demo.geography import as_multipolygon
from geo_service.demo.landmarks import landmark_table

_CORE_SERVICES = ("party_education", "deliberation", "volunteer_service")
#: Share of community centres offering each of the other services.
_OPTIONAL_SERVICES = {
    "elderly_care": 0.85,
    "childrens_room": 0.5,
    "legal_aid": 0.4,
    "health": 0.55,
    "culture": 0.7,
}
_LEVEL_NAMES = {"district": ("党群服务中心", "Party-and-Public Service Centre")}


def _frame(columns: dict, geometry, crs=METRIC_CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=list(geometry), crs=crs)


def _km2(geometry) -> np.ndarray:
    return np.round(shapely.area(np.array(list(geometry), dtype=object)) / 1e6, 3)


def _inside(points, polygons: gpd.GeoDataFrame, column: str = "id") -> np.ndarray:
    """The ``column`` value of the polygon containing each point."""
    idx_point, idx_polygon = shapely.STRtree(polygons.geometry.to_numpy()).query(
        np.asarray(points, dtype=object), predicate="within"
    )
    result = np.full(len(points), None, dtype=object)
    result[idx_point] = polygons[column].to_numpy()[idx_polygon]
    return result


def water_table(lake, lake_source: dict, lihu: Polygon) -> gpd.GeoDataFrame:
    """Taihu (GSHHG shoreline, LGPL) and Lihu (synthetic outline), lon/lat."""
    return _frame(
        {
            "id": ["taihu", "lihu"],
            "name_zh": [lake_source["name_zh"], "蠡湖"],
            "name_en": [lake_source["name_en"], "Lihu Lake (Wuli Lake)"],
            "synthetic": [False, True],
            "source": [
                lake_source["source"] + "; " + lake_source["accuracy"],
                "Hand-drawn synthetic outline near the real Lihu; not surveyed.",
            ],
            "licence": [lake_source["licence"], "CC0-1.0"],
        },
        [MultiPolygon([lake]) if lake.geom_type == "Polygon" else lake, MultiPolygon([lihu])],
        crs=STORAGE_CRS,
    )


def centre_table(
    centres: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame,
    rng: np.random.Generator,
) -> gpd.GeoDataFrame:
    """Service centres with level, names, services, opening hours and capacity."""
    units = {u.code: u for u in binhu.UNITS}
    names = communities.set_index("id")
    community_id = _inside(centres.geometry, communities)
    ids, zh, en, services, hours, capacity = [], [], [], [], [], []
    for level, unit in zip(centres["level"], centres["unit"], strict=True):
        if level == "district":
            ids.append("D00")
            zh.append(binhu.DISTRICT["name_zh"] + "党群服务中心")
            en.append(binhu.DISTRICT["name_en"] + " Party-and-Public Service Centre")
            offered, hours_text, cap = SERVICE_VOCABULARY, "Mo-Su 08:30-20:30", 800
        elif level == "subdistrict":
            ids.append(f"S-{unit}")
            zh.append(units[unit].name_zh + "党群服务中心")
            en.append(units[unit].name_en + " Party-and-Public Service Centre")
            offered = SERVICE_VOCABULARY
            hours_text, cap = "Mo-Sa 08:30-20:00", int(rng.integers(20, 50)) * 10
        else:
            ids.append(f"C-{unit}")
            zh.append(names.loc[unit, "name_zh"] + "党群服务中心")
            en.append(names.loc[unit, "name_en"] + " Party-and-Public Service Centre")
            draws = rng.uniform(size=len(_OPTIONAL_SERVICES))
            offered = [
                *_CORE_SERVICES,
                *(
                    s
                    for (s, share), u in zip(_OPTIONAL_SERVICES.items(), draws, strict=True)
                    if u < share
                ),
            ]
            hours_text = binhu.OPENING_HOURS_CHOICES[rng.integers(len(binhu.OPENING_HOURS_CHOICES))]
            cap = int(rng.integers(6, 21)) * 10
        services.append(";".join(s for s in SERVICE_VOCABULARY if s in offered))
        hours.append(hours_text)
        capacity.append(cap)
    subdistrict = names["subdistrict_id"].reindex(community_id).to_numpy()
    return _frame(
        {
            "id": ids,
            "name_zh": zh,
            "name_en": en,
            "level": centres["level"].to_numpy(),
            "community_id": community_id,
            "subdistrict_id": subdistrict,
            "services": services,
            "opening_hours": hours,
            "capacity": capacity,
        },
        centres.geometry,
    )


def layer_tables(
    *,
    lake,
    lake_source,
    lihu,
    unit_land,
    communities,
    compounds,
    entrances,
    roads,
    facilities,
    rng,
) -> dict[str, gpd.GeoDataFrame]:
    """Every demo layer (metric CRS except water), with catalog-ordered columns."""
    compound_ids = []
    for community_id, group in compounds.groupby("community_id", sort=False):
        compound_ids += [f"{community_id}-{j:02d}" for j in range(1, len(group) + 1)]
    compounds = compounds.assign(id=compound_ids)
    per_community = compounds.groupby("community_id").agg(
        compounds=("id", "size"), population=("population", "sum"), households=("households", "sum")
    )
    per_community = per_community.reindex(communities["id"]).fillna(0).astype(int)
    groups = allocate(
        per_community["population"].to_numpy(float),
        binhu.ARTICLE_FIGURES["party_groups"],
        2,
        np.full(len(communities), 10**6),
    )
    community_table = _frame(
        {
            "id": communities["id"].to_numpy(),
            "name_zh": communities["name_zh"].to_numpy(),
            "name_en": communities["name_en"].to_numpy(),
            "name_source": communities["name_source"].to_numpy(),
            "subdistrict_id": communities["subdistrict_id"].to_numpy(),
            "population": per_community["population"].to_numpy(),
            "households": per_community["households"].to_numpy(),
            "compounds": per_community["compounds"].to_numpy(),
            "party_groups": groups,
            "land_area_km2": _km2(communities.geometry),
        },
        [as_multipolygon(g) for g in communities.geometry],
    )

    units = {u.code: u for u in binhu.UNITS}
    per_unit = community_table.groupby("subdistrict_id").agg(
        communities=("id", "size"), population=("population", "sum"), compounds=("compounds", "sum")
    )
    codes = list(unit_land)
    subdistrict_table = _frame(
        {
            "id": codes,
            "name_zh": [units[c].name_zh for c in codes],
            "name_en": [units[c].name_en for c in codes],
            "kind": [units[c].kind for c in codes],
            "communities": per_unit.loc[codes, "communities"].to_numpy(),
            "compounds": per_unit.loc[codes, "compounds"].to_numpy(),
            "population": per_unit.loc[codes, "population"].to_numpy(),
            "land_area_km2": _km2(unit_land.values()),
        },
        list(unit_land.values()),
    )

    district_shape = as_multipolygon(shapely.union_all(list(unit_land.values()), grid_size=0.01))
    district_table = _frame(
        {
            **{k: [v] for k, v in binhu.DISTRICT.items()},
            "land_area_km2": _km2([district_shape]),
            "population": [int(compounds["population"].sum())],
            "households": [int(compounds["households"].sum())],
            "census_population_2020": [binhu.CENSUS_POPULATION_2020],
            **{k: [v] for k, v in binhu.ARTICLE_FIGURES.items()},
        },
        [district_shape],
    )

    compound_table = _frame(
        {
            "id": compounds["id"].to_numpy(),
            "name_zh": ["示例小区 " + i for i in compounds["id"]],
            "name_en": ["Demo Compound " + i for i in compounds["id"]],
            "community_id": compounds["community_id"].to_numpy(),
            "subdistrict_id": compounds["subdistrict_id"].to_numpy(),
            "population": compounds["population"].to_numpy(),
            "households": compounds["households"].to_numpy(),
            "party_branch": np.ones(len(compounds), dtype=bool),
            "entrances": np.bincount(entrances["compound"], minlength=len(compounds)),
            "area_m2": np.round(compounds.area.to_numpy()).astype(int),
        },
        compounds.geometry,
    )

    gate_compound = compounds.iloc[entrances["compound"].to_numpy()]
    gate_number = entrances.groupby("compound").cumcount().to_numpy() + 1
    entrance_table = _frame(
        {
            "id": [f"{c}-G{n}" for c, n in zip(gate_compound["id"], gate_number, strict=True)],
            "compound_id": gate_compound["id"].to_numpy(),
            "community_id": gate_compound["community_id"].to_numpy(),
            "kind": np.where(gate_number == 1, "main", "side"),
        },
        entrances.geometry,
    )

    is_bridge = (roads["road_class"] == "bridge").to_numpy()
    road_table = _frame(
        {
            "id": [f"R{i:05d}" for i in range(1, len(roads) + 1)],
            "road_class": np.where(is_bridge, "primary", roads["road_class"]),
            "name": roads["name"].to_numpy(),
            "bridge": is_bridge,
            "length_m": np.round(roads.length.to_numpy(), 1),
        },
        roads.geometry,
    )

    centres = centre_table(facilities["service_centres"], communities, compounds, rng)
    names = communities.set_index("id")
    parks = facilities["pocket_parks"]
    park_table = _frame(
        {
            "id": [f"P{i:02d}" for i in range(1, len(parks) + 1)],
            "name_zh": [names.loc[c, "name_zh"] + "党建小游园" for c in parks["community_id"]],
            "name_en": [
                names.loc[c, "name_en"] + " Party-building Pocket Park"
                for c in parks["community_id"]
            ],
            "community_id": parks["community_id"].to_numpy(),
            "subdistrict_id": names.loc[parks["community_id"], "subdistrict_id"].to_numpy(),
            "area_m2": rng.integers(3, 30, size=len(parks)) * 100,
        },
        parks.geometry,
    )
    trails = facilities["trails"]
    trail_table = _frame(
        {
            "id": [f"T{i:02d}" for i in range(1, len(trails) + 1)],
            "name_zh": [names.loc[c, "name_zh"] + "党建步道" for c in trails["community_id"]],
            "name_en": [
                names.loc[c, "name_en"] + " Party-building Trail" for c in trails["community_id"]
            ],
            "community_id": trails["community_id"].to_numpy(),
            "subdistrict_id": names.loc[trails["community_id"], "subdistrict_id"].to_numpy(),
            "length_m": np.round(trails.length.to_numpy(), 1),
        },
        trails.geometry,
    )
    homes = facilities["central_households"]
    home_compound = compounds.iloc[homes["compound"].to_numpy()]
    household_table = _frame(
        {
            "id": [f"H{i:03d}" for i in range(1, len(homes) + 1)],
            "compound_id": home_compound["id"].to_numpy(),
            "community_id": home_compound["community_id"].to_numpy(),
            "subdistrict_id": home_compound["subdistrict_id"].to_numpy(),
        },
        homes.geometry,
    )

    seats = landmark_table(centres, road_table, unit_land)
    seat_community = _inside(seats.geometry, communities)
    landmarks = _frame(
        {
            **{column: seats[column].to_numpy() for column in seats.columns.drop("geometry")},
            "community_id": seat_community,
            "subdistrict_id": names["subdistrict_id"].reindex(seat_community).to_numpy(),
        },
        seats.geometry,
    )

    return {
        "district": district_table,
        "subdistricts": subdistrict_table,
        "communities": community_table,
        "water": water_table(lake, lake_source, lihu),
        "roads": road_table,
        "compounds": compound_table,
        "compound_entrances": entrance_table,
        "service_centres": centres,
        "pocket_parks": park_table,
        "trails": trail_table,
        "central_households": household_table,
        "landmarks": landmarks,
    }
