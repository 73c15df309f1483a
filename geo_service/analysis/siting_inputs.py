"""What a siting problem is made of, from a district's data: candidate sites (network
nodes on a spacing, or given points), which demand feature each candidate covers within
the criterion, and the residents still to cover (not yet within it of a facility).

Metres in the walking graph's CRS throughout; the solvers are in
:mod:`~geo_service.analysis.siting`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import csr_matrix

from geo_service.analysis.distances import facility_catchments
from geo_service.analysis.network import Snapped, WalkGraph, snap_xy
from geo_service.analysis.siting import coverage_matrix
from geo_service.analysis.whatif import KeptWalks, WhatIfBaseline

#: The default spacing of candidate sites on the network, metres.
DEFAULT_SPACING_M = 200.0


def candidate_nodes(
    graph: WalkGraph, spacing_m: float, within: shapely.Geometry | None = None
) -> np.ndarray:
    """Candidate sites on the network: in each square of ``spacing_m`` metres, the node of
    the main network nearest the square's centre (only nodes inside ``within``, if given).

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` coordinates (metres, the graph's CRS), ordered by square (row, then
        column), so the same inputs give the same candidates.
    """
    nodes = np.flatnonzero(graph.component == graph.main_component)
    xy = graph.nodes[nodes]
    if within is not None:
        xy = xy[shapely.contains_xy(within, xy[:, 0], xy[:, 1])]
    if not len(xy):
        return np.zeros((0, 2))
    cell = np.floor(xy / spacing_m).astype(np.int64)
    away = np.hypot(*(xy - (cell + 0.5) * spacing_m).T)
    order = np.lexsort((away, cell[:, 0], cell[:, 1]))
    cell, xy = cell[order], xy[order]
    first = np.r_[True, (cell[1:] != cell[:-1]).any(axis=1)]
    return xy[first]


@dataclass(frozen=True)
class SitingInputs:
    """A siting problem over the demand features of a what-if baseline.

    ``reach[j, i]``: candidate ``j`` covers feature ``i`` (walk at most ``criterion_m``);
    ``covered_today[i]``: feature ``i`` is within ``criterion_m`` of a facility already;
    ``population[i]``: its residents.
    """

    candidates_xy: np.ndarray  # (n_candidates, 2) metres
    candidates: Snapped
    reach: csr_matrix
    criterion_m: float
    population: np.ndarray
    covered_today: np.ndarray

    @property
    def to_cover(self) -> np.ndarray:
        """Residents of each feature not covered today (0 where covered)."""
        return np.where(self.covered_today, 0.0, self.population)

    @property
    def placeable(self) -> np.ndarray:
        """Which candidates stand on the network (within the snapping distance)."""
        return self.candidates.edge >= 0


def siting_inputs(
    baseline: WhatIfBaseline,
    facilities: KeptWalks,
    candidates_xy: np.ndarray,
    criterion_m: float,
) -> SitingInputs:
    """The :class:`SitingInputs` of ``candidates_xy`` (metres) against the demand of
    ``baseline``, with ``facilities`` (the walks to the facilities of the type sited,
    e.g. ``baseline.centres``) saying who is covered today."""
    candidates_xy = np.asarray(candidates_xy, dtype=float).reshape(-1, 2)
    snapped = snap_xy(baseline.graph, candidates_xy, max_snap_m=baseline.params.max_snap_m)
    distance = facility_catchments(baseline.graph, snapped, baseline.demand, limit_m=criterion_m)
    n_features = len(baseline.units.ids)
    today = baseline.per_feature(facilities.point_m)
    return SitingInputs(
        candidates_xy=candidates_xy,
        candidates=snapped,
        reach=coverage_matrix(distance, baseline.per_owner.owner, n_features, criterion_m),
        criterion_m=criterion_m,
        population=baseline.units.population,
        covered_today=np.nan_to_num(today, nan=np.inf) <= criterion_m,
    )
