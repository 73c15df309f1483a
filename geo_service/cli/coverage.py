"""``geo-service coverage``: compute the derived layers (in this process, or by parts on
Dask with ``--batch``) and print their figures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from geo_service.cli.common import CatalogOption, DataOption, app, console
from geo_service.cli.common import fail as _fail
from geo_service.cli.common import open_catalog as _catalog
from geo_service.cli.common import settings_for as _settings
from geo_service.cli.common import setup_logging as _logging
from geo_service.data.stores import open_configured_store
from geo_service.errors import GeoServiceError
from geo_service.settings import Settings


def _store_name(settings: Settings) -> str:
    """Where the store's layers are, for messages (never a password)."""
    from urllib.parse import urlsplit

    url = urlsplit(settings.store)
    if url.scheme == "file":
        return str(settings.derived_dir)
    return f"{url.scheme}://{url.hostname or ''}{':' + str(url.port) if url.port else ''}{url.path}"


@app.command()
def coverage(
    force: Annotated[bool, typer.Option(help="Recompute even if the results are current.")] = False,
    batch: Annotated[
        bool, typer.Option(help="Walk by parts on Dask distributed (a local cluster by default).")
    ] = False,
    scheduler: Annotated[
        str | None, typer.Option(help="--batch on this Dask scheduler (tcp://host:8786).")
    ] = None,
    workers: Annotated[int, typer.Option(help="--batch: local worker processes.", min=1)] = 2,
    partition_by: Annotated[
        str | None,
        typer.Option(
            help="--batch: the compounds' column to split by (default: the coarsest area; "
            "without areas: squares)."
        ),
    ] = None,
    margin_m: Annotated[
        float | None,
        typer.Option(
            help="--batch: network margin around each part, metres (default: widest "
            "life circle); results are exact whatever it is.",
            min=1,
        ),
    ] = None,
    part_size_m: Annotated[
        float | None,
        typer.Option(
            help="--batch: areas centred in the same square this wide (metres) are one part "
            "(default: 4 × the margin's reach; 0: one part per area).",
            min=0,
        ),
    ] = None,
    shared_dir: Annotated[
        Path | None,
        typer.Option(
            help="--batch: a folder every worker reads at the same path (default: "
            "the derived folder)."
        ),
    ] = None,
    catalog_dir: CatalogOption = None,
    data_dir: DataOption = None,
) -> None:
    """Compute walking-distance coverage and write the derived layers; print a summary."""
    from contextlib import nullcontext

    from geo_service.cli.batch import batch_runner
    from geo_service.pipeline.derived_layers import compute_derived

    _logging()
    settings = _settings(catalog_dir, data_dir)
    catalog = _catalog(settings)
    runner = (
        batch_runner(
            scheduler=scheduler,
            workers=workers,
            shared_dir=shared_dir or settings.derived_dir / "batch",
            partition_by=partition_by,
            margin_m=margin_m,
            part_size_m=part_size_m,
        )
        if batch or scheduler
        else nullcontext()
    )
    try:
        store = open_configured_store(settings, catalog)
        with runner as run:
            manifest = compute_derived(store, settings, force=force, runner=run)
    except GeoServiceError as exc:
        raise _fail("cannot compute coverage", exc) from None
    engine = manifest.get("engine", {})
    if engine.get("kind") == "dask":
        console.print(
            f"batch: {engine['parts']} parts by {engine['partition_by']}, {engine['walks']} "
            f"walks ({engine['walked_again']} again, widest margin "
            f"{engine['widest_margin_m']:,.0f} m) on {engine['workers']} workers"
        )
    console.print(coverage_table(manifest))
    summary = manifest["summary"]
    console.print(
        f"gaps: {summary['gaps']['compounds']} compounds, "
        f"{summary['gaps']['residents']:,} residents beyond "
        f"{manifest['params']['circles'][-1]['distance_m']:g} m on foot of the "
        f"'{summary['gaps']['set']}' facilities; results in {_store_name(settings)}"
    )
    for key in summary["empty_facility_sets"]:
        console.print(f"[yellow]warning:[/yellow] facility set {key!r} has no facilities")


def coverage_table(manifest: dict) -> Table:
    """District and sub-district shares of residents within each life circle."""
    summary = manifest["summary"]
    minutes = [c["minutes"] for c in manifest["params"]["circles"]]
    table = Table(
        "area",
        "residents",
        *(f"≤{m} min" for m in minutes),
        "mean min",
        "p90 min",
        title=f"Residents within walking reach of the '{summary['criterion']['facilities']}'"
        " facilities",
    )
    for row in [summary["district"], *summary["subdistricts"]]:
        name = "district" if row["group"] == "all" else row["group"]
        table.add_row(
            name,
            f"{row['residents']:,}",
            *(f"{100 * row[f'share_{m}']:.1f}%" for m in minutes),
            f"{row['mean_min']}",
            f"{row['p90_min']}",
        )
    return table
