"""The spread protocol's figures against hand-computed values and a brute-force definition."""
import numpy as np
import pytest

from benchmarks.protocols.spread import largest_gap, spacing


def _spacing_brute(F):
    d = np.abs(F[:, None, :] - F[None, :, :]).sum(-1)
    np.fill_diagonal(d, np.inf)
    return float(np.std(d.min(1)))


def test_spacing_by_hand():
    # nearest L1 distances 1, 1, 2: population std sqrt(2/9)
    assert spacing(np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]])) == pytest.approx((2 / 9) ** 0.5)
    # an even front is 0
    assert spacing(np.array([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]])) == pytest.approx(0.0)
    assert spacing(np.zeros((2, 2))) is None


def test_spacing_matches_brute_force_with_duplicates():
    rng = np.random.default_rng(0)
    F = rng.random((300, 2))
    F = np.vstack([F, F[:5]])  # exact duplicates have a nearest distance of 0
    assert spacing(F) == pytest.approx(_spacing_brute(F), rel=1e-12)


def test_spacing_scales_to_a_large_archive():
    # the pairwise matrix of 60,000 points would need ~58 GB; the tree does not
    F = np.random.default_rng(1).random((60_000, 2))
    assert 0.0 < spacing(F) < 0.01


def test_largest_gap_by_hand():
    t = np.linspace(0, 1, 11)
    front = np.stack([t, 1 - t], 1)  # length sqrt(2)
    # one point in the middle: the step from either end is sqrt(0.5), half the length
    assert largest_gap(np.array([[0.5, 0.5]]), front) == pytest.approx(0.5)
    assert largest_gap(front, front) == pytest.approx(0.1)
    assert largest_gap(np.zeros((0, 2)), front) is None
