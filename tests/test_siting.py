"""Where to build: maximal covering (MCLP) and set covering (LSCP) — a worked example,
brute force on small random problems, spopt on the demo district, and the chosen sites
opened as a what-if scenario cover what the matrix says."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse import random as sparse_random

from geo_service.analysis.siting import (
    coverage_matrix,
    greedy_maximal_covering,
    greedy_set_covering,
    maximal_covering,
    set_covering,
)
from geo_service.analysis.siting_inputs import candidate_nodes, siting_inputs
from geo_service.analysis.whatif import what_if
from geo_service.api.app import create_app
from geo_service.settings import Settings
from tests.planning_reference import spopt_maximal_covering, spopt_set_covering

# --- a worked example ------------------------------------------------------------------
#
# Three candidates, four compounds (residents 100, 60, 50, 40):
#   A covers compounds 0 and 1 (160), B covers 1 and 2 (110), C covers 2 and 3 (90).
# One site: A (160). Two sites: A and C cover everyone (250); A and B 210; B and C 150.
# Set covering: A and C, two sites. Greedy takes A, then C (90 left > B's 50): the same.
WORKED = csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], dtype=bool))
RESIDENTS = np.array([100.0, 60.0, 50.0, 40.0])


@pytest.mark.parametrize(("k", "chosen", "covered"), [(1, [0], 160.0), (2, [0, 2], 250.0)])
def test_the_worked_example(k, chosen, covered):
    exact = maximal_covering(WORKED, RESIDENTS, k)
    assert (exact.status, exact.chosen.tolist(), exact.covered) == ("optimal", chosen, covered)
    assert exact.gap == 0.0
    greedy = greedy_maximal_covering(WORKED, RESIDENTS, k)
    assert (greedy.status, greedy.chosen.tolist(), greedy.covered) == ("greedy", chosen, covered)
    lscp = set_covering(WORKED, np.ones(4, dtype=bool))
    assert (lscp.status, lscp.chosen.tolist(), lscp.covered) == ("optimal", [0, 2], 4.0)


def test_what_is_covered_already_counts_nothing_and_unreachable_is_reported():
    weight = RESIDENTS * [0, 0, 1, 1]  # compounds 0 and 1 are covered today
    assert maximal_covering(WORKED, weight, 1).chosen.tolist() == [2]
    reach = csr_matrix(np.c_[WORKED.toarray(), np.zeros(3, dtype=bool)])  # a fifth, out of reach
    must = np.array([False, False, True, True, True])
    answer = set_covering(reach, must)
    assert answer.chosen.tolist() == [2] and answer.uncoverable.tolist() == [4]
    assert greedy_set_covering(reach, must).uncoverable.tolist() == [4]


def _random_problem(seed: int, n_candidates: int = 10, n_features: int = 25):
    rng = np.random.default_rng(seed)
    reach = sparse_random(n_candidates, n_features, density=0.18, random_state=seed) > 0
    return csr_matrix(reach), rng.integers(1, 500, n_features).astype(float)


def _covered_weight(reach, weight, chosen) -> float:
    return float(weight[np.asarray(reach[list(chosen)].sum(axis=0)).ravel() > 0].sum())


@pytest.mark.parametrize("seed", range(6))
def test_exact_answers_equal_brute_force_and_beat_or_tie_greedy(seed):
    reach, weight = _random_problem(seed)
    for k in (1, 2, 3):
        best = max(
            _covered_weight(reach, weight, chosen)
            for chosen in itertools.combinations(range(reach.shape[0]), k)
        )
        exact = maximal_covering(reach, weight, k)
        assert exact.status == "optimal" and exact.covered == best
        assert _covered_weight(reach, weight, exact.chosen) == best
        assert greedy_maximal_covering(reach, weight, k).covered <= best
    must = np.ones(reach.shape[1], dtype=bool)
    lscp = set_covering(reach, must)
    coverable = np.asarray(reach.sum(axis=0)).ravel() > 0
    fewest = next(
        size
        for size in range(1, reach.shape[0] + 1)
        for chosen in itertools.combinations(range(reach.shape[0]), size)
        if (np.asarray(reach[list(chosen)].sum(axis=0)).ravel() > 0)[coverable].all()
    )
    assert len(lscp.chosen) == fewest and lscp.covered == coverable.sum()
    assert len(greedy_set_covering(reach, must).chosen) >= fewest


def test_coverage_matrix_takes_a_features_best_entrance():
    # candidate 0 reaches points 0 (220 m) and 1 (480 m); candidate 1 reaches point 2 (90 m)
    distance = csr_matrix(([220.0, 480.0, 90.0], ([0, 0, 1], [0, 1, 2])), shape=(2, 3))
    owner = np.array([0, 1, 1])  # point 0 is feature 0; points 1 and 2 are feature 1's gates
    reach = coverage_matrix(distance, owner, 2, criterion_m=300.0)
    assert reach.toarray().tolist() == [[True, False], [False, True]]
    assert coverage_matrix(distance, owner, 2, 500.0).toarray().tolist() == [
        [True, True],
        [False, True],
    ]


# --- the demo district -----------------------------------------------------------------


@pytest.fixture(scope="module")
def context(tmp_path_factory, seeded_derived):
    folder = tmp_path_factory.mktemp("siting")
    derived = seeded_derived(folder / "derived")
    app = create_app(Settings(derived_dir=derived, state_dir=folder / "state"))
    return app.state.coverage


@pytest.fixture(scope="module")
def problem(context):
    baseline = context.whatif
    candidates = candidate_nodes(baseline.graph, 250.0)
    return siting_inputs(baseline, baseline.centres, candidates, context.params.circle_m(10))


def test_candidates_are_one_node_per_square_nearest_its_centre(context):
    graph = context.graph
    spacing = 250.0
    candidates = candidate_nodes(graph, spacing)
    main = graph.nodes[graph.component == graph.main_component]
    cells = {tuple(c) for c in np.floor(main / spacing).astype(int)}
    assert len(candidates) == len(cells)
    for x, y in candidates[::97]:
        cell = np.floor(np.array([x, y]) / spacing)
        inside = main[(np.floor(main / spacing) == cell).all(axis=1)]
        centre = (cell + 0.5) * spacing
        assert np.hypot(x - centre[0], y - centre[1]) == pytest.approx(
            np.hypot(*(inside - centre).T).min()
        )


def _useful(problem) -> tuple[np.ndarray, np.ndarray]:
    """The features still to cover that some candidate reaches, and the candidates that
    reach one of them: the rest cannot change an answer (spopt gets only these, as its
    dense model of the whole would take minutes)."""
    reach = problem.reach
    features = np.flatnonzero(~problem.covered_today & (np.asarray(reach.sum(axis=0)).ravel() > 0))
    candidates = np.flatnonzero(np.asarray(reach[:, features].sum(axis=1)).ravel() > 0)
    return features, candidates


@pytest.mark.parametrize("k", [5, pytest.param(25, marks=pytest.mark.slow)])
def test_mclp_equals_spopt_on_the_demo(problem, k):
    weight = problem.to_cover
    ours = maximal_covering(problem.reach, weight, k)
    features, candidates = _useful(problem)
    sub = problem.reach[candidates][:, features]
    opened = candidates[spopt_maximal_covering(sub, weight[features], problem.criterion_m, k)]
    assert ours.status == "optimal"
    assert ours.covered == pytest.approx(_covered_weight(problem.reach, weight, opened))
    assert ours.covered >= greedy_maximal_covering(problem.reach, weight, k).covered > 0


def test_lscp_equals_spopt_on_the_demo(problem):
    must = ~problem.covered_today
    ours = set_covering(problem.reach, must)
    features, candidates = _useful(problem)
    opened = spopt_set_covering(problem.reach[candidates][:, features], problem.criterion_m)
    assert ours.status == "optimal" and len(ours.chosen) == opened
    assert len(ours.uncoverable) == must.sum() - len(features)


def test_a_time_limit_returns_the_best_answer_found_and_says_so(problem):
    quick = maximal_covering(problem.reach, problem.to_cover, 25, time_limit_s=1e-9)
    assert quick.status == "time_limit"
    greedy = greedy_maximal_covering(problem.reach, problem.to_cover, 25)
    assert quick.covered >= greedy.covered and len(quick.chosen) <= 25
    # stopped before the solver had a bound: no gap is claimed (not a gap of 0)
    assert quick.bound is None and quick.gap is None
    best = maximal_covering(problem.reach, problem.to_cover, 25)
    assert best.status == "optimal" and best.gap == 0.0 and best.bound == best.covered


def test_the_chosen_sites_opened_as_a_scenario_cover_what_the_matrix_says(context, problem):
    answer = maximal_covering(problem.reach, problem.to_cover, 10)
    xy = problem.candidates_xy[answer.chosen]
    config = context.profile.analysis
    added = gpd.GeoDataFrame(
        {
            "id": [f"new-{k + 1}" for k in range(len(xy))],
            "level": config.levels[-1].key,
            "services": ";".join(config.service_keys),
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=context.graph.crs,
    )
    outcome = what_if(context.whatif, added, [])
    minutes = next(c.minutes for c in context.params.circles if c.distance_m == problem.criterion_m)
    before = outcome["before"]["district"][f"residents_{minutes}"]
    after = outcome["after"]["district"][f"residents_{minutes}"]
    assert before == pytest.approx(problem.population[problem.covered_today].sum())
    assert after - before == pytest.approx(answer.covered)
