"""Ask/tell: a loop written by hand gives solve's result bit for bit; misuse is refused."""
from __future__ import annotations

import pytest
import torch

import moo
from moo.errors import MooTypeError, MooValueError, ShapeError
from moo.indicators import hypervolume


def hand_loop(problem, algorithm, budget: int, seed: int):
    """What a user with an external evaluator writes: ask, evaluate elsewhere, tell."""
    algorithm.setup(problem, seed=seed, device="cpu", budget=budget)
    while algorithm.remaining:
        X = algorithm.ask()
        F = problem.evaluate(X.clone())  # the user's evaluator sees a copy, as a lab would
        algorithm.tell(X, F)
    return algorithm.approximation()


CASES = [("nsga2", {"pop_size": 12}, "zdt1", 60),
         ("pymoo.nsga2", {"pop_size": 12}, "zdt1", 60),
         # the Bayesian-optimization solvers: the initial design, then one fit-and-propose round
         # per ask (tiny surrogate loops keep each case to a few seconds)
         ("psl-mobo", {"n_init": 5, "batch_size": 3, "n_steps": 5, "n_candidate": 30, "hidden": (8, 8)},
          "vlmop2", 11),
         ("botorch.qnehvi", {"n_init": 5, "batch_size": 2, "num_restarts": 2, "raw_samples": 32,
                             "mc_samples": 16}, "vlmop2", 9)]


@pytest.mark.parametrize("name,config,problem,budget", CASES, ids=[c[0] for c in CASES])
def test_hand_written_ask_tell_loop_reproduces_solve_bit_for_bit(name, config, problem, budget):
    X_hand, F_hand = hand_loop(moo.get_problem(problem), moo.get_algorithm(name, **config), budget, seed=3)
    result = moo.solve(problem, name, budget=budget, seed=3, device="cpu", progress=False, **config)
    assert result.n_evals == budget
    assert torch.equal(X_hand, result.X) and torch.equal(F_hand, result.F)


def test_ask_tell_with_constraints_passed_by_the_caller():
    from toy_problems import Ring

    problem = Ring(radius=1.5)
    algorithm = moo.get_algorithm("nsga2", pop_size=10)
    algorithm.setup(problem, seed=0, device="cpu", budget=40)
    while algorithm.remaining:
        X = algorithm.ask()
        algorithm.tell(X, problem.evaluate(X), problem.constraints(X))
    X, _ = algorithm.approximation()
    assert (problem.constraints(X) <= 0).all()
    result = moo.solve(Ring(radius=1.5), "nsga2", budget=40, seed=0, device="cpu", progress=False, pop_size=10)
    assert torch.equal(X, result.X)


def test_tell_checks_what_it_is_told():
    problem = moo.get_problem("zdt1")
    algorithm = moo.get_algorithm("nsga2", pop_size=8)
    algorithm.setup(problem, seed=0, device="cpu", budget=32)
    with pytest.raises(MooValueError, match="ask"):
        algorithm.tell(torch.zeros(8, problem.n_var), torch.zeros(8, 2))  # nothing was asked
    X = algorithm.ask()
    with pytest.raises(MooValueError, match="tell"):
        algorithm.ask()  # the last batch is still out
    with pytest.raises(MooValueError, match="asked"):
        algorithm.tell(X + 0.01, problem.evaluate(X))  # not the asked points
    with pytest.raises(ShapeError):
        algorithm.tell(X, problem.evaluate(X)[:, :1])
    bad = problem.evaluate(X)
    bad[0, 0] = float("nan")
    with pytest.raises(moo.errors.NonFiniteError):
        algorithm.tell(X, bad)
    algorithm.tell(X, problem.evaluate(X))  # the batch is still open after the refusals
    assert algorithm.n_evals == 8


def test_constrained_problem_needs_the_constraints_told():
    from toy_problems import Ring

    problem = Ring(radius=1.5)
    algorithm = moo.get_algorithm("nsga2", pop_size=8)
    algorithm.setup(problem, seed=0, device="cpu", budget=16)
    X = algorithm.ask()
    with pytest.raises(MooValueError, match="constraint"):
        algorithm.tell(X, problem.evaluate(X))


def test_gradient_learners_do_not_ask():
    algorithm = moo.get_algorithm("psl")
    algorithm.setup(moo.get_problem("zdt1"), seed=0, device="cpu", budget=100)
    assert not algorithm.asks
    with pytest.raises(MooTypeError, match="gradient|step"):
        algorithm.ask()


def test_ask_respects_the_budget():
    algorithm = moo.get_algorithm("pymoo.nsga2", pop_size=10)
    problem = moo.get_problem("zdt1")
    algorithm.setup(problem, seed=0, device="cpu", budget=25)
    sizes = []
    while algorithm.remaining:
        X = algorithm.ask()
        sizes.append(X.shape[0])
        algorithm.tell(X, problem.evaluate(X))
    assert sizes == [10, 10, 5] and algorithm.n_evals == 25


def _readme_block(after: str) -> str:
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text[text.index(after):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_solver_example_registers_a_working_black_box_solver(tmp_path):
    namespace: dict = {}
    exec(_readme_block("## Adding a solver"), namespace)  # noqa: S102 (the project's own README)
    result = moo.solve("zdt1", "gaussian-walk", budget=50, seed=0, device="cpu", progress=False,
                       out=tmp_path / "r", checkpoint_every=1)
    # batches of 20, 20 and 10; the step shrinks by 0.9 per batch
    assert result.n_evals == 50 and result.history[-1]["sigma"] == pytest.approx(0.2 * 0.9 ** 3)
    again = moo.solve("zdt1", "gaussian-walk", budget=50, seed=0, device="cpu", progress=False)
    assert torch.equal(again.F, result.F)
    walker = namespace["GaussianWalk"]()
    walker.setup(moo.get_problem("zdt1"), seed=0, device="cpu", budget=50)
    walker.step()
    assert walker.state_dict()["sigma"] == pytest.approx(0.18)
    # it improves on its own first, uniform batch
    first = moo.solve("zdt1", "gaussian-walk", budget=20, seed=0, device="cpu", progress=False)
    ref = torch.tensor([11.0, 11.0], dtype=torch.float64)
    assert hypervolume(result.F, ref) > hypervolume(first.F, ref)


def test_surrogate_solvers_ask_the_initial_design_then_batches_within_the_budget():
    problem = moo.get_problem("vlmop2")
    algorithm = moo.get_algorithm("psl-mobo", n_init=4, batch_size=3, n_steps=2, n_candidate=20, hidden=(8, 8))
    assert algorithm.asks and algorithm.resume_by == "state"
    algorithm.setup(problem, seed=0, device="cpu", budget=9)
    sizes = []
    while algorithm.remaining:
        X = algorithm.ask()
        sizes.append(X.shape[0])
        algorithm.tell(X, problem.evaluate(X))
    assert sizes == [4, 3, 2] and algorithm.n_iter == 2


def test_linas_refuses_a_constrained_problem_at_setup():
    from toy_problems import Ring

    from moo.algorithm import UnsupportedProblemError

    algorithm = moo.get_algorithm("linas")
    assert algorithm.asks and not type(algorithm).handles_constraints
    with pytest.raises(UnsupportedProblemError, match="constraints"):
        algorithm.setup(Ring(radius=1.5), seed=0, device="cpu", budget=20)
