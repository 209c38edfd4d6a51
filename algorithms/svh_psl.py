"""SVH-PSL: Pareto set learning with a Stein variational hypernetwork.

Paper: Minh-Duc Nguyen, Phuong Mai Dinh, Quang-Huy Nguyen, Long P. Hoang and Dung D. Le,
"Improving Pareto Set Learning for Expensive Multi-objective Optimization via Stein Variational
Hypernetworks", AAAI 2025. Reference code: github.com/nguyenduc810/SVH-PSL (``run_svh.py``,
``SVGD/moosvgd.py``).

Method. SVH-PSL is PSL-MOBO (:class:`~moo.algorithms.psl_mobo.PSLMOBO`: GP surrogates, a
preference→solution hypernetwork ``h_theta``, greedy hypervolume-improvement batches) with a
Stein variational training rule for the hypernetwork. At each training step ``n`` Dirichlet(1)
preferences ``w_b`` (+1e-4) give particles ``x_b = h_theta(w_b)`` with lower confidence bounds
``l_b = LCB(x_b)`` of the standardized objectives, Tchebycheff values and active objectives

    s_b = max_j w_bj (l_bj - z_j),        a_b = argmax_j w_bj (l_bj - z_j),

and gradients ``g_b = d s_b / d theta``. With a kernel ``K`` on the LCB vectors the update
direction is the SVGD field summed over the particles,

    Delta theta = 1/n * [ sum_b (sum_a K_ab) g_b  +  alpha * grad_theta sum_ab K_ab ],

descended by Adam: the first term drives each particle to its Tchebycheff optimum, the second
pushes the particles apart in LCB space (kernel weights and bandwidths are constants in the
gradient). The "local" kernel (the paper's default) gives each objective its own RBF kernel and
uses particle ``b``'s active objective in column ``b``,

    K_ab = exp(-(l_aj - l_bj)^2 / (c * h_j)),   j = a_b,   h_j = median_{a<b} (l_aj - l_bj)^2 / log n;

the "global" kernel is one RBF kernel on the whole LCB vector. After training, ``n_candidate``
Dirichlet(1) preferences give the candidates, and PSL-MOBO's greedy selection picks the batch.

Defaults (``SVHPSL.Config``, from the reference code): ``n_init = 20`` Latin-hypercube points,
``batch_size = 5``, ``n_steps = 500`` steps of ``n_pref_update = 10`` preferences, Adam
``lr = 1e-3``, ``alpha = 1e-3``, ``bandwidth_scale = c = 1``, ``lcb_beta = 0.1``,
``n_candidate = 1000``, ``n_local = 0`` (no gradient step on the candidates), ``kernel =
"local"``, ``select_best = True`` with ``n_test_per_obj = 100`` test preferences per objective;
the other options are PSL-MOBO's.

Deviations from the reference code (each a ``Config`` option where the reference's form is kept):

* Bandwidth: the median heuristic of Liu & Wang (NeurIPS 2016) over distinct pairs,
  ``c * median D2 / log n``, not the reference's ``c * median(D2)^2 / log n`` (units of distance^4).
* Gradient normalization: each particle's gradient to unit norm (``grad_normalization="particle"``),
  not every parameter's column across particles (``"parameter"``, the reference's).
* Best-step checkpoint: a reference point fixed per iteration (the worst standardized evaluated
  value), not one that moves with each step's predictions (``select_best=False``: last step).
* Objective scaling: PSL-MOBO's ``standardize_objectives``, on by default everywhere; the
  reference uses raw objectives on ZDT1-3 (set ``standardize_objectives=False`` there to follow it).
* Ideal point: PSL-MOBO's, recomputed each iteration in that iteration's units.
* Stale gradient: the reference adds the previous update to particle 0's gradient by accident;
  off by default, ``reference_stale_gradient=True`` reproduces it.

Constraints and categorical variables are refused at setup; integer variables are rounded in the
initial design and the candidates (as in PSL-MOBO).

Measurements behind these choices (objective scaling on ZDT2, the stale gradient, the local
step): ``docs/notes/svh_psl.md``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from moo.errors import MooValueError
from moo.indicators import hypervolume
from moo.preferences import sample_preferences
from moo.registry import register_algorithm
from moo.algorithms.hypernetwork import ParetoSetModel
from moo.algorithms.moo_svgd import median_bandwidth, rbf_objective_kernel
from moo.algorithms.psl_mobo import PSLMOBO

KERNELS = ("local", "global")
GRAD_NORMALIZATIONS = ("particle", "parameter", "none")


def local_kernel(L: Tensor, active: Tensor, scale: float = 1.0) -> Tensor:
    """SVH-PSL's "local" kernel ``[n, n]`` on LCB vectors ``L [n, m]``.

    ``K[a, b] = exp(-(L[a, j] - L[b, j])^2 / (scale * h_j))`` with ``j = active[b]`` (particle
    ``b``'s active Tchebycheff objective) and ``h_j`` the median heuristic of objective ``j``'s
    squared differences (:func:`~moo.algorithms.moo_svgd.median_bandwidth`, a constant in the
    gradient). Differentiable in ``L``.
    """
    if L.dim() != 2 or active.shape != L.shape[:1]:
        raise MooValueError(f"local_kernel needs L [n, m] and active [n], got {list(L.shape)} and "
                            f"{list(active.shape)}")
    D2 = (L.unsqueeze(1) - L.unsqueeze(0)).pow(2)  # [n, n, m]
    h = torch.stack([median_bandwidth(D2[..., j].detach()) for j in range(L.shape[1])])
    h = h.clamp(min=torch.finfo(L.dtype).tiny)
    K = torch.exp((-D2 / (scale * h)).clamp(min=-300.0))  # [n, n, m]
    cols = active.view(1, -1, 1).expand(L.shape[0], -1, 1)
    return K.gather(-1, cols).squeeze(-1)


def tchebycheff_active(L: Tensor, w: Tensor, ideal: Tensor) -> tuple[Tensor, Tensor]:
    """SVH-PSL's Tchebycheff value ``max_j w_j (L_j - z_j)`` and its maximizing objective."""
    return ((L - ideal) * w).max(-1)


@register_algorithm("svh-psl")
class SVHPSL(PSLMOBO):
    """SVH-PSL (Nguyen et al., AAAI 2025) on PSL-MOBO's machinery; see the module docstring."""

    name = "svh-psl"

    @dataclass
    class Config(PSLMOBO.Config):
        """PSL-MOBO's options (see :class:`~moo.algorithms.psl_mobo.PSLMOBO`) with SVH-PSL's defaults, plus:

        Args:
            alpha: weight of the repulsive kernel-gradient term.
            bandwidth_scale: ``c`` in ``exp(-D2 / (c h))`` (``h`` the median heuristic).
            kernel: ``"local"`` (per-objective kernels chosen by the active objective) or
                ``"global"`` (one RBF kernel on the LCB vectors).
            grad_normalization: ``"particle"`` (each particle's gradient to unit norm),
                ``"parameter"`` (the reference code's, along the particle axis) or ``"none"``.
            select_best: keep the training step with the largest LCB hypervolume on the test
                preferences (else the last step).
            n_test_per_obj: test preferences per objective for ``select_best`` (evenly spread).
            reference_stale_gradient: add the previous step's update to particle 0's gradient
                before normalizing, as the reference code does by accident (module docstring).
        """

        n_init: int = 20
        n_steps: int = 500
        n_local: int = 0
        alpha: float = 1e-3
        bandwidth_scale: float = 1.0
        kernel: str = "local"
        grad_normalization: str = "particle"
        select_best: bool = True
        n_test_per_obj: int = 100
        reference_stale_gradient: bool = False

    def _setup(self) -> None:
        c = self.config
        if c.kernel not in KERNELS:
            raise MooValueError(f"kernel must be one of {KERNELS}, got {c.kernel!r}")
        if c.grad_normalization not in GRAD_NORMALIZATIONS:
            raise MooValueError(f"grad_normalization must be one of {GRAD_NORMALIZATIONS}, got "
                                f"{c.grad_normalization!r}")
        if not c.bandwidth_scale > 0:
            raise MooValueError(f"bandwidth_scale must be positive, got {c.bandwidth_scale!r}")
        if c.n_pref_update < 2:
            raise MooValueError(f"n_pref_update must be >= 2 (SVGD needs several particles), got {c.n_pref_update!r}")
        super()._setup()

    # ------------------------------------------------------------------ SVGD pieces
    def kernel_matrix(self, L: Tensor, active: Tensor) -> Tensor:
        """The configured kernel ``[n, n]`` on the particles' LCB vectors ``L [n, m]``."""
        if self.config.kernel == "local":
            return local_kernel(L, active, self.config.bandwidth_scale)
        return rbf_objective_kernel(L, self.config.bandwidth_scale)

    def svgd_step(self, model: ParetoSetModel, optimizer: torch.optim.Optimizer, prefs: Tensor, value,
                  ideal: Tensor) -> tuple[Tensor, Tensor]:
        """One Stein variational update of ``model`` at preferences ``prefs [n, m]``.

        Returns the particles' LCB values ``[n, m]`` and their Tchebycheff values ``[n]``, detached.
        """
        params = [p for p in model.parameters() if p.requires_grad]
        stale = [p.grad for p in params] if self.config.reference_stale_gradient else [None]
        X = model(prefs)
        L = value(X)
        s, active = tchebycheff_active(L, prefs, ideal)
        K = self.kernel_matrix(L, active)
        gx_drive, = torch.autograd.grad(s.sum(), X, retain_graph=True)
        gx_repel, = torch.autograd.grad(K.sum(), X, retain_graph=True)
        n = X.shape[0]
        # One batched vector-Jacobian product: row b < n has only particle b's slot filled, giving
        # g_b = d s_b / d theta; row n gives the repulsive term grad_theta sum_ab K_ab.
        rows = torch.cat([torch.diag_embed(gx_drive.transpose(0, 1)).permute(1, 2, 0), gx_repel.unsqueeze(0)])
        grads = torch.autograd.grad(X, params, grad_outputs=rows, is_grads_batched=True)
        if stale[0] is not None:  # the reference's bug: the last update still sits in param.grad
            grads = [torch.cat([g[:1] + old.unsqueeze(0), g[1:]]) for g, old in zip(grads, stale)]
        mode = self.config.grad_normalization
        coef = K.detach().sum(0).to(grads[0].dtype) / n  # (sum_a K_ab) / n
        if mode == "particle":  # each g_b to unit norm over all parameters
            sq = sum(g[:n].reshape(n, -1).pow(2).sum(1) for g in grads)
            coef = coef / sq.sqrt().clamp_min(1e-12)
        optimizer.zero_grad()
        for p, g in zip(params, grads):
            drive = torch.tensordot(coef, g[:n], dims=1)
            if mode == "parameter":  # every parameter's column to unit norm across the particles
                drive = drive / g[:n].norm(dim=0).clamp_min(1e-12)
            p.grad = drive + (self.config.alpha / n) * g[n]
        optimizer.step()
        return L.detach(), s.detach()

    # ------------------------------------------------------------------ the PSL-MOBO hook
    def _train_model(self, value, ideal: Tensor, Y_std: Tensor) -> ParetoSetModel:
        """A fresh hypernetwork trained by :meth:`svgd_step` (PSL-MOBO's training, replaced)."""
        c = self.config
        model = self._new_model()
        optimizer = torch.optim.Adam(model.parameters(), lr=c.lr)
        m = self.problem.n_obj
        best_hv, best_state = -math.inf, None
        if c.select_best:
            test = sample_preferences("das-dennis", c.n_test_per_obj * m, m, dtype=self.dtype,
                                      device=self.device) + c.pref_eps
            ref = Y_std.amax(0)
        model.train()
        for _ in range(c.n_steps):
            self.svgd_step(model, optimizer, self._prefs(c.n_pref_update), value, ideal)
            if c.select_best:
                with torch.no_grad():
                    hv = float(hypervolume(value(model(test)), ref))
                if hv >= best_hv:
                    best_hv = hv
                    best_state = {k: v.clone() for k, v in model.state_dict().items()}
        if best_state is not None:
            model.load_state_dict(best_state)
        return model
