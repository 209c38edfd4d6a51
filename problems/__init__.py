"""The problem library: importing this package registers every problem by name."""
from moo.problems import zdt, dtlz, vlmop, psl_synthetic, re_suite  # noqa: F401  (registers the synthetic and RE problems)
from moo.problems import nas  # noqa: F401
from moo.problems import multitask_digits  # noqa: F401
