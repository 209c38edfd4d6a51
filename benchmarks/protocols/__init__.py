"""Protocol plug-ins of the shipped suites (:mod:`moo.protocol`), found by name only.

``PROTOCOLS`` maps a suite's ``[protocol] name`` to ``module:Class`` within this package; a
stored or shared suite can name only these.
"""
PROTOCOLS: dict[str, str] = {}
PROTOCOLS["spread"] = "spread:Spread"
PROTOCOLS["svh-psl-paper"] = "svh_psl_paper:SVHPSLPaper"
PROTOCOLS["nas"] = "nas:NASProtocol"
PROTOCOLS["reward-weighting"] = "reward_weighting:RewardWeighting"
PROTOCOLS["phn"] = "phn:PHNProtocol"
PROTOCOLS["pareto-set"] = "pareto_set:ParetoSet"
