"""Task-aware splitters: per-task ratios, partitions, reproducibility, errors."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn import config_context
from sklearn.linear_model import Ridge
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    KFold,
    StratifiedKFold,
    cross_val_score,
    cross_validate,
)

from skmtl.model_selection import LeaveTasksOut, TaskStratifiedKFold, TaskStratifiedShuffleSplit

SIZES = [1, 2, 3, 7, 10, 23, 40]  # includes the one-row and two-row edge cases


@pytest.fixture
def tasks():
    """Task label per row: tasks of very different sizes, rows interleaved."""
    labels = np.repeat([f"t{i}" for i in range(len(SIZES))], SIZES)
    return labels[np.random.RandomState(0).permutation(len(labels))]


def _counts(tasks, rows):
    return {t: int(np.sum(tasks[rows] == t)) for t in np.unique(tasks)}


def _expected(n_t, test_size=None, train_size=None):
    """The documented rounding rule, written out per task."""
    if n_t == 1:
        return 1, 0
    if test_size is None and train_size is None:
        test_size = 0.1
    if test_size is not None:
        n_test = int(np.ceil(test_size * n_t - 1e-9)) if isinstance(test_size, float) else test_size
        n_test = min(max(n_test, 1), n_t - 1)
        if train_size is None:
            return n_t - n_test, n_test
    else:
        n_train = int(np.floor(train_size * n_t + 1e-9)) if isinstance(train_size, float) else train_size
        n_train = min(max(n_train, 1), n_t - 1)
        return n_train, n_t - n_train
    n_train = int(np.floor(train_size * n_t + 1e-9)) if isinstance(train_size, float) else train_size
    return min(max(n_train, 1), n_t - n_test), n_test


# --- TaskStratifiedShuffleSplit ------------------------------------------------------


@pytest.mark.parametrize(
    "test_size, train_size",
    [(0.25, None), (None, 0.1), (None, 0.3), (0.2, 0.5), (0.3, 0.7), (None, None), (2, None), (None, 3), (3, 0.5)],
)
def test_shuffle_split_per_task_counts(tasks, test_size, train_size):
    cv = TaskStratifiedShuffleSplit(5, test_size=test_size, train_size=train_size, random_state=0)
    X = np.zeros((len(tasks), 2))
    sizes = dict(zip(*np.unique(tasks, return_counts=True)))
    for train, test in cv.split(X, groups=tasks):
        assert len(np.intersect1d(train, test)) == 0
        assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
        train_counts, test_counts = _counts(tasks, train), _counts(tasks, test)
        for task, n_t in sizes.items():
            assert (train_counts[task], test_counts[task]) == _expected(n_t, test_size, train_size)
        if train_size is None or test_size is None:
            assert len(train) + len(test) == len(tasks)  # complement: every row used


def test_school_protocol_exact_ratio():
    # 75/25 per school: exact when n_t is a multiple of 4, ceil otherwise.
    groups = np.repeat(np.arange(5), [8, 20, 100, 9, 30])
    cv = TaskStratifiedShuffleSplit(1, test_size=0.25, random_state=0)
    _, test = next(cv.split(groups, groups=groups))
    assert _counts(groups, test) == {0: 2, 1: 5, 2: 25, 3: 3, 4: 8}
    # 0.3 * 10 is 3.0000000000000004 in floating point; still 3 test rows.
    groups = np.zeros(10)
    cv = TaskStratifiedShuffleSplit(1, test_size=0.3, random_state=0)
    _, test = next(cv.split(groups, groups=groups))
    assert len(test) == 3


def test_shuffle_split_is_reproducible_and_random(tasks):
    X = np.zeros((len(tasks), 1))
    first = list(TaskStratifiedShuffleSplit(4, test_size=0.3, random_state=1).split(X, groups=tasks))
    again = list(TaskStratifiedShuffleSplit(4, test_size=0.3, random_state=1).split(X, groups=tasks))
    other = list(TaskStratifiedShuffleSplit(4, test_size=0.3, random_state=2).split(X, groups=tasks))
    for (a, b), (c, d) in zip(first, again):
        assert_array_equal(a, c) and assert_array_equal(b, d)
    assert not all(np.array_equal(a[1], c[1]) for a, c in zip(first, other))
    assert len({tuple(test) for _, test in first}) == 4  # iterations differ
    # over many splits every row of a splittable task is tested sometimes
    many = TaskStratifiedShuffleSplit(60, test_size=0.5, random_state=0)
    tested = np.concatenate([t for _, t in many.split(X, groups=tasks)])
    splittable = np.flatnonzero(tasks != "t0")
    assert np.all(np.isin(splittable, tested))


def test_shuffle_split_task_column_numpy_and_dataframe(tasks):
    codes = np.unique(tasks, return_inverse=True)[1]
    X = np.column_stack([np.random.RandomState(0).randn(len(tasks)), codes])
    frame = pd.DataFrame({"x": X[:, 0], "school": tasks})
    def splitter(task_column=None):
        return TaskStratifiedShuffleSplit(3, test_size=0.25, task_column=task_column, random_state=0)

    by_groups = list(splitter().split(X, groups=codes))
    by_position = list(splitter(task_column=1).split(X))
    by_name = list(splitter(task_column="school").split(frame))
    for (a, b), (c, d), (e, f) in zip(by_groups, by_position, by_name):
        assert_array_equal(a, c) and assert_array_equal(b, d)
        assert_array_equal(a, e) and assert_array_equal(b, f)


def test_groups_take_precedence_over_task_column():
    X = np.column_stack([np.zeros(8), np.repeat([0, 1], 4)])
    groups = np.repeat([0, 1, 2, 3], 2)  # four tasks of two rows: one test row each
    cv = TaskStratifiedShuffleSplit(1, test_size=0.25, task_column=-1, random_state=0)
    _, test = next(cv.split(X, groups=groups))
    assert len(test) == 4


@pytest.mark.parametrize("groups", [["7", "007"] * 4, np.array(["1", "1.0"] * 4, dtype=object)])
def test_string_task_labels_are_kept_as_given(groups):
    # Two tasks of four rows, not one task 7 (or 1) of eight.
    X = np.zeros((8, 1))
    folds = [test for _, test in LeaveTasksOut(2).split(X, groups=groups)]
    assert sorted(map(list, folds)) == [[0, 2, 4, 6], [1, 3, 5, 7]]
    _, test = next(TaskStratifiedShuffleSplit(1, test_size=0.25, random_state=0).split(X, groups=groups))
    assert len(test) == 2  # one test row per task
    with pytest.raises(ValueError, match="they mix strings and numbers"):
        next(LeaveTasksOut(2).split(X, groups=["7", 7] * 4))


def test_wide_layout_is_one_group():
    X, Y = np.zeros((23, 2)), np.zeros((23, 3))
    train, test = next(TaskStratifiedShuffleSplit(1, test_size=0.25, random_state=0).split(X, Y))
    assert (len(train), len(test)) == (17, 6)  # ceil(0.25 * 23) = 6 as ShuffleSplit


def test_shuffle_split_in_cross_val_score_and_grid_search():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.randn(60, 2), np.repeat([0, 1, 2], 20)])
    y = X[:, 0] + X[:, 2] + 0.1 * rng.randn(60)
    cv = TaskStratifiedShuffleSplit(4, test_size=0.25, task_column=-1, random_state=0)
    assert cross_val_score(Ridge(), X, y, cv=cv).shape == (4,)
    search = GridSearchCV(Ridge(), {"alpha": [0.1, 10.0]}, cv=cv).fit(X, y)
    assert search.n_splits_ == 4
    groups = X[:, -1]
    by_groups = TaskStratifiedShuffleSplit(4, test_size=0.25, random_state=0)
    assert_array_equal(
        cross_val_score(Ridge(), X, y, cv=by_groups, groups=groups),
        cross_val_score(Ridge(), X, y, cv=cv),
    )


def test_shuffle_split_get_n_splits_and_repr():
    cv = TaskStratifiedShuffleSplit(7, test_size=0.25, task_column="school", random_state=0)
    assert cv.get_n_splits() == 7
    assert " ".join(repr(cv).split()) == (
        "TaskStratifiedShuffleSplit(n_splits=7, random_state=0, task_column='school', "
        "test_size=0.25, train_size=None)"
    )


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, -0.1, 0, -2, True, "0.2"])
def test_shuffle_split_size_errors(bad):
    with pytest.raises(ValueError, match=rf"test_size={bad!r} should be a float in \(0, 1\)"):
        TaskStratifiedShuffleSplit(test_size=bad)
    with pytest.raises(ValueError, match=rf"train_size={bad!r} should be a float in \(0, 1\)"):
        TaskStratifiedShuffleSplit(train_size=bad)


def test_shuffle_split_other_errors(tasks):
    with pytest.raises(ValueError, match=r"test_size \+ train_size = 1.2 should be <= 1"):
        TaskStratifiedShuffleSplit(test_size=0.4, train_size=0.8)
    with pytest.raises(ValueError, match="n_splits must be an int >= 1; got n_splits=0"):
        TaskStratifiedShuffleSplit(0)
    with pytest.raises(TypeError, match="task_column must be an int position, a column name or None; got 1.0"):
        TaskStratifiedShuffleSplit(task_column=1.0)
    frame = pd.DataFrame({"x": np.zeros(4), "school": [0, 0, 1, 1]})
    with pytest.raises(ValueError, match=r"task_column='site' is not a column of X \(2 columns: 'x', 'school'\)"):
        next(TaskStratifiedShuffleSplit(task_column="site").split(frame))
    with pytest.raises(ValueError, match="task_column=5 is out of range for X with 2 columns"):
        next(TaskStratifiedShuffleSplit(task_column=5).split(frame.to_numpy()))
    with pytest.raises(ValueError, match=r"Found input variables with inconsistent numbers of samples"):
        next(TaskStratifiedShuffleSplit().split(np.zeros((4, 1)), groups=[0, 1]))
    with pytest.raises(ValueError, match=r"Every task has a single row \(3 rows in all\)"):
        next(TaskStratifiedShuffleSplit().split(np.zeros((3, 1)), groups=[0, 1, 2]))


# --- TaskStratifiedKFold ------------------------------------------------------------


def test_kfold_equals_sklearn_stratified_kfold_on_task_labels():
    rng = np.random.RandomState(0)
    groups = np.concatenate([[0, 1, 2], rng.randint(0, 3, size=50)])  # first seen in sorted order
    X = np.zeros((len(groups), 1))
    ours = list(TaskStratifiedKFold(4).split(X, groups=groups))
    ref = list(StratifiedKFold(4).split(X, groups))
    for (a, b), (c, d) in zip(ours, ref):
        assert_array_equal(a, c) and assert_array_equal(b, d)


@pytest.mark.parametrize("shuffle, random_state", [(False, None), (True, 0)])
def test_kfold_partitions_every_task(shuffle, random_state):
    sizes = [5, 7, 12, 31, 9]
    groups = np.repeat(np.arange(5), sizes)[np.random.RandomState(1).permutation(sum(sizes))]
    X = np.zeros((len(groups), 1))
    k = 5
    cv = TaskStratifiedKFold(k, shuffle=shuffle, random_state=random_state)
    tests = []
    for train, test in cv.split(X, groups=groups):
        assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == len(groups)
        for t, n_t in enumerate(sizes):
            assert np.sum(groups[test] == t) in (n_t // k, -(-n_t // k))
        tests.append(test)
    assert_array_equal(np.sort(np.concatenate(tests)), np.arange(len(groups)))
    fold_sizes = [len(t) for t in tests]
    assert max(fold_sizes) - min(fold_sizes) <= 1


def test_kfold_shuffle_is_reproducible_and_differs():
    groups = np.repeat([0, 1], [10, 12])
    X = np.zeros((22, 1))
    a = [t for _, t in TaskStratifiedKFold(3, shuffle=True, random_state=0).split(X, groups=groups)]
    b = [t for _, t in TaskStratifiedKFold(3, shuffle=True, random_state=0).split(X, groups=groups)]
    c = [t for _, t in TaskStratifiedKFold(3).split(X, groups=groups)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_kfold_wide_layout_equals_kfold():
    X = np.zeros((23, 2))
    for (a, b), (c, d) in zip(TaskStratifiedKFold(4).split(X), KFold(4).split(X)):
        assert_array_equal(a, c) and assert_array_equal(b, d)


def test_kfold_dataframe_task_column_and_cross_val_score():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"x": rng.randn(40), "site": np.repeat(["a", "b"], 20)})
    y = frame["x"].to_numpy() + 0.1 * rng.randn(40)
    cv = TaskStratifiedKFold(4, task_column="site")
    for _, test in cv.split(frame):
        assert _counts(frame["site"].to_numpy(), test) == {"a": 5, "b": 5}
    scores = cross_val_score(Ridge(), frame[["x"]], y, cv=TaskStratifiedKFold(4), groups=frame["site"])
    assert scores.shape == (4,)
    assert cv.get_n_splits() == 4
    assert " ".join(repr(cv).split()) == (
        "TaskStratifiedKFold(n_splits=4, random_state=None, shuffle=False, stratify_y=False, "
        "task_column='site')"
    )


def test_kfold_errors():
    with pytest.raises(ValueError, match="n_splits must be an int >= 2; got n_splits=1"):
        TaskStratifiedKFold(1)
    with pytest.raises(ValueError, match="n_splits must be an int >= 2; got n_splits=2.0"):
        TaskStratifiedKFold(2.0)
    with pytest.raises(TypeError, match="shuffle must be True or False; got 1"):
        TaskStratifiedKFold(shuffle=1)
    with pytest.raises(ValueError, match="Setting random_state has no effect since shuffle is False in TaskStratifiedKFold"):
        TaskStratifiedKFold(random_state=0)
    groups = np.repeat(["big", "small", "tiny"], [10, 3, 1])
    with pytest.raises(
        ValueError,
        match=r"TaskStratifiedKFold\(n_splits=5\) needs at least 5 rows per task \(one per test fold\); "
        r"task 'small', 'tiny' has only 3 rows \(2 tasks too small\)",
    ):
        next(TaskStratifiedKFold(5).split(np.zeros((14, 1)), groups=groups))
    with pytest.raises(ValueError, match=r"task 1 has only 1 row\. Lower n_splits"):
        next(TaskStratifiedKFold(2).split(np.zeros((4, 1)), groups=[0, 0, 0, 1]))
    with pytest.raises(ValueError, match="Cannot have n_splits=5 greater than the number of samples: n_samples=3"):
        next(TaskStratifiedKFold(5).split(np.zeros((3, 1))))
    with pytest.raises(ValueError, match="task_column='site' is not a column of X"):
        next(TaskStratifiedKFold(task_column="site").split(pd.DataFrame({"x": np.zeros(10)})))


def test_kfold_stratify_y_spreads_every_class_of_every_task_over_the_folds():
    # Task "a": its 3 positives are consecutive; plain folds put them in one test fold.
    groups = np.repeat(["a", "b"], [9, 6])
    y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1])
    X = np.zeros((15, 1))
    plain = [y[test][:3].sum() for _, test in TaskStratifiedKFold(3).split(X, y, groups)]
    assert plain == [0, 0, 3]  # fold 3 trains task "a" on one class only
    folds = list(TaskStratifiedKFold(3, stratify_y=True).split(X, y, groups))
    for train, test in folds:
        for task in ("a", "b"):
            in_task = groups[test] == task
            assert sorted(np.bincount(y[test][in_task], minlength=2)) == [1, 2] or task == "b"
            assert set(y[train][groups[train] == task]) == {0, 1}
    assert_array_equal(np.sort(np.concatenate([test for _, test in folds])), np.arange(15))
    with pytest.raises(ValueError, match="stratify_y=True needs the class labels: pass y to split"):
        next(TaskStratifiedKFold(3, stratify_y=True).split(X, groups=groups))


# --- LeaveTasksOut -------------------------------------------------------------------


def test_leave_tasks_out_holds_out_whole_tasks(tasks):
    X = np.zeros((len(tasks), 1))
    cv = LeaveTasksOut(3)
    seen = []
    for train, test in cv.split(X, groups=tasks):
        assert len(np.intersect1d(np.unique(tasks[train]), np.unique(tasks[test]))) == 0
        assert len(train) + len(test) == len(tasks)
        seen.append(test)
    assert_array_equal(np.sort(np.concatenate(seen)), np.arange(len(tasks)))


def test_leave_tasks_out_equals_group_kfold(tasks):
    X = np.zeros((len(tasks), 1))  # distinct task sizes: no ties in the greedy assignment
    ours = {tuple(test) for _, test in LeaveTasksOut(3).split(X, groups=tasks)}
    ref = {tuple(test) for _, test in GroupKFold(3).split(X, groups=tasks)}
    assert ours == ref


def test_leave_one_task_out_and_shuffle(tasks):
    X = np.zeros((len(tasks), 1))
    n_tasks = len(np.unique(tasks))
    folds = [np.unique(tasks[test]) for _, test in LeaveTasksOut(n_tasks).split(X, groups=tasks)]
    assert all(len(f) == 1 for f in folds) and len(folds) == n_tasks
    cv = LeaveTasksOut(3, shuffle=True, random_state=0)
    shuffled = [np.unique(tasks[t]) for _, t in cv.split(X, groups=tasks)]
    assert sorted(len(f) for f in shuffled) == [2, 2, 3]  # 7 tasks in 3 folds
    again = [np.unique(tasks[t]) for _, t in cv.split(X, groups=tasks)]
    assert all(np.array_equal(a, b) for a, b in zip(shuffled, again))


def test_leave_tasks_out_task_column_and_cross_validate():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"x": rng.randn(30), "school": np.repeat(["a", "b", "c"], [8, 10, 12])})
    y = 2 * frame["x"].to_numpy() + rng.randn(30)
    cv = LeaveTasksOut(3, task_column="school")
    tested = [set(frame["school"].iloc[test]) for _, test in cv.split(frame)]
    assert sorted(map(sorted, tested)) == [["a"], ["b"], ["c"]]
    result = cross_validate(Ridge(), frame[["x"]], y, cv=LeaveTasksOut(3), groups=frame["school"])
    assert len(result["test_score"]) == 3 and cv.get_n_splits() == 3


def test_groups_are_routed_with_metadata_routing():
    rng = np.random.RandomState(0)
    X, y = rng.randn(30, 2), rng.randn(30)
    groups = np.repeat([0, 1, 2], 10)
    with config_context(enable_metadata_routing=True):
        for cv in (LeaveTasksOut(3), TaskStratifiedKFold(2), TaskStratifiedShuffleSplit(2, random_state=0)):
            result = cross_validate(Ridge(), X, y, cv=cv, params={"groups": groups})
            assert len(result["test_score"]) == cv.get_n_splits()


def test_leave_tasks_out_errors():
    with pytest.raises(ValueError, match="LeaveTasksOut needs each row's task: pass groups to split"):
        next(LeaveTasksOut(2).split(np.zeros((4, 1))))
    with pytest.raises(ValueError, match="Cannot have n_splits=5 greater than the number of tasks: 2"):
        next(LeaveTasksOut(5).split(np.zeros((4, 1)), groups=[0, 0, 1, 1]))
    with pytest.raises(ValueError, match="Setting random_state has no effect since shuffle is False in LeaveTasksOut"):
        LeaveTasksOut(random_state=0)
    with pytest.raises(ValueError, match="n_splits must be an int >= 2; got n_splits=None"):
        LeaveTasksOut(None)
    with pytest.raises(ValueError, match="Task labels could not be sorted"):
        next(LeaveTasksOut(2).split(np.zeros((4, 1)), groups=np.array(["a", 1, "b", 2], dtype=object)))


def test_leave_tasks_out_with_population_models():
    # LeaveTasksOut's docstring names unseen_task="population": the models
    # that have it give finite scores on held-out tasks.
    from sklearn.model_selection import cross_val_score

    from skmtl.linear_model import HierarchicalRegressor, MeanRegularizedRegressor

    rng = np.random.RandomState(0)
    tasks = np.repeat(np.arange(12), 20)
    X = np.column_stack([rng.randn(len(tasks), 2), tasks])
    y = X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.randn(12)[tasks] + 0.3 * rng.randn(len(tasks))
    cv = LeaveTasksOut(n_splits=4, task_column=-1)
    assert "unknown_task" not in LeaveTasksOut.__doc__
    assert 'unseen_task="population"' in LeaveTasksOut.__doc__
    for model in (
        MeanRegularizedRegressor(alpha=0.1, task_column=-1, unseen_task="population"),
        HierarchicalRegressor(task_column=-1, unseen_task="population"),
    ):
        scores = cross_val_score(model, X, y, cv=cv, error_score="raise")
        assert scores.shape == (4,) and np.all(np.isfinite(scores)) and np.all(scores > 0.3)
        with pytest.raises(ValueError, match=r"Unknown task label\(s\)"):
            cross_val_score(model.set_params(unseen_task="error"), X, y, cv=cv, error_score="raise")
