"""The PHN benchmark's noise-aware comparison and a tiny end-to-end run of its CLI."""
import json

import numpy as np
import pytest
import torch

import moo
from moo.benchmarks.phn import main, mean_std, train_baseline, train_phn, verdict


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
            "--baseline-lrs", "1e-3", "--l2s", "0", "1e-4", "--solvers", "ls", "--out", str(out)]
    main(argv)
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["selected"]["phn-ls"]["lr"] in (1e-4, 3e-5) and data["selected"]["phn-ls"]["l2"] in (0, 1e-4)
    assert [c["lr"] for c in data["selected"]["baseline"]] == [1e-3] * 5
    s = data["summary"]["phn-ls"]
    assert len(s["verdicts"]) == 5 and set(s["verdicts"]) <= {"dominates", "matches", "worse"}
    assert set(data["phn_runs"]["phn-ls"]) == {"lr=0.0001, l2=0", "lr=0.0001, l2=0.0001", "lr=3e-05, l2=0",
                                               "lr=3e-05, l2=0.0001"}
    assert len(data["phn_runs"]["phn-ls"]["lr=0.0001, l2=0"]) == 2
    assert set(data["baseline_runs"]) == {"lr=0.001, l2=0", "lr=0.001, l2=0.0001"}
    assert np.array(data["control_mid_ray"]).shape == (2, 2)  # the one-ray control, per seed
    md = out.with_suffix(".md").read_text()
    assert "python -m moo.benchmarks.phn --steps 10 --seeds 2" in md and "mean ± std over 2 seeds" in md
    assert "--l2s 0 0.0001 --n-pref-update 1 --dirichlet-alpha 0.2" in md
    # the report rebuilt from the stored runs, without training, is the same report
    out.with_suffix(".md").unlink()
    main(argv + ["--report-only"])
    assert out.with_suffix(".md").read_text() == md
    assert json.loads(out.with_suffix(".json").read_text()) == data
