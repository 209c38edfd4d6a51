"""The nas protocol's scoring: fixed normalization bounds, identical for every run."""
import math

import moocore
import numpy as np
import pytest

import moo
from benchmarks.protocols.nas import FixedBoundsHV, NASProtocol, evaluations_to_reach, fixed_bounds
from moo.errors import MooValueError


@pytest.fixture(scope="module")
def problem():
    return moo.get_problem("nas-digits", objectives=["error", "macs", "latency"])


def test_bounds_are_fixed_by_the_search_space_and_the_problem(problem):
    lo, hi = fixed_bounds(problem)
    # error in [0, 1]; MACs of one 4-channel 1x1 layer and of three 32-channel 5x5 layers; 0.1 to 50 ms
    assert lo.tolist() == [0.0, 64 * 4 + 4 * 16 * 10, 0.1]
    assert hi.tolist() == [1.0, 64 * 32 * 25 + 2 * 16 * 32 * 32 * 25 + 32 * 16 * 10, 50.0]
    llo, lhi = fixed_bounds(problem, log=True)
    assert llo.tolist() == pytest.approx([0.0, math.log10(lo[1]), -1.0])
    assert lhi.tolist() == pytest.approx([1.0, math.log10(hi[1]), math.log10(50.0)])


@pytest.mark.parametrize("scale", ["log", "linear"])
def test_the_score_of_a_run_matches_moocore_and_ignores_points_beyond_the_bounds(problem, scale):
    rng = np.random.default_rng(0)
    F = np.column_stack([rng.uniform(0.02, 0.9, 30), rng.uniform(896, 875520, 30), rng.uniform(0.15, 2.0, 30)])
    hv = FixedBoundsHV(problem, scale)
    lo, hi = fixed_bounds(problem, log=scale == "log")
    G = F.copy()
    if scale == "log":
        G[:, [1, 2]] = np.log10(G[:, [1, 2]])
    assert hv(F) == pytest.approx(moocore.hypervolume((G - lo) / (hi - lo), ref=[1.1] * 3), rel=1e-10)
    assert hv(np.zeros((0, 3))) == 0.0


def test_evaluations_to_reach_per_seed_and_by_the_mean_curve():
    # three seeds, curves every 5 evaluations: two reach 0.7 at 10, one stays at 0.2 then 0.55;
    # the mean curve is 0.2, 0.533, 0.533, 0.65, 0.65 and passes 0.6 at 20
    grid = [5, 10, 15, 20, 25]
    fast = list(zip(grid, [0.2, 0.7, 0.7, 0.7, 0.7]))
    slow = list(zip(grid, [0.2, 0.2, 0.2, 0.55, 0.55]))
    assert evaluations_to_reach([fast, fast, slow], 0.6) == ([10, 10, None], 20)
    assert evaluations_to_reach([slow], 0.6) == ([None], None)


def test_the_protocol_refuses_other_problems_and_normalized_scoring():
    proto = NASProtocol()
    with pytest.raises(MooValueError, match="nas-digits"):
        proto.check_problem("zdt1", {}, False)
    with pytest.raises(MooValueError, match="normalize"):
        proto.check_problem("nas-digits", {}, True)
    with pytest.raises(MooValueError, match="ref_point"):
        NASProtocol(ref_point=0.5)
