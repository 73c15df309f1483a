"""Serve the compounds layer from geo_service and from pygeoapi; compare throughput.

    python bench/serve.py [--seconds 5] [--connections 8]

Both run under uvicorn, one worker, no access log, on 127.0.0.1 only, with the same
GeoJSON file (pygeoapi's GeoJSON provider). pygeoapi is installed in its own virtual
environment (build/bench-pygeoapi, created on first run). The load comes from keep-alive
connections in this process, each sending the next request when the last one is answered.
Prints requests per second, p50 and p99 latency and errors per query and server as JSON.
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
VENV = ROOT / "build" / "bench-pygeoapi"
DATA = ROOT / "data" / "geojson" / "compounds.geojson"
QUERIES = {
    "items?limit=10": "/collections/compounds/items?limit=10",
    "items?limit=1000": "/collections/compounds/items?limit=1000",
    "bbox": "/collections/compounds/items?bbox=120.25,31.54,120.28,31.57&limit=100",
}

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


def ensure_pygeoapi() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        print("installing pygeoapi into build/bench-pygeoapi ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "pygeoapi", "uvicorn", "starlette"],
            check=True,
        )
    return python


def start_pygeoapi(folder: Path) -> tuple[subprocess.Popen, int]:
    python = ensure_pygeoapi()
    port = free_port()
    config = folder / "pygeoapi.yml"
    config.write_text(PYGEOAPI_CONFIG.format(port=port, data=DATA), encoding="utf-8")
    openapi = folder / "openapi.yml"
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    with openapi.open("w") as out:
        subprocess.run(
            [str(VENV / "bin" / "pygeoapi"), "openapi", "generate", str(config)],
            stdout=out,
            check=True,
            env=env,
        )
    process = subprocess.Popen(
        [
            str(python),
            "-m",
            "uvicorn",
            "pygeoapi.starlette_app:APP",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_up(port, process)
    return process, port


def start_geo_service() -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port), "--no-access-log"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until_up(port, process)
    return process, port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    results: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        servers = {}
        try:
            servers["geo_service"] = start_geo_service()
            servers["pygeoapi"] = start_pygeoapi(Path(folder))
            for name, (_, port) in servers.items():
                results[name] = {}
                for label, path in QUERIES.items():
                    print(f"{name}: {label} for {args.seconds:.0f} s ...", file=sys.stderr)
                    results[name][label] = drive(
                        port, {label: path}, args.seconds, args.connections
                    )[label]
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(timeout=10)
    ratio = {
        label: round(
            results["geo_service"][label]["requests_per_s"]
            / results["pygeoapi"][label]["requests_per_s"],
            1,
        )
        for label in QUERIES
    }
    print(
        json.dumps(
            {
                "connections": args.connections,
                "seconds": args.seconds,
                "results": results,
                "throughput_ratio": ratio,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
