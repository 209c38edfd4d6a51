"""The protocol every solver implements, and the shared machinery behind it.

A solver subclasses :class:`Algorithm`, declares its hyper-parameters as a dataclass in
``Config`` (with the defaults of the paper it reproduces), and implements ``_setup`` and either

- ``_ask`` and ``_tell`` (a *black-box* solver): :meth:`ask` gives the next batch to evaluate,
  :meth:`tell` takes its objective (and constraint) values. Whoever evaluates (``moo.solve``,
  its worker pool, or a user's own loop around a lab or a cluster) the solver sees the same
  values, so a hand-written ask/tell loop gives ``solve``'s result exactly; or
- ``step`` (a solver that needs the problem in-process, e.g. for gradients): one iteration,
  evaluating through :meth:`evaluate`.

The base class owns the random generator, the device, evaluation counting against the budget,
and the archive of every evaluated point.

Checkpoints: an algorithm whose state is tensors returns it from :meth:`state_dict` (the
archive is kept by the base class and stored beside it once); the solve loop saves it
(loadable with ``weights_only=True``) and resumes from it. A black-box solver that cannot (a
peer library's object) returns ``None`` and is resumed by *replay*: it is run again from the
same seed, and ``solve`` answers its asks from the recorded log while the log lasts, so an
interrupted run costs no true evaluation twice and ends exactly where an uninterrupted one
would.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
import re
import sys
import types
import typing
import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Union

import numpy as np
import torch
from torch import Tensor

from moo.errors import BudgetError, CheckpointError, FormatError, InfeasibleWarning, MooTypeError, MooValueError
from moo.pareto import non_dominated_mask, total_violation
from moo.problem import VAR_TYPES, Problem, as_tensor


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


#: seeds are integers in ``[0, SEED_LIMIT)``: what an SQLite ``INTEGER`` (the benchmark store) and
#: ``torch.Generator.manual_seed`` both hold without aliasing (torch maps a negative seed onto a
#: large unsigned one, and accepts up to ``2**64 - 1``, which SQLite cannot store)
SEED_LIMIT = 2 ** 63


def check_seed(seed) -> int:
    """``seed`` as a Python int, or a moo error: it must be an integer (``int`` or a NumPy integer,
    not a ``bool`` and not a float such as ``1.7``, which would be truncated) in
    ``0 <= seed < 2**63``."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise MooTypeError(f"seed must be an integer in [0, 2**63), got {seed!r} ({type(seed).__name__})")
    seed = int(seed)
    if not 0 <= seed < SEED_LIMIT:
        raise MooValueError(f"seed must be an integer in [0, 2**63), got {seed}")
    return seed


def available_devices() -> list[str]:
    """The devices this process can run on: ``"cpu"``, then ``"cuda:0"`` .. ``"cuda:N-1"`` and
    ``"mps"`` where present."""
    out = ["cpu"]
    if torch.cuda.is_available():
        out += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    for kind in ("xpu",):
        module = getattr(torch, kind, None)
        if module is not None and module.is_available():
            out += [f"{kind}:{i}" for i in range(module.device_count())]
    return out


def check_device(device=None) -> torch.device:
    """``device`` as a :class:`torch.device` this process can use, or a moo error naming the
    devices that are available.

    ``None`` gives :func:`default_device` (CUDA when available, else CPU). A string must be a
    device torch knows (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``); a CUDA (or MPS, XPU)
    device must be present, and its index below the number of devices. A device given without
    an index (``"cuda"``) is returned as given.
    """
    if device is None:
        return default_device()
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        try:
            dev = torch.device(device)
        except (RuntimeError, ValueError):
            raise MooValueError(f"device {device!r} is not a device name (names look like 'cpu', 'cuda', "
                                f"'cuda:1'); available devices: {', '.join(available_devices())}") from None
    else:
        raise MooTypeError(f"device must be a string such as 'cpu' or 'cuda:0', a torch.device or None, "
                           f"got {type(device).__name__}")
    available = available_devices()
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        present = torch.cuda.is_available()
        count = torch.cuda.device_count() if present else 0
    elif dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        present, count = mps is not None and mps.is_available(), 1
    elif dev.type in ("xpu",):
        module = getattr(torch, dev.type)
        present = module.is_available()
        count = module.device_count() if present else 0
    else:
        raise MooValueError(f"device {str(dev)!r} is not supported; available devices: {', '.join(available)}")
    if not present:
        raise MooValueError(f"device {str(dev)!r} is not available in this process; available devices: "
                            f"{', '.join(available)}")
    if dev.index is not None and dev.index >= count:
        raise MooValueError(f"device {str(dev)!r} does not exist: this process sees {count} {dev.type} "
                            f"device(s); available devices: {', '.join(available)}")
    return dev


# ---------------------------------------------------------------------------------- config checks
#: names of integer options that count things: a negative value is refused (0 may mean "none")
_COUNT_NAME = re.compile(r"^(n|num)_|_steps$|_samples$")
#: names of integer options that size things: zero and negative values are refused
_SIZE_NAME = re.compile(r"(^|_)size$|^batch")
#: names of learning rates: zero and negative values are refused
_LR_NAME = re.compile(r"(^|_)(lr|learning_rate)$")
#: names of probabilities: values outside [0, 1] are refused
_PROB_NAME = re.compile(r"^prob_|_prob$")

_MISSING = object()


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _type_name(tp) -> str:
    if tp is type(None):
        return "None"
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _check_value(value, tp, where: str, default=_MISSING) -> None:
    """Raise a moo error unless ``value`` matches the annotation ``tp``. ``default`` (a default
    value, for bare ``tuple``/``list`` annotations) tells the element kind: numbers when the
    default holds numbers."""
    def wrong(expected: str) -> MooTypeError:
        return MooTypeError(f"{where} must be {expected}, got {value!r} ({type(value).__name__})")

    if tp is Any or tp is object or isinstance(tp, (str, typing.ForwardRef, typing.TypeVar)):
        return  # unknown or unresolvable: nothing to check
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Union or origin is types.UnionType:
        if value is None and type(None) in args:
            return
        options = [a for a in args if a is not type(None)]
        for option in options:
            try:
                _check_value(value, option, where, default)
                return
            except MooTypeError:
                pass
        expected = " or ".join(_type_name(a) for a in args)
        raise wrong(expected)
    if origin is Literal:
        if not any(value == a and type(value) is type(a) for a in args):
            raise MooValueError(f"{where} must be one of {list(args)}, got {value!r}")
        return
    if tp is bool:
        if not isinstance(value, (bool, np.bool_)):
            raise wrong("true or false (a bool)")
        return
    if tp is int:
        if not _is_int(value):
            raise wrong("an integer")
        return
    if tp is float:
        if not _is_real(value):
            raise wrong("a number")
        return
    if tp is str:
        if not isinstance(value, str):
            raise wrong("a string")
        return
    if tp in (tuple, list) or origin in (tuple, list):
        # a list is accepted for a tuple (TOML, JSON and config_dict give lists) and vice versa
        if not isinstance(value, (tuple, list)):
            raise wrong(f"a list ({_type_name(tp)})")
        if args and args[-1] is Ellipsis:
            for i, item in enumerate(value):
                _check_value(item, args[0], f"{where}, item {i},")
        elif args and origin is tuple and args != ((),):
            if len(value) != len(args):
                raise MooValueError(f"{where} must have {len(args)} items ({_type_name(tp)}), got {value!r}")
            for i, (item, arg) in enumerate(zip(value, args)):
                _check_value(item, arg, f"{where}, item {i},")
        elif args:  # list[X]
            for i, item in enumerate(value):
                _check_value(item, args[0], f"{where}, item {i},")
        elif isinstance(default, (tuple, list)) and default and all(_is_real(d) for d in default):
            kind = int if all(_is_int(d) for d in default) else float
            for i, item in enumerate(value):
                _check_value(item, kind, f"{where}, item {i},")
        return
    if tp is dict or origin is dict:
        if not isinstance(value, dict):
            raise wrong("a table (dict)")
        return
    check = origin if isinstance(origin, type) else tp
    if isinstance(check, type):
        try:
            ok = isinstance(value, check)
        except TypeError:
            return
        if not ok:
            raise wrong(f"a {_type_name(tp)}")


def _finite_everywhere(value) -> bool:
    if _is_real(value):
        return math.isfinite(value)
    if isinstance(value, (tuple, list)):
        return all(_finite_everywhere(v) for v in value)
    return True


def _check_range(name: str, value, default, where: str) -> None:
    """The range rules the generic check can know from a field's name and default."""
    if not _finite_everywhere(value) and _finite_everywhere(default):
        raise MooValueError(f"{where} must be finite, got {value!r}")
    if not _is_real(value):
        return
    positive_default = _is_real(default) and default > 0
    if _is_int(value) and _SIZE_NAME.search(name) and positive_default and value <= 0:
        raise MooValueError(f"{where} must be a positive integer, got {value!r}")
    if _is_int(value) and _COUNT_NAME.search(name) and _is_real(default) and default >= 0 and value < 0:
        raise MooValueError(f"{where} must be a non-negative integer, got {value!r}")
    if _LR_NAME.search(name) and positive_default and value <= 0:
        raise MooValueError(f"{where} must be a positive learning rate, got {value!r}")
    if _PROB_NAME.search(name) and (default is None or _is_real(default) and 0 <= default <= 1) \
            and not 0 <= value <= 1:
        raise MooValueError(f"{where} must be a probability in [0, 1], got {value!r}")


def _field_default(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return _MISSING


def _type_hints(cls) -> dict:
    """The resolved annotations of a Config dataclass (strings under ``from __future__ import
    annotations``); a field whose annotation cannot be resolved is left out (not checked)."""
    try:
        return typing.get_type_hints(cls)
    except Exception:  # one unresolvable name: resolve field by field, per defining class
        out = {}
        for klass in reversed(cls.__mro__):
            module = sys.modules.get(klass.__module__)
            namespace = dict(vars(module)) if module is not None else {}
            for name, annotation in vars(klass).get("__annotations__", {}).items():
                if isinstance(annotation, str):
                    try:
                        annotation = eval(annotation, namespace, dict(vars(klass)))  # noqa: S307 (own source)
                    except Exception:
                        out.pop(name, None)
                        continue
                out[name] = annotation
        return out


def validate_config(config, owner: str = "algorithm") -> None:
    """Check every field of the dataclass ``config`` against its type annotation and the range
    rules below; raise :class:`~moo.errors.MooTypeError` (wrong type) or
    :class:`~moo.errors.MooValueError` (bad value) naming the option, what was expected and what
    came. A value equal to the field's default always passes.

    Types: ``int`` (not ``bool``, not a float), ``float`` (an int or float, not ``bool``),
    ``bool``, ``str``, ``X | None``, ``tuple[...]``/``list[...]`` (either a tuple or a list, items
    checked; a bare ``tuple`` whose default holds numbers needs numbers), ``dict``, ``Literal``;
    other annotations by ``isinstance``, unresolvable ones not at all.

    Ranges: NaN and ±inf are refused (in lists too) unless the default is itself not finite;
    an integer named like a size (``*_size``, ``pop_size``, ``batch*``) with a positive default
    must be positive; one named like a count (``n_*``, ``num_*``, ``*_steps``, ``*_samples``) with
    a non-negative default must not be negative (0 may mean "none", as ``n_local = 0``); a
    learning rate (``lr``, ``*_lr``, ``learning_rate``) with a positive default must be positive;
    a probability (``prob_*``, ``*_prob``) must lie in [0, 1]. Rules a solver needs beyond these
    it checks itself.
    """
    hints = _type_hints(type(config))
    for f in dataclasses.fields(config):
        value, default = getattr(config, f.name), _field_default(f)
        where = f"option {f.name!r} of {owner}"
        try:
            if default is not _MISSING and type(value) is type(default) and value == default:
                continue  # the default passes as it is (bool(nan == nan) is False: still checked)
        except Exception:  # an ambiguous comparison (an array): check it
            pass
        if f.name in hints:
            _check_value(value, hints[f.name], where, default)
        _check_range(f.name, value, None if default is _MISSING else default, where)


class UnsupportedProblemError(MooValueError):
    """A solver cannot honour part of a problem's definition (its constraints, or its integer or
    categorical variables); raised by :meth:`Algorithm.setup`, before any evaluation."""


class Algorithm:
    """Base class of every solver. See the module docstring for the contract."""

    name: ClassVar[str] = "algorithm"
    #: How the registry built this algorithm; ``None`` for one built in code.
    spec: str | None = None
    #: How a checkpoint continues the solver: ``"state"`` (:meth:`state_dict`) or ``"replay"``
    #: (a black-box solver whose state lives in a peer library's objects; see the module docstring).
    resume_by: ClassVar[Literal["state", "replay"]] = "state"
    #: Attributes :meth:`state_dict` saves, beside those of the base classes.
    state_attrs: ClassVar[tuple[str, ...]] = ()
    #: Whether the solver honours constraints (``n_constr > 0``); ``setup`` refuses a constrained
    #: problem otherwise (:func:`check_supported`).
    handles_constraints: ClassVar[bool] = True
    #: The variable types (of :data:`moo.problem.VAR_TYPES`) the solver honours; ``setup`` refuses a
    #: problem with another.
    handles_var_types: ClassVar[tuple[str, ...]] = VAR_TYPES

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
        validate_config(self.config, f"algorithm {self.name!r}")
        self.problem: Problem | None = None

    # ------------------------------------------------------------------ lifecycle
    def setup(self, problem: Problem, *, seed: int = 0, device: torch.device | str | None = None,
              budget: int | None = None, dtype: torch.dtype = torch.float64) -> None:
        """Bind to ``problem`` and reset all state. ``budget`` caps true evaluations.

        A problem whose constraints or variable types the solver does not honour is refused
        here (:func:`check_supported`), before anything is evaluated."""
        if not isinstance(problem, Problem):
            raise MooTypeError(f"problem must be a moo.Problem, got {type(problem).__name__}")
        check_supported(self, problem)
        if budget is not None:
            budget = check_budget(budget)
        self.seed = check_seed(seed)
        self.device = check_device(device)
        self.problem = problem
        self.dtype = dtype
        self.budget = None if budget is None else int(budget)
        self.generator = torch.Generator(device=self.device).manual_seed(self.seed)
        self.n_evals = 0
        self._archive_X: list[Tensor] = []
        self._archive_F: list[Tensor] = []
        self._archive_cv: Tensor | None = None
        self._asked: Tensor | None = None
        self._setup()

    def _setup(self) -> None:
        """Subclass hook: initialise state once ``problem``, ``device`` and ``generator`` are set."""

    def step(self) -> StepInfo:
        """Advance by one iteration and report what was evaluated. A black-box solver's step is
        one ask/tell round, evaluated in this process; a solver without ask/tell overrides it."""
        from moo.evaluation import SerialEvaluation

        X = self.ask()
        return self.tell(X, *SerialEvaluation(self.problem)(X))

    # ------------------------------------------------------------------ ask/tell
    @property
    def asks(self) -> bool:
        """Whether the solver is driven by :meth:`ask`/:meth:`tell` (a black-box solver)."""
        return type(self)._ask is not Algorithm._ask

    def _ask(self) -> Tensor:
        """Subclass hook: the next batch ``[k, n_var]``, ``k <= remaining`` (``k = 0`` once the
        solver has nothing left to ask within the budget)."""
        raise NotImplementedError

    def _tell(self, X: Tensor, F: Tensor, G: Tensor | None) -> StepInfo:
        """Subclass hook: learn from the asked batch ``X``, its objectives ``F`` and constraint
        values ``G`` (``None`` without constraints; :meth:`violation` sums them). The base class
        has counted and archived them, and fills the returned info's ``X``, ``F`` and
        ``n_evals``."""
        raise NotImplementedError

    def ask(self) -> Tensor:
        """The next batch of points to evaluate, ``[k, n_var]``; ``k`` never exceeds
        :attr:`remaining`. Evaluate it anywhere and pass the values to :meth:`tell` before
        asking again."""
        if not self.asks:
            raise MooTypeError(f"algorithm {self.name!r} evaluates the problem in-process (it needs its gradients) "
                               "and advances with step(); it has no ask/tell")
        if self.problem is None:
            raise MooValueError(f"algorithm {self.name!r} is not set up: call setup(problem, ...) first")
        if self._asked is not None:
            raise MooValueError(f"algorithm {self.name!r}: tell() the values of the last asked batch before asking again")
        X = self._ask().detach()
        if X.dim() != 2 or X.shape[1] != self.problem.n_var or                 (self.remaining is not None and X.shape[0] > self.remaining):
            raise RuntimeError(f"{self.name!r} asked for a batch of shape {list(X.shape)} with {self.remaining} "
                               "evaluations remaining; a solver must ask for [k <= remaining, n_var]")
        self._asked = X.clone()
        return X

    def tell(self, X, F, G=None) -> StepInfo:
        """The values of the batch last asked: objectives ``F [k, n_obj]`` and, for a problem
        with constraints, constraint values ``G [k, n_constr]`` (``<= 0`` is feasible). ``X`` must
        be the asked points. Counts ``k`` evaluations, archives them, and lets the solver learn
        from them. Values that are not finite or of the wrong shape are refused (the batch stays
        open for a corrected tell)."""
        if self._asked is None:
            raise MooValueError(f"algorithm {self.name!r}: nothing was asked; call ask() first")
        asked = self._asked
        X = as_tensor(X, like=asked, name="X")
        if X.shape != asked.shape or not torch.equal(X, asked):
            raise MooValueError(f"algorithm {self.name!r}: tell() must be given the points last asked "
                                f"(shape {list(asked.shape)}), unchanged and in order")
        F = self.problem._check_output(F, asked, self.problem.n_obj, "objectives").detach()
        if self.problem.n_constr:
            if G is None:
                raise MooValueError(f"problem {self.problem.name!r} has {self.problem.n_constr} constraint(s): "
                                    "tell(X, F, G) needs their values G")
            G = self.problem._check_output(G, asked, self.problem.n_constr, "constraints").detach()
            known = self._archive_cv.shape[0] if self._archive_cv is not None else 0
            if known == sum(x.shape[0] for x in self._archive_X):  # the cache is in step: extend it
                cv = total_violation(G)
                self._archive_cv = cv if self._archive_cv is None else torch.cat([self._archive_cv, cv])
        else:
            G = None
        self._asked = None
        self.n_evals += asked.shape[0]
        self._archive_X.append(asked)
        self._archive_F.append(F)
        info = self._tell(asked, F, G)
        info.X, info.F, info.n_evals = asked, F, asked.shape[0]
        return info

    def violation(self, G: Tensor | None, like: Tensor) -> Tensor:
        """Total constraint violation per row of ``G`` (zeros, shaped and typed as ``like``'s
        rows, when the problem has no constraints)."""
        if G is None:
            return torch.zeros(like.shape[0], dtype=like.dtype, device=like.device)
        return total_violation(G)

    # ------------------------------------------------------------------ evaluation
    @property
    def remaining(self) -> int | None:
        """True evaluations left in the budget (``None`` when unbounded)."""
        return None if self.budget is None else max(self.budget - self.n_evals, 0)

    def evaluate(self, X: Tensor, *, archive: bool = True) -> Tensor:
        """Evaluate ``X`` on the problem, count it, and (by default) archive it; for solvers
        that evaluate in-process (:meth:`step`).

        Training evaluations of a differentiable problem pass ``archive=False``: they still
        count against the budget but are not kept as candidate solutions.
        """
        F = self.problem.evaluate(X)
        self.n_evals += int(X.reshape(-1, X.shape[-1]).shape[0])
        if archive:
            self._archive_X.append(X.detach().reshape(-1, X.shape[-1]))
            self._archive_F.append(F.detach().reshape(-1, F.shape[-1]))
        return F

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
        """Everything needed to continue but the archive (see :meth:`load_archive`): the
        evaluation count, the generator's state, and every attribute named in a
        ``state_attrs`` of the class or its bases, collected the way ``nn.Module`` collects
        parameters (tensors and ``None`` as they are, modules and optimizers by their own
        ``state_dict``, objects with ``state()``/``load()`` by those, plain numbers, tuples of
        these). ``None`` for a solver resumed by replay (``resume_by = "replay"``)."""
        if self.resume_by == "replay":
            return None
        state = {"n_evals": self.n_evals, "generator": self.generator.get_state()}
        for name in self._state_names():
            state[name] = _pack(getattr(self, name))
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` saved into a solver set up on the same problem. A
        solver whose state holds a module that ``_setup`` does not build yet (it is created
        during the run) builds it before calling this."""
        if self.resume_by == "replay":
            raise MooTypeError(f"algorithm {self.name!r} is resumed by replay; it has no state to load")
        missing = [k for k in ("n_evals", "generator", *self._state_names()) if k not in state]
        if missing:
            raise FormatError(f"the state of {self.name!r} lacks {missing}")
        self.n_evals = int(state["n_evals"])
        if state["generator"].numel() == self.generator.get_state().numel():
            self.generator.set_state(state["generator"])
        # else: a state saved on another device type; continuing a run needs the same device
        # (solve checks that), while Result.pareto_set only needs the model
        for name in self._state_names():
            setattr(self, name, _unpack(state[name], getattr(self, name, None), self.device))

    @classmethod
    def _state_names(cls) -> tuple[str, ...]:
        names: dict[str, None] = {}
        for klass in reversed(cls.__mro__):
            names.update(dict.fromkeys(vars(klass).get("state_attrs", ())))
        return tuple(names)

    def load_archive(self, X: Tensor, F: Tensor) -> None:
        """Restore the archive saved beside a checkpoint's state."""
        self._archive_X = [X.to(self.device, self.dtype)]
        self._archive_F = [F.to(self.device, self.dtype)]
        self._archive_cv = None

    def config_dict(self) -> dict:
        """The hyper-parameters as a JSON-friendly dict."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self.config).items()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config})"


def _registered_solvers(able) -> str:
    """The registered algorithm names whose class satisfies ``able(cls)``, comma-separated."""
    from moo.registry import lookup, names

    found = []
    for name in names("algorithm"):
        factory = lookup("algorithm", name)
        if isinstance(factory, type) and issubclass(factory, Algorithm) and able(factory):
            found.append(name)
    return ", ".join(found) or "none registered"


def check_supported(algorithm: Algorithm, problem: Problem) -> None:
    """Refuse a problem the solver cannot honour, with :class:`UnsupportedProblemError`.

    A solver whose class sets ``handles_constraints = False`` refuses a problem with constraints
    (it would optimize the objectives alone and could return infeasible points as a front); one
    whose ``handles_var_types`` lacks a type the problem declares refuses the problem (it has no
    search operators for such variables: relaxed, they would reach the problem's ``evaluate`` as
    values it does not define). The message names the solver, the reason and the registered
    solvers that do handle the feature.
    """
    cls = type(algorithm)
    if problem.n_constr and not cls.handles_constraints:
        raise UnsupportedProblemError(
            f"algorithm {algorithm.name!r} does not handle constraints: on problem {problem.name!r} "
            f"(n_constr={problem.n_constr}) it would optimize the objectives alone and could return "
            f"infeasible points as its front; solvers that handle constraints: "
            f"{_registered_solvers(lambda c: c.handles_constraints)}")
    types = problem.var_types or ()
    bad = [j for j, t in enumerate(types) if t not in cls.handles_var_types]
    if bad:
        kinds = sorted({types[j] for j in bad})
        raise UnsupportedProblemError(
            f"algorithm {algorithm.name!r} handles {'/'.join(cls.handles_var_types)} variables only: "
            f"problem {problem.name!r} has {'/'.join(kinds)} variable(s) at index {bad[:10]}, for which "
            f"it has no search operators (relaxed, they would reach the problem's evaluate as values "
            f"it does not define); solvers that handle them: "
            f"{_registered_solvers(lambda c: set(kinds) <= set(c.handles_var_types))}")


def _pack(value):
    """``value`` as checkpoint data (tensors, dicts, lists and numbers only)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Tensor):
        return value.detach().cpu()
    if isinstance(value, (torch.nn.Module, torch.optim.Optimizer)):
        return value.state_dict()
    if isinstance(value, (tuple, list)):
        return [_pack(v) for v in value]
    if callable(getattr(value, "state", None)) and callable(getattr(value, "load", None)):
        return value.state()
    raise MooTypeError(f"cannot save a {type(value).__name__} in a state_dict; keep tensors, modules, optimizers, "
                       "numbers, or objects with state()/load() in state_attrs")


def _unpack(saved, current, device: torch.device):
    """The value to restore from ``saved``, given the attribute's ``current`` value (its kind)."""
    if isinstance(current, (torch.nn.Module, torch.optim.Optimizer)):
        current.load_state_dict(saved)
        return current
    if current is not None and not isinstance(current, (Tensor, bool, int, float, str, tuple, list)):
        current.load(saved)
        return current
    if isinstance(saved, Tensor):
        return saved.to(device)
    if isinstance(saved, list):
        like = current if isinstance(current, (tuple, list)) and len(current) == len(saved) else [None] * len(saved)
        return tuple(_unpack(s, c, device) for s, c in zip(saved, like))
    return saved


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
