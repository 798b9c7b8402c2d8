"""TraceNormRegressor / TraceNormClassifier: optimality, rank recovery, zeros."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from skmtl._data import check_task_data
from skmtl.datasets import make_low_rank_multitask
from skmtl.linear_model import TraceNormClassifier, TraceNormRegressor, alpha_max
from skmtl.linear_model._losses import LogisticLoss, SquaredLoss


def test_planted_rank_is_recovered():
    X, Y, truth = make_low_rank_multitask(
        n_samples=200, n_features=15, n_tasks=10, rank=3, noise=0.1, random_state=0
    )
    a_max = alpha_max(TraceNormRegressor(), X, Y)
    model = TraceNormRegressor(alpha=0.05 * a_max, tol=1e-8, max_iter=5000).fit(X, Y)
    singular = np.linalg.svd(model.coef_, compute_uv=False)
    assert int(np.sum(singular > 1e-8 * singular[0])) == truth.rank == 3
    # The recovered row space is the planted one.
    _, _, Vt = np.linalg.svd(model.coef_)
    overlap = np.linalg.svd(Vt[:3] @ truth.components.T, compute_uv=False)
    assert overlap.min() > 0.95


@pytest.mark.parametrize("l1_ratio", [1.0, 0.6])
def test_kkt_at_the_solution(l1_ratio):
    X, Y, _ = make_low_rank_multitask(n_samples=80, n_features=12, n_tasks=6, rank=2, random_state=1)
    model = TraceNormRegressor(0.1, l1_ratio=l1_ratio, tol=1e-10, max_iter=20000).fit(X, Y)
    loss = SquaredLoss(check_task_data(X, Y))
    _, grad, grad_b = loss.value_and_gradient(model.coef_.T, model.intercept_)
    scale = np.linalg.norm(grad) + np.linalg.norm(loss.value_and_gradient(0 * model.coef_.T, loss.null_intercept())[1])
    assert model._make_penalty(0.1).subdiff_distance(model.coef_.T, grad) <= 1e-6 * scale
    assert np.linalg.norm(grad_b) <= 1e-6 * scale


def test_classifier_kkt_and_zero_above_alpha_max():
    rng = np.random.RandomState(2)
    X = rng.randn(120, 6)
    Y = (X @ rng.randn(6, 1) @ rng.randn(1, 4) + 0.5 * rng.randn(120, 4) > 0).astype(int)
    model = TraceNormClassifier(0.01, tol=1e-9, max_iter=20000).fit(X, Y)
    loss = LogisticLoss(check_task_data(X, 2.0 * Y - 1))
    _, grad, _ = loss.value_and_gradient(model.coef_.T, model.intercept_)
    assert model._make_penalty(0.01).subdiff_distance(model.coef_.T, grad) <= 1e-6
    a_max = alpha_max(TraceNormClassifier(), X, Y)
    assert_array_equal(TraceNormClassifier(a_max).fit(X, Y).coef_, 0)
    assert np.any(TraceNormClassifier(0.9 * a_max).fit(X, Y).coef_ != 0)


def test_warm_refit_and_alpha_max():
    X, Y, _ = make_low_rank_multitask(n_samples=60, n_features=10, n_tasks=5, rank=2, random_state=3)
    a_max = alpha_max(TraceNormRegressor(), X, Y)
    assert_allclose(a_max, np.linalg.norm(X.T @ (Y - Y.mean(axis=0)) / len(X), 2), rtol=1e-10)
    assert_array_equal(TraceNormRegressor(a_max).fit(X, Y).coef_, 0)
    model = TraceNormRegressor(0.1 * a_max, warm_start=True, tol=1e-8).fit(X, Y)
    model.fit(X, Y)
    assert model.n_iter_ <= 2
