import numpy as np
import pytest
import torch

import moo
from moo import (BoundsError, EvaluationError, MooTypeError, NonFiniteError, NormalizedProblem, Problem,
                 ShapeError, UnknownNameError)
from toy_problems import Raises, Schaffer


class NaNProblem(Schaffer):
    def _evaluate(self, X):
        F = super()._evaluate(X)
        F[..., 0] = torch.where(X[..., 0] > 0, torch.nan, F[..., 0])
        return F


class WrongShape(Schaffer):
    def _evaluate(self, X):
        return X.sum(-1)


def test_evaluate_batched_counts_rows_and_keeps_dtype():
    p = Schaffer(3)
    X = torch.rand(4, 5, 3, dtype=torch.float32)
    F = p.evaluate(X)
    assert F.shape == (4, 5, 2) and F.dtype == torch.float32
    assert p.n_evals == 20
    torch.testing.assert_close(F[..., 0], X.pow(2).sum(-1))


def test_numpy_input_becomes_float64_tensor():
    F = Schaffer(2).evaluate(np.array([[0.0, 0.0], [2.0, 2.0]]))
    assert isinstance(F, torch.Tensor) and F.dtype == torch.float64
    assert F.tolist() == [[0.0, 8.0], [8.0, 0.0]]


def test_gradients_flow_through_differentiable_problem():
    X = torch.zeros(1, 2, dtype=torch.float64, requires_grad=True)
    Schaffer(2).evaluate(X)[0, 1].backward()
    assert X.grad.tolist() == [[-4.0, -4.0]]


@pytest.mark.parametrize("bounds, match", [
    ([[1.0, 0.0], [0.0, 1.0]], "lower bound above upper bound for variable\\(s\\) \\[0\\]"),
    ([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], "shape \\[2, n_var\\] = \\[2, 2\\]"),
    ([[0.0, -np.inf], [1.0, 1.0]], "finite"),
])
def test_bad_bounds_are_rejected(bounds, match):
    with pytest.raises(BoundsError, match=match):
        Problem(2, 2, bounds)


def test_bad_dimensions_are_rejected():
    with pytest.raises(ValueError, match="n_obj must be an integer >= 1, got 0"):
        Problem(2, 0, [[0, 0], [1, 1]])
    with pytest.raises(ValueError, match="var_types"):
        Problem(2, 2, [[0, 0], [1, 1]], var_types=["real", "float"])


def test_wrong_input_shape():
    with pytest.raises(ShapeError, match="n_var = 3 .* got \\[4, 2\\]"):
        Schaffer(3).evaluate(torch.zeros(4, 2))


def test_wrong_output_shape():
    with pytest.raises(ShapeError, match="returned objectives of shape \\[4\\], expected \\[4, 2\\]"):
        WrongShape(2).evaluate(torch.zeros(4, 2))


def test_nan_objectives_are_reported_with_rows():
    X = torch.tensor([[-1.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    with pytest.raises(NonFiniteError, match="2 row\\(s\\), first at flat index \\[1, 2\\]"):
        NaNProblem(2).evaluate(X)


def test_user_problem_that_raises_is_wrapped():
    with pytest.raises(EvaluationError, match="simulator crashed") as info:
        Raises(2).evaluate(torch.zeros(1, 2))
    assert isinstance(info.value.__cause__, RuntimeError)


def test_non_tensor_input_type():
    with pytest.raises(MooTypeError, match="X must be a torch.Tensor or array-like, got str"):
        Schaffer(2).evaluate("x")


def test_normalized_problem_maps_ideal_and_nadir():
    p = NormalizedProblem(Schaffer(2))
    F = p.evaluate(torch.tensor([[0.0, 0.0], [2.0, 2.0]], dtype=torch.float64))
    torch.testing.assert_close(F, torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64))
    assert p.ref_point.tolist() == [1.1, 1.1]
    with pytest.raises(ValueError, match="needs ideal and nadir"):
        NormalizedProblem(Problem(2, 2, [[0, 0], [1, 1]]))


def test_unknown_problem_name_suggests_close_matches():
    with pytest.raises(UnknownNameError, match="Did you mean: .*zdt1") as info:
        moo.get_problem("zdt7")
    assert "zdt1" in info.value.close_matches


def test_user_problem_by_module_path_and_spec():
    p = moo.get_problem("toy_problems:Schaffer", n_var=4)
    assert p.n_var == 4 and p.spec == {"name": "toy_problems:Schaffer", "options": {"n_var": 4},
                                       "normalize": False}
    with pytest.raises(ValueError, match="has no attribute 'Nope'"):
        moo.get_problem("toy_problems:Nope")
