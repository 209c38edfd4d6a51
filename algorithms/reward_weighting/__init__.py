"""Dynamic reward weighting for multi-objective policy optimization.

Reproduces Lu et al., "Learning to Optimize Multi-Objective Alignment Through Dynamic Reward
Weighting" (2025, arXiv:2509.11452): a policy is trained online on sampled rollouts with a
vector reward per rollout, and the weights that turn the vector into one training signal are
fixed, adapted by hypervolume improvement, or optimized by gradient influence.

Pieces:

* :mod:`.contract` — the policy-task contract. A black-box :class:`moo.Problem` does not fit
  (the decision is a policy, objectives come from sampled rollouts), so a task implements
  ``prompts(n, generator)``, ``sample(policy, prompts, group_size, generator) -> Rollouts``
  (vector rewards ``[G, K, m]``), ``log_probs(policy, rollouts) -> [N, T]`` and
  ``validate(policy) -> [m]``. Rewards and objectives are **maximized**; hypervolumes are
  computed with moo's minimizing indicators on negated vectors (:mod:`._hv`).
* :mod:`.advantages` — GRPO, RLOO and REINFORCE (batch baseline, optional whitening).
* :mod:`.weighting` — fixed, hypervolume-guided, gradient-based and dynamic Tchebycheff
  strategies behind one interface, each with a weight history. Read its docstring for where
  the hypervolume multiplier acts (after the estimator by default; a warning when a
  configuration would cancel it).
* :mod:`.trainer` — :class:`RewardWeightingTrainer` with ``fit(steps)``, a KL penalty to the
  initial policy, progress and history.

Tasks live in ``moo.problems``: :mod:`moo.problems.math_alignment` (built-in, CPU),
:mod:`moo.problems.mo_gym` (MO-Gymnasium) and :mod:`moo.problems.hf_policy` (a local
Hugging Face causal LM).
"""
from .advantages import (AdvantageEstimator, get_estimator, grpo_advantages, reinforce_advantages,
                         rloo_advantages)
from .contract import PolicyTask, Rollouts
from .trainer import RewardWeightingTrainer, TrainerConfig, kl_k3, token_mean
from .weighting import (DynamicTchebycheff, FixedWeights, GradientWeights, HypervolumeGuided,
                        WeightingStrategy)

__all__ = [
    "AdvantageEstimator", "get_estimator", "grpo_advantages", "rloo_advantages", "reinforce_advantages",
    "PolicyTask", "Rollouts", "RewardWeightingTrainer", "TrainerConfig", "kl_k3", "token_mean",
    "WeightingStrategy", "FixedWeights", "HypervolumeGuided", "GradientWeights", "DynamicTchebycheff",
]
