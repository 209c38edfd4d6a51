"""PHN on the two-task digits problem: one hypernetwork (PHN-LS, PHN-EPO) against target networks
trained separately for each preference (linear scalarization; the end rays are the single-task
models), over several seeds.

Navon et al., "Learning the Pareto Front with Hypernetworks", ICLR 2021. Protocol:

* **Data.** ``--n-train`` composed training pairs (the paper's Multi-MNIST has 120,000; pairs of
  the same 898 training digits, so more pairs add combinations, not digits), 500 validation and
  1,000 test pairs from disjoint digits.
* **Budget.** As in the paper, the hypernetwork gets the training budget of ONE baseline model:
  ``--steps`` full-batch Adam steps of ``--n-pref-update`` rays each, drawn from
  Dirichlet(``--dirichlet-alpha``) (paper: one ray per step, alpha 0.2), and each of the five
  baselines gets ``--steps`` steps (five times PHN's budget in all at one ray per step).
  ``--phn-steps`` (default ``--steps``) sets PHN's steps apart: five times ``--steps`` gives it
  the five baselines' total budget.
* **L2 on the target weights** (not in the paper; the same for every method): a candidate ``l2``
  of ``--l2s`` adds ``l2 * |w|^2`` to the training loss, for a baseline on its weights ``w``, for
  PHN on its generated weights ``w(r)`` (mean over the step's rays); ``0`` is the paper's setting.
* **Model selection on validation** (the paper's): every ``--eval-every`` steps, PHN by the
  hypervolume of its validation losses at the five rays (reference ``ln 10``, one checkpoint for
  all rays), a baseline by its validation ``ray · losses``.
* **Learning rate and L2 on validation**, the same way for every method: each cell (rate, l2) of
  ``--phn-lrs`` × ``--l2s`` and ``--baseline-lrs`` × ``--l2s`` is run for all seeds; PHN keeps
  the cell with the best mean validation hypervolume, each baseline ray the cell with the best
  mean validation ``ray · losses``. Only the test losses of the selected cells are compared.
* **Noise.** Seeds ``0 .. --seeds - 1`` (network initialisation and ray draws; the data are the
  problem's, fixed). Two means over seeds are compared task by task: ``dominates`` when PHN's mean
  loss is at most the baseline's in both tasks; ``matches`` when in each task it exceeds the
  baseline's by at most twice the standard error of the difference of the two means,
  ``2 * sqrt(s_phn^2 / n + s_base^2 / n)`` (sample standard deviations over the ``n`` seeds);
  ``worse`` otherwise.
* **Two readings of the target** ("a front that dominates the baselines at 3 or more preference
  points, or matches them within noise"). *Same ray*: PHN at a baseline's own ray against that
  baseline. *Front*: PHN's front (its solutions at ``--sweep`` evenly spaced rays) against each
  baseline's point: the best verdict of any sweep ray. The front reading is the paper's (its
  figures set the baselines' points against PHN's swept front); the same-ray one is stricter.

Notes on the results and on the variants tried: ``results/phn_notes.md``.

Writes ``results/phn.{md,json,png}`` (the stored table; about 3 CPU-hours, its
training runs resume from ``phn.partial.json`` when interrupted)::

    python -m moo.benchmarks.phn --steps 2000 --phn-steps 10000 --seeds 5 --phn-lrs 3e-4 \
        --baseline-lrs 3e-2 1e-2 3e-3 --l2s 1e-4 3e-4 --n-train 20000 --solvers ls --no-control --workers 2
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path

import torch

import moo
from moo.indicators import hypervolume

RESULTS = Path(__file__).resolve().parent.parent / "results"
RAYS = ((1.0, 0.0), (0.75, 0.25), (0.5, 0.5), (0.25, 0.75), (0.0, 1.0))


def train_baseline(problem, ray, steps: int, seed: int, eval_every: int, lr: float = 1e-3, l2: float = 0.0):
    """A target network trained alone on ``ray · losses + l2 * |w|^2`` (full batch, Adam); returns
    the weights with the best validation ``ray · losses`` among the checks every ``eval_every``
    steps, and that validation value."""
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


def train_phn(problem, solver: str, rays: torch.Tensor, steps: int, seed: int, eval_every: int, lr: float = 1e-4,
              score=None, **config):
    """PHN trained for ``steps`` optimizer steps (``n_pref_update`` rays each); returns its
    solutions at ``rays`` at the check with the best validation score, that score and the step it
    came from. ``score(val_losses [k, 2])`` (larger is better) defaults to the hypervolume;
    ``config`` goes to PHN's config."""
    if score is None:
        score = lambda F: float(hypervolume(F, problem.ref_point))  # noqa: E731
    alg = moo.get_algorithm("phn", solver=solver, n_snapshot=1, lr=lr, **config)
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


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def verdict(phn: list[list[float]], base: list[list[float]]) -> str:
    """``phn`` and ``base``: per-seed test losses ``[n_seeds][2]`` at one ray. ``dominates`` when
    PHN's mean loss is at most the baseline's in both tasks, ``matches`` when in each task it is
    above by at most twice the standard error of the difference of the means, else ``worse``."""
    n_p, n_b = len(phn), len(base)
    out = "dominates"
    for task in range(len(phn[0])):
        mp, sp = mean_std([row[task] for row in phn])
        mb, sb = mean_std([row[task] for row in base])
        if mp > mb:
            if mp - mb > 2 * math.sqrt(sp ** 2 / n_p + sb ** 2 / n_b):
                return "worse"
            out = "matches"
    return out


def sweep_rays(n: int) -> torch.Tensor:
    """``n`` evenly spaced rays ``(1 - t, t)``, ``t = 0 .. 1``, ``[n, 2]``; ``n - 1`` must be a
    multiple of 4, so that the five :data:`RAYS` are among them."""
    if n < 5 or (n - 1) % 4:
        raise moo.MooValueError(f"the sweep needs 4k + 1 rays (k >= 1) to contain the five rays, got {n}")
    t = torch.linspace(0.0, 1.0, n, dtype=torch.float64)
    return torch.stack([1 - t, t], -1)


def _ray_positions(n_sweep: int) -> list[int]:
    """Where the five :data:`RAYS` sit in a sweep of ``n_sweep`` rays."""
    return [round(r[1] * (n_sweep - 1)) for r in RAYS]


_PROBLEMS: dict = {}


def _problem(n_train: int):
    """The benchmark's problem (one per process: workers build their own)."""
    if n_train not in _PROBLEMS:
        _PROBLEMS[n_train] = moo.get_problem("multitask-digits", n_train=n_train)
    return _PROBLEMS[n_train]


def _run(task: dict) -> dict:
    """One training run, ``task["method"]`` one of ``baseline`` (the five models), ``phn-ls``,
    ``phn-epo`` or ``control`` (PHN-LS's hypernetwork at the middle ray only); returns its record."""
    torch.set_num_threads(1)  # one run per core
    problem = _problem(task["n_train"])
    lr, l2, seed, steps, every = task["lr"], task["l2"], task["seed"], task["steps"], task["eval_every"]
    t0 = time.perf_counter()
    if task["method"] == "baseline":
        pairs = [train_baseline(problem, r, steps, seed, every, lr, l2) for r in RAYS]
        X, fields = torch.stack([w for w, _ in pairs]), {"val_scalarized": [v for _, v in pairs]}
    elif task["method"] == "control":  # Dirichlet alpha -> infinity: every drawn ray is (0.5, 0.5)
        mid = torch.tensor([[0.5, 0.5]], dtype=torch.float64)
        X, _, _ = train_phn(problem, "ls", mid, steps, seed, every, lr, score=lambda F: -float(F[0].sum()),
                            dirichlet_alpha=1e6, target_l2=l2, n_pref_update=task["n_pref_update"])
        fields = {}
    else:  # selected on the validation HV at the five rays; tested along the whole sweep
        at = _ray_positions(task["sweep"])
        X, val_hv, step = train_phn(problem, task["method"].removeprefix("phn-"), sweep_rays(task["sweep"]), steps,
                                    seed, every, lr, lambda F: float(hypervolume(F[at], problem.ref_point)),
                                    target_l2=l2, n_pref_update=task["n_pref_update"],
                                    dirichlet_alpha=task["dirichlet_alpha"])
        fields = {"val_hv": val_hv, "selected_step": step}
    return {"seed": seed, **fields, "wall_s": time.perf_counter() - t0,
            "test_losses": problem.losses(X, "test").tolist(), "test_accuracy": problem.accuracy(X, "test").tolist()}


def _run_all(tasks: list[dict], workers: int, partial: Path) -> list[dict]:
    """The records of ``tasks``, run on ``workers`` processes. Each finished record is saved to
    ``partial`` at once, and a record already there is reused, so an interrupted run resumes."""
    done = json.loads(partial.read_text()) if partial.exists() else {}
    keys = [json.dumps(t, sort_keys=True) for t in tasks]
    todo = [(t, k) for t, k in zip(tasks, keys) if k not in done]
    t0, n_done = time.perf_counter(), len(tasks) - len(todo)

    def finished(task, key, record):
        nonlocal n_done
        n_done += 1
        done[key] = record
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(done))
        print(f"[{n_done}/{len(tasks)} {time.perf_counter() - t0:.0f}s] {task['method']} lr={task['lr']:g} "
              f"l2={task['l2']:g} seed={task['seed']} ({record['wall_s']:.0f}s)", flush=True)

    if workers == 1:
        for task, key in todo:
            finished(task, key, _run(task))
    else:
        from concurrent.futures import as_completed

        from moo.workers import process_pool

        with process_pool(workers) as pool:
            futures = {pool.submit(_run, t): (t, k) for t, k in todo}
            for future in as_completed(futures):
                finished(*futures[future], future.result())
    return [done[k] for k in keys]


def _phn_steps(args) -> int:
    """PHN's optimizer steps: ``--phn-steps``, or one baseline's ``--steps``."""
    return args.phn_steps or args.steps


def _train_all(args) -> dict:
    """Every run of the protocol (baselines, PHN per solver, the one-ray control) as the json payload."""
    phn_grid, base_grid = _grids(args)
    common = {"steps": args.steps, "eval_every": args.eval_every, "n_train": args.n_train,
              "n_pref_update": args.n_pref_update}
    cells = [("baseline", c) for c in base_grid] + [(f"phn-{s}", c) for s in args.solvers for c in phn_grid]
    phn_only = {"steps": _phn_steps(args), "sweep": args.sweep, "dirichlet_alpha": args.dirichlet_alpha}
    tasks = [{"method": m, "lr": lr, "l2": l2, "seed": seed, **common, **({} if m == "baseline" else phn_only)}
             for m, (lr, l2) in cells for seed in range(args.seeds)]
    partial = args.out.with_suffix(".partial.json")
    records = iter(_run_all(tasks, args.workers, partial))
    runs: dict = {}
    for m, cell in cells:
        runs.setdefault(m, {})[_key(cell)] = [next(records) for _ in range(args.seeds)]
    control = []
    if "phn-ls" in runs and args.control:
        lr, l2 = _select_phn(runs["phn-ls"], phn_grid)
        tasks = [{"method": "control", "lr": lr, "l2": l2, "seed": seed, **common, "steps": _phn_steps(args)}
                 for seed in range(args.seeds)]
        control = [r["test_losses"][0] for r in _run_all(tasks, args.workers, partial)]
    partial.unlink(missing_ok=True)
    return {"steps": args.steps, "phn_steps": _phn_steps(args), "seeds": args.seeds, "eval_every": args.eval_every,
            "n_train": args.n_train, "rays": [list(r) for r in RAYS], "sweep": args.sweep,
            "n_pref_update": args.n_pref_update, "dirichlet_alpha": args.dirichlet_alpha, "control_mid_ray": control,
            "baseline_runs": runs.pop("baseline"), "phn_runs": runs}


def _key(cell: tuple[float, float]) -> str:
    """A grid cell ``(lr, l2)`` as text (table headers, json keys)."""
    return f"lr={cell[0]:g}, l2={cell[1]:g}"


def _cell(key: str) -> tuple[float, float]:
    """The grid cell of a :func:`_key`."""
    lr, l2 = (float(part.split("=")[1]) for part in key.split(", "))
    return lr, l2


def _options_from_payload(args, payload: dict) -> None:
    """Report-only: the stored runs' own options (and grids, read off their keys) replace the
    command line's, so a report is always rebuilt as the runs were made. Payloads from before an
    option was stored keep the command line's value for it."""
    for field in ("steps", "phn_steps", "seeds", "eval_every", "n_train", "sweep", "n_pref_update",
                  "dirichlet_alpha"):
        if field in payload:
            setattr(args, field, payload[field])
    base = [_cell(k) for k in payload["baseline_runs"]]
    phn = [_cell(k) for runs in payload["phn_runs"].values() for k in runs]
    args.baseline_lrs = list(dict.fromkeys(lr for lr, _ in base))
    args.l2s = list(dict.fromkeys(l2 for _, l2 in base))
    args.phn_lrs = list(dict.fromkeys(lr for lr, _ in phn))
    args.solvers = [name.removeprefix("phn-") for name in payload["phn_runs"]]
    args.control = bool(payload["control_mid_ray"])


def _fmt(rows: list[list[float]], task: int) -> str:
    m, s = mean_std([r[task] for r in rows])
    return f"{m:.3f} ± {s:.3f}"


def _grids(args) -> tuple[list, list]:
    """The (rate, L2) cells of PHN and of the baselines."""
    return ([(lr, l2) for lr in args.phn_lrs for l2 in args.l2s],
            [(lr, l2) for lr in args.baseline_lrs for l2 in args.l2s])


def _select_phn(runs: dict, grid: list) -> tuple[float, float]:
    """The cell with the best mean validation hypervolume; ``runs`` keyed by :func:`_key`."""
    return max(grid, key=lambda c: statistics.fmean(r["val_hv"] for r in runs[_key(c)]))


def _select_baseline(runs: dict, grid: list) -> list[tuple[float, float]]:
    """Per ray, the cell with the best mean validation ``ray · losses``; ``runs`` keyed by :func:`_key`."""
    return [min(grid, key=lambda c: statistics.fmean(r["val_scalarized"][i] for r in runs[_key(c)]))
            for i in range(len(RAYS))]


_RANK = {"dominates": 0, "matches": 1, "worse": 2}


def front_verdict(sweep: list[list[list[float]]], base: list[list[float]]) -> tuple[str, int]:
    """``sweep``: PHN's per-seed test losses ``[n_rays][n_seeds][2]`` along its sweep; ``base``: a
    baseline's ``[n_seeds][2]``. The best :func:`verdict` of any sweep ray against the baseline,
    and the first ray that gives it."""
    return min(((verdict(p, base), k) for k, p in enumerate(sweep)), key=lambda vk: _RANK[vk[0]])


def _report(args, payload: dict, problem) -> str:
    """Selects on validation, compares on test, adds ``selected`` and ``summary`` to ``payload``,
    draws the figure and returns the markdown report."""
    phn_grid, base_grid = _grids(args)
    base_runs, control = payload["baseline_runs"], payload["control_mid_ray"]
    n_sweep = payload.get("sweep", len(RAYS))  # runs stored before the sweep have the five rays
    at, rays = _ray_positions(n_sweep), sweep_rays(n_sweep).tolist()
    base_sel = _select_baseline(base_runs, base_grid)
    base = [[base_runs[_key(base_sel[i])][s]["test_losses"][i] for s in range(args.seeds)] for i in range(len(RAYS))]
    methods, selected = {}, {"baseline": [dict(zip(("lr", "l2"), c)) for c in base_sel]}
    for name, runs in payload["phn_runs"].items():
        cell = _select_phn(runs, phn_grid)
        selected[name] = dict(zip(("lr", "l2"), cell))
        sweep = [[r["test_losses"][k] for r in runs[_key(cell)]] for k in range(n_sweep)]
        methods[name] = {"runs": runs, "cell": cell, "sweep": sweep, "test": [sweep[k] for k in at]}

    def test_hv(per_seed_losses):  # [n_seeds][n_rays][2] -> mean ± std of the test hypervolume
        hvs = [float(hypervolume(torch.tensor(F, dtype=torch.float64), problem.ref_point)) for F in per_seed_losses]
        return mean_std(hvs)

    summary = {"baseline": {"test_hv": test_hv([[base[i][s] for i in range(len(RAYS))] for s in range(args.seeds)])}}
    header = "| ray | baseline left | baseline right |"
    sep = "|---|---|---|"
    for name in methods:
        header += f" {name.upper()} left | {name.upper()} right | same ray | front (its ray) |"
        sep += "---|---|---|---|"
    lines = [header, sep]
    for i, ray in enumerate(RAYS):
        line = f"| {ray} | {_fmt(base[i], 0)} | {_fmt(base[i], 1)} |"
        for name, m in methods.items():
            v = verdict(m["test"][i], base[i])
            fv, k = front_verdict(m["sweep"], base[i])
            m.setdefault("verdicts", []).append(v)
            m.setdefault("front", []).append((fv, rays[k]))
            line += (f" {_fmt(m['test'][i], 0)} | {_fmt(m['test'][i], 1)} | {v} | "
                     f"{fv} ({rays[k][0]:g}, {rays[k][1]:g}) |")
        lines.append(line)
    for name, m in methods.items():
        per_seed = [[m["test"][i][s] for i in range(len(RAYS))] for s in range(args.seeds)]
        front = [v for v, _ in m["front"]]
        summary[name] = {"test_hv": test_hv(per_seed), "verdicts": m["verdicts"],
                         "n_dominates": m["verdicts"].count("dominates"),
                         "n_matches": m["verdicts"].count("matches"),
                         "front_verdicts": front, "front_rays": [r for _, r in m["front"]],
                         "front_n_dominates": front.count("dominates"), "front_n_matches": front.count("matches"),
                         "selected_steps": [r["selected_step"] for r in m["runs"][_key(m["cell"])]]}
    hv_lines = ["| method | learning rate, L2 (selected on validation) | test HV at the 5 rays | same ray: dominated "
                "/ matched | front: dominated / matched | best-validation step per seed |",
                "|---|---|---|---|---|---|"]
    b = summary["baseline"]["test_hv"]
    hv_lines.append(f"| baseline (5 models) | {'; '.join(_key(c) for c in base_sel)} (per ray) | "
                    f"{b[0]:.4f} ± {b[1]:.4f} | – | – | – |")
    for name, m in methods.items():
        s = summary[name]
        hv_lines.append(f"| {name.upper()} | {_key(m['cell'])} | {s['test_hv'][0]:.4f} ± {s['test_hv'][1]:.4f} | "
                        f"{s['n_dominates']} / {s['n_matches']} of 5 | "
                        f"{s['front_n_dominates']} / {s['front_n_matches']} of 5 | {s['selected_steps']} |")
    val_lines = ["| method | " + " | ".join(_key(c) for c in phn_grid) + " |", "|---|" + "---|" * len(phn_grid)]
    for name, m in methods.items():
        val_lines.append(f"| {name.upper()} (mean validation HV) | " + " | ".join(
            "{:.4f} ± {:.4f}".format(*mean_std([r["val_hv"] for r in m["runs"][_key(c)]])) for c in phn_grid) + " |")
    bval = ["| baseline ray | " + " | ".join(_key(c) for c in base_grid) + " |", "|---|" + "---|" * len(base_grid)]
    for i, ray in enumerate(RAYS):
        bval.append(f"| {ray} (mean validation ray · losses) | " + " | ".join(
            "{:.4f}".format(statistics.fmean(r["val_scalarized"][i] for r in base_runs[_key(c)])) for c in base_grid)
            + " |")
    control_lines = []
    if control:
        mid = RAYS.index((0.5, 0.5))
        control_lines = [
            f"## Control: PHN-LS's hypernetwork trained at the one ray (0.5, 0.5) ({_key(methods['phn-ls']['cell'])}, "
            "Dirichlet alpha 1e6, selected on the validation loss at that ray)\n",
            "| model at (0.5, 0.5) | left | right |", "|---|---|---|",
            f"| baseline | {_fmt(base[mid], 0)} | {_fmt(base[mid], 1)} |",
            f"| PHN-LS (all rays) | {_fmt(methods['phn-ls']['test'][mid], 0)} | "
            f"{_fmt(methods['phn-ls']['test'][mid], 1)} |",
            f"| hypernetwork, this ray only | {_fmt(control, 0)} | {_fmt(control, 1)} |", ""]
    payload.update(selected=selected, summary=summary)
    figure(base, {name: m["sweep"] for name, m in methods.items()}, args.out.with_suffix(".png"))
    doc = __doc__.split("Protocol:", 1)[1].split("Notes on", 1)[0].strip()
    cmd = (f"python -m moo.benchmarks.phn --steps {args.steps} --seeds {args.seeds} --eval-every {args.eval_every} "
           f"--phn-lrs {' '.join(f'{v:g}' for v in args.phn_lrs)} "
           f"--baseline-lrs {' '.join(f'{v:g}' for v in args.baseline_lrs)} "
           f"--l2s {' '.join(f'{v:g}' for v in args.l2s)} --n-pref-update {args.n_pref_update} "
           f"--dirichlet-alpha {args.dirichlet_alpha:g} --solvers {' '.join(args.solvers)} "
           f"--n-train {args.n_train} --sweep {n_sweep} --phn-steps {_phn_steps(args)}"
           + ("" if args.control else " --no-control"))
    return (f"# PHN on multitask-digits: test cross-entropy, {args.n_train} training pairs, {args.steps} steps per "
            f"baseline, {_phn_steps(args)} for PHN, {args.seeds} seeds\n\n"
            f"Produced by `{cmd}`. Notes: `phn_notes.md`.\n\nProtocol (Navon et al., ICLR 2021):\n\n{doc}\n\n"
            f"## Test losses at the five rays (mean ± std over {args.seeds} seeds)\n\n" + "\n".join(lines) +
            "\n\n## Summary\n\n" + "\n".join(hv_lines) +
            "\n\n" + "\n".join(control_lines) +
            "\n## Learning-rate and L2 selection (validation)\n\n" + "\n".join(val_lines) + "\n\n" +
            "\n".join(bval) + "\n")


def figure(base: list, sweeps: dict, path: Path) -> None:
    """Mean test losses: each PHN's sweep as a line, the interior baselines as points with their
    standard deviations, the single-task baselines as the lines of their one loss (their other
    loss is about ``ln 10``, off the plot)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def mean(rows):
        return [statistics.fmean(r[t] for r in rows) for t in range(2)]

    fig, ax = plt.subplots(figsize=(5.5, 5))
    for name, sweep in sweeps.items():
        pts = [mean(rows) for rows in sweep]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], ".-", label=f"{name.upper()} front (mean)")
    interior = [mean(rows) + [mean_std([r[t] for r in rows])[1] for t in range(2)] for rows in base[1:-1]]
    ax.errorbar([p[0] for p in interior], [p[1] for p in interior], xerr=[p[2] for p in interior],
                yerr=[p[3] for p in interior], fmt="ks", label="baselines (mean ± std)")
    ax.axvline(mean(base[0])[0], color="k", ls="--", lw=0.8, label="single-task baselines")
    ax.axhline(mean(base[-1])[1], color="k", ls="--", lw=0.8)
    # zoomed on the baselines: the far ends of a sweep run off the plot
    shown = [v for sweep in sweeps.values() for rows in sweep for v in mean(rows)]
    shown += [v for p in interior for v in p[:2]] + [mean(base[0])[0], mean(base[-1])[1]]
    lim = (0.9 * min(shown), 1.6 * max(v for p in interior for v in p[:2]))
    ax.set(xlabel="test loss, left digit", ylabel="test loss, right digit", xlim=lim, ylim=lim)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--phn-steps", type=int, default=0, help="PHN's optimizer steps (default: --steps)")
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--phn-lrs", type=float, nargs="+", default=[3e-4, 1e-4, 3e-5])
    ap.add_argument("--baseline-lrs", type=float, nargs="+", default=[1e-2, 3e-3, 1e-3])
    ap.add_argument("--l2s", type=float, nargs="+", default=[0.0, 1e-4, 3e-4],
                    help="L2 weights on the target network's weights, the same grid for PHN and the baselines")
    ap.add_argument("--n-pref-update", type=int, default=1, help="PHN's rays per step (paper: 1)")
    ap.add_argument("--dirichlet-alpha", type=float, default=0.2, help="PHN's ray sampler (paper: 0.2)")
    ap.add_argument("--solvers", nargs="+", default=["ls", "epo"], choices=["ls", "epo"])
    ap.add_argument("--n-train", type=int, default=20000, help="composed training examples of the problem")
    ap.add_argument("--sweep", type=int, default=21,
                    help="PHN is tested at this many evenly spaced rays (4k + 1, so the five rays are among them)")
    ap.add_argument("--no-control", dest="control", action="store_false",
                    help="skip the control (PHN-LS's hypernetwork trained at the middle ray only)")
    ap.add_argument("--workers", type=int, default=1, help="training runs at once, one process and core each")
    ap.add_argument("--out", type=Path, default=RESULTS / "phn")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite the report from the runs stored in OUT.json without training (their stored "
                         "options replace the command line's)")
    args = ap.parse_args(argv)
    if args.workers < 1:
        ap.error("--workers must be at least 1")
    sweep_rays(args.sweep)  # checks the sweep before any training
    json_path = args.out.with_suffix(".json")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        payload = json.loads(json_path.read_text())
        _options_from_payload(args, payload)
    else:  # stored before the report, so a failing report loses no training
        payload = _train_all(args)
        json_path.write_text(json.dumps(payload, indent=1))
    md = _report(args, payload, _problem(args.n_train))
    json_path.write_text(json.dumps(payload, indent=1))
    args.out.with_suffix(".md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
