"""The PHN benchmark's noise-aware comparison and a tiny end-to-end run of its CLI."""
import json

import numpy as np
import pytest
import torch

import moo
from moo.benchmarks.phn import (RAYS, _ray_positions, _run_all, front_verdict, main, mean_std, sweep_rays,
                                train_baseline, train_phn, verdict)


def test_mean_std_is_the_sample_std():
    x = [0.13, 0.15, 0.12, 0.16, 0.14]
    m, s = mean_std(x)
    assert m == pytest.approx(np.mean(x)) and s == pytest.approx(np.std(x, ddof=1))
    assert mean_std([0.2]) == (0.2, 0.0)


def test_verdict_uses_twice_the_standard_error_of_the_difference():
    rng = np.random.default_rng(0)
    base = rng.normal([0.14, 0.15], 0.01, size=(5, 2))
    se = np.sqrt(base.var(0, ddof=1) / 5 * 2)  # PHN below gets the same spread: same sample std
    below = base - 0.02
    assert verdict(below.tolist(), base.tolist()) == "dominates"
    # above the baseline in task 0 by 1.5 standard errors, below in task 1: within noise
    near = base + np.array([1.5 * se[0], -0.02])
    assert verdict(near.tolist(), base.tolist()) == "matches"
    # 2.5 standard errors above in task 1: a real difference
    far = base + np.array([0.0, 2.5 * se[1]])
    assert verdict(far.tolist(), base.tolist()) == "worse"


@pytest.fixture(scope="module")
def digits():
    return moo.get_problem("multitask-digits", n_train=200, n_val=50, n_test=50, hidden=8)


def test_baseline_l2_shrinks_the_weights(digits):
    w0, _ = train_baseline(digits, (0.5, 0.5), 30, 0, 10, lr=1e-2)
    w1, _ = train_baseline(digits, (0.5, 0.5), 30, 0, 10, lr=1e-2, l2=0.05)
    assert float(w1.norm()) < 0.8 * float(w0.norm())


def test_train_phn_counts_optimizer_steps(digits):
    """``steps`` are optimizer steps whatever ``n_pref_update`` is (so 5 rays per step is 5 times
    the compute), and the best-validation step is one of the checks."""
    rays = torch.tensor([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]], dtype=torch.float64)
    checks = []

    def score(F):  # the later the check, the better: the best is the last one
        checks.append(F.shape)
        return float(len(checks))

    X, best, step = train_phn(digits, "ls", rays, 20, 0, 5, 1e-3, score=score, n_pref_update=5, hidden=(8,))
    assert checks == [(3, 2)] * 4 and best == 4 and step == 20 and X.shape == (3, digits.n_var)


def test_cli_writes_md_and_json(tmp_path):
    out = tmp_path / "phn"
    argv = ["--steps", "10", "--eval-every", "5", "--seeds", "2", "--phn-lrs", "1e-4", "3e-5",
            "--baseline-lrs", "1e-3", "--l2s", "0", "1e-4", "--solvers", "ls", "--n-train", "300", "--sweep", "9",
            "--phn-steps", "20", "--out", str(out)]
    main(argv)
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["steps"] == 10 and data["phn_steps"] == 20
    assert data["selected"]["phn-ls"]["lr"] in (1e-4, 3e-5) and data["selected"]["phn-ls"]["l2"] in (0, 1e-4)
    assert [c["lr"] for c in data["selected"]["baseline"]] == [1e-3] * 5
    s = data["summary"]["phn-ls"]
    assert len(s["verdicts"]) == 5 and set(s["verdicts"]) <= {"dominates", "matches", "worse"}
    # the front reading takes the best sweep ray, so it is never behind the same-ray one
    rank = {"dominates": 0, "matches": 1, "worse": 2}
    assert all(rank[f] <= rank[v] for f, v in zip(s["front_verdicts"], s["verdicts"]))
    assert all(len(r["test_losses"]) == 9 for r in data["phn_runs"]["phn-ls"]["lr=0.0001, l2=0"])
    assert out.with_suffix(".png").exists() and not out.with_suffix(".partial.json").exists()
    assert set(data["phn_runs"]["phn-ls"]) == {"lr=0.0001, l2=0", "lr=0.0001, l2=0.0001", "lr=3e-05, l2=0",
                                               "lr=3e-05, l2=0.0001"}
    assert len(data["phn_runs"]["phn-ls"]["lr=0.0001, l2=0"]) == 2
    assert set(data["baseline_runs"]) == {"lr=0.001, l2=0", "lr=0.001, l2=0.0001"}
    assert np.array(data["control_mid_ray"]).shape == (2, 2)  # the one-ray control, per seed
    md = out.with_suffix(".md").read_text()
    assert "python -m moo.benchmarks.phn --steps 10 --seeds 2" in md and "mean ± std over 2 seeds" in md
    assert ("--l2s 0 0.0001 --n-pref-update 1 --dirichlet-alpha 0.2 --solvers ls --n-train 300 --sweep 9 "
            "--phn-steps 20") in md
    # the report rebuilt from the stored runs, without training and without repeating the
    # options (they come from the store), is the same report
    out.with_suffix(".md").unlink()
    main(["--report-only", "--out", str(out)])
    assert out.with_suffix(".md").read_text() == md
    assert json.loads(out.with_suffix(".json").read_text()) == data


def test_sweep_contains_the_five_rays_and_rejects_other_sizes():
    sweep = sweep_rays(21)
    assert sweep.shape == (21, 2) and torch.allclose(sweep.sum(-1), torch.ones(21, dtype=torch.float64))
    assert sweep[_ray_positions(21)].tolist() == [list(r) for r in RAYS]
    with pytest.raises(moo.MooValueError, match="4k \\+ 1"):
        sweep_rays(6)


def test_front_verdict_takes_the_best_ray_of_the_sweep():
    base = [[0.10, 0.20], [0.11, 0.21], [0.12, 0.19]]
    worse = [[r[0] + 0.05, r[1] + 0.05] for r in base]
    better = [[r[0] - 0.01, r[1] - 0.01] for r in base]
    assert front_verdict([worse, worse], base) == ("worse", 0)
    assert front_verdict([worse, better, better], base) == ("dominates", 1)


def test_runs_resume_from_the_partial_file_and_match_across_processes(tmp_path):
    """A finished run stored in the partial file is reused, not retrained; runs on two worker
    processes give the records of runs in this process."""
    tasks = [{"method": "phn-ls", "lr": 1e-3, "l2": 0.0, "seed": s, "steps": 4, "eval_every": 2, "n_train": 100,
              "n_pref_update": 1, "sweep": 5, "dirichlet_alpha": 0.2} for s in (0, 1)]
    partial = tmp_path / "run.partial.json"
    here = _run_all(tasks, 1, partial)
    assert json.loads(partial.read_text()) and len(here) == 2
    planted = dict(here[0], val_hv=-1.0)
    partial.write_text(json.dumps({json.dumps(tasks[0], sort_keys=True): planted}))
    resumed = _run_all(tasks, 1, partial)
    assert resumed[0]["val_hv"] == -1.0 and resumed[1]["test_losses"] == here[1]["test_losses"]
    partial.unlink()
    pooled = _run_all(tasks, 2, partial)
    assert [r["test_losses"] for r in pooled] == [r["test_losses"] for r in here]


def test_cli_can_skip_the_control(tmp_path):
    out = tmp_path / "phn"
    main(["--steps", "4", "--eval-every", "2", "--seeds", "2", "--phn-lrs", "1e-3", "--baseline-lrs", "1e-3",
          "--l2s", "0", "--solvers", "ls", "--n-train", "100", "--sweep", "5", "--no-control", "--out", str(out)])
    assert json.loads(out.with_suffix(".json").read_text())["control_mid_ray"] == []
    md = out.with_suffix(".md").read_text()
    assert "--phn-steps 4 --no-control`" in md and "## Control" not in md
