"""``geo-service scenario``: named what-if scenarios from the command line, in the same
store the API and the planner's workspace use (``state_dir/scenarios.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from geo_service.cli.common import app, console, fail, setup_logging
from geo_service.errors import GeoServiceError
from geo_service.settings import Settings

scenario_app = typer.Typer(
    help="Named what-if scenarios: save, list, show, delete.", no_args_is_help=True
)
app.add_typer(scenario_app, name="scenario")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _percent(share: float) -> str:
    return f"{100 * share:.1f}%"


def _store(settings: Settings):
    from geo_service.data.scenarios import ScenarioStore

    return ScenarioStore(settings.state_dir / "scenarios.json")


def _answer(settings: Settings, change: dict) -> tuple[dict, object]:
    """The change checked and answered on the current data, and the coverage context."""
    from geo_service.analysis.whatif import what_if
    from geo_service.crs import to_metric
    from geo_service.data.scenario_change import parse_scenario
    from geo_service.pipeline.service_data import load_data

    setup_logging(verbose=False)
    _, context = load_data(settings)
    if context is None:
        raise fail("error", "coverage is not available for this catalog")
    added, removed = parse_scenario(change)
    baseline = context.whatif
    return what_if(baseline, to_metric(added, baseline.graph.crs), removed), context


def _show(record: dict, answer: dict, as_json: bool) -> None:
    """A scenario and its answer: JSON, or the headline and the areas that change."""
    if as_json:
        console.print_json(data={**record, "answer": answer})
    else:
        _print_answer(record["name"], answer)


def _print_answer(name: str, answer: dict) -> None:
    circle = answer["criterion"]
    widest = max(int(k) for k in circle["circles_m"])
    key = f"share_{widest}"
    console.print(
        f"[bold]{name}[/bold]: within the {widest}-minute circle "
        f"{_percent(answer['before']['district'][key])} → "
        f"{_percent(answer['after']['district'][key])}; "
        f"gained {answer['gain']['residents']:,} residents in {answer['gain']['compounds']} "
        f"compounds, lost {answer['loss']['residents']:,} in {answer['loss']['compounds']}"
    )
    console.print(f"criterion: {circle['text_en']}")
    table = Table("level", "area", "residents", "before", "after", "gained", "lost")
    for area in answer["areas"]:
        table.add_row(
            area["level"],
            area["id"],
            f"{area['residents']:,}",
            _percent(area["share_before"]),
            _percent(area["share_after"]),
            f"{area['gained_residents']:,}",
            f"{area['lost_residents']:,}",
        )
    if answer["areas"]:
        console.print(table)
    for site in answer["sites"]:
        if site["snap_status"] != "ok":
            console.print(f"[yellow]warning:[/yellow] {site['id']}: {site['snap_status']}")


@scenario_app.command("save")
def save(
    name: Annotated[str, typer.Argument(help="The scenario's name (unique).")],
    add: Annotated[
        Path | None, typer.Option(help="GeoJSON (EPSG:4326) of proposed sites: points/polygons.")
    ] = None,
    remove: Annotated[
        list[str] | None, typer.Option(help="Id of a service centre to close (repeatable).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Answer a what-if and save it under NAME."""
    from geo_service.analysis.scenario import scenario_summary
    from geo_service.data.scenario_change import change_document, parse_scenario

    settings = Settings()
    change: dict = {"remove": remove or []}
    if add is not None:
        try:
            change["add"] = json.loads(add.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise fail("error", f"cannot read {add}: {exc}") from None
    try:
        answer, context = _answer(settings, change)
        added, removed = parse_scenario(change)
        record = _store(settings).save(
            name,
            change_document(added, removed),
            scenario_summary(answer, context.params),
            author="cli",
        )
    except GeoServiceError as exc:
        raise fail("error", exc) from None
    _show(record, answer, as_json)
    if not as_json:
        console.print(f"saved as {record['id']} in {settings.state_dir / 'scenarios.json'}")


@scenario_app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """The saved scenarios, newest first, with their headline when saved."""
    records = _store(Settings()).list()
    if as_json:
        console.print_json(data=records)
        return
    table = Table("id", "name", "created", "sites", "closures", "before", "after", "gained")
    for r in records:
        s = r["summary"]
        table.add_row(
            r["id"],
            r["name"],
            r["created"],
            str(len(r["add"]["features"])),
            str(len(r["remove"])),
            _percent(s["share_before"]),
            _percent(s["share_after"]),
            f"{s['gained_residents']:,}",
        )
    console.print(table if records else "no saved scenarios")


@scenario_app.command("show")
def show(
    key: Annotated[str, typer.Argument(help="The scenario's id or name.")],
    as_json: JsonOption = False,
) -> None:
    """Reopen a saved scenario: its answer computed again on the current data."""
    settings = Settings()
    try:
        record = _store(settings).find(key)
        answer, _ = _answer(settings, {"add": record["add"], "remove": record["remove"]})
    except GeoServiceError as exc:
        raise fail("error", exc) from None
    _show(record, answer, as_json)


@scenario_app.command("delete")
def delete(key: Annotated[str, typer.Argument(help="The scenario's id or name.")]) -> None:
    """Delete a saved scenario."""
    try:
        record = _store(Settings()).delete(key)
    except GeoServiceError as exc:
        raise fail("error", exc) from None
    console.print(f"deleted {record['id']} ({record['name']})")
