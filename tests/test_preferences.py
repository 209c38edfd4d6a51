"""Preference samplers and scalarizations (moo.preferences), cross-checked against pymoo's
decompositions and the Dirichlet moments."""
import math

import numpy as np
import pytest
import torch

from moo.errors import MooValueError, ShapeError
from moo.preferences import (aasf, augmented_tchebycheff, das_dennis, dirichlet, get_scalarization, linear,
                             modified_tchebycheff, pbi, project_simplex, riesz_energy, sample_preferences,
                             smooth_tchebycheff, tchebycheff, uniform_simplex)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def on_simplex(W):
    return bool((W >= 0).all()) and torch.allclose(W.sum(-1), torch.ones(W.shape[0], dtype=W.dtype))


def test_das_dennis_count_and_simplex():
    W = das_dennis(13, 3)
    assert W.shape == (math.comb(15, 2), 3) and on_simplex(W)
    assert sample_preferences("das-dennis", 100, 3).shape == (91, 3)
    assert sample_preferences("das-dennis", 100, 2).shape == (100, 2)


@pytest.mark.parametrize("alpha", [0.2, 1.0, 3.0])
def test_dirichlet_moments(alpha):
    m, n = 3, 40000
    W = dirichlet(n, m, alpha, generator=gen(1))
    assert on_simplex(W)
    a0 = alpha * m
    mean, var = 1 / m, (alpha / a0) * (1 - alpha / a0) / (a0 + 1)  # Dirichlet moments
    assert torch.allclose(W.mean(0), torch.full((m,), mean, dtype=W.dtype), atol=0.01)
    assert torch.allclose(W.var(0), torch.full((m,), var, dtype=W.dtype), rtol=0.06)


def test_samplers_are_reproducible_and_validate():
    assert torch.equal(dirichlet(5, 2, generator=gen(3)), dirichlet(5, 2, generator=gen(3)))
    assert not torch.equal(dirichlet(5, 2, generator=gen(3)), dirichlet(5, 2, generator=gen(4)))
    assert on_simplex(uniform_simplex(50, 4, generator=gen()))
    with pytest.raises(MooValueError, match="alpha"):
        dirichlet(3, 2, -1.0)
    with pytest.raises(MooValueError, match="n_obj"):
        uniform_simplex(3, 0)
    with pytest.raises(MooValueError, match="method"):
        sample_preferences("grid", 3, 2)


def test_project_simplex_known_values():
    W = torch.tensor([[0.5, 0.5, 0.5], [2.0, 0.0, 0.0], [0.2, 0.3, 0.5], [1.0, -1.0, 0.4]], dtype=torch.float64)
    P = project_simplex(W)
    expected = torch.tensor([[1 / 3] * 3, [1.0, 0, 0], [0.2, 0.3, 0.5], [0.8, 0.0, 0.2]], dtype=torch.float64)
    assert torch.allclose(P, expected)


def test_riesz_energy_spreads_better_than_random():
    W = riesz_energy(21, 3, generator=gen(0), n_iter=150)
    assert W.shape == (21, 3) and on_simplex(W)
    U = uniform_simplex(21, 3, generator=gen(0))
    assert torch.pdist(W).min() > 2 * torch.pdist(U).min()
    # a 21-point Das-Dennis grid has spacing sqrt(2)/5 = 0.283; an even spread gets close to it
    assert torch.pdist(W).min() > 0.2


# --------------------------------------------------------------------------- scalarizations vs pymoo
@pytest.fixture
def batch():
    g = gen(7)
    F = torch.rand(30, 3, generator=g, dtype=torch.float64)
    W = dirichlet(30, 3, generator=g)
    z = torch.tensor([-0.1, -0.2, 0.0], dtype=torch.float64)
    return F, W, z


def test_against_pymoo(batch):
    from pymoo.decomposition.aasf import AASF
    from pymoo.decomposition.asf import ASF
    from pymoo.decomposition.pbi import PBI
    from pymoo.decomposition.tchebicheff import Tchebicheff
    from pymoo.decomposition.weighted_sum import WeightedSum

    F, W, z = batch
    Fn, Wn, zn = F.numpy(), W.numpy(), z.numpy()
    # pymoo pairs F row i with weights row i when both have n rows
    assert np.allclose(linear(F, W).numpy(), WeightedSum().do(Fn, Wn))
    assert np.allclose(tchebycheff(F, W, z).numpy(), Tchebicheff().do(Fn, Wn, utopian_point=zn))
    assert np.allclose(pbi(F, W, z, theta=5.0).numpy(), PBI(theta=5.0).do(Fn, Wn, ideal_point=zn))
    assert np.allclose(tchebycheff(F, W, z, inverse=True).numpy(), ASF().do(Fn, Wn, utopian_point=zn))
    assert np.allclose(aasf(F, W, z, rho=1e-3).numpy(), AASF(rho=1e-3).do(Fn, Wn, utopian_point=zn))


def test_augmented_modified_and_smooth_definitions(batch):
    F, W, z = batch
    D = F - z
    assert torch.allclose(augmented_tchebycheff(F, W, z, rho=0.01), (W * D).amax(-1) + 0.01 * D.sum(-1))
    assert torch.allclose(augmented_tchebycheff(F, W, z, rho=0.01, inverse=True, eps=1e-4),
                          (D / (W + 1e-4)).amax(-1) + 0.01 * D.sum(-1))
    assert torch.allclose(modified_tchebycheff(F, W, z, rho=0.05), (W * (D + 0.05 * D.sum(-1, keepdim=True))).amax(-1))
    # smooth Tchebycheff: upper bound of Tchebycheff within mu * log(m), tends to it as mu -> 0
    t = tchebycheff(F, W, z)
    s = smooth_tchebycheff(F, W, z, mu=0.1)
    assert bool((s >= t - 1e-12).all()) and bool((s <= t + 0.1 * math.log(3) + 1e-12).all())
    assert torch.allclose(smooth_tchebycheff(F, W, z, mu=1e-4), t, atol=1e-3)


def test_batched_broadcast_and_differentiable():
    g = gen(2)
    F = torch.rand(4, 1, 2, generator=g, dtype=torch.float64, requires_grad=True)
    W = dirichlet(5, 2, generator=g)  # 5 preferences against 4 solutions
    for name in ("linear", "tchebycheff", "augmented-tchebycheff", "modified-tchebycheff",
                 "smooth-tchebycheff", "pbi", "aasf"):
        out = get_scalarization(name)(F, W, torch.zeros(2, dtype=torch.float64))
        assert out.shape == (4, 5)
    assert torch.autograd.gradcheck(lambda f: smooth_tchebycheff(f, W, None, mu=0.2), (F,))
    assert torch.autograd.gradcheck(lambda f: pbi(f, W, torch.tensor([-0.1, -0.1], dtype=torch.float64)), (F,))


def test_scalarization_errors():
    with pytest.raises(ShapeError, match="objectives"):
        linear(torch.zeros(3, 2), torch.zeros(3, 3))
    with pytest.raises(ShapeError, match="ideal"):
        tchebycheff(torch.zeros(3, 2), torch.ones(3, 2), torch.zeros(3))
    with pytest.raises(MooValueError, match="mu"):
        smooth_tchebycheff(torch.zeros(3, 2), torch.ones(3, 2), mu=0.0)
    with pytest.raises(MooValueError, match="scalarization"):
        get_scalarization("tchebychev")
