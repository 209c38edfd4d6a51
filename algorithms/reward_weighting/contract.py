"""The policy-task contract of the reward-weighting trainer.

A black-box :class:`moo.Problem` maps a decision vector to objectives. Here the decision is a
torch *policy*, and objectives are estimated from sampled rollouts, so the trainer talks to a
:class:`PolicyTask` instead:

* ``prompts(n, generator)`` draws ``n`` training contexts (questions, start states);
* ``sample(policy, prompts, group_size, generator)`` draws ``group_size`` rollouts per prompt
  with the policy and scores each with a vector reward; it returns :class:`Rollouts`;
* ``log_probs(policy, rollouts)`` re-scores the sampled actions under ``policy`` with gradients
  (token or time-step log-probabilities, ``[N, T]``, zero where ``mask`` is false);
* ``validate(policy)`` returns the validation objective vector ``[m]`` (greedy or averaged).

Rewards and validation objectives are **maximized**. Anything that calls moo's indicators
(minimization) negates them first (see :mod:`._hv`).

The policy itself is any ``torch.nn.Module``; a task decides how it samples and how it
computes log-probabilities (the built-in tasks call ``policy.sample`` / ``policy.log_probs``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence, runtime_checkable

import torch
from torch import Tensor

from moo.errors import ShapeError


@dataclass
class Rollouts:
    """A batch of ``G`` prompts × ``K`` rollouts, flattened group-major (``N = G * K``).

    Attributes:
        contexts: what the policy conditioned on, in the task's own format (one per rollout).
        actions: ``[N, T]`` sampled action / token ids, padded.
        mask: ``[N, T]`` bool, true on real (non-padding) steps.
        rewards: ``[G, K, m]`` float64 vector rewards (maximized).
        extras: task-specific information (decoded text, lengths, ...).
    """

    contexts: Any
    actions: Tensor
    mask: Tensor
    rewards: Tensor
    extras: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.rewards.dim() != 3:
            raise ShapeError(f"rewards must have shape [G, K, m], got {list(self.rewards.shape)}")
        n = self.rewards.shape[0] * self.rewards.shape[1]
        if self.actions.shape[0] != n or self.mask.shape != self.actions.shape:
            raise ShapeError(f"actions and mask must have shape [G*K={n}, T] alike, got "
                             f"{list(self.actions.shape)} and {list(self.mask.shape)}")

    @property
    def group_size(self) -> int:
        return int(self.rewards.shape[1])


@runtime_checkable
class PolicyTask(Protocol):
    """What :class:`~.trainer.RewardWeightingTrainer` needs from a task (see module docstring)."""

    n_obj: int
    objective_names: Sequence[str]

    def prompts(self, n: int, generator: torch.Generator) -> Any: ...

    def sample(self, policy: torch.nn.Module, prompts: Any, group_size: int,
               generator: torch.Generator) -> Rollouts: ...

    def log_probs(self, policy: torch.nn.Module, rollouts: Rollouts) -> Tensor: ...

    def validate(self, policy: torch.nn.Module) -> Tensor: ...
