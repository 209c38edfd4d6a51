"""Name → factory registries for problems and algorithms.

Problem and algorithm modules register themselves with :func:`register_problem` and
:func:`register_algorithm`. The core never imports them directly: the first lookup imports
the packages listed in ``_PROVIDERS`` (lazily, by name), whose modules then register.
Names are lower case. A name of the form ``module:Attr`` loads a user's own class or factory.
"""
from __future__ import annotations

import importlib
import inspect
from typing import Any, Callable, Dict

from moo.errors import MooTypeError, MooValueError, UnknownNameError

_PROVIDERS = {"problem": ("moo.problems",), "algorithm": ("moo.algorithms",)}
_REGISTRY: Dict[str, Dict[str, Callable[..., Any]]] = {"problem": {}, "algorithm": {}}
_loaded: set[str] = set()


def _same_definition(a: Any, b: Any) -> bool:
    """Whether ``b`` is ``a`` defined again: a module reloaded, re-run in a notebook, or imported
    under a second name (``problems.zdt`` and ``moo.problems.zdt`` are one file). The newer
    definition then replaces the older instead of clashing with it."""
    def source(obj: Any) -> str | None:
        try:
            return inspect.getsourcefile(obj)
        except TypeError:
            return None

    return (getattr(a, "__qualname__", None) == getattr(b, "__qualname__", object())
            and (a.__module__ == b.__module__ or (source(a) is not None and source(a) == source(b))))


def _register(kind: str, name: str, factory=None):
    def decorator(obj):
        key = name.lower()
        existing = _REGISTRY[kind].get(key)
        if existing is not None and existing is not obj and not _same_definition(existing, obj):
            raise MooValueError(f"{kind} name {key!r} is already registered to {existing!r}")
        _REGISTRY[kind][key] = obj
        return obj

    return decorator if factory is None else decorator(factory)


def register_problem(name: str, factory=None):
    """Register a problem class or factory under ``name`` (usable as a decorator)."""
    return _register("problem", name, factory)


def register_algorithm(name: str, factory=None):
    """Register an algorithm class or factory under ``name`` (usable as a decorator)."""
    return _register("algorithm", name, factory)


def _ensure_loaded(kind: str) -> None:
    if kind in _loaded:
        return
    for module in _PROVIDERS[kind]:
        importlib.import_module(module)
    _loaded.add(kind)


def load_object(spec: str) -> Any:
    """Load ``module:Attr`` or ``path/to/file.py:Attr`` (a user's problem or algorithm), with a
    clear error when it fails. A module is found on ``sys.path`` (the ``moo`` command puts the
    current folder there); a ``.py`` file is loaded from its path, as module ``<file stem>``."""
    module_name, _, attr = spec.rpartition(":")
    if not module_name or not attr:
        raise MooValueError(f"expected 'module:Attr' or 'path/to/file.py:Attr', got {spec!r}")
    if module_name.endswith(".py"):
        module = _load_file(module_name, spec)
    else:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise MooValueError(f"cannot import module {module_name!r} from {spec!r}: {exc}. A module in the "
                                "current folder is found by the moo command (in Python, put its folder on "
                                "sys.path); or name the file: path/to/file.py:Attr") from exc
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise MooValueError(f"module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def _load_file(path: str, spec: str):
    import importlib.util
    import sys
    from pathlib import Path

    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise MooValueError(f"{spec!r} names the file {path!r}, which does not exist")
    name = file.stem
    loaded = sys.modules.get(name)
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve() == file:
        return loaded
    module_spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # so that its classes pickle (checkpoints, process pools) under this name
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise MooValueError(f"loading {str(file)!r} (from {spec!r}) raised {type(exc).__name__}: {exc}") from exc
    return module


def lookup(kind: str, name: str) -> Callable[..., Any]:
    """The factory registered for ``name``; ``module:Attr`` loads a user's own."""
    if not isinstance(name, str):
        raise MooTypeError(f"{kind} name must be a string, got {type(name).__name__}")
    if ":" in name:
        return load_object(name)
    _ensure_loaded(kind)
    try:
        return _REGISTRY[kind][name.lower()]
    except KeyError:
        raise UnknownNameError(kind, name, _REGISTRY[kind]) from None


def names(kind: str) -> list[str]:
    """Every registered name of ``kind`` ("problem" or "algorithm"), sorted."""
    _ensure_loaded(kind)
    return sorted(_REGISTRY[kind])


def get_problem(name: str, *, normalize: bool = False, **options):
    """Build a problem by name, e.g. ``get_problem("zdt1", n_var=30)``.

    ``normalize=True`` maps objectives by the problem's ideal and nadir points to ``[0, 1]``.
    """
    from moo.problem import NormalizedProblem, Problem

    factory = lookup("problem", name)
    try:
        problem = factory(**options)
    except TypeError as exc:
        raise MooTypeError(f"bad options {options} for problem {name!r}: {exc}") from exc
    if not isinstance(problem, Problem):
        raise MooTypeError(f"{name!r} built a {type(problem).__name__}, not a moo.Problem")
    if normalize:
        problem = NormalizedProblem(problem)
    # what resume and Result need to rebuild this exact problem
    problem.spec = {"name": name, "options": options, "normalize": bool(normalize)}
    return problem


def get_algorithm(name: str, **config):
    """Build an algorithm by name with config overrides, e.g. ``get_algorithm("psl", n_steps=500)``."""
    from moo.algorithm import Algorithm

    factory = lookup("algorithm", name)
    algorithm = factory(**config)
    if not isinstance(algorithm, Algorithm):
        raise MooTypeError(f"{name!r} built a {type(algorithm).__name__}, not a moo.Algorithm")
    algorithm.spec = name  # what resume and Result rebuild it from (a registered name or module:Attr)
    return algorithm
