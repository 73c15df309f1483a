"""How the coverage run grows with the district: time and peak memory at 1x, 10x, 100x.

    python bench/scale.py [--scales 1 10 100] [--streets-only]

Each scale runs in a process of its own, so that its peak memory is its own (the
process's high-water mark, ``ru_maxrss``): the demo district copied on a square grid 40 km
apart, each copy joined to the next by a road (bench/coverage.py's ``replicate``), then the
whole coverage run the service makes (``run_coverage``: the walking graph, every
compound's walk to every facility set, the statistics, the reached streets and the
dissolved service circles; with ``--streets-only``, as above the service's
``circle_polygons_max_segments``, the circles are drawn by the reached streets alone).
The reached streets are drawn one facility set at a time as a store takes them: each
set's lines are encoded as WKB, counted and dropped.

Prints JSON: per scale the network's size, seconds per stage, the resident memory before
the run (Python, the libraries and the copied layers) and at its peak; then how each grew
from one scale to the next (10.0 is linear for 10x the data).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    """Resident memory of this process now (MB), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def one_scale(copies: int, streets_only: bool = False) -> dict:
    """The coverage run on ``copies`` copies of the demo, in this process (``streets_only``:
    no dissolved circle polygons)."""
    import shapely
    from coverage import CONFIG, CONFIG_CRS, load_demo, replicate

    from geo_service.analysis.run import run_coverage
    from geo_service.coverage_params import CoverageParams

    layers = load_demo()
    if copies > 1:
        layers = replicate(layers, copies, columns=math.ceil(math.sqrt(copies)))
    before_mb = _rss_mb()
    started = time.perf_counter()
    params = CoverageParams(circle_polygons_max_segments=0 if streets_only else None)
    result = run_coverage(layers, params, CONFIG, metric_crs=CONFIG_CRS)
    drawn = time.perf_counter()
    # The reached streets are drawn as a store takes them, one facility set at a time; here
    # each set's lines are encoded (as a store copies them) and dropped.
    street_rows = street_bytes = 0
    for chunk in result.layers["reached_streets"]:
        street_rows += len(chunk)
        street_bytes += int(sum(map(len, shapely.to_wkb(chunk.geometry.to_numpy()))))
        del chunk
    stages = result.timings_s | {"streets": round(time.perf_counter() - drawn, 4)}
    seconds = time.perf_counter() - started
    network = result.summary["network"]
    return {
        "copies": copies,
        "circles": "streets only" if streets_only else "streets and polygons",
        "nodes": network["nodes"],
        "segments": network["segments"],
        "compounds": len(layers["compounds"]),
        "centres": len(layers["service_centres"]),
        "seconds": round(seconds, 2),
        "stages_s": stages,
        "street_rows": street_rows,
        "street_wkb_mb": round(street_bytes / 1e6),
        "rss_before_mb": round(before_mb),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument(
        "--streets-only", action="store_true", help="draw the circles as reached streets only"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child process's scale
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one_scale(args.one, args.streets_only)))
        return
    runs = []
    for copies in args.scales:
        print(f"{copies}x the demo district ...", file=sys.stderr, flush=True)
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                str(copies),
                *(["--streets-only"] if args.streets_only else []),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}"},
        )
        if child.returncode:
            sys.exit(f"{copies}x failed:\n{child.stderr[-3000:]}")
        runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    growth = [
        {
            "from": f"{small['copies']}x",
            "to": f"{big['copies']}x",
            "data": round(big["segments"] / small["segments"], 1),
            "seconds": round(big["seconds"] / small["seconds"], 1),
            "stages": {
                stage: round(big["stages_s"][stage] / max(small["stages_s"][stage], 1e-9), 1)
                for stage in big["stages_s"]
            },
            "peak_rss_above_baseline": round(
                (big["peak_rss_mb"] - big["rss_before_mb"])
                / max(small["peak_rss_mb"] - small["rss_before_mb"], 1),
                1,
            ),
        }
        for small, big in itertools.pairwise(runs)
    ]
    machine = f"{os.cpu_count()} cores, Python {platform.python_version()}"
    print(json.dumps({"machine": machine, "runs": runs, "growth": growth}, indent=2))


if __name__ == "__main__":
    main()
