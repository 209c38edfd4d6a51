"""PSL-MOBO against qNEHVI and NSGA-II at 120 true evaluations.

Lin et al., "Pareto Set Learning for Expensive Multi-Objective Optimization" (NeurIPS 2022); the
peers are BoTorch's qNEHVI and pymoo's NSGA-II behind the same ``moo.solve`` contract. Problems:
ZDT1 (n = 20), VLMOP2, RE21, RE33, RE36, RE37. Every BO method starts from ``--n-init``
Latin-hypercube points (20, the SVH-PSL protocol) and adds batches of 5; NSGA-II runs with a
population of 20.

Scores: the final log hypervolume difference ``LHD = ln(max(HV_true - HV(evaluated set), 1e-14))``
in the SVH-PSL paper's convention (normalized objectives for RE with the paper's ideal/nadir,
reference point 1.1, HV_true the paper's value; :func:`moo.benchmarks.svh_psl.paper_lhd`) and in the
consistent one (the problem's own ideal/nadir and front; ``consistent_lhd``), median and spread
over seeds, plus wall time per BO iteration (per generation for NSGA-II).

Runs accumulate in ``benchmarks/results/psl_mobo.json`` (keyed by problem, algorithm, seed); the
table ``psl_mobo.md`` is rebuilt from everything stored. Several invocations (e.g. one per core,
split with ``--first-seed``) may share one store. A small run::

    python -m moo.benchmarks.psl_mobo --problems vlmop2 --seeds 1 --algorithms psl-mobo pymoo.nsga2
"""
from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from pathlib import Path

import torch

import moo
from moo.benchmarks.svh_psl import consistent_lhd, load, paper_lhd, store_run

RESULTS = Path(__file__).resolve().parent / "results"
PROBLEMS = ("zdt1", "vlmop2", "re21", "re33", "re36", "re37")
OPTIONS = {"zdt1": {"n_var": 20}}
ALGORITHMS = ("psl-mobo", "botorch.qnehvi", "pymoo.nsga2")
BUDGET, BATCH = 120, 5


def algorithm_options(algorithm: str, n_init: int) -> dict:
    if algorithm == "pymoo.nsga2":
        return {"pop_size": 20}
    return {"n_init": n_init, "batch_size": BATCH}


def run_one(name: str, algorithm: str, seed: int, n_init: int, command: str = "") -> dict:
    problem = moo.get_problem(name, **OPTIONS.get(name, {}))
    options = algorithm_options(algorithm, n_init)
    t0, c0 = time.perf_counter(), time.process_time()
    result = moo.solve(problem, algorithm, budget=BUDGET, seed=seed, device="cpu", progress=False, **options)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    F = result.F_all
    per = options.get("batch_size", options.get("pop_size"))
    n_iter = max((F.shape[0] - options.get("n_init", 0)) // per, 1)
    return {"problem": name, "algorithm": algorithm, "seed": seed, "options": options,
            "lhd_paper": paper_lhd(problem)(F), "lhd_consistent": consistent_lhd(problem)(F),
            "wall_s": wall, "wall_per_iteration_s": wall / n_iter, "cpu_s": cpu,
            "cpu_per_iteration_s": cpu / n_iter, "n_evals": int(F.shape[0]),
            "torch_threads": torch.get_num_threads(), "command": command}


def _summary(xs: list[float]) -> str:
    if not xs:
        return "—"
    med = statistics.median(xs)
    return f"{med:.2f}" if len(xs) == 1 else f"{med:.2f} [{min(xs):.2f}, {max(xs):.2f}] (n={len(xs)})"


def table(runs: dict) -> str:
    rows = list(runs.values())
    lines = ["| problem | algorithm | LHD paper convention | LHD consistent | wall s / iteration | CPU s / iteration |",
             "|---|---|---|---|---|---|"]
    for p in PROBLEMS:
        for a in ALGORITHMS:
            sel = [r for r in rows if r["problem"] == p and r["algorithm"] == a]
            if sel:
                lines.append(f"| {p} | {a} | {_summary([r['lhd_paper'] for r in sel])} | "
                             f"{_summary([r['lhd_consistent'] for r in sel])} | "
                             f"{_summary([r['wall_per_iteration_s'] for r in sel])} | "
                             f"{_summary([r['cpu_per_iteration_s'] for r in sel if 'cpu_per_iteration_s' in r])} |")
    commands = sorted({r.get("command") or "(not recorded)" for r in rows})
    lines += ["", "Runs with fewer than the protocol's 5 seeds are partial (n = seeds per cell). "
              "Commands that produced the stored runs:", ""] + [f"    {c}" for c in commands]
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=PROBLEMS)
    ap.add_argument("--algorithms", nargs="+", default=list(ALGORITHMS), choices=ALGORITHMS)
    ap.add_argument("--seeds", type=int, default=5, help="N seeds, from --first-seed on")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--n-init", type=int, default=20)
    ap.add_argument("--out", type=Path, default=RESULTS / "psl_mobo")
    ap.add_argument("--report", action="store_true", help="only rebuild the table from the stored runs")
    args = ap.parse_args(argv)
    path = args.out.with_suffix(".json")
    command = "python -m moo.benchmarks.psl_mobo " + shlex.join(sys.argv[1:] if argv is None else argv)
    for p in ([] if args.report else args.problems):
        for a in args.algorithms:
            for s in range(args.first_seed, args.first_seed + args.seeds):
                rec = run_one(p, a, s, args.n_init, command)
                store_run(path, f"{p}|{a}|{s}", rec)
                print(f"{p:7s} {a:15s} seed {s}: LHD paper {rec['lhd_paper']:7.3f} consistent "
                      f"{rec['lhd_consistent']:7.3f}  {rec['wall_per_iteration_s']:6.1f} s/iter", flush=True)
    md = ("# PSL-MOBO vs qNEHVI vs NSGA-II, 120 evaluations\n\n"
          "Final LHD (natural log; lower is better): median [min, max] over seeds. Produced by "
          "`python -m moo.benchmarks.psl_mobo`; see its docstring for the conventions. Wall times depend on "
          "the (shared) machine's load; CPU time is the comparable figure.\n\n" + table(load(path)["runs"]) + "\n")
    args.out.with_suffix(".md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
