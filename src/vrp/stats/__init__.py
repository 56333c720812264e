"""Pure statistics for outcome measures: intervals for counts and rates, tests of change, SPC charts.

Plain numbers and numpy arrays in, plain numbers out: no I/O, no database, no pandas. The methods and
the reasons for choosing them are in docs/statistics.md.
"""
from vrp.stats.change import Change, compare_counts, conditional_poisson_test, e_test, rate_ratio_ci
from vrp.stats.rates import byar_ci, poisson_ci, rate, rate_ci, wilson_ci
from vrp.stats.spc import SpcResult, xmr

__all__ = [
    "Change", "SpcResult", "byar_ci", "compare_counts", "conditional_poisson_test", "e_test", "poisson_ci",
    "rate", "rate_ci", "rate_ratio_ci", "wilson_ci", "xmr",
]
