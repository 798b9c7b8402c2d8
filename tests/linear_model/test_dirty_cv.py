"""DirtyRegressorCV, DirtyClassifierCV, SparseLowRankRegressorCV: the 2-D grid search."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.model_selection import KFold

from skmtl.datasets import make_sparse_multitask
from skmtl.linear_model import (
    DirtyClassifier,
    DirtyClassifierCV,
    DirtyRegressor,
    DirtyRegressorCV,
    SparseLowRankRegressor,
    SparseLowRankRegressorCV,
)
from skmtl.linear_model._dirty_cv import _snake
from skmtl.metrics import task_r2_scorer


@pytest.fixture(scope="module")
def data():
    X, Y, _ = make_sparse_multitask(
        n_samples=50, n_features=6, n_tasks=3, n_informative=2, noise=0.5, random_state=0
    )
    return X, Y


def test_snake_visits_every_pair_once_each_next_to_the_last():
    path = _snake(4)
    assert sorted(path) == [(i, j) for i in range(4) for j in range(4)]
    assert all(abs(a - c) + abs(b - d) == 1 for (a, b), (c, d) in zip(path, path[1:]))


@pytest.mark.parametrize(
    "cv_class, model", [(DirtyRegressorCV, DirtyRegressor), (SparseLowRankRegressorCV, SparseLowRankRegressor)]
)
def test_scores_are_those_of_cold_fits_and_the_refit_is_the_best_pair(data, cv_class, model):
    X, Y = data
    folds = KFold(3, shuffle=True, random_state=0)
    search = cv_class(n_alphas=3, cv=folds, tol=1e-10, max_iter=20000).fit(X, Y)
    grid = search.alphas_
    assert_allclose(grid, [1.0, 0.1, 0.01])
    first, second = model._strength_names
    # One pair recomputed from scratch: warm starts change nothing but time.
    train, test = next(folds.split(X))
    cold = model(grid[2], grid[1], tol=1e-10, max_iter=20000).fit(X[train], Y[train])
    mse = np.mean([np.mean((Y[test, t] - cold.predict(X[test])[:, t]) ** 2) for t in range(3)])
    assert search.scores_[2, 1, 0] == pytest.approx(-mse, rel=1e-6)
    best = np.unravel_index(np.argmax(search.scores_.mean(axis=-1)), (3, 3))
    assert (getattr(search, f"{first}_"), getattr(search, f"{second}_")) == (grid[best[0]], grid[best[1]])
    refit = model(grid[best[0]], grid[best[1]], tol=1e-10, max_iter=20000).fit(X, Y)
    assert_allclose(search.predict(X), refit.predict(X), atol=1e-8)
    # Fitted attributes are the refitted model's, without copies.
    assert search.coef_ is search.estimator_.coef_
    assert_allclose(pickle.loads(pickle.dumps(search)).predict(X), search.predict(X))


def test_scoring_and_long_layout(data):
    X, Y = data
    rows, tasks = np.nonzero(np.ones(Y.shape, bool))
    X_long, y_long = np.column_stack([X[rows], tasks]), Y[rows, tasks]
    search = DirtyRegressorCV(n_alphas=2, cv=3, scoring=task_r2_scorer, task_column=-1).fit(X_long, y_long)
    # R^2 is at most 1 and the intercept-only pair (1, 1) scores about 0.
    assert np.all(search.scores_ <= 1.0) and search.scores_[0, 0].mean() < 0.05
    assert search.predict(X_long).shape == y_long.shape
    with pytest.raises(ValueError, match="alphas must be"):
        DirtyRegressorCV(alphas=[]).fit(X, Y)


def test_classifier_cv_chooses_by_log_loss_and_predicts_like_its_refit():
    X, Y, _ = make_sparse_multitask(
        n_samples=80, n_features=6, n_tasks=2, n_informative=2, classification=True, random_state=1
    )
    search = DirtyClassifierCV(n_alphas=2, cv=2).fit(X, Y)
    # Minus the mean per-task log loss: at most 0, and at most log 2 below
    # it for the intercept-only pair when the classes are balanced.
    assert np.all(search.scores_ <= 0) and search.scores_.max() > -np.log(2)
    refit = DirtyClassifier(search.alpha_shared_, search.alpha_specific_).fit(X, Y)
    assert_allclose(search.decision_function(X), refit.decision_function(X))
    assert [list(c) for c in search.classes_] == [list(c) for c in refit.classes_]
