"""The audit log of restricted data: one JSON line per access, appended, never rewritten."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path


class AuditLog:
    """Append-only JSON Lines file: who read which restricted layer, when, how much."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(
        self, *, key_id: str | None, role: str, layer: str, path: str, features: int
    ) -> None:
        """Append one access (and flush it to disk)."""
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "key_id": key_id,
            "role": role,
            "layer": layer,
            "path": path,
            "features": features,
        }
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

    def entries(self) -> list[dict]:
        """Every entry so far (for review and tests)."""
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines()]
