"""scikit-learn's estimator checks on the kernel ridge estimators (default settings).

To be merged into tests/test_common.py by the lead.
"""

from skmtl.utils._compat import parametrize_with_checks

from skmtl.kernel_ridge import (
    MultiTaskKernelRidge,
    MultiTaskKernelRidgeClassifier,
    MultiTaskKernelRidgeCV,
)

# Same reason as in tests/test_common.py: per-task ``classes_`` is a list
# (MultiOutputClassifier convention), not one multilabel array.
_PER_TASK_CLASSES = {
    "check_classifier_multioutput": "per-task classes_ are a list "
    "(MultiOutputClassifier convention), not one multilabel array"
}


def _expected_failures(estimator):
    return _PER_TASK_CLASSES if isinstance(estimator, MultiTaskKernelRidgeClassifier) else {}


@parametrize_with_checks(
    [MultiTaskKernelRidge(), MultiTaskKernelRidgeCV(), MultiTaskKernelRidgeClassifier()],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
