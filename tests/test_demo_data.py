"""The committed demo district: counts, geometry, tiling, network, privacy, determinism."""

from __future__ import annotations

import re

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from geo_service.demo.generate import DEFAULT_SEED, generate_demo, write_demo
from tests.support import DATA_DIR

METRIC = "EPSG:4549"

ARTICLE_COUNTS = {
    "communities": 78,
    "compounds": 471,
    "service_centres": 86,
    "pocket_parks": 36,
    "trails": 46,
    "central_households": 262,
    "subdistricts": 7,
    "district": 1,
}


@pytest.mark.parametrize(("layer", "count"), ARTICLE_COUNTS.items())
def test_counts_match_the_article(demo, layer, count):
    assert len(demo[layer]) == count


def test_centre_levels(demo):
    levels = demo["service_centres"]["level"].value_counts().to_dict()
    assert levels == {"community": 78, "subdistrict": 7, "district": 1}
    community_centres = demo["service_centres"].query("level == 'community'")
    assert sorted(community_centres["community_id"]) == sorted(demo["communities"]["id"])


def test_landmarks_are_the_seats_of_government_of_the_district_and_each_subdistrict(demo):
    landmarks = demo["landmarks"].set_index("id")
    subdistricts = demo["subdistricts"].set_index("id")
    district = demo["district"].iloc[0]
    assert len(landmarks) == 1 + len(subdistricts)
    assert landmarks.loc["L00", "name_zh"] == district["name_zh"] + "人民政府"
    assert "区政府" in landmarks.loc["L00", "aliases"].split(";")
    seats = landmarks.drop(index="L00")
    assert sorted(seats["subdistrict_id"]) == sorted(subdistricts.index)
    for code, seat in seats.iterrows():
        unit = subdistricts.loc[seat["subdistrict_id"]]
        assert seat["name_zh"].startswith(unit["name_zh"]), code
        assert unit.geometry.contains(seat.geometry), code
    assert set(landmarks["kind"]) == {"townhall"}


def test_district_carries_the_article_figures(demo):
    district = demo["district"].iloc[0]
    assert (
        district["community_party_organisations"],
        district["compound_party_branches"],
        district["party_groups"],
        district["central_households"],
        district["alliances"],
    ) == (78, 471, 572, 262, 17)
    assert demo["communities"]["party_groups"].sum() == 572
    assert demo["communities"]["compounds"].sum() == 471
    assert demo["compounds"]["party_branch"].all()


def test_every_layer_is_wgs84_and_valid(demo):
    for layer, frame in demo.items():
        assert frame.crs.to_epsg() == 4326, layer
        assert shapely.is_valid(frame.geometry.to_numpy()).all(), layer
        assert not frame.geometry.is_empty.any(), layer


def test_district_is_binhu_sized_and_placed(demo):
    district = demo["district"]
    minx, miny, maxx, maxy = district.total_bounds
    # "roughly 120.03-120.37 E, 31.38-31.60 N": within about 1.5 km of that box.
    slack = 0.015
    assert 120.03 - slack <= minx and maxx <= 120.37 + slack
    assert 31.38 - slack <= miny and maxy <= 31.60 + slack
    land_km2 = district.to_crs(METRIC).area.sum() / 1e6
    assert 240 <= land_km2 <= 300
    assert land_km2 == pytest.approx(district["land_area_km2"].iloc[0], rel=1e-3)


def test_everything_lies_inside_the_district(demo):
    district = demo["district"].to_crs(METRIC).geometry.iloc[0].buffer(0.5)
    for layer in (
        "subdistricts",
        "communities",
        "compounds",
        "compound_entrances",
        "service_centres",
        "pocket_parks",
        "trails",
        "central_households",
        "landmarks",
    ):
        inside = demo[layer].to_crs(METRIC).within(district)
        assert inside.all(), f"{layer}: {list(demo[layer]['id'][~inside])[:5]}"
    roads = demo["roads"].to_crs(METRIC)
    on_land = roads[~roads["bridge"]]
    assert on_land.within(district).all()


def _assert_tiles(tiles: gpd.GeoSeries, whole: shapely.Geometry) -> None:
    """``tiles`` cover ``whole`` without overlaps (areas in m², 1 m² tolerance)."""
    geoms = tiles.to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]])).sum()
    assert overlap < 1.0
    assert shapely.area(shapely.union_all(geoms)) == pytest.approx(whole.area, abs=10.0)
    assert shapely.area(geoms).sum() == pytest.approx(whole.area, abs=10.0)


def test_subdistricts_tile_the_district(demo):
    district = demo["district"].to_crs(METRIC).geometry.iloc[0]
    _assert_tiles(demo["subdistricts"].to_crs(METRIC).geometry, district)


def test_communities_tile_each_subdistrict(demo):
    communities = demo["communities"].to_crs(METRIC)
    for unit in demo["subdistricts"].to_crs(METRIC).itertuples():
        mine = communities[communities["subdistrict_id"] == unit.id]
        assert len(mine) == unit.communities
        _assert_tiles(mine.geometry, unit.geometry)


def test_names_from_the_article(demo):
    communities = demo["communities"].set_index("name_zh")
    named = {
        "水秀社区",
        "大箕山社区",
        "蠡桥社区",
        "荣巷社区",
        "美湖社区",
        "古竹社区",
        "湖景社区",
        "西园社区",
        "北桥社区",
    }
    assert named <= set(communities.index)
    assert communities.loc["水秀社区", "subdistrict_id"] == "HL"
    assert (communities.loc[list(named), "name_source"] == "article").all()
    generated = communities.drop(index=list(named))
    assert generated.index.str.contains("示例").all()
    assert generated["name_en"].str.contains("Demo").all()
    assert set(demo["subdistricts"]["name_zh"]) == {
        "河埒街道",
        "荣巷街道",
        "蠡园街道",
        "蠡湖街道",
        "雪浪街道",
        "马山街道",
        "胡埭镇",
    }
    # A generated name starts with its unit's whole name (胡埭, not 胡): 胡埭示例01社区.
    units = demo["subdistricts"].set_index("id")["name_zh"]
    for community in generated.itertuples():
        unit = units[community.subdistrict_id].removesuffix("街道").removesuffix("镇")
        assert community.Index.startswith(f"{unit}示例"), community.Index


def test_population_is_about_half_a_million_and_urban_heavy(demo):
    compounds = demo["compounds"].to_crs(METRIC)
    assert 450_000 <= compounds["population"].sum() <= 550_000
    assert (compounds["population"] > 0).all() and (compounds["households"] > 0).all()
    density = compounds.groupby("subdistrict_id")["population"].sum() / (
        demo["subdistricts"].set_index("id").to_crs(METRIC).area / 1e6
    )
    assert density[["HL", "LY"]].min() > 3 * density[["XL", "MS", "HD"]].max()
    per_community = compounds.groupby("community_id")["population"].sum()
    communities = demo["communities"].set_index("id")["population"]
    assert per_community.reindex(communities.index, fill_value=0).tolist() == communities.tolist()


def test_compounds_sit_in_their_community_without_overlap(demo):
    compounds = demo["compounds"].to_crs(METRIC)
    communities = demo["communities"].to_crs(METRIC).set_index("id")
    own = communities.geometry.reindex(compounds["community_id"]).to_numpy()
    assert shapely.within(compounds.geometry.to_numpy(), shapely.buffer(own, 0.5)).all()
    geoms = compounds.geometry.to_numpy()
    overlapping = shapely.STRtree(geoms).query(geoms, predicate="overlaps")
    assert overlapping.shape[1] == 0


def _road_graph(roads: gpd.GeoDataFrame) -> nx.Graph:
    graph = nx.Graph()
    for line in roads.geometry:
        coords = line.coords
        graph.add_edge(coords[0], coords[-1])
    return graph


def test_network_is_one_connected_piece(demo):
    graph = _road_graph(demo["roads"])
    assert nx.number_connected_components(graph) == 1
    assert graph.number_of_nodes() > 2000


def test_network_reaches_every_compound_and_facility_within_50_m(demo):
    roads = demo["roads"].to_crs(METRIC)
    tree = shapely.STRtree(roads.geometry.to_numpy())
    for layer in ("compound_entrances", "service_centres", "pocket_parks", "trails", "landmarks"):
        points = demo[layer].to_crs(METRIC).geometry
        if layer == "trails":
            points = shapely.get_point(points.to_numpy(), 0)
        _, distance = tree.query_nearest(
            np.asarray(points), return_distance=True, all_matches=False
        )
        assert distance.max() <= 50.0, layer
    gates = demo["compound_entrances"]
    assert set(gates["compound_id"]) == set(demo["compounds"]["id"])
    counted = gates.groupby("compound_id").size()
    entrances = demo["compounds"].set_index("id")["entrances"]
    assert (counted.reindex(entrances.index) == entrances).all()


def test_roads_cross_water_only_on_bridges(demo):
    water = shapely.union_all(demo["water"].to_crs(METRIC).geometry.to_numpy())
    roads = demo["roads"].to_crs(METRIC)
    wet = shapely.length(shapely.intersection(roads.geometry.to_numpy(), water))
    assert wet[~roads["bridge"].to_numpy()].max() < 0.5
    assert roads["bridge"].sum() >= 1
    # Mashan is an island in the shoreline data: only a bridge joins it.
    mashan = demo["subdistricts"].set_index("id").to_crs(METRIC).geometry["MS"]
    mainland = demo["subdistricts"].set_index("id").drop(index="MS").to_crs(METRIC).union_all()
    assert mashan.distance(mainland) > 100
    bridges = roads[roads["bridge"]].geometry
    assert (bridges.intersects(mashan) & bridges.intersects(mainland)).any()


def test_trails_have_their_length(demo):
    trails = demo["trails"].to_crs(METRIC)
    assert np.allclose(trails.length, trails["length_m"], atol=0.2)
    assert (trails["length_m"] >= 300).all()


PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
ADDRESS = re.compile(r"\d+\s*号|路\d+|弄\d+")


def test_no_real_looking_phone_numbers_or_addresses(demo):
    for layer, frame in demo.items():
        for column in frame.columns.drop("geometry"):
            if frame[column].dtype.kind in "OUT" or str(frame[column].dtype) == "str":
                text = " ".join(frame[column].dropna().astype(str))
                assert not PHONE.search(text), (layer, column)
                assert not ADDRESS.search(text), (layer, column)


def test_household_layer_has_no_personal_fields(demo):
    assert set(demo["central_households"].columns) == {
        "id",
        "compound_id",
        "community_id",
        "subdistrict_id",
        "geometry",
    }


def test_every_layer_says_it_is_synthetic(catalog):
    for spec in catalog:
        if spec.id != "water":
            assert spec.provenance.synthetic, spec.id
    for path in DATA_DIR.glob("*.geojson"):
        head = path.read_text(encoding="utf-8")[:600]
        assert "Synthetic demo data" in head, path.name


@pytest.mark.slow  # end to end: the whole demo generator, twice
def test_regenerating_gives_byte_identical_files(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    write_demo(generate_demo(DEFAULT_SEED), first, seed=DEFAULT_SEED)
    write_demo(generate_demo(DEFAULT_SEED), second, seed=DEFAULT_SEED)
    committed = sorted(p.name for p in DATA_DIR.glob("*.geojson"))
    assert sorted(p.name for p in first.iterdir()) == committed
    for name in committed:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
        assert (first / name).read_bytes() == (DATA_DIR / name).read_bytes(), (
            f"{name} differs from the committed file: run `geo-service demo generate`"
        )


@pytest.mark.slow  # end to end: the whole demo generator
def test_another_seed_gives_another_district(tmp_path):
    other = generate_demo(7)
    assert len(other["communities"]) == 78 and len(other["compounds"]) == 471
    committed = gpd.read_file(DATA_DIR / "compounds.geojson")
    assert (
        not np.allclose(other["compounds"].total_bounds, committed.total_bounds, atol=1e-9)
        or other["compounds"]["population"].tolist() != committed["population"].tolist()
    )
