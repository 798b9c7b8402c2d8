"""IndependentTasks and PooledTasks: closed forms, layouts, sklearn tooling."""

import pickle
import tracemalloc

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import Lasso, LogisticRegression, Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl.multitask import IndependentTasks, PooledTasks
from skmtl.utils._compat import get_tags, legacy_tags


def _wide_to_long(X, Y):
    """Every observed (row, task) label as one long-layout row, task id last."""
    rows, tasks = np.nonzero(~np.isnan(Y))
    return np.column_stack([X[rows], tasks]), Y[rows, tasks]


def test_independent_equals_one_fit_per_task(wide_data):
    X, Y = wide_data
    model = IndependentTasks(Ridge(alpha=0.3)).fit(X, Y)
    pred = model.predict(X)
    for t in range(3):
        seen = ~np.isnan(Y[:, t])
        alone = Ridge(alpha=0.3).fit(X[seen], Y[seen, t])
        assert_allclose(model.estimators_[t].coef_, alone.coef_)
        assert_allclose(pred[:, t], alone.predict(X))


def test_independent_long_equals_wide(wide_data):
    X, Y = wide_data
    Xl, yl = _wide_to_long(X, Y)
    wide = IndependentTasks(Ridge(alpha=0.3)).fit(X, Y)
    long = IndependentTasks(Ridge(alpha=0.3), task_column=-1).fit(Xl, yl)
    for a, b in zip(wide.estimators_, long.estimators_):
        assert_allclose(a.coef_, b.coef_)
    rows, tasks = np.nonzero(~np.isnan(Y))
    assert_allclose(long.predict(Xl), wide.predict(X)[rows, tasks])
    assert long.score(Xl, yl) == pytest.approx(
        np.mean([r2_score(yl[Xl[:, -1] == t], long.predict(Xl)[Xl[:, -1] == t]) for t in range(3)])
    )


def test_pooled_equals_one_fit_on_stacked_rows(wide_data):
    X, Y = wide_data
    Xl, yl = _wide_to_long(X, Y)
    model = PooledTasks(Ridge(alpha=0.3)).fit(X, Y)
    stacked = Ridge(alpha=0.3).fit(Xl[:, :-1], yl)
    assert_allclose(model.estimator_.coef_, stacked.coef_)
    pred = model.predict(X)
    assert pred.shape == (40, 3)
    assert_allclose(pred, np.tile(stacked.predict(X)[:, None], 3))
    assert all(est is model.estimator_ for est in model.estimators_)


def test_pooled_onehot_learns_per_task_offsets(long_data):
    X, y = long_data
    model = PooledTasks(Ridge(alpha=1e-8), task_column=-1, task_features="onehot").fit(X, y)
    offsets = model.estimator_.coef_[-3:]
    # Planted intercepts are 0, 2, -1: differences are recovered.
    assert_allclose(offsets - offsets[0], [0.0, 2.0, -1.0], atol=0.1)
    wide_pred = PooledTasks(Ridge(), task_features="onehot").fit(X[:, :-1], np.column_stack([y, y])).predict(X[:, :-1])
    assert wide_pred.shape == (60, 2)


class _RecordingRidge(Ridge):
    """Ridge remembering whether each design it was given was sparse."""

    def fit(self, X, y, sample_weight=None):
        self.sparse_designs_ = [sp.issparse(X)]
        return super().fit(X, y, sample_weight)

    def predict(self, X):
        self.sparse_designs_.append(sp.issparse(X))
        return super().predict(X)


class _DenseOnlyRidge(Ridge):
    """Ridge refusing sparse input: by its tags, and (scikit-learn 1.5, no such tag) in fit."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags

    def fit(self, X, y, sample_weight=None):
        if sp.issparse(X):
            raise TypeError("Sparse data was passed for X, but dense data is required.")
        return super().fit(X, y, sample_weight)


@pytest.mark.parametrize("task_column", [None, -1])
def test_pooled_onehot_sparse_design_equals_dense_fallback(wide_data, task_column):
    # Ridge accepts sparse X, so it gets one CSR design; an estimator
    # refusing sparse input gets the dense one. Both reach one solution.
    X, Y = wide_data
    data = (X, Y) if task_column is None else _wide_to_long(X, Y)
    params = {"alpha": 0.3, "tol": 1e-12}
    sparse = PooledTasks(_RecordingRidge(**params), task_column=task_column, task_features="onehot").fit(*data)
    dense = PooledTasks(_DenseOnlyRidge(**params), task_column=task_column, task_features="onehot").fit(*data)
    assert_allclose(sparse.predict(data[0]), dense.predict(data[0]), rtol=1e-9, atol=1e-9)
    assert sparse.estimator_.sparse_designs_[0]
    assert all(sparse.estimator_.sparse_designs_)
    assert not sp.issparse(dense._with_task_features(X, np.zeros(len(X), int)))


def test_pooled_onehot_many_tasks_never_builds_a_dense_task_block():
    # 2,000 tasks x 20 rows: a dense one-hot block alone is 640 MB.
    n_tasks, n_rows = 2000, 20
    rng = np.random.RandomState(0)
    tasks = np.repeat(np.arange(n_tasks), n_rows)
    X = rng.randn(len(tasks), 5)
    y = X @ rng.randn(5) + rng.randn(n_tasks)[tasks] + 0.1 * rng.randn(len(tasks))
    Xl = np.column_stack([X, tasks])
    tracemalloc.start()
    model = PooledTasks(_RecordingRidge(tol=1e-10), task_column=-1, task_features="onehot").fit(Xl, y)
    pred = model.predict(Xl)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 40e6, f"peak {peak / 1e6:.0f} MB"
    assert model.estimator_.sparse_designs_ == [True, True]
    onehot = sp.csr_matrix((np.ones(len(tasks)), (np.arange(len(tasks)), tasks)))
    reference = Ridge(tol=1e-10).fit(sp.hstack([X, onehot]), y)
    assert_allclose(pred, reference.predict(sp.hstack([X, onehot])), rtol=1e-7, atol=1e-7)


def test_unseen_task(long_data):
    X, y = long_data
    X_new = X[:2].copy()
    X_new[:, -1] = 5
    for model in [IndependentTasks(Ridge(), task_column=-1), PooledTasks(Ridge(), task_column=-1, task_features="onehot")]:
        with pytest.raises(ValueError, match=r"Unknown task label\(s\) 5 not seen during fit"):
            model.fit(X, y).predict(X_new)
    # A pooled model that ignores the task predicts any task.
    pooled = PooledTasks(Ridge(), task_column=-1).fit(X, y)
    assert_allclose(pooled.predict(X_new), pooled.estimator_.predict(X_new[:, :-1]))


def test_sample_weight_is_passed_per_task(long_data):
    X, y = long_data
    weights = np.linspace(0.5, 2.0, len(y))
    model = IndependentTasks(Ridge(), task_column=-1).fit(X, y, sample_weight=weights)
    rows = X[:, -1] == 1
    alone = Ridge().fit(X[rows, :-1], y[rows], sample_weight=weights[rows])
    assert_allclose(model.estimators_[1].coef_, alone.coef_)
    with pytest.raises(ValueError, match="KNeighborsRegressor does not accept sample_weight"):
        IndependentTasks(KNeighborsRegressor(), task_column=-1).fit(X, y, sample_weight=weights)


def test_parallel_fit_is_identical(wide_data):
    X, Y = wide_data
    serial = IndependentTasks(Lasso(alpha=0.01)).fit(X, Y).predict(X)
    parallel = IndependentTasks(Lasso(alpha=0.01), n_jobs=2).fit(X, Y).predict(X)
    assert_array_equal(serial, parallel)


def test_score_is_mean_of_task_r2_skipping_missing(wide_data):
    X, Y = wide_data
    model = IndependentTasks(Ridge()).fit(X, Y)
    pred = model.predict(X)
    expected = np.mean([r2_score(Y[~np.isnan(Y[:, t]), t], pred[~np.isnan(Y[:, t]), t]) for t in range(3)])
    assert model.score(X, Y) == pytest.approx(expected)
    full = np.nan_to_num(Y)
    assert model.score(X, full) == pytest.approx(r2_score(full, pred))


def _binary_tasks():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0.3, X[:, 0] + X[:, 2] > 0]).astype(int)
    return X, Y


def test_classifier_outputs_in_both_layouts():
    X, Y = _binary_tasks()
    labels = np.where(Y[:, 2] == 1, "pos", "neg").astype(object)
    wide = IndependentTasks(LogisticRegression()).fit(X, np.column_stack([Y[:, :2], labels]))
    proba = wide.predict_proba(X)
    assert isinstance(proba, list) and [p.shape for p in proba] == [(60, 2)] * 3
    assert_array_equal(wide.classes_[2], ["neg", "pos"])
    # Long layout: task 0 has classes {0, 1}, task 1 has classes {1, 2}.
    Xl = np.column_stack([np.vstack([X, X]), np.repeat([0, 1], 60)])
    yl = np.concatenate([Y[:, 0], Y[:, 1] + 1])
    long = IndependentTasks(LogisticRegression(), task_column=-1).fit(Xl, yl)
    assert_array_equal(long.classes_, [0, 1, 2])
    proba = long.predict_proba(Xl)
    assert proba.shape == (120, 3)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert np.all(proba[:60, 2] == 0) and np.all(proba[60:, 0] == 0)
    assert long.decision_function(Xl).shape == (120,)
    assert 0.8 < long.score(Xl, yl) <= 1.0
    pooled = PooledTasks(LogisticRegression(), task_column=-1).fit(Xl, yl)
    assert pooled.predict_proba(Xl).shape == (120, 3)
    wide_pooled = PooledTasks(LogisticRegression()).fit(X, Y)
    assert len(wide_pooled.predict_proba(X)) == 3 and len(wide_pooled.decision_function(X)) == 3


@pytest.mark.parametrize("baseline", [IndependentTasks, PooledTasks])
def test_tags_follow_the_wrapped_estimator(baseline):
    assert is_regressor(baseline(Ridge())) and not is_classifier(baseline(Ridge()))
    model = baseline(DummyClassifier())  # scikit-learn tags it poor_score
    assert is_classifier(model)
    if get_tags is not None:
        tags = get_tags(model)
        assert tags.classifier_tags.poor_score and tags.target_tags.multi_output
    else:
        tags = legacy_tags(model)
        assert tags["poor_score"] and tags["multioutput"]


@pytest.mark.parametrize("model", [IndependentTasks(Ridge()), PooledTasks(Ridge(), task_features="onehot")])
def test_pipeline_gridsearch_dataframe_task_column(model, long_data):
    X, y = long_data
    df = pd.DataFrame(X[:, :-1], columns=["a", "b", "c"])
    df["school"] = np.array(["north", "south", "east"])[X[:, -1].astype(int)]
    estimator = clone(model).set_params(task_column="school")
    search = GridSearchCV(estimator, {"estimator__alpha": [0.01, 100.0]}, cv=KFold(3, shuffle=True, random_state=0))
    search.fit(df, y)
    assert search.best_params_ == {"estimator__alpha": 0.01}
    assert_array_equal(search.best_estimator_.tasks_, ["east", "north", "south"])
    assert_array_equal(search.best_estimator_.feature_names_in_, ["a", "b", "c", "school"])
    # Wide layout inside a Pipeline with a scaler.
    Xw, Y = X[:, :-1], np.column_stack([y, 2 * y])
    pipe = make_pipeline(StandardScaler(), clone(model))
    search = GridSearchCV(pipe, {f"{type(model).__name__.lower()}__estimator__alpha": [0.01, 100.0]}, cv=3)
    assert search.fit(Xw, Y).predict(Xw).shape == (60, 2)


@pytest.mark.parametrize("model", [IndependentTasks(Ridge(), task_column=-1), PooledTasks(Ridge(), task_column=-1)])
def test_pickle_and_clone_round_trip(model, long_data):
    X, y = long_data
    fitted = clone(model).fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    assert_array_equal(restored.predict(X), fitted.predict(X))
    assert clone(fitted).get_params()["task_column"] == -1


def test_bad_parameters_are_rejected(wide_data):
    X, Y = wide_data
    with pytest.raises(ValueError, match="task_features"):
        PooledTasks(Ridge(), task_features="binary").fit(X, Y)
    with pytest.raises(ValueError, match="estimator"):
        IndependentTasks("ridge").fit(X, Y)


def test_score_with_mixed_label_types_and_missing_labels():
    X, Y = _binary_tasks()
    mixed = np.empty((60, 2), dtype=object)
    mixed[:, 0] = Y[:, 0]
    mixed[:, 1] = np.where(Y[:, 1] == 1, "yes", "no")
    mixed[0, 0] = None  # a missing integer label
    model = IndependentTasks(LogisticRegression()).fit(X, mixed)
    pred = model.predict(X)
    expected = np.mean([np.mean(pred[1:, 0] == Y[1:, 0]), np.mean(pred[:, 1] == mixed[:, 1])])
    assert model.score(X, mixed) == pytest.approx(expected)


def test_long_predict_on_rows_of_some_tasks_only(long_data):
    X, y = long_data
    model = IndependentTasks(Ridge(), task_column=-1).fit(X, y)
    only_task_2 = X[X[:, -1] == 2]
    assert_allclose(model.predict(only_task_2), model.estimators_[2].predict(only_task_2[:, :-1]))
    Xc = np.column_stack([np.vstack([_binary_tasks()[0]] * 2), np.repeat([0, 1], 60)])
    yc = np.concatenate([_binary_tasks()[1][:, 0], _binary_tasks()[1][:, 1]])
    clf = IndependentTasks(LogisticRegression(), task_column=-1).fit(Xc, yc)
    assert clf.predict_proba(Xc[Xc[:, -1] == 1]).shape == (60, 2)


def test_pooled_onehot_population_gives_unseen_tasks_no_offset(long_data):
    X, y = long_data
    X_new = X[:4].copy()
    X_new[1:3, -1] = [5, 6]
    model = PooledTasks(Ridge(), task_column=-1, task_features="onehot", unseen_task="population").fit(X, y)
    pred = model.predict(X_new)
    # An all-zero indicator row: the shared slope and intercept, no task's offset.
    zero = np.column_stack([X_new[1:3, :-1], np.zeros((2, 3))])
    assert_allclose(pred[1:3], model.estimator_.predict(zero))
    assert_allclose(pred[[0, 3]], model.predict(X[[0, 3]]))
    with pytest.raises(ValueError, match="'unseen_task' parameter of PooledTasks must be a str among"):
        PooledTasks(Ridge(), task_column=-1, unseen_task="mean").fit(X, y)


def test_score_agrees_with_predict_on_unseen_tasks():
    # Issue 16, item 4: predict accepted the held-out tasks, score rejected
    # them, and cross_val_score returned all NaN.
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import cross_val_score

    from skmtl.model_selection import LeaveTasksOut

    rng = np.random.RandomState(3)
    tasks = np.repeat(np.arange(8), 15)
    X = np.column_stack([rng.randn(len(tasks), 2), tasks])
    y = X[:, 0] - X[:, 1] + 0.3 * rng.randn(len(tasks))
    cv = LeaveTasksOut(n_splits=4, task_column=-1)
    for model in (
        PooledTasks(RidgeCV(), task_column=-1),
        PooledTasks(RidgeCV(), task_column=-1, task_features="onehot", unseen_task="population"),
    ):
        scores = cross_val_score(model, X, y, cv=cv, error_score="raise")
        assert np.all(np.isfinite(scores)) and np.all(scores > 0.5)
    # score is the mean over the held-out tasks of their own R^2.
    train, test = next(cv.split(X))
    model = PooledTasks(RidgeCV(), task_column=-1).fit(X[train], y[train])
    pred = model.predict(X[test])
    per_task = [r2_score(y[test][X[test, -1] == t], pred[X[test, -1] == t]) for t in np.unique(X[test, -1])]
    assert model.score(X[test], y[test]) == pytest.approx(np.mean(per_task))
