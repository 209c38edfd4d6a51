"""Pareto set learning (PSL) on differentiable problems.

Paper: Xi Lin, Zhiyuan Yang, Xiaoyuan Zhang and Qingfu Zhang, "Pareto Set Learning for Expensive
Multi-Objective Optimization", NeurIPS 2022 (reference code: github.com/Xi-L/PSL-MOBO). This
module is the paper's learner with exact gradients; the expensive black-box variant with GP
surrogates is :mod:`moo.algorithms.psl_mobo`.

Method. A model ``x_theta(w)`` maps a preference ``w`` on the simplex to a solution. Each step
draws ``n_pref_update`` preferences ``w ~ Dirichlet(alpha)`` (+ ``pref_eps``), evaluates
``f(x_theta(w))``, and descends the scalarization, by default the augmented Tchebycheff with
inverse weights

    s(f | w, z) = max_i (f_i - z_i) / w_i + rho * sum_i (f_i - z_i),

with each solution's gradient ``d s / d x`` normalized to unit norm before it is propagated to
``theta``. The ideal point is the running ``z = min(ideal_init, best value seen - ideal_offset)``.

Defaults (``PSL.Config``, the paper's settings unless noted): a 256-256 ReLU MLP with sigmoid
output into the box, Adam ``lr = 1e-3``, ``n_pref_update = 10`` Dirichlet(1) preferences shifted
by ``pref_eps = 1e-4``, ``scalarization = "augmented-tchebycheff"`` with ``rho = 0.01``,
``normalize_grad = True``, ``ideal_offset = 0.1`` and ``ideal_init = 0`` (the reference code's
running ideal, which starts at 0); engine choices: ``lr_schedule = "cosine"``,
``n_snapshot = 100``, ``snapshot_every = 500``, ``constraint_penalty = 2``.

Deviation from the paper:

* Learning rate: a cosine decay from ``lr`` to 0 over the budget (``lr_schedule="cosine"``;
  ``"constant"`` is the paper's, and what runs without a budget use), so that the fixed-size
  normalized steps converge instead of jittering around the Pareto set.

Budget: each training step evaluates ``n_pref_update`` solutions (counted, not archived). The
model's solutions at ``n_snapshot`` fixed Das-Dennis preferences are evaluated and archived every
``snapshot_every`` steps and once more when the budget runs out; the latest snapshot,
non-dominated, is the approximation set.

Constraints (beyond the paper, which has none): an exact penalty on the total violation
``v(x) = sum_j max(g_j(x), 0)``, which must be differentiable like the objectives. Each training
solution descends ``g_s / |g_s| + constraint_penalty * g_v / |g_v|`` (``g_s`` the gradient of its
scalarized value, ``g_v`` that of its violation, 0 where feasible; without ``normalize_grad`` the
raw sum ``g_s + constraint_penalty * g_v``). Any penalty above 1 makes an infeasible solution's
step reduce its violation to first order whatever the scales; solutions on an active constraint
end within a step of its boundary, and the approximation set keeps the snapshot's feasible
points only (the least infeasible, with an :class:`~moo.errors.InfeasibleWarning`, when none is).
Integer and categorical variables are refused at setup: the model's outputs are continuous.

Measurements behind the ideal point's start and the cosine decay: ``docs/notes/psl.md``.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
from torch import Tensor

from moo.algorithm import Algorithm, StepInfo, feasible_front
from moo.errors import MooTypeError, MooValueError, ShapeError
from moo.pareto import total_violation
from moo.preferences import dirichlet, get_scalarization, sample_preferences
from moo.problem import as_tensor
from moo.registry import register_algorithm
from moo.algorithms.hypernetwork import ParetoSetModel, scalarized_step


def build_scalarization(name: str, rho: float):
    """The scalarization ``(F, w, ideal) -> [...]`` by name, with PSL's options where they apply:
    the Tchebycheff family uses inverse weights, the augmented ones ``rho``."""
    fn = get_scalarization(name)
    if name == "tchebycheff":
        return functools.partial(fn, inverse=True)
    if name == "augmented-tchebycheff":
        return functools.partial(fn, inverse=True, rho=rho)
    if name in ("modified-tchebycheff", "aasf"):
        return functools.partial(fn, rho=rho)
    return fn


def check_prefs(prefs, n_obj: int, like: Tensor) -> Tensor:
    """``prefs`` as a ``[k, n_obj]`` tensor on ``like``'s device (a single vector becomes one row)."""
    w = as_tensor(prefs, dtype=torch.float64, device=like.device, name="prefs")
    if w.dim() == 1:
        w = w.unsqueeze(0)
    if w.dim() != 2 or w.shape[-1] != n_obj:
        raise ShapeError(f"prefs must have shape [k, n_obj] with n_obj = {n_obj}, got {list(w.shape)}")
    if bool((w < 0).any()) or not bool(torch.isfinite(w).all()):
        raise MooValueError("prefs must be finite and non-negative")
    return w


@register_algorithm("psl")
class PSL(Algorithm):
    """Pareto set learning with exact gradients (Lin et al., NeurIPS 2022). See the module docstring."""

    name = "psl"
    state_attrs = ("model", "optimizer", "ideal", "n_steps", "last")
    handles_var_types = ("real",)

    @dataclass
    class Config:
        hidden: tuple = (256, 256)
        lr: float = 1e-3
        n_pref_update: int = 10
        dirichlet_alpha: float = 1.0
        scalarization: str = "augmented-tchebycheff"
        rho: float = 0.01
        pref_eps: float = 1e-4
        ideal_offset: float = 0.1
        ideal_init: float = 0.0
        normalize_grad: bool = True
        n_snapshot: int = 100
        snapshot_every: int = 500
        lr_schedule: str = "cosine"
        constraint_penalty: float = 2.0

    def _setup(self) -> None:
        if not self.problem.differentiable:
            raise MooTypeError(f"{self.name} needs a differentiable problem (torch objectives); "
                               f"{self.problem.name!r} is not — use psl-mobo for black-box problems")
        c = self.config
        self._setup_training()
        self.model = self._build_model()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=c.lr)
        self.snapshot_prefs = sample_preferences("das-dennis", c.n_snapshot, self.problem.n_obj,
                                                 dtype=self.dtype, device=self.device)
        self.n_steps = 0
        self.last = None  # (X, F) of the latest snapshot

    def _setup_training(self) -> None:
        """The scalarization and the running ideal point (subclasses with another loss override)."""
        c = self.config
        if c.lr_schedule not in ("cosine", "constant"):
            raise MooValueError(f"lr_schedule must be 'cosine' or 'constant', got {c.lr_schedule!r}")
        if not c.constraint_penalty > 0:
            raise MooValueError(f"constraint_penalty must be > 0 (above 1 for the descent guarantee), "
                                f"got {c.constraint_penalty!r}")
        self.scalarize = build_scalarization(c.scalarization, c.rho)
        self.ideal = torch.full((self.problem.n_obj,), c.ideal_init, dtype=self.dtype, device=self.device)

    def _build_model(self) -> torch.nn.Module:
        return ParetoSetModel(self.problem.n_obj, self.problem.n_var, self.problem.bounds, self.generator,
                              hidden=tuple(self.config.hidden), out_dtype=self.dtype, device=self.device)

    def _solutions(self, prefs: Tensor) -> Tensor:
        return self.model(prefs + self.config.pref_eps)

    def _snapshot(self, k: int) -> StepInfo:
        with torch.no_grad():
            X = self._solutions(self.snapshot_prefs[:k])
        F = self.evaluate(X)
        self.last = (X, F)
        return StepInfo(X=X, F=F, n_evals=k)

    def step(self) -> StepInfo:
        c = self.config
        n_snap = self.snapshot_prefs.shape[0]
        left = self.remaining
        if left is not None and left <= n_snap:
            return self._snapshot(left)
        k = c.n_pref_update if left is None else min(c.n_pref_update, left - n_snap)
        prefs = dirichlet(k, self.problem.n_obj, c.dirichlet_alpha, generator=self.generator,
                          dtype=self.dtype, device=self.device)
        self.model.train()
        loss = self._train_step(prefs)
        self.n_steps += 1
        info = StepInfo(n_evals=k, extras={"loss": loss})
        if c.snapshot_every and self.n_steps % c.snapshot_every == 0 and (left is None or left - k >= 2 * n_snap):
            snap = self._snapshot(n_snap)
            info = StepInfo(X=snap.X, F=snap.F, n_evals=k + n_snap, extras=info.extras)
        return info

    def _train_step(self, prefs: Tensor) -> float:
        """One gradient step on the scalarized objectives at ``prefs``; returns the mean loss."""
        c = self.config

        def objectives(X):
            F = self.evaluate(X, archive=False)
            self.ideal = torch.minimum(self.ideal, F.detach().amin(0) - c.ideal_offset)
            return F

        if c.lr_schedule == "cosine" and self.budget is not None:
            for group in self.optimizer.param_groups:
                group["lr"] = c.lr * 0.5 * (1.0 + math.cos(math.pi * self.n_evals / self.budget))
        scalarize = lambda F, w: self.scalarize(F, w, self.ideal)  # noqa: E731
        _, _, values = scalarized_step(self.model, self.optimizer, prefs + c.pref_eps, objectives, scalarize,
                                       normalize_grad=c.normalize_grad,
                                       violation=self._violation if self.problem.n_constr else None,
                                       penalty=c.constraint_penalty)
        return float(values.mean())

    def _violation(self, X: Tensor) -> Tensor:
        """Total constraint violation ``[k]`` of ``X``, differentiable (the penalty's gradient)."""
        G = self.problem.constraints(X)
        if not G.requires_grad:
            raise MooTypeError(f"{self.name}'s constraint penalty needs differentiable constraints; problem "
                               f"{self.problem.name!r} returned constraints that no gradient flows through "
                               "(write _constraints in torch ops)")
        return total_violation(G)

    # ------------------------------------------------------------------ results
    def pareto_set(self, prefs) -> Tensor:
        """The learned solutions ``[k, n_var]`` for preferences ``prefs [k, n_obj]``."""
        w = check_prefs(prefs, self.problem.n_obj, self.snapshot_prefs).to(self.dtype)
        with torch.no_grad():
            return self._solutions(w)

    def approximation(self) -> tuple[Tensor, Tensor]:
        """The non-dominated solutions of the latest snapshot (the model at the fixed preferences),
        feasible ones only on a constrained problem."""
        if self.last is None:
            return super().approximation()
        X, F = self.last
        cv = total_violation(self.problem.constraints(X)) if self.problem.n_constr else None
        return feasible_front(X, F, cv)
