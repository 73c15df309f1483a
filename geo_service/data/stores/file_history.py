"""The file store's versions: ``FOLDER/.history/LAYER/`` holds ``versions.json`` (the
records, oldest first) and ``N.geojson``, a copy of version N's file.

A version is copied before the write that replaces it, and recorded after its own file is
in place, each step atomic (written beside, then renamed): a crash between them leaves a
current file the records do not name yet, which :meth:`FileHistory.records` reports as a
change made outside geo-service — nothing is lost, nothing is recorded twice.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from geo_service.data.geojson_io import write_atomic
from geo_service.data.versions import LayerVersion

HISTORY_FOLDER = ".history"


class FileHistory:
    """Versions of the layers of a data folder."""

    def __init__(self, folder: Path):
        self.root = Path(folder) / HISTORY_FOLDER

    def _folder(self, layer_id: str) -> Path:
        return self.root / layer_id

    @contextmanager
    def lock(self, layer_id: str) -> Iterator[None]:
        """Hold the layer's write lock (``flock`` on ``.history/LAYER.lock``): writers in
        other processes wait; released when the block ends, or the process dies."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / f"{layer_id}.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def leftovers(self, layer_id: str) -> list[Path]:
        """Half-made files in the layer's history (copies and records being written when
        their writer died): the ones whose names start with a dot."""
        folder = self._folder(layer_id)
        return sorted(folder.glob(".*")) if folder.is_dir() else []

    def copy_path(self, layer_id: str, number: int) -> Path:
        """Where version ``number``'s features are kept."""
        return self._folder(layer_id) / f"{number}.geojson"

    def recorded(self, layer_id: str) -> list[LayerVersion]:
        """The versions written through the store, oldest first."""
        path = self._folder(layer_id) / "versions.json"
        if not path.is_file():
            return []
        return [LayerVersion.from_dict(d) for d in json.loads(path.read_text(encoding="utf-8"))]

    def records(
        self, layer_id: str, current: Path, current_version: str, features: int
    ) -> list[LayerVersion]:
        """Every version, the current file last: recorded ones, and the current file as
        one more if the records do not name it (the data as first found, or changed outside
        geo-service since)."""
        records = self.recorded(layer_id)
        if records and records[-1].version == current_version:
            return records
        found = LayerVersion(
            number=records[-1].number + 1 if records else 1,
            version=current_version,
            time=datetime.fromtimestamp(current.stat().st_mtime, UTC)
            .replace(microsecond=0)
            .isoformat(),
            author="unknown",
            source="changed outside geo-service" if records else "data as first found",
            description="",
            features=features,
            added=0 if records else features,
            changed=0,
            removed=0,
        )
        return [*records, found]

    def keep_copy(self, layer_id: str, number: int, source: Path) -> None:
        """Copy ``source`` (a version's file) as version ``number`` (once)."""
        target = self.copy_path(layer_id, number)
        if target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, staged = tempfile.mkstemp(prefix=f".{number}-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out, Path(source).open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
            Path(staged).replace(target)
        finally:
            Path(staged).unlink(missing_ok=True)

    def save(self, layer_id: str, records: list[LayerVersion]) -> None:
        """Replace the layer's records (atomically)."""
        folder = self._folder(layer_id)
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps([r.to_dict() for r in records], ensure_ascii=False, indent=1)
        write_atomic(folder / "versions.json", text)

    def prune(self, layer_id: str, records: list[LayerVersion], keep: int) -> list[int]:
        """Remove the copies of all but the ``keep`` latest of ``records`` (every version,
        the current last; at least it is kept); mark them not kept."""
        cut = len(records) - max(keep, 1)
        pruned = [r.number for r in records[: max(cut, 0)] if r.kept]
        if pruned:
            self.save(layer_id, [r.pruned() if r.number in pruned else r for r in records])
            for number in pruned:
                self.copy_path(layer_id, number).unlink(missing_ok=True)
        return pruned
