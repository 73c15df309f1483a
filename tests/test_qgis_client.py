"""QGIS as the client: Debian's QGIS 3.22 (``python3-qgis``, headless) reads the layers of a
running server through its OAPIF provider, and after features are edited over HTTP — the
requests QGIS 3.28+ sends when it edits (see ``test_edits.py``) — it reads the edited
features back: the new one, the changed values and geometry, and not the deleted one."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import httpx
import pytest

from tests.support import writable_server

pytestmark = pytest.mark.slow

QGIS_PYTHON = "/usr/bin/python3"
#: Reads one OAPIF layer with QGIS and prints {id: [properties, [x, y]]} and its count.
READER = textwrap.dedent(
    """
    import json, os, sys
    from qgis.core import QgsApplication, QgsVectorLayer
    app = QgsApplication([], False)
    app.initQgis()
    url, typename = sys.argv[1:3]
    layer = QgsVectorLayer(f"url='{url}' typename='{typename}'", typename, "OAPIF")
    if not layer.isValid():
        print(json.dumps({"error": layer.error().summary()}))
        sys.exit(1)
    features = {}
    for feature in layer.getFeatures():
        point = feature.geometry().asPoint()
        properties = {f.name(): feature[f.name()] for f in layer.fields()}
        features[str(feature["id"])] = [
            {k: v for k, v in properties.items() if isinstance(v, (str, int, float))},
            [point.x(), point.y()],
        ]
    print(json.dumps({"count": layer.featureCount(), "features": features}), flush=True)
    os._exit(0)  # QGIS 3.22 may crash in its own teardown (exitQgis)
    """
)


def _qgis_read(url: str, typename: str) -> dict:
    answer = subprocess.run(
        [QGIS_PYTHON, "-c", READER, url, typename],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": ""},
    )
    assert answer.returncode == 0, (answer.stdout[-2000:], answer.stderr[-2000:])
    return json.loads(answer.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(server, staff headers) over a writable copy of the demo data."""
    live, key = writable_server(tmp_path_factory.mktemp("qgis"))
    yield live, {"X-API-Key": key}
    live.stop()


def test_qgis_reads_back_what_was_edited(served):
    if not Path(QGIS_PYTHON).is_file():
        pytest.fail("python3-qgis is not installed (make system-deps)")
    live, staff = served
    before = _qgis_read(live.url, "service_centres")
    assert before["count"] == 86 and len(before["features"]) == 86
    first, second, third = sorted(before["features"])[:3]
    properties = {**before["features"][first][0], "id": "QGIS-1"}
    properties.update(name_zh="新建中心", name_en="Added from the API")
    with httpx.Client(base_url=live.url, headers=staff, timeout=60) as http:
        created = http.post(
            "/collections/service_centres/items",
            content=json.dumps(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [120.25, 31.5]},
                    "properties": properties,
                }
            ),
            headers={"Content-Type": "application/geo+json"},
        )
        assert created.status_code == 201, created.text
        patched = http.patch(
            f"/collections/service_centres/items/{second}",
            content=json.dumps({"properties": {"name_en": "Renamed in the API"}}),
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert patched.status_code == 200, patched.text
        deleted = http.delete(f"/collections/service_centres/items/{third}")
        assert deleted.status_code == 204

    after = _qgis_read(live.url, "service_centres")
    assert after["count"] == 86 and set(after["features"]) == (
        set(before["features"]) | {"QGIS-1"}
    ) - {third}
    added, point = after["features"]["QGIS-1"]
    assert added["name_zh"] == "新建中心" and point == pytest.approx([120.25, 31.5])
    assert after["features"][second][0]["name_en"] == "Renamed in the API"
    assert after["features"][first] == before["features"][first]
