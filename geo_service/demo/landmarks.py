"""The demo district's landmarks: places residents name when they say where they are
(区政府), so the locator's search finds them. Only the seats of government, named after
the real district and its sub-districts and towns; where they stand is synthetic."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo_service.demo import binhu
from geo_service.demo.facilities import beside_road

#: Each seat of government stands off the road nearest this offset (east, north; metres)
#: from its level's service centre: near it, as in most districts, but not on top of it.
OFFSET_FROM_CENTRE_M = np.array([180.0, 120.0])


def _seat(unit: binhu.Unit) -> tuple[str, str, str]:
    """Chinese and English name of a unit's seat of government, and its other names."""
    short = unit.name_zh.removesuffix("街道").removesuffix("镇")
    if unit.kind == "town":
        return (
            f"{unit.name_zh}人民政府",
            f"{unit.name_en} People's Government",
            f"{unit.name_zh}政府;{short}政府",
        )
    return f"{unit.name_zh}办事处", f"{unit.name_en} Office", f"{short}街道办"


def landmark_table(
    centres: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, unit_land: dict
) -> gpd.GeoDataFrame:
    """The district's and each unit's seat of government, in the centres' metric CRS.

    Parameters
    ----------
    centres
        The service-centre table (``id``, ``level``, ``community_id``,
        ``subdistrict_id``; metres): a seat stands near its level's centre.
    roads
        The road table (``bridge``; metres): a seat stands off a road on land.
    unit_land
        Sub-district or town code → its land (metres).

    Returns
    -------
    geopandas.GeoDataFrame
        ``id``, ``name_zh``, ``name_en``, ``aliases`` (``;``-separated) and ``kind``
        (``townhall``); points in metres.
    """
    on_land = roads.geometry[~roads["bridge"].to_numpy()].to_numpy()
    by_id = centres.set_index("id")
    units = {unit.code: unit for unit in binhu.UNITS}
    rows = [
        (
            "L00",
            f"{binhu.DISTRICT['name_zh']}人民政府",
            f"{binhu.DISTRICT['name_en']} People's Government",
            f"区政府;区人民政府;{binhu.DISTRICT['name_zh']}政府;District Government",
            "D00",
            "HL",
        ),
        *((f"L-{code}", *_seat(units[code]), f"S-{code}", code) for code in unit_land),
    ]
    points, tree = [], shapely.STRtree(on_land)
    for *_, centre_id, land in rows:
        centre = by_id.geometry[centre_id]
        target = np.array([centre.x, centre.y]) + OFFSET_FROM_CENTRE_M
        points.append(beside_road(target, on_land, unit_land[land], tree))
    return gpd.GeoDataFrame(
        {
            "id": [row[0] for row in rows],
            "name_zh": [row[1] for row in rows],
            "name_en": [row[2] for row in rows],
            "aliases": [row[3] for row in rows],
            "kind": ["townhall"] * len(rows),
        },
        geometry=points,
        crs=centres.crs,
    )
