"""The MGDA min-norm problem: the shortest vector in the convex hull of objective gradients.

Given the gradients ``g_1 .. g_m`` of ``m`` objectives at a point, MGDA (Désidéri 2012; Sener &
Koltun, "Multi-Task Learning as Multi-Objective Optimization", NeurIPS 2018) finds weights
``w`` on the simplex minimising ``||sum_i w_i g_i||``. The negated min-norm vector is a common
descent direction for every objective (or zero at a Pareto-stationary point).

Everything here is batched over leading dimensions: ``G`` is ``[..., m, d]``.
Two objectives have a closed form; more use Frank-Wolfe on the Gram matrix with exact line
search, in its pairwise form (weight moves from the worst vertex in use to the best one), which
converges linearly on the simplex where Sener & Koltun's plain Frank-Wolfe zig-zags.
"""
from __future__ import annotations

import torch
from torch import Tensor

from moo.errors import MooValueError, ShapeError


def _line_search(aa: Tensor, ab: Tensor, bb: Tensor) -> Tensor:
    """``gamma`` in [0, 1] minimising ``||gamma a + (1 - gamma) b||^2`` from the inner products."""
    denom = aa + bb - 2.0 * ab
    safe = torch.where(denom > 0, denom, torch.ones_like(denom))
    gamma = ((bb - ab) / safe).clamp(0.0, 1.0)
    # Equal vectors: any gamma is optimal; keep the midpoint.
    return torch.where(denom > 0, gamma, torch.full_like(gamma, 0.5))


def min_norm_weights(G: Tensor, *, max_iter: int = 250, tol: float = 1e-10) -> Tensor:
    """Simplex weights ``w [..., m]`` minimising ``||w @ G||`` for gradients ``G [..., m, d]``.

    Args:
        G: one gradient per objective, ``[..., m, d]``.
        max_iter: pairwise Frank-Wolfe iterations (``m > 2`` only).
        tol: stop when the optimality gap ``max_{w_i > 0} (M w)_i - min_i (M w)_i`` (``M`` the
            Gram matrix) is at most ``tol`` in every batch element.
    """
    if G.dim() < 2:
        raise ShapeError(f"G must have shape [..., m, d], got {list(G.shape)}")
    m = G.shape[-2]
    if m < 1:
        raise MooValueError(f"G must hold at least one gradient, got m = {m}")
    if m == 1:
        return torch.ones(G.shape[:-1], dtype=G.dtype, device=G.device)
    M = G @ G.transpose(-1, -2)  # Gram matrix [..., m, m]
    if m == 2:
        gamma = _line_search(M[..., 0, 0], M[..., 0, 1], M[..., 1, 1])
        return torch.stack([gamma, 1.0 - gamma], dim=-1)
    w = torch.full(G.shape[:-1], 1.0 / m, dtype=G.dtype, device=G.device)
    for _ in range(max_iter):
        Mw = (M @ w.unsqueeze(-1)).squeeze(-1)                        # [..., m]
        t = Mw.argmin(-1, keepdim=True)                                # toward: steepest vertex
        s = torch.where(w > 0, Mw, torch.full_like(Mw, -torch.inf)).argmax(-1, keepdim=True)  # away
        gap = Mw.gather(-1, s) - Mw.gather(-1, t)                      # 0 exactly at the optimum
        if bool((gap <= tol).all()):
            break
        Mtt = M.diagonal(dim1=-2, dim2=-1).gather(-1, t)
        Mss = M.diagonal(dim1=-2, dim2=-1).gather(-1, s)
        Mts = M.gather(-1, s.unsqueeze(-1).expand(*s.shape[:-1], m, 1)).squeeze(-1).gather(-1, t)
        curvature = Mtt + Mss - 2.0 * Mts
        step = gap / torch.where(curvature > 0, curvature, torch.ones_like(curvature))
        step = torch.where(curvature > 0, step, w.gather(-1, s))
        step = torch.minimum(step, w.gather(-1, s)).clamp(min=0.0)
        step = torch.where(gap > tol, step, torch.zeros_like(step))
        w = w.scatter_add(-1, t, step).scatter_add(-1, s, -step)
    return w


def min_norm_direction(G: Tensor, **kwargs) -> Tensor:
    """The min-norm element ``w @ G`` of the convex hull of ``G [..., m, d]``, shape ``[..., d]``.

    Its negation decreases every objective to first order unless it is zero.
    """
    w = min_norm_weights(G, **kwargs)
    return (w.unsqueeze(-2) @ G).squeeze(-2)
