"""NAS on digits: predictor-assisted search (``linas``) against NSGA-II and random search.

Every method gets the same budget of true evaluations (trained architectures) on
``nas-digits`` with objectives error, MACs and latency, for several seeds. All runs share one
SQLite cache, so an architecture found by two runs is trained once and has one latency (the
latency of an architecture is measured once; repeated measurements on a busy machine would
differ).

Hypervolume is computed after normalizing each objective by fixed bounds, the same for every
method and seed and independent of any result (:data:`BOUNDS`): error in ``[0, 1]``, MACs
between the smallest and the largest architecture of the search space (counted), latency
between 0.1 ms (below any forward pass of a 64-image batch on a CPU) and the problem's
``latency_ref`` (50 ms); reference point 1.1. Two scales: raw objectives (``linear``; latency
and MACs then barely matter, the metric is mostly the lowest error found) and MACs and latency
as ``log10`` (``log-macs-latency``, the primary one: costs spanning orders of magnitude).

Reported: final hypervolume per method (median and mean over seeds), the hypervolume after a
third of the budget, the hypervolume curve over evaluations, the evaluations ``linas`` needs to
reach random search's final hypervolume, the run time, and front plots.

    python -m moo.benchmarks.nas_digits                      # the full run: 150 evaluations x 3 seeds
    python -m moo.benchmarks.nas_digits --budget 60 --seeds 1 --out /tmp/nas   # a quick look

Results go to ``results/nas_digits.{md,json}`` and ``nas_digits_{curves,fronts}.png``
(``nas_digits_LABEL.*`` with ``--label LABEL``, e.g. for held-out seeds).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

import moo
from moo.algorithm import Algorithm, StepInfo
from moo.algorithms.evolutionary.operators import VariableLayout, sample_uniform
from moo.indicators import hypervolume

RESULTS = Path(__file__).resolve().parent.parent / "results"
OBJECTIVES = ("error", "macs", "latency")
LABELS = {"error": "validation error", "macs": "MACs per image", "latency": "latency (ms, batch of 64)"}


class RandomSearch(Algorithm):
    """Uniform random sampling of the search space, ``batch`` points per step (the baseline)."""

    name = "random"

    def __init__(self, batch: int = 10):
        super().__init__()
        self.batch = batch

    def step(self) -> StepInfo:
        n = min(self.batch, self.remaining)
        if n == 0:
            return StepInfo()
        xl, xu = self.problem.bounds.to(self.device, self.dtype)
        layout = VariableLayout(self.problem.var_types, self.problem.n_var, self.device)
        X = sample_uniform(n, xl, xu, layout, generator=self.generator)
        return StepInfo(X=X, F=self.evaluate(X), n_evals=n)


def make_algorithm(name: str, args) -> Algorithm:
    if name == "linas":
        return moo.get_algorithm("linas", pop_size=args.pop_size, n_init=args.n_init, batch_size=args.batch,
                                 inner_generations=args.inner_generations, n_folds=args.n_folds)
    if name == "nsga2":
        return moo.get_algorithm("nsga2", pop_size=args.nsga2_pop)
    return RandomSearch(batch=10)  # the batch does not change the draws: one uniform stream


def method_config(name: str, args) -> dict:
    """Every setting of method ``name`` in this invocation and the problem's measurement
    protocol: a stored run is reused only if they are the same."""
    alg = make_algorithm(name, args)
    config = dataclasses.asdict(alg.config) if dataclasses.is_dataclass(getattr(alg, "config", None)) else vars(alg)
    return json.loads(json.dumps({**config, "protocol": make_problem(args)._settings}, default=str))


def make_problem(args):
    return moo.get_problem("nas-digits", objectives=OBJECTIVES, cache=str(args.cache))


def run(name: str, seed: int, args) -> dict:
    problem = make_problem(args)
    alg = make_algorithm(name, args)
    alg.setup(problem, seed=seed, device="cpu", budget=args.budget)
    start = time.perf_counter()
    while alg.remaining:
        alg.step()
    seconds = time.perf_counter() - start
    X, F = alg.archive
    archs = {problem.decode(x) for x in X}
    return {"method": name, "seed": seed, "config": method_config(name, args), "seconds": seconds,
            "trained": problem.n_trained, "measure_seconds": sum(problem.measure_seconds(a) for a in archs),
            "X": X.tolist(), "F": F.tolist()}


def bounds(log_columns: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The fixed normalization bounds (see the module docstring), ``log10`` on ``log_columns``."""
    from moo.problems.nas import complexity

    problem = moo.get_problem("nas-digits", objectives=OBJECTIVES, cache=":memory:")
    macs = [complexity(problem.extreme(largest))["macs"] for largest in (False, True)]
    lo = np.array([0.0, macs[0], 0.1])
    hi = np.array([1.0, macs[1], problem.latency_ref])
    lo[list(log_columns)], hi[list(log_columns)] = np.log10(lo[list(log_columns)]), np.log10(hi[list(log_columns)])
    return lo, hi


def hv_curve(F: np.ndarray, lo: np.ndarray, hi: np.ndarray, every: int) -> list[tuple[int, float]]:
    """Hypervolume of the first ``k`` evaluations, normalized, for k = every, 2 every, ..., n."""
    Fn = torch.as_tensor((F - lo) / (hi - lo))
    ref = torch.full((F.shape[1],), 1.1, dtype=torch.float64)
    ks = sorted(set(list(range(every, len(F) + 1, every)) + [len(F)]))
    return [(k, float(hypervolume(Fn[:k], ref))) for k in ks]


def summarize(runs: list[dict], every: int, budget: int, log_columns: tuple[int, ...] = ()) -> dict:
    """Hypervolume table and curves, objectives in ``log_columns`` taken as log10 first, then
    every objective normalized by the fixed :func:`bounds`."""
    def transform(F):
        F = np.array(F, dtype=np.float64)
        F[:, list(log_columns)] = np.log10(F[:, list(log_columns)])
        return F

    lo, hi = bounds(log_columns)
    curves = {(r["method"], r["seed"]): hv_curve(transform(r["F"]), lo, hi, every) for r in runs}
    methods = sorted({r["method"] for r in runs}, key=["linas", "nsga2", "random"].index)
    table = {}
    for m in methods:
        hvs = [curves[m, r["seed"]][-1][1] for r in runs if r["method"] == m]
        third = [max(hv for k, hv in curves[m, r["seed"]] if k <= budget // 3) for r in runs if r["method"] == m]
        secs = [r["seconds"] for r in runs if r["method"] == m]
        table[m] = {"hv_median": float(np.median(hvs)), "hv_mean": float(np.mean(hvs)),
                    "hv_std": float(np.std(hvs)), "hv_per_seed": hvs, "hv_third_mean": float(np.mean(third)),
                    "seconds_median": float(np.median(secs))}
    if "random" in table and "linas" in table:
        target = table["random"]["hv_mean"]
        reach = []
        for r in runs:
            if r["method"] == "linas":
                hit = [k for k, hv in curves["linas", r["seed"]] if hv >= target]
                reach.append(hit[0] if hit else None)
        table["linas"]["evals_to_random_final_hv"] = reach
        mine = [np.asarray(curves["linas", r["seed"]]) for r in runs if r["method"] == "linas"]
        mean_curve = np.mean([c[:, 1] for c in mine], 0)
        hit = mine[0][mean_curve >= target, 0]
        table["linas"]["evals_to_random_final_hv_mean_curve"] = int(hit[0]) if len(hit) else None
    return {"log10_objectives": [OBJECTIVES[j] for j in log_columns],
            "normalization": {"lo": lo.tolist(), "hi": hi.tolist(), "ref": 1.1}, "table": table,
            "curves": {f"{m}/{seed}": c for (m, seed), c in curves.items()}}


#: the two scales reported: MACs and latency on a log10 scale (the primary one: they span
#: orders of magnitude), and raw objectives
SCALES = {"log-macs-latency": (1, 2), "linear": ()}


def plot(runs: list[dict], summary: dict[str, dict], path_curves: Path, path_fronts: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from moo.pareto import non_dominated_mask

    colors = {"linas": "C3", "nsga2": "C0", "random": "C7"}
    fig, axes = plt.subplots(1, len(summary), figsize=(5.5 * len(summary), 4))
    for ax, (scale, part) in zip(np.atleast_1d(axes), summary.items()):
        for m in part["table"]:
            curves = [np.asarray(c) for key, c in part["curves"].items() if key.split("/")[0] == m]
            hv = np.median(np.stack([c[:, 1] for c in curves]), 0)
            ax.plot(curves[0][:, 0], hv, color=colors[m], label=f"{m} (median of {len(curves)})")
        ax.set_title(f"objectives normalized: {scale}")
        ax.set_xlabel("true evaluations (trained architectures)")
        ax.set_ylabel("hypervolume")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path_curves, dpi=120)
    plt.close(fig)

    pairs = [(0, 1), (0, 2), (1, 2)]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for m in summary["linear"]["table"]:
        F = np.concatenate([np.asarray(r["F"]) for r in runs if r["method"] == m])
        F = F[non_dominated_mask(torch.as_tensor(F)).numpy()]
        for ax, (i, j) in zip(axes, pairs):
            ax.scatter(F[:, i], F[:, j], s=12, color=colors[m], alpha=0.7, label=m)
    for ax, (i, j) in zip(axes, pairs):
        ax.set_xlabel(LABELS[OBJECTIVES[i]])
        ax.set_ylabel(LABELS[OBJECTIVES[j]])
        ax.set_xscale("log" if OBJECTIVES[i] != "error" else "linear")
        ax.set_yscale("log")
    axes[0].legend(title="non-dominated, all seeds")
    fig.tight_layout()
    fig.savefig(path_fronts, dpi=120)
    plt.close(fig)


def write_markdown(summary: dict[str, dict], runs: list[dict], args, wall: float, path: Path) -> None:
    lines = [
        "# NAS on digits: predictor-assisted search vs NSGA-II vs random search"
        + (f" ({args.label} seeds {', '.join(map(str, args.seeds_used))})" if args.label else ""),
        "",
        f"`nas-digits`, objectives {', '.join(OBJECTIVES)}; budget {args.budget} true evaluations, "
        f"seeds {args.seeds_used}; linas: n_init {args.n_init}, batch {args.batch}, inner NSGA-II "
        f"{args.pop_size} x {args.inner_generations}, {args.n_folds}-fold predictor selection; NSGA-II "
        f"population {args.nsga2_pop}; random search. Hypervolume with reference point 1.1 after normalizing "
        "by fixed bounds, the same for every method and seed (error [0, 1], MACs between the smallest and "
        "largest architecture of the space, latency [0.1, 50] ms), with MACs and latency on a log10 scale "
        "(primary) and on raw objectives (linear: MACs and latency then barely matter).",
        "",
        "linas (`algorithms/linas.py`) fits its predictors and measures hypervolume improvement with MACs and "
        "latency on a log10 scale (the problem's `log_objectives`), uses the counted MACs exactly instead of "
        "predicting them (`cheap_objectives`), gives ridge/SVR predictors their cross-validated RMSE as an "
        "error bar, and measures improvement up to the problem's reference point where it is looser than the "
        "measured range, and picks each batch by sequential greedy q-EHVI on joint draws of the predictors "
        "(a pick joins the front of every draw, so correlated near twins are not measured together). "
        "Latency is the fastest of 15 timed forward passes of a 64-image batch (the median "
        "until this protocol changed; the cache's latencies were then re-measured in one pass, trainings "
        "reused: latency does not depend on the weights' values). DyNAS-T measures a population of 50 at "
        "first and per iteration; at 150 evaluations that leaves two adaptive rounds, so linas starts from "
        f"{args.n_init} random points and measures {args.batch} per iteration here.",
    ]
    for scale, part in summary.items():
        t = part["table"]
        lines += ["", f"## {scale}", "",
                  f"| method | HV median | HV mean ± std | HV per seed | HV mean after {args.budget // 3} evals |",
                  "|---|---|---|---|---|"]
        for m, row in t.items():
            per = ", ".join(f"{v:.4f}" for v in row["hv_per_seed"])
            lines.append(f"| {m} | {row['hv_median']:.4f} | {row['hv_mean']:.4f} ± {row['hv_std']:.4f} | {per} | "
                         f"{row['hv_third_mean']:.4f} |")
        if "evals_to_random_final_hv" in t.get("linas", {}):
            lines += ["", f"Evaluations linas needs to reach random search's final mean HV "
                          f"({t['random']['hv_mean']:.4f}), per seed: {t['linas']['evals_to_random_final_hv']} "
                          f"(a third of the budget is {args.budget // 3}; curve resolution {args.every}); "
                          "by the mean over seeds of linas's curve: "
                          f"{t['linas']['evals_to_random_final_hv_mean_curve']}."]
    lines += ["", "## Run time", "",
              "| method | wall per run (s, median) | trainings per run (median) | measuring its architectures "
              "without the cache (s, median) |", "|---|---|---|---|"]
    for m in summary["linear"]["table"]:
        mine = [r for r in runs if r["method"] == m]
        lines.append(f"| {m} | {np.median([r['seconds'] for r in mine]):.0f} | "
                     f"{np.median([r['trained'] for r in mine]):.0f} | "
                     f"{np.median([r['measure_seconds'] for r in mine]):.0f} |")
    total = sum(r["seconds"] for r in runs)
    lines += ["", f"All {len(runs)} runs took {total / 60:.1f} min of wall time ({wall / 60:.1f} min in the "
                  f"invocation that wrote this file) on {platform.machine()}, one torch thread, a 2-core machine "
                  f"shared with other jobs (load average {os.getloadavg()[0]:.1f} at the end). Wall times "
                  "include only the trainings that missed the shared cache; the last column is what measuring "
                  "every architecture of a run costs from scratch. linas's own overhead (predictor selection, "
                  "inner search) is its wall time minus its trainings.",
              "", f"Command: `python -m moo.benchmarks.nas_digits --budget {args.budget} --seeds {args.seeds} "
                  f"--first-seed {args.first_seed} --n-init {args.n_init} --batch {args.batch} --pop-size {args.pop_size} --inner-generations "
                  f"{args.inner_generations} --n-folds {args.n_folds} --nsga2-pop {args.nsga2_pop}"
                  + (f" --label {args.label}" if args.label else "") + "`",
              "", f"Figures: `{args.stem}_curves.png` (median HV over evaluations), `{args.stem}_fronts.png` "
                  "(non-dominated points of each method, all seeds)."]
    path.write_text("\n".join(lines) + "\n")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=int, default=150)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds first-seed .. first-seed + seeds - 1 (held-out checks use fresh seeds)")
    parser.add_argument("--methods", default="linas,nsga2,random")
    parser.add_argument("--n-init", type=int, default=10, help="linas random points first")
    parser.add_argument("--batch", type=int, default=5, help="linas points measured per iteration")
    parser.add_argument("--pop-size", type=int, default=50, help="linas inner NSGA-II population")
    parser.add_argument("--nsga2-pop", type=int, default=30, help="NSGA-II population (the baseline)")
    parser.add_argument("--inner-generations", type=int, default=50, help="linas inner NSGA-II generations "
                        "(the algorithm's DyNAS-T default is 100; halved here to fit the CPU budget)")
    parser.add_argument("--n-folds", type=int, default=3)
    parser.add_argument("--every", type=int, default=10, help="evaluations between points of the HV curve")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--cache", type=Path, default=None, help="SQLite cache (default: OUT/nas_digits_cache.sqlite)")
    parser.add_argument("--report-only", action="store_true",
                        help="run nothing; summarize the finished runs in OUT/nas_digits[_LABEL]_runs.json")
    parser.add_argument("--label", default="", help="a name for this set of seeds (e.g. heldout): files "
                        "nas_digits_LABEL.*, so a held-out check does not overwrite the main results")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    args.cache = args.cache or args.out / "nas_digits_cache.sqlite"
    torch.set_num_threads(1)
    start = time.perf_counter()
    args.stem = "nas_digits" + (f"_{args.label}" if args.label else "")
    runs_path = args.out / f"{args.stem}_runs.json"
    runs = json.loads(runs_path.read_text()) if runs_path.exists() else []
    methods = args.methods.split(",")
    configs = {m: method_config(m, args) for m in methods}
    runs = [r for r in runs if r["method"] not in configs or r.get("config") == configs[r["method"]]]  # stale: rerun
    done = {(r["method"], r["seed"]) for r in runs if len(r["F"]) == args.budget}
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for seed in ([] if args.report_only else seeds):
        for name in methods:
            if (name, seed) in done:
                continue
            r = run(name, seed, args)
            runs.append(r)
            runs_path.write_text(json.dumps(runs))  # an interrupted benchmark resumes from here
            print(f"{name:6s} seed {seed}: {r['seconds']:.0f} s, {r['trained']} trained", flush=True)
    runs = [r for r in runs if len(r["F"]) == args.budget and r["seed"] in seeds and r["method"] in methods]
    complete = [s for s in seeds if all((m, s) in {(r["method"], r["seed"]) for r in runs} for m in methods)]
    runs = [r for r in runs if r["seed"] in complete]  # compare methods on the same seeds only
    args.seeds_used = complete
    if not complete:
        raise SystemExit(f"no seed has finished runs of every method {methods} in {runs_path}")
    summary = {scale: summarize(runs, args.every, args.budget, cols) for scale, cols in SCALES.items()}
    wall = time.perf_counter() - start
    out = {"budget": args.budget, "seeds": complete, "objectives": list(OBJECTIVES),
           "seconds_per_run": {f"{r['method']}/{r['seed']}": r["seconds"] for r in runs},
           "config": {k: str(v) for k, v in vars(args).items()}, "scales": summary}
    (args.out / f"{args.stem}.json").write_text(json.dumps(out, indent=1))
    write_markdown(summary, runs, args, wall, args.out / f"{args.stem}.md")
    plot(runs, summary, args.out / f"{args.stem}_curves.png", args.out / f"{args.stem}_fronts.png")
    print((args.out / f"{args.stem}.md").read_text())
    return out


if __name__ == "__main__":
    main()
