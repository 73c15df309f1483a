"""Versions of a layer: every committed change (an import, an upload, an edit, a rollback)
is one, with its number, time, author, source and how many features it added, changed and
removed. Stores keep them (:meth:`LayerStore.history`); this module holds what they share."""

from __future__ import annotations

import getpass
import os
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

import geopandas as gpd

from geo_service.data.catalog import LayerSpec
from geo_service.data.changes import Changes, compare


@dataclass(frozen=True)
class LayerVersion:
    """One committed version of a layer. ``version`` is the store's token (ETags come
    from it); ``kept`` is False once a retention setting pruned its features."""

    number: int
    version: str
    time: str  # ISO 8601, UTC
    author: str
    source: str
    description: str
    features: int
    added: int | None  # None: not counted (a bulk load)
    changed: int | None
    removed: int | None
    kept: bool = True

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LayerVersion:
        """The version a :meth:`to_dict` document describes."""
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})

    def pruned(self) -> LayerVersion:
        """This version's record without its features."""
        return replace(self, kept=False)


def now_utc() -> str:
    """The current time, ISO 8601 in UTC to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def default_author() -> str:
    """Who writes from the command line: ``cli:USER``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = os.environ.get("USER", "unknown")
    return f"cli:{user}"


def changes_between(
    spec: LayerSpec, before: gpd.GeoDataFrame | None, after: gpd.GeoDataFrame
) -> Changes:
    """What ``after`` changed against ``before`` (None: a layer that had no data)."""
    return compare(spec, after, before)


def new_version(
    spec: LayerSpec,
    before: gpd.GeoDataFrame | None,
    after: gpd.GeoDataFrame,
    *,
    number: int,
    version: str,
    author: str | None,
    source: str,
    description: str,
    counted: bool = True,
) -> LayerVersion:
    """The record of version ``number`` (``after``), counted against ``before`` (not
    counted: ``counted=False``)."""
    changes = changes_between(spec, before, after) if counted else None
    return LayerVersion(
        number=number,
        version=version,
        time=now_utc(),
        author=author or default_author(),
        source=source,
        description=description,
        features=len(after),
        added=len(changes.added) if changes else None,
        changed=len(changes.changed) if changes else None,
        removed=len(changes.removed) if changes else None,
    )


def diff_document(spec: LayerSpec, old: LayerVersion, new: LayerVersion, changes: Changes) -> dict:
    """A diff of two versions as JSON: features added, removed and changed (with the
    properties, or ``geometry``, that differ)."""
    return {
        "layer": spec.id,
        "from": old.to_dict(),
        "to": new.to_dict(),
        "added": changes.added,
        "removed": changes.removed,
        "changed": changes.changed,
        "unchanged": len(changes.unchanged),
    }
