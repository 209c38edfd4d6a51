"""moo — multi-objective optimization and Pareto-set learning on PyTorch."""
from moo.errors import (
    BoundsError,
    BudgetError,
    CheckpointError,
    EvaluationError,
    FormatError,
    IndicatorUnavailableError,
    InfeasibleWarning,
    MooError,
    MooTypeError,
    MooValueError,
    NonFiniteError,
    RunFolderError,
    ShapeError,
    UnknownNameError,
    UntrustedSpecError,
)
from moo.problem import NormalizedProblem, Problem
from moo.algorithm import Algorithm, StepInfo
from moo.registry import get_algorithm, get_problem, register_algorithm, register_problem

__version__ = "0.1.0"
from moo.result import Result
from moo.solve import resume, solve
from moo import termination
