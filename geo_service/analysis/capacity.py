"""Is a centre big enough for the people who reach it? Capacity-aware access by the
enhanced two-step floating catchment area method (E2SFCA; Luo & Qi 2009).

Step 1, per centre ``j``: its supply over the demand that reaches it, each resident
weighted by the distance decay of their walk: ``R[j] = S[j] / sum_i W(d[i, j]) * P[i]``.
Step 2, per demand feature ``i``: the ratios of the centres it reaches, decayed the same
way: ``A[i] = sum_j W(d[i, j]) * R[j]``, in capacity per resident (``capacity`` is
"people a centre can serve at once"). Walks are network metres, only those within the
catchment (the decay is 0 beyond it); both steps are sparse matrix products.

The decay is a step function by default: weight 1 within the 5-minute circle, 0.68
within the 10-minute one and 0.22 within the 15-minute one (the weights of Luo & Qi's
three zones), 0 beyond; or a Gaussian within the widest circle (Dai 2010).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from geo_service.analysis.distances import facility_catchments
from geo_service.analysis.whatif import WhatIfBaseline

#: Luo & Qi's (2009) zone weights, nearest zone first.
STEP_WEIGHTS = (1.0, 0.68, 0.22)


@dataclass(frozen=True)
class Decay:
    """A distance-decay function: ``step`` (weights up to each limit, metres) or
    ``gaussian`` (``exp(-(d/d0)²/2)`` rescaled to 1 at 0 and 0 at ``catchment_m``)."""

    kind: str
    catchment_m: float
    limits_m: tuple[float, ...] = ()
    weights: tuple[float, ...] = ()

    @classmethod
    def steps(cls, limits_m: tuple[float, ...], weights: tuple[float, ...] = STEP_WEIGHTS):
        """Weight ``weights[k]`` up to ``limits_m[k]`` metres (increasing), 0 beyond."""
        return cls("step", float(limits_m[-1]), tuple(map(float, limits_m)), tuple(weights))

    @classmethod
    def gaussian(cls, catchment_m: float) -> Decay:
        return cls("gaussian", float(catchment_m))

    @classmethod
    def for_circles(cls, circles_m: tuple[float, ...], kind: str = "step") -> Decay:
        """The ``step`` decay over the life circles (metres, nearest first), or the
        ``gaussian`` one within the widest."""
        return cls.steps(tuple(circles_m)) if kind == "step" else cls.gaussian(circles_m[-1])

    def __call__(self, distance_m: np.ndarray) -> np.ndarray:
        """The weight of each walk (metres); 0 beyond the catchment."""
        d = np.asarray(distance_m, dtype=float)
        if self.kind == "step":
            zone = np.searchsorted(self.limits_m, d, side="left")
            table = np.r_[self.weights, 0.0]
            return table[np.minimum(zone, len(self.weights))]
        edge = np.exp(-0.5)
        weight = (np.exp(-0.5 * (d / self.catchment_m) ** 2) - edge) / (1.0 - edge)
        return np.where(d <= self.catchment_m, weight, 0.0)

    def describe(self) -> dict:
        """The decay as data, to state beside the scores."""
        if self.kind == "step":
            return {
                "kind": "step",
                "limits_m": list(self.limits_m),
                "weights": list(self.weights),
            }
        return {"kind": "gaussian", "catchment_m": self.catchment_m}


@dataclass(frozen=True)
class CapacityAccess:
    """E2SFCA scores: ``ratio`` per centre (capacity per decayed resident reaching it; NaN
    where nobody does), ``score`` per demand feature (capacity per resident, 0 where no
    centre is reached) and ``reached`` (decayed residents) per centre."""

    ratio: np.ndarray
    score: np.ndarray
    reached: np.ndarray


def shortest_per_owner(
    distance_m: csr_matrix,
    row_owner: np.ndarray,
    n_rows: int,
    column_owner: np.ndarray,
    n_columns: int,
) -> csr_matrix:
    """Walks between entries (rows: a centre's doors; columns: a feature's entrances)
    → walks between their owners: the shortest over each pair's entries.

    Parameters
    ----------
    distance_m
        Sparse walks in metres, stored where within reach.
    row_owner, column_owner
        The owner (0-based) of each row and column.
    n_rows, n_columns
        How many owners there are.
    """
    coo = distance_m.tocoo()
    rows, columns = np.asarray(row_owner)[coo.row], np.asarray(column_owner)[coo.col]
    order = np.lexsort((coo.data, columns, rows))
    rows, columns, data = rows[order], columns[order], coo.data[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (columns[1:] != columns[:-1])][: len(rows)]
    return csr_matrix((data[first], (rows[first], columns[first])), shape=(n_rows, n_columns))


def e2sfca(
    distance_m: csr_matrix, supply: np.ndarray, population: np.ndarray, decay: Decay
) -> CapacityAccess:
    """E2SFCA of ``supply`` (per centre) against ``population`` (per demand feature).

    Parameters
    ----------
    distance_m
        ``(n_centres, n_features)`` walks in metres, stored where within the catchment
        (:func:`shortest_per_owner`); a stored 0 is a walk of 0 m.
    supply
        Capacity of each centre (people served at once); NaN counts as 0.
    population
        Residents of each demand feature.
    decay
        The distance decay.
    """
    coo = distance_m.tocoo()
    weight = decay(coo.data)
    w = csr_matrix((weight, (coo.row, coo.col)), shape=distance_m.shape)
    w.eliminate_zeros()
    reached = w @ np.asarray(population, dtype=float)
    supply = np.nan_to_num(np.asarray(supply, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(reached > 0, supply / reached, np.nan)
    score = w.T @ np.nan_to_num(ratio)
    return CapacityAccess(ratio=ratio, score=score, reached=reached)


def area_scores(
    score: np.ndarray, population: np.ndarray, codes: np.ndarray, n_areas: int
) -> np.ndarray:
    """The residents-weighted mean score of each area (``codes``: the area of each
    feature, 0..n_areas-1); NaN for an area without residents."""
    people = np.asarray(population, dtype=float)
    total = np.bincount(codes, weights=people, minlength=n_areas)
    weighted = np.bincount(codes, weights=people * score, minlength=n_areas)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, weighted / total, np.nan)


def centre_capacity_access(
    baseline: WhatIfBaseline, capacity: pd.Series, decay: Decay
) -> tuple[np.ndarray, csr_matrix, CapacityAccess]:
    """E2SFCA of the baseline's centres (``capacity`` indexed by centre id) against its
    demand features: the centre ids (sorted), the walks ``(centres, features)`` within
    the catchment, and the scores."""
    walks = baseline.centres
    distance = facility_catchments(
        baseline.graph, walks.entries.sources, baseline.demand, limit_m=decay.catchment_m
    )
    ids, owner = np.unique(walks.facility_of_entry, return_inverse=True)
    n_features = len(baseline.units.ids)
    per_centre = shortest_per_owner(distance, owner, len(ids), baseline.per_owner.owner, n_features)
    supply = capacity.reindex(ids).to_numpy(dtype=float)
    return ids, per_centre, e2sfca(per_centre, supply, baseline.units.population, decay)
