"""Named what-if scenarios: saved, listed, reopened (answered again) and deleted, through
the API and the CLI, in one store; writes need a staff key and are atomic."""

from __future__ import annotations

import json

import pytest

from geo_service.api.app import create_app
from geo_service.data.keys import KeyStore
from geo_service.settings import Settings
from tests.conftest import STORE_KINDS
from tests.support import InProcessClient, run_cli


def _change(app, closures: int = 2) -> dict:
    """A site in the largest gap compound and the first centres closed."""
    store = app.state.store
    gap = store.query("coverage_gaps").sort_values("rank").geometry.iloc[0]
    point = gap.representative_point()
    centres = sorted(app.state.coverage.whatif.centre_ids)[:closures]
    site = {"type": "Point", "coordinates": [point.x, point.y]}
    return {
        "add": {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": {}, "geometry": site}],
        },
        "remove": centres,
    }


@pytest.fixture(scope="module", params=STORE_KINDS)
def setup(request, tmp_path_factory, demo_store, seeded_derived):
    folder = tmp_path_factory.mktemp("scenarios")
    settings = Settings(
        derived_dir=seeded_derived(folder / "derived"),
        state_dir=folder / "state",
        store=demo_store(request.param),
    )
    app = create_app(settings)
    key, _ = KeyStore(settings.state_dir / "keys.json").create("staff", "planner")
    return app, {"X-API-Key": key}, settings


def test_save_list_reopen_delete(setup):
    app, staff, settings = setup
    api = InProcessClient(app)
    change = _change(app)
    expected = api.post("/coverage/scenario", json=change).json()
    saved = api.post("/scenarios", json={"name": "东区新中心 East", **change}, headers=staff)
    assert saved.status_code == 201, saved.text
    record = saved.json()
    assert record["answer"] == expected and record["author"] != "public"
    assert record["summary"]["share_after"] == expected["after"]["district"]["share_15"]
    assert record["summary"]["gained_residents"] == expected["gain"]["residents"]
    listed = api.get("/scenarios").json()["scenarios"]
    assert [(s["id"], s["name"], s["sites"], s["closures"]) for s in listed] == [
        (record["id"], "东区新中心 East", 1, 2)
    ]
    for key in (record["id"], "东区新中心 East"):
        reopened = api.get(f"/scenarios/{key}").json()
        assert reopened["answer"] == expected and reopened["remove"] == change["remove"]
    on_disk = json.loads((settings.state_dir / "scenarios.json").read_text(encoding="utf-8"))
    assert [s["id"] for s in on_disk] == [record["id"]]
    assert api.delete(f"/scenarios/{record['id']}", headers=staff).status_code == 204
    assert api.get(f"/scenarios/{record['id']}").status_code == 404
    assert api.get("/scenarios").json() == {"scenarios": []}


def test_writes_need_a_staff_key_and_keep_what_was_there(setup):
    app, staff, settings = setup
    api = InProcessClient(app)
    change = _change(app, closures=0)
    first = api.post("/scenarios", json={"name": "keep me", **change}, headers=staff)
    assert first.status_code == 201
    before = (settings.state_dir / "scenarios.json").read_bytes()
    refused = {
        "no key": (api.post("/scenarios", json={"name": "x", **change}), 401),
        "taken name": (
            api.post("/scenarios", json={"name": "keep me", **change}, headers=staff),
            409,
        ),
        "no name": (api.post("/scenarios", json=change, headers=staff), 400),
        "blank name": (api.post("/scenarios", json={"name": "  ", **change}, headers=staff), 400),
        "unknown centre": (
            api.post("/scenarios", json={"name": "y", "remove": ["NOPE"]}, headers=staff),
            400,
        ),
        "broken json": (
            api.post(
                "/scenarios",
                content=b'{"name": "z", "add": ',
                headers={**staff, "Content-Type": "application/json"},
            ),
            400,
        ),
        "delete without key": (api.delete(f"/scenarios/{first.json()['id']}"), 401),
        "delete unknown": (api.delete("/scenarios/s-nope", headers=staff), 404),
    }
    for case, (response, status) in refused.items():
        assert response.status_code == status, (case, response.text)
        assert response.json()["description"], case
    assert (settings.state_dir / "scenarios.json").read_bytes() == before
    assert api.delete("/scenarios/keep me", headers=staff).status_code == 204


def test_a_district_may_let_anyone_save(tmp_path, seeded_derived):
    settings = Settings(
        derived_dir=seeded_derived(tmp_path / "derived"),
        state_dir=tmp_path / "state",
        scenario_writers="public",
    )
    app = create_app(settings)
    api = InProcessClient(app)
    saved = api.post("/scenarios", json={"name": "open", **_change(app, closures=1)})
    assert saved.status_code == 201 and saved.json()["author"] == "public"


@pytest.mark.slow
def test_the_cli_saves_lists_shows_and_deletes(setup, tmp_path):
    app, _, _ = setup
    env = {
        "COLUMNS": "200",
        "GEO_SERVICE_DERIVED_DIR": str(tmp_path / "derived"),
        "GEO_SERVICE_STATE_DIR": str(tmp_path / "state"),
    }
    change = _change(app)
    sites = tmp_path / "sites.geojson"
    sites.write_text(json.dumps(change["add"]), encoding="utf-8")
    removes = [a for centre in change["remove"] for a in ("--remove", centre)]
    saved = run_cli(
        "scenario", "save", "CLI plan", "--add", str(sites), *removes, "--json", env=env
    )
    assert saved.returncode == 0, saved.stderr
    record = json.loads(saved.stdout)
    expected = InProcessClient(app).post("/coverage/scenario", json=change).json()
    assert record["answer"]["gain"] == expected["gain"]
    assert record["answer"]["after"]["district"] == expected["after"]["district"]
    listed = run_cli("scenario", "list", env=env)
    assert listed.returncode == 0 and "CLI plan" in listed.stdout and record["id"] in listed.stdout
    shown = run_cli("scenario", "show", "CLI plan", env=env)
    assert shown.returncode == 0, shown.stderr
    share = expected["after"]["district"]["share_15"]
    assert f"{100 * share:.1f}%" in shown.stdout
    again = run_cli("scenario", "save", "CLI plan", "--add", str(sites), env=env)
    assert again.returncode == 1 and "exists" in again.stderr
    assert run_cli("scenario", "delete", record["id"], env=env).returncode == 0
    missing = run_cli("scenario", "show", "CLI plan", env=env)
    assert missing.returncode == 1 and "no saved scenario" in missing.stderr


def test_a_wrong_method_lists_every_method_of_the_path(setup):
    app, _, _ = setup
    api = InProcessClient(app)
    assert api.request("PUT", "/scenarios").headers["allow"] == "GET, HEAD, POST"
    assert api.request("PATCH", "/scenarios/s-1").headers["allow"] == "DELETE, GET, HEAD"
    assert api.request("GET", "/coverage/scenario").headers["allow"] == "POST"
