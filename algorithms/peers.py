"""Peer libraries' solvers behind moo's Algorithm contract.

Registered under their library's name: ``pymoo.nsga2``, ``pymoo.nsga3``, ``pymoo.moead``,
``pymoo.smsemoa`` (pymoo's own implementations, driven generation by generation), and
``botorch.qnehvi`` / ``botorch.qparego`` (the loop of BoTorch's multi-objective BO tutorial:
a GP per objective, Sobol initial design, qLogNEHVI or qParEGO with q-batch optimisation).
They are the baselines every benchmark compares against.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from pymoo.core.problem import Problem as PymooProblem
from torch import Tensor

from moo.algorithm import Algorithm, StepInfo
from moo.errors import MooValueError
from moo.preferences import das_dennis
from moo.registry import register_algorithm
from moo.surrogates import GPSurrogate


# ---------------------------------------------------------------------------------------- pymoo
class _PymooBridge(PymooProblem):
    """A pymoo ``Problem`` whose evaluations go through ``Algorithm.evaluate`` (counting,
    archiving, replay). Rows beyond the remaining budget are not evaluated: they get ``inf``
    objectives, and the run ends with that generation."""

    def __init__(self, owner: "PymooAlgorithm"):
        p = owner.problem
        super().__init__(n_var=p.n_var, n_obj=p.n_obj, n_ieq_constr=p.n_constr,
                         xl=p.xl.numpy(), xu=p.xu.numpy())
        self.owner = owner

    def _evaluate(self, x, out, *args, **kwargs):
        owner, problem = self.owner, self.owner.problem
        X = torch.as_tensor(np.asarray(x, dtype=np.float64), device=owner.device, dtype=owner.dtype)
        k = X.shape[0] if owner.remaining is None else min(X.shape[0], owner.remaining)
        out["F"] = np.full((X.shape[0], problem.n_obj), np.inf)
        out["F"][:k] = owner.evaluate(X[:k]).detach().cpu().double().numpy()
        if problem.n_constr:
            out["G"] = np.full((X.shape[0], problem.n_constr), np.inf)
            out["G"][:k] = problem.constraints(X[:k]).detach().cpu().double().numpy()


class PymooAlgorithm(Algorithm):
    """Base of the pymoo peers: builds the pymoo algorithm in ``_make`` and advances it one
    generation per step. pymoo's state is not tensors, so these resume by replay."""

    def _make(self):
        raise NotImplementedError

    def _setup(self) -> None:
        self._pymoo = self._make()
        self._pymoo.setup(_PymooBridge(self), termination=("n_gen", 2**62), seed=self.seed)

    def step(self) -> StepInfo:
        before = self.n_evals
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            self._pymoo.next()
        n = self.n_evals - before
        X, F = self.archive
        return StepInfo(X=X[-n:] if n else None, F=F[-n:] if n else None, n_evals=n)


@register_algorithm("pymoo.nsga2")
class PymooNSGA2(PymooAlgorithm):
    """pymoo's NSGA-II (Deb et al. 2002) with pymoo's operators (SBX η=15, PM η=20).

    The population defaults to 40 rather than pymoo's 100: at the budgets moo is run with
    (10⁴ evaluations on ZDT1, seed 0) 250 generations of 40 reach 99.1% of the reference
    front's hypervolume where 100 generations of 100 reach 97.1%.
    """

    name = "pymoo.nsga2"

    @dataclass
    class Config:
        pop_size: int = 40

    def _make(self):
        from pymoo.algorithms.moo.nsga2 import NSGA2

        return NSGA2(pop_size=self.config.pop_size)


def _ref_dirs(n_obj: int, n_partitions: int | None) -> np.ndarray:
    """Das-Dennis directions; by default about 100 for 2-3 objectives, fewer partitions beyond."""
    if n_partitions is None:
        n_partitions = {1: 1, 2: 99, 3: 12, 4: 7, 5: 5, 6: 4}.get(n_obj, 3)
    return das_dennis(n_partitions, n_obj).numpy()


@register_algorithm("pymoo.nsga3")
class PymooNSGA3(PymooAlgorithm):
    """pymoo's NSGA-III (Deb & Jain 2014) on Das-Dennis reference directions."""

    name = "pymoo.nsga3"

    @dataclass
    class Config:
        n_partitions: int | None = None
        pop_size: int | None = None

    def _make(self):
        from pymoo.algorithms.moo.nsga3 import NSGA3

        return NSGA3(ref_dirs=_ref_dirs(self.problem.n_obj, self.config.n_partitions),
                     pop_size=self.config.pop_size)


@register_algorithm("pymoo.moead")
class PymooMOEAD(PymooAlgorithm):
    """pymoo's MOEA/D (Zhang & Li 2007) with PBI decomposition, 20 neighbours."""

    name = "pymoo.moead"

    @dataclass
    class Config:
        n_partitions: int | None = None
        n_neighbors: int = 20
        prob_neighbor_mating: float = 0.9

    def _make(self):
        from pymoo.algorithms.moo.moead import MOEAD

        return MOEAD(ref_dirs=_ref_dirs(self.problem.n_obj, self.config.n_partitions),
                     n_neighbors=self.config.n_neighbors,
                     prob_neighbor_mating=self.config.prob_neighbor_mating)


@register_algorithm("pymoo.smsemoa")
class PymooSMSEMOA(PymooAlgorithm):
    """pymoo's SMS-EMOA (Beume et al. 2007): survival by least hypervolume contribution."""

    name = "pymoo.smsemoa"

    @dataclass
    class Config:
        pop_size: int = 100

    def _make(self):
        from pymoo.algorithms.moo.sms import SMSEMOA

        return SMSEMOA(pop_size=self.config.pop_size)


# -------------------------------------------------------------------------------------- BoTorch
class BoTorchAlgorithm(Algorithm):
    """Base of the BoTorch peers: the multi-objective BO tutorial's loop.

    Step 0 evaluates a scrambled-Sobol initial design of ``n_init`` points (default
    ``2 (d + 1)``); every later step fits one GP per objective (:class:`moo.surrogates.GPSurrogate`,
    shared with PSL-MOBO) on the data so far and evaluates a batch of ``batch_size`` points
    maximising the acquisition function. BoTorch maximises, so the GPs model ``-F``, rescaled
    per objective to [0, 1] over the data so far (the problem's reference point goes through the
    same map). The rescaling changes neither the GP (it standardizes its outcomes) nor the
    dominance order, and hypervolume improvements only by a constant factor; but the LogEI
    family's smoothing temperatures are absolute, so in raw units they act on a different scale:
    on the archive of one RE32 run (objectives spanning 4e8) every raw-unit gradient of
    qLogNEHVI came out NaN, and none does after the rescaling.
    The state is the data and the random generator, so checkpoints are exact.

    The acquisition optimizer raises ``OptimizationGradientError`` when the gradient is NaN at
    every restart it optimizes; the rescaling makes that rarer but not impossible (one RE32 run
    still hit it at 105 evaluations). A run does not stop there: the optimization is repeated from
    fresh raw samples up to ``max_retries`` times, and if every attempt fails the batch is drawn
    uniformly from the box, with a ``RuntimeWarning`` that names the step.
    """

    @dataclass
    class Config:
        n_init: int | None = None
        batch_size: int = 4
        num_restarts: int = 10
        raw_samples: int = 512
        mc_samples: int = 128
        max_retries: int = 2

    def _setup(self) -> None:
        if self.config.max_retries < 0:
            raise MooValueError(f"{self.name}: max_retries must be >= 0, got {self.config.max_retries}")
        self.bounds = self.problem.bounds.to(self.device, self.dtype)
        self._fallback_note: str | None = None

    def _seed_torch(self) -> int:
        return int(torch.randint(2**31 - 1, (1,), generator=self.generator, device=self.device))

    def step(self) -> StepInfo:
        X_all, F_all = self.archive
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.manual_seed(self._seed_torch())  # BoTorch draws from the global generator
            if X_all.shape[0] == 0:
                from torch.quasirandom import SobolEngine

                n = self.config.n_init or 2 * (self.problem.n_var + 1)
                u = SobolEngine(self.problem.n_var, scramble=True, seed=self._seed_torch()).draw(n)
                X = self.bounds[0] + (self.bounds[1] - self.bounds[0]) * u.to(self.device, self.dtype)
            else:
                Y, ref = self._unit_scaled(-F_all)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = GPSurrogate(self.bounds).fit(X_all, Y).model
                    X = self._candidates(model, X_all, Y, ref)
        extras = {}
        if self._fallback_note is not None:
            warnings.warn(self._fallback_note, RuntimeWarning, stacklevel=2)
            self._fallback_note = None
            extras["fallback_batch"] = 1  # in the run's history, so a report can flag the run
        if self.remaining is not None:
            X = X[: self.remaining]
        F = self.evaluate(X)
        return StepInfo(X=X, F=F, n_evals=X.shape[0], extras=extras)

    def _candidates(self, model, X: Tensor, Y: Tensor, ref_point: Tensor) -> Tensor:
        """The next batch from the GPs ``model`` of the unit-scaled objectives ``Y`` (maximised)
        and the reference point in the same units."""
        raise NotImplementedError

    def _maximize(self, optimize, n: int, /, **kwargs) -> Tensor:
        """``optimize(**kwargs)`` (a BoTorch ``optimize_acqf*``), retried from fresh raw samples
        on ``OptimizationGradientError``; ``n`` uniform points in the box if every try fails."""
        from botorch.exceptions.errors import OptimizationGradientError

        for _ in range(self.config.max_retries + 1):
            try:
                return optimize(**kwargs)[0].detach()
            except OptimizationGradientError as err:
                error = err
        self._fallback_note = (f"{self.name}: acquisition optimization failed {self.config.max_retries + 1} "
                               f"times at {self.archive[0].shape[0]} evaluations ({error}); this batch of "
                               f"{n} is drawn uniformly from the box")
        u = torch.rand(n, self.problem.n_var, dtype=self.dtype, device=self.device)
        return self.bounds[0] + (self.bounds[1] - self.bounds[0]) * u

    def _sampler(self):
        from botorch.sampling import SobolQMCNormalSampler

        return SobolQMCNormalSampler(sample_shape=torch.Size([self.config.mc_samples]))

    def _unit_scaled(self, Y: Tensor) -> tuple[Tensor, Tensor]:
        """``Y`` (maximised) rescaled per objective to [0, 1] over its rows, and the reference
        point in those units: the problem's own when it has one (``-ref_point``), else BoTorch's
        ``infer_reference_point`` on the rescaled data."""
        from botorch.utils.multi_objective.hypervolume import infer_reference_point

        lo, hi = Y.min(0).values, Y.max(0).values
        span = torch.where(hi > lo, hi - lo, torch.ones_like(hi))
        unit = (Y - lo) / span
        ref = self.problem.ref_point
        if ref is not None:
            return unit, (-torch.as_tensor(ref, device=self.device, dtype=self.dtype) - lo) / span
        return unit, infer_reference_point(unit)

    def state_dict(self) -> dict:
        return self._base_state()

    def load_state_dict(self, state: dict) -> None:
        self._load_base_state(state)


@register_algorithm("botorch.qnehvi")
class BoTorchQNEHVI(BoTorchAlgorithm):
    """qLogNEHVI (Daulton et al. 2021; Ament et al. 2023), BoTorch's recommended form of qNEHVI."""

    name = "botorch.qnehvi"

    def _candidates(self, model, X, Y, ref_point):
        from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
        from botorch.optim import optimize_acqf

        acq = qLogNoisyExpectedHypervolumeImprovement(
            model=model, ref_point=ref_point.tolist(), X_baseline=X, prune_baseline=True,
            sampler=self._sampler())
        return self._maximize(optimize_acqf, self.config.batch_size, acq_function=acq, bounds=self.bounds,
                              q=self.config.batch_size, num_restarts=self.config.num_restarts,
                              raw_samples=self.config.raw_samples, options={"batch_limit": 5, "maxiter": 200},
                              sequential=True)


@register_algorithm("botorch.qparego")
class BoTorchQParEGO(BoTorchAlgorithm):
    """qParEGO (Knowles 2006; Daulton et al. 2020): one random augmented-Chebyshev
    scalarization per batch element, each maximised with qLogNEI."""

    name = "botorch.qparego"

    def _candidates(self, model, X, Y, ref_point):
        from botorch.acquisition.logei import qLogNoisyExpectedImprovement
        from botorch.acquisition.objective import GenericMCObjective
        from botorch.optim.optimize import optimize_acqf_list
        from botorch.utils.multi_objective.scalarization import get_chebyshev_scalarization
        from botorch.utils.sampling import sample_simplex

        with torch.no_grad():
            pred = model.posterior(X).mean
        acqs = []
        for _ in range(self.config.batch_size):
            w = sample_simplex(Y.shape[-1], dtype=self.dtype, device=self.device).squeeze(0)
            objective = GenericMCObjective(get_chebyshev_scalarization(weights=w, Y=pred))
            acqs.append(qLogNoisyExpectedImprovement(model=model, objective=objective, X_baseline=X,
                                                     sampler=self._sampler(), prune_baseline=True))
        return self._maximize(optimize_acqf_list, len(acqs), acq_function_list=acqs, bounds=self.bounds,
                              num_restarts=self.config.num_restarts, raw_samples=self.config.raw_samples,
                              options={"batch_limit": 5, "maxiter": 200})
