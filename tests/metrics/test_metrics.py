"""Per-task metrics: closed forms, scikit-learn agreement, both layouts, errors."""

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    explained_variance_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)

from skmtl.metrics import (
    TaskScoreTable,
    averaged_auc,
    mean_task_rmse,
    multitask_explained_variance,
    normalized_mse,
    per_task_score,
    task_scores,
)


def _rmse(y_true, y_pred, sample_weight=None):
    return np.sqrt(mean_squared_error(y_true, y_pred, sample_weight=sample_weight))


def _nmse(y_true, y_pred, sample_weight=None):
    mse = mean_squared_error(y_true, y_pred, sample_weight=sample_weight)
    mean = np.average(y_true, weights=sample_weight)
    return mse / np.average((y_true - mean) ** 2, weights=sample_weight)


SKLEARN_REGRESSION = {
    "r2": r2_score,
    "explained_variance": explained_variance_score,
    "mse": mean_squared_error,
    "rmse": _rmse,
    "mae": mean_absolute_error,
    "nmse": _nmse,
}


@pytest.fixture
def regression():
    """Wide targets of 4 tasks with different means, some labels missing."""
    rng = np.random.RandomState(0)
    Y = rng.randn(30, 4) + np.array([0.0, 5.0, -3.0, 10.0])
    P = Y + rng.randn(30, 4) * np.array([0.3, 1.0, 0.5, 2.0]) + 0.2
    Y[[1, 4, 9], 0] = np.nan
    Y[[2, 3], 2] = np.nan
    weight = rng.uniform(0.5, 2.0, size=30)
    return Y, P, weight


def _to_long(Y, P, weight=None):
    """Each observed entry as one row; task label = column position."""
    rows, tasks = np.nonzero(~np.isnan(Y))
    out = (Y[rows, tasks], P[rows, tasks], tasks)
    return out if weight is None else out + (weight[rows],)


def _observed(Y, P, t, weight=None):
    seen = ~np.isnan(Y[:, t])
    return Y[seen, t], P[seen, t], None if weight is None else weight[seen]


# --- per_task_score against scikit-learn ----------------------------------------


def test_per_task_r2_equals_sklearn_per_column():
    rng = np.random.RandomState(1)
    Y = rng.randn(25, 3)
    P = Y + 0.5 * rng.randn(25, 3)
    table = per_task_score(Y, P)  # r2 by default
    assert_allclose(table.scores, r2_score(Y, P, multioutput="raw_values"))
    assert table.mean == pytest.approx(r2_score(Y, P))


@pytest.mark.parametrize("name", sorted(SKLEARN_REGRESSION))
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_names_match_sklearn_on_observed_rows(regression, name, weighted):
    Y, P, weight = regression
    weight = weight if weighted else None
    table = per_task_score(Y, P, metric=name, sample_weight=weight)
    expected = [
        SKLEARN_REGRESSION[name](*_observed(Y, P, t)[:2], sample_weight=_observed(Y, P, t, weight)[2])
        for t in range(4)
    ]
    assert_allclose(table.scores, expected, rtol=1e-10)
    assert_array_equal(table.n_samples, [27, 30, 28, 30])
    assert table.metric == name


@pytest.mark.parametrize("name", sorted(SKLEARN_REGRESSION))
def test_long_layout_equals_wide(regression, name):
    Y, P, weight = regression
    y, p, tasks, w = _to_long(Y, P, weight)
    perm = np.random.RandomState(3).permutation(len(y))  # row order must not matter
    wide = per_task_score(Y, P, metric=name, sample_weight=weight)
    long = per_task_score(y[perm], p[perm], tasks[perm], metric=name, sample_weight=w[perm])
    assert_allclose(long.scores, wide.scores, rtol=1e-10)
    assert_array_equal(long.tasks, wide.tasks)
    assert_array_equal(long.n_samples, wide.n_samples)


def test_nan_labels_are_skipped_not_zero(regression):
    Y, P, _ = regression
    filled = np.where(np.isnan(Y), 0.0, Y)
    with_nan = per_task_score(Y, P, metric="mse").scores
    assert not np.allclose(with_nan[0], per_task_score(filled, P, metric="mse").scores[0])
    assert with_nan[0] == pytest.approx(mean_squared_error(*_observed(Y, P, 0)[:2]))
    # NaN predictions at missing labels are ignored too.
    P_nan = np.where(np.isnan(Y), np.nan, P)
    assert_allclose(per_task_score(Y, P_nan, metric="mse").scores, with_nan)


def test_classification_names_match_sklearn():
    rng = np.random.RandomState(2)
    Y = rng.randint(0, 2, size=(40, 3)).astype(float)
    S = Y + rng.randn(40, 3)
    P = (S > 0.5).astype(float)
    Y[[0, 5], 1] = np.nan
    for name, func, pred in [
        ("accuracy", accuracy_score, P),
        ("balanced_accuracy", balanced_accuracy_score, P),
        ("roc_auc", roc_auc_score, S),
    ]:
        table = per_task_score(Y, pred, metric=name)
        assert_allclose(table.scores, [func(*_observed(Y, pred, t)[:2]) for t in range(3)])


def test_multiclass_accuracy_with_weights_matches_sklearn():
    rng = np.random.RandomState(8)
    y = rng.choice(["a", "b", "c"], size=90)
    pred = np.where(rng.rand(90) < 0.6, y, rng.choice(["a", "b", "c", "d"], size=90))
    tasks = np.repeat([10, 20, 30], 30)
    y[60:] = np.where(y[60:] == "c", "a", y[60:])  # task 30 has two classes only
    w = rng.uniform(0.2, 2, size=90)
    for name, func in [("accuracy", accuracy_score), ("balanced_accuracy", balanced_accuracy_score)]:
        expected = []
        for t in (10, 20, 30):
            rows = tasks == t
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # sklearn: "y_pred contains classes not in y_true"
                expected.append(func(y[rows], pred[rows], sample_weight=w[rows]))
        table = per_task_score(y, pred, tasks, metric=name, sample_weight=w)
        assert_allclose(table.scores, expected, rtol=1e-12)
        assert_array_equal(table.tasks, [10, 20, 30])


def test_classification_metric_on_continuous_labels_error():
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        per_task_score([0.5, 1.5, 2.1], [0.5, 1.5, 2.0], metric="accuracy")


def test_object_labels_with_none_as_missing():
    Y = np.array([["a", "x"], ["b", None], ["a", "y"], ["b", "x"]], dtype=object)
    P = np.array([["a", "x"], ["a", "x"], ["a", "x"], ["b", "x"]], dtype=object)
    table = per_task_score(Y, P, metric="accuracy")
    assert_allclose(table.scores, [0.75, 2 / 3])
    assert_array_equal(table.n_samples, [4, 3])


def test_callable_metric_with_and_without_sample_weight(regression):
    Y, P, weight = regression

    def max_error(y_true, y_pred):  # no sample_weight parameter
        return np.max(np.abs(y_true - y_pred))

    table = per_task_score(Y, P, metric=max_error)
    assert table.metric == "max_error"
    assert_allclose(table.scores, [max_error(*_observed(Y, P, t)[:2]) for t in range(4)])
    weighted = per_task_score(Y, P, metric=mean_absolute_error, sample_weight=weight)
    assert_allclose(weighted.scores, per_task_score(Y, P, metric="mae", sample_weight=weight).scores)


def test_integer_weights_equal_duplicated_rows(regression):
    Y, P, _ = regression
    counts = np.random.RandomState(4).randint(1, 4, size=30)
    rows = np.repeat(np.arange(30), counts)
    for name in SKLEARN_REGRESSION:
        weighted = per_task_score(Y, P, metric=name, sample_weight=counts).scores
        assert_allclose(weighted, per_task_score(Y[rows], P[rows], metric=name).scores, rtol=1e-10)


def test_task_scores_keeps_its_contract(regression, long_data):
    Y, P, weight = regression
    assert_allclose(
        task_scores(Y, P, None, r2_score, sample_weight=weight),
        per_task_score(Y, P, sample_weight=weight).scores,
    )
    y = np.array([1.0, 2.0, 3.0, 5.0])
    assert_allclose(task_scores(y, y + 1, ["b", "a", "b", "a"], mean_absolute_error), [1.0, 1.0])
    assert_allclose(task_scores(y, y, None, "r2"), [1.0])  # 1-D y is one task


def test_constant_task_follows_sklearn_r2_conventions():
    y = np.array([2.0, 2.0, 2.0, 1.0, 3.0])
    tasks = [0, 0, 0, 1, 1]
    exact = per_task_score(y, np.array([2.0, 2.0, 2.0, 1.0, 3.0]), tasks).scores
    wrong = per_task_score(y, np.array([1.0, 2.0, 2.0, 1.0, 3.0]), tasks).scores
    assert_allclose(exact, [1.0, 1.0])
    assert_allclose(wrong, [r2_score([2.0, 2, 2], [1.0, 2, 2]), 1.0])


def test_single_row_task_gives_nan_r2_with_warning():
    with pytest.warns(UndefinedMetricWarning, match=r"fewer than two labeled rows; NaN returned for task 'b'"):
        scores = per_task_score([1.0, 2.0, 3.0], [1.0, 2.5, 3.0], ["a", "a", "b"]).scores
    assert scores[0] == pytest.approx(0.5) and np.isnan(scores[1])


def test_inputs_are_not_modified(regression):
    Y, P, weight = regression
    copies = [a.copy() for a in (Y, P, weight)]
    per_task_score(Y, P, metric="nmse", sample_weight=weight)
    normalized_mse(Y, P, sample_weight=weight)
    for a, b in zip((Y, P, weight), copies):
        assert_array_equal(a, b)


# --- TaskScoreTable --------------------------------------------------------------


def test_table_attributes_and_frame(regression):
    Y, P, weight = regression
    table = per_task_score(Y, P, metric="rmse", sample_weight=weight)
    assert isinstance(table, TaskScoreTable) and len(table) == 4
    assert_array_equal(table.tasks, [0, 1, 2, 3])
    assert table.mean == pytest.approx(np.mean(table.scores))
    task_weight = [weight[~np.isnan(Y[:, t])].sum() for t in range(4)]
    assert table.weighted_mean == pytest.approx(np.average(table.scores, weights=task_weight))
    assert_array_equal(np.asarray(table), table.scores)
    assert table[2] == table.scores[2]
    frame = table.to_frame()
    assert list(frame.columns) == ["score", "n_samples"] and frame.index.name == "task"
    assert_allclose(frame["score"], table.scores)
    assert_array_equal(frame["n_samples"], [27, 30, 28, 30])


def test_table_repr_is_readable_and_truncated():
    y = np.arange(6.0)
    text = repr(per_task_score(y, y + 1, ["s1", "s1", "s2", "s2", "s3", "s3"], metric="mae"))
    assert text.splitlines() == [
        "TaskScoreTable(metric='mae', n_tasks=3)",
        "task     mae  n_samples",
        "s1    1.0000          2",
        "s2    1.0000          2",
        "s3    1.0000          2",
        "3 tasks: mean 1.0000, weighted mean 1.0000",
    ]
    many = per_task_score(np.arange(200.0), np.arange(200.0), np.arange(200) // 2, metric="mse")
    lines = str(many).splitlines()
    assert len(lines) == 1 + 21 + 1 and "..." in lines[11]
    assert lines[-1].startswith("100 tasks:")
    assert len(many.to_string(max_rows=None).splitlines()) == 102


def test_table_unknown_task_key():
    table = per_task_score([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], ["a", "a", "b", "b"])
    with pytest.raises(KeyError, match=r"No task 'c'; tasks are \['a', 'b'\]"):
        table["c"]


# --- multitask_explained_variance -------------------------------------------------


def test_pooled_explained_variance_hand_computed(regression):
    Y, P, _ = regression
    seen = ~np.isnan(Y)
    y, p = Y[seen], P[seen]
    expected = 1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)
    assert multitask_explained_variance(Y, P) == pytest.approx(expected)
    # ... which is 1 - MSE / Var(y) over the stacked entries, and not sklearn's
    # explained_variance_score (that one subtracts the mean residual).
    assert expected == pytest.approx(1 - mean_squared_error(y, p) / np.var(y))
    assert expected != pytest.approx(explained_variance_score(y, p))


def test_explained_variance_per_task_is_mean_r2(regression):
    Y, P, weight = regression
    r2 = [r2_score(*_observed(Y, P, t)[:2]) for t in range(4)]
    assert_allclose(multitask_explained_variance(Y, P, average=None), r2)
    assert multitask_explained_variance(Y, P, average="per_task") == pytest.approx(np.mean(r2))
    assert multitask_explained_variance(Y, P, average="mean") == pytest.approx(np.mean(r2))
    n_t = (~np.isnan(Y)).sum(axis=0)
    assert multitask_explained_variance(Y, P, average="weighted") == pytest.approx(
        np.average(r2, weights=n_t)
    )


def test_pooled_explained_variance_rewards_task_means():
    # Predicting each task's mean explains the between-task variance only.
    y = np.array([0.0, 2.0, 10.0, 12.0])
    tasks = np.array([0, 0, 1, 1])
    means = np.array([1.0, 1.0, 11.0, 11.0])
    assert multitask_explained_variance(y, means, tasks) == pytest.approx(1 - 4 / 104)
    assert multitask_explained_variance(y, means, tasks, average="per_task") == 0.0


def test_explained_variance_weighted_and_long(regression):
    Y, P, weight = regression
    y, p, tasks, w = _to_long(Y, P, weight)
    seen = ~np.isnan(Y)  # Y[seen] lists entries in the order of _to_long
    expected = 1 - mean_squared_error(Y[seen], P[seen], sample_weight=w) / np.average(
        (Y[seen] - np.average(Y[seen], weights=w)) ** 2, weights=w
    )
    assert multitask_explained_variance(Y, P, sample_weight=weight) == pytest.approx(expected)
    assert multitask_explained_variance(y, p, tasks, sample_weight=w) == pytest.approx(expected)


# --- normalized_mse -----------------------------------------------------------------


def test_nmse_aggregate_is_malsar_ratio(regression):
    Y, P, _ = regression
    mse_t, var_t, n_t = [], [], []
    for t in range(4):
        y, p, _ = _observed(Y, P, t)
        mse_t.append(np.mean((y - p) ** 2))
        var_t.append(np.var(y))
        n_t.append(len(y))
    mse_t, var_t, n_t = map(np.asarray, (mse_t, var_t, n_t))
    assert_allclose(normalized_mse(Y, P, average=None), mse_t / var_t)
    assert normalized_mse(Y, P) == pytest.approx(np.sum(mse_t * n_t) / np.sum(var_t * n_t))
    assert normalized_mse(Y, P, average="per_task") == pytest.approx(np.mean(mse_t / var_t))
    assert normalized_mse(Y, P, average="mean") == pytest.approx(np.mean(mse_t / var_t))
    assert normalized_mse(Y, P, average="weighted") == pytest.approx(
        np.average(mse_t / var_t, weights=n_t)
    )
    assert normalized_mse(Y, P, average="pooled") == pytest.approx(1 - multitask_explained_variance(Y, P))


def test_nmse_is_one_minus_r2_and_one_for_task_means(regression):
    Y, P, _ = regression
    assert_allclose(normalized_mse(Y, P, average=None), 1 - per_task_score(Y, P).scores)
    means = np.where(np.isnan(Y), np.nan, np.nanmean(Y, axis=0))
    assert normalized_mse(Y, means) == pytest.approx(1.0)
    assert normalized_mse(Y, Y) == 0.0


def test_nmse_zero_variance_task_is_infinite_with_warning():
    y = np.array([1.0, 1.0, 0.0, 2.0])
    tasks = ["flat", "flat", "b", "b"]
    with pytest.warns(UndefinedMetricWarning, match="Zero target variance for task 'flat'"):
        values = normalized_mse(y, y + 1, tasks, average=None)
    assert values[1] == np.inf
    with pytest.warns(UndefinedMetricWarning):
        assert normalized_mse(y, y, tasks, average=None)[1] == 0.0
    assert normalized_mse([1.0, 1.0], [1.0, 2.0]) == np.inf


def test_long_equals_wide_for_task_aware_metrics(regression):
    Y, P, weight = regression
    y, p, tasks, w = _to_long(Y, P, weight)
    for func, averages in [
        (multitask_explained_variance, ["pooled", "per_task", "weighted", None]),
        (normalized_mse, ["aggregate", "pooled", "mean", "weighted", None]),
        (mean_task_rmse, ["mean", "weighted", "pooled", None]),
    ]:
        for average in averages:
            assert_allclose(
                func(y, p, tasks, sample_weight=w, average=average),
                func(Y, P, sample_weight=weight, average=average),
                rtol=1e-10,
            )


# --- mean_task_rmse -------------------------------------------------------------------


def test_mean_task_rmse(regression):
    Y, P, weight = regression
    rmse = [_rmse(*_observed(Y, P, t, weight)) for t in range(4)]
    assert_allclose(mean_task_rmse(Y, P, sample_weight=weight, average=None), rmse)
    assert mean_task_rmse(Y, P, sample_weight=weight) == pytest.approx(np.mean(rmse))
    seen = ~np.isnan(Y)
    assert mean_task_rmse(Y, P, average="pooled") == pytest.approx(_rmse(Y[seen], P[seen]))


# --- averaged_auc ---------------------------------------------------------------------


@pytest.fixture
def binary():
    rng = np.random.RandomState(5)
    Y = np.where(rng.rand(50, 3) > 0.5, 1.0, -1.0)
    S = Y * rng.uniform(0, 1, size=(50, 3)) + rng.randn(50, 3)
    Y[[0, 10, 20], 2] = np.nan
    return Y, S


def test_averaged_auc_is_mean_of_sklearn_auc(binary):
    Y, S = binary
    aucs = [roc_auc_score(*_observed(Y, S, t)[:2]) for t in range(3)]
    assert averaged_auc(Y, S) == pytest.approx(np.mean(aucs))
    assert_allclose(averaged_auc(Y, S, average=None), aucs)
    n_t = [50, 50, 47]
    assert averaged_auc(Y, S, average="weighted") == pytest.approx(np.average(aucs, weights=n_t))
    y, s, tasks = _to_long(Y, S)
    assert averaged_auc(y, s, tasks) == pytest.approx(np.mean(aucs))


def test_averaged_auc_with_ties_and_weights_matches_sklearn_per_task():
    # The AUC of all tasks is computed at once; ties count one half, as sklearn.
    rng = np.random.RandomState(7)
    tasks = rng.randint(0, 30, size=600)
    y = rng.randint(0, 2, size=600)
    y[:60] = np.arange(60) % 2  # both classes in every task
    tasks[:60] = np.arange(60) // 2
    score = np.round(y + rng.randn(600), 1)  # many ties
    w = rng.uniform(0, 2, size=600)
    expected = [
        roc_auc_score(y[tasks == t], score[tasks == t], sample_weight=w[tasks == t]) for t in range(30)
    ]
    assert_allclose(averaged_auc(y, score, tasks, sample_weight=w, average=None), expected, rtol=1e-12)
    expected = [roc_auc_score(y[tasks == t], score[tasks == t]) for t in range(30)]
    assert_allclose(averaged_auc(y, score, tasks, average=None), expected, rtol=1e-12)


def test_averaged_auc_positive_class_is_the_greater_label():
    y = np.array(["no", "yes", "yes", "no", "b", "a", "b"], dtype=object)
    s = np.array([0.1, 0.8, 0.4, 0.6, 0.9, 0.2, 0.3])
    tasks = [0, 0, 0, 0, 1, 1, 1]
    assert_allclose(
        averaged_auc(y, s, tasks, average=None),
        [roc_auc_score([0, 1, 1, 0], s[:4]), roc_auc_score([1, 0, 1], s[4:])],
    )


def test_averaged_auc_sample_weight(binary):
    Y, S = binary
    w = np.random.RandomState(6).uniform(0.1, 3, size=50)
    aucs = []
    for t in range(3):
        y, s, w_t = _observed(Y, S, t, w)
        aucs.append(roc_auc_score(y, s, sample_weight=w_t))
    assert averaged_auc(Y, S, sample_weight=w) == pytest.approx(np.mean(aucs))


def test_averaged_auc_one_class_task_error(binary):
    Y, S = binary
    Y = Y.copy()
    Y[~np.isnan(Y[:, 1]), 1] = 1.0
    with pytest.raises(
        ValueError, match=r"task 1 \(column 1 of y_true\) has a single class \(1.0\) in y_true; ROC AUC is undefined"
    ):
        averaged_auc(Y, S)
    with pytest.raises(ValueError, match="task 'b' has a single class"):
        averaged_auc([0, 1, 1, 1], [0.1, 0.9, 0.3, 0.2], ["a", "a", "b", "b"])


def test_averaged_auc_multiclass_task_error():
    with pytest.raises(ValueError, match="task 'a' has 3 classes in y_true; ROC AUC needs binary labels"):
        averaged_auc([0, 1, 2, 0], [0.1, 0.9, 0.3, 0.2], ["a", "a", "a", "a"])


def test_averaged_auc_unsortable_labels():
    with pytest.raises(ValueError, match="Class labels of y_true could not be sorted"):
        averaged_auc(np.array(["a", 1], dtype=object), [0.1, 0.2], [0, 0])


def test_averaged_auc_non_numeric_or_nan_scores():
    with pytest.raises(ValueError, match="y_score must hold numbers"):
        averaged_auc([0, 1], np.array(["x", "y"], dtype=object), [0, 0])
    with pytest.raises(ValueError, match="y_score contains NaN or infinity for task 0"):
        averaged_auc([0, 1], [0.5, np.nan], [0, 0])


# --- errors ---------------------------------------------------------------------------


def test_shape_errors():
    with pytest.raises(ValueError, match=r"y_true and y_pred have different shapes: \(3, 2\) and \(3, 3\)"):
        per_task_score(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"y_true and y_score have different shapes"):
        averaged_auc(np.zeros(3), np.zeros(4), [0, 0, 1])
    with pytest.raises(ValueError, match="tasks has 2 entries but y_true has 3 rows"):
        per_task_score(np.zeros(3), np.zeros(3), [0, 1])
    with pytest.raises(ValueError, match=r"y_true must be 1-D or 2-D; got shape \(2, 2, 2\)"):
        per_task_score(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"y_pred must be 1-D; got shape \(3, 2\)"):
        per_task_score(np.zeros(3), np.zeros((3, 2)), [0, 0, 1])


def test_sample_weight_errors():
    with pytest.raises(ValueError, match=r"sample_weight has shape \(2,\); expected \(3,\)"):
        per_task_score(np.zeros(3), np.zeros(3), sample_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="sample_weight must be finite and non-negative"):
        normalized_mse(np.arange(3.0), np.zeros(3), sample_weight=[1.0, -1.0, 1.0])


def test_missing_label_errors():
    Y = np.array([[1.0, np.nan], [2.0, np.nan]])
    with pytest.raises(ValueError, match=r"task 1 \(column 1 of y_true\) has no labeled rows"):
        per_task_score(Y, np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"y_true contains 1 missing label\(s\).*long layout"):
        per_task_score([1.0, np.nan], [1.0, 2.0], [0, 0])
    with pytest.raises(ValueError, match="The task column contains NaN"):
        per_task_score([1.0, 2.0], [1.0, 2.0], [0.0, np.nan])


def test_non_finite_prediction_error(regression):
    Y, P, _ = regression
    P = P.copy()
    P[5, 3] = np.inf
    with pytest.raises(ValueError, match=r"y_pred contains NaN or infinity at a labeled entry of task 3 \(column 3"):
        normalized_mse(Y, P)
    with pytest.raises(ValueError, match="y_pred contains NaN or infinity at a labeled entry of task 'b'"):
        mean_task_rmse([1.0, 2.0], [1.0, np.nan], ["a", "b"])


def test_non_numeric_regression_error():
    with pytest.raises(ValueError, match="must hold numbers for a regression metric"):
        per_task_score(np.array(["a", "b"], dtype=object), np.array(["a", "b"], dtype=object), metric="mse")


def test_unsortable_task_labels_error():
    with pytest.raises(ValueError, match="Task labels could not be sorted"):
        per_task_score([1.0, 2.0], [1.0, 2.0], np.array(["a", 1], dtype=object))


def test_unknown_metric_and_average_errors(regression):
    Y, P, _ = regression
    with pytest.raises(ValueError, match=r"Unknown metric 'f1'; valid names are \['accuracy'"):
        per_task_score(Y, P, metric="f1")
    with pytest.raises(TypeError, match="metric must be a metric name or a callable; got int"):
        per_task_score(Y, P, metric=3)
    with pytest.raises(ValueError, match=r"average='median' is not one of \('pooled', 'per_task'"):
        multitask_explained_variance(Y, P, average="median")
    with pytest.raises(ValueError, match=r"average='aggregate' is not one of \('mean', 'weighted', 'pooled', None\)"):
        mean_task_rmse(Y, P, average="aggregate")
    with pytest.raises(ValueError, match=r"average='pooled' is not one of \('mean', 'weighted', None\)"):
        averaged_auc(np.array([0, 1]), np.array([0.2, 0.3]), average="pooled")


def test_no_warning_on_regular_input(regression):
    Y, P, weight = regression
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in SKLEARN_REGRESSION:
            per_task_score(Y, P, metric=name, sample_weight=weight)
        normalized_mse(Y, P)
        multitask_explained_variance(Y, P)


def test_dataframe_and_series_inputs(regression):
    Y, P, _ = regression
    frame = pd.DataFrame(Y, columns=list("abcd"))
    assert_allclose(per_task_score(frame, P).scores, per_task_score(Y, P).scores)
    y, p, tasks = _to_long(Y, P)
    assert normalized_mse(pd.Series(y), pd.Series(p), pd.Series(tasks)) == pytest.approx(normalized_mse(Y, P))
