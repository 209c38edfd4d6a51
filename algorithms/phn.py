"""Pareto HyperNetworks (PHN) for multi-task learning.

Navon, Shamsian, Chechik & Fetaya, "Learning the Pareto Front with Hypernetworks", ICLR 2021.
A hypernetwork maps a preference ray ``r`` on the simplex to the full weight vector of a target
network (here: the flat parameters of :class:`moo.problems.multitask_digits.MultiTaskDigits`);
each step samples one ray from Dirichlet(0.2) and descends either

* ``solver="ls"`` (PHN-LS): the linear scalarization ``sum_i r_i L_i``, or
* ``solver="epo"`` (PHN-EPO): ``sum_i alpha_i L_i`` with ``alpha`` from the exact-Pareto-optimal
  search of Mahapatra & Rajan, "Multi-Task Learning with User Preferences: Gradient Descent with
  Controlled Ascent in Pareto Optimization" (ICML 2020): a linear program over the task-gradient
  Gram matrix (gradients with respect to the hypernetwork's parameters, as in PHN) that balances
  ``r_i L_i`` towards equality when they are apart and descends all losses when they are equal.

The hypernetwork is PHN's: a 3-layer ray MLP (``ray_hidden = 100``) and a linear head emitting
every target weight. Differences, on purpose: the target weights pass through
``bound * tanh(. / bound)`` so they stay inside the problem's (nominal, ±10) box — the identity
for the weights that training produces (|w| << 10); losses are full-batch on the small digits
training set (PHN: mini-batches of Multi-MNIST), Adam with PHN's lr 1e-4, which keeps the problem
CPU-fast. As in PHN, the model to report is chosen on validation data, and so is the learning
rate (the ``phn`` suite protocol, :mod:`moo.benchmarks.protocols.phn`): a step on the hypernetwork's linear head moves every target
weight by about ``lr * (|ray features|_1 + 1)``, so at 1e-4 the hypernetwork fits the small
training set within a few hundred steps. The EPO linear programs are solved with SciPy's HiGHS
(PHN: cvxpy/GLPK); when an LP fails the step falls back to ``alpha = r`` as PHN does. In the
balance LP the largest ``r_i L_i`` may not rise (right-hand side 0) whether or not it is in
EPO's set J, as in PHN's EPO code.

Options beyond the paper (off by default, so the defaults are PHN's):

* ``target_l2``: adds ``target_l2 * |w(r)|^2`` — an L2 penalty on the generated target weights,
  averaged over the step's rays — to the loss (LS and EPO alike; EPO's ``alpha`` is computed from
  the task losses alone). It is the penalty a directly trained target network would carry, so a
  comparison with such networks can give both the same regulariser. Paper: 0.
* ``n_pref_update``: rays per step, their losses averaged (paper: 1).
* ``dirichlet_alpha``: concentration of the ray sampler (paper: 0.2, which puts most rays near
  the ends of the front; 1 is uniform on the simplex).

The training loop, snapshots and checkpoints are PSL's (:class:`moo.algorithms.psl.PSL`).
Refused at setup: constrained problems (PSL's penalty is not part of PHN's losses) and integer
or categorical variables (the generated weights are continuous).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from moo.errors import MooValueError
from moo.registry import register_algorithm
from moo.algorithms.hypernetwork import init_linear_, mlp
from moo.algorithms.psl import PSL


class TargetHypernetwork(nn.Module):
    """Preference ``[..., n_obj]`` → target-network weights ``[..., n_var]`` (PHN's hypernetwork)."""

    def __init__(self, n_obj: int, n_var: int, bound: float, generator: torch.Generator, *,
                 hidden=(100, 100, 100), out_dtype: torch.dtype = torch.float64, device=None):
        super().__init__()
        self.ray_mlp = mlp([n_obj, *hidden], generator, device=device)
        self.head = init_linear_(nn.Linear(hidden[-1], n_var, device=device), generator)
        self.bound = float(bound)
        self.out_dtype = out_dtype

    def forward(self, pref: Tensor) -> Tensor:
        w = self.head(self.ray_mlp(pref.to(self.head.weight)))
        return (self.bound * torch.tanh(w / self.bound)).to(self.out_dtype)


def _mu(l_hat: np.ndarray) -> float:
    """KL divergence of the normalized ``r * L`` from uniform (EPO's non-uniformity)."""
    m = len(l_hat)
    keep = l_hat > np.finfo(l_hat.dtype).eps
    return float(np.sum(l_hat[keep] * np.log(l_hat[keep] * m)))


def epo_weights(losses: np.ndarray, gram: np.ndarray, ray: np.ndarray, eps: float = 1e-4) -> np.ndarray | None:
    """EPO's descent weights ``alpha`` on the simplex (Mahapatra & Rajan 2020, Alg. 1), or ``None``
    when the linear program fails.

    Args:
        losses: ``[m]`` task losses (positive). gram: ``[m, m]`` Gram matrix ``G G^T`` of their
            gradients. ray: ``[m]`` preference; the target is ``ray_i * loss_i`` all equal.
        eps: below this non-uniformity the step is pure descent ("dominance" mode).
    """
    from scipy.optimize import linprog

    m = len(losses)
    rl = ray * losses
    l_hat = rl / rl.sum()
    mu = _mu(l_hat)
    a = ray * (np.log(np.maximum(l_hat, 1e-300) * m) - mu)  # the balancing direction
    Ca = gram @ a
    simplex = dict(A_eq=np.ones((1, m)), b_eq=[1.0], bounds=[(0, None)] * m, method="highs")
    if mu > eps:  # balance: maximize alpha·Ca, keep losses outside J from rising, never raise the worst
        J = Ca > 0
        if J.any():
            worst = rl == rl.max()
            keep = ~J | worst
            # the worst loss must not rise, also when it is outside J (EPO's J*, rhs 0)
            rhs = np.where(J | worst, 0.0, Ca)
        else:
            keep, rhs = np.ones(m, dtype=bool), np.zeros(m)
        res = linprog(-Ca, A_ub=-gram[keep], b_ub=-rhs[keep], **simplex)
    else:  # dominance: maximize the summed descent, never reverse the balancing direction
        A_ub = np.vstack([-gram, -Ca[None]])
        b_ub = np.concatenate([np.zeros(m), [-min(Ca.max(), 0.0)]])
        res = linprog(-gram.sum(0), A_ub=A_ub, b_ub=b_ub, **simplex)
    return res.x if res.status == 0 else None


@register_algorithm("phn")
class PHN(PSL):
    """Pareto HyperNetwork (Navon et al., ICLR 2021), PHN-LS or PHN-EPO. See the module docstring."""

    name = "phn"
    handles_constraints = False

    @dataclass
    class Config:
        solver: str = "ls"
        hidden: tuple = (100, 100, 100)
        lr: float = 1e-4
        n_pref_update: int = 1
        dirichlet_alpha: float = 0.2
        epo_eps: float = 1e-4
        pref_eps: float = 0.0
        n_snapshot: int = 11
        snapshot_every: int = 0
        target_l2: float = 0.0

    def _setup_training(self) -> None:
        if self.config.solver not in ("ls", "epo"):
            raise MooValueError(f"solver must be 'ls' or 'epo', got {self.config.solver!r}")
        self.ideal = None

    def _build_model(self) -> nn.Module:
        lo, hi = self.problem.bounds
        if not (torch.equal(lo, -hi) and bool((hi == hi[0]).all())):
            raise MooValueError(f"phn outputs target-network weights in a box [-b, b]; problem "
                                f"{self.problem.name!r} has bounds {lo[:3].tolist()}.. to {hi[:3].tolist()}.. "
                                "(use psl for other boxes)")
        bound = float(hi[0])
        return TargetHypernetwork(self.problem.n_obj, self.problem.n_var, bound, self.generator,
                                  hidden=tuple(self.config.hidden), out_dtype=self.dtype, device=self.device)

    def _train_step(self, prefs: Tensor) -> float:
        X = self.model(prefs)
        F = self.evaluate(X, archive=False)
        if self.config.solver == "ls":
            loss = (prefs * F).sum(-1).mean()
        else:
            loss = sum(self._epo_alpha(F[i], prefs[i]) @ F[i] for i in range(F.shape[0])) / F.shape[0]
        if self.config.target_l2:
            loss = loss + self.config.target_l2 * (X ** 2).sum(-1).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return float(loss.detach())

    def _epo_alpha(self, losses: Tensor, ray: Tensor) -> Tensor:
        params = [p for p in self.model.parameters() if p.requires_grad]
        rows = []
        for task in range(losses.shape[0]):
            grads = torch.autograd.grad(losses[task], params, retain_graph=True)
            rows.append(torch.cat([g.reshape(-1) for g in grads]).double())
        G = torch.stack(rows)
        r = ray.detach().double().cpu().numpy()
        alpha = epo_weights(losses.detach().double().cpu().numpy(), (G @ G.T).cpu().numpy(), r,
                            self.config.epo_eps)
        if alpha is None:
            alpha = r / r.sum()
        # PHN scales alpha by the number of tasks so the step size matches the LS run's
        return torch.as_tensor(alpha * len(r), dtype=losses.dtype, device=losses.device)
