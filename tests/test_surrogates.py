"""GPSurrogate's closed-form posterior against BoTorch/GPyTorch's own (values and gradients)."""
import warnings

import pytest
import torch
from gpytorch.kernels import MaternKernel

from moo.errors import MooValueError
from moo.surrogates import GPSurrogate, matern


def _fitted(m: int, seed: int = 0) -> tuple[GPSurrogate, torch.Generator]:
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(30, 3, generator=g, dtype=torch.float64) * 4 - 2
    Y = torch.stack([(1.5 * X).sin().sum(-1), (X ** 2).sum(-1), X[:, 0] * X[:, 1]], -1)[:, :m]
    bounds = torch.tensor([[-2.0] * 3, [2.0] * 3], dtype=torch.float64)
    return GPSurrogate(bounds).fit(X, Y), g


@pytest.mark.parametrize("m", [1, 2])
def test_closed_form_posterior_equals_botorch(m):
    gp, g = _fitted(m)
    Xq = (torch.rand(3, 5, 3, generator=g, dtype=torch.float64) * 4 - 2).requires_grad_(True)
    mean, std = gp.predict(Xq)
    post = gp.model.posterior(Xq)
    scale = gp.model.outcome_transform.stdvs.reshape(m)  # compare in standardized units
    assert mean.shape == post.mean.shape == (3, 5, m)
    torch.testing.assert_close(mean / scale, post.mean / scale, rtol=0, atol=1e-8)
    torch.testing.assert_close(std ** 2 / scale ** 2, post.variance / scale ** 2, rtol=0, atol=1e-8)
    # gradients of the LCB (what the Pareto-set learners descend) agree too
    g_ours, = torch.autograd.grad(gp.lcb(Xq).sum(), Xq)
    g_ref, = torch.autograd.grad((post.mean - 0.1 * post.variance.sqrt()).sum(), Xq)
    assert g_ref.abs().max() > 1e-3  # not a flat surrogate
    torch.testing.assert_close(g_ours, g_ref, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("m", [1, 2])
def test_closed_form_joint_covariance_equals_botorch(m):
    gp, g = _fitted(m)
    Xq = torch.rand(6, 3, generator=g, dtype=torch.float64) * 4 - 2
    Xq = torch.cat([Xq, Xq[:1] + 1e-3])  # a near twin: strongly correlated with row 0
    cov = gp.covariance(Xq)
    mvn = gp.model.posterior(Xq).mvn
    full = mvn.covariance_matrix  # [7 m, 7 m], objectives interleaved or in blocks
    rows = [torch.arange(7) * m + j if m > 1 and mvn._interleaved else torch.arange(7) + 7 * j for j in range(m)]
    ref = torch.stack([full[r][:, r] for r in rows])
    scale = gp.model.outcome_transform.stdvs.reshape(m, 1, 1) ** 2
    assert cov.shape == (m, 7, 7)
    torch.testing.assert_close(cov / scale, ref / scale, rtol=0, atol=1e-8)
    torch.testing.assert_close(cov.diagonal(dim1=-2, dim2=-1), gp.predict(Xq)[1].T ** 2, rtol=1e-6, atol=1e-10)
    corr = cov[:, 0, 6] / (cov[:, 0, 0] * cov[:, 6, 6]).sqrt()
    assert bool((corr > 0.99).all())


def test_closed_form_interpolates_and_is_uncertain_away_from_data():
    gp, _ = _fitted(2)
    X = gp.model.train_inputs[0][0] * 4 - 2  # the training points, back in the box
    mean, std = gp.predict(X)
    far_std = gp.predict(torch.full((1, 3), 2.0, dtype=torch.float64) * torch.tensor([1.0, -1.0, 1.0]))[1]
    Y = gp.model.outcome_transform.untransform(gp.model.train_targets.T)[0]
    assert (mean - Y).abs().max() < 0.05 * Y.std()
    assert bool((far_std > std.median(0).values).all())


@pytest.mark.parametrize("nu", [0.5, 1.5, 2.5])
def test_matern_matches_gpytorch(nu):
    g = torch.Generator().manual_seed(1)
    A = torch.rand(4, 3, generator=g, dtype=torch.float64)
    B = torch.rand(6, 3, generator=g, dtype=torch.float64)
    k = MaternKernel(nu=nu).to(torch.float64)
    k.lengthscale = 1.0
    torch.testing.assert_close(matern(A, B, nu), k(A, B).to_dense(), rtol=1e-10, atol=1e-12)


def test_errors():
    with pytest.raises(MooValueError, match="nu"):
        matern(torch.zeros(1, 2), torch.zeros(1, 2), 2.0)
    with pytest.raises(RuntimeError, match="before fit"):
        GPSurrogate(torch.tensor([[0.0], [1.0]])).predict(torch.zeros(1, 1))


def test_fit_survives_an_optimizer_warning_on_every_attempt(monkeypatch):
    """BoTorch raises ModelFittingError when every fit attempt ends with an optimizer warning;
    the surrogate then keeps the first attempt's end point, which is the fit it would have
    accepted without the warning."""
    import botorch.fit
    from botorch.exceptions.warnings import OptimizationWarning

    clean, g = _fitted(2)
    scipy_fit = botorch.fit._fit_fallback.__kwdefaults__["optimizer"]

    def warning_fit(*args, **kwargs):
        result = scipy_fit(*args, **kwargs)
        warnings.warn("ABNORMAL_TERMINATION_IN_LNSRCH", OptimizationWarning)
        return result

    monkeypatch.setitem(botorch.fit._fit_fallback.__kwdefaults__, "optimizer", warning_fit)
    with pytest.warns(RuntimeWarning, match="optimizer's warning accepted"):
        rescued, _ = _fitted(2)
    Xq = torch.rand(7, 3, generator=g, dtype=torch.float64) * 4 - 2
    for a, b in zip(rescued.predict(Xq), clean.predict(Xq)):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)


def test_fit_raises_the_noise_floor_when_the_cholesky_fails_on_every_attempt(monkeypatch):
    """A kernel matrix that is not positive definite at BoTorch's noise floor on every attempt
    (as on a nearly linear objective, where the output scale grows to ~1e3) is refitted with the
    floor raised to the first of FALLBACK_NOISE_FLOORS."""
    import botorch.fit
    from linear_operator.utils.errors import NotPSDError

    from moo.surrogates import FALLBACK_NOISE_FLOORS

    scipy_fit = botorch.fit._fit_fallback.__kwdefaults__["optimizer"]

    def fragile_fit(mll, *args, **kwargs):
        if mll.likelihood.noise_covar.raw_noise_constraint.lower_bound.max() < FALLBACK_NOISE_FLOORS[0]:
            raise NotPSDError("Matrix not positive definite after repeatedly adding jitter")
        return scipy_fit(mll, *args, **kwargs)

    monkeypatch.setitem(botorch.fit._fit_fallback.__kwdefaults__, "optimizer", fragile_fit)
    with pytest.warns(RuntimeWarning, match="noise floor raised to 0.001"):
        gp, g = _fitted(2)
    assert bool((gp.model.likelihood.noise >= FALLBACK_NOISE_FLOORS[0]).all())
    Xq = torch.rand(7, 3, generator=g, dtype=torch.float64) * 4 - 2
    mean, std = gp.predict(Xq)
    assert bool(torch.isfinite(mean).all() and (std > 0).all())


def test_closed_form_factors_a_numerically_singular_covariance():
    """Near-duplicate inputs under a huge output scale make ``K + s^2 I`` singular in float64;
    the closed form adds jitter as GPyTorch does instead of stopping the run."""
    from moo.surrogates import ClosedFormGP

    g = torch.Generator().manual_seed(0)
    X = torch.rand(15, 2, generator=g, dtype=torch.float64)
    X = torch.cat([X, X + 1e-9])
    bounds = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    gp = GPSurrogate(bounds).fit(X, (3 * X).sin().sum(-1, keepdim=True))
    gp.model.covar_module.outputscale = torch.tensor(1e12, dtype=torch.float64)
    Z = gp.model.train_inputs[0]
    K = gp.model.covar_module(Z).to_dense().detach() + gp.model.likelihood.noise.item() * torch.eye(30)
    with pytest.raises(torch.linalg.LinAlgError):  # the plain factorization fails here
        torch.linalg.cholesky(K)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GPyTorch's NumericalWarning about the jitter
        mean, var = ClosedFormGP(gp.model, bounds, 2.5)(X[:5])
    Y = (3 * X[:5]).sin().sum(-1, keepdim=True)
    assert torch.isfinite(var).all() and (mean - Y).abs().max() < 0.05


def test_fit_keeps_a_usable_gp_when_every_noise_floor_fails(monkeypatch):
    """When no noise floor gives a positive definite kernel matrix either, the GP keeps its
    initial hyper-parameters (BoTorch rolls them back) and the search goes on with a warning."""
    import botorch.fit
    from linear_operator.utils.errors import NotPSDError

    def broken_fit(mll, *args, **kwargs):
        raise NotPSDError("Matrix not positive definite after repeatedly adding jitter")

    monkeypatch.setitem(botorch.fit._fit_fallback.__kwdefaults__, "optimizer", broken_fit)
    with pytest.warns(RuntimeWarning, match="keeps its initial hyper-parameters"):
        gp, g = _fitted(2)
    assert torch.allclose(gp.model.likelihood.noise, torch.tensor(1.0, dtype=torch.float64))
    Xq = torch.rand(7, 3, generator=g, dtype=torch.float64) * 4 - 2
    mean, std = gp.predict(Xq)
    assert bool(torch.isfinite(mean).all() and (std > 0).all())
