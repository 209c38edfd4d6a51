"""Pareto dominance utilities in torch (placeholder until the batched version lands)."""
from __future__ import annotations

import torch
from torch import Tensor


def non_dominated_mask(F: Tensor) -> Tensor:
    """Boolean mask ``[n]`` of the rows of ``F [n, m]`` that no other row dominates (minimization).

    Duplicates are all kept.
    """
    le = (F.unsqueeze(1) <= F.unsqueeze(0)).all(-1)
    lt = (F.unsqueeze(1) < F.unsqueeze(0)).any(-1)
    dominated = (le & lt).any(0)
    return ~dominated
