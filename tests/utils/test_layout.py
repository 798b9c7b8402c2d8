"""stack_tasks / unstack_tasks: per-task lists <-> the long layout."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal

from skmtl._data import check_task_data
from skmtl.utils import stack_tasks, unstack_tasks


def _tasks(seed=0, sizes=(3, 5, 2), n_features=2):
    rng = np.random.RandomState(seed)
    Xs = [rng.randn(n, n_features) for n in sizes]
    ys = [rng.randn(n) for n in sizes]
    return Xs, ys


def test_stack_puts_labels_in_the_last_column():
    Xs, ys = _tasks()
    X, y = stack_tasks(Xs, ys)
    assert X.shape == (10, 3) and X.dtype == np.float64
    assert_array_equal(X[:, :-1], np.vstack(Xs))
    assert_array_equal(X[:, -1], [0, 0, 0, 1, 1, 1, 1, 1, 2, 2])
    assert_array_equal(y, np.concatenate(ys))
    data = check_task_data(X, y, task_column=-1)  # what estimators will see
    assert_array_equal(data.n_samples_per_task, [3, 5, 2])


def test_stack_then_unstack_round_trip():
    Xs, ys = _tasks()
    Xs2, ys2, tasks = unstack_tasks(*stack_tasks(Xs, ys, tasks=[7, 3, 5]))
    assert_array_equal(tasks, [3, 5, 7])
    assert tasks.dtype.kind == "i"
    for got_X, got_y, t in zip(Xs2, ys2, [1, 2, 0]):
        assert_array_equal(got_X, Xs[t])
        assert_array_equal(got_y, ys[t])


def test_unstack_then_stack_round_trip(long_data):
    X, y = long_data  # shuffled rows, task in the last column
    Xs, ys, tasks = unstack_tasks(X, y)
    assert_array_equal(tasks, [0, 1, 2])
    assert [len(X_t) for X_t in Xs] == [15, 25, 20]
    X2, y2 = stack_tasks(Xs, ys, tasks=tasks)
    order = np.argsort(X[:, -1], kind="stable")  # grouped by task, order kept
    assert_array_equal(X2, X[order])
    assert_array_equal(y2, y[order])


def test_unstack_task_column_elsewhere():
    X = np.array([[1.0, 9, 2], [3.0, 8, 4], [5.0, 9, 6]])
    Xs, ys, tasks = unstack_tasks(X, [1, 2, 3], task_column=1)
    assert_array_equal(tasks, [8, 9])
    assert_array_equal(Xs[1], [[1.0, 2], [5.0, 6]])
    assert_array_equal(ys[1], [1, 3])


def test_string_labels_give_an_object_array():
    Xs, ys = _tasks()
    X, y = stack_tasks(Xs, ys, tasks=["paris", "lyon", "nice"])
    assert X.dtype == object
    assert list(X[:, -1]) == ["paris"] * 3 + ["lyon"] * 5 + ["nice"] * 2
    Xs2, ys2, tasks = unstack_tasks(X, y)
    assert list(tasks) == ["lyon", "nice", "paris"]
    assert Xs2[0].dtype == np.float64  # numeric features come back numeric
    assert_array_equal(Xs2[2], Xs[0])
    assert_array_equal(ys2[0], ys[1])


def test_string_labels_are_kept_as_given():
    # "7" and "007" name two tasks (they were once read as the number 7).
    Xs, ys = _tasks()
    X, y = stack_tasks(Xs, ys, tasks=["7", "007", "1.0"])
    Xs2, ys2, tasks = unstack_tasks(X, y)
    assert tasks.tolist() == ["007", "1.0", "7"]
    assert_array_equal(Xs2[0], Xs[1])
    assert_array_equal(ys2[2], ys[0])
    frame_X, _ = stack_tasks([pd.DataFrame(X_t, columns=["a", "b"]) for X_t in Xs], ys, tasks=["7", "007", "1"])
    assert unstack_tasks(frame_X, y, task_column="task")[2].tolist() == ["007", "1", "7"]


def test_float32_is_kept_when_it_holds_the_labels():
    Xs = [np.ones((2, 1), dtype=np.float32), np.zeros((1, 1), dtype=np.float32)]
    X, _ = stack_tasks(Xs, [[1, 2], [3]])
    assert X.dtype == np.float32
    X, _ = stack_tasks(Xs, [[1, 2], [3]], tasks=[0, 2**24 + 1])
    assert X.dtype == np.float64 and X[-1, -1] == 2**24 + 1


def test_sparse_blocks_give_csr():
    Xs, ys = _tasks()
    blocks = [sp.csr_matrix(np.where(X_t > 0, X_t, 0)) for X_t in Xs]
    blocks[1] = blocks[1].toarray()  # mixed dense / sparse
    X, y = stack_tasks(blocks, ys, tasks=[0.5, 1.5, 2.5])
    assert sp.issparse(X) and X.format == "csr" and X.shape == (10, 3)
    assert_array_equal(X[:, -1].toarray().ravel(), np.repeat([0.5, 1.5, 2.5], [3, 5, 2]))
    Xs2, ys2, tasks = unstack_tasks(X, y)
    assert_array_equal(tasks, [0.5, 1.5, 2.5])
    assert all(sp.issparse(X_t) and X_t.format == "csr" for X_t in Xs2)
    assert_array_equal(Xs2[1].toarray(), blocks[1])
    assert_array_equal(Xs2[2].toarray(), blocks[2].toarray())


def test_sparse_with_string_labels_raises():
    Xs, ys = _tasks()
    with pytest.raises(ValueError, match="Non-numeric task labels cannot be stored in a sparse"):
        stack_tasks([sp.csr_matrix(X_t) for X_t in Xs], ys, tasks=["a", "b", "c"])


def test_dataframes_in_dataframes_out():
    Xs = [pd.DataFrame({"age": [10.0, 11], "score": [1.0, 2]}), pd.DataFrame({"age": [12.0], "score": [3.0]})]
    X, y = stack_tasks(Xs, [pd.Series([1, 2]), pd.Series([3])], tasks=["s1", "s2"])
    assert list(X.columns) == ["age", "score", "task"]
    assert list(X["task"]) == ["s1", "s1", "s2"]
    assert_array_equal(X.index, [0, 1, 2])
    assert_array_equal(y, [1, 2, 3])

    X = X.set_index(pd.Index([30, 20, 10]))
    Xs2, ys2, tasks = unstack_tasks(X, pd.Series(y, index=X.index), task_column="task")
    assert list(tasks) == ["s1", "s2"]
    assert isinstance(Xs2[0], pd.DataFrame) and list(Xs2[0].columns) == ["age", "score"]
    assert_array_equal(Xs2[0].index, [30, 20])
    assert isinstance(ys2[1], pd.Series) and list(ys2[1]) == [3]


def test_dataframe_errors():
    a = pd.DataFrame({"x": [1.0]})
    with pytest.raises(ValueError, match=r"Xs\[1\] has columns \['z'\] but Xs\[0\] has \['x'\]"):
        stack_tasks([a, pd.DataFrame({"z": [1.0]})], [[1], [2]])
    with pytest.raises(ValueError, match="already have a column named 'task'"):
        stack_tasks([pd.DataFrame({"task": [1.0]})], [[1]])


@pytest.mark.parametrize(
    "Xs, ys, tasks, match",
    [
        ([], [], None, "Xs is empty"),
        ([np.ones((2, 2))], [[1, 2], [3]], None, r"Xs and ys have different lengths \(1 and 2\)"),
        ([np.ones((2, 2)), np.ones((1, 3))], [[1, 2], [3]], None, r"Xs\[1\] has 3 features but Xs\[0\] has 2"),
        ([np.ones((2, 2))], [[1, 2, 3]], None, r"Xs\[0\] has 2 rows but ys\[0\] has 3 labels"),
        ([np.ones(2)], [[1, 2]], None, r"Xs\[0\] must be 2-D"),
        ([np.ones((2, 2))], [np.ones((2, 2))], None, r"ys\[0\] must be 1-D"),
        ([np.ones((0, 2))], [[]], None, r"Xs\[0\] has no rows"),
        (np.ones((3, 2)), [1, 2, 3], None, "Xs must be a list with one entry per task"),
        ([np.ones((1, 2))] * 2, [[1], [2]], ["a"], "tasks has 1 labels but 2 tasks"),
        ([np.ones((1, 2))] * 2, [[1], [2]], ["a", "a"], "tasks contains the label 'a' more than once"),
        ([np.ones((1, 2))] * 2, [[1], [2]], ["a", None], "tasks contains a missing label"),
        ([np.ones((1, 2))] * 2, [[1], [2]], ["1", 1], "Task labels could not be sorted: they mix strings and numbers"),
    ],
)
def test_stack_errors(Xs, ys, tasks, match):
    with pytest.raises(ValueError, match=match):
        stack_tasks(Xs, ys, tasks=tasks)


def test_unstack_errors():
    X = np.array([[1.0, 0], [2.0, 1]])
    with pytest.raises(ValueError, match="X and y have inconsistent numbers of samples"):
        unstack_tasks(X, [1, 2, 3])
    with pytest.raises(ValueError, match="y must be 1-D"):
        unstack_tasks(X, np.ones((2, 2)))
    mixed = np.array([[1.0, "a"], [2.0, 3]], dtype=object)
    with pytest.raises(ValueError, match="Task labels could not be sorted"):
        unstack_tasks(mixed, [1, 2])
    with pytest.raises(ValueError, match="task_column=5 is out of range"):
        unstack_tasks(X, [1, 2], task_column=5)
