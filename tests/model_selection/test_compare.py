"""compare_with_single_task: per-task scores, paired tests, flags, exports."""

import json
import sys
import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import LogisticRegression, Ridge, RidgeCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl.datasets import make_clustered_multitask
from skmtl.metrics import per_task_score
from skmtl.model_selection import (
    ComparisonResult,
    TaskStratifiedKFold,
    TaskStratifiedShuffleSplit,
    compare_with_single_task,
)
from skmtl.model_selection._compare import _paired_test
from skmtl.multitask import IndependentTasks, PooledTasks

ALPHAS = np.logspace(-3, 4, 15)


@pytest.fixture(scope="module")
def transfer_result():
    """Twelve near-identical tasks with fewer rows than features, plus three
    unrelated tasks: pooling is the only way to learn the twelve, and it
    ruins the three."""
    X, y, truth = make_clustered_multitask(
        n_samples=80,
        n_features=80,
        n_tasks=12,
        n_clusters=1,
        cluster_std=0.1,
        noise=1.0,
        n_unrelated_tasks=3,
        layout="long",
        random_state=0,
    )
    models = {"pooled": PooledTasks(RidgeCV(alphas=ALPHAS), task_column=-1)}
    return compare_with_single_task(models, X, y, task_column=-1), truth


@pytest.fixture(scope="module")
def small_long():
    X, y, truth = make_clustered_multitask(
        n_samples=30, n_features=5, n_tasks=4, n_clusters=1, n_unrelated_tasks=1,
        layout="long", random_state=0,
    )
    return X, y, truth


def _onehot(task_column=-1):
    return PooledTasks(RidgeCV(alphas=ALPHAS), task_column=task_column, task_features="onehot")


# --------------------------------------------------------------------------
# What the comparison finds
# --------------------------------------------------------------------------


def test_pooling_hurts_exactly_the_unrelated_tasks_and_helps_related_ones(transfer_result):
    result, truth = transfer_result
    unrelated = set(truth.unrelated_tasks.tolist())
    assert unrelated == {12, 13, 14}
    assert set(result.hurt_tasks("pooled").tolist()) == unrelated
    helped = set(result.helped_tasks("pooled").tolist())
    assert helped and not helped & unrelated
    assert len(helped) >= 4  # of the 12 related tasks, with the conservative corrected test
    # Gains agree in sign with the flags.
    m = result.models.index("pooled")
    assert np.all(result.gain_vs_independent[m, list(unrelated)] < -0.5)
    assert np.mean(result.gain_vs_independent[m, :12]) > 0.1
    assert result.summary["pooled"]["n_hurt"] == 3
    assert result.summary["pooled"]["n_helped"] == len(helped)
    # The reference itself is never flagged nor tested.
    assert not result.hurt[0].any() and not result.helped[0].any()
    assert np.all(np.isnan(result.pvalue_vs_independent[0]))
    assert np.all(result.gain_vs_independent[0] == 0)


def test_the_plain_t_test_flags_at_least_as_much(transfer_result):
    result, _ = transfer_result
    plain = ComparisonResult(
        result.models, result.tasks, result.scores, result.scoring, True,
        result.references, result.test_train_ratio, result.fit_times, test="t",
    )
    finite = np.isfinite(plain.pvalue_vs_independent)
    assert np.all(plain.pvalue_vs_independent[finite] <= result.pvalue_vs_independent[finite])
    assert plain.hurt.sum() + plain.helped.sum() >= result.hurt.sum() + result.helped.sum()


def test_scores_are_the_per_task_scores_of_each_split(small_long):
    X, y, _ = small_long
    cv = TaskStratifiedShuffleSplit(n_splits=3, test_size=0.3, random_state=1)
    result = compare_with_single_task(
        {"onehot": _onehot()}, X, y, task_column=-1, cv=cv, return_predictions=True
    )
    tasks = X[:, -1].astype(int)
    assert result.scores.shape == (3, 3, 5)  # models, splits, tasks
    for m, name in enumerate(result.models):
        for k, (train, test) in enumerate(result.splits):
            expected = per_task_score(y[test], result.predictions[name][k], tasks[test]).scores
            np.testing.assert_allclose(result.scores[m, k], expected)
            # The prediction is that of the model refitted on the split.
            model = {"onehot": _onehot()}.get(name)
            if model is not None:
                pred = model.fit(X[train], y[train]).predict(X[test])
                np.testing.assert_allclose(result.predictions[name][k], pred)
    np.testing.assert_allclose(result.mean_scores, result.scores.mean(axis=1))
    np.testing.assert_allclose(result.std_scores, result.scores.std(axis=1))


def test_wide_layout_missing_labels_and_column_names():
    pd = pytest.importorskip("pandas")
    X, Y, _ = make_clustered_multitask(
        n_samples=60, n_features=6, n_tasks=3, n_clusters=1, n_unrelated_tasks=1,
        layout="wide", random_state=0,
    )
    Y[:10, 0] = np.nan
    Y = pd.DataFrame(Y, columns=["math", "reading", "art", "music"])
    result = compare_with_single_task({"onehot": PooledTasks(RidgeCV(), task_features="onehot")}, X, Y)
    assert result.tasks.tolist() == ["math", "reading", "art", "music"]
    assert result.models == ["independent", "pooled", "onehot"]
    assert np.all(np.isfinite(result.scores))
    # The unrelated fourth output is the one pooling hurts.
    assert "music" in result.hurt_tasks("pooled")
    # Every split scored column 0 on its labeled test rows only.
    assert result.n_test[:, 0].sum() < result.n_test[:, 1].sum()


def test_wide_one_dimensional_y_is_one_task():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 3)
    y = X @ [1.0, 2.0, 0.0] + 0.1 * rng.randn(40)
    result = compare_with_single_task({"ridge": IndependentTasks(Ridge())}, X, y)
    assert result.tasks.tolist() == [0]
    assert result.references == {"independent": "ridge", "pooled": "pooled"}
    assert result.mean_scores[0, 0] > 0.95


def test_loss_metrics_keep_their_scale_and_gains_stay_positive_when_better(small_long):
    X, y, _ = small_long
    result = compare_with_single_task({"onehot": _onehot()}, X, y, task_column=-1, scoring="rmse")
    assert result.scoring == "rmse" and not result.greater_is_better
    assert np.all(result.mean_scores > 0)  # RMSEs, not negated
    m, r = result.models.index("onehot"), result.models.index("independent")
    np.testing.assert_allclose(
        result.gain_vs_independent[m], result.mean_scores[r] - result.mean_scores[m]
    )
    assert "lower is better" in result.report()


def test_callable_scoring(small_long):
    X, y, _ = small_long

    def max_error(y_true, y_pred):
        return -np.max(np.abs(y_true - y_pred))

    result = compare_with_single_task({"onehot": _onehot()}, X, y, task_column=-1, scoring=max_error)
    assert result.scoring == "max_error" and result.greater_is_better
    assert np.all(result.scores <= 0)


def test_user_baselines_are_the_references_and_none_is_added(small_long):
    X, y, _ = small_long
    models = {
        "alone": make_pipeline(StandardScaler(), IndependentTasks(Ridge(), task_column=-1)),
        "onehot": _onehot(),  # task offsets: not the "all tasks equal" reference
        "together": PooledTasks(Ridge(), task_column=-1),
    }
    result = compare_with_single_task(models, X, y, task_column=-1)
    assert result.models == ["alone", "onehot", "together"]
    assert result.references == {"independent": "alone", "pooled": "together"}
    result = compare_with_single_task({"onehot": _onehot()}, X, y, task_column=-1, baselines=None)
    assert result.models == ["onehot"]
    assert result.references == {"independent": None, "pooled": None}
    assert np.all(np.isnan(result.gain_vs_independent)) and not result.hurt.any()
    assert "no helped/hurt flags" in result.report()


def test_int_cv_is_a_task_stratified_kfold(small_long):
    X, y, _ = small_long
    result = compare_with_single_task(
        {"onehot": _onehot()}, X, y, task_column=-1, cv=3, return_predictions=True
    )
    expected = TaskStratifiedKFold(3, shuffle=True, task_column=-1, random_state=0).split(X)
    for (train, test), (train2, test2) in zip(result.splits, expected):
        np.testing.assert_array_equal(test, test2)
    # k-fold: each row is tested once, so n_test / n_train is 1 / (k - 1).
    np.testing.assert_allclose(result.test_train_ratio, 0.5, atol=0.1)


def test_string_task_labels_and_a_named_task_column():
    pd = pytest.importorskip("pandas")
    X, y, _ = make_clustered_multitask(
        n_samples=25, n_features=3, n_tasks=3, n_clusters=1, layout="long", random_state=0
    )
    frame = pd.DataFrame(X[:, :-1], columns=["a", "b", "c"])
    frame["school"] = np.array(["x", "y", "z"])[X[:, -1].astype(int)]
    result = compare_with_single_task(
        {"onehot": _onehot("school")}, frame, y, task_column="school"
    )
    assert result.tasks.tolist() == ["x", "y", "z"]
    assert result.to_frame().loc["onehot"].index.tolist() == ["x", "y", "z"]


# --------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def classification_data():
    return make_clustered_multitask(
        n_samples=60, n_features=4, n_tasks=3, n_clusters=1, layout="long",
        classification=True, random_state=0,
    )[:2]


@pytest.mark.parametrize("scoring", ["accuracy", "roc_auc"])
def test_classification_scoring_uses_logistic_baselines(classification_data, scoring):
    X, y = classification_data
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # baselines set every changing default
        result = compare_with_single_task(
            {"pooled-lr": PooledTasks(LogisticRegression(), task_column=-1, task_features="onehot")},
            X, y, task_column=-1, scoring=scoring, cv=TaskStratifiedShuffleSplit(
                n_splits=3, test_size=0.3, random_state=0),
        )
    assert result.models == ["independent", "pooled", "pooled-lr"]
    assert np.all((result.scores >= 0) & (result.scores <= 1))
    assert result.mean_scores.mean() > 0.7


def test_wide_classification_with_missing_labels():
    X, Y, _ = make_clustered_multitask(
        n_samples=80, n_features=4, n_tasks=3, n_clusters=1, layout="wide",
        classification=True, random_state=0,
    )
    Y = Y.astype(float)
    Y[:8, 1] = np.nan
    result = compare_with_single_task(
        {"pooled-lr": PooledTasks(LogisticRegression(), task_features="onehot")},
        X, Y, scoring="roc_auc", cv=3,
    )
    assert result.models == ["independent", "pooled", "pooled-lr"]
    assert np.all((result.scores > 0.5) & (result.scores <= 1))


def test_roc_auc_skips_a_task_with_one_class_in_a_test_fold():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.randn(40, 2), np.repeat([0, 1], 20)])
    y = (X[:, 0] > 0).astype(int)
    # Task 1 has two positive rows, 20 and 21; the second split tests none.
    y[20:] = 0
    y[20:22] = 1
    X[20:22, 0] = 2.0
    splits = [(np.r_[0:15, 21:35], np.r_[15:21, 35:40]), (np.r_[5:35], np.r_[0:5, 35:40])]
    models = {
        "alone": IndependentTasks(LogisticRegression(), task_column=-1),
        "lr": PooledTasks(LogisticRegression(), task_column=-1),
    }
    result = compare_with_single_task(
        models, X, y, task_column=-1, scoring="roc_auc", cv=splits, baselines=None
    )
    assert np.all(np.isfinite(result.scores[:, :, 0]))
    assert np.all(np.isfinite(result.scores[:, 0, 1])) and np.all(np.isnan(result.scores[:, 1, 1]))
    assert np.all(result.n_scored[:, 1] == 1)
    assert np.isnan(result.pvalue_vs_independent[1, 1])  # one scored split: no test
    assert np.isfinite(result.pvalue_vs_independent[1, 0])


# --------------------------------------------------------------------------
# The paired test
# --------------------------------------------------------------------------


def test_plain_paired_t_test_matches_scipy():
    rng = np.random.RandomState(0)
    a, b = rng.randn(6, 4), rng.randn(6, 4) + 0.5
    p = _paired_test(b - a, np.full(4, 1 / 3), "t")
    np.testing.assert_allclose(p, stats.ttest_rel(b, a, axis=0).pvalue)


def test_corrected_test_inflates_the_variance_by_the_test_train_ratio():
    rng = np.random.RandomState(0)
    d = rng.randn(5, 3) + 1.0
    k, ratio = 5, 0.25 / 0.75
    t = d.mean(axis=0) / np.sqrt((1 / k + ratio) * d.var(axis=0, ddof=1))
    expected = 2 * stats.t.sf(np.abs(t), k - 1)
    np.testing.assert_allclose(_paired_test(d, np.full(3, ratio), "corrected_t"), expected)


def test_degenerate_differences():
    d = np.array(
        [
            [0.0, 0.3, 0.1, np.nan, 1.0],
            [0.0, 0.3, 0.2, np.nan, np.nan],
            [0.0, 0.3, np.nan, 1.0, np.nan],
        ]
    )
    p = _paired_test(d, np.full(5, 0.5), "corrected_t")
    assert p[0] == 1.0  # identical models: no difference at all
    assert p[1] == 0.0  # the same non-zero difference on every split
    assert 0 < p[2] < 1  # two splits: a test with one degree of freedom
    assert np.isnan(p[3]) and np.isnan(p[4])  # one split: nothing to test


def test_identical_models_are_neither_helped_nor_hurt(small_long):
    X, y, _ = small_long
    twin = IndependentTasks(RidgeCV(alphas=ALPHAS), task_column=-1)
    result = compare_with_single_task(
        {"independent": twin, "twin": twin}, X, y, task_column=-1
    )
    t = result.models.index("twin")
    np.testing.assert_array_equal(result.pvalue_vs_independent[t], 1.0)
    assert not result.hurt[t].any() and not result.helped[t].any()


def test_a_single_split_warns_and_flags_nothing(small_long):
    X, y, _ = small_long
    cv = TaskStratifiedShuffleSplit(n_splits=1, test_size=0.3, random_state=0)
    with pytest.warns(UserWarning, match="single split"):
        result = compare_with_single_task({"onehot": _onehot()}, X, y, task_column=-1, cv=cv)
    assert np.all(np.isnan(result.pvalue_vs_independent))
    assert not result.hurt.any() and not result.helped.any()


# --------------------------------------------------------------------------
# Exports and report
# --------------------------------------------------------------------------


def test_to_dict_is_strict_json(transfer_result):
    result, _ = transfer_result
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["tasks"] == list(range(15))
    assert set(data["models"]) == {"independent", "pooled"}
    per_task = data["models"]["pooled"]["per_task"]
    assert per_task["hurt"][12:] == [True, True, True]
    assert per_task["pvalue_vs_independent"] == [
        None if np.isnan(p) else p for p in result.pvalue_vs_independent[1]
    ]
    assert data["models"]["independent"]["per_task"]["pvalue_vs_independent"] == [None] * 15
    assert len(per_task["fold_scores"]) == 5 and len(per_task["fold_scores"][0]) == 15
    assert data["models"]["pooled"]["summary"]["n_hurt"] == 3
    assert json.loads(result.to_json())["test"] == "corrected_t"


def test_to_frame_and_summary_frame(transfer_result):
    pytest.importorskip("pandas")
    result, _ = transfer_result
    frame = result.to_frame()
    assert frame.index.names == ["model", "task"]
    assert frame.shape == (2 * 15, 9)
    pooled = frame.loc["pooled"]
    assert pooled.index[pooled["hurt"]].tolist() == [12, 13, 14]
    np.testing.assert_allclose(pooled["mean"], result.mean_scores[1])
    summary = result.summary_frame()
    assert summary.loc["pooled", "n_hurt"] == 3
    assert list(summary.index) == ["independent", "pooled"]


def test_to_frame_without_pandas_is_a_clear_error(transfer_result, monkeypatch):
    result, _ = transfer_result
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="to_frame requires pandas.*to_dict"):
        result.to_frame()


def test_report_lists_every_task_with_flags_and_notes(transfer_result):
    result, _ = transfer_result
    text = result.report(notes={12: "unrelated", 13: "unrelated", 14: "unrelated"})
    assert str(result) == result.report()
    lines = text.splitlines()
    assert "corrected paired t-test" in lines[1]
    row = next(line for line in lines if line.lstrip().startswith("12 "))
    assert "unrelated" in row and row.split()[-2] == "-"  # pooled cell flagged as hurt
    assert text.count("unrelated") == 3
    assert any(line.startswith("pooled ") for line in lines)
    # With few lines allowed, the flagged tasks are shown.
    short = result.report(max_tasks=3)
    assert "3 of 15 tasks shown, those with a flag" in short
    assert "ComparisonResult(models=['independent', 'pooled'], n_tasks=15" in repr(result)


def _result_with_an_extreme_task(n_tasks=6):
    """Pooled loses everywhere, on task 0 by an R^2 of -4000; "mtl" gains a little on 4 tasks."""
    rng = np.random.RandomState(0)
    independent = 0.8 + 0.01 * rng.randn(3, n_tasks)
    pooled = independent - 0.1
    pooled[:, 0] = -4249.0 + rng.randn(3)
    mtl = independent + np.where(np.arange(n_tasks) < 4, 0.02, -0.01)
    return ComparisonResult(
        ["independent", "pooled", "mtl"], np.arange(n_tasks), np.stack([independent, pooled, mtl]),
        "r2", True, {"independent": "independent", "pooled": "pooled"}, np.full(n_tasks, 1 / 3),
        np.zeros((3, 3)),
    )


def test_summary_is_robust_to_one_extreme_task_and_counts_better_and_worse_tasks():
    result = _result_with_an_extreme_task()
    mtl, pooled = result.summary["mtl"], result.summary["pooled"]
    assert mtl["mean_gain_vs_pooled"] > 700  # the mean is ruined by task 0 ...
    assert 0.1 < mtl["median_gain_vs_pooled"] < 0.15  # ... the median is not
    assert pooled["mean_score"] < -700 and 0.6 < pooled["median_score"] < 0.75
    assert (mtl["n_better"], mtl["n_worse"]) == (4, 2)
    assert (pooled["n_better"], pooled["n_worse"]) == (0, 6)
    table = result.report().split("\n\n")[1].splitlines()
    assert table[0].split() == ["model", "mean", "R^2", "median", "±std", "gain", "vs", "indep.",
                                "gain", "vs", "pooled", "better", "worse", "helped", "hurt", "fit", "(s)"]
    assert table[3].split()[:8] == [
        "mtl", f"{mtl['mean_score']:.4f}", f"{mtl['median_score']:.4f}", f"{mtl['std_score']:.4f}",
        f"{mtl['median_gain_vs_independent']:+.4f}", f"{mtl['median_gain_vs_pooled']:+.4f}", "4", "2",
    ]


def test_report_columns_stay_aligned_with_wide_numbers():
    result = _result_with_an_extreme_task()
    text = result.report()
    tasks = text.splitlines()[2:2 + 1 + 6 + 2]  # header, 6 tasks, mean and median
    # Every column ends at the same position on every line: right-aligned cells.
    assert "-4250." in tasks[1] and len(tasks[1]) == len(tasks[2])
    # The "±" of a model's column is at the same position on every line.
    for line in tasks[2:7]:
        assert [i for i, c in enumerate(line) if c == "±"] == [
            i for i, c in enumerate(tasks[1]) if c == "±"
        ]
    # Summary: every column, right-aligned, ends where its header ends.
    summary = text.split("\n\n")[1].splitlines()[:4]
    for header in ("mean R^2", "median", "±std", "gain vs pooled", "fit (s)"):
        end = summary[0].index(header) + len(header)
        assert all(line[end - 1] != " " and (len(line) == end or line[end] == " ")
                   for line in summary[1:])


def test_report_lists_all_tasks_on_request():
    result = _result_with_an_extreme_task(n_tasks=40)
    short = result.report()
    assert "of 40 tasks shown" in short and "report(max_tasks=None) or to_frame() for all" in short
    full = result.report(max_tasks=None)
    assert "tasks shown" not in full
    assert [line.split()[0] for line in full.splitlines()[3:43]] == [str(t) for t in range(40)]


class _WarningRidge(Ridge):
    """A Ridge that warns on every fit, as an iterative solver that stops early."""

    def fit(self, X, y, sample_weight=None):
        warnings.warn("did not converge in this fit", UserWarning)
        return super().fit(X, y, sample_weight)


def test_fit_warnings_are_folded_into_one_line_per_model(small_long):
    X, y, _ = small_long
    models = {"noisy": IndependentTasks(_WarningRidge(), task_column=-1), "onehot": _onehot()}
    with pytest.warns(UserWarning) as record:
        result = compare_with_single_task(models, X, y, task_column=-1)
    # One warning per model instead of one per task per fit (5 tasks x 5 splits).
    assert [str(w.message) for w in record] == [
        "noisy: 25 warning(s) in 5 of 5 fits, first UserWarning: did not converge in this fit "
        "(all of them in result.fit_warnings)."
    ]
    assert len(result.fit_warnings["noisy"]) == 25 and result.fit_warnings["onehot"] == []
    assert result.fit_warnings["noisy"][0] == (0, "UserWarning", "did not converge in this fit")
    lines = result.report().splitlines()
    start = lines.index("Warnings during the fits, one line per model:")
    assert lines[start + 1:] == [
        "  noisy: 25 warning(s) in 5 of 5 fits, first UserWarning: did not converge in this fit"
    ]
    assert json.loads(result.to_json())["fit_warnings"]["noisy"][0] == [0, "UserWarning",
                                                                         "did not converge in this fit"]
    # Warnings as errors stay errors.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="did not converge"):
            compare_with_single_task(models, X, y, task_column=-1)


def test_progress_goes_to_stderr(small_long, capsys):
    X, y, _ = small_long
    compare_with_single_task({"onehot": _onehot()}, X, y, task_column=-1, verbose=1)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "[compare] 15/15 fits" in captured.err


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "estimators, error, match",
    [
        ({}, ValueError, "non-empty dict"),
        ([Ridge()], ValueError, "non-empty dict"),
        ({"a": "ridge"}, TypeError, r"estimators\['a'\] is not an estimator"),
        ({1: Ridge()}, TypeError, "Model names must be strings"),
    ],
)
def test_bad_estimators(small_long, estimators, error, match):
    X, y, _ = small_long
    with pytest.raises(error, match=match):
        compare_with_single_task(estimators, X, y, task_column=-1)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"scoring": "r3"}, ValueError, "Unknown scoring 'r3'; use one of"),
        ({"scoring": 3}, TypeError, "scoring must be a per-task metric name or a callable"),
        ({"alpha": 1.5}, ValueError, r"alpha must be a significance level in \(0, 1\)"),
        ({"test": "wilcoxon"}, ValueError, "test must be one of"),
        ({"baselines": "all"}, ValueError, 'baselines must be "auto" or None'),
        ({"task_column": 0}, ValueError, r"estimators\['onehot'\] reads its task labels from"),
    ],
)
def test_bad_parameters(small_long, kwargs, error, match):
    X, y, _ = small_long
    kwargs = {"task_column": -1, **kwargs}
    with pytest.raises(error, match=match):
        compare_with_single_task({"onehot": _onehot()}, X, y, **kwargs)


def test_bad_shapes_and_name_clash(small_long):
    X, y, _ = small_long
    with pytest.raises(ValueError, match="X has 150 rows but y has shape"):
        compare_with_single_task({"onehot": _onehot()}, X, y[:-1], task_column=-1)
    with pytest.raises(ValueError, match="long layout.*y must be 1-D"):
        compare_with_single_task({"onehot": _onehot()}, X, np.c_[y, y], task_column=-1)
    with pytest.raises(ValueError, match="named 'pooled' but is not a PooledTasks"):
        compare_with_single_task({"pooled": _onehot()}, X, y, task_column=-1)


def test_a_model_predicting_the_wrong_shape_is_named(small_long):
    X, y, _ = small_long
    Y = np.column_stack([y, -y])
    with pytest.raises(ValueError, match=r"_FirstColumn returned predictions of shape \(\d+,\) "
                                         r"for test targets of shape \(\d+, 2\).*one column per task"):
        compare_with_single_task({"first": _FirstColumn()}, X[:, :-1], Y, baselines=None)


class _FirstColumn(Ridge):
    """Predicts only the first task of a wide y."""

    def predict(self, X):
        return super().predict(X)[:, 0]
