"""Load test of the public locator API (``GET /locator/nearest``) with 2 server workers.

    python bench/locator.py [--requests 2000] [--concurrency 8] [--seed 7]

Starts ``geo-service serve --workers 2`` on a free port of 127.0.0.1 (never another
host), waits for ``/healthz``, sends ``--warmup`` requests (not counted: each worker
prepares the locator on its first one), then ``--requests`` requests over
``--concurrency`` keep-alive connections, each sending its next request when its last one
is answered (for at most ``--max-seconds``), and stops the server. The origins are a
fixed, seeded set of points inside the district within 200 m of a road; in turn they ask
plainly, with ``service=``, with ``open_now=true`` and with both, for 1 to 10 centres
(``open_now`` at a fixed local time, ``at=``, so the answers do not depend on the clock).

For comparison it then computes the first ``--reference`` of those answers in this
process, one at a time, without HTTP:

* ``reference``: the straightforward per-request computation (as the API did it before
  it was optimised): re-project and union the district, re-read and re-project the
  centres, parse every centre's opening hours, snap every centre onto the network, one
  Dijkstra over the whole graph, CRS transforms through geopandas;
* ``current``: the API's computation now (:class:`LocatorIndex`, built once, as each
  server worker does; its build time is printed apart),

and counts the answers whose JSON is byte for byte the same. Prints p50 / p90 / p99 / max
latency (ms), throughput (requests/s) and status counts per row.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import geopandas as gpd
import numpy as np
import opening_hours
import shapely
from loadgen import _connection, free_port, wait_for_health
from scipy.sparse.csgraph import dijkstra

from geo_service.analysis.distances import AugmentedGraph, same_segment_pairs
from geo_service.analysis.locator import (
    NEXT_OPEN_LOOKED_AT,
    NEXT_OPEN_NAMED,
    OUTSIDE_M,
    LocatorIndex,
)
from geo_service.analysis.map_links import HERE, spot, walking_links
from geo_service.analysis.network import SNAP_OK, SNAP_PAST_ISOLATED, snap_points
from geo_service.analysis.opening import CLOSES_SOON
from geo_service.api.routers.locator import answer_bytes
from geo_service.crs import STORAGE_CRS, to_metric
from geo_service.data.vocabulary import SERVICE_VOCABULARY
from geo_service.errors import GeoServiceError, InvalidQuery
from geo_service.pipeline.service_data import load_data
from geo_service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
#: A Wednesday morning, local time: ``open_now`` is asked for this time.
AT = "2026-11-25T10:00"
NEAR_ROAD_M = 200.0


def log(message: str) -> None:
    print(f"[bench/locator] {message}", file=sys.stderr, flush=True)


# --- the queries ------------------------------------------------------------------------


def origin_points(store, metric_crs: str, count: int, seed: int) -> np.ndarray:
    """``count`` seeded (lon, lat) points inside the district within 200 m of a road."""
    district = store.query("district")
    area = district.union_all()
    roads = shapely.STRtree(to_metric(store.query("roads"), metric_crs).geometry.to_numpy())
    west, south, east, north = area.bounds
    rng = np.random.default_rng(seed)
    found: list[np.ndarray] = []
    while sum(map(len, found)) < count:
        xy = rng.uniform((west, south), (east, north), size=(2 * count, 2))
        xy = xy[shapely.contains_xy(area, xy[:, 0], xy[:, 1])]
        points = gpd.GeoSeries(shapely.points(xy), crs=district.crs).to_crs(metric_crs)
        near = roads.query(points.to_numpy(), predicate="dwithin", distance=NEAR_ROAD_M)[0]
        found.append(xy[np.unique(near)])
    return np.concatenate(found)[:count]


def make_queries(points: np.ndarray, seed: int) -> list[dict]:
    """One query per point: plain, service=, open_now=, both, in turn; n from 1 to 10."""
    rng = np.random.default_rng(seed + 1)
    queries = []
    for k, (lon, lat) in enumerate(points):
        query: dict = {"lon": round(float(lon), 6), "lat": round(float(lat), 6)}
        query["n"] = int(rng.integers(1, 11))
        if k % 4 in (1, 3):
            query["service"] = SERVICE_VOCABULARY[int(rng.integers(len(SERVICE_VOCABULARY)))]
        if k % 4 in (2, 3):
            query["open_now"] = "true"
            query["at"] = AT
        queries.append(query)
    return queries


# --- figures ----------------------------------------------------------------------------


def figures(ms: np.ndarray, elapsed_s: float, statuses: Counter) -> dict:
    return {
        "requests": len(ms),
        "p50": float(np.percentile(ms, 50)),
        "p90": float(np.percentile(ms, 90)),
        "p99": float(np.percentile(ms, 99)),
        "max": float(ms.max()),
        "per_s": len(ms) / elapsed_s,
        "statuses": dict(sorted(statuses.items())),
    }


def table(rows: dict[str, dict]) -> str:
    lines = [
        "",
        f"{'row':<10} {'requests':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'req/s':>8}  statuses",
    ]
    for name, r in rows.items():
        statuses = ", ".join(f"{code}: {count}" for code, count in r["statuses"].items())
        lines.append(
            f"{name:<10} {r['requests']:>8} {r['p50']:>8.2f} {r['p90']:>8.2f} {r['p99']:>8.2f} "
            f"{r['max']:>8.2f} {r['per_s']:>8.1f}  {statuses}"
        )
    return "\n".join(lines)


# --- the server under load --------------------------------------------------------------


async def _send(port: int, paths: list[str], args, seconds: float, label: str):
    """Send ``paths`` over ``args.concurrency`` keep-alive connections, the next path to
    the next connection that is free; the connections open ``args.stagger_ms`` apart, so
    that a busy worker leaves the next one to the idle worker (a keep-alive connection
    stays with the worker that accepted it)."""
    samples: list = []
    queue = iter([("locator", path) for path in paths])
    until = time.perf_counter() + seconds
    started = time.perf_counter()

    async def connection(k: int) -> None:
        await asyncio.sleep(k * args.stagger_ms / 1000)
        await _connection(port, queue, until, samples)

    async def progress() -> None:
        while True:
            await asyncio.sleep(2.0)
            log(f"{label}: {len(samples)}/{len(paths)} answered")

    reporter = asyncio.create_task(progress())
    try:
        await asyncio.gather(*(connection(k) for k in range(args.concurrency)))
    finally:
        reporter.cancel()
    return samples, time.perf_counter() - started


def worker_cpu_s(parent: int) -> dict[int, float]:
    """CPU seconds used so far by each worker process of the server (Linux /proc; empty
    elsewhere)."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        used = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
            if int(fields[1]) == parent and b"resource_tracker" not in cmdline:
                used[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / tick
        return used
    except (OSError, ValueError, IndexError):
        return {}


def under_load(args, paths: list[str]) -> dict:
    """Figures of ``paths`` sent to ``geo-service serve --workers 2`` on 127.0.0.1."""
    port = free_port()
    command = [sys.executable, "-m", "geo_service.cli", "serve", "--port", str(port)]
    command += ["--workers", "2", "--no-access-log"]
    with tempfile.TemporaryDirectory() as state, tempfile.TemporaryFile("w+") as output:
        log(f"starting geo-service serve --workers 2 on 127.0.0.1:{port}")
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "GEO_SERVICE_STATE_DIR": state},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            try:
                log(f"/healthz answered after {wait_for_health(port, process, 300):.1f} s")
            except RuntimeError:
                output.seek(0)
                log("server output (end):\n" + output.read()[-3000:])
                raise
            warm = [paths[k % len(paths)] for k in range(args.warmup)]
            samples, _ = asyncio.run(_send(port, warm, args, 120, "warm-up"))
            log(f"warm-up: {len(samples)} requests answered (not counted)")
            before = worker_cpu_s(process.pid)
            samples, elapsed = asyncio.run(_send(port, paths, args, args.max_seconds, "load"))
            after = worker_cpu_s(process.pid)
            log(f"load: {len(samples)}/{len(paths)} answered in {elapsed:.1f} s")
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    ms = np.array([seconds for _, seconds, _ in samples]) * 1000
    result = figures(ms, elapsed, Counter(status for _, _, status in samples))
    result["worker_cpu_s"] = [round(after[p] - before.get(p, 0.0), 2) for p in sorted(after)]
    return result


# --- in this process: the reference and the current computation ------------------------


def _reference_walks(graph, origin, facilities, *, count, max_snap_m):
    """Walks as computed per request before: snap the origin and every facility, build
    the augmented graph, one Dijkstra over the whole graph, routes from its predecessors."""
    start = snap_points(graph, np.array([origin], dtype=object), max_snap_m=max_snap_m)
    if start.status[0] not in (SNAP_OK, SNAP_PAST_ISOLATED):
        raise InvalidQuery(f"the point is more than {max_snap_m:g} m from any walkable road")
    targets = snap_points(graph, facilities, max_snap_m=max_snap_m)
    augmented = AugmentedGraph(graph, start)
    virtual = augmented.virtual_of[0]
    distance, predecessor = dijkstra(
        augmented.matrix, directed=True, indices=virtual, return_predecessors=True
    )
    ok = targets.ok
    e, offset, snap = targets.edge[ok], targets.offset_m[ok], targets.snap_m[ok]
    via_u = distance[graph.edge_u[e]] + offset
    via_v = distance[graph.edge_v[e]] + graph.edge_length[e] - offset
    total = np.full(len(targets), np.inf)
    total[ok] = np.minimum(via_u, via_v) + snap
    end_node = np.full(len(targets), -1)
    end_node[ok] = np.where(via_u <= via_v, graph.edge_u[e], graph.edge_v[e])
    direct = np.full(len(targets), False)
    target_idx, _, direct_m = same_segment_pairs(start, targets)
    shorter = direct_m < total[target_idx]
    total[target_idx[shorter]] = direct_m[shorter]
    direct[target_idx[shorter]] = True
    order = [int(i) for i in np.argsort(total, kind="stable")[:count] if np.isfinite(total[i])]

    def on_edge(edge, along):
        u, v = graph.nodes[graph.edge_u[edge]], graph.nodes[graph.edge_v[edge]]
        length = graph.edge_length[edge]
        return u + (v - u) * (along / length if length else 0.0)

    begin = on_edge(start.edge[0], start.offset_m[0])
    walks = []
    for i in order:
        path = [np.array(origin.coords[0]), begin]
        if not direct[i]:
            nodes = [int(end_node[i])]
            while predecessor[nodes[-1]] != virtual and predecessor[nodes[-1]] >= 0:
                nodes.append(int(predecessor[nodes[-1]]))
            path += list(graph.nodes[nodes[::-1]])
        path += [on_edge(targets.edge[i], targets.offset_m[i])]
        path += [np.array(shapely.get_coordinates(facilities[i])[0])]
        walks.append((i, float(total[i]), shapely.LineString(path)))
    return walks


def _reference_open(text: str, at: datetime) -> bool | None:
    try:
        return bool(opening_hours.OpeningHours(text).is_open(at))
    except (opening_hours.ParserError, ValueError):
        return None


def _reference_hours(text: str, at: datetime, minutes: float) -> dict:
    """Open now, on arrival, closing / opening time and "closes soon", from scratch."""
    now = _reference_open(text, at)
    if now is None:
        keys = ("open_now", "open_on_arrival", "closes_at", "opens_at")
        return {**dict.fromkeys(keys), "closes_soon": False}
    hours = opening_hours.OpeningHours(text)
    change = hours.next_change(at)
    change = None if change is None else change.replace(tzinfo=None)
    arrival = at + timedelta(minutes=minutes)
    shown = None if change is None else change.isoformat(timespec="minutes")
    return {
        "open_now": now,
        "open_on_arrival": bool(hours.is_open(arrival)),
        "closes_at": shown if now else None,
        "opens_at": None if now else shown,
        "closes_soon": bool(now and change is not None and change - arrival < CLOSES_SOON),
    }


def _reference_week(text: str, first_day) -> list[dict]:
    """The open intervals of each of the 7 days from ``first_day``, asked day by day."""
    hours = opening_hours.OpeningHours(text)
    week = []
    for k in range(7):
        midnight = datetime.combine(first_day + timedelta(days=k), datetime.min.time())
        night = midnight + timedelta(days=1)
        week.append(
            {
                "date": midnight.date().isoformat(),
                "intervals": [
                    [begin.strftime("%H:%M"), "24:00" if end == night else end.strftime("%H:%M")]
                    for begin, end, state, _ in hours.intervals(midnight, night)
                    if state == opening_hours.State.OPEN
                ],
            }
        )
    return week


def _reference_text(value) -> str | None:
    """A text property as the API gives it: None where missing (null, NaN) or empty."""
    return value if isinstance(value, str) and value else None


def reference_answer(store, context, query: dict) -> bytes:
    """One answer computed from scratch, as the API did it before it was optimised."""
    lon, lat, n = query["lon"], query["lat"], query["n"]
    service, open_now = query.get("service"), query.get("open_now") == "true"
    moment = datetime.fromisoformat(query.get("at", AT))
    crs = context.graph.crs
    origin = gpd.GeoSeries([shapely.Point(lon, lat)], crs=STORAGE_CRS).to_crs(crs).iloc[0]
    district = to_metric(store.query("district"), crs).union_all()
    away = district.distance(origin)
    if away > OUTSIDE_M:
        raise InvalidQuery(f"the point is {away / 1000:.1f} km outside the district")
    centres = store.query("service_centres")
    opened = np.array([_reference_open(t, moment) for t in centres["opening_hours"]], dtype=object)
    keep = np.ones(len(centres), dtype=bool)
    if service is not None:
        keep &= centres["services"].str.split(";").map(lambda s: service in s).to_numpy()
    if open_now:
        keep &= opened == True  # noqa: E712 - None (unknown) is not open
    offered = keep.copy() if not open_now else None
    if service is not None and open_now:
        offered = centres["services"].str.split(";").map(lambda s: service in s).to_numpy()
    elif open_now:
        offered = np.ones(len(centres), dtype=bool)
    candidates = centres[keep]
    metric = to_metric(candidates, crs)
    walks = _reference_walks(
        context.graph,
        origin,
        metric.geometry.to_numpy(),
        count=n,
        max_snap_m=context.params.max_snap_m,
    )
    routes = gpd.GeoSeries([route for *_, route in walks], crs=crs).to_crs(STORAGE_CRS)
    features = []
    for (facility, distance_m, _), route in zip(walks, routes, strict=True):
        row = candidates.iloc[facility]
        point = row.geometry
        features.append(
            {
                "type": "Feature",
                "id": row["id"],
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(point.x, 7), round(point.y, 7)],
                },
                "properties": {
                    "id": row["id"],
                    "name_zh": row["name_zh"],
                    "name_en": row["name_en"],
                    "level": row["level"],
                    "services": row["services"].split(";"),
                    "opening_hours": row["opening_hours"],
                    "address": _reference_text(row.get("address")),  # the demo has none
                    "phone": _reference_text(row.get("phone")),
                    **_reference_hours(
                        row["opening_hours"], moment, context.params.minutes(distance_m)
                    ),
                    "week": _reference_week(row["opening_hours"], moment.date()),
                    "distance_m": round(distance_m, 1),
                    "minutes": round(context.params.minutes(distance_m), 1),
                    "route": json.loads(shapely.to_geojson(shapely.set_precision(route, 1e-7))),
                    "links": walking_links(
                        spot(lon, lat, HERE["zh"]),
                        spot(round(point.x, 7), round(point.y, 7), row["name_zh"]),
                        ("amap", "baidu"),
                        in_china=True,
                    ),
                },
            }
        )
    body = {
        "type": "FeatureCollection",
        "features": features,
        "origin": {"type": "Point", "coordinates": [lon, lat]},
        "at": moment.isoformat(timespec="minutes"),
        "numberReturned": len(features),
    }
    if open_now and len(features) < n:
        closed = centres[offered & ~keep]
        first = []
        for facility, distance_m, _ in _reference_walks(
            context.graph,
            origin,
            to_metric(closed, crs).geometry.to_numpy(),
            count=NEXT_OPEN_LOOKED_AT,
            max_snap_m=context.params.max_snap_m,
        ):
            row = closed.iloc[facility]
            minutes = context.params.minutes(distance_m)
            hours = _reference_hours(row["opening_hours"], moment, minutes)
            if hours["opens_at"] is not None:
                first.append(
                    {
                        "id": row["id"],
                        "name_zh": row["name_zh"],
                        "name_en": row["name_en"],
                        "opens_at": hours["opens_at"],
                        "distance_m": round(distance_m, 1),
                        "minutes": round(minutes, 1),
                    }
                )
        first.sort(key=lambda centre: (centre["opens_at"], centre["distance_m"]))
        body["opening_next"] = first[:NEXT_OPEN_NAMED]
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def current_answer(index: LocatorIndex, query: dict) -> bytes:
    """One answer as the API computes it now (what the router does, without HTTP)."""
    return answer_bytes(
        index,
        query["lon"],
        query["lat"],
        n=query["n"],
        service=query.get("service"),
        open_now=query.get("open_now") == "true",
        moment=datetime.fromisoformat(query.get("at", AT)),
    )


def _time_each(compute, queries: list[dict]):
    times, answers, statuses = [], [], Counter()
    started = time.perf_counter()
    for query in queries:
        t0 = time.perf_counter()
        try:
            answer, status = compute(query), 200
        except GeoServiceError as exc:  # the API answers these with its error status
            answer, status = type(exc).__name__, 400
        times.append(time.perf_counter() - t0)
        answers.append(answer)
        statuses[status] += 1
    elapsed = time.perf_counter() - started
    return figures(np.array(times) * 1000, elapsed, statuses), answers


def in_process(store, context, queries: list[dict]) -> tuple[dict, int, float]:
    """Rows ``reference`` and ``current``, how many answers are the same, and the index's
    build time (ms)."""
    log(f"in-process: reference computation of {len(queries)} answers")
    reference, expected = _time_each(lambda q: reference_answer(store, context, q), queries)
    started = time.perf_counter()
    index = LocatorIndex.build(
        store.query("district"), store.query("service_centres"), context.graph, context.params
    )
    build_ms = (time.perf_counter() - started) * 1000
    log(f"in-process: current computation of {len(queries)} answers")
    current, got = _time_each(lambda q: current_answer(index, q), queries)
    same = sum(a == b for a, b in zip(expected, got, strict=True))
    return {"reference": reference, "current": current}, same, build_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests under load")
    parser.add_argument("--concurrency", type=int, default=8, help="connections at once")
    parser.add_argument("--points", type=int, default=500, help="distinct origins (cycled)")
    parser.add_argument("--warmup", type=int, default=100, help="uncounted first requests")
    parser.add_argument("--stagger-ms", type=float, default=10.0, help="between connections")
    parser.add_argument("--reference", type=int, default=200, help="in-process answers")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="load time cap")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    log("loading the data in this process (for the origins and the in-process rows)")
    store, context = load_data(Settings())
    points = origin_points(store, context.graph.crs, args.points, args.seed)
    queries = make_queries(points, args.seed)
    paths = [
        "/locator/nearest?" + urlencode(queries[k % len(queries)]) for k in range(args.requests)
    ]
    log(f"{len(queries)} origins, {len(paths)} requests, e.g. {paths[3]}")

    rows = {"http": under_load(args, paths)}
    in_rows, same, build_ms = in_process(store, context, queries[: args.reference])
    rows |= in_rows

    print(table(rows))
    notes = [
        "http       GET /locator/nearest end to end, latency measured by the client, against",
        "           geo-service serve --workers 2 on 127.0.0.1, after "
        f"{args.warmup} uncounted requests;",
        f"           {args.concurrency} keep-alive connections opened {args.stagger_ms:g} ms "
        "apart; CPU seconds",
        f"           of each worker during the load: {rows['http']['worker_cpu_s']}; "
        f"1-min load average at the end: {os.getloadavg()[0]:.2f}",
        "reference  in this process, one at a time, no HTTP: the straightforward per-request",
        "           computation (the API before the optimisation: district, centres and opening",
        "           hours re-read, re-projected, re-parsed, every centre re-snapped, one",
        "           Dijkstra over the whole graph, geopandas CRS transforms)",
        "current    in this process, one at a time, no HTTP: LocatorIndex.nearest and the JSON;",
        f"           the index built once ({build_ms:.0f} ms here; each worker builds it on its "
        "first request)",
        f"same JSON  {same}/{rows['current']['requests']} answers byte for byte the same "
        "(reference vs current; errors by type)",
        f"queries    {len(queries)} seeded origins (seed {args.seed}), cycled; open_now at {AT}; "
        f"{os.cpu_count()} CPUs",
    ]
    print("\n" + "\n".join(notes))


if __name__ == "__main__":
    main()
