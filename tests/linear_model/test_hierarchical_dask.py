"""HierarchicalRegressor on a dask DataFrame: statistics reduced on a LocalCluster, the in-memory fit reproduced.

A one-worker, in-process cluster (conftest's ``dask_client``) runs the
reduction; every fitted attribute must equal the fit on the same rows in
memory, and the task stream must show the partitions reduced on the worker.
"""

import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe", reason="dask is an optional extra (pip install 'skmtl[dask]')")
distributed = pytest.importorskip("distributed")

from skmtl.linear_model import HierarchicalClassifier, HierarchicalRegressor  # noqa: E402

FITTED = [
    "fixed_intercept_", "fixed_coef_", "covariance_", "noise_variance_", "random_effects_", "coef_",
    "intercept_", "shrinkage_", "log_likelihood_",
]
EXACT = ["tasks_", "n_tasks_", "random_features_", "n_features_in_", "feature_names_in_", "n_iter_"]


def _assert_same_fit(on_dask, in_memory):
    for name in FITTED:
        assert_allclose(getattr(on_dask, name), getattr(in_memory, name), rtol=1e-8, atol=1e-10, err_msg=name)
    for name in EXACT:
        assert_array_equal(getattr(on_dask, name), getattr(in_memory, name), err_msg=name)


def _reduced_partitions(stream):
    return sum("_partition_statistics" in str(task["key"]) for task in stream.data)


def test_school_reml_fit_reproduced_from_partitions(dask_client):
    from skmtl.datasets import fetch_school

    frame = fetch_school(as_frame=True, download_if_missing=False).frame
    X, y = frame.drop(columns="score"), frame["score"]
    Xd, yd = dd.from_pandas(X, npartitions=5), dd.from_pandas(y, npartitions=5)
    model = HierarchicalRegressor(["vr_band_1", "vr_band_2"], covariance_type="full", task_column="school")
    in_memory = HierarchicalRegressor(**model.get_params()).fit(X, y)
    with distributed.get_task_stream(dask_client) as stream:
        model.fit(Xd, yd)
    assert _reduced_partitions(stream) == 5
    _assert_same_fit(model, in_memory)

    y_pred, y_std = model.predict(Xd, return_std=True)
    assert isinstance(y_pred, dd.Series)
    expected_pred, expected_std = in_memory.predict(X, return_std=True)
    assert_allclose(y_pred.compute().to_numpy(), expected_pred, rtol=1e-10)
    assert_allclose(y_std.compute().to_numpy(), expected_std, rtol=1e-10)
    assert_array_equal(y_pred.compute().index, X.index)


def _generated(seed=0, n=900):
    """Long-layout frame: string task labels ("7" and "007" are two tasks), an aliased column, weights."""
    rng = np.random.RandomState(seed)
    labels = np.array(["7", "007", "b", "a", "x1", "x2"])
    task = rng.randint(len(labels), size=n)
    X = rng.randn(n, 3)
    u = rng.randn(len(labels), 2)
    y = 1.0 + X @ [1.0, -0.5, 0.2] + u[task, 0] + X[:, 0] * u[task, 1] + 0.3 * rng.randn(n)
    return pd.DataFrame({
        "x0": X[:, 0], "x1": X[:, 1], "x1_twice": 2 * X[:, 1], "x2": X[:, 2].astype(np.float32),
        "task": labels[task], "flag": X[:, 2] > 0, "y": y, "w": rng.randint(1, 4, size=n).astype(float),
    })


@pytest.mark.parametrize(
    "params",
    [
        dict(random_features=["x0"], covariance_type="full", method="ml"),
        dict(random_features=[0, 3], noise="per_task"),  # by position; "x1_twice" dropped from the fixed part
    ],
)
def test_weighted_generated_problem_with_an_empty_partition(dask_client, params):
    frame = _generated()
    # Three partitions of consecutive rows; every row of the middle one is
    # filtered out, so one partition reaches the reduction empty.
    keep = (np.arange(len(frame)) < 300) | (np.arange(len(frame)) >= 600)
    dframe = dd.from_pandas(frame.assign(keep=keep), npartitions=3, sort=False)
    dframe = dframe[dframe["keep"]]
    features = ["x0", "x1", "x1_twice", "x2", "task", "flag"]
    model = HierarchicalRegressor(task_column="task", unseen_task="population", **params)
    kept = frame[keep]
    in_memory = HierarchicalRegressor(**model.get_params()).fit(kept[features], kept["y"], sample_weight=kept["w"])
    model.fit(dframe[features], dframe["y"], sample_weight=dframe["w"])
    _assert_same_fit(model, in_memory)
    assert list(model.tasks_) == ["007", "7", "a", "b", "x1", "x2"]
    assert model.fixed_coef_[2] == 0  # x1_twice, aliased with x1

    # A dask Series of predictions; unseen tasks get the population model.
    other = _generated(seed=1, n=60).assign(task=lambda f: f["task"].replace({"a": "new"}))
    y_pred = model.predict(dd.from_pandas(other[features], npartitions=2))
    assert_allclose(y_pred.compute().to_numpy(), in_memory.predict(other[features]), rtol=1e-10)


@pytest.fixture(scope="module")
def frame():
    return _generated(seed=2, n=60)


def _dask_input(frame, column=None, change=None):
    """``(X, y)`` as dask collections, ``change`` applied to ``frame[column]`` first."""
    if column is not None:
        frame = frame.assign(**{column: change(frame[column])})
    dframe = dd.from_pandas(frame, npartitions=2)
    return dframe[["x0", "x1", "task"]], dframe["y"]


@pytest.mark.parametrize(
    "task_column, column, change, error, match",
    [
        ("school", None, None, ValueError, r"task_column='school' is not a column of X"),
        (None, None, None, TypeError, "long layout only"),
        ("task", "x1", lambda s: s.astype(str), ValueError, r"'x1' \(.*\) of X are not numeric"),
        ("task", "x1", lambda s: s.mask(s.index == 3, np.nan).mask(s.index == 40, np.inf), ValueError,
         r"NaN or infinity in feature column\(s\) 'x1' \(2 rows\)"),
        ("task", "y", lambda s: s.mask(s.index.isin([5, 41])), ValueError, r"y contains 2 missing label\(s\)"),
        ("task", "y", lambda s: s.mask(s.index == 7, np.inf), ValueError, "y contains infinity"),
        ("task", "task", lambda s: s.mask(s.index == 9), ValueError, "task column contains NaN/None"),
    ],
)
def test_bad_input_named(dask_client, frame, task_column, column, change, error, match):
    X, y = _dask_input(frame, column, change)
    with pytest.raises(error, match=match):
        HierarchicalRegressor(task_column=task_column).fit(X, y)


def test_targets_and_weights_must_be_partitioned_like_X(dask_client, frame):
    X, y = _dask_input(frame)
    model = HierarchicalRegressor(task_column="task")
    with pytest.raises(TypeError, match="y must be a dask Series partitioned like X"):
        model.fit(X, frame["y"])
    with pytest.raises(ValueError, match="y has 3 partitions and X 2"):
        model.fit(X, y.repartition(npartitions=3))
    with pytest.raises(ValueError, match=r"Partition [01] of sample_weight does not hold the rows"):
        model.fit(X, y, sample_weight=y.map_partitions(lambda s: s.set_axis(s.index[::-1])))
    with pytest.raises(ValueError, match="sample_weight contains NaN or infinity on 1 row"):
        model.fit(X, y, sample_weight=y.map_partitions(lambda s: s.mask(s.index == 4)))


def test_dask_arrays_as_targets_and_weights(dask_client, frame):
    X, y = _dask_input(frame)
    in_memory = HierarchicalRegressor(task_column="task").fit(frame[["x0", "x1", "task"]], frame["y"], frame["w"])
    weights = dd.from_pandas(frame["w"], npartitions=2).to_dask_array()
    model = HierarchicalRegressor(task_column="task").fit(X, y.to_dask_array(), sample_weight=weights)
    _assert_same_fit(model, in_memory)


def test_what_has_no_dask_path_says_so(dask_client, frame):
    X, y = _dask_input(frame)
    model = HierarchicalRegressor(task_column="task").fit(X, y)
    with pytest.raises(TypeError, match="score takes in-memory data"):
        model.score(X, y)
    with pytest.raises(ValueError, match="feature names"):
        model.predict(X.rename(columns={"x1": "other"}))
    with pytest.raises(TypeError, match="dask DataFrame .long layout.*not a Array"):
        model.fit(X.to_dask_array(), y)
    with pytest.raises(TypeError, match="in-memory data only .* no sufficient statistics"):
        HierarchicalClassifier(task_column="task").fit(X, y > 0)
    classifier = HierarchicalClassifier(task_column="task").fit(frame[["x0", "x1", "task"]], frame["y"] > 1)
    for method in (classifier.predict, classifier.predict_proba, classifier.decision_function):
        with pytest.raises(TypeError, match="in-memory data only"):
            method(X)


def test_import_and_in_memory_fit_do_not_import_dask():
    code = (
        "import sys, numpy as np; from skmtl.linear_model import HierarchicalRegressor; "
        "X = np.column_stack([np.arange(20.0), np.arange(20) % 4]); "
        "HierarchicalRegressor(task_column=1).fit(X, np.sin(np.arange(20.0))).predict(X); "
        "assert 'dask' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
