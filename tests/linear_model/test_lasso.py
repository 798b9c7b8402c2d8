"""MultiTaskLasso*: sklearn Lasso per task, per-task alphas and their penalty."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import ElasticNet, Lasso

from skmtl._data import check_task_data
from skmtl.linear_model import MultiTaskLassoRegressor, alpha_max
from skmtl.linear_model._lasso import _TaskL1
from skmtl.linear_model._losses import SquaredLoss
from skmtl.linear_model._penalties import L1


def _regression(n=60, d=15, T=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    W = rng.randn(d, T) * (rng.rand(d, T) < 0.4)
    return X, X @ W + 0.3 * rng.randn(n, T) + 2.0


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_single_task_equals_sklearn_lasso(fit_intercept, l1_ratio):
    X, Y = _regression(seed=1)
    model = MultiTaskLassoRegressor(0.05, l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=1e-11, max_iter=50000)
    model.fit(X, Y[:, 0])
    if l1_ratio == 1.0:
        ref = Lasso(alpha=0.05, fit_intercept=fit_intercept, tol=1e-14, max_iter=100000)
    else:
        ref = ElasticNet(alpha=0.05, l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=1e-14, max_iter=100000)
    ref.fit(X, Y[:, 0])
    assert_allclose(model.coef_[0], ref.coef_, rtol=1e-6, atol=1e-8)
    assert model.intercept_[0] == pytest.approx(ref.intercept_, rel=1e-6, abs=1e-10)
    assert_allclose(model.predict(X), ref.predict(X), rtol=1e-6)


def test_per_task_alphas_equal_one_lasso_per_task():
    X, Y = _regression(seed=2)
    alphas = [0.02, 0.1, 0.3]
    model = MultiTaskLassoRegressor(alphas, tol=1e-11, max_iter=50000).fit(X, Y)
    for t, a in enumerate(alphas):
        ref = Lasso(alpha=a, tol=1e-14, max_iter=100000).fit(X, Y[:, t])
        assert_allclose(model.coef_[t], ref.coef_, rtol=1e-6, atol=1e-8)
    # alpha_max is the factor on the alpha vector that zeroes every task.
    factor = alpha_max(MultiTaskLassoRegressor(alphas), X, Y)
    assert_array_equal(MultiTaskLassoRegressor(np.multiply(alphas, factor)).fit(X, Y).coef_, 0)
    assert np.any(MultiTaskLassoRegressor(np.multiply(alphas, 0.99 * factor)).fit(X, Y).coef_ != 0)


def test_alpha_errors():
    X, Y = _regression()
    with pytest.raises(ValueError, match=r"alpha has 2 values but there are 3 tasks"):
        MultiTaskLassoRegressor([0.1, 0.2]).fit(X, Y)
    with pytest.raises(ValueError, match=r"alpha must be finite and non-negative; got \[0.1, -0.2, 0.1\]"):
        MultiTaskLassoRegressor([0.1, -0.2, 0.1]).fit(X, Y)
    with pytest.raises(ValueError, match=r"alpha must be a float or a 1-D array"):
        MultiTaskLassoRegressor([[0.1]]).fit(X, Y)


def test_task_l1_agrees_with_l1_for_equal_alphas():
    rng = np.random.RandomState(1)
    W, G = rng.randn(5, 3) * (rng.rand(5, 3) < 0.5), rng.randn(5, 3)
    same, ref = _TaskL1([0.7] * 3, l1_ratio=0.6), L1(0.7, l1_ratio=0.6)
    assert same.value(W) == pytest.approx(ref.value(W))
    assert_allclose(same.prox(G, 0.3), ref.prox(G, 0.3))
    assert same.subdiff_distance(W, G) == pytest.approx(ref.subdiff_distance(W, G))
    assert same.alpha_max(G) == pytest.approx(ref.alpha_max(G) / 0.7)
    assert _TaskL1([1.0, 1.0, 1.0], l1_ratio=0.0).alpha_max(G) == np.inf


def test_task_l1_kkt_at_the_solution():
    X, Y = _regression(seed=3)
    alphas = np.array([0.05, 0.2, 0.01])
    model = MultiTaskLassoRegressor(alphas, l1_ratio=0.8, tol=1e-10, max_iter=50000).fit(X, Y)
    loss = SquaredLoss(check_task_data(X, Y))
    _, grad, _ = loss.value_and_gradient(model.coef_.T, model.intercept_)
    assert model._make_penalty(alphas).subdiff_distance(model.coef_.T, grad) <= 1e-7
