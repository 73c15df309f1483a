"""What the ``geo-service`` commands share: the Typer apps, consoles, settings, failures."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from geo_service.data.catalog import Catalog, load_catalog
from geo_service.errors import GeoServiceError
from geo_service.settings import Settings

app = typer.Typer(
    help="geo_service: walking-distance coverage of community services.", no_args_is_help=True
)
layers_app = typer.Typer(help="Inspect the layer catalog.", no_args_is_help=True)
demo_app = typer.Typer(help="The synthetic demo district.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for staff and restricted data.", no_args_is_help=True)
maps_app = typer.Typer(help="The map pages as standalone HTML files.", no_args_is_help=True)
import_app = typer.Typer(
    help="Bring data in: an OpenStreetMap extract or a file (dry run unless --commit).",
    no_args_is_help=True,
)
app.add_typer(layers_app, name="layers")
app.add_typer(demo_app, name="demo")
app.add_typer(keys_app, name="keys")
app.add_typer(maps_app, name="maps")
app.add_typer(import_app, name="import")

console = Console()
err_console = Console(stderr=True, soft_wrap=True)

CatalogOption = Annotated[Path | None, typer.Option(help="Catalog folder (default: settings).")]
DataOption = Annotated[Path | None, typer.Option(help="Data folder (default: settings).")]


@app.callback()
def district_option(
    district: Annotated[
        Path | None,
        typer.Option(
            "--district",
            help="The district folder (district.yaml, layers/, maps/, data/geojson/); "
            "default: GEO_SERVICE_DISTRICT_DIR, else the demo district.",
        ),
    ] = None,
) -> None:
    """geo_service: walking-distance coverage of community services."""
    if district is not None:
        # Through the environment, so server worker processes see it too.
        os.environ["GEO_SERVICE_DISTRICT_DIR"] = str(district.resolve())


def settings_for(catalog_dir: Path | None = None, data_dir: Path | None = None) -> Settings:
    """The settings, with the folders given on the command line."""
    overrides = {k: v for k, v in (("catalog_dir", catalog_dir), ("data_dir", data_dir)) if v}
    return Settings(**overrides)


def setup_logging(verbose: bool = True) -> None:
    """Log lines (with counts) to stderr."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False)],
        force=True,
    )


def fail(prefix: str, message: object) -> typer.Exit:
    """Print ``prefix: message`` to stderr (message verbatim) and return the exit to raise."""
    err_console.print(f"[red]{prefix}:[/red] {escape(str(message))}")
    return typer.Exit(1)


def open_catalog(settings: Settings) -> Catalog:
    """The settings' catalog, or exit 1 with the problem."""
    try:
        return load_catalog(settings.catalog_dir)
    except GeoServiceError as exc:
        raise fail("error", exc) from None
