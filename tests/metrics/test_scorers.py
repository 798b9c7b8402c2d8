"""Multi-task scorers inside GridSearchCV / cross_val_score, in both layouts."""

import pickle

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.metrics import fbeta_score, mean_absolute_error, r2_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.metaestimators import available_if

from skmtl.base import MultiTaskMixin
from skmtl.metrics import (
    averaged_auc,
    averaged_auc_scorer,
    explained_variance_scorer,
    get_task_scorer,
    get_task_scorer_names,
    make_task_scorer,
    mean_task_rmse,
    multitask_explained_variance,
    neg_normalized_mse_scorer,
    neg_task_mse_scorer,
    neg_task_rmse_scorer,
    normalized_mse,
    per_task_score,
    task_accuracy_scorer,
    task_r2_scorer,
)
from skmtl.model_selection import TaskStratifiedKFold


class TaskMeanRegressor(MultiTaskMixin, RegressorMixin, BaseEstimator):
    """Predicts ``(1 - shrinkage) * task mean + shrinkage * overall mean``."""

    def __init__(self, shrinkage=0.0, task_column=None):
        self.shrinkage = shrinkage
        self.task_column = task_column

    def fit(self, X, y):
        data = self._validate_fit(X, y)
        _, codes, targets = data.to_long()
        self.task_means_ = np.bincount(codes, targets) / data.n_samples_per_task
        self.overall_mean_ = targets.mean()
        return self

    def predict(self, X):
        features, codes = self._validate_predict(X)
        means = (1 - self.shrinkage) * self.task_means_ + self.shrinkage * self.overall_mean_
        return self._format_output(np.tile(means, (features.shape[0], 1)), codes)


class FirstFeatureClassifier(MultiTaskMixin, ClassifierMixin, BaseEstimator):
    """Binary 0/1 tasks scored by ``sign * X[:, 0]``, the same rule for every task."""

    def __init__(self, sign=1.0, task_column=None):
        self.sign = sign
        self.task_column = task_column

    def fit(self, X, y):
        self._validate_fit(X, y)
        self.classes_ = np.array([0, 1])
        return self

    def _scores(self, X):
        features, codes = self._validate_predict(X)
        per_task = np.tile(self.sign * np.asarray(features)[:, :1], (1, self.n_tasks_))
        return self._format_output(per_task, codes)

    def decision_function(self, X):
        return self._scores(X)

    def predict(self, X):
        return (self._scores(X) > 0).astype(int)

    def predict_proba(self, X):
        positive = 1 / (1 + np.exp(-self._scores(X)))
        if self.task_column is None and positive.ndim == 2:  # MultiOutputClassifier style
            return [np.column_stack([1 - p, p]) for p in positive.T]
        return np.column_stack([1 - positive, positive])


class ProbaOnlyClassifier(FirstFeatureClassifier):
    """Exposes predict_proba but no decision_function."""

    decision_function = available_if(lambda self: False)(FirstFeatureClassifier.decision_function)


@pytest.fixture
def regression_layouts():
    """The same 3-task regression data as wide (NaN), long numpy and DataFrame."""
    rng = np.random.RandomState(0)
    X = rng.randn(60, 2)
    Y = np.array([0.0, 3.0, -2.0]) + 0.2 * X[:, :1] + rng.randn(60, 3)
    Y[rng.rand(60, 3) < 0.15] = np.nan
    rows, tasks = np.nonzero(~np.isnan(Y))
    X_long = np.column_stack([X[rows], tasks])
    y_long = Y[rows, tasks]
    frame = pd.DataFrame(X[rows], columns=["f0", "f1"])
    frame.insert(1, "school", np.array(["s0", "s1", "s2"])[tasks])
    return X, Y, X_long, y_long, frame


@pytest.fixture
def classification_layouts():
    rng = np.random.RandomState(1)
    X = rng.randn(80, 2)
    Y = (X[:, :1] + rng.randn(80, 3) > 0).astype(float)
    Y[rng.rand(80, 3) < 0.1] = np.nan
    rows, tasks = np.nonzero(~np.isnan(Y))
    return X, Y, np.column_stack([X[rows], tasks]), Y[rows, tasks].astype(int)


# --- scorers equal the metrics ----------------------------------------------------------

SCORERS_AND_METRICS = [
    (task_r2_scorer, lambda y, p, t: per_task_score(y, p, t).mean),
    (neg_task_mse_scorer, lambda y, p, t: -per_task_score(y, p, t, metric="mse").mean),
    (neg_task_rmse_scorer, lambda y, p, t: -mean_task_rmse(y, p, t)),
    (explained_variance_scorer, lambda y, p, t: multitask_explained_variance(y, p, t)),
    (neg_normalized_mse_scorer, lambda y, p, t: -normalized_mse(y, p, t, average="aggregate")),
]


@pytest.mark.parametrize("scorer, metric", SCORERS_AND_METRICS)
def test_scorer_equals_metric_in_every_layout(regression_layouts, scorer, metric):
    X, Y, X_long, y_long, frame = regression_layouts
    wide = TaskMeanRegressor(shrinkage=0.3).fit(X, Y)
    expected = metric(Y, wide.predict(X), None)
    assert scorer(wide, X, Y) == pytest.approx(expected)
    long = TaskMeanRegressor(shrinkage=0.3, task_column=-1).fit(X_long, y_long)
    assert scorer(long, X_long, y_long) == pytest.approx(metric(y_long, long.predict(X_long), X_long[:, -1]))
    # long == wide on the same labeled entries, whatever the task column holds
    assert scorer(long, X_long, y_long) == pytest.approx(expected)
    named = TaskMeanRegressor(shrinkage=0.3, task_column="school").fit(frame, y_long)
    assert scorer(named, frame, y_long) == pytest.approx(expected)


def test_scorer_signs_and_sample_weight(regression_layouts):
    X, Y, *_ = regression_layouts
    model = TaskMeanRegressor().fit(X, Y)
    w = np.random.RandomState(2).uniform(0.5, 2, size=len(X))
    assert neg_task_mse_scorer(model, X, Y, sample_weight=w) == pytest.approx(
        -per_task_score(Y, model.predict(X), metric="mse", sample_weight=w).mean
    )
    assert neg_normalized_mse_scorer(model, X, Y) < 0 < explained_variance_scorer(model, X, Y)


def test_greater_is_better_is_inferred_from_names(regression_layouts):
    X, Y, *_ = regression_layouts
    model = TaskMeanRegressor().fit(X, Y)
    P = model.predict(X)
    for name in ["mse", "rmse", "mae", "nmse"]:
        assert make_task_scorer(name)(model, X, Y) == pytest.approx(-per_task_score(Y, P, metric=name).mean)
    assert make_task_scorer("mse", greater_is_better=True)(model, X, Y) > 0
    assert make_task_scorer("r2")(model, X, Y) == pytest.approx(per_task_score(Y, P).mean)
    assert make_task_scorer(mean_absolute_error)(model, X, Y) > 0  # callables: True


def test_per_task_averages(regression_layouts):
    X, Y, *_ = regression_layouts
    P = TaskMeanRegressor(shrinkage=0.5).fit(X, Y).predict(X)
    model = TaskMeanRegressor(shrinkage=0.5).fit(X, Y)
    table = per_task_score(Y, P)
    weighted = make_task_scorer("r2", average="weighted")
    assert weighted(model, X, Y) == pytest.approx(table.weighted_mean)
    seen = ~np.isnan(Y)
    pooled = make_task_scorer("r2", average="pooled")
    assert pooled(model, X, Y) == pytest.approx(r2_score(Y[seen], P[seen]))
    assert pooled(model, X, Y) == pytest.approx(multitask_explained_variance(Y, P))
    pooled_mae = make_task_scorer(mean_absolute_error, greater_is_better=False, average="pooled")
    assert pooled_mae(model, X, Y) == pytest.approx(-mean_absolute_error(Y[seen], P[seen]))


def test_callable_metrics_and_kwargs(regression_layouts, classification_layouts):
    X, Y, X_long, y_long, _ = regression_layouts
    model = TaskMeanRegressor(task_column=-1).fit(X_long, y_long)
    mae = make_task_scorer(mean_absolute_error, greater_is_better=False)
    assert mae(model, X_long, y_long) == pytest.approx(
        -per_task_score(y_long, model.predict(X_long), X_long[:, -1], metric="mae").mean
    )
    seen = {}

    def task_aware(y_true, y_pred, tasks=None, sample_weight=None, offset=0.0):
        seen["tasks"] = tasks
        return float(np.mean(y_pred)) + offset

    scorer = make_task_scorer(task_aware, offset=1.0)
    assert scorer(model, X_long, y_long) == pytest.approx(model.predict(X_long).mean() + 1)
    assert_allclose(seen["tasks"], X_long[:, -1])

    Xc, Yc, *_ = classification_layouts
    clf = FirstFeatureClassifier().fit(Xc, Yc)
    f2 = make_task_scorer(fbeta_score, beta=2.0)
    assert f2(clf, Xc, Yc) == pytest.approx(
        per_task_score(Yc, clf.predict(Xc), metric=lambda a, b: fbeta_score(a, b, beta=2.0)).mean
    )


def test_score_method_without_estimator(regression_layouts):
    _, Y, *_ = regression_layouts
    P = np.where(np.isnan(Y), 0.0, Y + 1.0)
    assert neg_task_mse_scorer.score(Y, P) == pytest.approx(-1.0)
    assert task_r2_scorer.score(Y, Y) == pytest.approx(1.0)


# --- GridSearchCV and cross_val_score -------------------------------------------------


@pytest.mark.parametrize(
    "scorer",
    [task_r2_scorer, explained_variance_scorer, neg_normalized_mse_scorer, neg_task_rmse_scorer],
)
def test_grid_search_wide_layout_with_missing_labels(regression_layouts, scorer):
    X, Y, *_ = regression_layouts
    cv = KFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(
        TaskMeanRegressor(), {"shrinkage": [0.0, 0.5, 1.0]}, scoring=scorer, cv=cv, error_score="raise"
    ).fit(X, Y)
    # Task means differ by several units: the task-specific means win.
    assert search.best_params_ == {"shrinkage": 0.0}
    train, test = next(cv.split(X))
    model = TaskMeanRegressor(shrinkage=0.5).fit(X[train], Y[train])
    assert search.cv_results_["split0_test_score"][1] == pytest.approx(scorer(model, X[test], Y[test]))


def test_grid_search_long_layout_numpy_and_dataframe(regression_layouts):
    _, _, X_long, y_long, frame = regression_layouts
    grid = {"shrinkage": [0.0, 0.5, 1.0]}
    results = []
    for X, column in [(X_long, -1), (frame, "school")]:
        cv = TaskStratifiedKFold(3, task_column=column)
        search = GridSearchCV(
            TaskMeanRegressor(task_column=column), grid, scoring=task_r2_scorer, cv=cv, error_score="raise"
        ).fit(X, y_long)
        assert search.best_params_ == {"shrinkage": 0.0}
        results.append(search.cv_results_["mean_test_score"])
        train, test = next(cv.split(X))
        sub = (lambda a, rows: a.iloc[rows]) if hasattr(X, "iloc") else (lambda a, rows: a[rows])
        model = TaskMeanRegressor(shrinkage=1.0, task_column=column).fit(sub(X, train), y_long[train])
        labels = X_long[test, -1]
        expected = per_task_score(y_long[test], model.predict(sub(X, test)), labels).mean
        assert search.cv_results_["split0_test_score"][2] == pytest.approx(expected)
    assert_allclose(results[0], results[1])  # same rows, same folds, same scores


def test_multi_metric_grid_search(regression_layouts):
    _, _, _, y_long, frame = regression_layouts
    scoring = {name: get_task_scorer(name) for name in ["task_r2", "explained_variance", "neg_normalized_mse"]}
    search = GridSearchCV(
        TaskMeanRegressor(task_column="school"),
        {"shrinkage": [0.0, 1.0]},
        scoring=scoring,
        refit="explained_variance",
        cv=KFold(3, shuffle=True, random_state=0),
    ).fit(frame, y_long)
    for name in scoring:
        assert np.all(np.isfinite(search.cv_results_[f"mean_test_{name}"]))
    assert search.best_params_ == {"shrinkage": 0.0}


def test_nested_cross_validation_finds_the_task_column(regression_layouts):
    _, _, _, y_long, frame = regression_layouts
    inner = GridSearchCV(
        TaskMeanRegressor(task_column="school"), {"shrinkage": [0.0, 1.0]}, scoring=task_r2_scorer, cv=3
    )
    scores = cross_val_score(inner, frame, y_long, scoring=task_r2_scorer, cv=3, error_score="raise")
    assert scores.shape == (3,) and np.all(np.isfinite(scores))


def test_pipeline_and_explicit_task_column(regression_layouts):
    _, _, X_long, y_long, frame = regression_layouts
    pipe = make_pipeline(FunctionTransformer(), TaskMeanRegressor(task_column="school")).fit(frame, y_long)
    direct = TaskMeanRegressor(task_column="school").fit(frame, y_long)
    # the first step has no task column: the final estimator's is used
    assert task_r2_scorer(pipe, frame, y_long) == pytest.approx(task_r2_scorer(direct, frame, y_long))

    class Opaque(BaseEstimator):  # hides its task column from the scorer
        def __init__(self, model=None):
            self.model = model

        def predict(self, X):
            return self.model.predict(X)

    opaque = Opaque(direct)
    assert make_task_scorer("r2", task_column="school")(opaque, frame, y_long) == pytest.approx(
        task_r2_scorer(direct, frame, y_long)
    )
    with pytest.raises(ValueError, match="task_column='nope' is not a column of X"):
        make_task_scorer("r2", task_column="nope")(opaque, frame, y_long)


def test_classification_scorers(classification_layouts):
    X, Y, X_long, y_long = classification_layouts
    wide = FirstFeatureClassifier().fit(X, Y)
    long = FirstFeatureClassifier(task_column=-1).fit(X_long, y_long)
    expected = averaged_auc(Y, wide.decision_function(X))
    assert averaged_auc_scorer(wide, X, Y) == pytest.approx(expected)
    assert averaged_auc_scorer(long, X_long, y_long) == pytest.approx(expected)
    by_proba = make_task_scorer("roc_auc", response_method="predict_proba")
    assert by_proba(wide, X, Y) == pytest.approx(expected)  # list of (n, 2) arrays
    assert by_proba(long, X_long, y_long) == pytest.approx(expected)  # one (n, 2) array
    assert averaged_auc_scorer(ProbaOnlyClassifier().fit(X, Y), X, Y) == pytest.approx(expected)
    accuracy = per_task_score(Y, wide.predict(X), metric="accuracy").mean
    assert task_accuracy_scorer(wide, X, Y) == pytest.approx(accuracy)
    search = GridSearchCV(
        FirstFeatureClassifier(task_column=-1), {"sign": [-1.0, 1.0]}, scoring=averaged_auc_scorer, cv=3
    ).fit(X_long, y_long)
    assert search.best_params_ == {"sign": 1.0}
    flipped, right = search.cv_results_["mean_test_score"]
    assert flipped == pytest.approx(1 - right)  # AUC of -score is 1 - AUC


def test_positive_probabilities_from_wide_array(classification_layouts):
    X, Y, *_ = classification_layouts

    class WideProba(FirstFeatureClassifier):
        def predict_proba(self, X):
            return 1 / (1 + np.exp(-self.decision_function(X)))  # (n, n_tasks)

    model = WideProba().fit(X, Y)
    scorer = make_task_scorer("roc_auc", response_method="predict_proba")
    assert scorer(model, X, Y) == pytest.approx(averaged_auc(Y, model.decision_function(X)))


# --- errors and helpers -----------------------------------------------------------------


def test_response_method_errors(classification_layouts):
    X, Y, *_ = classification_layouts
    regressor = TaskMeanRegressor().fit(X, Y)
    with pytest.raises(
        AttributeError,
        match=r"TaskMeanRegressor has none of the response methods \['decision_function', 'predict_proba'\]",
    ):
        averaged_auc_scorer(regressor, X, Y)

    class ThreeClasses(FirstFeatureClassifier):
        def predict_proba(self, X):
            return np.full((len(X), 3), 1 / 3)

    model = ThreeClasses(task_column=-1).fit(np.column_stack([X, np.zeros(80)]), Y[:, 0] > 0)
    with pytest.raises(ValueError, match=r"ThreeClasses.predict_proba returned an array of shape \(80, 3\)"):
        make_task_scorer("roc_auc", response_method="predict_proba")(
            model, np.column_stack([X, np.zeros(80)]), Y[:, 0] > 0
        )


def test_make_task_scorer_errors():
    with pytest.raises(ValueError, match=r"response_method='predict_log_proba' is not valid"):
        make_task_scorer("r2", response_method="predict_log_proba")
    with pytest.raises(ValueError, match=r"response_method=\(\) is not valid"):
        make_task_scorer("r2", response_method=())
    with pytest.raises(ValueError, match=r"average='aggregate' is not valid for a per-task metric"):
        make_task_scorer("r2", average="aggregate")
    with pytest.raises(ValueError, match=r"Unknown metric 'f1'"):
        make_task_scorer("f1")
    with pytest.raises(TypeError, match="metric must be a metric name or a callable"):
        make_task_scorer(None)
    with pytest.raises(TypeError, match=r"Extra arguments \['beta'\] are not accepted with the metric name 'r2'"):
        make_task_scorer("r2", beta=2)
    with pytest.raises(TypeError, match="greater_is_better must be a bool or None; got 'no'"):
        make_task_scorer("r2", greater_is_better="no")
    with pytest.raises(TypeError, match=r"task_column must be an int, a column name or None; got 1.5"):
        make_task_scorer("r2", task_column=1.5)


def test_task_aware_metric_returning_an_array(regression_layouts):
    X, Y, *_ = regression_layouts
    model = TaskMeanRegressor().fit(X, Y)
    scorer = make_task_scorer(normalized_mse, greater_is_better=False, average=None)
    with pytest.raises(ValueError, match=r"normalized_mse returned an array of shape \(3,\)"):
        scorer(model, X, Y)


def test_get_task_scorer():
    names = get_task_scorer_names()
    assert names == sorted(names) and "task_r2" in names and "averaged_auc" in names
    for name in names:
        assert get_task_scorer(name) is globals()[f"{name}_scorer"]
    assert get_task_scorer(task_r2_scorer) is task_r2_scorer
    with pytest.raises(ValueError, match=r"'r2' is not a multi-task scorer name; valid names are \['averaged_auc'"):
        get_task_scorer("r2")


def test_scorers_pickle(regression_layouts):
    X, Y, *_ = regression_layouts
    model = TaskMeanRegressor(shrinkage=0.2).fit(X, Y)
    for scorer in [
        task_r2_scorer,
        neg_normalized_mse_scorer,
        averaged_auc_scorer,
        make_task_scorer(fbeta_score, beta=2.0),
        make_task_scorer(mean_absolute_error, average="pooled", task_column=None),
    ]:
        clone = pickle.loads(pickle.dumps(scorer))
        assert repr(clone) == repr(scorer)
    for scorer in (task_r2_scorer, neg_normalized_mse_scorer):
        assert pickle.loads(pickle.dumps(scorer))(model, X, Y) == scorer(model, X, Y)


def test_scorer_repr():
    assert repr(task_r2_scorer) == "make_task_scorer(r2)"
    assert repr(neg_normalized_mse_scorer) == (
        "make_task_scorer(normalized_mse, greater_is_better=False, average='aggregate')"
    )
    assert repr(averaged_auc_scorer) == (
        "make_task_scorer(averaged_auc, response_method=('decision_function', 'predict_proba'))"
    )
    assert repr(make_task_scorer("r2", task_column="school")) == "make_task_scorer(r2, task_column='school')"


def test_averaged_auc_scorer_on_wide_decision_function_list():
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from skmtl.metrics import averaged_auc_scorer
    from skmtl.multitask import IndependentTasks

    rng = np.random.RandomState(0)
    X = rng.randn(80, 3)
    Y = np.column_stack([X[:, 0] + 0.5 * rng.randn(80) > 0, X[:, 1] + 0.5 * rng.randn(80) > 0]).astype(int)
    model = IndependentTasks(LogisticRegression()).fit(X, Y)
    scores = model.decision_function(X)
    expected = np.mean([roc_auc_score(Y[:, t], scores[t]) for t in range(2)])
    assert averaged_auc_scorer(model, X, Y) == pytest.approx(expected)
