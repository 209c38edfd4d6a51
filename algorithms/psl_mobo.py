"""PSL-MOBO: Pareto set learning for expensive multi-objective optimization.

Lin, Yang, Zhang & Zhang, "Pareto Set Learning for Expensive Multi-Objective Optimization",
NeurIPS 2022 (reference code: github.com/Xi-L/PSL-MOBO). Each iteration

1. fits one GP per objective on every evaluation so far (:class:`moo.surrogates.GPSurrogate`:
   Matérn-5/2, ARD, inputs scaled to the unit cube, outcomes standardized);
2. trains a fresh preference→solution MLP (:class:`~moo.algorithms.hypernetwork.ParetoSetModel`,
   256-256 ReLU, sigmoid into the box, Adam lr 1e-3) for ``n_steps = 1000`` steps of
   ``n_pref_update = 10`` Dirichlet(1) preferences (+1e-4) on the augmented Tchebycheff
   ``max_i (l_i - z_i) / w_i + 0.01 sum_i (l_i - z_i)`` of the lower confidence bound
   ``l = mean - 0.1 std`` of the standardized objectives, with per-solution normalized gradients;
   ``z`` is the running ideal point, the best standardized value seen minus 0.1;
3. proposes ``n_candidate = 1000`` solutions of the learned model at Dirichlet(1) preferences,
   plus one Tchebycheff gradient step (size 0.01, in unit-cube coordinates, clipped) from each
   (``n_local = 1``);
4. picks a batch of ``batch_size = 5`` greedily by hypervolume improvement of the candidates'
   LCB over the non-dominated evaluated points (reference point: the worst value of either set,
   recomputed at each pick), and evaluates it.

As an ask/tell solver: the first ask is the initial design; each later ask runs steps 1-4 on
every point told so far (the archive) and returns the batch; a tell adds the batch to the data.

``standardize_objectives=False`` skips the standardization: the LCB, the ideal point (still capped
at 0, which for non-negative objectives such as ZDT's puts it at the origin) and the Tchebycheff
act on the raw objectives. The SVH-PSL reference does this on ZDT1-3 (not elsewhere, and not in
its PSL-MOBO baseline); the hypervolume-based batch selection does not depend on the choice.

Constraints are refused at setup (the GPs model the objectives only), and so are categorical
variables (the GPs' kernel treats every input as ordered). Integer variables (beyond the paper):
the model and its training work on the continuous relaxation, and the initial design and every
candidate are rounded to the nearest integer in the bounds before they are scored and
evaluated, so the problem only sees integral values and the batch selection ranks the points
that will be evaluated.

The run starts from ``n_init = 10`` Latin-hypercube points (the reference code; 10 + 20 × 5 =
110 evaluations; a budget of 120 gives 22 iterations).

Differences from the reference code, on purpose:
- The reference carries ``z`` across iterations although the standardization of the objectives
  changes every iteration, so last iteration's ``z`` is in other units; here ``z`` is recomputed
  in each iteration's units from every evaluation (the running ideal, in consistent units).
- When no candidate improves the hypervolume the reference crashes (no pick); here the pick is a
  random not-yet-picked candidate (from the run's generator).
- The GP's hyper-parameters are fitted with BoTorch (L-BFGS on the marginal likelihood) rather than
  the reference's own GP code; its gradients come from autograd rather than hand-written formulas.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import Tensor

from moo.algorithm import Algorithm, StepInfo, bounds_on
from moo.errors import MooValueError
from moo.pareto import non_dominated_mask
from moo.preferences import augmented_tchebycheff, dirichlet
from moo.registry import register_algorithm
from moo.surrogates import GPSurrogate
from moo.algorithms.hypernetwork import ParetoSetModel, scalarized_step
from moo.algorithms.psl import check_prefs
from moo.algorithms.evolutionary.operators import VariableLayout, repair


def latin_hypercube(n: int, d: int, *, generator: torch.Generator, dtype: torch.dtype = torch.float64,
                    device: torch.device | str | None = None) -> Tensor:
    """``n`` Latin-hypercube points in ``[0, 1]^d``: one point per stratum ``[k/n, (k+1)/n)`` of
    every coordinate, strata paired by independent random permutations, jittered uniformly."""
    if n < 1 or d < 1:
        raise MooValueError(f"latin_hypercube needs n >= 1 and d >= 1, got n={n}, d={d}")
    perms = torch.stack([torch.randperm(n, generator=generator, device=generator.device) for _ in range(d)], -1)
    u = torch.rand(n, d, generator=generator, dtype=dtype, device=generator.device)
    return ((perms.to(dtype) + u) / n).to(device)


@register_algorithm("psl-mobo")
class PSLMOBO(Algorithm):
    """PSL-MOBO (Lin et al., NeurIPS 2022) with the reference code's defaults. See the module docstring."""

    name = "psl-mobo"
    state_attrs = ("n_iter", "model")
    handles_constraints = False
    handles_var_types = ("real", "int")

    @dataclass
    class Config:
        n_init: int = 10
        batch_size: int = 5
        n_steps: int = 1000
        n_pref_update: int = 10
        n_candidate: int = 1000
        n_local: int = 1
        local_step: float = 0.01
        lcb_beta: float = 0.1
        rho: float = 0.01
        pref_eps: float = 1e-4
        ideal_offset: float = 0.1
        standardize_objectives: bool = True
        hidden: tuple = (256, 256)
        lr: float = 1e-3

    def _setup(self) -> None:
        self.lower, self.upper = bounds_on(self.problem, torch.empty(0, dtype=self.dtype, device=self.device))
        self.layout = VariableLayout(self.problem.var_types, self.problem.n_var, self.device)
        self.model: ParetoSetModel | None = None
        self.n_iter = 0
        self._ask_extras: dict | None = None  # timings of the proposal last asked (None: initial design)

    # ------------------------------------------------------------------ pieces
    def _new_model(self) -> ParetoSetModel:
        return ParetoSetModel(self.problem.n_obj, self.problem.n_var, self.problem.bounds, self.generator,
                              hidden=tuple(self.config.hidden), out_dtype=self.dtype, device=self.device)

    def _prefs(self, n: int) -> Tensor:
        w = dirichlet(n, self.problem.n_obj, generator=self.generator, dtype=self.dtype, device=self.device)
        return w + self.config.pref_eps

    def _initial_design(self) -> Tensor:
        """The first ask: ``n_init`` Latin-hypercube points (fewer if the budget is smaller),
        rounded onto the integer grid."""
        k = self.config.n_init if self.remaining is None else min(self.config.n_init, self.remaining)
        U = latin_hypercube(k, self.problem.n_var, generator=self.generator, dtype=self.dtype, device=self.device)
        return self._on_grid(self.lower + (self.upper - self.lower) * U)

    def _on_grid(self, X: Tensor) -> Tensor:
        """``X`` with its integer columns rounded to the nearest integer in the bounds."""
        return repair(X, self.lower, self.upper, self.layout)

    def _local_step(self, X: Tensor, prefs: Tensor, value, ideal: Tensor) -> Tensor:
        """One Tchebycheff gradient step per candidate in unit-cube coordinates, clipped to the box."""
        span = self.upper - self.lower
        U = ((X - self.lower) / span).requires_grad_(True)
        for _ in range(self.config.n_local):
            s = augmented_tchebycheff(value(self.lower + span * U), prefs, ideal, rho=self.config.rho, inverse=True)
            (grad,) = torch.autograd.grad(s.sum(), U)
            U = (U - self.config.local_step * grad).clamp(0, 1).detach().requires_grad_(True)
        return (self.lower + span * U).detach()

    def _select(self, Y_cand: Tensor, Y_front: Tensor, k: int) -> list[int]:
        """Greedy batch of ``k`` candidates by hypervolume improvement over ``Y_front``."""
        from moo.indicators import hv_improvement

        picked: list[int] = []
        front = Y_front
        for _ in range(k):
            ref = torch.cat([front, Y_cand]).amax(0)
            gain = hv_improvement(Y_cand, front, ref)
            if picked:
                gain[picked] = -1.0
            best = int(gain.argmax())
            if float(gain[best]) <= 0:
                free = torch.ones(Y_cand.shape[0], dtype=torch.bool, device=Y_cand.device)
                free[picked] = False
                choices = free.nonzero().flatten()
                best = int(choices[torch.randint(len(choices), (1,), generator=self.generator,
                                                 device=self.generator.device).item()])
            picked.append(best)
            front = torch.cat([front, Y_cand[best:best + 1]])
        return picked

    def _train_model(self, value, ideal: Tensor, Y_std: Tensor) -> ParetoSetModel:
        """A fresh model trained on the augmented Tchebycheff of ``value`` (the standardized LCB)
        around ``ideal``; ``Y_std`` are the standardized evaluated objectives. Subclasses with
        another training rule (SVH-PSL) override this."""
        c = self.config
        model = self._new_model()
        optimizer = torch.optim.Adam(model.parameters(), lr=c.lr)
        scalarize = lambda L, w: augmented_tchebycheff(L, w, ideal, rho=c.rho, inverse=True)  # noqa: E731
        model.train()
        for _ in range(c.n_steps):
            scalarized_step(model, optimizer, self._prefs(c.n_pref_update), value, scalarize)
        return model

    # ------------------------------------------------------------------ ask/tell
    def _ask(self) -> Tensor:
        """The initial design first; afterwards fit the GPs on every told point, train the
        model and propose the next batch (at most the remaining budget)."""
        self._ask_extras = None
        if self.archive[0].shape[0] == 0:
            return self._initial_design()
        c = self.config
        t0 = time.perf_counter()
        X, Y = self.archive
        gp = GPSurrogate(torch.stack([self.lower, self.upper])).fit(X, Y)
        if c.standardize_objectives:
            mu, sd = Y.mean(0), Y.std(0, unbiased=False).clamp_min(1e-12)
        else:
            mu, sd = torch.zeros_like(Y[0]), torch.ones_like(Y[0])
        Y_std = (Y - mu) / sd
        ideal = torch.minimum(Y_std.amin(0) - c.ideal_offset, torch.zeros_like(mu))

        def value(Xq: Tensor) -> Tensor:
            return (gp.lcb(Xq, beta=c.lcb_beta) - mu) / sd

        t1 = time.perf_counter()
        model = self.model = self._train_model(value, ideal, Y_std).eval()

        t2 = time.perf_counter()
        prefs = self._prefs(c.n_candidate)
        with torch.no_grad():
            X_cand = model(prefs)
        if c.n_local > 0:
            X_cand = torch.cat([X_cand, self._local_step(X_cand, prefs, value, ideal)])
        X_cand = self._on_grid(X_cand)
        with torch.no_grad():
            Y_cand = value(X_cand)
        ok = torch.isfinite(Y_cand).all(-1)
        X_cand, Y_cand = X_cand[ok], Y_cand[ok]
        k = c.batch_size if self.remaining is None else min(c.batch_size, self.remaining)
        picked = self._select(Y_cand, Y_std[non_dominated_mask(Y_std)], k)
        t3 = time.perf_counter()
        self._ask_extras = {"fit_time": t1 - t0, "train_time": t2 - t1, "select_time": t3 - t2,
                            "iteration_time": t3 - t0}
        return X_cand[picked]

    def _tell(self, X: Tensor, F: Tensor, G: Tensor | None) -> StepInfo:
        """The told points join the data (the archive, which the base class has extended); an
        iteration after the initial design is counted."""
        extras, self._ask_extras = self._ask_extras, None
        if extras is None:  # the initial design
            return StepInfo()
        self.n_iter += 1
        return StepInfo(extras=extras)

    # ------------------------------------------------------------------ results
    def pareto_set(self, prefs) -> Tensor:
        """The latest learned model's solutions ``[k, n_var]`` for ``prefs [k, n_obj]``.

        The model learns the Pareto set of the GP surrogates' LCB, so these solutions are
        predictions, not evaluated points."""
        if self.model is None:
            raise MooValueError("psl-mobo has no learned model yet: run at least one iteration after "
                                "the initial design")
        w = check_prefs(prefs, self.problem.n_obj, self.lower).to(self.dtype)
        with torch.no_grad():
            return self.model(w + self.config.pref_eps)

    # ------------------------------------------------------------------ checkpoints
    def load_state_dict(self, state: dict) -> None:
        # the model is created during the run: build it (before the generator is restored, which
        # overwrites the draws of its initialisation) for the base class to load into
        self.model = None if state.get("model") is None else self._new_model().eval()
        super().load_state_dict(state)
