"""The solve loop: ``moo.solve(problem, algorithm, budget=..., seed=...)`` and ``moo.resume(dir)``.

``solve`` drives ``Algorithm.step()`` until the budget of true evaluations is spent. It owns the
progress display, callbacks, the history (evaluations, wall time, hypervolume), checkpoints into
a run folder, and resume from them. Same seed and same device give the same result, and a run
resumed from a checkpoint ends exactly where the uninterrupted run would have.

A run folder holds ``run.json`` (what to rebuild: problem, algorithm, seed, budget, device),
``checkpoint.pt`` (written atomically every ``checkpoint_every`` steps and/or every
``checkpoint_seconds`` of wall time; loaded with
``weights_only=True``) and, once finished, the saved :class:`~moo.result.Result`.
"""
from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Callable, Iterable

import torch

from moo.algorithm import Algorithm, check_budget, default_device
from moo.errors import CheckpointError, MooError, MooTypeError, MooValueError
from moo.problem import Problem
from moo.registry import get_algorithm, get_problem
from moo.result import MODEL, RESULT_JSON, Result, algorithm_spec, run_metadata

log = logging.getLogger("moo")

Callback = Callable[[dict], object]
CHECKPOINT = "checkpoint.pt"
RUN_SPEC = "run.json"
STOP = "stop"


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


def _atomic_torch_save(obj, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _write_json(obj, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2))
    os.replace(tmp, path)


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
        _atomic_torch_save({
            "format": 1,
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
        result = Result(X=X, F=F, X_all=X_all, F_all=F_all, history=self.history, meta=meta,
                        state=alg.state_dict() if alg.learns_pareto_set else None)
        if self.out is not None:
            result.save(self.out)
        return result


def solve(problem: Problem | str, algorithm: Algorithm | str, *, budget: int, seed: int = 0,
          device: torch.device | str | None = None, out: str | os.PathLike | None = None,
          checkpoint_every: int | None = None, checkpoint_seconds: float | None = None,
          callbacks: Iterable[Callback] = (),
          progress: bool | None = None, history_every: int = 1, **algorithm_options) -> Result:
    """Run ``algorithm`` on ``problem`` until ``budget`` true evaluations are spent.

    Args:
        problem: a :class:`~moo.Problem` or a registered name (``"zdt1"``).
        algorithm: an :class:`~moo.Algorithm` or a registered name (``"pymoo.nsga2"``);
            ``algorithm_options`` override its config when given by name.
        budget: true evaluations (rows of ``X`` passed to the problem).
        seed: every random draw derives from it; same seed and device give the same result.
        device: defaults to CUDA when available, else CPU.
        out: run folder for ``run.json``, checkpoints and the saved result.
        checkpoint_every: write a checkpoint every this many steps (needs ``out``).
        checkpoint_seconds: also write one whenever this much wall time has passed since the last
            (needs ``out``); suits runs whose steps are very short or very long.
        callbacks: called with each history record (a dict); returning ``"stop"`` ends the run.
        progress: ``True`` for a bar, ``False`` for silence, ``None`` for a bar on a terminal and
            log lines otherwise.
        history_every: compute the hypervolume column every this many steps.
    """
    budget = check_budget(budget)
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
    if checkpoint_every is not None and (int(checkpoint_every) != checkpoint_every or checkpoint_every <= 0):
        raise MooValueError(f"checkpoint_every must be a positive integer, got {checkpoint_every!r}")
    if isinstance(history_every, bool) or not isinstance(history_every, int) or history_every <= 0:
        raise MooValueError(f"history_every must be a positive integer, got {history_every!r}")
    if checkpoint_seconds is not None and not checkpoint_seconds > 0:
        raise MooValueError(f"checkpoint_seconds must be a positive number, got {checkpoint_seconds!r}")
    if (checkpoint_every or checkpoint_seconds) and out is None:
        raise MooValueError("checkpoints need a run folder: pass out=DIR")
    device = torch.device(device) if device is not None else default_device()
    out_path = None
    if out is not None:
        out_path = Path(out)
        out_path.mkdir(parents=True, exist_ok=True)
        for stale in (CHECKPOINT, RESULT_JSON, MODEL):  # a previous run's files must not be resumed
            (out_path / stale).unlink(missing_ok=True)
        _write_json({
            "problem": getattr(problem, "spec", None),
            "algorithm": {"name": algorithm_spec(algorithm), "config": algorithm.config_dict()},
            "seed": int(seed), "budget": budget, "device": str(device),
            "checkpoint_every": checkpoint_every, "checkpoint_seconds": checkpoint_seconds,
            "history_every": history_every,
        }, out_path / RUN_SPEC)
    algorithm.setup(problem, seed=seed, device=device, budget=budget)
    run = _Run(problem, algorithm, budget=budget, seed=int(seed), device=device, out=out_path,
               checkpoint_every=checkpoint_every, checkpoint_seconds=checkpoint_seconds,
               callbacks=callbacks, progress=progress,
               history_every=history_every)
    return run.loop()


def resume(run_dir: str | os.PathLike, *, problem: Problem | None = None,
           callbacks: Iterable[Callback] = (), progress: bool | None = None) -> Result:
    """Finish the run in ``run_dir`` from its last checkpoint.

    The problem is rebuilt from ``run.json`` when it was created by name; pass ``problem`` for
    a problem object built in code. Algorithms with a ``state_dict`` continue from it; the others
    are replayed from the seed with the recorded evaluations, so no true evaluation is repeated.
    """
    run_dir = Path(run_dir)
    spec_path, ckpt_path = run_dir / RUN_SPEC, run_dir / CHECKPOINT
    if not spec_path.is_file():
        raise CheckpointError(f"{run_dir} is not a run folder: {RUN_SPEC} is missing")
    spec = json.loads(spec_path.read_text())
    if problem is None:
        if not spec.get("problem"):
            raise CheckpointError(f"the problem of {run_dir} was built in code, not by name; "
                                  "pass problem= to resume it")
        p = spec["problem"]
        problem = get_problem(p["name"], normalize=p.get("normalize", False), **p.get("options", {}))
    algorithm = get_algorithm(spec["algorithm"]["name"], **spec["algorithm"]["config"])
    algorithm.setup(problem, seed=spec["seed"], device=spec["device"], budget=spec["budget"])
    run = _Run(problem, algorithm, budget=spec["budget"], seed=spec["seed"], device=torch.device(spec["device"]),
               out=run_dir, checkpoint_every=spec.get("checkpoint_every"),
               checkpoint_seconds=spec.get("checkpoint_seconds"), callbacks=callbacks,
               progress=progress, history_every=spec.get("history_every", 1))
    if ckpt_path.is_file():
        try:
            ckpt = torch.load(ckpt_path, weights_only=True, map_location=algorithm.device)
        except Exception as exc:
            raise CheckpointError(f"cannot read checkpoint {ckpt_path}: {exc}") from exc
        run.history = list(ckpt["history"])
        run.elapsed_before = float(ckpt["elapsed"])
        if ckpt["mode"] == "state":
            algorithm.load_state_dict(ckpt["state"])
            run.step = int(ckpt["step"])
        else:
            algorithm.start_replay(ckpt["log_X"].to(algorithm.device, algorithm.dtype),
                                   ckpt["log_F"].to(algorithm.device, algorithm.dtype))
            run.replay_until = int(ckpt["step"])
    # else: killed before the first checkpoint; the run starts over from its seed
    return run.loop()
