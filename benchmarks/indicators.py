"""Hypervolume timing: moo.indicators against moocore, pymoo and BoTorch, in one process.

Run ``python -m moo.benchmarks.indicators`` (``--quick`` for a smoke run). Prints a table and writes
``results/indicators.{md,json}``. Every figure is the median of repeats, measured in
this one run; the ratios (ours / peer, lower is better) are what the issue's targets are about.
Fronts are points on the positive unit sphere (every point non-dominated, the hard case) with
reference point 1.1. Torch runs single-threaded, like moocore, so the comparison is per core
and not disturbed by oversubscription of a shared machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import moocore
import numpy as np
import torch

from moo.indicators import hv_improvement, hypervolume

RESULTS = Path(__file__).resolve().parent.parent / "results"


def sphere_front(n: int, m: int, seed: int, batch: tuple[int, ...] = ()) -> np.ndarray:
    X = np.abs(np.random.default_rng(seed).normal(size=batch + (n, m)))
    return X / np.linalg.norm(X, axis=-1, keepdims=True)


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def check(ours: float, theirs: float, what: str) -> None:
    if abs(ours - theirs) > 1e-9 * max(abs(theirs), 1.0):
        raise AssertionError(f"{what}: ours {ours!r} != peer {theirs!r}")


def single_fronts(sizes, repeats, rows):
    from pymoo.indicators.hv import HV

    for m in (2, 3):
        for n in sizes:
            F = sphere_front(n, m, seed=n + m)
            ref = np.full(m, 1.1)
            Ft, rt = torch.as_tensor(F), torch.as_tensor(ref)
            exact = moocore.hypervolume(F, ref=ref)
            check(float(hypervolume(Ft, rt)), exact, f"auto m={m} n={n}")
            t_moocore = median_time(lambda: moocore.hypervolume(F, ref=ref), repeats)
            t_pymoo = median_time(lambda: HV(ref_point=ref)(F), repeats)
            t_auto = median_time(lambda: hypervolume(Ft, rt), repeats)
            row = {"case": "single front", "m": m, "n": n, "moocore_s": t_moocore, "pymoo_s": t_pymoo,
                   "ours_auto_s": t_auto, "auto_vs_moocore": t_auto / t_moocore}
            if m == 2 or n <= 10_000:  # the 3-D torch kernel is O(n^2)
                check(float(hypervolume(Ft, rt, method="torch")), exact, f"torch m={m} n={n}")
                t_torch = median_time(lambda: hypervolume(Ft, rt, method="torch"), 1 if n > 5000 and m == 3 else repeats)
                row.update(ours_torch_s=t_torch, torch_vs_moocore=t_torch / t_moocore)
            rows.append(row)
            print(_fmt(row))


def batched_fronts(n_sets, n, repeats, rows):
    for m in (2, 3):
        F = sphere_front(n, m, seed=7 + m, batch=(n_sets,))
        ref = np.full(m, 1.1)
        Ft, rt = torch.as_tensor(F), torch.as_tensor(ref)
        loop = lambda: [moocore.hypervolume(f, ref=ref) for f in F]  # noqa: E731
        expected = np.array(loop())
        for method in ("auto", "torch"):
            np.testing.assert_allclose(hypervolume(Ft, rt, method=method).numpy(), expected, rtol=1e-10)
        t_loop = median_time(loop, repeats)
        t_auto = median_time(lambda: hypervolume(Ft, rt), repeats)
        t_torch = median_time(lambda: hypervolume(Ft, rt, method="torch"), repeats)
        row = {"case": f"{n_sets} fronts batched", "m": m, "n": n, "moocore_loop_s": t_loop, "ours_auto_s": t_auto,
               "ours_torch_s": t_torch, "auto_vs_moocore_loop": t_auto / t_loop,
               "torch_vs_moocore_loop": t_torch / t_loop}
        rows.append(row)
        print(_fmt(row))


def improvement(n_candidates, n, repeats, rows):
    for m in (2, 3):
        F = sphere_front(n, m, seed=11 + m)
        C = sphere_front(n_candidates, m, seed=13 + m) * 0.98 + 0.01
        ref = np.full(m, 1.1)
        Ft, Ct, rt = torch.as_tensor(F), torch.as_tensor(C), torch.as_tensor(ref)

        def loop():
            base = moocore.hypervolume(F, ref=ref)
            return [moocore.hypervolume(np.vstack([F, c[None]]), ref=ref) - base for c in C]

        np.testing.assert_allclose(hv_improvement(Ct, Ft, rt).numpy(), loop(), rtol=1e-8, atol=1e-13)
        t_loop = median_time(loop, repeats)
        t_auto = median_time(lambda: hv_improvement(Ct, Ft, rt), repeats)
        t_torch = median_time(lambda: hv_improvement(Ct, Ft, rt, method="torch"), repeats)
        row = {"case": f"hv_improvement of {n_candidates} candidates", "m": m, "n": n, "moocore_loop_s": t_loop,
               "ours_auto_s": t_auto, "ours_torch_s": t_torch, "auto_vs_moocore_loop": t_auto / t_loop,
               "torch_vs_moocore_loop": t_torch / t_loop}
        rows.append(row)
        print(_fmt(row))


def botorch_case(n, rows):
    from botorch.utils.multi_objective.hypervolume import Hypervolume

    m = 3
    F = sphere_front(n, m, seed=5)
    ref = np.full(m, 1.1)
    Ft, rt = torch.as_tensor(F), torch.as_tensor(ref)
    hv_bt = Hypervolume(ref_point=-rt)  # BoTorch maximizes
    t = time.perf_counter()
    value = hv_bt.compute(-Ft)
    t_botorch = time.perf_counter() - t  # one run: it takes seconds
    check(float(value), moocore.hypervolume(F, ref=ref), "botorch")
    t_auto = median_time(lambda: hypervolume(Ft, rt), 5)
    t_torch = median_time(lambda: hypervolume(Ft, rt, method="torch"), 5)
    row = {"case": "vs BoTorch Hypervolume", "m": m, "n": n, "botorch_s": t_botorch, "ours_auto_s": t_auto,
           "ours_torch_s": t_torch, "botorch_vs_auto": t_botorch / t_auto, "botorch_vs_torch": t_botorch / t_torch}
    rows.append(row)
    print(_fmt(row))


NOTES = [
    "`auto` on CPU without gradients calls moocore for m >= 3 and for a single 2-D set, and the torch "
    "kernel for many 2-D sets in one call; with gradients or on GPU it always uses the torch kernels. "
    "So `auto` vs moocore measures our dispatch overhead, and the `torch` columns measure the kernels.",
    "The exact 3-D torch kernel is O(n^2) per set (a masked running minimum per slab of the third "
    "objective): fine on GPU and for batches of small sets with gradients, but on CPU it is several "
    "times slower than moocore's O(n log n) sweep, which is why `auto` does not use it there.",
    "The 3-D torch kernel is not timed at n = 100,000 (10^10 cell updates).",
    "BoTorch's `Hypervolume.compute` is timed once (it takes seconds); BoTorch maximizes, so it gets -F "
    "and -ref. pymoo's HV calls moocore, so it tracks moocore's time.",
    "GPU target (batched >= 20x a moocore loop) not measured: no GPU was lent to this session. The "
    "kernels use only device-agnostic torch ops (sort, gather, cummin, where, matmul).",
]


def targets(rows):
    """``(target, measured, met)`` for each CPU target of the issue that this run measured."""
    out = []
    for r in rows:
        if r["case"] == "single front":
            out.append((f"single front m={r['m']} n={r['n']}: <= 1.5x moocore (auto)",
                        f"{r['auto_vs_moocore']:.2f}x", r["auto_vs_moocore"] <= 1.5))
        elif r["case"].endswith("fronts batched"):
            for key in ("auto", "torch"):
                ratio = r[f"{key}_vs_moocore_loop"]
                out.append((f"{r['case']} m={r['m']} n={r['n']}: <= 1x a moocore loop ({key})",
                            f"{ratio:.2f}x", ratio <= 1.0))
        elif r["case"] == "vs BoTorch Hypervolume":
            for key in ("auto", "torch"):
                ratio = r[f"botorch_vs_{key}"]
                out.append((f"m=3 n={r['n']}: >= 100x faster than BoTorch ({key})", f"{ratio:.0f}x", ratio >= 100))
    return out


def _fmt(row: dict) -> str:
    return "  ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())


def write(rows, meta):
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "indicators.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    cols = ["case", "m", "n", "moocore_s", "moocore_loop_s", "pymoo_s", "botorch_s", "ours_auto_s", "ours_torch_s",
            "auto_vs_moocore", "torch_vs_moocore", "auto_vs_moocore_loop", "torch_vs_moocore_loop",
            "botorch_vs_auto", "botorch_vs_torch"]
    cols = [c for c in cols if any(c in r for r in rows)]

    def cell(col, v):
        if v is None:
            return "–"
        if isinstance(v, float):
            return f"{v * 1e3:.3g} ms" if col.endswith("_s") else f"{v:.3g}"
        return str(v)

    lines = ["# Hypervolume benchmark (moo.indicators vs moocore, pymoo, BoTorch)", "",
             f"Generated by `python -m moo.benchmarks.indicators` on {meta['date']}. "
             f"Machine: {meta['machine']}; torch {meta['torch']}, moocore {meta['moocore']}. {meta['note']}", "",
             "Times are medians of repeats in one process; ratios are ours / peer (lower is better), "
             "`botorch_vs_*` is BoTorch / ours (higher is better). `auto` is `hypervolume(..., method=\"auto\")`, "
             "`torch` forces the exact torch kernel (differentiable, any device).", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(c, r.get(c)) for c in cols) + " |" for r in rows]
    lines += ["", "## Targets of issue 3 (CPU)", "", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {t} | {v} | {'yes' if ok else 'no'} |" for t, v, ok in targets(rows)]
    lines += ["", "## Notes", ""] + [f"- {x}" for x in meta["notes"]]
    (RESULTS / "indicators.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats (smoke run)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows: list[dict] = []
    t0 = time.perf_counter()
    load_before = os.getloadavg()[0]
    if args.quick:
        single_fronts((1000,), 3, rows)
        batched_fronts(100, 50, 3, rows)
        improvement(100, 50, 3, rows)
        botorch_case(100, rows)
    else:
        single_fronts((1000, 10_000, 100_000), 7, rows)
        batched_fronts(1000, 100, 7, rows)
        improvement(1000, 100, 5, rows)
        botorch_case(1000, rows)
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch thread(s), shared CPU",
        "torch": torch.__version__, "moocore": moocore.__version__, "torch_threads": torch.get_num_threads(),
        "quick": args.quick, "total_s": time.perf_counter() - t0,
        "load_average_1min": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "note": "No GPU was available in this session: no GPU figures are reported.",
        "notes": NOTES + [f"1-minute load average before/after the run: {load_before:.1f} / "
                          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (a shared machine: expect noise)."],
    }
    write(rows, meta)
    print(f"wrote {RESULTS / 'indicators.md'} in {meta['total_s']:.0f} s")


if __name__ == "__main__":
    main()
