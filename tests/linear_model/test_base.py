"""The shared fit/predict flow of the linear multi-task estimators.

Layouts, missing labels, sample and task weights, bad input, awkward
designs, classifiers' label encoding, and the MALSAR references at
estimator level.
"""

import os
import csv
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning

from skmtl.linear_model import (
    GroupLassoClassifier,
    GroupLassoRegressor,
    MultiTaskLassoClassifier,
    MultiTaskLassoRegressor,
    TraceNormClassifier,
    TraceNormRegressor,
)
from skmtl.utils import stack_tasks

# The MALSAR references sit next to the data home (../shared/{data,reference}).
REFERENCE = Path(os.environ["SKMTL_DATA"]).resolve().parent / "reference"
REGRESSORS = [GroupLassoRegressor, TraceNormRegressor, MultiTaskLassoRegressor]
CLASSIFIERS = [GroupLassoClassifier, TraceNormClassifier, MultiTaskLassoClassifier]


def _regression(n=50, d=8, T=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    W = rng.randn(d, T) * (rng.rand(d, 1) < 0.6)
    return X, X @ W + 0.2 * rng.randn(n, T) + 1.0


def _to_long(X, Y):
    """Stack a wide problem into the long layout (task id in the last column)."""
    rows = [np.flatnonzero(~np.isnan(Y[:, t])) for t in range(Y.shape[1])]
    X_long = np.vstack([np.column_stack([X[r], np.full(len(r), t)]) for t, r in enumerate(rows)])
    return X_long, np.concatenate([Y[r, t] for t, r in enumerate(rows)])


# ---------------------------------------------------------------- layouts
@pytest.mark.parametrize("Estimator", REGRESSORS)
def test_long_and_wide_layouts_give_the_same_model(Estimator):
    X, Y = _regression()
    Y[[2, 5, 9], [0, 1, 2]] = np.nan
    wide = Estimator(0.05, tol=1e-10, max_iter=20000).fit(X, Y)
    X_long, y_long = _to_long(X, Y)
    perm = np.random.RandomState(0).permutation(len(y_long))
    long = Estimator(0.05, task_column=-1, tol=1e-10, max_iter=20000).fit(X_long[perm], y_long[perm])
    assert_allclose(long.coef_, wide.coef_, rtol=1e-6, atol=1e-8)
    assert_allclose(long.intercept_, wide.intercept_, rtol=1e-6)
    assert_array_equal(long.tasks_, [0, 1, 2])
    # Each long row is predicted by its own task, as the wide column.
    pred_long = long.predict(X_long[perm])
    codes = X_long[perm, -1].astype(int)
    assert_allclose(pred_long, wide.predict(X_long[perm, :-1])[np.arange(len(codes)), codes], rtol=1e-6)
    # Sparse long X: the sparse-safe per-row product.
    assert_allclose(long.predict(sp.csr_matrix(X_long[perm])), pred_long, rtol=1e-10)


def test_long_layout_with_string_tasks_and_unknown_task():
    X, Y = _regression(seed=1)
    Xs = [X[:20], X[20:35], X[35:]]
    ys = [Y[:20, 0], Y[20:35, 1], Y[35:, 2]]
    X_long, y_long = stack_tasks(Xs, ys, tasks=["a", "b", "c"])
    model = GroupLassoRegressor(0.05, task_column=-1).fit(X_long, y_long)
    assert list(model.tasks_) == ["a", "b", "c"]
    assert model.predict(X_long).shape == (len(y_long),)
    unknown = X_long[:2].copy()
    unknown[:, -1] = "z"
    with pytest.raises(ValueError, match=r"Unknown task label\(s\) 'z' not seen during fit"):
        model.predict(unknown)


def test_nan_label_leaves_other_tasks_unchanged_with_a_separable_penalty():
    X, Y = _regression(seed=2)
    full = MultiTaskLassoRegressor(0.05, tol=1e-10, max_iter=20000).fit(X, Y)
    Y_missing = Y.copy()
    Y_missing[:7, 1] = np.nan
    missing = MultiTaskLassoRegressor(0.05, tol=1e-10, max_iter=20000).fit(X, Y_missing)
    assert_allclose(missing.coef_[[0, 2]], full.coef_[[0, 2]], rtol=1e-7, atol=1e-10)
    assert_allclose(missing.intercept_[[0, 2]], full.intercept_[[0, 2]], rtol=1e-7)
    # The masked rows still count for task 1 as if they were absent.
    alone = MultiTaskLassoRegressor(0.05, tol=1e-10, max_iter=20000).fit(X[7:], Y[7:, 1])
    assert_allclose(missing.coef_[1], alone.coef_[0], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("Estimator", REGRESSORS + CLASSIFIERS)
def test_sample_weight_equals_repeated_rows(Estimator):
    X, Y = _regression(n=30, seed=3)
    if Estimator in CLASSIFIERS:
        Y = (Y > np.median(Y, axis=0)).astype(int)
    weights = np.random.RandomState(0).randint(0, 3, len(X))
    weights[:3] = 1
    alpha = 0.05 if Estimator in REGRESSORS else 0.005
    weighted = Estimator(alpha, tol=1e-10, max_iter=50000).fit(X, Y, sample_weight=weights)
    repeated = Estimator(alpha, tol=1e-10, max_iter=50000).fit(np.repeat(X, weights, axis=0), np.repeat(Y, weights, axis=0))
    assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-5, atol=1e-7)


def test_task_weights():
    X, Y = _regression(seed=4)
    Y[:10, 0] = np.nan
    base = GroupLassoRegressor(0.05, tol=1e-10, max_iter=20000)
    # "n_samples" with no missing label is the default; with missing labels
    # it is the array proportional to the label counts (mean 1).
    counts = np.array([40, 50, 50])
    by_string = base.set_params(task_weights="n_samples").fit(X, Y).coef_
    by_array = base.set_params(task_weights=3 * counts / counts.sum()).fit(X, Y).coef_
    assert_allclose(by_string, by_array, rtol=1e-8)
    assert not np.allclose(by_string, base.set_params(task_weights=None).fit(X, Y).coef_)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("Estimator", REGRESSORS + CLASSIFIERS)
def test_parameter_errors(Estimator):
    X, Y = _regression(seed=5)
    if Estimator in CLASSIFIERS:
        Y = (Y > 0).astype(int)
    name = Estimator.__name__
    with pytest.raises(ValueError, match=rf"The 'alpha' parameter of {name} must be .*Got -1"):
        Estimator(alpha=-1).fit(X, Y)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=rf"The 'l1_ratio' parameter of {name} must be a float in the range \[0.0, 1.0\]"):
            Estimator(l1_ratio=bad).fit(X, Y)
    with pytest.raises(ValueError, match=rf"The 'task_weights' parameter of {name} must be .*'n_samples'"):
        Estimator(task_weights="equal").fit(X, Y)
    with pytest.raises(ValueError, match=r"task_weights must have shape \(n_tasks,\) = \(3,\); got shape \(2,\)"):
        Estimator(task_weights=[1.0, 2.0]).fit(X, Y)
    with pytest.raises(ValueError, match=r"task_weights must be finite and nonnegative"):
        Estimator(task_weights=[1.0, -2.0, 1.0]).fit(X, Y)
    with pytest.raises(ValueError, match=rf"The 'solver' parameter of {name} must be"):
        Estimator(solver="cd").fit(X, Y)
    with pytest.raises(ValueError, match=rf"The 'max_iter' parameter of {name} must be"):
        Estimator(max_iter=0).fit(X, Y)


@pytest.mark.parametrize("Estimator", CLASSIFIERS)
def test_classification_task_with_one_class(Estimator):
    X, _ = _regression(seed=6)
    Y = np.column_stack([X[:, 0] > 0, np.ones(len(X))]).astype(int)
    with pytest.raises(ValueError, match=r"task 1 \(column 1 of y\) has only one class \(1\)"):
        Estimator().fit(X, Y)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("Estimator", REGRESSORS + CLASSIFIERS)
def test_all_zero_X_gives_the_constant_model(Estimator, fit_intercept):
    # Decision: no error. alpha_max is 0, so every alpha gives coef_ = 0
    # (as scikit-learn's Lasso), and the intercepts are those of the
    # constant model.
    X, Y = _regression(seed=7)
    if Estimator in CLASSIFIERS:
        Y = (Y > 1).astype(int)
    model = Estimator(fit_intercept=fit_intercept).fit(np.zeros_like(X), Y)
    assert_array_equal(model.coef_, 0)
    assert model.n_iter_ == 0
    if Estimator in REGRESSORS:
        expected = Y.mean(axis=0) if fit_intercept else np.zeros(3)
        assert_allclose(model.intercept_, expected)


@pytest.mark.parametrize("Estimator", REGRESSORS)
def test_awkward_designs_do_not_crash(Estimator):
    rng = np.random.RandomState(8)
    X, Y = _regression(n=12, d=5, seed=8)
    # Constant and duplicated features.
    X_awkward = np.column_stack([X, np.ones(12), X[:, 0], X[:, 0]])
    model = Estimator(0.01).fit(X_awkward, Y)
    assert np.all(np.isfinite(model.coef_))
    if Estimator is not TraceNormRegressor:  # separable: exact zeros from the prox
        assert_array_equal(model.coef_[:, 5], 0)  # a constant column is absorbed by the intercept
    # n_features >> n_samples (and working sets when the penalty is row-separable).
    wide = rng.randn(12, 300)
    assert Estimator(0.05).fit(wide, Y).coef_.shape == (3, 300)
    # One task, and a task with a single labeled row.
    assert Estimator(0.01).fit(X, Y[:, 0]).predict(X).shape == (12,)
    Y_single = Y.copy()
    Y_single[1:, 2] = np.nan
    model = Estimator(0.01).fit(X, Y_single)
    assert_allclose(model.intercept_[2], Y[0, 2])  # W = 0 for that task would fit exactly
    assert np.all(np.isfinite(model.predict(X)))


def test_single_task_has_1d_predictions_and_2d_coef():
    X, Y = _regression(seed=9)
    model = GroupLassoRegressor(0.01).fit(X, Y[:, 0])
    assert model.coef_.shape == (1, X.shape[1])
    assert model.predict(X).shape == (len(X),)


def test_inputs_are_not_modified():
    X, Y = _regression(seed=10)
    Y[0, 0] = np.nan
    X0, Y0 = X.copy(), Y.copy()
    GroupLassoRegressor(0.01).fit(X, Y, sample_weight=np.ones(len(X)))
    GroupLassoClassifier().fit(X, np.where(np.isnan(Y), np.nan, Y > 1))
    assert_array_equal(X, X0)
    assert_array_equal(Y, Y0)


# ---------------------------------------------------------------- classifiers
def _mixed_classification(n=150, seed=0):
    """A 3-class task and a binary task, both linearly separable in X[:, :2]."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 4)
    angle = np.arctan2(X[:, 1], X[:, 0])
    multiclass = np.array(["a", "b", "c"])[np.digitize(angle, [-np.pi / 3, np.pi / 3])]
    binary = np.where(X[:, 0] + X[:, 1] > 0, 10, 20)
    return X, multiclass, binary


@pytest.mark.parametrize("Estimator", CLASSIFIERS)
def test_multiclass_and_binary_tasks_in_one_wide_model(Estimator):
    X, multiclass, binary = _mixed_classification()
    Y = np.empty((len(X), 2), dtype=object)
    Y[:, 0], Y[:, 1] = multiclass, binary
    Y[[0, 3], 1] = None  # missing labels in the binary task
    model = Estimator(1e-3, max_iter=5000).fit(X, Y)
    assert [list(c) for c in model.classes_] == [["a", "b", "c"], [10, 20]]
    assert_array_equal(model.coef_indptr_, [0, 3, 4])
    assert model.coef_.shape == (4, 4)
    proba = model.predict_proba(X)
    assert [p.shape for p in proba] == [(150, 3), (150, 2)]
    for p in proba:
        assert_allclose(p.sum(axis=1), 1.0)
    pred = model.predict(X)
    assert pred.shape == (150, 2)
    assert np.mean(pred[:, 0] == multiclass) > 0.9
    assert np.mean(pred[:, 1].astype(int) == binary) > 0.95
    scores = model.decision_function(X)
    assert scores[0].shape == (150, 3) and scores[1].shape == (150,)
    assert_array_equal(pred[:, 0], model.classes_[0][np.argmax(scores[0], axis=1)])


def test_classifier_long_layout_matches_wide():
    X, multiclass, binary = _mixed_classification(seed=1)
    Y = np.column_stack([np.searchsorted(["a", "b", "c"], multiclass), binary])
    wide = GroupLassoClassifier(1e-3, tol=1e-9, max_iter=50000).fit(X, Y)
    X_long = np.vstack([np.column_stack([X, np.zeros(len(X))]), np.column_stack([X, np.ones(len(X))])])
    y_long = np.concatenate([Y[:, 0], Y[:, 1]])
    long = GroupLassoClassifier(1e-3, task_column=-1, tol=1e-9, max_iter=50000).fit(X_long, y_long)
    assert_allclose(long.coef_, wide.coef_, rtol=1e-5, atol=1e-6)
    assert_array_equal(long.classes_, [0, 1, 2, 10, 20])
    proba = long.predict_proba(X_long)
    assert proba.shape == (300, 5)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(proba[:150, 3:], 0)  # task 0 has no class 10 / 20
    assert_allclose(proba[:150, :3], wide.predict_proba(X)[0], rtol=1e-5, atol=1e-7)
    assert_array_equal(long.predict(X_long), np.concatenate([wide.predict(X)[:, 0], wide.predict(X)[:, 1]]))
    scores = long.decision_function(X_long)
    assert scores.shape == (300, 5) and np.all(np.isneginf(scores[:150, 3:]))


def test_binary_classifier_on_separable_data():
    rng = np.random.RandomState(2)
    X = rng.randn(100, 3)
    y = np.where(X @ [1.0, -2.0, 0.5] > 0, "pos", "neg")
    model = TraceNormClassifier(1e-3).fit(X, y)
    assert_array_equal(model.classes_, ["neg", "pos"])
    assert model.coef_.shape == (1, 3)
    assert np.mean(model.predict(X) == y) >= 0.97
    assert model.decision_function(X).shape == (100,)
    proba = model.predict_proba(X)
    assert_allclose(proba[:, 1], 1 / (1 + np.exp(-model.decision_function(X))))


def test_per_task_alpha_for_a_classifier_is_shared_by_its_columns():
    X, multiclass, binary = _mixed_classification(seed=3)
    Y = np.column_stack([np.searchsorted(["a", "b", "c"], multiclass), binary])
    model = MultiTaskLassoClassifier(alpha=[1e-3, 10.0]).fit(X, Y)
    assert np.any(model.coef_[:3] != 0)
    assert_array_equal(model.coef_[3], 0)  # alpha above the binary task's alpha_max
    with pytest.raises(ValueError, match=r"alpha has 3 values but there are 2 tasks"):
        MultiTaskLassoClassifier(alpha=[1e-3, 1e-3, 1e-3]).fit(X, Y)


def test_classifier_convergence_warning():
    X, multiclass, _ = _mixed_classification(seed=4)
    with pytest.warns(ConvergenceWarning, match="GroupLassoClassifier did not converge"):
        GroupLassoClassifier(max_iter=1).fit(X, multiclass)


# ---------------------------------------------------------------- MALSAR
def _malsar_objectives():
    with open(REFERENCE / "malsar_school.csv") as f:
        return {row["case"]: float(row["malsar_objective"]) for row in csv.DictReader(f)}


def _load_tasks(name):
    mat = scipy.io.loadmat(REFERENCE / name, mat_dtype=True)
    Xs = [np.asarray(x, dtype=np.float64) for x in mat["X"].ravel()]
    ys = [np.asarray(y, dtype=np.float64).ravel() for y in mat["Y"].ravel()]
    X_long = np.vstack([np.column_stack([x, np.full(len(x), t)]) for t, x in enumerate(Xs)])
    return Xs, ys, X_long, np.concatenate(ys)


_OMEGA = {
    "L21": lambda W: np.linalg.norm(W, axis=1).sum(),
    "Trace": lambda W: np.linalg.svd(W, compute_uv=False).sum(),
    "Lasso": lambda W: np.abs(W).sum(),
}
_ESTIMATOR = {
    ("Least", "L21"): GroupLassoRegressor,
    ("Least", "Trace"): TraceNormRegressor,
    ("Least", "Lasso"): MultiTaskLassoRegressor,
    ("Logistic", "L21"): GroupLassoClassifier,
    ("Logistic", "Trace"): TraceNormClassifier,
}
MALSAR_CASES = [
    ("Least_L21", "school_prepared.mat", "Least", "L21", 1000.0, 0.0),
    ("Least_L21_rhoL2", "school_prepared.mat", "Least", "L21", 1000.0, 100.0),
    ("Least_Trace", "school_prepared.mat", "Least", "Trace", 1000.0, 0.0),
    ("Least_Lasso", "school_prepared.mat", "Least", "Lasso", 100.0, 0.0),
    ("Least_Lasso_rhoL2", "school_prepared.mat", "Least", "Lasso", 100.0, 100.0),
    ("Logistic_L21", "synth_binary.mat", "Logistic", "L21", 0.1, 0.0),
    ("Logistic_L21_rhoL2", "synth_binary.mat", "Logistic", "L21", 0.1, 0.01),
    ("Logistic_Trace", "synth_binary.mat", "Logistic", "Trace", 0.3, 0.0),
]


@pytest.mark.skipif(not (REFERENCE / "malsar_school.csv").exists(), reason="MALSAR reference files not available")
@pytest.mark.parametrize("case, filename, loss, penalty, rho1, rho_l2", MALSAR_CASES, ids=[c[0] for c in MALSAR_CASES])
def test_estimator_objective_at_most_malsar(case, filename, loss, penalty, rho1, rho_l2):
    Xs, ys, X_long, y_long = _load_tasks(filename)
    # MALSAR's rho1 * Omega + rho_L2 ||W||_F^2 is alpha (l1_ratio Omega +
    # (1 - l1_ratio)/2 ||W||_F^2) with these:
    alpha = rho1 + 2 * rho_l2
    params = {"alpha": alpha, "l1_ratio": rho1 / alpha, "task_column": -1}
    if loss == "Least":
        # task_weights = n_t: MALSAR's 0.5 * sum of squares; its bias is the
        # last (penalized) column of ones.
        params.update(task_weights=np.array([len(y) for y in ys], dtype=float), fit_intercept=False)
    model = _ESTIMATOR[loss, penalty](**params).fit(X_long, y_long)
    W, b = model.coef_.T, model.intercept_
    if loss == "Least":
        data_term = 0.5 * sum(np.sum((x @ W[:, t] - y) ** 2) for t, (x, y) in enumerate(zip(Xs, ys)))
    else:
        # Classes (-1, +1) are encoded as -1/+1: coef_ scores +1.
        assert all(list(c) == [-1, 1] for c in [model.classes_])
        data_term = sum(np.mean(np.logaddexp(0, -y * (x @ W[:, t] + b[t]))) for t, (x, y) in enumerate(zip(Xs, ys)))
    ours = data_term + rho1 * _OMEGA[penalty](W) + rho_l2 * np.sum(W**2)
    assert ours <= _malsar_objectives()[case]


# ---------------------------------------------------------------- centered features
def _all_linear_estimators():
    from skmtl.linear_model import (
        ClusteredClassifier,
        ClusteredRegressor,
        DirtyClassifier,
        DirtyRegressor,
        GraphRegularizedRegressor,
        GroupLassoRegressorCV,
        MeanRegularizedClassifier,
        MeanRegularizedRegressor,
        SparseLowRankRegressor,
        TaskRelationRegressor,
    )

    return [
        GroupLassoRegressor(alpha=0.05),
        GroupLassoClassifier(alpha=0.01),
        TraceNormRegressor(alpha=0.05),
        MultiTaskLassoRegressor(alpha=0.05),
        MeanRegularizedRegressor(alpha=0.5),
        MeanRegularizedClassifier(alpha=0.5),
        GraphRegularizedRegressor(alpha=0.5),
        TaskRelationRegressor(alpha=0.5),
        ClusteredRegressor(n_clusters=2, random_state=0),
        ClusteredClassifier(n_clusters=2, random_state=0),
        DirtyRegressor(),
        DirtyClassifier(),
        SparseLowRankRegressor(),
        GroupLassoRegressorCV(n_alphas=5, cv=3),
    ]


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("estimator", _all_linear_estimators(), ids=lambda e: type(e).__name__)
def test_shifted_features_give_the_same_model(estimator, sparse):
    # The intercepts are not penalized: on X + o the model is the same, with
    # intercepts b - o' coef. The solvers see centered features (sparse X:
    # inside the products), so the shift must not slow them either.
    X, Y = _regression(n=60, d=8, T=3, seed=4)
    if is_classifier(estimator):
        Y = np.where(Y > np.median(Y, axis=0), 1, 0)
    offset = 20.0 + 10.0 * np.random.RandomState(0).rand(X.shape[1])
    as_input = sp.csr_matrix if sparse else np.asarray
    params = {k: v for k, v in (("tol", 1e-10), ("max_iter", 100_000)) if k in estimator.get_params()}
    plain = clone(estimator).set_params(**params).fit(as_input(X), Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        shifted = clone(estimator).set_params(**params).fit(as_input(X + offset), Y)
    assert_allclose(shifted.coef_, plain.coef_, rtol=1e-5, atol=1e-7)
    assert_allclose(shifted.intercept_, plain.intercept_ - plain.coef_ @ offset, rtol=1e-6, atol=1e-6)
    if hasattr(plain, "n_iter_") and np.ndim(plain.n_iter_) == 0:
        assert shifted.n_iter_ <= 2 * plain.n_iter_ + 10


def test_warm_start_on_shifted_features_starts_at_the_solution():
    X, Y = _regression(n=60, d=8, T=3, seed=4)
    X = X + 50.0
    est = GroupLassoRegressor(alpha=0.05, tol=1e-8, warm_start=True).fit(X, Y)
    coef, intercept = est.coef_.copy(), est.intercept_.copy()
    est.fit(X, Y)
    assert est.n_iter_ <= 2
    assert_allclose(est.coef_, coef, rtol=1e-6, atol=1e-10)
    assert_allclose(est.intercept_, intercept, rtol=1e-6)
