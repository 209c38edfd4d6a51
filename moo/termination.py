"""When a run stops: ``moo.solve(..., termination=...)``.

A termination is checked after every step against the run's :class:`Progress` (steps, true
evaluations, wall time, and the latest history record with its indicator values). The rules::

    MaxEvaluations(10_000)          # true evaluations (what ``budget=`` means)
    MaxSteps(200)                   # solver steps (generations, iterations)
    MaxTime(3600)                   # wall-clock seconds of the run, resumed runs included
    IndicatorTarget("hv", 0.66)     # an indicator of the current approximation set reaches a value
    StopWhen(fn)                    # fn(progress) -> bool, any rule of the caller's own

combine with ``|`` (stop when either holds) and ``&`` (stop when both hold):
``MaxEvaluations(5000) | IndicatorTarget("hv", 0.66)``.

An evaluation cap also bounds what the solver may ask for: :attr:`Termination.max_evals` is
passed to :meth:`moo.Algorithm.setup` as its budget, so no batch crosses it. Every rule but
:class:`StopWhen` is plain data (:meth:`Termination.to_spec`), stored in ``run.json`` so that
``moo.resume`` stops where the original run would have.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, ClassVar

from moo.errors import MooTypeError, MooValueError

#: indicators that are better when larger; the others (IGD, IGD+, GD, LHD, epsilon, R2) are
#: better when smaller
LARGER_IS_BETTER = frozenset({"hv"})


@dataclass(frozen=True)
class Progress:
    """Where a run stands after a step.

    Attributes:
        step: steps taken.
        n_evals: true evaluations spent.
        time: wall-clock seconds of the run (including the part before a resume).
        record: the history record of this step (``step``, ``n_evals``, ``time``, the indicators
            computed at this step, the solver's logged scalars).
    """

    step: int
    n_evals: int
    time: float
    record: dict = field(default_factory=dict)


class Termination:
    """Base of the stopping rules (see the module docstring)."""

    def reached(self, progress: Progress) -> bool:
        raise NotImplementedError

    @property
    def max_evals(self) -> int | None:
        """A cap on true evaluations this rule implies, or ``None``."""
        return None

    @property
    def indicators(self) -> frozenset[str]:
        """Indicators this rule reads from each step's record (the loop computes them)."""
        return frozenset()

    def to_spec(self) -> dict | None:
        """This rule as plain JSON data, or ``None`` when it holds code (:class:`StopWhen`)."""
        return None

    def __or__(self, other: "Termination") -> "AnyOf":
        return AnyOf(self, other)

    def __and__(self, other: "Termination") -> "AllOf":
        return AllOf(self, other)


def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise MooValueError(f"{what} must be a positive integer, got {value!r}")
    return value


@dataclass(frozen=True)
class _CountLimit(Termination):
    """Stop once a counter of the run (``_counter``, a :class:`Progress` field) reaches ``n``."""

    n: int
    _counter: ClassVar[str]
    _spec_key: ClassVar[str]

    def __post_init__(self):
        _positive_int(self.n, f"{type(self).__name__}(n)")

    def reached(self, progress: Progress) -> bool:
        return getattr(progress, self._counter) >= self.n

    def to_spec(self) -> dict:
        return {self._spec_key: self.n}


class MaxEvaluations(_CountLimit):
    """Stop once ``n`` true evaluations are spent; the solver never asks for more."""

    _counter, _spec_key = "n_evals", "evals"

    @property
    def max_evals(self) -> int:
        return self.n


class MaxSteps(_CountLimit):
    """Stop after ``n`` solver steps."""

    _counter, _spec_key = "step", "steps"


@dataclass(frozen=True)
class MaxTime(Termination):
    """Stop at the first step that ends after ``seconds`` of wall time (a step is not cut)."""

    seconds: float

    def __post_init__(self):
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, (int, float)) \
                or not 0 < self.seconds < math.inf:
            raise MooValueError(f"MaxTime(seconds) must be a positive number, got {self.seconds!r}")

    def reached(self, progress: Progress) -> bool:
        return progress.time >= self.seconds

    def to_spec(self) -> dict:
        return {"seconds": float(self.seconds)}


@dataclass(frozen=True)
class IndicatorTarget(Termination):
    """Stop once ``indicator`` of the current approximation set reaches ``target``: at least
    ``target`` for the hypervolume, at most ``target`` for the indicators that are better when
    smaller (IGD, IGD+, GD, LHD, ...). The run's evaluator computes it after every step."""

    indicator: str
    target: float

    def __post_init__(self):
        if not isinstance(self.indicator, str) or not self.indicator:
            raise MooTypeError(f"IndicatorTarget(indicator) must be an indicator name, got {self.indicator!r}")
        if isinstance(self.target, bool) or not isinstance(self.target, (int, float)) \
                or not math.isfinite(self.target):
            raise MooValueError(f"IndicatorTarget(target) must be a finite number, got {self.target!r}")

    def reached(self, progress: Progress) -> bool:
        value = progress.record.get(self.indicator)
        if value is None or not math.isfinite(value):
            return False
        return value >= self.target if self.indicator in LARGER_IS_BETTER else value <= self.target

    @property
    def indicators(self) -> frozenset[str]:
        return frozenset({self.indicator})

    def to_spec(self) -> dict:
        return {"indicator": self.indicator, "target": float(self.target)}


@dataclass(frozen=True)
class StopWhen(Termination):
    """Stop when ``fn(progress)`` returns true. Holds code, so it is not stored in a run folder:
    ``moo.resume`` needs it passed again."""

    fn: Callable[[Progress], bool]

    def __post_init__(self):
        if not callable(self.fn):
            raise MooTypeError(f"StopWhen(fn) needs a callable, got {type(self.fn).__name__}")

    def reached(self, progress: Progress) -> bool:
        return bool(self.fn(progress))


class _Combined(Termination):
    def __init__(self, *rules: Termination):
        if len(rules) < 2:
            raise MooValueError(f"{type(self).__name__} combines at least two rules, got {len(rules)}")
        self.rules = tuple(as_termination(r) for r in rules)

    @property
    def indicators(self) -> frozenset[str]:
        return frozenset().union(*(r.indicators for r in self.rules))

    def to_spec(self) -> dict | None:
        specs = [r.to_spec() for r in self.rules]
        return None if any(s is None for s in specs) else {self._key: specs}

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.rules == other.rules

    def __hash__(self) -> int:
        return hash((type(self), self.rules))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self.rules))})"


class AnyOf(_Combined):
    """Stop when any of the rules holds (``a | b``)."""

    _key = "any"

    def reached(self, progress: Progress) -> bool:
        return any([r.reached(progress) for r in self.rules])  # every rule sees every step

    @property
    def max_evals(self) -> int | None:
        caps = [r.max_evals for r in self.rules if r.max_evals is not None]
        return min(caps) if caps else None


class AllOf(_Combined):
    """Stop when every rule holds (``a & b``). Implies an evaluation cap only when every rule
    is one."""

    _key = "all"

    def reached(self, progress: Progress) -> bool:
        return all([r.reached(progress) for r in self.rules])

    @property
    def max_evals(self) -> int | None:
        caps = [r.max_evals for r in self.rules]
        return None if any(c is None for c in caps) else max(caps)


def as_termination(termination) -> Termination:
    """``termination`` as a :class:`Termination`: a rule as it is, a plain-data spec (as
    :meth:`Termination.to_spec` gives) rebuilt."""
    if isinstance(termination, Termination):
        return termination
    if isinstance(termination, dict):
        return termination_from_spec(termination)
    raise MooTypeError(f"termination must be a moo.termination rule (MaxEvaluations, MaxSteps, MaxTime, "
                       f"IndicatorTarget, StopWhen, or a combination with | and &), got {type(termination).__name__}")


_LEAVES = {"evals": MaxEvaluations, "steps": MaxSteps, "seconds": MaxTime}


def termination_from_spec(spec: dict) -> Termination:
    """Rebuild a rule from :meth:`Termination.to_spec` data; a malformed spec is a moo error."""
    if not isinstance(spec, dict):
        raise MooTypeError(f"a termination spec must be a table, got {type(spec).__name__}")
    if set(spec) == {"indicator", "target"}:
        return IndicatorTarget(spec["indicator"], spec["target"])
    if len(spec) == 1:
        (key, value), = spec.items()
        if key in _LEAVES:
            return _LEAVES[key](value)
        if key in ("any", "all") and isinstance(value, list):
            return (AnyOf if key == "any" else AllOf)(*(termination_from_spec(v) for v in value))
    raise MooValueError(f"not a termination spec: {spec!r}; expected one of {{'evals': n}}, {{'steps': n}}, "
                        "{'seconds': s}, {'indicator': name, 'target': v}, {'any': [...]}, {'all': [...]}")


def resolve(budget: int | None, termination) -> Termination:
    """The run's rule from ``solve``'s ``budget`` and ``termination`` arguments: the budget is
    :class:`MaxEvaluations`; given both, the run stops at whichever comes first."""
    rules = []
    if budget is not None:
        from moo.algorithm import check_budget

        rules.append(MaxEvaluations(check_budget(budget)))
    if termination is not None:
        rules.append(as_termination(termination))
    if not rules:
        raise MooValueError("a run needs a budget (true evaluations) or a termination rule: pass budget=N "
                            "or termination=... (see moo.termination)")
    return rules[0] if len(rules) == 1 else AnyOf(*rules)
