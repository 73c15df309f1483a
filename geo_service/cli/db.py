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
    transaction (all layers or none), after checking each against the catalog. The
    district's coverage layers come along when they are current for these inputs; else
    ``geo-service coverage`` or ``serve`` computes them into the store."""
    from geo_service.data.derived import (
        MANIFEST,
        district_profile,
        input_layers,
        is_fresh,
        versions_digest,
    )
    from geo_service.data.stores.file import FileStore
    from geo_service.data.stores.postgis_schema import init_schema, schema_exists, write_note

    setup_logging()
    settings = settings_for()
    location = _location(settings, store)
    catalog = open_catalog(settings)
    try:
        files = FileStore(catalog, settings.data_dir, settings.derived_dir)
        profile = district_profile(settings)
        fresh = is_fresh(files, settings, profile)
    except GeoServiceError as exc:
        raise fail("not loaded", exc) from None
    layers = [s for s in catalog if not s.derived or (fresh and files.has(s.id))]
    frames = {spec.id: files.query(spec.id) for spec in layers}
    started = time.perf_counter()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("features"),
        TimeElapsedColumn(),
    )
    versions = {}
    with _connect(location) as conn:
        try:
            with conn.transaction(), Progress(*columns, console=console) as progress:
                if not schema_exists(conn, location.schema):
                    init_schema(conn, location.schema)
                task = progress.add_task("loading", total=sum(map(len, frames.values())))
                for spec in layers:
                    progress.update(task, description=f"loading {spec.id}")
                    versions[spec.id] = _load_layer(conn, location.schema, spec, frames[spec.id])
                    progress.advance(task, len(frames[spec.id]))
                if fresh:  # the results and their manifest, for the loaded inputs
                    inputs = {i: versions[i] for i in input_layers(catalog, profile)}
                    manifest = files.read_note(MANIFEST)
                    manifest["digest"] = versions_digest(inputs, settings, profile)
                    write_note(conn, location.schema, MANIFEST, manifest)
        except GeoServiceError as exc:
            raise fail("not loaded (nothing changed)", exc) from None
    total = sum(map(len, frames.values()))
    derived = " with its current coverage layers" if fresh else ""
    console.print(
        f"[green]loaded[/green] {len(frames)} layers, {total:,} features{derived} into "
        f"{location.shown()} in {time.perf_counter() - started:.1f} s"
    )


def _load_layer(conn, schema: str, spec, frame) -> str:
    """Write one layer in the load's transaction: a source layer as a new version (the one
    it replaces kept aside; changes not counted), a computed one as it is."""
    from geo_service.data.stores import postgis_versions
    from geo_service.data.stores.postgis_schema import write_layer_table
    from geo_service.data.versions import new_version

    description = f"{spec.title.en} (loaded from {spec.source})"
    number = 0 if spec.derived else postgis_versions.keep_current(conn, schema, spec.id)[0]
    version = write_layer_table(conn, schema, spec, frame, description=description).version
    if not spec.derived:
        record = new_version(
            spec,
            None,
            frame,
            number=number + 1,
            version=version,
            author=None,
            source=f"db load {spec.source}",
            description=description,
            counted=number == 0,
        )
        postgis_versions.record(conn, schema, spec.id, record)
    return version
