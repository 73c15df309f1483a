"""The audit log: one JSON line per read of restricted data and per change of a layer,
appended, never rewritten."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from geo_service.data.versions import LayerVersion


class AuditLog:
    """Append-only JSON Lines file: who read which restricted layer, or changed which
    layer, when, how much (and for a change, the version it made)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(
        self,
        *,
        key_id: str | None,
        role: str,
        layer: str,
        path: str,
        features: int,
        action: str = "read",
        version: int | None = None,
        author: str | None = None,
    ) -> None:
        """Append one access — ``action`` ``read``, or the kind of change (``upload``,
        ``create``, ``replace``, ``update``, ``delete``, ``import``, ``rollback``) with the
        ``version`` number it made — and flush it to disk."""
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "action": action,
            "key_id": key_id,
            "role": role,
            "layer": layer,
            "path": path,
            "features": features,
        }
        if version is not None:
            entry["version"] = version
        if author is not None:
            entry["author"] = author
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

    def record_change(
        self,
        layer: str,
        version: LayerVersion,
        *,
        action: str,
        path: str,
        key_id: str | None = None,
        role: str = "cli",
    ) -> None:
        """Append the change that made ``version`` of ``layer`` (``path``: the route, or
        the command that made it)."""
        self.record(
            key_id=key_id,
            role=role,
            layer=layer,
            path=path,
            features=version.features,
            action=action,
            version=version.number,
            author=version.author,
        )

    def entries(self) -> list[dict]:
        """Every entry so far (for review and tests)."""
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines()]
