"""Neural-architecture search scored by hypervolume under fixed bounds (the ``nas-digits`` suites).

Every run is scored after normalizing each objective by bounds that are the same for every
method and seed and independent of any result (:func:`fixed_bounds`):

* ``error`` in ``[0, 1]``;
* ``params``, ``macs``, ``size_bits`` between the smallest and the largest architecture of the
  search space (counted, :func:`moo.problems.nas.complexity` of ``problem.extreme``);
* ``latency`` between ``latency_floor_ms`` (0.1 ms: below any forward pass of a 64-image batch
  on a CPU) and the problem's ``latency_ref`` (50 ms by default);

reference point ``ref_point`` (1.1) in every normalized objective. Two scales:

* ``log`` (the primary one): the objectives the problem marks as spanning orders of magnitude
  (``problem.log_objectives``: every one but ``error``) are taken as ``log10`` first, bounds
  included;
* ``linear``: raw objectives (MACs and latency then barely matter; the figure is mostly the
  lowest error found).

Final indicators (higher is better): ``hv_log`` and ``hv_linear`` of the whole run, and
``hv_log_third`` / ``hv_linear_third``: of the first ``budget // 3`` evaluations. Convergence
(history records): ``hv_log`` and ``hv_linear`` of the points evaluated so far. Besides, per
run: ``trainings`` (architectures this run trained: cache misses, so it depends on what other
runs cached first) and ``measure_s`` (seconds that measuring every architecture of the run took
when it was cached: its cost without the cache).

The report adds, per scale, the median, mean ± std and per-seed values, the HV after a third of
the budget, the evaluations ``searcher`` (``linas``) needs to reach every other method's final
mean HV (per seed and by the mean over seeds of its curve, at the resolution of the history
records), the run-time table, and the non-dominated points of each method over all seeds in
pairwise projections (``nas_fronts.png``).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from moo.errors import MooValueError
from moo.protocol import Protocol

SCALES = ("log", "linear")
_COUNTED = ("params", "macs", "size_bits")
_LABELS = {"error": "validation error", "params": "parameters", "macs": "MACs per image",
           "latency": "latency (ms, batch of 64)", "size_bits": "model size (bits)"}


def fixed_bounds(problem, latency_floor_ms: float = 0.1, log: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper normalization bounds of ``problem``'s objectives (see the module
    docstring); ``log10`` of them on ``problem.log_objectives`` when ``log``."""
    from moo.problems.nas import complexity

    small, large = (complexity(problem.extreme(b)) for b in (False, True))
    lo, hi = [], []
    for name in problem.objectives:
        if name == "error":
            lo.append(0.0), hi.append(1.0)
        elif name == "latency":
            lo.append(latency_floor_ms), hi.append(problem.latency_ref)
        else:
            lo.append(float(small[name])), hi.append(float(large[name]))
    lo, hi = np.array(lo), np.array(hi)
    if log:
        cols = list(problem.log_objectives)
        lo[cols], hi[cols] = np.log10(lo[cols]), np.log10(hi[cols])
    return lo, hi


def evaluations_to_reach(curves: list[list[tuple[int, float]]], target: float) -> tuple[list, int | None]:
    """The first evaluation count at which each curve ``[(n_evals, hv), ...]`` reaches ``target``
    (``None`` where it never does), and the first at which the mean of the curves does (each
    curve interpolated linearly onto the union of their evaluation counts)."""
    grid = sorted({k for c in curves for k, _ in c})
    mean_curve = np.mean([np.interp(grid, *np.array(c, dtype=float).T) for c in curves], 0)
    per = [next((k for k, v in c if v >= target), None) for c in curves]
    hit = [k for k, v in zip(grid, mean_curve) if v >= target]
    return per, (hit[0] if hit else None)


class FixedBoundsHV:
    """Hypervolume of raw objective rows under the fixed bounds of one scale (a
    :class:`moo.indicators.Evaluator` with those bounds as ideal and nadir)."""

    def __init__(self, problem, scale: str, latency_floor_ms: float = 0.1, ref_point: float = 1.1):
        from moo.indicators import Evaluator

        self.log_columns = list(problem.log_objectives) if scale == "log" else []
        lo, hi = fixed_bounds(problem, latency_floor_ms, log=scale == "log")
        self.evaluator = Evaluator(None, ideal=lo, nadir=hi, normalize=True, ref_point=[ref_point] * len(lo))

    def __call__(self, F) -> float:
        F = torch.as_tensor(F, dtype=torch.float64).clone()
        if F.shape[0] == 0:
            return 0.0
        F[:, self.log_columns] = F[:, self.log_columns].log10()
        return float(self.evaluator.score(F, indicators=("hv",))["hv"])


class NASProtocol(Protocol):
    """Fixed-bounds hypervolume of a NAS run in two scales, after the run and after a third of
    its budget, and the report of the ``nas-digits`` suites (see the module docstring)."""

    name = "nas"
    indicator_names: ClassVar[tuple[str, ...]] = (
        "hv_log", "hv_linear", "hv_log_third", "hv_linear_third", "trainings", "measure_s")
    higher_is_better: ClassVar[frozenset[str]] = frozenset({"hv_log", "hv_linear", "hv_log_third", "hv_linear_third"})
    indicator_titles: ClassVar[dict[str, str]] = {
        "hv_log": "hypervolume, fixed bounds, log10 MACs/latency (primary)",
        "hv_linear": "hypervolume, fixed bounds, raw objectives",
        "hv_log_third": "hypervolume after a third of the budget, log10 MACs/latency",
        "hv_linear_third": "hypervolume after a third of the budget, raw objectives",
        "trainings": "trainings per run (shared-cache misses)",
        "measure_s": "measuring the run's architectures without the cache (s)"}

    @dataclasses.dataclass
    class Options:
        #: reference point in every normalized objective
        ref_point: float = 1.1
        #: lower latency bound (ms)
        latency_floor_ms: float = 0.1
        #: the method whose evaluations to reach the others' final HV are reported
        searcher: str = "linas"

        def __post_init__(self):
            if not (isinstance(self.ref_point, (int, float)) and self.ref_point > 1):
                raise MooValueError(f"ref_point must be a number > 1, got {self.ref_point!r}")
            if not (isinstance(self.latency_floor_ms, (int, float)) and self.latency_floor_ms > 0):
                raise MooValueError(f"latency_floor_ms must be a positive number, got {self.latency_floor_ms!r}")

    def check_problem(self, name: str, options: dict, normalize: bool):
        problem = super().check_problem(name, options, normalize)
        if name != "nas-digits" or normalize:
            raise MooValueError(f"protocol 'nas' scores the raw objectives of 'nas-digits', got {name!r} "
                                f"(normalize={normalize})")
        lo, hi = fixed_bounds(problem, self.options.latency_floor_ms)
        if not (hi > lo).all():
            raise MooValueError(f"protocol 'nas': latency_floor_ms {self.options.latency_floor_ms} is not below the "
                                f"problem's latency_ref {problem.latency_ref}")
        return problem

    def _scorers(self, problem) -> dict[str, FixedBoundsHV]:
        o = self.options
        return {f"hv_{s}": FixedBoundsHV(problem, s, o.latency_floor_ms, o.ref_point) for s in SCALES}

    def indicators(self, cell: dict, problem, result) -> dict[str, float | None]:
        third = cell["budget"] // 3
        out = {}
        for name, hv in self._scorers(problem).items():
            out[name] = hv(result.F_all)
            out[f"{name}_third"] = hv(result.F_all[:third])
        archs = {problem.decode(x) for x in result.X_all}
        out["trainings"] = float(problem.n_trained)
        out["measure_s"] = float(sum(problem.measure_seconds(a) or 0.0 for a in archs))
        return out

    def curves(self, cell: dict, problem):
        scorers = self._scorers(problem)
        return lambda F: {name: hv(F) for name, hv in scorers.items()}

    # ------------------------------------------------------------------ the report
    def report(self, runs: list, out: Path) -> list[str]:
        methods = sorted({r.algorithm for r in runs}, key=lambda a: (a != self.options.searcher, a))
        seeds = sorted({r.seed for r in runs})
        budget = max(r.budget for r in runs)
        lines = ["## NAS: fixed-bounds hypervolume", "",
                 f"Seeds {seeds}; hypervolume with reference point {self.options.ref_point} after normalizing by "
                 f"fixed bounds (error [0, 1], MACs between the smallest and largest architecture of the space, "
                 f"latency [{self.options.latency_floor_ms}, latency_ref] ms), with MACs and latency on a log10 "
                 "scale (primary) and on raw objectives (linear).", ""]
        for scale in SCALES:
            key = f"hv_{scale}"
            lines += [f"### {scale}", "", f"| method | HV median | HV mean ± std | HV per seed (seeds {seeds}) | "
                      f"HV mean after {budget // 3} evals |", "|---|---|---|---|---|"]
            finals = {}
            for m in methods:
                mine = sorted((r for r in runs if r.algorithm == m), key=lambda r: r.seed)
                hv = [r.indicators.get(key) for r in mine]
                third = [r.indicators.get(f"{key}_third") for r in mine]
                vals = [v for v in hv if v is not None]
                if not vals:
                    continue
                finals[m] = float(np.mean(vals))
                per = ", ".join("–" if v is None else f"{v:.4f}" for v in hv)
                lines.append(f"| {m} | {np.median(vals):.4f} | {np.mean(vals):.4f} ± {np.std(vals):.4f} | {per} | "
                             f"{np.mean([t for t in third if t is not None]):.4f} |")
            lines.append("")
            lines += self._reach(runs, key, finals, budget)
        lines += ["### Run time", "", "| method | wall per run (s, median) | trainings per run (median) | measuring its "
                  "architectures without the cache (s, median) |", "|---|---|---|---|"]
        for m in methods:
            mine = [r for r in runs if r.algorithm == m]
            med = lambda k: np.median([r.indicators.get(k) or 0.0 for r in mine])  # noqa: E731
            lines.append(f"| {m} | {np.median([r.wall_time for r in mine]):.0f} | {med('trainings'):.0f} | "
                         f"{med('measure_s'):.0f} |")
        lines += ["", "Wall times include only the trainings that missed the shared cache (the order the cells ran "
                  "in decides which run trains an architecture); the last column is what measuring every "
                  "architecture of a run costs from scratch.", ""]
        if any(r.F.size for r in runs):
            self._plot_fronts(runs, methods, out / "nas_fronts.png")
            lines += ["![non-dominated points of each method, all seeds](nas_fronts.png)", ""]
        return lines

    def _reach(self, runs, key: str, finals: dict, budget: int) -> list[str]:
        """Evaluations the searcher needs to reach each other method's final mean HV."""
        searcher = self.options.searcher
        curves = [[(rec["n_evals"], rec[key]) for rec in r.history if rec.get(key) is not None]
                  for r in sorted(runs, key=lambda r: r.seed) if r.algorithm == searcher]
        curves = [c for c in curves if c]
        if not curves:
            return [f"No {key} curves of {searcher!r} in this store.", ""]
        grid = sorted({k for c in curves for k, _ in c})
        step = grid[1] - grid[0] if len(grid) > 1 else grid[0]
        out = []
        for m, target in finals.items():
            if m == searcher:
                continue
            per, by_mean = evaluations_to_reach(curves, target)
            out.append(f"Evaluations {searcher} needs to reach {m}'s final mean HV ({target:.4f}), per seed: {per} "
                       f"(a third of the budget is {budget // 3}; curve resolution {step}); by the mean over seeds "
                       f"of {searcher}'s curve: {by_mean}.")
        return (out or [f"No method besides {searcher!r} to compare with."]) + [""]

    @staticmethod
    def _plot_fronts(runs, methods, path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        from moo.pareto import non_dominated_mask

        names = runs[0].problem_spec.get("options", {}).get("objectives", ["error", "macs", "latency"])
        pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
        fig, axes = plt.subplots(1, len(pairs), figsize=(4.4 * len(pairs), 4), squeeze=False)
        for c, m in enumerate(methods):
            F = np.concatenate([r.F for r in runs if r.algorithm == m and r.F.size])
            F = F[non_dominated_mask(torch.as_tensor(F)).numpy()]
            for ax, (i, j) in zip(axes[0], pairs):
                ax.scatter(F[:, i], F[:, j], s=12, color=f"C{c}", alpha=0.7, label=m)
        for ax, (i, j) in zip(axes[0], pairs):
            ax.set_xlabel(_LABELS.get(names[i], names[i]))
            ax.set_ylabel(_LABELS.get(names[j], names[j]))
            ax.set_xscale("linear" if names[i] == "error" else "log")
            ax.set_yscale("linear" if names[j] == "error" else "log")
        axes[0][0].legend(title="non-dominated, all seeds")
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)


__all__ = ["NASProtocol", "FixedBoundsHV", "fixed_bounds", "SCALES"]
