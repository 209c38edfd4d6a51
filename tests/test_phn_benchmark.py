"""The PHN benchmark's noise-aware comparison and a tiny end-to-end run of its CLI."""
import json

import numpy as np
import pytest

from moo.benchmarks.phn import main, mean_std, verdict


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


def test_cli_writes_md_and_json(tmp_path):
    out = tmp_path / "phn"
    main(["--steps", "10", "--eval-every", "5", "--seeds", "2", "--phn-lrs", "1e-4", "3e-5",
          "--baseline-lrs", "1e-3", "--solvers", "ls", "--out", str(out)])
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["selected_lr"]["phn-ls"] in (1e-4, 3e-5)
    assert data["selected_lr"]["baseline"] == [1e-3] * 5
    s = data["summary"]["phn-ls"]
    assert len(s["verdicts"]) == 5 and set(s["verdicts"]) <= {"dominates", "matches", "worse"}
    assert len(data["phn_runs"]["phn-ls"]["0.0001"]) == 2
    assert np.array(data["summary"]["control_mid_ray"]).shape == (2, 2)  # the one-ray control, per seed
    md = out.with_suffix(".md").read_text()
    assert "python -m moo.benchmarks.phn --steps 10 --seeds 2" in md and "mean ± std over 2 seeds" in md
