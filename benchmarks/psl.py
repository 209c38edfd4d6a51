"""PSL on differentiable problems: hypervolume of the learned set against the reference front.

Lin et al., "Pareto Set Learning for Expensive Multi-Objective Optimization" (NeurIPS 2022), PSL
with exact gradients (:class:`moo.algorithms.psl.PSL`, its defaults). After ``--budget``
evaluations (1,000 training steps of 10 preferences plus the final snapshot), the model's solutions
at ~100 Das-Dennis preferences (91 for three objectives) are scored by hypervolume at reference
point 1.1 in every (raw, already [0, 1]-scaled) objective, against the problem's reference front
with the same number of points, and against the exact continuous value. Target: >= 99 % of the
reference front's hypervolume within a minute of CPU. Writes ``benchmarks/results/psl.{md,json}``::

    python -m moo.benchmarks.psl --seeds 3
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

import moo

RESULTS = Path(__file__).resolve().parent / "results"
# problem, options, exact hypervolume of the continuous front at reference point 1.1
PROBLEMS = {"zdt1": ({}, 0.21 + 2 / 3), "zdt2": ({}, 0.21 + 1 / 3), "dtlz2": ({"n_obj": 3}, 1.331 - math.pi / 6)}


def hv(F: torch.Tensor) -> float:
    from moocore import hypervolume

    return float(hypervolume(F.detach().cpu().numpy(), ref=np.full(F.shape[1], 1.1)))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=10_100)
    ap.add_argument("--out", type=Path, default=RESULTS / "psl")
    args = ap.parse_args(argv)
    rows = []
    for name, (options, exact) in PROBLEMS.items():
        problem = moo.get_problem(name, **options)
        for seed in range(args.seeds):
            t0, c0 = time.perf_counter(), time.process_time()
            res = moo.solve(problem, "psl", budget=args.budget, seed=seed, device="cpu", progress=False)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            front = problem.pareto_front(100)
            n_snap = 100 if problem.n_obj == 2 else front.shape[0]
            rec = {"problem": name, "seed": seed, "hv": hv(res.F), "front_hv": hv(front), "front_points": n_snap,
                   "exact_hv": exact, "wall_s": wall, "cpu_s": cpu, "n_solutions": int(res.F.shape[0])}
            rec["ratio_front"], rec["ratio_exact"] = rec["hv"] / rec["front_hv"], rec["hv"] / exact
            rows.append(rec)
            print(json.dumps(rec), flush=True)
    lines = ["| problem | seed | HV | / reference front (same size) | / exact | wall s | cpu s |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['problem']} | {r['seed']} | {r['hv']:.4f} | {r['ratio_front']:.2%} | {r['ratio_exact']:.2%} | "
              f"{r['wall_s']:.1f} | {r['cpu_s']:.1f} |" for r in rows]
    md = (f"# PSL (exact gradients), budget {args.budget} evaluations\n\nProduced by `python -m moo.benchmarks.psl`; "
          "wall time on a shared 2-core machine (cpu s = process time).\n\n" + "\n".join(lines) + "\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    args.out.with_suffix(".md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
