"""Benchmark planning: new sites (maximal and set covering) and capacity (E2SFCA) against
the field's references on the same problems, in one run.

    python bench/planning.py [--district DIR] [--city-scale S] [--spacing 200]
                             [--sites 10] [--minutes 10] [--repeat 3]

For the demo district (and a synthetic city of ``--city-scale`` when given, made with
``geo-service demo city`` into a temporary folder):

* MCLP (``--sites`` new sites, the ``--minutes`` circle) and LSCP: our HiGHS model on the
  sparse coverage matrix beside spopt's MCLP / LSCP given the same matrix (dense, as it
  takes it) and solved by the same HiGHS through PuLP; seconds (median of ``--repeat``;
  spopt once) and objectives; and the greedy answer's.
* E2SFCA: ours (walks included) beside PySAL ``access`` on the same walks, largest
  difference of the scores.
* What-if of the chosen sites: the fast path beside the full recompute (the reference).

Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np

from geo_service.analysis.capacity import Decay, centre_capacity_access
from geo_service.analysis.facility_sets import facility_set, life_circle_requirements
from geo_service.analysis.scenario import scenario_coverage
from geo_service.analysis.siting import (
    greedy_maximal_covering,
    greedy_set_covering,
    maximal_covering,
    set_covering,
)
from geo_service.analysis.siting_inputs import candidate_nodes, siting_inputs
from geo_service.analysis.whatif import life_circle_facilities, what_if
from geo_service.api.app import create_app
from geo_service.crs import to_metric
from geo_service.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.planning_reference import (  # noqa: E402
    access_e2sfca,
    spopt_maximal_covering,
    spopt_set_covering,
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _timed(run, repeat: int):
    answer, times = None, []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = run()
        times.append(time.perf_counter() - started)
    return answer, round(statistics.median(times), 3)


def _spopt(problem, k: int | None) -> tuple[float, float]:
    """spopt's answer (covered residents for MCLP, sites for LSCP) and its seconds, on the
    same coverage matrix."""
    started = time.perf_counter()
    if k is None:
        must = ~problem.covered_today & (np.asarray(problem.reach.sum(axis=0)).ravel() > 0)
        sites = spopt_set_covering(problem.reach[:, must], problem.criterion_m)
        return float(sites), time.perf_counter() - started
    opened = spopt_maximal_covering(problem.reach, problem.to_cover, problem.criterion_m, k)
    seconds = time.perf_counter() - started
    covered = np.asarray(problem.reach[opened].sum(axis=0)).ravel() > 0
    return float(problem.to_cover[covered].sum()), seconds


def bench_district(folder: Path, args) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench-planning-"))
    log(f"{folder}: loading (the walking graph and today's walks)")
    app = create_app(
        Settings(district_dir=folder, derived_dir=work / "derived", state_dir=work / "s")
    )
    context, store = app.state.coverage, app.state.store
    baseline, params = context.whatif, context.params
    crs = context.graph.crs
    district = to_metric(store.query("district"), crs).union_all()
    candidates = candidate_nodes(context.graph, args.spacing, district)
    criterion = params.circle_m(args.minutes)
    log(f"  {len(candidates)} candidates every {args.spacing:g} m; coverage matrix")
    problem, inputs_s = _timed(
        lambda: siting_inputs(baseline, baseline.centres, candidates, criterion), 1
    )
    rows: dict = {}
    k = args.sites
    log(f"  MCLP k={k}")
    ours, ours_s = _timed(lambda: maximal_covering(problem.reach, problem.to_cover, k), args.repeat)
    greedy, greedy_s = _timed(
        lambda: greedy_maximal_covering(problem.reach, problem.to_cover, k), args.repeat
    )
    spopt_objective, spopt_s = _spopt(problem, k)
    rows["mclp"] = {
        "ours_s": ours_s,
        "status": ours.status,
        "objective_residents": ours.covered,
        "spopt_s": round(spopt_s, 3),
        "spopt_objective": spopt_objective,
        "same_objective": bool(np.isclose(ours.covered, spopt_objective)),
        "speed_up": round(spopt_s / max(ours_s, 1e-6), 1),
        "greedy_s": greedy_s,
        "greedy_objective": greedy.covered,
    }
    log("  LSCP")
    must = ~problem.covered_today
    lscp, lscp_s = _timed(lambda: set_covering(problem.reach, must), args.repeat)
    greedy_cover, greedy_cover_s = _timed(lambda: greedy_set_covering(problem.reach, must), 1)
    spopt_sites, spopt_lscp_s = _spopt(problem, None)
    rows["lscp"] = {
        "ours_s": lscp_s,
        "status": lscp.status,
        "sites": len(lscp.chosen),
        "spopt_s": round(spopt_lscp_s, 3),
        "spopt_sites": int(spopt_sites),
        "same_objective": len(lscp.chosen) == int(spopt_sites),
        "speed_up": round(spopt_lscp_s / max(lscp_s, 1e-6), 1),
        "greedy_s": greedy_cover_s,
        "greedy_sites": len(greedy_cover.chosen),
        "greedy_extra_share": round(len(greedy_cover.chosen) / max(len(lscp.chosen), 1) - 1, 3),
    }
    log("  E2SFCA")
    centres = store.query(context.profile.analysis.centre_layer)
    if "capacity" in centres.columns:
        capacity = centres.set_index("id")["capacity"].astype(float)
        decay = Decay.steps(tuple(c.distance_m for c in params.circles))
        (ids, walks, result), e2sfca_s = _timed(
            lambda: centre_capacity_access(baseline, capacity, decay), args.repeat
        )
        started = time.perf_counter()
        theirs = access_e2sfca(
            ids, walks, baseline.units.ids, baseline.units.population, capacity, decay,
            decay.catchment_m,
        )  # fmt: skip
        access_s = time.perf_counter() - started
        rows["e2sfca"] = {
            "ours_s_with_walks": e2sfca_s,
            "pairs": int(walks.nnz),
            "access_s": round(access_s, 3),
            "speed_up": round(access_s / max(e2sfca_s, 1e-6), 1),
            "max_abs_difference": float(np.abs(result.score - theirs).max()),
        }
    log("  what-if of the chosen sites")
    config = context.profile.analysis
    added = gpd.GeoDataFrame(
        {
            "id": [f"site-{i + 1}" for i in range(len(ours.chosen))],
            "level": config.levels[-1].key if config.levels else None,
            "services": ";".join(config.service_keys),
        },
        geometry=gpd.points_from_xy(*candidates[ours.chosen].T),
        crs=crs,
    )
    headline = next(s for s in config.facility_sets if s.key == config.headline_set)
    demand = to_metric(store.query(config.demand_layer), crs)
    gates = to_metric(store.query(config.gates_layer), crs) if config.gates_layer else None
    layers = {r.facilities.layer for r in life_circle_requirements(config)}
    types = life_circle_facilities(
        {name: to_metric(store.query(name), crs) for name in layers}, config, crs
    )
    fast, fast_s = _timed(lambda: what_if(baseline, added, []), args.repeat)
    reference, reference_s = _timed(
        lambda: scenario_coverage(
            context.graph,
            demand,
            gates,
            to_metric(facility_set(headline).select(store.query(headline.layer)), crs),
            added,
            [],
            params,
            gate_key=config.gate_key,
            population=config.population,
            area_keys=tuple(a.key for a in config.areas),
            types=types,
        ),
        1,
    )
    rows["what_if"] = {
        "fast_s": fast_s,
        "full_recompute_s": reference_s,
        "speed_up": round(reference_s / max(fast_s, 1e-6), 1),
        "same_answer": fast == reference,
    }
    return {
        "district": context.profile.name.pick("en"),
        "graph_nodes": context.graph.n_nodes,
        "demand_features": len(baseline.units.ids),
        "candidates": len(candidates),
        "criterion_m": criterion,
        "coverage_matrix_s": inputs_s,
        "coverage_pairs": int(problem.reach.nnz),
        **rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--district", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--city-scale", type=float, default=None)
    parser.add_argument("--spacing", type=float, default=200.0)
    parser.add_argument("--sites", type=int, default=10)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = [bench_district(args.district, args)]
    if args.city_scale:
        city = Path(tempfile.mkdtemp(prefix="bench-city-")) / "city"
        log(f"generating a city at scale {args.city_scale} into {city}")
        subprocess.run(
            [sys.executable, "-m", "geo_service.cli", "demo", "city", "--scale",
             str(args.city_scale), str(city)],
            check=True,
            stdout=sys.stderr,  # its progress is not part of the JSON on stdout
        )  # fmt: skip
        results.append(bench_district(city, args))
    print(
        json.dumps(
            {
                "python": platform.python_version(),
                "sites": args.sites,
                "minutes": args.minutes,
                "spacing_m": args.spacing,
                "districts": results,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
