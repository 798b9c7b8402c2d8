"""TaskwiseStandardScaler: per-task standardization with the task column passed through."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl.multitask import IndependentTasks
from skmtl.preprocessing import TaskwiseStandardScaler
from skmtl.utils._compat import parametrize_with_checks


def _long(seed=0, sizes=(7, 12, 9), n_features=3, labels=(0, 1, 2), dtype=np.float64):
    """Shuffled long-layout data whose tasks have very different locations and scales.

    Feature 1 is constant within the last task (its scale must stay 1).
    """
    rng = np.random.RandomState(seed)
    codes = np.repeat(np.arange(len(sizes)), sizes)
    F = rng.randn(len(codes), n_features) * (1 + 5 * codes[:, None]) + 10 * codes[:, None]
    F[codes == len(sizes) - 1, 1] = 4.2
    perm = rng.permutation(len(codes))
    return F[perm].astype(dtype), np.asarray(labels, dtype=object)[codes[perm]], codes[perm]


def _reference(F, codes, **params):
    """Closed form: one StandardScaler fitted on each task's rows."""
    out = np.empty_like(F)
    scalers = []
    for t in range(codes.max() + 1):
        scaler = StandardScaler(**params).fit(F[codes == t])
        out[codes == t] = scaler.transform(F[codes == t])
        scalers.append(scaler)
    return out, scalers


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_standard_scaler_fitted_per_task(dtype):
    F, _, codes = _long(dtype=dtype)
    X = np.column_stack([F, codes]).astype(dtype)
    scaler = TaskwiseStandardScaler(task_column=-1).fit(X)
    Xt = scaler.transform(X)
    expected, refs = _reference(F, codes)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert Xt.dtype == dtype
    assert_allclose(Xt[:, :-1], expected, rtol=rtol, atol=rtol)
    assert_array_equal(Xt[:, -1], codes)
    assert_array_equal(scaler.tasks_, [0, 1, 2])
    assert_array_equal(scaler.n_samples_seen_, [7, 12, 9])
    assert scaler.mean_.shape == scaler.var_.shape == scaler.scale_.shape == (3, 3)
    for t, ref in enumerate(refs):
        assert_allclose(scaler.mean_[t], ref.mean_, rtol=rtol)
        assert_allclose(scaler.var_[t], ref.var_, rtol=rtol, atol=1e-12)
        assert_allclose(scaler.scale_[t], ref.scale_, rtol=rtol)
    assert scaler.scale_[2, 1] == 1.0  # constant within task 2
    assert scaler.n_features_in_ == 4


@pytest.mark.parametrize(
    "params", [{}, {"with_mean": False}, {"with_std": False}, {"with_mean": False, "with_std": False}]
)
def test_wide_layout_is_standard_scaler(params):
    X = np.random.RandomState(0).randn(30, 4) * [1, 10, 100, 0] + [0, 5, -3, 2]
    ours = TaskwiseStandardScaler(**params).fit(X)
    ref = StandardScaler(**params).fit(X)
    assert_allclose(ours.transform(X), ref.transform(X), atol=1e-12)
    assert_allclose(ours.inverse_transform(ours.transform(X)), X, atol=1e-12)
    assert_array_equal(ours.tasks_, [0])
    for attr in ("mean_", "var_", "scale_"):
        if getattr(ref, attr) is None:
            assert getattr(ours, attr) is None
        else:
            assert_allclose(getattr(ours, attr)[0], getattr(ref, attr), atol=1e-12)


def test_attributes_follow_with_mean_and_with_std():
    F, _, codes = _long()
    X = np.column_stack([F, codes])
    only_std = TaskwiseStandardScaler(task_column=-1, with_mean=False).fit(X)
    expected, _ = _reference(F, codes, with_mean=False)
    assert_allclose(only_std.transform(X)[:, :-1], expected)
    assert only_std.mean_ is not None and only_std.scale_ is not None
    only_mean = TaskwiseStandardScaler(task_column=-1, with_std=False).fit(X)
    assert only_mean.var_ is None and only_mean.scale_ is None
    assert_allclose(only_mean.transform(X)[:, :-1], _reference(F, codes, with_std=False)[0])


def test_sample_weight_equals_repeating_rows():
    F, _, codes = _long()
    X = np.column_stack([F, codes])
    weights = np.random.RandomState(3).randint(1, 4, len(X))
    weighted = TaskwiseStandardScaler(task_column=-1).fit(X, sample_weight=weights)
    repeated = TaskwiseStandardScaler(task_column=-1).fit(np.repeat(X, weights, axis=0))
    assert_allclose(weighted.mean_, repeated.mean_)
    assert_allclose(weighted.var_, repeated.var_)
    assert_allclose(weighted.n_samples_seen_, repeated.n_samples_seen_)


def test_bad_sample_weight():
    X = np.array([[1.0, 0], [2.0, 0], [3.0, 1]])
    scaler = TaskwiseStandardScaler(task_column=-1)
    with pytest.raises(ValueError, match="Task 1 has zero total sample_weight"):
        scaler.fit(X, sample_weight=[1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        scaler.fit(X, sample_weight=[1.0, -1.0, 1.0])


def test_task_column_in_the_middle_passes_through():
    F, _, codes = _long()
    labels = np.array([10, 20, 30])[codes]
    X = np.column_stack([F[:, :1], labels, F[:, 1:]])
    Xt = TaskwiseStandardScaler(task_column=1).fit_transform(X)
    assert_array_equal(Xt[:, 1], labels)
    expected, _ = _reference(F, codes)
    assert_allclose(np.delete(Xt, 1, axis=1), expected)
    # The same column given by a negative position.
    assert_allclose(TaskwiseStandardScaler(task_column=-3).fit_transform(X), Xt)


def test_string_labels_in_an_object_array():
    F, labels, codes = _long(labels=("paris", "lyon", "nice"))
    X = np.empty((len(F), 4), dtype=object)
    X[:, :3], X[:, 3] = F, labels
    scaler = TaskwiseStandardScaler(task_column=3).fit(X)
    assert_array_equal(scaler.tasks_, ["lyon", "nice", "paris"])
    Xt = scaler.transform(X)
    assert Xt.dtype == object
    assert list(Xt[:, 3]) == list(labels)
    expected, _ = _reference(F, codes)
    assert_allclose(Xt[:, :3].astype(float), expected)
    assert_allclose(scaler.inverse_transform(Xt)[:, :3].astype(float), F)


def test_string_labels_spelling_the_same_number_are_two_tasks():
    X = np.array([[0.0, "7"], [2.0, "7"], [10.0, "007"], [30.0, "007"]], dtype=object)
    scaler = TaskwiseStandardScaler(task_column=1).fit(X)
    assert scaler.tasks_.tolist() == ["007", "7"]
    assert_allclose(scaler.mean_.ravel(), [20.0, 1.0])
    assert list(scaler.transform(X)[:, 1]) == ["7", "7", "007", "007"]


def test_dataframe_task_column_by_name_and_pandas_output():
    F, labels, codes = _long(labels=("school b", "school a", "school c"))
    df = pd.DataFrame(F, columns=["x0", "x1", "x2"], index=np.arange(len(F))[::-1] * 2)
    df.insert(1, "school", labels.astype(str))
    scaler = TaskwiseStandardScaler(task_column="school").set_output(transform="pandas")
    out = scaler.fit_transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["x0", "school", "x1", "x2"]
    assert_array_equal(out.index, df.index)
    assert_array_equal(out["school"].to_numpy(), df["school"].to_numpy())
    assert out["school"].dtype == df["school"].dtype
    assert all(out[c].dtype == np.float64 for c in ["x0", "x1", "x2"])
    expected, _ = _reference(F, codes)
    assert_allclose(out[["x0", "x1", "x2"]].to_numpy(), expected)
    assert_array_equal(scaler.feature_names_in_, df.columns)
    assert_array_equal(scaler.get_feature_names_out(), df.columns)

    # Default output: an array, the labels untouched in an object column.
    default = clone(scaler).set_output(transform="default").fit_transform(df)
    assert isinstance(default, np.ndarray) and list(default[:, 1]) == list(df["school"])

    back = scaler.inverse_transform(out)
    assert isinstance(back, pd.DataFrame)
    pd.testing.assert_frame_equal(back, df, check_exact=False)


def test_categorical_task_column_survives_pandas_output():
    df = pd.DataFrame({"x": [1.0, 3.0, 5.0, 9.0], "site": pd.Categorical(["u", "u", "v", "v"])})
    out = TaskwiseStandardScaler(task_column="site").set_output(transform="pandas").fit_transform(df)
    assert isinstance(out["site"].dtype, pd.CategoricalDtype)
    assert_allclose(out["x"], [-1, 1, -1, 1])


def test_pandas_output_from_lists_and_wide_frames():
    out = TaskwiseStandardScaler(task_column=0).set_output(transform="pandas").fit_transform(
        [["a", 2.0], ["a", 4.0], ["b", 7.0], ["b", 9.0]]
    )
    assert list(out.columns) == ["x0", "x1"] and list(out["x0"]) == ["a", "a", "b", "b"]
    assert_allclose(out["x1"], [-1, 1, -1, 1])
    df = pd.DataFrame({"u": [1.0, 3.0], "v": [2.0, 2.0]}, index=[5, 6])
    wide = TaskwiseStandardScaler().set_output(transform="pandas").fit(df)
    pd.testing.assert_frame_equal(wide.transform(df), pd.DataFrame({"u": [-1.0, 1], "v": [0.0, 0]}, index=[5, 6]))
    pd.testing.assert_frame_equal(wide.inverse_transform(wide.transform(df)), df)


def test_inverse_transform_round_trip_dense_and_sparse():
    F, _, codes = _long()
    X = np.column_stack([F, codes])
    scaler = TaskwiseStandardScaler(task_column=-1).fit(X)
    assert_allclose(scaler.inverse_transform(scaler.transform(X)), X)

    Xs = sp.csr_matrix(np.where(np.abs(X) < 5, 0.0, X))
    sparse_scaler = TaskwiseStandardScaler(task_column=-1, with_mean=False).fit(Xs)
    Xt = sparse_scaler.transform(Xs)
    assert sp.issparse(Xt) and Xt.format == "csr"
    assert_allclose(sparse_scaler.inverse_transform(Xt).toarray(), Xs.toarray())


def test_sparse_matches_dense_without_centering():
    F, _, codes = _long()
    F[np.abs(F) < 8] = 0.0  # many zeros, differently in each task
    X = np.column_stack([F, codes])
    dense = TaskwiseStandardScaler(task_column=-1, with_mean=False).fit(X)
    sparse = TaskwiseStandardScaler(task_column=-1, with_mean=False).fit(sp.csr_matrix(X))
    expected, refs = _reference(F, codes, with_mean=False)
    for attr in ("mean_", "var_", "scale_"):
        assert_allclose(getattr(sparse, attr), getattr(dense, attr), atol=1e-12)
    assert_allclose(sparse.scale_, [ref.scale_ for ref in refs])
    Xt = sparse.transform(sp.csr_matrix(X)).toarray()
    assert_allclose(Xt[:, :-1], expected)
    assert_array_equal(Xt[:, -1], codes)


def test_sparse_with_mean_raises():
    X = sp.csr_matrix(np.array([[1.0, 0], [2.0, 1]]))
    with pytest.raises(ValueError, match="Cannot center sparse matrices"):
        TaskwiseStandardScaler(task_column=-1).fit(X)
    with pytest.raises(ValueError, match="Cannot center sparse matrices"):
        TaskwiseStandardScaler().fit(X)
    fitted = TaskwiseStandardScaler(task_column=-1).fit(X.toarray())
    with pytest.raises(ValueError, match="Cannot center sparse matrices"):
        fitted.transform(X)
    with pytest.raises(ValueError, match="Cannot uncenter sparse matrices"):
        fitted.inverse_transform(X)



@pytest.mark.parametrize("params", [{}, {"with_mean": False}, {"with_std": False}])
def test_by_task_false_is_one_standard_scaler_with_the_task_column_passed_through(params):
    F, labels, _ = _long()
    X = np.column_stack([F[:, :1], labels, F[:, 1:]])  # task column in the middle, strings
    scaler = TaskwiseStandardScaler(task_column=1, by_task=False, **params).fit(X)
    ref = StandardScaler(**params).fit(F)
    new = np.column_stack([F[:4, :1], ["unseen"] * 4, F[:4, 1:]])  # any task label is fine
    Xt = scaler.transform(new)
    assert_allclose(np.delete(Xt, 1, axis=1).astype(float), ref.transform(F[:4]), atol=1e-12)
    assert_array_equal(Xt[:, 1], ["unseen"] * 4)
    assert_array_equal(scaler.tasks_, [0])
    back = scaler.inverse_transform(Xt)
    assert_allclose(np.delete(back, 1, axis=1).astype(float), F[:4], atol=1e-12)

def test_unseen_task_raises_naming_it():
    df = pd.DataFrame({"x": [1.0, 2, 3, 4], "school": ["a", "a", "b", "b"]})
    scaler = TaskwiseStandardScaler(task_column="school").fit(df)
    new = pd.DataFrame({"x": [1.0, 2], "school": ["a", "zurich"]})
    with pytest.raises(ValueError, match=r"Unknown task label\(s\) 'zurich'.*known tasks: \['a', 'b'\]"):
        scaler.transform(new)


@pytest.mark.parametrize("container", ["array", "frame", "sparse"])
def test_input_not_modified(container):
    F, _, codes = _long()
    X = np.column_stack([F, codes])
    if container == "frame":
        X = pd.DataFrame(X, columns=["a", "b", "c", "task"])
    elif container == "sparse":
        X = sp.csr_matrix(X)
    before = X.copy()
    params = {"with_mean": container != "sparse"}
    for task_column in (None, -1):
        scaler = TaskwiseStandardScaler(task_column=task_column, **params)
        scaler.fit_transform(X)
        scaler.inverse_transform(X)
    if container == "sparse":
        assert_array_equal(X.toarray(), before.toarray())
    else:
        assert_array_equal(np.asarray(X), np.asarray(before))


def test_copy_false_scales_a_wide_array_in_place():
    X = np.random.RandomState(0).randn(10, 2)
    out = TaskwiseStandardScaler(copy=False).fit(X).transform(X)
    assert out is X
    assert_allclose(X.mean(axis=0), 0, atol=1e-12)


def test_float32_labels_beyond_float32_precision_are_kept():
    F = np.random.RandomState(0).randn(4, 2).astype(np.float32)
    labels = np.array([16_777_217, 16_777_217, 3, 3])  # 2**24 + 1 has no float32
    df = pd.DataFrame({"a": F[:, 0], "b": F[:, 1], "t": labels})
    Xt = TaskwiseStandardScaler(task_column="t").fit_transform(df)
    assert_array_equal(Xt[:, 2], labels)


def test_nan_in_features_raises():
    X = np.array([[np.nan, 0.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        TaskwiseStandardScaler(task_column=-1).fit(X)
    fitted = TaskwiseStandardScaler(task_column=-1).fit(np.nan_to_num(X))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fitted.transform(X)


def test_wrong_number_of_columns_raises():
    X = np.column_stack([np.arange(6.0).reshape(3, 2), [0, 1, 1]])
    scaler = TaskwiseStandardScaler(task_column=-1).fit(X)
    with pytest.raises(ValueError, match="X has 4 features, but TaskwiseStandardScaler is expecting 3"):
        scaler.transform(np.column_stack([X[:, :1], X]))
    with pytest.raises(ValueError, match="X has 3 feature columns, but TaskwiseStandardScaler was fitted with 2"):
        scaler.inverse_transform(np.column_stack([X[:, :1], X]))


def test_task_column_name_needs_a_dataframe():
    with pytest.raises(ValueError, match="task_column='school' is a column name"):
        TaskwiseStandardScaler(task_column="school").fit(np.eye(3))


def test_many_tasks_are_vectorized():
    # 2,000 tasks: a Python loop over tasks or rows would show here.
    rng = np.random.RandomState(0)
    codes = rng.randint(0, 2000, 40_000)
    X = np.column_stack([rng.randn(40_000, 5) + codes[:, None], codes])
    scaler = TaskwiseStandardScaler(task_column=-1).fit(X)
    Xt = scaler.transform(X)
    rows = codes == 17
    assert_allclose(Xt[rows, :-1], StandardScaler().fit_transform(X[rows, :-1]), atol=1e-10)


def test_pipeline_with_a_long_layout_estimator():
    F, _, codes = _long(sizes=(20, 25, 30))
    X = np.column_stack([F, codes])
    y = F @ [1.0, -2.0, 0.5] + codes
    pipe = make_pipeline(
        TaskwiseStandardScaler(task_column=-1), IndependentTasks(Ridge(alpha=1e-6), task_column=-1)
    )
    assert pipe.fit(X, y).score(X, y) > 0.99
    assert pipe.predict(X).shape == (len(X),)


@parametrize_with_checks(
    [TaskwiseStandardScaler(), TaskwiseStandardScaler(with_mean=False), TaskwiseStandardScaler(by_task=False)]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
