"""Weighting strategies: how a vector reward becomes the scalar signal of one policy step.

All strategies share one interface (:class:`WeightingStrategy`) and log a history of their
weights. The trainer calls, each step:

1. ``combine(rewards, estimator, objective_grads)`` → advantages ``[G, K]``;
2. after the optimizer step and validation, ``observe(step, objectives)``.

Strategies (Lu et al., "Learning to Optimize Multi-Objective Alignment Through Dynamic
Reward Weighting", 2025, arXiv:2509.11452):

* :class:`FixedWeights` — linear scalarization ``r = Σ w_i r_i``, then the estimator.
* :class:`HypervolumeGuided` — fixed weights times a hypervolume multiplier. The reference
  point is the initial policy's validation vector; after each step the new validation point's
  hypervolume improvement ΔHV over the buffer of earlier non-dominated points gives the next
  multiplier ``0.5 + 1.5 tanh(max(ΔHV, 0))``; the point joins the buffer only if ΔHV > 0.
  Before the first measurement the multiplier is 1.
  **Where the multiplier acts.** One positive factor on every reward of a batch is removed by
  GRPO's group std normalization and by whitened REINFORCE. By default (``placement=
  "advantage"``) the multiplier scales the advantages *after* the estimator, so it scales the
  step for every estimator. ``placement="reward"`` is the paper-literal variant (scale the
  scalarized rewards before the estimator); it warns (``UserWarning``) when the estimator is
  scale invariant, because the method then has no effect. With Adam the multiplier acts
  relative to the running second-moment estimate, i.e. it changes the step size of one step
  relative to its neighbours.
* :class:`GradientWeights` — per-objective policy gradients ``g_i`` (each from the estimator
  applied to reward ``i`` alone, optionally on a parameter subset), influence
  ``I_i = Σ_j <g_i, g_j>``, exponentiated-gradient step on the simplex
  ``w ← softmax(log w + η I / λ)``, applied to the same step: the advantages are
  ``Σ_i w_i A_i``. ``η`` is the policy learning rate of the one-step look-ahead and ``λ`` the
  entropy regularization (paper scripts: ``λ = 1e-5`` with ``η`` = the 1e-6 policy learning
  rate; small policies have far larger gradients, so the benchmark sets its own). Difference
  from the reference code: there every ``g_i`` also contains the KL-penalty gradient; here
  ``g_i`` is the gradient of objective ``i``'s policy-gradient loss alone, because a shared
  term ``k`` added to every ``g_i`` adds ``m <g_i, k>`` (plus constants) to ``I_i``, rewarding
  an objective for agreeing with the KL pull rather than with the other objectives.
* :class:`DynamicTchebycheff` — an extra baseline: each rollout is scored by the Tchebycheff
  scalarization ``-max_i λ_i (z*_i - r_i)`` against an ideal point ``z*`` that is updated
  online to the best reward seen plus a margin. Its logged weights are the share of rollouts
  whose maximum term is objective ``i`` (the active subgradient weights).
"""
from __future__ import annotations

import math
import warnings
from typing import Sequence

import torch
from torch import Tensor

from moo.errors import MooValueError, ShapeError
from moo.problem import as_tensor

from ._hv import hv_improvement_max
from .advantages import AdvantageEstimator


def _simplex(weights, n_obj: int | None = None) -> Tensor:
    w = as_tensor(weights, dtype=torch.float64, name="weights").flatten()
    if n_obj is not None and w.numel() != n_obj:
        raise ShapeError(f"weights must have {n_obj} entries (one per objective), got {w.numel()}")
    if bool((w < 0).any()) or float(w.sum()) <= 0:
        raise MooValueError(f"weights must be non-negative with a positive sum, got {w.tolist()}")
    return w / w.sum()


class WeightingStrategy:
    """Base class. Subclasses set :attr:`weights` and override :meth:`combine` as needed."""

    name = "strategy"
    #: whether :meth:`combine` needs per-objective gradients from the trainer
    needs_objective_grads = False

    def __init__(self, weights: Sequence[float] | Tensor):
        self.weights = _simplex(weights)
        self.history: list[dict] = []

    @property
    def n_obj(self) -> int:
        return int(self.weights.numel())

    def check(self, estimator: AdvantageEstimator, n_obj: int) -> None:
        """Validate against the trainer's configuration (called once by the trainer)."""
        if n_obj != self.n_obj:
            raise ShapeError(f"{self.name} has {self.n_obj} weights but the task has {n_obj} objectives")

    def start(self, objectives: Tensor) -> None:
        """Receive the initial policy's validation objectives (before any step)."""

    def scalarize(self, rewards: Tensor) -> Tensor:
        """Scalar rewards ``[G, K]`` from vector rewards ``[G, K, m]``."""
        return rewards @ self.weights.to(rewards)

    def combine(self, rewards: Tensor, estimator: AdvantageEstimator,
                objective_grads=None) -> Tensor:
        """Advantages ``[G, K]`` for this step."""
        return estimator(self.scalarize(rewards))

    def observe(self, step: int, objectives: Tensor) -> None:
        """Receive the validation objectives after ``step``; log the weights used."""
        self.history.append({"step": step, "weights": self.weights.tolist()})


class FixedWeights(WeightingStrategy):
    """Fixed linear weights (normalized to the simplex)."""

    name = "fixed"


class HypervolumeGuided(WeightingStrategy):
    """Hypervolume-guided reward multiplier on top of fixed weights (see module docstring)."""

    name = "hv"

    def __init__(self, weights: Sequence[float] | Tensor, placement: str = "advantage"):
        super().__init__(weights)
        if placement not in ("advantage", "reward"):
            raise MooValueError(f"placement must be 'advantage' or 'reward', got {placement!r}")
        self.placement = placement
        self.multiplier = 1.0
        self.ref_point: Tensor | None = None
        self.buffer = torch.empty(0, self.n_obj, dtype=torch.float64)

    def check(self, estimator: AdvantageEstimator, n_obj: int) -> None:
        super().check(estimator, n_obj)
        if self.placement == "reward" and estimator.scale_invariant:
            warnings.warn(
                f"HypervolumeGuided(placement='reward') with the {estimator.name!r} estimator"
                f"{' (whitened)' if estimator.name == 'reinforce' else ''}: the estimator divides by the "
                "reward std, which cancels one positive multiplier on the whole batch, so the "
                "hypervolume guidance has no effect. Use placement='advantage'.",
                UserWarning, stacklevel=3)

    def start(self, objectives: Tensor) -> None:
        self.ref_point = as_tensor(objectives, dtype=torch.float64).flatten().cpu()

    @staticmethod
    def multiplier_from(delta_hv: float) -> float:
        """The paper's reward multiplier ``0.5 + 1.5 tanh(max(ΔHV, 0))``."""
        return 0.5 + 1.5 * math.tanh(max(delta_hv, 0.0))

    def combine(self, rewards: Tensor, estimator: AdvantageEstimator, objective_grads=None) -> Tensor:
        r = self.scalarize(rewards)
        if self.placement == "reward":
            return estimator(self.multiplier * r)
        return self.multiplier * estimator(r)

    def observe(self, step: int, objectives: Tensor) -> None:
        if self.ref_point is None:
            raise MooValueError("HypervolumeGuided.observe called before start(initial objectives)")
        point = as_tensor(objectives, dtype=torch.float64).flatten().cpu()
        delta = hv_improvement_max(point, self.buffer, self.ref_point)
        used = self.multiplier
        if delta > 0:
            self.buffer = torch.cat([self.buffer, point[None]])
            keep = ~((self.buffer[None] >= self.buffer[:, None]).all(-1)
                     & (self.buffer[None] > self.buffer[:, None]).any(-1)).any(1)
            self.buffer = self.buffer[keep]
        self.multiplier = self.multiplier_from(delta)
        self.history.append({"step": step, "weights": self.weights.tolist(), "multiplier": used,
                             "delta_hv": delta, "next_multiplier": self.multiplier})


class GradientWeights(WeightingStrategy):
    """Gradient-based weight optimization by exponentiated gradient (see module docstring).

    Args:
        weights: initial weights (default uniform when ``None`` and ``n_obj`` given).
        eta: look-ahead step size η (the policy learning rate in the paper's derivation).
        lam: entropy regularization λ.
        param_names: optional names of the parameters whose gradients form ``g_i``
            (a subset, e.g. the last layers); all trainable parameters when ``None``.
    """

    name = "gradient"
    needs_objective_grads = True

    def __init__(self, weights: Sequence[float] | Tensor | None = None, *, n_obj: int | None = None,
                 eta: float = 1e-6, lam: float = 1e-5, param_names: Sequence[str] | None = None):
        if weights is None:
            if n_obj is None:
                raise MooValueError("GradientWeights needs weights or n_obj")
            weights = torch.ones(n_obj, dtype=torch.float64)
        super().__init__(weights)
        if eta <= 0 or lam <= 0:
            raise MooValueError(f"eta and lam must be positive, got eta={eta}, lam={lam}")
        self.eta, self.lam = float(eta), float(lam)
        self.param_names = None if param_names is None else tuple(param_names)
        self._last_influence: list[float] = []

    def update(self, grads: Tensor) -> Tensor:
        """One exponentiated-gradient step from per-objective gradients ``grads [m, P]``."""
        if grads.dim() != 2 or grads.shape[0] != self.n_obj:
            raise ShapeError(f"grads must have shape [n_obj={self.n_obj}, P], got {list(grads.shape)}")
        g = grads.to(torch.float64)
        influence = (g @ g.T).sum(1)
        logits = torch.log(self.weights.clamp_min(1e-300)) + self.eta * influence / self.lam
        self.weights = torch.softmax(logits, 0)
        self._last_influence = influence.tolist()
        return self.weights

    def combine(self, rewards: Tensor, estimator: AdvantageEstimator, objective_grads=None) -> Tensor:
        per_obj = torch.stack([estimator(rewards[..., i]) for i in range(self.n_obj)], -1)
        if objective_grads is None:
            raise MooValueError("GradientWeights.combine needs per-objective gradients")
        self.update(objective_grads(per_obj))
        return per_obj @ self.weights.to(per_obj)

    def observe(self, step: int, objectives: Tensor) -> None:
        self.history.append({"step": step, "weights": self.weights.tolist(),
                             "influence": list(self._last_influence)})


class DynamicTchebycheff(WeightingStrategy):
    """Per-rollout Tchebycheff scalarization with an online ideal point (see module docstring).

    Args:
        weights: the preference λ (on the simplex).
        ideal: initial ideal point ``z*``; ``None`` starts from the first batch's best rewards.
        margin: ``z*`` is kept at the best reward seen plus this margin.
    """

    name = "tchebycheff"

    def __init__(self, weights: Sequence[float] | Tensor, *, ideal=None, margin: float = 0.1):
        super().__init__(weights)
        self.ideal = None if ideal is None else as_tensor(ideal, dtype=torch.float64).flatten()
        self.margin = float(margin)
        self._active = self.weights.clone()

    def scalarize(self, rewards: Tensor) -> Tensor:
        best = rewards.reshape(-1, rewards.shape[-1]).max(0).values.to(torch.float64).cpu() + self.margin
        self.ideal = best if self.ideal is None else torch.maximum(self.ideal, best)
        terms = self.weights.to(rewards) * (self.ideal.to(rewards) - rewards)
        arg = terms.argmax(-1).flatten()
        self._active = torch.bincount(arg.cpu(), minlength=self.n_obj).to(torch.float64) / arg.numel()
        return -terms.max(-1).values

    def observe(self, step: int, objectives: Tensor) -> None:
        self.history.append({"step": step, "weights": self._active.tolist(),
                             "preference": self.weights.tolist(), "ideal": self.ideal.tolist()})
