"""Random search: uniform over reals, integers and categories; one stream of draws."""
import torch

import moo


def test_discrete_variables_take_every_value_within_the_bounds():
    problem = moo.get_problem("nas-digits")
    alg = moo.get_algorithm("random", batch_size=400)
    alg.setup(problem, seed=0, device="cpu", budget=400)
    X = alg.ask()
    lo, hi = problem.bounds.to(X)
    assert torch.equal(X, X.round())
    assert bool(((X >= lo) & (X <= hi)).all())
    for j in range(problem.n_var):  # every value of each variable is drawn
        assert set(X[:, j].tolist()) == set(range(int(lo[j]), int(hi[j]) + 1))


def test_the_batch_size_changes_when_points_are_asked_not_which():
    a = moo.solve("zdt1", "random", budget=30, seed=3, device="cpu", progress=False, batch_size=7)
    b = moo.solve("zdt1", "random", budget=30, seed=3, device="cpu", progress=False, batch_size=30)
    assert a.n_evals == b.n_evals == 30
    assert torch.equal(a.X_all, b.X_all)
    assert len(a.history) == 5 and len(b.history) == 1
