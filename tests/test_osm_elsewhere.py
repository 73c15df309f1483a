"""Two more real districts, from the small OpenStreetMap extracts in the osmnx sources
(``tests/data/osm/``; © OpenStreetMap contributors, ODbL): West Oakland (California) and
a few streets at 10.07°E 48.14°N in Swabia (Germany), each made with ``init --extract``
and ``import osm``, measured in its own UTM zone and time zone, with walking distances
equal to the networkx reference."""

from __future__ import annotations

import bz2
from pathlib import Path

import numpy as np
import pytest
import shapely
import yaml

from geo_service.analysis.distances import node_distances, point_distances
from geo_service.analysis.network import build_walk_graph, snap_points
from geo_service.data.geojson_io import read_geojson
from tests.reference import walking_distances
from tests.support import ROOT, run_cli

#: End to end: real OpenStreetMap extracts through the geo-service command.
pytestmark = pytest.mark.slow

EXTRACTS = ROOT / "tests" / "data" / "osm"

DISTRICTS = {
    "oakland": ("West-Oakland.osm.bz2", "America/Los_Angeles", "US", "EPSG:32610"),
    "swabia": ("planet_10.068,48.135_10.071,48.137.osm", "Europe/Berlin", "DE", "EPSG:32632"),
}


def _extract(name: str, folder: Path) -> Path:
    source = EXTRACTS / name
    if source.suffix != ".bz2":
        return source
    target = folder / source.stem
    target.write_bytes(bz2.decompress(source.read_bytes()))
    return target


@pytest.fixture(scope="module", params=sorted(DISTRICTS))
def district(request, tmp_path_factory):
    key = request.param
    work = tmp_path_factory.mktemp(key)
    extract = _extract(DISTRICTS[key][0], work)
    folder = work / key
    for command in (
        ["init", str(folder), "--name", key.title(), "--extract", str(extract)],
        ["--district", str(folder), "import", "osm", str(extract), "--commit"],
        ["--district", str(folder), "coverage"],
    ):
        done = run_cli(*command)
        assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return key, folder


def test_the_profile_is_the_places_own(district):
    key, folder = district
    profile = yaml.safe_load((folder / "district.yaml").read_text(encoding="utf-8"))
    _, timezone, country, crs = DISTRICTS[key]
    assert (profile["timezone"], profile["country"], profile["metric_crs"]) == (
        timezone,
        country,
        crs,
    )
    assert (
        profile["phone_maps"] == ["google", "apple", "osm", "geo"]
        and profile["languages"][0] == "en"
    )


def test_walking_distances_equal_the_networkx_reference(district):
    key, folder = district
    crs = DISTRICTS[key][3]
    roads = read_geojson(folder / "data" / "geojson" / "roads.geojson")
    assert len(roads) >= 7  # the Swabian extract is a few streets
    graph = build_walk_graph(roads, crs)
    vertices = shapely.get_coordinates(roads.to_crs(crs).geometry.to_numpy())
    rng = np.random.default_rng(11)
    # Points a few metres off random vertices, so that snapping is exercised too.
    picks = vertices[rng.choice(len(vertices), size=15, replace=False)] + rng.normal(0, 5, (15, 2))
    sources, targets = shapely.points(picks[:4]), shapely.points(picks[4:])
    source_snap = snap_points(graph, sources, max_snap_m=np.inf)
    target_snap = snap_points(graph, targets, max_snap_m=np.inf)
    distance, _ = point_distances(
        graph, node_distances(graph, source_snap), source_snap, target_snap
    )
    expected = walking_distances(roads.to_crs(crs).geometry.to_numpy(), picks[:4], picks[4:])
    reached = np.isfinite(expected)
    assert reached.sum() >= 3
    np.testing.assert_allclose(distance[reached], expected[reached], rtol=0, atol=1e-6)


def test_coverage_ran_on_the_districts_data(district):
    _, folder = district
    manifest_dir = folder / "cache" / "derived"
    compounds = read_geojson(folder / "data" / "geojson" / "compounds.geojson")
    coverage = read_geojson(manifest_dir / "compound_coverage.geojson")
    assert len(coverage) == len(compounds)
    assert (manifest_dir / "coverage.json").is_file()
