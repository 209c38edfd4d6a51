"""The solve loop: ``moo.solve(problem, algorithm, budget=..., seed=...)`` and ``moo.resume(dir)``.

``solve`` drives ``Algorithm.step()`` until the budget of true evaluations is spent. It owns the
progress display, callbacks, the history (evaluations, wall time, hypervolume), checkpoints into
a run folder, and resume from them. Same seed and same device give the same result, and a run
resumed from a checkpoint ends exactly where the uninterrupted run would have.

A run folder holds ``run.json`` (what to rebuild: problem, algorithm, seed, budget, device, and
the problem's fingerprint), ``checkpoint.pt`` (written atomically every ``checkpoint_every``
steps and/or every ``checkpoint_seconds`` of wall time; loaded with ``weights_only=True``),
``.lock`` (held while a run writes) and, once finished, the saved :class:`~moo.result.Result`.
A folder holding a finished result or an unfinished run is refused unless ``overwrite=True``;
opening one never imports code it names unless ``trust=True`` (see :mod:`moo.rebuild`).
"""
from __future__ import annotations

import logging
import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Callable, Iterable

import torch

from moo.algorithm import Algorithm, check_budget, check_device, check_seed
from moo.errors import FormatError, MooError, MooTypeError, MooValueError, RunFolderError
from moo.pareto import total_violation
from moo.problem import Problem
from moo.rebuild import algorithm_from_spec, problem_from_spec
from moo.registry import get_algorithm, get_problem
from moo.result import ARRAYS, MODEL, RESULT_JSON, Result, algorithm_spec, run_metadata
from moo.run_folder import (FolderLock, check_archive, check_fields, check_fingerprint, check_format,
                            check_writable_path, make_folder, problem_fingerprint, read_json, read_torch,
                            write_json, write_torch)

log = logging.getLogger("moo")

Callback = Callable[[dict], object]
CHECKPOINT = "checkpoint.pt"
RUN_SPEC = "run.json"
STOP = "stop"
RUN_FORMAT = CHECKPOINT_FORMAT = 1


def _history_evaluator(problem: Problem):
    """The evaluator used for the hypervolume column of the history, or ``None`` when the problem
    gives no convention (no ideal/nadir, no reference point, no front)."""
    from moo.indicators import Evaluator

    try:
        evaluator = Evaluator.for_problem(problem)
    except MooError:
        return None
    return evaluator if evaluator.ref_point is not None else None


class _Progress:
    """A tqdm bar on a terminal, quiet log lines (every ~10% of the budget) otherwise."""

    def __init__(self, budget: int, label: str, enabled: bool | None, start: int = 0):
        interactive = sys.stderr.isatty() if enabled is None else enabled
        self.bar = None
        self.budget, self.label, self.next_log = budget, label, 0.1
        if interactive:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=budget, initial=start, desc=label, unit="eval", leave=False)
        self.quiet = enabled is False

    def update(self, n_evals: int, record: dict) -> None:
        if self.bar is not None:
            self.bar.n = min(n_evals, self.budget)
            if record.get("hv") is not None:
                self.bar.set_postfix(hv=f"{record['hv']:.5g}", refresh=False)
            self.bar.refresh()
        elif not self.quiet and n_evals / self.budget >= self.next_log:
            hv = record.get("hv")
            log.info("%s: %d/%d evaluations%s", self.label, n_evals, self.budget,
                     "" if hv is None else f", hv={hv:.6g}")
            self.next_log = math.floor(n_evals / self.budget * 10 + 1) / 10

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def feasibility(problem: Problem, X: torch.Tensor) -> dict:
    """``feasible`` (every point of the approximation set ``X`` satisfies the constraints) and
    its largest total violation ``max_violation``; stored in every result's metadata, so an
    infeasible set is never read as a front."""
    if not problem.n_constr or X.shape[0] == 0:
        return {"feasible": not problem.n_constr, "max_violation": 0.0 if not problem.n_constr else None}
    cv = total_violation(problem.constraints(X))
    return {"feasible": bool((cv <= 0).all()), "max_violation": float(cv.max())}


class _Run:
    """One run of the loop; shared by ``solve`` and ``resume``."""

    def __init__(self, problem: Problem, algorithm: Algorithm, *, budget: int, seed: int, device,
                 out: Path | None, checkpoint_every: int | None, checkpoint_seconds: float | None,
                 callbacks: Iterable[Callback],
                 progress: bool | None, history_every: int):
        self.problem, self.algorithm = problem, algorithm
        self.budget, self.seed, self.device = budget, seed, device
        self.out, self.checkpoint_every, self.checkpoint_seconds = out, checkpoint_every, checkpoint_seconds
        self.last_checkpoint = time.perf_counter()
        self.callbacks = list(callbacks)
        self.progress = progress
        self.history_every = history_every
        self.history: list[dict] = []
        self.step = 0
        self.elapsed_before = 0.0
        self.replay_until = 0  # steps whose history is already recorded (replay resume)
        self.evaluator = _history_evaluator(problem)

    def record(self, info, started: float) -> dict:
        rec = {"step": self.step, "n_evals": self.algorithm.n_evals,
               "time": self.elapsed_before + time.perf_counter() - started}
        if self.evaluator is not None and (self.step % self.history_every == 0
                                           or self.algorithm.n_evals >= self.budget):
            _, F = self.algorithm.approximation()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # early fronts often miss the reference box
                rec["hv"] = float(self.evaluator.hypervolume(F)) if F.shape[0] else 0.0
        for key, value in info.extras.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                rec[key] = float(value)
        return rec

    def checkpoint_due(self) -> bool:
        by_steps = bool(self.checkpoint_every) and self.step % self.checkpoint_every == 0
        by_time = self.checkpoint_seconds is not None and \
            time.perf_counter() - self.last_checkpoint >= self.checkpoint_seconds
        return by_steps or by_time

    def checkpoint(self, started: float) -> None:
        self.last_checkpoint = time.perf_counter()
        state = self.algorithm.state_dict()
        X, F = self.algorithm.archive
        write_torch({
            "format": CHECKPOINT_FORMAT,
            "step": self.step,
            "mode": "replay" if state is None else "state",
            "state": state,
            "log_X": X.detach().cpu(),
            "log_F": F.detach().cpu(),
            "history": self.history,
            "elapsed": self.elapsed_before + time.perf_counter() - started,
        }, self.out / CHECKPOINT)

    def loop(self) -> Result:
        alg = self.algorithm
        started = time.perf_counter()
        bar = _Progress(self.budget, f"{alg.name} on {self.problem.name}", self.progress,
                        start=alg.n_evals)
        idle_steps = 0
        try:
            while alg.n_evals < self.budget:
                before = alg.n_evals
                info = alg.step()
                self.step += 1
                idle_steps = 0 if alg.n_evals > before else idle_steps + 1
                if idle_steps >= 1000:
                    raise RuntimeError(f"algorithm {alg.name!r} made 1000 steps without evaluating anything")
                if self.step <= self.replay_until:
                    continue  # replaying steps whose history is already recorded
                rec = self.record(info, started)
                self.history.append(rec)
                bar.update(alg.n_evals, rec)
                stop = any([cb(rec) == STOP for cb in self.callbacks])  # every callback sees every record
                if self.out is not None and self.checkpoint_due():
                    self.checkpoint(started)
                if stop:
                    break
        finally:
            bar.close()
        wall = self.elapsed_before + time.perf_counter() - started
        X, F = alg.approximation()
        X_all, F_all = alg.archive
        meta = run_metadata(self.problem, alg, seed=self.seed, budget=self.budget, device=self.device,
                            wall_time=wall, n_steps=self.step,
                            conventions=None if self.evaluator is None else self.evaluator.conventions)
        meta.update(feasibility(self.problem, X))
        result = Result(X=X, F=F, X_all=X_all, F_all=F_all, history=self.history, meta=meta,
                        state=alg.state_dict() if alg.learns_pareto_set else None)
        if self.out is not None:
            result.save(self.out)
        return result


def _check_run_options(checkpoint_every, checkpoint_seconds, history_every, out) -> None:
    if checkpoint_every is not None and (isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int)
                                         or checkpoint_every <= 0):
        raise MooValueError(f"checkpoint_every must be a positive integer, got {checkpoint_every!r}")
    if isinstance(history_every, bool) or not isinstance(history_every, int) or history_every <= 0:
        raise MooValueError(f"history_every must be a positive integer, got {history_every!r}")
    if checkpoint_seconds is not None and (isinstance(checkpoint_seconds, bool)
                                           or not isinstance(checkpoint_seconds, (int, float))
                                           or not 0 < checkpoint_seconds < math.inf):
        raise MooValueError(f"checkpoint_seconds must be a positive number, got {checkpoint_seconds!r}")
    if (checkpoint_every or checkpoint_seconds) and out is None:
        raise MooValueError("checkpoints need a run folder: pass out=DIR")


def _claim_folder(out: Path, overwrite: bool) -> None:
    """Refuse a folder that holds another run's files, unless ``overwrite``; then clear them.
    Called with the folder's lock held."""
    if not overwrite:
        if (out / RESULT_JSON).exists():
            raise RunFolderError(f"{str(out)!r} holds a finished result; pass overwrite=True (--overwrite) to "
                                 "replace it, or choose another folder (moo.Result.load reads it)")
        if (out / RUN_SPEC).exists():
            raise RunFolderError(f"{str(out)!r} holds an unfinished run; `moo resume {out}` finishes it, "
                                 "overwrite=True (--overwrite) starts over")
    for stale in (RESULT_JSON, CHECKPOINT, MODEL, ARRAYS, RUN_SPEC):  # the completion marker first
        (out / stale).unlink(missing_ok=True)


def solve(problem: Problem | str, algorithm: Algorithm | str, *, budget: int, seed: int = 0,
          device: torch.device | str | None = None, out: str | os.PathLike | None = None,
          overwrite: bool = False, checkpoint_every: int | None = None, checkpoint_seconds: float | None = None,
          callbacks: Iterable[Callback] = (),
          progress: bool | None = None, history_every: int = 1, **algorithm_options) -> Result:
    """Run ``algorithm`` on ``problem`` until ``budget`` true evaluations are spent.

    Everything is validated before the run folder is touched (budget, seed, device, options,
    the algorithm's fit to the problem); the folder is then locked for the run, so a second run
    into it fails at once.

    Args:
        problem: a :class:`~moo.Problem` or a registered name (``"zdt1"``).
        algorithm: an :class:`~moo.Algorithm` or a registered name (``"pymoo.nsga2"``);
            ``algorithm_options`` override its config when given by name.
        budget: true evaluations (rows of ``X`` passed to the problem).
        seed: every random draw derives from it; same seed and device give the same result.
        device: defaults to CUDA when available, else CPU.
        out: run folder for ``run.json``, checkpoints and the saved result.
        overwrite: replace a finished result or an unfinished run already in ``out``; without
            it such a folder is refused.
        checkpoint_every: write a checkpoint every this many steps (needs ``out``).
        checkpoint_seconds: also write one whenever this much wall time has passed since the last
            (needs ``out``); suits runs whose steps are very short or very long.
        callbacks: called with each history record (a dict); returning ``"stop"`` ends the run.
        progress: ``True`` for a bar, ``False`` for silence, ``None`` for a bar on a terminal and
            log lines otherwise.
        history_every: compute the hypervolume column every this many steps.
    """
    budget = check_budget(budget)
    seed = check_seed(seed)
    device = check_device(device)
    if not isinstance(overwrite, bool):
        raise MooTypeError(f"overwrite must be True or False, got {overwrite!r}")
    _check_run_options(checkpoint_every, checkpoint_seconds, history_every, out)
    out_path = None if out is None else check_writable_path(out)
    if isinstance(problem, str):
        problem = get_problem(problem)
    if not isinstance(problem, Problem):
        raise MooTypeError(f"problem must be a moo.Problem or a registered name, got {type(problem).__name__}")
    if isinstance(algorithm, str):
        algorithm = get_algorithm(algorithm, **algorithm_options)
    elif algorithm_options:
        raise MooValueError(f"algorithm options {sorted(algorithm_options)} are only accepted with an "
                            "algorithm given by name; set them on the algorithm's config instead")
    if not isinstance(algorithm, Algorithm):
        raise MooTypeError(f"algorithm must be a moo.Algorithm or a registered name, got {type(algorithm).__name__}")
    algorithm.setup(problem, seed=seed, device=device, budget=budget)
    run = _Run(problem, algorithm, budget=budget, seed=seed, device=device, out=out_path,
               checkpoint_every=checkpoint_every, checkpoint_seconds=checkpoint_seconds,
               callbacks=callbacks, progress=progress, history_every=history_every)
    if out_path is None:
        return run.loop()
    spec = {
        "format": RUN_FORMAT,
        "problem": problem.spec,
        "fingerprint": problem_fingerprint(problem),
        "algorithm": {"name": algorithm_spec(algorithm), "config": algorithm.config_dict()},
        "seed": seed, "budget": budget, "device": str(device),
        "checkpoint_every": checkpoint_every, "checkpoint_seconds": checkpoint_seconds,
        "history_every": history_every,
    }
    make_folder(out_path)
    with FolderLock(out_path):
        _claim_folder(out_path, overwrite)
        write_json(spec, out_path / RUN_SPEC)
        return run.loop()


_RUN_KEYS = {"algorithm": dict, "seed": int, "budget": int, "device": str}


def resume(run_dir: str | os.PathLike, *, problem: Problem | None = None, trust: bool = False,
           callbacks: Iterable[Callback] = (), progress: bool | None = None) -> Result:
    """Finish the run in ``run_dir`` from its last checkpoint.

    A run that has already finished is not run again: its stored result is returned (and a log
    line says so). The problem is rebuilt from ``run.json`` when it was created by a registered
    name; a user's own ``module:Attr`` problem or algorithm is imported only with
    ``trust=True``, since importing runs code named in the folder. Pass ``problem`` for a
    problem object built in code. Either way the problem must match the fingerprint recorded
    in ``run.json``.

    Algorithms with a ``state_dict`` continue from it; the others are replayed from the seed
    with the recorded evaluations, so no true evaluation is repeated. A run killed before its
    first checkpoint starts over from its seed (a log line says so).
    """
    run_dir = Path(run_dir)
    spec_path, ckpt_path = run_dir / RUN_SPEC, run_dir / CHECKPOINT
    if not run_dir.is_dir():
        raise RunFolderError(f"{str(run_dir)!r} is not a run folder: no such folder")
    if not spec_path.is_file():
        raise RunFolderError(f"{str(run_dir)!r} is not a run folder: {RUN_SPEC} is missing")
    with FolderLock(run_dir):
        spec = read_json(spec_path, "run spec", formats=(RUN_FORMAT,), keys=_RUN_KEYS)
        if (run_dir / RESULT_JSON).exists():
            log.warning("%s: the run has already finished; returning its stored result", run_dir)
            return Result.load(run_dir)
        source = str(spec_path)
        if problem is None:
            if not spec.get("problem"):
                raise RunFolderError(f"the problem of {str(run_dir)!r} was built in code, not by name; "
                                     "pass problem= to resume it")
            problem = problem_from_spec(spec["problem"], trust=trust, source=source)
        elif not isinstance(problem, Problem):
            raise MooTypeError(f"problem must be a moo.Problem, got {type(problem).__name__}")
        check_fingerprint(spec.get("fingerprint"), problem, source)
        algorithm = algorithm_from_spec(spec["algorithm"], trust=trust, source=source)
        seed, budget = check_seed(spec["seed"]), check_budget(spec["budget"])
        device = check_device(spec["device"])
        options = {k: spec.get(k) for k in ("checkpoint_every", "checkpoint_seconds")}
        history_every = spec.get("history_every", 1)
        _check_run_options(options["checkpoint_every"], options["checkpoint_seconds"], history_every, run_dir)
        algorithm.setup(problem, seed=seed, device=device, budget=budget)
        run = _Run(problem, algorithm, budget=budget, seed=seed, device=device, out=run_dir,
                   callbacks=callbacks, progress=progress, history_every=history_every, **options)
        if ckpt_path.is_file():
            _restore(run, read_torch(ckpt_path, "checkpoint", map_location=algorithm.device), str(ckpt_path))
        else:
            log.info("%s: no checkpoint was written before the run stopped; it starts over from its seed", run_dir)
        return run.loop()


_CHECKPOINT_KEYS = {"step": int, "mode": str, "log_X": torch.Tensor, "log_F": torch.Tensor,
                    "history": list, "elapsed": float}


def _restore(run: _Run, ckpt, source: str) -> None:
    """Load a checkpoint into ``run``, refusing one that is malformed or from another run."""
    if not isinstance(ckpt, dict):
        raise FormatError(f"checkpoint {source!r} must hold a table, got {type(ckpt).__name__}")
    check_format(ckpt.get("format"), (CHECKPOINT_FORMAT,), f"checkpoint {source!r}")
    check_fields(ckpt, _CHECKPOINT_KEYS, f"checkpoint {source!r}")
    if ckpt["mode"] not in ("state", "replay") or ckpt["step"] < 0:
        raise FormatError(f"checkpoint {source!r}: mode {ckpt['mode']!r} / step {ckpt['step']} is not valid")
    alg, problem = run.algorithm, run.problem
    check_archive(ckpt["log_X"], ckpt["log_F"], f"checkpoint {source!r}", n_var=problem.n_var, n_obj=problem.n_obj)
    run.history = list(ckpt["history"])
    run.elapsed_before = float(ckpt["elapsed"])
    if ckpt["mode"] == "state":
        if not isinstance(ckpt.get("state"), dict):
            raise FormatError(f"checkpoint {source!r}: 'state' is missing or not a table")
        try:
            alg.load_state_dict(ckpt["state"])
        except MooError:
            raise
        except Exception as exc:  # a solver's loader on a tampered or foreign state
            raise FormatError(f"checkpoint {source!r} does not hold a state of {alg.name!r}: "
                              f"{type(exc).__name__}: {exc}") from exc
        run.step = ckpt["step"]
    else:
        alg.start_replay(ckpt["log_X"].to(alg.device, alg.dtype), ckpt["log_F"].to(alg.device, alg.dtype))
        run.replay_until = ckpt["step"]
