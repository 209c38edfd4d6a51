"""Evolutionary multi-objective solvers on torch tensors: NSGA-II and NSGA-III, their variation
operators (real, integer, categorical and mixed variables), selection and constraint handling."""
from .nsga2 import NSGA2
from .nsga3 import NSGA3

__all__ = ["NSGA2", "NSGA3"]
