"""The solve loop: ``moo.solve(problem, algorithm, budget=..., seed=...)`` and ``moo.resume(dir)``.

``solve`` runs the solver until its termination rule holds (``budget=`` true evaluations, or any
rule of :mod:`moo.termination`). A black-box solver is driven by ask/tell: the loop asks it for
a batch, evaluates the batch (in this process, on a process pool or on Ray, see
:mod:`moo.evaluation`) and tells it the values; a solver that needs the problem in-process
(gradients) takes a ``step()``. The loop owns the progress display, callbacks, the history
(evaluations, wall time, and the indicators of an explicit :class:`~moo.indicators.Evaluator`),
checkpoints into a run folder, and resume from them. Same seed and same device give the same
result, whatever the number of workers, and a run resumed from a checkpoint ends exactly where
the uninterrupted run would have.

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
from torch import Tensor

from moo.algorithm import Algorithm, check_device, check_seed
from moo.errors import CheckpointError, FormatError, MooError, MooTypeError, MooValueError, RunFolderError
from moo.evaluation import Backend, batch_evaluation, check_workers, problem_payload
from moo.pareto import total_violation
from moo.problem import Problem
from moo.rebuild import algorithm_from_spec, problem_from_spec
from moo.registry import get_algorithm, get_problem
from moo.result import ARRAYS, MODEL, RESULT_JSON, Result, algorithm_spec, run_metadata
from moo.run_folder import (FolderLock, check_archive, check_fields, check_fingerprint, check_format,
                            check_writable_path, make_folder, problem_fingerprint, read_json, read_torch,
                            write_json, write_torch)
from moo.termination import Progress, Termination, resolve, termination_from_spec

log = logging.getLogger("moo")

Callback = Callable[[dict], object]
CHECKPOINT = "checkpoint.pt"
RUN_SPEC = "run.json"
STOP = "stop"
RUN_FORMAT = 1
CHECKPOINT_FORMAT = 2  # 2: the archive is stored once, beside the solver's state
AUTO = "auto"


def _history_evaluator(problem: Problem):
    """The default evaluator of the history: the problem's conventions
    (:meth:`Evaluator.for_problem`), or ``None`` when the problem gives none (no ideal/nadir, no
    reference point, no front)."""
    from moo.indicators import Evaluator

    try:
        evaluator = Evaluator.for_problem(problem)
    except MooError:
        return None
    return evaluator if evaluator.available() else None


def _history_setup(problem: Problem, evaluator, indicators, rule: Termination):
    """The history's evaluator and indicator names, checked against what the evaluator can give
    and what the termination reads."""
    from moo.indicators import Evaluator

    requested = evaluator
    if evaluator == AUTO:
        evaluator = _history_evaluator(problem)
    elif evaluator is not None and not isinstance(evaluator, Evaluator):
        raise MooTypeError(f"evaluator must be a moo.indicators.Evaluator, None (no indicators in the history) "
                           f"or 'auto', got {type(evaluator).__name__}")
    available = () if evaluator is None else evaluator.available()
    if indicators is None:
        indicators = ("hv",) if "hv" in available else ()
    elif isinstance(indicators, str) or not all(isinstance(n, str) for n in indicators):
        raise MooTypeError(f"history_indicators must be a list of indicator names, got {indicators!r}")
    needed = tuple(indicators) + tuple(sorted(rule.indicators - set(indicators)))
    missing = [n for n in needed if n not in available]
    if missing:
        why = ("evaluator=None switches indicators off" if requested is None else
               f"problem {problem.name!r} gives no indicator conventions" if evaluator is None else
               f"the evaluator gives {list(available)}")
        raise MooValueError(f"the run needs indicator(s) {missing} (history_indicators or an IndicatorTarget), "
                            f"but {why}; pass evaluator=moo.indicators.Evaluator(problem, ...) with the "
                            "conventions that give them")
    return evaluator, tuple(indicators)


class _Progress:
    """A tqdm bar on a terminal, quiet log lines otherwise (every ~10% of an evaluation cap, or
    every 30 s without one)."""

    LOG_SECONDS = 30.0

    def __init__(self, budget: int | None, label: str, enabled: bool | None, start: int = 0):
        interactive = sys.stderr.isatty() if enabled is None else enabled
        self.bar = None
        self.budget, self.label, self.next_log = budget, label, 0.1
        self.last_log = time.perf_counter()
        if interactive:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=budget, initial=start, desc=label, unit="eval", leave=False)
        self.quiet = enabled is False

    def update(self, n_evals: int, record: dict) -> None:
        hv = record.get("hv")
        if self.bar is not None:
            self.bar.n = n_evals if self.budget is None else min(n_evals, self.budget)
            if hv is not None:
                self.bar.set_postfix_str(self._hv_text(hv, 5), refresh=False)
            self.bar.refresh()
            return
        if self.quiet:
            return
        if self.budget is None:
            if time.perf_counter() - self.last_log < self.LOG_SECONDS:
                return
            self.last_log = time.perf_counter()
        elif n_evals / self.budget < self.next_log:
            return
        else:
            self.next_log = math.floor(n_evals / self.budget * 10 + 1) / 10
        log.info("%s: %d%s evaluations%s", self.label, n_evals, "" if self.budget is None else f"/{self.budget}",
                 "" if hv is None else f", {self._hv_text(hv, 6)}")

    @staticmethod
    def _hv_text(hv: float, digits: int) -> str:
        # a hypervolume of 0 early on is not a failure: no point has entered the reference box yet
        return "no point inside the reference box yet" if hv == 0 else f"hv={hv:.{digits}g}"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def feasibility(problem: Problem, X: Tensor) -> dict:
    """``feasible`` (every point of the approximation set ``X`` satisfies the constraints) and
    its largest total violation ``max_violation``; stored in every result's metadata, so an
    infeasible set is never read as a front."""
    if not problem.n_constr or X.shape[0] == 0:
        return {"feasible": not problem.n_constr, "max_violation": 0.0 if not problem.n_constr else None}
    cv = total_violation(problem.constraints(X))
    return {"feasible": bool((cv <= 0).all()), "max_violation": float(cv.max())}


class _Run:
    """One run of the loop; shared by ``solve`` and ``resume``."""

    def __init__(self, problem: Problem, algorithm: Algorithm, *, rule: Termination, seed: int, device,
                 out: Path | None, checkpoint_every: int | None, checkpoint_seconds: float | None,
                 callbacks: Iterable[Callback], progress: bool | None, evaluator, history_indicators,
                 history_every: int, workers: int, backend: str):
        self.problem, self.algorithm, self.rule = problem, algorithm, rule
        self.seed, self.device = seed, device
        self.out, self.checkpoint_every, self.checkpoint_seconds = out, checkpoint_every, checkpoint_seconds
        self.last_checkpoint = time.perf_counter()
        self.callbacks = list(callbacks)
        self.progress = progress
        self.evaluator, self.history_indicators, self.history_every = evaluator, history_indicators, history_every
        self.workers, self.backend = workers, backend
        self.history: list[dict] = []
        self.step = 0
        self.elapsed_before = 0.0
        self.replay: tuple[Tensor, Tensor] | None = None  # recorded evaluations served on replay resume
        self.replay_until = 0  # steps whose history is already recorded (replay resume)

    # ------------------------------------------------------------------ one step
    def _evaluate(self, evaluation, X: Tensor) -> tuple[Tensor, Tensor | None]:
        """Objectives (and constraints) of an asked batch: from the replay log while it lasts,
        else from the run's evaluation (serial, pool or Ray)."""
        if self.replay is None:
            return evaluation(X)
        rec_X, rec_F = self.replay
        k = X.shape[0]
        if rec_X.shape[0] < k:
            raise CheckpointError("the replay log ended inside a batch; the checkpoint is inconsistent")
        if not torch.allclose(X.detach().to(rec_X), rec_X[:k], rtol=1e-9, atol=1e-12):
            raise CheckpointError(f"resuming {self.algorithm.name!r} by replay proposed other points than the "
                                  "recorded run; the algorithm is not deterministic for this seed")
        self.replay = (rec_X[k:], rec_F[k:]) if rec_X.shape[0] > k else None
        G = self.problem.constraints(X) if self.problem.n_constr else None
        return rec_F[:k].to(X), G

    def _advance(self, evaluation):
        alg = self.algorithm
        if not alg.asks:
            return alg.step()
        X = alg.ask()
        F, G = self._evaluate(evaluation, X)
        return alg.tell(X, F, G)

    def record(self, info, started: float) -> dict:
        alg = self.algorithm
        rec = {"step": self.step, "n_evals": alg.n_evals,
               "time": self.elapsed_before + time.perf_counter() - started}
        names = set(self.rule.indicators)
        if self.step % self.history_every == 0 or self.rule.reached(Progress(self.step, alg.n_evals, rec["time"])):
            names.update(self.history_indicators)
        if names and self.evaluator is not None:
            _, F = alg.approximation()
            ordered = [n for n in self.history_indicators if n in names] + sorted(names - set(self.history_indicators))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # early fronts often miss the reference box
                rec.update(self.evaluator.score(F, indicators=ordered) if F.shape[0] else
                           {n: (0.0 if n == "hv" else None) for n in ordered})
        for key, value in info.extras.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                rec[key] = float(value)
        return rec

    # ------------------------------------------------------------------ checkpoints
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
            "archive_X": X.detach().cpu(),
            "archive_F": F.detach().cpu(),
            "history": self.history,
            "elapsed": self.elapsed_before + time.perf_counter() - started,
        }, self.out / CHECKPOINT)

    # ------------------------------------------------------------------ the loop
    def progress_now(self, started: float, record: dict | None = None) -> Progress:
        return Progress(self.step, self.algorithm.n_evals, self.elapsed_before + time.perf_counter() - started,
                        record or (self.history[-1] if self.history else {}))

    def loop(self) -> Result:
        alg = self.algorithm
        started = time.perf_counter()
        bar = _Progress(self.rule.max_evals, f"{alg.name} on {self.problem.name}", self.progress,
                        start=alg.n_evals)
        evaluation = batch_evaluation(self.problem, self.workers, self.backend) if alg.asks else None
        idle_steps = 0
        try:
            stop = self.rule.reached(self.progress_now(started))
            while not stop:
                before = alg.n_evals
                info = self._advance(evaluation)
                self.step += 1
                idle_steps = 0 if alg.n_evals > before else idle_steps + 1
                if idle_steps >= 1000:
                    raise MooValueError(f"algorithm {alg.name!r} made 1000 steps without evaluating anything; "
                                        f"the termination rule {self.rule!r} cannot be reached")
                if self.step <= self.replay_until:
                    continue  # replaying steps whose history is already recorded
                rec = self.record(info, started)
                self.history.append(rec)
                bar.update(alg.n_evals, rec)
                stop = any([cb(rec) == STOP for cb in self.callbacks])  # every callback sees every record
                stop = self.rule.reached(self.progress_now(started, rec)) or stop
                if self.out is not None and self.checkpoint_due():
                    self.checkpoint(started)
        finally:
            bar.close()
            if evaluation is not None:
                evaluation.close()
        wall = self.elapsed_before + time.perf_counter() - started
        X, F = alg.approximation()
        X_all, F_all = alg.archive
        meta = run_metadata(self.problem, alg, seed=self.seed, budget=self.rule.max_evals, device=self.device,
                            wall_time=wall, n_steps=self.step,
                            conventions=None if self.evaluator is None else self.evaluator.conventions)
        meta["termination"] = self.rule.to_spec()
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


def solve(problem: Problem | str, algorithm: Algorithm | str, *, budget: int | None = None,
          termination: Termination | None = None, seed: int = 0, device: torch.device | str | None = None,
          out: str | os.PathLike | None = None, overwrite: bool = False, checkpoint_every: int | None = None,
          checkpoint_seconds: float | None = None, callbacks: Iterable[Callback] = (),
          progress: bool | None = None, evaluator=AUTO, history_indicators: Iterable[str] | None = None,
          history_every: int = 1, workers: int = 1, backend: Backend = "process",
          **algorithm_options) -> Result:
    """Run ``algorithm`` on ``problem`` until ``budget`` true evaluations are spent, or until the
    ``termination`` rule holds (given both, whichever comes first).

    Everything is validated before the run folder is touched (budget, termination, seed, device,
    options, indicators, the algorithm's fit to the problem); the folder is then locked for the
    run, so a second run into it fails at once.

    Args:
        problem: a :class:`~moo.Problem` or a registered name (``"zdt1"``).
        algorithm: an :class:`~moo.Algorithm` or a registered name (``"pymoo.nsga2"``);
            ``algorithm_options`` override its config when given by name.
        budget: true evaluations (rows of ``X`` passed to the problem).
        termination: a rule of :mod:`moo.termination` (evaluations, steps, wall time, an
            indicator target, a callable, combined with ``|`` and ``&``).
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
        evaluator: the :class:`~moo.indicators.Evaluator` whose indicators fill the history;
            ``"auto"`` (default) takes the problem's conventions
            (:meth:`~moo.indicators.Evaluator.for_problem`), ``None`` records no indicators.
        history_indicators: the indicators recorded (default ``("hv",)`` where the evaluator
            gives a hypervolume).
        history_every: compute the history's indicators every this many steps (and at the end).
        workers: evaluate each asked batch on this many processes (see :mod:`moo.evaluation`);
            same result as serial evaluation.
        backend: ``"process"`` (a local pool of spawned processes) or ``"ray"``.
    """
    rule = resolve(budget, termination)
    seed = check_seed(seed)
    device = check_device(device)
    workers, backend = check_workers(workers, backend)
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
    evaluator, history_indicators = _history_setup(problem, evaluator, history_indicators, rule)
    if workers > 1:
        problem_payload(problem)
    algorithm.setup(problem, seed=seed, device=device, budget=rule.max_evals)
    _check_resumable(algorithm, checkpoint_every or checkpoint_seconds)
    run = _Run(problem, algorithm, rule=rule, seed=seed, device=device, out=out_path,
               checkpoint_every=checkpoint_every, checkpoint_seconds=checkpoint_seconds,
               callbacks=callbacks, progress=progress, evaluator=evaluator,
               history_indicators=history_indicators, history_every=history_every, workers=workers, backend=backend)
    if out_path is None:
        return run.loop()
    spec = {
        "format": RUN_FORMAT,
        "problem": problem.spec,
        "fingerprint": problem_fingerprint(problem),
        "algorithm": {"name": algorithm_spec(algorithm), "config": algorithm.config_dict()},
        "seed": seed, "budget": rule.max_evals, "termination": rule.to_spec(), "device": str(device),
        "checkpoint_every": checkpoint_every, "checkpoint_seconds": checkpoint_seconds,
        "history_indicators": list(history_indicators) if evaluator is not None else None,
        "history_every": history_every,
    }
    make_folder(out_path)
    with FolderLock(out_path):
        _claim_folder(out_path, overwrite)
        write_json(spec, out_path / RUN_SPEC)
        return run.loop()


def _check_resumable(algorithm: Algorithm, checkpoints) -> None:
    """A checkpoint holds a solver's state, or (for an ask/tell solver) the log it is replayed
    from; a solver with neither cannot be checkpointed."""
    if checkpoints and not algorithm.asks and algorithm.resume_by == "replay":
        raise MooValueError(f"algorithm {algorithm.name!r} has no state_dict and no ask/tell, so a checkpoint "
                            "could not continue it; run it without checkpoint_every/checkpoint_seconds")


_RUN_KEYS = {"algorithm": dict, "seed": int, "budget": (int, type(None)), "device": str}


def resume(run_dir: str | os.PathLike, *, problem: Problem | None = None, termination: Termination | None = None,
           trust: bool = False, callbacks: Iterable[Callback] = (), progress: bool | None = None,
           evaluator=AUTO, workers: int = 1, backend: Backend = "process") -> Result:
    """Finish the run in ``run_dir`` from its last checkpoint.

    A run that has already finished is not run again: its stored result is returned (and a log
    line says so). The problem is rebuilt from ``run.json`` when it was created by a registered
    name; a user's own ``module:Attr`` problem or algorithm is imported only with
    ``trust=True``, since importing runs code named in the folder. Pass ``problem`` for a
    problem object built in code. Either way the problem must match the fingerprint recorded
    in ``run.json``. The run stops by its stored termination rule; a rule holding code
    (:class:`~moo.termination.StopWhen`) is not stored and must be passed as ``termination``.
    ``evaluator``, ``workers`` and ``backend`` are as for :func:`solve`.

    Solvers with a ``state_dict`` continue from it; the others (ask/tell solvers whose state is a
    peer library's objects) are replayed from the seed with the recorded evaluations, so no true
    evaluation is repeated. A run killed before its first checkpoint starts over from its seed
    (a log line says so).
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
        seed, device = check_seed(spec["seed"]), check_device(spec["device"])
        rule = _stored_rule(spec, termination, source)
        workers, backend = check_workers(workers, backend)
        options = {k: spec.get(k) for k in ("checkpoint_every", "checkpoint_seconds")}
        history_every = spec.get("history_every", 1)
        _check_run_options(options["checkpoint_every"], options["checkpoint_seconds"], history_every, run_dir)
        stored = spec.get("history_indicators")
        if evaluator == AUTO and stored is None and "history_indicators" in spec:
            evaluator = None  # the run recorded no indicators
        evaluator, history_indicators = _history_setup(problem, evaluator, stored, rule)
        algorithm.setup(problem, seed=seed, device=device, budget=rule.max_evals)
        run = _Run(problem, algorithm, rule=rule, seed=seed, device=device, out=run_dir, callbacks=callbacks,
                   progress=progress, evaluator=evaluator, history_indicators=history_indicators,
                   history_every=history_every, workers=workers, backend=backend, **options)
        if ckpt_path.is_file():
            _restore(run, read_torch(ckpt_path, "checkpoint", map_location=algorithm.device), str(ckpt_path))
        else:
            log.info("%s: no checkpoint was written before the run stopped; it starts over from its seed", run_dir)
        return run.loop()


def _stored_rule(spec: dict, termination, source: str) -> Termination:
    """The termination of a stored run: the one passed (it replaces the stored one), else the
    stored spec, else (a run folder of format 1 without one) its budget."""
    if termination is not None:
        return resolve(None, termination)
    if "termination" not in spec:
        return resolve(spec["budget"], None)
    if spec["termination"] is None:
        raise RunFolderError(f"{source!r}: the run's termination rule holds code (StopWhen) and was not stored; "
                             "pass termination= to resume it")
    try:
        return termination_from_spec(spec["termination"])
    except MooError as exc:
        raise FormatError(f"{source!r}: the stored termination is not valid: {exc}") from exc


_CHECKPOINT_KEYS = {"step": int, "mode": str, "archive_X": torch.Tensor, "archive_F": torch.Tensor,
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
    X, F = ckpt["archive_X"], ckpt["archive_F"]
    check_archive(X, F, f"checkpoint {source!r}", n_var=problem.n_var, n_obj=problem.n_obj)
    X, F = X.to(alg.device, alg.dtype), F.to(alg.device, alg.dtype)
    run.history = list(ckpt["history"])
    run.elapsed_before = float(ckpt["elapsed"])
    if ckpt["mode"] == "state":
        if not isinstance(ckpt.get("state"), dict):
            raise FormatError(f"checkpoint {source!r}: 'state' is missing or not a table")
        try:
            alg.load_archive(X, F)
            alg.load_state_dict(ckpt["state"])
        except MooError:
            raise
        except Exception as exc:  # a solver's loader on a tampered or foreign state
            raise FormatError(f"checkpoint {source!r} does not hold a state of {alg.name!r}: "
                              f"{type(exc).__name__}: {exc}") from exc
        run.step = ckpt["step"]
    elif not alg.asks:
        raise FormatError(f"checkpoint {source!r} asks to replay {alg.name!r}, which has no ask/tell")
    else:
        run.replay = (X, F) if X.shape[0] else None
        run.replay_until = ckpt["step"]
