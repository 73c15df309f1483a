"""``geo-service coverage --batch``: the coverage run on Dask distributed, with a progress
bar over its tasks and the dashboard's address."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from geo_service.cli.common import console
from geo_service.pipeline.derived_layers import Runner


@contextmanager
def batch_runner(
    *,
    scheduler: str | None,
    workers: int,
    shared_dir: Path,
    partition_by: str | None,
    margin_m: float | None,
    part_size_m: float | None = None,
    memory_limit: str | None = None,
) -> Iterator[Runner]:
    """A runner for :func:`~geo_service.pipeline.derived_layers.compute_derived` that
    walks on a Dask cluster (``scheduler``'s, else a ``LocalCluster`` of ``workers``
    processes), showing the tasks done and the dashboard link."""
    import distributed  # noqa: F401 - sets its loggers' levels; ours come after

    from geo_service.pipeline.batch import dask_client, run_batch

    # the scheduler's and workers' own lines (starting, closing) are not the user's news
    for name in ("distributed", "bokeh", "tornado"):
        logging.getLogger(name).setLevel(logging.WARNING)
        for child in list(logging.root.manager.loggerDict):
            if child.startswith(name + "."):
                logging.getLogger(child).setLevel(logging.WARNING)
    with dask_client(scheduler, workers, memory_limit) as client:
        where = scheduler or f"a local cluster of {workers} worker processes"
        console.print(f"batch on {where}; dashboard: {client.dashboard_link}")

        def run(frames, params, config, crs):
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=console) as bar:
                task = bar.add_task("tasks", total=None)
                return run_batch(
                    frames,
                    params,
                    config,
                    metric_crs=crs,
                    client=client,
                    folder=shared_dir,
                    partition_by=partition_by,
                    margin_m=margin_m,
                    part_size_m=part_size_m,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )

        yield run
