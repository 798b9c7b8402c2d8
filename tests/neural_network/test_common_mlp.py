"""scikit-learn's estimator checks on the multi-task MLPs (default settings).

Same layout as tests/linear_model/test_common_linear.py: one ``ESTIMATORS``
list, the expected failures with their reasons, one parametrized test.
"""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from skmtl.neural_network import MultiTaskMLPClassifier, MultiTaskMLPRegressor
from skmtl.utils._compat import parametrize_with_checks, sample_weight_equivalence_checks

ESTIMATORS = [
    MultiTaskMLPRegressor(),
    MultiTaskMLPClassifier(),
    MultiTaskMLPRegressor(task_encoding="embedding"),
    MultiTaskMLPClassifier(task_encoding="embedding"),
    MultiTaskMLPRegressor(n_ensembles=2),
    MultiTaskMLPClassifier(n_ensembles=2),
]

# Two defaults make weighted and repeated rows differ. Early stopping holds
# out a random tenth of the rows, and a repeated row can land on both sides
# of that split where a weighted one cannot. And training runs in float32:
# weighted and repeated rows give the same objective and gradients, but
# summed in a different order, so the two fits differ by float32 rounding
# (measured: 4e-7 relative on predict of the regressor, 7e-5 on
# predict_proba of the classifier after 200 Adam steps), while the check
# compares at rtol=1e-7. Without early stopping and in float64 the same
# checks pass: test_sample_weight_equivalence_float64 below runs them, with
# one batch per epoch (the default batch_size makes at least 10 batches, and
# weighted and repeated rows are batched differently).
_FLOAT32_ROUNDING = {
    name: "early stopping's validation split and float32 training: weighted vs repeated rows differ; "
    "passes without early stopping in float64 (test_sample_weight_equivalence_float64)"
    for name in (
        "check_sample_weight_equivalence_on_dense_data",
        "check_sample_weight_equivalence_on_sparse_data",
        "check_sample_weights_invariance",  # the same check's name on scikit-learn 1.5
    )
}


def _expected_failures(estimator):
    return _FLOAT32_ROUNDING


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: f"{type(e).__name__}-{e.task_encoding}-{e.n_ensembles}")
@pytest.mark.parametrize(
    "check", [check for _, check in sample_weight_equivalence_checks()],
    ids=[name for name, _ in sample_weight_equivalence_checks()],
)
def test_sample_weight_equivalence_float64(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(
            type(estimator).__name__,
            clone(estimator).set_params(dtype=np.float64, early_stopping=False, batch_size=10**6),
        )
