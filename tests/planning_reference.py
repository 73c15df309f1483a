"""The field's implementations of our planning methods, for checking ours (tests) and
timing against them (``bench/planning.py``): spopt's MCLP and LSCP given the same
coverage matrix, PySAL ``access``'s E2SFCA given the same walks."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix


def _cost(reach: csr_matrix, criterion_m: float) -> np.ndarray:
    """Dense (features, candidates) cost, as spopt takes it: 0 where a candidate covers a
    feature, far beyond the radius where it does not."""
    return np.where(reach.T.toarray(), 0.0, 10 * criterion_m)


def spopt_maximal_covering(
    reach: csr_matrix, weight: np.ndarray, criterion_m: float, k: int
) -> np.ndarray:
    """The candidates (indices) spopt's MCLP opens, solved by HiGHS through PuLP."""
    import pulp
    from spopt.locate import MCLP

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # spopt 0.7 on PuLP 3.3
        model = MCLP.from_cost_matrix(
            _cost(reach, criterion_m), weight, service_radius=criterion_m, p_facilities=k
        ).solve(pulp.HiGHS(msg=False))
    assert model.problem.status == pulp.LpStatusOptimal
    return np.array([j for j, clients in enumerate(model.fac2cli) if len(clients)], dtype=int)


def spopt_set_covering(reach: csr_matrix, criterion_m: float) -> int:
    """How many sites spopt's LSCP opens to cover every feature (column) of ``reach``."""
    import pulp
    from spopt.locate import LSCP

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model = LSCP.from_cost_matrix(_cost(reach, criterion_m), service_radius=criterion_m)
        model.solve(pulp.HiGHS(msg=False))
    assert model.problem.status == pulp.LpStatusOptimal
    return sum(1 for clients in model.fac2cli if len(clients))


def access_e2sfca(
    centre_ids: np.ndarray,
    walks_m: csr_matrix,
    feature_ids: np.ndarray,
    population: np.ndarray,
    capacity: pd.Series,
    weight_fn,
    max_cost: float,
) -> np.ndarray:
    """PySAL ``access``'s E2SFCA scores per feature, from the walks ``(centres,
    features)`` in metres, the centres' ``capacity`` (by id), the decay ``weight_fn``
    (metres → weight) and the catchment ``max_cost`` (metres)."""
    from access import Access

    pairs = walks_m.tocoo()
    cost = pd.DataFrame(
        {"centre": centre_ids[pairs.row], "feature": feature_ids[pairs.col], "metres": pairs.data}
    )
    demand = pd.DataFrame({"id": feature_ids, "population": population}).set_index("id")
    supply = pd.DataFrame({"id": centre_ids, "capacity": capacity.reindex(centre_ids).to_numpy()})
    model = Access(
        demand_df=demand,
        demand_value="population",
        supply_df=supply.set_index("id"),
        supply_value="capacity",
        cost_df=cost,
        cost_origin="feature",
        cost_dest="centre",
        cost_name="metres",
    )
    scores = model.enhanced_two_stage_fca(
        name="e2sfca", cost="metres", max_cost=max_cost, weight_fn=weight_fn
    )
    return scores["e2sfca_capacity"].reindex(feature_ids).fillna(0.0).to_numpy()
