"""The files of a run folder, read and written safely.

- Writes are atomic: each file is written to a temporary file with a unique name in the same
  folder and moved into place, so a crash leaves the old file or the new one, never half of one,
  and two writers never share a temporary file.
- Reads never run code (JSON, ``np.load(allow_pickle=False)``, ``torch.load(weights_only=True)``)
  and turn every truncated, malformed or unknown-version file into a
  :class:`~moo.errors.FormatError` that names the file.
- :class:`FolderLock` holds an exclusive lock on a run folder while a run writes to it.
- :func:`problem_fingerprint` identifies a problem, so that ``resume`` refuses one that changed.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch

from moo.errors import FormatError, MooError, RunFolderError

LOCK = ".lock"


# ---------------------------------------------------------------------------------- writing
def _atomic(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(obj: Any, path: Path) -> None:
    """Write ``obj`` as JSON to ``path`` atomically."""
    text = json.dumps(obj, indent=2, default=float).encode()
    _atomic(path, lambda fh: fh.write(text))


def write_torch(obj: Any, path: Path) -> None:
    """``torch.save`` ``obj`` (tensors and plain values) to ``path`` atomically."""
    _atomic(path, lambda fh: torch.save(obj, fh))


def write_arrays(path: Path, **arrays: np.ndarray) -> None:
    """``np.savez`` the arrays to ``path`` atomically."""
    _atomic(path, lambda fh: np.savez(fh, **arrays))


def check_writable_path(path: str | os.PathLike, what: str = "run folder") -> Path:
    """``path`` as a folder that can be created and written, checked without creating it.

    Raises :class:`RunFolderError` when the path or one of its parents is a file, or the first
    existing parent is not writable.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise RunFolderError(f"{what} {str(path)!r} is a file, not a folder")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise RunFolderError(f"cannot create {what} {str(path)!r}: {str(parent)!r} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise RunFolderError(f"cannot write {what} {str(path)!r}: {str(parent)!r} is not writable")
    return path


def make_folder(path: Path, what: str = "run folder") -> Path:
    """Create ``path`` (checked by :func:`check_writable_path`) with its parents."""
    check_writable_path(path, what)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunFolderError(f"cannot create {what} {str(path)!r}: {exc.strerror or exc}") from exc
    return path


# ---------------------------------------------------------------------------------- reading
def read_json(path: Path, what: str, *, formats: Iterable[int], keys: dict[str, type]) -> dict:
    """Read a JSON object written by moo, check its ``format`` and the types of ``keys``.

    A file without a ``format`` field is taken as format 1 (the only format written before the
    field was checked).
    """
    if not path.is_file():
        raise FormatError(f"{what} {str(path)!r} is missing")
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise FormatError(f"{what} {str(path)!r} is not valid JSON (truncated or corrupt): {exc}") from exc
    if not isinstance(doc, dict):
        raise FormatError(f"{what} {str(path)!r} must hold a JSON object, got {type(doc).__name__}")
    check_format(doc.get("format", 1), formats, f"{what} {str(path)!r}")
    check_fields(doc, keys, f"{what} {str(path)!r}")
    return doc


def check_fields(doc: dict, fields: dict[str, type | tuple[type, ...]], what: str, *, optional: bool = False) -> None:
    """Refuse a stored table whose ``fields`` are missing (unless ``optional``) or of another
    type; ``True``/``False`` count as booleans only, not as the integers Python makes them."""
    for key, kinds in fields.items():
        if optional and key not in doc:
            continue
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        value = doc.get(key)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise FormatError(f"{what}: {key!r} is missing or not {' or '.join(k.__name__ for k in kinds)} "
                              f"(got {value!r:.80})")


def check_format(version: Any, formats: Iterable[int], what: str) -> None:
    """Refuse a format version this moo cannot read."""
    formats = tuple(formats)
    if isinstance(version, bool) or version not in formats:
        raise FormatError(f"{what} has format version {version!r}; this moo reads version(s) "
                          f"{list(formats)}. It was written by another moo version: open it with that one")


def read_arrays(path: Path, names: Iterable[str], what: str) -> dict[str, np.ndarray]:
    """Read float matrices from an ``.npz`` file (no pickles), each 2-D."""
    if not path.is_file():
        raise FormatError(f"{what} {str(path)!r} is missing")
    out = {}
    try:
        with np.load(path, allow_pickle=False) as arrays:
            for name in names:
                if name not in arrays.files:
                    raise FormatError(f"{what} {str(path)!r} has no array {name!r}")
                out[name] = arrays[name]
    except MooError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise FormatError(f"{what} {str(path)!r} cannot be read (truncated or corrupt): {exc}") from exc
    for name, a in out.items():
        if a.ndim != 2 or not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
            raise FormatError(f"{what} {str(path)!r}: {name} must be a 2-D numeric matrix, got "
                              f"shape {list(a.shape)} of {a.dtype}")
    return out


def read_torch(path: Path, what: str, map_location="cpu") -> Any:
    """``torch.load`` with ``weights_only=True`` (tensors and plain values only, no code)."""
    if not path.is_file():
        raise FormatError(f"{what} {str(path)!r} is missing")
    try:
        return torch.load(path, weights_only=True, map_location=map_location)
    except Exception as exc:  # torch raises many kinds on a truncated or foreign file
        raise FormatError(f"{what} {str(path)!r} cannot be read (truncated, corrupt, or not a moo "
                          f"file): {type(exc).__name__}: {exc}") from exc


def check_archive(X, F, what: str, *, n_var: int | None = None, n_obj: int | None = None) -> None:
    """Refuse an archive ``(X [N, n_var], F [N, n_obj])`` whose shapes disagree."""
    if X.ndim != 2 or F.ndim != 2 or X.shape[0] != F.shape[0]:
        raise FormatError(f"{what}: X and F must be matrices with one row per point, got shapes "
                          f"{list(X.shape)} and {list(F.shape)}")
    for name, got, want in (("variables", X.shape[1], n_var), ("objectives", F.shape[1], n_obj)):
        if want is not None and got != want:
            raise FormatError(f"{what}: {got} {name} per point, but the problem has {want}")


# ---------------------------------------------------------------------------------- locking
class FolderLock:
    """An exclusive, non-blocking lock on a run folder (``fcntl.flock`` on its ``.lock`` file).

    The operating system releases it when the process ends, however it ends, so a killed run
    never leaves a stale lock.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.fh = None

    def __enter__(self) -> "FolderLock":
        import fcntl

        fh = open(self.folder / LOCK, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            fh.close()
            raise RunFolderError(f"another run (process {holder}) is writing to {str(self.folder)!r}; "
                                 "wait for it to finish or use another folder") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self.fh = fh
        return self

    def __exit__(self, *exc) -> None:
        if self.fh is not None:
            self.fh.close()  # closing the file releases the lock
            self.fh = None


# ---------------------------------------------------------------------------------- fingerprint
def _fingerprint_points(problem, k: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(20_240_229)
    U = torch.rand(k, problem.n_var, generator=g, dtype=torch.float64)
    X = problem.xl + U * (problem.xu - problem.xl)
    if problem.var_types is not None:
        discrete = torch.tensor([v != "real" for v in problem.var_types])
        X[:, discrete] = X[:, discrete].round()
    return X


def problem_fingerprint(problem) -> dict:
    """Name, options, dimensions, variable types, bounds and a hash of the objective (and
    constraint) values at ``problem.fingerprint_points`` fixed points, rounded to 10 significant
    digits so that round-off across BLAS builds does not change it. Evaluations made here are
    not counted against any budget."""
    spec = problem.spec or {}
    out = {"name": problem.name, "options": spec.get("options"), "normalize": spec.get("normalize", False),
           "n_var": problem.n_var, "n_obj": problem.n_obj, "n_constr": problem.n_constr,
           "var_types": list(problem.var_types) if problem.var_types else None,
           "bounds": problem.bounds.tolist(), "points": int(problem.fingerprint_points)}
    if out["points"] > 0:
        counted = problem.n_evals
        try:
            X = _fingerprint_points(problem, out["points"])
            values = [problem.evaluate(X)]
            if problem.n_constr:
                values.append(problem.constraints(X))
        finally:
            problem.n_evals = counted
        text = ";".join(f"{v:.9e}" for t in values for v in t.detach().cpu().double().flatten().tolist())
        out["values_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    return out


def check_fingerprint(stored: Any, problem, source: str) -> None:
    """Refuse ``problem`` when it is not the one whose fingerprint ``stored`` is."""
    if stored is None:  # a run folder written before fingerprints were recorded
        return
    if not isinstance(stored, dict):
        raise FormatError(f"{source}: the problem fingerprint must be a table, got {stored!r}")
    current = problem_fingerprint(problem)
    differ = sorted(k for k in set(stored) | set(current) if stored.get(k) != current.get(k))
    if differ:
        detail = "; ".join(f"{k}: stored {stored.get(k)!r}, now {current.get(k)!r}" for k in differ
                           if k != "values_sha256")
        if "values_sha256" in differ:
            values = ("its objective values at fixed points differ (if the problem is random by design, "
                      "set fingerprint_points = 0 on its class)")
            detail = f"{detail}; {values}" if detail else values
        raise RunFolderError(f"{source} was run on another problem than the one given now ({detail}); "
                             "resume it with the same problem")
