"""Editing features over OGC API – Features Part 4, the same on both stores, with the
requests exactly as QGIS's OAPIF provider sends them (``OPTIONS`` for the ``Allow``
header, ``POST`` of a Feature without an id and the new id read from ``Location``,
``PATCH`` as a JSON merge patch of the changed properties or of the geometry alone, ``PUT``
of the whole feature, ``DELETE``): every edit is checked, a version and an audit entry;
``If-Match`` guards against lost updates; bad edits get a clear 4xx, writing nothing."""

from __future__ import annotations

import json
import threading

import pytest
import shapely

GEOJSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"


def _send(api, method, url, headers, body=None, media_type=GEOJSON):
    """A request as QGIS's QgsBaseNetworkRequest sends it: the body as bytes, the media
    type in Content-Type, no Accept, no If-Match."""
    extra = {} if body is None else {"Content-Type": media_type}
    content = None if body is None else json.dumps(body).encode()
    return api.request(method, url, content=content, headers={**headers, **extra})


def _qgis_new_id(location: str) -> str:
    """What QGIS takes as the new feature's id: ``location.mid(lastIndexOf("/items/") + 7)``."""
    return location[location.rfind("/items/") + 7 :]


def _feature(api, layer, fid):
    answer = api.get(f"/collections/{layer}/items/{fid}")
    return answer.json() if answer.status_code == 200 else answer.status_code


def _rounded(geometry: dict) -> dict:
    """The geometry as QGIS's exporter writes it: six decimals."""
    return json.loads(
        shapely.to_geojson(shapely.set_precision(shapely.from_geojson(json.dumps(geometry)), 1e-6))
    )


def test_the_allow_header_tells_qgis_what_it_may_edit(editable):
    api, staff = editable.api, editable.staff
    allowed = api.request("OPTIONS", "/collections/service_centres/items", headers=staff)
    assert allowed.status_code == 204
    assert [m.strip() for m in allowed.headers["allow"].split(",")] == [
        "GET",
        "HEAD",
        "OPTIONS",
        "POST",
    ]
    one = api.request("OPTIONS", "/collections/service_centres/items/unknown_id", headers=staff)
    assert {"PUT", "PATCH", "DELETE"} <= {m.strip() for m in one.headers["allow"].split(",")}
    public = api.request("OPTIONS", "/collections/service_centres/items")
    assert "POST" not in public.headers["allow"]
    derived = api.request("OPTIONS", "/collections/compound_coverage/items", headers=staff)
    assert "POST" not in derived.headers["allow"]
    hidden = api.request("OPTIONS", "/collections/central_households/items")
    assert hidden.status_code == 404  # restricted layers stay invisible
    conformance = api.get("/conformance").json()["conformsTo"]
    assert (
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete"
        in conformance
    )
    paths = api.get("/openapi.json").json()["paths"]
    item = paths["/collections/{collectionId}/items/{featureId}"]
    assert {"get", "put", "patch", "delete"} <= set(item)
    assert "application/merge-patch+json" in item["patch"]["requestBody"]["content"]
    assert "post" in paths["/collections/{collectionId}/items"]


def test_create_update_replace_delete_as_qgis_sends_them(editable):
    api, staff, key_id = editable.api, editable.staff, editable.key_id
    store = api.app.state.store
    items = "/collections/service_centres/items"
    template = api.get(items, params={"limit": 1}).json()["features"][0]
    count = store.count("service_centres")

    # create: QGIS erases the top-level id and bbox; the id property is what the user typed
    created = _send(
        api,
        "POST",
        items,
        staff,
        {
            "type": "Feature",
            "geometry": _rounded(template["geometry"]),
            "properties": {
                **template["properties"],
                "id": "NEW-1",
                "name_zh": "新中心",
                "name_en": "New centre",
            },
        },
    )
    assert created.status_code == 201, created.text
    new_id = _qgis_new_id(created.headers["location"])
    assert new_id == "NEW-1" and store.count("service_centres") == count + 1
    read = _feature(api, "service_centres", new_id)  # QGIS reads it back at once
    assert read["properties"]["name_zh"] == "新中心"
    assert read["geometry"]["coordinates"] == pytest.approx(
        _rounded(template["geometry"])["coordinates"], abs=1e-7
    )

    # a feature without an id gets one
    anonymous = {**template["properties"], "name_zh": "无名中心", "name_en": "Nameless"}
    del anonymous["id"]
    made = _send(
        api, "POST", items, staff, {"type": "Feature", "geometry": None, "properties": anonymous}
    )
    assert made.status_code == 422, made.text  # a centre needs a point: nothing written
    made = _send(
        api,
        "POST",
        items,
        staff,
        {"type": "Feature", "geometry": template["geometry"], "properties": anonymous},
    )
    assert made.status_code == 201, made.text
    made_id = _qgis_new_id(made.headers["location"])
    assert made_id.startswith("service_centres-")

    # update: attributes alone, then geometry alone, each a merge patch
    renamed = _send(
        api,
        "PATCH",
        f"{items}/{new_id}",
        staff,
        {"properties": {"name_en": "Renamed"}},
        MERGE_PATCH,
    )
    assert renamed.status_code == 200, renamed.text
    moved_to = {"type": "Point", "coordinates": [120.25, 31.5]}
    moved = _send(api, "PATCH", f"{items}/{new_id}", staff, {"geometry": moved_to}, MERGE_PATCH)
    assert moved.status_code == 200, moved.text
    now = _feature(api, "service_centres", new_id)
    assert now["properties"]["name_en"] == "Renamed" and now["properties"]["name_zh"] == "新中心"
    assert now["geometry"]["coordinates"] == pytest.approx([120.25, 31.5])

    # replace: the whole feature, the top-level id as QGIS sends it
    whole = {
        "type": "Feature",
        "id": new_id,
        "geometry": moved_to,
        "properties": {**now["properties"], "capacity": 40},
    }
    replaced = _send(api, "PUT", f"{items}/{new_id}", staff, whole)
    assert replaced.status_code == 200, replaced.text
    assert _feature(api, "service_centres", new_id)["properties"]["capacity"] == 40

    deleted = _send(api, "DELETE", f"{items}/{new_id}", staff)
    assert deleted.status_code == 204
    assert _feature(api, "service_centres", new_id) == 404

    sources = [v.source for v in store.history("service_centres")]
    assert sources[-6:] == [
        "create feature NEW-1",
        f"create feature {made_id}",
        "update feature NEW-1",
        "update feature NEW-1",
        "replace feature NEW-1",
        "delete feature NEW-1",
    ]
    assert {v.author for v in store.history("service_centres")[-6:]} == {f"key:{key_id}"}
    assert [v.changed for v in store.history("service_centres")[-4:-1]] == [1, 1, 1]
    actions = [e["action"] for e in api.app.state.audit.entries()]
    assert actions == ["create", "create", "update", "update", "replace", "delete"]


def test_if_match_guards_against_lost_updates(editable):
    api, staff = editable.api, editable.staff
    url = "/collections/compounds/items/"
    fid = api.get("/collections/compounds/items", params={"limit": 1}).json()["features"][0]["id"]
    seen = api.get(url + fid)
    feature_tag = seen.headers["etag"]
    assert feature_tag.startswith('"f-')
    population = seen.json()["properties"]["population"]

    def patch(value, tag=None):
        headers = {**staff, **({"If-Match": tag} if tag else {})}
        return _send(
            api, "PATCH", url + fid, headers, {"properties": {"population": value}}, MERGE_PATCH
        )

    assert patch(population + 1, feature_tag).status_code == 200
    stale = patch(population + 2, feature_tag)  # based on what it was before the first
    assert stale.status_code == 412, stale.text
    assert _feature(api, "compounds", fid)["properties"]["population"] == population + 1
    layer_tag = f'"{api.app.state.store.version("compounds")}"'
    other = api.get("/collections/compounds/items", params={"limit": 2}).json()["features"][1]
    assert (
        _send(
            api, "PATCH", url + other["id"], staff, {"properties": {"households": 9}}, MERGE_PATCH
        ).status_code
        == 200
    )
    # the layer's ETag names the whole layer: any change since makes it stale
    assert patch(population + 3, layer_tag).status_code == 412
    # a feature's ETag names the feature: other features changing does not matter
    fresh = api.get(url + fid).headers["etag"]
    assert patch(population + 4, fresh).status_code == 200
    assert patch(population + 5).status_code == 200  # no If-Match: onto the latest


def test_editors_in_parallel_lose_no_change(editable):
    api, staff = editable.api, editable.staff
    features = api.get("/collections/compounds/items", params={"limit": 6}).json()["features"]
    before = {f["id"]: f["properties"]["population"] for f in features}
    answers = []

    def edit(fid):
        answers.append(
            _send(
                api,
                "PATCH",
                f"/collections/compounds/items/{fid}",
                staff,
                {"properties": {"population": before[fid] + 100}},
                MERGE_PATCH,
            ).status_code
        )

    threads = [threading.Thread(target=edit, args=(fid,)) for fid in before]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * len(before)
    for fid, population in before.items():
        assert _feature(api, "compounds", fid)["properties"]["population"] == population + 100


@pytest.mark.parametrize(
    ("case", "status", "words"),
    [
        ("not json", 400, "not JSON"),
        ("wrong media type", 415, "send the body as"),
        ("not a feature", 400, "GeoJSON Feature"),
        ("unknown property", 400, "has no property 'colour'"),
        ("wrong type", 400, "is not a integer"),
        ("NaN coordinate", 400, "finite"),
        ("broken geometry", 400, "not a GeoJSON geometry"),
        ("self-intersecting polygon", 422, "invalid geometry"),
        ("missing required value", 422, "name_zh"),
        ("id taken", 409, "has a feature"),
    ],
)
def test_bad_edits_get_a_clear_4xx_and_write_nothing(case, status, words, shared_editable):
    api, staff = shared_editable.api, shared_editable.staff
    store = api.app.state.store
    compound = api.get("/collections/compounds/items", params={"limit": 1}).json()["features"][0]
    fresh = {**compound["properties"], "id": "NEW-9"}
    bowtie = {
        "type": "MultiPolygon",
        "coordinates": [
            [[[120.2, 31.5], [120.21, 31.51], [120.21, 31.5], [120.2, 31.51], [120.2, 31.5]]]
        ],
    }
    bodies = {
        "not json": b"{not json",
        "wrong media type": json.dumps({"type": "Feature"}).encode(),
        "not a feature": json.dumps({"type": "FeatureCollection", "features": []}).encode(),
        "unknown property": {
            "type": "Feature",
            "geometry": compound["geometry"],
            "properties": {**fresh, "colour": "red"},
        },
        "wrong type": {
            "type": "Feature",
            "geometry": compound["geometry"],
            "properties": {**fresh, "population": "many"},
        },
        "NaN coordinate": b'{"type": "Feature", "properties": {}, "geometry": '
        b'{"type": "Point", "coordinates": [NaN, 31.5]}}',
        "broken geometry": {
            "type": "Feature",
            "properties": fresh,
            "geometry": {"type": "Polygon", "coordinates": [[1, 2]]},
        },
        "self-intersecting polygon": {"type": "Feature", "geometry": bowtie, "properties": fresh},
        "missing required value": {
            "type": "Feature",
            "geometry": compound["geometry"],
            "properties": {**fresh, "name_zh": None},
        },
        "id taken": {
            "type": "Feature",
            "geometry": compound["geometry"],
            "properties": compound["properties"],
        },
    }
    body = bodies[case]
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    media_type = "text/plain" if case == "wrong media type" else GEOJSON
    version = store.version("compounds")
    answer = api.post(
        "/collections/compounds/items",
        content=content,
        headers={**staff, "Content-Type": media_type},
    )
    assert answer.status_code == status, answer.text
    assert words in answer.json()["description"]
    assert store.version("compounds") == version
    assert not api.app.state.audit.entries()


def test_only_editors_may_edit_and_restricted_layers_stay_hidden(editable):
    api, staff = editable.api, editable.staff
    body = {"properties": {"name_en": "x"}}
    url = "/collections/service_centres/items/D00"
    assert _send(api, "PATCH", url, {}, body, MERGE_PATCH).status_code == 401
    assert _send(api, "DELETE", url, {}).status_code == 401
    households = "/collections/central_households/items"
    assert _send(api, "POST", households, {}, {"type": "Feature"}).status_code == 404
    assert _send(api, "POST", households, staff, {"type": "Feature"}).status_code == 403
    coverage = "/collections/compound_coverage/items"
    refused = _send(api, "POST", coverage, staff, {"type": "Feature"})
    assert refused.status_code == 403 and "may not change" in refused.json()["description"]
    missing = _send(
        api, "PATCH", "/collections/service_centres/items/nope", staff, body, MERGE_PATCH
    )
    assert missing.status_code == 404


def test_coordinates_in_another_crs_are_taken_in_its_axis_order(editable):
    api, staff = editable.api, editable.staff
    template = api.get("/collections/service_centres/items", params={"limit": 1}).json()
    properties = {
        **template["features"][0]["properties"],
        "id": "NEW-4326",
        "name_zh": "坐标中心",
        "name_en": "Axis order centre",
    }
    created = _send(
        api,
        "POST",
        "/collections/service_centres/items",
        {**staff, "Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/4326>"},
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [31.5, 120.25]},
            "properties": properties,
        },
    )
    assert created.status_code == 201, created.text
    stored = _feature(api, "service_centres", "NEW-4326")["geometry"]["coordinates"]
    assert stored == pytest.approx([120.25, 31.5])
