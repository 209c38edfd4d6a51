"""The digits NAS problem: search space, objectives against hand counts, fake quantization, cache."""
import math
import sqlite3

import pytest
import torch

import moo
from moo.problems.nas import Architecture, NASDigits, build_network, complexity, fake_quantize

# a tiny space and a one-epoch training keep every evaluation well under a second
TINY = dict(max_depth=2, channels=(2, 4), kernels=(1, 3), bits=(2, 8, 32), activations=("relu", "tanh"),
            epochs=1, latency_repeats=3, latency_batch=8)


def tiny(tmp_path, **kw):
    return NASDigits(cache=str(tmp_path / "cache.sqlite"), **{**TINY, **kw})


def test_complexity_matches_hand_count_and_torch():
    arch = Architecture("relu", (4, 8), (3, 1), (2, 32))
    c = complexity(arch)
    # conv1: 1*4*3*3 weights + 4 biases at 8x8; pool; conv2: 4*8*1*1 + 8 at 4x4; head: 8*16*10 + 10
    assert c["params"] == (36 + 4) + (32 + 8) + (1280 + 10)
    assert c["macs"] == 64 * 36 + 16 * 32 + 1280
    assert c["size_bits"] == 36 * 2 + 4 * 32 + 32 * 32 + 8 * 32 + 1280 * 8 + 10 * 32
    net = build_network(arch, torch.Generator().manual_seed(0))
    assert sum(p.numel() for p in net.parameters()) == c["params"]
    assert net(torch.zeros(3, 1, 8, 8)).shape == (3, 10)


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
def test_fake_quantize_levels_and_straight_through_gradient(bits):
    w = torch.randn(200, generator=torch.Generator().manual_seed(1), requires_grad=True)
    q = fake_quantize(w, bits)
    levels = 2 ** (bits - 1) - 1
    step = w.detach().abs().max() / levels
    k = q.detach() / step
    assert torch.allclose(k, k.round(), atol=1e-4)  # on the grid
    assert k.abs().max() <= levels + 1e-4 and len(torch.unique(k.round())) <= 2 * levels + 1
    assert (q.detach() - w.detach()).abs().max() <= step / 2 + 1e-6  # rounding to the nearest level
    q.sum().backward()
    assert torch.equal(w.grad, torch.ones_like(w))
    assert fake_quantize(w, 32) is w


def test_search_space_types_bounds_and_objective_choice(tmp_path):
    p = tiny(tmp_path, objectives=("size_bits", "error", "params"))
    assert p.n_var == 2 + 3 * 2 and p.n_obj == 3
    assert p.var_types == ("int", "cat", "int", "int", "int", "int", "int", "int")
    assert p.xl.tolist() == [1, 0, 0, 0, 0, 0, 0, 0] and p.xu.tolist() == [2, 1, 1, 1, 1, 1, 2, 2]
    x = torch.tensor([[1.0, 1, 1, 0, 1, 0, 0, 2]])
    assert p.decode(x[0]) == Architecture("tanh", (4,), (3,), (2,))
    F = p.evaluate(x)
    c = complexity(p.decode(x[0]))
    assert F[0, 0] == c["size_bits"] and F[0, 2] == c["params"] and 0 <= F[0, 1] <= 1


@pytest.mark.parametrize("bad", [("error",), ("error", "flops"), ("error", "error"), "error"])
def test_bad_objectives_raise(tmp_path, bad):
    with pytest.raises((moo.MooValueError, moo.MooTypeError), match="objectives"):
        tiny(tmp_path, objectives=bad)


def test_cache_trains_once_and_serves_identical_values(tmp_path):
    X = torch.tensor([[2.0, 0, 1, 1, 1, 1, 1, 0], [1.0, 1, 0, 0, 0, 0, 2, 2]])
    p = tiny(tmp_path, objectives=("error", "latency", "macs"))
    F1 = p.evaluate(X)
    assert p.n_trained == 2
    # an inactive second layer: a different genotype of the same architecture is a cache hit
    F_same = p.evaluate(torch.tensor([[1.0, 1, 0, 1, 0, 1, 2, 0]]))
    assert p.n_trained == 2 and torch.equal(F_same[0], F1[1])
    # a new problem on the same file (a resumed search) trains nothing and agrees exactly, latency included
    q = tiny(tmp_path, objectives=("error", "latency", "macs"))
    assert torch.equal(q.evaluate(X), F1) and q.n_trained == 0
    rows = sqlite3.connect(str(tmp_path / "cache.sqlite")).execute("SELECT key FROM results").fetchall()
    assert len(rows) == 2 and all("seed=0" in r[0] for r in rows)
    # another training seed is another entry; other training settings are too
    assert tiny(tmp_path, seed=1).evaluate(X[:1]) is not None
    assert tiny(tmp_path, epochs=2).evaluate(X[:1]) is not None
    assert len(sqlite3.connect(str(tmp_path / "cache.sqlite")).execute("SELECT key FROM results").fetchall()) == 4


def test_training_is_deterministic_per_seed_and_learns():
    kw = {**TINY, "epochs": 3, "objectives": ("error", "params")}
    x = torch.tensor([[1.0, 0, 1, 0, 1, 0, 2, 0]])  # relu, 4 channels, 3x3, float weights
    e1 = NASDigits(cache=":memory:", **kw).evaluate(x)
    e2 = NASDigits(cache=":memory:", **kw).evaluate(x)
    assert torch.equal(e1, e2)
    assert float(e1[0, 0]) < 0.5  # far better than chance (0.9) after three epochs


def test_encode_identifies_architectures(tmp_path):
    p = tiny(tmp_path)
    a = torch.tensor([[1.0, 1, 1, 0, 1, 0, 0, 2], [1.0, 1, 1, 1, 1, 1, 0, 0], [2.0, 1, 1, 1, 1, 1, 0, 0]])
    Z = p.encode(a)
    assert torch.equal(Z[0], Z[1]) and not torch.equal(Z[1], Z[2])
    assert Z.min() >= 0 and Z.max() <= 1


def test_registered_and_usable_by_nsga2(tmp_path):
    p = moo.get_problem("nas-digits", objectives=("error", "params"), cache=str(tmp_path / "c.sqlite"), **TINY)
    r = moo.solve(p, "nsga2", budget=8, seed=0, device="cpu", progress=False, pop_size=4)
    assert r.F.shape[1] == 2 and p.n_evals == 8


def test_extremes_and_count_features_make_log_macs_linear_in_the_encoding(tmp_path):
    import itertools

    p = tiny(tmp_path, objectives=("error", "macs", "latency", "params"))
    assert p.log_objectives == (1, 2, 3)
    # extreme() against an enumeration of every architecture of the tiny space
    archs = [Architecture(a, c, k, b) for d in (1, 2) for a in p.activations
             for c in itertools.product(p.channels, repeat=d) for k in itertools.product(p.kernels, repeat=d)
             for b in itertools.product(p.bits, repeat=d)]
    for key in ("macs", "params", "size_bits"):
        values = [complexity(a)[key] for a in archs]
        assert complexity(p.extreme(False))[key] == min(values) and complexity(p.extreme(True))[key] == max(values)
    X = sample(p, 40)
    Z = p.encode(X)
    assert Z.shape == (40, 1 + 2 + 2 + 3 * 2 + 2) and Z.min() >= 0 and Z.max() <= 1
    macs = torch.tensor([complexity(p.decode(x))["macs"] for x in X], dtype=torch.float64)
    # log MACs is an affine function of the last-but-one feature: exact for any linear predictor
    lo, hi = (complexity(p.extreme(b))["macs"] for b in (False, True))
    assert torch.allclose(Z[:, -2].double(), (macs.log() - math.log(lo)) / (math.log(hi) - math.log(lo)))


def test_latency_is_the_fastest_repeat_and_part_of_the_cache_key(tmp_path, monkeypatch):
    p = tiny(tmp_path, latency_repeats=4)
    clock = iter([0.0, 0.005, 1.0, 1.002, 2.0, 2.009, 3.0, 3.004])  # 5, 2, 9, 4 ms
    monkeypatch.setattr("moo.problems.nas.time.perf_counter", lambda: next(clock))
    p._data = tuple(torch.zeros(8, 1, 8, 8) for _ in range(4))
    net = build_network(Architecture("relu", (2,), (1,), (8,)), torch.Generator().manual_seed(0))
    assert p._latency(net) == pytest.approx(2.0)
    monkeypatch.undo()
    p._data = None  # the real data again
    # the protocol is in the key: a cache written with another latency statistic is never served
    assert p.cache_key(Architecture("relu", (2,), (1,), (8,))) != tiny(tmp_path, latency_repeats=5).cache_key(
        Architecture("relu", (2,), (1,), (8,)))
    x = torch.tensor([[1.0, 0, 0, 0, 0, 0, 1, 1]])
    assert p.measure_seconds(p.decode(x[0])) is None
    p.evaluate(x)
    assert p.measure_seconds(p.decode(x[0])) > 0


def sample(p, n):
    from moo.algorithms.evolutionary.operators import VariableLayout, sample_uniform

    return sample_uniform(n, p.xl.double(), p.xu.double(), VariableLayout(p.var_types, p.n_var, torch.device("cpu")),
                          generator=torch.Generator().manual_seed(0))


def test_cheap_objectives_are_the_counted_ones_and_match_evaluate(tmp_path):
    p = tiny(tmp_path, objectives=("size_bits", "error", "macs", "latency", "params"))
    assert p.cheap_objectives == (0, 2, 4)
    X = sample(p, 3)
    C = p.evaluate_cheap(X.reshape(3, 1, -1))
    assert C.shape == (3, 1, 3) and p.n_trained == 0  # counting trains nothing
    assert torch.equal(C[:, 0], p.evaluate(X)[:, [0, 2, 4]].double())
    assert C[0, 0].tolist() == [float(complexity(p.decode(X[0]))[k]) for k in ("size_bits", "macs", "params")]
