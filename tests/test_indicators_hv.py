"""Hypervolume, contributions and improvement against moocore (exact) and finite differences."""
import moocore
import numpy as np
import pytest
import torch

from moo.errors import MooValueError, ShapeError
from moo.indicators import HVEstimate, hv_contributions, hv_improvement, hypervolume


def _moocore_hv(F: np.ndarray, ref: np.ndarray) -> float:
    keep = (F < ref).all(1)
    return float(moocore.hypervolume(F[keep], ref=ref)) if keep.any() else 0.0


def _fronts(m: int, rng: np.random.Generator):
    """Random and degenerate sets: a front, a cloud, duplicates, dominated points, points beyond
    or on the reference point, a single point, the empty set."""
    ref = np.full(m, 1.0)
    sphere = np.abs(rng.normal(size=(40, m)))
    sphere /= np.linalg.norm(sphere, axis=1, keepdims=True)
    yield sphere * 0.9, ref
    yield rng.random((60, m)), ref
    dup = rng.random((8, m)) * 0.8
    yield np.vstack([dup, dup, dup[:3]]), ref
    base = rng.random((10, m)) * 0.5
    yield np.vstack([base, base + 0.1, base + 0.3]), ref  # dominated copies
    beyond = rng.random((20, m)) * 1.5
    beyond[0, 0] = 1.0  # exactly on the reference point in one objective
    yield beyond, ref
    yield rng.random((1, m)) * 0.5, ref
    yield np.zeros((0, m)), ref
    yield rng.integers(0, 4, size=(30, m)) / 4.0, ref  # many ties on a grid


@pytest.mark.parametrize("m", [2, 3, 4, 5, 6])
def test_exact_matches_moocore(m):
    rng = np.random.default_rng(m)
    methods = ("torch", "moocore", "auto") if m <= 3 else ("moocore", "auto")
    for F, ref in _fronts(m, rng):
        expected = _moocore_hv(F, ref)
        for method in methods:
            got = hypervolume(torch.as_tensor(F), ref, method=method)
            assert got.dtype == torch.float64 and got.shape == ()
            assert abs(got.item() - expected) <= 1e-10 * max(expected, 1e-300), (method, got.item(), expected)


@pytest.mark.parametrize("m", [2, 3])
def test_torch_large_front_matches_moocore(m):
    g = torch.Generator().manual_seed(m)
    F = torch.rand(700, m, generator=g, dtype=torch.float64)
    F = F / F.norm(dim=-1, keepdim=True)
    ref = torch.full((m,), 1.1, dtype=torch.float64)
    expected = moocore.hypervolume(F.numpy(), ref=ref.numpy())
    assert abs(hypervolume(F, ref, method="torch").item() - expected) <= 1e-10 * expected


@pytest.mark.parametrize("m", [2, 3])
def test_batched_masked_equals_per_set(m):
    g = torch.Generator().manual_seed(10 + m)
    F = torch.rand(6, 4, 25, m, generator=g, dtype=torch.float64)
    mask = torch.rand(6, 4, 25, generator=g) < 0.7
    mask[0, 0] = False  # an all-padding set
    ref = torch.rand(4, m, generator=g, dtype=torch.float64) * 0.3 + 0.8  # one reference point per column
    got = hypervolume(F, ref, mask=mask, method="torch")
    assert got.shape == (6, 4)
    via_moocore = hypervolume(F, ref, mask=mask, method="moocore")
    for i in range(6):
        for j in range(4):
            expected = _moocore_hv(F[i, j][mask[i, j]].numpy(), ref[j].numpy())
            assert abs(got[i, j].item() - expected) <= 1e-10 * max(expected, 1e-300)
            assert abs(via_moocore[i, j].item() - expected) <= 1e-12
    # padded rows may hold anything, even NaN
    F2 = F.clone()
    F2[~mask] = float("nan")
    torch.testing.assert_close(hypervolume(F2, ref, mask=mask, method="torch"), got)


@pytest.mark.parametrize("m", [2, 3])
def test_gradients_match_finite_differences(m):
    g = torch.Generator().manual_seed(20 + m)
    F = (torch.rand(7, m, generator=g, dtype=torch.float64) * 0.9).requires_grad_(True)
    ref = torch.full((m,), 1.0, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: hypervolume(x, ref, method="torch"), (F,))
    # batched, with the reference point differentiable too
    Fb = (torch.rand(3, 5, m, generator=g, dtype=torch.float64) * 0.9).requires_grad_(True)
    rb = torch.full((m,), 1.0, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, r: hypervolume(x, r, method="torch"), (Fb, rb))
    # auto keeps the graph when gradients are needed
    hypervolume(F, ref).backward()
    assert F.grad is not None and bool((F.grad <= 0).all())


@pytest.mark.parametrize("m", [2, 3, 4, 5])
def test_monte_carlo_within_three_standard_errors(m):
    rng = np.random.default_rng(30 + m)
    F = rng.random((30, m))
    ref = np.full(m, 1.1)
    exact = _moocore_hv(F, ref)
    est = hypervolume(F, ref, method="mc", n_samples=20_000, generator=torch.Generator().manual_seed(m))
    assert isinstance(est, HVEstimate) and est.stderr.item() > 0
    assert abs(est.value.item() - exact) <= 3 * est.stderr.item()
    again = hypervolume(F, ref, method="mc", n_samples=20_000, generator=torch.Generator().manual_seed(m))
    assert est.value.item() == again.value.item()  # seeded
    batched = hypervolume(torch.as_tensor(np.stack([F, F])), ref, method="mc", n_samples=2_000)
    assert batched.value.shape == (2,)


@pytest.mark.parametrize("m", [2, 3, 4])
def test_contributions_match_moocore_and_definition(m):
    rng = np.random.default_rng(40 + m)
    pts = rng.random((12, m)) * 0.8
    F = np.vstack([pts, pts[:2], pts[2:4] + 0.05, [[1.5] * m]])  # duplicates, dominated, beyond
    ref = np.full(m, 1.0)
    total = _moocore_hv(F, ref)
    definition = np.array([total - _moocore_hv(np.delete(F, i, 0), ref) for i in range(len(F))])
    methods = ("torch", "moocore") if m <= 3 else ("moocore",)
    for method in methods:
        got = hv_contributions(torch.as_tensor(F), ref, method=method).numpy()
        np.testing.assert_allclose(got, definition, rtol=1e-9, atol=1e-13)
    assert (definition[12:14] == 0).all() and definition[-1] == 0


@pytest.mark.parametrize("m", [2, 3, 4])
def test_improvement_matches_moocore(m):
    rng = np.random.default_rng(50 + m)
    F = rng.random((15, m))
    cand = np.vstack([rng.random((6, m)), F[:1], [[2.0] * m]])  # new points, an existing one, one beyond
    ref = np.full(m, 1.0)
    base = _moocore_hv(F, ref)
    expected = np.array([_moocore_hv(np.vstack([F, c[None]]), ref) - base for c in cand])
    got = hv_improvement(torch.as_tensor(cand), torch.as_tensor(F), ref)
    assert got.shape == (len(cand),)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-9, atol=1e-13)
    assert got[-2].item() == pytest.approx(0, abs=1e-15) and got[-1].item() == 0


def test_improvement_batched_and_differentiable():
    g = torch.Generator().manual_seed(60)
    F = torch.rand(4, 10, 3, generator=g, dtype=torch.float64)
    mask = torch.rand(4, 10, generator=g) < 0.8
    cand = torch.rand(4, 5, 3, generator=g, dtype=torch.float64, requires_grad=True)
    ref = torch.ones(3, dtype=torch.float64)
    got = hv_improvement(cand, F, ref, mask=mask)
    assert got.shape == (4, 5)
    for b in range(4):
        base = _moocore_hv(F[b][mask[b]].numpy(), ref.numpy())
        for j in range(5):
            both = np.vstack([F[b][mask[b]].numpy(), cand[b, j].detach().numpy()[None]])
            assert got[b, j].item() == pytest.approx(_moocore_hv(both, ref.numpy()) - base, rel=1e-9, abs=1e-13)
    small = cand[:2, :3].detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda c: hv_improvement(c, F[:2], ref, mask=mask[:2]), (small,))


def test_dtype_and_errors():
    F32 = torch.rand(10, 2, generator=torch.Generator().manual_seed(0))
    assert hypervolume(F32, [1.0, 1.0]).dtype == torch.float32
    with pytest.raises(MooValueError, match="method"):
        hypervolume(F32, [1.0, 1.0], method="exact!")
    with pytest.raises(ShapeError, match="ref_point"):
        hypervolume(F32, [1.0, 1.0, 1.0])
    with pytest.raises(MooValueError, match="m <= 3"):
        hypervolume(torch.rand(3, 4), torch.ones(4), method="torch")
