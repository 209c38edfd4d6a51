"""Property-based tests of the problem contract (``moo.Problem``).

Whatever a caller passes to ``evaluate``/``constraints`` (any shape, dtype, NaN/inf, empty
batches, out-of-bounds points, arrays, lists, junk) and whatever a user's ``_evaluate`` returns
(wrong shapes, NaN, inf, wrong types) or raises, the only exceptions are moo's own
(:class:`moo.errors.MooError`). A success has shape ``[..., n_obj]``, finite values and the
documented dtype; the evaluation counter grows by the batch size on success and not at all on
refusal. Every registered problem gives finite values of the right shape inside its bounds.
"""
import functools
import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import moo
from moo import registry
from moo.errors import (BoundsError, EvaluationError, MooError, MooTypeError, MooValueError, NonFiniteError,
                        ShapeError)
from moo.problem import NormalizedProblem, Problem, as_tensor

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------------
# a user problem whose objectives and constraints misbehave on request

GOOD = "ok"
NONFINITE = ("nan", "inf", "-inf")
WRONG_SHAPE = ("flat", "extra_dim", "wrong_width", "scalar", "extra_row", "list_wrong_width")
RAISES = ("raise_value", "raise_index", "raise_type", "raise_runtime", "raise_zero")
BAD_TYPE = ("none", "string", "object", "complex", "ragged", "dict")
CONVERTED = ("float32", "float64", "int", "bool", "numpy", "list", "requires_grad")
MODES = (GOOD,) + NONFINITE + WRONG_SHAPE + RAISES + BAD_TYPE + CONVERTED + ("overflow32", "raise_moo")


def _good(X, width):
    """Finite for every finite ``X``, in ``X``'s dtype (smooth, so gradients flow)."""
    return torch.stack([torch.tanh(X * (j + 1)).sum(-1) + j for j in range(width)], -1)


def _output(mode, X, width):
    F = _good(X, width)
    if mode == GOOD:
        return F
    if mode in NONFINITE:
        F = F.clone()
        F[..., -1] = float(mode)
        return F
    if mode == "overflow32":  # finite in float64, not representable in float32
        return torch.full(F.shape, 1e300, dtype=torch.float64)
    if mode == "flat":
        return F.reshape(-1)
    if mode == "extra_dim":
        return F[..., None]
    if mode == "wrong_width":
        return _good(X, width + 1)
    if mode == "scalar":
        return 1.0
    if mode == "extra_row":
        if F.dim() < 2:
            return F[None]
        return torch.cat([F, _good(torch.zeros(X.shape[:-2] + (1, X.shape[-1]), dtype=X.dtype), width)], -2)
    if mode == "list_wrong_width":
        return _good(X, width + 1).tolist()
    if mode == "raise_value":
        raise ValueError("bad value in the simulator")
    if mode == "raise_index":
        return X[..., X.shape[-1] + 5]
    if mode == "raise_type":
        return X + "text"
    if mode == "raise_runtime":
        return X @ torch.zeros(X.shape[-1] + 3, 2, dtype=X.dtype)
    if mode == "raise_zero":
        return 1 / 0
    if mode == "raise_moo":
        raise ShapeError("the user's own moo error")
    if mode == "none":
        return None
    if mode == "string":
        return "objectives"
    if mode == "object":
        return object()
    if mode == "dict":
        return {"F": F}
    if mode == "complex":
        return F.to(torch.complex128) + 1j
    if mode == "ragged":
        return [[1.0], [1.0, 2.0]]
    if mode == "float32":
        return F.to(torch.float32)
    if mode == "float64":
        return F.to(torch.float64)
    if mode == "int":
        return F.round().to(torch.int64)
    if mode == "bool":
        return F > 0
    if mode == "numpy":
        return F.detach().cpu().numpy()
    if mode == "list":
        return F.tolist()
    if mode == "requires_grad":
        return F.detach().requires_grad_(True) if F.dtype.is_floating_point else F
    raise AssertionError(mode)


class Misbehaving(Problem):
    differentiable = True

    def __init__(self, n_var=2, n_obj=2, n_constr=0, mode=GOOD, cmode=GOOD):
        super().__init__(n_var, n_obj, [[-1.0] * n_var, [1.0] * n_var], n_constr=n_constr, name="misbehaving")
        self.mode, self.cmode = mode, cmode

    def _evaluate(self, X):
        return _output(self.mode, X, self.n_obj)

    def _constraints(self, X):
        return _output(self.cmode, X, self.n_constr)


# ---------------------------------------------------------------------------------------------
# inputs

FLOATS = (torch.float32, torch.float64)
DTYPES = FLOATS + (torch.int64, torch.int32, torch.bool, torch.complex64, torch.complex128)


def _expected_dtype(X):
    """The documented rule: float tensors keep their dtype; everything else becomes float64."""
    if isinstance(X, torch.Tensor) and X.dtype in FLOATS:
        return X.dtype
    return torch.float64


@st.composite
def leading_shapes(draw, max_dims=3, max_side=4):
    return tuple(draw(st.lists(st.integers(0, max_side), min_size=0, max_size=max_dims)))


@st.composite
def tensor_inputs(draw, n_var, finite=None):
    """A tensor ``[..., n_var]`` (sometimes the wrong width) of any dtype, values in or out of bounds."""
    lead = draw(leading_shapes())
    width = draw(st.sampled_from([n_var] * 4 + [max(n_var - 1, 0), n_var + 1]))
    dtype = draw(st.sampled_from(DTYPES))
    if finite is None:
        finite = draw(st.booleans())
    elements = (st.floats(-3, 3, width=32) | st.sampled_from([-1.0, 0.0, 1.0, 1e30, -1e30])) if finite else \
        st.floats(allow_nan=True, allow_infinity=True, width=32)
    values = draw(arrays(np.float64, lead + (width,), elements=elements))
    X = torch.from_numpy(values)
    if dtype.is_complex:
        return X.to(dtype) + (1j if draw(st.booleans()) else 0)
    if dtype == torch.bool:
        return X > 0
    if not dtype.is_floating_point:
        return X.nan_to_num(0.0, 0.0, 0.0).clamp(-100, 100).to(dtype)
    return X.to(dtype)


@st.composite
def any_inputs(draw, n_var):
    """Tensors, NumPy arrays of any dtype, nested lists, ragged lists, scalars and junk."""
    kind = draw(st.sampled_from(["tensor"] * 6 + ["numpy", "list", "ragged", "scalar", "junk", "numpy_odd"]))
    if kind == "tensor":
        return draw(tensor_inputs(n_var))
    if kind == "numpy":
        X = draw(tensor_inputs(n_var))
        return X.numpy()
    if kind == "list":
        return draw(tensor_inputs(n_var)).tolist()
    if kind == "ragged":
        return [[0.0] * n_var, [0.0] * (n_var + 1)]
    if kind == "scalar":
        return draw(st.sampled_from([0.0, 1, np.float64(0.5), np.int64(2), True, math.nan]))
    if kind == "numpy_odd":
        return draw(st.sampled_from([
            np.array([["a"] * n_var]), np.array([[None] * n_var], dtype=object),
            np.array([[0.5] * n_var], dtype=object), np.zeros((2, n_var), dtype=np.complex128) + 1j,
            np.zeros((2, n_var), dtype=np.float16), np.zeros((2, n_var), dtype=np.uint8),
            np.zeros((2, n_var), dtype=np.bool_), np.array([[1.0] * n_var], dtype=np.longdouble),
            np.datetime64("2020-01-01"),
        ]))
    return draw(st.sampled_from([None, "x", b"bytes", {"X": 1}, object(), {1, 2}, 1 + 2j]))


def _lead(X):
    return tuple(torch.as_tensor(np.asarray(X, dtype=np.float64)).shape[:-1]) if not isinstance(X, torch.Tensor) \
        else tuple(X.shape[:-1])


def _rows(shape):
    return int(np.prod(shape, dtype=np.int64))


def _call(method, X):
    """``method(X)``: the result, or the moo error it raised. Anything else fails the test."""
    try:
        return method(X), None
    except MooError as exc:
        # every moo error is also a builtin ValueError/TypeError/RuntimeError, with a message
        assert isinstance(exc, (ValueError, TypeError, RuntimeError)) and str(exc)
        return None, exc


# ---------------------------------------------------------------------------------------------
# properties of evaluate / constraints on a user's problem


@FAST
@given(st.integers(1, 4), st.integers(1, 3), st.sampled_from(MODES), st.data())
def test_evaluate_anything_gives_a_valid_result_or_a_moo_error(n_var, n_obj, mode, data):
    p = Misbehaving(n_var, n_obj, mode=mode)
    X = data.draw(any_inputs(n_var))
    before = p.n_evals
    F, err = _call(p.evaluate, X)
    if err is not None:
        assert p.n_evals == before, "a refused batch must not be counted"
        return
    lead = _lead(X)
    assert isinstance(F, torch.Tensor)
    assert tuple(F.shape) == lead + (n_obj,)
    assert F.dtype == _expected_dtype(X)
    assert bool(torch.isfinite(F).all())
    assert p.n_evals == before + _rows(lead)


@FAST
@given(st.integers(1, 4), st.integers(1, 3), st.sampled_from(MODES), st.data())
def test_constraints_anything_gives_a_valid_result_or_a_moo_error(n_var, n_constr, cmode, data):
    p = Misbehaving(n_var, 2, n_constr=n_constr, cmode=cmode)
    X = data.draw(any_inputs(n_var))
    G, err = _call(p.constraints, X)
    assert p.n_evals == 0, "constraints are not objective evaluations"
    if err is not None:
        return
    lead = _lead(X)
    assert tuple(G.shape) == lead + (n_constr,)
    assert G.dtype == _expected_dtype(X)
    assert bool(torch.isfinite(G).all())


@FAST
@given(st.integers(1, 4), st.integers(1, 3), st.data())
def test_good_problem_accepts_every_finite_real_input(n_var, n_obj, data):
    """Shapes ``[..., n_var]`` of any rank (1-D included, empty batches included), every real dtype,
    values out of bounds included: F is ``[..., n_obj]`` in the documented dtype, counted by rows."""
    p = Misbehaving(n_var, n_obj)
    X = data.draw(tensor_inputs(n_var, finite=True).filter(
        lambda X: X.shape[-1] == n_var and not X.dtype.is_complex))
    F = p.evaluate(X)
    assert F.shape == X.shape[:-1] + (n_obj,)
    assert F.dtype == _expected_dtype(X) and F.device == X.device
    assert p.n_evals == _rows(X.shape[:-1])
    torch.testing.assert_close(F, _good(X.to(F.dtype), n_obj))


@FAST
@given(st.integers(1, 4), st.sampled_from(NONFINITE), leading_shapes(), st.sampled_from(FLOATS), st.data())
def test_nonfinite_objectives_from_user_code_are_rejected(n_var, mode, lead, dtype, data):
    """NaN, inf and -inf objectives are all refused (the contract rejects non-finite values)."""
    assume(_rows(lead) > 0)
    for where in ("evaluate", "constraints"):
        p = Misbehaving(n_var, 2, n_constr=2, mode=mode, cmode=mode)
        X = torch.zeros(lead + (n_var,), dtype=dtype)
        with pytest.raises(NonFiniteError, match="non-finite"):
            getattr(p, where)(X)
        assert p.n_evals == 0


@FAST
@given(st.integers(1, 4), st.sampled_from(WRONG_SHAPE), leading_shapes(), st.data())
def test_wrong_output_shapes_are_shape_errors(n_var, mode, lead, data):
    assume(not (lead == () and mode == "flat"))  # one row flattened is the right shape
    assume(_rows(lead) > 0 or mode != "list_wrong_width")  # an empty list fits any empty batch
    p = Misbehaving(n_var, 2, mode=mode)
    with pytest.raises(ShapeError, match="returned objectives of shape"):
        p.evaluate(torch.zeros(lead + (n_var,), dtype=torch.float64))
    assert p.n_evals == 0


@FAST
@given(st.integers(1, 4), st.sampled_from(RAISES), leading_shapes(), st.sampled_from(FLOATS))
def test_exceptions_in_user_code_are_wrapped(n_var, mode, lead, dtype):
    p = Misbehaving(n_var, 2, n_constr=1, mode=mode, cmode=mode)
    X = torch.zeros(lead + (n_var,), dtype=dtype)
    for method in (p.evaluate, p.constraints):
        with pytest.raises(EvaluationError, match="misbehaving") as info:
            method(X)
        assert info.value.__cause__ is not None and not isinstance(info.value.__cause__, MooError)
    assert p.n_evals == 0


@FAST
@given(st.integers(1, 4), st.sampled_from(BAD_TYPE), leading_shapes())
def test_outputs_of_the_wrong_type_are_type_or_shape_errors(n_var, mode, lead):
    p = Misbehaving(n_var, 2, mode=mode)
    with pytest.raises(MooError, match="objectives"):
        p.evaluate(torch.zeros(lead + (n_var,)))
    assert p.n_evals == 0


@FAST
@given(st.integers(1, 4), st.sampled_from(CONVERTED), st.data())
def test_output_dtype_and_device_follow_the_input(n_var, mode, data):
    """Whatever real type ``_evaluate`` returns (float32, float64, integer, bool, NumPy, list),
    ``F`` comes back in ``X``'s dtype and on ``X``'s device."""
    p = Misbehaving(n_var, 3, mode=mode)
    X = data.draw(tensor_inputs(n_var, finite=True).filter(
        lambda X: X.shape[-1] == n_var and X.dtype in FLOATS and (X.numel() == 0 or X.abs().max() < 10)))
    F = p.evaluate(X)
    assert F.dtype == X.dtype and F.device == X.device and F.shape == X.shape[:-1] + (3,)
    assert p.n_evals == _rows(X.shape[:-1])


@FAST
@given(st.integers(1, 4), st.data())
def test_input_refusals(n_var, data):
    """Complex → MooTypeError; wrong trailing dimension → ShapeError; NaN/inf → NonFiniteError;
    none of them reaches the user's code or the counter."""
    X = data.draw(tensor_inputs(n_var))
    p = Misbehaving(n_var, 2, mode="raise_value")  # any call that reaches _evaluate is an EvaluationError
    if X.dtype.is_complex:
        expected = MooTypeError
    elif X.shape[-1] != n_var:
        expected = ShapeError
    elif X.dtype.is_floating_point and not bool(torch.isfinite(X).all()):
        expected = NonFiniteError
    else:
        expected = EvaluationError
    with pytest.raises(expected):
        p.evaluate(X)
    assert p.n_evals == 0


@FAST
@given(st.lists(st.tuples(leading_shapes(max_dims=2, max_side=5), st.sampled_from([GOOD, GOOD, "nan", "flat",
                                                                                    "raise_value"])),
                min_size=1, max_size=6))
def test_counter_sums_the_rows_of_accepted_batches(calls):
    p = Misbehaving(2, 2)
    expected = 0
    for lead, mode in calls:
        p.mode = mode
        _, err = _call(p.evaluate, torch.zeros(lead + (2,)))
        if err is None:
            expected += _rows(lead)
        assert p.n_evals == expected


@FAST
@given(st.data())
def test_constructor_accepts_valid_arguments_or_raises_a_moo_error(data):
    counts = st.integers(-1, 4) | st.sampled_from([True, 2.0, None, "2", np.int64(2), 1.5])
    n_var, n_obj, n_constr = data.draw(counts), data.draw(counts), data.draw(counts)
    size = n_var if type(n_var) is int and 0 < n_var < 6 else 2
    bounds = data.draw(st.sampled_from([
        [[0.0] * size, [1.0] * size], np.array([[0.0] * size, [1.0] * size]),
        torch.tensor([[0.0] * size, [1.0] * size], dtype=torch.float32),
        torch.tensor([[0] * size, [3] * size]), [[1.0] * size, [0.0] * size], [[0.0] * size, [math.nan] * size],
        [[0.0] * size], [[0.0, 1.0], [1.0]], "bounds", None, torch.zeros(2, size, dtype=torch.complex64) + 1j,
        np.zeros((2, size), dtype=np.complex128) + 1j, [[0.0] * size, [math.inf] * size],
    ]))
    var_types = data.draw(st.sampled_from([None, ["real"] * size, ["int"] * size, ["cat", "real"] * 3, "int",
                                           "real", 3, ["float"] * size, [None] * size, ("int",) * size]))
    name = data.draw(st.sampled_from([None, "mine", "", 3]))
    try:
        p = Misbehaving.__new__(Misbehaving)
        Problem.__init__(p, n_var, n_obj, bounds, n_constr=n_constr, var_types=var_types, name=name)
    except MooError as exc:
        assert str(exc)
        return
    assert p.bounds.shape == (2, p.n_var) and p.bounds.dtype == torch.float64
    assert bool(torch.isfinite(p.bounds).all()) and bool((p.bounds[0] <= p.bounds[1]).all())
    assert p.var_types is None or len(p.var_types) == p.n_var
    assert isinstance(p.name, str) and p.name
    assert p.n_evals == 0
    assert isinstance(p.describe(), dict)


@FAST
@given(st.data())
def test_as_tensor_converts_or_raises_a_moo_error(data):
    x = data.draw(any_inputs(3))
    try:
        t = as_tensor(x)
    except MooError:
        return
    assert isinstance(t, torch.Tensor)
    assert not t.dtype.is_complex or (isinstance(x, torch.Tensor) and x.dtype.is_complex)


@FAST
@given(st.integers(1, 3), st.data())
def test_gradients_flow_through_any_batch_shape(n_var, data):
    lead = data.draw(leading_shapes(max_dims=2))
    X = torch.rand(lead + (n_var,), dtype=torch.float64, requires_grad=True)
    p = Misbehaving(n_var, 2)
    F = p.evaluate(X)
    F.sum().backward()
    assert X.grad is not None and X.grad.shape == X.shape and bool(torch.isfinite(X.grad).all())


# ---------------------------------------------------------------------------------------------
# focused regression tests for what the properties found


def test_ragged_list_output_is_a_moo_error_not_a_raw_value_error():
    with pytest.raises(ShapeError, match="objectives"):
        Misbehaving(2, 2, mode="ragged").evaluate(torch.zeros(2, 2))


def test_complex_output_is_refused_not_silently_truncated():
    with pytest.raises(MooTypeError, match="objectives .*complex"):
        Misbehaving(2, 2, mode="complex").evaluate(torch.zeros(3, 2))


def test_complex_input_is_refused():
    with pytest.raises(MooTypeError, match="X .*complex"):
        Misbehaving(2, 2).evaluate(torch.zeros(3, 2, dtype=torch.complex64))
    with pytest.raises(MooTypeError, match="X .*complex"):
        Misbehaving(2, 2).evaluate(np.zeros((3, 2), dtype=np.complex128) + 1j)


def test_integer_and_bool_inputs_are_evaluated_in_float64():
    p = Misbehaving(2, 2, mode="nan")
    with pytest.raises(NonFiniteError):  # integer X used to turn NaN objectives into garbage integers
        p.evaluate(torch.ones(3, 2, dtype=torch.int64))
    for X in (torch.ones(3, 2, dtype=torch.int64), torch.ones(3, 2, dtype=torch.bool)):
        F = Misbehaving(2, 2).evaluate(X)
        assert F.dtype == torch.float64
        torch.testing.assert_close(F, _good(torch.ones(3, 2, dtype=torch.float64), 2))


def test_nonfinite_input_is_refused_before_the_user_code_runs():
    p = Misbehaving(2, 2, mode="raise_value")
    with pytest.raises(NonFiniteError, match="X contains NaN or inf in 1 row\\(s\\)"):
        p.evaluate(torch.tensor([[0.0, 0.0], [math.inf, 0.0]]))
    with pytest.raises(NonFiniteError, match="X"):
        p.constraints(np.array([math.nan, 0.0]))
    assert p.n_evals == 0


def test_output_of_another_dtype_is_cast_to_the_input_dtype():
    F = Misbehaving(2, 2, mode="float64").evaluate(torch.zeros(3, 2, dtype=torch.float32))
    assert F.dtype == torch.float32
    F = Misbehaving(2, 2, mode="int").evaluate(torch.zeros(3, 2, dtype=torch.float64))
    assert F.dtype == torch.float64
    with pytest.raises(NonFiniteError):  # 1e300 does not fit in float32
        Misbehaving(2, 2, mode="overflow32").evaluate(torch.zeros(3, 2, dtype=torch.float32))


def test_non_iterable_var_types_is_a_moo_error():
    with pytest.raises(MooTypeError, match="var_types"):
        Problem(2, 2, [[0, 0], [1, 1]], var_types=3)


def test_ragged_or_junk_arrays_are_moo_errors():
    with pytest.raises(MooValueError, match="X"):
        Misbehaving(2, 2).evaluate([[0.0, 0.0], [0.0]])
    with pytest.raises(MooTypeError, match="X"):
        Misbehaving(2, 2).evaluate(np.array([["a", "b"]]))
    with pytest.raises(BoundsError, match="bounds"):
        Problem(2, 2, [[0.0, 1.0], [1.0]])
    with pytest.raises(MooTypeError, match="bounds .*complex"):
        Problem(2, 2, np.zeros((2, 2)) + 1j)


def test_empty_list_output_fits_an_empty_batch():
    p = Misbehaving(2, 3, mode="list")
    for lead in ((0,), (2, 0)):
        F = p.evaluate(torch.zeros(lead + (2,), dtype=torch.float32))
        assert F.shape == lead + (3,) and F.dtype == torch.float32
    assert p.n_evals == 0


def test_normalized_view_checks_and_converts_the_inner_output():
    class Listy(Misbehaving):
        ideal, nadir = torch.zeros(2), torch.full((2,), 4.0)

    F = NormalizedProblem(Listy(2, 2, mode="numpy")).evaluate(torch.zeros(3, 2))
    assert F.dtype == torch.float32 and F.shape == (3, 2)
    with pytest.raises(ShapeError, match="misbehaving"):
        NormalizedProblem(Listy(2, 2, mode="wrong_width")).evaluate(torch.zeros(3, 2))
    with pytest.raises(NonFiniteError):
        NormalizedProblem(Listy(2, 2, mode="nan")).evaluate(torch.zeros(3, 2))


def test_name_must_be_a_string():
    with pytest.raises(MooTypeError, match="name"):
        Problem(2, 2, [[0, 0], [1, 1]], name=3)


# ---------------------------------------------------------------------------------------------
# every registered problem, at random points inside its bounds

# problems whose construction needs data from an optional package, and cheap options for them
NEEDS = {"nas-digits": "sklearn", "multitask-digits": "sklearn"}
OPTIONS = {"nas-digits": dict(max_depth=1, channels=(2, 4), kernels=(1, 3), bits=(8, 32),
                              activations=("relu",), epochs=1, latency_repeats=1, latency_batch=4,
                              cache=":memory:"),
           "multitask-digits": dict(n_train=64, n_val=16, n_test=16)}
SLOW = {"nas-digits", "multitask-digits"}


@functools.lru_cache(maxsize=None)
def _registered(name, normalize=False):
    return moo.get_problem(name, normalize=normalize, **OPTIONS.get(name, {}))


@st.composite
def points_in_bounds(draw, p, max_rows=4):
    lead = draw(st.sampled_from([(), (0,), (1,), (2,), (max_rows,), (2, 2)]))
    if _rows(lead) > max_rows:
        lead = (max_rows,)
    u = draw(arrays(np.float64, lead + (p.n_var,),
                    elements=st.floats(0, 1) | st.sampled_from([0.0, 1.0, 0.5])))
    X = p.xl + torch.from_numpy(u) * (p.xu - p.xl)
    if p.var_types is not None:
        discrete = torch.tensor([t != "real" for t in p.var_types])
        X = torch.where(discrete, X.round(), X)
    X = torch.minimum(torch.maximum(X, p.xl), p.xu)
    dtype = draw(st.sampled_from(FLOATS))
    return X.to(dtype)


def test_re22_on_its_lower_bound_is_finite():
    p = _registered("re22")
    F = p.evaluate(torch.tensor([[0.2, 0.0, 0.0], [0.2, 0.0, 5.0]], dtype=torch.float64))
    assert bool(torch.isfinite(F).all()) and bool((F[:, 1] > 1e9).all())  # infeasible by far, not NaN


@pytest.mark.parametrize("name", registry.names("problem"))
def test_every_registered_problem_is_finite_inside_its_bounds(name):
    if name in NEEDS:
        pytest.importorskip(NEEDS[name])
    p = _registered(name)

    @settings(max_examples=3 if name in SLOW else 15, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(points_in_bounds(p, max_rows=2 if name in SLOW else 4))
    def check(X):
        before = p.n_evals
        F = p.evaluate(X)
        assert F.shape == X.shape[:-1] + (p.n_obj,), f"{name}: F shape {list(F.shape)} for X {list(X.shape)}"
        assert F.dtype == X.dtype, f"{name}: F dtype {F.dtype} for X {X.dtype}"
        assert bool(torch.isfinite(F).all())
        assert p.n_evals == before + _rows(X.shape[:-1])
        G = p.constraints(X)
        assert G.shape == X.shape[:-1] + (p.n_constr,) and bool(torch.isfinite(G).all())
        if p.ideal is not None and p.nadir is not None and name not in SLOW:
            Fn = _registered(name, True).evaluate(X)
            assert Fn.shape == F.shape and bool(torch.isfinite(Fn).all())

    check()
