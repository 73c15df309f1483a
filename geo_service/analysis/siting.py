"""Where to build: the new sites that cover the most residents (maximal covering, MCLP)
or the fewest sites that cover everyone (set covering, LSCP), on a sparse coverage matrix.

A candidate *covers* a demand feature when the walk from the candidate to the feature
(any of its entrances) is at most the criterion, in network metres. The exact answers
come from the HiGHS MIP solver (``highspy``) with a time limit; the status says whether
the answer is proven optimal or the best found in time, with the solver's gap. The greedy
answers (each step the site covering the most not yet covered) are an instant preview
and the reference the exact ones are checked against.

Formulations (``a[j, i]`` = candidate ``j`` covers feature ``i``, ``w`` = residents):

* MCLP: maximise ``sum(w[i] * y[i])`` s.t. ``y[i] <= sum_j a[j, i] * x[j]``,
  ``sum(x) <= k``, ``x`` binary and
  ``0 <= y <= 1`` (``y`` is integral at the optimum).
* LSCP: minimise ``sum(x)`` s.t. ``sum_j a[j, i] * x[j] >= 1`` for every feature that
  must be covered and that some candidate can cover; the others are reported, not solved.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csc_matrix, csr_matrix, hstack

from geo_service.errors import SolverFailed

#: The default limit of one exact solve, seconds.
DEFAULT_TIME_LIMIT_S = 10.0


@dataclass(frozen=True)
class Siting:
    """An answer: the candidates chosen and what they cover.

    ``status`` is ``optimal`` (proven), ``time_limit`` (the best found in time; ``gap``
    is the solver's relative gap to its bound) or ``greedy`` (no bound: a preview).
    ``covered`` is the weight (residents) the chosen sites cover among the features the
    problem counts; ``uncoverable`` are the features no candidate reaches.
    """

    method: str  # "mclp" or "lscp"
    status: str
    chosen: np.ndarray  # candidate indices, ascending
    covered: float
    covered_features: np.ndarray  # bool per feature
    gap: float | None = None
    bound: float | None = None
    seconds: float = 0.0
    uncoverable: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


def coverage_matrix(
    distance_m: csr_matrix, owner: np.ndarray, n_features: int, criterion_m: float
) -> csr_matrix:
    """Which candidate covers which demand feature.

    Parameters
    ----------
    distance_m
        ``(n_candidates, n_points)`` walking metres from each candidate to each demand
        point it reaches (stored entries only; see
        :func:`~geo_service.analysis.distances.facility_catchments`).
    owner
        ``(n_points,)`` the demand feature each point (entrance) belongs to.
    n_features
        How many demand features there are.
    criterion_m
        A feature is covered when one of its points is at most this far, in metres.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(n_candidates, n_features)`` booleans.
    """
    reach = distance_m.tocoo()
    keep = reach.data <= criterion_m
    rows, columns = reach.row[keep], np.asarray(owner)[reach.col[keep]]
    matrix = csr_matrix(
        (np.ones(len(rows), dtype=bool), (rows, columns)),
        shape=(distance_m.shape[0], n_features),
    )
    matrix.sum_duplicates()
    matrix.data[:] = True
    return matrix


def _covered_by(reach: csr_matrix, chosen: np.ndarray) -> np.ndarray:
    if not len(chosen):
        return np.zeros(reach.shape[1], dtype=bool)
    return np.asarray(reach[chosen].sum(axis=0)).ravel() > 0


def greedy_maximal_covering(reach: csr_matrix, weight: np.ndarray, k: int) -> Siting:
    """MCLP by the greedy rule: ``k`` times, the candidate adding the most weight not yet
    covered (ties: the lowest index); stops early when no candidate adds any."""
    started = time.perf_counter()
    by_feature = csc_matrix(reach, dtype=np.float64)
    by_candidate = csr_matrix(reach, dtype=np.float64)
    left = np.asarray(weight, dtype=float).copy()
    gain = by_candidate @ left
    chosen: list[int] = []
    for _ in range(k):
        best = int(np.argmax(gain))
        if gain[best] <= 0:
            break
        chosen.append(best)
        newly = by_candidate.indices[by_candidate.indptr[best] : by_candidate.indptr[best + 1]]
        newly = newly[left[newly] > 0]
        # the candidates that also reach the newly covered features lose their weight
        lost = by_feature[:, newly] @ left[newly]
        gain -= lost
        left[newly] = 0.0
    picked = np.array(sorted(chosen), dtype=int)
    covered = _covered_by(reach, picked)
    return Siting(
        "mclp",
        "greedy",
        picked,
        float(np.asarray(weight, dtype=float)[covered].sum()),
        covered,
        seconds=time.perf_counter() - started,
    )


def greedy_set_covering(reach: csr_matrix, must: np.ndarray) -> Siting:
    """LSCP by the greedy rule: until every coverable feature of ``must`` is covered, the
    candidate covering the most of those still uncovered (ties: the lowest index)."""
    started = time.perf_counter()
    must, uncoverable = _coverable(reach, must)
    answer = greedy_maximal_covering(reach, must.astype(float), reach.shape[0])
    return Siting(
        "lscp",
        "greedy",
        answer.chosen,
        float(must[answer.covered_features].sum()),
        answer.covered_features,
        seconds=time.perf_counter() - started,
        uncoverable=uncoverable,
    )


def _coverable(reach: csr_matrix, must: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    reachable = np.asarray(reach.sum(axis=0)).ravel() > 0
    must = np.asarray(must, dtype=bool)
    return must & reachable, np.flatnonzero(must & ~reachable)


def maximal_covering(
    reach: csr_matrix,
    weight: np.ndarray,
    k: int,
    *,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> Siting:
    """MCLP solved exactly by HiGHS: the ``k`` candidates covering the most ``weight``.

    Parameters
    ----------
    reach
        ``(n_candidates, n_features)`` booleans (:func:`coverage_matrix`).
    weight
        ``(n_features,)`` residents to cover; 0 for features already covered or not
        counted.
    k
        How many new sites (at least 1).
    time_limit_s
        Wall-clock limit of the solve; the best answer found by then is returned with
        ``status="time_limit"`` and the gap.
    """
    started = time.perf_counter()
    weight = np.asarray(weight, dtype=float)
    useful = np.flatnonzero((weight > 0) & (np.asarray(reach.sum(axis=0)).ravel() > 0))
    n_candidates = reach.shape[0]
    sub = csc_matrix(reach[:, useful], dtype=np.float64)
    # columns: x (candidates, binary) then y (useful features, continuous in [0, 1])
    # rows: y_i - sum_j a_ji x_j <= 0 per useful feature, then sum_j x_j <= k
    n_y = len(useful)
    cover_rows = -sub.T.tocsc()  # (n_y, n_candidates): column j lists the features j covers
    x_columns = _stack_rows(cover_rows, np.ones(n_candidates), n_y)
    y_columns = csc_matrix((np.ones(n_y), (np.arange(n_y), np.arange(n_y))), shape=(n_y + 1, n_y))
    matrix = hstack([x_columns, y_columns], format="csc")
    start = greedy_maximal_covering(reach, weight, k)
    answer = _solve(
        matrix,
        cost=np.concatenate([np.zeros(n_candidates), weight[useful]]),
        lower=np.zeros(n_candidates + n_y),
        upper=np.ones(n_candidates + n_y),
        integer=np.r_[np.ones(n_candidates, dtype=bool), np.zeros(n_y, dtype=bool)],
        row_lower=np.full(n_y + 1, -np.inf),
        row_upper=np.r_[np.zeros(n_y), float(k)],
        maximise=True,
        time_limit_s=time_limit_s,
    )
    chosen = start.chosen
    if answer.values is not None:
        solved = np.flatnonzero(answer.values[:n_candidates] > 0.5)
        if weight[_covered_by(reach, solved)].sum() >= start.covered:
            chosen = solved
    covered = _covered_by(reach, chosen)
    value = float(weight[covered].sum())
    return Siting(
        "mclp",
        answer.status,
        chosen,
        value,
        covered,
        gap=_gap(value, answer.bound),
        bound=answer.bound,
        seconds=time.perf_counter() - started,
    )


def set_covering(
    reach: csr_matrix, must: np.ndarray, *, time_limit_s: float = DEFAULT_TIME_LIMIT_S
) -> Siting:
    """LSCP solved exactly by HiGHS: the fewest candidates covering every feature of
    ``must`` (booleans) that some candidate reaches; the others are ``uncoverable``."""
    started = time.perf_counter()
    start = greedy_set_covering(reach, must)
    must, uncoverable = _coverable(reach, must)
    rows = np.flatnonzero(must)
    n_candidates = reach.shape[0]
    matrix = csc_matrix(reach[:, rows].T, dtype=np.float64)  # (features, candidates)
    answer = _solve(
        matrix,
        cost=np.ones(n_candidates),
        lower=np.zeros(n_candidates),
        upper=np.ones(n_candidates),
        integer=np.ones(n_candidates, dtype=bool),
        row_lower=np.ones(len(rows)),
        row_upper=np.full(len(rows), np.inf),
        maximise=False,
        time_limit_s=time_limit_s,
    )
    chosen = start.chosen
    if answer.values is not None:
        solved = np.flatnonzero(answer.values > 0.5)
        if len(solved) <= len(chosen) and _covered_by(reach, solved)[must].all():
            chosen = solved
    covered = _covered_by(reach, chosen)
    return Siting(
        "lscp",
        answer.status,
        chosen,
        float(must[covered].sum()),
        covered,
        gap=_gap(float(len(chosen)), answer.bound),
        bound=answer.bound,
        seconds=time.perf_counter() - started,
        uncoverable=uncoverable,
    )


def _gap(value: float, bound: float | None) -> float | None:
    """Relative gap between an answer's ``value`` and the solver's proven ``bound``."""
    if bound is None:
        return None
    return abs(bound - value) / max(abs(value), 1e-9) if bound != value else 0.0


def _stack_rows(top: csc_matrix, last_row: np.ndarray, n_top: int) -> csc_matrix:
    """``top`` (n_top rows) with one more row ``last_row`` below it."""
    coo = top.tocoo()
    n = top.shape[1]
    return csc_matrix(
        (
            np.concatenate([coo.data, last_row]),
            (np.concatenate([coo.row, np.full(n, n_top)]), np.concatenate([coo.col, np.arange(n)])),
        ),
        shape=(n_top + 1, n),
    )


_BANNER = threading.Lock()
_banner_shown = False


def _banner_to_stderr() -> None:
    """HiGHS prints a banner on stdout (from C) when a process makes its first solver;
    make that one with stdout pointed at stderr, so stdout stays the caller's (JSON)."""
    global _banner_shown
    with _BANNER:
        if _banner_shown:
            return
        import highspy

        sys.stdout.flush()
        saved = os.dup(1)
        try:
            os.dup2(2, 1)
            highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_shown = True


@dataclass(frozen=True)
class _Solved:
    status: str
    values: np.ndarray | None  # None: no answer found in time
    bound: float | None


def _solve(
    matrix: csc_matrix,
    *,
    cost: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    integer: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    maximise: bool,
    time_limit_s: float,
) -> _Solved:
    """One MIP through highspy (column-wise sparse matrix), silent, one thread.

    Not warm-started: with presolve on, HiGHS 1.16 reported a wrong optimum after
    ``setSolution`` (172 sites "optimal" where 173 is); the callers keep the greedy
    answer when the solver has none better in time instead."""
    import highspy

    _banner_to_stderr()
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("time_limit", float(time_limit_s))
    solver.setOptionValue("threads", 1)
    solver.setOptionValue("mip_rel_gap", 0.0)
    inf = highspy.kHighsInf
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = matrix.shape[1], matrix.shape[0]
    model.col_cost_ = cost.astype(float)
    model.col_lower_, model.col_upper_ = lower.astype(float), upper.astype(float)
    model.row_lower_ = np.where(np.isinf(row_lower), -inf, row_lower).astype(float)
    model.row_upper_ = np.where(np.isinf(row_upper), inf, row_upper).astype(float)
    model.sense_ = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    model.a_matrix_.index_ = matrix.indices.astype(np.int32)
    model.a_matrix_.value_ = matrix.data.astype(float)
    model.integrality_ = [
        highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
        for flag in integer
    ]
    solver.passModel(model)
    solver.run()
    status = solver.getModelStatus()
    info = solver.getInfo()
    found = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if status == highspy.HighsModelStatus.kOptimal:
        label = "optimal"
    elif status == highspy.HighsModelStatus.kTimeLimit:
        label = "time_limit"
    else:
        raise SolverFailed(f"HiGHS found no answer: {solver.modelStatusToString(status)}")
    values = np.asarray(solver.getSolution().col_value) if found else None
    bound = float(info.mip_dual_bound) + 0.0 if np.isfinite(info.mip_dual_bound) else None
    return _Solved(label, values, bound)
