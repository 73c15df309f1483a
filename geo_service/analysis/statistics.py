"""Population-weighted coverage figures from an access table (one row per compound).

Pure functions on DataFrames from :func:`geo_service.analysis.coverage.compound_access`
(plus group and population columns): numpy sums by group codes (``np.bincount``) and
weighted quantiles from sorted cumulative weights; one DataFrame built per result.
Distances in metres, times in minutes at the run's walking speed.
"""

from __future__ import annotations

from itertools import compress

import numpy as np
import pandas as pd

from geo_service.coverage_params import CoverageParams

#: The group of demand features that lie in no area of a level.
OUTSIDE_AREAS = "(none)"


def column(key: str, what: str) -> str:
    """The output column for facility set ``key``: ``m``, ``min``, ``id`` or ``circle``."""
    return f"{key}_{what}"


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` weighted by ``weights`` (inverted CDF); NaN if empty."""
    values = np.asarray(values, dtype=float)
    codes = np.zeros(len(values), dtype=int)
    return float(_grouped_quantile(codes, 1, values, np.asarray(weights, dtype=float), q)[0])


def _groups(access: pd.DataFrame, by: str | None) -> tuple[np.ndarray, list]:
    if by is None:
        return np.zeros(len(access), dtype=int), ["all"]
    values = access[by]
    # Demand outside every area is a group of its own, not left out.
    codes, names = pd.factorize(values.where(values.notna(), OUTSIDE_AREAS), sort=True)
    return codes, list(names)


def _group_frame(table: dict[str, object], names: list) -> pd.DataFrame:
    """One row per group, indexed by ``group``."""
    return pd.DataFrame(table, index=pd.Index(names, name="group"))


def _grouped_sums(codes: np.ndarray, n: int, weights: np.ndarray) -> np.ndarray:
    """Sums of each row of ``weights`` (``(k, len(codes))``) by group: ``(k, n)``."""
    k = len(weights)
    bins = (codes[None, :] + n * np.arange(k)[:, None]).ravel()
    return np.bincount(bins, weights=weights.ravel(), minlength=k * n).reshape(k, n)


def _grouped_quantile(
    codes: np.ndarray, n: int, values: np.ndarray, weights: np.ndarray, q: float
) -> np.ndarray:
    """Weighted ``q`` quantile of ``values`` within each group (inverted CDF); NaN values
    and zero weights are left out; NaN for a group with nothing left."""
    keep = ~np.isnan(values) & (weights > 0)
    codes, values, weights = codes[keep], values[keep], weights[keep]
    order = np.lexsort((values, codes))
    codes, values, weights = codes[order], values[order], weights[order]
    cumulative = np.cumsum(weights)
    totals = np.bincount(codes, weights=weights, minlength=n)
    before = np.concatenate([[0.0], np.cumsum(totals)[:-1]])
    index = np.searchsorted(cumulative, before + q * totals, side="left")
    result = np.full(n, np.nan)
    has = totals > 0
    result[has] = values[np.minimum(index[has], len(values) - 1)]
    return result


def coverage_figures(
    codes: np.ndarray, n: int, metres: np.ndarray, people: np.ndarray, params: CoverageParams
) -> dict[str, np.ndarray]:
    """The figures of :func:`coverage_statistics` as arrays, one value per group.

    ``codes`` gives each demand feature's group (0..n-1), ``metres`` its unrounded walk to
    the nearest facility (NaN: none reached), ``people`` its residents. Shares are rounded
    to 4 decimals and minutes to 2 after being decided on the unrounded values.
    """
    minutes = params.minutes(metres)
    reached = ~np.isnan(metres)
    residents = np.bincount(codes, weights=people, minlength=n)
    table: dict[str, np.ndarray] = {
        "residents": residents.astype(int),
        "compounds": np.bincount(codes, minlength=n),
    }
    beyond_nan = np.nan_to_num(metres, nan=np.inf)
    for circle in params.circles:
        inside = reached & (beyond_nan <= circle.distance_m)
        covered = np.bincount(codes, weights=people * inside, minlength=n)
        table[f"residents_{circle.minutes}"] = covered.astype(int)
        table[f"compounds_{circle.minutes}"] = np.bincount(
            codes, weights=inside, minlength=n
        ).astype(int)
        table[f"share_{circle.minutes}"] = np.round(
            np.divide(covered, residents, out=np.zeros(n), where=residents > 0), 4
        )
    reached_people = np.bincount(codes, weights=people * reached, minlength=n)
    table["unreached_residents"] = (residents - reached_people).astype(int)
    weighted_minutes = np.bincount(
        codes, weights=np.where(reached, people * minutes, 0.0), minlength=n
    )
    table["mean_min"] = np.round(
        np.divide(
            weighted_minutes, reached_people, out=np.full(n, np.nan), where=reached_people > 0
        ),
        2,
    )
    table["p90_min"] = np.round(_grouped_quantile(codes, n, minutes, people, 0.9), 2)
    return table


def coverage_statistics(
    access: pd.DataFrame,
    key: str,
    params: CoverageParams,
    *,
    by: str | None = None,
    weight: str = "population",
) -> pd.DataFrame:
    """Residents and compounds within each life circle of facility set ``key``, the share
    of residents covered, and population-weighted mean and 90th-percentile minutes.

    One row per value of ``by`` (or one row, ``all``). Compounds that reach no facility
    count as uncovered and are left out of the mean and percentile (``unreached_*``).
    """
    codes, names = _groups(access, by)
    table = coverage_figures(
        codes,
        len(names),
        access[column(key, "m")].to_numpy(float),
        access[weight].to_numpy(float),
        params,
    )
    return _group_frame(table, names)


def group_codes(values: pd.Series) -> tuple[np.ndarray, list]:
    """Each value's group (0..n-1, sorted; missing values are :data:`OUTSIDE_AREAS`) and
    the groups' names."""
    return _groups(values.to_frame("group"), "group")


def coverage_gaps(access: pd.DataFrame, key: str, params: CoverageParams) -> pd.DataFrame:
    """Compounds outside the widest life circle of facility set ``key`` (or unreachable),
    ranked by residents (rank 1 = most residents; of equal ones the farther first)."""
    metres = access[column(key, "m")].to_numpy(float)
    outside = np.flatnonzero(np.nan_to_num(metres, nan=np.inf) > params.widest_m)
    population = access["population"].to_numpy(float, na_value=np.nan)[outside]
    # descending, missing values last, ties in table order (as a stable pandas sort)
    order = np.lexsort((-metres[outside], -population))
    gaps = access.take(outside[order])
    gaps["rank"] = np.arange(1, len(outside) + 1)
    return gaps


def life_circle_check(
    access: pd.DataFrame,
    types: list[tuple[str, float]],
    params: CoverageParams,
    *,
    by: str,
) -> pd.DataFrame:
    """Per ``by`` group: the share of residents within each facility type's own distance
    (``types``: ``(key, metres)``, the type's life circle under the run's criterion), and
    the types fewer than ``life_circle_min_share`` of residents reach within it."""
    codes, names = _groups(access, by)
    n, k = len(names), len(types)
    people = access["population"].to_numpy(float)
    residents = np.bincount(codes, weights=people, minlength=n)
    metres = np.empty((k, len(access)))
    for j, (key, _) in enumerate(types):
        metres[j] = access[column(key, "m")].to_numpy(float)
    limits = np.array([distance for _, distance in types], dtype=float)[:, None]
    inside = np.nan_to_num(metres, nan=np.inf) <= limits
    covered = _grouped_sums(codes, n, people * inside)
    share = np.divide(covered, residents, out=np.zeros((k, n)), where=residents > 0)
    lacking = share < params.life_circle_min_share
    keys = [key for key, _ in types]
    table: dict[str, object] = {f"reach_{key}": np.round(share[j], 4) for j, key in enumerate(keys)}
    table["lacks"] = [";".join(compress(keys, row)) for row in lacking.T.tolist()]
    table["lacks_count"] = lacking.sum(axis=0)
    return _group_frame(table, names)
