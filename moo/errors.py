"""Exceptions raised by moo.

Every bad input raises a subclass of :class:`MooError` that is also a ``ValueError`` or
``TypeError``, so callers can catch either the moo family or the builtin one. Messages name
the argument, what was expected and what came.
"""
from __future__ import annotations

import difflib
from typing import Iterable


class MooError(Exception):
    """Base class of every error moo raises on purpose."""


class MooValueError(MooError, ValueError):
    """An argument has the right type but a bad value."""


class MooTypeError(MooError, TypeError):
    """An argument has the wrong type."""


class ShapeError(MooValueError):
    """A tensor has the wrong shape."""


class NonFiniteError(MooValueError):
    """An objective or constraint value is NaN or infinite."""


class IndicatorUnavailableError(MooValueError):
    """An indicator cannot be computed under the given conventions: it needs a reference point,
    a reference front or an ideal point that neither the arguments nor the problem provide."""


class BoundsError(MooValueError):
    """Variable bounds are malformed (lower above upper, wrong shape, non-finite)."""


class BudgetError(MooValueError):
    """A budget is not a positive number of evaluations."""


class EvaluationError(MooError, RuntimeError):
    """A user's problem raised while being evaluated; the original is chained."""


class UnknownNameError(MooValueError, KeyError):
    """A registry name is unknown; the message lists the close matches."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        known = sorted(known)
        close = difflib.get_close_matches(name.lower(), known, n=5, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        self.kind, self.name, self.close_matches = kind, name, close
        super().__init__(f"unknown {kind} {name!r}.{hint} Run `moo list {kind}s` to see all {len(known)}.")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.args[0]


class InfeasibleWarning(UserWarning):
    """No evaluated point satisfies the constraints; results show the least infeasible."""


class CheckpointError(MooValueError):
    """A run folder or checkpoint is missing, incomplete or from another run."""


def expect(condition: bool, error: type[MooError], message: str) -> None:
    """Raise ``error(message)`` unless ``condition`` holds."""
    if not condition:
        raise error(message)


class UntrustedSpecError(CheckpointError):
    """Stored data names user code (``module:Attr``) that would be imported to rebuild it, and
    the caller has not consented (``trust=True``, ``--trust``)."""


class FormatError(CheckpointError):
    """A stored file is truncated, malformed, inconsistent, or of an unknown format version."""


class RunFolderError(CheckpointError):
    """A run folder cannot be used: it holds a finished result, another run holds its lock, its
    path is blocked by a file, or it is not writable."""
