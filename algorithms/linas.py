"""Predictor-assisted evolutionary multi-objective search: the LINAS loop of Intel's DyNAS-T, as
used by InstaTune (Sridhar et al., "InstaTune: Instantaneous Neural Architecture Search During
Fine-Tuning", ICCV Workshops 2023) and SimQ-NAS (Sarah et al., "SimQ-NAS: Simultaneous
Quantization Policy and Neural Architecture Search", 2023), for any number of objectives.

One outer iteration (:meth:`LINAS.step`):

1. fit one predictor per objective on every measured point, chosen among ridge, RBF-SVR, a GP
   and an MLP ensemble by cross-validated Kendall's tau (:mod:`moo.algorithms.predictors`);
2. run a long NSGA-II (:class:`moo.algorithms.evolutionary.NSGA2`) on the predictors' means;
3. measure the ``batch_size`` candidates of its final population and non-dominated archive with
   the highest expected hypervolume improvement over the measured front, chosen by sequential
   greedy q-EHVI (Daulton et al., "Differentiable Expected Hypervolume Improvement for Parallel
   Multi-Objective Bayesian Optimization", NeurIPS 2020): Monte Carlo over joint draws of the
   candidates' objectives, each pick joining the front of every draw with its own value there.
   The draws are correlated across candidates where the predictor says so (the GP posterior
   covariance, the MLP ensemble's members), so a near twin of an earlier pick adds little and
   the batch spreads out. A predictor without uncertainty (ridge, SVR) gets normal residuals of
   its cross-validated root mean squared error, so that every objective's error bar, noise the
   features cannot explain included, drives exploration; they are correlated by an RBF kernel
   on the features (scikit-learn's ``gamma="scale"``), so a near twin is mispredicted alike.

The first iteration measures ``n_init`` random points. Defaults follow DyNAS-T's LINAS
(population 50, the first population random, each iteration measuring a population's worth of
candidates from an inner NSGA-II of 50 x 100 = 5,000 predictor evaluations). Differences from
DyNAS-T: it fits only ridge/SVR predictors without uncertainty and takes the inner search's
final population as the next batch; here predictors are selected per objective, uncertainty is
used, the batch is chosen by hypervolume improvement, cost objectives are taken on a log scale,
objectives known without training are used exactly, and the number of objectives is free.

Objectives listed in ``log_objectives`` (by default the problem's own ``log_objectives``, e.g.
MACs and latency of :class:`moo.problems.nas.NASDigits`, which span orders of magnitude) are
taken as ``log10`` first: on a linear scale a predictor fitted to a cost spanning three decades
ranks its small values badly, and the hypervolume improvement ignores differences among them,
where the front lies. Then every objective is min-max normalized by the measured points before
fitting, and the hypervolume reference point is ``1 + ref_offset`` in that space, or the
problem's own ``ref_point`` on that scale where it is looser (the improvement then values points
as the user's reference point does: for ``NASDigits`` a latency up to 50 ms still counts, where
the measured maximum is about 2 ms).

Objectives the problem can compute without a true evaluation (its ``cheap_objectives`` and
``evaluate_cheap(X)``; e.g. the counted MACs of :class:`moo.problems.nas.NASDigits`) are used
exactly in the inner search and the batch selection instead of being predicted (DyNAS-T counts
MACs when it validates a sub-network but fits a predictor to them for its inner loop; here the
count itself is used); candidates are still measured in full, and every measured row counts
against the budget.

Predictor features come from the problem's ``encode(X)`` when it has one (e.g.
:class:`moo.problems.nas.NASDigits`, which maps genotypes of one architecture to one feature
vector, counted MACs and parameters included), else from :func:`default_features`. Candidates
whose features were already measured are never measured again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from moo.algorithm import Algorithm, StepInfo, bounds_on
from moo.errors import MooValueError
from moo.indicators import hv_improvement
from moo.pareto import non_dominated_mask
from moo.problem import CheapObjectives, Encodable, LogScaledObjectives, Problem
from moo.registry import register_algorithm

from .evolutionary import NSGA2
from .evolutionary.operators import VariableLayout, sample_uniform
from .predictors import PREDICTORS, Predictor, psd_root, select_predictor


def default_features(X: Tensor, problem: Problem) -> Tensor:
    """Predictor features: real and integer variables scaled to ``[0, 1]`` by the bounds,
    categorical variables one-hot encoded."""
    xl, xu = bounds_on(problem, X)
    scaled = (X - xl) / (xu - xl).clamp_min(1e-12)
    types = problem.var_types or ("real",) * problem.n_var
    parts = []
    for j, t in enumerate(types):
        if t == "cat":
            k = int(xu[j].item() - xl[j].item()) + 1
            idx = (X[..., j] - xl[j]).round().clamp(0, k - 1).long()
            parts.append(torch.nn.functional.one_hot(idx, k).to(X.dtype))
        else:
            parts.append(scaled[..., j:j + 1])
    return torch.cat(parts, dim=-1)


def new_rows(C: Tensor, existing: Tensor) -> Tensor:
    """Mask of the rows of ``C`` equal neither to a row of ``existing`` nor to an earlier row of ``C``."""
    pool = torch.cat([existing, C])
    _, inverse = torch.unique(pool, dim=0, return_inverse=True)
    first = torch.full((int(inverse.max()) + 1,), pool.shape[0], dtype=torch.long, device=C.device)
    first.scatter_reduce_(0, inverse, torch.arange(pool.shape[0], device=C.device), reduce="amin")
    own = torch.arange(existing.shape[0], pool.shape[0], device=C.device)
    return first[inverse[own]] == own


class PredictedProblem(Problem):
    """``problem`` with its objectives replaced by the predictors' means (the inner search's
    target). A ``None`` model is an objective computed exactly by ``exact(X)``, which returns
    those objectives (in order) with no uncertainty."""

    def __init__(self, problem: Problem, models: list[Predictor | None], features: Callable[[Tensor], Tensor],
                 residual_std: bool = False, exact: Callable[[Tensor], Tensor] | None = None):
        super().__init__(problem.n_var, len(models), problem.bounds, var_types=problem.var_types,
                         name=f"{problem.name}-predicted")
        if exact is None and None in models:
            raise MooValueError("PredictedProblem needs exact= for the objectives without a model")
        self.models, self.features, self.residual_std, self.exact = models, features, residual_std, exact

    def predict(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """Predicted means and standard deviations ``[..., m]``. Where a predictor has no
        uncertainty the std is its ``cv_rmse`` if ``residual_std`` (and it has one), else 0;
        exact objectives have std 0."""
        Z = self.features(X)
        known = iter(self.exact(X).to(Z).unbind(-1)) if None in self.models else None
        means, stds = [], []
        for model in self.models:
            if model is None:
                mean = next(known)
                means.append(mean)
                stds.append(torch.zeros_like(mean))
                continue
            mean, std = model.predict(Z)
            if std is None:
                std = torch.full_like(mean, self._residual(model))
            means.append(mean)
            stds.append(std)
        return torch.stack(means, -1).to(X.dtype), torch.stack(stds, -1).to(X.dtype)

    def _residual(self, model: Predictor) -> float:
        """The standard deviation given to a predictor without uncertainty: its ``cv_rmse`` if
        ``residual_std`` (and it has one), else 0."""
        return model.cv_rmse if self.residual_std and model.cv_rmse is not None else 0.0

    def sample(self, X: Tensor, n_samples: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        """The predicted means ``[k, m]`` (those of :meth:`predict`) and ``n_samples`` joint draws
        ``[n_samples, k, m]`` of the objectives of the rows of ``X [k, n_var]``: correlated across rows as each predictor's :meth:`Predictor.predict_joint`
        says (GP posterior, MLP-ensemble members); a predictor without uncertainty gets normal
        residuals of its ``cv_rmse`` if ``residual_std`` (else none), correlated across rows by its
        :meth:`Predictor.residual_correlation`; exact objectives are the same in every draw."""
        Z = self.features(X)
        known = iter(self.exact(X).to(Z).unbind(-1)) if None in self.models else None
        means, draws = [], []
        for model in self.models:
            if model is None:
                means.append(next(known))
                draws.append(means[-1].expand(n_samples, -1))
                continue
            mean, root = model.predict_joint(Z)
            means.append(mean)
            if root is None:
                spread = self._residual(model)
                root = (spread * psd_root(model.residual_correlation(Z)).to(mean) if spread > 0
                        else torch.zeros_like(mean).unsqueeze(-1))
            eps = torch.randn(n_samples, root.shape[1], generator=generator, dtype=root.dtype,
                              device=generator.device).to(root.device)
            draws.append(mean + eps @ root.T)
        return torch.stack(means, -1).to(X.dtype), torch.stack(draws, -1).to(X.dtype)

    def _evaluate(self, X: Tensor) -> Tensor:
        return self.predict(X)[0]


@register_algorithm("linas")
class LINAS(Algorithm):
    """Predictor-assisted NSGA-II (DyNAS-T's LINAS, InstaTune 2023, SimQ-NAS 2023); see the
    module docstring."""

    name = "linas"
    #: predictors and the inner search are rebuilt from the archive and the generator, so a
    #: resumed run continues exactly
    state_attrs = ("iteration",)
    #: the predictors model the objectives only; setup refuses a constrained problem
    handles_constraints = False

    @dataclass
    class Config:
        """Args:
            pop_size: inner NSGA-II population (DyNAS-T: 50).
            n_init: random points measured first (``None``: ``pop_size``, as DyNAS-T).
            batch_size: points measured per iteration (``None``: ``pop_size``, as DyNAS-T).
            inner_generations: inner NSGA-II generations on the predictors (DyNAS-T: 5,000
                predictor evaluations, i.e. 100 generations of 50).
            predictors: candidates for every objective, chosen by cross-validated Kendall's tau.
            n_folds: cross-validation folds for that choice.
            n_mc: Monte Carlo samples of the expected hypervolume improvement.
            ref_offset: reference point ``1 + ref_offset`` in normalized objectives.
            use_problem_ref: where the problem has a ``ref_point`` looser than that in some
                objective, measure the improvement up to the problem's point there.
            log_objectives: indices of objectives fitted and compared as ``log10`` (they must
                be positive); ``None``: the problem's ``log_objectives`` if it has them, else none.
            residual_std: give predictors without their own uncertainty their cross-validated
                RMSE as a constant standard deviation (else their objectives enter the improvement
                at their predicted means).
            use_cheap: compute the objectives the problem lists in ``cheap_objectives`` exactly
                with its ``evaluate_cheap(X)`` in the inner search, instead of predicting them.
        """

        pop_size: int = 50
        n_init: int | None = None
        batch_size: int | None = None
        inner_generations: int = 100
        predictors: tuple[str, ...] = ("ridge", "svr", "gp", "mlp")
        n_folds: int = 5
        n_mc: int = 64
        ref_offset: float = 0.1
        log_objectives: tuple[int, ...] | None = None
        residual_std: bool = True
        use_cheap: bool = True
        use_problem_ref: bool = True

    def _setup(self) -> None:
        c = self.config
        for name in ("pop_size", "inner_generations", "n_folds", "n_mc"):
            value = getattr(c, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (2 if name != "inner_generations" else 1):
                raise MooValueError(f"{name} must be an integer >= 2 (>= 1 for inner_generations), got {value!r}")
        for name in ("n_init", "batch_size"):
            value = getattr(c, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise MooValueError(f"{name} must be None or an integer >= 1, got {value!r}")
        unknown = [p for p in c.predictors if p not in PREDICTORS]
        if not c.predictors or unknown:
            raise MooValueError(f"predictors must be a non-empty list among {sorted(PREDICTORS)}, got {c.predictors!r}")
        if not c.ref_offset > 0:
            raise MooValueError(f"ref_offset must be > 0, got {c.ref_offset!r}")
        logs = c.log_objectives if c.log_objectives is not None else (
            self.problem.log_objectives if isinstance(self.problem, LogScaledObjectives) else ())
        logs = tuple(logs)
        if any(isinstance(j, bool) or not isinstance(j, int) or not 0 <= j < self.problem.n_obj for j in logs):
            raise MooValueError(f"log_objectives must be objective indices in [0, {self.problem.n_obj}), got {logs!r}")
        self.log_objectives = sorted(set(logs))
        cheap = tuple(getattr(self.problem, "cheap_objectives", ())) if c.use_cheap else ()
        if cheap and not isinstance(self.problem, CheapObjectives):
            raise MooValueError(f"{self.problem.name!r} lists cheap_objectives {cheap} but has no evaluate_cheap(X)")
        self.cheap = cheap
        like = torch.empty(0, dtype=self.dtype, device=self.device)
        self.xl, self.xu = bounds_on(self.problem, like)
        self.layout = VariableLayout(self.problem.var_types, self.problem.n_var, self.device)
        self.features = (self.problem.encode if isinstance(self.problem, Encodable)
                         else (lambda X: default_features(X, self.problem)))
        self.iteration = 0

    # ------------------------------------------------------------------ ask/tell
    def _ask(self) -> Tensor:
        c = self.config
        n = (c.n_init or c.pop_size) if self.iteration == 0 else (c.batch_size or c.pop_size)
        n = n if self.remaining is None else min(n, self.remaining)
        self._proposal_extras = {}
        if n == 0:
            return self.xl.new_empty(0, self.problem.n_var)
        X_seen, _ = self.archive
        if X_seen.shape[0] < 2:
            return self._fresh_random(n, self.features(X_seen))
        X, self._proposal_extras = self._propose(n)
        return X

    def _tell(self, X: Tensor, F: Tensor, G: Tensor | None) -> StepInfo:
        if X.shape[0] == 0:
            return StepInfo()
        self.iteration += 1
        return StepInfo(extras={"iteration": self.iteration, **self._proposal_extras})

    def _fresh_random(self, n: int, seen: Tensor, tries: int = 20) -> Tensor:
        """``n`` random points whose features differ from ``seen`` and from each other (as many
        as ``tries`` rounds of sampling find; repeats fill the rest)."""
        out = self.xl.new_empty(0, self.problem.n_var)
        for _ in range(tries):
            X = sample_uniform(4 * n, self.xl, self.xu, self.layout, generator=self.generator)
            Z = self.features(X)
            keep = new_rows(Z, torch.cat([seen, self.features(out)]))
            out = torch.cat([out, X[keep][: n - out.shape[0]]])
            if out.shape[0] == n:
                return out
        extra = sample_uniform(n - out.shape[0], self.xl, self.xu, self.layout, generator=self.generator)
        return torch.cat([out, extra])

    def _propose(self, n: int) -> tuple[Tensor, dict]:
        c = self.config
        X_seen, F_seen = self.archive
        Z_seen = self.features(X_seen)
        Y, lo, hi = self._scaled(F_seen)
        models, chosen = [], {}
        for j in range(Y.shape[1]):
            if j in self.cheap:
                models.append(None)
                chosen[f"predictor_{j}"] = "exact"
                continue
            model, scores = select_predictor(Z_seen, Y[:, j], candidates=c.predictors, n_folds=c.n_folds,
                                             generator=self.generator)
            models.append(model)
            chosen[f"predictor_{j}"] = model.name
            chosen[f"tau_{j}"] = scores[model.name]
        exact = (lambda X: self._cheap_scaled(X, lo, hi)) if self.cheap else None
        surrogate = PredictedProblem(self.problem, models, self.features, residual_std=c.residual_std, exact=exact)
        inner = NSGA2(pop_size=c.pop_size)
        seed = int(torch.randint(2 ** 62, (1,), generator=self.generator, device=self.generator.device))
        inner.setup(surrogate, seed=seed, device=self.device, dtype=self.dtype,
                    budget=c.pop_size * (c.inner_generations + 1))
        while inner.remaining:
            inner.step()
        X_arch, F_arch = inner.archive
        pool = torch.cat([inner.X, X_arch[non_dominated_mask(F_arch)]])
        keep = new_rows(self.features(pool), Z_seen)
        pool = pool[keep]
        if pool.shape[0] < n:  # the inner search converged onto measured points: add random ones
            Z_all = torch.cat([Z_seen, self.features(pool)])
            pool = torch.cat([pool, self._fresh_random(n - pool.shape[0], Z_all)])
        pick = self._greedy_ehvi(surrogate, pool, Y, n, self._reference(lo, hi))
        return pool[pick], chosen

    def _logged(self, F: Tensor, columns: list[int]) -> Tensor:
        """``F [k, len(columns)]`` (objectives ``columns``) with ``log10`` on those in :attr:`log_objectives`."""
        T = F.clone()
        logs = [i for i, j in enumerate(columns) if j in self.log_objectives]
        if logs:
            if bool((T[:, logs] <= 0).any()):
                raise MooValueError(f"log_objectives {self.log_objectives} must be positive, got a minimum of "
                                    f"{T[:, logs].min(0).values.tolist()} on {self.problem.name!r}")
            T[:, logs] = T[:, logs].log10()
        return T

    def _scaled(self, F: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Measured objectives as the predictors and the improvement see them: ``log10`` on
        :attr:`log_objectives`, then min-max normalized over the measured points; and the
        (log-scaled) minimum and maximum used."""
        T = self._logged(F, list(range(F.shape[-1])))
        lo, hi = T.min(0).values, T.max(0).values
        return (T - lo) / (hi - lo).clamp_min(1e-12), lo, hi

    def _cheap_scaled(self, X: Tensor, lo: Tensor, hi: Tensor) -> Tensor:
        """The problem's cheap objectives of ``X [..., n_var]``, exact, on the scale of
        :meth:`_scaled` with its ``lo`` and ``hi``."""
        cols = list(self.cheap)
        T = self._logged(self.problem.evaluate_cheap(X).to(lo).reshape(-1, len(cols)), cols)
        return ((T - lo[cols]) / (hi - lo)[cols].clamp_min(1e-12)).reshape(X.shape[:-1] + (len(cols),))

    def _reference(self, lo: Tensor, hi: Tensor) -> Tensor:
        """The hypervolume reference point on the scale of :meth:`_scaled`: ``1 + ref_offset``,
        or the problem's own ``ref_point`` (log-scaled like the objectives) where it is looser."""
        ref = torch.full_like(lo, 1.0 + self.config.ref_offset)
        own = self.problem.ref_point
        if own is not None and self.config.use_problem_ref:
            own = self._logged(torch.as_tensor(own, dtype=lo.dtype, device=lo.device).reshape(1, -1),
                               list(range(lo.shape[0])))[0]
            ref = torch.maximum(ref, (own - lo) / (hi - lo).clamp_min(1e-12))
        return ref

    def _greedy_ehvi(self, surrogate: PredictedProblem, pool: Tensor, Y: Tensor, n: int,
                     ref: Tensor | None = None) -> Tensor:
        """Indices of ``n`` rows of ``pool`` picked one by one by expected hypervolume improvement
        over the measured front ``Y``, up to the reference point ``ref`` (default
        ``1 + ref_offset``): sequential greedy q-EHVI (Daulton et al., NeurIPS 2020) on
        ``n_mc`` joint draws of the pool's objectives (:meth:`PredictedProblem.sample`). Each pick
        joins the front of every draw with its value in that draw, so a later candidate scores
        what it adds given the earlier picks; one correlated with an earlier pick (a near twin,
        under any of the predictors) adds little, and the batch spreads out."""
        c = self.config
        mean, samples = surrogate.sample(pool, c.n_mc, self.generator)  # [k, m], [S, k, m]
        if ref is None:
            ref = torch.full((Y.shape[1],), 1.0 + c.ref_offset, dtype=Y.dtype, device=Y.device)
        front = Y[non_dominated_mask(Y)].expand(c.n_mc, -1, -1)
        measured = front[0]
        tiny = 1e-12 * float((ref - measured.min(0).values).prod())  # round-off of a twin's gain
        taken = torch.zeros(pool.shape[0], dtype=torch.bool, device=pool.device)
        picks = []
        for _ in range(n):
            ehvi = hv_improvement(samples, front, ref).mean(0)
            ehvi = torch.where(taken, torch.full_like(ehvi, -1.0), ehvi)
            i = int(ehvi.argmax())
            if float(ehvi[i]) <= tiny:
                # nothing improves the front: the candidate closest to being non-dominated,
                # i.e. with the smallest shift max_p min_j (c_j - p_j) that escapes dominance
                gap = (mean.unsqueeze(1) - measured.unsqueeze(0)).min(-1).values.max(-1).values
                i = int(torch.where(taken, torch.full_like(gap, float("inf")), gap).argmin())
            picks.append(i)
            taken[i] = True
            front = torch.cat([front, samples[:, i:i + 1]], 1)
        return torch.tensor(picks, dtype=torch.long, device=pool.device)
