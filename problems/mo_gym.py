"""MO-Gymnasium environments as policy tasks of :mod:`moo.algorithms.reward_weighting`.

Wraps four environments of the ``mo-gymnasium`` package (all construct offline; nothing is
downloaded): ``deep-sea-treasure``, ``fruit-tree``, ``resource-gathering`` and ``minecart``.
A rollout is one episode; its vector reward is the (discounted, ``gamma``) episodic return,
**maximized**, as in MO-Gymnasium. The environments' known Pareto fronts
(``env.unwrapped.pareto_front(gamma)``) give hypervolume, expected utility and IGD
(:meth:`MOGymTask.metrics`); hypervolumes go through moo's minimizing indicators on negated
vectors.

:func:`multi_policy_front` is the multi-policy run of the deep-sea-treasure check: one policy
per preference, each trained by the reward-weighting trainer with the dynamic Tchebycheff
strategy (which, unlike linear weights, reaches non-convex parts of a front).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from moo.algorithms.reward_weighting._hv import expected_utility, hypervolume_max, igd_max
from moo.algorithms.reward_weighting.contract import Rollouts
from moo.errors import MooValueError
from moo.preferences import das_dennis

ENVS = {
    "deep-sea-treasure": "deep-sea-treasure-v0",
    "fruit-tree": "fruit-tree-v0",
    "resource-gathering": "resource-gathering-v0",
    "minecart": "minecart-v0",
}
#: HV reference points (maximized returns) from the MORL literature (Felten et al. 2023, MORL-Baselines)
REF_POINTS = {
    "deep-sea-treasure": (0.0, -25.0),
    "fruit-tree": (0.0,) * 6,
    "resource-gathering": (-1.0, -1.0, -2.0),
    "minecart": (-1.0, -1.0, -200.0),
}


def make_env(name: str, **kwargs):
    """Build the MO-Gymnasium environment called ``name`` (a key of :data:`ENVS`)."""
    if name not in ENVS:
        raise MooValueError(f"environment must be one of {sorted(ENVS)}, got {name!r}")
    try:
        import mo_gymnasium
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise MooValueError("the MO-Gymnasium adapter needs the 'mo-gymnasium' package "
                            "(pip install mo-gymnasium)") from exc
    return mo_gymnasium.make(ENVS[name], **kwargs)


class TabularPolicy(nn.Module):
    """Softmax policy with one logit row per discrete state (``obs`` integer coordinates)."""

    def __init__(self, state_shape: Sequence[int], n_actions: int):
        super().__init__()
        self.state_shape = tuple(int(s) for s in state_shape)
        self.logits = nn.Parameter(torch.zeros(int(np.prod(self.state_shape)), n_actions))

    def action_logits(self, obs: Tensor) -> Tensor:
        idx = torch.zeros(obs.shape[:-1], dtype=torch.long, device=obs.device)
        for d, size in enumerate(self.state_shape):
            idx = idx * size + obs[..., d].long().clamp(0, size - 1)
        return self.logits[idx]


class MLPPolicy(nn.Module):
    """Softmax policy from an MLP over the observation vector."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, hidden), nn.Tanh(), nn.Linear(hidden, n_actions))

    def action_logits(self, obs: Tensor) -> Tensor:
        return self.net(obs.float())


class MOGymTask:
    """An MO-Gymnasium environment as a policy task (see the module docstring).

    The policy exposes ``action_logits(obs [..., d]) -> [..., n_actions]``.

    Args:
        name: environment key (:data:`ENVS`).
        gamma: discount of the vector return (the known front is taken at the same gamma).
        max_steps: episode length cap (truncation).
        val_episodes: greedy episodes averaged by :meth:`validate`.
        env_kwargs: passed to the environment constructor.
    """

    def __init__(self, name: str, *, gamma: float = 1.0, max_steps: int = 50, val_episodes: int = 1,
                 **env_kwargs):
        self.name, self.gamma, self.max_steps = name, float(gamma), int(max_steps)
        self.env_kwargs = env_kwargs
        self._envs = [make_env(name, **env_kwargs)]
        space = self._envs[0].unwrapped.reward_space
        self.n_obj = int(space.shape[0])
        self.objective_names = tuple(f"r{i}" for i in range(self.n_obj))
        self.n_actions = int(self._envs[0].action_space.n)
        self.obs_shape = tuple(self._envs[0].observation_space.shape)
        self.val_episodes = int(val_episodes)

    # ------------------------------------------------------------------ knowledge
    def pareto_front(self) -> Tensor:
        """The environment's known Pareto front at ``gamma``, ``[k, m]`` float64 (maximized)."""
        front = self._envs[0].unwrapped.pareto_front(gamma=self.gamma)
        return torch.as_tensor(np.asarray(front, dtype=np.float64))

    @property
    def ref_point(self) -> Tensor:
        return torch.tensor(REF_POINTS[self.name], dtype=torch.float64)

    def metrics(self, points: Tensor, n_weights: int = 10) -> dict:
        """HV, HV ratio to the known front, expected utility (Das-Dennis weights) and IGD."""
        F = torch.as_tensor(points, dtype=torch.float64).reshape(-1, self.n_obj)
        front = self.pareto_front()
        hv, hv_front = hypervolume_max(F, self.ref_point), hypervolume_max(front, self.ref_point)
        w = das_dennis(n_weights if self.n_obj == 2 else 4, self.n_obj)
        return {"hv": hv, "hv_front": hv_front, "hv_ratio": hv / hv_front,
                "eu": expected_utility(F, w), "eu_front": expected_utility(front, w),
                "igd": igd_max(F, front)}

    # ------------------------------------------------------------------ contract
    def prompts(self, n: int, generator: torch.Generator) -> list[int]:
        """Reset seeds of ``n`` episodes."""
        return torch.randint(0, 2**31 - 1, (n,), generator=generator).tolist()

    def _rollout(self, policy, seeds: list[int], generator: torch.Generator | None, greedy: bool):
        while len(self._envs) < len(seeds):
            self._envs.append(make_env(self.name, **self.env_kwargs))
        n = len(seeds)
        obs = np.stack([np.asarray(self._envs[k].reset(seed=int(s))[0], dtype=np.float64)
                        for k, s in enumerate(seeds)])
        obs_buf = np.zeros((n, self.max_steps) + obs.shape[1:])
        actions = torch.zeros(n, self.max_steps, dtype=torch.long)
        mask = torch.zeros(n, self.max_steps, dtype=torch.bool)
        returns = np.zeros((n, self.n_obj))
        alive = np.ones(n, dtype=bool)
        param = next(policy.parameters())
        for t in range(self.max_steps):
            idx = np.flatnonzero(alive)
            if idx.size == 0:
                break
            obs_buf[idx, t] = obs[idx]
            logits = policy.action_logits(torch.as_tensor(obs[idx], device=param.device))
            if greedy:
                act = logits.argmax(-1).cpu()
            else:
                act = torch.multinomial(torch.softmax(logits.float(), -1).cpu(), 1, generator=generator)[:, 0]
            for j, k in enumerate(idx):
                o, r, term, trunc, _ = self._envs[k].step(int(act[j]))
                actions[k, t], mask[k, t] = act[j], True
                returns[k] += (self.gamma ** t) * np.asarray(r, dtype=np.float64)
                obs[k] = o
                alive[k] = not (term or trunc)
        return torch.as_tensor(obs_buf), actions, mask, torch.as_tensor(returns)

    def sample(self, policy, prompts, group_size: int, generator: torch.Generator) -> Rollouts:
        seeds = [s for s in prompts for _ in range(group_size)]
        obs, actions, mask, returns = self._rollout(policy, seeds, generator, greedy=False)
        return Rollouts(obs, actions, mask, returns.reshape(len(prompts), group_size, self.n_obj))

    def log_probs(self, policy, rollouts: Rollouts) -> Tensor:
        param = next(policy.parameters())
        logits = policy.action_logits(rollouts.contexts.to(param.device))
        lp = torch.log_softmax(logits, -1).gather(-1, rollouts.actions.to(param.device)[..., None])[..., 0]
        return lp * rollouts.mask.to(lp.device)

    def validate(self, policy) -> Tensor:
        """Mean vector return of greedy episodes (reset seeds ``0..val_episodes-1``)."""
        _, _, _, returns = self._rollout(policy, list(range(self.val_episodes)), None, greedy=True)
        return returns.mean(0)

    def make_policy(self, hidden: int = 64) -> nn.Module:
        """A tabular policy for deep-sea-treasure, an MLP policy otherwise."""
        if self.name == "deep-sea-treasure":
            return TabularPolicy((11, 11), self.n_actions)
        return MLPPolicy(int(np.prod(self.obs_shape)), self.n_actions, hidden)


def multi_policy_front(name: str = "deep-sea-treasure", *, n_prefs: int = 11, steps: int = 100,
                       estimator: str = "rloo", lr: float = 0.1, group_size: int = 16,
                       batch_prompts: int = 4, seed: int = 0, chain: float | None = 0.5,
                       progress: bool = False, **task_kwargs) -> dict:
    """Train one policy per preference with the dynamic Tchebycheff strategy.

    Preferences are an even grid on the simplex in objectives normalized by the known front's
    range (``λ_i ∝ pref_i / range_i`` in raw units); the Tchebycheff ideal point starts at the
    front's ideal point plus 1% of the range and only moves up. With ``chain`` set, the
    preferences are visited in order along the simplex and each policy starts from the previous
    one with every parameter multiplied by ``chain`` (a softened copy keeps exploring; a
    continuation along the front, which lets far deep-sea treasures be found within small
    budgets); ``chain=None`` trains every policy from scratch. Each preference keeps the policy
    snapshot whose greedy validation return scores best under its own Tchebycheff
    scalarization (model selection on the training objective; a late update can turn a greedy
    policy into one that cycles until the step cap). Returns the greedy policies' returns
    ``points``, their :meth:`MOGymTask.metrics` and each run's history.
    """
    from moo.algorithms.reward_weighting import DynamicTchebycheff, RewardWeightingTrainer

    task = MOGymTask(name, **task_kwargs)
    front = task.pareto_front()
    span = (front.max(0).values - front.min(0).values).clamp_min(1e-9)
    prefs = das_dennis(n_prefs - 1, task.n_obj) if task.n_obj == 2 else das_dennis(4, task.n_obj)
    points, histories = [], []
    previous = None
    for k, pref in enumerate(prefs):
        torch.manual_seed(seed * 1000 + k)
        policy = task.make_policy()
        if chain is not None and previous is not None:
            policy.load_state_dict({n: chain * v for n, v in previous.items()})
        lam = (pref + 1e-3) / span
        strategy = DynamicTchebycheff(lam / lam.sum(), ideal=front.max(0).values + 0.01 * span, margin=0.0)
        trainer = RewardWeightingTrainer(policy, task, strategy, seed=seed * 1000 + k, device="cpu",
                                         estimator=estimator, lr=lr, group_size=group_size,
                                         batch_prompts=batch_prompts, kl_coef=0.0, max_grad_norm=None)
        best = {"value": -float("inf")}

        def keep(entry: dict) -> None:
            obj = torch.as_tensor(entry["objectives"], dtype=torch.float64)
            value = -float((strategy.weights * (strategy.ideal - obj)).max())
            if value > best["value"]:
                best.update(value=value, point=obj,
                            state={n: v.detach().clone() for n, v in policy.state_dict().items()})

        keep(trainer.start())
        hist = trainer.fit(steps, progress=progress, callback=keep)
        previous = best["state"]
        points.append(best["point"])
        histories.append(hist)
    P = torch.stack(points)
    return {"points": P, "preferences": prefs, "metrics": task.metrics(P), "histories": histories}
