"""Experiments: A/B tests of touchpoint variants (declarations, statistics, reports).

Public API::

    two_proportion_ztest, fisher_exact, welch_ttest, relative_lift, mean_lift, srm_test  (ab)
    beta_binomial                                                                      (bayes)
    sequential_test, msprt                                                         (sequential)
    sample_size_proportions, power_proportions, sample_size_means                       (power)
    Experiment, load_experiments                                                 (declarations)
    experiment_report, ExperimentReport                                                (report)
"""

from touchlens.experiments.ab import (
    fisher_exact,
    mean_lift,
    relative_lift,
    srm_test,
    two_proportion_ztest,
    welch_ttest,
)
from touchlens.experiments.bayes import beta_binomial
from touchlens.experiments.declarations import Experiment, load_experiments, parse_experiment
from touchlens.experiments.power import (
    power_proportions,
    sample_size_means,
    sample_size_proportions,
)
from touchlens.experiments.report import ExperimentReport, experiment_report
from touchlens.experiments.sequential import msprt, sequential_test

__all__ = [
    "Experiment", "ExperimentReport", "beta_binomial", "experiment_report", "fisher_exact",
    "load_experiments", "mean_lift", "msprt", "parse_experiment", "power_proportions",
    "relative_lift", "sample_size_means", "sample_size_proportions", "sequential_test",
    "srm_test", "two_proportion_ztest", "welch_ttest",
]
