"""Input checks shared by the indicators and :mod:`moo.pareto`.

One rule for every function that takes objective values: ``F [..., n, m]`` has ``m >= 1``
objectives and its real rows (all rows, or those ``mask`` marks) are finite — NaN and ``±inf``
raise :class:`~moo.errors.NonFiniteError`; padded rows may hold anything. Reference points,
reference fronts and weight sets must be finite as well, and a reference front or weight set
must hold at least one row (:class:`~moo.errors.ShapeError` otherwise).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from moo.errors import MooValueError, NonFiniteError, ShapeError
from moo.problem import as_tensor


def points(F, name: str = "F", *, like: Tensor | None = None) -> Tensor:
    """``F`` as a floating tensor of shape ``[..., n, m]`` with ``m >= 1`` (arrays become float64)."""
    F = as_tensor(F, name=name, like=like)
    if not F.dtype.is_floating_point:
        F = F.to(torch.float64)
    if F.dim() < 2 or F.shape[-1] == 0:
        raise ShapeError(f"{name} must have shape [..., n, m] with m >= 1 objectives, got {list(F.shape)}")
    return F


def point_mask(mask, F: Tensor, name: str = "F") -> Tensor:
    """The real rows of ``F`` (all of them when ``mask`` is None); rejects NaN and ``±inf`` among them."""
    if mask is None:
        mask = torch.ones(F.shape[:-1], dtype=torch.bool, device=F.device)
    else:
        mask = torch.as_tensor(mask, device=F.device)
        if mask.dtype != torch.bool or tuple(mask.shape) != tuple(F.shape[:-1]):
            raise ShapeError(f"mask must be a bool tensor of shape {list(F.shape[:-1])} ({name}'s shape without "
                             f"the last dimension), got {mask.dtype} {list(mask.shape)}")
    bad = ~torch.isfinite(F).all(-1) & mask
    if bool(bad.any()):
        raise NonFiniteError(f"{name} contains NaN or inf in {int(bad.sum())} row(s); values must be finite")
    return mask


def point_set(Z, F: Tensor, name: str) -> Tensor:
    """A set of reference rows such as a reference front or weight vectors: ``[..., k, m]`` on
    ``F``'s dtype and device, with ``k >= 1``, ``F``'s ``m`` objectives and finite values."""
    Z = points(Z, name, like=F)
    m = F.shape[-1]
    if Z.shape[-1] != m or Z.shape[-2] == 0:
        raise ShapeError(f"{name} must have shape [..., k, m] with k >= 1 rows and m = {m} objectives, "
                         f"got {list(Z.shape)}")
    point_mask(None, Z, name)
    return Z


def vector(v, F: Tensor, name: str) -> Tensor:
    """A point such as a reference point: ``[m]`` or ``[..., m]`` broadcastable to ``F``'s sets."""
    v = as_tensor(v, name=name, like=F)
    m = F.shape[-1]
    if v.dim() == 0 or v.shape[-1] != m:
        raise ShapeError(f"{name} must have shape [m] or [..., m] with m = {m} objectives, got {list(v.shape)}")
    if v.dim() > 1:
        broadcast(v.shape[:-1], F.shape[:-2], what=f"{name} of shape {list(v.shape)} and the sets of F")
    finite = np.isfinite(v.detach().numpy()).all() if v.device.type == "cpu" else bool(torch.isfinite(v).all())
    if not finite:
        raise NonFiniteError(f"{name} must be finite, got {v.tolist()}")
    return v


def wide(F: Tensor) -> torch.dtype:
    """The dtype indicators compute in: float64 (float32 where the device has no float64, MPS)."""
    return torch.float32 if F.device.type == "mps" else torch.float64


def broadcast(*shapes, what: str = "shapes") -> tuple[int, ...]:
    """The broadcast of batch shapes (plain Python: ``torch.broadcast_shapes`` costs ~20x more)."""
    if all(s == shapes[0] for s in shapes[1:]):
        return tuple(shapes[0])
    ndim = max(len(s) for s in shapes)
    out = []
    for dims in zip(*[(1,) * (ndim - len(s)) + tuple(s) for s in shapes]):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            raise ShapeError(f"{what} do not broadcast: {[list(s) for s in shapes]}")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def choice(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise MooValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value
