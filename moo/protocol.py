"""Suite protocols: what a benchmark measures beyond ``solve`` + the evaluator, and what its
report adds.

A suite file names one protocol in a ``[protocol]`` table (``name`` plus the protocol's options);
without one, a cell solves the problem and scores the final front with the suite's evaluator.
Protocols ship in :mod:`moo.benchmarks.protocols` and are found by name only (a store or suite
from someone else names a protocol; it never names code to import). A protocol is a small class,
as an algorithm is:

* ``Options``: a dataclass of its options, validated on construction
  (:func:`moo.algorithm.validate_config`);
* :meth:`Protocol.check_problem` / :meth:`Protocol.check_algorithm`: what the suite's
  ``[[problems]]`` and ``[[algorithms]]`` entries may name (by default registered problems and
  algorithms), checked by :func:`moo.bench.load_suite` before any cell runs;
* :meth:`Protocol.indicators`: extra final figures of a solved cell (named in
  :attr:`Protocol.indicator_names`, listed in the suite's ``evaluator.indicators`` like any other);
* :meth:`Protocol.curves`: extra convergence figures recorded along a solved cell's run;
* :meth:`Protocol.run_cell`: the whole cell, for measurements that are not one ``solve``
  (a timing of indicators, a training schedule of its own); it returns :func:`cell_record`;
* :meth:`Protocol.report`: extra report sections (markdown lines; figures written beside).
"""
from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from typing import Any, ClassVar

from moo.errors import MooTypeError, MooValueError, UnknownNameError


class Protocol:
    """The default protocol: solve each cell and score it with the suite's evaluator."""

    name: ClassVar[str] = "solve"
    #: final figures :meth:`indicators` (or :meth:`run_cell`) adds to the evaluator's
    indicator_names: ClassVar[tuple[str, ...]] = ()
    #: of those (and of the evaluator's), the ones where larger is better; every other is minimized
    higher_is_better: ClassVar[frozenset[str]] = frozenset()
    #: short descriptions of :attr:`indicator_names` for report headings
    indicator_titles: ClassVar[dict[str, str]] = {}

    @dataclasses.dataclass
    class Options:
        pass

    def __init__(self, **options: Any):
        from moo.algorithm import validate_config

        try:
            self.options = self.Options(**options)
        except TypeError as exc:
            known = [f.name for f in dataclasses.fields(self.Options)]
            raise MooTypeError(f"protocol {self.name!r}: bad options {options}; it takes {known} ({exc})") from exc
        validate_config(self.options, owner=f"protocol {self.name!r}")

    @property
    def spec(self) -> dict:
        """What the store keeps to rebuild this protocol (by name) for the report."""
        return {"name": self.name, "options": dataclasses.asdict(self.options)}

    # ------------------------------------------------------------------ the suite
    def check_problem(self, name: str, options: dict, normalize: bool):
        """Build the problem an entry names (raise a moo error if it cannot be); by default a
        registered problem. Return it, or ``None`` when the protocol's problems are not
        :class:`moo.Problem` objects (then the suite's evaluator is not checked on it)."""
        from moo.registry import get_problem

        return get_problem(name, normalize=normalize, **options)

    def check_algorithm(self, name: str, config: dict) -> dict:
        """Check an algorithm entry and return its full config (defaults filled in), as stored."""
        from moo.registry import get_algorithm

        return get_algorithm(name, **config).config_dict()

    # ------------------------------------------------------------------ one cell
    def run_cell(self, cell: dict) -> dict:
        """Run one cell and return what the store keeps (:func:`cell_record`)."""
        from moo.bench import solve_cell

        return solve_cell(cell, self.indicators, self.curves)

    def indicators(self, cell: dict, problem, result) -> dict[str, float | None]:
        """Extra final figures of a solved cell (``result`` is its :class:`moo.Result`)."""
        return {}

    def curves(self, cell: dict, problem):
        """Extra convergence figures of a solved cell: ``None``, or a function of the current
        approximation set ``F`` (raw objectives) giving ``{name: value}``, recorded in each
        history record beside the suite's ``evaluator.convergence`` indicators."""
        return None

    # ------------------------------------------------------------------ the report
    def report(self, runs: list, out: Path) -> list[str]:
        """Markdown lines of extra report sections for ``runs`` (:class:`moo.store.StoredRun`);
        figures go into ``out`` and are linked by file name."""
        return []


def cell_record(cell: dict, *, indicators: dict, n_evals: int = 0, wall_time: float = 0.0, history=(),
                X=None, F=None, meta: dict | None = None, conventions: dict | None = None) -> dict:
    """What the store keeps of one cell (:meth:`moo.store.Store.add_run`), for a protocol's own
    :meth:`Protocol.run_cell`: the cell's identity, its figures, and an empty front unless given."""
    import numpy as np

    from moo.bench import finite

    X = np.zeros((0, 0)) if X is None else np.asarray(X, dtype=float)
    F = np.zeros((X.shape[0], 0)) if F is None else np.asarray(F, dtype=float)
    return {
        **{k: cell[k] for k in ("cell_key", "suite", "problem", "problem_spec", "algorithm", "algorithm_spec",
                                "seed", "budget")},
        "n_evals": int(n_evals), "wall_time": float(wall_time),
        "conventions": {**(conventions or {}), **cell["evaluator"], "protocol": cell.get("protocol")},
        "meta": meta or {}, "indicators": {k: finite(v) for k, v in indicators.items()}, "history": list(history),
        "X": X, "F": F,
    }


def protocol_names() -> list[str]:
    """The shipped protocols (besides the default ``solve``)."""
    from moo.benchmarks.protocols import PROTOCOLS

    return sorted(PROTOCOLS)


def get_protocol(spec: dict | None) -> Protocol:
    """The protocol a suite's ``[protocol]`` table (or a stored spec: ``name`` and ``options``)
    names; ``None`` gives the default. Only shipped protocols are found."""
    if spec is None:
        return Protocol()
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise MooValueError(f"[protocol] must be a table with a string 'name', got {spec!r}")
    name = spec["name"]
    options = spec.get("options", {k: v for k, v in spec.items() if k != "name"})
    if not isinstance(options, dict):
        raise MooValueError(f"protocol options must be a table, got {options!r}")
    if name == Protocol.name:
        return Protocol(**options)
    from moo.benchmarks.protocols import PROTOCOLS

    if name not in PROTOCOLS:
        raise UnknownNameError("protocol", name, [Protocol.name] + sorted(PROTOCOLS))
    module, _, attr = PROTOCOLS[name].partition(":")
    cls = getattr(importlib.import_module(f"moo.benchmarks.protocols.{module}"), attr)
    return cls(**options)


__all__ = ["Protocol", "cell_record", "get_protocol", "protocol_names"]
