"""TaskData: one validated form for the wide and long layouts, and its errors."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal

from skmtl._data import check_task_data, check_task_X, split_task_column


def test_wide_missing_labels_keep_rows(wide_data):
    X, Y = wide_data
    data = check_task_data(X, Y)
    assert data.layout == "wide" and data.n_tasks == 3
    assert_array_equal(data.n_samples_per_task, [39, 40, 39])
    assert 3 not in data.task_rows(0) and 3 in data.task_rows(1)
    assert data.X.shape == (40, 4)  # no row dropped
    assert not np.isnan(data.task_targets(2)).any()


def test_one_dimensional_y_is_one_task():
    X, y = np.eye(3), np.array([1.0, 2.0, 3.0])
    data = check_task_data(X, y)
    assert data.single_output and data.n_tasks == 1
    assert_array_equal(data.task_targets(0), y)


def test_long_layout_groups_rows_per_task(long_data):
    X, y = long_data
    data = check_task_data(X, y, task_column=-1)
    assert data.layout == "long" and data.n_features == 3
    assert_array_equal(data.tasks, [0, 1, 2])
    assert data.tasks.dtype.kind == "i"  # integral floats become ints
    for t in range(3):
        rows = data.task_rows(t)
        assert np.all(X[rows, -1] == t) and np.all(np.diff(rows) > 0)
    assert_array_equal(data.n_samples_per_task, [15, 25, 20])


def test_to_long_matches_between_layouts(wide_data):
    X, Y = wide_data
    rows, codes, targets = check_task_data(X, Y).to_long()
    assert len(rows) == np.isfinite(Y).sum()
    assert_array_equal(targets, Y[rows, codes])


def test_dataframe_task_column_by_name_with_string_labels():
    df = pd.DataFrame({"a": [1.0, 2, 3, 4], "school": ["b", "a", "b", "a"], "c": [0.0, 1, 0, 1]})
    data = check_task_data(df, [1.0, 2, 3, 4], task_column="school")
    assert_array_equal(data.tasks, ["a", "b"])
    assert_array_equal(data.X, [[1, 0], [2, 1], [3, 0], [4, 1]])
    features, codes = check_task_X(df, task_column="school", tasks=data.tasks)
    assert_array_equal(codes, [1, 0, 1, 0])
    # An integer position also works on a DataFrame.
    assert_array_equal(split_task_column(df, 1)[1], df["school"].to_numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_kept_and_sparse_accepted(dtype, wide_data):
    X, Y = wide_data
    assert check_task_data(X.astype(dtype), Y).X.dtype == dtype
    data = check_task_data(sp.csr_matrix(X.astype(dtype)), Y)
    assert sp.issparse(data.X) and data.X.dtype == dtype
    Xl = sp.csr_matrix(np.column_stack([X, np.arange(40) % 4]))
    long = check_task_data(Xl, Y[:, 1], task_column=4)
    assert sp.issparse(long.X) and long.n_features == 4 and long.n_tasks == 4


def test_inputs_not_modified(long_data):
    X, y = long_data
    X[0, 0] = np.nan
    X_copy, y_copy = X.copy(), y.copy()
    X[0, 0] = 0.0
    X_copy[0, 0] = 0.0
    check_task_data(X, y, task_column=-1)
    assert_array_equal(X, X_copy) and assert_array_equal(y, y_copy)


@pytest.mark.parametrize(
    "X, y, kwargs, message",
    [
        ([[np.nan, 1.0], [1.0, 2.0]], [1.0, 2.0], {}, "Input X contains NaN"),
        ([[np.inf, 1.0], [1.0, 2.0]], [1.0, 2.0], {}, "Input X contains infinity"),
        (np.ones((2, 2)), np.ones((2, 2, 2)), {}, r"y must be 1-D .* got shape \(2, 2, 2\)"),
        (np.ones((3, 2)), np.ones(2), {}, "X has 3 rows, y has 2"),
        (np.ones((0, 2)), np.ones(0), {}, "0 sample"),
        (np.ones((2, 2)), [[1.0, np.nan], [2.0, np.nan]], {}, r"task 1 \(column 1 of y\) has no labeled rows"),
        (np.ones((2, 2)), [1.0, np.inf], {}, "y contains infinity"),
        (np.ones((2, 2)), None, {}, "requires y to be passed"),
        (np.ones((2, 2)), [1.0, 2.0], {"task_column": 2}, "task_column=2 is out of range for X with 2 columns"),
        (np.ones((2, 2)), [1.0, 2.0], {"task_column": "school"}, "X has no column names"),
        ([[1.0, np.nan], [1.0, 0.0]], [1.0, 2.0], {"task_column": 1}, "task column contains NaN"),
        ([[1.0, 0.0], [1.0, 1.0]], [1.0, np.nan], {"task_column": 1}, "y contains 1 missing label"),
        ([[1.0, 0.0], [1.0, 0.0]], [[1.0, 2.0], [1.0, 2.0]], {"task_column": 1}, "y must be 1-D"),
        ([[1.0, 0], [1, 0], [1, 1], [1, 1]], [0, 1, 1, 1], {"task_column": 1, "target_type": "classification"}, "task 1 has only one class"),
        (np.ones((3, 2)), [[0, 1], [1, 1], [0, 1]], {"target_type": "classification"}, r"task 1 \(column 1 of y\) has only one class"),
        (np.ones((2, 2)), [0.5, 1.5], {"target_type": "classification"}, "Unknown label type"),
    ],
)
def test_errors_name_the_problem(X, y, kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_task_data(X, y, **kwargs)


def test_dataframe_missing_task_column_is_named():
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [0, 1]})
    with pytest.raises(ValueError, match=r"task_column='school' is not a column of X \(2 columns: 'a', 'b'\)\.$"):
        check_task_data(df, [1.0, 2.0], task_column="school")


def test_a_task_column_renamed_by_a_column_transformer_is_found():
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import StandardScaler

    columns = [f"voice_{i}" for i in range(12)]
    df = pd.DataFrame(np.arange(26.0).reshape(2, 13), columns=[*columns, "subject#"])
    transformer = ColumnTransformer([("num", StandardScaler(), columns)], remainder="passthrough")
    Z = transformer.set_output(transform="pandas").fit_transform(df)
    with pytest.raises(ValueError) as error:
        check_task_data(Z, [1.0, 2.0], task_column="subject#")
    message = str(error.value)
    # The renamed column is the last of 13: named although beyond the first 10 shown.
    assert "(13 columns: 'num__voice_0', " in message and "'num__voice_9', ...)" in message
    assert "Near matches: 'remainder__subject#'." in message
    assert "verbose_feature_names_out=False" in message
    with pytest.raises(ValueError, match=r"Near matches: 'voice_1', ") as error:
        check_task_data(df, [1.0, 2.0], task_column="voice_1O")
    assert "verbose_feature_names_out" not in str(error.value)  # no prefix: no ColumnTransformer hint


def test_a_text_feature_is_named():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "city": ["3.5", "Oxford", "Leeds"], "school": [0, 0, 1]})
    with pytest.raises(ValueError, match=r"MyModel needs numeric features, but feature column 'city' "
                                         r"holds text \('Oxford'\)\. Encode it as numbers"):
        check_task_data(df, [1.0, 2.0, 3.0], task_column="school", estimator_name="MyModel")
    X = np.array([[1.0, 0, "a"], [2.0, 1, "b"]], dtype=object)
    with pytest.raises(ValueError, match=r"feature column 1 \(counted without the task column\) holds text \('a'\)"):
        check_task_X(X[:, [0, 2, 1]], task_column=-1, estimator_name="MyModel")
    # A missing value is not text: numpy's own error stays.
    with pytest.raises(ValueError, match="Input X contains NaN"):
        check_task_data(np.array([[None, 0], [1.0, 1]], dtype=object), [1.0, 2.0], task_column=-1)


def test_unseen_task_is_named(long_data):
    X, y = long_data
    data = check_task_data(X, y, task_column=-1)
    X_new = X[:3].copy()
    X_new[:, -1] = [0, 7, 9]
    with pytest.raises(ValueError, match=r"Unknown task label\(s\) 7, 9 not seen during fit; known tasks: \[0, 1, 2\]"):
        check_task_X(X_new, task_column=-1, tasks=data.tasks)


def test_task_labels_of_another_type_are_rejected():
    with pytest.raises(ValueError, match="cannot be compared"):
        check_task_X(np.array([[1.0, 3.0]]), task_column=1, tasks=np.array(["a", "b"], dtype=object))


def _object_X(features, labels):
    """A long-layout object array: one feature column, then the task labels."""
    X = np.empty((len(labels), 2), dtype=object)
    X[:, 0], X[:, 1] = features, labels
    return X


@pytest.mark.parametrize("labels", [["7", "007"], ["1", "1.0"]])
def test_string_task_labels_are_kept_as_given(labels):
    # Strings are not numbers: "7" and "007" are two tasks, not task 7.
    data = check_task_data(_object_X([1.0, 2.0, 3.0, 4.0], labels * 2), [1.0, 2, 3, 4], task_column=1)
    assert data.tasks.tolist() == sorted(labels)
    assert_array_equal(data.n_samples_per_task, [2, 2])
    # A list is not turned into one string array first (that would make 1 and "1" equal).
    assert split_task_column(_object_X([1.0, 2.0], [7, 7.0]), 1)[1].tolist() == [7, 7]


def test_string_task_labels_at_predict_time():
    data = check_task_data(_object_X([1.0, 2.0, 3.0, 4.0], ["7", "8"] * 2), [1.0, 2, 3, 4], task_column=1)
    _, codes = check_task_X(_object_X([1.0, 2.0], ["8", "7"]), task_column=1, tasks=data.tasks)
    assert_array_equal(codes, [1, 0])
    with pytest.raises(ValueError, match=r"Unknown task label\(s\) '007' not seen during fit; known tasks: \['7', '8'\]"):
        check_task_X(_object_X([1.0], ["007"]), task_column=1, tasks=data.tasks)
    # The number 7 is not the string "7", in an object array or a float matrix.
    for X in (_object_X([1.0], [7]), np.array([[1.0, 7.0]])):
        with pytest.raises(ValueError, match="cannot be compared with the task labels seen in fit"):
            check_task_X(X, task_column=1, tasks=data.tasks)
    numeric = check_task_data(np.array([[1.0, 7], [2, 8], [3, 7], [4, 8]]), [1.0, 2, 3, 4], task_column=1)
    with pytest.raises(ValueError, match="cannot be compared with the task labels seen in fit"):
        check_task_X(np.array([[1.0, "7"]], dtype=str), task_column=1, tasks=numeric.tasks)


def test_numeric_labels_in_object_arrays_compare_as_numbers():
    data = check_task_data(_object_X([1.0, 2.0, 3.0, 4.0], [1, 2.0, 1.0, np.int64(2)]), [1.0, 2, 3, 4], task_column=1)
    assert data.tasks.dtype.kind == "i" and data.tasks.tolist() == [1, 2]
    df = pd.DataFrame({"a": [1.0, 2.0], "t": pd.array([3, 4], dtype="Int64")})
    assert split_task_column(df, "t")[1].tolist() == [3, 4]
    _, codes = check_task_X(_object_X([1.0], [2.0]), task_column=1, tasks=data.tasks)
    assert_array_equal(codes, [1])


@pytest.mark.parametrize(
    "X, message",
    [
        (_object_X([1.0, 2.0], ["7", 7]), "Task labels could not be sorted: they mix strings and numbers"),
        (_object_X([1.0] * 4, ["a", None, "b", np.nan]), r"contains NaN/None \(a missing label\) on 2 row\(s\) \(position\(s\) 1, 3\)"),
        (pd.DataFrame({"a": [1.0, 2.0], "t": pd.array(["a", None], dtype="string")}), r"on 1 row\(s\) \(position\(s\) 1\)"),
        (np.array([[1.0, np.inf], [2.0, 0.0]]), "task column contains infinite values"),
    ],
)
def test_bad_task_labels_raise(X, message):
    with pytest.raises(ValueError, match=message):
        check_task_data(X, [1.0, 2.0, 3.0, 4.0][: len(X)], task_column=-1)


def test_unseen_tasks_get_code_minus_one_when_allowed(long_data):
    X, y = long_data
    data = check_task_data(X, y, task_column=-1)
    X_new = X[:4].copy()
    X_new[:, -1] = [2, 7, 0, 9]
    _, codes = check_task_X(X_new, task_column=-1, tasks=data.tasks, allow_unseen=True)
    assert_array_equal(codes, [2, -1, 0, -1])
    # Labels of another type are other tasks ("7" is not 7): all unseen.
    _, codes = check_task_X(_object_X([1.0, 2.0], ["0", "1"]), task_column=1, tasks=data.tasks, allow_unseen=True)
    assert_array_equal(codes, [-1, -1])
    # The default still names them.
    with pytest.raises(ValueError, match=r"Unknown task label\(s\) 7, 9 not seen during fit"):
        check_task_X(X_new, task_column=-1, tasks=data.tasks)


def test_single_class_task_accepted_on_request():
    X = np.column_stack([np.arange(6.0), [0, 0, 0, 1, 1, 1]])
    y = [0, 0, 0, 0, 1, 1]  # task 0 never saw class 1
    with pytest.raises(ValueError, match="task 0 has only one class"):
        check_task_data(X, y, task_column=1, target_type="classification")
    data = check_task_data(X, y, task_column=1, target_type="classification", allow_single_class=True)
    assert_array_equal(data.task_targets(0), [0, 0, 0])
    Y = np.array([[0, 0], [0, 1], [0, 0]])  # wide: column 0 holds one class
    check_task_data(np.ones((3, 1)), Y, target_type="classification", allow_single_class=True)
    # One class in all the data is still an error.
    with pytest.raises(ValueError, match=r"y has only one class \(0\) over all tasks"):
        check_task_data(X, np.zeros(6, dtype=int), task_column=1, target_type="classification", allow_single_class=True)
