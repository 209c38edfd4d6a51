"""The RE suite: hand-computed values, discrete handling, RE91's seeded noise, shipped fronts vs the
suite's published fronts (hypervolume within 0.5%, skipped without ``../shared``)."""
from __future__ import annotations

import math
from pathlib import Path

import moocore
import numpy as np
import pytest
import torch

import moo
from moo.problems.re_suite import hashed_normals

RE = ["re21", "re22", "re23", "re24", "re25", "re31", "re32", "re33", "re34", "re35", "re36", "re37",
      "re41", "re42", "re61", "re91"]
DISCRETE = {"re22", "re23", "re25", "re35", "re36", "re91"}
SHARED_RE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "re"
SIZES = {"re21": (4, 2), "re22": (3, 2), "re23": (4, 2), "re24": (2, 2), "re25": (3, 2), "re31": (3, 3),
         "re32": (4, 3), "re33": (4, 3), "re34": (5, 3), "re35": (7, 3), "re36": (4, 3), "re37": (4, 3),
         "re41": (7, 4), "re42": (6, 4), "re61": (3, 6), "re91": (7, 9)}


def _uniform(problem, n, seed=0):
    u = torch.rand(n, problem.n_var, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return problem.xl + (problem.xu - problem.xl) * u


def _t(*rows):
    return torch.tensor(rows, dtype=torch.float64)


def _normalized_hv(F, ideal, nadir):
    """Hypervolume with objectives normalized by ideal/nadir, reference point 1.1: exact up to four
    objectives, moocore's deterministic approximation (Rphi-FWE+, ~0.05% error here) beyond, where
    the exact value of 2000+ points in 6-D takes tens of seconds."""
    Z = (np.asarray(F) - ideal) / (nadir - ideal)
    ref = np.full(Z.shape[1], 1.1)
    if Z.shape[1] <= 4:
        return moocore.hypervolume(Z, ref=ref)
    return moocore.hv_approx(Z, ref=ref, nsamples=2 ** 16, method="Rphi-FWE+")


@pytest.mark.parametrize("name", RE)
def test_sizes_flags_and_finite_values(name):
    p = moo.get_problem(name)
    assert (p.n_var, p.n_obj) == SIZES[name]
    assert p.differentiable == (name not in DISCRETE)
    F = p.evaluate(_uniform(p, 2000, seed=1))   # raises NonFiniteError on any NaN/inf
    assert F.shape == (2000, p.n_obj)
    assert torch.all(p.nadir > p.ideal)


def test_hand_computed_values():
    # RE21 at x = (2, 2, 2, 2): f1 = L (2 x1 + sqrt2 x2 + sqrt(x3) + x4); f2 = (F L / E)(2/2 + 2/2) = 0.02
    F = moo.get_problem("re21").evaluate(_t([2.0, 2.0, 2.0, 2.0]))[0]
    assert F[0].item() == pytest.approx(200 * (4 + 2 * math.sqrt(2) + math.sqrt(2) + 2))
    assert F[1].item() == pytest.approx(0.02)
    # RE24 at (2, 25): weight 2 + 120 * 25, every constraint satisfied
    assert moo.get_problem("re24").evaluate(_t([2.0, 25.0]))[0].tolist() == pytest.approx([3002.0, 0.0])
    # RE24 at (0.5, 0.5): sigma_b = 18000 violates 1 - sigma_b / 700 etc.; the sum of the four violations
    sb, tau, delta, sk = 4500 / 0.25, 1800 / 0.5, 56.2e4 / (7e5 * 0.5 * 0.25), 7e5 * 0.25 / 100
    expected = (sb / 700 - 1) + (tau / 450 - 1) + (delta / 1.5 - 1) + (sb / sk - 1)
    assert moo.get_problem("re24").evaluate(_t([0.5, 0.5]))[0, 1].item() == pytest.approx(expected)
    # RE34 is three response surfaces, at x = 1: sums of the coefficients
    F = moo.get_problem("re34").evaluate(_t([1.0] * 5))[0]
    assert F[0].item() == pytest.approx(1640.2823 + 2.3573285 + 2.3220035 + 4.5688768 + 7.7213633 + 4.4559504)
    assert F[1].item() == pytest.approx(6.5856 + 1.15 - 1.0427 + 0.9738 + 0.8364 - 0.3695 + 0.0861 + 0.3628
                                        - 0.1106 - 0.3437 + 0.1764)
    # RE37 at 0: the constant terms
    assert moo.get_problem("re37").evaluate(_t([0.0] * 4))[0].tolist() == pytest.approx([0.692, 0.153, 0.370])
    # RE42 as the suite defines it (sea days multiplied by the speed): annual cargo comes out negative,
    # so f1 = costs / cargo < 0 < f3 = -cargo, the sign pattern of the suite's published front
    F = moo.get_problem("re42").evaluate(_uniform(moo.get_problem("re42"), 50))
    assert torch.all(F[:, 0] < 0) and torch.all(F[:, 2] > 0)


def test_discrete_variables_snap_as_the_suite_does():
    re22 = moo.get_problem("re22")
    # x1 snaps to the nearest value of the suite's table: 3.05 -> 3.08, 3.3 -> 3.41, 9.5 -> 9.48
    # (the suite's "3,10" is handled in test_re22_follows_the_suites_table)
    F = re22.evaluate(_t([3.05, 10.0, 30.0], [3.3, 10.0, 30.0], [9.5, 10.0, 30.0]))
    np.testing.assert_allclose(F[:, 0].numpy(), [29.4 * v + 0.6 * 300 for v in (3.08, 3.41, 9.48)])
    re23 = moo.get_problem("re23")
    assert re23.var_types == ("int", "int", "real", "real")
    a = re23.evaluate(_t([12.4, 7.6, 50.0, 100.0]))
    b = re23.evaluate(_t([12.0, 8.0, 50.0, 100.0]))
    assert torch.equal(a, b)
    assert a[0, 0].item() == pytest.approx(0.6224 * 0.75 * 50 * 100 + 1.7781 * 0.5 * 2500 + 3.1661 * 0.5625 * 100
                                           + 19.84 * 0.5625 * 50)
    re36 = moo.get_problem("re36")
    X = _uniform(re36, 100, seed=2)
    assert torch.equal(re36.evaluate(X), re36.evaluate(torch.round(X)))
    assert torch.equal(re36.evaluate(X)[:, 1], torch.round(X).amax(1))
    re25 = moo.get_problem("re25")
    assert re25.var_types == ("int", "real", "real")
    assert torch.equal(re25.evaluate(_t([10.3, 1.0, 0.2])), re25.evaluate(_t([10.0, 1.0, 0.207])))
    assert moo.get_problem("re35").var_types[2] == "int"


def _re22_by_hand(area, width, depth):
    """RE22 (reinforced concrete beam) written out from the formula: cost 29.4 A + 0.6 b h and the
    summed violation of g1 = A h - 7.735 A^2 / b - 180 >= 0, g2 = 4 - h / b >= 0, for an area A
    already taken from the table."""
    cost = 29.4 * area + 0.6 * width * depth
    g1 = area * depth - 7.735 * area ** 2 / width - 180.0
    g2 = 4.0 - depth / width
    return [cost, max(0.0, -g1) + max(0.0, -g2)]


def test_re22_follows_the_suites_table():
    """The suite's code (C, Java, MATLAB and Python alike) lists "3.08, 3,10, 3.16": the values 3 and
    10, not 3.10, and its published front was computed with it. So 3.10 and 3.11 snap to 3.08 (not 3.10),
    and 9.8, 10.0 and 10.1 to 10 (not 9.48 / 10.27). The areas below are picked by hand from the
    table's neighbours: 3.08 | 3.16 (midpoint 3.12) and 9.48 | 10 | 10.27 (midpoints 9.74, 10.135)."""
    p = moo.get_problem("re22")
    X = _t([3.10, 10.0, 30.0], [3.11, 10.0, 30.0], [9.8, 10.0, 30.0], [10.0, 2.0, 10.0], [10.1, 5.0, 40.0],
           [3.13, 10.0, 30.0], [9.7, 10.0, 30.0], [10.2, 10.0, 30.0])
    areas = [3.08, 3.08, 10.0, 10.0, 10.0, 3.16, 9.48, 10.27]
    expected = [_re22_by_hand(a, x2, x3) for a, (_, x2, x3) in zip(areas, X.tolist())]
    # spelled out for two rows: (3.11, 10, 30) -> A = 3.08: cost 90.552 + 180, g1 = 92.4 - 7.3376...
    # - 180 < 0, g2 = 1; (9.8, 10, 30) -> A = 10: cost 294 + 180 = 474, g1 = 300 - 77.35 - 180 > 0
    assert expected[1] == pytest.approx([270.552, 180.0 - 3.08 * 30.0 + 7.735 * 3.08 ** 2 / 10.0])
    assert expected[2] == pytest.approx([474.0, 0.0])
    np.testing.assert_allclose(p.evaluate(X).numpy(), np.array(expected), rtol=1e-12, atol=1e-12)


def test_re91_noise_is_a_seeded_function_of_x():
    p = moo.get_problem("re91")
    X = _uniform(p, 64, seed=4)
    F = p.evaluate(X)
    perm = torch.randperm(64, generator=torch.Generator().manual_seed(0))
    assert torch.equal(p.evaluate(X[perm]), F[perm])                        # order/batch independent
    assert torch.equal(p.evaluate(X[:5]), F[:5])
    assert not torch.allclose(moo.get_problem("re91", seed=1).evaluate(X), F)
    quiet = moo.get_problem("re91", noise=False)
    assert quiet.differentiable and not p.differentiable
    assert not torch.allclose(quiet.evaluate(X), F)
    assert quiet.pareto_front() is None and p.pareto_front().shape[1] == 9
    # the draws are standard normal and independent across the four inputs
    Z = hashed_normals(torch.rand(20000, 7, generator=torch.Generator().manual_seed(5), dtype=torch.float64), 0, 4)
    assert Z.mean(0).abs().max().item() < 0.05
    assert (Z.std(0) - 1).abs().max().item() < 0.05
    assert np.abs(np.corrcoef(Z.numpy().T) - np.eye(4)).max() < 0.05


def test_gradients_flow_for_continuous_problems():
    for name in ("re21", "re33", "re37", "re42"):
        p = moo.get_problem(name)
        X = _uniform(p, 4, seed=6).requires_grad_(True)
        p.evaluate(X)[:, 0].sum().backward()
        assert torch.all(torch.isfinite(X.grad)) and X.grad.abs().sum() > 0


def test_normalize_uses_ideal_and_nadir():
    raw, norm = moo.get_problem("re33"), moo.get_problem("re33", normalize=True)
    X = _uniform(raw, 10)
    np.testing.assert_allclose(norm.evaluate(X).numpy(),
                               ((raw.evaluate(X) - raw.ideal) / (raw.nadir - raw.ideal)).numpy())
    assert norm.ref_point.tolist() == [1.1] * 3
    front = norm.pareto_front()
    assert front.min().item() >= -1e-6            # the ideal point bounds the front from below
    assert ((front <= 1.1).all(1).float().mean() > 0.5).item()   # most of it inside the reference box
    # RE21's ideal/nadir are the current front's extremes (the suite's files do not bracket it)
    assert moo.get_problem("re21").nadir.tolist() == pytest.approx([2886.36956, 0.04])


@pytest.mark.parametrize("name", [n for n in RE if n != "re91"])
def test_shipped_front_matches_published_hypervolume(name):
    """Within 0.5% of the suite's front or better, both normalized by the problem's ideal/nadir. RE91 is left
    out: it is stochastic, and a front of noisy evaluations reflects its own noise draws (the
    suite's: ``np.random``; ours: hashed by seed), so the two are not comparable."""
    published = SHARED_RE / f"reference_points_{name.upper()}.dat"
    if not published.exists():
        pytest.skip(f"{published} not present (../shared is not part of the project)")
    p = moo.get_problem(name)
    ours = p.pareto_front().numpy()
    assert ours.shape[1] == p.n_obj and np.all(moocore.is_nondominated(ours))
    ideal, nadir = p.ideal.numpy(), p.nadir.numpy()
    theirs = np.loadtxt(published)
    hv_ours, hv_published = _normalized_hv(ours, ideal, nadir), _normalized_hv(theirs, ideal, nadir)
    assert hv_published > 0.1
    # not worse than the suite's front by more than 0.5% ...
    assert hv_ours >= (1 - 5e-3) * hv_published
    # ... nor better by more than 1%: RE33's front is better by 0.8%, as 1450 of its points lie
    # inside the reference box against 523 of the suite's; a far larger gain would mean a formula
    # that makes the problem easier than the suite's
    assert hv_ours <= (1 + 1e-2) * hv_published


@pytest.mark.parametrize("name", RE)
def test_shipped_front_is_attainable_shape(name):
    p = moo.get_problem(name)
    F = p.pareto_front()
    assert F.dtype == torch.float64 and F.shape[1] == p.n_obj and 20 <= len(F) <= 3000
    span = p.nadir - p.ideal
    assert torch.all(F.min(0).values >= p.ideal - 0.05 * span)
