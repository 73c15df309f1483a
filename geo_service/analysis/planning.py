"""Answers to a planner's "where to build" and "is it big enough": new sites by maximal
or set covering (:mod:`.siting`) and centre capacity by E2SFCA (:mod:`.capacity`), for
the facilities and life circle asked, stated with their criterion; metres in the graph's
CRS inside, lon/lat (EPSG:4326) in the answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo_service.analysis.capacity import Decay, area_scores, centre_capacity_access
from geo_service.analysis.siting import (
    DEFAULT_TIME_LIMIT_S,
    Siting,
    greedy_maximal_covering,
    greedy_set_covering,
    maximal_covering,
    set_covering,
)
from geo_service.analysis.siting_inputs import (
    DEFAULT_SPACING_M,
    SitingInputs,
    candidate_nodes,
    siting_inputs,
)
from geo_service.analysis.whatif import KeptWalks, WhatIfBaseline
from geo_service.crs import STORAGE_CRS
from geo_service.errors import InvalidQuery

#: The facilities sited when none is named: the headline set's centres.
CENTRES = "centres"
#: At most this many candidates in one problem (a spacing finer than that is refused).
MAX_CANDIDATES = 20_000


@dataclass(frozen=True)
class SitingQuestion:
    """What a planner asks: ``method`` (``mclp``: the ``sites`` new sites covering the
    most residents not covered today; ``lscp``: the fewest covering all of them), for
    ``facilities`` (``centres`` or a life-circle type) within the ``minutes`` life
    circle (default: the type's, or the widest for the centres), from candidates on
    the network every ``spacing_m`` or at ``candidates_xy`` (metres); the circle under
    ``criterion`` (``distance`` or ``time`` at ``speed_mps``; default the published one)."""

    method: str = "mclp"
    sites: int = 5
    facilities: str = CENTRES
    minutes: int | None = None
    spacing_m: float = DEFAULT_SPACING_M
    candidates_xy: np.ndarray | None = None
    candidates_from: str | None = None  # where given candidates came from, to say so
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    greedy: bool = False
    criterion: str | None = None  # distance or time; default the published one
    speed_mps: float | None = None  # walking speed under the time criterion


def _facilities(baseline: WhatIfBaseline, key: str) -> tuple[KeptWalks, int | None, dict]:
    """The walks to the facilities ``key``, their life circle (None: the centres, any)
    and how to name them."""
    if key == CENTRES:
        return (
            baseline.centres,
            None,
            {"key": CENTRES, "title": {"zh": "服务中心", "en": "Centres"}},
        )
    for requirement, walks in baseline.types:
        if requirement.key == key:
            title = {"zh": requirement.facilities.title_zh, "en": requirement.facilities.title_en}
            return walks, requirement.circle, {"key": key, "title": title}
    known = [CENTRES, *(requirement.key for requirement, _ in baseline.types)]
    raise InvalidQuery(f"facilities must be one of {', '.join(known)}")


def _candidates(
    baseline: WhatIfBaseline, question: SitingQuestion, district: shapely.Geometry | None
) -> tuple[np.ndarray, str]:
    if question.candidates_xy is not None:
        return question.candidates_xy, question.candidates_from or "given points"
    if district is not None:
        west, south, east, north = district.bounds
        squares = ((east - west) / question.spacing_m + 1) * (
            (north - south) / question.spacing_m + 1
        )
        if squares > MAX_CANDIDATES * 4:
            raise InvalidQuery(
                f"spacing_m {question.spacing_m:g} would make too many candidates here; "
                "use a wider spacing"
            )
    xy = candidate_nodes(baseline.graph, question.spacing_m, district)
    if len(xy) > MAX_CANDIDATES:
        raise InvalidQuery(
            f"spacing_m {question.spacing_m:g} gives {len(xy)} candidates (at most "
            f"{MAX_CANDIDATES}); use a wider spacing"
        )
    return xy, f"network nodes every {question.spacing_m:g} m"


def _solve(problem: SitingInputs, question: SitingQuestion) -> Siting:
    if question.method == "mclp":
        if question.greedy:
            return greedy_maximal_covering(problem.reach, problem.to_cover, question.sites)
        return maximal_covering(
            problem.reach, problem.to_cover, question.sites, time_limit_s=question.time_limit_s
        )
    must = ~problem.covered_today
    if question.greedy:
        return greedy_set_covering(problem.reach, must)
    return set_covering(problem.reach, must, time_limit_s=question.time_limit_s)


def site_facilities(
    baseline: WhatIfBaseline,
    question: SitingQuestion,
    *,
    district: shapely.Geometry | None = None,
    offer: dict | None = None,
) -> dict:
    """New sites for ``question`` on the demand of ``baseline``.

    Parameters
    ----------
    baseline
        The what-if baseline (demand, walks to today's facilities; graph CRS).
    question
        What is asked.
    district
        The district (graph CRS): network candidates only inside it.
    offer
        The ``level`` and ``services`` a new site offers in the scenario the answer
        carries (properties of its ``add`` features).

    Returns
    -------
    dict
        ``method``, ``status`` (``optimal``, ``time_limit``, ``greedy``), ``gap``,
        ``seconds``, ``criterion``, ``candidates``, ``residents`` and ``compounds``
        figures (unrounded), ``sites`` (a GeoJSON FeatureCollection, lon/lat, each with
        the residents not covered today it reaches) and ``scenario`` (the sites as the
        body of a what-if).
    """
    if question.method not in ("mclp", "lscp"):
        raise InvalidQuery("method must be mclp (most residents for k sites) or lscp")
    walks, circle, named = _facilities(baseline, question.facilities)
    params = baseline.params.varied(criterion=question.criterion, speed_mps=question.speed_mps)
    minutes = question.minutes or circle or max(c.minutes for c in params.circles)
    criterion_m = params.circle_m(minutes)
    xy, source = _candidates(baseline, question, district)
    problem = siting_inputs(baseline, walks, xy, criterion_m)
    answer = _solve(problem, question)
    to_cover = problem.to_cover
    newly = answer.covered_features & ~problem.covered_today
    reach_of = problem.reach[answer.chosen]
    lon, lat = Transformer.from_crs(baseline.graph.crs, STORAGE_CRS, always_xy=True).transform(
        *xy[answer.chosen].T
    )
    features = [
        {
            "type": "Feature",
            "id": f"site-{k + 1}",
            "geometry": {"type": "Point", "coordinates": [round(x, 7), round(y, 7)]},
            "properties": {
                "id": f"site-{k + 1}",
                "candidate": int(j),
                "reaches_residents": float(to_cover[reach_of[k].indices].sum()),
                "reaches_compounds": int((to_cover[reach_of[k].indices] > 0).sum()),
            },
        }
        for k, (j, x, y) in enumerate(zip(answer.chosen, lon, lat, strict=True))
    ]
    unreachable = ~problem.covered_today & (np.asarray(problem.reach.sum(axis=0)).ravel() == 0)
    population = problem.population
    offered = offer or {}
    return {
        "method": question.method,
        "status": answer.status,
        "gap": answer.gap,
        "bound": answer.bound,
        "seconds": answer.seconds,
        "criterion": {
            **params.describe(),
            "minutes": minutes,
            "distance_m": criterion_m,
            "facilities": named,
        },
        "candidates": {
            "count": len(xy),
            "on_network": int(problem.placeable.sum()),
            "source": source,
        },
        "residents": {
            "total": float(population.sum()),
            "covered_today": float(population[problem.covered_today].sum()),
            "newly_covered": float(population[newly].sum()),
            "beyond_every_candidate": float(population[unreachable].sum()),
        },
        "compounds": {
            "total": len(population),
            "covered_today": int(problem.covered_today.sum()),
            "newly_covered": int(newly.sum()),
            "beyond_every_candidate": int(unreachable.sum()),
            "newly_covered_ids": baseline.units.ids[newly].tolist(),
        },
        "sites": {"type": "FeatureCollection", "features": features},
        "scenario": {
            "add": {
                "type": "FeatureCollection",
                "features": [{**f, "properties": {**offered, "name": f["id"]}} for f in features],
            },
            "remove": [],
        },
    }


def centre_capacity(centres: pd.DataFrame) -> pd.Series | None:
    """Each centre's ``capacity`` (people served at once) by id, or None when the layer
    has no such column."""
    if "capacity" not in centres.columns:
        return None
    return centres.set_index("id")["capacity"].astype(float)


def capacity_scores(
    baseline: WhatIfBaseline, capacity: pd.Series, decay: Decay, *, per: float = 1000.0
) -> dict:
    """E2SFCA of the centres' ``capacity`` (indexed by id) against the residents of
    ``baseline``: per centre (capacity, decayed residents reaching it, capacity per
    ``per`` of them), per compound and per area (capacity per ``per`` residents,
    residents-weighted for areas), with the decay stated."""
    ids, _, result = centre_capacity_access(baseline, capacity, decay)
    units = baseline.units
    score = result.score * per
    areas = {}
    for key, (codes, names) in units.areas.items():
        values = area_scores(score, units.population, codes, len(names))
        areas[key] = [
            {"id": str(name), "score": None if np.isnan(v) else float(v)}
            for name, v in zip(names, values, strict=True)
        ]
    return {
        "method": "e2sfca",
        "per_residents": per,
        "decay": decay.describe(),
        "centres": [
            {
                "id": str(centre),
                "capacity": None if np.isnan(supply) else float(supply),
                "residents_reaching": float(reached),
                "ratio": None if np.isnan(ratio) else float(ratio * per),
            }
            for centre, supply, reached, ratio in zip(
                ids,
                capacity.reindex(ids).to_numpy(float),
                result.reached,
                result.ratio,
                strict=True,
            )
        ],
        "compounds": [
            {"id": str(i), "residents": float(p), "score": float(s)}
            for i, p, s in zip(units.ids, units.population, score, strict=True)
        ],
        "areas": areas,
    }
