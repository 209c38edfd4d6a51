"""Property-based tests of ``Result`` save/load: any shapes round-trip exactly, and any damage to
the saved files is a moo error, never a raw exception."""
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import moo
from moo.errors import MooError

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def results(draw):
    n_var, n_obj = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    n_all = draw(st.integers(0, 6))
    n = draw(st.integers(0, n_all))
    X_all = draw(arrays(np.float64, (n_all, n_var), elements=finite))
    F_all = draw(arrays(np.float64, (n_all, n_obj), elements=finite))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    history = [{"step": i + 1, "n_evals": i + 1, "time": 0.1 * i, "hv": draw(st.none() | finite)}
               for i in range(draw(st.integers(0, 3)))]
    meta = {"problem": {"name": "p", "n_var": n_var, "n_obj": n_obj}, "seed": draw(st.integers(0, 2**31)),
            "budget": max(n_all, 1), "n_evals": n_all, "n_steps": len(history), "wall_time": 1.0}
    state = {"w": torch.tensor(draw(arrays(np.float64, (2,), elements=finite)))} if draw(st.booleans()) else None
    return moo.Result(X=torch.from_numpy(X_all[:n]).to(dtype), F=torch.from_numpy(F_all[:n]).to(dtype),
                      X_all=torch.from_numpy(X_all), F_all=torch.from_numpy(F_all), history=history, meta=meta,
                      state=state)


@settings(max_examples=60, deadline=None)
@given(results())
def test_save_load_round_trips_any_shape(result):
    with tempfile.TemporaryDirectory() as d:
        back = moo.Result.load(result.save(d))
    for name in ("X", "F", "X_all", "F_all"):
        assert torch.equal(getattr(back, name), getattr(result, name))
    assert back.history == result.history and back.meta == result.meta
    assert (back.state is None) == (result.state is None)
    if result.state is not None:
        assert torch.equal(back.state["w"], result.state["w"])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(results(), st.sampled_from(["result.json", "arrays.npz", "model.pt"]), st.data())
def test_damaged_files_give_a_moo_error_or_a_consistent_result(result, name, data):
    with tempfile.TemporaryDirectory() as d:
        result.save(d)
        path = Path(d) / name
        if not path.exists():
            return
        raw = bytearray(path.read_bytes())
        how = data.draw(st.sampled_from(["truncate", "flip", "delete"]))
        if how == "delete":
            path.unlink()
        elif how == "truncate":
            path.write_bytes(raw[:data.draw(st.integers(0, len(raw) - 1))])
        else:
            i = data.draw(st.integers(0, len(raw) - 1))
            raw[i] ^= data.draw(st.integers(1, 255))
            path.write_bytes(bytes(raw))
        try:
            back = moo.Result.load(d)
        except MooError:
            return
        # a flip that left the files readable must still give a self-consistent result
        assert back.X.shape[0] == back.F.shape[0] and back.X_all.shape[0] == back.F_all.shape[0]
        assert back.X.shape[1] == back.X_all.shape[1] and back.F.shape[1] == back.F_all.shape[1]


def test_a_flipped_byte_does_not_escape_as_a_raw_error(tmp_path):
    """One fixed case of the property, kept as a plain regression test."""
    r = moo.Result(X=torch.zeros(2, 2), F=torch.zeros(2, 2), X_all=torch.zeros(3, 2), F_all=torch.zeros(3, 2),
                   meta={"problem": {"n_var": 2, "n_obj": 2}})
    r.save(tmp_path)
    (tmp_path / "result.json").write_bytes(b"\xff\xfe" + (tmp_path / "result.json").read_bytes()[2:])
    with pytest.raises(MooError):
        moo.Result.load(tmp_path)
