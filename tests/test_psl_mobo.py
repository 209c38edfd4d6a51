"""PSL-MOBO with tiny settings: initial design, batch selection, budget, determinism, checkpoints."""
import io

import numpy as np
import pytest
import torch

import moo
from moo.algorithms.psl_mobo import PSLMOBO, latin_hypercube

TINY = dict(n_init=6, batch_size=3, n_steps=5, n_candidate=30, hidden=(8, 8))


def run(problem, budget, seed=0, **options):
    a = PSLMOBO(**{**TINY, **options})
    a.setup(problem, seed=seed, device="cpu", budget=budget)
    infos = []
    while a.n_evals < budget:
        infos.append(a.step())
    return a, infos


@pytest.fixture(scope="module")
def vlmop2():
    return moo.get_problem("vlmop2")


@pytest.fixture(scope="module")
def tiny_run(vlmop2):
    return run(vlmop2, budget=11)


def test_latin_hypercube_has_one_point_per_stratum():
    U = latin_hypercube(7, 4, generator=torch.Generator().manual_seed(0))
    assert U.shape == (7, 4)
    strata = torch.floor(U * 7).long()
    for j in range(4):
        assert sorted(strata[:, j].tolist()) == list(range(7))


def test_budget_batches_bounds_and_truncation(tiny_run, vlmop2):
    a, infos = tiny_run
    # 6 initial points, batches of 3, the last one truncated to the 2 evaluations left
    assert [i.n_evals for i in infos] == [6, 3, 2]
    assert a.n_evals == 11
    X, F = a.archive
    lo, hi = vlmop2.bounds
    assert X.shape == (11, vlmop2.n_var) and bool((X >= lo).all() and (X <= hi).all())
    assert torch.allclose(vlmop2.evaluate(X), F)
    assert {"fit_time", "train_time", "select_time", "iteration_time"} <= set(infos[1].extras)
    assert a.pareto_set(torch.tensor([[0.5, 0.5]])).shape == (1, vlmop2.n_var)


def test_same_seed_same_points(tiny_run, vlmop2):
    b, _ = run(vlmop2, budget=11)
    assert torch.equal(tiny_run[0].archive[0], b.archive[0])


def test_greedy_selection_matches_brute_force_hvi():
    from moocore import hypervolume

    g = torch.Generator().manual_seed(3)
    front = torch.rand(6, 2, generator=g, dtype=torch.float64)
    cand = torch.rand(40, 2, generator=g, dtype=torch.float64) - 0.2
    a = PSLMOBO(**TINY)
    a.generator = g
    picked = a._select(cand, front, 3)
    S = front.numpy()
    for k in picked:  # each pick maximizes HV(S + c) at the reference point the paper uses
        C = cand.numpy()
        ref = np.vstack([S, C]).max(0)
        gains = [hypervolume(np.vstack([S, c]), ref=ref) for c in C]
        assert gains[k] == pytest.approx(max(gains), rel=1e-9)
        S = np.vstack([S, C[k]])
    assert len(set(picked)) == 3


def test_checkpoint_then_pareto_set(tiny_run, vlmop2):
    a, _ = tiny_run
    buf = io.BytesIO()
    torch.save(a.state_dict(), buf)
    buf.seek(0)
    b = PSLMOBO(**TINY)
    b.setup(vlmop2, seed=0, device="cpu", budget=11)
    b.load_archive(*a.archive)  # a checkpoint stores the archive beside the state
    b.load_state_dict(torch.load(buf, weights_only=True))
    w = torch.tensor([[0.2, 0.8], [0.9, 0.1]])
    assert torch.equal(a.pareto_set(w), b.pareto_set(w))
    assert torch.equal(a.archive[1], b.archive[1]) and b.n_evals == 11
    fresh = PSLMOBO(**TINY)
    fresh.setup(vlmop2, seed=0, device="cpu", budget=11)
    with pytest.raises(moo.MooValueError, match="no learned model"):
        fresh.pareto_set(w)


@pytest.mark.parametrize("standardize", [True, False])
def test_objective_scaling_of_the_training_target(standardize, monkeypatch):
    """Standardized: the model trains on zero-mean, unit-variance objectives against their minimum
    minus 0.1. Raw (``standardize_objectives=False``, the SVH-PSL reference on ZDT): the raw
    objectives and LCB, the ideal capped at 0 — on ZDT2 the origin, below every evaluated point."""
    seen = {}

    def spy(self, value, ideal, Y_std):
        seen.update(ideal=ideal.clone(), Y_std=Y_std.clone(), value=value(self.archive[0][:4]).detach())
        return self._new_model()

    monkeypatch.setattr(PSLMOBO, "_train_model", spy)
    zdt2 = moo.get_problem("zdt2", n_var=5)
    a, _ = run(zdt2, budget=9, standardize_objectives=standardize)
    Y = a.archive[1][:6]  # the data of the one fit
    if standardize:
        Z = (Y - Y.mean(0)) / Y.std(0, unbiased=False)
        assert torch.allclose(seen["Y_std"], Z)
        assert torch.allclose(seen["ideal"], Z.amin(0) - 0.1)
    else:
        assert torch.equal(seen["Y_std"], Y)
        assert torch.allclose(seen["ideal"], torch.minimum(Y.amin(0) - 0.1, torch.zeros(2, dtype=Y.dtype)))
        assert seen["ideal"][1] == 0.0  # random points have f2 far above 0.1: the cap sets it
        # the raw LCB at evaluated points is within a few noise levels of the raw objectives
        assert torch.allclose(seen["value"], Y[:4], atol=0.05 * float(Y.abs().max()))
