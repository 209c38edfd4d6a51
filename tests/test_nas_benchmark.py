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
    """Three linas seeds: two beat random search's final mean early, one never does, and the mean
    of their curves passes it in between, at a point that is neither the first, the last nor
    an average of the per-seed counts, nor the end of the budget."""
    def run(method, seed, errors):
        # one point per evaluation at the smallest MACs and fixed latency: HV grows as the error falls
        return {"method": method, "seed": seed, "seconds": 1.0, "F": [[e, 896.0, 0.2] for e in errors]}

    runs = [run("random", 0, [0.5] * 25), run("random", 1, [0.5] * 25),
            run("linas", 0, [0.9] * 5 + [0.4] * 20), run("linas", 1, [0.9] * 5 + [0.4] * 20),
            run("linas", 2, [0.9] * 15 + [0.55] * 10)]
    t = summarize(runs, every=5, budget=25)["table"]
    lo, hi = bounds(())
    box = (1.1 - (896.0 - lo[1]) / (hi[1] - lo[1])) * (1.1 - (0.2 - lo[2]) / (hi[2] - lo[2]))
    assert t["random"]["hv_mean"] == pytest.approx((1.1 - 0.5) * box, rel=1e-12)
    # HV per unit box: random 0.6; linas seeds 0 and 1 reach 0.7 at 10 evaluations, seed 2 stays
    # below (0.2, then 0.55). The mean curve: 0.533 at 10 and 15, 0.65 from 20 on.
    assert t["linas"]["evals_to_random_final_hv"] == [10, 10, None]
    assert t["linas"]["evals_to_random_final_hv_mean_curve"] == 20
