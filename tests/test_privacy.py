"""No household location reaches a public or staff caller, by any route or format."""

from __future__ import annotations

import re

import pyogrio
import pytest
import shapely

from tests.support import run_cli

FORMATS = ["json", "html", "gpkg", "shp", "csv", "fgb", "kml", "geojson", "xlsx"]
CRS = ["http://www.opengis.net/def/crs/OGC/1.3/CRS84", "http://www.opengis.net/def/crs/EPSG/0/4326"]


@pytest.fixture(scope="module")
def staff_headers(state_dir):
    result = run_cli(
        "keys",
        "create",
        "--role",
        "staff",
        "--name",
        "privacy test",
        env={"GEO_SERVICE_STATE_DIR": str(state_dir)},
    )
    return {"Authorization": "Bearer " + result.stdout.strip().splitlines()[-1]}


@pytest.fixture(scope="module")
def secrets(demo) -> set[tuple[float, float]]:
    """Every home's coordinate pair, both axis orders, rounded to 1e-7 degree. (A single
    coordinate may equal some other vertex's by chance; a pair does not.)"""
    pairs = set()
    for point in demo["central_households"].geometry:
        x, y = round(point.x, 7), round(point.y, 7)
        pairs |= {(x, y), (y, x)}
    return pairs


_PAIR = re.compile(r"(?<![\d.])(?=(-?\d+\.\d+)[,\s]+(-?\d+\.\d+)(?![\d.]))")


def _pairs_in(response, tmp_path) -> set[tuple[float, float]]:
    """Coordinate pairs in a response: numbers side by side in text, vertices in files."""
    kind = response.headers.get("content-type", "")
    if any(t in kind for t in ("json", "html", "csv", "kml", "text")):
        text = response.content.decode("utf-8", errors="replace")
        return {(round(float(a), 7), round(float(b), 7)) for a, b in _PAIR.findall(text)}
    name = re.search(r'filename="([^"]+)"', response.headers["content-disposition"]).group(1)
    path = tmp_path / name
    path.write_bytes(response.content)
    source = f"/vsizip/{path}" if kind == "application/zip" else str(path)
    frame = pyogrio.read_dataframe(source)
    if "spreadsheetml" in kind:  # a workbook: coordinates in columns (lon, lat) or WKT text
        text = frame.to_csv(index=False)
        return {(round(float(a), 7), round(float(b), 7)) for a, b in _PAIR.findall(text)}
    xy = shapely.get_coordinates(frame.geometry.to_numpy())
    return {(round(x, 7), round(y, 7)) for x, y in xy}


#: Layers whose every format and CRS variant is fetched: the households themselves, every
#: layer derived from other layers (where household data could creep in), and a base layer.
DEEP = {
    "central_households",
    "service_circles",
    "reached_streets",
    "compound_coverage",
    "community_coverage",
    "coverage_gaps",
    "pocket_parks",
}


def _urls(api, layer_ids: list[str]) -> list[str]:
    """Every GET route of the API, with every layer id filled in, and every output format
    and CRS for the layers in ``DEEP``."""
    document = api.get("/api").json()
    urls = ["/api", "/openapi.json", "/docs"]
    for path, operations in document["paths"].items():
        if "get" not in operations:
            continue
        names = [p.strip("{}") for p in path.split("/") if p.startswith("{")]
        if "fmt" in path:
            path = path.replace(".{fmt}", "")
        for layer in layer_ids if names else [None]:
            url = path
            for name in names:
                if name in ("collectionId", "layer_id"):
                    url = url.replace("{" + name + "}", layer)
                elif name in ("featureId", "feature_id"):
                    url = url.replace("{" + name + "}", "H001")
            deep = layer in DEEP
            if "/downloads/" in path:
                urls += [f"{url}.{fmt}" for fmt in (FORMATS[2:] if deep else ["csv"])]
            elif url.endswith("/items"):
                urls += [f"{url}?f={f}" for f in (FORMATS if deep else FORMATS[:2])]
                urls += [f"{url}?crs={c}&limit=10000" for c in (CRS if deep else [])]
            else:
                urls += [url, f"{url}?f=json", f"{url}?f=html"]
    return urls


@pytest.mark.slow  # end to end: every route and format of the API, read back with GDAL
@pytest.mark.parametrize("who", ["public", "staff"])
def test_no_household_coordinate_in_any_response(api, demo, secrets, who, staff_headers, tmp_path):
    headers = staff_headers if who == "staff" else {}
    layer_ids = [
        *demo,
        "service_circles",
        "reached_streets",
        "compound_coverage",
        "community_coverage",
        "coverage_gaps",
        "central_households",
    ]
    urls = _urls(api, layer_ids)
    assert len(urls) > 250
    statuses, checked_files = set(), 0
    for url in urls:
        response = api.get(url, headers=headers)
        statuses.add(response.status_code)
        assert response.status_code < 500, url
        found = _pairs_in(response, tmp_path)
        checked_files += "json" not in response.headers.get("content-type", "")
        assert not found & secrets, (url, sorted(found & secrets)[:3])
    assert 200 in statuses and 404 in statuses and checked_files > 20


def test_the_check_would_catch_a_leak(api, secrets, state_dir, tmp_path):
    """The same check on what a cleared caller gets finds every home."""
    result = run_cli(
        "keys",
        "create",
        "--role",
        "restricted",
        "--name",
        "leak check",
        env={"GEO_SERVICE_STATE_DIR": str(state_dir)},
    )
    headers = {"X-API-Key": result.stdout.strip().splitlines()[-1]}
    for url in (
        "/collections/central_households/items?limit=1000",
        "/downloads/central_households.gpkg",
        "/downloads/central_households.csv",
        "/downloads/central_households.kml",
    ):
        found = _pairs_in(api.get(url, headers=headers), tmp_path)
        assert len(found & secrets) == 262, url
