"""Serve compounds from geo_service's file store, its PostGIS store and the peers; compare.

    python bench/serve.py [--seconds 5] [--connections 8] [--repeat 3] [--scale 1] [--no-demo]

On the synthetic city (`geo-service demo city`, ~20,000 compounds at scale 1; generated on
first run into build/bench-city-SCALE): geo_service on the file store, geo_service on the
PostGIS store, and TiPg 1.6 (the peer, installed in build/bench-tipg on first run) pointed
at the same PostGIS tables. On the demo district: geo_service (file store) and pygeoapi
(its GeoJSON provider, installed in build/bench-pygeoapi). One uvicorn worker each, no
access log, 127.0.0.1 only; PostgreSQL + PostGIS is a throwaway cluster
(scripts/throwaway-postgis). The load comes from keep-alive connections in this process,
each sending its next request when the last one is answered; every server and query runs
``--repeat`` times round robin and the median run is reported. Prints requests per second
(and each run's), p50 and p99 latency and errors per query and server as JSON, and the
ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
from loadgen import drive, free_port, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
DEMO_DATA = ROOT / "data" / "geojson" / "compounds.geojson"
PAGES = {"items?limit=10": "limit=10", "items?limit=1000": "limit=1000"}
DEMO_BBOX = "120.25,31.54,120.28,31.57"

PYGEOAPI_CONFIG = """
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  language: en-US
  limits: {{default_items: 10, max_items: 10000}}
  map: {{url: "https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png", attribution: OSM}}
logging: {{level: ERROR}}
metadata:
  identification:
    title: bench
    description: bench
    keywords: [bench]
    keywords_type: theme
    terms_of_service: https://example.org
    url: https://example.org
  license: {{name: CC0, url: https://example.org}}
  provider: {{name: bench, url: https://example.org}}
  contact: {{name: bench, position: bench, address: x, city: x, stateorprovince: x,
            postalcode: x, country: x, phone: x, fax: x, email: x@example.org,
            url: https://example.org, hours: x, instructions: x, role: pointOfContact}}
resources:
  compounds:
    type: collection
    title: compounds
    description: compounds
    keywords: [compounds]
    extents:
      spatial: {{bbox: [120.0, 31.3, 120.4, 31.7],
                crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84}}
    providers:
      - type: feature
        name: GeoJSON
        data: {data}
        id_field: id
"""


def queries(collection: str, bbox: str) -> dict[str, str]:
    """The benchmark's queries on ``collection``: two page sizes and a 3 km bbox."""
    paths = {label: f"/collections/{collection}/items?{q}" for label, q in PAGES.items()}
    paths["bbox"] = f"/collections/{collection}/items?bbox={bbox}&limit=100"
    return paths


def venv_python(name: str, packages: list[str]) -> Path:
    """The Python of ``build/NAME`` with ``packages`` (made on first use)."""
    python = BUILD / name / "bin" / "python"
    if not python.exists():
        print(f"installing {' '.join(packages)} into build/{name} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(python.parent.parent)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
    return python


def uvicorn(python: Path, app: str, env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(python),
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_up(port, process, seconds=3600)
    return process


def geo_service(env: dict) -> tuple[subprocess.Popen, int]:
    """geo-service serve (coverage computed first if its store has none yet)."""
    port = free_port()
    print(f"starting geo_service ({env.get('GEO_SERVICE_STORE', 'file:')}) ...", file=sys.stderr)
    log = (BUILD / f"bench-serve-{port}.log").open("w")  # start-up lines, for the curious
    process = subprocess.Popen(
        [sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port), "--no-access-log"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_until_up(port, process, seconds=3600)
    return process, port


def tipg(database_url: str, schema: str) -> tuple[subprocess.Popen, int]:
    python = venv_python("bench-tipg", ["tipg==1.6.1", "uvicorn"])
    port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "TIPG_DB_SCHEMAS": json.dumps([schema]),
        "TIPG_DB_TABLES": json.dumps([f"{schema}.compounds"]),
    }
    return uvicorn(python, "tipg.main:app", env, port), port


def pygeoapi(folder: Path) -> tuple[subprocess.Popen, int]:
    python = venv_python("bench-pygeoapi", ["pygeoapi", "uvicorn", "starlette"])
    port = free_port()
    config = folder / "pygeoapi.yml"
    config.write_text(PYGEOAPI_CONFIG.format(port=port, data=DEMO_DATA), encoding="utf-8")
    openapi = folder / "openapi.yml"
    env = {"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    with openapi.open("w") as out:
        subprocess.run(
            [str(python.parent / "pygeoapi"), "openapi", "generate", str(config)],
            stdout=out,
            check=True,
            env={**os.environ, **env},
        )
    return uvicorn(python, "pygeoapi.starlette_app:APP", env, port), port


def city_folder(scale: float) -> Path:
    """The synthetic city at ``scale`` (generated on first use)."""
    folder = BUILD / f"bench-city-{scale:g}"
    if not (folder / "data" / "geojson" / "compounds.geojson").is_file():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "geo_service.cli",
                "demo",
                "city",
                str(folder),
                "--scale",
                str(scale),
            ],
            check=True,
            cwd=ROOT,
        )
    return folder


def city_bbox(folder: Path) -> str:
    """A ~3 km box around the city's median compound."""
    compounds = gpd.read_file(folder / "data" / "geojson" / "compounds.geojson")
    points = compounds.geometry.representative_point()
    x, y = float(np.median(points.x)), float(np.median(points.y))
    return f"{x - 0.015:.4f},{y - 0.0135:.4f},{x + 0.015:.4f},{y + 0.0135:.4f}"


def load_city(district: dict, store: str) -> None:
    """The city's coverage computed into its folder and every layer loaded into ``store``."""
    for command in (["coverage"], ["db", "load", "--store", store]):
        subprocess.run(
            [sys.executable, "-m", "geo_service.cli", *command],
            check=True,
            cwd=ROOT,
            env={**os.environ, **district},
            stdout=sys.stderr,
        )


def postgis() -> tuple[str, Path]:
    folder = Path(tempfile.mkdtemp(prefix="bench-pg-", dir=BUILD))
    url = subprocess.run(
        [str(ROOT / "scripts" / "throwaway-postgis"), "start", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return url, folder


def run(servers: dict, plan: dict, seconds: float, connections: int, repeat: int) -> dict:
    """Each server and query ``repeat`` times, round robin (so a slow spell of the machine
    does not fall on one server); per server and query the run with the median rate."""
    runs: dict = {name: {label: [] for label in paths} for name, paths in plan.items()}
    for round_ in range(1, repeat + 1):
        for name, label_paths in plan.items():
            port = servers[name][1]
            for label, path in label_paths.items():
                print(f"[{round_}/{repeat}] {name}: {label} for {seconds:.0f} s", file=sys.stderr)
                runs[name][label].append(drive(port, {label: path}, seconds, connections)[label])
    return {
        name: {
            label: {
                **sorted(samples, key=lambda r: r["requests_per_s"])[len(samples) // 2],
                "requests_per_s_runs": [r["requests_per_s"] for r in samples],
            }
            for label, samples in labels.items()
        }
        for name, labels in runs.items()
    }


def ratio(results: dict, a: str, b: str) -> dict:
    return {
        label: round(results[a][label]["requests_per_s"] / results[b][label]["requests_per_s"], 1)
        for label in results[a]
        if label in results[b] and results[b][label]["requests_per_s"]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="runs per server and query")
    parser.add_argument("--scale", type=float, default=1.0, help="city scale (1: ~20k compounds)")
    parser.add_argument("--no-demo", action="store_true", help="skip the pygeoapi comparison")
    args = parser.parse_args()
    BUILD.mkdir(exist_ok=True)
    city = city_folder(args.scale)
    bbox = city_bbox(city)
    url, pg_folder = postgis()
    store = f"{url}?schema=city"
    servers: dict = {}
    try:
        district = {"GEO_SERVICE_DISTRICT_DIR": str(city)}
        load_city(district, store)
        # coverage of the city is computed once into its folder (cache/derived) and loaded
        # into PostGIS along with the layers (db load), so neither server computes it again
        servers["file store"] = geo_service(district)
        servers["PostGIS store"] = geo_service({**district, "GEO_SERVICE_STORE": store})
        servers["TiPg"] = tipg(url, "city")
        ours = queries("compounds", bbox)
        plan = {"file store": ours, "PostGIS store": ours, "TiPg": queries("city.compounds", bbox)}
        if not args.no_demo:
            with tempfile.TemporaryDirectory() as folder:
                servers["demo: geo_service"] = geo_service({})
                servers["demo: pygeoapi"] = pygeoapi(Path(folder))
                demo = queries("compounds", DEMO_BBOX)
                plan |= {"demo: geo_service": demo, "demo: pygeoapi": demo}
                results = run(servers, plan, args.seconds, args.connections, args.repeat)
        else:
            results = run(servers, plan, args.seconds, args.connections, args.repeat)
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)
        subprocess.run([str(ROOT / "scripts" / "throwaway-postgis"), "stop", str(pg_folder)])
    ratios = {
        "PostGIS store / TiPg": ratio(results, "PostGIS store", "TiPg"),
        "file store / PostGIS store": ratio(results, "file store", "PostGIS store"),
    }
    if not args.no_demo:
        ratios["demo: geo_service / pygeoapi"] = ratio(
            results, "demo: geo_service", "demo: pygeoapi"
        )
    print(
        json.dumps(
            {
                "city": {"scale": args.scale, "folder": str(city), "bbox": bbox},
                "connections": args.connections,
                "seconds": args.seconds,
                "results": results,
                "throughput_ratio": ratios,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
