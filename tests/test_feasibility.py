"""The approximation set of constrained problems: feasible points only, the least infeasible
when none is feasible (with a warning), and each archived point's constraints asked once."""
import warnings

import pytest
import torch

import moo
from moo import InfeasibleWarning, Problem
from moo.algorithm import feasible_front
from toy_problems import Ring


def test_feasible_front_keeps_only_feasible_non_dominated_rows():
    X = torch.arange(8.0).view(4, 2)
    F = torch.tensor([[0.0, 0.0], [1.0, 2.0], [2.0, 1.0], [3.0, 3.0]])
    cv = torch.tensor([0.5, 0.0, 0.0, 0.0])      # the dominating row is infeasible
    Xf, Ff = feasible_front(X, F, cv)
    assert Ff.tolist() == [[1.0, 2.0], [2.0, 1.0]]
    assert Xf.tolist() == X[1:3].tolist()


def test_feasible_front_without_feasible_rows_returns_the_least_infeasible_and_warns():
    X = torch.arange(6.0).view(3, 2)
    F = torch.tensor([[0.0, 1.0], [1.0, 0.0], [5.0, 5.0]])
    cv = torch.tensor([0.3, 0.2, 0.1])           # the dominated row violates least
    with pytest.warns(InfeasibleWarning, match="least infeasible"):
        Xf, Ff = feasible_front(X, F, cv)
    assert Ff.tolist() == [[5.0, 5.0]] and Xf.tolist() == [[4.0, 5.0]]


def test_solve_on_an_infeasible_problem_reports_the_least_infeasible_point():
    # |x| >= 100 cannot hold in the box [-5, 5]^2: the best is a corner, |x| = 5 sqrt 2.
    with pytest.warns(InfeasibleWarning):
        result = moo.solve(Ring(radius=100.0), "nsga2", budget=200, seed=0)
    assert result.F.shape[0] == 1
    problem = Ring(radius=100.0)
    violation = problem.constraints(result.X).clamp(min=0).sum()
    archive_violation = problem.constraints(torch.as_tensor(result.X_all)).clamp(min=0).sum(-1)
    assert float(violation) == pytest.approx(float(archive_violation.min()))


class RandomBatches(moo.Algorithm):
    """Uniform random batches of 20; keeps the base class's archive approximation."""

    name = "random-batches"

    def step(self):
        xl, xu = self.problem.bounds
        U = torch.rand(20, self.problem.n_var, generator=self.generator, dtype=self.dtype)
        X = xl.to(U) + U * (xu - xl).to(U)
        return moo.StepInfo(X=X, F=self.evaluate(X), n_evals=20)


def test_archive_constraints_are_evaluated_once_per_point():
    problem = Ring(radius=3.0)
    algorithm = RandomBatches()
    algorithm.setup(problem, seed=0, device="cpu", budget=100)
    for _ in range(5):
        algorithm.step()
        with warnings.catch_warnings():
            warnings.simplefilter("error", InfeasibleWarning)
            X, F = algorithm.approximation()
    assert problem.constraint_rows == algorithm.archive[0].shape[0] == 100
    assert (problem.constraints(X) <= 0).all() and X.shape[0] >= 1
    # the feasible non-dominated points of the whole archive, as an independent filter finds them
    Xa, Fa = algorithm.archive
    feasible = (problem.constraints(Xa) <= 0).all(-1)
    Ff = Fa[feasible]
    dominated = ((Ff.unsqueeze(1) <= Ff.unsqueeze(0)).all(-1) & (Ff.unsqueeze(1) < Ff.unsqueeze(0)).any(-1)).any(0)
    assert sorted(map(tuple, F.tolist())) == sorted(map(tuple, Ff[~dominated].tolist()))
