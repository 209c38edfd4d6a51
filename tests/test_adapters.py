"""Adapters: a NumPy callable, a pymoo Problem and a BoTorch test function behind the moo contract."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import moo
from moo.adapters import FunctionProblem, from_botorch, from_pymoo, to_pymoo
from moo.errors import BoundsError, EvaluationError, MooTypeError, MooValueError, NonFiniteError, ShapeError


def _zdt1_numpy(X):
    g = 1 + 9 * X[:, 1:].mean(1)
    return np.stack([X[:, 0], g * (1 - np.sqrt(X[:, 0] / g))], 1)


def _rand(n, d, seed=0):
    return torch.rand(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_function_problem_vectorized_and_rowwise_match_direct_calls():
    bounds = [[0.0] * 5, [1.0] * 5]
    vec = FunctionProblem(_zdt1_numpy, 5, 2, bounds)
    row = FunctionProblem(lambda x: _zdt1_numpy(x[None])[0], 5, 2, bounds, vectorized=False, name="zdt1_rows")
    X = _rand(20, 5)
    expected = _zdt1_numpy(X.numpy())
    np.testing.assert_allclose(vec.evaluate(X).numpy(), expected)
    np.testing.assert_allclose(row.evaluate(X).numpy(), expected)
    np.testing.assert_allclose(vec.evaluate(X).numpy(), moo.get_problem("zdt1", n_var=5).evaluate(X).numpy())
    F = vec.evaluate(X.float().reshape(4, 5, 5))
    assert F.dtype == torch.float32 and F.shape == (4, 5, 2)
    assert vec.n_evals == 60 and row.n_evals == 20
    assert not vec.differentiable and vec.name == "_zdt1_numpy" and row.name == "zdt1_rows"


def test_function_problem_constraints_and_knowledge():
    p = FunctionProblem(_zdt1_numpy, 3, 2, [[0.0] * 3, [1.0] * 3], constraints_fn=lambda X: X[:, :1] - 0.5,
                        n_constr=1, ideal=[0, 0], nadir=[1, 1], ref_point=[1.1, 1.1], front=[[0, 1], [1, 0]])
    X = _rand(6, 3)
    np.testing.assert_allclose(p.constraints(X).numpy(), X[:, :1].numpy() - 0.5)
    assert p.ideal.tolist() == [0, 0] and p.ref_point.tolist() == [1.1, 1.1] and p.pareto_front().shape == (2, 2)
    assert moo.NormalizedProblem(p).evaluate(X).shape == (6, 2)
    with pytest.raises(MooValueError, match="n_constr"):
        FunctionProblem(_zdt1_numpy, 3, 2, [[0.0] * 3, [1.0] * 3], constraints_fn=lambda X: X)
    with pytest.raises(ShapeError, match="ideal"):
        FunctionProblem(_zdt1_numpy, 3, 2, [[0.0] * 3, [1.0] * 3], ideal=[0, 0, 0])


def test_function_problem_errors():
    bounds = [[0.0] * 3, [1.0] * 3]

    def broken(X):
        raise ZeroDivisionError("boom")

    with pytest.raises(EvaluationError, match="ZeroDivisionError.*boom") as info:
        FunctionProblem(broken, 3, 2, bounds).evaluate(_rand(2, 3))
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    with pytest.raises(ShapeError, match=r"shape \[4, 3\].*expected \[4, 2\]"):
        FunctionProblem(lambda X: np.zeros((len(X), 3)), 3, 2, bounds).evaluate(_rand(4, 3))
    with pytest.raises(ShapeError, match="row 0"):
        FunctionProblem(lambda x: [1.0], 3, 2, bounds, vectorized=False).evaluate(_rand(4, 3))
    with pytest.raises(ShapeError, match="n_var = 3"):
        FunctionProblem(_zdt1_numpy, 3, 2, bounds).evaluate(_rand(4, 2))
    with pytest.raises(NonFiniteError, match="NaN"):
        FunctionProblem(lambda X: np.full((len(X), 2), np.nan), 3, 2, bounds).evaluate(_rand(4, 3))
    with pytest.raises(BoundsError, match="lower bound above upper"):
        FunctionProblem(_zdt1_numpy, 3, 2, [[0.0, 2.0, 0.0], [1.0] * 3])
    with pytest.raises(MooTypeError, match="callable"):
        FunctionProblem("zdt1", 3, 2, bounds)


def test_from_pymoo_matches_pymoo():
    from pymoo.problems import get_problem

    source = get_problem("zdt4")
    p = from_pymoo(source)
    np.testing.assert_allclose(p.xl.numpy(), source.xl)
    np.testing.assert_allclose(p.xu.numpy(), source.xu)
    X = p.xl + (p.xu - p.xl) * _rand(30, p.n_var)
    np.testing.assert_allclose(p.evaluate(X).numpy(), source.evaluate(X.numpy()))
    np.testing.assert_allclose(p.pareto_front().numpy(), source.pareto_front())
    assert p.nadir.tolist() == pytest.approx([1.0, 1.0]) and not p.differentiable
    assert from_pymoo(get_problem("dtlz1")).pareto_front(50).shape == (136, 3)   # pymoo's own size


def test_from_pymoo_constraints_and_errors():
    from pymoo.problems import get_problem

    source = get_problem("bnh")           # two inequality constraints
    p = from_pymoo(source)
    assert p.n_constr == 2
    X = p.xl + (p.xu - p.xl) * _rand(10, 2)
    out = source.evaluate(X.numpy(), return_as_dictionary=True)
    np.testing.assert_allclose(p.constraints(X).numpy(), out["G"])
    np.testing.assert_allclose(p.evaluate(X).numpy(), out["F"])
    with pytest.raises(MooTypeError, match="pymoo"):
        from_pymoo(object())


def test_from_botorch_minimizes_whatever_negate_says():
    from botorch.test_functions.multi_objective import BraninCurrin, ZDT1

    for negate in (False, True):
        bc = BraninCurrin(negate=negate)
        p = from_botorch(bc)
        X = _rand(16, 2)
        np.testing.assert_allclose(p.evaluate(X).numpy(), bc.evaluate_true(X).numpy())
        sign = -1.0 if negate else 1.0
        np.testing.assert_allclose(p.evaluate(X).numpy(), sign * bc(X).numpy())
        assert p.ref_point.tolist() == pytest.approx([18.0, 6.0])
    # BoTorch's ZDT1 equals ours, front included
    z = from_botorch(ZDT1(dim=5, negate=True))
    X = _rand(10, 5)
    np.testing.assert_allclose(z.evaluate(X).numpy(), moo.get_problem("zdt1", n_var=5).evaluate(X).numpy())
    front = z.pareto_front(50)
    assert front.shape == (50, 2) and torch.all(front >= 0)
    np.testing.assert_allclose(front[:, 1].numpy(), 1 - np.sqrt(front[:, 0].numpy()), atol=1e-12)
    Xg = X.clone().requires_grad_(True)
    z.evaluate(Xg).sum().backward()
    assert z.differentiable and torch.all(torch.isfinite(Xg.grad))
    with pytest.raises(MooTypeError, match="MultiObjectiveTestProblem"):
        from_botorch(moo.get_problem("zdt1"))


def test_from_botorch_constraints_are_negated_slack():
    from botorch.test_functions.multi_objective import C2DTLZ2

    source = C2DTLZ2(dim=4, num_objectives=2)
    p = from_botorch(source)
    X = _rand(8, 4)
    np.testing.assert_allclose(p.constraints(X).numpy(), -source.evaluate_slack_true(X).numpy())


def test_to_pymoo_round_trip():
    problem = moo.get_problem("re33")
    wrapped = to_pymoo(problem)
    X = (problem.xl + (problem.xu - problem.xl) * _rand(12, 4)).numpy()
    np.testing.assert_allclose(wrapped.evaluate(X), problem.evaluate(torch.from_numpy(X)).numpy())
    assert problem.n_evals == 24
    back = from_pymoo(wrapped)
    np.testing.assert_allclose(back.evaluate(torch.from_numpy(X)).numpy(), wrapped.evaluate(X))
