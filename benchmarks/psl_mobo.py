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

Each run is made by :func:`moo.benchmarks.svh_psl.run_one`. Runs accumulate in
``results/psl_mobo.json`` (keyed by problem, algorithm, seed) with their final LHDs
and, for runs stored since the two benchmarks share ``run_one``, their LHD curves; the table
``psl_mobo.md`` is rebuilt from everything stored. Several invocations (e.g. one per core, split
with ``--first-seed``) may share one store. A small run::

    python -m moo.benchmarks.psl_mobo --problems vlmop2 --seeds 1 --algorithms psl-mobo pymoo.nsga2
"""
from __future__ import annotations

import argparse
import shlex
import statistics
import sys
from pathlib import Path

from moo.benchmarks import svh_psl
from moo.benchmarks.svh_psl import load, store_run

RESULTS = Path(__file__).resolve().parent.parent / "results"
PROBLEMS = ("zdt1", "vlmop2", "re21", "re33", "re36", "re37")
ALGORITHMS = ("psl-mobo", "botorch.qnehvi", "pymoo.nsga2")
BATCH = 5


def algorithm_options(algorithm: str, n_init: int) -> dict:
    if algorithm == "pymoo.nsga2":
        return {"pop_size": 20}
    return {"n_init": n_init, "batch_size": BATCH}


def run_one(name: str, algorithm: str, seed: int, n_init: int, command: str = "") -> dict:
    """One run of :func:`moo.benchmarks.svh_psl.run_one` (the same protocol and LHD conventions),
    as this store's record: final LHDs, time per BO iteration (NSGA-II: per generation) and the
    LHD curves."""
    schedule = algorithm_options(algorithm, n_init)
    rec = svh_psl.run_one(name, algorithm, seed, {}, command, schedule=schedule)
    per = schedule.get("batch_size", schedule.get("pop_size"))
    n_evals = rec["n_evals"][-1]
    n_iter = max((n_evals - schedule.get("n_init", 0)) // per, 1)
    return {"problem": name, "algorithm": algorithm, "seed": seed, "options": schedule,
            "lhd_paper": rec["lhd"]["paper"][-1], "lhd_consistent": rec["lhd"]["consistent"][-1],
            "wall_s": rec["wall_s"], "wall_per_iteration_s": rec["wall_s"] / n_iter, "cpu_s": rec["cpu_s"],
            "cpu_per_iteration_s": rec["cpu_s"] / n_iter, "n_evals": n_evals, "curve_n_evals": rec["n_evals"],
            "curve_lhd": rec["lhd"], "torch_threads": rec["torch_threads"], "command": command}


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
