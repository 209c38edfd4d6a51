"""Indicator integrity: no input crashes the interpreter or yields a silent wrong value.

One test per failure mode: non-finite objectives (which crash or hang moocore), the edge
cases every indicator must treat alike (empty set, non-finite or empty reference front, empty
weights), float32 precision at large magnitudes, and an Evaluator that can compute nothing.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap

import moocore
import numpy as np
import pytest
import torch

from moo.errors import IndicatorUnavailableError, NonFiniteError, ShapeError
from moo.indicators import (Evaluator, epsilon_additive, gd, gd_plus, hv_contributions, hv_improvement, hypervolume,
                            igd, igd_plus, r2, r2_gflownet)
from moo.pareto import crowding_distance, dominance_matrix, non_dominated_mask, non_dominated_rank, pareto_front
from moo.problem import Problem

INF, NAN = float("inf"), float("nan")
DISTANCES = {"igd": igd, "igd_plus": igd_plus, "gd": gd, "gd_plus": gd_plus, "epsilon_additive": epsilon_additive}


def _run_child(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)


def test_negative_inf_objectives_raise_instead_of_crashing_moocore():
    # moocore segfaults on -inf with 3 or more objectives (and hangs on NaN with 4); each call
    # runs in a child process so a crash fails this test instead of killing pytest
    child = _run_child("""
        import torch
        from moo.errors import NonFiniteError
        from moo.indicators import hv_contributions, hypervolume
        inf = float("inf")
        calls = {
            "hv m=4": lambda: hypervolume(torch.tensor([[-inf, 0.0, 0.0, 0.0], [0.5] * 4]), [1.0] * 4),
            "hv m=3": lambda: hypervolume(torch.tensor([[0.0, -inf, 0.0]]), [1.0] * 3),
            "hv m=5 masked": lambda: hypervolume(torch.tensor([[-inf] * 5, [0.5] * 5]), [1.0] * 5,
                                                 mask=torch.tensor([True, True])),
            "hv m=4 batched": lambda: hypervolume(torch.tensor([[[0.5] * 4], [[-inf] * 4]]), [1.0] * 4),
            "contributions m=4": lambda: hv_contributions(torch.tensor([[-inf, 0, 0, 0], [0, 0, 0, .5]]), [1.0] * 4,
                                                          method="moocore"),
            "hv +inf ref": lambda: hypervolume(torch.tensor([[0.5] * 4]), [inf] * 4),
        }
        for name, call in calls.items():
            try:
                call()
            except NonFiniteError:
                print("caught", name)
            else:
                print("returned", name)
    """)
    assert child.returncode == 0, f"child died with {child.returncode}: {child.stderr[-2000:]}"
    assert child.stdout.split("\n").count("caught hv m=4") == 1
    for name in ("hv m=4", "hv m=3", "hv m=5 masked", "hv m=4 batched", "contributions m=4", "hv +inf ref"):
        assert f"caught {name}" in child.stdout, child.stdout


@pytest.mark.parametrize("value", [INF, -INF])
def test_infinite_objectives_are_rejected_wherever_nan_is(value):
    F = torch.tensor([[0.2, 0.8], [value, 0.5], [0.6, 0.1]])
    front = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    calls = [lambda: hypervolume(F, [1.0, 1.0], method="torch"), lambda: hypervolume(F, [1.0, 1.0], method="mc"),
             lambda: hv_contributions(F, [1.0, 1.0]), lambda: hv_improvement(F[:1], F, [1.0, 1.0]),
             lambda: hv_improvement(F, F[:1], [1.0, 1.0]), lambda: r2(F), lambda: r2_gflownet(F),
             lambda: non_dominated_mask(F), lambda: non_dominated_rank(F), lambda: crowding_distance(F),
             lambda: dominance_matrix(F), lambda: pareto_front(F), lambda: Evaluator(ref_point=[1.0, 1.0]).score(F)]
    calls += [lambda fn=fn: fn(F, front) for fn in DISTANCES.values()]
    for call in calls:
        with pytest.raises(NonFiniteError, match="NaN or inf"):
            call()
    # padded rows may hold anything: masking the bad row gives the value without it
    keep = torch.tensor([True, False, True])
    assert torch.equal(non_dominated_mask(F, mask=keep), torch.tensor([True, False, True]))
    assert float(igd(F, front, mask=keep)) == pytest.approx(float(igd(F[keep], front)))


def test_empty_approximation_set_scores_the_same_way_everywhere():
    # rule: HV 0; IGD, IGD+, GD, GD+, epsilon and R2 +inf; for a [0, m] set and an all-masked set alike
    front = torch.tensor([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]], dtype=torch.float64)
    empty = torch.zeros(0, 2, dtype=torch.float64)
    padded = torch.rand(2, 3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    mask = torch.tensor([[True, True, False], [False, False, False]])
    for name, fn in DISTANCES.items():
        assert float(fn(empty, front)) == INF, name
        batched = fn(padded, front, mask=mask)
        assert batched[1].item() == INF and np.isfinite(batched[0].item()), name
        assert torch.equal(fn(torch.zeros(3, 0, 2, dtype=torch.float64), front), torch.full((3,), INF, dtype=torch.float64))
    assert float(r2(empty)) == INF and float(r2_gflownet(empty)) == INF
    assert r2(padded, mask=mask)[1].item() == INF
    for method in ("torch", "moocore", "mc", "auto"):
        out = hypervolume(empty, [1.0, 1.0], method=method)
        assert float(out.value if method == "mc" else out) == 0.0
    assert hypervolume(padded, [1.0, 1.0], mask=mask)[1].item() == 0.0
    assert hv_contributions(empty, [1.0, 1.0]).shape == (0,)
    assert float(hv_improvement(torch.tensor([[0.5, 0.25]]), empty, [1.0, 1.0])) == pytest.approx(0.375)

    ev = Evaluator(ideal=[0.0, 0.0], nadir=[1.0, 1.0], reference_front=front)
    scores = ev.score(empty)
    assert scores["hv"] == 0.0
    assert scores["lhd"] == pytest.approx(np.log(moocore.hypervolume(front.numpy(), ref=[1.1, 1.1])))
    for name in ("igd", "igd_plus", "gd", "gd_plus", "epsilon", "r2"):
        assert scores[name] == INF, name


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
def test_non_finite_reference_front_raises_for_every_indicator(bad):
    F = torch.tensor([[0.2, 0.8], [0.6, 0.1]], dtype=torch.float64)
    front = torch.tensor([[0.0, 1.0], [bad, 0.0]], dtype=torch.float64)
    for name, fn in DISTANCES.items():
        with pytest.raises(NonFiniteError, match="reference_front"):
            fn(F, front)
        with pytest.raises(NonFiniteError, match="reference_front"):  # batched fronts, the bad one second
            fn(F, torch.stack([front.nan_to_num(0.0, 0.0, 0.0), front]))
    with pytest.raises(NonFiniteError, match="reference_front"):
        Evaluator(reference_front=front)
    with pytest.raises(NonFiniteError, match="ref_point"):
        hypervolume(F, [1.0, bad])
    with pytest.raises(NonFiniteError, match="ref_point"):
        Evaluator(ref_point=[1.0, bad])
    with pytest.raises(NonFiniteError, match="ideal"):
        Evaluator(ideal=[0.0, bad], nadir=[1.0, 1.0])
    with pytest.raises(NonFiniteError, match="weights"):
        r2(F, weights=torch.tensor([[0.5, 0.5], [bad, 1.0]]))


def test_empty_reference_front_and_empty_weights_raise_shape_error():
    F = torch.tensor([[0.2, 0.8], [0.6, 0.1]], dtype=torch.float64)
    for name, fn in DISTANCES.items():
        with pytest.raises(ShapeError, match="reference_front"):
            fn(F, torch.zeros(0, 2))
        with pytest.raises(ShapeError, match="reference_front"):
            fn(F, torch.zeros(3, 0, 2))
    with pytest.raises(ShapeError, match="reference_front"):
        Evaluator(reference_front=torch.zeros(0, 2))
    with pytest.raises(ShapeError, match="weights"):
        r2(F, weights=torch.zeros(0, 2))
    with pytest.raises(ShapeError, match="weights"):
        r2_gflownet(F, weights=torch.zeros(0, 2))


def test_zero_objectives_raise_shape_error():
    with pytest.raises(ShapeError, match="m >= 1"):
        hypervolume(torch.zeros(3, 0), torch.zeros(0))
    with pytest.raises(ShapeError, match="m >= 1"):
        igd(torch.zeros(3, 0), torch.zeros(2, 0))


def test_single_objective_contributions():
    # moocore needs two columns; one objective is computed exactly in torch: the best point gains
    # the distance to the runner-up, every other point nothing
    F = torch.tensor([[0.5], [0.2], [0.7]], dtype=torch.float64)
    for method in ("auto", "moocore", "torch"):
        assert torch.allclose(hv_contributions(F, [1.0], method=method), torch.tensor([0.0, 0.3, 0.0], dtype=torch.float64))


def test_infinite_candidates_are_rejected_by_hv_improvement():
    F = torch.tensor([[0.2, 0.8], [0.6, 0.1]], dtype=torch.float64)
    with pytest.raises(NonFiniteError, match="candidates"):
        hv_improvement(torch.tensor([[-INF, 0.5]]), F, [1.0, 1.0])


def _large_float32(m: int):
    g = torch.Generator().manual_seed(3)
    F = (1e8 + torch.rand(5, m, generator=g, dtype=torch.float64) * 100).float()
    r = (F.double().amax(0) + 10).float()
    exact = moocore.hypervolume(F.double().numpy(), ref=r.double().numpy())
    return F, r, exact


@pytest.mark.parametrize("m", [2, 3])
def test_float32_hypervolume_near_1e8_matches_float64(m):
    F, r, exact = _large_float32(m)
    tol = dict(rel=1e-6)
    for method in ("torch", "moocore", "auto"):
        out = hypervolume(F, r, method=method)
        assert out.dtype == torch.float32
        assert float(out) == pytest.approx(exact, **tol), method
    # batched and differentiable paths
    assert hypervolume(F.expand(3, -1, -1), r, method="torch").tolist() == pytest.approx([exact] * 3, **tol)
    Fg = F.clone().requires_grad_(True)
    value = hypervolume(Fg, r)
    value.backward()
    F64 = F.double().requires_grad_(True)
    hypervolume(F64, r.double()).backward()
    assert float(value.detach()) == pytest.approx(exact, **tol)
    assert torch.allclose(Fg.grad.double(), F64.grad, rtol=1e-5, atol=1e-3 * F64.grad.abs().max().item())
    # Monte Carlo: the same draws as in float64, so the same estimate
    mc32, mc64 = hypervolume(F, r, method="mc"), hypervolume(F.double(), r.double(), method="mc")
    assert float(mc32.value) == pytest.approx(float(mc64.value), **tol)
    assert abs(float(mc32.value) - exact) < 5 * float(mc32.stderr) + 1e-6 * exact
    # contributions and improvement
    c64 = moocore.hv_contributions(F.double().numpy(), ref=r.double().numpy(), ignore_dominated=False)
    assert hv_contributions(F, r, method="torch").double().numpy() == pytest.approx(c64, rel=1e-5, abs=1e-6 * exact)
    cand = F[:2] - 8  # exactly representable shifts
    hvi64 = [moocore.hypervolume(np.vstack([F.double().numpy(), c]), ref=r.double().numpy()) - exact
             for c in cand.double().numpy()]
    assert hv_improvement(cand, F, r, method="torch").double().numpy() == pytest.approx(hvi64, rel=1e-5)


class _Bare(Problem):
    """Two objectives and nothing else: no ideal/nadir, reference point or front."""

    def __init__(self):
        super().__init__(n_var=2, n_obj=2, bounds=torch.tensor([[0.0, 0.0], [1.0, 1.0]]))

    def _evaluate(self, X):
        return X


def test_score_without_conventions_raises_named_error():
    F = torch.tensor([[0.2, 0.8], [0.6, 0.1]], dtype=torch.float64)
    for ev in (Evaluator(), Evaluator(_Bare())):
        assert ev.available() == ()
        with pytest.raises(IndicatorUnavailableError, match="no indicator is available"):
            ev.score(F)
        with pytest.raises(IndicatorUnavailableError, match="hypervolume is unavailable"):
            ev.score(F, indicators=["hv"])
        with pytest.raises(IndicatorUnavailableError, match="reference front"):
            ev.score(F, indicators=["igd"])
        assert ev.score(F, indicators=()) == {}  # nothing asked, nothing computed
