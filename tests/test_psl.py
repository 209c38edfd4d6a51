"""PSL on differentiable problems: budget accounting, bounds, determinism, checkpoints, improvement."""
import io
import math

import numpy as np
import pytest
import torch

import moo
from moo.algorithms.psl import PSL
from moo.errors import MooTypeError, ShapeError
from moo.problem import Problem

BUDGET = 700
SMALL = dict(hidden=(16, 16), n_snapshot=20, snapshot_every=20, lr=3e-3, lr_schedule="constant")


def run(problem, budget=BUDGET, seed=0, stop=None, **options):
    a = PSL(**{**SMALL, **options})
    a.setup(problem, seed=seed, device="cpu", budget=budget)
    snaps = []
    while a.n_evals < (stop or budget):
        info = a.step()
        assert info.n_evals > 0 and a.n_evals <= budget
        if info.F is not None:
            snaps.append(info.F)
    return a, snaps


@pytest.fixture(scope="module")
def zdt1():
    return moo.get_problem("zdt1", n_var=5)


def hv(F):
    from moocore import hypervolume

    return hypervolume(F.numpy(), ref=np.array([1.1, 1.1]))


def test_budget_bounds_and_improvement(zdt1):
    a, snaps = run(zdt1)
    assert a.n_evals == BUDGET
    X, F = a.archive
    assert X.shape[1] == 5 and bool((X >= 0).all() and (X <= 1).all())
    assert len(snaps) >= 3 and all(s.shape == (20, 2) for s in snaps)
    # the learned set improves: last snapshot's hypervolume beats the first one's
    assert hv(snaps[-1]) > hv(snaps[0]) + 0.05
    Xa, Fa = a.approximation()
    assert torch.allclose(zdt1.evaluate(Xa), Fa) and Fa.shape[0] <= 20


def test_cosine_lr_schedule(zdt1):
    """lr_schedule="cosine": each training step runs at lr * (1 + cos(pi * n_evals / budget)) / 2,
    with n_evals counted before the step; without a budget, and with "constant", lr stays."""
    a = PSL(**{**SMALL, "lr_schedule": "cosine"})
    a.setup(zdt1, seed=0, device="cpu", budget=BUDGET)
    for _ in range(30):
        before = a.n_evals
        a.step()
        expected = 3e-3 * 0.5 * (1 + math.cos(math.pi * before / BUDGET))
        assert a.optimizer.param_groups[0]["lr"] == pytest.approx(expected, rel=1e-12)
    assert a.optimizer.param_groups[0]["lr"] < 3e-3 * 0.9
    unbounded = PSL(**{**SMALL, "lr_schedule": "cosine"})
    unbounded.setup(zdt1, seed=0, device="cpu")
    for _ in range(5):
        unbounded.step()
    assert unbounded.optimizer.param_groups[0]["lr"] == 3e-3
    with pytest.raises(moo.MooValueError, match="lr_schedule"):
        PSL(lr_schedule="step").setup(zdt1, device="cpu")


def test_pareto_set_shapes_bounds_and_errors():
    p = moo.get_problem("zdt1", n_var=4)
    p.bounds = torch.tensor([[-2.0] * 4, [3.0] * 4], dtype=torch.float64)  # a non-unit box
    a, _ = run(p, budget=150)
    X = a.pareto_set(torch.tensor([[0.3, 0.7], [1.0, 0.0], [0.0, 1.0]]))
    assert X.shape == (3, 4) and X.dtype == torch.float64
    assert bool((X >= -2).all() and (X <= 3).all())
    assert a.pareto_set([0.5, 0.5]).shape == (1, 4)
    with pytest.raises(ShapeError, match="prefs"):
        a.pareto_set(torch.ones(2, 3))


def test_same_seed_same_result(zdt1):
    a, _ = run(zdt1, budget=250)
    b, _ = run(zdt1, budget=250)
    c, _ = run(zdt1, budget=250, seed=1)
    w = torch.tensor([[0.2, 0.8]])
    assert torch.equal(a.archive[1], b.archive[1]) and torch.equal(a.pareto_set(w), b.pareto_set(w))
    assert not torch.equal(a.pareto_set(w), c.pareto_set(w))


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_checkpoint_resume_is_exact(zdt1, schedule):
    full, _ = run(zdt1, budget=300, lr_schedule=schedule)
    half, _ = run(zdt1, budget=300, stop=150, lr_schedule=schedule)
    buf = io.BytesIO()
    torch.save(half.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    resumed = PSL(**{**SMALL, "lr_schedule": schedule})
    resumed.setup(zdt1, seed=0, device="cpu", budget=300)
    resumed.load_archive(*half.archive)
    resumed.load_state_dict(state)
    while resumed.n_evals < 300:
        resumed.step()
    w = torch.tensor([[0.4, 0.6]])
    assert torch.equal(full.pareto_set(w), resumed.pareto_set(w))
    assert torch.equal(full.archive[1], resumed.archive[1])


def test_solve_and_result_pareto_set(zdt1):
    res = moo.solve(zdt1, "psl", budget=120, seed=0, progress=False, **SMALL)
    X = res.pareto_set(torch.tensor([[0.5, 0.5]]))
    assert X.shape == (1, 5)


def test_needs_differentiable_problem():
    class BlackBox(Problem):
        def __init__(self):
            super().__init__(2, 2, [[0, 0], [1, 1]])

        def _evaluate(self, X):
            return X

    with pytest.raises(MooTypeError, match="differentiable"):
        PSL().setup(BlackBox(), device="cpu")


def test_phn_rejects_a_box_it_cannot_represent():
    with pytest.raises(moo.MooValueError, match="phn outputs target-network weights in a box"):
        moo.solve("zdt1", "phn", budget=100, seed=0, device="cpu", progress=False)
