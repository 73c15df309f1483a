"""Vector tiles of the city's compounds from geo_service's file store, its PostGIS store and
TiPg (the reference: ST_AsMVT on the same PostGIS tables); compare.

    python bench/tiles.py [--zooms 11 13 15] [--tiles 24] [--seconds 5] [--connections 8]

On the synthetic city (`geo-service demo city`, ~20,000 compounds at scale 1; see
bench/serve.py, whose servers this reuses). For each zoom, up to ``--tiles`` distinct tiles
around the city's median compound, each asked for once, one at a time, from a server that
has not made them ("cold": the time to make a tile; geo_service keeps a tile once made),
then the same tiles in turn from ``--connections`` keep-alive connections for ``--seconds``
("warm": geo_service answers from its tile cache, TiPg makes each tile again). Every tile
carries the compound id and population. Prints, per zoom and server: features per tile,
tile size, cold p50 / p99 / max in ms, warm requests per second and p99, as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import geopandas as gpd
import httpx
import mapbox_vector_tile
import morecantile
import numpy as np
from loadgen import drive
from serve import BUILD, ROOT, city_folder, geo_service, load_city, postgis, tipg

GRID = morecantile.tms.get("WebMercatorQuad")


def tiles_around(folder, zoom: int, count: int) -> list[morecantile.Tile]:
    """Up to ``count`` tiles of ``zoom`` nearest the city's median compound, that hold one."""
    compounds = gpd.read_file(folder / "data" / "geojson" / "compounds.geojson")
    points = compounds.geometry.representative_point()
    lon, lat = float(np.median(points.x)), float(np.median(points.y))
    centre = GRID.tile(lon, lat, zoom)
    held = {
        (tile.x, tile.y)
        for tile in (GRID.tile(x, y, zoom) for x, y in zip(points.x, points.y, strict=True))
    }
    ranked = sorted(held, key=lambda xy: (xy[0] - centre.x) ** 2 + (xy[1] - centre.y) ** 2)
    return [morecantile.Tile(x, y, zoom) for x, y in ranked[:count]]


def ours(tile: morecantile.Tile) -> str:
    return (
        f"/collections/compounds/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}"
        "?properties=population"
    )


def theirs(tile: morecantile.Tile) -> str:  # TiPg: z/x/y
    return (
        f"/collections/city.compounds/tiles/WebMercatorQuad/{tile.z}/{tile.x}/{tile.y}"
        "?properties=id,population"
    )


def cold(port: int, paths: list[str], layer: str) -> dict:
    """Each path once, in turn: latency and what the tiles hold."""
    times, sizes, features = [], [], []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        for path in paths:
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            sizes.append(len(response.content))
            decoded = mapbox_vector_tile.decode(response.content) if response.content else {}
            features.append(len(next(iter(decoded.values()), {}).get("features", [])))
    ms = np.array(times)
    return {
        "tiles": len(paths),
        "features_per_tile_median": statistics.median(features),
        "features_per_tile_max": max(features),
        "kib_per_tile_median": round(statistics.median(sizes) / 1024, 1),
        "cold_p50_ms": round(float(np.percentile(ms, 50)), 1),
        "cold_p99_ms": round(float(np.percentile(ms, 99)), 1),
        "cold_max_ms": round(float(ms.max()), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zooms", type=int, nargs="+", default=[11, 13, 15])
    parser.add_argument("--tiles", type=int, default=24, help="distinct tiles per zoom")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--scale", type=float, default=1.0, help="city scale (1: ~20k compounds)")
    args = parser.parse_args()
    BUILD.mkdir(exist_ok=True)
    city = city_folder(args.scale)
    url, pg_folder = postgis()
    store = f"{url}?schema=city"
    servers: dict = {}
    try:
        district = {"GEO_SERVICE_DISTRICT_DIR": str(city)}
        load_city(district, store)
        env = {**district, "GEO_SERVICE_RATE_LIMIT_PER_MINUTE": "1000000"}
        servers["file store"] = geo_service(env)
        servers["PostGIS store"] = geo_service({**env, "GEO_SERVICE_STORE": store})
        servers["TiPg"] = tipg(url, "city")
        results: dict = {}
        for zoom in args.zooms:
            tiles = tiles_around(city, zoom, args.tiles)
            for name, (_, port) in servers.items():
                paths = [theirs(t) if name == "TiPg" else ours(t) for t in tiles]
                print(f"z{zoom} {name}: {len(paths)} tiles cold, then warm", file=sys.stderr)
                figures = cold(port, paths, "compounds")
                mix = {f"tile {i}": path for i, path in enumerate(paths)}
                warm = drive(port, mix, args.seconds, args.connections)
                rate = sum(v["requests_per_s"] for v in warm.values())
                figures["warm_requests_per_s"] = round(rate, 1)
                figures["warm_p99_ms_worst_tile"] = max(v["p99_ms"] for v in warm.values())
                figures["warm_errors"] = sum(v["errors"] for v in warm.values())
                results.setdefault(f"z{zoom}", {})[name] = figures
        print(json.dumps({"scale": args.scale, "results": results}, indent=2))
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)
        subprocess.run(
            [str(ROOT / "scripts" / "throwaway-postgis"), "stop", str(pg_folder)], check=False
        )


if __name__ == "__main__":
    main()
