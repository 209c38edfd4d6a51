"""Distance-based indicators against a reference front: IGD, IGD+, GD, GD+ and additive epsilon.

``F [..., n, m]`` is the approximation set (minimization; ``mask [..., n]`` marks the real rows
of padded sets) and ``reference_front`` is ``[k, m]`` or batched ``[..., k, m]``. Returns ``[...]``
with ``F``'s dtype and device.

Edge cases, the same for every indicator here:

* an empty set (``n = 0``, or every row masked) scores ``+inf``, the limit of each definition
  when nothing approximates the front (the worst value, so "lower is better" still ranks it last);
* a real row of ``F`` or a front point holding NaN or ``±inf`` raises
  :class:`~moo.errors.NonFiniteError`;
* an empty reference front (``k = 0``), or one with another number of objectives, raises
  :class:`~moo.errors.ShapeError`.

Definitions (as in pymoo and moocore, no normalization; normalize the objectives first, e.g.
with :class:`moo.indicators.Evaluator`):

* GD  = mean over ``a`` in F of ``min_z ||a - z||``;       GD+  with ``d+(z, a) = ||max(a - z, 0)||``;
* IGD = mean over ``z`` in the front of ``min_a ||a - z||``; IGD+ with ``d+`` (Ishibuchi et al. 2015);
* additive epsilon = ``max_z min_a max_i (a_i - z_i)`` (Zitzler et al. 2003).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from moo.indicators._common import broadcast, point_mask, point_set, points

__all__ = ["igd", "igd_plus", "gd", "gd_plus", "epsilon_additive"]

_BLOCK_ELEMENTS = 1 << 23


def _pair_blocks(F, reference_front, mask, kind: str):
    """Yield ``(D, z_block)``: ``D [..., n, b]`` pairwise values for blocks of front points.

    Padded rows of ``F`` are set to ``+inf`` so they never win a minimum; an empty set becomes
    one padded row, so every indicator reads ``+inf`` for it.
    """
    F = points(F)
    mask = point_mask(mask, F)
    Z = point_set(reference_front, F, "reference_front")
    if F.shape[-2] == 0:
        F, mask = F.new_zeros(F.shape[:-2] + (1, F.shape[-1])), mask.new_zeros(mask.shape[:-1] + (1,))
    batch = broadcast(F.shape[:-2], Z.shape[:-2])
    n, k, m = F.shape[-2], Z.shape[-2], F.shape[-1]
    F, mask, Z = F.expand(batch + (n, m)), mask.expand(batch + (n,)), Z.expand(batch + (k, m))
    block = max(1, _BLOCK_ELEMENTS // max(1, math.prod(batch) * n * m))
    A = F.unsqueeze(-2)  # [..., n, 1, m]
    for s in range(0, k, block):
        diff = A - Z[..., s:s + block, :].unsqueeze(-3)  # a - z, [..., n, b, m]
        if kind == "euclid":
            D = diff.square().sum(-1).sqrt()
        elif kind == "plus":
            D = diff.clamp_min(0).square().sum(-1).sqrt()
        else:  # epsilon
            D = diff.amax(-1)
        yield torch.where(mask.unsqueeze(-1), D, torch.full_like(D, float("inf"))), mask


def _inverted(F, reference_front, mask, kind: str) -> Tensor:
    """Mean over front points of the smallest value over the set."""
    parts = [D.amin(-2) for D, _ in _pair_blocks(F, reference_front, mask, kind)]
    return torch.cat(parts, dim=-1).mean(-1)


def _forward(F, reference_front, mask, kind: str) -> Tensor:
    """Mean over the set's real rows of the smallest value over the front (``inf`` when empty)."""
    best, real = None, None
    for D, real in _pair_blocks(F, reference_front, mask, kind):
        low = D.amin(-1)
        best = low if best is None else torch.minimum(best, low)
    count = real.sum(-1)
    total = torch.where(real, best, torch.zeros_like(best)).sum(-1)
    return torch.where(count > 0, total / count.clamp_min(1), torch.full_like(total, float("inf")))


def igd(F, reference_front, *, mask: Tensor | None = None) -> Tensor:
    """Inverted generational distance: mean Euclidean distance from each front point to the set.

    An empty set scores ``+inf``; NaN/inf raises :class:`~moo.errors.NonFiniteError`, an empty
    front :class:`~moo.errors.ShapeError`.
    """
    return _inverted(F, reference_front, mask, "euclid")


def igd_plus(F, reference_front, *, mask: Tensor | None = None) -> Tensor:
    """IGD+ (Ishibuchi et al. 2015): IGD with the dominance-aware distance ``||max(a - z, 0)||``.

    An empty set scores ``+inf``; NaN/inf raises :class:`~moo.errors.NonFiniteError`, an empty
    front :class:`~moo.errors.ShapeError`.
    """
    return _inverted(F, reference_front, mask, "plus")


def gd(F, reference_front, *, mask: Tensor | None = None) -> Tensor:
    """Generational distance: mean Euclidean distance from each point of the set to the front
    (the ``p = 1`` form used by pymoo).

    An empty set scores ``+inf``; NaN/inf raises :class:`~moo.errors.NonFiniteError`, an empty
    front :class:`~moo.errors.ShapeError`.
    """
    return _forward(F, reference_front, mask, "euclid")


def gd_plus(F, reference_front, *, mask: Tensor | None = None) -> Tensor:
    """GD+ (Ishibuchi et al. 2015): GD with the distance ``||max(a - z, 0)||``.

    An empty set scores ``+inf``; NaN/inf raises :class:`~moo.errors.NonFiniteError`, an empty
    front :class:`~moo.errors.ShapeError`.
    """
    return _forward(F, reference_front, mask, "plus")


def epsilon_additive(F, reference_front, *, mask: Tensor | None = None) -> Tensor:
    """Additive epsilon indicator: the smallest ``eps`` such that every front point is weakly
    dominated by some point of the set shifted by ``-eps``; ``max_z min_a max_i (a_i - z_i)``.

    An empty set scores ``+inf``; NaN/inf raises :class:`~moo.errors.NonFiniteError`, an empty
    front :class:`~moo.errors.ShapeError`.
    """
    parts = [D.amin(-2) for D, _ in _pair_blocks(F, reference_front, mask, "eps")]
    return torch.cat(parts, dim=-1).amax(-1)
