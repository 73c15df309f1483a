"""Time a feature edit and an upload through the API, on the file store and the PostGIS
store, against the floor of each store's write.

    python bench/edits.py [--rounds 20] [--postgis URL]

In process (``create_app`` + httpx's ASGI transport), on a copy of the demo district:

* ``PATCH`` of one compound's population (a merge patch: a new version of the layer, its
  471 features checked, the old version kept, an audit entry), median and p90 ms;
* an upload of ``compounds.geojson`` — the check (read, per-feature checks, comparison,
  plausibility on the walking network) and the commit, ms;
* the reference, the least such a write costs: the file store rewriting the layer's GeoJSON
  file once (``write_geojson``), PostGIS updating one row (``UPDATE … WHERE id = …``).

Without ``--postgis`` a throwaway cluster is started (scripts/throwaway-postgis). Prints
JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from geo_service.api.app import create_app  # noqa: E402
from geo_service.data.geojson_io import write_geojson  # noqa: E402
from geo_service.data.keys import KeyStore  # noqa: E402
from geo_service.settings import Settings  # noqa: E402
from tests.support import DATA_DIR, InProcessClient  # noqa: E402


def _ms(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
    }


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def bench_store(url: str, folder: Path, rounds: int) -> dict:
    settings = Settings(store=url, state_dir=folder / "state", derived_dir=folder / "derived")
    app = create_app(settings)
    api = InProcessClient(app)
    key = KeyStore(settings.state_dir / "keys.json").create("staff", "bench")[0]
    staff = {"X-API-Key": key}
    fid = api.get("/collections/compounds/items", params={"limit": 1}).json()["features"][0]
    url_item = f"/collections/compounds/items/{fid['id']}"

    def patch(k: int) -> None:
        answer = api.request(
            "PATCH",
            url_item,
            content=json.dumps({"properties": {"population": 100 + k}}),
            headers={**staff, "Content-Type": "application/merge-patch+json"},
        )
        assert answer.status_code == 200, answer.text

    edits = [_timed(lambda k=k: patch(k)) for k in range(rounds)]
    body = app.state.store.query("compounds").to_json().encode()
    checks, commits = [], []
    for _ in range(max(3, rounds // 5)):
        answer = None

        def check() -> None:
            nonlocal answer
            answer = api.post(
                "/collections/compounds/uploads",
                files={"file": ("compounds.geojson", body, "application/geo+json")},
                headers=staff,
            )
            assert answer.status_code == 201, answer.text

        checks.append(_timed(check))
        commit_url = f"/collections/compounds/uploads/{answer.json()['id']}/commit"
        tag = answer.headers["etag"]
        commits.append(
            _timed(lambda u=commit_url, t=tag: api.post(u, headers={**staff, "If-Match": t}))
        )
    app.state.refresh.close()
    return {
        "patch": _ms(edits),
        "upload_check": _ms(checks),
        "upload_commit": _ms(commits),
        "features": app.state.store.count("compounds"),
    }


def reference_file(folder: Path, rounds: int) -> dict:
    frame = __import__("geo_service.data.geojson_io", fromlist=["read_geojson"]).read_geojson(
        DATA_DIR / "compounds.geojson"
    )
    target = folder / "reference.geojson"
    return _ms(
        [
            _timed(lambda: write_geojson(frame, target, name="compounds", description=""))
            for _ in range(rounds)
        ]
    )


def reference_postgis(url: str, rounds: int) -> dict:
    import psycopg

    from geo_service.data.stores.postgis_schema import parse_url

    location = parse_url(url)
    with psycopg.connect(location.conninfo, autocommit=True) as conn:
        table = f'"{location.schema}".compounds'
        fid = conn.execute(f"SELECT id FROM {table} LIMIT 1").fetchone()[0]
        return _ms(
            [
                _timed(
                    lambda k=k: conn.execute(
                        f"UPDATE {table} SET population = %s WHERE id = %s", (200 + k, fid)
                    )
                )
                for k in range(rounds)
            ]
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--postgis", help="postgresql:// URL (default: a throwaway cluster)")
    args = parser.parse_args()
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-edits-") as tmp:
        folder = Path(tmp)
        shutil.copytree(DATA_DIR, folder / "data")
        results["file"] = bench_store(f"file:{folder / 'data'}", folder / "f", args.rounds)
        results["file"]["reference_rewrite"] = reference_file(folder, args.rounds)
        server = None
        url = args.postgis
        if url is None:
            server = folder / "pg"
            started = subprocess.run(
                [str(ROOT / "scripts" / "throwaway-postgis"), "start", str(server)],
                capture_output=True,
                text=True,
                check=True,
            )
            url = started.stdout.strip().splitlines()[-1]
        try:
            schema_url = f"{url}?schema=bench_edits"
            subprocess.run(
                [sys.executable, "-m", "geo_service.cli", "db", "load", "--store", schema_url],
                cwd=ROOT,
                check=True,
                capture_output=True,
                env={**__import__("os").environ, "GEO_SERVICE_DERIVED_DIR": str(folder / "d0")},
            )
            results["postgis"] = bench_store(schema_url, folder / "p", args.rounds)
            results["postgis"]["reference_update_one_row"] = reference_postgis(
                schema_url, args.rounds
            )
        finally:
            if server is not None:
                subprocess.run(
                    [str(ROOT / "scripts" / "throwaway-postgis"), "stop", str(server)], check=False
                )
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
