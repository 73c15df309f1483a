"""Batch coverage on Dask distributed: by parts with a network margin, every figure equal
to one process's run, a clear failure when a worker dies, the CLI on a cluster."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from distributed import LocalCluster, WorkerPlugin

from geo_service.analysis.network import SNAP_OK, build_walk_graph, snap_points
from geo_service.analysis.partition import (
    exact,
    grown,
    main_road_rows,
    next_margin,
    part_layers,
    parts_by,
    with_main_piece,
)
from geo_service.analysis.run import metric_inputs, run_coverage
from geo_service.coverage_params import CoverageParams
from geo_service.data.derived import coverage_params, district_profile
from geo_service.data.geojson_io import read_geojson
from geo_service.data.layer_rows import whole_frame
from geo_service.errors import BatchFailed, InvalidParameter
from geo_service.pipeline.batch import dask_client, run_batch
from geo_service.settings import Settings
from tests.support import run_cli

METRIC = "EPSG:4549"
PARAMS = CoverageParams()


@pytest.fixture(scope="module")
def config():
    return district_profile(Settings()).analysis


@pytest.fixture(scope="module")
def cluster():
    """A client of a 2-worker local cluster (worker processes), for the module."""
    with dask_client(workers=2) as client:
        yield client


def assert_same_run(batch, single) -> None:
    """Every derived layer and the summary equal, value for value."""
    assert batch.summary == single.summary
    assert list(batch.layers) == list(single.layers)
    for name, rows in single.layers.items():
        pd.testing.assert_frame_equal(
            pd.DataFrame(whole_frame(batch.layers[name])),
            pd.DataFrame(whole_frame(rows)),
            check_exact=True,
            obj=name,
        )


# --- the parts (pure) ---------------------------------------------------------------


def test_exact_only_below_the_margin():
    metres = np.array([0.0, 999.9, 1000.0, np.inf, np.nan])
    assert exact(metres, 1000.0).tolist() == [True, True, False, False, False]


def test_next_margin_is_past_the_longest_walk_or_four_times_wider():
    assert next_margin(np.array([1200.0, 3500.5]), 1000.0) == 3501.5
    assert next_margin(np.array([1200.0, np.inf]), 1000.0) == 4000.0


def test_parts_of_one_square_are_one(demo, config):
    metric = metric_inputs(demo, config, METRIC)
    compounds = metric["compounds"].reset_index(drop=True)
    one = parts_by(compounds, None, config, "subdistrict_id", 1000.0, cell_m=1e7)
    assert len(one) == 1 and np.array_equal(one[0].positions, np.arange(len(compounds)))
    assert one[0].name.startswith("cell 0,") and "HL" in one[0].name


def test_without_areas_the_parts_are_squares(demo, config):
    metric = metric_inputs(demo, config, METRIC)
    compounds = metric["compounds"].reset_index(drop=True)
    parts = parts_by(compounds, None, config, None, 1000.0, cell_m=5000.0)
    rows = np.concatenate([p.positions for p in parts])
    assert np.array_equal(np.sort(rows), np.arange(len(compounds)))
    for part in parts:  # each compound's box centres in its part's square
        x, y = (int(v) for v in part.name.removeprefix("cell ").split(","))
        bounds = compounds.geometry.iloc[part.positions].bounds
        assert ((bounds.minx + bounds.maxx) / 2 // 5000 == x).all()
        assert ((bounds.miny + bounds.maxy) / 2 // 5000 == y).all()
    assert len(parts) > compounds["subdistrict_id"].nunique()


def test_an_unknown_partition_column_is_refused(demo, config, tmp_path):
    with pytest.raises(InvalidParameter, match="cannot split by 'nope'"):
        run_batch(
            demo,
            PARAMS,
            config,
            metric_crs=METRIC,
            client=None,
            folder=tmp_path,
            partition_by="nope",
        )


def test_parts_keep_every_compound_once_with_its_box(demo, config):
    metric = metric_inputs(demo, config, METRIC)
    compounds = metric["compounds"].reset_index(drop=True)
    parts = parts_by(compounds, metric["compound_entrances"], config, "subdistrict_id", 1000.0)
    assert sorted(p.name for p in parts) == sorted(compounds["subdistrict_id"].unique())
    rows = np.concatenate([p.positions for p in parts])
    assert np.array_equal(np.sort(rows), np.arange(len(compounds)))
    for part in parts:
        inside = shapely.box(*part.box)
        assert shapely.covers(inside, compounds.geometry.to_numpy()[part.positions]).all()
        assert set(compounds["subdistrict_id"].iloc[part.positions]) == {part.name}


def test_a_part_takes_roads_and_facilities_within_its_margin(demo, config):
    metric = metric_inputs(demo, config, METRIC)
    metric["compounds"] = metric["compounds"].reset_index(drop=True)
    part = parts_by(metric["compounds"], None, config, "subdistrict_id", 1000.0)[0]
    layers = part_layers(metric, config, part, PARAMS.max_snap_m)
    road_box = shapely.box(*grown(part.box, 1000.0 + 3 * PARAMS.max_snap_m))
    roads = metric["roads"].geometry.to_numpy()
    assert len(layers["roads"]) == shapely.intersects(roads, road_box).sum() < len(roads)
    centres = metric["service_centres"].geometry.to_numpy()
    facility_box = shapely.box(*grown(part.box, 1000.0 + 2 * PARAMS.max_snap_m))
    assert len(layers["service_centres"]) == shapely.intersects(centres, facility_box).sum()
    assert (
        layers["compounds"]["id"].tolist()
        == metric["compounds"]["id"].iloc[part.positions].tolist()
    )
    entrances = layers["compound_entrances"]
    assert set(entrances["compound_id"]) <= set(layers["compounds"]["id"])


# --- on the cluster -------------------------------------------------------------------


@pytest.fixture(scope="module")
def single(demo, config):
    return run_coverage(demo, coverage_params(Settings()), config, metric_crs=METRIC)


def demo_batch(demo, config, client, folder: Path, **options):
    """The batch run of the demo district on ``client``'s cluster."""
    params = coverage_params(Settings())
    return run_batch(
        demo, params, config, metric_crs=METRIC, client=client, folder=folder, **options
    )


@pytest.mark.slow
def test_batch_equals_one_process_on_the_demo(cluster, demo, config, single, tmp_path):
    batch = demo_batch(demo, config, cluster, tmp_path)
    assert_same_run(batch, single)
    engine = batch.engine
    assert engine["kind"] == "dask" and engine["workers"] == 2
    # the sub-districts whose boxes centre in the same square are one part
    centres = demo["compounds"].to_crs(METRIC).dissolve("subdistrict_id").envelope.centroid
    size = engine["part_size_m"]
    cells = {(int(p.x // size), int(p.y // size)) for p in centres}
    assert engine["parts"] == len(cells) < len(centres)
    # the district-level centres are far from most compounds: walked again
    assert engine["walked_again"] > 0
    assert list(tmp_path.iterdir()) == []  # the run's GeoParquet files are gone


@pytest.mark.slow
def test_a_narrow_margin_walks_again_and_stays_exact(cluster, demo, config, single, tmp_path):
    batch = demo_batch(
        demo, config, cluster, tmp_path, partition_by="community_id", margin_m=300.0, part_size_m=0
    )
    assert_same_run(batch, single)
    assert batch.engine["parts"] == demo["compounds"]["community_id"].nunique()
    assert batch.engine["walked_again"] > 0


@pytest.mark.slow
def test_batch_equals_one_process_on_a_two_district_province(
    cluster, two_district_city, config, tmp_path
):
    params = coverage_params(Settings())
    single = run_coverage(two_district_city, params, config, metric_crs=METRIC)
    batch = run_batch(
        two_district_city, params, config, metric_crs=METRIC, client=cluster, folder=tmp_path
    )
    assert_same_run(batch, single)
    # some residents' nearest district-level centre is the other district's: the walks
    # cross the seam between the parts
    table = batch.layers["compound_coverage"]
    nearest = table["centre_district_id"].dropna().astype(str)
    assert (nearest.str[:3] != table.loc[nearest.index, "id"].str[:3]).any()


class DieOnPart(WorkerPlugin):
    """Kills the worker process as it starts a task of the part named (each time, or only
    the first time: then the marker file says it happened)."""

    def __init__(self, part: str, marker: str | None = None):
        self.part, self.marker = part, marker

    def transition(self, key, start, finish, **kwargs):
        mine = finish == "executing" and f"walk_part-{self.part}-" in str(key)
        if mine and (self.marker is None or not Path(self.marker).exists()):
            if self.marker is not None:
                Path(self.marker).touch()
            os._exit(1)


def _cluster_with(plugin, allowed_failures: int):
    import dask
    from distributed import Client

    with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address="127.0.0.1:0")
    client = Client(cluster)
    client.register_plugin(plugin)
    return cluster, client


@pytest.mark.slow
def test_a_worker_dying_fails_the_run_whole(demo, config, tmp_path):
    cluster, client = _cluster_with(DieOnPart("HL"), allowed_failures=0)
    try:
        # every task that was on the dead worker counts as having killed it: the first
        # reported is any of them; or a finished part's result was being fetched from it
        # as it died, and the client failed to fetch it (once in CI, an asyncio error of
        # distributed's): the run fails whole either way
        died = "its worker died each time it ran|its result could not be fetched"
        with pytest.raises(BatchFailed, match=died) as failed:
            demo_batch(demo, config, client, tmp_path, part_size_m=0)
        assert "nothing was written" in str(failed.value)
    finally:
        client.close()
        cluster.close()


@pytest.mark.slow
def test_a_part_whose_worker_died_once_is_walked_again(demo, config, single, tmp_path):
    marker = str(tmp_path / "died")
    cluster, client = _cluster_with(DieOnPart("HL", marker), allowed_failures=1)
    try:
        batch = demo_batch(demo, config, client, tmp_path / "work", part_size_m=0)
    finally:
        client.close()
        cluster.close()
    assert Path(marker).exists()  # it did die
    assert_same_run(batch, single)


@pytest.mark.slow
def test_cli_batch_on_a_running_scheduler_writes_the_same_layers(cluster, data_copy, tmp_path):
    catalog_dir, data_dir = data_copy
    folders = ["--catalog-dir", str(catalog_dir), "--data-dir", str(data_dir)]
    one = run_cli("coverage", "--force", *folders, timeout=300)
    assert one.returncode == 0, one.stderr
    derived = Path(os.environ["GEO_SERVICE_DERIVED_DIR"])
    before = {p.name: p.read_bytes() for p in derived.glob("*.geojson")}
    address = cluster.scheduler.address
    batch = run_cli(
        "coverage",
        "--force",
        "--scheduler",
        address,
        "--shared-dir",
        str(tmp_path / "shared"),
        *folders,
        timeout=300,
    )
    assert batch.returncode == 0, batch.stderr
    assert f"batch on {address}" in batch.stdout
    assert "parts by subdistrict_id" in batch.stdout
    after = {p.name: p.read_bytes() for p in derived.glob("*.geojson")}
    assert after == before


@pytest.mark.slow
def test_batch_equals_one_process_on_a_real_osm_district(cluster, tmp_path):
    from tests.osm_extracts import helsinki_pbf

    folder = tmp_path / "helsinki"
    extract = str(helsinki_pbf())
    made = run_cli("init", str(folder), "--name", "Helsinki", "--extract", extract)
    assert made.returncode == 0, made.stderr
    imported = run_cli("--district", str(folder), "import", "osm", extract, "--commit")
    assert imported.returncode == 0, imported.stderr
    settings = Settings(district_dir=folder)
    profile = district_profile(settings)
    layers = {p.stem: read_geojson(p) for p in (folder / "data" / "geojson").glob("*.geojson")}
    params, crs = coverage_params(settings), profile.metric_crs
    single = run_coverage(layers, params, profile.analysis, metric_crs=crs)
    # every compound a part of its own, 200 m around it: most walks are made again
    batch = run_batch(
        layers,
        params,
        profile.analysis,
        metric_crs=crs,
        client=cluster,
        folder=tmp_path / "work",
        partition_by="id",
        part_size_m=0,
        margin_m=200.0,
    )
    assert_same_run(batch, single)
    assert batch.engine["parts"] == len(layers["compounds"]) > 10
    assert batch.engine["walked_again"] > 0


def test_a_part_snaps_to_the_whole_networks_main_piece():
    """The box keeps one 100 m segment of the 1 km main street and all of a 150 m detached
    lane: the part's own largest piece is the lane, but it must snap onto the main street."""
    x0, y0 = 500_000.0, 3_400_000.0
    main = [shapely.LineString([(x0 + i * 100, y0), (x0 + (i + 1) * 100, y0)]) for i in range(10)]
    lane = [shapely.LineString([(x0, y0 + 50), (x0 + 150, y0 + 50)])]
    roads = gpd.GeoDataFrame(geometry=main + lane, crs=METRIC)
    whole = build_walk_graph(roads, METRIC)
    on_main = main_road_rows(roads, whole)
    assert on_main.tolist() == [True] * 10 + [False]
    cut = roads[
        shapely.intersects(roads.geometry.to_numpy(), shapely.box(x0, y0, x0 + 60, y0 + 60))
    ]
    own = build_walk_graph(cut, METRIC)
    # the lane is the longer piece in the part: on its own, the part takes it for the main
    assert own.nodes[own.edge_u[own.main_edges], 1].tolist() == [y0 + 50]
    assert snap_points(own, shapely.points([(x0 + 50, y0 + 20)]), max_snap_m=250.0).snap_m[0] == 30
    fixed = with_main_piece(build_walk_graph(cut, METRIC), cut, on_main[cut.index])
    main_y = fixed.nodes[fixed.edge_u[fixed.main_edges], 1]
    assert (main_y == y0).all() and len(fixed.detached_edges) == 1
    point = shapely.points([(x0 + 50, y0 + 20)])  # 20 m from the main street, 30 from the lane
    snapped = snap_points(fixed, point, max_snap_m=250.0)
    assert snapped.status[0] == SNAP_OK and snapped.snap_m[0] == pytest.approx(20.0)


def test_a_cluster_without_workers_fails_soon_and_clearly(demo, config, tmp_path):
    from distributed import Client

    with (
        LocalCluster(n_workers=0, dashboard_address="127.0.0.1:0") as empty,
        Client(empty) as client,
        pytest.raises(BatchFailed, match="no Dask worker joined the scheduler"),
    ):
        demo_batch(demo, config, client, tmp_path, workers_timeout_s=1.0)
    assert list(tmp_path.iterdir()) == []  # nothing was written


class LeaveOnFirstWalk(WorkerPlugin):
    """Closes the worker (for good: no nanny brings it back) as it starts its first
    walk."""

    def setup(self, worker):
        self.worker, self.left = worker, False

    def transition(self, key, start, finish, **kwargs):
        if finish == "executing" and "walk_part-" in str(key) and not self.left:
            self.left = True
            self.worker.loop.add_callback(self.worker.close)


@pytest.mark.slow
def test_a_run_whose_every_worker_left_fails_instead_of_waiting(demo, config, tmp_path):
    import threading

    from distributed import Client

    outcome = {}

    def run():
        try:
            outcome["result"] = demo_batch(demo, config, client, tmp_path, workers_timeout_s=2.0)
        except BaseException as exc:  # what the run raised is the outcome
            outcome["error"] = exc

    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address="127.0.0.1:0") as cluster,
        Client(cluster) as client,
    ):
        client.register_plugin(LeaveOnFirstWalk())
        running = threading.Thread(target=run, daemon=True)
        running.start()
        running.join(timeout=120)
        assert not running.is_alive(), "the run still waits for a worker two minutes on"
    assert isinstance(outcome.get("error"), BatchFailed), outcome
    assert "no Dask worker" in str(outcome["error"])
    assert "nothing was written" in str(outcome["error"])


@pytest.mark.slow  # seconds of waiting
def test_the_workers_watch_counts_from_when_it_first_saw_no_worker():
    """Time the run spent not looking (busy with results) is not time without workers:
    the first look that finds none starts the clock."""
    import time

    from distributed import Client

    from geo_service.pipeline.batch_results import WORKERS_POLL_S, WorkersWatch

    with (
        LocalCluster(n_workers=0, dashboard_address="127.0.0.1:0") as empty,
        Client(empty) as client,
    ):
        watch = WorkersWatch(client, timeout_s=0.5)
        time.sleep(WORKERS_POLL_S + 0.2)  # busy elsewhere, longer than the timeout
        watch.check()  # the first look: no worker since now
        time.sleep(WORKERS_POLL_S + 0.2)
        with pytest.raises(BatchFailed, match="no Dask worker has been left"):
            watch.check()


#: Per token, how many times a BrokenInTransfer has been loaded in this (the client's)
#: process.
LOADED: dict[str, int] = {}


def _load_after(value, token: str, failures: int):
    LOADED[token] = LOADED.get(token, 0) + 1
    if LOADED[token] <= failures:
        raise RuntimeError("the transfer broke")
    return value


class BrokenInTransfer:
    """A task's result whose first ``failures`` loads on the client fail, as a result
    whose worker leaves while it is fetched does: the task itself did not fail."""

    def __init__(self, value, token: str, failures: int):
        self.value, self.token, self.failures = value, token, failures

    def __reduce__(self):
        return (_load_after, (self.value, self.token, self.failures))


@pytest.mark.slow  # a cluster of worker processes: only they send results pickled
def test_a_result_that_failed_to_arrive_is_fetched_again(cluster, tmp_path):
    """A finished part whose result could not be fetched (the client's failure, not the
    task's) is fetched again; after FETCH_TRIES failures the run fails, naming it."""
    from distributed import wait

    from geo_service.pipeline.batch_results import FETCH_TRIES, WorkersWatch, fetched

    watch = WorkersWatch(cluster, timeout_s=60)
    once, always = (f"{name}-{uuid.uuid4()}" for name in ("once", "always"))
    result = cluster.submit(BrokenInTransfer, 42, once, 1, pure=False)
    wait(result)
    assert result.status == "finished"
    assert fetched(result, "a facility set", watch) == 42
    assert LOADED[once] == 2  # failed, then fetched

    result = cluster.submit(BrokenInTransfer, 7, always, FETCH_TRIES, pure=False)
    wait(result)
    with pytest.raises(BatchFailed, match="its result could not be fetched") as failed:
        fetched(result, "a facility set", watch)
    assert LOADED[always] == FETCH_TRIES
    message = str(failed.value)
    assert "the transfer broke" in message and "nothing was written" in message
