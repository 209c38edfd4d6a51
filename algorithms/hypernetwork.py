"""The preference-to-solution network shared by the Pareto-set learners (PSL, PSL-MOBO, SVH-PSL).

A plain MLP maps a preference vector ``w`` on the simplex to a point in the problem's box:
``x = xl + (xu - xl) * sigmoid(mlp(w))``. This is the Pareto set model of Lin et al.,
"Pareto Set Learning for Expensive Multi-Objective Optimization" (NeurIPS 2022): two hidden
layers of 256 ReLU units and a sigmoid output (their problems live on ``[0, 1]^n``; here the
sigmoid is mapped onto the problem's bounds, so every output is feasible for the box).
Weights are initialised from a caller's ``torch.Generator`` with PyTorch's default
``nn.Linear`` scheme, so the network is reproducible without touching the global seed.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor, nn


def init_linear_(layer: nn.Linear, generator: torch.Generator) -> nn.Linear:
    """Re-initialise ``layer`` in place like ``nn.Linear.reset_parameters`` (weights and bias
    uniform on ``±1/sqrt(fan_in)``), drawing from ``generator``."""
    bound = 1.0 / math.sqrt(layer.in_features)
    with torch.no_grad():
        for p in (layer.weight, layer.bias):
            if p is None:
                continue
            u = torch.rand(p.shape, generator=generator, dtype=p.dtype, device=generator.device)
            p.copy_((2 * u - 1).to(p.device) * bound)
    return layer


def mlp(sizes: Sequence[int], generator: torch.Generator, *, dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None) -> nn.Sequential:
    """``Linear-ReLU-...-Linear`` with layer widths ``sizes``, initialised from ``generator``."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(init_linear_(nn.Linear(a, b, dtype=dtype, device=device), generator))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class ParetoSetModel(nn.Module):
    """Preference ``[..., n_obj]`` → solution ``[..., n_var]`` inside ``bounds``.

    Args:
        n_obj, n_var: input and output widths.
        bounds: ``[2, n_var]`` box; outputs are ``xl + (xu - xl) * sigmoid(.)``.
        generator: draws the initial weights.
        hidden: hidden layer widths (PSL-MOBO: ``(256, 256)``).
        dtype: network dtype (float32 by default); :meth:`forward` returns ``out_dtype``.
    """

    def __init__(self, n_obj: int, n_var: int, bounds: Tensor, generator: torch.Generator, *,
                 hidden: Sequence[int] = (256, 256), dtype: torch.dtype = torch.float32,
                 out_dtype: torch.dtype = torch.float64, device: torch.device | str | None = None):
        super().__init__()
        self.net = mlp([n_obj, *hidden, n_var], generator, dtype=dtype, device=device)
        b = torch.as_tensor(bounds, dtype=out_dtype, device=device)
        self.register_buffer("lower", b[0].clone())
        self.register_buffer("span", (b[1] - b[0]).clone())
        self.out_dtype = out_dtype

    def forward(self, pref: Tensor) -> Tensor:
        first = self.net[0]
        z = self.net(pref.to(dtype=first.weight.dtype, device=first.weight.device))
        return self.lower + self.span * torch.sigmoid(z).to(self.out_dtype)


def scalarized_step(model: nn.Module, optimizer: torch.optim.Optimizer, prefs: Tensor, objectives,
                    scalarize, *, normalize_grad: bool = True, violation=None,
                    penalty: float = 0.0) -> tuple[Tensor, Tensor, Tensor]:
    """One gradient step of ``model`` on ``sum_k scalarize(objectives(model(w_k)), w_k)``.

    With ``normalize_grad`` the gradient of each preference's scalarized value with respect to
    its solution ``x_k`` is scaled to unit norm before it is back-propagated into the network
    (PSL-MOBO's update; it makes the step independent of the objectives' scale).

    ``violation`` (a function ``X [k, n_var] -> [k]``, differentiable, 0 where feasible) adds an
    exact penalty: each solution's gradient becomes ``g_s + penalty * g_v`` with ``g_v`` the
    gradient of its violation, both scaled to unit norm under ``normalize_grad``; with
    ``penalty > 1`` every infeasible solution's step then reduces its violation to first order,
    whatever the scale of the objectives and constraints.
    Returns ``(X, F, values)`` of this step, detached.
    """
    def unit(g: Tensor) -> Tensor:
        return g / g.norm(dim=-1, keepdim=True).clamp_min(1e-12) if normalize_grad else g

    X = model(prefs)
    Xl = X.detach().requires_grad_(True)
    F = objectives(Xl)
    values = scalarize(F, prefs)
    (grad,) = torch.autograd.grad(values.sum(), Xl)
    grad = unit(grad)
    if violation is not None:
        (grad_v,) = torch.autograd.grad(violation(Xl).sum(), Xl)
        grad = grad + penalty * unit(grad_v)
    optimizer.zero_grad()
    X.backward(grad)
    optimizer.step()
    return X.detach(), F.detach(), values.detach()
