"""Importing a district from OpenStreetMap: exact rules on a tiny .osm XML town, and the real
Helsinki extract checked against an independent read of the same file and against the
networkx walking-distance reference."""

from __future__ import annotations

import functools
import logging
import re
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from geo_service.analysis.distances import node_distances, point_distances
from geo_service.analysis.network import build_walk_graph, snap_points
from geo_service.errors import ImportFailed, UnsuitableCRS
from geo_service.importing.osm import PopulationOptions, import_osm, load_tag_mapping
from geo_service.importing.osm_schema import GEOMETRY_TYPES, LAYER_SCHEMAS
from tests.osm_extracts import OsmXml, helsinki_pbf
from tests.reference import walking_distances

WUXI = "EPSG:4549"
PERSONS_PER_M2 = 1 / 35
UNIT = 0.0005  # degrees per grid step of the tiny town (about 47 m east, 55 m north)


def at(x: float, y: float) -> tuple[float, float]:
    """Lon/lat of grid point (x, y) of the tiny town, in Wuxi."""
    return 120.30 + x * UNIT, 31.50 + y * UNIT


def rectangle(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
    return [at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1)]


def _estimate(geometry: shapely.Geometry, factor: float) -> int:
    area = gpd.GeoSeries([geometry], crs=4326).to_crs(WUXI).area.iloc[0]
    return int(np.floor(area * factor * PERSONS_PER_M2 + 0.5))


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    """A tiny town: ids of its OSM objects, and the .osm file."""
    osm, ids = OsmXml(), {}

    def line(name, points, **tags):
        ids[name] = osm.way([osm.node(*at(*p)) for p in points], **tags)

    shared = osm.node(*at(2, 2))
    west, east = osm.node(*at(0, 2)), osm.node(*at(4, 2))
    ids["walk"] = osm.way([west, shared, east], highway="footway", name="Riverside Walk")
    ids["street"] = osm.way(
        [osm.node(*at(2, 0)), shared, osm.node(*at(2, 4))], highway="residential"
    )
    line("bridge", [(3, 1), (3, 3)], highway="footway", bridge="yes", layer="1")
    line("foot_no", [(5, 0), (5, 1)], highway="footway", foot="no")
    line("motorway", [(0, -0.5), (10, -0.5)], highway="motorway", foot="yes")
    line("private", [(6, 3), (7, 3)], highway="service", access="private")
    line("private_foot", [(6, 4), (7, 4)], highway="service", access="private", foot="yes")
    line("cycleway", [(8, 3), (9, 3)], highway="cycleway")
    line("cycleway_foot", [(8, 4), (9, 4)], highway="cycleway", foot="designated")
    line("trunk_sidewalk", [(0, 4.5), (3, 4.5)], highway="trunk", sidewalk="both")
    line("trunk", [(0, 4.8), (3, 4.8)], highway="trunk")
    line("trunk_separate", [(4, 4.8), (6, 4.8)], highway="trunk", sidewalk="separate")
    line("steps", [(5, 3), (5, 4)], highway="steps")
    line("crossing", [(4, 3), (4, 4)], highway="footway", footway="crossing")
    line("hill_path", [(9, 0), (10, 1)], highway="path")
    plaza = [osm.node(*at(x, y)) for x, y in [(6, 0), (8, 0), (8, 2), (6, 2)]]
    ids["plaza"] = osm.way([*plaza, plaza[0]], highway="pedestrian", area="yes")
    ids["to_plaza"] = osm.way([osm.node(*at(10, 2)), plaza[2]], highway="footway")
    ids["hiking"] = osm.relation(
        [("way", ids["hill_path"], "")], type="route", route="hiking", name="Hill Trail"
    )
    # Service centres
    ids["centre"] = osm.node(
        *at(1, 1),
        amenity="community_centre",
        name="Harmony Centre",
        name__zh="和谐中心",
        opening_hours="Mo-Fr 08:00-18:00",
        addr__street="和平路",
        addr__housenumber="8号",
        phone="+86 510 0000 0000;+86 510 0000 0001",
    )
    ids["library"] = osm.closed_way(
        rectangle(1, 3.2, 1.6, 3.8), building="yes", amenity="library", opening_hours="whenever"
    )
    ids["nursing"] = osm.node(*at(3, 1), amenity="social_facility", social_facility="nursing_home")
    ids["far_townhall"] = osm.node(*at(30, 30), amenity="townhall")
    osm.node(*at(1.5, 1), amenity="restaurant", name="Noodles")
    ids["townhall"] = osm.node(
        *at(4.2, 1.2),
        amenity="townhall",
        name="Town Hall",
        addr__full="1 Hall Square",
        contact__phone="+86 510 0000 0002",
    )
    # Landmarks
    ids["school"] = osm.node(
        *at(2.5, 1.2),
        amenity="school",
        name="Riverside School",
        name__zh="河畔学校",
        alt_name="Riverside Primary;河畔小学",
        short_name="RS",
        old_name="Riverside School",
    )
    ids["station"] = osm.closed_way(
        rectangle(7, 0.2, 7.5, 0.6),
        railway="station",
        name="Town Station",
        official_name="Town Central Station",
    )
    osm.node(*at(3.5, 1.2), amenity="clinic")  # no name: nothing to search it by
    osm.node(*at(30, 30.5), amenity="school", name="Far School")  # outside the district
    # Parks
    ids["park"] = osm.closed_way(
        rectangle(9, 3.5, 10, 4.5), leisure="park", name="Pine Park", name__zh="松树公园"
    )
    osm.closed_way(rectangle(9, 2.2, 9.5, 2.8), leisure="garden", access="private")
    # Homes
    ids["apartments"] = osm.closed_way(
        rectangle(0.2, 3.0, 0.8, 3.6), building="apartments", building__levels="4"
    )
    ids["house"] = osm.closed_way(
        rectangle(3.2, 3.2, 3.6, 3.6), building="house", population="7", building__flats="2"
    )
    ids["shed_house"] = osm.closed_way(rectangle(3.7, 3.7, 3.73, 3.73), building="house")
    ids["yes"] = osm.closed_way(rectangle(2.2, 3.2, 2.6, 3.6), building="yes")
    ids["landuse"] = osm.closed_way(rectangle(0, 2.6, 5, 4.9), landuse="residential")
    # District and communities (administrative relations over closed ways)
    for name, box, level, chinese in [
        ("Town", (-1, -1, 11, 5), "8", "镇"),
        ("South", (-1, -1, 11, 1.5), "10", "南社区"),
        ("North", (-1, 1.5, 11, 5), "10", "北社区"),
    ]:
        ring = osm.closed_way(rectangle(*box))
        ids[name] = osm.relation(
            [("way", ring, "outer")],
            type="boundary",
            boundary="administrative",
            admin_level=level,
            name=name,
            name__zh=chinese,
        )
    return ids, osm.write(tmp_path_factory.mktemp("town") / "town.osm")


@pytest.fixture(scope="module")
def town_import(town):
    ids, path = town
    return ids, import_osm(path, district="Town")


def _ways(roads: gpd.GeoDataFrame, osm_id: int) -> gpd.GeoDataFrame:
    return roads[roads["id"].str.startswith(f"w{osm_id}-")]


def test_layers_follow_the_catalog_schemas(town_import):
    _, result = town_import
    assert set(result.layers) == set(LAYER_SCHEMAS)
    for name, frame in result.layers.items():
        assert list(frame.columns) == [*LAYER_SCHEMAS[name], "geometry"], name
        assert frame.dtypes.drop("geometry").astype(str).to_dict() == LAYER_SCHEMAS[name]
        assert frame.crs.to_epsg() == 4326
        assert set(frame.geom_type) <= {GEOMETRY_TYPES[name]}, name
        assert frame["id"].is_unique
    assert result.metric_crs.to_epsg() == 4549


def test_ways_sharing_a_middle_node_split_into_four(town_import):
    ids, result = town_import
    roads = result.layers["roads"]
    walk, street = _ways(roads, ids["walk"]), _ways(roads, ids["street"])
    assert list(walk["id"]) == [f"w{ids['walk']}-0", f"w{ids['walk']}-1"]
    assert list(street["id"]) == [f"w{ids['street']}-0", f"w{ids['street']}-1"]
    ends = shapely.get_coordinates(shapely.boundary(walk.geometry.to_numpy()))
    assert np.allclose(ends, [at(0, 2), at(2, 2), at(2, 2), at(4, 2)])
    metres = gpd.GeoSeries(walk.geometry, crs=4326).to_crs(WUXI).length
    np.testing.assert_allclose(walk["length_m"], metres, rtol=0, atol=1e-9)


def test_bridge_over_a_road_is_not_joined_to_it(town_import):
    ids, result = town_import
    roads = result.layers["roads"]
    bridge = _ways(roads, ids["bridge"])
    assert len(bridge) == 1 and bridge["bridge"].all()
    assert shapely.intersects(bridge.geometry.iloc[0], _ways(roads, ids["walk"]).union_all())
    graph = build_walk_graph(roads, WUXI)
    metric = gpd.GeoSeries(roads.geometry, crs=4326).to_crs(WUXI)
    node_of = {tuple(xy): i for i, xy in enumerate(np.round(graph.nodes, 3))}

    def component(road_id: str) -> int:
        xy = shapely.get_coordinates(metric[roads["id"] == road_id].iloc[0])[0]
        return graph.component[node_of[tuple(np.round(xy, 3))]]

    assert component(bridge["id"].iloc[0]) != component(f"w{ids['walk']}-0")
    assert component(f"w{ids['walk']}-0") == component(f"w{ids['street']}-1")


@pytest.mark.parametrize(
    ("way", "kept", "road_class"),
    [
        ("foot_no", False, None),
        ("motorway", False, None),
        ("private", False, None),
        ("private_foot", True, "service"),
        ("cycleway", False, None),
        ("cycleway_foot", True, "cycleway"),
        ("trunk_sidewalk", True, "trunk"),
        ("trunk", False, None),
        ("trunk_separate", False, None),
        ("steps", True, "steps"),
        ("crossing", True, "footway"),
    ],
)
def test_walkable_rules(town_import, way, kept, road_class):
    ids, result = town_import
    found = _ways(result.layers["roads"], ids[way])
    assert len(found) == (1 if kept else 0)
    if kept:
        assert found["road_class"].iloc[0] == road_class


def test_dropped_ways_are_counted_in_notes(town_import):
    _, result = town_import
    assert "1 ways dropped: foot=no" in result.notes
    assert "2 ways dropped: highway=motorway" not in result.notes
    assert "1 ways dropped: highway=motorway" in result.notes
    assert result.counts["roads_ways_dropped"] == 6  # foot=no, motorway, private, 3 trunk/cycle


def test_pedestrian_area_is_a_ring_split_where_a_footway_meets_it(town_import):
    ids, result = town_import
    ring = _ways(result.layers["roads"], ids["plaza"])
    assert len(ring) == 2 and (ring["road_class"] == "pedestrian").all()
    assert shapely.equals(
        shapely.line_merge(ring.union_all()),
        shapely.boundary(shapely.Polygon(rectangle(6, 0, 8, 2))),
    )
    corner = shapely.Point(at(8, 2))
    assert all(shapely.boundary(g).covers(corner) for g in ring.geometry)


def test_service_centres(town_import):
    ids, result = town_import
    centres = result.layers["service_centres"].set_index("id")
    assert set(centres.index) == {
        f"n{ids['centre']}",
        f"w{ids['library']}",
        f"n{ids['nursing']}",
        f"n{ids['townhall']}",
    }
    centre = centres.loc[f"n{ids['centre']}"]
    assert (centre["name_en"], centre["name_zh"]) == ("Harmony Centre", "和谐中心")
    assert (centre["kind"], centre["level"]) == ("amenity=community_centre", "community")
    assert centre["opening_hours"] == "Mo-Fr 08:00-18:00"
    assert centre["community_id"] == f"r{ids['South']}"
    assert (centre["address"], centre["phone"]) == ("和平路8号", "+86 510 0000 0000")
    townhall = centres.loc[f"n{ids['townhall']}"]
    assert (townhall["address"], townhall["phone"]) == ("1 Hall Square", "+86 510 0000 0002")
    library = centres.loc[f"w{ids['library']}"]
    assert (library["osm_type"], library["level"], library["services"]) == (
        "way",
        "subdistrict",
        "library",
    )
    assert pd.isna(library["opening_hours"]) and pd.isna(library["name"])
    assert pd.isna(library["address"]) and pd.isna(library["phone"])
    assert shapely.Polygon(rectangle(1, 3.2, 1.6, 3.8)).contains(library.geometry)
    assert library["community_id"] == f"r{ids['North']}"
    nursing = centres.loc[f"n{ids['nursing']}"]
    assert nursing["services"] == "elderly_care;social_services"
    assert nursing["kind"] == "amenity=social_facility"
    assert result.counts["opening_hours_dropped"] == 1
    assert result.counts["service_centres_outside"] == 1


def test_landmarks_are_named_places_not_already_centres(town_import):
    ids, result = town_import
    landmarks = result.layers["landmarks"].set_index("id")
    assert set(landmarks.index) == {f"n{ids['school']}", f"w{ids['station']}"}
    school = landmarks.loc[f"n{ids['school']}"]
    assert (school["kind"], school["name_en"], school["name_zh"]) == (
        "school",
        "Riverside School",
        "河畔学校",
    )
    # alt_name's two names, then short_name; the old name equal to the name is left out
    assert school["aliases"] == "Riverside Primary;河畔小学;RS"
    assert school["community_id"] == f"r{ids['South']}"
    station = landmarks.loc[f"w{ids['station']}"]
    assert (station["kind"], station["osm_type"], station["aliases"]) == (
        "station",
        "way",
        "Town Central Station",
    )
    assert shapely.Polygon(rectangle(7, 0.2, 7.5, 0.6)).contains(station.geometry)
    counts = result.counts
    # school, station, far school, the town hall (a centre already); and without a name:
    # the clinic, the library and the far town hall
    assert counts["landmarks_matched"] == 7
    assert (counts["landmarks_unnamed"], counts["landmarks_already_centres"]) == (3, 1)
    assert (counts["landmarks_outside"], counts["landmarks"]) == (1, 2)


def test_communities_and_district(town_import):
    ids, result = town_import
    communities = result.layers["communities"].set_index("id")
    assert set(communities.index) == {f"r{ids['South']}", f"r{ids['North']}"}
    assert communities.loc[f"r{ids['North']}", "name_zh"] == "北社区"
    assert (communities["admin_level"] == 10).all()
    district = result.layers["district"].iloc[0]
    assert (district["id"], district["name"], district["name_zh"]) == (
        f"r{ids['Town']}",
        "Town",
        "镇",
    )


def test_parks_and_trails(town_import):
    ids, result = town_import
    parks = result.layers["pocket_parks"]
    assert list(parks["id"]) == [f"w{ids['park']}"]
    assert parks["name_zh"].iloc[0] == "松树公园"
    area = gpd.GeoSeries(parks.geometry, crs=4326).to_crs(WUXI).area.iloc[0]
    assert parks["area_m2"].iloc[0] == pytest.approx(area, abs=1e-6)
    trails = result.layers["trails"].set_index("id")
    assert set(trails.index) == {f"w{ids['walk']}", f"r{ids['hiking']}"}
    assert trails.loc[f"r{ids['hiking']}", "name"] == "Hill Trail"
    walk_m = _ways(result.layers["roads"], ids["walk"])["length_m"].sum()
    assert trails.loc[f"w{ids['walk']}", "length_m"] == pytest.approx(walk_m, abs=1e-6)


def test_population_from_floor_area_and_tags(town_import):
    ids, result = town_import
    homes = result.layers["compounds"].set_index("id")
    assert set(homes.index) == {f"w{ids['apartments']}", f"w{ids['house']}"}
    flats = homes.loc[f"w{ids['apartments']}"]
    assert flats["population"] == _estimate(shapely.Polygon(rectangle(0.2, 3.0, 0.8, 3.6)), 4)
    assert flats["population_source"] == "floor_area"
    assert pd.isna(flats["households"])
    house = homes.loc[f"w{ids['house']}"]
    assert (house["population"], house["households"], house["population_source"]) == (
        7,
        2,
        "tag",
    )
    assert result.counts["compounds_dropped_no_residents"] == 1


def test_population_options(town):
    ids, path = town
    table = {f"w{ids['apartments']}": 120}
    options = PopulationOptions(building_yes_in_residential=True, table=table, household_size=3)
    homes = import_osm(path, district="Town", population=options).layers["compounds"]
    homes = homes.set_index("id")
    assert homes.loc[f"w{ids['apartments']}", "population"] == 120
    assert homes.loc[f"w{ids['apartments']}", "population_source"] == "table"
    assert homes.loc[f"w{ids['apartments']}", "households"] == 40
    yes = homes.loc[f"w{ids['yes']}"]
    assert yes["population"] == _estimate(shapely.Polygon(rectangle(2.2, 3.2, 2.6, 3.6)), 3)
    landuse = import_osm(path, district="Town", population=PopulationOptions(source="landuse"))
    (area,) = landuse.layers["compounds"].itertuples()
    assert area.id == f"w{ids['landuse']}" and area.population_source == "landuse_area"
    assert area.population == _estimate(shapely.Polygon(rectangle(0, 2.6, 5, 4.9)), 1.5)


def test_bbox_clips_every_layer(town):
    ids, path = town
    box = (*at(1, -1), *at(9, 5))
    result = import_osm(path, bbox=box)
    area = shapely.box(*box)
    for name, frame in result.layers.items():
        assert shapely.covered_by(frame.geometry.to_numpy(), area.buffer(1e-9)).all(), name
    walk = _ways(result.layers["roads"], ids["walk"])
    assert shapely.get_coordinates(walk.geometry.iloc[0])[0] == pytest.approx(at(1, 2))
    assert "communities" in result.layers  # boundaries below the Town level that covers it


def test_an_extract_with_one_footway_gives_empty_layers_of_the_right_shape(tmp_path):
    osm = OsmXml()
    osm.way([osm.node(*at(0, 0)), osm.node(*at(2, 0)), osm.node(*at(2, 2))], highway="footway")
    result = import_osm(osm.write(tmp_path / "one.osm"))
    assert len(result.layers["roads"]) == 1 and len(result.layers["district"]) == 1
    for name in ("service_centres", "pocket_parks", "trails", "compounds"):
        frame = result.layers[name]
        assert frame.empty and list(frame.columns) == [*LAYER_SCHEMAS[name], "geometry"]
        assert frame.dtypes.drop("geometry").astype(str).to_dict() == LAYER_SCHEMAS[name]
    assert "communities" not in result.layers
    assert any("the district is the convex hull of the walkable roads" in n for n in result.notes)


def test_progress_bar_and_a_log_line_per_stage(town, caplog, capsys):
    _, path = town
    with caplog.at_level(logging.INFO, logger="geo_service.importing.osm"):
        import_osm(path, district="Town", progress=True)
    logged = {record.getMessage().split(":")[0] for record in caplog.records}
    assert {"read", "roads", "service_centres", "compounds", "communities"} <= logged
    assert "roads=" in next(
        r.getMessage() for r in caplog.records if r.getMessage().startswith("roads:")
    )
    assert "service centres" in capsys.readouterr().err


def test_bad_options_and_files_fail_with_a_reason(town, tmp_path):
    _, path = town
    with pytest.raises(UnsuitableCRS):
        import_osm(path, district="Town", metric_crs="EPSG:32635")
    with pytest.raises(ImportFailed, match="Nowhere"):
        import_osm(path, district="Nowhere")
    with pytest.raises(ImportFailed, match="bbox"):
        import_osm(path, bbox=(121, 31, 120, 32))
    text = tmp_path / "notes.txt"
    text.write_text("not OSM", encoding="utf-8")
    with pytest.raises(ImportFailed, match="not an OpenStreetMap extract"):
        import_osm(text)
    with pytest.raises(ImportFailed, match="not both"):
        import_osm(path, district="Town", bbox=(120, 31, 121, 32))


def test_tag_mapping_validation_names_the_key(tmp_path):
    mapping = load_tag_mapping()
    assert mapping.levels == ["community", "subdistrict", "district"]
    assert {"community_centre", "library", "elderly_care"} <= set(mapping.services)
    data = mapping.model_dump()
    data["service_centres"][0]["level"] = "city"
    with pytest.raises(ImportFailed, match=r"service_centres\.0\.level"):
        load_tag_mapping(data)
    broken = tmp_path / "tags.yaml"
    text = (mapping.model_dump_json()).replace('"walkable":', '"walkabel":')
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFailed, match=r"tags\.yaml: .*roads\.walkabel"):
        load_tag_mapping(broken)


# The real extract -----------------------------------------------------------------------

_HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


@functools.cache
def _raw(layer: str) -> gpd.GeoDataFrame:
    """A layer read with GDAL's default OSM configuration, tags parsed from other_tags."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # incomplete relations of the clip
        frame = pyogrio.read_dataframe(
            helsinki_pbf(), layer=layer, on_invalid="ignore", MAX_TMPFILE_SIZE="20"
        )
    frame = frame[frame.geometry.notna()].reset_index(drop=True)
    tags = [
        dict(_HSTORE.findall(text)) if isinstance(text, str) else {} for text in frame["other_tags"]
    ]
    tags = pd.DataFrame(tags, index=frame.index)
    return pd.concat([frame, tags[[key for key in tags if key not in frame]]], axis=1)


@pytest.fixture(scope="module")
def helsinki():
    return import_osm(helsinki_pbf())


def test_helsinki_metric_crs_and_counts(helsinki):
    assert helsinki.metric_crs.to_epsg() == 32635
    assert helsinki.counts["lines_read"] == 3818
    assert helsinki.counts["roads"] == len(helsinki.layers["roads"]) > 4000


def test_helsinki_walkable_rules(helsinki):
    lines = _raw("lines")
    roads = helsinki.layers["roads"]
    ways = set(roads.loc[roads["id"].str.startswith("w"), "osm_id"])
    foot_no = set(
        lines.loc[lines["highway"].notna() & (lines["foot"] == "no"), "osm_id"].astype(int)
    )
    assert foot_no and not foot_no & ways
    steps = lines[(lines["highway"] == "steps") & ~lines["access"].isin(["private", "no"])]
    steps = set(steps["osm_id"].astype(int))
    assert len(steps) > 50 and steps <= ways
    of_steps = roads["id"].str.startswith("w") & roads["osm_id"].isin(steps)
    assert (roads.loc[of_steps, "road_class"] == "steps").all()
    rules = load_tag_mapping().roads  # central Helsinki has no motorway: see the tiny town
    walkable = {*rules.walkable, *rules.walkable_if_foot_allowed, *rules.walkable_if_sidewalk}
    assert set(roads["road_class"]) <= walkable


def test_helsinki_roads_run_junction_to_junction(helsinki):
    """No road has an inner vertex that another road (or itself elsewhere) also has."""
    lines = helsinki.layers["roads"].geometry.to_numpy()
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    first = np.r_[True, owner[1:] != owner[:-1]]
    last = np.r_[owner[1:] != owner[:-1], True]
    closed = shapely.is_closed(lines)[owner] & last
    _, vertex, uses = np.unique(coords[~closed], axis=0, return_inverse=True, return_counts=True)
    inner = (~first & ~last)[~closed]
    assert (uses[vertex.ravel()][inner] == 1).all()


def test_helsinki_service_centres_match_an_independent_count(helsinki):
    kinds = {"community_centre", "social_centre", "social_facility", "library", "townhall"}
    district = helsinki.layers["district"].geometry.iloc[0]
    expected = 0
    for layer in ("points", "multipolygons"):
        raw = _raw(layer)
        found = raw[raw["amenity"].isin(kinds)]
        expected += int(found.representative_point().within(district).sum())
    assert expected >= 10
    assert len(helsinki.layers["service_centres"]) == expected


def test_helsinki_population_estimate_of_one_building(helsinki):
    building = 15244406  # building=apartments, building:levels=5, on Annankatu
    raw = _raw("multipolygons")
    footprint = raw[raw["osm_way_id"] == str(building)].to_crs(32635).area.iloc[0]
    compound = helsinki.layers["compounds"].set_index("id").loc[f"w{building}"]
    assert compound["population"] == int(np.floor(footprint * 5 / 35 + 0.5))
    assert compound["floor_area_m2"] == pytest.approx(footprint * 5, abs=1e-6)
    assert compound["population_source"] == "floor_area"


def test_helsinki_walking_distances_match_networkx(helsinki):
    crs = helsinki.metric_crs
    roads = helsinki.layers["roads"]
    graph = build_walk_graph(roads, crs)
    sources = helsinki.layers["service_centres"].to_crs(crs).geometry.to_numpy()[:6]
    targets = shapely.point_on_surface(helsinki.layers["compounds"].to_crs(crs).geometry.to_numpy())
    source_snap = snap_points(graph, sources, max_snap_m=np.inf)
    target_snap = snap_points(graph, targets, max_snap_m=np.inf)
    distance, _ = point_distances(
        graph, node_distances(graph, source_snap), source_snap, target_snap
    )
    expected = walking_distances(
        roads.to_crs(crs).geometry.to_numpy(),
        shapely.get_coordinates(sources),
        shapely.get_coordinates(targets),
    )
    assert len(targets) >= 20 and np.isfinite(expected).all()
    np.testing.assert_allclose(distance, expected, rtol=0, atol=1e-6)


def test_helsinki_landmarks_match_an_independent_read(helsinki):
    rules = load_tag_mapping().landmarks
    district = helsinki.layers["district"].geometry.iloc[0]
    centres = set(helsinki.layers["service_centres"]["id"])
    expected = {}
    for layer in ("points", "multipolygons"):
        raw = _raw(layer)
        if layer == "points":
            keys = "n" + raw["osm_id"].astype(str)
        else:
            keys = np.where(
                raw["osm_id"].notna(),
                "r" + raw["osm_id"].astype(str),
                "w" + raw["osm_way_id"].astype(str),
            )
        hits = np.stack([rule.mask(raw) for rule in rules], axis=1)
        keep = hits.any(axis=1) & raw["name"].notna().to_numpy()
        keep &= raw.representative_point().within(district).to_numpy()
        for key, first in zip(keys[keep], hits[keep].argmax(axis=1), strict=True):
            if key not in centres:
                expected[key] = rules[first].kind
    landmarks = helsinki.layers["landmarks"]
    assert len(expected) >= 20
    assert dict(zip(landmarks["id"], landmarks["kind"], strict=True)) == expected
    station = landmarks.set_index("id").loc["n25389429"]  # Helsinki Central station
    assert "Helsingin päärautatieasema" in station["aliases"].split(";")
