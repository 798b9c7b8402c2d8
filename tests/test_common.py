"""scikit-learn's estimator checks on every public skmtl estimator (default settings)."""

from sklearn.linear_model import LogisticRegression, Ridge

from skmtl.multitask import IndependentTasks, PooledTasks
from skmtl.utils._compat import parametrize_with_checks

# sklearn's multilabel check wants ``classes_`` to be one array and
# ``predict_proba`` one (n_samples, n_outputs) array; a multi-task classifier
# has per-task classes, so skmtl follows MultiOutputClassifier's convention
# (a list per task) instead, and that check's contract cannot hold.
_PER_TASK_CLASSES = {
    "check_classifier_multioutput": "per-task classes_ and predict_proba are lists "
    "(MultiOutputClassifier convention), not one multilabel array"
}

ESTIMATORS = [
    IndependentTasks(Ridge()),
    PooledTasks(Ridge()),
    PooledTasks(Ridge(), task_features="onehot"),
    IndependentTasks(LogisticRegression()),
    PooledTasks(LogisticRegression()),
]


def _expected_failures(estimator):
    return _PER_TASK_CLASSES if isinstance(estimator.estimator, LogisticRegression) else {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
