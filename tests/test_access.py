"""Access control: keys, roles, 401/403/404, household counts, the audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from geo_service.data.audit import AuditLog
from geo_service.data.keys import KeyStore
from tests.support import run_cli


def _key(state_dir, role: str, name: str = "test") -> tuple[str, str]:
    result = run_cli(
        "keys",
        "create",
        "--role",
        role,
        "--name",
        name,
        env={"GEO_SERVICE_STATE_DIR": str(state_dir)},
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("gs_")
    return key, key.split("_")[1]


@pytest.fixture(scope="module")
def staff(state_dir):
    return {"Authorization": "Bearer " + _key(state_dir, "staff", "GIS office")[0]}


@pytest.fixture(scope="module")
def officer(state_dir):
    key, key_id = _key(state_dir, "restricted", "household officer")
    return {"X-API-Key": key}, key_id


def test_keys_are_stored_hashed(state_dir, staff):
    stored = (state_dir / "keys.json").read_text(encoding="utf-8")
    secret = staff["Authorization"].removeprefix("Bearer ")
    # gs_<id>_<secret>: the secret part may itself hold "_" (URL-safe base64).
    assert secret not in stored and secret.split("_", 2)[2] not in stored
    assert (state_dir / "keys.json").stat().st_mode & 0o077 == 0
    listing = run_cli(
        "keys", "list", env={"GEO_SERVICE_STATE_DIR": str(state_dir), "COLUMNS": "200"}
    )
    assert "GIS office" in listing.stdout and secret not in listing.stdout


def test_each_role_sees_its_layers(api, staff, officer):
    def ids(headers):
        return {c["id"] for c in api.get("/collections", headers=headers).json()["collections"]}

    public, as_staff, as_officer = ids({}), ids(staff), ids(officer[0])
    assert "central_households" not in public and "central_households" not in as_staff
    assert "central_households" in as_officer and as_officer - {"central_households"} == public


def test_restricted_layer_404_for_public_403_for_staff_200_for_officer(api, staff, officer):
    missing = api.get("/collections/no_such_layer/items")
    hidden = api.get("/collections/central_households/items")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["code"] == missing.json()["code"]
    assert hidden.json()["description"].replace("central_households", "X") == missing.json()[
        "description"
    ].replace("no_such_layer", "X")
    forbidden = api.get("/collections/central_households/items", headers=staff)
    assert forbidden.status_code == 403
    allowed = api.get(
        "/collections/central_households/items", headers=officer[0], params={"limit": 1000}
    )
    assert allowed.status_code == 200 and allowed.json()["numberMatched"] == 262


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer gs_00000000_forged"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"X-API-Key": "not-a-key"},
    ],
)
def test_bad_credentials_are_401_not_public(api, headers):
    response = api.get("/collections", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_revoked_and_expired_keys_stop_working(api, state_dir):
    key, key_id = _key(state_dir, "restricted", "temporary")
    headers = {"Authorization": f"Bearer {key}"}
    assert api.get("/collections/central_households", headers=headers).status_code == 200
    assert (
        run_cli("keys", "revoke", key_id, env={"GEO_SERVICE_STATE_DIR": str(state_dir)}).returncode
        == 0
    )
    assert api.get("/collections/central_households", headers=headers).status_code == 401
    store = KeyStore(state_dir / "keys.json")
    expiring, record = store.create("restricted", "expiring", days=1)
    records = json.loads((state_dir / "keys.json").read_text(encoding="utf-8"))
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds")
    for entry in records:
        if entry["id"] == record.id:
            entry["expires"] = past
    (state_dir / "keys.json").write_text(json.dumps(records), encoding="utf-8")
    response = api.get("/collections", headers={"X-API-Key": expiring})
    assert response.status_code == 401


def test_household_counts_are_masked_for_the_public(api, officer, demo):
    public = api.get("/summary/households").json()
    exact = api.get("/summary/households", headers=officer[0]).json()
    assert public["exact"] is False and exact["exact"] is True
    truth = demo["central_households"].groupby("community_id").size()
    for masked, precise in zip(public["communities"], exact["communities"], strict=True):
        count = int(truth.get(precise["community_id"], 0))
        assert precise["households"] == count
        assert masked["households"] == (count if count >= 3 else "<3")
    assert any(row["households"] == "<3" for row in public["communities"])
    assert sum(row["households"] for row in exact["communities"]) == 262


def test_every_restricted_read_is_audited(api, officer, state_dir):
    log = AuditLog(state_dir / "audit.log")
    before = len(log.entries())
    headers, key_id = officer
    api.get("/collections/central_households/items", headers=headers, params={"limit": 10})
    api.get("/collections/central_households/items/H001", headers=headers)
    api.get("/downloads/central_households.gpkg", headers=headers)
    api.get("/layers/central_households.geojson", headers=headers)
    api.get("/collections/compounds/items", headers=headers)  # public: not audited
    entries = log.entries()[before:]
    assert [(e["path"], e["features"]) for e in entries] == [
        ("/collections/central_households/items", 10),
        ("/collections/central_households/items/H001", 1),
        ("/downloads/central_households.gpkg", 262),
        ("/layers/central_households.geojson", 262),
    ]
    assert all(e["key_id"] == key_id and e["role"] == "restricted" for e in entries)
    secret = headers["X-API-Key"]
    assert secret not in (state_dir / "audit.log").read_text(encoding="utf-8")
