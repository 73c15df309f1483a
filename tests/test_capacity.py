"""Capacity-aware access (E2SFCA): a 3×3 example worked by hand, PySAL's ``access`` on
the demo district's walks, and the supply every resident shares adds up."""

from __future__ import annotations

import numpy as np
import pytest
from access import weights
from scipy.sparse import csr_matrix

from geo_service.analysis.capacity import (
    Decay,
    area_scores,
    centre_capacity_access,
    e2sfca,
    shortest_per_owner,
)
from geo_service.api.app import create_app
from geo_service.settings import Settings
from tests.planning_reference import access_e2sfca

STEPS = Decay.steps((300.0, 500.0, 1000.0))


def test_step_and_gaussian_decay():
    d = np.array([0.0, 300.0, 300.1, 500.0, 999.0, 1000.0, 1000.1])
    assert STEPS(d).tolist() == [1.0, 1.0, 0.68, 0.68, 0.22, 0.22, 0.0]
    gaussian = Decay.gaussian(1000.0)
    assert gaussian(np.array([0.0]))[0] == pytest.approx(1.0)
    assert gaussian(np.array([1000.0]))[0] == pytest.approx(0.0, abs=1e-12)
    assert gaussian(np.array([1500.0]))[0] == 0.0
    assert np.all(np.diff(gaussian(np.linspace(0, 1000, 11))) < 0)


def test_three_centres_three_compounds_worked_by_hand():
    # Centres A, B, C serve 100, 50, 30 at once; compounds x, y, z have 1000, 500, 200
    # residents. Walks: A-x 200 m (weight 1), A-y 600 m (0.22), B-y 250 m (1),
    # B-z 450 m (0.68), C-z 900 m (0.22).
    distance = csr_matrix(
        ([200.0, 600.0, 250.0, 450.0, 900.0], ([0, 0, 1, 1, 2], [0, 1, 1, 2, 2])), shape=(3, 3)
    )
    result = e2sfca(distance, np.array([100.0, 50.0, 30.0]), np.array([1000, 500, 200]), STEPS)
    # Step 1: residents reaching each centre, decayed; its capacity shared among them.
    assert result.reached.tolist() == pytest.approx(
        [1000 + 0.22 * 500, 500 + 0.68 * 200, 0.22 * 200]
    )
    r_a, r_b, r_c = 100 / 1110, 50 / 636, 30 / 44
    assert result.ratio.tolist() == pytest.approx([r_a, r_b, r_c])
    # Step 2: each compound sums the ratios of the centres it reaches, decayed.
    assert result.score.tolist() == pytest.approx([r_a, 0.22 * r_a + r_b, 0.68 * r_b + 0.22 * r_c])


def test_a_centre_nobody_reaches_and_a_compound_reaching_none():
    distance = csr_matrix(([100.0], ([0], [0])), shape=(2, 2))
    result = e2sfca(distance, np.array([10.0, 99.0]), np.array([20.0, 30.0]), STEPS)
    assert result.ratio[0] == pytest.approx(0.5) and np.isnan(result.ratio[1])
    assert result.score.tolist() == pytest.approx([0.5, 0.0])


def test_shortest_walk_per_centre_and_compound():
    # entries 0 and 1 are centre 0's doors, entry 2 centre 1's; points 0 and 1 are
    # compound 0's gates, point 2 compound 1's
    distance = csr_matrix(([400.0, 350.0, 120.0, 80.0], ([0, 1, 1, 2], [0, 1, 2, 2])), shape=(3, 3))
    per = shortest_per_owner(distance, np.array([0, 0, 1]), 2, np.array([0, 0, 1]), 2)
    assert per.toarray().tolist() == [[350.0, 120.0], [0.0, 80.0]]
    assert per.nnz == 3


def test_area_scores_weigh_by_residents():
    scores = area_scores(np.array([0.1, 0.4, 0.2]), np.array([100, 300, 0]), np.array([0, 0, 1]), 2)
    assert scores[0] == pytest.approx((0.1 * 100 + 0.4 * 300) / 400) and np.isnan(scores[1])


@pytest.fixture(scope="module")
def demo(tmp_path_factory, seeded_derived):
    folder = tmp_path_factory.mktemp("capacity")
    derived = seeded_derived(folder / "derived")
    app = create_app(Settings(derived_dir=derived, state_dir=folder / "state"))
    context, store = app.state.coverage, app.state.store
    centres = store.query("service_centres").set_index("id")
    return context, centres["capacity"].astype(float)


@pytest.mark.parametrize("decay", ["step", "gaussian"])
def test_scores_equal_pysal_access_on_the_demo(demo, decay):
    context, capacity = demo
    widest = context.params.widest_m
    if decay == "step":
        ours = Decay.steps(tuple(c.distance_m for c in context.params.circles))
        theirs = weights.step_fn(dict(zip(ours.limits_m, ours.weights, strict=True)))
    else:
        ours = Decay.gaussian(widest)
        theirs = ours  # the same function given to both: what differs is the method
    ids, walks, result = centre_capacity_access(context.whatif, capacity, ours)
    units = context.whatif.units
    expected = access_e2sfca(ids, walks, units.ids, units.population, capacity, theirs, widest)
    assert (expected > 0).sum() > 100
    np.testing.assert_allclose(result.score, expected, rtol=1e-9, atol=1e-15)


def test_the_supply_residents_share_adds_up_to_the_capacity_reached(demo):
    context, capacity = demo
    decay = Decay.steps(tuple(c.distance_m for c in context.params.circles))
    ids, _, result = centre_capacity_access(context.whatif, capacity, decay)
    reached = result.reached > 0
    shared = float(result.score @ context.whatif.units.population)
    assert shared == pytest.approx(capacity.reindex(ids).to_numpy()[reached].sum())
