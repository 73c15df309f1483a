"""``geo-service init`` and ``geo-service import``: a new district folder, and data brought
into it from OpenStreetMap or files (dry runs unless ``--commit``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.table import Table

from geo_service.cli.common import app, console, err_console, fail, import_app, setup_logging
from geo_service.data.values import json_plain
from geo_service.errors import GeoServiceError
from geo_service.settings import Settings

BBoxOption = Annotated[str | None, typer.Option(help="west,south,east,north in degrees (WGS 84).")]


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise fail("error", f"--bbox must be west,south,east,north, not {text!r}") from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise fail("error", f"--bbox {text!r} is not a lon/lat box (west < east, south < north)")
    return west, south, east, north


def _country_of(timezone: str) -> str | None:
    """The ISO country of an IANA zone, from the system's zone.tab (None if unknown)."""
    table = Path("/usr/share/zoneinfo/zone.tab")
    if not table.is_file():
        return None
    for line in table.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if not line.startswith("#") and len(fields) >= 3 and fields[2] == timezone:
            return fields[0]
    return None


def _write_yaml(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100), encoding="utf-8"
    )


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="The new district folder.")],
    name: Annotated[str, typer.Option(help="The district's name in the local language.")],
    name_en: Annotated[str | None, typer.Option(help="Name in English.")] = None,
    name_zh: Annotated[str | None, typer.Option(help="Name in Chinese.")] = None,
    bbox: BBoxOption = None,
    boundary: Annotated[
        Path | None, typer.Option(help="A file with the district's outline (any format).")
    ] = None,
    extract: Annotated[
        Path | None,
        typer.Option(help="An OSM extract whose bounds are the district (if no outline)."),
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="IANA time zone (default: from the extent).")
    ] = None,
    country: Annotated[
        str | None, typer.Option(help="ISO 3166 code (default: from the time zone).")
    ] = None,
    tags: Annotated[
        Path | None, typer.Option(help="OSM tag mapping (default: the shipped osm_tags.yaml).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Write into a folder that is not empty.")] = False,
) -> None:
    """Write a ready district folder: district.yaml (profile), layers/ (catalog), maps/
    (planner map) and data/geojson/district.geojson (the outline: --boundary, --bbox or the
    bounds of --extract). Import data next."""
    from geo_service.importing.district import new_district

    if folder.exists() and any(folder.iterdir()) and not force:
        raise fail("error", f"{folder} is not empty (use --force to write into it)")
    try:
        written = new_district(
            folder,
            name=name,
            name_en=name_en,
            name_zh=name_zh,
            bbox=_bbox(bbox),
            boundary=boundary,
            timezone=timezone,
            country=country,
            tags=tags,
            extract=extract,
            country_of=_country_of,
        )
    except (GeoServiceError, ValueError) as exc:
        raise fail("cannot create the district", exc) from None
    for path in written:
        console.print(f"wrote {path}")
    console.print(
        f"[green]district folder ready[/green]: next `geo-service --district {folder} import "
        "osm EXTRACT.osm.pbf --commit`"
    )


@import_app.command("osm")
def import_osm_command(
    extract: Annotated[Path, typer.Argument(help="An OpenStreetMap extract (.osm.pbf, .osm).")],
    commit: Annotated[bool, typer.Option(help="Write the layers (default: dry run).")] = False,
    bbox: BBoxOption = None,
    relation: Annotated[
        str | None, typer.Option(help="boundary=administrative relation (id or name).")
    ] = None,
    tags: Annotated[Path | None, typer.Option(help="OSM tag mapping file.")] = None,
    demand: Annotated[
        str,
        typer.Option(help="Demand from residential 'buildings' or 'landuse' areas."),
    ] = "buildings",
    persons_per_m2: Annotated[
        float | None,
        typer.Option(help="Residents per m² of floor area (default 1/35 = 0.0286)."),
    ] = None,
    population_table: Annotated[
        Path | None,
        typer.Option(help="CSV of OSM id (w123 / r45) and population, used first."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Build the walking network, facilities, demand and boundaries from an OSM extract,
    into the district (``--district``). A dry run prints what would be written."""
    from geo_service.importing.district import import_osm_into

    setup_logging()
    settings = Settings()
    try:
        report = import_osm_into(
            settings,
            extract,
            commit=commit,
            bbox=_bbox(bbox),
            relation=relation,
            tags=tags,
            demand=demand,
            persons_per_m2=persons_per_m2,
            population_table=population_table,
        )
    except (GeoServiceError, ValueError, OSError) as exc:
        raise fail("cannot import", exc) from None
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=1, default=json_plain))
        return
    table = Table(
        "layer", "features", "added", "changed", "removed", "unchanged",
        title=f"OpenStreetMap import of {extract.name}",
    )  # fmt: skip
    for layer, count in report["layers"].items():
        change = report["changes"][layer]
        table.add_row(
            layer, f"{count:,}", *(f"{change[k]:,}" for k in ("added", "changed", "removed",
                                                             "unchanged")),
        )  # fmt: skip
    console.print(table)
    console.print(f"metric CRS: {report['metric_crs']}")
    for note in report["notes"]:
        console.print(f"- {note}")
    for finding in report["findings"]:
        console.print(f"[yellow]{finding['severity']}[/yellow] {finding['message']}")
    if commit:
        console.print(f"[green]written[/green] to {settings.data_dir}")
    else:
        console.print("[yellow]dry run[/yellow]: nothing written; add --commit to write")


@import_app.command("file")
def import_file_command(
    layer: Annotated[str, typer.Argument(help="The layer to replace (catalog id).")],
    source: Annotated[Path, typer.Argument(help="GeoJSON, GPKG, SHP/zip, KML, FGB, CSV, XLSX.")],
    crs: Annotated[
        str | None,
        typer.Option(
            help="The file's CRS when it does not say: wgs84, cgcs2000, EPSG:n, "
            "gcj02 (Amap, Tencent) or bd09 (Baidu)."
        ),
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="Column-mapping YAML file.")] = None,
    x: Annotated[str | None, typer.Option(help="Longitude / x column (CSV, XLSX).")] = None,
    y: Annotated[str | None, typer.Option(help="Latitude / y column (CSV, XLSX).")] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding (default: detect).")] = None,
    commit: Annotated[bool, typer.Option(help="Write the layer (default: dry run).")] = False,
    force: Annotated[
        bool, typer.Option(help="Write even when a plausibility check found an error.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check a file against a layer's catalog entry and compare it with the current data
    (dry run: a report of features read, rejected with reasons, added / changed / removed);
    ``--commit`` replaces the layer atomically. A bad file changes nothing."""
    from geo_service.importing.file_import import FileOptions, import_file_into

    setup_logging(verbose=False)
    settings = Settings()
    try:
        report, written = import_file_into(
            settings,
            layer,
            source,
            FileOptions(crs=crs, mapping=mapping, x=x, y=y, encoding=encoding),
            commit=commit,
            force=force,
        )
    except (GeoServiceError, OSError) as exc:
        raise fail("cannot import", exc) from None
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1, default=json_plain))
    else:
        console.print(report.table())
    if written is not None:
        (err_console if as_json else console).print(f"[green]written[/green] {written}")
    elif commit:
        why = [f.message for f in report.errors] or ["see the report (Can be committed)"]
        raise fail("not written", "; ".join(why) + ("" if force else " (--force writes anyway)"))
    elif not as_json:
        console.print("[yellow]dry run[/yellow]: nothing written; add --commit to write")
