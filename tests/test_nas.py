"""The digits NAS problem: search space, objectives against hand counts, fake quantization, cache."""
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
