"""Load test: the running service with 2 uvicorn workers under a mix of requests.

    python bench/load.py [--seconds 20] [--connections 16]

Starts ``geo-service serve --workers 2`` on a free port of 127.0.0.1 (never another
host), sends landing, items, bbox, service-circle, summary and download requests in
turn over keep-alive connections for a bounded time, and prints throughput, p50 / p99
per route and the error count as JSON. The per-client rate limit is raised for the run
(it would otherwise answer most downloads with 429, by design).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from loadgen import drive, free_port, wait_until_up

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
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
            print(f"driving 2 workers for {args.seconds:.0f} s ...", file=sys.stderr)
            routes = drive(port, MIX, args.seconds, args.connections)
        finally:
            process.terminate()
            process.wait(timeout=20)
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
