"""GridSearchCV and compare_with_single_task on a Dask cluster via joblib's dask backend.

Everything parallel in skmtl goes through joblib, so a Dask cluster needs no
code of ours: ``with joblib.parallel_config(backend="dask"):`` sends the
fits to the cluster's workers. A one-worker, in-process LocalCluster checks
that the whole path (the estimators, the task-aware scorer and splitter,
joblib's dask backend) gives the same results as a local run, and that the
fits really ran on the cluster.

The worker has two threads (the ``dask_client`` fixture of conftest.py):
with a single thread in the whole cluster, joblib sees
``effective_n_jobs == 1`` and runs everything sequentially in the calling
thread, so nothing would reach Dask.

The models that work in memory refuse a dask DataFrame with an error that
says what to do.
"""

import numpy as np
import pytest

distributed = pytest.importorskip(
    "distributed",
    reason="dask.distributed is an optional extra (pip install 'skmtl[dask]')",
)
import joblib  # noqa: E402
from sklearn.linear_model import Ridge, RidgeCV  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from skmtl.datasets import make_clustered_multitask  # noqa: E402
from skmtl.metrics import task_r2_scorer  # noqa: E402
from skmtl.model_selection import (  # noqa: E402
    TaskStratifiedShuffleSplit,
    compare_with_single_task,
)
from skmtl.multitask import IndependentTasks, PooledTasks  # noqa: E402


@pytest.fixture(scope="module")
def data():
    X, y, _ = make_clustered_multitask(
        n_samples=30, n_features=5, n_tasks=4, n_clusters=1, n_unrelated_tasks=1,
        layout="long", random_state=0,
    )
    return X, y


def test_grid_search_over_independent_tasks_on_dask(dask_client, data):
    X, y = data
    search = GridSearchCV(
        IndependentTasks(Ridge(), task_column=-1),
        {"estimator__alpha": [0.01, 1.0, 100.0]},
        scoring=task_r2_scorer,
        cv=TaskStratifiedShuffleSplit(n_splits=3, test_size=0.25, task_column=-1, random_state=0),
        n_jobs=2,
    )
    local = GridSearchCV(**search.get_params(deep=False)).set_params(n_jobs=None).fit(X, y)
    with distributed.get_task_stream(dask_client) as stream, joblib.parallel_config(backend="dask"):
        search.fit(X, y)
    assert len(stream.data) >= 9  # the 3 x 3 fits ran on the cluster
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    assert search.best_params_ == local.best_params_


def test_compare_with_single_task_on_dask(dask_client, data):
    X, y = data
    models = {"onehot": PooledTasks(RidgeCV(), task_column=-1, task_features="onehot")}
    local = compare_with_single_task(models, X, y, task_column=-1)
    with distributed.get_task_stream(dask_client) as stream, joblib.parallel_config(backend="dask"):
        remote = compare_with_single_task(models, X, y, task_column=-1, n_jobs=2)
    assert len(stream.data) >= 15  # 3 models x 5 splits ran on the cluster
    assert remote.models == local.models
    np.testing.assert_allclose(remote.scores, local.scores)
    np.testing.assert_array_equal(remote.hurt, local.hurt)



def _in_memory_estimators():
    from skmtl.kernel_ridge import MultiTaskKernelRidge
    from skmtl.linear_model import GroupLassoRegressor
    from skmtl.neural_network import MultiTaskMLPRegressor

    return [
        GroupLassoRegressor(task_column="task"),
        MultiTaskKernelRidge(task_column="task"),
        MultiTaskMLPRegressor(task_column="task"),
        PooledTasks(Ridge(), task_column="task"),
        IndependentTasks(Ridge(), task_column="task"),
    ]


@pytest.mark.parametrize("estimator", _in_memory_estimators(), ids=lambda e: type(e).__name__)
def test_in_memory_estimators_name_dask_input(estimator):
    # Only HierarchicalRegressor reduces a dask DataFrame out of core (and
    # HierarchicalClassifier explains why it cannot, test_hierarchical_dask.py);
    # every other model must say so, not fail inside pandas' API.
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    frame = pd.DataFrame(rng.randn(40, 3), columns=["a", "b", "c"]).assign(task=np.repeat(["x", "y"], 20))
    y = pd.Series(rng.randn(40))
    lazy = dd.from_pandas(frame, npartitions=2)
    name = type(estimator).__name__
    with pytest.raises(TypeError, match=rf"{name} got a dask DataFrame as X; .*\.compute\(\)"):
        estimator.fit(lazy, dd.from_pandas(y, npartitions=2))
    estimator.fit(frame, y)
    with pytest.raises(TypeError, match=rf"{name} got a dask DataFrame as X"):
        estimator.predict(lazy)
