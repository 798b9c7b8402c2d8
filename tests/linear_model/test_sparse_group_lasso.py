"""SparseGroupLasso*: KKT, its two ends (group lasso, lasso), planted support, certified gap."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skmtl._data import check_task_data
from skmtl.linear_model import (
    GroupLassoClassifier,
    GroupLassoRegressor,
    MultiTaskLassoRegressor,
    SparseGroupLassoClassifier,
    SparseGroupLassoRegressor,
    alpha_max,
)
from skmtl.linear_model._losses import LogisticLoss, SquaredLoss
from skmtl.linear_model._penalties import SparseGroupL21


def _planted(n=200, d=40, T=6, seed=0, noise=0.1):
    """5 relevant features, each used by 2 to 4 of the tasks (magnitudes 1 to 2)."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    W = np.zeros((d, T))
    for j in rng.choice(d, 5, replace=False):
        tasks = rng.choice(T, rng.randint(2, 5), replace=False)
        W[j, tasks] = rng.choice([-1, 1], len(tasks)) * rng.uniform(1.0, 2.0, len(tasks))
    return X, X @ W + noise * rng.randn(n, T) + rng.randn(T), W


@pytest.mark.parametrize("l1_ratio", [0.2, 0.5, 0.8])
def test_kkt_and_certified_gap_at_the_solution(l1_ratio):
    X, Y, _ = _planted()
    alpha, tol = 0.05, 1e-8
    model = SparseGroupLassoRegressor(alpha, l1_ratio=l1_ratio, tol=tol, max_iter=10_000).fit(X, Y)
    loss = SquaredLoss(check_task_data(X, Y))
    _, grad, grad_b = loss.value_and_gradient(model.coef_.T, model.intercept_)
    assert SparseGroupL21(alpha, l1_ratio=l1_ratio).subdiff_distance(model.coef_.T, grad) <= 1e-7
    assert_allclose(grad_b, 0.0, atol=1e-8)
    # The fit stopped on the duality gap: the objective is within tol * scale of its minimum.
    assert 0 <= model.dual_gap_ <= tol * loss.gap_scale()


def test_classifier_kkt_at_the_solution():
    X, Y, _ = _planted(seed=1)
    Y = (Y > np.median(Y, axis=0)).astype(int)
    alpha = 0.02
    model = SparseGroupLassoClassifier(alpha, l1_ratio=0.5, tol=1e-8, max_iter=10_000).fit(X, Y)
    loss = LogisticLoss(check_task_data(X, 2.0 * Y - 1))
    _, grad, _ = loss.value_and_gradient(model.coef_.T, model.intercept_)
    assert SparseGroupL21(alpha, l1_ratio=0.5).subdiff_distance(model.coef_.T, grad) <= 1e-6
    assert np.isfinite(model.dual_gap_)


@pytest.mark.parametrize(
    "l1_ratio, twin",
    [(0.0, GroupLassoRegressor(0.05)), (1.0, MultiTaskLassoRegressor(0.05))],
    ids=["group-lasso", "lasso"],
)
def test_ends_are_the_group_lasso_and_the_lasso(l1_ratio, twin):
    X, Y, _ = _planted(seed=2)
    params = dict(tol=1e-10, max_iter=20_000)
    model = SparseGroupLassoRegressor(0.05, l1_ratio=l1_ratio, **params).fit(X, Y)
    twin = twin.set_params(**params).fit(X, Y)
    assert_allclose(model.coef_, twin.coef_, atol=1e-6)
    assert_allclose(model.intercept_, twin.intercept_, atol=1e-6)


def test_classifier_end_is_the_group_lasso_classifier():
    X, Y, _ = _planted(seed=3)
    Y = (Y > np.median(Y, axis=0)).astype(int)
    params = dict(tol=1e-10, max_iter=20_000)
    model = SparseGroupLassoClassifier(0.02, l1_ratio=0.0, **params).fit(X, Y)
    twin = GroupLassoClassifier(0.02, **params).fit(X, Y)
    assert_allclose(model.coef_, twin.coef_, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_planted_support_recovered(seed):
    # Rows (features) and single entries (the tasks using a feature), where
    # the group lasso finds the rows only.
    X, Y, W = _planted(seed=seed)
    coef = SparseGroupLassoRegressor(0.08, l1_ratio=0.5).fit(X, Y).coef_.T
    assert_array_equal(np.any(coef != 0, axis=1), np.any(W != 0, axis=1))
    assert_array_equal(coef != 0, W != 0)
    assert_allclose(coef, W, atol=0.25)
    rows_only = GroupLassoRegressor(0.08).fit(X, Y).coef_.T
    assert_array_equal(np.any(rows_only != 0, axis=1), np.any(W != 0, axis=1))
    assert np.sum((rows_only != 0) & (W == 0)) >= 10


def test_alpha_max_zeroes_every_coefficient():
    X, Y, _ = _planted(seed=4)
    top = alpha_max(SparseGroupLassoRegressor(l1_ratio=0.3), X, Y)
    assert_array_equal(SparseGroupLassoRegressor(top, l1_ratio=0.3).fit(X, Y).coef_, 0.0)
    assert np.any(SparseGroupLassoRegressor(0.99 * top, l1_ratio=0.3).fit(X, Y).coef_ != 0)


def test_working_sets_reach_the_fista_solution():
    # A sum over rows: solver="auto" grows working sets of features (from
    # 100 features on), with nothing written for this penalty.
    X, Y, _ = _planted(n=100, d=150, seed=5)
    params = dict(alpha=0.05, tol=1e-9, max_iter=20_000)
    working = SparseGroupLassoRegressor(solver="working_set", **params).fit(X, Y)
    plain = SparseGroupLassoRegressor(solver="fista", **params).fit(X, Y)
    assert_allclose(working.coef_, plain.coef_, atol=1e-6)
    assert working.dual_gap_ <= 1e-9 * SquaredLoss(check_task_data(X, Y)).gap_scale()
