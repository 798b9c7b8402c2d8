"""scikit-learn's estimator checks on every linear multi-task estimator (default settings)."""

from sklearn.base import is_classifier

from skmtl.linear_model import (
    ClusteredClassifier,
    GraphRegularizedClassifier,
    GraphRegularizedRegressor,
    GroupLassoClassifier,
    GroupLassoRegressor,
    HierarchicalClassifier,
    HierarchicalRegressor,
    MultiTaskLassoClassifier,
    MeanRegularizedClassifier,
    MeanRegularizedRegressor,
    MultiTaskLassoRegressor,
    SparseGroupLassoClassifier,
    SparseGroupLassoRegressor,
    TaskRelationClassifier,
    TaskRelationRegressor,
    TraceNormClassifier,
    TraceNormRegressor,
)

from skmtl.linear_model import (
    GroupLassoClassifierCV,
    GroupLassoRegressorCV,
    SparseGroupLassoClassifierCV,
    SparseGroupLassoRegressorCV,
    TraceNormRegressorCV,
)
from skmtl.utils._compat import parametrize_with_checks

# As in tests/test_common.py: a multi-task classifier has per-task classes,
# so it follows MultiOutputClassifier's convention (lists per task), and
# sklearn's multilabel check (one multilabel array) cannot hold.
_PER_TASK_CLASSES = {
    "check_classifier_multioutput": "per-task classes_ and predict_proba are lists "
    "(MultiOutputClassifier convention), not one multilabel array"
}

ESTIMATORS = [
    GroupLassoRegressor(),
    GroupLassoClassifier(),
    TraceNormRegressor(),
    TraceNormClassifier(),
    MultiTaskLassoRegressor(),
    MultiTaskLassoClassifier(),
    SparseGroupLassoRegressor(),
    SparseGroupLassoClassifier(),
    MeanRegularizedRegressor(),
    MeanRegularizedClassifier(),
    GraphRegularizedRegressor(),
    GraphRegularizedClassifier(),
    # One cluster: the checks' single-task data admit no more (n_clusters <= n_tasks).
    ClusteredClassifier(n_clusters=1),
    TaskRelationRegressor(),
    TaskRelationClassifier(),
    # A short grid keeps the checks' hundreds of fits quick; the defaults
    # (100 alphas, 5 folds) run the same code.
    GroupLassoRegressorCV(n_alphas=4, cv=3),
    GroupLassoClassifierCV(n_alphas=4, cv=3),
    TraceNormRegressorCV(n_alphas=4, cv=3),
    SparseGroupLassoRegressorCV(n_alphas=4, cv=3),
    SparseGroupLassoClassifierCV(n_alphas=4, cv=3),
    # l1_ratio searched over a list (one path per value in each fold).
    SparseGroupLassoRegressorCV(l1_ratio=[0.2, 0.8], n_alphas=3, cv=3),
    HierarchicalRegressor(),
    HierarchicalClassifier(),
]

# The logistic problems are solved to the default tol=1e-4 (relative
# gradient mapping), which moves predict_proba by ~1e-3; sklearn compares
# at rtol=1e-7. The equivalence itself is tested at a tight tol in
# test_base.py::test_sample_weight_equals_repeated_rows.
_SOLVER_ACCURACY = {
    name: "solved to tol=1e-4, compared at rtol=1e-7; equivalence tested at tight tol"
    for name in (
        "check_sample_weight_equivalence_on_dense_data",
        "check_sample_weight_equivalence_on_sparse_data",
        "check_sample_weights_invariance",  # the same check's name on scikit-learn 1.5
    )
}


# A quadratic penalty never zeroes coef_, so these regressors meet the same
# tolerance issue (GroupLassoRegressor passes only because alpha=1 gives 0).
_NONZERO_REGRESSORS = (MeanRegularizedRegressor, GraphRegularizedRegressor, TaskRelationRegressor)


# As for scikit-learn's own LassoCV and friends: weighting a row by 2 and
# repeating it give different folds, hence possibly a different alpha_.
_CV_FOLDS = {
    name: "the CV folds of repeated rows differ from those of weighted rows, so alpha_ may differ"
    for name in _SOLVER_ACCURACY
}
_CV_ESTIMATORS = (
    GroupLassoRegressorCV,
    GroupLassoClassifierCV,
    TraceNormRegressorCV,
    SparseGroupLassoRegressorCV,
    SparseGroupLassoClassifierCV,
)


def _expected_failures(estimator):
    if is_classifier(estimator):
        return {**_PER_TASK_CLASSES, **_SOLVER_ACCURACY}
    if isinstance(estimator, _CV_ESTIMATORS):
        return dict(_CV_FOLDS)
    return dict(_SOLVER_ACCURACY) if isinstance(estimator, _NONZERO_REGRESSORS) else {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
