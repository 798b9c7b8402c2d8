"""make_sparse_multitask, make_low_rank_multitask, make_clustered_multitask."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skmtl._data import check_task_data
from skmtl.datasets import make_clustered_multitask, make_low_rank_multitask, make_sparse_multitask

GENERATORS = {
    "sparse": (make_sparse_multitask, {"n_informative": 4}),
    "low_rank": (make_low_rank_multitask, {"rank": 2}),
    "clustered": (make_clustered_multitask, {"n_clusters": 3}),
}


@pytest.fixture(params=sorted(GENERATORS))
def make(request):
    """A generator with small defaults, any keyword overridable."""
    function, specific = GENERATORS[request.param]

    def make(**kwargs):
        params = {"n_samples": 60, "n_features": 12, "n_tasks": 6, "random_state": 0, **specific, **kwargs}
        return function(**params)

    make.__name__ = function.__name__
    return make


def _scores(X, truth):
    """Noiseless linear scores of each label, in y's layout."""
    if truth.layout == "wide":
        return X @ truth.coef.T + truth.intercept
    tasks = X[:, -1].astype(int)
    return np.einsum("ij,ij->i", X[:, :-1], truth.coef[tasks]) + truth.intercept[tasks]


# --------------------------------------------------------------- common contract


def test_wide_layout_shapes_and_truth(make):
    X, Y, truth = make()
    assert X.shape == (60, 12) and Y.shape == (60, 6)
    assert X.dtype == Y.dtype == np.float64
    assert truth.coef.shape == (6, 12) and truth.intercept.shape == (6,)
    assert_array_equal(truth.task_sizes, np.full(6, 60))
    assert truth.unrelated_tasks.size == 0
    assert truth.layout == "wide" and truth.task_column is None and truth.noise == 0.1
    assert not np.isnan(Y).any()


def test_long_layout_shapes_and_task_column(make):
    X, y, truth = make(layout="long")
    assert X.shape == (6 * 60, 13) and y.shape == (6 * 60,)
    assert truth.task_column == -1 and truth.layout == "long"
    assert_array_equal(X[:, -1], np.repeat(np.arange(6.0), 60))
    data = check_task_data(X, y, task_column=truth.task_column)
    assert_array_equal(data.tasks, np.arange(6))
    assert_array_equal(data.n_samples_per_task, truth.task_sizes)


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_targets_follow_linear_model_within_noise(make, layout):
    X, y, truth = make(layout=layout, n_samples=400, noise=0.5)
    residuals = y - _scores(X, truth)
    assert abs(np.nanmean(residuals)) < 0.1
    assert_allclose(np.nanstd(residuals), 0.5, rtol=0.1)
    # The signal dominates the noise: the planted model explains y.
    assert np.nanvar(residuals) < 0.5 * np.nanvar(y)

    X, y, truth = make(layout=layout, noise=0.0)
    assert_allclose(y, _scores(X, truth), atol=1e-12)


def test_layouts_share_the_truth(make):
    _, _, wide = make(task_sizes="unequal", n_unrelated_tasks=1)
    _, _, long = make(task_sizes="unequal", n_unrelated_tasks=1, layout="long")
    for key in wide:
        if key not in ("layout", "task_column"):
            assert_array_equal(wide[key], long[key], err_msg=key)


def test_unequal_task_sizes_wide_are_missing_labels(make):
    X, Y, truth = make(n_samples=80, task_sizes="unequal", n_tasks=8)
    sizes = truth.task_sizes
    assert sizes.min() >= 80 // 4 and sizes.max() <= 80 and len(np.unique(sizes)) > 1
    assert X.shape == (80, 12)
    assert_array_equal((~np.isnan(Y)).sum(axis=0), sizes)
    data = check_task_data(X, Y)
    assert_array_equal(data.n_samples_per_task, sizes)


def test_unequal_task_sizes_long_give_own_inputs(make):
    X, y, truth = make(n_samples=80, task_sizes="unequal", n_tasks=8, layout="long")
    sizes = truth.task_sizes
    assert sizes.min() >= 20 and sizes.max() <= 80 and len(np.unique(sizes)) > 1
    assert X.shape == (sizes.sum(), 13) and not np.isnan(y).any()
    assert_array_equal(np.bincount(X[:, -1].astype(int)), sizes)
    # Each task draws its own inputs (no row shared between tasks).
    first, second = X[X[:, -1] == 0, :-1], X[X[:, -1] == 1, :-1]
    assert not np.isin(first[:, 0], second[:, 0]).any()


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_explicit_task_sizes(make, layout):
    sizes = [5, 60, 30, 2, 17, 60, 9]
    X, y, truth = make(task_sizes=sizes, n_unrelated_tasks=1, layout=layout)
    assert_array_equal(truth.task_sizes, sizes)
    if layout == "wide":
        assert_array_equal((~np.isnan(y)).sum(axis=0), sizes)
    else:
        assert_array_equal(np.bincount(X[:, -1].astype(int)), sizes)
    # The long layout is not bounded by n_samples.
    X, y, truth = make(task_sizes=[100, 1, 3, 3, 3, 3], layout="long")
    assert len(y) == 113


def test_unrelated_tasks_are_appended(make):
    X, Y, truth = make(n_unrelated_tasks=2)
    assert Y.shape == (60, 8) and truth.coef.shape == (8, 12)
    assert_array_equal(truth.unrelated_tasks, [6, 7])
    X, y, truth = make(n_unrelated_tasks=2, layout="long")
    assert_array_equal(np.unique(X[:, -1]), np.arange(8.0))


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_classification_two_classes_per_task(make, layout):
    X, y, truth = make(classification=True, layout=layout, task_sizes="unequal", n_unrelated_tasks=1)
    data = check_task_data(X, y, task_column=truth.task_column, target_type="classification")
    for t in range(7):
        labels = data.task_targets(t)
        assert set(np.unique(labels)) == {0, 1}, t
    if layout == "long":
        assert y.dtype == np.int64
    # Labels follow the sign of the score up to the (small) logistic noise.
    observed = ~np.isnan(y) if layout == "wide" else slice(None)
    agreement = np.mean((_scores(X, truth) > 0)[observed] == (y[observed] == 1))
    assert agreement > 0.9


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_classification_repairs_single_class_tasks(make, layout):
    # Two rows per task and no noise: many tasks would draw a single class.
    X, y, truth = make(classification=True, n_samples=2, n_tasks=60, layout=layout, noise=0.0)
    if layout == "wide":
        assert_array_equal(np.sort(y, axis=0), np.tile([[0.0], [1.0]], 60))
    else:
        assert_array_equal(np.bincount(X[:, -1].astype(int), weights=y), np.ones(60))
    # Only rows of single-class tasks were flipped, at most one per task.
    flipped = (_scores(X, truth) > 0) != (y == 1)
    per_task = flipped.sum(axis=0) if layout == "wide" else np.bincount(X[:, -1].astype(int), weights=flipped)
    assert per_task.max() == 1 and per_task.sum() > 0


def test_reproducible(make):
    first = make(random_state=3, task_sizes="unequal", classification=True)
    second = make(random_state=np.random.RandomState(3), task_sizes="unequal", classification=True)
    other = make(random_state=4, task_sizes="unequal", classification=True)
    for a, b in zip(first[:2], second[:2], strict=True):
        assert_array_equal(a, b)
    for key in first[2]:
        assert_array_equal(first[2][key], second[2][key])
    assert not np.array_equal(first[2].coef, other[2].coef)


# ------------------------------------------------------------- planted structure


def test_sparse_support():
    X, Y, truth = make_sparse_multitask(
        n_samples=50, n_features=30, n_tasks=7, n_informative=4, n_unrelated_tasks=3, random_state=1
    )
    assert truth.support.dtype == bool and truth.support.shape == (30,)
    assert truth.support.sum() == 4
    related = truth.coef[:7]
    # The support rows of the (n_features, n_tasks) weight matrix are the
    # only nonzero rows, and nonzero in every related task.
    assert_array_equal(np.any(related.T != 0, axis=1), truth.support)
    assert np.all(related[:, truth.support] != 0)
    assert np.abs(related[:, truth.support]).min() >= 0.5
    # Unrelated tasks: their own sparse support of the same size.
    assert_array_equal((truth.coef[7:] != 0).sum(axis=1), [4, 4, 4])
    assert any(not np.array_equal(row != 0, truth.support) for row in truth.coef[7:])


def test_low_rank_structure():
    X, Y, truth = make_low_rank_multitask(n_samples=50, n_features=20, n_tasks=9, rank=3, n_unrelated_tasks=2, random_state=0)
    related = truth.coef[:9]
    assert truth.rank == 3
    assert np.linalg.matrix_rank(related) == 3
    assert truth.components.shape == (3, 20) and truth.task_loadings.shape == (9, 3)
    assert_allclose(truth.components @ truth.components.T, np.eye(3), atol=1e-12)
    assert_allclose(related, truth.task_loadings @ truth.components)
    # The unrelated tasks leave the shared subspace.
    assert np.linalg.matrix_rank(truth.coef) == 5
    outside = truth.coef[9:] - truth.coef[9:] @ truth.components.T @ truth.components
    assert np.all(np.linalg.norm(outside, axis=1) > 0.5)
    # Full rank is allowed.
    _, _, truth = make_low_rank_multitask(n_features=4, n_tasks=6, rank=4, random_state=0)
    assert np.linalg.matrix_rank(truth.coef) == 4


def _distances(coef):
    return np.linalg.norm(coef[:, None, :] - coef[None, :, :], axis=-1)


@pytest.mark.parametrize("cluster_sizes", [None, "unequal", [1, 2, 9]])
def test_clustered_structure(cluster_sizes):
    X, Y, truth = make_clustered_multitask(
        n_samples=30, n_features=20, n_tasks=12, n_clusters=3, cluster_sizes=cluster_sizes,
        n_unrelated_tasks=2, random_state=5,
    )
    labels = truth.task_clusters
    assert labels.shape == (14,)
    assert_array_equal(labels[12:], [-1, -1])
    counts = np.bincount(labels[:12], minlength=3)
    assert counts.sum() == 12 and counts.min() >= 1
    if cluster_sizes is None:
        assert_array_equal(counts, [4, 4, 4])
    elif cluster_sizes != "unequal":
        assert_array_equal(counts, cluster_sizes)
    assert truth.cluster_centers.shape == (3, 20)
    related = truth.coef[:12]
    distances = _distances(related)
    same = labels[:12, None] == labels[None, :12]
    off_diagonal = ~np.eye(12, dtype=bool)
    if np.any(same & off_diagonal):
        assert distances[same & off_diagonal].max() < distances[~same].min()
    # Each task sits near its own centre.
    to_centers = np.linalg.norm(related[:, None, :] - truth.cluster_centers[None], axis=-1)
    assert_array_equal(to_centers.argmin(axis=1), labels[:12])


def test_unequal_cluster_sizes_differ():
    sizes = set()
    for seed in range(5):
        _, _, truth = make_clustered_multitask(n_samples=10, n_features=5, n_tasks=30, n_clusters=4, cluster_sizes="unequal", random_state=seed)
        counts = np.bincount(truth.task_clusters, minlength=4)
        assert counts.min() >= 1 and counts.sum() == 30
        sizes.add(tuple(counts))
    assert any(len(set(c)) > 1 for c in sizes)


# ------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layout": "tall"}, "layout must be 'wide' or 'long'; got layout='tall'"),
        ({"n_samples": 0}, r"n_samples must be an integer >= 1; got n_samples=0"),
        ({"n_samples": 1, "classification": True}, r"n_samples must be an integer >= 2; got n_samples=1"),
        ({"n_features": 0}, r"n_features must be an integer >= 1; got n_features=0"),
        ({"n_features": True}, r"n_features must be an integer >= 1; got n_features=True"),
        ({"n_tasks": 2.5}, r"n_tasks must be an integer >= 1; got n_tasks=2.5"),
        ({"n_unrelated_tasks": -1}, r"n_unrelated_tasks must be an integer >= 0; got n_unrelated_tasks=-1"),
        ({"noise": -0.1}, r"noise must be a finite number >= 0; got noise=-0.1"),
        ({"noise": np.nan}, r"noise must be a finite number >= 0; got noise=nan"),
        ({"task_sizes": "random"}, r"task_sizes must be None, 'unequal' or an array of ints; got task_sizes='random'"),
        ({"task_sizes": [10, 10]}, r"task_sizes must hold one size per task \(6 = n_tasks \+ n_unrelated_tasks\); got an array of shape \(2,\)"),
        ({"task_sizes": [10, 10, 10, 10, 10, 10.5]}, r"task_sizes must hold integers"),
        ({"task_sizes": [10, 10, 0, 10, 10, 10]}, r"Every task needs at least 1 row\(s\); task_sizes has 0 for task 2"),
        (
            {"task_sizes": [10, 10, 10, 1, 10, 10], "classification": True},
            r"Every task needs at least 2 row\(s\) \(two classes\); task_sizes has 1 for task 3",
        ),
        (
            {"task_sizes": [10, 10, 10, 10, 61, 10]},
            r"In layout 'wide' a task cannot have more labels than the n_samples=60 shared rows; task_sizes has 61 for task 4",
        ),
    ],
)
def test_common_errors(make, kwargs, message):
    with pytest.raises(ValueError, match=message):
        make(**kwargs)


@pytest.mark.parametrize(
    "function, kwargs, message",
    [
        (make_sparse_multitask, {"n_features": 3, "n_informative": 4}, "n_informative=4 cannot exceed n_features=3"),
        (make_sparse_multitask, {"n_informative": 0}, r"n_informative must be an integer >= 1; got n_informative=0"),
        (make_low_rank_multitask, {"n_features": 8, "n_tasks": 4, "rank": 5}, r"rank=5 cannot exceed min\(n_features, n_tasks\) = min\(8, 4\) = 4"),
        (make_low_rank_multitask, {"n_features": 3, "n_tasks": 4, "rank": 4}, r"rank=4 cannot exceed min\(n_features, n_tasks\) = min\(3, 4\) = 3"),
        (make_low_rank_multitask, {"rank": 0}, r"rank must be an integer >= 1; got rank=0"),
        (make_clustered_multitask, {"n_tasks": 3, "n_clusters": 4}, "n_clusters=4 cannot exceed n_tasks=3"),
        (make_clustered_multitask, {"n_clusters": 0}, r"n_clusters must be an integer >= 1; got n_clusters=0"),
        (make_clustered_multitask, {"cluster_std": -1.0}, r"cluster_std must be a finite number >= 0; got cluster_std=-1.0"),
        (make_clustered_multitask, {"cluster_sizes": "big"}, r"cluster_sizes must be None, 'unequal' or an array of ints; got cluster_sizes='big'"),
        (
            make_clustered_multitask,
            {"n_tasks": 6, "n_clusters": 3, "cluster_sizes": [2, 2, 3]},
            r"cluster_sizes must hold n_clusters=3 positive integers summing to n_tasks=6; got \[2, 2, 3\]",
        ),
        (
            make_clustered_multitask,
            {"n_tasks": 6, "n_clusters": 3, "cluster_sizes": [6, 0]},
            r"cluster_sizes must hold n_clusters=3 positive integers summing to n_tasks=6; got \[6, 0\]",
        ),
        (
            make_clustered_multitask,
            {"n_tasks": 6, "n_clusters": 3, "cluster_sizes": [6, 0, 0]},
            r"cluster_sizes must hold n_clusters=3 positive integers summing to n_tasks=6; got \[6, 0, 0\]",
        ),
    ],
)
def test_specific_errors(function, kwargs, message):
    with pytest.raises(ValueError, match=message):
        function(**{"n_samples": 20, "random_state": 0, **kwargs})
