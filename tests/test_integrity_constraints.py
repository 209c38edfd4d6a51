"""Constraints and integer or categorical variables are honoured or refused, never dropped.

Every solver either handles a problem's constraints and variable types (constraint domination,
PSL's penalty, pymoo's mixed variables, rounding) or refuses the problem at setup, before any
evaluation and before the run folder is touched; an approximation set that violates the
constraints is flagged in the result's metadata.
"""
import math

import pytest
import torch

import moo
from moo import InfeasibleWarning, Problem
from moo.algorithm import UnsupportedProblemError
from moo.registry import names


class Recording(Problem):
    """Schaffer's two objectives (differentiable) on a box, with optional variable types and the
    constraint ``x0 >= threshold``; keeps every ``X`` its ``_evaluate`` receives."""

    differentiable = True

    def __init__(self, var_types=None, threshold: float | None = None,
                 bounds=((-2.0, -2.0, 0.0), (2.0, 3.5, 2.0))):
        n_var = len(bounds[0])
        super().__init__(n_var, 2, [list(bounds[0]), list(bounds[1])], var_types=var_types,
                         n_constr=0 if threshold is None else 1, name="recording")
        self.threshold = threshold
        self.seen: list[torch.Tensor] = []

    def _evaluate(self, X):
        self.seen.append(X.detach().reshape(-1, self.n_var).clone())
        return torch.stack([X.pow(2).sum(-1), (X - 1).pow(2).sum(-1)], -1)

    def _constraints(self, X):
        return (self.threshold - X[..., :1])

    def received(self) -> torch.Tensor:
        return torch.cat(self.seen)


MIXED = ("real", "int", "cat")
PYMOO_PEERS = [name for name in names("algorithm") if name.startswith("pymoo.")]
#: options that keep every run tiny (2 CPU cores)
TINY = {"psl": dict(hidden=(16, 16), n_snapshot=10), "phn": dict(hidden=(8, 8)), "moo-svgd": dict(n_particles=4),
        "psl-mobo": dict(n_init=4, batch_size=2, n_steps=3, n_candidate=20, hidden=(8, 8)),
        "svh-psl": dict(n_init=4, batch_size=2, n_steps=3, n_candidate=20, hidden=(8, 8), n_test_per_obj=4),
        "pymoo.nsga2": dict(pop_size=20), "pymoo.smsemoa": dict(pop_size=20),
        "pymoo.nsga3": dict(n_partitions=19), "pymoo.moead": dict(n_partitions=19, n_neighbors=5),
        "botorch.qnehvi": dict(n_init=4), "botorch.qparego": dict(n_init=4), "linas": dict(pop_size=8)}


def assert_refused(problem, name, tmp_path, feature):
    out = tmp_path / "run"
    with pytest.raises(UnsupportedProblemError) as info:
        moo.solve(problem, name, budget=50, seed=0, out=out, progress=False, **TINY.get(name, {}))
    message = str(info.value)
    assert isinstance(info.value, moo.MooValueError)
    assert repr(name) in message and feature in message and "nsga2" in message  # who, why, who instead
    assert problem.seen == [] and not out.exists()  # refused before any evaluation and any file


# ------------------------------------------------------------------ refusals at setup
@pytest.mark.parametrize("name,var_types", [
    ("psl", ("real", "int", "real")), ("psl", MIXED), ("moo-svgd", ("real", "int", "real")),
    ("phn", ("real", "real", "cat")), ("psl-mobo", MIXED), ("svh-psl", MIXED), ("pymoo.moead", MIXED),
    ("botorch.qnehvi", ("real", "int", "real")), ("botorch.qparego", ("real", "int", "real")),
])
def test_solvers_without_operators_for_a_variable_type_refuse_it_at_setup(name, var_types, tmp_path):
    assert_refused(Recording(var_types), name, tmp_path, "variable")


@pytest.mark.parametrize("name", ["moo-svgd", "phn", "psl-mobo", "svh-psl", "linas", "pymoo.moead",
                                  "botorch.qnehvi", "botorch.qparego"])
def test_solvers_without_constraint_handling_refuse_constrained_problems_at_setup(name, tmp_path):
    assert_refused(Recording(threshold=1.0), name, tmp_path, "constraints")


# ------------------------------------------------------------------ integer and categorical values
def assert_integral(problem, X):
    """Every integer / categorical column of ``X`` holds integers inside the bounds."""
    X = torch.as_tensor(X)
    for j, kind in enumerate(problem.var_types):
        if kind != "real":
            column = X[:, j]
            assert torch.equal(column, column.round()), f"column {j} ({kind}) got {column[:5].tolist()}"
            assert math.ceil(problem.xl[j]) <= column.min() and column.max() <= math.floor(problem.xu[j])


@pytest.mark.parametrize("name", PYMOO_PEERS)
def test_pymoo_peers_evaluate_integer_and_categorical_variables_at_valid_values(name):
    assert len(PYMOO_PEERS) == 4
    types = ("real", "int", "int") if name == "pymoo.moead" else MIXED  # MOEA/D refuses categories
    problem = Recording(types)
    result = moo.solve(problem, name, budget=60, seed=0, progress=False, **TINY[name])
    X = problem.received()
    assert X.shape[0] == 60
    assert_integral(problem, X)
    assert_integral(problem, result.X)
    assert not torch.equal(X[:, 0], X[:, 0].round())  # the real variable stays real


@pytest.mark.parametrize("name", ["psl-mobo", "svh-psl"])
def test_surrogate_learners_round_integer_variables_before_evaluating(name):
    problem = Recording(("real", "int", "int"))
    moo.solve(problem, name, budget=8, seed=0, progress=False, **TINY[name])
    X = problem.received()
    assert X.shape[0] == 8
    assert_integral(problem, X)


# ------------------------------------------------------------------ constraints honoured, infeasibility flagged
def test_pymoo_nsga2_flags_an_infeasible_approximation_set():
    problem = Recording(MIXED, threshold=100.0)  # x0 >= 100 cannot hold in the box
    with pytest.warns(InfeasibleWarning):
        result = moo.solve(problem, "pymoo.nsga2", budget=60, seed=0, progress=False, pop_size=20)
    X_all = problem.received()
    least = float((100.0 - X_all[:, 0]).min())  # the least infeasible point evaluated
    assert result.meta["feasible"] is False and result.meta["max_violation"] == pytest.approx(least)
    assert_integral(problem, X_all)


def test_psl_penalty_keeps_the_learned_solutions_feasible():
    # Schaffer's unconstrained set is x0 = x1 in [0, 1] (bounds [-2, 2]^2); x0 >= 0.5 cuts half of it.
    problem = Recording(threshold=0.5, bounds=((-2.0, -2.0), (2.0, 2.0)))
    result = moo.solve(problem, "psl", budget=2010, seed=0, progress=False, **TINY["psl"])
    assert result.meta["feasible"] is True and result.meta["max_violation"] == 0.0
    X = torch.as_tensor(result.X)
    assert X.shape[0] >= 3 and bool((X[:, 0] >= 0.5).all())
    assert float(X[:, 0].min()) < 0.55  # solutions reach the constraint's boundary, not only the far end


def test_psl_on_an_infeasible_problem_returns_the_least_infeasible_and_says_so():
    problem = Recording(threshold=100.0, bounds=((-2.0, -2.0), (2.0, 2.0)))
    with pytest.warns(InfeasibleWarning, match="least infeasible"):
        result = moo.solve(problem, "psl", budget=1010, seed=0, progress=False, **TINY["psl"])
    assert result.meta["feasible"] is False and result.meta["max_violation"] > 97.0


def test_psl_penalty_needs_differentiable_constraints():
    class Detached(Recording):
        def _constraints(self, X):
            return super()._constraints(X).detach()

    with pytest.raises(moo.MooTypeError, match="differentiable constraints"):
        moo.solve(Detached(threshold=0.5, bounds=((-2.0, -2.0), (2.0, 2.0))), "psl", budget=100, seed=0,
                  progress=False, **TINY["psl"])
    with pytest.raises(moo.MooValueError, match="constraint_penalty"):
        moo.solve(Recording(threshold=0.5), "psl", budget=100, seed=0, progress=False,
                  constraint_penalty=0.0, **TINY["psl"])
