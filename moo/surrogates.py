"""Gaussian-process surrogates shared by PSL-MOBO, SVH-PSL and the BoTorch peers.

One independent GP per objective (a batched BoTorch ``SingleTaskGP``): Matérn-5/2 kernel with
ARD length scales, inputs mapped to the unit cube by the problem's bounds, outcomes
standardized, hyper-parameters fitted by maximum marginal likelihood. This is the surrogate of
PSL-MOBO (Lin et al., NeurIPS 2022) and SVH-PSL (Nguyen et al., AAAI 2025).
"""
from __future__ import annotations

import warnings

import torch
from torch import Tensor


class GPSurrogate:
    """Independent GPs, one per objective, fitted on ``(X, Y)``.

    Args:
        bounds: ``[2, d]`` box used to normalise inputs.
        nu: Matérn smoothness (2.5 by default).

    After :meth:`fit`, ``model`` is the BoTorch model (usable with BoTorch acquisition
    functions), and :meth:`predict` / :meth:`lcb` are differentiable in ``X``.
    """

    def __init__(self, bounds: Tensor, *, nu: float = 2.5):
        self.bounds = bounds
        self.nu = nu
        self.model = None

    def fit(self, X: Tensor, Y: Tensor, *, maxiter: int | None = None) -> "GPSurrogate":
        """Fit on ``X [n, d]``, ``Y [n, m]`` (minimized objectives; float64 recommended).
        ``maxiter`` caps the L-BFGS iterations of the marginal-likelihood fit (``None``: BoTorch's)."""
        from botorch.fit import fit_gpytorch_mll
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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optimizer chatter on tiny data sets
            fit_gpytorch_mll(mll, optimizer_kwargs=None if maxiter is None else {"options": {"maxiter": maxiter}})
        model.eval()
        self.model = model
        return self

    def predict(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior mean and standard deviation, each ``[..., m]``, differentiable in ``X``."""
        if self.model is None:
            raise RuntimeError("GPSurrogate.predict called before fit")
        post = self.model.posterior(X)
        return post.mean, post.variance.clamp_min(1e-12).sqrt()

    def lcb(self, X: Tensor, beta: float = 0.1) -> Tensor:
        """Lower confidence bound ``mean - beta * std`` (PSL-MOBO's default ``beta = 0.1``)."""
        mean, std = self.predict(X)
        return mean - beta * std
