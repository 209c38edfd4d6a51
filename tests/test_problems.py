"""Synthetic problems: ZDT, DTLZ (cross-checked against pymoo), VLMOP, F1–F6 (PSL-MOBO)."""
from __future__ import annotations

import math

import moocore
import numpy as np
import pytest
import torch

import moo
from moo.errors import MooValueError, ShapeError

ZDT = ["zdt1", "zdt2", "zdt3", "zdt4", "zdt6"]
DTLZ = [f"dtlz{i}" for i in range(1, 8)]
SYNTHETIC = ZDT + DTLZ + ["vlmop1", "vlmop2", "vlmop3", "f1", "f2", "f3", "f4", "f5", "f6"]


def _uniform(problem, n, seed=0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    u = torch.rand(n, problem.n_var, generator=gen, dtype=torch.float64)
    return (problem.xl + (problem.xu - problem.xl) * u).to(dtype)


def _pymoo(name, **kw):
    from pymoo.problems import get_problem

    return get_problem(name, **kw)


def _hv(F, ref):
    return moocore.hypervolume(np.asarray(F), ref=np.asarray(ref, dtype=float))


@pytest.mark.parametrize("name,n_var", [(n, None) for n in ZDT] + [("zdt1", 5), ("zdt4", 4)])
def test_zdt_matches_pymoo(name, n_var):
    kw = {} if n_var is None else {"n_var": n_var}
    ours, theirs = moo.get_problem(name, **kw), _pymoo(name, **kw)
    assert ours.n_var == theirs.n_var
    np.testing.assert_allclose(ours.xl.numpy(), theirs.xl)
    np.testing.assert_allclose(ours.xu.numpy(), theirs.xu)
    X = _uniform(ours, 200)
    np.testing.assert_allclose(ours.evaluate(X).numpy(), theirs.evaluate(X.numpy()), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", DTLZ)
@pytest.mark.parametrize("n_obj", [2, 3, 5])
def test_dtlz_matches_pymoo(name, n_obj):
    ours = moo.get_problem(name, n_obj=n_obj)
    theirs = _pymoo(name, n_var=ours.n_var, n_obj=n_obj)
    X = _uniform(ours, 200, seed=n_obj)
    np.testing.assert_allclose(ours.evaluate(X).numpy(), theirs.evaluate(X.numpy()), rtol=1e-10, atol=1e-12)


def test_dtlz_default_sizes_follow_deb_k():
    assert moo.get_problem("dtlz1").n_var == 7          # k = 5
    assert moo.get_problem("dtlz2").n_var == 12         # k = 10
    assert moo.get_problem("dtlz7").n_var == 22         # k = 20
    assert moo.get_problem("dtlz2", n_obj=5).n_var == 14
    assert moo.get_problem("dtlz3", n_obj=4, n_var=9).n_var == 9
    with pytest.raises(MooValueError, match="n_var"):
        moo.get_problem("dtlz2", n_obj=5, n_var=3)
    with pytest.raises(MooValueError, match="n_obj"):
        moo.get_problem("dtlz2", n_obj=1)


@pytest.mark.parametrize("name", ["zdt1", "zdt2", "zdt4", "zdt6"])
def test_zdt_front_matches_pymoo(name):
    np.testing.assert_allclose(moo.get_problem(name).pareto_front(100).numpy(), _pymoo(name).pareto_front(),
                               rtol=1e-9, atol=1e-12)


def test_zdt3_front_pieces_match_pymoo():
    ours = moo.get_problem("zdt3").pareto_front(500).numpy()
    theirs = _pymoo("zdt3").pareto_front(500)
    ref = [1.1, 1.1]
    assert _hv(ours, ref) == pytest.approx(_hv(theirs, ref), abs=2e-3)
    np.testing.assert_allclose(ours.min(0), theirs.min(0), atol=1e-6)
    np.testing.assert_allclose(ours.max(0), theirs.max(0), atol=1e-6)
    assert np.all(moocore.is_nondominated(ours))


@pytest.mark.parametrize("name", ["dtlz1", "dtlz2", "dtlz3", "dtlz4"])
def test_dtlz_lattice_fronts_match_pymoo(name):
    ours = moo.get_problem(name).pareto_front(136).numpy()   # 15 partitions, pymoo's default for 3 objectives
    theirs = _pymoo(name, n_var=12).pareto_front()
    assert ours.shape == theirs.shape == (136, 3)

    def rows(a):
        a = np.round(a, 12)
        return a[np.lexsort(a.T[::-1])]

    np.testing.assert_allclose(rows(ours), rows(theirs), atol=1e-12)


@pytest.mark.parametrize("name", ["dtlz5", "dtlz6"])
def test_dtlz_degenerate_front_matches_pymoo_and_is_attained(name):
    ours = moo.get_problem(name, n_obj=4)
    np.testing.assert_allclose(ours.pareto_front(500).numpy(), _pymoo(name, n_var=ours.n_var, n_obj=4).pareto_front(),
                               atol=1e-12)
    p3 = moo.get_problem(name)
    t = torch.linspace(0, 1, 7, dtype=torch.float64)
    tail = 0.5 if name == "dtlz5" else 0.0     # g = 0 at x_M = 0.5 (DTLZ5) / 0 (DTLZ6)
    X = torch.cat([t[:, None], torch.full((7, p3.n_var - 1), tail, dtype=torch.float64)], 1)
    np.testing.assert_allclose(p3.evaluate(X).numpy(), p3.pareto_front(7).numpy(), atol=1e-12)


def test_dtlz7_front_is_attained_and_disconnected():
    p = moo.get_problem("dtlz7", n_obj=2)
    F = p.pareto_front(400)
    X = torch.cat([F[:, :1], torch.zeros(len(F), p.n_var - 1, dtype=torch.float64)], 1)
    np.testing.assert_allclose(p.evaluate(X).numpy(), F.numpy(), atol=1e-12)
    # the known two pieces of the bi-objective front: f1 in [0, 0.2514] and [0.6316, 0.8594]
    f1 = F[:, 0].numpy()
    assert f1.max() == pytest.approx(0.8594, abs=5e-3)
    assert not np.any((f1 > 0.26) & (f1 < 0.62))
    assert p.nadir[0].item() == pytest.approx(0.8594, abs=5e-3)
    assert moo.get_problem("dtlz7").pareto_front(300).shape[1] == 3


@pytest.mark.parametrize("name", SYNTHETIC)
def test_front_is_nondominated_and_bounds_come_from_it(name):
    p = moo.get_problem(name)
    F = p.pareto_front(200)
    assert F.dtype == torch.float64 and F.shape[1] == p.n_obj and len(F) > 10
    assert torch.all(torch.isfinite(F))
    np.testing.assert_allclose(p.ideal.numpy(), p.pareto_front(2000).min(0).values.numpy())
    assert torch.all(p.nadir > p.ideal)
    # no random point beats the front: it dominates no front point by more than the sampling gap
    R = p.evaluate(_uniform(p, 2000, seed=3)).numpy()
    assert _hv(np.vstack([F.numpy(), R]), p.nadir.numpy() + 0.1) == pytest.approx(
        _hv(F.numpy(), p.nadir.numpy() + 0.1), rel=2e-2)


def test_analytic_front_constants():
    assert moo.get_problem("zdt1").ideal.tolist() == [0.0, 0.0]
    assert moo.get_problem("zdt1").nadir.tolist() == [1.0, 1.0]
    assert moo.get_problem("zdt6").ideal[0].item() == pytest.approx(0.2807753191)
    assert moo.get_problem("dtlz1", n_obj=4).nadir.tolist() == pytest.approx([0.5] * 4)
    assert moo.get_problem("dtlz2", n_obj=4).nadir.tolist() == pytest.approx([1.0] * 4)
    # exact hypervolume of the continuous ZDT1 front w.r.t. (1, 1) is 2/3; with (1.1, 1.1) it is 0.87667
    assert _hv(moo.get_problem("zdt1").pareto_front(5000).numpy(), [1.1, 1.1]) == pytest.approx(0.876667, abs=2e-4)


def test_vlmop2_front_attained_and_matches_svh_psl_hv():
    p = moo.get_problem("vlmop2")
    assert p.n_var == 6 and p.xl.tolist() == [-2.0] * 6 and p.xu.tolist() == [2.0] * 6
    u = torch.linspace(-1, 1, 50, dtype=torch.float64)
    X = (u / math.sqrt(6))[:, None].expand(50, 6)
    np.testing.assert_allclose(p.evaluate(X).numpy(), p.pareto_front(50).flip(0).numpy(), atol=1e-12)
    # SVH-PSL's LHD convention: raw objectives, ref 1.1, its own 400-point front -> 0.550808
    assert _hv(p.pareto_front(400).numpy(), [1.1, 1.1]) == pytest.approx(0.550808, abs=1e-3)


def test_vlmop1_and_vlmop3_values():
    p1 = moo.get_problem("vlmop1")
    assert p1.evaluate(torch.tensor([[0.5], [3.0]], dtype=torch.float64)).tolist() == [[0.25, 2.25], [9.0, 1.0]]
    p3 = moo.get_problem("vlmop3")
    F = p3.evaluate(torch.tensor([[0.0, 0.0], [1.0, -1.0]], dtype=torch.float64))
    np.testing.assert_allclose(F[0].numpy(), [0.0, 2.0 + 1.0 / 27 + 15.0, 1.0 - 1.1])
    np.testing.assert_allclose(F[1].numpy(), [1.0 + math.sin(2.0), 81.0 / 8 + 9.0 / 27 + 15.0,
                                             1.0 / 3 - 1.1 * math.exp(-2.0)])


def _psl_reference(name, x):
    """The PSL-MOBO reference formulas, transcribed with an explicit loop over variables."""
    n = x.shape[1]
    s1 = s2 = 0.0
    c1 = c2 = 0
    x1 = x[:, 0]
    for i in range(2, n + 1):
        xi = x[:, i - 1]
        even = i % 2 == 0
        ph = 4 * np.pi * x1 + i * np.pi / n
        if name == "f1":
            y = (xi - (2 * x1 - 1) ** 2) ** 2
        elif name == "f2":
            y = (xi - x1 ** (0.5 * (1 + 3 * (i - 2) / (n - 2)))) ** 2
        elif name == "f3":
            y = (xi - (np.sin(ph) + 1) / 2) ** 2
        elif name == "f4":
            y = (2 * xi - 1 - 0.8 * x1 * (np.sin(ph) if even else np.cos(ph))) ** 2
        elif name == "f5":
            y = (2 * xi - 1 - 0.8 * x1 * (np.sin(ph) if even else np.cos(ph / 3))) ** 2
        else:
            amp = 0.3 * x1 ** 2 * np.cos(12 * np.pi * x1 + 4 * i * np.pi / n) + 0.6 * x1
            ph6 = 6 * np.pi * x1 + i * np.pi / n
            y = (2 * xi - 1 - amp * (np.sin(ph6) if even else np.cos(ph6))) ** 2
            y = y * y if even else y
        if even:
            s2, c2 = s2 + y, c2 + 1
        else:
            s1, c1 = s1 + y, c1 + 1
    g1, g2 = 1 + s1 / c1, 1 + s2 / c2
    f2 = g2 * (1 - np.sqrt(x1)) if name == "f3" else g2 * (1 - np.sqrt(x1 / g2))
    return np.stack([g1 * x1, f2], 1)


@pytest.mark.parametrize("name", ["f1", "f2", "f3", "f4", "f5", "f6"])
def test_psl_synthetic_values_and_pareto_set(name):
    p = moo.get_problem(name)
    assert p.n_var == 6 and p.xl.tolist() == [0.0] * 6 and p.xu.tolist() == [1.0] * 6
    X = _uniform(p, 300, seed=7)
    np.testing.assert_allclose(p.evaluate(X).numpy(), _psl_reference(name, X.numpy()), rtol=1e-12, atol=1e-12)
    assert moo.get_problem(name, n_var=9).evaluate(_uniform(moo.get_problem(name, n_var=9), 5)).shape == (5, 2)
    # the Pareto set: each x_i on its target curve in x1 -> the front f2 = 1 - sqrt(f1)
    t = torch.linspace(0.0, 1.0, 11, dtype=torch.float64)
    np.testing.assert_allclose(p.evaluate(_psl_pareto_set(name, t, p.n_var)).numpy(), p.pareto_front(11).numpy(),
                               atol=1e-12)


def _psl_pareto_set(name, t, n):
    cols = [t]
    for i in range(2, n + 1):
        even = i % 2 == 0
        ph = 4 * math.pi * t + i * math.pi / n
        if name == "f1":
            cols.append((2 * t - 1) ** 2)
        elif name == "f2":
            cols.append(t ** (0.5 * (1 + 3 * (i - 2) / (n - 2))))
        elif name == "f3":
            cols.append((torch.sin(ph) + 1) / 2)
        elif name in ("f4", "f5"):
            wave = torch.sin(ph) if even else (torch.cos(ph) if name == "f4" else torch.cos(ph / 3))
            cols.append((1 + 0.8 * t * wave) / 2)
        else:
            amp = 0.3 * t ** 2 * torch.cos(12 * math.pi * t + 4 * i * math.pi / n) + 0.6 * t
            ph6 = 6 * math.pi * t + i * math.pi / n
            cols.append((1 + amp * (torch.sin(ph6) if even else torch.cos(ph6))) / 2)
    return torch.stack(cols, 1)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_batched_dtype_device_and_gradients(name):
    p = moo.get_problem(name)
    assert p.differentiable
    X = _uniform(p, 6, seed=11)
    F = p.evaluate(X)
    F32 = p.evaluate(X.float().reshape(2, 3, p.n_var))
    assert F32.dtype == torch.float32 and F32.shape == (2, 3, p.n_obj)
    np.testing.assert_allclose(F32.reshape(6, -1).numpy(), F.numpy(), rtol=1e-4, atol=1e-4)
    # interior points (away from sqrt/power kinks at the bounds): analytic gradients match finite differences
    lo, hi = p.xl + 0.05 * (p.xu - p.xl), p.xu - 0.05 * (p.xu - p.xl)
    Xg = (lo + (hi - lo) * torch.rand(3, p.n_var, generator=torch.Generator().manual_seed(1),
                                        dtype=torch.float64)).requires_grad_(True)
    if name == "dtlz4":  # x^100 makes finite differences meaningless near 1; check a benign region
        Xg = (0.3 + 0.4 * Xg.detach()).requires_grad_(True)
    assert torch.autograd.gradcheck(p._evaluate, (Xg,), eps=1e-6, atol=1e-4, rtol=1e-3)


def test_bad_inputs_raise():
    p = moo.get_problem("zdt1")
    with pytest.raises(ShapeError, match="n_var = 30"):
        p.evaluate(torch.zeros(4, 29))
    with pytest.raises(MooValueError, match="n_var"):
        moo.get_problem("zdt1", n_var=1)
    with pytest.raises(MooValueError, match="n_var"):
        moo.get_problem("f1", n_var=2)
