"""Reproduce SVH-PSL's headline comparison: final log hypervolume difference (LHD) after 120
evaluations (20 Latin-hypercube points + 20 batches of 5), mean over seeds, on the paper's
eleven problems, for SVH-PSL, PSL-MOBO, qNEHVI and qParEGO.

Nguyen et al., "Improving Pareto Set Learning for Expensive Multi-objective Optimization via
Stein Variational Hypernetworks", AAAI 2025.

Two LHD conventions are reported, ``LHD = ln(max(HV_true - HV(evaluated set), 1e-14))``:

* ``paper``: the convention of the paper's reference code (nguyenduc810/SVH-PSL), hard-coded in
  :data:`PAPER` below. ZDT1-3, VLMOP2 and F2 use raw objectives; the RE problems are normalized
  by the ideal/nadir points of the paper's code; the reference point is 1.1 in every objective;
  HV_true is the paper's number. RE21 uses the RE suite's pre-fix (``bug_``) ideal/nadir and the
  pre-fix front's HV while the problem itself is the fixed RE21, so HV_true is out of reach
  (the fixed front scores 0.839846: LHD >= ln(0.356) = -1.03). RE42's bounds are the pre-fix
  suite's and its HV_true is the current front's under them.
* ``consistent``: :meth:`moo.indicators.Evaluator.for_problem` — the problem's own ideal/nadir,
  reference point 1.1 in the normalized space, HV_true of the problem's own front (the exact
  continuous value for ZDT1 and ZDT2, a 10,000-point front where the front is analytic).

Every run is appended to ``results/svh_psl.json`` (keyed by problem, algorithm and
seed), so partial runs accumulate; the table ``svh_psl.md`` and the convergence figure
``svh_psl.png`` are rebuilt from everything stored, with the run time split into GP fitting,
hypernetwork training and batch selection, the cells with fewer than five seeds, and the
commands that produced the runs. ``--options ALGORITHM JSON`` runs a labelled variant (e.g.
SVH-PSL with the reference code's stale gradient, ``svh_psl_reference_quirks.md``).

Runs that ``moo.benchmarks.psl_mobo`` already made under this protocol (qNEHVI and PSL-MOBO on
its six problems) can be added with ``--import-from results/psl_mobo.json``. Both
benchmarks make their runs with :func:`run_one`; runs stored there before it kept curves have
only their final LHD and appear in the figure as a marker.

Full run (the paper's protocol; hours on a 2-core machine)::

    python -m moo.benchmarks.svh_psl --problems all --seeds 5 \\
        --algorithms svh-psl psl-mobo botorch.qnehvi botorch.qparego
"""
from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from collections import Counter
from pathlib import Path

import torch

import moo
from moo.indicators import Evaluator
from moo.indicators.evaluator import LHD_FLOOR

RESULTS = Path(__file__).resolve().parent.parent / "results"
# the paper's problems: ZDT1-3, VLMOP2, F2 and seven RE problems
PROBLEMS = ("zdt1", "zdt2", "zdt3", "vlmop2", "f2", "re21", "re32", "re33", "re36", "re37", "re41", "re42")
OPTIONS = {"zdt1": {"n_var": 20}, "zdt2": {"n_var": 20}, "zdt3": {"n_var": 20}}  # the paper's result files: n = 20
ALGORITHMS = ("svh-psl", "psl-mobo", "botorch.qnehvi", "botorch.qparego")
BUDGET, N_INIT, BATCH = 120, 20, 5
PROTOCOL_SEEDS = 5
# The reference's run_svh.py fits the GPs to ZDT1-3's raw objectives and scalarizes their raw LCB
# against an ideal point capped at 0 (the origin, ZDT's true ideal); it standardizes the other
# problems. Its PSL-MOBO baseline (run_psl_mobo.py) standardizes every problem.
PROTOCOL_OPTIONS = {("svh-psl", p): {"standardize_objectives": False} for p in ("zdt1", "zdt2", "zdt3")}
PHASES = ("fit_time", "train_time", "select_time")  # per-iteration extras of psl-mobo / svh-psl

# The paper's final LHD, read off its final-LHD figure (about +-0.2).
PAPER_LHD = {"zdt1": -7.2, "zdt2": -5.5, "zdt3": -1.0, "f2": -4.8, "vlmop2": -4.1, "re21": -1.0,
             "re32": -7.8, "re33": -4.0, "re36": -4.8, "re37": -3.4, "re41": -2.5, "re42": -3.6}

# The paper's LHD convention per problem, read from its reference code (as documented in the RE
# suite notes of this project): ideal/nadir (None: raw objectives) and HV_true, reference point
# 1.1 in every objective. ZDT HV_true: pymoo's default 100-point front; VLMOP2 / F2: the code's
# own sampled fronts (400 / 200 points); RE21: the suite's pre-fix ("bug_") ideal/nadir and front.
PAPER = {
    "zdt1": (None, None, 0.871409),
    "zdt2": (None, None, 0.538300),
    "zdt3": (None, None, 1.329144),
    "vlmop2": (None, None, 0.550808),
    "f2": (None, None, 0.871425),
    "re21": ([1237.841423, 0.000276142374915], [2886.3695604236013, 0.04], 1.195781),
    "re32": ([0.010205496875, 0.00043904, 0.0], [37.7831517014, 17561.6, 425062976.628], 1.330642),
    "re33": ([-0.721525, 1.13907203907, 0.0], [5.3067, 3.12833430979, 25.0], 1.014314),
    "re36": ([7.89473684213e-05, 12.0, 0.0], [5.931, 56.0, 0.355720675227], 1.005962),
    "re37": ([0.00889341391106, 0.00488, -0.431499999825], [0.98949120096, 0.956587924661, 0.987530948586],
             0.847196),
    "re41": ([15.576004, 3.58525, 10.61064375, 0.0], [39.2905121788, 4.42725, 13.09138125, 9.49401929991],
             0.821348),
    "re42": ([-2756.25909816, 3962.55777262, 1947.88082074, 0.0],
             [-844.714092162, 13827.1384409, 5707.50786547, 3207.0456123], 0.800146),
}
# exact hypervolume of the continuous front, objectives in [0, 1], reference point 1.1:
# ZDT1: 0.1 + 2/3 + 0.11, ZDT2: 0.1 + 1/3 + 0.11
EXACT_HV = {"zdt1": 0.21 + 2 / 3, "zdt2": 0.21 + 1 / 3}


class LHD:
    """``ln(max(HV_true - HV(F), 1e-14))`` under an :class:`Evaluator`'s conventions."""

    def __init__(self, evaluator: Evaluator, hv_true: float):
        self.evaluator, self.hv_true = evaluator, float(hv_true)

    def __call__(self, F: torch.Tensor) -> float:
        return math.log(max(self.hv_true - self.evaluator.hypervolume(F), LHD_FLOOR))


def paper_lhd(problem) -> LHD:
    """The paper's convention for ``problem`` (see :data:`PAPER`)."""
    ideal, nadir, hv_true = PAPER[problem.spec["name"]]
    m = problem.n_obj
    if ideal is None:
        ev = Evaluator(problem, normalize=False, ref_point=[1.1] * m, reference_front=problem.pareto_front())
    else:
        ev = Evaluator(problem, ideal=ideal, nadir=nadir, reference_front=problem.pareto_front())
    return LHD(ev, hv_true)


def consistent_lhd(problem) -> LHD:
    """The problem's own ideal/nadir and front (dense or exact where the front is analytic)."""
    name = problem.spec["name"]
    try:
        front = problem.pareto_front(n=10_000)
    except TypeError:  # a shipped front: no size to choose
        front = problem.pareto_front()
    ev = Evaluator(problem, reference_front=front)
    return LHD(ev, EXACT_HV.get(name, ev.front_hypervolume()))


def run_one(name: str, algorithm: str, seed: int, options: dict, command: str = "",
            schedule: dict | None = None) -> dict:
    """One run: the LHD after the initial design and after every batch, in both conventions,
    the run's wall and CPU time and (Pareto-set learners) its wall time per phase: GP fit,
    hypernetwork training, candidate selection, summed over the iterations.

    ``schedule`` splits the budget: by default this protocol's ``N_INIT`` initial points and
    batches of ``BATCH``; an evolutionary peer passes its population instead (``{"pop_size":
    20}``), and the curve then has a point per generation."""
    torch.manual_seed(seed)  # peers that draw from the global generator
    problem = moo.get_problem(name, **OPTIONS.get(name, {}))
    schedule = {"n_init": N_INIT, "batch_size": BATCH} if schedule is None else schedule
    step = schedule.get("batch_size", schedule.get("pop_size"))
    t0, c0 = time.perf_counter(), time.process_time()
    protocol = PROTOCOL_OPTIONS.get((algorithm, name), {})
    result = moo.solve(problem, algorithm, budget=BUDGET, seed=seed, device="cpu", progress=False,
                       **schedule, **{**protocol, **options.get(algorithm, {})})
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    F = result.F_all
    marks = list(range(schedule.get("n_init", step), F.shape[0] + 1, step))
    if marks[-1] != F.shape[0]:  # a last, partial batch
        marks.append(F.shape[0])
    curves = {}
    for conv, make in (("paper", paper_lhd), ("consistent", consistent_lhd)):
        lhd = make(problem)
        curves[conv] = [lhd(F[:k]) for k in marks]
    phases = {k: sum(h.get(k, 0.0) for h in result.history) for k in PHASES}
    fallbacks = int(sum(h.get("fallback_batch", 0) for h in result.history))
    return {"problem": name, "algorithm": algorithm, "seed": seed, "n_evals": marks, "lhd": curves,
            "wall_s": wall, "cpu_s": cpu, "phases_s": phases if any(phases.values()) else None,
            "fallback_batches": fallbacks,
            "options": options.get(algorithm, {}), "protocol_options": protocol,
            "torch_threads": torch.get_num_threads(), "command": command}


def import_final_runs(source: Path, problems, algorithms, seeds) -> dict[str, dict]:
    """Runs of this protocol stored by :mod:`moo.benchmarks.psl_mobo` (made by :func:`run_one`),
    as records of this store: keyed ``problem|algorithm|seed``, with their curves, or a one-point
    curve at the budget for runs stored before that store kept curves, and no phase split.

    Raises :class:`ValueError` for a selected run that did not follow this protocol (initial
    points, batch, budget), since its final LHD would not be comparable."""
    out, protocol = {}, {"n_init": N_INIT, "batch_size": BATCH}
    for rec in load(source)["runs"].values():
        if rec["problem"] not in problems or rec["algorithm"] not in algorithms or rec["seed"] not in seeds:
            continue
        if rec.get("options") != protocol or rec.get("n_evals") != BUDGET:
            raise ValueError(f"{source}: run {rec['problem']}|{rec['algorithm']}|{rec['seed']} has options "
                             f"{rec.get('options')} and {rec.get('n_evals')} evaluations, not {protocol} and {BUDGET}")
        out[f"{rec['problem']}|{rec['algorithm']}|{rec['seed']}"] = {
            "problem": rec["problem"], "algorithm": rec["algorithm"], "seed": rec["seed"],
            "n_evals": rec.get("curve_n_evals", [BUDGET]),
            "lhd": rec.get("curve_lhd", {"paper": [rec["lhd_paper"]], "consistent": [rec["lhd_consistent"]]}),
            "wall_s": rec["wall_s"], "cpu_s": rec.get("cpu_s"), "phases_s": None, "options": {},
            "torch_threads": rec.get("torch_threads"), "command": rec.get("command", ""),
            "imported_from": source.name}
    return out


def load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {"runs": {}}


def store_run(path: Path, key: str, record: dict) -> None:
    """Add one run to the store at ``path``, re-reading it first so that several invocations
    writing the same store keep each other's runs."""
    store = load(path)
    store["runs"][key] = record
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(store, indent=1))


def _mean_std(xs: list[float]) -> str:
    if not xs:
        return "—"
    t = torch.tensor(xs, dtype=torch.float64)
    return f"{t.mean():.2f} ± {t.std(unbiased=False):.2f} (n={len(xs)})"


def table(runs: list[dict]) -> str:
    """Markdown table: mean ± std final LHD per problem and algorithm, both conventions."""
    algos = [a for a in ALGORITHMS if any(r["algorithm"] == a for r in runs)]
    algos += sorted({r["algorithm"] for r in runs} - set(algos))
    lines = [f"Protocol: {N_INIT} Latin-hypercube points + batches of {BATCH} up to {BUDGET} evaluations; "
             "mean ± std over seeds (n = number of seeds)."]
    settings = lambda r: json.dumps(r.get("protocol_options") or {}, sort_keys=True)  # noqa: E731
    for a, o in sorted({(r["algorithm"], settings(r)) for r in runs if r.get("protocol_options")}):
        where = sorted({r["problem"] for r in runs if r["algorithm"] == a and settings(r) == o})
        lines.append(f"As the paper's code does, {a} ran with {o} on {', '.join(where)}.")
    overrides = sorted({(r["algorithm"], json.dumps(r["options"], sort_keys=True)) for r in runs if r["options"]})
    lines += [f"**Not the paper's settings**: {a} ran with {o}." for a, o in overrides] + [""]
    for conv in ("paper", "consistent"):
        lines += [f"### Final LHD at {BUDGET} evaluations, {conv} convention", "",
                  "| problem | paper (SVH-PSL) | " + " | ".join(algos) + " | SVH-PSL within 0.3 |",
                  "|---|---|" + "---|" * len(algos) + "---|"]
        for p in PROBLEMS:
            sel = [r for r in runs if r["problem"] == p]
            if not sel:
                continue
            cells, verdict = [], "—"
            for a in algos:
                xs = [r["lhd"][conv][-1] for r in sel if r["algorithm"] == a and r["n_evals"][-1] == BUDGET]
                cells.append(_mean_std(xs))
                if a == "svh-psl" and xs and conv == "paper":
                    mean = sum(xs) / len(xs)
                    verdict = "yes" if mean <= PAPER_LHD[p] + 0.3 else f"no ({mean - PAPER_LHD[p]:+.2f})"
            lines.append(f"| {p} | {PAPER_LHD[p] if conv == 'paper' else '—'} | " + " | ".join(cells)
                         + f" | {verdict if conv == 'paper' else '—'} |")
        lines.append("")
    lines += ["### Time per run (wall s / CPU s, median; wall s in GP fit / training / selection)", "",
              "| problem | " + " | ".join(algos) + " |", "|---|" + "---|" * len(algos)]
    for p in PROBLEMS:
        sel = [r for r in runs if r["problem"] == p]
        if not sel:
            continue
        cells = []
        for a in algos:
            mine = [r for r in sel if r["algorithm"] == a]
            if not mine:
                cells.append("—")
                continue
            cpu = [r["cpu_s"] for r in mine if r.get("cpu_s") is not None]  # older imported runs have none
            cell = f"{_median([r['wall_s'] for r in mine]):.0f} / " + (f"{_median(cpu):.0f}" if cpu else "—")
            split = [r["phases_s"] for r in mine if r.get("phases_s")]
            if split:
                cell += " (" + " / ".join(f"{_median([s[k] for s in split]):.0f}" for k in PHASES) + ")"
            cells.append(cell)
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    seeds = Counter((r["problem"], r["algorithm"]) for r in runs)
    ran = {p for p, _ in seeds}
    partial = [f"{p} × {a}: {seeds[p, a]} seed(s)" for p in PROBLEMS for a in algos
               if 0 < seeds[p, a] < PROTOCOL_SEEDS]
    empty = [f"{p} × {a}" for p in PROBLEMS if p in ran for a in algos if not seeds[p, a]]
    missing = [p for p in PROBLEMS if p not in ran]
    lines += ["", f"### Coverage (protocol: {PROTOCOL_SEEDS} seeds per cell)", ""]
    lines.append("Partial cells: " + ("; ".join(partial) if partial else "none") + ".")
    lines.append("Empty cells: " + ("; ".join(empty) if empty else "none") + ".")
    lines.append("Problems not run: " + (", ".join(missing) if missing else "none") + ".")
    fell_back = [f"{r['problem']} × {r['algorithm']} seed {r['seed']}: {r['fallback_batches']}"
                 for r in runs if r.get("fallback_batches")]
    if fell_back:
        lines.append("Runs with batches drawn uniformly because every acquisition optimization failed "
                     "(BoTorch peers; number of such batches): " + "; ".join(fell_back) + ".")
    commands = sorted({r.get("command") or "(not recorded)" for r in runs})
    lines += ["", "Commands that produced the stored runs:", ""] + [f"    {c}" for c in commands]
    imported = sorted({(r["imported_from"], r["algorithm"]) for r in runs if r.get("imported_from")})
    for source, algo in imported:
        sel = [r for r in runs if r.get("imported_from") == source and r["algorithm"] == algo]
        final_only = sum(len(r["n_evals"]) == 1 for r in sel)
        lines.append(f"\n{len(sel)} {algo} run(s) were run by `moo.benchmarks.psl_mobo` (same protocol, seeds and "
                     f"LHD conventions) and imported from `{source}`"
                     + (f"; {final_only} of them with their final LHD only, which appear in the figure as a "
                        "marker at the budget." if final_only else " with their curves."))
    return "\n".join(lines) + "\n"


def _median(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2]


def figure(runs: list[dict], path: Path) -> None:
    """Mean LHD (paper convention) against evaluations, one panel per problem."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    probs = [p for p in PROBLEMS if any(r["problem"] == p for r in runs)]
    if not probs:
        return
    cols = min(4, len(probs))
    rows = math.ceil(len(probs) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False)
    for ax, p in zip(axes.flat, probs):
        for i, a in enumerate(ALGORITHMS):
            color = f"C{i}"  # one colour per algorithm across the panels
            sel = [r for r in runs if r["problem"] == p and r["algorithm"] == a and r["n_evals"][-1] == BUDGET]
            curves = [r for r in sel if len(r["n_evals"]) > 1]
            finals = [r["lhd"]["paper"][-1] for r in sel if len(r["n_evals"]) == 1]  # imported runs
            if curves:
                Y = torch.tensor([r["lhd"]["paper"] for r in curves])
                mean, std = Y.mean(0), Y.std(0, unbiased=False)
                ax.plot(curves[0]["n_evals"], mean, color=color, label=f"{a} (n={len(curves)})")
                ax.fill_between(curves[0]["n_evals"], mean - std, mean + std, color=color, alpha=0.2)
            if finals:
                y = torch.tensor(finals)
                ax.errorbar([BUDGET], [float(y.mean())], yerr=[float(y.std(unbiased=False))], fmt="D", ms=4,
                            capsize=3, color=color, label=f"{a}, final only (n={len(finals)})")
        ax.axhline(PAPER_LHD[p], color="k", ls=":", lw=1, label="paper SVH-PSL")
        ax.set_title(p)
        ax.set_xlabel("evaluations")
        ax.set_ylabel("LHD (paper convention)")
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(probs):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", nargs="+", default=["all"], help=f"from {PROBLEMS} or 'all'")
    ap.add_argument("--seeds", nargs="+", type=int, default=[5],
                    help="one number k: seeds first-seed..first-seed+k-1; several numbers: those seeds")
    ap.add_argument("--first-seed", type=int, default=0, help="first seed when --seeds is one number")
    ap.add_argument("--algorithms", nargs="+", default=list(ALGORITHMS))
    ap.add_argument("--n-steps", type=int, default=None,
                    help="override the hypernetwork training steps of svh-psl / psl-mobo (smoke runs only)")
    ap.add_argument("--options", nargs=2, action="append", default=[], metavar=("ALGORITHM", "JSON"),
                    help="extra config for one algorithm, e.g. svh-psl '{\"reference_stale_gradient\": true}' "
                         "(stored with the runs and named in the table; use a separate --out)")
    ap.add_argument("--out", default=str(RESULTS / "svh_psl"), help="output prefix (.json, .md, .png)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--report-only", action="store_true", help="rebuild the table and figure from the stored runs")
    ap.add_argument("--import-from", default=None, metavar="JSON",
                    help="add the selected problems x algorithms x seeds found in a moo.benchmarks.psl_mobo store "
                         "(same protocol, final LHD only) to this store, keeping runs already here; runs nothing")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    problems = list(PROBLEMS) if args.problems == ["all"] else args.problems
    unknown = sorted(set(problems) - set(PROBLEMS))
    if unknown:
        ap.error(f"unknown problem(s) {unknown}; choose from {PROBLEMS}")
    if len(args.seeds) == 1:
        if args.seeds[0] < 1:
            ap.error(f"--seeds {args.seeds[0]}: one number is a count of seeds (>= 1); "
                     "name the seeds to run with two or more numbers")
        seeds = list(range(args.first_seed, args.first_seed + args.seeds[0]))
    elif args.first_seed:
        ap.error("--first-seed only applies when --seeds is one number")
    else:
        seeds = args.seeds
    options: dict[str, dict] = {}
    if args.n_steps is not None:
        options = {"svh-psl": {"n_steps": args.n_steps}, "psl-mobo": {"n_steps": args.n_steps}}
    for algorithm, extra in args.options:
        options.setdefault(algorithm, {}).update(json.loads(extra))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    store_path = out.with_suffix(".json")
    command = "python -m moo.benchmarks.svh_psl " + shlex.join(sys.argv[1:] if argv is None else argv)
    if args.import_from:
        have = load(store_path)["runs"]
        for key, rec in import_final_runs(Path(args.import_from), problems, args.algorithms, seeds).items():
            if key not in have:
                store_run(store_path, key, rec)
                print(f"imported {key}: LHD paper {rec['lhd']['paper'][-1]:7.3f}", flush=True)
    for p in ([] if args.report_only or args.import_from else problems):
        for a in args.algorithms:
            for s in seeds:
                rec = run_one(p, a, s, options, command)
                store_run(store_path, f"{p}|{a}|{s}", rec)
                print(f"{p:7s} {a:16s} seed {s}: LHD paper {rec['lhd']['paper'][-1]:7.3f}  consistent "
                      f"{rec['lhd']['consistent'][-1]:7.3f}  wall {rec['wall_s']:6.0f}s  cpu {rec['cpu_s']:6.0f}s",
                      flush=True)
    runs = list(load(store_path)["runs"].values())
    out.with_suffix(".md").write_text(table(runs))
    figure(runs, out.with_suffix(".png"))
    print(table(runs))


if __name__ == "__main__":
    main()
