"""MGDA min-norm solver against an independent QP solution (scipy SLSQP) and its optimality
conditions."""
import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from moo.algorithms.mgda import min_norm_direction, min_norm_weights
from moo.errors import ShapeError


def qp_min_norm(G: np.ndarray) -> float:
    """min ||w G||^2 over the simplex, by SLSQP."""
    m = G.shape[0]
    M = G @ G.T
    res = minimize(lambda w: w @ M @ w, np.full(m, 1 / m), jac=lambda w: 2 * M @ w,
                   bounds=[(0, 1)] * m, constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
                   method="SLSQP", options={"ftol": 1e-15, "maxiter": 500})
    return float(res.fun)


@pytest.mark.parametrize("m", [2, 3, 5])
def test_min_norm_matches_qp(m):
    rng = np.random.default_rng(m)
    G = rng.normal(size=(16, m, 6))
    G[:4] += 2.0  # some batches with a clear common descent direction
    w = min_norm_weights(torch.tensor(G), max_iter=2000, tol=1e-14)
    assert torch.allclose(w.sum(-1), torch.ones(16, dtype=torch.float64))
    assert bool((w >= 0).all())
    d = min_norm_direction(torch.tensor(G), max_iter=2000, tol=1e-14).numpy()
    for b in range(16):
        assert (d[b] ** 2).sum() <= qp_min_norm(G[b]) + 1e-6


def test_two_objectives_closed_form_and_optimality():
    g1 = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    g2 = torch.tensor([[0.0, 1.0], [-1.0, 0.0], [2.0, 2.0]], dtype=torch.float64)
    d = min_norm_direction(torch.stack([g1, g2], 1))
    expected = torch.tensor([[0.5, 0.5], [0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    assert torch.allclose(d, expected)
    # KKT: <d, g_i> >= ||d||^2 for every objective (a common descent direction)
    G = torch.randn(50, 4, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    d = min_norm_direction(G, max_iter=5000, tol=1e-15)
    inner = (G @ d.unsqueeze(-1)).squeeze(-1)
    assert bool((inner >= (d * d).sum(-1, keepdim=True) - 1e-5).all())


def test_rejects_bad_shapes():
    with pytest.raises(ShapeError):
        min_norm_weights(torch.zeros(3))
