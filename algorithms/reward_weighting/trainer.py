"""The multi-objective policy-gradient trainer.

One step: draw ``batch_prompts`` prompts, sample ``group_size`` rollouts each with vector
rewards, let the weighting strategy turn them into advantages (GRPO / RLOO / REINFORCE),
take one on-policy gradient step on the token-mean loss

    L = -mean_tokens(A · log π(a_t | ·)) + β · mean_tokens(KL_k3(π || π_ref)),

(the paper's verl setup with PPO clipping disabled and one update per batch; ``KL_k3`` is the
"low-variance" estimator ``exp(q - p) - (q - p) - 1`` of verl, clamped to [-10, 10]), then
validate and report to the strategy. ``fit(steps)`` loops, shows progress and keeps a history.
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from moo.algorithm import default_device
from moo.errors import MooTypeError, MooValueError

from ._hv import hypervolume_max
from .advantages import get_estimator
from .contract import PolicyTask, Rollouts
from .weighting import WeightingStrategy


@dataclass
class TrainerConfig:
    """Hyper-parameters. Defaults follow Lu et al. (2025) where they carry over to small
    policies (group size 8, KL coefficient 0.001, gradient clipping 1.0); the learning rate and
    batch size are set for the small built-in tasks.

    Attributes:
        estimator: ``"grpo"``, ``"rloo"`` or ``"reinforce"``.
        whiten: REINFORCE only: divide the advantages by the batch std.
        group_size: rollouts per prompt (``K``).
        batch_prompts: prompts per step (``G``).
        lr: learning rate of the policy optimizer.
        optimizer: ``"adam"`` or ``"sgd"``.
        max_grad_norm: gradient-norm clip (``None`` disables).
        kl_coef: weight β of the KL penalty to the initial policy (0 disables).
        hv_ref: reference point for the hypervolume logged in the history (maximized
            objectives); ``None`` uses the initial validation point.
    """

    estimator: str = "grpo"
    whiten: bool = True
    group_size: int = 8
    batch_prompts: int = 16
    lr: float = 1e-3
    optimizer: str = "adam"
    max_grad_norm: float | None = 1.0
    kl_coef: float = 0.001
    hv_ref: tuple | None = None


def token_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``x`` over the true entries of ``mask`` (verl's ``token-mean``)."""
    m = mask.to(x.dtype)
    return (x * m).sum() / m.sum().clamp_min(1.0)


def kl_k3(logp: Tensor, ref_logp: Tensor) -> Tensor:
    """Per-token low-variance KL estimate ``exp(q - p) - (q - p) - 1`` (Schulman's k3)."""
    d = (ref_logp - logp).clamp(-20, 20)
    return (torch.exp(d) - d - 1).clamp(-10, 10)


class RewardWeightingTrainer:
    """Train ``policy`` on ``task`` with a weighting ``strategy``.

    Args:
        policy: a ``torch.nn.Module``; the task samples with it and scores log-probabilities.
        task: a :class:`~.contract.PolicyTask`.
        strategy: a :class:`~.weighting.WeightingStrategy`.
        config: a :class:`TrainerConfig`; keyword overrides replace its fields.
        seed: seed of the trainer's ``torch.Generator`` (prompts and sampling).
        device: where the policy lives (default CUDA when available).
    """

    def __init__(self, policy: torch.nn.Module, task: PolicyTask, strategy: WeightingStrategy,
                 config: TrainerConfig | None = None, *, seed: int = 0,
                 device: torch.device | str | None = None, **overrides):
        if not isinstance(policy, torch.nn.Module):
            raise MooTypeError(f"policy must be a torch.nn.Module, got {type(policy).__name__}")
        if not isinstance(task, PolicyTask):
            raise MooTypeError(f"task must implement the PolicyTask contract (prompts, sample, "
                               f"log_probs, validate, n_obj), got {type(task).__name__}")
        if not isinstance(strategy, WeightingStrategy):
            raise MooTypeError(f"strategy must be a WeightingStrategy, got {type(strategy).__name__}")
        base = config or TrainerConfig()
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(base)})
        if unknown:
            raise MooValueError(f"unknown trainer option(s) {unknown}")
        self.config = dataclasses.replace(base, **overrides)
        c = self.config
        if c.group_size < 2 or c.batch_prompts < 1:
            raise MooValueError(f"group_size must be >= 2 and batch_prompts >= 1, got "
                                f"{c.group_size} and {c.batch_prompts}")
        self.estimator = get_estimator(c.estimator, whiten=c.whiten)
        self.device = torch.device(device) if device is not None else default_device()
        self.policy = policy.to(self.device)
        self.task, self.strategy = task, strategy
        strategy.check(self.estimator, task.n_obj)
        self.generator = torch.Generator().manual_seed(int(seed))
        params = [p for p in policy.parameters() if p.requires_grad]
        if c.optimizer == "adam":
            self.optimizer = torch.optim.Adam(params, lr=c.lr)
        elif c.optimizer == "sgd":
            self.optimizer = torch.optim.SGD(params, lr=c.lr)
        else:
            raise MooValueError(f"optimizer must be 'adam' or 'sgd', got {c.optimizer!r}")
        self.ref_policy = None
        if c.kl_coef > 0:
            self.ref_policy = copy.deepcopy(policy).eval()
            for p in self.ref_policy.parameters():
                p.requires_grad_(False)
        self.steps_done = 0
        self.history: list[dict] = []
        self._started = False

    # ------------------------------------------------------------------ helpers
    def _grad_params(self) -> list[Tensor]:
        names = getattr(self.strategy, "param_names", None)
        named = [(n, p) for n, p in self.policy.named_parameters() if p.requires_grad]
        if names is None:
            return [p for _, p in named]
        chosen = [p for n, p in named if n in names]
        if not chosen:
            raise MooValueError(f"param_names {list(names)[:5]} match no trainable parameter of the policy")
        return chosen

    def _record(self, objectives: Tensor, extras: dict) -> dict:
        obj = objectives.detach().to(torch.float64).cpu().flatten()
        ref = self._hv_ref
        entry = {"step": self.steps_done, "objectives": obj.tolist(),
                 "hv": hypervolume_max(obj[None], ref), "weights": self.strategy.weights.tolist()}
        entry.update(extras)
        self.history.append(entry)
        return entry

    def start(self) -> dict:
        """Validate the initial policy (the HV reference of the hypervolume-guided strategy)."""
        with torch.no_grad():
            obj0 = torch.as_tensor(self.task.validate(self.policy), dtype=torch.float64).flatten()
        self.initial_objectives = obj0
        self._hv_ref = (obj0.clone() if self.config.hv_ref is None
                        else torch.as_tensor(self.config.hv_ref, dtype=torch.float64))
        self.strategy.start(obj0)
        self._started = True
        return self._record(obj0, {})

    # ------------------------------------------------------------------ one step
    def step(self) -> dict:
        """One policy-gradient step followed by validation; returns the history entry."""
        if not self._started:
            self.start()
        c = self.config
        self.policy.train()
        prompts = self.task.prompts(c.batch_prompts, self.generator)
        with torch.no_grad():
            rollouts: Rollouts = self.task.sample(self.policy, prompts, c.group_size, self.generator)
        rewards = rollouts.rewards.to(torch.float64)
        mask = rollouts.mask.to(self.device)
        logp = self.task.log_probs(self.policy, rollouts)

        def objective_grads(per_obj: Tensor) -> Tensor:
            params = self._grad_params()
            rows = []
            for i in range(per_obj.shape[-1]):
                a = per_obj[..., i].reshape(-1, 1).to(logp)
                g = torch.autograd.grad(-token_mean(a * logp, mask), params, retain_graph=True,
                                        allow_unused=True)
                rows.append(torch.cat([(torch.zeros_like(p) if gi is None else gi).flatten()
                                       for gi, p in zip(g, params)]))
            return torch.stack(rows)

        adv = self.strategy.combine(rewards, self.estimator,
                                    objective_grads if self.strategy.needs_objective_grads else None)
        adv = adv.reshape(-1, 1).to(logp)
        pg_loss = -token_mean(adv * logp, mask)
        loss = pg_loss
        kl = torch.zeros(())
        if self.ref_policy is not None:
            with torch.no_grad():
                ref_logp = self.task.log_probs(self.ref_policy, rollouts)
            kl = token_mean(kl_k3(logp, ref_logp), mask)
            loss = loss + c.kl_coef * kl
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if c.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.policy.parameters(), c.max_grad_norm)
        self.optimizer.step()
        self.steps_done += 1
        self.policy.eval()
        with torch.no_grad():
            obj = torch.as_tensor(self.task.validate(self.policy), dtype=torch.float64).flatten()
        self.strategy.observe(self.steps_done, obj)
        extras = {"train_rewards": rewards.mean((0, 1)).tolist(), "loss": float(pg_loss.detach()),
                  "kl": float(kl.detach())}
        last = self.strategy.history[-1] if self.strategy.history else {}
        if "multiplier" in last:
            extras["multiplier"] = last["multiplier"]
        return self._record(obj, extras)

    def fit(self, steps: int, *, progress: bool = False,
            callback: Callable[[dict], None] | None = None) -> list[dict]:
        """Run ``steps`` steps; ``progress`` shows a bar; returns the full history."""
        if isinstance(steps, bool) or int(steps) != steps or steps < 0:
            raise MooValueError(f"steps must be a non-negative integer, got {steps!r}")
        if not self._started:
            self.start()
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=int(steps), desc=f"{self.estimator.name}/{self.strategy.name}")
        for _ in range(int(steps)):
            entry = self.step()
            if callback is not None:
                callback(entry)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(obj=[round(v, 3) for v in entry["objectives"]])
        if bar is not None:
            bar.close()
        return self.history
