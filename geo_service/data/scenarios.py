"""Named what-if scenarios: proposed sites and closures, saved to reopen later.

One JSON file in the state folder, rewritten atomically under a lock on every change, so
a crash mid-write loses nothing saved before. A scenario keeps its definition (sites as
GeoJSON in EPSG:4326, ids of centres to close) and the headline of its answer when it was
saved; reopening it computes the answer again on the current data.
"""

from __future__ import annotations

import json
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path

from geo_service.data.geojson_io import write_atomic
from geo_service.errors import Conflict, InvalidQuery, NotFound

#: Longest scenario name (characters) and most scenarios kept.
MAX_NAME_CHARS = 80
MAX_SCENARIOS = 500


def _clean_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidQuery("a scenario needs a 'name' (text)")
    name = " ".join(name.split())
    if len(name) > MAX_NAME_CHARS:
        raise InvalidQuery(f"a scenario name has at most {MAX_NAME_CHARS} characters")
    return name


class ScenarioStore:
    """The saved scenarios of one district (``scenarios.json``)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def _load(self) -> dict[str, dict]:
        if not self.path.is_file():
            return {}
        return {s["id"]: s for s in json.loads(self.path.read_text(encoding="utf-8"))}

    def _write(self, records: dict[str, dict]) -> None:
        text = json.dumps(list(records.values()), ensure_ascii=False, indent=1)
        write_atomic(self.path, text + "\n")

    def list(self) -> list[dict]:
        """Every saved scenario, newest first."""
        return sorted(self._load().values(), key=lambda s: s["created"], reverse=True)

    def find(self, key: str) -> dict:
        """The scenario with id ``key``, else the one named ``key``; 404 if none."""
        records = self._load()
        if key in records:
            return records[key]
        named = [s for s in records.values() if s["name"] == key]
        if not named:
            raise NotFound(f"no saved scenario {key!r}")
        return named[0]

    def save(self, name: object, change: dict, summary: dict, *, author: str) -> dict:
        """Save a new scenario: ``change`` is ``{"add": FeatureCollection, "remove": ids}``,
        ``summary`` the headline of its answer. A name already taken is refused (409)."""
        name = _clean_name(name)
        with self._lock:
            records = self._load()
            if any(s["name"] == name for s in records.values()):
                raise Conflict(f"a scenario named {name!r} exists; delete it or pick another")
            if len(records) >= MAX_SCENARIOS:
                raise Conflict(f"{MAX_SCENARIOS} scenarios are saved; delete some first")
            record = {
                "id": f"s-{secrets.token_hex(4)}",
                "name": name,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "author": author,
                **change,
                "summary": summary,
            }
            records[record["id"]] = record
            self._write(records)
        return record

    def delete(self, key: str) -> dict:
        """Delete the scenario with id (or name) ``key`` and return it; 404 if none."""
        with self._lock:
            record = self.find(key)
            records = self._load()
            del records[record["id"]]
            self._write(records)
        return record
