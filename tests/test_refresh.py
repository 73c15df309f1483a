"""After a change of an input layer, coverage is recomputed in the background, on both
stores: the status says ``computing`` (the previous results are served meanwhile), then
``fresh`` with the version it was computed from; the figures, the coverage layers and the
locator then answer from the new data — the same figures a fresh start computes."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime

import pytest

from geo_service.api.app import create_app
from geo_service.data.stores import open_store
from geo_service.settings import Settings
from tests.support import InProcessClient

#: The district centre, and where it stands.
CENTRE = "D00"


def _wait_until_fresh(api, timeout_s: float = 180.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = api.get("/coverage/status").json()
        if status["status"] == "fresh":
            return status
        assert status["status"] in ("stale", "computing"), status
        time.sleep(0.25)
    raise AssertionError(f"coverage still {status} after {timeout_s} s")


def _nearest(api, lon, lat) -> str:
    answer = api.get("/locator/nearest", params={"lon": lon, "lat": lat, "n": 1})
    return answer.json()["features"][0]["id"]


@pytest.mark.slow  # end to end: an edit, the whole coverage run again
def test_coverage_is_recomputed_after_an_edit(editable, data_copy, tmp_path):
    api, staff, kind = editable.api, editable.staff, editable.kind
    store = api.app.state.store
    status = api.get("/coverage/status").json()
    assert status["status"] == "fresh"
    assert status["computed_from"]["service_centres"]["number"] == 1
    centre = api.get(f"/collections/service_centres/items/{CENTRE}").json()
    lon, lat = centre["geometry"]["coordinates"]
    assert _nearest(api, lon, lat) == CENTRE
    before = api.get("/coverage/summary").json()
    coverage_before = store.version("compound_coverage")
    before_edit = datetime.now(UTC).replace(microsecond=0).isoformat()

    deleted = api.delete(f"/collections/service_centres/items/{CENTRE}", headers=staff)
    assert deleted.status_code == 204
    right_after = api.get("/coverage/status").json()
    # the run waits for the edits to pause (the settings' delay)
    assert right_after["status"] == "stale" and right_after["scheduled"] > before_edit
    status = _wait_until_fresh(api)
    assert status["started"] >= right_after["scheduled"] and status["scheduled"] is None

    number = store.history("service_centres")[-1].number
    assert (
        status["computed_from"]["service_centres"]
        == {
            "version": store.version("service_centres"),
            "number": number,
        }
        and number == 2
    )
    assert status["current"]["service_centres"] == store.version("service_centres")
    assert status["finished"] >= status["started"] and status["error"] is None
    assert _nearest(api, lon, lat) != CENTRE  # the locator walks to another centre now
    assert store.version("compound_coverage") != coverage_before
    after = api.get("/coverage/summary").json()
    assert after != before
    if kind == "file":  # a fresh start over a copy of the edited data computes the same
        copy = tmp_path / "copy"
        shutil.copytree(data_copy[1], copy, ignore=shutil.ignore_patterns(".history"))
        fresh = create_app(
            Settings(
                store=f"file:{copy}",
                catalog_dir=data_copy[0],
                state_dir=tmp_path / "s2",
                derived_dir=tmp_path / "d2",
            )
        )
        assert InProcessClient(fresh).get("/coverage/summary").json() == after


@pytest.mark.slow  # end to end: another writer, the whole coverage run again
def test_a_change_made_by_another_process_is_seen_and_recomputed(catalog, data_copy, tmp_path):
    settings = Settings(
        store=f"file:{data_copy[1]}",
        catalog_dir=data_copy[0],
        state_dir=tmp_path / "state",
        derived_dir=tmp_path / "derived",
    )
    api = InProcessClient(create_app(settings))
    other = open_store(f"file:{data_copy[1]}", catalog, data_copy[1])  # as another process
    centres = other.query("service_centres")
    other.write(
        "service_centres",
        centres[centres["id"] != CENTRE],
        description="from another process",
        whole_layer=False,
    )
    seen = api.get("/coverage/status").json()
    assert seen["status"] in ("computing", "fresh")
    assert seen["current"]["service_centres"] == other.version("service_centres")
    status = _wait_until_fresh(api)
    assert status["computed_from"]["service_centres"]["version"] == other.version("service_centres")
    api.app.state.refresh.close()


@pytest.mark.slow  # end to end: a burst of edits, the coverage run once
def test_a_burst_of_edits_makes_one_run(editable):
    """Edits that come closer together than the delay (a QGIS commit of many features)
    start one run, after the last, computed from the last version."""
    api, staff = editable.api, editable.staff
    refresh = api.app.state.refresh
    centres = api.get("/collections/service_centres/items", params={"limit": 3}).json()
    for feature in centres["features"]:
        patch = {"properties": {"name_en": feature["properties"]["name_en"] + " (moved)"}}
        answer = api.request(
            "PATCH",
            f"/collections/service_centres/items/{feature['id']}",
            json=patch,
            headers={**staff, "Content-Type": "application/merge-patch+json"},
        )
        assert answer.status_code == 200, answer.text
        assert refresh.runs == 0
    status = _wait_until_fresh(api)
    assert refresh.runs == 1
    assert status["computed_from"]["service_centres"] == {
        "version": api.app.state.store.version("service_centres"),
        "number": len(centres["features"]) + 1,
    }
