"""Benchmark the what-if: the fast path (walks kept from start-up, the change merged in)
against the reference (every walk done again) on the same changes, in one run.

    python bench/whatif.py [--district DIR] [--repeat 20]

Changes: one site added in the largest gap compound, one centre closed (the one serving
the most residents), ten sites added, ten centres closed. Prints JSON: milliseconds per
answer (median), the speed-up, and whether both paths gave the same answer.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import geopandas as gpd

from geo_service.analysis.facility_sets import facility_set, life_circle_requirements
from geo_service.analysis.scenario import scenario_coverage
from geo_service.analysis.whatif import life_circle_facilities, what_if
from geo_service.api.app import create_app
from geo_service.crs import to_metric
from geo_service.settings import Settings


def _median_ms(run, repeat: int) -> float:
    run()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return round(1000 * statistics.median(times), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--district", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-whatif-"))
    app = create_app(
        Settings(district_dir=args.district, derived_dir=work / "derived", state_dir=work / "s")
    )
    context, store = app.state.coverage, app.state.store
    config, crs = context.profile.analysis, context.graph.crs
    headline = next(s for s in config.facility_sets if s.key == config.headline_set)
    centres = to_metric(facility_set(headline).select(store.query(headline.layer)), crs)
    demand = to_metric(store.query(config.demand_layer), crs)
    gates = to_metric(store.query(config.gates_layer), crs) if config.gates_layer else None
    layers = {r.facilities.layer for r in life_circle_requirements(config)}
    types = life_circle_facilities(
        {name: to_metric(store.query(name), crs) for name in layers}, config, crs
    )
    published = store.query("compound_coverage")
    busiest = published.groupby(f"{config.headline_set}_id")["population"].sum().idxmax()
    sites = demand.geometry.representative_point()
    changes = {
        "add one site": (sites.iloc[:1], []),
        "close one centre": (sites.iloc[:0], [busiest]),
        "add ten sites": (sites.iloc[:: max(1, len(sites) // 10)][:10], []),
        "close ten centres": (sites.iloc[:0], centres["id"].tolist()[:10]),
    }
    rows = {}
    for name, (points, removed) in changes.items():
        added = gpd.GeoDataFrame(
            {
                "id": [f"proposed-{k + 1}" for k in range(len(points))],
                "level": config.levels[-1].key if config.levels else None,
                "services": ";".join(config.service_keys),
            },
            geometry=points.to_numpy(),
            crs=crs,
        )

        def fast(added=added, removed=removed):
            return what_if(context.whatif, added, removed)

        def reference(added=added, removed=removed):
            return scenario_coverage(
                context.graph, demand, gates, centres, added, removed, context.params,
                gate_key=config.gate_key, population=config.population,
                area_keys=tuple(a.key for a in config.areas), types=types,
            )  # fmt: skip

        fast_ms, reference_ms = _median_ms(fast, args.repeat), _median_ms(reference, args.repeat)
        rows[name] = {
            "fast_ms": fast_ms,
            "reference_ms": reference_ms,
            "speed_up": round(reference_ms / fast_ms, 1),
            "same_answer": fast() == reference(),
        }
    print(
        json.dumps(
            {
                "district": context.profile.name.pick("en"),
                "graph_nodes": context.graph.n_nodes,
                "demand_features": len(demand),
                "centres": len(centres),
                "python": platform.python_version(),
                "changes": rows,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
