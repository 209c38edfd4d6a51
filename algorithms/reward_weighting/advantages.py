"""Advantage estimators for grouped rollouts: GRPO, RLOO and REINFORCE with a baseline.

Every estimator maps scalar rewards ``r [G, K]`` (``G`` prompts, ``K`` rollouts each) to
advantages ``[G, K]``:

* **GRPO** (Shao et al. 2024): ``(r - mean_group) / (std_group + eps)``, with the unbiased
  group standard deviation and ``eps = 1e-6`` as in verl, the framework of Lu et al. (2025).
* **RLOO** (Ahmadian et al. 2024): ``r_k - mean_{j != k} r_j``, the leave-one-out baseline.
* **REINFORCE** with the batch-mean baseline ``r - mean_batch``; ``whiten=True`` also divides
  by the batch standard deviation (verl's REINFORCE++ whitening).

``scale_invariant`` says whether multiplying every reward by one positive constant leaves the
advantages unchanged (GRPO, whitened REINFORCE); the trainer uses it to warn when a
hypervolume multiplier applied to rewards would be cancelled.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from moo.errors import MooValueError, ShapeError

_EPS = 1e-6


def _check(r: Tensor, min_k: int) -> None:
    if r.dim() != 2 or r.shape[1] < min_k:
        raise ShapeError(f"rewards must have shape [G, K] with K >= {min_k}, got {list(r.shape)}")


def grpo_advantages(r: Tensor, eps: float = _EPS) -> Tensor:
    """GRPO: group-normalized rewards ``(r - mean) / (std + eps)`` (unbiased std)."""
    _check(r, 2)
    return (r - r.mean(1, keepdim=True)) / (r.std(1, keepdim=True) + eps)


def rloo_advantages(r: Tensor) -> Tensor:
    """RLOO: each reward minus the mean of the other ``K - 1`` rewards of its group."""
    _check(r, 2)
    k = r.shape[1]
    return (r - (r.sum(1, keepdim=True) - r) / (k - 1))


def reinforce_advantages(r: Tensor, whiten: bool = True, eps: float = _EPS) -> Tensor:
    """REINFORCE with the batch-mean baseline; ``whiten`` divides by the batch std."""
    _check(r, 1)
    a = r - r.mean()
    if whiten:
        a = a / (r.std() + eps) if r.numel() > 1 else a
    return a


@dataclass(frozen=True)
class AdvantageEstimator:
    """A named estimator; call it on rewards ``[G, K]``."""

    name: str
    whiten: bool = True

    def __call__(self, r: Tensor) -> Tensor:
        if self.name == "grpo":
            return grpo_advantages(r)
        if self.name == "rloo":
            return rloo_advantages(r)
        return reinforce_advantages(r, whiten=self.whiten)

    @property
    def scale_invariant(self) -> bool:
        """True when a positive factor on all rewards cancels out of the advantages."""
        return self.name == "grpo" or (self.name == "reinforce" and self.whiten)


ESTIMATORS = ("grpo", "rloo", "reinforce")


def get_estimator(name: str, *, whiten: bool = True) -> AdvantageEstimator:
    """The estimator called ``name`` (one of ``grpo``, ``rloo``, ``reinforce``)."""
    key = str(name).lower()
    if key not in ESTIMATORS:
        raise MooValueError(f"estimator must be one of {ESTIMATORS}, got {name!r}")
    return AdvantageEstimator(key, whiten)
