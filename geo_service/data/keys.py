"""API keys: issued by the CLI, stored hashed, never logged, revocable, expiring.

A key reads ``gs_<id>_<secret>``. The file keeps the id, the role, the owner's label,
dates and an HMAC-SHA256 of the whole key (peppered with ``GEO_SERVICE_API_KEY_SECRET``
when set); the key itself is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from geo_service.data.geojson_io import write_atomic

Role = Literal["staff", "restricted"]
ROLES: tuple[Role, ...] = ("staff", "restricted")
#: The access level each role may see up to (see the catalog's ``access``).
ROLE_ACCESS = {"public": "public", "staff": "internal", "restricted": "restricted"}


@dataclass(frozen=True)
class ApiKey:
    """A stored key (without the secret)."""

    id: str
    role: Role
    name: str
    created: str
    expires: str | None
    revoked: str | None
    digest: str

    def active(self, now: datetime) -> bool:
        """Neither revoked nor expired at ``now``."""
        if self.revoked:
            return False
        return self.expires is None or datetime.fromisoformat(self.expires) > now


def _digest(key: str, pepper: str | None) -> str:
    return hmac.new((pepper or "geo_service").encode(), key.encode(), hashlib.sha256).hexdigest()


class KeyStore:
    """The keys file (JSON), rewritten atomically on every change."""

    def __init__(self, path: Path, pepper: str | None = None):
        self.path = Path(path)
        self.pepper = pepper
        self._cache: tuple[int, dict[str, ApiKey]] | None = None

    def _load(self) -> dict[str, ApiKey]:
        """The keys, re-read only when the file changed (a revocation takes effect at once)."""
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return {}
        if self._cache is None or self._cache[0] != stamp:
            records = json.loads(self.path.read_text(encoding="utf-8"))
            self._cache = (stamp, {r["id"]: ApiKey(**r) for r in records})
        return dict(self._cache[1])

    def _save(self, keys: dict[str, ApiKey]) -> None:
        text = json.dumps([asdict(k) for k in keys.values()], indent=1, ensure_ascii=False)
        write_atomic(self.path, text)
        self.path.chmod(0o600)

    def create(self, role: Role, name: str, *, days: int | None = None) -> tuple[str, ApiKey]:
        """A new key (returned once, in clear) and its stored record."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        keys = self._load()
        key_id = secrets.token_hex(4)
        while key_id in keys:
            key_id = secrets.token_hex(4)
        key = f"gs_{key_id}_{secrets.token_urlsafe(24)}"
        now = datetime.now(UTC)
        record = ApiKey(
            key_id,
            role,
            name,
            now.isoformat(timespec="seconds"),
            (now + timedelta(days=days)).isoformat(timespec="seconds") if days else None,
            None,
            _digest(key, self.pepper),
        )
        keys[key_id] = record
        self._save(keys)
        return key, record

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke ``key_id``; ``KeyError`` if there is no such key."""
        keys = self._load()
        record = keys[key_id]
        keys[key_id] = ApiKey(
            **{**asdict(record), "revoked": datetime.now(UTC).isoformat(timespec="seconds")}
        )
        self._save(keys)
        return keys[key_id]

    def list(self) -> list[ApiKey]:
        """Every key, active or not."""
        return list(self._load().values())

    def check(self, key: str) -> ApiKey | None:
        """The active key record matching ``key``, or None."""
        parts = key.split("_")
        if len(parts) < 3 or parts[0] != "gs":
            return None
        record = self._load().get(parts[1])
        if record is None or not hmac.compare_digest(record.digest, _digest(key, self.pepper)):
            return None
        return record if record.active(datetime.now(UTC)) else None
