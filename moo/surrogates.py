"""Gaussian-process surrogates shared by PSL-MOBO, SVH-PSL and the BoTorch peers.

Model: exact GP regression (Rasmussen & Williams, "Gaussian Processes for Machine Learning", MIT
Press 2006), one independent GP per objective, as a batched BoTorch ``SingleTaskGP`` (Balandat et
al., "BoTorch: A Framework for Efficient Monte-Carlo Bayesian Optimization", NeurIPS 2020). It is
the surrogate of PSL-MOBO (Lin et al., NeurIPS 2022) and SVH-PSL (Nguyen et al., AAAI 2025).

Definition. Inputs are mapped to the unit cube by the problem's bounds and outcomes are
standardized; each GP has a constant mean ``c``, a scaled Matérn kernel ``o * k_nu(x, x')`` with
ARD length scales, and Gaussian noise ``s^2``, fitted by maximizing the marginal likelihood. The
posterior at ``x`` is

    mean(x) = c + k(x)^T (K + s^2 I)^-1 (y - c),     var(x) = o - k(x)^T (K + s^2 I)^-1 k(x),

mapped back through the outcome standardization; :meth:`GPSurrogate.lcb` is
``mean - beta * std``.

Defaults: Matérn smoothness ``nu = 2.5``; BoTorch's ``fit_gpytorch_mll`` (L-BFGS-B, its priors
and noise floor of 1e-4); ``beta = 0.1`` for the LCB (PSL-MOBO's).

Deviations from plain BoTorch use:

* Predictions use the closed form above (:class:`ClosedFormGP`, one Cholesky factor per fit), not
  ``model.posterior``: the same numbers to round-off, without GPyTorch's per-call overhead.
* A likelihood fit that BoTorch gives up on is refitted (:meth:`GPSurrogate._fit_fallback`) with a
  ``RuntimeWarning`` instead of raising.

Why both: ``docs/notes/surrogates.md``.
"""
from __future__ import annotations

import math
import warnings

import torch
from linear_operator.utils.cholesky import psd_safe_cholesky
from torch import Tensor

from moo.errors import MooValueError

MIN_VARIANCE = 1e-10  # GPyTorch's floor on float64 posterior variances
FALLBACK_NOISE_FLOORS = (1e-3, 1e-2, 1e-1)  # see GPSurrogate._fit_fallback


def matern(Z1: Tensor, Z2: Tensor, nu: float) -> Tensor:
    """Matérn kernel ``[..., n1, n2]`` (unit output scale) on inputs already divided by their
    length scales; ``nu`` in {0.5, 1.5, 2.5}. Differentiable in both arguments (the distance is
    floored at 1e-15 as in GPyTorch, so coincident points get a zero, not a NaN, gradient)."""
    if nu not in (0.5, 1.5, 2.5):
        raise MooValueError(f"matern needs nu in (0.5, 1.5, 2.5), got {nu!r}")
    shift = Z2.mean(-2, keepdim=True)  # centring, as GPyTorch, keeps the expansion accurate
    A, B = Z1 - shift, Z2 - shift
    sq = A.pow(2).sum(-1, keepdim=True) - 2 * A @ B.transpose(-1, -2) + B.pow(2).sum(-1).unsqueeze(-2)
    r = sq.clamp_min(1e-30).sqrt()
    e = torch.exp(-math.sqrt(2 * nu) * r)
    if nu == 0.5:
        return e
    if nu == 1.5:
        return (1 + math.sqrt(3) * r) * e
    return (1 + math.sqrt(5) * r + 5.0 / 3.0 * r ** 2) * e


class ClosedFormGP:
    """The exact posterior of a fitted BoTorch ``SingleTaskGP`` (constant mean, scaled Matérn
    kernel with ARD length scales, Gaussian noise, ``Normalize`` inputs and ``Standardize``
    outcomes), precomputed once: ``mean(x) = c + k(x)^T (K + s^2 I)^-1 (y - c)`` and
    ``var(x) = o - |L^-1 k(x)|^2`` with ``L`` the Cholesky factor of ``K + s^2 I``, mapped back
    through the outcome transform. Batched over the objectives; differentiable in ``x``.
    """

    def __init__(self, model, bounds: Tensor, nu: float):
        Z = model.train_inputs[0]  # already normalized to the unit cube (eval mode)
        y = model.train_targets  # standardized
        if y.dim() == 1:  # one output: no batch dimension
            Z, y = Z.unsqueeze(0), y.unsqueeze(0)
        b, d = y.shape[0], Z.shape[-1]
        covar = model.covar_module
        self.nu = nu
        self.lengthscale = covar.base_kernel.lengthscale.detach().reshape(b, 1, d)
        self.outputscale = covar.outputscale.detach().reshape(b, 1)
        self.constant = model.mean_module.constant.detach().reshape(b, 1)
        noise = model.likelihood.noise.detach().reshape(b, 1, 1)
        self.Z = Z.detach() / self.lengthscale
        K = self.outputscale.unsqueeze(-1) * matern(self.Z, self.Z, nu)
        K = K + noise * torch.eye(K.shape[-1], dtype=K.dtype, device=K.device)
        # GPyTorch factors this matrix with added jitter when it is numerically singular (a large
        # output scale over near-duplicate inputs); a plain Cholesky would stop the run there.
        self.L = psd_safe_cholesky(K)
        self.alpha = torch.cholesky_solve((y - self.constant).unsqueeze(-1), self.L).squeeze(-1)  # [b, n]
        self.lower, self.span = bounds[0], bounds[1] - bounds[0]
        tf = model.outcome_transform
        self.y_mean, self.y_std = tf.means.detach().reshape(b), tf.stdvs.detach().reshape(b)

    def _cross(self, X: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """For query rows ``X [N, d]``: their scaled inputs ``Zq [b, N, d]``, the cross-covariance
        ``k = k(Zq, Z) [b, N, n]`` with the training points and ``v = L^-1 k^T [b, n, N]``."""
        Zq = ((X - self.lower) / self.span).unsqueeze(0) / self.lengthscale
        k = self.outputscale.unsqueeze(-1) * matern(Zq, self.Z, self.nu)
        v = torch.linalg.solve_triangular(self.L, k.transpose(-1, -2), upper=False)
        return Zq, k, v

    def __call__(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior mean and variance of ``X [..., d]``, each ``[..., m]``."""
        lead = X.shape[:-1]
        _, k, v = self._cross(X.reshape(-1, X.shape[-1]))
        mean = self.constant + (k @ self.alpha.unsqueeze(-1)).squeeze(-1)  # [b, N]
        var = (self.outputscale - v.pow(2).sum(-2)).clamp_min(MIN_VARIANCE)
        mean = mean * self.y_std.unsqueeze(-1) + self.y_mean.unsqueeze(-1)
        var = var * self.y_std.pow(2).unsqueeze(-1)
        return mean.transpose(0, 1).reshape(*lead, -1), var.transpose(0, 1).reshape(*lead, -1)

    def covariance(self, X: Tensor) -> Tensor:
        """Joint posterior covariance of the latent function at the rows of ``X [N, d]``:
        ``[m, N, N]``, ``k(X, X) - v^T v`` with ``v = L^-1 k(Z, X)``, in the outcome's units."""
        if X.dim() != 2:
            raise MooValueError(f"covariance needs X [N, d], got shape {tuple(X.shape)}")
        Zq, _, v = self._cross(X)
        cov = self.outputscale.unsqueeze(-1) * matern(Zq, Zq, self.nu) - v.transpose(-1, -2) @ v
        return cov * self.y_std.pow(2).reshape(-1, 1, 1)


def _fit_quietly(mll, options: dict | None, **kwargs) -> None:
    """BoTorch's marginal-likelihood fit without its optimizer chatter on tiny data sets."""
    from botorch.fit import fit_gpytorch_mll

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_gpytorch_mll(mll, optimizer_kwargs=options, **kwargs)


class GPSurrogate:
    """Independent GPs, one per objective, fitted on ``(X, Y)``.

    Args:
        bounds: ``[2, d]`` box used to normalise inputs.
        nu: Matérn smoothness (2.5 by default).

    After :meth:`fit`, ``model`` is the BoTorch model (usable with BoTorch acquisition
    functions), and :meth:`predict` / :meth:`lcb` are differentiable in ``X`` (closed form,
    :class:`ClosedFormGP`; ``model.posterior`` gives the same numbers, slower).
    """

    def __init__(self, bounds: Tensor, *, nu: float = 2.5):
        self.bounds = bounds
        self.nu = nu
        self.model = None
        self.posterior: ClosedFormGP | None = None

    def fit(self, X: Tensor, Y: Tensor, *, maxiter: int | None = None) -> "GPSurrogate":
        """Fit on ``X [n, d]``, ``Y [n, m]`` (minimized objectives; float64 recommended).
        ``maxiter`` caps the L-BFGS iterations of the marginal-likelihood fit (``None``: BoTorch's)."""
        from botorch.exceptions.errors import ModelFittingError
        from botorch.models import SingleTaskGP
        from botorch.models.transforms import Normalize, Standardize
        from gpytorch.kernels import MaternKernel, ScaleKernel
        from gpytorch.mlls import ExactMarginalLogLikelihood

        X, Y = X.detach(), Y.detach()
        d, m = X.shape[-1], Y.shape[-1]
        batch = torch.Size([m]) if m > 1 else torch.Size([])  # a one-output SingleTaskGP has no batch
        covar = ScaleKernel(MaternKernel(nu=self.nu, ard_num_dims=d, batch_shape=batch), batch_shape=batch)
        model = SingleTaskGP(X, Y, covar_module=covar,
                             input_transform=Normalize(d, bounds=self.bounds.to(X)),
                             outcome_transform=Standardize(m=m))
        mll = ExactMarginalLogLikelihood(model.likelihood, model)
        options = None if maxiter is None else {"options": {"maxiter": maxiter}}
        try:
            _fit_quietly(mll, options)
        except ModelFittingError:
            self._fit_fallback(mll, options, X.shape[0])
        model.eval()
        self.model = model
        self.posterior = ClosedFormGP(model, self.bounds.to(X), self.nu)
        return self

    @staticmethod
    def _fit_fallback(mll, options: dict | None, n: int) -> None:
        """Fit after BoTorch gave up (``ModelFittingError`` after its own retries). First accept
        the optimizer's warning (the first attempt's end point is a usable fit); if the Cholesky
        still fails, raise the noise floor through :data:`FALLBACK_NOISE_FLOORS` (standardized
        units); if every floor fails, keep the GP's initial hyper-parameters (to which BoTorch
        has rolled back) with the last noise level. A ``RuntimeWarning`` says which; see
        ``docs/notes/surrogates.md``."""
        from botorch.exceptions.errors import ModelFittingError
        from gpytorch.constraints import GreaterThan

        try:
            _fit_quietly(mll, options, warning_handler=lambda w: True)
            how = "with the optimizer's warning accepted"
        except ModelFittingError:
            for floor in FALLBACK_NOISE_FLOORS:
                mll.likelihood.noise_covar.register_constraint("raw_noise", GreaterThan(floor))
                mll.likelihood.noise = 10 * floor
                try:  # one attempt from here: BoTorch's retries resample the noise below the floor
                    _fit_quietly(mll, options, warning_handler=lambda w: True, max_attempts=1)
                    how = f"with the noise floor raised to {floor}"
                    break
                except ModelFittingError:
                    continue
            else:
                how = ("nowhere: it keeps its initial hyper-parameters with noise "
                       f"{10 * FALLBACK_NOISE_FLOORS[-1]} (standardized units)")
        warnings.warn(f"GP likelihood fit on {n} points failed on every attempt; refitted {how}",
                      RuntimeWarning, stacklevel=3)

    def predict(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior mean and standard deviation, each ``[..., m]``, differentiable in ``X``."""
        if self.posterior is None:
            raise RuntimeError("GPSurrogate.predict called before fit")
        mean, var = self.posterior(X)
        return mean, var.sqrt()

    def covariance(self, X: Tensor) -> Tensor:
        """Joint posterior covariance ``[m, N, N]`` of the objectives at the rows of ``X [N, d]``
        (without observation noise, as ``model.posterior(X).mvn``)."""
        if self.posterior is None:
            raise RuntimeError("GPSurrogate.covariance called before fit")
        return self.posterior.covariance(X)

    def lcb(self, X: Tensor, beta: float = 0.1) -> Tensor:
        """Lower confidence bound ``mean - beta * std`` (PSL-MOBO's default ``beta = 0.1``)."""
        mean, std = self.predict(X)
        return mean - beta * std
