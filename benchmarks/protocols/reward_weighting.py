"""Dynamic reward weighting (suites ``reward-weighting``, ``reward-weighting-heldout``,
``reward-weighting-dst``).

Lu et al., "Learning to Optimize Multi-Objective Alignment Through Dynamic Reward Weighting"
(2025, arXiv:2509.11452). A cell trains one policy (:class:`moo.algorithms.reward_weighting.
RewardWeightingTrainer`) for ``budget`` policy-gradient steps; it is not a ``moo.solve`` run.

**Math alignment** (problem ``math-alignment``, options passed to
:class:`moo.problems.math_alignment.MathAlignmentTask`, e.g. ``n_val``). An algorithm entry is
``name = "reward-weighting"`` with a config (:class:`RunConfig`): the estimator (GRPO / RLOO /
REINFORCE), the weighting (``fixed``, ``hv`` for hypervolume-guided, ``gradient``) and its
weights (the paper's three settings (accuracy, conciseness, format) = (0.334, 0.333, 0.333),
(0.25, 0.375, 0.375), (0.5, 0.25, 0.25); gradient-based starts from uniform weights). Every cell
of a seed starts from the same warm-started policy (``torch.manual_seed(seed)``, then
:func:`~moo.problems.math_alignment.warm_start` for ``sft_steps`` steps; cached within a
process). Per cell it stores:

* the validation objectives after every step (``meta``) and, as history ``hv``, the hypervolume
  (reference point 0: all rewards lie in [0, 1], so the HV of one point is the product of its
  objectives) of their running mean over ``final_window`` steps;
* final figures: ``accuracy``, ``conciseness``, ``format`` (mean of the last ``final_window``
  validation vectors), ``hv`` of that point, ``initial_hv`` (the warm start's validation point),
  and for hypervolume-guided runs ``mean_multiplier`` (steps 2..), ``steps_dhv_positive``,
  ``max_dhv``.

The report adds what needs several cells: per (algorithm, weighting) medians over seeds; the
**steps to reach the fixed-weight baseline's final HV** (first step ``t >= 1`` at which the
running-mean HV reaches the final HV of the ``fixed`` run with weights (0.334, 0.333, 0.333) of
the same estimator and seed; target for gradient-based weighting: median <= 70% of the steps;
seeds where that baseline ends below the initial HV are flagged, the target is vacuous there);
whether the hypervolume-guided median final point Pareto-dominates the fixed one of the same
weights; the multipliers, the gradient-based weights, and three figures.

**Deep-sea-treasure** (problem ``deep-sea-treasure``, algorithm ``multi-policy-tchebycheff``
with the options of :func:`moo.problems.mo_gym.multi_policy_front`; needs ``mo-gymnasium``):
one policy per preference with dynamic Tchebycheff weighting; ``budget`` steps per preference.
Final figures ``hv``, ``hv_front``, ``hv_ratio`` (reference point (0, -25)), ``eu``,
``eu_front``, ``igd``; the front is the greedy policies' returns, negated (minimization). Target:
median ``hv_ratio`` >= 90%.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from moo.errors import MooValueError
from moo.protocol import Protocol, cell_record

#: the paper's three weight settings (accuracy, conciseness, format), by tag
PAPER_WEIGHTS = {"333": (0.334, 0.333, 0.333), "25half": (0.25, 0.375, 0.375), "5half": (0.5, 0.25, 0.25)}
BASELINE = (0.334, 0.333, 0.333)
TARGET_FRACTION = 0.7
DST_TARGET = 0.9
_TASKS = ("math-alignment", "deep-sea-treasure")


@dataclasses.dataclass
class RunConfig:
    """One math-alignment run. ``weighting``: ``fixed``, ``hv`` (hypervolume-guided on
    ``weights``; ``hv_scale`` multiplies ΔHV) or ``gradient`` (from uniform weights; look-ahead
    ``eta``, entropy ``lam``, influence measured on the policy head). Trainer: ``estimator``,
    ``lr``, ``group_size``, ``batch_prompts``."""

    estimator: str = "grpo"
    weighting: str = "fixed"
    weights: tuple[float, ...] = BASELINE
    lr: float = 1e-3
    group_size: int = 8
    batch_prompts: int = 8
    hv_scale: float = 1.0
    eta: float = 1e-3
    lam: float = 2.5e-5

    def __post_init__(self):
        if self.estimator not in ("grpo", "rloo", "reinforce"):
            raise MooValueError(f"estimator must be 'grpo', 'rloo' or 'reinforce', got {self.estimator!r}")
        if self.weighting not in ("fixed", "hv", "gradient"):
            raise MooValueError(f"weighting must be 'fixed', 'hv' or 'gradient', got {self.weighting!r}")
        self.weights = tuple(float(w) for w in self.weights)
        if len(self.weights) != 3:
            raise MooValueError(f"weights must be 3 numbers (accuracy, conciseness, format), got {self.weights}")


@dataclasses.dataclass
class DSTConfig:
    """:func:`moo.problems.mo_gym.multi_policy_front`'s options."""

    n_prefs: int = 11
    estimator: str = "rloo"
    lr: float = 0.1
    group_size: int = 16
    batch_prompts: int = 4
    chain: float = 0.5


_CONFIGS = {"reward-weighting": RunConfig, "multi-policy-tchebycheff": DSTConfig}
_STATES: dict = {}  # warm-started policy states by (seed, sft_steps), within one process


def _warm_state(seed: int, sft_steps: int) -> dict:
    import copy

    import torch

    from moo.problems.math_alignment import CharGRUPolicy, warm_start

    key = (seed, sft_steps)
    if key not in _STATES:
        torch.manual_seed(seed)
        policy = CharGRUPolicy()
        warm_start(policy, steps=sft_steps, seed=seed)
        _STATES[key] = copy.deepcopy(policy.state_dict())
    return _STATES[key]


def running_mean(objs: np.ndarray, window: int) -> np.ndarray:
    """Row ``i``: the mean of rows ``max(0, i - window + 1) .. i``."""
    return np.array([objs[max(0, i - window + 1): i + 1].mean(0) for i in range(len(objs))])


def point_hv(point) -> float:
    """Hypervolume of one maximized point against reference 0 (moo's indicator on negated values)."""
    import torch

    from moo.indicators import hypervolume

    p = torch.as_tensor(np.asarray(point, dtype=float), dtype=torch.float64)
    return float(hypervolume(-p[None], torch.zeros_like(p)))


def steps_to_reach(curve, target: float) -> int | None:
    """First step ``t >= 1`` with ``curve[t] >= target`` (``None``: never)."""
    return next((t for t, v in enumerate(curve) if t > 0 and v >= target), None)


def dominates(a, b) -> bool:
    """``a`` Pareto-dominates ``b`` (maximization)."""
    a, b = np.asarray(a), np.asarray(b)
    return bool((a >= b).all() and (a > b).any())


class RewardWeighting(Protocol):
    """Reward-weighting training cells and their cross-cell report; see the module docstring."""

    name = "reward-weighting"
    indicator_names = ("accuracy", "conciseness", "format", "initial_hv", "mean_multiplier", "steps_dhv_positive",
                       "max_dhv", "hv_front", "hv_ratio", "eu", "eu_front", "igd")
    higher_is_better = frozenset({"accuracy", "conciseness", "format", "initial_hv", "hv_front", "hv_ratio", "eu",
                                  "eu_front", "mean_multiplier", "steps_dhv_positive", "max_dhv"})
    indicator_titles = {"hv": "hypervolume (reference 0; DST: (0, -25))", "initial_hv": "HV of the warm start",
                        "hv_ratio": "HV / front HV", "mean_multiplier": "HV-guided mean multiplier (steps 2..)"}

    @dataclasses.dataclass
    class Options:
        sft_steps: int = 800  # warm-start steps (math alignment)
        final_window: int = 5  # validation vectors averaged for the final point and the HV curve

    def check_problem(self, name: str, options: dict, normalize: bool):
        if name not in _TASKS:
            raise MooValueError(f"protocol {self.name!r} runs the tasks {list(_TASKS)}, got {name!r}")
        if name == "math-alignment":
            from moo.problems.math_alignment import MathAlignmentTask

            MathAlignmentTask(**options)
        return None  # policy tasks, not moo.Problem objects

    def check_algorithm(self, name: str, config: dict) -> dict:
        if name not in _CONFIGS:
            raise MooValueError(f"protocol {self.name!r} runs the algorithms {list(_CONFIGS)}, got {name!r}")
        from moo.algorithm import validate_config

        cfg = _CONFIGS[name](**config)
        validate_config(cfg, owner=name)
        return dataclasses.asdict(cfg)

    # ------------------------------------------------------------------ one cell
    def run_cell(self, cell: dict) -> dict:
        task, algo = cell["problem_spec"]["name"], cell["algorithm_spec"]["name"]
        if (task == "deep-sea-treasure") != (algo == "multi-policy-tchebycheff"):
            raise MooValueError(f"{algo!r} does not run on {task!r}")
        return self._dst_cell(cell) if algo == "multi-policy-tchebycheff" else self._math_cell(cell)

    def _math_cell(self, cell: dict) -> dict:
        import torch

        from moo.algorithms.reward_weighting import (FixedWeights, GradientWeights, HypervolumeGuided,
                                                     RewardWeightingTrainer)
        from moo.problems.math_alignment import CharGRUPolicy, MathAlignmentTask

        c = RunConfig(**cell["algorithm_spec"]["config"])
        seed, steps, window = cell["seed"], cell["budget"], self.options.final_window
        if c.weighting == "fixed":
            strategy = FixedWeights(c.weights)
        elif c.weighting == "hv":
            strategy = HypervolumeGuided(c.weights, hv_scale=c.hv_scale)
        else:
            strategy = GradientWeights(n_obj=3, eta=c.eta, lam=c.lam, param_names=("head.weight", "head.bias"))
        policy = CharGRUPolicy()
        policy.load_state_dict(_warm_state(seed, self.options.sft_steps))
        trainer = RewardWeightingTrainer(policy, MathAlignmentTask(**cell["problem_spec"]["options"]), strategy,
                                         seed=seed, device="cpu", estimator=c.estimator, lr=c.lr,
                                         group_size=c.group_size, batch_prompts=c.batch_prompts, hv_ref=(0.0,) * 3)
        t0, times = time.perf_counter(), []
        hist = trainer.fit(steps, callback=lambda entry: times.append(time.perf_counter() - t0))
        wall = time.perf_counter() - t0
        objs = np.array([h["objectives"] for h in hist])
        smooth = running_mean(objs, window)
        curve = [point_hv(p) for p in smooth]
        final = smooth[-1]
        figures = {"accuracy": final[0], "conciseness": final[1], "format": final[2], "hv": curve[-1],
                   "initial_hv": point_hv(objs[0])}
        multiplier = [h.get("multiplier") for h in hist]
        delta = [h.get("delta_hv") for h in strategy.history]
        if c.weighting == "hv":
            ms = [m for m in multiplier[2:] if m is not None]
            ds = [d for d in delta if d is not None]
            figures.update(mean_multiplier=float(np.mean(ms)) if ms else None,
                           steps_dhv_positive=float(sum(d > 0 for d in ds)), max_dhv=max(ds, default=0.0))
        history = [{"step": t, "n_evals": t, "time": ([0.0] + times)[t], "hv": curve[t]} for t in range(len(hist))]
        meta = {"objectives": objs.tolist(), "weights": [h["weights"] for h in hist], "multiplier": multiplier,
                "delta_hv": delta, "final": final.tolist()}
        return cell_record(cell, indicators=figures, n_evals=steps, wall_time=wall, history=history,
                           X=np.zeros((1, 0)), F=-final[None], meta=meta)

    def _dst_cell(self, cell: dict) -> dict:
        from moo.problems.mo_gym import multi_policy_front

        c = DSTConfig(**cell["algorithm_spec"]["config"])
        t0 = time.perf_counter()
        out = multi_policy_front(cell["problem_spec"]["name"], steps=cell["budget"], seed=cell["seed"],
                                 **dataclasses.asdict(c), **cell["problem_spec"]["options"])
        wall = time.perf_counter() - t0
        m = out["metrics"]
        points = out["points"].double().numpy()
        return cell_record(cell, indicators={k: m[k] for k in ("hv", "hv_front", "hv_ratio", "eu", "eu_front", "igd")},
                           n_evals=cell["budget"] * c.n_prefs, wall_time=wall, X=np.zeros((len(points), 0)),
                           F=-points, meta={"points": points.tolist()})

    # ------------------------------------------------------------------ the report
    def report(self, runs: list, out: Path) -> list[str]:
        math = [r for r in runs if r.algorithm_spec["name"] == "reward-weighting"]
        dst = [r for r in runs if r.algorithm_spec["name"] == "multi-policy-tchebycheff"]
        return (self._math_report(math, out) if math else []) + (_dst_report(dst) if dst else [])

    def _math_report(self, runs: list, out: Path) -> list[str]:
        from moo.problems.math_alignment import OBJECTIVES

        groups: dict = {}  # estimator -> method tag -> seed -> run
        for r in runs:
            c = r.algorithm_spec["config"]
            groups.setdefault(c["estimator"], {}).setdefault(method_tag(c), {})[r.seed] = r
        lines = ["## Reward weighting: final validation objectives and steps to the fixed-weight HV", "",
                 f"Medians over seeds; final point: mean of the last {self.options.final_window} validation vectors; "
                 "HV with reference 0. Steps to reach: first step at which the running-mean HV reaches the final HV "
                 "of fixed-333 (weights (0.334, 0.333, 0.333)) of the same estimator and seed; the median fraction "
                 "counts a run that never reaches it as never.", "",
                 "| algo | method | " + " | ".join(OBJECTIVES) + " | HV (ref 0) | steps to fixed-333 final HV (per seed) "
                 "| median fraction of steps |", "|---|---|" + "---|" * (len(OBJECTIVES) + 3)]
        summary: dict = {}
        for algo, methods in groups.items():
            base = {s: r.indicators["hv"] for s, r in methods.get("fixed-333", {}).items()}
            summary[algo] = {}
            for tag in sorted(methods, key=_method_order):
                per = methods[tag]
                seeds = sorted(per)
                final = np.median([[per[s].indicators[o] for o in OBJECTIVES] for s in seeds], 0)
                reach = [steps_to_reach([h["hv"] for h in per[s].history], base[s]) if s in base else None
                         for s in seeds]
                frac = float(np.median([np.inf if k is None else k / per[s].budget for k, s in zip(reach, seeds)]))
                summary[algo][tag] = {"final": final, "fraction": None if np.isinf(frac) else frac, "reach": reach}
                lines.append(f"| {algo} | {tag} | " + " | ".join(f"{v:.3f}" for v in final) +
                             f" | {np.median([per[s].indicators['hv'] for s in seeds]):.4f} | {reach} | " +
                             ("never" if np.isinf(frac) else f"{100 * frac:.0f}%") + " |")
        lines += ["", "### Targets", ""]
        for algo, methods in groups.items():
            s = summary[algo]
            if "gradient" in s and "fixed-333" in s:
                frac = s["gradient"]["fraction"]
                fixed = methods["fixed-333"]
                init = [fixed[k].indicators["initial_hv"] for k in sorted(fixed)]
                below = [fixed[k].indicators["hv"] < h for k, h in zip(sorted(fixed), init)]
                ok = frac is not None and frac <= TARGET_FRACTION
                lines.append(f"- {algo}: gradient-based reaches the fixed-weight (0.334/0.333/0.333) final HV "
                             f"{np.median([fixed[k].indicators['hv'] for k in fixed]):.4f} in "
                             + ("never" if frac is None else f"{100 * frac:.0f}%") +
                             f" of the steps (target ≤ {100 * TARGET_FRACTION:.0f}%): {'met' if ok else 'MISSED'}; "
                             f"initial HV per seed {[round(v, 4) for v in init]}, fixed-333 final HV below the initial "
                             f"HV in {sum(below)}/{len(below)} seeds"
                             + (" (there the target is reached at step 1 by not training: vacuous)" if any(below) else ""))
            pairs = [t for t in PAPER_WEIGHTS if f"hv-{t}" in s and f"fixed-{t}" in s]
            if pairs:
                dom = [t for t in pairs if dominates(s[f"hv-{t}"]["final"], s[f"fixed-{t}"]["final"])]
                lines.append(f"- {algo}: hypervolume-guided Pareto-dominates the fixed-weight final point for weight "
                             f"settings {dom or 'none'} (target: at least one): {'met' if dom else 'MISSED'}; " +
                             "; ".join(f"{t}: hv {np.round(s[f'hv-{t}']['final'], 3).tolist()} vs fixed "
                                       f"{np.round(s[f'fixed-{t}']['final'], 3).tolist()}" for t in pairs))
        hv_rows = [(algo, tag, per) for algo, methods in groups.items() for tag, per in
                   sorted(methods.items(), key=lambda kv: _method_order(kv[0])) if tag.startswith("hv-")]
        if hv_rows:
            lines += ["", "### Hypervolume-guided multiplier", "",
                      "ΔHV against the initial validation point, times hv_scale; multiplier 0.5 + 1.5 tanh(ΔHV). Per "
                      "run: mean multiplier over steps 2.., steps with ΔHV > 0, largest ΔHV.", "",
                      "| algo | method | mean multiplier (per seed) | steps with ΔHV > 0 (per seed) | max ΔHV (per seed) |",
                      "|---|---|---|---|---|"]
            for algo, tag, per in hv_rows:
                ind = [per[k].indicators for k in sorted(per)]
                mult = [_round(i.get("mean_multiplier"), 3) for i in ind]
                positive = [int(i.get("steps_dhv_positive") or 0) for i in ind]
                largest = [float(f"{i.get('max_dhv') or 0.0:.2g}") for i in ind]
                lines.append(f"| {algo} | {tag} | {mult} | {positive} | {largest} |")
        grad = [(algo, methods["gradient"]) for algo, methods in groups.items() if "gradient" in methods]
        if grad:
            lines += ["", "### Gradient-based weights", "",
                      "Weights (accuracy, conciseness, format) after 10 steps and at the end, per seed:", ""]
            for algo, per in grad:
                w = [(np.round(per[k].meta["weights"][min(10, len(per[k].meta["weights"]) - 1)], 2).tolist(),
                      np.round(per[k].meta["weights"][-1], 2).tolist()) for k in sorted(per)]
                lines.append(f"- {algo}: " + "; ".join(f"{a} → {b}" for a, b in w))
        files = _plots(groups, out, self.options.final_window, OBJECTIVES)
        lines += ["", "### Figures", ""] + [f"![{f}]({f})" for f in files] + [""]
        return lines


def _round(v, digits):
    return None if v is None else round(v, digits)


def method_tag(config: dict) -> str:
    """``fixed-333``, ``hv-25half``, ``gradient``, ... (the old tables' names)."""
    if config["weighting"] == "gradient":
        return "gradient"
    w = tuple(config["weights"])
    tag = next((t for t, v in PAPER_WEIGHTS.items() if np.allclose(v, w)), "/".join(f"{x:g}" for x in w))
    return f"{config['weighting']}-{tag}"


def _method_order(tag: str) -> tuple:
    kind, _, weights = tag.partition("-")
    order = list(PAPER_WEIGHTS)
    return (order.index(weights) if weights in order else len(order), {"fixed": 0, "hv": 1}.get(kind, 2))


def _plots(groups: dict, out: Path, window: int, objectives) -> list[str]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    algos, files = list(groups), []
    fig, axes = plt.subplots(len(algos), 3, figsize=(14, 3.2 * len(algos)), squeeze=False)
    for a, algo in enumerate(algos):
        for tag in sorted(groups[algo], key=_method_order):
            per = groups[algo][tag]
            curves = np.array([running_mean(np.array(r.meta["objectives"]), window) for r in per.values()])
            for j in range(3):
                axes[a, j].plot(np.median(curves[..., j], 0), label=tag,
                                ls="-" if tag.startswith("fixed") else ("--" if tag.startswith("hv") else ":"),
                                lw=1.5 if tag == "gradient" else 1)
                axes[a, j].set(title=f"{algo}: {objectives[j]}", xlabel="step")
    axes[0, -1].legend(fontsize=7)
    fig.tight_layout()
    files.append("objectives.png")
    fig.savefig(out / files[-1], dpi=100)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(algos), figsize=(5 * len(algos), 3.5), squeeze=False)
    for a, algo in enumerate(algos):
        ax = axes[0, a]
        for i, r in enumerate(groups[algo].get("gradient", {}).values()):
            w = np.array(r.meta["weights"])
            for j in range(3):
                ax.plot(w[:, j], color=f"C{j}", alpha=0.8, label=f"w[{objectives[j]}]" if i == 0 else None)
        ax2 = ax.twinx()
        for r in groups[algo].get("hv-333", {}).values():
            ax2.plot([np.nan if m is None else m for m in r.meta["multiplier"]], color="k", lw=0.6, alpha=0.5)
        ax2.set_ylabel("HV multiplier (hv-333)")
        ax.set(title=f"{algo}: gradient-based weights", xlabel="step")
        ax.legend(fontsize=7)
    fig.tight_layout()
    files.append("weights.png")
    fig.savefig(out / files[-1], dpi=100)
    plt.close(fig)

    pairs = [(0, 1), (0, 2), (1, 2)]
    fig, axes = plt.subplots(len(algos), 3, figsize=(13, 3.6 * len(algos)), squeeze=False)
    for a, algo in enumerate(algos):
        for k, tag in enumerate(sorted(groups[algo], key=_method_order)):
            pts = np.array([r.meta["final"] for r in groups[algo][tag].values()])
            marker = "o" if tag.startswith("fixed") else ("^" if tag.startswith("hv") else "*")
            for p, (i, j) in enumerate(pairs):
                axes[a, p].scatter(pts[:, i], pts[:, j], marker=marker, color=f"C{k}", label=tag, s=40)
                axes[a, p].set(xlabel=objectives[i], ylabel=objectives[j], title=algo)
    axes[0, -1].legend(fontsize=7)
    fig.tight_layout()
    files.append("final_points.png")
    fig.savefig(out / files[-1], dpi=100)
    plt.close(fig)
    return files


def _dst_report(runs: list) -> list[str]:
    lines = ["## Deep-sea-treasure: multi-policy dynamic Tchebycheff", "",
             "| seed | HV / front HV (ref (0, -25)) | HV ratio | EU / front EU | IGD | distinct points found | s |",
             "|---|---|---|---|---|---|---|"]
    for r in sorted(runs, key=lambda r: r.seed):
        i = r.indicators
        pts = sorted({tuple(round(v, 1) for v in p) for p in r.meta["points"]})
        lines.append(f"| {r.seed} | {i['hv']:.1f} / {i['hv_front']:.1f} | {100 * i['hv_ratio']:.1f}% | "
                     f"{i['eu']:.3f} / {i['eu_front']:.3f} | {i['igd']:.3f} | {pts} | {r.wall_time:.0f} |")
    med = float(np.median([r.indicators["hv_ratio"] for r in runs]))
    lines += ["", f"Median HV ratio {100 * med:.1f}% (target ≥ {100 * DST_TARGET:.0f}%: "
              f"{'met' if med >= DST_TARGET else 'MISSED'}).", ""]
    return lines
