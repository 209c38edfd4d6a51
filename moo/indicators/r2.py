"""R2 indicators: Brockhoff, Wagner & Trautmann (2012) and the Multi-Objective GFlowNets variant.

Edge cases, as for the distance indicators: an empty set (``n = 0``, or every row masked) scores
``+inf``; NaN or ``±inf`` in a real row of ``F``, in ``weights`` or in the ideal/utopian point raises
:class:`~moo.errors.NonFiniteError`; an empty weight set (``K = 0``) raises
:class:`~moo.errors.ShapeError`; negative weights raise :class:`~moo.errors.MooValueError`.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from moo.errors import MooValueError, ShapeError
from moo.indicators._common import point_mask, point_set, points, vector
from moo.preferences import das_dennis

__all__ = ["r2", "r2_gflownet", "default_weights"]


def default_weights(n_obj: int, *, n_vectors: int = 100, dtype: torch.dtype = torch.float64,
                    device: torch.device | str | None = None) -> Tensor:
    """The Das-Dennis grid with the fewest partitions that gives at least ``n_vectors`` weight
    vectors (m = 2: 100, m = 3: 105, m = 4: 120, m = 5 and 6: 126)."""
    if n_obj == 1:
        return torch.ones(1, 1, dtype=dtype, device=device)
    p = 1
    while math.comb(p + n_obj - 1, n_obj - 1) < n_vectors:
        p += 1
    return das_dennis(p, n_obj, dtype=dtype, device=device)


def _best_tchebycheff(F, weights, point, mask, point_name: str) -> tuple[Tensor, Tensor]:
    """``min_a max_j w_j |p_j - a_j|`` for every weight vector, ``[..., K]``, and the weights."""
    F = points(F)
    mask = point_mask(mask, F)
    m = F.shape[-1]
    W = default_weights(m, dtype=F.dtype, device=F.device) if weights is None else point_set(weights, F, "weights")
    if W.dim() != 2:
        raise ShapeError(f"weights must have shape [K, m] with m = {m}, got {list(W.shape)}")
    if bool((W < 0).any()):
        raise MooValueError("weights must be non-negative")
    p = torch.zeros(m, dtype=F.dtype, device=F.device) if point is None else vector(point, F, point_name)
    dist = (p.unsqueeze(-2) - F).abs()  # [..., n, m]
    util = (W.unsqueeze(-3) * dist.unsqueeze(-2)).amax(-1)  # [..., n, K]
    util = torch.where(mask.unsqueeze(-1), util, torch.full_like(util, float("inf")))
    if F.shape[-2] == 0:
        return util.new_full(util.shape[:-2] + util.shape[-1:], float("inf")), W
    return util.amin(-2), W


def r2(F, *, weights=None, ideal=None, mask: Tensor | None = None) -> Tensor:
    """Unary R2 indicator (Brockhoff, Wagner & Trautmann, GECCO 2012), lower is better.

    ``R2(A) = 1/|W| * sum_w min_{a in A} max_j w_j |ideal_j - a_j|``: the mean over weight vectors
    of the best weighted Tchebycheff distance to the ideal (utopian) point.

    Args:
        F: ``[..., n, m]`` objective values (minimization).
        weights: ``[K, m]`` non-negative weight vectors; default :func:`default_weights` (a
            Das-Dennis grid of about 100 vectors).
        ideal: ``[m]`` or ``[..., m]``; default the origin (the ideal of normalized objectives).
        mask: ``[..., n]`` bool, the real rows of padded sets.

    An empty set scores ``+inf``; NaN/inf raises :class:`~moo.errors.NonFiniteError`, empty
    ``weights`` :class:`~moo.errors.ShapeError` (see the module docstring).
    """
    best, _ = _best_tchebycheff(F, weights, ideal, mask, "ideal")
    return best.mean(-1)


def r2_gflownet(F, *, weights=None, utopian=None, mask: Tensor | None = None) -> Tensor:
    """The R2 value reported by Multi-Objective GFlowNets (Jain et al., ICML 2023).

    ``sum_w min_{a in A} max_j w_j |u_j - a_j| / ||W||_F``: the sum (not the mean) over the weight
    grid, divided by the Frobenius norm of the whole weight matrix, as in their reference code.
    They maximize rewards in ``[0, 1]`` with utopian point ``u = 1``; in moo's minimization
    convention pass ``F = 1 - rewards`` with the default ``utopian`` (the origin), or
    ``F = -rewards`` with ``utopian = -1`` — the value is the same. Pass their weight grid
    (a Das-Dennis grid) as ``weights`` to reproduce their numbers exactly; the default is
    :func:`default_weights`. Edge cases as for :func:`r2` (an empty set scores ``+inf``).
    """
    best, W = _best_tchebycheff(F, weights, utopian, mask, "utopian")
    return best.sum(-1) / torch.linalg.norm(W)
