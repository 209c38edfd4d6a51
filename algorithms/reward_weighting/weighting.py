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
  scalarized rewards before the estimator, as the reference code does, where the multiplier
  therefore only acts with RLOO); it warns (``UserWarning``) when the estimator is
  scale invariant, because the method then has no effect. With Adam the multiplier acts
  relative to the running second-moment estimate, i.e. it changes the step size of one step
  relative to its neighbours; a multiplier that stays at one value (e.g. 0.5 on every step
  because no checkpoint adds hypervolume) has no effect at all. Since the reference point is the
  initial validation vector, ΔHV stays 0 until a validation point dominates it: when training
  trades one objective below its initial value (on the built-in math task, every run ends with
  longer answers than the warm start), the method reduces to its fixed weights.
  **Units of ΔHV.** ΔHV is a volume, so its size depends on the objectives' units, and the
  multiplier only leaves 0.5 once ``ΔHV`` reaches about 0.1 (``tanh(0.35) = 1/3`` gives 1). The
  reference code measures conciseness as the mean response length in tokens (minimized, up to
  2048) next to two rates, so its ΔHV is in rate·token·rate. On a task whose objectives are all
  rates in [0, 1] the same improvements give ΔHV of 1e-5 to 1e-3 and the multiplier is 0.5 on
  every step. ``hv_scale`` multiplies ΔHV before the formula (a change of volume unit); the
  default 1 is the paper's formula applied to the task's own units.
* :class:`GradientWeights` — per-objective policy gradients ``g_i`` (each from the estimator
  applied to reward ``i`` alone, optionally on a parameter subset), influence
  ``I_i = Σ_j <g_i, g_j>``, exponentiated-gradient step on the simplex
  ``w ← softmax(log w + η I / λ)``, applied to the same step: the advantages are
  ``Σ_i w_i A_i``. ``η`` is the policy learning rate of the one-step look-ahead and ``λ`` the
  entropy regularization (paper scripts: ``λ = 1e-5`` with ``η`` = the 1e-6 policy learning
  rate; small policies have far larger gradients, so the benchmark sets its own, one value for
  all three estimators). The speed of the weights scales with ``|g|²``: RLOO's unnormalized
  advantages give per-objective gradients about half as large as GRPO's, so a ``λ`` that moves
  GRPO's weights in a few steps barely moves RLOO's. The reference code clips every ``g_i`` to
  the trainer's gradient-norm limit (1.0) before the influence; that clip is left out: at the
  gradient norms of small policies (≈ 0.05–0.2) it never acts. Further difference from the
  reference code: there every ``g_i`` also contains the KL-penalty gradient; here
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
    """Hypervolume-guided reward multiplier on top of fixed weights (see module docstring).

    Args:
        weights: the fixed linear weights the multiplier is applied on top of.
        placement: ``"advantage"`` (default: scale the advantages, effective for every
            estimator) or ``"reward"`` (paper-literal: scale the scalarized rewards).
        hv_scale: factor on ΔHV before ``0.5 + 1.5 tanh(·)`` (a change of volume unit; 1 keeps
            the task's units, as in the paper).
    """

    name = "hv"

    def __init__(self, weights: Sequence[float] | Tensor, placement: str = "advantage",
                 hv_scale: float = 1.0):
        super().__init__(weights)
        if placement not in ("advantage", "reward"):
            raise MooValueError(f"placement must be 'advantage' or 'reward', got {placement!r}")
        if not hv_scale > 0:
            raise MooValueError(f"hv_scale must be positive, got {hv_scale!r}")
        self.placement = placement
        self.hv_scale = float(hv_scale)
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
        self.multiplier = self.multiplier_from(self.hv_scale * delta)
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
