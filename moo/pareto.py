"""Pareto dominance utilities in torch: filtering, non-dominated sorting, crowding distance.

Every function takes objective values ``F [..., n, m]`` (minimization), batched over the
leading dimensions, with an optional boolean ``mask [..., n]`` that marks the real rows of
padded sets (``False`` rows are ignored: they dominate nothing and are never reported).
Real rows must be finite: NaN or ``±inf`` raises :class:`~moo.errors.NonFiniteError`.
Arrays are accepted; results live on ``F``'s device.
"""
from __future__ import annotations

import bisect
import math

import torch
from torch import Tensor

from moo.errors import MooValueError, ShapeError
from moo.indicators._common import point_mask, points

__all__ = [
    "total_violation",
    "dominance_matrix",
    "non_dominated_mask",
    "non_dominated_rank",
    "crowding_distance",
    "pareto_front",
]

# Upper bound on the elements of one [..., n, block, m] comparison tensor.
_CHUNK_ELEMENTS = 1 << 25


def total_violation(G: Tensor) -> Tensor:
    """Total constraint violation ``[n]`` of constraint values ``G [n, k]``: ``sum_j max(g_j, 0)``
    (pymoo's default), 0 exactly for a feasible row (feasible where every ``g_j <= 0``)."""
    return G.clamp(min=0).sum(-1)


def _check_points(F, mask, name: str = "F") -> tuple[Tensor, Tensor | None]:
    """Validate ``F [..., n, m]`` and ``mask [..., n]``; reject NaN and ``±inf`` in the real rows
    (the shared rule of :mod:`moo.indicators._common`)."""
    F = points(F, name)
    checked = point_mask(mask, F, name)
    return F, (None if mask is None else checked)


def _dominance(F: Tensor, mask: Tensor | None) -> Tensor:
    """``D[..., i, j]``: row ``i`` dominates row ``j`` (weakly better everywhere, strictly somewhere)."""
    n, m = F.shape[-2], F.shape[-1]
    batch = max(1, math.prod(F.shape[:-2]))
    block = max(1, _CHUNK_ELEMENTS // max(1, batch * n * m))
    Fi = F.unsqueeze(-2)  # [..., n, 1, m]
    parts = []
    for start in range(0, n, block):
        Fj = F[..., start:start + block, :].unsqueeze(-3)  # [..., 1, b, m]
        parts.append((Fi <= Fj).all(-1) & (Fi < Fj).any(-1))
    D = torch.cat(parts, dim=-1) if parts else F.new_zeros(F.shape[:-1] + (0,), dtype=torch.bool)
    if mask is not None:
        D = D & mask.unsqueeze(-1) & mask.unsqueeze(-2)
    return D


def dominance_matrix(F, *, mask: Tensor | None = None) -> Tensor:
    """Boolean ``D [..., n, n]`` with ``D[..., i, j]`` true when row ``i`` dominates row ``j``.

    Memory is ``O(n^2)`` per set; the comparison is done in column blocks.
    """
    F, mask = _check_points(F, mask)
    return _dominance(F, mask)


def _non_dominated_2d(F: Tensor, mask: Tensor | None) -> Tensor:
    """Sort-based ``O(n log n)`` filter for two objectives.

    After a lexicographic sort, row ``j`` is dominated exactly when some row placed before its
    group of duplicates has a second objective no larger than its own.
    """
    if mask is not None:
        F = torch.where(mask.unsqueeze(-1), F, torch.full_like(F, float("inf")))
    order = torch.sort(F[..., 1], dim=-1, stable=True).indices
    f1 = torch.gather(F[..., 0], -1, order)
    order = torch.gather(order, -1, torch.sort(f1, dim=-1, stable=True).indices)
    S = torch.gather(F, -2, order.unsqueeze(-1).expand_as(F))
    n = S.shape[-2]
    new_group = torch.ones(S.shape[:-1], dtype=torch.bool, device=S.device)
    new_group[..., 1:] = (S[..., 1:, :] != S[..., :-1, :]).any(-1)
    idx = torch.arange(n, device=S.device).expand(S.shape[:-1])
    group_start = torch.cummax(torch.where(new_group, idx, torch.zeros_like(idx)), dim=-1).values
    # best second objective strictly before position k (inf at k = 0)
    best_before = torch.cat([torch.full_like(S[..., :1, 1], float("inf")),
                             torch.cummin(S[..., :-1, 1], dim=-1).values], dim=-1)
    dominated_sorted = torch.gather(best_before, -1, group_start) <= S[..., 1]
    keep = torch.empty_like(dominated_sorted)
    keep.scatter_(-1, order, ~dominated_sorted)
    return keep if mask is None else keep & mask


def non_dominated_mask(F, *, mask: Tensor | None = None) -> Tensor:
    """Boolean mask ``[..., n]`` of the rows of ``F [..., n, m]`` that no other row dominates.

    Minimization; duplicates are all kept; padded rows (``mask`` false) are never kept.
    Two objectives use an ``O(n log n)`` sort, more use blocked pairwise comparison.
    """
    F, mask = _check_points(F, mask)
    if F.shape[-2] == 0:
        return torch.zeros(F.shape[:-1], dtype=torch.bool, device=F.device)
    if F.shape[-1] == 1:
        Fm = F[..., 0] if mask is None else torch.where(mask, F[..., 0], torch.full_like(F[..., 0], float("inf")))
        keep = Fm == Fm.min(-1, keepdim=True).values
        return keep if mask is None else keep & mask
    if F.shape[-1] == 2:
        return _non_dominated_2d(F, mask)
    keep = ~_dominance(F, mask).any(-2)
    return keep if mask is None else keep & mask


def _lex_order(F: Tensor) -> Tensor:
    """Indices sorting the rows of ``F`` lexicographically (first objective first)."""
    order = torch.arange(F.shape[0], device=F.device)
    for k in reversed(range(F.shape[1])):
        order = order[torch.argsort(F[order, k], stable=True)]
    return order


def _sorted_dominance(F: Tensor) -> Tensor:
    """``D[i, j]``: row ``i`` dominates row ``j``, for rows already in lexicographic order.

    A row never dominates one before it in that order, so only the upper triangle is built and
    the first objective needs no comparison; objectives are compared one at a time (a reduction
    over a short last dimension is slow), and exact duplicates (adjacent) are then excluded.
    """
    n = F.shape[0]
    le = torch.ones(n, n, dtype=torch.bool, device=F.device).triu_(1)
    for k in range(1, F.shape[1]):
        a = F[:, k]
        le.logical_and_(a.unsqueeze(1) <= a.unsqueeze(0))
    same = (F[1:] == F[:-1]).all(1)
    if bool(same.any()):
        group = torch.cat([same.new_zeros(1), ~same]).cumsum(0)
        le.logical_and_(group.unsqueeze(1) != group.unsqueeze(0))
    return le


def _rank_single(F: Tensor, n_stop: int) -> Tensor:
    """Front indices of one unpadded set ``F [n, m]``, computed until at least ``n_stop`` rows
    are ranked (later rows get ``-1``). An order of magnitude faster than the batched peel at
    survival-step sizes: two objectives are ranked whole by a sort in ``O(n log n)``; more
    peel a dominance matrix built only above the diagonal of the lexicographic order, where each
    front subtracts only its own rows and ranking stops early."""
    if F.shape[1] == 2:
        return _ranks_2d(F)
    order = _lex_order(F)
    D = _sorted_dominance(F[order]).view(torch.uint8)  # byte sums are much faster than bool sums
    counts = D.sum(0, dtype=torch.int32)
    rank = torch.full((F.shape[0],), -1, dtype=torch.long, device=F.device)
    todo = torch.ones(F.shape[0], dtype=torch.bool, device=F.device)
    r, ranked = 0, 0
    while ranked < n_stop:
        front = (todo & (counts == 0)).nonzero().flatten()
        rank[order[front]] = r
        todo[front] = False
        counts -= D[front].sum(0, dtype=torch.int32)
        ranked += len(front)
        r += 1
    return rank


def _ranks_2d(F: Tensor) -> Tensor:
    """All front indices for two objectives in ``O(n log n)`` (Jensen 2003): visit the rows in
    lexicographic order; front ``k``'s most recent member has its smallest ``f2`` and those
    "tails" increase with ``k``, so a row joins the first front whose tail has a larger ``f2``
    (an exact duplicate of the previous row joins that row's front)."""
    order = torch.argsort(F[:, 1], stable=True)
    order = order[torch.argsort(F[order, 0], stable=True)]
    pts = F[order].tolist()
    tails: list[float] = []
    ranks = [0] * len(pts)
    prev = None
    for i, (a, b) in enumerate(pts):
        if prev is not None and a == prev[0] and b == prev[1]:
            ranks[i] = ranks[i - 1]
            continue
        k = bisect.bisect_right(tails, b)
        if k == len(tails):
            tails.append(b)
        else:
            tails[k] = b
        ranks[i] = k
        prev = (a, b)
    rank = torch.empty(F.shape[0], dtype=torch.long, device=F.device)
    rank[order] = torch.tensor(ranks, dtype=torch.long, device=F.device)
    return rank


def non_dominated_rank(F, *, mask: Tensor | None = None, n_stop: int | None = None) -> Tensor:
    """Front index of every row, ``LongTensor [..., n]``: 0 for the non-dominated rows, 1 for the
    rows non-dominated once front 0 is removed, and so on (Deb et al. 2002, NSGA-II's fast
    non-dominated sort; the same ranks as pymoo's ``NonDominatedSorting``). Duplicates share a
    rank. Padded rows get rank ``-1``.

    Builds the ``[..., n, n]`` dominance matrix once (``O(n^2)`` memory), then peels one front per
    iteration. A single unpadded set ``[n, m]`` takes a faster path, and there ``n_stop`` ends
    the sort once at least that many rows are ranked (the rest get ``-1``; pymoo's
    ``n_stop_if_ranked``, what an NSGA survival step needs).
    """
    F, mask = _check_points(F, mask)
    if F.dim() == 2 and mask is None:
        return _rank_single(F, F.shape[0] if n_stop is None else n_stop)
    if n_stop is not None:
        raise MooValueError("n_stop applies to a single unpadded set F [n, m]")
    D = _dominance(F, mask)
    counts = D.sum(-2)  # number of dominators of each row (exact integer counts on every device)
    rank = torch.full(F.shape[:-1], -1, dtype=torch.long, device=F.device)
    todo = torch.ones_like(rank, dtype=torch.bool) if mask is None else mask.clone()
    r = 0
    while bool(todo.any()):
        front = todo & (counts == 0)
        rank[front] = r
        todo &= ~front
        counts = counts - (D & front.unsqueeze(-1)).sum(-2)
        r += 1
    return rank


def crowding_distance(F, *, mask: Tensor | None = None) -> Tensor:
    """NSGA-II crowding distance of every row of ``F [..., n, m]``, ``[..., n]``.

    For each objective the rows are sorted (stably); a row gets the gap between its two
    neighbours divided by the objective's range, and the two extremes get ``inf``. The result is
    the sum over objectives divided by ``m`` (pymoo's ``calc_crowding_distance``; Deb et al. 2002
    omit the division, which does not change the ordering). As in pymoo, an objective whose
    values are all equal contributes 0 to every row, extremes included, and a set of at most two
    rows is all ``inf``. Call it on one front (or pass ``mask`` for the rows of one front).
    Padded rows get 0.
    """
    F, mask = _check_points(F, mask)
    n, m = F.shape[-2], F.shape[-1]
    if n == 0:
        return F.new_zeros(F.shape[:-1])
    inf = float("inf")
    real = torch.ones(F.shape[:-1], dtype=torch.bool, device=F.device) if mask is None else mask
    Fs = torch.where(real.unsqueeze(-1), F, torch.full_like(F, inf))
    order = torch.sort(Fs, dim=-2, stable=True).indices
    S = torch.gather(Fs, -2, order)  # padded rows sort last at +inf
    edge = torch.full_like(S[..., :1, :], inf)
    prev = torch.cat([-edge, S[..., :-1, :]], dim=-2)
    nxt = torch.cat([S[..., 1:, :], edge], dim=-2)
    lo = torch.where(real.unsqueeze(-1), F, torch.full_like(F, inf)).amin(-2, keepdim=True)
    hi = torch.where(real.unsqueeze(-1), F, torch.full_like(F, -inf)).amax(-2, keepdim=True)
    span = hi - lo
    gap = (nxt - prev) / torch.where(span > 0, span, torch.ones_like(span))
    gap = torch.where(span > 0, gap, torch.zeros_like(gap))
    per_obj = torch.empty_like(gap).scatter_(-2, order, gap)
    cd = per_obj.sum(-1) / m
    small = real.sum(-1, keepdim=True) <= 2
    cd = torch.where(small & real, torch.full_like(cd, inf), cd)
    return torch.where(real, cd, torch.zeros_like(cd))


def pareto_front(F, *, return_index: bool = False):
    """The non-dominated rows of ``F [n, m]`` (duplicates kept, original order).

    With ``return_index=True`` returns ``(rows, index)`` where ``index`` is a ``LongTensor``.
    """
    F, _ = _check_points(F, None)
    if F.dim() != 2:
        raise ShapeError(f"pareto_front takes one set F [n, m], got {list(F.shape)}; use non_dominated_mask "
                         "for batches")
    keep = non_dominated_mask(F)
    index = keep.nonzero().flatten()
    return (F[index], index) if return_index else F[index]
