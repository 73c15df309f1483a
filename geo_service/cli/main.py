"""The ``geo-service`` commands: serve, inspect and validate layers, coverage, keys, maps,
demo data."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from geo_service.cli.common import (
    CatalogOption,
    DataOption,
    app,
    console,
    demo_app,
    err_console,
    keys_app,
    layers_app,
    maps_app,
)
from geo_service.cli.common import fail as _fail
from geo_service.cli.common import open_catalog as _catalog
from geo_service.cli.common import settings_for as _settings
from geo_service.cli.common import setup_logging as _logging
from geo_service.data.stores.file import FileStore, check_data, read_layer
from geo_service.errors import GeoServiceError
from geo_service.settings import Settings


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: settings).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: settings).")] = None,
    catalog_dir: CatalogOption = None,
    data_dir: DataOption = None,
    workers: Annotated[int, typer.Option(min=1, help="Uvicorn worker processes.")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
) -> None:
    """Run the web service (FastAPI on uvicorn)."""
    import os

    import uvicorn

    from geo_service.api.app import create_app

    _logging()
    settings = _settings(catalog_dir, data_dir)
    settings = settings.model_copy(update={k: v for k, v in (("host", host), ("port", port)) if v})
    try:
        application = create_app(settings)  # checks everything, computes coverage once
    except GeoServiceError as exc:
        raise _fail("cannot start", exc) from None
    options = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "info",
        "access_log": access_log,
    }
    if workers == 1:
        uvicorn.run(application, **options)
        return
    # Worker processes build their own app from the environment; the derived layers are
    # already current, so they only load them.
    os.environ["GEO_SERVICE_CATALOG_DIR"] = str(settings.catalog_dir)
    os.environ["GEO_SERVICE_DATA_DIR"] = str(settings.data_dir)
    os.environ["GEO_SERVICE_DERIVED_DIR"] = str(settings.derived_dir)
    uvicorn.run("geo_service.api.app:create_app", factory=True, workers=workers, **options)


@layers_app.command("list")
def layers_list(catalog_dir: CatalogOption = None, data_dir: DataOption = None) -> None:
    """List the layers with titles, geometry, access level and feature count."""
    settings = _settings(catalog_dir, data_dir)
    catalog = _catalog(settings)
    table = Table("id", "title (zh)", "title (en)", "geometry", "access", "features")
    for spec in catalog:
        frame, _ = read_layer(spec, settings.data_dir)
        count = str(len(frame)) if frame is not None else "[red]missing[/red]"
        table.add_row(spec.id, spec.title.zh, spec.title.en, spec.geometry_type, spec.access, count)
    console.print(table)


@layers_app.command("show")
def layers_show(
    layer_id: Annotated[str, typer.Argument(help="Layer id.")],
    catalog_dir: CatalogOption = None,
    data_dir: DataOption = None,
) -> None:
    """Show one layer's catalog entry, schema and data summary."""
    settings = _settings(catalog_dir, data_dir)
    catalog = _catalog(settings)
    try:
        spec = catalog.get(layer_id)
    except GeoServiceError as exc:
        raise _fail("error", f"{exc}; known: {', '.join(s.id for s in catalog)}") from None
    console.print(f"[bold]{spec.id}[/bold] — {spec.title.zh} / {spec.title.en}")
    console.print(spec.description.zh)
    console.print(spec.description.en)
    console.print(
        f"geometry: {spec.geometry_type}   access: {spec.access}   "
        f"source: {spec.source}   licence: {spec.licence}"
    )
    console.print(f"synthetic: {spec.provenance.synthetic} — {spec.provenance.method}")
    table = Table("property", "type", "unit", "required", "description")
    for prop in spec.properties:
        table.add_row(
            prop.name,
            prop.type,
            prop.unit or "",
            "yes" if prop.required else "",
            f"{prop.description.zh} / {prop.description.en}",
        )
    console.print(table)
    frame, problems = read_layer(spec, settings.data_dir)
    if frame is not None:
        bounds = ", ".join(f"{v:.5f}" for v in frame.total_bounds)
        console.print(f"features: {len(frame)}   bbox (lon/lat): {bounds}")
        if spec.id == "district" and len(frame):
            for key, value in frame.drop(columns="geometry").iloc[0].items():
                console.print(f"  {key}: {value}")
    for problem in problems:
        console.print(f"[red]problem:[/red] {escape(str(problem))}")


@app.command()
def validate(catalog_dir: CatalogOption = None, data_dir: DataOption = None) -> None:
    """Check the profile, the catalog and every data file (schema, geometry, CRS, counts),
    then the data's plausibility (outside the district, swapped axes, a GCJ-02 / BD-09
    datum, features that cannot reach the network, isolated network pieces, duplicate ids).

    Exits 1 with a report when anything is wrong (warnings are shown, and pass).
    """
    from geo_service.data.derived import (
        check_district_crs,
        district_profile,
        file_bounds,
        is_fresh,
    )
    from geo_service.data.profile import check_against_catalog

    settings = _settings(catalog_dir, data_dir)
    catalog = _catalog(settings)
    try:
        profile = district_profile(settings)
        check_against_catalog(profile, catalog)
        check_district_crs(settings, profile, file_bounds(catalog, settings.data_dir))
    except GeoServiceError as exc:
        raise _fail("error", exc) from None
    problems = check_data(catalog, settings.data_dir)
    derived = None
    if not any(problems.values()):  # sources sound: are the results theirs? check them too
        store = FileStore(catalog, settings.data_dir, settings.derived_dir)
        if is_fresh(store, settings, profile):
            derived = settings.derived_dir
            problems = check_data(catalog, settings.data_dir, derived)
    table = Table("layer", "result", "problems")
    for layer_id, layer_problems in problems.items():
        result = "[green]ok[/green]" if not layer_problems else f"[red]{len(layer_problems)}[/red]"
        table.add_row(
            layer_id, result, escape("\n".join(f"{p.field}: {p.message}" for p in layer_problems))
        )
    console.print(table)
    total = sum(map(len, problems.values()))
    if total:
        err_console.print(f"[red]{total} problem(s) in {settings.data_dir}[/red]")
        raise typer.Exit(1)
    findings = _plausibility(settings, catalog)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        err_console.print(f"[red]{len(errors)} implausible layer(s)[/red]")
        raise typer.Exit(1)
    console.print(f"[green]catalog and data valid[/green]: {len(problems)} layers")
    if derived is None:
        console.print("derived layers are not computed yet: run `geo-service coverage`")


def _plausibility(settings: Settings, catalog) -> list:
    """Run the plausibility checks on the source layers and print what they found."""
    from geo_service.importing.district import plausibility_findings

    layers = {}
    for spec in catalog:
        if not spec.derived:
            frame, _ = read_layer(spec, settings.data_dir)
            if frame is not None and not frame.empty:
                layers[spec.id] = frame
    findings = plausibility_findings(settings, layers, district=layers.get("district"))
    table = Table("layer", "check", "severity", "count", "ids", "what", title="Plausibility")
    for f in findings:
        shown = ", ".join(f.ids[:5]) + (f" and {len(f.ids) - 5} more" if len(f.ids) > 5 else "")
        table.add_row(
            f.layer,
            f.check,
            f.severity,
            f"{f.count} of {f.total}",
            escape(shown),
            escape(f.message),
        )
    if findings:
        console.print(table)
    else:
        console.print("plausibility: nothing suspicious")
    return findings


@maps_app.command("build")
def maps_build(
    out: Annotated[Path | None, typer.Option(help="Output folder (default: settings).")] = None,
    api_url: Annotated[
        str | None,
        typer.Option(help="Service the locator page calls (default: this host and port)."),
    ] = None,
    catalog_dir: CatalogOption = None,
    data_dir: DataOption = None,
) -> None:
    """Write planner.html (features inline: opens from disk, no server or internet) and
    locator.html (calls the API at --api-url) with their assets, public layers only."""
    from geo_service.data.derived import district_profile
    from geo_service.maps.build import build_maps
    from geo_service.pipeline.service_data import load_data

    _logging()
    settings = _settings(catalog_dir, data_dir)
    try:
        store, _ = load_data(settings)
        written = build_maps(
            settings,
            store,
            district_profile(settings),
            out or settings.build_dir,
            api_url or f"http://{settings.host}:{settings.port}/",
        )
    except GeoServiceError as exc:
        raise _fail("cannot build the maps", exc) from None
    for path in written:
        console.print(f"{path}")


def _key_store(settings: Settings):
    from geo_service.data.keys import KeyStore

    pepper = settings.api_key_secret.get_secret_value() if settings.api_key_secret else None
    return KeyStore(settings.state_dir / "keys.json", pepper)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="staff (internal layers) or restricted (all).")],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
    days: Annotated[int | None, typer.Option(min=1, help="Expire after this many days.")] = None,
) -> None:
    """Issue a key. It is printed once; only its hash is stored."""
    try:
        key, record = _key_store(Settings()).create(role, name, days=days)  # type: ignore[arg-type]
    except ValueError as exc:
        raise _fail("error", exc) from None
    console.print(
        f"key id {record.id} ({record.role}, {record.name}); expires: {record.expires or 'never'}"
    )
    console.print("the key (shown once; send it as 'Authorization: Bearer <key>'):")
    print(key)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id.")]) -> None:
    """Revoke a key at once."""
    try:
        record = _key_store(Settings()).revoke(key_id)
    except KeyError:
        raise _fail("error", f"no key with id {key_id!r}") from None
    console.print(f"revoked {record.id} ({record.role}, {escape(record.name)})")


@keys_app.command("list")
def keys_list() -> None:
    """The keys: id, role, name, dates, status (never the key itself)."""
    from datetime import UTC, datetime

    table = Table("id", "role", "name", "created", "expires", "status")
    now = datetime.now(UTC)
    for record in _key_store(Settings()).list():
        status = "revoked" if record.revoked else ("active" if record.active(now) else "expired")
        table.add_row(
            record.id,
            record.role,
            escape(record.name),
            record.created,
            record.expires or "never",
            status,
        )
    console.print(table)


@demo_app.command("city")
def demo_city(
    out: Annotated[Path, typer.Argument(help="The district folder to write.")],
    scale: Annotated[
        float, typer.Option(help="1 = ~20,000 compounds, 5 million residents; 0.05 = 2 districts.")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same city.")] = 1,
    workers: Annotated[
        int | None,
        typer.Option(help="Processes making districts side by side (default: one per CPU)."),
    ] = None,
) -> None:
    """Generate a synthetic city (districts made by the demo district's rules, side by
    side) as a district folder: serve it with --district OUT."""
    from rich.progress import Progress

    from geo_service.demo.city import city_districts, generate_city, write_city

    _logging()  # a line per district and per layer written, also where no bar is drawn
    started = time.perf_counter()
    with Progress(console=console) as progress:
        task = progress.add_task("districts", total=city_districts(scale))
        layers = generate_city(
            scale, seed, lambda done, _: progress.update(task, completed=done), workers=workers
        )
    write_city(layers, out, template=Settings().district_dir, seed=seed, scale=scale)
    counts = ", ".join(f"{layer} {len(frame):,}" for layer, frame in layers.items())
    console.print(f"[green]wrote {out}[/green] in {time.perf_counter() - started:.0f} s: {counts}")


@demo_app.command("generate")
def demo_generate(
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same files.")
    ] = 2024,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: data folder).")] = None,
) -> None:
    """Generate the synthetic Binhu demo district and write its GeoJSON layers."""
    from geo_service.demo.generate import generate_demo, write_demo

    _logging()
    folder = out or Settings().data_dir
    started = time.perf_counter()
    layers = generate_demo(seed)
    paths = write_demo(layers, folder, seed=seed)
    for path in paths:
        console.print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")
    console.print(f"[green]{len(paths)} layers in {time.perf_counter() - started:.1f} s[/green]")
