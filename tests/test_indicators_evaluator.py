"""Evaluator conventions: normalization, reference-point policy, LHD, warnings, recorded conventions."""
import json
import math
import warnings

import moocore
import numpy as np
import pytest
import torch

from moo.errors import MooValueError
from moo.indicators import Evaluator
from moo.problem import NormalizedProblem, Problem


class Toy(Problem):
    """f1 = 2 x0, f2 = 3 (1 - sqrt(x0)) + x1: front f2 = 3 (1 - sqrt(f1 / 2)), ideal (0, 0), nadir (2, 3)."""

    def __init__(self, knows_bounds=True, ref=None):
        super().__init__(2, 2, [[0.0, 0.0], [1.0, 1.0]], name="toy")
        self._knows, self._ref = knows_bounds, ref

    def _evaluate(self, X):
        return torch.stack([2 * X[..., 0], 3 * (1 - X[..., 0].sqrt()) + X[..., 1]], -1)

    @property
    def ideal(self):
        return torch.tensor([0.0, 0.0], dtype=torch.float64) if self._knows else None

    @property
    def nadir(self):
        return torch.tensor([2.0, 3.0], dtype=torch.float64) if self._knows else None

    @property
    def ref_point(self):
        return None if self._ref is None else torch.tensor(self._ref, dtype=torch.float64)

    def pareto_front(self, n=None):
        x = torch.linspace(0, 1, n or 200, dtype=torch.float64)
        return torch.stack([2 * x, 3 * (1 - x.sqrt())], -1)


def _set(problem, n=30, seed=0):
    X = torch.rand(n, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 0.3
    return problem.evaluate(X)


def test_normalized_by_ideal_nadir_with_ref_1_1():
    p = Toy()
    ev = Evaluator.for_problem(p)
    F = _set(p)
    Fn = (F / torch.tensor([2.0, 3.0])).numpy()
    assert ev.hypervolume(F) == pytest.approx(moocore.hypervolume(Fn, ref=[1.1, 1.1]), rel=1e-12)
    c = ev.conventions
    assert c["normalization"] == "ideal/nadir" and c["ref_point"] == [1.1, 1.1] and c["reference_front_size"] == 200
    json.dumps(c)
    # LHD, natural log of the gap to the front's HV
    front_hv = moocore.hypervolume(p.pareto_front().numpy() / [2.0, 3.0], ref=[1.1, 1.1])
    assert ev.lhd(F) == pytest.approx(math.log(front_hv - moocore.hypervolume(Fn, ref=[1.1, 1.1])), rel=1e-12)
    scores = ev.score(F)
    assert set(scores) == {"hv", "lhd", "igd", "igd_plus", "gd", "gd_plus", "epsilon", "r2"}
    assert scores["hv"] == ev.hypervolume(F) and scores["lhd"] == ev.lhd(F)
    assert ev.lhd(p.pareto_front()) == pytest.approx(math.log(1e-14))  # the front itself: floor


def test_normalized_problem_is_not_normalized_twice():
    p = Toy()
    norm = NormalizedProblem(p)
    F = _set(p)
    ev_raw, ev_norm = Evaluator.for_problem(p), Evaluator.for_problem(norm)
    Fn = norm.evaluate(torch.rand(30, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 0.3)
    assert ev_norm.hypervolume(Fn) == pytest.approx(ev_raw.hypervolume(F), rel=1e-12)
    assert ev_norm.score(Fn)["igd_plus"] == pytest.approx(ev_raw.score(F)["igd_plus"], rel=1e-12)


def test_problem_ref_point_in_raw_space():
    p = Toy(knows_bounds=False, ref=[3.0, 4.0])
    ev = Evaluator.for_problem(p)
    F = _set(p)
    assert ev.conventions["normalization"] == "none"
    assert ev.hypervolume(F) == pytest.approx(moocore.hypervolume(F.numpy(), ref=[3.0, 4.0]), rel=1e-12)


def test_front_min_max_when_nothing_else():
    front = np.array([[0.0, 4.0], [1.0, 1.0], [2.0, 0.0]])
    ev = Evaluator(reference_front=front)
    F = np.array([[0.5, 2.0], [1.5, 0.5]])
    assert ev.conventions["normalization_source"] == "reference front min/max"
    expected = moocore.hypervolume(F / [2.0, 4.0], ref=[1.1, 1.1])
    assert ev.hypervolume(F) == pytest.approx(expected, rel=1e-12)


def test_missing_everything_raises_and_bad_ref_warns():
    with pytest.raises(MooValueError, match="hypervolume is unavailable"):
        Evaluator().hypervolume(np.array([[0.1, 0.2]]))
    with pytest.raises(MooValueError, match="reference front"):
        Evaluator(ref_point=[1.0, 1.0]).score(np.array([[0.1, 0.2]]), indicators=("igd",))
    ev = Evaluator(ref_point=[0.0, 0.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert ev.hypervolume(np.array([[0.5, 0.5]])) == 0.0
    assert any("[0.0, 0.0]" in str(w.message) for w in caught)
    with pytest.raises(MooValueError, match="unknown indicator"):
        ev.score(np.array([[0.5, 0.5]]), indicators=("hvv",))
