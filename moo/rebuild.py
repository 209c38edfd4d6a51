"""Rebuilding a problem or an algorithm from a stored spec, under the trust rule.

Stored data (a run folder's ``run.json`` and ``result.json``, a store row) names the problem
and algorithm it was made with, so that ``resume``, ``Result.problem()``, ``moo plot``,
``moo sample`` and ``moo report`` can rebuild them. Such a file may come from someone else, so
opening it must never run code it names:

- a *registered* name (``"zdt1"``, ``"pymoo.nsga2"``) is rebuilt through the registry, with its
  options and config checked as plain data (JSON scalars, lists and tables);
- a ``module:Attr`` name is a user's own code. Importing it runs that module, so it is rebuilt
  only with explicit consent: ``trust=True`` in the API, ``--trust`` on the command line.
  Without it :class:`~moo.errors.UntrustedSpecError` names the spec and how to consent.

A spec is ``{"name": str, "options": {...}, "normalize": bool}`` for a problem and
``{"name": str, "config": {...}}`` for an algorithm.
"""
from __future__ import annotations

import math
from typing import Any

from moo.errors import FormatError, MooError, UntrustedSpecError

_PLAIN = (str, int, float, bool, type(None))


def is_user_code(name: str) -> bool:
    """Whether a stored name refers to a user's ``module:Attr`` rather than a registered name."""
    return ":" in name


def _plain(value: Any, where: str) -> None:
    """Refuse anything but JSON data (what ``json.loads`` can produce) in a stored spec."""
    if isinstance(value, _PLAIN):
        if isinstance(value, float) and math.isnan(value):
            raise FormatError(f"{where} is NaN")
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _plain(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise FormatError(f"{where} has a non-string key {key!r}")
            _plain(item, f"{where}.{key}")
        return
    raise FormatError(f"{where} must be plain data (numbers, strings, lists, tables), got {type(value).__name__}")


def _checked(spec: Any, kind: str, table: str, source: str, *, trust: bool) -> tuple[str, dict]:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
        raise FormatError(f"the stored {kind} spec in {source} must be a table with a non-empty string "
                          f"'name', got {spec!r}")
    name, values = spec["name"], spec.get(table, {})
    if not isinstance(values, dict):
        raise FormatError(f"the stored {kind} {table} in {source} must be a table, got {values!r}")
    _plain(values, f"{source}: {kind} {table}")
    if is_user_code(name) and not trust:
        raise UntrustedSpecError(
            f"{source} names the {kind} {name!r}, which is user code: rebuilding it imports and runs "
            f"module {name.partition(':')[0]!r}. Open it only if you trust where it came from, with "
            "trust=True (command line: --trust)")
    return name, values


def problem_from_spec(spec: Any, *, trust: bool = False, source: str = "stored data"):
    """Rebuild the problem a stored spec names (see the module docstring for the trust rule)."""
    from moo.registry import get_problem

    name, options = _checked(spec, "problem", "options", source, trust=trust)
    normalize = spec.get("normalize", False)
    if not isinstance(normalize, bool):
        raise FormatError(f"the stored problem spec in {source}: normalize must be true or false, got {normalize!r}")
    return _build(get_problem, name, source, normalize=normalize, **options)


def algorithm_from_spec(spec: Any, *, trust: bool = False, source: str = "stored data"):
    """Rebuild the algorithm a stored spec names, with its stored config (validated by the
    algorithm's ``Config`` on construction)."""
    from moo.registry import get_algorithm

    name, config = _checked(spec, "algorithm", "config", source, trust=trust)
    return _build(get_algorithm, name, source, **config)


def _build(factory, name: str, source: str, **kwargs):
    """Call the registry; a constructor that fails on stored values gets a named error."""
    try:
        return factory(name, **kwargs)
    except MooError:
        raise
    except Exception as exc:  # a constructor's own error on tampered values
        raise FormatError(f"cannot rebuild {name!r} from {source}: {type(exc).__name__}: {exc}") from exc
