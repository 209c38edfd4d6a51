"""Hypervolume: exact (torch for m <= 3, moocore for more), Monte Carlo, contributions, improvement.

All functions take objective values ``F [..., n, m]`` (minimization) batched over leading
dimensions, a reference point ``[m]`` or ``[..., m]``, and an optional ``mask [..., n]`` marking
the real rows of padded sets. Only points strictly better than the reference point in every
objective count; the others (and padded rows) contribute nothing. An empty set (``n = 0``, or
every row masked) has hypervolume 0. Real rows and the reference point must be finite (NaN or
``±inf`` raises :class:`~moo.errors.NonFiniteError`). Every method computes in float64 (float32
on MPS, which has no float64) whatever the input dtype, so float32 objectives of large magnitude
lose no precision to cancellation; results are returned in ``F``'s dtype and device.

Exact torch kernels (differentiable with respect to the points, any device):

* m = 2: sort by the first objective, running minimum of the second, sum of the strips,
  ``O(n log n)``.
* m = 3: a sweep over the third objective. With the points sorted by the first objective once,
  the 2-D area dominated by the points below each slab of the third objective is a masked
  running minimum of the second; HV is the sum of slab depth times area. ``O(n^2)`` time and
  no Python loop over points (the slabs are processed in blocks so memory stays bounded).

For m >= 4 the exact value comes from moocore (CPU, not differentiable).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from moo.errors import MooValueError, ShapeError
from moo.indicators._common import broadcast, choice, point_mask, points, vector, wide

__all__ = ["HVEstimate", "hypervolume", "hv_contributions", "hv_improvement"]

METHODS = ("auto", "torch", "moocore", "mc")
# elements of one [..., slabs, n] block of the 3-D sweep: cache-sized on CPU, large on accelerators
_BLOCK_ELEMENTS_CPU = 1 << 17
_BLOCK_ELEMENTS_ACCELERATOR = 1 << 24
_MC_BLOCK_ELEMENTS = 1 << 24


class HVEstimate(NamedTuple):
    """A Monte Carlo hypervolume: the estimate and its standard error (same shape ``[...]``)."""

    value: Tensor
    stderr: Tensor


# ---------------------------------------------------------------------------- preparation
def _inputs(F, ref_point) -> tuple[Tensor, Tensor, torch.dtype]:
    """``F`` and the reference point checked and in the working dtype, and ``F``'s own dtype (that
    of the results)."""
    F = points(F)
    dtype = F.dtype
    F = F.to(wide(F))
    return F, vector(ref_point, F, "ref_point"), dtype


def _prepare(F: Tensor, r: Tensor, mask) -> tuple[Tensor, Tensor, Tensor]:
    """Broadcast ``F``, ``r`` (from :func:`_inputs`) and ``mask``; replace rows that do not count
    by the reference point.

    Returns ``P [..., n, m]`` (non-counting rows equal to ``r``), ``r [..., m]`` and ``valid [..., n]``.
    """
    mask = point_mask(mask, F)
    batch = broadcast(F.shape[:-2], r.shape[:-1])
    n, m = F.shape[-2:]
    F = F.expand(batch + (n, m))
    mask = mask.expand(batch + (n,))
    r = r.expand(batch + (m,))
    valid = mask & (F < r.unsqueeze(-2)).all(-1)
    P = torch.where(valid.unsqueeze(-1), F, r.unsqueeze(-2).expand_as(F))
    return P, r, valid


# ---------------------------------------------------------------------------- exact torch kernels
def _hv1d(P: Tensor, r: Tensor) -> Tensor:
    return (r[..., 0] - P[..., 0].amin(-1)).clamp_min(0) if P.shape[-2] else r.new_zeros(r.shape[:-1])


def _hv2d(P: Tensor, r: Tensor) -> Tensor:
    if P.shape[-2] == 0:
        return r.new_zeros(r.shape[:-1])
    order = torch.sort(P[..., 0], dim=-1, stable=False).indices
    x = torch.gather(P[..., 0], -1, order)
    y = torch.gather(P[..., 1], -1, order)
    width = torch.cat([x[..., 1:], r[..., :1]], dim=-1) - x
    height = r[..., 1:2] - torch.cummin(y, dim=-1).values
    return (width * height).sum(-1)


def _hv3d(P: Tensor, r: Tensor) -> Tensor:
    n = P.shape[-2]
    if n == 0:
        return r.new_zeros(r.shape[:-1])
    order = torch.sort(P[..., 0], dim=-1, stable=False).indices
    S = torch.gather(P, -2, order.unsqueeze(-1).expand_as(P))
    x, y, z = S[..., 0], S[..., 1], S[..., 2]
    width = (torch.cat([x[..., 1:], r[..., :1]], dim=-1) - x).unsqueeze(-1)  # [..., n, 1]
    order3 = torch.sort(z, dim=-1, stable=False).indices
    zs = torch.gather(z, -1, order3)
    depth = torch.cat([zs[..., 1:], r[..., 2:]], dim=-1) - zs  # slab i lies between the i-th and next z
    rank3 = torch.empty_like(order3).scatter_(-1, order3, torch.arange(n, device=P.device).expand_as(order3))
    ry = r[..., 1:2].unsqueeze(-1)  # [..., 1, 1]
    full = (ry.squeeze(-1) * width.squeeze(-1)).sum(-1, keepdim=True)  # area of an empty staircase, [..., 1]
    y, rank3 = y.unsqueeze(-2), rank3.unsqueeze(-2)
    batch = max(1, math.prod(P.shape[:-2]))
    elements = _BLOCK_ELEMENTS_CPU if P.device.type == "cpu" else _BLOCK_ELEMENTS_ACCELERATOR
    block = max(1, elements // (batch * n))
    total = None
    for a in range(0, n, block):
        slabs = torch.arange(a, min(n, a + block), device=P.device).unsqueeze(-1)  # [c, 1]
        # row i: the staircase of the points in the first i + 1 slabs, in x order
        stairs = torch.cummin(torch.where(rank3 <= slabs, y, ry), dim=-1).values  # [..., c, n]
        area = full - (stairs @ width).squeeze(-1)  # [..., c]
        part = (area * depth[..., a:a + block]).sum(-1)
        total = part if total is None else total + part
    return total


def _hv_torch(P: Tensor, r: Tensor) -> Tensor:
    m = P.shape[-1]
    if m > 3:
        raise MooValueError(f"method='torch' computes exact hypervolume for m <= 3 objectives, got m = {m}; "
                            "use method='moocore' (exact, CPU) or method='mc'")
    return (_hv1d, _hv2d, _hv3d)[m - 1](P, r)


# ---------------------------------------------------------------------------- moocore and Monte Carlo
def _writeable(a: np.ndarray) -> np.ndarray:
    return a if a.flags.writeable else a.copy()


def _to_like(a: np.ndarray, F: Tensor) -> Tensor:
    t = torch.from_numpy(a)
    return t if (F.dtype == torch.float64 and F.device.type == "cpu") else t.to(dtype=F.dtype, device=F.device)


def _flat(a: np.ndarray, batch: tuple[int, ...], tail: tuple[int, ...]) -> np.ndarray:
    """``a`` broadcast to ``batch + tail`` and flattened to ``[B, *tail]``, writeable."""
    if a.shape != batch + tail:
        a = np.broadcast_to(a, batch + tail)
    return _writeable(a.reshape((math.prod(batch),) + tail))


def _hv_moocore(F: Tensor, r: Tensor, mask: Tensor | None) -> Tensor:
    """moocore per set, in NumPy (moocore itself ignores points not strictly below ``r``)."""
    import moocore

    batch = broadcast(F.shape[:-2], r.shape[:-1])
    (n, m), B = F.shape[-2:], math.prod(batch)
    # writeable arrays: moocore's cffi bridge is far slower on read-only (broadcast) buffers
    Fn = _flat(F.detach().cpu().numpy(), batch, (n, m))
    Rn = _flat(r.detach().cpu().numpy(), batch, (m,))
    if mask is None:
        if not np.isfinite(Fn).all():
            point_mask(None, F)  # raises, naming the rows (moocore would crash or hang on them)
        Mn = None
    else:
        Mn = _flat(point_mask(mask, F).cpu().numpy(), batch, (n,))
    if B == 1 and Mn is None and n:  # the common single-set call, without the per-set bookkeeping
        out = np.array(moocore.hypervolume(Fn[0], ref=Rn[0]), dtype=np.float64)
        return _to_like(out.reshape(batch), F)
    out = np.zeros(B)
    # one indicator object per distinct reference point: moocore then validates the reference
    # once, not once per set (most batches share a single reference point)
    indicators: dict[bytes, "moocore.Hypervolume"] = {}
    for b in range(B):
        pts = Fn[b] if Mn is None else Fn[b][Mn[b]]
        if len(pts):
            key = Rn[b].tobytes()
            hv = indicators.get(key) or indicators.setdefault(key, moocore.Hypervolume(ref=Rn[b]))
            out[b] = hv(pts)
    return _to_like(out.reshape(batch), F)


def _hv_mc(P: Tensor, r: Tensor, valid: Tensor, n_samples: int, generator: torch.Generator | None) -> HVEstimate:
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 2:
        raise MooValueError(f"n_samples must be an integer >= 2, got {n_samples!r}")
    P, r = P.detach(), r.detach()
    if generator is None:
        generator = torch.Generator(device=P.device).manual_seed(0)
    m = P.shape[-1]
    U = torch.rand(n_samples, m, generator=generator, device=generator.device, dtype=P.dtype).to(P.device)
    lower = P.amin(-2) if P.shape[-2] else r  # [..., m]; non-counting rows equal r so they do not widen it
    box = r - lower
    volume = box.prod(-1)
    batch = max(1, math.prod(P.shape[:-2]))
    block = max(1, _MC_BLOCK_ELEMENTS // max(1, batch * P.shape[-2] * m))
    hits = torch.zeros(P.shape[:-2], dtype=P.dtype, device=P.device)
    for s in range(0, n_samples, block):
        X = lower.unsqueeze(-2) + U[s:s + block] * box.unsqueeze(-2)  # [..., b, m]
        dom = ((P.unsqueeze(-3) <= X.unsqueeze(-2)).all(-1) & valid.unsqueeze(-2)).any(-1)
        hits = hits + dom.to(P.dtype).sum(-1)
    p = hits / n_samples
    return HVEstimate(volume * p, volume * torch.sqrt(p * (1 - p) / n_samples))


# ---------------------------------------------------------------------------- public
def _resolve(method: str, F: Tensor, r: Tensor) -> str:
    choice(method, METHODS, "method")
    if method != "auto":
        return method
    m = F.shape[-1]
    if m >= 4:
        return "moocore"
    if F.requires_grad or r.requires_grad or F.device.type != "cpu" or m == 1:
        return "torch"
    # CPU without gradients: moocore's O(n log n) sweeps beat the O(n^2) 3-D torch kernel, and for
    # one 2-D set its call overhead is below that of a dozen torch ops; many 2-D sets go to torch.
    single = math.prod(broadcast(F.shape[:-2], r.shape[:-1])) <= 1
    return "moocore" if (m == 3 or single) else "torch"


def hypervolume(F, ref_point, *, method: str = "auto", mask: Tensor | None = None,
                n_samples: int = 100_000, generator: torch.Generator | None = None):
    """Hypervolume of each set ``F [..., n, m]`` with respect to ``ref_point``; returns ``[...]``.

    Args:
        F: objective values (minimization), batched over leading dimensions.
        ref_point: ``[m]`` or ``[..., m]``; only points strictly below it in every objective count.
        method: ``"torch"`` (exact, m <= 3, differentiable, any device), ``"moocore"`` (exact, any m,
            CPU, not differentiable), ``"mc"`` (Monte Carlo, any m, any device) or ``"auto"``, the
            fastest exact method measured by ``benchmarks/indicators.py``: torch whenever gradients
            are needed or the tensors are off CPU; on CPU without gradients moocore for m >= 3 and
            for a single 2-D set, torch for many 2-D sets in one call. m >= 4 is always moocore.
        mask: ``[..., n]`` bool, the real rows of padded sets.
        n_samples: Monte Carlo samples (``method="mc"`` only), uniform in the box between the
            sets' componentwise minimum and the reference point.
        generator: the ``torch.Generator`` for Monte Carlo; ``None`` means a fresh one seeded 0,
            so the default is deterministic.

    Returns:
        A tensor ``[...]`` with ``F``'s dtype and device (0 for an empty set); for ``method="mc"``
        an :class:`HVEstimate` ``(value, stderr)`` of such tensors.

    Raises:
        NonFiniteError: ``ref_point`` or a real row of ``F`` holds NaN or ``±inf``.
    """
    F, r, dtype = _inputs(F, ref_point)
    method = _resolve(method, F, r)
    if method == "moocore":
        return _hv_moocore(F, r, mask).to(dtype)
    P, r, valid = _prepare(F, r, mask)
    if method == "mc":
        value, stderr = _hv_mc(P, r, valid, n_samples, generator)
        return HVEstimate(value.to(dtype), stderr.to(dtype))
    return _hv_torch(P, r).to(dtype)


def _exclusive_torch(P: Tensor, r: Tensor, valid: Tensor) -> Tensor:
    """``HV(S) - HV(S without i)`` for every row, as one batched leave-one-out call."""
    n = P.shape[-2]
    total = _hv_torch(P, r)
    eye = torch.eye(n, dtype=torch.bool, device=P.device)
    Q = torch.where(eye.unsqueeze(-1), r.unsqueeze(-2).unsqueeze(-2), P.unsqueeze(-3))  # [..., n, n, m]
    without = _hv_torch(Q, r.unsqueeze(-2).expand(Q.shape[:-2] + (r.shape[-1],)))
    return torch.where(valid, total.unsqueeze(-1) - without, torch.zeros_like(without))


def hv_contributions(F, ref_point, *, method: str = "auto", mask: Tensor | None = None) -> Tensor:
    """Exclusive hypervolume contribution ``HV(S) - HV(S \\ {i})`` of every row, ``[..., n]``.

    Dominated points, duplicates, rows beyond the reference point and padded rows get 0 (a
    point dominated by another one still reduces that one's contribution). ``method``:
    ``"torch"`` (exact, m <= 3, differentiable; batched leave-one-out, ``O(n^3)`` for m = 3),
    ``"moocore"`` (exact, m >= 2, CPU) or ``"auto"`` (torch when gradients are needed or off CPU,
    moocore otherwise); m = 1 always uses torch. An empty set gives an empty ``[..., 0]``.
    """
    choice(method, ("auto", "torch", "moocore"), "method")
    F, r, dtype = _inputs(F, ref_point)
    P, r, valid = _prepare(F, r, mask)
    m = P.shape[-1]
    if method == "auto":
        method = "torch" if (P.requires_grad or P.device.type != "cpu") and m <= 3 else "moocore"
    if method == "torch" or m == 1:
        return _exclusive_torch(P, r, valid).to(dtype)
    import moocore

    (n, m), B = P.shape[-2:], math.prod(P.shape[:-2])
    Pn = P.detach().reshape(B, n, m).cpu().numpy()
    Vn = valid.reshape(B, n).cpu().numpy()
    Rn = _writeable(r.detach().reshape(B, m).cpu().numpy())
    out = np.zeros(Vn.shape)
    for b in range(len(Pn)):
        if Vn[b].any():
            out[b, Vn[b]] = moocore.hv_contributions(Pn[b][Vn[b]], ref=Rn[b], ignore_dominated=False)
    return torch.as_tensor(out, dtype=dtype, device=P.device).reshape(valid.shape)


def hv_improvement(candidates, F, ref_point, *, method: str = "auto", mask: Tensor | None = None) -> Tensor:
    """Hypervolume gained by adding each candidate alone to its set: ``HV(S + {c}) - HV(S)``.

    ``candidates [..., k, m]`` and ``F [..., n, m]`` (leading dimensions broadcast; ``mask [..., n]``
    marks the real rows of ``F``). Returns ``[..., k]``. Uses
    ``HVI(c) = vol([c, r]) - HV({max(f, c) : f in S})``, so the ``k`` candidates become one batched
    hypervolume call of ``k`` sets; differentiable with respect to the candidates and ``F`` with
    the torch kernels (m <= 3). ``method`` as in :func:`hypervolume` (``"mc"`` excluded). With an
    empty set each candidate gains the volume of its box ``[c, r]``.
    """
    choice(method, ("auto", "torch", "moocore"), "method")
    F, r, dtype = _inputs(F, ref_point)
    C = points(candidates, "candidates", like=F)
    if C.shape[-1] != F.shape[-1]:
        raise ShapeError(f"candidates have {C.shape[-1]} objectives but F has {F.shape[-1]}")
    point_mask(None, C, "candidates")
    mask = point_mask(mask, F)
    batch = broadcast(C.shape[:-2], F.shape[:-2], r.shape[:-1])
    k, n, m = C.shape[-2], F.shape[-2], F.shape[-1]
    C = C.expand(batch + (k, m))
    r = r.expand(batch + (m,))
    Q = torch.maximum(F.expand(batch + (n, m)).unsqueeze(-3), C.unsqueeze(-2))  # [..., k, n, m]
    box = (r.unsqueeze(-2) - C).clamp_min(0).prod(-1)  # [..., k]
    covered = hypervolume(Q, r.unsqueeze(-2), method=method, mask=mask.expand(batch + (n,)).unsqueeze(-2)
                          .expand(batch + (k, n)))
    return (box - covered).to(dtype)
