"""``geo-service layers history | diff | rollback | prune``: the versions of a layer, in
the configured store (``GEO_SERVICE_STORE``: the data folder or PostGIS)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from geo_service.cli.common import console, fail, layers_app, open_catalog, settings_for
from geo_service.data.audit import AuditLog
from geo_service.errors import GeoServiceError

LayerArgument = Annotated[str, typer.Argument(help="Layer id.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _store():
    from geo_service.data.stores import open_configured_store

    settings = settings_for()
    try:
        return open_configured_store(settings, open_catalog(settings), derived=False)
    except GeoServiceError as exc:
        raise fail("cannot open the store", exc) from None


def _counted(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


@layers_app.command("history")
def layers_history(layer_id: LayerArgument, as_json: JsonOption = False) -> None:
    """The layer's versions, oldest first: number, time, author, source, features and
    what each added, changed and removed."""
    store = _store()
    try:
        history = store.history(layer_id)
    except GeoServiceError as exc:
        raise fail("error", exc) from None
    if as_json:
        print(json.dumps([v.to_dict() for v in history], ensure_ascii=False, indent=1))
        return
    table = Table("version", "time (UTC)", "author", "source", "features", "+", "~", "−", "kept")
    for v in history:
        table.add_row(
            str(v.number),
            v.time,
            v.author,
            v.source,
            f"{v.features:,}",
            _counted(v.added),
            _counted(v.changed),
            _counted(v.removed),
            "yes" if v.kept else "pruned",
        )
    console.print(table)


@layers_app.command("diff")
def layers_diff(
    layer_id: LayerArgument,
    old: Annotated[int, typer.Argument(help="The earlier version's number.")],
    new: Annotated[int, typer.Argument(help="The later version's number.")],
    as_json: JsonOption = False,
) -> None:
    """Features added, removed and changed (with the properties that differ) from version
    OLD to version NEW."""
    from geo_service.data.versions import changes_between, diff_document

    store = _store()
    try:
        versions = {v.number: v for v in store.history(layer_id)}
        spec = store.catalog.get(layer_id)
        changes = changes_between(
            spec, store.read_version(layer_id, old), store.read_version(layer_id, new)
        )
    except GeoServiceError as exc:
        raise fail("error", exc) from None
    document = diff_document(spec, versions[old], versions[new], changes)
    if as_json:
        print(json.dumps(document, ensure_ascii=False, indent=1))
        return
    console.print(f"[bold]{layer_id}[/bold]: version {old} → {new}")
    console.print(f"added ({len(changes.added)}): {', '.join(changes.added[:20])}")
    console.print(f"removed ({len(changes.removed)}): {', '.join(changes.removed[:20])}")
    changed = [f"{i} ({', '.join(fields)})" for i, fields in list(changes.changed.items())[:20]]
    console.print(f"changed ({len(changes.changed)}): {'; '.join(changed)}")


@layers_app.command("rollback")
def layers_rollback(
    layer_id: LayerArgument,
    version: Annotated[int, typer.Argument(help="The version to restore.")],
) -> None:
    """Restore version VERSION of the layer: written as a new version (nothing is lost)."""
    store = _store()
    try:
        frame = store.read_version(layer_id, version)
        store.write(
            layer_id,
            frame,
            description=f"version {version} restored",
            source=f"rollback to version {version}",
        )
        current = store.history(layer_id)[-1]
    except GeoServiceError as exc:
        raise fail("not restored", exc) from None
    AuditLog(settings_for().state_dir / "audit.log").record_change(
        layer_id, current, action="rollback", path="geo-service layers rollback"
    )
    console.print(
        f"[green]restored[/green] {layer_id} version {version} as version {current.number} "
        f"({current.features:,} features)"
    )


@layers_app.command("prune")
def layers_prune(
    layer_id: LayerArgument,
    keep: Annotated[int, typer.Option(help="How many of the latest versions to keep.")],
) -> None:
    """Drop the features of older versions (their records stay; never the current one)."""
    store = _store()
    try:
        pruned = store.prune(layer_id, keep)
    except GeoServiceError as exc:
        raise fail("error", exc) from None
    console.print(f"pruned {len(pruned)} version(s) of {layer_id}: {pruned}")
