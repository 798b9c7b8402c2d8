"""GroupLassoRegressor / GroupLassoClassifier: references, optimality, layouts, errors."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskElasticNet, MultiTaskLasso
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl._data import check_task_data
from skmtl.linear_model import GroupLassoRegressor, alpha_max
from skmtl.linear_model._losses import SquaredLoss
from skmtl.linear_model._penalties import L21, L1Linf


def _regression(n=60, d=25, T=4, seed=0, offset=3.0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    W = np.zeros((d, T))
    W[:5] = rng.randn(5, T)
    return X, X @ W + 0.3 * rng.randn(n, T) + offset


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.6])
def test_matches_sklearn_multitask_lasso_and_elastic_net(fit_intercept, l1_ratio):
    X, Y = _regression()
    alpha = 0.15
    model = GroupLassoRegressor(alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=1e-11, max_iter=20000)
    model.fit(X, Y)
    if l1_ratio == 1.0:
        ref = MultiTaskLasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-14, max_iter=100000)
    else:
        ref = MultiTaskElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=1e-14, max_iter=100000)
    ref.fit(X, Y)
    assert np.any(np.all(ref.coef_ == 0, axis=0))  # a sparse solution
    assert_allclose(model.coef_, ref.coef_, rtol=1e-6, atol=1e-6 * np.abs(ref.coef_).max())
    assert_allclose(model.intercept_, np.broadcast_to(ref.intercept_, 4), rtol=1e-6, atol=1e-9)
    assert_allclose(model.predict(X), ref.predict(X), rtol=1e-6)
    assert model.stop_crit_ <= 1e-11


@pytest.mark.parametrize("params", [{}, {"l1_ratio": 0.5}, {"positive": True}, {"norm": "linf"}])
def test_kkt_at_the_solution(params):
    X, Y = _regression(seed=1)
    model = GroupLassoRegressor(0.1, tol=1e-9, max_iter=20000, **params).fit(X, Y)
    loss = SquaredLoss(check_task_data(X, Y))
    _, grad, grad_b = loss.value_and_gradient(model.coef_.T, model.intercept_)
    penalty = model._make_penalty(0.1)
    assert isinstance(penalty, L1Linf if params.get("norm") == "linf" else L21)
    scale = np.linalg.norm(loss.value_and_gradient(np.zeros_like(model.coef_.T), loss.null_intercept())[1])
    assert penalty.subdiff_distance(model.coef_.T, grad) <= 1e-6 * scale
    assert np.linalg.norm(grad_b) <= 1e-6 * scale


@pytest.mark.parametrize("params", [{}, {"norm": "linf"}, {"positive": True}, {"l1_ratio": 0.3}])
def test_alpha_max_gives_exact_zeros(params):
    X, Y = _regression(seed=2)
    a_max = alpha_max(GroupLassoRegressor(**params), X, Y)
    model = GroupLassoRegressor(a_max, **params).fit(X, Y)
    assert_array_equal(model.coef_, 0)
    assert model.n_iter_ == 0
    assert_allclose(model.intercept_, Y.mean(axis=0))
    assert np.any(GroupLassoRegressor(0.95 * a_max, **params).fit(X, Y).coef_ != 0)


def test_warm_refit_takes_at_most_two_iterations():
    X, Y = _regression(seed=3)
    model = GroupLassoRegressor(0.1, warm_start=True, tol=1e-8).fit(X, Y)
    assert model.n_iter_ > 2
    coef = model.coef_.copy()
    model.fit(X, Y)
    assert model.n_iter_ <= 2
    assert_allclose(model.coef_, coef, rtol=1e-6, atol=1e-8)
    # Without warm_start a refit starts from scratch.
    cold = GroupLassoRegressor(0.1, tol=1e-8).fit(X, Y)
    assert cold.fit(X, Y).n_iter_ > 2


def test_positive_and_linf():
    X, Y = _regression(seed=4)
    positive = GroupLassoRegressor(0.05, positive=True).fit(X, Y)
    assert np.all(positive.coef_ >= 0)
    linf = GroupLassoRegressor(0.05, norm="linf", tol=1e-8, max_iter=5000).fit(X, Y)
    used = np.any(linf.coef_ != 0, axis=0)
    # L1/Linf: most entries of a selected feature share the largest magnitude.
    peaks = np.abs(linf.coef_[:, used]).max(axis=0)
    assert np.mean(np.isclose(np.abs(linf.coef_[:, used]), peaks, rtol=1e-6)) > 0.5


def test_positive_needs_l2_norm():
    X, Y = _regression()
    with pytest.raises(ValueError, match=r"positive=True is only supported with norm='l2'; got norm='linf'"):
        GroupLassoRegressor(positive=True, norm="linf").fit(X, Y)
    with pytest.raises(ValueError, match=r"The 'norm' parameter of GroupLassoRegressor must be"):
        GroupLassoRegressor(norm="l3").fit(X, Y)


def test_pipeline_grid_search_pickle_clone():
    X, Y = _regression(seed=5)
    pipe = make_pipeline(StandardScaler(), GroupLassoRegressor())
    search = GridSearchCV(pipe, {"grouplassoregressor__alpha": [0.01, 0.1, 1.0]}, cv=3).fit(X, Y)
    assert search.best_params_["grouplassoregressor__alpha"] in (0.01, 0.1, 1.0)
    model = search.best_estimator_
    restored = pickle.loads(pickle.dumps(model))
    assert_array_equal(restored.predict(X), model.predict(X))
    fresh = clone(model[-1])
    assert not hasattr(fresh, "coef_")
    assert fresh.get_params() == model[-1].get_params()


def test_convergence_warning_when_max_iter_is_reached():
    X, Y = _regression(seed=6)
    with pytest.warns(
        ConvergenceWarning,
        match=r"GroupLassoRegressor did not converge: the duality gap reached .*, above tol \* scale = .*, "
        r"after max_iter=1 iterations\. Increase max_iter",
    ):
        model = GroupLassoRegressor(0.01, max_iter=1).fit(X, Y)
    assert model.n_iter_ == 1
    scale = np.sum((Y - Y.mean(axis=0)) ** 2) / len(Y)  # twice the intercept-only loss
    assert model.dual_gap_ > 1e-4 * scale


def test_sparse_equals_dense_and_float32_kept():
    X, Y = _regression(seed=7)
    X[np.abs(X) < 0.8] = 0
    dense = GroupLassoRegressor(0.05, tol=1e-10, max_iter=10000).fit(X, Y)
    for fmt in ("csr", "csc"):
        sparse = GroupLassoRegressor(0.05, tol=1e-10, max_iter=10000).fit(sp.csr_matrix(X).asformat(fmt), Y)
        assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-9)
        assert_allclose(sparse.predict(sp.csr_matrix(X).asformat(fmt)), dense.predict(X), rtol=1e-6)
    single = GroupLassoRegressor(0.05, tol=1e-5).fit(X.astype(np.float32), Y)
    assert single.coef_.dtype == np.float32 and single.intercept_.dtype == np.float32
    assert single.predict(X.astype(np.float32)).dtype == np.float32
    assert_allclose(single.coef_, dense.coef_, atol=1e-3)
