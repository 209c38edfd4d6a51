"""The digits two-task problem, the EPO weights, and PHN training (tiny budgets)."""
import math

import numpy as np
import pytest
import torch

import moo
from moo.algorithms.phn import PHN, epo_weights
from moo.problems.multitask_digits import compose_digits


@pytest.fixture(scope="module")
def digits():
    return moo.get_problem("multitask-digits", n_train=300, n_val=50, n_test=200, hidden=8)


def test_compose_overlays_by_max():
    imgs = np.zeros((2, 8, 8))
    imgs[0, :, 7] = 1.0  # left digit: last column lit
    imgs[1, :, 0] = 0.5  # right digit: first column half lit
    rng = np.random.default_rng(0)
    x, y = compose_digits(imgs, np.array([3, 7]), 50, 4, rng)
    assert x.shape == (50, 8, 12) and y.shape == (50, 2)
    both = (y[:, 0] == 3) & (y[:, 1] == 7)
    assert both.any()
    # column 7 of the canvas holds the left digit's last column; column 4 the right digit's first
    assert np.allclose(x[both][:, :, 7], 1.0) and np.allclose(x[both][:, :, 4], 0.5)


def test_problem_losses_shapes_and_uniform_logits(digits):
    assert digits.n_var == 8 * 96 + 8 + 2 * (10 * 8 + 10)
    zero = torch.zeros(3, digits.n_var, dtype=torch.float64)
    F = digits.evaluate(zero)
    assert F.shape == (3, 2)
    assert torch.allclose(F, torch.full((3, 2), math.log(10), dtype=torch.float64))  # uniform prediction
    assert digits.accuracy(zero[0]).shape == (2,)
    w = digits.initial_weights(torch.Generator().manual_seed(0)).requires_grad_(True)
    digits.losses(w, "test").sum().backward()
    assert w.grad is not None and bool(torch.isfinite(w.grad).all())


def test_epo_weights_balance_and_descent():
    gram = np.eye(2)
    # task 0 is far above its share (r*l = 1 vs 0.5): EPO puts the weight on it
    a = epo_weights(np.array([2.0, 1.0]), gram, np.array([0.5, 0.5]))
    assert a is not None and a.sum() == pytest.approx(1) and a[0] > a[1] and (a >= 0).all()
    # balanced (r*l equal): pure descent, a direction that lowers both losses (gram @ a >= 0)
    gram = np.array([[1.0, -0.3], [-0.3, 2.0]])
    a = epo_weights(np.array([1.0, 3.0]), gram, np.array([0.75, 0.25]))
    assert a is not None and a.sum() == pytest.approx(1) and bool((gram @ a >= -1e-9).all())



def test_epo_balance_never_raises_the_worst_loss():
    """EPO's balance LP keeps the largest ``r_i L_i`` from rising (its constraint for J* has
    right-hand side 0, Mahapatra & Rajan 2020), also when that loss's ``(C a)`` entry is not
    positive, i.e. outside J."""
    from moo.algorithms.phn import _mu

    rng = np.random.default_rng(1)
    checked = 0
    for _ in range(3000):
        G = rng.normal(size=(3, 5))
        gram = G @ G.T
        losses, ray = rng.uniform(0.2, 2.0, 3), rng.dirichlet(np.ones(3))
        rl = ray * losses
        l_hat = rl / rl.sum()
        Ca = gram @ (ray * (np.log(l_hat * 3) - _mu(l_hat)))
        worst = int(np.argmax(rl))
        if _mu(l_hat) <= 1e-4 or not (Ca > 0).any() or Ca[worst] > 0:
            continue
        a = epo_weights(losses, gram, ray)
        assert a is not None and a.sum() == pytest.approx(1)
        assert (gram @ a)[worst] >= -1e-9  # first-order change of the worst loss is -(gram @ a)[worst]
        checked += 1
    assert checked >= 5

@pytest.mark.parametrize("solver", ["ls", "epo"])
def test_phn_trains_and_is_deterministic(digits, solver):
    def run():
        a = PHN(solver=solver, hidden=(16, 16), n_snapshot=3, lr=3e-3)
        a.setup(digits, seed=0, device="cpu", budget=43)
        while a.n_evals < 43:
            a.step()
        return a

    a, b = run(), run()
    X, F = a.last
    assert a.n_evals == 43 and X.shape == (3, digits.n_var) and F.shape == (3, 2)
    assert bool((F < math.log(10) - 0.3).all())  # learned something in 40 steps
    w = torch.tensor([[0.9, 0.1], [0.1, 0.9]])
    assert torch.equal(a.pareto_set(w), b.pareto_set(w))
    Fw = digits.evaluate(a.pareto_set(w))
    if solver == "ls":  # the ray that weights the left task more gives the lower left loss
        assert Fw[0, 0] < Fw[1, 0] and Fw[1, 1] < Fw[0, 1]


@pytest.mark.parametrize("solver", ["ls", "epo"])
def test_target_l2_shrinks_the_generated_weights(digits, solver):
    """``target_l2`` adds ``l2 * |w(r)|^2`` to the step's loss: the generated weights end smaller
    than without it, from the same seed and rays."""
    def norm(l2):
        a = PHN(solver=solver, hidden=(16, 16), n_snapshot=3, lr=3e-3, target_l2=l2)
        a.setup(digits, seed=0, device="cpu")
        for _ in range(30):
            a.step()
        return float(a.pareto_set(torch.tensor([[0.5, 0.5]])).norm())

    assert norm(0.05) < 0.8 * norm(0.0)


def test_phn_rejects_unknown_solver(digits):
    with pytest.raises(moo.MooValueError, match="solver"):
        PHN(solver="mgda").setup(digits, device="cpu")
