"""Indicators of *maximized* reward vectors through moo's (minimizing) indicators.

Rewards are maximized and :mod:`moo.indicators` minimizes, so points, reference points and
reference fronts are negated before every call: ``HV_max(F, r) = HV_min(-F, -r)``,
``HVI_max(c; S, r) = HVI_min(-c; -S, -r)`` and ``IGD_max(F; P) = IGD_min(-F; -P)``.
"""
from __future__ import annotations

import torch
from torch import Tensor

from moo.indicators import hv_improvement, hypervolume, igd


def _f64(x) -> Tensor:
    return torch.as_tensor(x, dtype=torch.float64).cpu()


def hypervolume_max(F, ref) -> float:
    """Hypervolume dominated by the rows of ``F [n, m]`` (maximized) above ``ref [m]``.

    Only points strictly better than ``ref`` in every objective count.
    """
    ref = _f64(ref)
    F = _f64(F).reshape(-1, ref.shape[-1])
    if F.shape[0] == 0:
        return 0.0
    return float(hypervolume(-F, -ref))


def hv_improvement_max(point, buffer, ref) -> float:
    """``HV(buffer ∪ {point}) - HV(buffer)`` for maximized vectors (0 when nothing is gained)."""
    ref = _f64(ref)
    point = _f64(point).reshape(1, -1)
    buffer = _f64(buffer).reshape(-1, point.shape[-1])
    if buffer.shape[0] == 0:
        return hypervolume_max(point, ref)
    return float(hv_improvement(-point, -buffer, -ref).reshape(-1)[0])


def expected_utility(F, weights) -> float:
    """Mean over ``weights [w, m]`` of the best linear utility ``max_i <w, F_i>`` (maximized)."""
    return float((_f64(weights) @ _f64(F).T).max(-1).values.mean())


def igd_max(F, front) -> float:
    """Inverted generational distance of ``F`` to the reference ``front`` (Euclidean)."""
    return float(igd(-_f64(F), -_f64(front)))
