"""Compute the reference fronts shipped in ``problems/data/`` for problems without an analytic front.

Usage::

    python -m moo.benchmarks.make_reference_fronts            # every problem below
    python -m moo.benchmarks.make_reference_fronts re21 re33  # some of them
    python -m moo.benchmarks.make_reference_fronts --report   # compare shipped RE fronts with the suite's

How (recorded in each CSV's header too):

- RE problems: several seeded pymoo runs (NSGA-II for 2–3 objectives, NSGA-III with Das-Dennis
  directions for 4+), each keeping an archive of every non-dominated point it evaluated, merged
  with a uniform random sample of the box; the union is filtered to its non-dominated points and
  thinned to at most ``cap`` points by farthest-point sampling in objective space normalized by
  the problem's ideal/nadir and clipped at 1.1 (the extremes of each objective are kept first).
- VLMOP3 (two variables): the non-dominated points of a dense grid over the box, thinned likewise.

Where ``../shared/reference/re`` exists, the script also prints each RE front's normalized
hypervolume (moocore, reference point 1.1) beside the suite's published front under the same
normalization; ``tests/test_re_suite.py`` checks the two agree within 0.5%.
"""
from __future__ import annotations

import argparse
import datetime
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import moo
from moo.adapters import to_pymoo
from moo.problems._common import nondominated
from moo.preferences import das_dennis

DATA_DIR = Path(__file__).resolve().parent.parent / "problems" / "data"
SHARED_RE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "re"
RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"


@dataclass(frozen=True)
class Plan:
    """How to approximate one front: algorithm, population, generations, seeds, random sample, cap."""

    algorithm: str = "nsga2"
    pop_size: int = 200
    n_gen: int = 400
    seeds: tuple[int, ...] = (0, 1, 2)
    n_random: int = 100_000
    cap: int = 1000
    partitions: int = 12  # Das-Dennis partitions for NSGA-III


PLANS = {
    "re21": Plan(), "re22": Plan(), "re23": Plan(), "re24": Plan(), "re25": Plan(),
    "re31": Plan(cap=1500), "re32": Plan(cap=1500), "re33": Plan(cap=1500), "re34": Plan(cap=1500),
    "re35": Plan(cap=1500), "re36": Plan(cap=1500), "re37": Plan(cap=1500),
    "re41": Plan(algorithm="nsga3", pop_size=220, partitions=8, cap=3000),
    "re42": Plan(algorithm="nsga3", pop_size=220, partitions=8, cap=2000),
    "re61": Plan(algorithm="nsga3", pop_size=252, partitions=5, n_gen=300, n_random=300_000, cap=2000),
    "re91": Plan(algorithm="nsga3", pop_size=220, partitions=3, n_gen=200, seeds=(0, 1), cap=1200),
}
GRID_PLANS = {"vlmop3": (1200, 1500)}  # name -> (grid points per axis, cap)


class _Archive:
    """Keeps the non-dominated objective vectors a pymoo run has seen (a pymoo callback)."""

    def __init__(self, every: int = 10):
        self.every, self.parts, self.calls = every, [], 0

    def __call__(self, algorithm):
        self.parts.append(algorithm.pop.get("F").copy())
        self.calls += 1
        if self.calls % self.every == 0:
            self.parts = [nondominated(np.concatenate(self.parts))]

    def front(self) -> np.ndarray:
        return nondominated(np.concatenate(self.parts))


def _run_pymoo(problem: moo.Problem, plan: Plan, seed: int) -> np.ndarray:
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.algorithms.moo.nsga3 import NSGA3
    from pymoo.optimize import minimize

    if plan.algorithm == "nsga3":
        dirs = das_dennis(plan.partitions, problem.n_obj).numpy()
        algorithm = NSGA3(ref_dirs=dirs, pop_size=max(plan.pop_size, len(dirs)))
    else:
        algorithm = NSGA2(pop_size=plan.pop_size)
    archive = _Archive()
    minimize(to_pymoo(problem), algorithm, ("n_gen", plan.n_gen), seed=seed, callback=archive, verbose=False)
    return archive.front()


def _random_front(problem: moo.Problem, n: int, seed: int, chunk: int = 50_000) -> np.ndarray:
    gen = torch.Generator().manual_seed(seed)
    kept = []
    for start in range(0, n, chunk):
        u = torch.rand(min(chunk, n - start), problem.n_var, generator=gen, dtype=torch.float64)
        kept.append(nondominated(problem.evaluate(problem.xl + (problem.xu - problem.xl) * u).numpy()))
    return nondominated(np.concatenate(kept))


def thin(F: np.ndarray, cap: int, ideal: np.ndarray, nadir: np.ndarray) -> np.ndarray:
    """At most ``cap`` rows of ``F`` chosen by farthest-point sampling in ideal/nadir-normalized space,
    starting from the best row of each objective.

    Normalized values are clipped at 1.1 (the hypervolume reference point) for the distances, so
    the points spend themselves where they matter for hypervolume: the far tails some RE problems
    have (constraint violations of 1e7 and more) collapse onto the box's faces."""
    if len(F) <= cap:
        return F
    Z = torch.from_numpy((F - ideal) / np.where(nadir > ideal, nadir - ideal, 1.0)).clamp(max=1.1)
    chosen = list(dict.fromkeys(int(i) for i in Z.argmin(0)))
    dist = torch.cdist(Z, Z[chosen]).min(1).values
    while len(chosen) < cap:
        i = int(dist.argmax())
        chosen.append(i)
        dist = torch.minimum(dist, (Z - Z[i]).norm(dim=1))
    return F[np.sort(chosen)]


def normalized_hv(F: np.ndarray, ideal: np.ndarray, nadir: np.ndarray) -> float:
    """Hypervolume of ``F`` normalized by ideal/nadir, reference point 1.1 (moocore): exact up to
    four objectives, moocore's deterministic Rphi-FWE+ approximation (2^16 samples) beyond."""
    import moocore

    Z = (F - ideal) / (nadir - ideal)
    ref = np.full(F.shape[1], 1.1)
    if F.shape[1] <= 4:
        return float(moocore.hypervolume(Z, ref=ref))
    return float(moocore.hv_approx(Z, ref=ref, nsamples=2 ** 16, method="Rphi-FWE+"))


def _write(name: str, F: np.ndarray, how: str) -> Path:
    """Write ``F`` with 10 significant digits, keeping the rows still non-dominated after rounding."""
    F = nondominated(np.char.mod("%.10g", F).astype(np.float64))
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / f"{name}.csv"
    header = (f"reference front of {name}: {len(F)} points, made by benchmarks/make_reference_fronts.py\n"
              f"{how}\ngenerated {datetime.date.today().isoformat()} with torch {torch.__version__}")
    np.savetxt(path, F, delimiter=",", fmt="%.10g", header=header)
    return path


def make_re_front(name: str, plan: Plan) -> np.ndarray:
    problem = moo.get_problem(name)
    parts = [_run_pymoo(problem, plan, seed) for seed in plan.seeds]
    parts.append(_random_front(problem, plan.n_random, seed=12345))
    front = nondominated(np.concatenate(parts))
    ideal, nadir = problem.ideal.numpy(), problem.nadir.numpy()
    thinned = thin(front, plan.cap, ideal, nadir)
    how = (f"pymoo {plan.algorithm} pop {plan.pop_size} x {plan.n_gen} generations, seeds {list(plan.seeds)}, "
           f"non-dominated archive per run, plus {plan.n_random} uniform random points (seed 12345); "
           f"union filtered ({len(front)} non-dominated) and thinned by farthest-point sampling "
           f"in ideal/nadir-normalized space (clipped at 1.1) to at most {plan.cap}")
    _write(name, thinned, how)
    return thinned


def make_grid_front(name: str, per_axis: int, cap: int) -> np.ndarray:
    problem = moo.get_problem(name)
    axes = [torch.linspace(float(lo), float(hi), per_axis, dtype=torch.float64) for lo, hi in zip(problem.xl, problem.xu)]
    X = torch.cartesian_prod(*axes).reshape(-1, problem.n_var)
    front = nondominated(problem.evaluate(X).numpy())
    thinned = thin(front, cap, front.min(0), front.max(0))
    how = (f"non-dominated points ({len(front)}) of a {per_axis}^{problem.n_var} grid over the box, thinned by "
           f"farthest-point sampling in min/max-normalized space to at most {cap}")
    _write(name, thinned, how)
    return thinned


def hv_comparison(name: str, F: np.ndarray) -> dict | None:
    """Our and the suite's normalized hypervolume, where ``../shared/reference/re`` is present."""
    path = SHARED_RE / f"reference_points_{name.upper()}.dat"
    if not path.exists():
        return None
    problem = moo.get_problem(name)
    ideal, nadir = problem.ideal.numpy(), problem.nadir.numpy()
    ours, theirs = normalized_hv(F, ideal, nadir), normalized_hv(np.loadtxt(path, ndmin=2), ideal, nadir)
    return {"problem": name, "points": len(F), "hv_ours": ours, "hv_published": theirs, "ratio": ours / theirs}


def compare_with_published(name: str, F: np.ndarray) -> str:
    row = hv_comparison(name, F)
    return "" if row is None else f"HV ours {row['hv_ours']:.6f} published {row['hv_published']:.6f} ratio {row['ratio']:.5f}"


def write_report(names: list[str]) -> None:
    """Compare every shipped RE front with the suite's and write ``results/reference_fronts.{md,json}``."""
    rows = [row for name in names if name in PLANS
            for row in [hv_comparison(name, moo.get_problem(name).pareto_front().numpy())] if row is not None]
    if not rows:
        raise SystemExit(f"{SHARED_RE} is not present: nothing to compare with")
    out = RESULTS_DIR / "reference_fronts"
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    lines = ["# Shipped RE reference fronts vs the suite's published fronts", "",
             "Hypervolume with objectives normalized by each problem's ideal/nadir (`moo.get_problem(name).ideal/nadir`), "
             "reference point 1.1; exact up to 4 objectives, moocore Rphi-FWE+ (2^16 samples) for RE61/RE91. "
             "RE91 is stochastic: its numbers compare two different noise realizations and are not a check.", "",
             "| problem | points | HV ours | HV published | ratio |", "|---|---|---|---|---|"]
    lines += [f"| {r['problem']} | {r['points']} | {r['hv_ours']:.6f} | {r['hv_published']:.6f} | {r['ratio']:.5f} |"
              for r in rows]
    lines += ["", "Made by `python -m moo.benchmarks.make_reference_fronts --report`."]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="problems to (re)compute; default: all")
    parser.add_argument("--report", action="store_true",
                        help="compute nothing; compare the shipped RE fronts with the suite's and write "
                             "results/reference_fronts.{md,json}")
    args = parser.parse_args(argv)
    names = args.names or [*GRID_PLANS, *PLANS]
    if args.report:
        write_report(names)
        return
    torch.set_num_threads(1)
    for name in names:
        start = time.perf_counter()
        if name in GRID_PLANS:
            F = make_grid_front(name, *GRID_PLANS[name])
        elif name in PLANS:
            F = make_re_front(name, PLANS[name])
        else:
            raise SystemExit(f"no plan for {name!r}; known: {', '.join([*GRID_PLANS, *PLANS])}")
        print(f"{name}: {len(F)} points in {time.perf_counter() - start:.0f}s {compare_with_published(name, F)}",
              flush=True)


if __name__ == "__main__":
    main()
