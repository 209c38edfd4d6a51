"""Benchmark suites: load a suite from TOML, run its cells, store every run.

A suite is problems × algorithms (with configs) × seeds × budget × the evaluator's conventions.
Suites shipped with moo live in ``benchmarks/suites/NAME.toml``; a user's suite file works the
same way. The format::

    name = "smoke"                       # stored with every run (defaults to the file name)
    description = "..."
    budget = 300                         # true evaluations per run
    seeds = [0, 1]                       # or seeds = 3 for 0, 1, 2
    device = "cpu"                       # optional, default "cpu"
    threads = 1                          # torch threads per cell (1 keeps runs reproducible)
    history_points = 50                  # convergence records per run, evenly spaced in evaluations

    [evaluator]                          # the conventions every run is scored with
    indicators = ["hv", "igd_plus"]      # final indicators (moo.indicators.Evaluator.score)
    convergence = ["hv"]                 # indicators recorded along the run (history)
    normalize = true                     # optional: Evaluator(normalize=...)
    ref_point = 1.1                      # optional: a number (every objective) or a list

    [[problems]]
    name = "zdt1"                        # a registered problem (or module:Class)
    label = "zdt1"                       # optional, defaults to the name
    options = { n_var = 6 }              # optional, passed to moo.get_problem
    normalize = false                    # optional, moo.get_problem(normalize=...)
    budget = 500                         # optional, overrides the suite's budget

    [[algorithms]]
    name = "pymoo.nsga2"                 # a registered algorithm (or module:Class)
    label = "pymoo.nsga2"                # optional, defaults to the name
    config = { pop_size = 20 }           # optional, config overrides
    problems = ["zdt1"]                  # optional, run only on these problem labels

    [protocol]                           # optional: a shipped protocol plug-in (moo.protocol)
    name = "speedup"                     # found by name in moo.benchmarks.protocols, never imported from the file
    pairs = [["nsga2", "pymoo.nsga2"]]   # the protocol's own options

A protocol adds what a published table needs beyond solve + the evaluator: its own final
figures, a cell that is not one ``solve`` (a timing, a training schedule) and report sections.

A cell is one (problem, algorithm, seed). :func:`load_suite` checks the whole suite before any
cell runs: it builds every problem with its evaluator (so an unknown or unavailable indicator and
a reference point of the wrong length fail there), every algorithm with its config (wrong option
types and values fail there) and checks the device. :func:`run_suite` runs the cells not yet in
the store, in-process, on a local process pool (``workers > 1``, spawn context) or as Ray tasks
(``ray=True``), and the driver alone writes each finished run into the store in one transaction
(:mod:`moo.store`). Workers return plain data, so every path stores the same numbers for the
same seeds.

Several drivers may run one suite into one store at once (``moo bench`` twice, on one host or on
several sharing the file): each claims a cell in the store just before computing it and leaves
alone the cells another live driver has claimed, so no cell is computed twice; a driver that died
(or stopped refreshing its claims for ``claim_timeout`` seconds) has its cells taken over.
"""
from __future__ import annotations

import logging
import math
import os
import statistics
import sys
import time
import tomllib
import traceback
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Iterable, Iterator

from moo.errors import MooError, MooTypeError, MooValueError, UnknownNameError
from moo.store import CLAIM_TIMEOUT_S, Claimant, ClaimKeeper, Store, cell_key

log = logging.getLogger("moo.bench")

DEFAULT_STORE = "runs.db"
DEFAULT_INDICATORS = ("hv", "igd_plus")
#: figures of the run itself, not of its front, that a suite may list among its final indicators:
#: ``step_time_s`` is the median wall time of one solver step after the first three (warm-up)
RUN_INDICATORS = ("step_time_s",)
STEP_WARMUP = 3
_SUITE_KEYS = {"name", "description", "budget", "seeds", "device", "threads", "history_points", "evaluator",
               "problems", "algorithms", "protocol"}
_EVALUATOR_KEYS = {"indicators", "convergence", "normalize", "ref_point"}
_PROBLEM_KEYS = {"name", "label", "options", "normalize", "budget"}
_ALGORITHM_KEYS = {"name", "label", "config", "problems"}


@dataclass(frozen=True)
class ProblemEntry:
    label: str
    name: str
    options: dict
    normalize: bool
    budget: int

    @property
    def spec(self) -> dict:
        return {"name": self.name, "options": self.options, "normalize": self.normalize}


@dataclass(frozen=True)
class AlgorithmEntry:
    label: str
    name: str
    config: dict  # the full config (defaults filled in), as stored
    problems: tuple | None

    @property
    def spec(self) -> dict:
        return {"name": self.name, "config": self.config}


@dataclass
class Suite:
    """A parsed suite; :meth:`cells` lists its runs."""

    name: str
    description: str
    source: str
    problems: list[ProblemEntry]
    algorithms: list[AlgorithmEntry]
    seeds: list[int]
    evaluator: dict = field(default_factory=dict)
    device: str = "cpu"
    threads: int = 1
    history_points: int = 50
    protocol: dict | None = None  # the [protocol] spec (name, options); None: solve and score

    def cells(self) -> list[dict]:
        """Every (problem, algorithm, seed) cell as a plain dict (what a worker receives)."""
        out = []
        for p in self.problems:
            for a in self.algorithms:
                if a.problems is not None and p.label not in a.problems:
                    continue
                for seed in self.seeds:
                    out.append({
                        "cell_key": cell_key(self.name, p.spec, a.spec, seed, p.budget, self.protocol),
                        "suite": self.name, "problem": p.label, "problem_spec": p.spec,
                        "algorithm": a.label, "algorithm_spec": a.spec, "seed": seed, "budget": p.budget,
                        "evaluator": self.evaluator, "device": self.device, "threads": self.threads,
                        "history_points": self.history_points, "protocol": self.protocol,
                    })
        return out


# ---------------------------------------------------------------------------------- loading
def suite_names() -> list[str]:
    """The suites shipped in ``benchmarks/suites/``."""
    folder = resources.files("moo.benchmarks") / "suites"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def suite_descriptions() -> dict[str, str]:
    """The shipped suites' descriptions by name (read from the files, without loading the suites)."""
    folder = resources.files("moo.benchmarks") / "suites"
    out = {}
    for name in suite_names():
        try:
            doc = tomllib.loads((folder / f"{name}.toml").read_text())
            out[name] = str(doc.get("description", ""))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            out[name] = f"(unreadable suite file: {exc})"
    return out


def _in_context(exc: MooError, where: str) -> MooError:
    """``exc`` again, as the same moo error class, with ``where`` in front of its message."""
    message = f"{where}: {exc}"
    try:
        out = type(exc)(message)
    except TypeError:  # an error class with another constructor
        out = (MooTypeError if isinstance(exc, TypeError) else MooValueError)(message)
    out.__cause__ = exc
    return out


def _suite_path(name_or_path: str | os.PathLike) -> Path:
    path = Path(name_or_path)
    if path.is_file():
        return path
    if path.suffix == ".toml" or os.sep in str(name_or_path):
        raise MooValueError(f"suite file {str(name_or_path)!r} does not exist")
    shipped = resources.files("moo.benchmarks") / "suites" / f"{name_or_path}.toml"
    if not shipped.is_file():
        raise UnknownNameError("suite", str(name_or_path), suite_names())
    return Path(str(shipped))


def _unknown_keys(table: dict, allowed: set, where: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise MooValueError(f"{where} has unknown keys {extra}; expected some of {sorted(allowed)}")


def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise MooValueError(f"{what} must be a positive integer, got {value!r}")
    return value


def _string_list(value, what: str) -> tuple:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MooValueError(f"{what} must be a list of strings, got {value!r}")
    return tuple(value)


def _named_entry(entry, where: str, keys, table: str) -> dict:
    """Check a suite entry: a table with a string ``name`` and only ``keys``; return its
    sub-table ``table`` (``{}`` when absent)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise MooValueError(f"{where} must be a table with a string 'name', got {entry!r}")
    _unknown_keys(entry, keys, where)
    value = entry.get(table, {})
    if not isinstance(value, dict):
        raise MooValueError(f"{where}.{table} must be a table, got {value!r}")
    return value


def _parse_problem(entry, i: int, budget: int, evaluator: dict, protocol) -> ProblemEntry:
    where = f"problems[{i}]"
    options = _named_entry(entry, where, _PROBLEM_KEYS, "options")
    normalize = entry.get("normalize", False)
    if not isinstance(normalize, bool):
        raise MooValueError(f"{where}.normalize must be true or false, got {normalize!r}")
    try:  # fail now, not in a worker: the problem, and the evaluator every cell on it scores with
        problem = protocol.check_problem(entry["name"], options, normalize)
    except UnknownNameError:
        raise
    except MooError as exc:
        raise _in_context(exc, f"{where} ({entry['name']!r})") from exc
    if problem is not None:
        _check_evaluator(problem, evaluator, f"{where} ({entry.get('label', entry['name'])!r})", protocol)
    return ProblemEntry(label=str(entry.get("label", entry["name"])), name=entry["name"], options=options,
                        normalize=normalize, budget=_positive_int(entry.get("budget", budget), f"{where}.budget"))


def _parse_algorithm(entry, i: int, problem_labels: set, protocol) -> AlgorithmEntry:
    where = f"algorithms[{i}]"
    config = _named_entry(entry, where, _ALGORITHM_KEYS, "config")
    try:  # the config is checked against the algorithm's Config dataclass here
        full = protocol.check_algorithm(entry["name"], config)
    except UnknownNameError:
        raise
    except MooError as exc:
        raise _in_context(exc, f"{where} ({entry['name']!r})") from exc
    except TypeError as exc:
        raise MooTypeError(f"{where}: bad config {config} for algorithm {entry['name']!r}: {exc}") from exc
    only = None
    if "problems" in entry:
        only = _string_list(entry["problems"], f"{where}.problems")
        unknown = sorted(set(only) - problem_labels)
        if unknown:
            raise MooValueError(f"{where}.problems names {unknown}, which are not problem labels of the suite "
                                f"({sorted(problem_labels)})")
    return AlgorithmEntry(label=str(entry.get("label", entry["name"])), name=entry["name"], config=full,
                          problems=only)


def _check_evaluator(problem, settings: dict, where: str, protocol) -> None:
    """Build the evaluator of ``problem`` under the suite's ``settings`` and check that it can
    give every requested indicator (final and convergence; the protocol's own among the final)."""
    from moo.indicators.evaluator import INDICATORS

    own = RUN_INDICATORS + tuple(protocol.indicator_names)
    for key, known in (("indicators", INDICATORS + own), ("convergence", INDICATORS)):
        unknown = [name for name in settings[key] if name not in known]
        if unknown:
            raise MooValueError(f"evaluator.{key} names unknown indicator(s) {unknown}; choose from {list(known)}")
    try:
        evaluator = make_evaluator(problem, settings)
    except MooError as exc:
        raise _in_context(exc, f"{where}: the suite's [evaluator] does not fit this problem") from exc
    available = evaluator.available()
    for key in ("indicators", "convergence"):
        missing = [name for name in settings[key] if name not in available and name not in own]
        if missing:
            raise MooValueError(f"{where}: evaluator.{key} asks for {missing}, which the conventions for this "
                                f"problem cannot give (available: {list(available)}); hv needs a reference point "
                                "(ideal/nadir, a problem ref_point or evaluator.ref_point), igd/gd/epsilon/lhd a "
                                "reference front, r2 an ideal point")


def load_suite(name_or_path: str | os.PathLike) -> Suite:
    """Load a shipped suite by name (``"smoke"``) or a suite file by path, and check it before any
    cell runs: every problem is built with its evaluator (unknown or unavailable indicators, a
    reference point of the wrong length), every algorithm with its config (option types and
    values), and the device is checked, so a mistake fails here rather than in a worker."""
    path = _suite_path(name_or_path)
    try:
        doc = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise MooValueError(f"suite file {str(path)!r} is not valid TOML: {exc}") from exc
    _unknown_keys(doc, _SUITE_KEYS, f"suite {str(path)!r}")
    budget = _positive_int(doc.get("budget"), "suite budget")
    seeds = doc.get("seeds", 1)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = list(range(_positive_int(seeds, "seeds")))
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                                           for s in seeds):
        raise MooValueError(f"seeds must be a positive count or a list of non-negative integers, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise MooValueError(f"seeds must be distinct, got {seeds}")
    evaluator = dict(doc.get("evaluator", {}))
    _unknown_keys(evaluator, _EVALUATOR_KEYS, "[evaluator]")
    evaluator["indicators"] = list(_string_list(evaluator.get("indicators", list(DEFAULT_INDICATORS)),
                                                "evaluator.indicators"))
    evaluator["convergence"] = list(_string_list(evaluator.get("convergence", ["hv"]), "evaluator.convergence"))
    ref = evaluator.get("ref_point")
    def number(v) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    if ref is not None and not (number(ref) or isinstance(ref, list) and ref and all(number(v) for v in ref)):
        raise MooValueError(f"evaluator.ref_point must be a finite number or a list of finite numbers, got {ref!r}")
    if "normalize" in evaluator and not isinstance(evaluator["normalize"], bool):
        raise MooValueError(f"evaluator.normalize must be true or false, got {evaluator['normalize']!r}")
    device = doc.get("device", "cpu")
    if not isinstance(device, str):
        raise MooValueError(f"suite device must be a string such as 'cpu' or 'cuda:0', got {device!r}")
    from moo.algorithm import check_device

    try:
        check_device(device)
    except MooError as exc:
        raise _in_context(exc, f"suite {str(path)!r}") from exc
    threads = _positive_int(doc.get("threads", 1), "threads")
    history_points = _positive_int(doc.get("history_points", 50), "history_points")
    from moo.protocol import get_protocol

    try:
        protocol = get_protocol(doc.get("protocol"))
    except UnknownNameError:
        raise
    except MooError as exc:
        raise _in_context(exc, f"suite {str(path)!r} [protocol]") from exc
    problems = [_parse_problem(e, i, budget, evaluator, protocol) for i, e in enumerate(doc.get("problems", []))]
    if not problems:
        raise MooValueError(f"suite {str(path)!r} lists no [[problems]]")
    labels = [p.label for p in problems]
    if len(set(labels)) != len(labels):
        raise MooValueError(f"problem labels must be distinct, got {labels}; set 'label' on repeated problems")
    algorithms = [_parse_algorithm(e, i, set(labels), protocol) for i, e in enumerate(doc.get("algorithms", []))]
    if not algorithms:
        raise MooValueError(f"suite {str(path)!r} lists no [[algorithms]]")
    alabels = [a.label for a in algorithms]
    if len(set(alabels)) != len(alabels):
        raise MooValueError(f"algorithm labels must be distinct, got {alabels}; set 'label' on repeated algorithms")
    return Suite(name=str(doc.get("name", path.stem)), description=str(doc.get("description", "")),
                 source=str(path), problems=problems, algorithms=algorithms, seeds=seeds, evaluator=evaluator,
                 device=device, threads=threads, history_points=history_points,
                 protocol=None if "protocol" not in doc else protocol.spec)


# ---------------------------------------------------------------------------------- one cell
def make_evaluator(problem, settings: dict):
    """The suite's :class:`moo.indicators.Evaluator` for ``problem``: the problem's default
    convention, unless the suite sets ``normalize`` or ``ref_point``."""
    from moo.indicators import Evaluator

    kwargs = {k: settings[k] for k in ("normalize", "ref_point") if settings.get(k) is not None}
    if not kwargs:
        return Evaluator.for_problem(problem)
    if isinstance(kwargs.get("ref_point"), (int, float)):
        kwargs["ref_point"] = [float(kwargs["ref_point"])] * problem.n_obj
    return Evaluator(problem, **kwargs)


def run_cell(cell: dict) -> dict:
    """Run one cell and return what the store keeps (plain data: JSON-friendly values and
    float64 NumPy matrices). Executed in the driver, a pool worker or a Ray task alike, with
    ``cell["threads"]`` torch and BLAS threads, so every path computes the same numbers."""
    import torch
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(cell["threads"])
    try:
        with threadpool_limits(limits=cell["threads"]):  # NumPy's BLAS (pymoo) as well
            from moo.protocol import get_protocol

            return get_protocol(cell.get("protocol")).run_cell(cell)
    finally:
        torch.set_num_threads(threads)


def solve_cell(cell: dict, extra=None, curves=None) -> dict:
    """The default cell: solve, score the final front with the suite's evaluator, and add
    ``extra(cell, problem, result)`` (a protocol's own final figures) when given;
    ``curves(cell, problem)``, when given, returns ``None`` or a function ``F -> {name: value}``
    whose figures join each convergence record (a protocol's own convergence indicators)."""
    from moo.registry import get_algorithm, get_problem
    from moo.solve import solve

    pspec, aspec = cell["problem_spec"], cell["algorithm_spec"]
    problem = get_problem(pspec["name"], normalize=pspec["normalize"], **pspec["options"])
    evaluator = make_evaluator(problem, cell["evaluator"])
    algorithm = get_algorithm(aspec["name"], **aspec["config"])
    curve_names, points, budget = cell["evaluator"]["convergence"], cell["history_points"], cell["budget"]
    own_curves = curves(cell, problem) if curves is not None else None
    history: list[dict] = []
    scoring = [0.0]  # seconds spent on convergence indicators, taken out of the run's time
    next_mark = [0.0]  # records are spaced by budget / points evaluations, whatever the step size

    def record(rec: dict) -> None:
        if rec["n_evals"] < next_mark[0] and rec["n_evals"] < budget:
            return
        next_mark[0] = (math.floor(rec["n_evals"] * points / budget) + 1) * budget / points
        started = time.perf_counter()
        values, own = {}, {}
        if curve_names or own_curves is not None:
            _, F = algorithm.approximation()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # early fronts often miss the reference box
                if curve_names and F.shape[0]:
                    values = evaluator.score(F, indicators=tuple(curve_names))
                if own_curves is not None and F.shape[0]:
                    own = own_curves(F)
        history.append({"step": rec["step"], "n_evals": rec["n_evals"], "time": rec["time"] - scoring[0],
                        **{k: finite(values.get(k)) for k in curve_names},
                        **{k: finite(v) for k, v in own.items()}})
        scoring[0] += time.perf_counter() - started

    result = solve(problem, algorithm, budget=budget, seed=cell["seed"], device=cell["device"],
                   progress=False, evaluator=None, callbacks=[record])  # indicators: scored above, timed apart
    final = cell["evaluator"]["indicators"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from moo.indicators.evaluator import INDICATORS  # the rest: run figures and the protocol's own
        scores = evaluator.score(result.F, indicators=tuple(n for n in final if n in INDICATORS))
    if "step_time_s" in final:
        scores["step_time_s"] = _median_step_time(result.history)
    if extra is not None:
        scores.update(extra(cell, problem, result))
    meta = dict(result.meta)
    meta["wall_time"] = meta["wall_time"] - scoring[0]
    return {
        **{k: cell[k] for k in ("cell_key", "suite", "problem", "problem_spec", "algorithm", "algorithm_spec",
                                "seed", "budget")},
        "n_evals": result.n_evals, "wall_time": meta["wall_time"],
        "conventions": {"evaluator": evaluator.conventions, **cell["evaluator"],
                        **({"protocol": cell["protocol"]} if cell.get("protocol") else {})},
        "meta": meta, "indicators": {k: finite(v) for k, v in scores.items()}, "history": history,
        "X": result.X.numpy(), "F": result.F.numpy(),
    }


def _median_step_time(history: list[dict]) -> float | None:
    """Median wall time of one step after the first :data:`STEP_WARMUP`, from the run's own
    history (one record per step; records that a convergence score delayed are outliers the
    median ignores)."""
    times = [r["time"] for r in history]
    steps = [b - a for a, b in zip(times, times[1:])][STEP_WARMUP - 1:]
    return statistics.median(steps) if steps else None


def finite(value) -> float | None:
    """``value`` as a float, or ``None`` when it is missing or not finite (what the store keeps)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def run_cell_safe(cell: dict) -> dict:
    """:func:`run_cell`, with a failure returned as ``{"cell_key", "error"}`` instead of raised
    (an exception may not survive the trip back from a worker)."""
    try:
        return run_cell(cell)
    except Exception as exc:  # reported by the driver, which keeps going with the other cells
        return {"cell_key": cell["cell_key"], "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc()}


# ---------------------------------------------------------------------------------- executors
# Each executor takes its cells from an iterator as it has room for them (at most ``workers`` in
# flight), so a cell is claimed in the store only when it is about to be computed.
def _in_process(cells: Iterable[dict]) -> Iterator[dict]:
    for cell in cells:
        yield run_cell_safe(cell)


def _process_pool(cells: Iterable[dict], workers: int) -> Iterator[dict]:
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    from .workers import process_pool

    source = iter(cells)
    pool = process_pool(workers)
    pending: set = set()

    def fill() -> None:
        while len(pending) < workers:
            cell = next(source, None)
            if cell is None:
                return
            pending.add(pool.submit(run_cell_safe, cell))

    try:
        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            outs = []
            for future in done:
                pending.discard(future)
                try:
                    outs.append(future.result())
                except BrokenProcessPool as exc:
                    raise RuntimeError("a worker process died (killed, out of memory, or it could not import moo: "
                                       "see its traceback above); the runs stored so far are kept, re-run to go "
                                       "on") from exc
            fill()  # keep the workers busy while the driver stores what came back
            yield from outs
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _ray_tasks(cells: Iterable[dict], address: str | None, workers: int | None) -> Iterator[dict]:
    try:
        import ray
    except ImportError:
        raise MooValueError("--ray needs Ray: pip install 'moo[distributed]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:  # a local Ray instance
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    try:
        task = ray.remote(num_cpus=1, max_retries=0)(run_cell_safe)
        width = workers or max(int(ray.cluster_resources().get("CPU", 1)), 1)
        source = iter(cells)
        pending: list = []

        def fill() -> None:
            while len(pending) < width:
                cell = next(source, None)
                if cell is None:
                    return
                pending.append(task.remote(cell))

        fill()
        while pending:
            done, pending[:] = ray.wait(pending, num_returns=1)
            out = ray.get(done[0])
            fill()
            yield out
    finally:
        if started_here:
            ray.shutdown()


# ---------------------------------------------------------------------------------- the suite
@dataclass
class BenchSummary:
    """What :func:`run_suite` did."""

    suite: str
    store: str
    n_cells: int
    n_skipped: int
    n_run: int
    failures: list = field(default_factory=list)  # (cell label, error) pairs
    n_elsewhere: int = 0  # cells another live driver had claimed, left to it


class _CellProgress:
    """A tqdm bar over cells on a terminal, one log line per finished cell otherwise."""

    def __init__(self, total: int, label: str, enabled: bool | None):
        self.total, self.done, self.bar = total, 0, None
        self.quiet = enabled is False
        if (sys.stderr.isatty() if enabled is None else enabled) and total:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=label, unit="cell")

    def update(self, text: str) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(1)
        elif not self.quiet:
            log.info("[%d/%d] %s", self.done, self.total, text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _describe(cell: dict) -> str:
    return f"{cell['algorithm']} on {cell['problem']}, seed {cell['seed']}"


def run_suite(suite: Suite | str | os.PathLike, store: str | os.PathLike = DEFAULT_STORE, *, workers: int = 1,
              ray: bool = False, ray_address: str | None = None, progress: bool | None = None,
              claim_timeout: float = CLAIM_TIMEOUT_S) -> BenchSummary:
    """Run every cell of ``suite`` that ``store`` does not hold yet, and store each run.

    Args:
        suite: a :class:`Suite`, a shipped suite name or a suite file.
        store: the SQLite store (created when absent; a corrupt or foreign file raises
            :class:`moo.store.StoreError` and is left untouched, as does a read-only one).
        workers: 1 runs the cells in this process; more uses a local process pool (spawn).
            With ``ray`` on a local Ray instance, its number of CPUs (the default 1: all of them).
        ray: run the cells as Ray tasks (on ``ray_address``, or a local Ray instance).
        progress: ``True`` for a bar, ``False`` for silence, ``None`` for a bar on a terminal
            and log lines otherwise.
        claim_timeout: seconds after which another driver's claim on a cell that it has not
            refreshed is taken over (drivers refresh theirs every few seconds while they run).

    Each cell is claimed in the store just before it is computed; a cell another live driver
    has claimed is left to it (counted in ``n_elsewhere``), one stored meanwhile is skipped.
    A failed cell is reported (and in ``failures``) but not stored, and its claim released, so a
    re-run retries it; every claim of this driver is released when it ends, however it ends
    (except by SIGKILL: then its process is gone, and its claims are taken over).
    """
    if not isinstance(suite, Suite):
        suite = load_suite(suite)
    _positive_int(workers, "workers")
    if isinstance(claim_timeout, bool) or not isinstance(claim_timeout, (int, float)) or not claim_timeout > 0:
        raise MooValueError(f"claim_timeout must be a positive number of seconds, got {claim_timeout!r}")
    owner = Claimant()
    with Store(store) as db:
        done = db.finished_keys(suite.name)
        cells = suite.cells()
        todo = [c for c in cells if c["cell_key"] not in done]
        summary = BenchSummary(suite=suite.name, store=str(store), n_cells=len(cells),
                               n_skipped=len(cells) - len(todo), n_run=0)
        if summary.n_skipped:
            log.info("suite %s: %d of %d cells already in %s, skipped", suite.name, summary.n_skipped, len(cells),
                     store)
        if not todo:
            return summary
        by_key = {c["cell_key"]: c for c in todo}
        bar = _CellProgress(len(todo), suite.name, progress)

        def claimed() -> Iterator[dict]:
            for cell in todo:
                status = db.claim(cell["cell_key"], suite.name, owner, timeout=claim_timeout)
                if status == "claimed":
                    yield cell
                elif status == "stored":  # stored by another driver since this one started
                    summary.n_skipped += 1
                    bar.update(f"{_describe(cell)}: stored by another driver")
                else:
                    summary.n_elsewhere += 1
                    holder = db.claim_holder(cell["cell_key"]) or {}
                    bar.update(f"{_describe(cell)}: claimed by another driver (pid {holder.get('pid')} on "
                               f"{holder.get('host')}), left to it")

        keeper = ClaimKeeper(db.path, owner)
        results: Iterator[dict] | None = None
        try:
            if ray:
                results = _ray_tasks(claimed(), ray_address, None if workers == 1 else workers)
            elif workers > 1:
                results = _process_pool(claimed(), workers)
            else:
                results = _in_process(claimed())
            for out in results:
                cell = by_key[out["cell_key"]]
                if "error" in out:
                    db.release(out["cell_key"], owner)
                    summary.failures.append((_describe(cell), out["error"]))
                    log.warning("%s failed: %s", _describe(cell), out["error"])
                    log.debug(out.get("traceback", ""))
                    bar.update(f"{_describe(cell)}: FAILED")
                    continue
                db.add_run(out)  # releases the claim in the same transaction
                summary.n_run += 1
                shown = ", ".join(f"{k}={v:.4g}" for k, v in out["indicators"].items() if v is not None)
                bar.update(f"{_describe(cell)}: {shown} ({out['wall_time']:.1f} s)")
        finally:
            bar.close()
            close = getattr(results, "close", None)
            if close is not None:
                close()
            keeper.stop()
            try:
                db.release_all(owner)
            except MooError as exc:  # do not hide the error that got us here
                log.warning("could not release this driver's claims: %s", exc)
        if summary.n_elsewhere:
            log.info("suite %s: %d cells were claimed by other drivers and left to them; re-run once they are done "
                     "to pick up any they did not finish", suite.name, summary.n_elsewhere)
    return summary


__all__ = ["Suite", "ProblemEntry", "AlgorithmEntry", "BenchSummary", "load_suite", "suite_names",
           "suite_descriptions", "run_cell",
           "run_suite", "make_evaluator", "solve_cell", "finite", "DEFAULT_STORE"]
