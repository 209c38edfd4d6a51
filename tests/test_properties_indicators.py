"""Property-based tests of the indicators and Pareto utilities.

Whatever a caller passes (0..8 points, 1..6 objectives, float32/float64, NaN/±inf entries, empty
sets and fronts), the only exceptions are moo's named errors, chosen by the documented rule; on
finite inputs the values agree with moocore and satisfy the invariants of their definitions.
Non-finite inputs are rejected before moocore sees them (moocore crashes or hangs on them).
"""
from __future__ import annotations

import math

import moocore
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moo.errors import MooError, MooValueError, NonFiniteError, ShapeError
from moo.indicators import (Evaluator, epsilon_additive, gd, gd_plus, hv_contributions, hv_improvement, hypervolume,
                            igd, igd_plus, r2, r2_gflownet)
from moo.pareto import crowding_distance, non_dominated_mask, non_dominated_rank

SETTINGS = settings(max_examples=100, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
SPECIAL = (float("nan"), float("inf"), -float("inf"))
DTYPES = (torch.float32, torch.float64)
# float32-exact values (so a float32 set is the same set in float64), with many ties
value = st.one_of(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), st.floats(0.0, 1.0, width=32))
DISTANCES = (igd, igd_plus, gd, gd_plus, epsilon_additive)


@st.composite
def matrices(draw, m: int, min_n: int = 0, max_n: int = 8, special: bool = True) -> np.ndarray:
    n = draw(st.integers(min_n, max_n))
    A = np.array(draw(st.lists(value, min_size=n * m, max_size=n * m)), dtype=np.float64).reshape(n, m)
    if special and n and draw(st.booleans()):
        for _ in range(draw(st.integers(1, 2))):
            A[draw(st.integers(0, n - 1)), draw(st.integers(0, m - 1))] = draw(st.sampled_from(SPECIAL))
    return A


@st.composite
def problems(draw, special: bool = True):
    """``(F, front, ref, dtype)``: a set, a reference front and a reference point, maybe bad."""
    m = draw(st.integers(1, 6))
    F = draw(matrices(m, special=special))
    front = draw(matrices(m, min_n=0 if special else 1, max_n=5, special=special))
    ref = np.full(m, 1.0)
    if special and draw(st.integers(0, 5)) == 0:
        ref[draw(st.integers(0, m - 1))] = draw(st.sampled_from(SPECIAL))
    return F, front, ref, draw(st.sampled_from(DTYPES))


def _finite(a: np.ndarray) -> bool:
    return bool(np.isfinite(a).all())


def _outcome(call):
    """The call's value, or the moo error it raised; any other exception fails the test."""
    try:
        return call()
    except MooError as exc:
        return exc


@SETTINGS
@given(problems())
def test_any_input_gives_a_value_or_the_documented_named_error(case):
    F_np, front_np, ref_np, dtype = case
    F, front = torch.tensor(F_np, dtype=dtype), torch.tensor(front_np, dtype=dtype)
    ref = torch.tensor(ref_np, dtype=dtype)
    m = F.shape[1]
    bad_F, bad_ref = not _finite(F_np), not _finite(ref_np)

    def expect(out, error):
        if error is None:
            assert not isinstance(out, Exception), f"unexpected {out!r}"
        else:
            assert isinstance(out, error), f"expected {error.__name__}, got {out!r}"
        return out

    hv_error = NonFiniteError if (bad_F or bad_ref) else None
    for method in ("auto", "torch", "moocore", "mc"):
        out = _outcome(lambda: hypervolume(F, ref, method=method, n_samples=64))
        if hv_error is None and method == "torch" and m > 3:
            expect(out, MooValueError)
            continue
        out = expect(out, hv_error)
        if hv_error is None:
            v = out.value if method == "mc" else out
            assert v.dtype == dtype and math.isfinite(float(v)) and float(v) >= 0
    out = expect(_outcome(lambda: hv_contributions(F, ref)), hv_error)
    if hv_error is None:
        assert out.shape == (F.shape[0],) and bool(torch.isfinite(out).all())
    expect(_outcome(lambda: hv_improvement(torch.full((1, m), 0.5, dtype=dtype), F, ref)), hv_error)

    distance_error = NonFiniteError if bad_F else ShapeError if front.shape[0] == 0 else \
        NonFiniteError if not _finite(front_np) else None
    for fn in DISTANCES:
        out = expect(_outcome(lambda: fn(F, front)), distance_error)
        if distance_error is None:
            assert out.dtype == dtype and not bool(out.isnan())
            assert (float(out) == math.inf) == (F.shape[0] == 0)
    for fn in (r2, r2_gflownet):
        out = expect(_outcome(lambda: fn(F)), NonFiniteError if bad_F else None)
        if not bad_F:
            assert float(out) >= 0 and (float(out) == math.inf) == (F.shape[0] == 0)
    for fn in (non_dominated_mask, non_dominated_rank, crowding_distance):
        expect(_outcome(lambda: fn(F)), NonFiniteError if bad_F else None)

    ev = _outcome(lambda: Evaluator(ideal=[0.0] * m, nadir=[2.0] * m, reference_front=front))
    ev = expect(ev, ShapeError if front.shape[0] == 0 else NonFiniteError if not _finite(front_np) else None)
    if not isinstance(ev, Exception):
        scores = expect(_outcome(lambda: ev.score(F)), NonFiniteError if bad_F else None)
        if not bad_F:
            assert set(scores) == set(ev.available()) and not any(math.isnan(v) for v in scores.values())


@SETTINGS
@given(st.data(), st.integers(1, 6), st.sampled_from(DTYPES))
def test_hypervolume_matches_moocore_and_its_invariants(data, m, dtype):
    A = data.draw(matrices(m, special=False))
    ref = np.full(m, 1.0)
    exact = moocore.hypervolume(A, ref=ref) if len(A) else 0.0
    F = torch.tensor(A, dtype=dtype)
    rel = 1e-9 if dtype == torch.float64 else 1e-6
    methods = ["auto", "moocore"] + (["torch"] if m <= 3 else [])
    for method in methods:
        assert float(hypervolume(F, ref, method=method)) == pytest.approx(exact, rel=rel, abs=1e-12)
    hv = float(hypervolume(F, ref))
    box = float(np.prod(ref - A.min(0))) if len(A) else 0.0
    assert 0.0 <= hv <= box * (1 + rel) + 1e-12
    mc = hypervolume(F, ref, method="mc", n_samples=256)
    assert 0.0 <= float(mc.value) <= box * (1 + 1e-6) + 1e-12 and float(mc.stderr) >= 0
    # adding a point never lowers HV; adding a point weakly dominated by a member leaves it unchanged
    p = np.array(data.draw(st.lists(value, min_size=m, max_size=m)))
    assert float(hypervolume(torch.tensor(np.vstack([A, p]), dtype=dtype), ref)) >= hv * (1 - rel) - 1e-12
    if len(A):
        i = data.draw(st.integers(0, len(A) - 1))
        worse = np.minimum(A[i] + np.array(data.draw(st.lists(value, min_size=m, max_size=m))), 1.0)
        dominated = torch.tensor(np.vstack([A, worse]), dtype=dtype)
        assert float(hypervolume(dominated, ref)) == pytest.approx(hv, rel=rel, abs=1e-12)
    # float32 and float64 copies of the same points agree to float32 precision
    other = torch.float64 if dtype == torch.float32 else torch.float32
    assert float(hypervolume(F.to(other), ref)) == pytest.approx(hv, rel=1e-6, abs=1e-12)
    # exclusive contributions: non-negative, at most the total, and moocore's for m >= 2
    contrib = hv_contributions(F, ref).double().numpy()
    assert (contrib >= -1e-12).all() and contrib.sum() <= hv * (1 + 1e-6) + 1e-12
    if m >= 2 and len(A):
        assert contrib == pytest.approx(moocore.hv_contributions(A, ref=ref, ignore_dominated=False), rel=rel,
                                        abs=1e-9)
    # improvement of the extra point: HV(A + p) - HV(A)
    gain = float(hv_improvement(torch.tensor(p[None], dtype=dtype), F, ref))
    assert gain == pytest.approx((moocore.hypervolume(np.vstack([A, p]), ref=ref)) - exact, rel=1e-5, abs=1e-7)


@SETTINGS
@given(st.data(), st.integers(1, 6), st.sampled_from(DTYPES))
def test_distance_indicators_match_moocore_and_their_invariants(data, m, dtype):
    A = data.draw(matrices(m, min_n=1, special=False))
    Z = data.draw(matrices(m, min_n=1, max_n=5, special=False))
    F, front = torch.tensor(A, dtype=dtype), torch.tensor(Z, dtype=dtype)
    tol = dict(rel=1e-5, abs=1e-6) if dtype == torch.float32 else dict(rel=1e-9, abs=1e-12)
    values = {fn.__name__: float(fn(F, front)) for fn in DISTANCES}
    assert values["igd"] == pytest.approx(moocore.igd(A, ref=Z), **tol)
    assert values["igd_plus"] == pytest.approx(moocore.igd_plus(A, ref=Z), **tol)
    assert values["epsilon_additive"] == pytest.approx(moocore.epsilon_additive(A, ref=Z), **tol)
    assert values["gd"] == pytest.approx(moocore.igd(Z, ref=A), **tol)  # GD is IGD with the roles swapped
    d_plus = np.sqrt((np.maximum(A[:, None, :] - Z[None], 0) ** 2).sum(-1))  # by hand: ||max(a - z, 0)||
    assert values["gd_plus"] == pytest.approx(d_plus.min(1).mean(), **tol)
    assert min(values["igd"], values["igd_plus"], values["gd"], values["gd_plus"]) >= 0
    assert values["igd_plus"] <= values["igd"] * (1 + 1e-6) + 1e-12
    assert values["gd_plus"] <= values["gd"] * (1 + 1e-6) + 1e-12
    # a front scored against itself is perfect
    assert float(igd(front, front)) == 0.0 and float(epsilon_additive(front, front)) == 0.0
    # R2: non-negative, and adding a point never makes it worse
    p = torch.tensor(data.draw(st.lists(value, min_size=m, max_size=m)), dtype=dtype)
    before, after = float(r2(F)), float(r2(torch.cat([F, p[None]])))
    assert 0.0 <= after <= before


@SETTINGS
@given(st.data(), st.integers(1, 6), st.integers(1, 3), st.sampled_from(DTYPES))
def test_batched_padded_sets_equal_one_call_per_set(data, m, B, dtype):
    n = data.draw(st.integers(0, 6))
    A = np.array(data.draw(st.lists(value, min_size=B * n * m, max_size=B * n * m))).reshape(B, n, m)
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=B * n, max_size=B * n)), dtype=bool).reshape(B, n)
    # padded rows may hold anything, non-finite values included
    A[~keep] = data.draw(st.sampled_from(SPECIAL + (0.0,)))
    Z = data.draw(matrices(m, min_n=1, max_n=4, special=False))
    F, mask, front = torch.tensor(A, dtype=dtype), torch.tensor(keep), torch.tensor(Z, dtype=dtype)
    ref = torch.full((m,), 1.0, dtype=dtype)
    tol = dict(rel=1e-5, abs=1e-7)
    for fn, args in [(hypervolume, (ref,)), (r2, ())] + [(fn, (front,)) for fn in DISTANCES]:
        batched = fn(F, *args, mask=mask)
        assert batched.shape == (B,)
        for b in range(B):
            single = float(fn(F[b][mask[b]], *args))
            assert float(batched[b]) == pytest.approx(single, **tol), fn.__name__
    nd = non_dominated_mask(F, mask=mask)
    for b in range(B):
        rows = F[b][mask[b]]
        assert torch.equal(nd[b][mask[b]], non_dominated_mask(rows)) and not bool(nd[b][~mask[b]].any())
        if m >= 2 and len(rows):
            assert non_dominated_mask(rows).numpy().tolist() == \
                moocore.is_nondominated(rows.double().numpy(), keep_weakly=True).tolist()


@SETTINGS
@given(problems(special=False))
def test_evaluator_scores_agree_with_the_indicators(case):
    F_np, front_np, _, dtype = case
    m = F_np.shape[1]
    ev = Evaluator(ideal=[0.0] * m, nadir=[2.0] * m, reference_front=front_np)
    scores = ev.score(torch.tensor(F_np, dtype=dtype))
    Fn, Zn = F_np / 2.0, front_np / 2.0  # normalized by ideal 0, nadir 2
    ref = np.full(m, 1.1)
    assert scores["hv"] == pytest.approx(moocore.hypervolume(Fn, ref=ref) if len(Fn) else 0.0, rel=1e-6, abs=1e-12)
    assert scores["hv"] <= moocore.hypervolume(np.vstack([Fn, Zn]), ref=ref) * (1 + 1e-9) + 1e-12
    if len(Fn):
        assert scores["igd"] == pytest.approx(moocore.igd(Fn, ref=Zn), rel=1e-6, abs=1e-9)
    else:
        assert scores["hv"] == 0.0 and scores["igd"] == scores["r2"] == math.inf
