"""The NAS-on-digits benchmark's scoring: fixed normalization bounds, identical for every run."""
import math

import moocore
import numpy as np
import pytest

from moo.benchmarks.nas_digits import bounds, summarize


def test_bounds_are_fixed_by_the_search_space_and_the_problem():
    lo, hi = bounds(())
    # error in [0, 1]; MACs of one 4-channel 1x1 layer and of three 32-channel 5x5 layers; 0.1 to 50 ms
    assert lo.tolist() == [0.0, 64 * 4 + 4 * 16 * 10, 0.1]
    assert hi.tolist() == [1.0, 64 * 32 * 25 + 2 * 16 * 32 * 32 * 25 + 32 * 16 * 10, 50.0]
    llo, lhi = bounds((1, 2))
    assert llo.tolist() == pytest.approx([0.0, math.log10(lo[1]), -1.0])
    assert lhi.tolist() == pytest.approx([1.0, math.log10(hi[1]), math.log10(50.0)])


def test_scores_do_not_depend_on_the_other_runs_and_match_moocore():
    rng = np.random.default_rng(0)

    def fake(method, seed, n=30):
        F = np.column_stack([rng.uniform(0.02, 0.9, n), rng.uniform(896, 875520, n), rng.uniform(0.15, 2.0, n)])
        return {"method": method, "seed": seed, "seconds": 1.0, "F": F.tolist()}

    runs = [fake("linas", 0), fake("random", 0)]
    outlier = {"method": "nsga2", "seed": 0, "seconds": 1.0, "F": [[0.01, 500.0, 0.05]] * 30}  # beyond every bound
    for cols in ((), (1, 2)):
        alone = summarize(runs, every=10, budget=30, log_columns=cols)["table"]
        more = summarize(runs + [outlier], every=10, budget=30, log_columns=cols)["table"]
        for m in ("linas", "random"):
            assert more[m]["hv_per_seed"] == alone[m]["hv_per_seed"]
        lo, hi = bounds(cols)
        F = np.array(runs[0]["F"])
        F[:, list(cols)] = np.log10(F[:, list(cols)])
        expected = moocore.hypervolume((F - lo) / (hi - lo), ref=[1.1, 1.1, 1.1])
        assert alone["linas"]["hv_per_seed"][0] == pytest.approx(expected, rel=1e-10)


def test_evaluations_to_reach_random_search_per_seed_and_by_the_mean_curve():
    """Two linas seeds whose curves cross random search's final mean at different points: the
    per-seed counts and the mean curve's count, from hypervolumes checked by hand."""
    def run(method, seed, errors):
        # one point per evaluation at fixed MACs and latency: HV grows as the error falls
        return {"method": method, "seed": seed, "seconds": 1.0,
                "F": [[e, 896.0, 0.2] for e in errors]}

    runs = [run("random", 0, [0.5] * 20), run("random", 1, [0.5] * 20),
            run("linas", 0, [0.9] * 5 + [0.4] * 15), run("linas", 1, [0.9] * 15 + [0.45] * 5)]
    t = summarize(runs, every=5, budget=20)["table"]
    # random reaches error 0.5; linas seed 0 beats it after 10 evaluations (curve points at 5, 10, ...),
    # seed 1 after 20; the mean curve first passes it at 20 (at 10 and 15: mean of 0.4 and 0.9)
    assert t["linas"]["evals_to_random_final_hv"] == [10, 20]
    assert t["linas"]["evals_to_random_final_hv_mean_curve"] == 20
