"""Load test: the running service with 2 uvicorn workers under a mix of requests.

    python bench/load.py [--seconds 20] [--connections 16]
    python bench/load.py --isolation [--seconds 20]

Starts ``geo-service serve --workers 2`` on a free port of 127.0.0.1 (never another
host). The default sends landing, items, bbox, service-circle, summary and download
requests in turn over keep-alive connections for a bounded time, and prints throughput,
p50 / p99 per route and the error count as JSON.

``--isolation`` asks whether slow requests stall the others: it measures items and bbox
pages on 2 connections alone (idle), then again while 4 more connections send what-if
scenarios (10 sites each), service circles of every centre in turn and greedy siting,
and prints both with the ratio of the loaded p99 to the idle one (the target: within
2x). The per-client rate limit is raised for the run (it would otherwise answer most
downloads and scenarios with 429, by design).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import shapely
from loadgen import drive, drive_beside, free_port, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
MIX = {
    "landing": "/?f=json",
    "collections": "/collections",
    "items": "/collections/compounds/items?limit=100",
    "bbox": "/collections/compounds/items?bbox=120.25,31.54,120.28,31.57",
    "feature": "/collections/service_centres/items/C-HL01",
    "service circles": "/coverage/circles/service_centres/C-LY03",
    "coverage summary": "/coverage/summary",
    "download csv": "/downloads/service_centres.csv",
    "download gpkg": "/downloads/pocket_parks.gpkg",
}


MEASURED = {
    "items": "/collections/compounds/items?limit=100",
    "bbox": "/collections/compounds/items?bbox=120.25,31.54,120.28,31.57",
}


def heavy_mix(rng: np.random.Generator) -> dict:
    """What-if scenarios of 10 random sites in the district, every centre's service
    circles, and greedy siting: the CPU-bound requests."""
    district = json.loads((ROOT / "data/geojson/district.geojson").read_text("utf-8"))
    west, south, east, north = shapely.geometry.shape(district["features"][0]["geometry"]).bounds
    centres = json.loads((ROOT / "data/geojson/service_centres.geojson").read_text("utf-8"))
    mix: dict = {}
    for k, feature in enumerate(centres["features"][:20]):
        points = [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {
                    "type": "Point",
                    "coordinates": [rng.uniform(west, east), rng.uniform(south, north)],
                },
            }
            for _ in range(10)
        ]
        body = {"add": {"type": "FeatureCollection", "features": points}}
        mix[f"what-if {k}"] = ("POST", "/coverage/scenario", json.dumps(body).encode())
        mix[f"circles {k}"] = f"/coverage/circles/service_centres/{feature['properties']['id']}"
        if k % 5 == 0:
            siting = {"method": "mclp", "sites": 3 + k // 5, "greedy": True}
            mix[f"siting {k}"] = ("POST", "/planning/sites", json.dumps(siting).encode())
    return mix


def _grouped(figures: dict) -> dict:
    """Per-request figures summed into what-if, circles and siting."""
    kinds: dict = {}
    for label, row in figures.items():
        kind = kinds.setdefault(label.split()[0], {"requests": 0, "errors": 0, "p50_ms": []})
        kind["requests"] += row["requests"]
        kind["errors"] += row["errors"]
        if row["p50_ms"] is not None:
            kind["p50_ms"].append(row["p50_ms"])
    for kind in kinds.values():
        kind["p50_ms"] = round(float(np.median(kind["p50_ms"])), 1) if kind["p50_ms"] else None
    return kinds


@contextlib.contextmanager
def serving():
    """``geo-service serve --workers 2`` on the demo, on a free loopback port."""
    port = free_port()
    with tempfile.TemporaryDirectory() as state:
        env = {
            **os.environ,
            "GEO_SERVICE_STATE_DIR": state,
            "GEO_SERVICE_RATE_LIMIT_PER_MINUTE": "1000000",
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "geo_service.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                "2",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(port, process)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=20)


def isolation(port: int, seconds: float) -> dict:
    """Items and bbox p99 idle and beside the heavy requests."""
    print(f"items alone for {seconds:.0f} s ...", file=sys.stderr)
    idle = drive(port, MEASURED, seconds, 2)
    print(f"items beside scenarios, circles and siting for {seconds:.0f} s ...", file=sys.stderr)
    loaded = drive_beside(port, MEASURED, 2, heavy_mix(np.random.default_rng(7)), 4, seconds)
    return {
        "workers": 2,
        "seconds": seconds,
        "idle": idle,
        "loaded": loaded["measured"],
        "p99_loaded_over_idle": {
            label: round(loaded["measured"][label]["p99_ms"] / idle[label]["p99_ms"], 2)
            for label in MEASURED
        },
        "beside": _grouped(loaded["background"]),
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--isolation", action="store_true", help="items p99 idle, then beside slow requests"
    )
    args = parser.parse_args()
    with serving() as port:
        if args.isolation:
            print(json.dumps(isolation(port, args.seconds), indent=2, ensure_ascii=False))
            return
        print(f"driving 2 workers for {args.seconds:.0f} s ...", file=sys.stderr)
        routes = drive(port, MIX, args.seconds, args.connections)
    total = sum(r["requests"] for r in routes.values())
    print(
        json.dumps(
            {
                "workers": 2,
                "connections": args.connections,
                "seconds": args.seconds,
                "requests": total,
                "requests_per_s": round(total / args.seconds, 1),
                "errors": sum(r["errors"] for r in routes.values()),
                "routes": routes,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
