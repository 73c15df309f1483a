"""``geo-service db``: make a PostGIS store and load a district folder into it.

The store is ``--store URL`` or the ``GEO_SERVICE_STORE`` setting
(``postgresql://user@host:port/db?schema=NAME``)."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from geo_service.cli.common import app, console, fail, open_catalog, settings_for, setup_logging
from geo_service.errors import GeoServiceError
from geo_service.settings import Settings

db_app = typer.Typer(help="The PostGIS store: make its tables, load a district.")
app.add_typer(db_app, name="db", no_args_is_help=True)

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="postgresql://user@host:port/db?schema=NAME (default: GEO_SERVICE_STORE).",
    ),
]


def _location(settings: Settings, store: str | None):
    from geo_service.data.stores.postgis_schema import parse_url

    url = store or settings.store
    if not url.startswith(("postgresql:", "postgres:")):
        raise fail("db", f"the store {url!r} is not PostGIS: give --store postgresql://...")
    return parse_url(url)


def _connect(location):
    import psycopg

    try:
        return psycopg.connect(location.conninfo, autocommit=True)
    except psycopg.OperationalError as exc:
        raise fail("cannot connect", f"{location.shown()}: {exc}") from None


@db_app.command("init")
def db_init(store: StoreOption = None) -> None:
    """Create the PostGIS extension, the store's schema and its tables (idempotent)."""
    from geo_service.data.stores.postgis_schema import init_schema

    location = _location(settings_for(), store)
    with _connect(location) as conn, conn.transaction():
        init_schema(conn, location.schema)
    console.print(f"[green]ready[/green]: {location.shown()}")


@db_app.command("load")
def db_load(store: StoreOption = None) -> None:
    """Load every source layer of the district's data folder into the store, in one
    transaction (all layers or none), after checking each against the catalog. Derived
    (coverage) layers are computed into the store by ``geo-service coverage`` or ``serve``."""
    from geo_service.data.stores.file import read_layer
    from geo_service.data.stores.postgis_schema import (
        init_schema,
        schema_exists,
        write_layer_table,
    )

    setup_logging()
    settings = settings_for()
    location = _location(settings, store)
    catalog = open_catalog(settings)
    sources = [spec for spec in catalog if not spec.derived]
    frames = {}
    for spec in sources:
        frame, problems = read_layer(spec, settings.data_dir)
        if problems:
            raise fail("not loaded", "; ".join(str(p) for p in problems[:10]))
        frames[spec.id] = frame
    started = time.perf_counter()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("features"),
        TimeElapsedColumn(),
    )
    with _connect(location) as conn:
        try:
            with conn.transaction(), Progress(*columns, console=console) as progress:
                if not schema_exists(conn, location.schema):
                    init_schema(conn, location.schema)
                task = progress.add_task("loading", total=sum(map(len, frames.values())))
                for spec in sources:
                    progress.update(task, description=f"loading {spec.id}")
                    write_layer_table(
                        conn,
                        location.schema,
                        spec,
                        frames[spec.id],
                        description=f"{spec.title.en} (loaded from {spec.source})",
                    )
                    progress.advance(task, len(frames[spec.id]))
        except GeoServiceError as exc:
            raise fail("not loaded (nothing changed)", exc) from None
    total = sum(map(len, frames.values()))
    console.print(
        f"[green]loaded[/green] {len(frames)} layers, {total:,} features into "
        f"{location.shown()} in {time.perf_counter() - started:.1f} s"
    )
