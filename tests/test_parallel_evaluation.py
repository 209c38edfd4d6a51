"""Evaluating asked batches on worker processes gives the serial result, counted once."""
from __future__ import annotations

import pytest
import torch

import moo
from moo.errors import MooTypeError, MooValueError
from moo.evaluation import PoolEvaluation, SerialEvaluation, batch_evaluation
from toy_problems import Ring


def test_pool_evaluation_matches_serial_row_for_row():
    problem = Ring(radius=1.0)
    X = torch.rand(11, 2, dtype=torch.float64) * 10 - 5
    serial = SerialEvaluation(Ring(radius=1.0))(X)
    pool = PoolEvaluation(problem, 3)
    try:
        F, G = pool(X)
        assert torch.equal(F, serial[0]) and torch.equal(G, serial[1])
        assert problem.n_evals == 11
        F_empty, _ = pool(X[:0])
        assert F_empty.shape == (0, 2)
    finally:
        pool.close()


@pytest.mark.parametrize("algorithm,config", [("nsga2", {"pop_size": 10}), ("pymoo.nsga2", {"pop_size": 10})])
def test_solve_with_two_workers_equals_serial(algorithm, config, tmp_path):
    problem = moo.get_problem("zdt1")
    serial = moo.solve("zdt1", algorithm, budget=50, seed=1, device="cpu", progress=False, **config)
    parallel = moo.solve(problem, algorithm, budget=50, seed=1, device="cpu", progress=False, workers=2, **config)
    assert torch.equal(serial.X, parallel.X) and torch.equal(serial.F_all, parallel.F_all)
    assert problem.n_evals == 50


def test_unpicklable_problem_is_refused_before_anything_runs(tmp_path):
    class Local(moo.Problem):  # defined in a function: spawned workers could not import it
        def __init__(self):
            super().__init__(1, 2, [[0.0], [1.0]], name="local")

        def _evaluate(self, X):
            return torch.cat([X, 1 - X], -1)

    problem = Local()
    with pytest.raises(MooTypeError, match="pickle"):
        batch_evaluation(problem, 2)


def test_bad_worker_options():
    for workers in (0, -1, 1.5, True):
        with pytest.raises(MooValueError):
            moo.solve("zdt1", "nsga2", budget=10, workers=workers, progress=False)
    with pytest.raises(MooValueError, match="backend"):
        moo.solve("zdt1", "nsga2", budget=10, workers=2, backend="dask", progress=False)


def test_ray_backend_equals_serial():
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'moo[distributed]'")
    serial = moo.solve("zdt1", "nsga2", budget=30, seed=2, device="cpu", progress=False, pop_size=10)
    ray_run = moo.solve("zdt1", "nsga2", budget=30, seed=2, device="cpu", progress=False, pop_size=10,
                        workers=2, backend="ray")
    assert torch.equal(serial.F_all, ray_run.F_all)
