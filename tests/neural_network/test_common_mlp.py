"""scikit-learn's estimator checks on the multi-task MLPs (default settings).

To be merged into tests/test_common.py by the lead.
"""

from skmtl.neural_network import MultiTaskMLPClassifier, MultiTaskMLPRegressor
from skmtl.utils._compat import parametrize_with_checks

# No expected failures: with scikit-learn 1.9 every check passes, including
# check_classifier_multioutput (per-task list of predict_proba arrays).


@parametrize_with_checks([MultiTaskMLPRegressor(), MultiTaskMLPClassifier()])
def test_sklearn_compatible(estimator, check):
    check(estimator)
