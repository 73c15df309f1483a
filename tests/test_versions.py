"""Versions of a layer, the same on both stores: every write is one (number, time, author,
source, counts added / changed / removed), older versions stay readable, any two can be
compared, a rollback is a new version, pruning keeps the records and never the current
version's features; and the command line that shows and restores them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geo_service.api.app import create_app
from geo_service.data.audit import AuditLog
from geo_service.data.changes import compare
from geo_service.data.keys import KeyStore
from geo_service.data.stores import open_store
from geo_service.errors import DataValidationError, VersionNotFound
from geo_service.settings import Settings
from tests.conftest import STORE_KINDS
from tests.support import DATA_DIR, InProcessClient, run_cli


@pytest.fixture(params=STORE_KINDS)
def versioned(request, catalog, demo_store, data_copy, tmp_path):
    """(store URL, store) of each kind holding the demo, writable."""
    url = f"file:{data_copy[1]}" if request.param == "file" else demo_store("postgis")
    store = open_store(url, catalog, data_copy[1], tmp_path / "derived")
    yield url, store
    getattr(store, "close", lambda: None)()


def _edited(compounds):
    """Three populations changed, the last compound removed, one added (a copy of the
    first under a new id)."""
    edited = compounds.iloc[:-1].copy()
    edited.loc[edited.index[:3], "population"] += 7
    added = compounds.iloc[[0]].copy()
    added["id"] = "NEW-1"
    added["name_zh"], added["name_en"] = "新小区", "New compound"
    added.index = ["NEW-1"]
    return pd.concat([edited, added])


def _values(frame, column):
    return dict(zip(frame["id"].astype(str), frame[column], strict=True))


def _first_source(url: str) -> str:
    """The data as the store first had it: found in the folder, or loaded by ``db load``."""
    return "data as first found" if url.startswith("file:") else "db load compounds.geojson"


def test_every_write_is_a_version_with_its_counts(versioned, demo, catalog):
    url, store = versioned
    original = demo["compounds"]
    first = store.history("compounds")
    assert [(v.number, v.features, v.added, v.source) for v in first] == [
        (1, len(original), len(original), _first_source(url))
    ]
    edited = _edited(original)
    expected = compare(catalog.get("compounds"), edited, original)
    token = store.write(
        "compounds", edited, description="three more", author="key:abc", source="upload x.csv"
    )
    history = store.history("compounds")
    assert [v.number for v in history] == [1, 2]
    latest = history[-1]
    assert (latest.version, latest.author, latest.source) == (token, "key:abc", "upload x.csv")
    assert (
        (latest.added, latest.changed, latest.removed)
        == (
            len(expected.added),
            len(expected.changed),
            len(expected.removed),
        )
        == (1, 3, 1)
    )
    assert latest.features == len(edited) and latest.time.endswith("+00:00")
    assert store.history("trails")[-1].number == 1  # other layers untouched


def test_older_versions_stay_readable_and_a_rollback_is_a_new_version(versioned, demo, catalog):
    _, store = versioned
    original = demo["compounds"]
    store.write("compounds", _edited(original), description="edit")
    again = _edited(original)
    again["name_en"] = again["name_en"] + " (renamed)"
    store.write("compounds", again, description="rename")
    one, two = store.read_version("compounds", 1), store.read_version("compounds", 2)
    assert _values(one, "population") == _values(original, "population")
    assert _values(two, "population") == _values(_edited(original), "population")
    assert store.read_version("compounds", 3)["name_en"].str.endswith(" (renamed)").all()
    changes = compare(catalog.get("compounds"), two, one)
    assert sorted(changes.changed.values()) == [["population"]] * 3
    assert changes.added == ["NEW-1"] and changes.removed == [str(original["id"].iloc[-1])]

    store.write("compounds", one, description="back", source="rollback to version 1")
    history = store.history("compounds")
    assert [v.number for v in history] == [1, 2, 3, 4]
    assert history[-1].source == "rollback to version 1"
    current = store.query("compounds")
    assert _values(current, "population") == _values(original, "population")
    assert set(current["name_en"]) == set(original["name_en"])
    with pytest.raises(VersionNotFound):
        store.read_version("compounds", 9)


def test_pruning_keeps_the_records_and_the_current_version(versioned, demo):
    _, store = versioned
    for k in range(3):
        store.write("compounds", demo["compounds"].assign(households=k + 1), description=f"{k}")
    assert store.prune("compounds", keep=2) == [1, 2]
    history = store.history("compounds")
    assert [(v.number, v.kept) for v in history] == [(1, False), (2, False), (3, True), (4, True)]
    with pytest.raises(VersionNotFound):
        store.read_version("compounds", 1)
    assert set(store.read_version("compounds", 3)["households"]) == {2}
    assert store.prune("compounds", keep=0) == [3]  # never the current one
    assert set(store.read_version("compounds", 4)["households"]) == {3}


def test_a_refused_write_is_no_version(versioned, demo):
    _, store = versioned
    with pytest.raises(DataValidationError):
        store.write("compounds", demo["compounds"].assign(population=-1), description="bad")
    assert [v.number for v in store.history("compounds")] == [1]


@pytest.mark.slow  # end to end: the geo-service command in a subprocess
def test_history_diff_and_rollback_from_the_command_line(versioned, demo, tmp_path):
    url, store = versioned
    env = {"GEO_SERVICE_STORE": url, "GEO_SERVICE_STATE_DIR": str(tmp_path / "state")}
    edited = _edited(demo["compounds"])
    store.write("compounds", edited, description="edit", source="test edit")

    shown = run_cli("layers", "history", "compounds", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    history = json.loads(shown.stdout)
    assert [(v["number"], v["source"]) for v in history] == [
        (1, _first_source(url)),
        (2, "test edit"),
    ]
    diff = run_cli("layers", "diff", "compounds", "1", "2", "--json", env=env)
    assert diff.returncode == 0, diff.stderr
    document = json.loads(diff.stdout)
    assert document["added"] == ["NEW-1"] and len(document["changed"]) == 3

    restored = run_cli("layers", "rollback", "compounds", "1", env=env)
    assert restored.returncode == 0, restored.stderr
    assert "as version 3" in " ".join(restored.stdout.split())
    (entry,) = AuditLog(tmp_path / "state" / "audit.log").entries()  # the write is audited
    assert (entry["action"], entry["layer"], entry["version"], entry["role"]) == (
        "rollback",
        "compounds",
        3,
        "cli",
    )
    assert entry["author"].startswith("cli:")
    reopened = open_store(url, store.catalog, DATA_DIR)  # (a file: URL names its folder)
    try:
        assert _values(reopened.query("compounds"), "population") == _values(
            demo["compounds"], "population"
        )
        assert reopened.history("compounds")[-1].source == "rollback to version 1"
    finally:
        getattr(reopened, "close", lambda: None)()
    missing = run_cli("layers", "rollback", "compounds", "7", env=env)
    assert missing.returncode == 1 and "no version 7" in missing.stderr


def test_versions_and_diffs_over_the_api_for_staff(versioned, demo, tmp_path):
    url, _ = versioned
    settings = Settings(store=url, state_dir=tmp_path / "state", derived_dir=tmp_path / "d")
    app = create_app(settings)
    key, record = KeyStore(settings.state_dir / "keys.json").create("staff", "gis")
    staff = {"Authorization": f"Bearer {key}"}
    api = InProcessClient(app)
    app.state.store.write(
        "compounds", _edited(demo["compounds"]), description="edit", author=f"key:{record.id}"
    )
    assert api.get("/layers/compounds/versions").status_code == 401
    listed = api.get("/layers/compounds/versions", headers=staff)
    assert listed.status_code == 200, listed.text
    versions = listed.json()["versions"]
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[-1]["author"] == f"key:{record.id}"
    assert (versions[-1]["added"], versions[-1]["changed"], versions[-1]["removed"]) == (1, 3, 1)
    diff = api.get("/layers/compounds/diff", params={"from": 1, "to": 2}, headers=staff)
    assert diff.status_code == 200, diff.text
    assert diff.json()["added"] == ["NEW-1"]
    assert sorted(diff.json()["changed"].values()) == [["population"]] * 3
    missing = api.get("/layers/compounds/diff", params={"from": 1, "to": 5}, headers=staff)
    assert missing.status_code == 404 and "no version 5" in missing.json()["description"]
    hidden = api.get("/layers/central_households/versions")
    assert hidden.status_code == 404  # the public may not even learn it exists


def test_the_retention_setting_prunes_after_each_write(versioned, catalog, demo, data_copy):
    url, _ = versioned
    store = open_store(url, catalog, data_copy[1], keep_versions=2)
    try:
        for k in range(3):
            store.write("compounds", demo["compounds"].assign(households=k + 1), description="")
        kept = [(v.number, v.kept) for v in store.history("compounds")]
        assert kept == [(1, False), (2, False), (3, True), (4, True)]
        assert set(store.read_version("compounds", 3)["households"]) == {2}
    finally:
        getattr(store, "close", lambda: None)()
