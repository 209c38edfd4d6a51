"""Options, seeds and devices are checked where they are given (issue #22, item 6): an algorithm's
config is validated against its Config dataclass when the algorithm is built, a seed must be an
integer in [0, 2**63), and a device must be one this process has; each mistake is a moo error
whose one-line message names the argument, what was expected and what came."""
from __future__ import annotations  # the Config below then has string annotations, as the solvers' do

import dataclasses
import typing
from dataclasses import dataclass
from typing import Literal, Optional

import numpy as np
import pytest
import torch

from moo.algorithm import Algorithm, check_device, check_seed, default_device
from moo.errors import MooError, MooTypeError, MooValueError
from moo.registry import get_algorithm, get_problem, names


def _numeric_or_bool_fields(algorithm) -> list[str]:
    """Fields annotated as a number or a flag (``int``, ``float | None``, ``bool`` ...)."""
    hints = typing.get_type_hints(type(algorithm.config))
    return [f.name for f in dataclasses.fields(algorithm.config)
            if {int, float, bool} & {hints[f.name], *typing.get_args(hints[f.name])}]


@pytest.mark.parametrize("name", names("algorithm"))
def test_every_registered_algorithm_checks_its_options(name):
    """Defaults pass (and so does the stored config read back, where tuples became lists); a
    string for any number or flag option is refused when the algorithm is built."""
    algorithm = get_algorithm(name)
    again = get_algorithm(name, **algorithm.config_dict())  # as resume and the store rebuild it
    assert again.config_dict() == algorithm.config_dict()
    fields = _numeric_or_bool_fields(algorithm)
    assert fields, name
    for field in fields:
        with pytest.raises(MooTypeError, match=f"'{field}' of algorithm '{name}'.*got 'x'"):
            get_algorithm(name, **{field: "x"})


@pytest.mark.parametrize("name, options, error, message", [
    ("moo-svgd", {"lr": "fast"}, MooTypeError, r"'lr'.* must be a number, got 'fast' \(str\)"),
    ("pymoo.nsga2", {"pop_size": "x"}, MooTypeError, r"'pop_size'.* must be an integer, got 'x'"),
    ("nsga2", {"pop_size": True}, MooTypeError, r"'pop_size'.* must be an integer, got True \(bool\)"),
    ("nsga2", {"pop_size": 20.5}, MooTypeError, r"'pop_size'.* must be an integer, got 20.5"),
    ("nsga3", {"pop_size": 20.0}, MooTypeError, r"'pop_size'.* must be int or None, got 20.0"),
    ("nsga2", {"eta_c": True}, MooTypeError, r"'eta_c'.* must be a number, got True"),
    ("nsga2", {"eliminate_duplicates": 1}, MooTypeError, r"'eliminate_duplicates'.* true or false"),
    ("psl", {"scalarization": 3}, MooTypeError, r"'scalarization'.* must be a string, got 3"),
    ("psl", {"hidden": (256, "a")}, MooTypeError, r"'hidden'.*item 1.* must be an integer, got 'a'"),
    ("psl", {"hidden": 256}, MooTypeError, r"'hidden'.* must be a list"),
    ("linas", {"predictors": ("gp", 3)}, MooTypeError, r"'predictors'.*item 1.* must be a string"),
    ("linas", {"log_objectives": [0, "a"]}, MooTypeError, r"'log_objectives'.* tuple\[int, ...\] or None"),
    ("nsga2", {"eta_c": float("nan")}, MooValueError, r"'eta_c'.* must be finite, got nan"),
    ("nsga2", {"eta_m": float("inf")}, MooValueError, r"'eta_m'.* must be finite, got inf"),
    ("moo-svgd", {"betas": [0.9, float("-inf")]}, MooValueError, r"'betas'.* must be finite"),
    ("nsga2", {"prob_c": 1.5}, MooValueError, r"'prob_c'.* probability in \[0, 1\], got 1.5"),
    ("nsga2", {"prob_m": -0.1}, MooValueError, r"'prob_m'.* probability"),
    ("psl", {"lr": 0.0}, MooValueError, r"'lr'.* positive learning rate, got 0.0"),
    ("psl-mobo", {"lr": -1e-3}, MooValueError, r"'lr'.* positive learning rate"),
    ("pymoo.nsga2", {"pop_size": 0}, MooValueError, r"'pop_size'.* positive integer, got 0"),
    ("botorch.qnehvi", {"batch_size": -4}, MooValueError, r"'batch_size'.* positive integer"),
    ("psl-mobo", {"n_local": -1}, MooValueError, r"'n_local'.* non-negative integer, got -1"),
    ("botorch.qnehvi", {"raw_samples": -1}, MooValueError, r"'raw_samples'.* non-negative"),
])
def test_bad_options_fail_when_the_algorithm_is_built(name, options, error, message):
    with pytest.raises(error, match=message) as info:
        get_algorithm(name, **options)
    assert "\n" not in str(info.value)


def test_values_the_rules_must_not_refuse():
    """Boundaries and conversions that are legitimate stay accepted, and are kept as given."""
    assert get_algorithm("psl-mobo", n_local=0).config.n_local == 0  # 0 local steps: no local search
    assert get_algorithm("botorch.qnehvi", n_init=0).config.n_init == 0  # 0 means the default design
    alg = get_algorithm("nsga2", pop_size=np.int64(20), eta_c=20, prob_c=1.0, prob_m=0.0)
    assert alg.config.eta_c == 20 and alg.config.prob_c == 1.0  # an int for a float
    assert get_algorithm("moo-svgd", betas=[0.8, 0.99], lr=1).config.betas == [0.8, 0.99]
    assert get_algorithm("nsga3", pop_size=None, n_partitions=4).config.n_partitions == 4
    assert get_algorithm("linas", log_objectives=(0, 1), batch_size=None).config.log_objectives == (0, 1)
    with pytest.raises(MooValueError, match="'pop_size'"):  # and the refusals still bite next to them
        get_algorithm("nsga2", pop_size=-3)


class _Custom(Algorithm):
    """A solver written outside moo: its Config uses the annotation forms the generic check knows."""

    name = "custom"

    @dataclass
    class Config:
        mode: Literal["a", "b"] = "a"
        pair: tuple[int, int] = (1, 2)
        weights: list[float] = dataclasses.field(default_factory=lambda: [0.5, 0.5])
        tag: Optional[str] = None
        extra: dict = dataclasses.field(default_factory=dict)
        tolerance: float = float("inf")  # a non-finite default: inf is then a legitimate value
        n_jobs: int = -1  # a count-like name with a negative default: no sign rule
        batch_size: int = 8


@pytest.mark.parametrize("options, error, message", [
    ({"mode": "c"}, MooValueError, r"'mode' of algorithm 'custom' must be one of \['a', 'b'\], got 'c'"),
    ({"pair": (1, 2, 3)}, MooValueError, r"'pair'.* must have 2 items"),
    ({"pair": (1, "2")}, MooTypeError, r"'pair'.*item 1.* must be an integer"),
    ({"weights": [0.5, "x"]}, MooTypeError, r"'weights'.*item 1.* must be a number"),
    ({"weights": [0.5, float("nan")]}, MooValueError, r"'weights'.* must be finite"),
    ({"tag": 3}, MooTypeError, r"'tag'.* must be str or None, got 3"),
    ({"extra": []}, MooTypeError, r"'extra'.* must be a table"),
    ({"batch_size": 0}, MooValueError, r"'batch_size'.* positive integer"),
])
def test_generic_check_reads_string_annotations(options, error, message):
    with pytest.raises(error, match=message):
        _Custom(**options)
    with pytest.raises(error, match=message):  # a config object is checked as well as overrides
        _Custom(config=_Custom.Config(**options))
    ok = _Custom(mode="b", pair=[3, 4], weights=(1, 2.5), tag="t", extra={"k": 1}, tolerance=float("-inf"),
                 n_jobs=-2)
    assert ok.config.mode == "b" and ok.config.n_jobs == -2


@pytest.mark.parametrize("seed, error", [
    (1.7, MooTypeError), (3.0, MooTypeError), (True, MooTypeError), ("3", MooTypeError), (None, MooTypeError),
    (-1, MooValueError), (2**63, MooValueError), (2**64, MooValueError),
])
def test_bad_seeds_are_refused(seed, error):
    with pytest.raises(error, match=r"seed must be an integer in \[0, 2\*\*63\), got "):
        check_seed(seed)
    alg = get_algorithm("nsga2", pop_size=10)
    with pytest.raises(error, match="seed must be an integer"):  # not truncated silently by setup
        alg.setup(get_problem("zdt1", n_var=3), seed=seed, device="cpu")


def test_good_seeds_pass_as_ints():
    assert check_seed(0) == 0 and check_seed(2**63 - 1) == 2**63 - 1
    seed = check_seed(np.int64(7))
    assert seed == 7 and type(seed) is int
    alg = get_algorithm("nsga2", pop_size=10)
    alg.setup(get_problem("zdt1", n_var=3), seed=np.uint32(5), device="cpu")
    assert alg.seed == 5 and type(alg.seed) is int and alg.generator.initial_seed() == 5
    with pytest.raises(MooTypeError):
        alg.setup(get_problem("zdt1", n_var=3), seed=5.5, device="cpu")


def _missing_cuda() -> str:
    return f"cuda:{torch.cuda.device_count()}" if torch.cuda.is_available() else "cuda"


@pytest.mark.parametrize("device, error, message", [
    ("gpu", MooValueError, r"device 'gpu' is not a device name.*available devices: cpu"),
    ("cuda:x", MooValueError, r"device 'cuda:x' is not a device name.*available devices: cpu"),
    ("", MooValueError, r"is not a device name"),
    (0, MooTypeError, r"device must be a string .* got int"),
    ("meta", MooValueError, r"device 'meta' is not supported; available devices: cpu"),
    ("cuda:99", MooValueError, r"device 'cuda:99' .*available devices: cpu"),
    (_missing_cuda(), MooValueError, r"available devices: cpu"),
])
def test_unavailable_devices_name_the_available_ones(device, error, message):
    with pytest.raises(error, match=message) as info:
        check_device(device)
    assert "\n" not in str(info.value)
    alg = get_algorithm("nsga2", pop_size=10)
    with pytest.raises(error, match=message):
        alg.setup(get_problem("zdt1", n_var=3), seed=0, device=device)
    assert alg.problem is None  # refused before the algorithm was bound


def test_available_devices_pass():
    assert check_device(None) == default_device()
    assert check_device("cpu") == torch.device("cpu")
    assert check_device(torch.device("cpu")) == torch.device("cpu")
    if torch.cuda.is_available():
        n = torch.cuda.device_count()
        assert check_device("cuda") == torch.device("cuda")  # kept as given, without an index
        assert check_device(f"cuda:{n - 1}") == torch.device(f"cuda:{n - 1}")
        with pytest.raises(MooValueError, match=f"cuda:{n}' does not exist.*cuda:{n - 1}"):
            check_device(f"cuda:{n}")
    else:
        with pytest.raises(MooValueError, match="'cuda' is not available"):
            check_device(torch.device("cuda"))


def test_config_errors_are_moo_errors():
    """The families callers catch: MooError and the builtin ValueError / TypeError."""
    with pytest.raises(TypeError):
        get_algorithm("moo-svgd", lr="fast")
    with pytest.raises(ValueError):
        get_algorithm("moo-svgd", lr=float("nan"))
    for bad in ({"lr": "fast"}, {"lr": float("nan")}):
        with pytest.raises(MooError):
            get_algorithm("moo-svgd", **bad)
