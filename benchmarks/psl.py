"""PSL on differentiable problems: hypervolume of the learned set against the reference front.

Lin et al., "Pareto Set Learning for Expensive Multi-Objective Optimization" (NeurIPS 2022), PSL
with exact gradients (:class:`moo.algorithms.psl.PSL`, its defaults). After ``--budget``
evaluations (about 5,000 training steps of 10 preferences, the periodic snapshots and the final
one), the model's solutions at ~100 Das-Dennis preferences (100 for two objectives, 91 for three)
are scored by hypervolume at reference point 1.1 in every (raw, already [0, 1]-scaled) objective
against three denominators:

* the problem's reference front with the same number of points (``pareto_front(100)``: 100
  points evenly spaced in f1 for ZDT, the 91 Das-Dennis directions normalized onto the sphere for
  DTLZ2) — the target's denominator: >= 99 % within a minute of CPU;
* the exact optima of PSL's own scalarization (augmented Tchebycheff with inverse weights, the
  run's final ideal point) for the very same preferences, found by exhaustive search over a dense
  sampling of the analytic front — what a perfect model would output. On DTLZ2 it is *below* the
  same-size front: the ideal point sits 0.1 below the front, so for a preference on the simplex's
  boundary (36 of the 91, weight 1e-4 after the shift) the Tchebycheff term is constant along the
  whole boundary arc and the augmentation term picks the arc's end: those optima pile up on the
  three corners. A ratio above 100 % there means the model did not follow that degeneracy;
* the exact hypervolume of the continuous front.

Writes ``results/psl.{md,json}``::

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
from moo.algorithms.psl import PSL
from moo.preferences import das_dennis

RESULTS = Path(__file__).resolve().parent.parent / "results"
# problem, options, exact hypervolume of the continuous front at reference point 1.1
PROBLEMS = {"zdt1": ({}, 0.21 + 2 / 3), "zdt2": ({}, 0.21 + 1 / 3), "dtlz2": ({"n_obj": 3}, 1.331 - math.pi / 6)}


def hv(F: torch.Tensor) -> float:
    from moocore import hypervolume

    return float(hypervolume(F.detach().cpu().numpy(), ref=np.full(F.shape[1], 1.1)))


def dense_front(problem) -> torch.Tensor:
    """A dense sampling of the analytic front: 200,001 points for ZDT, 80,601 directions for DTLZ2."""
    if problem.n_obj == 2:
        return problem.pareto_front(200_001)
    w = das_dennis(400, problem.n_obj)
    return w / w.norm(dim=-1, keepdim=True)


def scalarization_optima(algo: PSL, dense: torch.Tensor) -> torch.Tensor:
    """For each snapshot preference, the dense front point minimising the algorithm's scalarization."""
    shifted = algo.snapshot_prefs + algo.config.pref_eps
    return torch.stack([dense[algo.scalarize(dense, w.expand_as(dense), algo.ideal).argmin()] for w in shifted])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=50_100)
    ap.add_argument("--out", type=Path, default=RESULTS / "psl")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for name, (options, exact) in PROBLEMS.items():
        problem = moo.get_problem(name, **options)
        front = problem.pareto_front(100)
        dense = dense_front(problem)
        for seed in range(args.seeds):
            algo = PSL()
            t0, c0 = time.perf_counter(), time.process_time()
            res = moo.solve(problem, algo, budget=args.budget, seed=seed, device="cpu", progress=False)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            optima = scalarization_optima(algo, dense)
            rec = {"problem": name, "seed": seed, "hv": hv(res.F), "front_hv": hv(front), "front_points": len(front),
                   "n_prefs": len(algo.snapshot_prefs), "optima_hv": hv(optima), "exact_hv": exact,
                   "ideal": algo.ideal.tolist(), "wall_s": wall, "cpu_s": cpu, "n_solutions": int(res.F.shape[0])}
            rec["ratio_front"], rec["ratio_exact"] = rec["hv"] / rec["front_hv"], rec["hv"] / exact
            rec["ratio_optima"] = rec["hv"] / rec["optima_hv"]
            rows.append(rec)
            print(json.dumps(rec), flush=True)
    lines = ["| problem | seed | preferences / front points | HV | / reference front (same size) | "
             "/ scalarization optima (same preferences) | / exact | wall s | cpu s |",
             "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['problem']} | {r['seed']} | {r['n_prefs']} / {r['front_points']} | {r['hv']:.4f} | "
              f"{r['ratio_front']:.2%} | {r['ratio_optima']:.2%} | {r['ratio_exact']:.2%} | {r['wall_s']:.1f} | "
              f"{r['cpu_s']:.1f} |" for r in rows]
    md = (f"# PSL (exact gradients), budget {args.budget} evaluations\n\n"
          f"Produced by `python -m moo.benchmarks.psl --seeds {args.seeds} --budget {args.budget}`; wall time on a "
          "shared 2-core machine, torch single-threaded (cpu s = process time). The target's column is "
          "\"/ reference front (same size)\"; see the module docstring for the three denominators.\n\n"
          + "\n".join(lines) + "\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    args.out.with_suffix(".md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
