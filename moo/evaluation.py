"""Evaluating the batches a solver asks for: in-process, on a process pool, or on Ray.

``moo.solve(..., workers=N)`` splits each asked batch ``X [k, n_var]`` into ``N`` contiguous
chunks of rows, evaluates them at once on ``N`` spawned processes (or ``N`` Ray tasks with
``backend="ray"``), and puts the objectives (and constraints) back in row order. The problem is
sent to each worker once, when the pool starts. A problem whose rows are evaluated independently
of each other (the problem contract) gives the same numbers in parallel as in one process, so a
run's result does not depend on ``workers``. Parallel evaluation pays when one evaluation costs
far more than shipping a chunk to a process (training a network for NAS, a simulator); for
closed-form problems the serial path is faster.

The problem must be picklable (a class importable by the workers: defined in a module, not in
``__main__`` of an interactive session), since spawned workers rebuild it.
"""
from __future__ import annotations

import math
import pickle
from typing import Literal

import torch
from torch import Tensor

from moo.errors import MooTypeError, MooValueError
from moo.problem import Problem

Backend = Literal["process", "ray"]


class SerialEvaluation:
    """Evaluate each batch in this process: ``(F, G)``, ``G`` ``None`` without constraints."""

    def __init__(self, problem: Problem):
        self.problem = problem

    def __call__(self, X: Tensor) -> tuple[Tensor, Tensor | None]:
        F = self.problem.evaluate(X)
        G = self.problem.constraints(X) if self.problem.n_constr else None
        return F, G

    def close(self) -> None:
        pass


# ------------------------------------------------------------------------------ worker side
_WORKER_PROBLEM: Problem | None = None


def _load_problem(payload: bytes) -> None:
    global _WORKER_PROBLEM
    torch.set_num_threads(1)  # N workers on N cores; threads inside each would oversubscribe them
    _WORKER_PROBLEM = pickle.loads(payload)  # noqa: S301 (bytes pickled by this process's parent)


def _evaluate_chunk(X: Tensor) -> tuple[Tensor, Tensor | None]:
    return SerialEvaluation(_WORKER_PROBLEM)(X)


def _evaluate_chunk_on(payload: bytes, X: Tensor) -> tuple[Tensor, Tensor | None]:
    """Ray task: the problem comes with the task (Ray caches the object across tasks)."""
    global _WORKER_PROBLEM
    if _WORKER_PROBLEM is None:
        _load_problem(payload)
    return _evaluate_chunk(X)


def _chunks(X: Tensor, n: int) -> list[Tensor]:
    size = math.ceil(X.shape[0] / n)
    return [X[i:i + size] for i in range(0, X.shape[0], size)]


def problem_payload(problem: Problem) -> bytes:
    """``problem`` pickled for the workers, or a moo error saying why it cannot be sent."""
    try:
        return pickle.dumps(problem)
    except Exception as exc:
        raise MooTypeError(f"parallel evaluation sends the problem to worker processes, but {problem.name!r} "
                           f"cannot be pickled ({type(exc).__name__}: {exc}); define its class in an importable "
                           "module, or evaluate serially (workers=1)") from exc


class _Parallel:
    """Split, send, gather in row order; the parent problem counts the rows evaluated for it."""

    def __init__(self, problem: Problem, workers: int):
        self.problem, self.workers = problem, workers
        self.payload = problem_payload(problem)

    def _map(self, chunks: list[Tensor]) -> list[tuple[Tensor, Tensor | None]]:
        raise NotImplementedError

    def __call__(self, X: Tensor) -> tuple[Tensor, Tensor | None]:
        flat = X.detach().reshape(-1, X.shape[-1]).cpu()
        if flat.shape[0] == 0:
            return SerialEvaluation(self.problem)(X)
        parts = self._map(_chunks(flat, self.workers))
        F = torch.cat([f for f, _ in parts]).to(X.device)
        G = None if parts[0][1] is None else torch.cat([g for _, g in parts]).to(X.device)
        self.problem.n_evals += flat.shape[0]  # the workers' copies counted them; this is the run's copy
        lead = X.shape[:-1]
        return F.reshape(lead + F.shape[-1:]), None if G is None else G.reshape(lead + G.shape[-1:])


class PoolEvaluation(_Parallel):
    """Chunks on a pool of spawned processes (see :func:`moo.workers.process_pool`)."""

    def __init__(self, problem: Problem, workers: int):
        super().__init__(problem, workers)
        from moo.workers import process_pool

        self.pool = process_pool(workers, initializer=_load_problem, initargs=(self.payload,))

    def _map(self, chunks):
        return list(self.pool.map(_evaluate_chunk, chunks))

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class RayEvaluation(_Parallel):
    """Chunks as Ray tasks, on the running Ray instance or a local one started for the run."""

    def __init__(self, problem: Problem, workers: int):
        super().__init__(problem, workers)
        try:
            import ray
        except ImportError:
            raise MooValueError("backend='ray' needs Ray: pip install 'moo[distributed]'") from None
        self.ray = ray
        self.started_here = not ray.is_initialized()
        if self.started_here:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        self.ref = ray.put(self.payload)
        self.task = ray.remote(num_cpus=1, max_retries=0)(_evaluate_chunk_on)

    def _map(self, chunks):
        return self.ray.get([self.task.remote(self.ref, c) for c in chunks])

    def close(self) -> None:
        if self.started_here:
            self.ray.shutdown()


def check_workers(workers, backend) -> tuple[int, str]:
    """``workers`` (a positive integer) and ``backend`` (``"process"`` or ``"ray"``), checked."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers <= 0:
        raise MooValueError(f"workers must be a positive integer, got {workers!r}")
    if backend not in ("process", "ray"):
        raise MooValueError(f"backend must be 'process' or 'ray', got {backend!r}")
    return workers, backend


def batch_evaluation(problem: Problem, workers: int = 1, backend: Backend = "process"):
    """The evaluation a run uses: serial for ``workers == 1``, else a pool or Ray."""
    workers, backend = check_workers(workers, backend)
    if workers == 1:
        return SerialEvaluation(problem)
    return (RayEvaluation if backend == "ray" else PoolEvaluation)(problem, workers)
