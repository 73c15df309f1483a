"""Import one file into one layer: read it, check it feature by feature, compare it with
the layer as stored and look for implausible data (the dry run), then — when nothing
stands in the way — write it as a new version of the layer.

``geo-service import file`` and the upload route (``POST /collections/{id}/uploads``)
both go through :func:`plan_file_import` and :func:`commit_refusal`, so a file gets the
same report and the same verdict on the command line and over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd

from geo_service.data.catalog import LayerSpec, load_catalog
from geo_service.importing.archive import DEFAULT_LIMITS, ArchiveLimits
from geo_service.importing.district import plausibility_findings
from geo_service.importing.files import read_import_file
from geo_service.importing.report import ImportReport, commit_import, plan_import
from geo_service.importing.target import ImportTarget
from geo_service.settings import Settings

#: What an import compares with: the stored features of a layer id, None if it has none.
CurrentLayer = Callable[[str], gpd.GeoDataFrame | None]


@dataclass(frozen=True)
class FileOptions:
    """How to read a file (see :func:`geo_service.importing.files.read_import_file`):
    its CRS, column mapping, coordinate columns, text encoding and layer or sheet."""

    crs: str | None = None
    mapping: Path | Mapping[str, Any] | None = None
    x: str | None = None
    y: str | None = None
    encoding: str | None = None
    layer: str | None = None


def plan_file_import(
    settings: Settings,
    spec: LayerSpec,
    path: Path,
    options: FileOptions,
    current: CurrentLayer,
    *,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> ImportReport:
    """The dry run of importing ``path`` into layer ``spec``: features accepted and
    rejected (with reasons), what would change against ``current(spec.id)``, and the
    plausibility findings. Nothing is written.

    Raises
    ------
    ImportFailed
        The file cannot be read or is refused (see :mod:`.archive`), or ``spec`` is a
        derived layer.
    """
    incoming = read_import_file(
        path,
        layer=options.layer,
        crs=options.crs,
        mapping=options.mapping,
        x=options.x,
        y=options.y,
        encoding=options.encoding,
        limits=limits,
    )
    report = plan_import(spec, incoming, current(spec.id))
    if not report.accepted.empty:
        report.findings.extend(
            plausibility_findings(settings, {spec.id: report.accepted}, current=current)
        )
    return report


def commit_refusal(report: ImportReport, *, force: bool, partial: bool) -> str | None:
    """Why ``report`` may not be committed, or None if it may: no feature accepted, rows
    that were rejected (unless ``partial``; their reasons are in the report), the layer's
    own checks fail, or a plausibility error (unless ``force``)."""
    if not report.accepted_count:
        return f"no feature of {report.source} was accepted"
    if report.rejected and not partial:
        reasons = ", ".join(
            f"{field} {rule} ({count})" for field, rule, count in report.reason_counts()
        )
        return (
            f"{len(report.rejected)} row(s) of {report.source} were rejected: {reasons}; "
            "fix them, or commit the accepted rows alone (partial)"
        )
    if report.layer_problems:
        return "the layer would fail its checks: " + "; ".join(report.layer_problems)
    if report.errors and not force:
        return "; ".join(f.message for f in report.errors) + " (force to write anyway)"
    return None


def import_file_into(
    settings: Settings,
    layer: str,
    source: Path,
    options: FileOptions | None = None,
    *,
    commit: bool = False,
    force: bool = False,
) -> tuple[ImportReport, Path | str | None]:
    """Read ``source`` for ``layer``, compare it with the current layer and, with
    ``commit``, replace the layer atomically (its file, or a new version in the configured
    store) — not when a plausibility check found an error (wrong datum, swapped axes,
    duplicate ids), unless ``force``. Rows rejected are reported and left out. Returns
    (report, what was written or None); the report says why nothing was written."""
    catalog = load_catalog(settings.catalog_dir)
    spec = catalog.get(layer)
    with ImportTarget(settings, catalog) as target:
        report = plan_file_import(
            settings, spec, Path(source), options or FileOptions(), target.current
        )
        if not commit or commit_refusal(report, force=force, partial=True) is not None:
            return report, None
        written = commit_import(
            report, spec, target.destination, keep_versions=settings.keep_versions
        )
        target.audit(layer, action="import", command=f"geo-service import file {layer}")
        if not isinstance(written, Path):
            written = f"{target.describe()}: {layer} version {written}"
    return report, written
