"""The protocol every solver implements, and the shared machinery behind it.

A solver subclasses :class:`Algorithm`, declares its hyper-parameters as a dataclass in
``Config`` (with the defaults of the paper it reproduces), and implements ``_setup`` and
``step``. The base class owns the random generator, the device, evaluation counting against
the budget, and the archive of every evaluated point.

Checkpoints: an algorithm whose state is tensors returns it from :meth:`state_dict`; the solve
loop saves it (loadable with ``weights_only=True``) and resumes from it. An algorithm that
cannot (a peer library's object) returns ``None`` and is resumed by *replay*: it is run again
from the same seed, and every evaluation is served from the recorded log while the log lasts,
so an interrupted run costs no true evaluation twice and ends exactly where an uninterrupted
one would.
"""
from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor

from moo.errors import BudgetError, CheckpointError, InfeasibleWarning, MooTypeError, MooValueError
from moo.pareto import non_dominated_mask, total_violation
from moo.problem import Problem, as_tensor


@dataclass
class StepInfo:
    """What one :meth:`Algorithm.step` did.

    Attributes:
        X, F: the points evaluated in this step (``None`` when the step evaluated nothing).
        n_evals: true evaluations spent in this step.
        extras: scalars worth logging (losses, weights, step sizes), JSON-friendly.
    """

    X: Tensor | None = None
    F: Tensor | None = None
    n_evals: int = 0
    extras: dict = field(default_factory=dict)


def check_budget(budget) -> int:
    """``budget`` as an int, or :class:`BudgetError` unless it is a positive integer."""
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or budget != budget \
            or int(budget) != budget or budget <= 0:
        raise BudgetError(f"budget must be a positive integer number of evaluations, got {budget!r}")
    return int(budget)


def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Algorithm:
    """Base class of every solver. See the module docstring for the contract."""

    name: ClassVar[str] = "algorithm"
    #: How the registry built this algorithm; ``None`` for one built in code.
    spec: str | None = None

    @dataclass
    class Config:
        pass

    def __init__(self, config: Any = None, **overrides):
        base = config if config is not None else self.Config()
        if not dataclasses.is_dataclass(base):
            raise MooTypeError(f"config for {self.name!r} must be a {self.Config.__name__} dataclass")
        known = {f.name for f in dataclasses.fields(base)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise MooValueError(f"unknown option(s) {unknown} for algorithm {self.name!r}; "
                                f"known options: {sorted(known)}")
        self.config = dataclasses.replace(base, **overrides)
        self.problem: Problem | None = None
        self._replay: tuple[Tensor, Tensor] | None = None

    # ------------------------------------------------------------------ lifecycle
    def setup(self, problem: Problem, *, seed: int = 0, device: torch.device | str | None = None,
              budget: int | None = None, dtype: torch.dtype = torch.float64) -> None:
        """Bind to ``problem`` and reset all state. ``budget`` caps true evaluations."""
        if not isinstance(problem, Problem):
            raise MooTypeError(f"problem must be a moo.Problem, got {type(problem).__name__}")
        if budget is not None:
            budget = check_budget(budget)
        self.problem = problem
        self.seed = int(seed)
        self.device = torch.device(device) if device is not None else default_device()
        self.dtype = dtype
        self.budget = None if budget is None else int(budget)
        self.generator = torch.Generator(device=self.device).manual_seed(self.seed)
        self.n_evals = 0
        self._archive_X: list[Tensor] = []
        self._archive_F: list[Tensor] = []
        self._archive_cv: Tensor | None = None
        self._setup()

    def _setup(self) -> None:
        """Subclass hook: initialise state once ``problem``, ``device`` and ``generator`` are set."""

    def step(self) -> StepInfo:
        """Advance by one iteration and report what was evaluated."""
        raise NotImplementedError

    # ------------------------------------------------------------------ evaluation
    @property
    def remaining(self) -> int | None:
        """True evaluations left in the budget (``None`` when unbounded)."""
        return None if self.budget is None else max(self.budget - self.n_evals, 0)

    def evaluate(self, X: Tensor, *, archive: bool = True) -> Tensor:
        """Evaluate ``X`` on the problem, count it, and (by default) archive it.

        Training evaluations of a differentiable problem pass ``archive=False``: they still
        count against the budget but are not kept as candidate solutions.
        """
        rows = int(X.reshape(-1, X.shape[-1]).shape[0])
        if self._replay is not None and archive:
            F = self._take_replay(X)
        else:
            F = self.problem.evaluate(X)
        self.n_evals += rows
        if archive:
            self._archive_X.append(X.detach().reshape(-1, X.shape[-1]))
            self._archive_F.append(F.detach().reshape(-1, F.shape[-1]))
        return F

    def _take_replay(self, X: Tensor) -> Tensor:
        rec_X, rec_F = self._replay
        flat = X.detach().reshape(-1, X.shape[-1])
        k = flat.shape[0]
        if rec_X.shape[0] < k:
            raise CheckpointError("replay log ended inside a batch; the checkpoint is inconsistent")
        if not torch.allclose(flat.to(rec_X), rec_X[:k], rtol=1e-9, atol=1e-12):
            raise CheckpointError(f"resuming {self.name!r} by replay proposed other points than the "
                                  "recorded run; the algorithm is not deterministic for this seed")
        F = rec_F[:k].to(X)
        self._replay = (rec_X[k:], rec_F[k:]) if rec_X.shape[0] > k else None
        self.problem.n_evals += k
        return F.reshape(X.shape[:-1] + (F.shape[-1],))

    def start_replay(self, X: Tensor, F: Tensor) -> None:
        """Serve the next evaluations from a recorded log (used by resume)."""
        self._replay = (X, F) if X.shape[0] else None

    @property
    def archive(self) -> tuple[Tensor, Tensor]:
        """Every archived evaluated point, ``(X [N, n_var], F [N, n_obj])``."""
        if not self._archive_X:
            p = self.problem
            return (torch.empty(0, p.n_var, dtype=self.dtype, device=self.device),
                    torch.empty(0, p.n_obj, dtype=self.dtype, device=self.device))
        if len(self._archive_X) > 1:
            self._archive_X = [torch.cat(self._archive_X)]
            self._archive_F = [torch.cat(self._archive_F)]
        return self._archive_X[0], self._archive_F[0]

    def approximation(self) -> tuple[Tensor, Tensor]:
        """The current approximation set ``(X, F)``: by default the non-dominated archive
        (feasible points only when the problem has constraints)."""
        X, F = self.archive
        if X.shape[0] == 0 or not self.problem.n_constr:
            return feasible_front(X, F)
        return feasible_front(X, F, self._archive_violation(X))

    def _archive_violation(self, X: Tensor) -> Tensor:
        """Total constraint violation of the archive ``X``; rows seen before come from a cache, so
        a long run asks the problem about each archived point's constraints once."""
        known = self._archive_cv.shape[0] if self._archive_cv is not None else 0
        if known < X.shape[0]:
            new = total_violation(self.problem.constraints(X[known:]))
            self._archive_cv = new if self._archive_cv is None else torch.cat([self._archive_cv, new])
        return self._archive_cv

    # ------------------------------------------------------------------ Pareto-set learners
    def pareto_set(self, prefs) -> Tensor:
        """Solutions for preference vectors ``prefs [k, n_obj]`` (Pareto-set learners only)."""
        raise MooTypeError(f"algorithm {self.name!r} does not learn a Pareto set")

    @property
    def learns_pareto_set(self) -> bool:
        return type(self).pareto_set is not Algorithm.pareto_set

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict | None:
        """Everything needed to continue, as tensors and plain values; ``None`` means
        "resume me by replay"."""
        return None

    def load_state_dict(self, state: dict) -> None:
        raise NotImplementedError

    def _base_state(self) -> dict:
        """State the base class owns; subclasses include it in their ``state_dict``."""
        X, F = self.archive
        return {"n_evals": self.n_evals, "generator": self.generator.get_state(),
                "archive_X": X.cpu(), "archive_F": F.cpu()}

    def _load_base_state(self, state: dict) -> None:
        self.n_evals = int(state["n_evals"])
        if state["generator"].numel() == self.generator.get_state().numel():
            self.generator.set_state(state["generator"])
        # else: a state saved on another device type; continuing a run needs the same device
        # (solve checks that), while Result.pareto_set only needs the model
        self._archive_X = [state["archive_X"].to(self.device, self.dtype)]
        self._archive_F = [state["archive_F"].to(self.device, self.dtype)]
        self._archive_cv = None

    def config_dict(self) -> dict:
        """The hyper-parameters as a JSON-friendly dict."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self.config).items()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config})"


def feasible_front(X: Tensor, F: Tensor, cv: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """The non-dominated rows of ``(X, F)`` among the feasible ones (total violation ``cv <= 0``;
    all rows when ``cv`` is ``None``).

    When no row is feasible the result is the least-infeasible row(s), those of smallest ``cv``,
    and a :class:`~moo.errors.InfeasibleWarning` says so (pymoo likewise reports its least
    infeasible solution): an infeasible trade-off front would read as a solution.
    """
    if cv is not None and X.shape[0]:
        feasible = cv <= 0
        if not bool(feasible.any()):
            warnings.warn(f"no feasible solution among {X.shape[0]} points; returning the least "
                          f"infeasible (total constraint violation {float(cv.min()):.4g})",
                          InfeasibleWarning, stacklevel=3)
            feasible = cv == cv.min()
        X, F = X[feasible], F[feasible]
    mask = non_dominated_mask(F)
    return X[mask], F[mask]


def bounds_on(problem: Problem, like: Tensor) -> tuple[Tensor, Tensor]:
    """The problem's lower and upper bounds on ``like``'s device and dtype."""
    b = as_tensor(problem.bounds, like=like)
    return b[0], b[1]
