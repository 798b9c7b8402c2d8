import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression

from skmtl._standardized import StandardizedRegressor
from skmtl.kernel_ridge import MultiTaskKernelRidge


def _long(random_state=0):
    rng = np.random.RandomState(random_state)
    task = np.repeat(["a", "b", "c"], 20)
    x = rng.randn(60, 2) * [1.0, 1000.0]  # features on very different scales
    y = x @ [1.0, 0.002] + np.repeat([-50.0, 0.0, 80.0], 20) + 0.01 * rng.randn(60)
    X = np.empty((60, 3), dtype=object)
    X[:, :2], X[:, 2] = x, task
    return X, y


def test_a_null_regressor_predicts_each_tasks_training_mean_and_the_overall_mean_unseen():
    X, y = _long()
    model = StandardizedRegressor(DummyRegressor(strategy="constant", constant=0.0), task_column=-1)
    model.fit(X, y)
    np.testing.assert_allclose(model.y_offset_, [y[:20].mean(), y[20:40].mean(), y[40:].mean()])
    X_new = X[[0, 25, 59]].copy()
    X_new[2, 2] = "unseen"
    np.testing.assert_allclose(model.predict(X_new), [y[:20].mean(), y[20:40].mean(), y.mean()])


class _Recorder(RegressorMixin, BaseEstimator):
    """Keeps what it is fitted on; predicts zeros."""

    def fit(self, X, y):
        self.X_, self.y_ = X, y
        return self

    def predict(self, X):
        return np.zeros(len(X))


def test_the_regressor_sees_standardized_features_and_centered_scaled_targets():
    X, y = _long()
    inner = StandardizedRegressor(_Recorder(), task_column=-1).fit(X, y).regressor_
    features = inner.X_[:, :2].astype(float)
    np.testing.assert_allclose(features.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(features.std(axis=0), 1.0)
    assert list(inner.X_[:, 2]) == list(X[:, 2])  # the task column, last
    for rows in (slice(0, 20), slice(20, 40), slice(40, 60)):
        assert abs(inner.y_[rows].mean()) < 1e-12
    assert np.isclose(inner.y_.std(), 1.0)


def test_kernel_ridge_with_per_task_offsets_in_both_layouts():
    X, y = _long()
    long = StandardizedRegressor(MultiTaskKernelRidge(alpha=0.01, task_column=-1), task_column=-1)
    assert long.fit(X, y).score(X, y) > 0.99
    # Wide layout: one column per task, the same offsets per column.
    Y = np.column_stack([y[:20], y[20:40], y[40:]])
    wide = StandardizedRegressor(MultiTaskKernelRidge(alpha=0.01)).fit(X[:20, :2].astype(float), Y)
    np.testing.assert_allclose(wide.y_offset_, Y.mean(axis=0))
    assert wide.predict(X[:20, :2].astype(float)).shape == (20, 3)


def test_errors():
    with pytest.raises(NotFittedError):
        StandardizedRegressor(LinearRegression()).predict(np.ones((2, 2)))
    X, y = _long()
    X[3, 0] = "Oxford"
    with pytest.raises(ValueError, match="feature column 0 .* holds text \\('Oxford'\\)"):
        StandardizedRegressor(LinearRegression(), task_column=-1).fit(X, y)
