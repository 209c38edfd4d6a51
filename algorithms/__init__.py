"""Solvers: importing this package registers every algorithm by name."""
from moo.algorithms import peers  # noqa: F401
from moo.algorithms import evolutionary  # noqa: F401
from moo.algorithms import moo_svgd  # noqa: F401
from moo.algorithms import linas  # noqa: F401
from moo.algorithms import psl, psl_mobo, phn  # noqa: F401
from moo.algorithms import svh_psl  # noqa: F401
from moo.algorithms import random_search  # noqa: F401
