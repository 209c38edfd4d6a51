"""IGD, IGD+, GD, GD+ against pymoo; additive epsilon against moocore; R2 against its formula."""
import moocore
import numpy as np
import pytest
import torch
from pymoo.indicators.gd import GD
from pymoo.indicators.gd_plus import GDPlus
from pymoo.indicators.igd import IGD
from pymoo.indicators.igd_plus import IGDPlus

from moo.errors import MooValueError
from moo.indicators import default_weights, epsilon_additive, gd, gd_plus, igd, igd_plus, r2, r2_gflownet
from moo.preferences import das_dennis

OURS_VS_PYMOO = [(igd, IGD), (igd_plus, IGDPlus), (gd, GD), (gd_plus, GDPlus)]


@pytest.mark.parametrize("m", [2, 3, 5])
def test_distance_indicators_match_pymoo_and_moocore(m):
    rng = np.random.default_rng(m)
    Z = rng.random((80, m))
    for A in (rng.random((25, m)), rng.random((1, m)), Z[:10] + 0.01, Z[:10] - 0.05):
        for ours, theirs in OURS_VS_PYMOO:
            assert ours(A, Z).item() == pytest.approx(theirs(Z)(A), rel=1e-12, abs=1e-15)
        assert epsilon_additive(A, Z).item() == pytest.approx(moocore.epsilon_additive(A, ref=Z), rel=1e-12, abs=1e-15)


def test_batched_masked_and_empty():
    g = torch.Generator().manual_seed(0)
    F = torch.rand(3, 20, 3, generator=g, dtype=torch.float64)
    mask = torch.rand(3, 20, generator=g) < 0.6
    mask[2] = False
    Z = torch.rand(30, 3, generator=g, dtype=torch.float64)
    for fn in (igd, igd_plus, gd, gd_plus, epsilon_additive):
        got = fn(F, Z, mask=mask)
        assert got.shape == (3,) and got.dtype == torch.float64
        for b in range(2):
            assert got[b].item() == pytest.approx(fn(F[b][mask[b]], Z).item(), rel=1e-12)
        assert got[2].item() == float("inf")
    assert igd(F.float(), Z).dtype == torch.float32
    with pytest.raises(MooValueError, match="objectives"):
        igd(F, torch.rand(4, 2))


def test_r2_hand_case():
    F = torch.tensor([[0.2, 0.6], [0.5, 0.1]], dtype=torch.float64)
    W = torch.tensor([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]], dtype=torch.float64)
    # w=(1,0): min(0.2, 0.5)=0.2 ; w=(.5,.5): min(0.3, 0.25)=0.25 ; w=(0,1): min(0.6, 0.1)=0.1
    assert r2(F, weights=W).item() == pytest.approx((0.2 + 0.25 + 0.1) / 3)
    # with an ideal point: distances |ideal - a|
    assert r2(F, weights=W, ideal=[0.1, 0.1]).item() == pytest.approx((0.1 + 0.2 + 0.0) / 3)


def _r2_formula(A, W, z, mean: bool):
    """Direct double loop: sum or mean over w of min over a of max_j w_j |z_j - a_j|."""
    vals = [min(max(w[j] * abs(z[j] - a[j]) for j in range(len(z))) for a in A) for w in W]
    return np.mean(vals) if mean else np.sum(vals) / np.linalg.norm(W)


@pytest.mark.parametrize("m", [2, 3, 4])
def test_r2_and_gflownet_variant_match_direct_formula(m):
    rng = np.random.default_rng(10 + m)
    A = rng.random((15, m))
    W = das_dennis(4, m).numpy()
    z = rng.random(m) * 0.1
    assert r2(A, weights=W, ideal=z).item() == pytest.approx(_r2_formula(A, W, z, mean=True), rel=1e-12)
    # Multi-Objective GFlowNets: maximized rewards R with utopian point 1 == F = 1 - R with utopian 0
    R = rng.random((15, m))
    expected = _r2_formula(R, W, np.ones(m), mean=False)
    assert r2_gflownet(1 - R, weights=W).item() == pytest.approx(expected, rel=1e-12)
    assert r2_gflownet(-R, weights=W, utopian=-np.ones(m)).item() == pytest.approx(expected, rel=1e-12)


def test_r2_default_weights_and_batching():
    assert default_weights(2).shape == (100, 2) and default_weights(3).shape == (105, 3)
    g = torch.Generator().manual_seed(1)
    F = torch.rand(4, 12, 3, generator=g, dtype=torch.float64)
    mask = torch.rand(4, 12, generator=g) < 0.7
    got = r2(F, mask=mask)
    for b in range(4):
        assert got[b].item() == pytest.approx(r2(F[b][mask[b]]).item(), rel=1e-12)
    # a set that dominates another has a lower (better) R2
    assert r2(F[0] * 0.5).item() < r2(F[0]).item()
