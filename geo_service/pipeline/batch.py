"""Batch coverage on Dask distributed: the compounds split by district, each part walked
on a worker from GeoParquet files, the figures put together exactly as one process
would make them.

The run (:func:`run_batch`) writes the input layers once as GeoParquet into a folder the
workers can read, sends one task per part (paths and numbers, no frames) and one task for
the network-wide layers (reached streets, circles), and walks again, with a margin known
to be enough, the compounds whose walks were longer than their part's margin
(:mod:`geo_service.analysis.partition`). A part that fails, or whose worker dies more
often than the scheduler allows, stops the whole run: nothing is returned, so nothing is
written.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np

from geo_service.analysis.coverage import access_table
from geo_service.analysis.facility_sets import display_sets
from geo_service.analysis.figures import DemandAccess, demand_base, facility_access_points
from geo_service.analysis.network import SNAP_OK
from geo_service.analysis.partition import (
    Part,
    box_of,
    covers,
    demand_row_boxes,
    exact,
    next_margin,
    parts_by,
)
from geo_service.analysis.run import (
    CoverageResult,
    NetworkLayers,
    assembled,
    figure_layers,
    metric_inputs,
)
from geo_service.coverage_params import CoverageParams
from geo_service.crs import joint_bounds
from geo_service.data.analysis_config import AnalysisConfig
from geo_service.data.layer_rows import stacked, whole_frame
from geo_service.errors import BatchFailed, InvalidParameter
from geo_service.pipeline.batch_part import (
    ROW,
    BatchInputs,
    PartAccess,
    draw_network,
    main_rows,
    walk_part,
)
from geo_service.pipeline.batch_results import WorkersWatch, fetched

log = logging.getLogger(__name__)

#: Rows per GeoParquet row group (sorted along a Hilbert curve, so a group covers a
#: small area; each group's box is in the file's statistics).
ROW_GROUP_SIZE = 5_000

#: Called with (tasks done, tasks known so far) as the run goes.
Progress = Callable[[int, int], None]


@dataclass
class BatchStats:
    """How a batch run went: parts, walks (first and again), the largest margin used."""

    parts: int = 0
    walks: int = 0
    walked_again: int = 0
    widest_margin_m: float = 0.0
    workers: int = 0


@contextmanager
def dask_client(
    scheduler: str | None = None, workers: int = 2, memory_limit: str | None = None
) -> Iterator:
    """A Dask client: of the scheduler at ``scheduler`` (``tcp://host:8786``) or of a
    ``LocalCluster`` of ``workers`` single-threaded worker processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",  # this machine only
            memory_limit=memory_limit or "auto",
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def write_inputs(
    frames: dict[str, gpd.GeoDataFrame], config: AnalysisConfig, folder: Path
) -> dict[str, str]:
    """The layers a batch run reads, as GeoParquet in ``folder`` (EPSG:4326, with each
    row's position in :data:`ROW` and a bounding-box column for reading by box)."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {
        "roads",
        config.demand_layer,
        config.gates_layer,
        *(s.layer for s in config.facility_sets),
    }
    files = {}
    for layer, frame in frames.items():
        if layer not in wanted:
            continue
        path = folder / f"{layer}.parquet"
        table = frame.reset_index(drop=True)
        table[ROW] = np.arange(len(table))
        # near rows in the same row group: a read by box skips the groups outside it
        if len(table):
            table = table.iloc[np.argsort(table.hilbert_distance(), kind="stable")]
        table.to_parquet(path, index=False, write_covering_bbox=True, row_group_size=ROW_GROUP_SIZE)
        files[layer] = str(path.resolve())
    return files


def run_batch(
    frames: dict[str, gpd.GeoDataFrame],
    params: CoverageParams,
    config: AnalysisConfig,
    *,
    metric_crs: str,
    client,
    folder: Path,
    partition_by: str | None = None,
    margin_m: float | None = None,
    part_size_m: float | None = None,
    progress: Progress | None = None,
    workers_timeout_s: float = 60.0,
) -> CoverageResult:
    """The coverage run of :func:`~geo_service.analysis.run.run_coverage`, its compounds
    walked on the Dask ``client``'s workers by parts (``partition_by``: a column of the
    demand layer, default its coarsest area; ``margin_m``: each part's network margin,
    default the widest life circle; ``part_size_m``: the values of ``partition_by`` whose
    boxes centre in the same square this wide are one part, default four times the reach
    of a part's roads, 0 for one part per value). ``folder``: where the GeoParquet inputs
    go (read by every worker; removed afterwards). :class:`BatchFailed` if a part cannot
    be walked, if no worker joins within ``workers_timeout_s``, or if the cluster is left
    without workers that long while the run waits (a worker that leaves takes the results
    it held: with none left, they would be waited for for ever).
    The result's ``engine`` says how it ran (scheduler, parts, walks, widest margin)."""
    started = time.perf_counter()
    metric = metric_inputs(frames, config, metric_crs)
    demand = metric[config.demand_layer] = metric[config.demand_layer].reset_index(drop=True)
    gates = metric.get(config.gates_layer) if config.gates_layer else None
    key = partition_by or _coarsest_area(config, demand)
    if key is not None and key not in demand.columns:
        raise InvalidParameter(f"cannot split by {key!r}: no such column in {config.demand_layer}")
    margin_m = margin_m or params.widest_m
    sets = facility_access_points(metric, config, demand.crs)
    extent = joint_bounds(metric[layer] for layer in metric if layer != config.demand_layer)
    if part_size_m is None:
        part_size_m = 4 * (margin_m + 3 * params.max_snap_m)
    parts = parts_by(demand, gates, config, key, margin_m, cell_m=part_size_m or None)
    try:
        client.wait_for_workers(1, timeout=workers_timeout_s)
    except TimeoutError as exc:
        raise BatchFailed(
            f"no Dask worker joined the scheduler at {client.scheduler.address} within "
            f"{workers_timeout_s:g} s; nothing was computed"
        ) from exc
    stats = BatchStats(parts=len(parts), workers=len(client.scheduler_info()["workers"]))
    run_folder = folder / f"run-{uuid.uuid4().hex[:12]}"
    try:
        files = write_inputs(frames, config, run_folder)
        inputs = BatchInputs(files, config, params, metric_crs)
        watch = WorkersWatch(client, workers_timeout_s)
        walks = _Walks(client, inputs, demand, gates, sets, extent, stats, watch)
        network = walks.run(parts, progress)
    finally:
        shutil.rmtree(run_folder, ignore_errors=True)
    base, area_keys = demand_base(demand, config)
    table = access_table(
        list(sets),
        walks.snap_m,
        walks.snap_status,
        walks.metres,
        walks.best_id,
        params,
        base=base,
    )
    figures = figure_layers(
        DemandAccess(demand, base, table, sets, area_keys), metric, params, config
    )
    result = assembled(figures, network, {"batch": round(time.perf_counter() - started, 4)})
    split = key or "squares"
    result.engine = {"kind": "dask", "scheduler": client.scheduler.address, "partition_by": split}
    result.engine["part_size_m"] = part_size_m
    result.engine |= asdict(stats)
    return result


def _coarsest_area(config: AnalysisConfig, demand: gpd.GeoDataFrame) -> str | None:
    """The coarsest area the demand layer names (None: it names none)."""
    keys = [a.key for a in config.areas if a.key in demand.columns]
    return keys[-1] if keys else None


class _Walks:
    """The walks of one batch run: sent to the workers, kept where exact, sent again
    where not; per compound and facility set, the metres and id found (NaN: not yet)."""

    def __init__(self, client, inputs: BatchInputs, demand, gates, sets, extent, stats, watch):
        from distributed import as_completed

        n, set_keys = len(demand), tuple(sets)
        self.client, self.inputs, self.stats, self.watch = client, inputs, stats, watch
        self.set_keys, self.extent = set_keys, extent
        self.extent_area = (extent[2] - extent[0]) * (extent[3] - extent[1])
        # a set with no facilities anywhere: NaN everywhere, as in one process
        self.empty = {key for key, frame in sets.items() if frame.empty}
        self.row_boxes = demand_row_boxes(demand, gates, inputs.config)
        self.metres = np.full((len(set_keys), n), np.nan)
        self.best_id = np.full((len(set_keys), n), None, dtype=object)
        self.kept = np.zeros((len(set_keys), n), dtype=bool)
        self.snap_m = np.full(n, np.nan)
        self.snap_status = np.full(n, None, dtype=object)
        self.tasks: dict = {}  # the futures not yet handled, and what each is
        self.sent = 0
        self.queue = as_completed()
        self.round_left = 0  # walks of this round not yet back
        self.missing: list = []  # (part name, set, rows, margin) to walk again
        self.on_main = None  # the future of the main piece's road rows

    def send(self, function, *args, part: Part | str) -> None:
        name = f"{function.__name__}-{getattr(part, 'name', part)}-{uuid.uuid4().hex[:8]}"
        future = self.client.submit(function, self.inputs, *args, key=name, pure=False)
        self.tasks[future] = part
        self.sent += 1
        self.queue.add(future)

    def walk(self, part: Part, keys: tuple[str, ...], first: bool) -> None:
        self.send(walk_part, part, keys, first, self.on_main, part=part)
        self.round_left += 1

    def run(self, parts: list[Part], progress: Progress | None):
        """Walk every part, then again in rounds where needed, and draw the network;
        returns the network layers. Stops at the first failure, cancelling what is left."""
        shown = [s.key for s in display_sets(self.inputs.config)]
        for key in shown:  # one task per set: the longest are the circles' unions
            self.send(draw_network, key, part=key)
        self.on_main = self.client.submit(
            main_rows, self.inputs, key=f"main_rows-{uuid.uuid4().hex[:8]}", pure=False
        )
        for part in parts:
            self.walk(part, self.set_keys, first=True)
        drawn, done = {}, 0
        try:
            for future in self._finished():
                part = self.tasks[future]
                result = fetched(future, part, self.watch)
                del self.tasks[future]
                done += 1
                if isinstance(part, str):
                    drawn[part] = result
                else:
                    self.keep(result, part)
                    self.round_left -= 1
                    if self.round_left == 0 and self.missing:
                        self.walk_again()
                if progress is not None:
                    progress(done, self.sent)
                if done * 10 // self.sent > (done - 1) * 10 // self.sent:
                    log.info(
                        "batch: %d of %d tasks done (%d walks made again so far)",
                        done,
                        self.sent,
                        self.stats.walked_again,
                    )
        except BaseException:
            self.client.cancel([*self.tasks, self.on_main])
            raise
        if not self.kept.all():  # never a partial result presented as complete
            raise BatchFailed(
                f"{int((~self.kept).any(axis=0).sum())} compounds were not walked to every "
                "facility set; nothing was written"
            )
        return _joined([drawn[key] for key in shown])

    def _finished(self) -> Iterator:
        """The tasks as they finish (those sent meanwhile included), looking now and then
        whether the cluster still has workers."""
        while not self.queue.is_empty():
            finished = self.queue.next_batch(block=False)
            if not finished:
                self.watch.check()
                time.sleep(0.1)
            yield from finished

    def keep(self, result: PartAccess, part: Part) -> None:
        """Keep the exact walks of ``result``; note, per facility set, the compounds to
        walk again and a margin known to be enough."""
        self.stats.walks += 1
        self.stats.widest_margin_m = max(self.stats.widest_margin_m, part.margin_m)
        rows = result.rows
        if result.snap_m is not None:
            self.snap_m[rows] = result.snap_m
            self.snap_status[rows] = result.snap_status
        whole = covers(part.facility_box(self.inputs.params.max_snap_m), self.extent)
        # not snapped onto the network: the nearest road may be beyond the part's box
        unsnapped = (self.snap_status[rows] != SNAP_OK) & (not whole)
        if unsnapped.any():
            self.missing.append((part.name, None, rows[unsnapped], np.inf))
        for k, key in enumerate(result.set_keys):
            at = self.set_keys.index(key)
            metres = result.metres[k]
            kept = ~unsnapped & (whole | (key in self.empty) | exact(metres, part.margin_m))
            self.metres[at, rows[kept]] = metres[kept]
            self.best_id[at, rows[kept]] = result.best_id[k, kept]
            self.kept[at, rows[kept]] = True
            wanted = ~kept & ~unsnapped
            if wanted.any():
                margin = next_margin(metres[wanted], part.margin_m)
                self.missing.append((part.name, key, rows[wanted], margin))

    def walk_again(self) -> None:
        """The next round. Compounds not snapped in their part: snapped and walked on the
        whole network. Per facility set: the whole network once where walking its parts
        again would read more than all of it (far, sparse facilities), else each part
        again within the widest margin its sets need."""
        snap = self.inputs.params.max_snap_m
        missing, self.missing = self.missing, []
        unsnapped = [rows for _, key, rows, _ in missing if key is None]
        if unsnapped:
            self.walk(self._whole(np.unique(np.concatenate(unsnapped))), self.set_keys, True)
        parts: dict[str, list] = {}
        for key in dict.fromkeys(key for _, key, _, _ in missing if key is not None):
            mine = [(name, rows, margin) for name, k, rows, margin in missing if k == key]
            read = sum(
                _area_within(Part("", rows, self._box(rows), margin).road_box(snap), self.extent)
                for _, rows, margin in mine
            )
            if read > self.extent_area:
                self.walk(
                    self._whole(np.unique(np.concatenate([r for _, r, _ in mine]))), (key,), False
                )
                continue
            for name, rows, margin in mine:
                parts.setdefault(name, []).append((key, rows, margin))
        for name, needs in parts.items():
            rows = np.unique(np.concatenate([rows for _, rows, _ in needs]))
            again = Part(name, rows, self._box(rows), max(margin for _, _, margin in needs))
            self.walk(again, tuple(key for key, _, _ in needs), False)
        self.stats.walked_again += self.round_left

    def _whole(self, rows: np.ndarray) -> Part:
        """The compounds at ``rows`` as a part that takes the whole network."""
        box = self._box(rows)
        return Part("(whole network)", rows, box, _margin_covering(box, self.extent))

    def _box(self, rows: np.ndarray):
        return box_of(self.row_boxes, rows)


def _area_within(box, extent) -> float:
    """The area of ``box`` inside ``extent`` (square metres)."""
    width = min(box[2], extent[2]) - max(box[0], extent[0])
    height = min(box[3], extent[3]) - max(box[1], extent[1])
    return max(width, 0.0) * max(height, 0.0)


def _margin_covering(box, extent) -> float:
    """A margin whose part, around ``box``, takes every road and facility of ``extent``."""
    reach = max(box[0] - extent[0], box[1] - extent[1], extent[2] - box[2], extent[3] - box[3])
    return max(reach, 0.0) + 1.0


def _joined(drawn: list[NetworkLayers]) -> NetworkLayers:
    """The network layers of each display set, one after another (as one run draws them)."""
    return NetworkLayers(
        stacked([whole_frame(d.streets) for d in drawn]),
        stacked([d.circles for d in drawn]),
        drawn[0].network,
    )
