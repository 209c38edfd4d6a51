"""MOO-SVGD: Stein variational particles that profile a Pareto front.

Paper: Xingchao Liu, Xin Tong and Qiang Liu, "Profiling Pareto Front With Multi-Objective Stein
Variational Gradient Descent", NeurIPS 2021. Reference code: github.com/gnobitab/MultiObjectiveSampling.

Method. Particles ``x_1 .. x_n`` in decision space move along the SVGD field

    phi(x_i) = 1/n * sum_j [ k(x_j, x_i) * (-g_j) - grad_{x_i} k(x_j, x_i) ]

where ``g_j`` is particle ``j``'s MGDA min-norm combination of its objective gradients (closed
form for two objectives, Frank-Wolfe beyond) and ``k`` is an RBF kernel on the particles'
objective vectors, ``k_ij = exp(-||f_i - f_j||^2 / (s * h))``, with the median heuristic
``h = median_{i<j} ||f_i - f_j||^2 / log n`` (a constant in the gradient) and a scale ``s``.
The first term drives each particle towards the front, the second pushes particles apart. (The
paper writes the repulsion as ``+grad_{x_j} k(x_j, x_i)``; with the kernel on ``f(x)`` only the
form above moves ``x_i`` through its own Jacobian, and it is what the reference code computes.)
Each step is taken by Adam, after which particles are clamped into the box shrunk by a relative
margin.

Defaults (``MOOSVGD.Config``): ``n_particles = 50`` (the paper's ZDT runs), Adam (the reference
code's optimizer) with ``betas = (0.9, 0.999)``; ``bound_margin = 1e-6`` (the reference clamps
into ``[1e-6, 1 - 1e-6]``); ``lr = 2e-3``, ``kernel_scale = 0.01``,
``normalize_gradients = "particle"``, ``project_gradients = True`` and
``project_repulsion = True`` are the engine's choices listed below.

Deviations from the reference code:

* Bandwidth: the intended ``exp(-d / (s * h))`` with ``s = kernel_scale = 0.01`` (near-neighbour
  repulsion); the reference's ``exp(-d / 5e-6*h)`` parses as ``exp(-d * h / 5e-6)``.
* Median: over the distinct pairs ``i < j``, not the full matrix with its zero diagonal.
* Gradient normalization: each particle's gradient of each objective to unit norm
  (``"particle"``), not each variable's column across particles (``"column"``, the reference's).
* Repulsion: the repulsive move is projected onto the half-space where it does not increase the
  particle's MGDA-weighted objective to first order (``project_repulsion=False``: the paper's field).
* Step size: Adam lr ``2e-3`` instead of ``5e-4``, which leaves particles unconverged at 10,000 iterations.
* Bounds: gradients are projected on the box's tangent cone before MGDA, and an objective with no
  feasible descent is dropped from the min-norm problem (``project_gradients``); the reference only clamps.
* Any number of objectives and any box (the reference handles two objectives on ``[0, 1]^d``).

Constraints and integer or categorical variables are refused at setup.

Measurements behind these choices, and the known limit on ZDT3 (a locally Pareto-stationary,
dominated curve between the front's pieces holds some particles): ``docs/notes/moo_svgd.md``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from moo.algorithm import Algorithm, StepInfo, bounds_on
from moo.errors import MooTypeError, MooValueError
from moo.pareto import non_dominated_mask
from moo.registry import register_algorithm

from .mgda import min_norm_weights


def median_bandwidth(D2: Tensor) -> Tensor:
    """The median heuristic ``median_{i<j} D2_ij / log n`` for squared distances ``D2 [n, n]``
    (NumPy's median: the mean of the two middle values)."""
    n = D2.shape[0]
    iu = torch.triu_indices(n, n, offset=1, device=D2.device)
    return torch.quantile(D2[iu[0], iu[1]], 0.5) / math.log(n)


def rbf_objective_kernel(F: Tensor, scale: float) -> Tensor:
    """RBF kernel ``[n, n]`` on objective vectors ``F [n, m]`` with the median-heuristic bandwidth
    (treated as a constant, as in SVGD); differentiable in ``F``."""
    D2 = (F.unsqueeze(1) - F.unsqueeze(0)).pow(2).sum(-1)
    h = median_bandwidth(D2.detach()).clamp(min=torch.finfo(F.dtype).tiny)
    # Far pairs contribute nothing; the floor keeps exp out of slow subnormal arithmetic.
    return torch.exp((-D2 / (scale * h)).clamp(min=-300.0))


@register_algorithm("moo-svgd")
class MOOSVGD(Algorithm):
    """MOO-SVGD (Liu, Tong & Liu, NeurIPS 2021); see the module docstring.

    One :meth:`step` is one SVGD iteration: it evaluates every particle with gradients
    (``n_particles`` evaluations) and moves them. The approximation set is the non-dominated
    particles, with the objective values of their last evaluation.

    Refused at setup: constrained problems (the field has no constraint term) and integer or
    categorical variables (particles move continuously).
    """

    name = "moo-svgd"
    state_attrs = ("X", "adam_m", "adam_v", "iteration", "X_eval", "F")
    handles_constraints = False
    handles_var_types = ("real",)

    @dataclass
    class Config:
        """Args:
            n_particles: number of particles (the paper's ZDT runs: 50).
            lr: step size (reference code: Adam with 5e-4; see the module docstring for 2e-3).
            betas: Adam's moment decay rates.
            optimizer: ``"adam"`` (the reference code's) or ``"sgd"`` (plain steps ``lr * phi``).
            kernel_scale: ``s`` in ``exp(-||f_i - f_j||^2 / (s h))``; see the module docstring.
            repulsion: whether to add the kernel-gradient term (``False`` gives independent
                MGDA particles smoothed by the kernel).
            normalize_gradients: ``"none"`` (raw gradients); ``"particle"`` scales each
                particle's gradient of each objective to unit norm; ``"column"`` is the reference
                code's ``normalize(grad, dim=0)`` (each variable's column to unit norm across
                particles).
            bound_margin: particles are clamped into the box shrunk by this fraction of its width.
            project_gradients: drop, at a particle on a bound, every gradient component whose
                descent step would leave the box (projected MGDA; see the module docstring).
            project_repulsion: drop the part of the repulsive move that increases the particle's
                MGDA-weighted objective (see the module docstring); ``False`` is the paper's field.
        """

        n_particles: int = 50
        lr: float = 2e-3
        betas: tuple = (0.9, 0.999)
        kernel_scale: float = 1e-2
        repulsion: bool = True
        normalize_gradients: str = "particle"
        bound_margin: float = 1e-6
        project_gradients: bool = True
        optimizer: str = "adam"
        project_repulsion: bool = True

    def _setup(self) -> None:
        c = self.config
        if not self.problem.differentiable:
            raise MooTypeError(f"moo-svgd needs a differentiable problem (gradients of the objectives); "
                               f"{self.problem.name!r} has differentiable=False")
        if isinstance(c.n_particles, bool) or int(c.n_particles) != c.n_particles or c.n_particles < 2:
            raise MooValueError(f"n_particles must be an integer >= 2, got {c.n_particles!r}")
        for arg, allowed in (("normalize_gradients", ("particle", "column", "none")),
                             ("optimizer", ("adam", "sgd"))):
            if getattr(c, arg) not in allowed:
                raise MooValueError(f"{arg} must be one of {allowed}, got {getattr(c, arg)!r}")
        for arg in ("lr", "kernel_scale"):
            if not getattr(c, arg) > 0:
                raise MooValueError(f"{arg} must be > 0, got {getattr(c, arg)!r}")
        if not 0 <= c.bound_margin < 0.5:
            raise MooValueError(f"bound_margin must be in [0, 0.5), got {c.bound_margin!r}")
        like = torch.empty(0, dtype=self.dtype, device=self.device)
        xl, xu = bounds_on(self.problem, like)
        margin = c.bound_margin * (xu - xl)
        self.low, self.high = xl + margin, xu - margin
        u = torch.rand(int(c.n_particles), self.problem.n_var, generator=self.generator,
                       dtype=self.dtype, device=self.device)
        self.X = self.low + u * (self.high - self.low)
        self.F: Tensor | None = None     # objectives of the particles at their last evaluation
        self.X_eval: Tensor | None = None
        self.adam_m = torch.zeros_like(self.X)
        self.adam_v = torch.zeros_like(self.X)
        self.iteration = 0

    # ------------------------------------------------------------------ one SVGD iteration
    def _field(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """The update direction (to be *subtracted*) for every particle, and their objectives."""
        c = self.config
        X = X.detach().requires_grad_(True)
        F = self.evaluate(X, archive=False)
        m = F.shape[1]
        # Rows are independent, so the gradient of a column sum gives every particle's gradient.
        G = torch.stack([torch.autograd.grad(F[:, k].sum(), X, retain_graph=True)[0] for k in range(m)], dim=1)
        free = G  # the gradients without the box projection (the normal of project_repulsion)
        if c.project_gradients:
            # Tangent cone of the box: a descent step must not leave it at an active bound.
            Xd = X.detach().unsqueeze(1)
            leaving = ((Xd <= self.low) & (G > 0)) | ((Xd >= self.high) & (G < 0))
            G = torch.where(leaving, torch.zeros_like(G), G)
            # An objective with no feasible descent left is at a constrained minimum; leaving it
            # in the hull would make the particle (weakly optimal) stop. Replace its gradient by
            # another objective's, which removes it from the min-norm problem.
            norms = G.norm(dim=-1)                                         # [n, m]
            src = torch.where(norms == 0, norms.argmax(1, keepdim=True), torch.arange(m, device=G.device))
            index = src.unsqueeze(-1).expand_as(G)
            G, free = G.gather(1, index), free.gather(1, index)
        tiny = torch.finfo(G.dtype).tiny
        if c.normalize_gradients == "particle":
            scale = 1.0 / G.norm(dim=-1, keepdim=True).clamp(min=tiny)
        elif c.normalize_gradients == "column":
            scale = 1.0 / G.norm(dim=0, keepdim=True).clamp(min=tiny)
        else:
            scale = 1.0
        G, free = G * scale, free * scale
        w = min_norm_weights(G)                                     # [n, m]
        g = (w.unsqueeze(-2) @ G).squeeze(-2)                       # [n, d]
        K = rbf_objective_kernel(F, c.kernel_scale)
        drive = K.detach() @ g
        if c.repulsion:
            # grad_{x_i} sum_{jk} K_jk = 2 sum_j grad_{x_i} K_ij (K symmetric).
            push = 0.5 * torch.autograd.grad(K.sum(), X)[0]        # the particles move along -push
            if c.project_repulsion:
                # -push must not increase the MGDA-weighted objective w_i . f(x_i) to first order.
                normal = (w.unsqueeze(-2) @ free).squeeze(-2)
                # Every objective at a constrained minimum (all projected gradients zero, their
                # scale infinite): no front normal there, so no projection.
                normal = torch.where(torch.isfinite(normal).all(-1, keepdim=True), normal, torch.zeros_like(normal))
                ascent = (push * normal).sum(-1, keepdim=True).clamp(max=0.0)
                push = push - ascent * normal / normal.pow(2).sum(-1, keepdim=True).clamp(min=tiny)
            drive = drive + push
        return drive / X.shape[0], F.detach()

    def step(self) -> StepInfo:
        n = self.X.shape[0]
        if self.remaining is not None and self.remaining < n:
            # Too few evaluations left for an SVGD iteration: spend them on the current positions
            # of the first particles (archived), so a budget that is not a multiple of
            # n_particles ends exactly and never overruns.
            X = self.X[: self.remaining]
            return StepInfo(X=X, F=self.evaluate(X).detach() if len(X) else None, n_evals=len(X))
        direction, F = self._field(self.X)
        self.X_eval, self.F = self.X.clone(), F
        self.iteration += 1
        if self.config.optimizer == "sgd":
            step = self.config.lr * direction
        else:
            b1, b2 = self.config.betas
            self.adam_m = b1 * self.adam_m + (1 - b1) * direction
            self.adam_v = b2 * self.adam_v + (1 - b2) * direction.pow(2)
            m_hat = self.adam_m / (1 - b1 ** self.iteration)
            v_hat = self.adam_v / (1 - b2 ** self.iteration)
            step = self.config.lr * m_hat / (v_hat.sqrt() + 1e-8)
        self.X = torch.minimum(torch.maximum(self.X - step, self.low), self.high)
        return StepInfo(X=self.X_eval, F=F, n_evals=n, extras={"iteration": self.iteration})

    # ------------------------------------------------------------------ results
    def approximation(self) -> tuple[Tensor, Tensor]:
        """The non-dominated particles at their last evaluation."""
        if self.F is None:
            return super().approximation()
        mask = non_dominated_mask(self.F)
        return self.X_eval[mask], self.F[mask]
