import warnings

import numpy as np
import pytest
import torch

import moo
from moo.indicators import Evaluator, hypervolume


@pytest.mark.parametrize("name, problem, budget", [
    ("pymoo.nsga2", "zdt1", 1000),
    ("pymoo.nsga3", "dtlz2", 250),
    ("pymoo.moead", "dtlz2", 250),
    ("pymoo.smsemoa", "zdt1", 1000),
])
def test_pymoo_peers_spend_the_budget_and_improve(name, problem, budget):
    problem = moo.get_problem(problem, n_var=6)  # small enough to enter the reference box early
    res = moo.solve(problem, name, budget=budget, seed=0, device="cpu", progress=False)
    assert res.n_evals == budget == res.F_all.shape[0]
    hv = [r["hv"] for r in res.history]
    assert hv[-1] > hv[0]
    # the approximation set is exactly the non-dominated subset of everything evaluated
    from moo.pareto import non_dominated_mask
    assert res.F.shape[0] == int(non_dominated_mask(res.F_all).sum())


def test_pymoo_nsga2_matches_pymoo_run_directly():
    """The peer is pymoo's NSGA-II itself: same seed, same population sequence as pymoo.minimize."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.optimize import minimize
    from pymoo.problems import get_problem as pymoo_problem

    ours = moo.solve("zdt1", "pymoo.nsga2", budget=500, seed=3, device="cpu", progress=False, pop_size=50)
    ref = minimize(pymoo_problem("zdt1"), NSGA2(pop_size=50), ("n_eval", 500), seed=3, save_history=False)
    hv_ref = hypervolume(torch.as_tensor(ref.F), torch.tensor([1.1, 1.1], dtype=torch.float64))
    hv_ours = hypervolume(ours.F, torch.tensor([1.1, 1.1], dtype=torch.float64))
    assert float(hv_ours) == pytest.approx(float(hv_ref), rel=1e-9)


def test_nsga2_on_zdt1_reaches_99_percent_of_reference_hv():
    """Issue acceptance: `moo solve --problem zdt1 --algorithm pymoo.nsga2 --budget 10000 --seed 0`."""
    problem = moo.get_problem("zdt1")
    res = moo.solve(problem, "pymoo.nsga2", budget=10_000, seed=0, device="cpu", progress=False, history_every=20)
    ev = Evaluator.for_problem(problem)
    assert ev.hypervolume(res.F) >= 0.99 * ev.hypervolume(problem.pareto_front(1000))


@pytest.mark.parametrize("name", ["botorch.qnehvi", "botorch.qparego"])
def test_botorch_peers_run_and_respect_budget(name):
    opts = dict(n_init=6, batch_size=3, num_restarts=2, raw_samples=64, mc_samples=32)
    res = moo.solve("vlmop2", name, budget=10, seed=0, device="cpu", progress=False, **opts)
    assert res.n_evals == 10 and [r["n_evals"] for r in res.history] == [6, 9, 10]
    again = moo.solve("vlmop2", name, budget=10, seed=0, device="cpu", progress=False, **opts)
    assert torch.equal(res.X_all, again.X_all)


def _nan_gradient_error():
    from botorch.exceptions.errors import OptimizationGradientError

    return OptimizationGradientError("20 elements of the 20 element gradient array `gradf` are NaN.",
                                     current_x=np.zeros(20))


def _resolve(dotted: str):
    import importlib

    module, attr = dotted.rsplit(".", 1)
    return getattr(importlib.import_module(module), attr)


@pytest.mark.parametrize("name, target", [("botorch.qnehvi", "botorch.optim.optimize_acqf"),
                                          ("botorch.qparego", "botorch.optim.optimize.optimize_acqf_list")])
def test_botorch_peer_retries_a_nan_gradient_from_fresh_raw_samples(name, target, monkeypatch):
    real, calls = _resolve(target), []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise _nan_gradient_error()
        return real(**kwargs)

    monkeypatch.setattr(target, flaky)
    opts = dict(n_init=6, batch_size=2, num_restarts=2, raw_samples=32, mc_samples=16)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a retry that succeeds is silent
        res = moo.solve("vlmop2", name, budget=8, seed=0, device="cpu", progress=False, **opts)
    assert res.n_evals == 8 and len(calls) == 2


def test_botorch_peer_falls_back_to_uniform_points_when_every_try_fails(monkeypatch):
    calls = []

    def broken(**kwargs):
        calls.append(1)
        raise _nan_gradient_error()

    monkeypatch.setattr("botorch.optim.optimize_acqf", broken)
    opts = dict(n_init=6, batch_size=3, num_restarts=2, raw_samples=32, mc_samples=16, max_retries=1)
    with pytest.warns(RuntimeWarning, match=r"failed 2 times at 6 evaluations .*drawn uniformly"):
        res = moo.solve("vlmop2", "botorch.qnehvi", budget=9, seed=0, device="cpu", progress=False, **opts)
    assert len(calls) == 2 and res.n_evals == 9
    assert [h.get("fallback_batch") for h in res.history] == [None, 1.0]  # the run's record says so
    lo, hi = moo.get_problem("vlmop2").bounds
    new = res.X_all[6:]
    assert ((new >= lo) & (new <= hi)).all() and new.unique(dim=0).shape[0] == 3
    again = moo.solve("vlmop2", "botorch.qnehvi", budget=9, seed=0, device="cpu", progress=False, **opts)
    assert torch.equal(res.X_all, again.X_all)  # the fallback draws from the seeded generator


def test_botorch_peer_refuses_negative_retries():
    with pytest.raises(ValueError, match="max_retries must be >= 0, got -1"):
        moo.solve("vlmop2", "botorch.qnehvi", budget=8, seed=0, device="cpu", progress=False, max_retries=-1)


def test_botorch_peers_optimize_on_unit_scaled_objectives():
    """RE32's objectives span up to 4e8. On these 50 points every gradient of qLogNEHVI in raw
    units was NaN (the optimizer then fell back to uniform points); on objectives rescaled to
    [0, 1] the acquisition optimizes normally."""
    from pathlib import Path

    X = torch.as_tensor(np.loadtxt(Path(__file__).parent / "data" / "re32_qnehvi_nan_archive.csv", delimiter=","))
    alg = moo.get_algorithm("botorch.qnehvi", batch_size=1, num_restarts=1, raw_samples=16, mc_samples=8,
                            max_retries=0)
    alg.setup(moo.get_problem("re32"), seed=0, device="cpu")
    alg.evaluate(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # the fallback's warning
        info = alg.step()
    assert info.n_evals == 1 and "fallback_batch" not in info.extras


def test_botorch_unit_scaling_maps_the_reference_point_with_the_data():
    from botorch.utils.multi_objective.hypervolume import infer_reference_point

    from moo.adapters import FunctionProblem

    F = torch.tensor([[0.2, 0.9], [0.5, 0.5], [0.95, 0.1]], dtype=torch.float64) * torch.tensor([1.0, 1e6])
    lo, span = (-F).min(0).values, (-F).max(0).values - (-F).min(0).values
    for ref_point in (None, [1.1, 1.2e6]):
        problem = FunctionProblem(lambda X: X, 2, 2, [[0.0, 0.0], [1.0, 1.0]], ref_point=ref_point)
        alg = moo.get_algorithm("botorch.qnehvi")
        alg.setup(problem, seed=0, device="cpu")
        unit, ref = alg._unit_scaled(-F)
        assert torch.equal(unit.min(0).values, torch.zeros(2)) and torch.equal(unit.max(0).values, torch.ones(2))
        # back in raw units: the problem's own reference point, or BoTorch's inferred one
        expected = infer_reference_point(-F) if ref_point is None else -torch.tensor(ref_point, dtype=torch.float64)
        torch.testing.assert_close(ref * span + lo, expected)
