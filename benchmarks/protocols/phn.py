"""PHN against separately trained target networks (suites ``phn``, ``phn-one-model-budget``,
``phn-ntrain2000``).

Navon et al., "Learning the Pareto Front with Hypernetworks", ICLR 2021, on the two-task
``multitask-digits`` problem. A cell is one (method, learning rate, L2, seed); the grid is the
suite's ``[[algorithms]]`` entries, and the report selects on validation:

* ``phn`` (PHN-LS / PHN-EPO, :class:`moo.algorithms.phn.PHN`, config as given, ``lr`` and
  ``target_l2`` the grid point): ``budget`` optimizer steps (one ray per step from
  Dirichlet(0.2), the paper's). Every ``eval_every`` steps its validation losses at the five
  rays (1, 0), (0.75, 0.25), (0.5, 0.5), (0.25, 0.75), (0, 1) are scored by their hypervolume
  (reference ``ln 10`` per task, the problem's); the best check is kept, and its test losses at
  ``sweep`` evenly spaced rays (``4k + 1``, so the five rays are among them) are the cell's front.
* ``target-networks`` (the baseline; config ``lr``, ``l2``, ``steps``): five target networks
  trained alone on ``ray · losses + l2 |w|^2`` (full batch, Adam, ``problem.initial_weights``
  from the seed), each kept at its check with the best validation ``ray · losses``.
* ``phn-one-ray`` (the control; PHN's config): PHN-LS's hypernetwork trained at the middle ray
  only (Dirichlet alpha 1e6), kept by its validation loss at (0.5, 0.5).

Final figures: ``val_hv`` / ``test_hv`` (hypervolume of the five rays' validation / test
losses), ``val_ray0`` .. ``val_ray4`` (validation ``ray · losses`` at the five rays: the
baselines' selection criterion), ``selected_step`` (PHN). L2 is not in the paper (0 there); the
suites give every method the same L2 grid.

Report: per method, the grid point with the best mean validation figure (PHN: ``val_hv``; each
baseline ray: its ``val_ray``; the control: ``val_ray2``), then the test table at the five rays.
Two means over seeds are compared task by task: ``dominates`` when PHN's mean loss is at most
the baseline's in both tasks; ``matches`` when in each task it exceeds the baseline's by at most
twice the standard error of the difference, ``2 sqrt(s_phn^2 / n_phn + s_base^2 / n_base)``
(sample standard deviations); ``worse`` otherwise. *Same ray*: PHN at the baseline's ray;
*front*: the best verdict of any sweep ray (the paper's reading: its figures set the baselines
against PHN's swept front). Target: dominates or matches at 3 or more of the 5 rays.
"""
from __future__ import annotations

import dataclasses
import math
import statistics
import time
from pathlib import Path

import numpy as np

from moo.errors import MooValueError
from moo.protocol import Protocol, cell_record

RAYS = ((1.0, 0.0), (0.75, 0.25), (0.5, 0.5), (0.25, 0.75), (0.0, 1.0))
MID = 2
_RANK = {"dominates": 0, "matches": 1, "worse": 2}


@dataclasses.dataclass
class TargetNetworks:
    """The baseline: one target network per ray, ``steps`` full-batch Adam steps at ``lr`` with
    ``l2 |w|^2`` added to the loss."""

    lr: float = 1e-3
    l2: float = 0.0
    steps: int = 1000


def sweep_rays(n: int):
    """``n`` evenly spaced rays ``(1 - t, t)``, ``[n, 2]``; ``n = 4k + 1`` holds the five rays."""
    import torch

    if n < 5 or (n - 1) % 4:
        raise MooValueError(f"the sweep needs 4k + 1 rays (k >= 1) to contain the five rays, got {n}")
    t = torch.linspace(0.0, 1.0, n, dtype=torch.float64)
    return torch.stack([1 - t, t], -1)


def ray_positions(n_sweep: int) -> list[int]:
    """Where the five rays sit in a sweep of ``n_sweep`` rays."""
    return [round(r[1] * (n_sweep - 1)) for r in RAYS]


def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    values = list(values)
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def verdict(phn, base) -> str:
    """``phn``, ``base``: per-seed losses ``[n][2]`` at one ray; see the module docstring."""
    out = "dominates"
    for task in range(len(phn[0])):
        mp, sp = mean_std(row[task] for row in phn)
        mb, sb = mean_std(row[task] for row in base)
        if mp > mb:
            if mp - mb > 2 * math.sqrt(sp ** 2 / len(phn) + sb ** 2 / len(base)):
                return "worse"
            out = "matches"
    return out


def front_verdict(sweep, base) -> tuple[str, int]:
    """Best :func:`verdict` of any sweep ray (``sweep``: ``[n_rays][n_seeds][2]``) and its ray index."""
    return min(((verdict(p, base), k) for k, p in enumerate(sweep)), key=lambda vk: _RANK[vk[0]])


_PROBLEMS: dict = {}


def _problem(options: dict):
    import json

    from moo.registry import get_problem

    key = json.dumps(options, sort_keys=True)
    if key not in _PROBLEMS:
        _PROBLEMS[key] = get_problem("multitask-digits", **options)
    return _PROBLEMS[key]


def train_baseline(problem, ray, steps: int, seed: int, eval_every: int, lr: float, l2: float):
    """One target network on ``ray · losses + l2 |w|^2``; the weights of the check with the best
    validation ``ray · losses``, and that value."""
    import torch

    w = problem.initial_weights(torch.Generator().manual_seed(seed)).requires_grad_(True)
    opt = torch.optim.Adam([w], lr=lr)
    r = torch.tensor(ray, dtype=torch.float64)
    best, best_w = float("inf"), w.detach().clone()
    for step in range(1, steps + 1):
        opt.zero_grad()
        ((r * problem.losses(w.unsqueeze(0))[0]).sum() + l2 * (w ** 2).sum()).backward()
        opt.step()
        if step % eval_every == 0:
            with torch.no_grad():
                val = float((r * problem.losses(w.unsqueeze(0), "val")[0]).sum())
            if val < best:
                best, best_w = val, w.detach().clone()
    return best_w, best


def train_phn(problem, config: dict, rays, steps: int, seed: int, eval_every: int, score):
    """PHN for ``steps`` optimizer steps; its solutions at ``rays`` at the check with the best
    ``score(val_losses at rays)`` (larger is better), that score and its step."""
    import torch

    from moo.registry import get_algorithm

    alg = get_algorithm("phn", **config)
    alg.setup(problem, seed=seed, device="cpu")  # no budget: the loop counts optimizer steps
    best, best_X, best_step = -math.inf, None, 0
    while alg.n_steps < steps:
        alg.step()
        if alg.n_steps % eval_every == 0:
            X = alg.pareto_set(rays)
            with torch.no_grad():
                value = score(problem.losses(X, "val"))
            if value > best:
                best, best_X, best_step = value, X, alg.n_steps
    return best_X, best, best_step


def method_of(algorithm_spec: dict) -> str:
    """``phn-ls``, ``phn-epo``, ``baseline`` or ``control``."""
    name = algorithm_spec["name"]
    if name == "phn":
        return f"phn-{algorithm_spec['config']['solver']}"
    return {"target-networks": "baseline", "phn-one-ray": "control"}[name]


class PHNProtocol(Protocol):
    """PHN vs. per-preference target networks with validation selection; see the module docstring."""

    name = "phn"
    indicator_names = ("val_hv", "test_hv", "selected_step") + tuple(f"val_ray{i}" for i in range(len(RAYS)))
    higher_is_better = frozenset({"val_hv", "test_hv"})
    indicator_titles = {"val_hv": "validation HV at the five rays (PHN's selection figure)",
                        "test_hv": "test HV at the five rays",
                        "selected_step": "best-validation step",
                        **{f"val_ray{i}": f"validation ray · losses at {r} (baseline selection figure)"
                           for i, r in enumerate(RAYS)}}

    @dataclasses.dataclass
    class Options:
        eval_every: int = 50  # validation checks, in optimizer steps
        sweep: int = 21  # PHN's test rays (4k + 1)

        def __post_init__(self):
            sweep_rays(self.sweep)

    def check_problem(self, name: str, options: dict, normalize: bool):
        if name != "multitask-digits" or normalize:
            raise MooValueError(f"protocol 'phn' runs multitask-digits (normalize = false), got {name!r}")
        return _problem(options)

    def check_algorithm(self, name: str, config: dict) -> dict:
        from moo.algorithm import validate_config
        from moo.registry import get_algorithm

        if name == "target-networks":
            cfg = TargetNetworks(**config)
            validate_config(cfg, owner=name)
            return dataclasses.asdict(cfg)
        if name == "phn":
            return get_algorithm("phn", **config).config_dict()
        if name == "phn-one-ray":
            return get_algorithm("phn", **{**config, "dirichlet_alpha": 1e6}).config_dict()
        raise MooValueError(f"protocol 'phn' runs 'phn', 'target-networks' and 'phn-one-ray', got {name!r}")

    # ------------------------------------------------------------------ one cell
    def run_cell(self, cell: dict) -> dict:
        import torch

        from moo.indicators import hypervolume

        problem = _problem(cell["problem_spec"]["options"])
        spec, seed, every = cell["algorithm_spec"], cell["seed"], self.options.eval_every
        rays5 = torch.tensor(RAYS, dtype=torch.float64)
        t0 = time.perf_counter()
        figures: dict = {}
        if spec["name"] == "target-networks":
            c = TargetNetworks(**spec["config"])
            pairs = [train_baseline(problem, r, c.steps, seed, every, c.lr, c.l2) for r in RAYS]
            X, rays = torch.stack([w for w, _ in pairs]), rays5
            figures.update({f"val_ray{i}": v for i, (_, v) in enumerate(pairs)})
            n_evals = c.steps * len(RAYS)
        elif spec["name"] == "phn-one-ray":
            rays = rays5[MID:MID + 1]
            X, value, step = train_phn(problem, spec["config"], rays, cell["budget"], seed, every,
                                       lambda F: -float(F[0].sum()))
            figures.update(val_ray2=-value, selected_step=step)
            n_evals = cell["budget"]
        else:
            at = ray_positions(self.options.sweep)
            rays = sweep_rays(self.options.sweep)
            X, value, step = train_phn(problem, spec["config"], rays, cell["budget"], seed, every,
                                       lambda F: float(hypervolume(F[at], problem.ref_point)))
            figures.update(val_hv=value, selected_step=step)
            n_evals = cell["budget"]
        wall = time.perf_counter() - t0
        with torch.no_grad():
            val, test = problem.losses(X, "val").double(), problem.losses(X, "test").double()
            accuracy = problem.accuracy(X, "test")
        if rays.shape[0] > 1:
            at = ray_positions(rays.shape[0])
            figures["val_hv"] = float(hypervolume(val[at], problem.ref_point))
            figures["test_hv"] = float(hypervolume(test[at], problem.ref_point))
            if spec["name"] == "phn":
                figures.update({f"val_ray{i}": float((rays5[i] * val[k]).sum()) for i, k in enumerate(at)})
        meta = {"method": method_of(spec), "rays": rays.tolist(), "val_losses": val.tolist(),
                "test_accuracy": torch.as_tensor(accuracy).tolist()}
        return cell_record(cell, indicators=figures, n_evals=n_evals, wall_time=wall,
                           X=np.zeros((test.shape[0], 0)), F=test.numpy(), meta=meta)

    # ------------------------------------------------------------------ the report
    def report(self, runs: list, out: Path) -> list[str]:
        lines = []
        for problem in sorted({r.problem for r in runs}):
            lines += self._report_problem(problem, [r for r in runs if r.problem == problem], out)
        return lines

    def _report_problem(self, problem: str, runs: list, out: Path) -> list[str]:
        import torch

        from moo.indicators import hypervolume

        ref = torch.full((2,), math.log(10.0), dtype=torch.float64)
        cells: dict = {}  # method -> grid label -> seed -> run
        for r in runs:
            cells.setdefault(method_of(r.algorithm_spec), {}).setdefault(r.algorithm, {})[r.seed] = r

        def mean_of(group: dict, key: str) -> float:
            vals = [g.indicators.get(key) for g in group.values()]
            vals = [v for v in vals if v is not None]
            return statistics.fmean(vals) if vals else math.nan

        lines = [f"## PHN vs. target networks on {problem}: selection on validation, comparison on test", ""]
        lines += ["Stored cells per grid point (seeds): " + "; ".join(
            f"{label}: {len(per)}" for m in cells.values() for label, per in m.items()), ""]
        if "baseline" not in cells or not any(m.startswith("phn-") for m in cells):
            return lines + ["(The selection needs stored baseline and PHN cells.)", ""]
        base_grid = cells["baseline"]
        base_sel = [min(base_grid, key=lambda lab: (math.inf if math.isnan(v := mean_of(base_grid[lab], f"val_ray{i}"))
                                                    else v)) for i in range(len(RAYS))]
        base = [[base_grid[base_sel[i]][s].F[i].tolist() for s in sorted(base_grid[base_sel[i]])]
                for i in range(len(RAYS))]
        common = sorted(set.intersection(*(set(base_grid[lab]) for lab in base_sel)))
        base_hv = mean_std(float(hypervolume(torch.tensor([base_grid[base_sel[i]][s].F[i] for i in range(len(RAYS))]),
                                             ref)) for s in common)
        methods = {}
        for m in sorted(k for k in cells if k.startswith("phn-")):
            grid = cells[m]
            label = max(grid, key=lambda lab: mean_of(grid[lab], "val_hv"))
            per = grid[label]
            n_sweep = next(iter(per.values())).F.shape[0]
            sweep = [[per[s].F[k].tolist() for s in sorted(per)] for k in range(n_sweep)]
            at = ray_positions(n_sweep)
            methods[m] = {"label": label, "runs": per, "sweep": sweep, "test": [sweep[k] for k in at],
                          "rays": sweep_rays(n_sweep).tolist()}

        def fmt(rows, task):
            return "{:.3f} ± {:.3f}".format(*mean_std(r[task] for r in rows))

        header, sep = "| ray | baseline left | baseline right |", "|---|---|---|"
        for m in methods:
            header += f" {m.upper()} left | {m.upper()} right | same ray | front (its ray) |"
            sep += "---|---|---|---|"
        table = [header, sep]
        for i, ray in enumerate(RAYS):
            row = f"| {ray} | {fmt(base[i], 0)} | {fmt(base[i], 1)} |"
            for m, d in methods.items():
                v = verdict(d["test"][i], base[i])
                fv, k = front_verdict(d["sweep"], base[i])
                d.setdefault("verdicts", []).append(v)
                d.setdefault("front", []).append(fv)
                row += (f" {fmt(d['test'][i], 0)} | {fmt(d['test'][i], 1)} | {v} | "
                        f"{fv} ({d['rays'][k][0]:g}, {d['rays'][k][1]:g}) |")
            table.append(row)
        n_seeds = sorted({len(per) for per in [*(base_grid[lab] for lab in base_sel),
                                                 *(d["runs"] for d in methods.values())]})
        lines += [f"### Test losses at the five rays (mean ± std over {'/'.join(map(str, n_seeds))} seeds)", ""]
        lines += table + ["", "### Summary", "",
                          "| method | grid point (selected on validation) | test HV at the 5 rays | same ray: dominated "
                          "/ matched | front: dominated / matched | best-validation step per seed |",
                          "|---|---|---|---|---|---|",
                          f"| baseline (5 models) | {'; '.join(base_sel)} (per ray) | {base_hv[0]:.4f} ± "
                          f"{base_hv[1]:.4f} | – | – | – |"]
        for m, d in methods.items():
            hv = mean_std(d["runs"][s].indicators["test_hv"] for s in sorted(d["runs"]))
            steps = [int(d["runs"][s].indicators["selected_step"]) for s in sorted(d["runs"])]
            lines.append(f"| {m.upper()} | {d['label']} | {hv[0]:.4f} ± {hv[1]:.4f} | "
                         f"{d['verdicts'].count('dominates')} / {d['verdicts'].count('matches')} of 5 | "
                         f"{d['front'].count('dominates')} / {d['front'].count('matches')} of 5 | {steps} |")
            d["target_met"] = sum(v != "worse" for v in d["front"]) >= 3
        lines += ["", "Target (dominates or matches at ≥ 3 of 5 rays, front reading): " + ", ".join(
            f"{m.upper()} {'met' if d['target_met'] else 'MISSED'}" for m, d in methods.items()), ""]
        if "control" in cells:
            grid = cells["control"]
            label = min(grid, key=lambda lab: mean_of(grid[lab], "val_ray2"))
            control = [grid[label][s].F[0].tolist() for s in sorted(grid[label])]
            lines += [f"### Control: PHN-LS's hypernetwork trained at the one ray (0.5, 0.5) ({label}, "
                      "Dirichlet alpha 1e6, selected on the validation loss at that ray)", "",
                      "| model at (0.5, 0.5) | left | right |", "|---|---|---|",
                      f"| baseline | {fmt(base[MID], 0)} | {fmt(base[MID], 1)} |"]
            if "phn-ls" in methods:
                lines.append(f"| PHN-LS (all rays) | {fmt(methods['phn-ls']['test'][MID], 0)} | "
                             f"{fmt(methods['phn-ls']['test'][MID], 1)} |")
            lines += [f"| hypernetwork, this ray only | {fmt(control, 0)} | {fmt(control, 1)} |", ""]
        name = "phn.png" if len({r.problem for r in runs}) == 1 else f"phn_{problem}.png"
        figure(base, {m: d["sweep"] for m, d in methods.items()}, out / name)
        return lines + [f"![PHN fronts against the baselines]({name})", ""]


def figure(base: list, sweeps: dict, path: Path) -> None:
    """Mean test losses: each PHN's sweep as a line, the interior baselines as points with their
    standard deviations, the single-task baselines as the lines of their one loss."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    def mean(rows):
        return [statistics.fmean(r[t] for r in rows) for t in range(2)]

    fig, ax = plt.subplots(figsize=(5.5, 5))
    for name, sweep in sweeps.items():
        pts = [mean(rows) for rows in sweep]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], ".-", label=f"{name.upper()} front (mean)")
    interior = [mean(rows) + [mean_std(r[t] for r in rows)[1] for t in range(2)] for rows in base[1:-1]]
    ax.errorbar([p[0] for p in interior], [p[1] for p in interior], xerr=[p[2] for p in interior],
                yerr=[p[3] for p in interior], fmt="ks", label="baselines (mean ± std)")
    ax.axvline(mean(base[0])[0], color="k", ls="--", lw=0.8, label="single-task baselines")
    ax.axhline(mean(base[-1])[1], color="k", ls="--", lw=0.8)
    shown = [v for sweep in sweeps.values() for rows in sweep for v in mean(rows)]
    shown += [v for p in interior for v in p[:2]] + [mean(base[0])[0], mean(base[-1])[1]]
    lim = (0.9 * min(shown), 1.6 * max(v for p in interior for v in p[:2]))
    ax.set(xlabel="test loss, left digit", ylabel="test loss, right digit", xlim=lim, ylim=lim)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
