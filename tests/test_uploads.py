"""Uploads over HTTP, the same on both stores: a file is checked first (the report of
``geo-service import file``) and written only by a second call naming, with ``If-Match``,
the version it was checked against; hostile files are refused with their reason, writing
nothing and leaving no file behind; only roles allowed to edit a layer may."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
import shapely

from geo_service.api.app import create_app
from geo_service.data.keys import KeyStore
from geo_service.errors import ImportFailed
from geo_service.importing.files import read_import_file
from geo_service.settings import Settings
from tests.hostile_files import hostile_files, shapefile_parts, zipped
from tests.import_fixtures import CENTRE_MAPPING
from tests.support import DATA_DIR, InProcessClient

GEOJSON = "application/geo+json"


def _upload(api, headers, layer, name, content, media_type=GEOJSON, **fields):
    return api.post(
        f"/collections/{layer}/uploads",
        files={"file": (name, content, media_type)},
        data=fields,
        headers=headers,
    )


def _commit(api, headers, answer, **params):
    return api.post(
        f"/collections/{answer.json()['layer']}/uploads/{answer.json()['id']}/commit",
        params=params,
        headers=headers,
    )


def _populations(api, layer="compounds"):
    features = api.get(f"/collections/{layer}/items", params={"limit": 1000}).json()["features"]
    return {f["id"]: f["properties"]["population"] for f in features}


def _compounds_with_more_people(store, ids, more=11):
    compounds = store.query("compounds")
    compounds.loc[compounds["id"].isin(ids), "population"] += more
    return compounds


def test_an_upload_is_checked_then_committed_onto_its_version(editable, tmp_path):
    api, staff, key_id = editable.api, editable.staff, editable.key_id
    store = api.app.state.store
    before = _populations(api)
    ids = sorted(before)[:3]
    edited = _compounds_with_more_people(store, ids)
    version = store.version("compounds")

    checked = _upload(api, staff, "compounds", "新小区.geojson", edited.to_json().encode())
    assert checked.status_code == 201, checked.text
    document = checked.json()
    assert checked.headers["etag"] == f'"{version}"' and document["base_version"] == version
    assert document["committable"] and document["refusal"] is None
    assert document["report"]["features"] == {"read": 471, "accepted": 471, "rejected": 0}
    assert sorted(document["report"]["changes"]["changed"]["ids"]) == ids
    assert checked.headers["location"].endswith(f"/uploads/{document['id']}")
    assert _populations(api) == before  # a check writes nothing
    status = api.get(checked.headers["location"], headers=staff)
    assert status.status_code == 200 and status.json()["report"] == document["report"]

    no_precondition = _commit(api, staff, checked)
    assert no_precondition.status_code == 428, no_precondition.text
    for wrong in ('"0123"', f'W/"{version}"', "*"):
        refused = _commit(api, {**staff, "If-Match": wrong}, checked)
        assert refused.status_code == 412, (wrong, refused.text)
    assert _populations(api) == before

    committed = _commit(api, {**staff, "If-Match": checked.headers["etag"]}, checked)
    assert committed.status_code == 200, committed.text
    record = committed.json()["version"]
    assert record["author"] == f"key:{key_id}" and record["source"] == "upload 新小区.geojson"
    assert (record["added"], record["changed"], record["removed"]) == (0, 3, 0)
    assert committed.headers["etag"] == f'"{store.version("compounds")}"' != f'"{version}"'
    after = _populations(api)
    assert {i: after[i] - before[i] for i in ids} == dict.fromkeys(ids, 11)
    assert {i: v for i, v in after.items() if i not in ids} == {
        i: v for i, v in before.items() if i not in ids
    }
    entry = api.app.state.audit.entries()[-1]
    assert (entry["action"], entry["layer"], entry["key_id"], entry["version"]) == (
        "upload",
        "compounds",
        key_id,
        record["number"],
    )
    again = _commit(api, {**staff, "If-Match": checked.headers["etag"]}, checked)
    assert again.status_code == 404  # committed uploads are gone


def test_an_upload_checked_against_an_older_version_is_not_written(editable):
    api, staff = editable.api, editable.staff
    store = api.app.state.store
    checked = _upload(
        api,
        staff,
        "compounds",
        "a.geojson",
        _compounds_with_more_people(store, ["HL01-01"]).to_json().encode(),
    )
    assert checked.status_code == 201, checked.text
    meanwhile = _compounds_with_more_people(store, ["HL01-02"], more=5)
    store.write("compounds", meanwhile, description="someone else's edit", author="key:other")
    after_other = _populations(api)
    stale = _commit(api, {**staff, "If-Match": checked.headers["etag"]}, checked)
    assert stale.status_code == 412 and "changed since" in stale.json()["description"]
    assert _populations(api) == after_other  # the other change is not lost


def test_rejected_rows_block_the_commit_unless_partial(editable):
    api, staff = editable.api, editable.staff
    store = api.app.state.store
    entrances = store.query("compound_entrances")
    entrances.loc[entrances.index[:2], "compound_id"] = None  # required
    checked = _upload(api, staff, "compound_entrances", "e.geojson", entrances.to_json().encode())
    assert checked.status_code == 201, checked.text
    assert not checked.json()["committable"]
    assert "2 row(s) of e.geojson were rejected" in checked.json()["refusal"]
    before = store.version("compound_entrances")
    refused = _commit(api, {**staff, "If-Match": checked.headers["etag"]}, checked)
    assert refused.status_code == 422 and "compound_id" in refused.json()["description"]
    assert store.version("compound_entrances") == before
    partial = _commit(api, {**staff, "If-Match": checked.headers["etag"]}, checked, partial=True)
    assert partial.status_code == 200, partial.text
    assert store.count("compound_entrances") == len(entrances) - 2


def test_an_upload_with_an_invalid_geometry_is_not_written(editable):
    api, staff = editable.api, editable.staff
    store = api.app.state.store
    compounds = store.query("compounds")
    bowtie = shapely.MultiPolygon(
        [shapely.Polygon([(120.2, 31.5), (120.21, 31.51), (120.21, 31.5), (120.2, 31.51)])]
    )
    compounds.loc[compounds.index[0], "geometry"] = bowtie
    checked = _upload(api, staff, "compounds", "c.geojson", compounds.to_json().encode())
    assert checked.status_code == 201, checked.text
    report = checked.json()["report"]
    assert report["features"]["rejected"] == 1
    assert report["rejection_counts"][0]["field"] == "geometry"
    refused = _commit(api, {**staff, "If-Match": checked.headers["etag"]}, checked)
    assert refused.status_code == 422 and "geometry" in refused.json()["description"]
    assert store.version("compounds") == checked.json()["base_version"]


def test_only_roles_allowed_to_edit_a_layer_may_upload(editable, data_copy):
    api, staff = editable.api, editable.staff
    content = b'{"type": "FeatureCollection", "features": []}'
    public = _upload(api, {}, "compounds", "c.geojson", content)
    assert public.status_code == 401
    derived = _upload(api, staff, "compound_coverage", "c.geojson", content)
    assert derived.status_code == 403 and "may not change" in derived.json()["description"]
    restricted = _upload(api, staff, "central_households", "c.geojson", content)
    assert restricted.status_code == 403  # staff may not even read it
    hidden = _upload(api, {}, "central_households", "c.geojson", content)
    assert hidden.status_code in (401, 404)
    assert not api.app.state.audit.entries()


def test_a_layer_may_name_the_roles_that_edit_it(data_copy, tmp_path, seeded_derived):
    catalog_dir, data_dir = data_copy
    seeded_derived(tmp_path / "derived")  # data_copy's derived folder
    entry = catalog_dir / "roads.yaml"
    entry.write_text(entry.read_text("utf-8") + "edit_roles: [restricted]\n", "utf-8")
    settings = Settings(store=f"file:{data_dir}", catalog_dir=catalog_dir, state_dir=tmp_path / "s")
    api = InProcessClient(create_app(settings))
    keys = KeyStore(settings.state_dir / "keys.json")
    staff, restricted = (keys.create(role, "x")[0] for role in ("staff", "restricted"))
    roads = (data_dir / "roads.geojson").read_bytes()
    refused = _upload(api, {"X-API-Key": staff}, "roads", "r.geojson", roads)
    assert refused.status_code == 403
    allowed = _upload(api, {"X-API-Key": restricted}, "roads", "r.geojson", roads)
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["report"]["changes"]["unchanged"]["count"] > 0


def _leftovers(settings_state: Path) -> list[str]:
    uploads = settings_state / "uploads"
    kept = sorted(p.name for p in uploads.iterdir()) if uploads.is_dir() else []
    temp = sorted(p.name for p in Path(tempfile.gettempdir()).glob("geo-service-import-*"))
    return kept + temp


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return hostile_files(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def guarded(tmp_path_factory, seeded_derived):
    """(client, staff headers, state folder) of an app over a copy of the demo, taking
    uploads up to 30 MB (so the bombs get in, to be refused inside)."""
    folder = tmp_path_factory.mktemp("guarded")
    shutil.copytree(DATA_DIR, folder / "data")
    settings = Settings(
        store=f"file:{folder / 'data'}",
        state_dir=folder / "state",
        derived_dir=seeded_derived(folder / "derived"),
        max_upload_bytes=30 * 1024**2,
    )
    api = InProcessClient(create_app(settings))
    key, _ = KeyStore(settings.state_dir / "keys.json").create("staff", "gis")
    return api, {"X-API-Key": key}, settings.state_dir


@pytest.mark.parametrize(
    "case",
    [
        "dot-dot entry",
        "absolute entry",
        "symlink entry",
        "zip bomb",
        "no .shx",
        "no .dbf",
        "not a zip",
        "zip sent as csv",
        "lone .shp",
        "executable",
        "binary named geojson",
        "broken geojson",
        "workbook bomb",
    ],
)
def test_hostile_files_are_refused_leaving_nothing(case, hostile, guarded, tmp_path):
    api, staff, state = guarded
    version = api.app.state.store.version("service_centres")
    before = _leftovers(state)
    file = hostile[case]
    answer = _upload(
        api,
        staff,
        "service_centres",
        file.filename,
        file.content,
        file.content_type,
    )
    assert answer.status_code == file.status, answer.text
    assert file.reason in answer.json()["description"]
    assert api.app.state.store.version("service_centres") == version
    assert _leftovers(state) == before
    if file.filename.endswith((".zip", ".xlsx")) and file.status == 400:
        path = tmp_path / file.filename
        path.write_bytes(file.content)
        with pytest.raises(ImportFailed, match=file.reason):  # the command line refuses too
            read_import_file(path)


def test_size_limits_and_the_form_are_enforced(data_copy, tmp_path, seeded_derived):
    seeded_derived(tmp_path / "derived")  # data_copy's derived folder
    settings = Settings(
        store=f"file:{data_copy[1]}",
        catalog_dir=data_copy[0],
        state_dir=tmp_path / "state",
        max_upload_bytes=20_000,
        max_upload_unpacked_bytes=30_000,
    )
    api = InProcessClient(create_app(settings))
    key = KeyStore(settings.state_dir / "keys.json").create("staff", "gis")[0]
    staff = {"X-API-Key": key}
    big = _upload(api, staff, "service_centres", "c.geojson", b"{" + b" " * 100_000 + b"}")
    assert big.status_code == 413 and "over" in big.json()["description"]
    parts = shapefile_parts(tmp_path)
    small_zip = zipped({f"c{suffix}": data for suffix, data in parts.items()})
    assert len(small_zip) < 20_000 < sum(map(len, parts.values()))
    unpacked = _upload(api, staff, "service_centres", "c.zip", small_zip, "application/zip")
    assert (
        unpacked.status_code == 400
        and "unpacks to more than 30,000 bytes" in (unpacked.json()["description"])
    )
    not_multipart = api.post(
        "/collections/service_centres/uploads",
        content=b'{"type": "FeatureCollection", "features": []}',
        headers={**staff, "Content-Type": GEOJSON},
    )
    assert not_multipart.status_code == 415
    no_file = api.post("/collections/service_centres/uploads", data={"crs": "wgs84"}, headers=staff)
    assert no_file.status_code in (400, 415)
    assert _leftovers(settings.state_dir) == []


def test_a_zipped_shapefile_upload_reads_like_the_command_line(editable, tmp_path):
    api, staff = editable.api, editable.staff
    parts = shapefile_parts(tmp_path)
    archive = zipped({f"服务中心/centres{suffix}": data for suffix, data in parts.items()})
    checked = _upload(
        api,
        staff,
        "service_centres",
        "centres.zip",
        archive,
        "application/zip",
        mapping=json.dumps(CENTRE_MAPPING, ensure_ascii=False),
    )
    assert checked.status_code == 201, checked.text
    report = checked.json()["report"]
    assert report["features"]["accepted"] == api.app.state.store.count("service_centres")
    assert report["changes"]["added"]["count"] == report["changes"]["removed"]["count"] == 0
    discarded = api.delete(checked.headers["location"], headers=staff)
    assert discarded.status_code == 204
    assert api.get(checked.headers["location"], headers=staff).status_code == 404


def test_pending_uploads_expire(data_copy, tmp_path, seeded_derived):
    seeded_derived(tmp_path / "derived")  # data_copy's derived folder
    settings = Settings(
        store=f"file:{data_copy[1]}",
        catalog_dir=data_copy[0],
        state_dir=tmp_path / "state",
        upload_hours=1e-9,
    )
    api = InProcessClient(create_app(settings))
    key = KeyStore(settings.state_dir / "keys.json").create("staff", "gis")[0]
    content = api.app.state.store.query("trails")
    checked = _upload(api, {"X-API-Key": key}, "trails", "t.geojson", content.to_json().encode())
    assert checked.status_code == 201, checked.text
    gone = api.get(checked.headers["location"], headers={"X-API-Key": key})
    assert gone.status_code == 404 and "expired" in gone.json()["description"]
    assert api.app.state.uploads.sweep() == [checked.json()["id"]]
