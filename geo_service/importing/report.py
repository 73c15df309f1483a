"""The dry run of an import — which features a file would bring into a layer, which it
cannot and why, what would change — and the commit that writes the accepted features as
the layer's source file, atomically.

A report is built by :func:`plan_import` and only written by :func:`commit_import`;
between the two nothing touches the data folder.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
from rich.table import Table

from geo_service.data.catalog import LayerSpec
from geo_service.data.changes import Changes, compare
from geo_service.data.stores.base import LayerStore
from geo_service.data.stores.file import write_layer_version
from geo_service.data.validation import validate_layer
from geo_service.errors import DataValidationError, ImportFailed
from geo_service.importing.checks import check_features
from geo_service.importing.coordinates import CrsSource
from geo_service.importing.files import ReadResult
from geo_service.importing.reasons import Rejection

#: How many rejected rows the table lists (the counts per reason cover them all).
SHOWN_REJECTIONS = 10


@dataclass(frozen=True, eq=False)  # holds a GeoDataFrame
class ImportReport:
    """What importing a file into a layer would do (a dry run until committed).

    ``accepted`` holds the features to write (EPSG:4326, catalog properties and types,
    indexed by row number); ``findings`` is for plausibility findings from
    :mod:`geo_service.analysis.plausibility` (empty until that module fills it).
    """

    layer: str
    source: str
    format: str
    source_layer: str | None
    crs_used: str
    crs_source: CrsSource
    crs_detail: str
    encoding: str | None
    encoding_detail: str | None
    rows_read: int
    accepted: gpd.GeoDataFrame = field(repr=False)
    rejected: list[Rejection]
    dropped_columns: list[str]
    changes: Changes
    layer_problems: list[str]
    notes: list[str]
    findings: list[Any] = field(default_factory=list)

    @property
    def accepted_count(self) -> int:
        """Features that pass every check."""
        return len(self.accepted)

    @property
    def committable(self) -> bool:
        """Whether ``--commit`` writes this report: features accepted, no layer problem and
        no plausibility error (``--force`` overrides the last)."""
        return self.accepted_count > 0 and not self.layer_problems and not self.errors

    @property
    def errors(self) -> list[Any]:
        """The plausibility findings of severity ``error`` (wrong datum, swapped axes ...)."""
        return [f for f in self.findings if getattr(f, "severity", None) == "error"]

    def reason_counts(self) -> list[tuple[str, str, int]]:
        """(field, rule, number of rejected features) per kind of reason, most first."""
        counts = Counter(
            (reason.field, reason.code)
            for rejection in self.rejected
            for reason in {(r.field, r.code): r for r in rejection.reasons}.values()
        )
        return [(f, code, n) for (f, code), n in sorted(counts.items(), key=lambda i: -i[1])]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (for ``--json`` and HTTP uploads)."""
        return {
            "layer": self.layer,
            "source": {"file": self.source, "format": self.format, "layer": self.source_layer},
            "crs": {"used": self.crs_used, "source": self.crs_source, "detail": self.crs_detail},
            "encoding": {"name": self.encoding, "detail": self.encoding_detail},
            "features": {
                "read": self.rows_read,
                "accepted": self.accepted_count,
                "rejected": len(self.rejected),
            },
            "rejected": [r.to_dict() for r in self.rejected],
            "rejection_counts": [
                {"field": f, "code": code, "count": n} for f, code, n in self.reason_counts()
            ],
            "dropped_columns": self.dropped_columns,
            "changes": self.changes.to_dict(),
            "layer_problems": self.layer_problems,
            "notes": self.notes,
            "findings": [f.to_dict() if hasattr(f, "to_dict") else str(f) for f in self.findings],
            "committable": self.committable,
        }

    def table(self, *, shown: int = SHOWN_REJECTIONS) -> Table:
        """The report as a rich table for the terminal (``shown`` rejected rows listed)."""
        table = Table(
            title=f"Import into {self.layer} from {self.source} (dry run)",
            show_header=False,
            title_justify="left",
        )
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        source = self.format + (f", layer {self.source_layer}" if self.source_layer else "")
        table.add_row("File", f"{self.source} ({source})")
        table.add_row("CRS", self.crs_detail)
        table.add_row("Encoding", self.encoding_detail or "-")
        table.add_section()
        table.add_row("Features read", str(self.rows_read))
        table.add_row("Accepted", str(self.accepted_count))
        table.add_row("Rejected", str(len(self.rejected)))
        for name, code, count in self.reason_counts():
            table.add_row("", f"{count} × {name}: {code}")
        for rejection in self.rejected[:shown]:
            table.add_row("", f"[dim]{rejection}[/dim]")
        if len(self.rejected) > shown:
            table.add_row("", f"[dim]... and {len(self.rejected) - shown} more[/dim]")
        table.add_section()
        changes = self.changes
        table.add_row("Added", _count_and_ids(changes.added))
        changed = [f"{i} ({', '.join(fields)})" for i, fields in changes.changed.items()]
        table.add_row("Changed", _count_and_ids(changed))
        if changes.shift_m:
            shifts = sorted(changes.shift_m.values())
            table.add_row(
                "Geometry moves",
                f"{len(shifts)} feature(s), median {shifts[len(shifts) // 2]:.1f} m, "
                f"largest {shifts[-1]:.1f} m (centroids)",
            )
        removed = _count_and_ids(changes.removed)
        if changes.removed_rejected:
            removed += f"; rejected in the file: {', '.join(changes.removed_rejected)}"
        table.add_row("Removed", removed)
        table.add_row("Unchanged", str(len(changes.unchanged)))
        table.add_section()
        table.add_row("Dropped columns", ", ".join(self.dropped_columns) or "-")
        for label, items in (
            ("Layer problems", self.layer_problems),
            ("Notes", self.notes),
            ("Findings", [str(f) for f in self.findings]),
        ):
            if items:
                table.add_row(label, "\n".join(items))
        verdict = "yes"
        if not self.accepted_count:
            verdict = "no: no feature was accepted"
        elif self.layer_problems:
            verdict = "no: see the layer problems"
        elif self.errors:
            verdict = "no: see the findings (--force writes anyway)"
        table.add_row("Can be committed", verdict)
        return table


def _count_and_ids(ids: list[str], limit: int = 20) -> str:
    if not ids:
        return "0"
    more = f" ... and {len(ids) - limit} more" if len(ids) > limit else ""
    return f"{len(ids)}: {', '.join(ids[:limit])}{more}"


def _for_validation(spec: LayerSpec, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` with the dtypes it will have when read back (integers with gaps as floats,
    booleans with gaps as nullable booleans)."""
    frame = frame.copy()
    for prop in spec.properties:
        if frame[prop.name].dtype == object and prop.type == "integer":
            frame[prop.name] = frame[prop.name].astype(float)
        elif frame[prop.name].dtype == object and prop.type == "boolean":
            frame[prop.name] = frame[prop.name].astype("boolean")
    return frame


def _layer_problems(spec: LayerSpec, frame: gpd.GeoDataFrame) -> list[str]:
    problems = []
    for problem in validate_layer(spec, frame):
        text = f"{problem.field}: {problem.message}"
        if problem.field == "(features)":
            text += f" (update expected_count in the catalog entry {spec.id}.yaml first)"
        problems.append(text)
    return problems


def plan_import(
    spec: LayerSpec, incoming: ReadResult, current: gpd.GeoDataFrame | None
) -> ImportReport:
    """Check ``incoming`` against ``spec`` feature by feature and compare the accepted
    features with ``current`` (the layer as stored, EPSG:4326; None if it has no data).

    Nothing is written. Raises :class:`ImportFailed` for a derived layer (computed by
    geo-service, not imported).
    """
    if spec.derived:
        raise ImportFailed(f"layer {spec.id!r} is computed by geo-service; it cannot be imported")
    checked = check_features(spec, incoming)
    rejected_ids = {r.id for r in checked.rejected if r.id is not None}
    changes = compare(spec, checked.accepted, current, rejected_ids=rejected_ids)
    problems = _layer_problems(spec, _for_validation(spec, checked.accepted))
    return ImportReport(
        layer=spec.id,
        source=incoming.source,
        format=incoming.format,
        source_layer=incoming.layer,
        crs_used=incoming.crs_used,
        crs_source=incoming.crs_source,
        crs_detail=incoming.crs_detail,
        encoding=incoming.encoding,
        encoding_detail=incoming.encoding_detail,
        rows_read=incoming.rows_read,
        accepted=checked.accepted,
        rejected=checked.rejected,
        dropped_columns=checked.dropped_columns,
        changes=changes,
        layer_problems=problems if len(checked.accepted) else [],
        notes=[*incoming.notes, *checked.notes],
    )


def commit_import(
    report: ImportReport,
    spec: LayerSpec,
    destination: Path | LayerStore,
    *,
    keep_versions: int | None = None,
    author: str | None = None,
    expected_version: str | None = None,
    via: str = "import",
) -> Path | str:
    """Write ``report``'s accepted features as layer ``spec``: its source file in the
    folder ``destination``, or a new version of it in the store ``destination``.

    A file is written beside the target, read back and checked against ``spec``, and only
    then renamed over the target; a store checks the frame first and writes in one
    transaction. Either way a refused or failed commit leaves the layer as it was. Returns
    the path written, or the store's new version. ``keep_versions``: a folder's retention
    (a store has its own); ``author`` and ``expected_version``: see
    :meth:`LayerStore.write`; ``via``: how the file came (the version's source reads
    ``VIA FILE``).

    Raises
    ------
    ImportFailed
        The report is for another layer, accepted no feature, or the result would not
        pass the layer's checks (e.g. a feature count the catalog does not expect).
    """
    if report.layer != spec.id:
        raise ImportFailed(f"the report is for layer {report.layer!r}, not {spec.id!r}")
    if spec.derived:
        raise ImportFailed(f"layer {spec.id!r} is computed by geo-service; it cannot be imported")
    if not report.accepted_count:
        raise ImportFailed(
            f"no feature of {report.source} was accepted; {spec.source} is left unchanged"
        )
    if report.layer_problems:
        raise ImportFailed(f"{spec.source} is left unchanged: " + "; ".join(report.layer_problems))
    frame = report.accepted.reset_index(drop=True)
    description = (
        f"Imported by geo-service from {report.source} ({report.format}; coordinates "
        f"{report.crs_used}, {report.crs_detail})."
    )
    try:
        source = f"{via} {Path(report.source).name}"
        if isinstance(destination, (str, Path)):
            write_layer_version(
                spec,
                frame,
                Path(destination),
                description=description,
                source=source,
                author=author,
                expected_version=expected_version,
                keep_versions=keep_versions,
            )
            return Path(destination) / spec.source
        return destination.write(
            spec.id,
            frame,
            description=description,
            source=source,
            author=author,
            expected_version=expected_version,
        )
    except DataValidationError as exc:
        raise ImportFailed(str(exc)) from None
