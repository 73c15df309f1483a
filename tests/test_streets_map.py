"""The planner where the circle polygons are not built (a city-sized network; here the
demo with the limit set to 0 segments), in a real Chromium: the reached streets stand in
for the circles, drawn at start in their circles' colours, and the figures are those of
the demo's published run."""

from __future__ import annotations

import httpx
import pytest
import yaml

from tests.browser import open_page
from tests.support import CATALOG_DIR, DATA_DIR, ROOT, LiveServer

#: End to end: Chromium against `geo-service serve`, which computes the coverage first.
pytestmark = pytest.mark.slow

LAYER = "GeoService.layers.find(l => l.gsDefinition.id === '{}')"


@pytest.fixture(scope="module")
def streets_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("streets")
    live = LiveServer(
        env={
            "GEO_SERVICE_CATALOG_DIR": str(CATALOG_DIR),
            "GEO_SERVICE_STORE": f"file:{DATA_DIR}",
            "GEO_SERVICE_DERIVED_DIR": str(folder / "derived"),
            "GEO_SERVICE_STATE_DIR": str(folder / "state"),
            "GEO_SERVICE_CIRCLE_POLYGONS_MAX_SEGMENTS": "0",
        }
    )
    yield live
    live.stop()


def test_the_reached_streets_draw_the_circles_at_start(browser, streets_server, warm_derived):
    assert (
        httpx.get(f"{streets_server.url}/collections/service_circles/items").json()[
            "numberReturned"
        ]
        == 0
    )
    summary = httpx.get(f"{streets_server.url}/coverage/summary?f=json").json()
    published = yaml.safe_load((warm_derived / "coverage.json").read_text(encoding="utf-8"))
    assert summary["district"] == published["summary"]["district"]

    visit = open_page(browser, f"{streets_server.url}/maps/planner")
    streets = LAYER.format("reached_streets")
    visit.page.wait_for_function(f"() => {streets}.gsLoaded", timeout=30_000)
    seen = visit.page.evaluate(
        f"""() => {{ const layer = {streets}; const out = {{}};
        layer.eachLayer(s => {{ out[s.feature.properties.id] = s.options.color; }});
        return [out, !!layer._map, !!{LAYER.format("service_circles")}._map]; }}"""
    )
    colours, streets_shown, circles_shown = seen
    planner = yaml.safe_load((ROOT / "maps" / "planner.yaml").read_text(encoding="utf-8"))
    classes = next(e for e in planner["layers"] if e["layer"] == "reached_streets")["classes"]
    colour_of = dict(zip(classes["values"], classes["colors"], strict=True))
    assert streets_shown and not circles_shown
    assert colours == {f"centre-{m}": colour_of[m] for m in (5, 10, 15)}
    assert visit.errors == [] and visit.external == []
