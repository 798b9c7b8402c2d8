"""One ``task_weights`` vocabulary for every family: "balanced" and "n_samples"."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skmtl.kernel_ridge import MultiTaskKernelRidge
from skmtl.linear_model import GroupLassoRegressor
from skmtl.utils._task_weights import resolve_task_weights

COUNTS = np.array([10, 30, 60])


@pytest.mark.parametrize("per_task_mean", [True, False])
def test_named_options_mean_the_same_in_both_normalizations(per_task_mean):
    # Total weight of task t in the data term: w_t for a per-task mean,
    # w_t * n_t for a sum over labels.
    def task_totals(option):
        w = resolve_task_weights(option, COUNTS, per_task_mean=per_task_mean)
        return w if per_task_mean else w * COUNTS

    balanced = task_totals("balanced")
    assert_allclose(balanced / balanced[0], 1.0)
    by_label = task_totals("n_samples")
    assert_allclose(by_label / by_label[0], COUNTS / COUNTS[0])
    default = "balanced" if per_task_mean else "n_samples"
    assert_allclose(task_totals(None), task_totals(default))


def test_array_is_checked_and_returned():
    assert_allclose(resolve_task_weights([1, 0, 2], COUNTS, per_task_mean=False), [1, 0, 2])
    for bad, message in [
        ([1.0, 2.0], r"shape \(n_tasks,\) = \(3,\)"),
        ([1.0, np.inf, 1.0], "finite and nonnegative"),
        ([1.0, -1.0, 1.0], "finite and nonnegative"),
        ([0.0, 0.0, 0.0], "all zero"),
        ("equal", "'balanced' or 'n_samples'"),
    ]:
        with pytest.raises(ValueError, match=message):
            resolve_task_weights(bad, COUNTS, per_task_mean=True)


def test_a_task_without_labels_gets_no_balanced_weight():
    w = resolve_task_weights("balanced", [4, 0, 4], per_task_mean=False)
    assert_allclose(w, [8 / 12, 0.0, 8 / 12])


def _unequal_tasks(seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(60, 4)
    Y = X @ rng.randn(4, 3) + 0.3 * rng.randn(60, 3)
    Y[:40, 0] = np.nan  # task 0 has 20 labels, the others 60
    return X, Y


def test_both_families_accept_both_options():
    X, Y = _unequal_tasks()
    counts = np.array([20, 60, 60])
    # Kernel ridge sums over labels: "balanced" is the array N / (T n_t).
    kr = MultiTaskKernelRidge(0.5, kernel="linear", task_kernel="mean_regularized")
    assert_allclose(
        kr.set_params(task_weights="balanced").fit(X, Y).predict(X),
        kr.set_params(task_weights=counts.sum() / (3 * counts)).fit(X, Y).predict(X),
        rtol=1e-10,
    )
    assert_allclose(
        kr.set_params(task_weights="n_samples").fit(X, Y).predict(X),
        kr.set_params(task_weights=None).fit(X, Y).predict(X),
        rtol=1e-10,
    )
    # The linear models average within each task: "balanced" is the default.
    gl = GroupLassoRegressor(0.05, tol=1e-10, max_iter=20000)
    assert_allclose(gl.set_params(task_weights="balanced").fit(X, Y).coef_, gl.set_params(task_weights=None).fit(X, Y).coef_)
