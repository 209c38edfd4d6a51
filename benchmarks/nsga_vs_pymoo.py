"""Torch NSGA-II (and NSGA-III) against pymoo's, in one process.

Run ``python -m moo.benchmarks.nsga_vs_pymoo`` (``--quick`` for a smoke run). Two measurements:

1. Quality at equal evaluations: final hypervolume of the last population's non-dominated
   feasible members on ZDT1–3 (30 variables) and DTLZ2 (3 objectives, 12 variables), population
   100, 20,000 evaluations, mean over 5 seeds, reference point 1.1 in every objective (on the raw
   objectives; every front lies in [0, 1]^m except ZDT3's f2 in [-0.77, 1]). The target: ours
   within 1% of pymoo's. NSGA-III on DTLZ2 (91 Das-Dennis directions) is reported beside it.
2. Speed: median wall time of one generation (mating, evaluation, survival) at population
   1,000 on ZDT1 and DTLZ2, after 3 warm-up generations. The target: ours at least 2x faster.

Torch runs single-threaded, like NumPy's code paths in pymoo, so the comparison is per core and
not disturbed by other processes on a shared machine. Writes
``results/nsga_vs_pymoo.{md,json}``.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

import moo
from moo.algorithms.evolutionary import NSGA2, NSGA3
from moo.indicators import hypervolume

RESULTS = Path(__file__).resolve().parent.parent / "results"
PROBLEMS = {"zdt1": {}, "zdt2": {}, "zdt3": {}, "dtlz2": {"n_obj": 3, "n_var": 12}}


def our_problem(name: str):
    return moo.get_problem(name, **PROBLEMS[name])


def pymoo_problem(name: str):
    from pymoo.problems import get_problem
    opts = PROBLEMS[name]
    return get_problem(name, **({"n_var": opts["n_var"], "n_obj": opts["n_obj"]} if opts else {}))


def hv(F: np.ndarray, m: int) -> float:
    return float(hypervolume(torch.as_tensor(F, dtype=torch.float64), torch.full((m,), 1.1, dtype=torch.float64)))


def ours_final(algo_name: str, name: str, budget: int, seed: int, pop: int) -> float:
    algo = NSGA2(pop_size=pop) if algo_name == "nsga2" else NSGA3()
    problem = our_problem(name)
    algo.setup(problem, seed=seed, device="cpu", budget=budget)
    while algo.remaining:
        algo.step()
    return hv(algo.approximation()[1].numpy(), problem.n_obj)


def pymoo_algorithm(algo_name: str, m: int, pop: int):
    from pymoo.algorithms.moo.nsga2 import NSGA2 as PNSGA2
    from pymoo.algorithms.moo.nsga3 import NSGA3 as PNSGA3
    from pymoo.util.ref_dirs import get_reference_directions
    if algo_name == "nsga2":
        return PNSGA2(pop_size=pop)
    return PNSGA3(ref_dirs=get_reference_directions("das-dennis", m, n_partitions=12), pop_size=92)


def pymoo_final(algo_name: str, name: str, budget: int, seed: int, pop: int) -> float:
    from pymoo.optimize import minimize
    problem = pymoo_problem(name)
    res = minimize(problem, pymoo_algorithm(algo_name, problem.n_obj, pop), ("n_evals", budget), seed=seed)
    return hv(res.opt.get("F"), problem.n_obj)


def quality(seeds, budget, rows):
    cases = [("nsga2", p) for p in PROBLEMS] + [("nsga3", "dtlz2")]
    for algo_name, name in cases:
        ours = [ours_final(algo_name, name, budget, s, 100) for s in seeds]
        theirs = [pymoo_final(algo_name, name, budget, s, 100) for s in seeds]
        row = {"algorithm": algo_name, "problem": name, "evals": budget, "seeds": len(seeds),
               "hv_ours": float(np.mean(ours)), "hv_pymoo": float(np.mean(theirs)),
               "hv_ours_std": float(np.std(ours)), "hv_pymoo_std": float(np.std(theirs))}
        row["rel_diff"] = row["hv_ours"] / row["hv_pymoo"] - 1.0
        rows.append(row)
        print(f"{algo_name:6s} {name:6s} HV ours {row['hv_ours']:.5f} ± {row['hv_ours_std']:.5f}  "
              f"pymoo {row['hv_pymoo']:.5f} ± {row['hv_pymoo_std']:.5f}  diff {100 * row['rel_diff']:+.2f}%", flush=True)


def generation_times_ours(name: str, pop: int, n_gen: int) -> list[float]:
    algo = NSGA2(pop_size=pop)
    algo.setup(our_problem(name), seed=0, device="cpu")
    algo.step()
    times = []
    for _ in range(n_gen):
        t = time.perf_counter()
        algo.step()
        times.append(time.perf_counter() - t)
    return times[3:]


def generation_times_pymoo(name: str, pop: int, n_gen: int) -> list[float]:
    from pymoo.algorithms.moo.nsga2 import NSGA2 as PNSGA2
    problem = pymoo_problem(name)
    algo = PNSGA2(pop_size=pop)
    algo.setup(problem, seed=0, termination=("n_gen", n_gen + 10))
    algo.next()
    times = []
    for _ in range(n_gen):
        t = time.perf_counter()
        algo.next()
        times.append(time.perf_counter() - t)
    return times[3:]


def speed(pop, n_gen, rows):
    for name in ("zdt1", "dtlz2"):
        ours = statistics.median(generation_times_ours(name, pop, n_gen))
        theirs = statistics.median(generation_times_pymoo(name, pop, n_gen))
        rows.append({"problem": name, "pop_size": pop, "generations": n_gen - 3,
                     "s_per_gen_ours": ours, "s_per_gen_pymoo": theirs, "speedup": theirs / ours})
        print(f"pop {pop} {name:6s} per generation: ours {1000 * ours:.1f} ms, pymoo {1000 * theirs:.1f} ms, "
              f"speed-up {theirs / ours:.2f}x", flush=True)


def write(quality_rows, speed_rows, args, elapsed):
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {"command": "python -m moo.benchmarks.nsga_vs_pymoo" + (" --quick" if args.quick else ""),
            "python": platform.python_version(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "machine": platform.machine(),
            "elapsed_s": round(elapsed, 1)}
    (RESULTS / "nsga_vs_pymoo.json").write_text(json.dumps({"meta": meta, "quality": quality_rows,
                                                           "speed": speed_rows}, indent=2))
    lines = ["# Torch NSGA-II/III vs pymoo 0.6", "",
             f"`{meta['command']}` — torch {meta['torch']}, {meta['torch_threads']} thread, {elapsed:.0f} s.", "",
             "## Final hypervolume at equal evaluations (mean ± std over seeds, reference point 1.1)", "",
             "| algorithm | problem | evals | seeds | HV ours | HV pymoo | ours / pymoo − 1 |",
             "|---|---|---|---|---|---|---|"]
    for r in quality_rows:
        lines.append(f"| {r['algorithm']} | {r['problem']} | {r['evals']} | {r['seeds']} | {r['hv_ours']:.5f} ± "
                     f"{r['hv_ours_std']:.5f} | {r['hv_pymoo']:.5f} ± {r['hv_pymoo_std']:.5f} | "
                     f"{100 * r['rel_diff']:+.2f}% |")
    lines += ["", "## Time per generation (median)", "",
              "| problem | population | generations timed | ours (ms) | pymoo (ms) | speed-up |",
              "|---|---|---|---|---|---|"]
    for r in speed_rows:
        lines.append(f"| {r['problem']} | {r['pop_size']} | {r['generations']} | {1000 * r['s_per_gen_ours']:.1f} | "
                     f"{1000 * r['s_per_gen_pymoo']:.1f} | {r['speedup']:.2f}x |")
    (RESULTS / "nsga_vs_pymoo.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 4,000 evaluations, 8 timed generations")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    import moo.problems  # noqa: F401  (registers the problems)
    t0 = time.perf_counter()
    q_rows, s_rows = [], []
    if args.quick:
        quality(range(2), 4000, q_rows)
        speed(1000, 11, s_rows)
    else:
        quality(range(5), 20000, q_rows)
        speed(1000, 33, s_rows)
    write(q_rows, s_rows, args, time.perf_counter() - t0)


if __name__ == "__main__":
    main()
