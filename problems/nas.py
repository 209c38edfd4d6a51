"""A real, CPU-sized neural-architecture-search problem: small CNNs on scikit-learn's ``load_digits``.

The search space follows the sub-network spaces of InstaTune (Sridhar et al., ICCV-W 2023) and
the per-layer weight quantization of SimQ-NAS (Sarah et al., 2023), shrunk to 8 x 8 images:

* ``depth`` in ``1..max_depth`` convolution layers (integer);
* ``activation``, one for the whole network (categorical: ``activations``);
* per layer: output ``channels``, ``kernel`` size and weight ``bits`` (integer indices into the
  ordered choice lists, so SBX and polynomial mutation act on them as ordinal variables).

Genes of layers beyond ``depth`` are inactive: two genotypes that differ only there are the
same architecture (and the same cache entry).

The network: ``conv(k, same padding) -> act`` per layer, a 2 x 2 max-pool after the first layer
(8 x 8 -> 4 x 4), then flatten and a linear classifier (its weights fixed at 8 bits). Weights of
each convolution are fake-quantized to its bit width during training and inference: symmetric,
per-tensor, ``2^(b-1) - 1`` levels each side, straight-through gradients; 32 bits means float.

Objectives (all minimized; choose any subset of at least two with ``objectives=``):

* ``error``: validation error after a short seeded training (Adam, fixed train/validation split);
* ``params``: parameter count; ``macs``: multiply-accumulates for one image;
* ``latency``: the fastest of ``latency_repeats`` timed CPU forward passes of a batch of
  ``latency_batch`` images, in milliseconds. The minimum, not the median: on a shared machine
  other jobs only ever add time, so the minimum is the estimate least disturbed by them (the
  median of 15 read 20-30 ms for 1 ms networks under heavy load). Still noisy by nature: the
  cache makes repeated queries agree;
* ``size_bits``: model size in bits (quantized weights at their width, biases at 32 bits).

Every evaluated architecture is stored in an SQLite cache keyed by the architecture, the training
seed and the training settings, so nothing is trained twice and an interrupted search resumes.
All five objectives are stored, so a later run with another objective subset reuses them.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from moo.errors import MooTypeError, MooValueError
from moo.problem import Problem
from moo.registry import register_problem

OBJECTIVES = ("error", "params", "macs", "latency", "size_bits")
_COUNTED = ("params", "macs", "size_bits")  # from the architecture alone: see complexity()
_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "silu": nn.SiLU, "sigmoid": nn.Sigmoid}
_HEAD_BITS = 8
_BIAS_BITS = 32
_N_VAL = 500  # validation images; the split is fixed (seed 0), independent of the training seed


@dataclass(frozen=True)
class Architecture:
    """One decoded architecture: its active layers and activation."""

    activation: str
    channels: tuple[int, ...]
    kernels: tuple[int, ...]
    bits: tuple[int, ...]

    @property
    def key(self) -> str:
        layers = "-".join(f"c{c}k{k}b{b}" for c, k, b in zip(self.channels, self.kernels, self.bits))
        return f"{self.activation}-{layers}"


def fake_quantize(w: Tensor, bits: int) -> Tensor:
    """Symmetric per-tensor uniform quantization of ``w`` to ``bits`` with a straight-through
    gradient; ``bits >= 32`` returns ``w`` unchanged."""
    if bits >= 32:
        return w
    levels = 2 ** (bits - 1) - 1
    scale = w.detach().abs().max().clamp_min(1e-12) / levels
    q = (w / scale).round().clamp(-levels, levels) * scale
    return w + (q - w).detach()


class QuantConv2d(nn.Conv2d):
    """A same-padded convolution whose weights are fake-quantized to ``bits``."""

    def __init__(self, c_in: int, c_out: int, kernel: int, bits: int):
        super().__init__(c_in, c_out, kernel, padding=kernel // 2)
        self.bits = bits

    def forward(self, x: Tensor) -> Tensor:
        return self._conv_forward(x, fake_quantize(self.weight, self.bits), self.bias)


class QuantLinear(nn.Linear):
    """A linear layer whose weights are fake-quantized to ``bits``."""

    def __init__(self, d_in: int, d_out: int, bits: int):
        super().__init__(d_in, d_out)
        self.bits = bits

    def forward(self, x: Tensor) -> Tensor:
        return nn.functional.linear(x, fake_quantize(self.weight, self.bits), self.bias)


def build_network(arch: Architecture, generator: torch.Generator) -> nn.Sequential:
    """The CNN of ``arch``, initialised (PyTorch's default schemes) from ``generator``."""
    act = _ACTIVATIONS[arch.activation]
    layers: list[nn.Module] = []
    c_in = 1
    for i, (c, k, b) in enumerate(zip(arch.channels, arch.kernels, arch.bits)):
        layers += [QuantConv2d(c_in, c, k, b), act()]
        if i == 0:
            layers.append(nn.MaxPool2d(2))
        c_in = c
    layers += [nn.Flatten(), QuantLinear(c_in * 16, 10, _HEAD_BITS)]
    net = nn.Sequential(*layers)
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
            bound = 1.0 / math.sqrt(m.weight[0].numel())
            nn.init.uniform_(m.bias, -bound, bound, generator=generator)
    return net


def complexity(arch: Architecture) -> dict[str, int]:
    """Parameter count, MACs for one 8 x 8 image, and model size in bits."""
    params = macs = size_bits = 0
    c_in, hw = 1, 64
    for i, (c, k, b) in enumerate(zip(arch.channels, arch.kernels, arch.bits)):
        w = c_in * c * k * k
        params += w + c
        macs += hw * w
        size_bits += w * b + c * _BIAS_BITS
        if i == 0:
            hw = 16
        c_in = c
    w = c_in * 16 * 10
    params += w + 10
    macs += w
    size_bits += w * _HEAD_BITS + 10 * _BIAS_BITS
    return {"params": params, "macs": macs, "size_bits": size_bits}


def _digits() -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Train and validation tensors of ``load_digits`` (pixels scaled to [0, 1]), fixed split."""
    from sklearn.datasets import load_digits

    data = load_digits()
    X = torch.as_tensor(data.data, dtype=torch.float32).reshape(-1, 1, 8, 8) / 16.0
    y = torch.as_tensor(data.target, dtype=torch.long)
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    val, train = perm[:_N_VAL], perm[_N_VAL:]
    return X[train], y[train], X[val], y[val]


class _Cache:
    """SQLite table ``results(key TEXT PRIMARY KEY, <objectives>, train_seconds)``."""

    def __init__(self, path: str):
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path)
        cols = ", ".join(f"{o} REAL NOT NULL" for o in OBJECTIVES)
        with self.db:
            self.db.execute(f"CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, {cols}, "
                            "train_seconds REAL NOT NULL)")

    def get(self, key: str) -> dict | None:
        row = self.db.execute(f"SELECT {', '.join(OBJECTIVES)} FROM results WHERE key = ?", (key,)).fetchone()
        return None if row is None else dict(zip(OBJECTIVES, row))

    def put(self, key: str, values: dict, train_seconds: float) -> None:
        with self.db:  # committed at once: an interrupted search keeps every finished training
            self.db.execute(f"INSERT OR REPLACE INTO results VALUES (?, {', '.join('?' * len(OBJECTIVES))}, ?)",
                            (key, *[float(values[o]) for o in OBJECTIVES], float(train_seconds)))

    def seconds(self, key: str) -> float | None:
        row = self.db.execute("SELECT train_seconds FROM results WHERE key = ?", (key,)).fetchone()
        return None if row is None else float(row[0])

    def __len__(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM results").fetchone()[0])


def default_cache_path() -> str:
    """``$MOO_CACHE_DIR/nas-digits.sqlite``, else ``~/.cache/moo/nas-digits.sqlite``."""
    root = os.environ.get("MOO_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "moo")
    return os.path.join(root, "nas-digits.sqlite")


def _choices(name: str, values) -> tuple:
    values = tuple(values)
    if not values or len(set(values)) != len(values):
        raise MooValueError(f"{name} must be a non-empty list of distinct choices, got {values!r}")
    return values


@register_problem("nas-digits")
class NASDigits(Problem):
    """CNN architecture search on ``load_digits`` (see the module docstring).

    Args:
        objectives: two or more of ``error``, ``params``, ``macs``, ``latency``, ``size_bits``,
            in the order they appear in ``F``.
        seed: training seed (weight initialisation and batch order); part of the cache key.
        max_depth: the largest number of convolution layers.
        channels, kernels, bits: ordered per-layer choices; ``activations``: names among
            ``relu``, ``gelu``, ``tanh``, ``silu``, ``sigmoid``.
        epochs, batch_size, lr: the short training (Adam).
        latency_repeats, latency_batch: the latency measurement.
        threads: torch threads for training and timing (set for the call, then restored).
        latency_ref: latency coordinate (ms) of :attr:`ref_point`.
        cache: SQLite file path; ``None`` uses :func:`default_cache_path`, ``":memory:"`` keeps it
            in this process only.
    """

    fingerprint_points = 0  # each evaluation trains networks

    def __init__(self, objectives: Sequence[str] = ("error", "macs", "latency"), *, seed: int = 0,
                 max_depth: int = 3, channels: Sequence[int] = (4, 8, 16, 32),
                 kernels: Sequence[int] = (1, 3, 5), bits: Sequence[int] = (2, 4, 8, 32),
                 activations: Sequence[str] = ("relu", "gelu", "tanh"), epochs: int = 4,
                 batch_size: int = 64, lr: float = 3e-3, latency_repeats: int = 15,
                 latency_batch: int = 64, threads: int = 1, latency_ref: float = 50.0,
                 cache: str | os.PathLike | None = None):
        if isinstance(objectives, str) or not isinstance(objectives, Sequence):
            raise MooTypeError(f"objectives must be a list of names, got {objectives!r}")
        objectives = tuple(objectives)
        unknown = [o for o in objectives if o not in OBJECTIVES]
        if unknown or len(objectives) < 2 or len(set(objectives)) != len(objectives):
            raise MooValueError(f"objectives must be at least 2 distinct names among {OBJECTIVES}, "
                                f"got {objectives!r}")
        for name, value, low in (("seed", seed, 0), ("max_depth", max_depth, 1), ("epochs", epochs, 1),
                                 ("batch_size", batch_size, 1), ("latency_repeats", latency_repeats, 1),
                                 ("latency_batch", latency_batch, 1), ("threads", threads, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise MooValueError(f"{name} must be an integer >= {low}, got {value!r}")
        bad = [a for a in activations if a not in _ACTIVATIONS]
        if bad:
            raise MooValueError(f"activations must be among {sorted(_ACTIVATIONS)}, got {bad}")
        self.objectives = objectives
        self.seed, self.max_depth = int(seed), int(max_depth)
        self.channels = _choices("channels", channels)
        self.kernels = _choices("kernels", kernels)
        self.bits = _choices("bits", bits)
        self.activations = _choices("activations", activations)
        if any(k % 2 == 0 or k < 1 for k in self.kernels):
            raise MooValueError(f"kernels must be odd positive sizes (same padding), got {self.kernels}")
        self.epochs, self.batch_size, self.lr = int(epochs), int(batch_size), float(lr)
        self.latency_repeats, self.latency_batch = int(latency_repeats), int(latency_batch)
        self.threads = int(threads)
        if not float(latency_ref) > 0:
            raise MooValueError(f"latency_ref must be a positive number of milliseconds, got {latency_ref!r}")
        self.latency_ref = float(latency_ref)
        L = self.max_depth
        lower = [1, 0] + [0] * (3 * L)
        upper = ([L, len(self.activations) - 1] + [len(self.channels) - 1] * L + [len(self.kernels) - 1] * L
                 + [len(self.bits) - 1] * L)
        super().__init__(2 + 3 * L, len(objectives), [lower, upper],
                         var_types=["int", "cat"] + ["int"] * (3 * L), name="nas-digits")
        self.cache_path = str(cache) if cache is not None else default_cache_path()
        self._cache = _Cache(self.cache_path)
        settings = dict(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, n_val=_N_VAL,
                        latency_repeats=self.latency_repeats, latency_batch=self.latency_batch,
                        latency_stat="min", threads=self.threads)
        self._settings = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]
        self._data: tuple[Tensor, ...] | None = None
        self.n_trained = 0  # trainings this object ran (cache misses)

    # ------------------------------------------------------------------ genotype
    def decode(self, x: Tensor) -> Architecture:
        """The architecture of one genotype row ``x [n_var]`` (values rounded into range)."""
        L = self.max_depth
        v = [int(round(float(t))) for t in x.reshape(-1)]
        clip = lambda i, n: min(max(v[i], 0), n - 1)  # noqa: E731
        depth = min(max(v[0], 1), L)
        return Architecture(
            activation=self.activations[clip(1, len(self.activations))],
            channels=tuple(self.channels[clip(2 + i, len(self.channels))] for i in range(depth)),
            kernels=tuple(self.kernels[clip(2 + L + i, len(self.kernels))] for i in range(depth)),
            bits=tuple(self.bits[clip(2 + 2 * L + i, len(self.bits))] for i in range(depth)),
        )

    def cache_key(self, arch: Architecture) -> str:
        return f"{arch.key}|seed={self.seed}|{self._settings}"

    def extreme(self, largest: bool) -> Architecture:
        """The smallest (one layer, smallest choices) or largest (every layer, largest choices)
        architecture: the extremes of parameters, MACs and size over the search space."""
        pick, depth = (max, self.max_depth) if largest else (min, 1)
        return Architecture(self.activations[0], (pick(self.channels),) * depth, (pick(self.kernels),) * depth,
                            (pick(self.bits),) * depth)

    @property
    def log_objectives(self) -> tuple[int, ...]:
        """Indices of the objectives that span orders of magnitude (every one but ``error``): a
        predictor-assisted search fits and compares them on a log scale."""
        return tuple(j for j, o in enumerate(self.objectives) if o != "error")

    @property
    def cheap_objectives(self) -> tuple[int, ...]:
        """Indices of the objectives counted from the architecture, without training
        (``params``, ``macs``, ``size_bits``): see :meth:`evaluate_cheap`."""
        return tuple(j for j, o in enumerate(self.objectives) if o in _COUNTED)

    def evaluate_cheap(self, X: Tensor) -> Tensor:
        """The :attr:`cheap_objectives` of genotypes ``X [..., n_var]``, counted (no training,
        no cache): ``[..., len(cheap_objectives)]`` float64 on ``X``'s device. A search may use
        them freely; they are the values :meth:`evaluate` returns for those objectives."""
        names = [self.objectives[j] for j in self.cheap_objectives]
        rows = [[complexity(self.decode(x))[o] for o in names] for x in X.detach().reshape(-1, self.n_var).cpu()]
        out = torch.tensor(rows, dtype=torch.float64).reshape(X.shape[:-1] + (len(names),))
        return out.to(X.device)

    def encode(self, X: Tensor) -> Tensor:
        """Predictor features of genotypes ``X [..., n_var]``: depth and each active layer's
        choices scaled to ``[0, 1]`` (inactive layers 0, plus an active flag), activation one-hot,
        and the architecture's MACs and parameter count (counted, no training: zero-cost
        features), log-scaled to ``[0, 1]`` between the smallest and largest architecture.
        With them a linear predictor of log MACs is exact.
        Genotypes of the same architecture get the same features."""
        L = self.max_depth
        X = X.round()
        counts = torch.tensor([[complexity(self.decode(x))[k] for k in ("macs", "params")]
                               for x in X.detach().reshape(-1, self.n_var).cpu()], dtype=torch.float64).reshape(-1, 2)
        lo, hi = (torch.tensor([complexity(self.extreme(b))[k] for k in ("macs", "params")], dtype=torch.float64)
                  for b in (False, True))
        counts = ((counts.log() - lo.log()) / (hi.log() - lo.log())).reshape(X.shape[:-1] + (2,)).to(X)
        depth = X[..., :1].clamp(1, L)
        layer = torch.arange(L, device=X.device, dtype=X.dtype)
        active = (layer < depth).to(X.dtype)  # [..., L]

        def scaled(block: int, n: int) -> Tensor:
            v = X[..., 2 + block * L: 2 + (block + 1) * L].clamp(0, n - 1)
            return (v + 1.0) / n * active

        act = torch.nn.functional.one_hot(X[..., 1].clamp(0, len(self.activations) - 1).long(),
                                          len(self.activations)).to(X.dtype)
        return torch.cat([(depth - 1) / max(L - 1, 1), act, active, scaled(0, len(self.channels)),
                          scaled(1, len(self.kernels)), scaled(2, len(self.bits)), counts], dim=-1)

    # ------------------------------------------------------------------ evaluation
    def measure(self, arch: Architecture) -> dict[str, float]:
        """All five objectives of ``arch``, from the cache or by training and timing it."""
        key = self.cache_key(arch)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        start = time.perf_counter()
        values = dict(complexity(arch))
        threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)  # restored below; tiny nets train fastest on one thread
        try:
            net, values["error"] = self._train(arch)
            values["latency"] = self._latency(net)
        finally:
            torch.set_num_threads(threads)
        self._cache.put(key, values, time.perf_counter() - start)
        self.n_trained += 1
        return values

    def measure_seconds(self, arch: Architecture) -> float | None:
        """Seconds the cached measurement of ``arch`` took (training and timing), ``None`` if
        it is not cached: what a search pays for it without the cache."""
        return self._cache.seconds(self.cache_key(arch))

    def _train(self, arch: Architecture) -> tuple[nn.Module, float]:
        if self._data is None:
            self._data = _digits()
        Xtr, ytr, Xva, yva = self._data
        g = torch.Generator().manual_seed(self.seed)
        net = build_network(arch, g)
        opt = torch.optim.Adam(net.parameters(), lr=self.lr)
        for _ in range(self.epochs):
            perm = torch.randperm(len(ytr), generator=g)
            for i in range(0, len(ytr), self.batch_size):
                idx = perm[i:i + self.batch_size]
                loss = nn.functional.cross_entropy(net(Xtr[idx]), ytr[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        net.eval()
        with torch.inference_mode():
            error = float((net(Xva).argmax(-1) != yva).float().mean())
        return net, error

    def _latency(self, net: nn.Module) -> float:
        x = self._data[2][: self.latency_batch]
        times = []
        with torch.inference_mode():
            net(x)  # warm-up
            for _ in range(self.latency_repeats):
                t0 = time.perf_counter()
                net(x)
                times.append(time.perf_counter() - t0)
        return 1e3 * min(times)

    def _evaluate(self, X: Tensor) -> Tensor:
        flat = X.detach().reshape(-1, self.n_var).cpu()
        rows = [[self.measure(self.decode(x))[o] for o in self.objectives] for x in flat]
        F = torch.tensor(rows, dtype=torch.float64).reshape(X.shape[:-1] + (self.n_obj,))
        return F.to(dtype=X.dtype if X.dtype.is_floating_point else torch.float64, device=X.device)

    @property
    def ref_point(self) -> Tensor:
        """A loose reference point for progress hypervolumes: error 1, the largest architecture's
        parameters, MACs and size times 1.1, and ``latency_ref`` milliseconds (latency has no
        machine-independent bound; a benchmark should normalize by the observed ranges)."""
        values = {k: 1.1 * v for k, v in complexity(self.extreme(largest=True)).items()}
        values.update(error=1.0, latency=self.latency_ref)
        return torch.tensor([float(values[o]) for o in self.objectives], dtype=torch.float64)

    def describe(self) -> dict:
        out = super().describe()
        out.update(objectives=list(self.objectives), seed=self.seed, cache=self.cache_path,
                   channels=list(self.channels), kernels=list(self.kernels), bits=list(self.bits),
                   activations=list(self.activations), epochs=self.epochs)
        return out
