"""SVH-PSL: kernel and bandwidth formulas, the Stein update against a per-particle autograd
computation, and the algorithm contract (shapes, bounds, determinism, checkpoints)."""
import math

import pytest
import torch

import moo
from moo.errors import MooValueError
from moo.indicators import hypervolume
from moo.registry import get_algorithm
from moo.algorithms.hypernetwork import ParetoSetModel
from moo.algorithms.moo_svgd import rbf_objective_kernel
from moo.algorithms.svh_psl import SVHPSL, local_kernel, tchebycheff_active

TINY = dict(n_init=6, batch_size=2, n_steps=4, n_pref_update=4, n_candidate=40, hidden=(8, 8), n_test_per_obj=5)


def test_local_kernel_matches_hand_computation():
    L = torch.tensor([[0.0, 1.0], [1.0, 3.0], [3.0, 0.0]], dtype=torch.float64)
    active = torch.tensor([1, 0, 1])
    # objective 0: squared differences of pairs (0,1), (0,2), (1,2) = 1, 9, 4 -> median 4
    # objective 1: 4, 1, 9 -> median 4; both bandwidths 4 / ln 3, times the scale 2
    h = 2 * 4 / math.log(3)
    K = local_kernel(L, active, scale=2.0)
    d0 = torch.tensor([[0, 1, 9], [1, 0, 4], [9, 4, 0]], dtype=torch.float64)
    d1 = torch.tensor([[0, 4, 1], [4, 0, 9], [1, 9, 0]], dtype=torch.float64)
    # column b uses particle b's active objective: columns 0 and 2 objective 1, column 1 objective 0
    expected = torch.stack([d1[:, 0], d0[:, 1], d1[:, 2]], 1)
    torch.testing.assert_close(K, torch.exp(-expected / h))


def test_tchebycheff_active_objective():
    L = torch.tensor([[1.0, 2.0], [3.0, 0.5]])
    w = torch.tensor([[0.5, 0.5], [0.1, 0.9]])
    s, a = tchebycheff_active(L, w, torch.zeros(2))
    torch.testing.assert_close(s, torch.tensor([1.0, 0.45]))
    assert a.tolist() == [1, 1]


def _algo(**cfg) -> SVHPSL:
    a = get_algorithm("svh-psl", **cfg)
    a.setup(moo.get_problem("vlmop2"), seed=3, device="cpu")
    return a


@pytest.mark.parametrize("kernel", ["local", "global"])
@pytest.mark.parametrize("norm", ["particle", "parameter", "none"])
def test_svgd_update_matches_per_particle_autograd(kernel, norm):
    """The gradient handed to the optimizer is 1/n [sum_b (sum_a K_ab) g_b + alpha grad sum K],
    here recomputed particle by particle with plain backward passes."""
    alpha = 0.3
    a = _algo(kernel=kernel, grad_normalization=norm, alpha=alpha)
    gen = torch.Generator().manual_seed(0)
    model = ParetoSetModel(2, 3, torch.tensor([[-1.0] * 3, [2.0] * 3]), gen, hidden=(5,))
    params = list(model.parameters())
    value = lambda X: torch.stack([(X ** 2).sum(-1), ((X - 1) ** 2).sum(-1)], -1)  # noqa: E731
    prefs = torch.tensor([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1], [0.3, 0.7]], dtype=torch.float64)
    ideal = torch.tensor([-0.1, -0.1], dtype=torch.float64)

    L = value(model(prefs))
    s, active = tchebycheff_active(L, prefs, ideal)
    K = local_kernel(L, active) if kernel == "local" else rbf_objective_kernel(L, 1.0)
    G = []
    for b in range(4):
        grads = torch.autograd.grad(s[b], params, retain_graph=True)
        G.append(torch.cat([g.flatten() for g in grads]).double())
    G = torch.stack(G)
    if norm != "none":
        G = G / G.norm(dim=1 if norm == "particle" else 0, keepdim=True).clamp_min(1e-12)  # as F.normalize
    repel = torch.cat([g.flatten() for g in torch.autograd.grad(K.sum(), params)]).double()
    expected = (K.detach().sum(0) @ G + alpha * repel) / 4

    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    a.svgd_step(model, opt, prefs, value, ideal)
    got = torch.cat([p.grad.flatten() for p in params]).double()
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-6)


def test_reference_stale_gradient_adds_last_update_to_particle_zero():
    """``reference_stale_gradient`` reproduces run_svh.py's bug: particle 0's gradient row is
    ``g_0 + (previous update)`` before the particle-axis normalization; off, the steps are independent."""
    value = lambda X: torch.stack([(X ** 2).sum(-1), ((X - 1) ** 2).sum(-1)], -1)  # noqa: E731
    prefs = torch.tensor([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]], dtype=torch.float64)
    ideal = torch.tensor([-0.1, -0.1], dtype=torch.float64)
    grads = {}
    for stale in (False, True):
        a = _algo(grad_normalization="parameter", alpha=0.3, reference_stale_gradient=stale)
        model = ParetoSetModel(2, 3, torch.tensor([[-1.0] * 3, [2.0] * 3]), torch.Generator().manual_seed(0),
                               hidden=(5,))
        opt = torch.optim.SGD(model.parameters(), lr=0.0)  # the parameters stay put: same g_b both steps
        a.svgd_step(model, opt, prefs, value, ideal)
        first = torch.cat([p.grad.flatten() for p in model.parameters()]).double()
        a.svgd_step(model, opt, prefs, value, ideal)
        grads[stale] = first, torch.cat([p.grad.flatten() for p in model.parameters()]).double()
    params = list(model.parameters())
    L = value(model(prefs))
    s, active = tchebycheff_active(L, prefs, ideal)
    K = local_kernel(L, active)
    G = torch.stack([torch.cat([g.flatten() for g in torch.autograd.grad(s[b], params, retain_graph=True)])
                     for b in range(3)]).double()
    repel = torch.cat([g.flatten() for g in torch.autograd.grad(K.sum(), params)]).double()
    w = K.detach().sum(0)
    clean = (w @ (G / G.norm(dim=0).clamp_min(1e-12)) + 0.3 * repel) / 3
    torch.testing.assert_close(grads[False][0], clean, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(grads[False][1], clean, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(grads[True][0], clean, rtol=1e-4, atol=1e-6)  # nothing stale yet
    G[0] += grads[True][0]
    stale_expected = (w @ (G / G.norm(dim=0).clamp_min(1e-12)) + 0.3 * repel) / 3
    torch.testing.assert_close(grads[True][1], stale_expected, rtol=1e-4, atol=1e-6)
    assert (stale_expected - clean).abs().max() > 1e-3


def test_svgd_training_lowers_tchebycheff_and_spreads():
    """On a known bi-objective function the Stein updates reduce the particles' Tchebycheff
    values, and the trained model covers the front (spread in the first objective)."""
    a = _algo(lr=1e-2)
    gen = torch.Generator().manual_seed(1)
    model = ParetoSetModel(2, 2, torch.tensor([[-1.0, -1.0], [2.0, 2.0]]), gen, hidden=(16, 16))
    value = lambda X: torch.stack([(X ** 2).sum(-1), ((X - 1) ** 2).sum(-1)], -1)  # noqa: E731
    ideal = torch.tensor([-0.1, -0.1], dtype=torch.float64)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    test = torch.tensor([[0.1, 0.9], [0.5, 0.5], [0.9, 0.1]], dtype=torch.float64)
    before = tchebycheff_active(value(model(test)), test, ideal)[0].mean()
    for _ in range(150):
        a.svgd_step(model, opt, a._prefs(8), value, ideal)
    F = value(model(test)).detach()
    after = tchebycheff_active(F, test, ideal)[0].mean()
    assert after < 0.5 * before
    assert F[0, 0] > F[2, 0] + 0.5  # weight on f2 -> small f2, large f1; the reverse at the other end


def test_bad_config_raises():
    for bad in (dict(kernel="rbf"), dict(grad_normalization="rows"), dict(bandwidth_scale=0.0), dict(n_pref_update=1)):
        with pytest.raises(MooValueError):
            _algo(**bad)


def _run(seed: int):
    """Initial design + two batches on VLMOP2; also returns the state after the first batch."""
    a = get_algorithm("svh-psl", **TINY)
    a.setup(moo.get_problem("vlmop2"), seed=seed, device="cpu", budget=10)
    a.step()
    last = a.step()
    state = {"state": a.state_dict(), "archive": tuple(t.clone() for t in a.archive)}  # as a checkpoint holds them
    last = a.step()
    return a, state, last


@pytest.fixture(scope="module")
def tiny_run():
    return _run(7)


def test_shapes_bounds_and_defaults(tiny_run):
    a, _, last = tiny_run
    X, F = a.archive
    p = a.problem
    assert X.shape == (10, p.n_var) and F.shape == (10, 2) and last.X.shape == (2, p.n_var)
    b = torch.as_tensor(p.bounds, dtype=torch.float64)
    assert bool(((X >= b[0]) & (X <= b[1])).all())
    assert a.pareto_set(torch.tensor([[0.2, 0.8]])).shape == (1, p.n_var)
    c = SVHPSL.Config()  # the reference code's defaults
    assert (c.n_init, c.batch_size, c.n_steps, c.n_pref_update, c.lr, c.alpha, c.lcb_beta, c.n_candidate,
            c.n_local, c.kernel) == (20, 5, 500, 10, 1e-3, 1e-3, 0.1, 1000, 0, "local")


def test_same_seed_same_result(tiny_run):
    again, _, _ = _run(7)
    torch.testing.assert_close(again.archive[1], tiny_run[0].archive[1], rtol=0, atol=0)


def test_batches_improve_hypervolume(tiny_run):
    F = tiny_run[0].archive[1]
    ref = torch.tensor([1.1, 1.1], dtype=torch.float64)
    assert float(hypervolume(F, ref)) > float(hypervolume(F[:6], ref))


def test_state_dict_round_trip(tiny_run):
    a, state, last = tiny_run
    b = get_algorithm("svh-psl", **TINY)
    b.setup(a.problem, seed=99, device="cpu", budget=10)
    b.load_archive(*state["archive"])
    b.load_state_dict(state["state"])
    assert b.n_evals == 8 and b.archive[0].shape == (8, a.problem.n_var)
    torch.testing.assert_close(b.step().X, last.X)  # resumed run proposes the same batch
    w = torch.tensor([[0.3, 0.7], [1.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(a.pareto_set(w), b.pareto_set(w))
