"""What the Binhu demo district is made of: outline, sub-districts, names and the article's figures.

Everything Binhu-specific in the generator lives here; the geometry code is generic.
Coordinates are WGS 84 lon/lat. The outline and seeds are hand-drawn approximations,
not surveyed boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyproj import CRS

#: The demo district is generated in CGCS2000 / 3-degree GK CM 120E (metres).
METRIC_CRS = CRS.from_epsg(4549)

DISTRICT = {
    "id": "binhu",
    "name_zh": "滨湖区",
    "name_en": "Binhu District",
    "city_zh": "无锡市",
    "city_en": "Wuxi",
}

#: The article's organisation figures (see shared/seed/facts.md).
ARTICLE_FIGURES = {
    "community_party_organisations": 78,
    "compound_party_branches": 471,
    "party_groups": 572,
    "central_households": 262,
    "alliances": 17,
    "service_centres": 86,
    "pocket_parks": 36,
    "trails": 46,
}
CENSUS_POPULATION_2020 = 592_984
#: Residents of the seven units the district runs (the rest live in the EDZ's parts).
TARGET_POPULATION = 500_000

#: Mainland outline of the seven units (the lake parts are cut away by the water layer).
MAINLAND_OUTLINE = [
    (120.092, 31.462), (120.088, 31.520), (120.098, 31.560), (120.118, 31.586),
    (120.145, 31.598), (120.190, 31.597), (120.235, 31.603), (120.275, 31.600),
    (120.300, 31.586), (120.312, 31.560), (120.318, 31.530), (120.322, 31.500),
    (120.318, 31.470), (120.300, 31.440), (120.290, 31.400), (120.200, 31.390),
    (120.150, 31.450), (120.060, 31.440),
]  # fmt: skip

#: Lihu (蠡湖): a synthetic outline; the GSHHG shoreline has no polygon of its own for it.
LIHU_OUTLINE = [
    (120.236, 31.522), (120.250, 31.517), (120.265, 31.519), (120.280, 31.523),
    (120.297, 31.526), (120.308, 31.532), (120.303, 31.539), (120.286, 31.537),
    (120.268, 31.535), (120.252, 31.533), (120.240, 31.531),
]  # fmt: skip


@dataclass(frozen=True)
class Unit:
    """A sub-district-level unit (街道 or 镇)."""

    code: str
    name_zh: str
    name_en: str
    kind: str  # "subdistrict" or "town"
    communities: int
    seeds: tuple[tuple[float, float], ...]  # lon/lat points whose Voronoi cells form it


#: The seven units the district runs; community counts sum to 78 (蠡湖: 10, per facts.md).
UNITS = (
    Unit("HL", "河埒街道", "Hele Subdistrict", "subdistrict", 14,
         ((120.262, 31.582), (120.240, 31.588))),
    Unit("RX", "荣巷街道", "Rongxiang Subdistrict", "subdistrict", 12,
         ((120.205, 31.577), (120.195, 31.548), (120.215, 31.525))),
    Unit("LY", "蠡园街道", "Liyuan Subdistrict", "subdistrict", 12,
         ((120.283, 31.556), (120.255, 31.550))),
    Unit("LH", "蠡湖街道", "Lihu Subdistrict", "subdistrict", 10,
         ((120.300, 31.512), (120.285, 31.505))),
    Unit("XL", "雪浪街道", "Xuelang Subdistrict", "subdistrict", 11,
         ((120.285, 31.465), (120.225, 31.470), (120.300, 31.430), (120.212, 31.430))),
    Unit("MS", "马山街道", "Mashan Subdistrict", "subdistrict", 7, ()),  # the island
    Unit("HD", "胡埭镇", "Hudai Town", "town", 12,
         ((120.120, 31.575), (120.105, 31.490), (120.150, 31.550), (120.110, 31.530))),
)  # fmt: skip

#: The communities the article names, with the unit each is placed in. Only 水秀's
#: sub-district (河埒) is in the article; the others are the generator's choice.
NAMED_COMMUNITIES = (
    ("HL", "水秀社区", "Shuixiu Community"),
    ("HL", "古竹社区", "Guzhu Community"),
    ("RX", "荣巷社区", "Rongxiang Community"),
    ("RX", "大箕山社区", "Dajishan Community"),
    ("LH", "蠡桥社区", "Liqiao Community"),
    ("LH", "美湖社区", "Meihu Community"),
    ("LY", "湖景社区", "Hujing Community"),
    ("LY", "西园社区", "Xiyuan Community"),
    ("XL", "北桥社区", "Beiqiao Community"),
)

#: Urban cores: (lon, lat, peak intensity, e-folding radius in metres).
URBAN_CORES = (
    (120.268, 31.565, 1.00, 3200.0),  # 河埒 / 蠡园, next to the city centre
    (120.300, 31.515, 0.70, 2200.0),  # 蠡湖
    (120.215, 31.570, 0.55, 2200.0),  # 荣巷
    (120.130, 31.565, 0.45, 1800.0),  # 胡埭 town
    (120.285, 31.462, 0.40, 1800.0),  # 雪浪
    (120.100, 31.440, 0.35, 1500.0),  # 马山 town
)

#: Where the district centre goes (snapped to the network), in 河埒.
DISTRICT_CENTRE_TARGET = (120.262, 31.560)

#: Main roads (generated names), lon/lat polylines clipped to land.
ARTERIALS = (
    ("示例主干道一", "Demo Arterial 1", ((120.09, 31.578), (120.31, 31.578))),
    ("示例主干道二", "Demo Arterial 2", ((120.085, 31.540), (120.235, 31.540))),
    ("示例主干道三", "Demo Arterial 3", ((120.245, 31.603), (120.245, 31.540))),
    ("示例主干道四", "Demo Arterial 4", ((120.292, 31.600), (120.300, 31.420))),
    ("示例主干道五", "Demo Arterial 5", ((120.230, 31.515), (120.300, 31.470))),
    ("示例主干道六", "Demo Arterial 6", ((120.120, 31.600), (120.097, 31.462))),
    ("示例主干道七", "Demo Arterial 7", ((120.215, 31.505), (120.235, 31.405))),
)

#: Bridges: (name zh, name en, lon/lat point in the water to cross, water to cross).
LIHU_BRIDGE_LON = 120.272


OPENING_HOURS_CHOICES = (
    "Mo-Fr 08:30-17:30; Sa 09:00-12:00",
    "Mo-Sa 08:30-20:00",
    "Mo-Fr 08:30-12:00,13:30-17:30",
    "Mo-Fr 08:30-17:30; Sa,Su 09:00-16:00",
    "Tu-Su 09:00-17:00",
)
