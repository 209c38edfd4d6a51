"""PHN on the two-task digits problem: one hypernetwork (PHN-LS, PHN-EPO) against target networks
trained separately for each preference (linear scalarization; the end rays are the single-task
models).

Navon et al., "Learning the Pareto Front with Hypernetworks", ICLR 2021. Every model gets the
same number of full-batch Adam steps (PHN: lr 1e-4, one Dirichlet(0.2) ray per step; baselines:
lr 1e-3). As in PHN, the model is selected on the validation split, checked every ``--eval-every``
steps: PHN by the hypervolume of its validation losses at the rays (reference ``ln 10``), a
baseline by its validation ``ray · losses``. Reported: test losses of each baseline and of the
PHN models at the same ray, and whether the PHN point dominates the baseline or matches it within
``--tol`` (relative, per task). Writes
``benchmarks/results/phn.{md,json}``::

    python -m moo.benchmarks.phn --steps 1000 --seeds 1
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

import moo

RESULTS = Path(__file__).resolve().parent / "results"
RAYS = ((1.0, 0.0), (0.75, 0.25), (0.5, 0.5), (0.25, 0.75), (0.0, 1.0))


def train_baseline(problem, ray, steps: int, seed: int, eval_every: int, lr: float = 1e-3) -> torch.Tensor:
    """A target network trained alone on ``ray · losses`` (full batch, Adam); the weights with
    the best validation ``ray · losses`` among the checks every ``eval_every`` steps."""
    w = problem.initial_weights(torch.Generator().manual_seed(seed)).requires_grad_(True)
    opt = torch.optim.Adam([w], lr=lr)
    r = torch.tensor(ray, dtype=torch.float64)
    best, best_w = float("inf"), w.detach().clone()
    for step in range(1, steps + 1):
        opt.zero_grad()
        (r * problem.losses(w.unsqueeze(0))[0]).sum().backward()
        opt.step()
        if step % eval_every == 0:
            with torch.no_grad():
                val = float((r * problem.losses(w.unsqueeze(0), "val")[0]).sum())
            if val < best:
                best, best_w = val, w.detach().clone()
    return best_w


def train_phn(problem, solver: str, rays: torch.Tensor, steps: int, seed: int, eval_every: int):
    """PHN trained for ``steps`` rays; the solutions at ``rays`` of the check with the best
    validation hypervolume, and the step it came from."""
    from moo.indicators import hypervolume

    alg = moo.get_algorithm("phn", solver=solver, n_snapshot=1)
    alg.setup(problem, seed=seed, device="cpu", budget=steps + 1)
    best, best_X, best_step = -1.0, None, 0
    while alg.n_evals < steps:
        alg.step()
        if alg.n_evals % eval_every == 0:
            X = alg.pareto_set(rays)
            with torch.no_grad():
                hv = float(hypervolume(problem.losses(X, "val"), problem.ref_point))
            if hv > best:
                best, best_X, best_step = hv, X, alg.n_evals
    return best_X, best_step


def verdict(phn: list[float], base: list[float], tol: float) -> str:
    if all(p <= b for p, b in zip(phn, base)):
        return "dominates"
    if all(p <= b * (1 + tol) for p, b in zip(phn, base)):
        return "matches"
    return "worse"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--tol", type=float, default=0.05)
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--out", type=Path, default=RESULTS / "phn")
    args = ap.parse_args(argv)
    problem = moo.get_problem("multitask-digits")
    rays = torch.tensor(RAYS, dtype=torch.float64)
    runs = []
    for seed in range(args.seeds):
        rec = {"seed": seed, "rays": [list(r) for r in RAYS], "test_losses": {}, "test_accuracy": {}, "wall_s": {}}
        for solver in ("ls", "epo"):
            t0 = time.perf_counter()
            X, rec.setdefault("selected_step", {})[f"phn-{solver}"] = train_phn(
                problem, solver, rays, args.steps, seed, args.eval_every)
            rec["wall_s"][f"phn-{solver}"] = time.perf_counter() - t0
            rec["test_losses"][f"phn-{solver}"] = problem.losses(X, "test").tolist()
            rec["test_accuracy"][f"phn-{solver}"] = problem.accuracy(X, "test").tolist()
        t0 = time.perf_counter()
        W = torch.stack([train_baseline(problem, r, args.steps, seed, args.eval_every) for r in RAYS])
        rec["wall_s"]["baselines"] = time.perf_counter() - t0
        rec["test_losses"]["baseline"] = problem.losses(W, "test").tolist()
        rec["test_accuracy"]["baseline"] = problem.accuracy(W, "test").tolist()
        runs.append(rec)
        print(json.dumps(rec["test_losses"]), flush=True)
    lines = ["| seed | ray | baseline (left, right) | PHN-LS | vs baseline | PHN-EPO | vs baseline |",
             "|---|---|---|---|---|---|---|"]
    fmt = lambda v: f"{v[0]:.3f}, {v[1]:.3f}"  # noqa: E731
    for rec in runs:
        for i, ray in enumerate(RAYS):
            b = rec["test_losses"]["baseline"][i]
            ls, epo = rec["test_losses"]["phn-ls"][i], rec["test_losses"]["phn-epo"][i]
            lines.append(f"| {rec['seed']} | {ray} | {fmt(b)} | {fmt(ls)} | {verdict(ls, b, args.tol)} | "
                         f"{fmt(epo)} | {verdict(epo, b, args.tol)} |")
    md = (f"# PHN on multitask-digits: test cross-entropy (left, right), {args.steps} steps per model\n\n"
          f"Models selected on the validation split (checked every {args.eval_every} steps). "
          f"'matches' = within {args.tol:.0%} of the baseline in both tasks. Produced by "
          "`python -m moo.benchmarks.phn`.\n\n" + "\n".join(lines) + "\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps({"steps": args.steps, "tol": args.tol, "runs": runs}, indent=1))
    args.out.with_suffix(".md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
