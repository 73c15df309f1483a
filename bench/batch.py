"""The coverage run in one process against ``coverage --batch`` on a local Dask cluster.

    python bench/batch.py [--district FOLDER | --scale 0.05] [--workers 2]

The province is a district folder (``geo-service demo city --scale S FOLDER`` makes one)
or a synthetic city generated here at ``--scale`` (0.05: two districts). Each mode runs in
a process of its own, so that its peak memory is its own: ``single`` is
``run_coverage`` (the service's run, graph built from the roads), ``batch`` is
``run_batch`` on a ``LocalCluster`` of ``--workers`` single-threaded processes, started
before the clock starts. Both start from the layers in memory (reading the GeoJSON is
not timed).

Prints JSON: per mode the seconds, the peak resident memory of the process (and, for the
batch, of each worker), the batch's parts and walks, and whether both made the same
figures (a digest of every derived layer and of the summary).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _layers(folder: Path | None, scale: float):
    import pyogrio

    if folder is None:
        from geo_service.demo.city import generate_city

        return generate_city(scale, seed=1)
    return {p.stem: pyogrio.read_dataframe(p) for p in (folder / "data/geojson").glob("*.geojson")}


def _digest(result) -> str:
    """One digest of every derived layer (values and WKB) and of the summary."""
    import pandas as pd

    from geo_service.data.layer_rows import whole_frame

    digest = hashlib.sha256(json.dumps(result.summary, sort_keys=True).encode())
    for name, rows in result.layers.items():
        frame = whole_frame(rows)
        digest.update(name.encode())
        values = pd.DataFrame(frame.drop(columns="geometry"))
        digest.update(pd.util.hash_pandas_object(values, index=True).to_numpy().tobytes())
        digest.update(b"".join(frame.geometry.to_wkb()))
    return digest.hexdigest()[:16]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(mode: str, folder: Path | None, scale: float, workers: int) -> dict:
    from geo_service.analysis.run import run_coverage
    from geo_service.data.derived import coverage_params, district_profile
    from geo_service.settings import Settings

    settings = Settings(district_dir=folder) if folder else Settings()
    config, params = district_profile(settings).analysis, coverage_params(settings)
    crs = district_profile(settings).metric_crs
    layers = _layers(folder, scale)
    record = {"mode": mode, "compounds": len(layers["compounds"]), "roads": len(layers["roads"])}
    if mode == "single":
        started = time.perf_counter()
        result = run_coverage(layers, params, config, metric_crs=crs)
        record["seconds"] = round(time.perf_counter() - started, 2)
    else:
        from geo_service.pipeline.batch import dask_client, run_batch

        with dask_client(workers=workers) as client, tempfile.TemporaryDirectory() as work:
            started = time.perf_counter()
            result = run_batch(
                layers, params, config, metric_crs=crs, client=client, folder=Path(work)
            )
            record["seconds"] = round(time.perf_counter() - started, 2)
            peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            record["worker_peak_mb"] = sorted(round(v) for v in peaks.values())
        record |= {k: result.engine[k] for k in ("parts", "walks", "walked_again")}
        record["widest_margin_m"] = round(result.engine["widest_margin_m"])
    record["peak_mb"] = round(_peak_mb())
    record["network"] = result.summary["network"]
    record["digest"] = _digest(result)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--district", type=Path, help="a district folder (default: generate)")
    parser.add_argument("--scale", type=float, default=0.05, help="city scale if generated")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--one", choices=("single", "batch"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.district, args.scale, args.workers)))
        return
    runs = []
    for mode in ("single", "batch"):
        command = [sys.executable, __file__, "--one", mode, "--workers", str(args.workers)]
        command += ["--district", str(args.district)] if args.district else []
        command += ["--scale", str(args.scale)]
        out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(
        json.dumps(
            {
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "runs": runs,
                "same_figures": len({r["digest"] for r in runs}) == 1,
                "batch_over_single": round(runs[1]["seconds"] / runs[0]["seconds"], 2),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
