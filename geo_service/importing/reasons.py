"""Why an imported feature is refused: one :class:`Reason` per broken rule, kept per row.

Rows are numbered as a person looking at the file would number them: for CSV and XLSX
the spreadsheet row (the header is row 1, the first feature row 2); for every other
format the feature's position in the file, from 1.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    """One rule a feature breaks.

    ``field`` is a property name, ``"geometry"`` or a source column; ``code`` names the
    rule (``required``, ``type``, ``enum``, ``minimum``, ``maximum``, ``unique``,
    ``opening_hours``, ``coordinates``, ``geometry_missing``, ``geometry_type``,
    ``geometry_invalid``, ``lonlat_range``) so that reasons can be counted by kind.
    """

    field: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Rejection:
    """A feature left out of the import: its row, its id if it has one, and why."""

    row: int
    id: str | None
    reasons: tuple[Reason, ...]

    def __str__(self) -> str:
        label = f"row {self.row}" + (f" (id {self.id})" if self.id else "")
        return f"{label}: " + "; ".join(map(str, self.reasons))

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"row": self.row, "id": self.id, "reasons": [r.to_dict() for r in self.reasons]}


class RowReasons:
    """Reasons collected per row while a file is read and checked."""

    def __init__(self, initial: Mapping[int, Iterable[Reason]] | None = None):
        self._reasons: defaultdict[int, list[Reason]] = defaultdict(list)
        for row, reasons in (initial or {}).items():
            if reasons:
                self._reasons[row].extend(reasons)

    def add(self, row: int, reason: Reason) -> None:
        """Record that ``row`` breaks ``reason``."""
        self._reasons[int(row)].append(reason)

    def add_rows(self, rows: Iterable[int], field: str, code: str, message: str) -> None:
        """Record the same reason for every row in ``rows``."""
        reason = Reason(field, code, message)
        for row in rows:
            self.add(row, reason)

    def __contains__(self, row: object) -> bool:
        return row in self._reasons

    def fields(self, row: int) -> set[str]:
        """The fields ``row`` already has reasons for."""
        return {reason.field for reason in self._reasons.get(row, ())}

    def rows_with(self, field: str) -> set[int]:
        """The rows that already have a reason for ``field``."""
        return {row for row, found in self._reasons.items() if any(r.field == field for r in found)}

    def as_dict(self) -> dict[int, tuple[Reason, ...]]:
        """Reasons per row, rows in ascending order."""
        return {row: tuple(self._reasons[row]) for row in sorted(self._reasons)}
