"""How heavy the map pages are and how fast they are ready, in Debian's Chromium.

    python bench/pages.py [--runs 3] [--city SCALE]

Starts `geo-service serve` on 127.0.0.1, opens each page in headless Chromium (every
request to another host is blocked) and prints, per page and screen size: the HTML size,
the bytes fetched until idle (as sent, gzip where the server compresses), the number of
requests, the time from navigation until every layer shown has drawn its features
("drawn"), and until the network has then been quiet for 0.5 s ("idle", Playwright's
networkidle). The reference is the same planner map with every
layer inlined (`geo-service maps build`, opened from disk) — what a page without lazy
loading weighs.

With ``--city SCALE``: the planner map of the synthetic city (bench/serve.py's, ~20,000
compounds at scale 1), whose layers of more than ``tiles_above`` features come as vector
tiles, beside the reference: the same page with every layer loaded whole (its map
definition without ``tiles_above``), from a second server.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from loadgen import free_port, wait_for_health
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.browser import DESKTOP, PHONE, chromium_path  # noqa: E402

PLANNER_READY = """() => window.GeoService && GeoService.layers.length > 0 &&
    GeoService.layers.every(l => !l._map || l.gsFeatureCount > 0 || l.gsZoomIn || l.gsError)"""
LOCATOR_READY = """() => { let n = 0; if (!window.GeoService || !GeoService.locator) return false;
    GeoService.locator.map.eachLayer(l => { if (l instanceof L.GeoJSON) n++; });
    return n >= 4; }"""


def measure(browser, url: str, ready: str, viewport: dict) -> dict:
    """Open ``url`` once in a fresh context; sizes, requests and time to idle."""
    context = browser.new_context(viewport=viewport)
    sizes: list[int] = []
    blocked: list[str] = []

    def route(request_route) -> None:
        host = request_route.request.url.split("/")[2] if "://" in request_route.request.url else ""
        if request_route.request.url.startswith("file:") or host.startswith("127.0.0.1"):
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("requestfinished", lambda r: sizes.append(r.sizes()["responseBodySize"]))
    started = time.perf_counter()
    response = page.goto(url, timeout=300_000)  # the city at low zoom: slow tiles
    page.wait_for_function(ready, timeout=300_000, polling=50)
    ready_s = time.perf_counter() - started
    page.wait_for_load_state("networkidle")
    idle_s = time.perf_counter() - started
    html = response.body()
    context.close()
    return {
        "html_bytes": len(html),
        "html_gzip_bytes": len(gzip.compress(html)),
        "fetched_bytes": sum(sizes),
        "requests": len(sizes),
        "ready_s": ready_s,
        "idle_s": idle_s,
        "blocked": len(blocked),
    }


def report(name: str, runs: list[dict]) -> None:
    first = runs[0]
    idle = [r["idle_s"] for r in runs]
    ready = [r["ready_s"] for r in runs]
    print(
        f"{name:34s} html {first['html_bytes'] / 1024:8.1f} KiB "
        f"(gzip {first['html_gzip_bytes'] / 1024:6.1f}) | fetched "
        f"{first['fetched_bytes'] / 1024:7.1f} KiB in {first['requests']:3d} requests | "
        f"drawn {statistics.median(ready):5.2f} s, idle {statistics.median(idle):5.2f} s "
        f"(median; idle min {min(idle):.2f}, max {max(idle):.2f})"
        f" | blocked {first['blocked']}",
        flush=True,
    )


def serve(env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port), "--no-access-log"],
        cwd=ROOT,
        env={**os.environ, "GEO_SERVICE_RATE_LIMIT_PER_MINUTE": "100000", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_health(port, server, seconds=600)
    return server, port


def city(scale: float, runs: int) -> None:
    """The city's planner with tiles, and with every layer loaded whole."""
    from serve import city_folder

    folder = city_folder(scale)
    district = {"GEO_SERVICE_DISTRICT_DIR": str(folder)}
    subprocess.run(  # the coverage layers, computed once into the city's folder
        [sys.executable, "-m", "geo_service.cli", "coverage"],
        cwd=ROOT,
        env={**os.environ, **district},
        check=True,
        stdout=sys.stderr,
    )
    with tempfile.TemporaryDirectory() as maps:
        definition = yaml.safe_load((folder / "maps" / "planner.yaml").read_text("utf-8"))
        tiles_above = definition.pop("tiles_above", None)
        Path(maps, "planner.yaml").write_text(yaml.safe_dump(definition, allow_unicode=True))
        servers = [serve(district), serve({**district, "GEO_SERVICE_MAPS_DIR": maps})]
        try:
            tiled, whole = (f"http://127.0.0.1:{port}/maps/planner" for _, port in servers)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"]
                )
                for name, url in [
                    (f"city planner, tiles above {tiles_above}", tiled),
                    ("reference: city planner, layers whole", whole),
                ]:
                    measure(browser, url, PLANNER_READY, DESKTOP)  # warm the server's caches
                    report(
                        name, [measure(browser, url, PLANNER_READY, DESKTOP) for _ in range(runs)]
                    )
                browser.close()
        finally:
            for server, _ in servers:
                server.terminate()
                server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="Page loads per row.")
    parser.add_argument("--city", type=float, default=None, help="The synthetic city at SCALE.")
    args = parser.parse_args()
    if args.city is not None:
        city(args.city, args.runs)
        return
    port = free_port()
    env = {**os.environ, "GEO_SERVICE_RATE_LIMIT_PER_MINUTE": "100000"}
    print(f"starting geo-service on 127.0.0.1:{port}", flush=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port), "--no-access-log"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with tempfile.TemporaryDirectory() as build:
        try:
            wait_for_health(port, server, seconds=600)
            print("building the standalone reference (every layer inlined)", flush=True)
            subprocess.run(
                [sys.executable, "-m", "geo_service.cli", "maps", "build", "--out", build],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            base = f"http://127.0.0.1:{port}"
            pages = [
                ("planner, desktop", f"{base}/maps/planner", PLANNER_READY, DESKTOP),
                ("planner, phone", f"{base}/maps/planner", PLANNER_READY, PHONE),
                ("locator, phone", f"{base}/locator", LOCATOR_READY, PHONE),
                (
                    "reference: planner inlined, desktop",
                    Path(build, "planner.html").as_uri(),
                    PLANNER_READY,
                    DESKTOP,
                ),
            ]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"]
                )
                for name, url, ready, viewport in pages:
                    measure(browser, url, ready, viewport)  # warm the server's caches
                    report(name, [measure(browser, url, ready, viewport) for _ in range(args.runs)])
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
