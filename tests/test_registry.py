"""Registry: one file imported under two names, or re-run, is one definition; a different class
under a taken name is a clash."""
import importlib
import sys
import textwrap

import pytest

import moo
from moo import MooValueError
from moo.registry import _REGISTRY

SOURCE = textwrap.dedent('''
    import torch
    from moo import Problem, register_problem

    @register_problem("twice-imported")
    class TwiceImported(Problem):
        def __init__(self):
            super().__init__(1, 2, [[0.0], [1.0]], name="twice-imported")

        def _evaluate(self, X):
            return torch.cat([X, 1 - X], -1)
''')


@pytest.fixture
def two_import_paths(tmp_path, monkeypatch):
    package = tmp_path / "userpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "probs.py").write_text(SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(package))
    yield
    _REGISTRY["problem"].pop("twice-imported", None)
    for name in ("userpkg.probs", "userpkg", "probs"):
        sys.modules.pop(name, None)


def test_one_file_imported_under_two_names_registers_once(two_import_paths):
    first = importlib.import_module("userpkg.probs")
    second = importlib.import_module("probs")            # same file, second module name
    assert first is not second and first.TwiceImported is not second.TwiceImported
    assert moo.get_problem("twice-imported").__class__ is second.TwiceImported
    importlib.reload(second)                             # a notebook re-running the cell
    assert moo.get_problem("twice-imported").evaluate([[0.25]]).tolist() == [[0.25, 0.75]]


def test_another_class_under_a_taken_name_is_a_clash(two_import_paths):
    importlib.import_module("userpkg.probs")

    class Other(moo.Problem):
        pass

    with pytest.raises(MooValueError, match="already registered"):
        moo.register_problem("twice-imported")(Other)
