"""Reference fronts for problems without an analytic one, and a cross-check of the shipped ones.

Protocol ``reference-fronts``. A cell (one problem; its ``[[algorithms]]`` entry is the
pseudo-algorithm ``front-recipe``, its seed unused) computes the problem's front by this recipe
and stores it as the run's ``F`` (``X`` is not kept):

* runs (``grid = 0``): ``run_seeds`` seeded pymoo runs, NSGA-II (``algorithm = "nsga2"``,
  ``pop_size``) for 2-3 objectives or NSGA-III (``"nsga3"``, Das-Dennis directions with
  ``partitions``, population ``max(pop_size, directions)``) for 4+, ``n_gen`` generations each,
  each keeping an archive of every population's non-dominated points, merged with ``n_random``
  uniform random points of the box (seed ``random_seed``); the union is filtered to its
  non-dominated points and thinned to at most ``cap`` points by farthest-point sampling in
  objective space normalized by the problem's ideal/nadir and clipped at 1.1 (the extremes of each
  objective are kept first);
* a grid (``grid = k > 0``, two-variable problems such as VLMOP3): the non-dominated points of a
  ``k^n_var`` grid over the box, thinned likewise in min/max-normalized space.

The front is rounded to 10 significant digits (the shipped CSV format) and filtered again.
``plans`` overrides any of these options per problem label. ``compute = false`` computes nothing
and only scores the shipped front (the cross-check).

Figures: ``hv_computed`` / ``hv_shipped`` / ``hv_published``, the hypervolume of the computed
front, of the shipped one (``problem.pareto_front()``, ``problems/data/``) and of the suite's
published one (``../shared/reference/re/reference_points_NAME.dat``, ``None`` when that folder
or file is absent), each with objectives normalized by the problem's ideal/nadir, reference point
1.1: exact (moocore) up to 4 objectives, moocore's deterministic Rphi-FWE+ approximation (2^16
samples) beyond; ``ratio_shipped`` and ``ratio_computed`` (over the published one);
``n_points`` (computed front) and ``n_union`` (non-dominated points before thinning).

The report adds the table and writes each computed front as ``fronts/NAME.csv`` into the report
folder, in the format of ``problems/data/NAME.csv`` (a maintainer copies it there; nothing here
writes ``problems/data/``).
"""
from __future__ import annotations

import dataclasses
import datetime
import time
from pathlib import Path

import numpy as np
import torch

from moo.errors import MooError, MooValueError
from moo.protocol import Protocol, cell_record

SHARED_RE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "re"
RECIPE = "front-recipe"
_PLAN_KEYS = ("algorithm", "pop_size", "n_gen", "run_seeds", "n_random", "random_seed", "cap", "partitions", "grid")


def nondominated(F: np.ndarray) -> np.ndarray:
    """Rows of ``F`` (minimization) that no other row dominates, duplicates dropped."""
    from moo.pareto import non_dominated_mask

    F = np.unique(np.asarray(F, dtype=np.float64), axis=0)
    return F[non_dominated_mask(torch.from_numpy(F)).numpy()] if len(F) else F


def thin(F: np.ndarray, cap: int, ideal: np.ndarray, nadir: np.ndarray) -> np.ndarray:
    """At most ``cap`` rows of ``F`` by farthest-point sampling in ideal/nadir-normalized space
    (clipped at 1.1, so far tails collapse onto the reference box's faces), starting from the best
    row of each objective; rows keep their order."""
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
    """Hypervolume of ``F`` normalized by ideal/nadir at reference point 1.1: exact up to four
    objectives, moocore's deterministic Rphi-FWE+ approximation (2^16 samples) beyond."""
    import moocore

    Z = (np.asarray(F, dtype=float) - ideal) / (nadir - ideal)
    ref = np.full(Z.shape[1], 1.1)
    if Z.shape[1] <= 4:
        return float(moocore.hypervolume(Z, ref=ref))
    return float(moocore.hv_approx(Z, ref=ref, nsamples=2 ** 16, method="Rphi-FWE+"))


def round_front(F: np.ndarray) -> np.ndarray:
    """``F`` at 10 significant digits (the CSV format), its rows still non-dominated after rounding."""
    return nondominated(np.char.mod("%.10g", np.asarray(F, dtype=float)).astype(np.float64))


def csv_text(name: str, F: np.ndarray, how: str, generated: str, torch_version: str) -> str:
    """``F`` as ``problems/data/NAME.csv`` holds it: three ``#`` header lines, then ``%.10g`` rows."""
    import io

    header = (f"reference front of {name}: {len(F)} points, made by `moo bench --suite reference-fronts` "
              f"(moo.benchmarks.protocols.reference_fronts)\n{how}\ngenerated {generated} with torch {torch_version}")
    buf = io.StringIO()
    np.savetxt(buf, F, delimiter=",", fmt="%.10g", header=header)
    return buf.getvalue()


class _Archive:
    """A pymoo callback keeping the non-dominated objective vectors of every population."""

    def __init__(self, every: int = 10):
        self.every, self.parts, self.calls = every, [], 0

    def __call__(self, algorithm):
        self.parts.append(algorithm.pop.get("F").copy())
        self.calls += 1
        if self.calls % self.every == 0:
            self.parts = [nondominated(np.concatenate(self.parts))]

    def front(self) -> np.ndarray:
        return nondominated(np.concatenate(self.parts))


def pymoo_front(problem, plan: dict, seed: int) -> np.ndarray:
    """The non-dominated archive of one seeded pymoo NSGA-II / NSGA-III run."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.algorithms.moo.nsga3 import NSGA3
    from pymoo.optimize import minimize

    from moo.adapters import to_pymoo
    from moo.preferences import das_dennis

    if plan["algorithm"] == "nsga3":
        dirs = das_dennis(plan["partitions"], problem.n_obj).numpy()
        algorithm = NSGA3(ref_dirs=dirs, pop_size=max(plan["pop_size"], len(dirs)))
    else:
        algorithm = NSGA2(pop_size=plan["pop_size"])
    archive = _Archive()
    minimize(to_pymoo(problem), algorithm, ("n_gen", plan["n_gen"]), seed=seed, callback=archive, verbose=False)
    return archive.front()


def random_front(problem, n: int, seed: int, chunk: int = 50_000) -> np.ndarray:
    """The non-dominated points of ``n`` uniform random points of the box."""
    gen = torch.Generator().manual_seed(seed)
    kept = [np.zeros((0, problem.n_obj))]
    for start in range(0, n, chunk):
        u = torch.rand(min(chunk, n - start), problem.n_var, generator=gen, dtype=torch.float64)
        kept.append(nondominated(problem.evaluate(problem.xl + (problem.xu - problem.xl) * u).numpy()))
    return nondominated(np.concatenate(kept))


def compute_front(problem, plan: dict) -> tuple[np.ndarray, int, str]:
    """The thinned, rounded front of ``problem`` by ``plan``; the union's size; how it was made."""
    if plan["grid"]:
        k = plan["grid"]
        axes = [torch.linspace(float(lo), float(hi), k, dtype=torch.float64) for lo, hi in zip(problem.xl, problem.xu)]
        X = torch.cartesian_prod(*axes).reshape(-1, problem.n_var)
        front = nondominated(problem.evaluate(X).numpy())
        thinned = thin(front, plan["cap"], front.min(0), front.max(0))
        how = (f"non-dominated points ({len(front)}) of a {k}^{problem.n_var} grid over the box, thinned by "
               f"farthest-point sampling in min/max-normalized space to at most {plan['cap']}")
        return round_front(thinned), len(front), how
    parts = [pymoo_front(problem, plan, seed) for seed in plan["run_seeds"]]
    parts.append(random_front(problem, plan["n_random"], seed=plan["random_seed"]))
    front = nondominated(np.concatenate(parts))
    thinned = thin(front, plan["cap"], problem.ideal.numpy(), problem.nadir.numpy())
    how = (f"pymoo {plan['algorithm']} pop {plan['pop_size']} x {plan['n_gen']} generations, seeds "
           f"{list(plan['run_seeds'])}, non-dominated archive per run, plus {plan['n_random']} uniform random points "
           f"(seed {plan['random_seed']}); union filtered ({len(front)} non-dominated) and thinned by farthest-point "
           f"sampling in ideal/nadir-normalized space (clipped at 1.1) to at most {plan['cap']}")
    return round_front(thinned), len(front), how


def published_front(name: str) -> np.ndarray | None:
    """The suite's published front of ``name`` from ``../shared/reference/re``, or ``None``."""
    path = SHARED_RE / f"reference_points_{name.upper()}.dat"
    return np.loadtxt(path, ndmin=2) if path.is_file() else None


class ReferenceFronts(Protocol):
    """Compute a problem's reference front by the recipe above; score it, the shipped one and
    the published one by normalized hypervolume."""

    name = "reference-fronts"
    indicator_names = ("hv_computed", "hv_shipped", "hv_published", "ratio_shipped", "ratio_computed",
                       "n_points", "n_union")
    higher_is_better = frozenset({"hv_computed", "hv_shipped", "hv_published", "ratio_shipped", "ratio_computed"})
    indicator_titles = {"hv_computed": "HV of the computed front (normalized, ref. point 1.1)",
                        "hv_shipped": "HV of the shipped front (problems/data)",
                        "hv_published": "HV of the suite's published front (../shared)",
                        "ratio_shipped": "HV shipped / HV published", "ratio_computed": "HV computed / HV published",
                        "n_points": "points of the computed front", "n_union": "non-dominated points before thinning"}

    @dataclasses.dataclass
    class Options:
        #: false: compute nothing, score the shipped front only (the cross-check)
        compute: bool = True
        algorithm: str = "nsga2"
        pop_size: int = 200
        n_gen: int = 400
        run_seeds: tuple = (0, 1, 2)
        n_random: int = 100_000
        random_seed: int = 12345
        cap: int = 1000
        #: Das-Dennis partitions of NSGA-III's directions
        partitions: int = 12
        #: > 0: a grid of this many points per axis instead of runs
        grid: int = 0
        #: per problem label, overrides of the options above
        plans: dict = dataclasses.field(default_factory=dict)

        def __post_init__(self):
            for label, plan in self.plans.items():
                if not isinstance(plan, dict) or set(plan) - set(_PLAN_KEYS):
                    raise MooValueError(f"protocol 'reference-fronts': plans[{label!r}] must be a table of some of "
                                        f"{list(_PLAN_KEYS)}, got {plan!r}")
            for label, plan in {"": {}, **self.plans}.items():
                p = {**{k: getattr(self, k) for k in _PLAN_KEYS}, **plan}
                where = f"protocol 'reference-fronts'{f' plans[{label!r}]' if label else ''}"
                if p["algorithm"] not in ("nsga2", "nsga3"):
                    raise MooValueError(f"{where}: algorithm must be 'nsga2' or 'nsga3', got {p['algorithm']!r}")
                for key in ("pop_size", "n_gen", "cap", "partitions"):
                    if isinstance(p[key], bool) or not isinstance(p[key], int) or p[key] < 1:
                        raise MooValueError(f"{where}: {key} must be a positive integer, got {p[key]!r}")
                for key in ("n_random", "random_seed", "grid"):
                    if isinstance(p[key], bool) or not isinstance(p[key], int) or p[key] < 0:
                        raise MooValueError(f"{where}: {key} must be a non-negative integer, got {p[key]!r}")
                if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in p["run_seeds"]):
                    raise MooValueError(f"{where}: run_seeds must be non-negative integers, got {p['run_seeds']!r}")

    def plan(self, label: str) -> dict:
        """The recipe's options for the problem labelled ``label``."""
        return {**{k: getattr(self.options, k) for k in _PLAN_KEYS}, **self.options.plans.get(label, {})}

    def check_algorithm(self, name: str, config: dict) -> dict:
        if name != RECIPE or config:
            raise MooValueError(f"protocol 'reference-fronts' runs its own recipe: its one algorithm entry is "
                                f"name = {RECIPE!r} without a config (options go in [protocol]), got {name!r} {config}")
        return {}

    def run_cell(self, cell: dict) -> dict:
        from moo.registry import get_problem

        started = time.perf_counter()
        spec = cell["problem_spec"]
        problem = get_problem(spec["name"], normalize=spec["normalize"], **spec["options"])
        ideal, nadir = problem.ideal.numpy(), problem.nadir.numpy()
        figures, meta, F = {}, {"generated": datetime.date.today().isoformat(), "torch": torch.__version__}, None
        if self.options.compute:
            plan = self.plan(cell["problem"])
            F, n_union, how = compute_front(problem, plan)
            figures.update(hv_computed=normalized_hv(F, ideal, nadir), n_points=len(F), n_union=n_union)
            meta.update(how=how, plan={k: list(v) if isinstance(v, tuple) else v for k, v in plan.items()})
        try:
            shipped = problem.pareto_front().numpy()
        except MooError:  # no shipped front yet
            shipped = None
        figures["hv_shipped"] = None if shipped is None else normalized_hv(shipped, ideal, nadir)
        meta["shipped_points"] = None if shipped is None else len(shipped)
        published = published_front(spec["name"])
        figures["hv_published"] = None if published is None else normalized_hv(published, ideal, nadir)
        for key, num in (("ratio_shipped", "hv_shipped"), ("ratio_computed", "hv_computed")):
            ok = figures.get(num) is not None and figures["hv_published"]
            figures[key] = figures[num] / figures["hv_published"] if ok else None
        F = np.zeros((0, problem.n_obj)) if F is None else F
        return cell_record(cell, indicators=figures, wall_time=time.perf_counter() - started,
                           X=np.zeros((len(F), 0)), F=F, meta=meta,
                           conventions={"hv": "objectives normalized by the problem's ideal/nadir, reference point "
                                              "1.1; moocore exact up to 4 objectives, Rphi-FWE+ 2^16 beyond"})

    def report(self, runs: list, out: Path) -> list[str]:
        fmt = lambda v, d=6: "—" if v is None else f"{v:.{d}f}"  # noqa: E731
        lines = ["## Reference fronts: computed, shipped and published", "",
                 "Hypervolume with objectives normalized by each problem's ideal/nadir, reference point 1.1; exact up "
                 "to 4 objectives, moocore Rphi-FWE+ (2^16 samples) beyond. Published: the suite's fronts in "
                 "`../shared/reference/re` (— where absent). RE91 is stochastic: its published front reflects other "
                 "noise draws, so its ratio is not a check.", "",
                 "| problem | points computed | HV computed | points shipped | HV shipped | HV published | "
                 "shipped / published | computed / published | wall s |", "|---|---|---|---|---|---|---|---|---|"]
        written = []
        for r in sorted(runs, key=lambda r: r.problem):
            i = r.indicators
            n = "—" if i.get("n_points") is None else str(int(i["n_points"]))
            lines.append(f"| {r.problem} | {n} | {fmt(i.get('hv_computed'))} | {r.meta.get('shipped_points', '—')} | "
                         f"{fmt(i.get('hv_shipped'))} | {fmt(i.get('hv_published'))} | "
                         f"{fmt(i.get('ratio_shipped'), 5)} | {fmt(i.get('ratio_computed'), 5)} | {r.wall_time:.0f} |")
            if r.F.size and "how" in r.meta:
                folder = out / "fronts"
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / f"{r.problem_spec['name']}.csv"
                path.write_text(csv_text(r.problem_spec["name"], r.F, r.meta["how"], r.meta.get("generated", "?"),
                                         r.meta.get("torch", "?")))
                written.append(path.name)
        if written:
            lines += ["", f"Computed fronts, in the format of `problems/data/`: {', '.join(f'`fronts/{w}`' for w in written)}; "
                      "copy one to `problems/data/` to ship it."]
        return lines + [""]
