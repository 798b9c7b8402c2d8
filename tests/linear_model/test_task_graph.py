"""Mean-, graph-regularized and task-relation (MTRL) models: prox, KKT, closed form, limits, errors."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.base import is_classifier

from skmtl._data import check_task_data
from skmtl.datasets import make_clustered_multitask
from skmtl.linear_model._losses import LogisticLoss, SquaredLoss
from skmtl.linear_model._task_graph import (
    GraphRegularizedClassifier,
    GraphRegularizedRegressor,
    MeanQuadratic,
    MeanRegularizedClassifier,
    MeanRegularizedRegressor,
    SquaredTraceNorm,
    TaskQuadratic,
    TaskRelationClassifier,
    TaskRelationRegressor,
    _task_covariance,
)
from skmtl.utils import stack_tasks

CHAIN = np.array([[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 2.0, 0.0], [0.0, 2.0, 0.0, 0.5], [0.0, 0.0, 0.5, 0.0]])


def _data(n=60, d=5, T=4, seed=0, noise=0.3):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    B = rng.randn(d, 1) + 0.5 * rng.randn(d, T)
    Y = X @ B + noise * rng.randn(n, T) + rng.randn(T)
    return X, Y


def _mean_matrix(T, mixing):
    return np.eye(T) - mixing / T * np.ones((T, T))


def _graph_matrix(A, ridge):
    return np.diag(A.sum(axis=1)) - A + ridge * np.eye(len(A))


def _closed_form(X, Y, alpha, M, fit_intercept=True):
    """Solve (X'X/n) W + alpha W M = X'Y/n on the vectorized system (full Y, no weights)."""
    if fit_intercept:
        X = X - X.mean(axis=0)
        Y = Y - Y.mean(axis=0)
    n, d = X.shape
    T = Y.shape[1]
    G = X.T @ X / n
    A = np.kron(np.eye(T), G) + alpha * np.kron(M, np.eye(d))
    w = np.linalg.solve(A, (X.T @ Y / n).ravel(order="F"))
    return w.reshape(d, T, order="F").T


# --------------------------------------------------------------------- penalties
def _penalties(T=4):
    rng = np.random.RandomState(0)
    C = rng.randn(T, T)
    return [
        MeanQuadratic(0.7, 0.8, T),
        MeanQuadratic(0.7, 1.0, T),
        TaskQuadratic(0.7, _graph_matrix(CHAIN, 0.1)),
        TaskQuadratic(1.3, C @ C.T),
    ]


@pytest.mark.parametrize("penalty", _penalties(), ids=repr)
def test_prox_is_linear_solve_and_value_is_quadratic_form(penalty):
    rng = np.random.RandomState(2)
    V = rng.randn(6, 4)
    M = penalty.task_matrix
    assert_allclose(penalty.prox(V, 0.5), np.linalg.solve((np.eye(4) + 0.5 * penalty.alpha * M).T, V.T).T)
    assert_allclose(penalty.value(V), 0.5 * penalty.alpha * np.trace(V @ M @ V.T))
    grad = -penalty.alpha * V @ M
    assert penalty.subdiff_distance(V, grad) <= 1e-12
    assert_allclose(penalty.subdiff_distance(V, grad + 1.0), np.sqrt(V.size))
    assert penalty.alpha_max(grad) == np.inf
    assert penalty.prox(V.astype(np.float32), 0.5).dtype == np.float32


def test_mean_penalty_formula():
    rng = np.random.RandomState(3)
    W = rng.randn(5, 4)
    mixing, alpha = 0.3, 2.0
    expected = alpha / 2 * (
        mixing * np.sum((W - W.mean(axis=1, keepdims=True)) ** 2) + (1 - mixing) * np.sum(W**2)
    )
    assert_allclose(MeanQuadratic(alpha, mixing, 4).value(W), expected)


def test_graph_penalty_formula():
    rng = np.random.RandomState(4)
    W = rng.randn(5, 4)
    model = GraphRegularizedRegressor(2.0, task_graph=CHAIN, ridge=0.3).fit(*_data())
    pairs = sum(CHAIN[s, t] * np.sum((W[:, s] - W[:, t]) ** 2) for s in range(4) for t in range(s + 1, 4))
    assert_allclose(model._make_penalty(2.0).value(W), 2.0 / 2 * (pairs + 0.3 * np.sum(W**2)))


# --------------------------------------------------------------------- solutions
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize(
    "make, M",
    [
        (lambda: MeanRegularizedRegressor(0.3, mixing=0.7), _mean_matrix(4, 0.7)),
        (lambda: MeanRegularizedRegressor(0.3, mixing=1.0), _mean_matrix(4, 1.0)),
        (lambda: GraphRegularizedRegressor(0.3, task_graph=CHAIN, ridge=0.05), _graph_matrix(CHAIN, 0.05)),
        (lambda: GraphRegularizedRegressor(0.3, laplacian=_graph_matrix(CHAIN, 0.0)), _graph_matrix(CHAIN, 0.0)),
    ],
    ids=["mean", "mean-mixing1", "graph", "laplacian"],
)
def test_closed_form(make, M, fit_intercept):
    X, Y = _data()
    model = make().set_params(fit_intercept=fit_intercept, tol=1e-12, max_iter=20000).fit(X, Y)
    assert_allclose(model.coef_, _closed_form(X, Y, 0.3, M, fit_intercept), atol=1e-6, rtol=1e-6)
    if fit_intercept:
        assert_allclose(model.intercept_, Y.mean(axis=0) - X.mean(axis=0) @ model.coef_.T, atol=1e-6)
    else:
        assert np.all(model.intercept_ == 0)


@pytest.mark.parametrize(
    "model",
    [MeanRegularizedRegressor(0.2, mixing=0.9), GraphRegularizedRegressor(0.2, task_graph=CHAIN, ridge=0.01)],
    ids=["mean", "graph"],
)
def test_kkt_with_missing_labels_and_weights(model):
    X, Y = _data(seed=5)
    Y[::7, 1] = np.nan
    Y[::5, 3] = np.nan
    weights = np.array([1.0, 2.0, 0.5, 1.5])
    model.set_params(task_weights=weights, tol=1e-11, max_iter=20000).fit(X, Y)
    loss = SquaredLoss(check_task_data(X, Y), task_weights=weights)
    _, grad, grad_b = loss.value_and_gradient(model.coef_.T, model.intercept_)
    assert model._make_penalty(0.2).subdiff_distance(model.coef_.T, grad) <= 1e-7
    assert np.linalg.norm(grad_b) <= 1e-7


def test_classifier_kkt():
    rng = np.random.RandomState(6)
    X = rng.randn(100, 4)
    Y = (X @ (rng.randn(4, 1) + 0.3 * rng.randn(4, 3)) + 0.5 * rng.randn(100, 3) > 0).astype(int)
    model = MeanRegularizedClassifier(0.05, mixing=0.8, tol=1e-10, max_iter=20000).fit(X, Y)
    loss = LogisticLoss(check_task_data(X, 2.0 * Y - 1))
    _, grad, grad_b = loss.value_and_gradient(model.coef_.T, model.intercept_)
    assert model._make_penalty(0.05).subdiff_distance(model.coef_.T, grad) <= 1e-7
    assert np.linalg.norm(grad_b) <= 1e-7
    assert model.score(X, Y) > 0.8


def test_classifier_mean_pull():
    # Huge alpha with mixing=1: every column has the same coefficients.
    rng = np.random.RandomState(7)
    X = rng.randn(80, 3)
    Y = (X @ rng.randn(3, 3) > 0).astype(int)
    model = MeanRegularizedClassifier(1e6, mixing=1.0, tol=1e-10, max_iter=5000).fit(X, Y)
    assert np.ptp(model.coef_, axis=0).max() < 1e-5 * (1 + np.abs(model.coef_).max())


# --------------------------------------------------------------------- limits
@pytest.mark.parametrize(
    "model",
    [MeanRegularizedRegressor(1e7, mixing=1.0), GraphRegularizedRegressor(1e7, task_graph=CHAIN)],
    ids=["mean", "graph"],
)
def test_huge_alpha_gives_pooled_model(model):
    X, Y = _data(seed=8)
    model.set_params(tol=1e-12, max_iter=20000).fit(X, Y)
    # Pooled model: one b for all tasks, one intercept per task:
    # b = argmin sum_t ||y_t - c_t - X b||^2 (centered) = OLS on the tasks' mean target.
    Xc = X - X.mean(axis=0)
    b = np.linalg.lstsq(Xc, (Y - Y.mean(axis=0)).mean(axis=1), rcond=None)[0]
    assert_allclose(model.coef_, np.tile(b, (4, 1)), atol=1e-5)
    assert_allclose(model.intercept_, Y.mean(axis=0) - X.mean(axis=0) @ b, atol=1e-5)


@pytest.mark.parametrize(
    "model",
    [MeanRegularizedRegressor(1e-9, mixing=0.5), GraphRegularizedRegressor(1e-9, task_graph=CHAIN)],
    ids=["mean", "graph"],
)
def test_tiny_alpha_gives_independent_models(model):
    from sklearn.linear_model import LinearRegression

    X, Y = _data(seed=9)
    model.set_params(tol=1e-12, max_iter=20000).fit(X, Y)
    ols = LinearRegression().fit(X, Y)
    assert_allclose(model.coef_, ols.coef_, atol=1e-6)
    assert_allclose(model.intercept_, ols.intercept_, atol=1e-6)



def test_limits_agree_with_the_baseline_estimators_in_the_long_layout():
    # The statement, on the baselines a user would run: a huge alpha
    # is PooledTasks with per-task offsets, a tiny one IndependentTasks.
    from sklearn.linear_model import Ridge

    from skmtl.multitask import IndependentTasks, PooledTasks

    X, Y = _data(seed=12)
    Xl, yl = stack_tasks([X] * Y.shape[1], list(Y.T))
    pooled = PooledTasks(Ridge(alpha=1e-10), task_column=-1, task_features="onehot").fit(Xl, yl)
    alone = IndependentTasks(Ridge(alpha=1e-10), task_column=-1).fit(Xl, yl)
    for model in (MeanRegularizedRegressor(1e7, mixing=1.0), GraphRegularizedRegressor(1e7)):
        model.set_params(task_column=-1, tol=1e-12, max_iter=20000).fit(Xl, yl)
        assert_allclose(model.predict(Xl), pooled.predict(Xl), atol=1e-5)
    for model in (MeanRegularizedRegressor(1e-9), GraphRegularizedRegressor(1e-9)):
        model.set_params(task_column=-1, tol=1e-12, max_iter=20000).fit(Xl, yl)
        assert_allclose(model.predict(Xl), alone.predict(Xl), atol=1e-6)

def test_mixing_zero_is_ridge():
    from sklearn.linear_model import Ridge

    X, Y = _data(seed=10)
    model = MeanRegularizedRegressor(0.4, mixing=0.0, tol=1e-12, max_iter=20000).fit(X, Y)
    # sklearn's Ridge: ||y - Xb||^2 + a ||b||^2 = 2n * (ours with alpha = a / n).
    ridge = Ridge(alpha=0.4 * len(X)).fit(X, Y)
    assert_allclose(model.coef_, ridge.coef_, atol=1e-7)


def test_default_graph_is_complete_graph():
    X, Y = _data(seed=11)
    complete = np.ones((4, 4)) - np.eye(4)
    a = GraphRegularizedRegressor(0.5, tol=1e-12, max_iter=20000).fit(X, Y)
    b = GraphRegularizedRegressor(0.5, task_graph=complete, tol=1e-12, max_iter=20000).fit(X, Y)
    assert_allclose(a.coef_, b.coef_, atol=1e-9)
    assert_allclose(a.laplacian_, 4 * np.eye(4) - np.ones((4, 4)))
    # The complete graph with weight 1 is the mean penalty with mixing=1 and alpha*T.
    c = MeanRegularizedRegressor(0.5 * 4, mixing=1.0, tol=1e-12, max_iter=20000).fit(X, Y)
    assert_allclose(a.coef_, c.coef_, atol=1e-8)


# --------------------------------------------------------------------- layouts, pickle, warm start
@pytest.mark.parametrize(
    "model",
    [MeanRegularizedRegressor(0.3), GraphRegularizedRegressor(0.3, task_graph=CHAIN, ridge=0.1)],
    ids=["mean", "graph"],
)
def test_wide_and_long_layouts_agree(model):
    X, Y = _data(seed=12)
    wide = model.set_params(tol=1e-11, max_iter=20000).fit(X, Y)
    coef_wide = wide.coef_.copy()
    Xs = [X] * 4
    ys = [Y[:, t] for t in range(4)]
    X_long, y_long = stack_tasks(Xs, ys)
    long = model.set_params(task_column=-1).fit(X_long, y_long)
    assert_allclose(long.coef_, coef_wide, atol=1e-8)
    assert_allclose(long.predict(X_long), wide.set_params(task_column=None).fit(X, Y).predict(X).T.ravel(), atol=1e-7)


def test_long_layout_unequal_tasks_kkt():
    rng = np.random.RandomState(13)
    sizes = [15, 40, 25]
    Xs = [rng.randn(n, 3) for n in sizes]
    ys = [x @ rng.randn(3) + rng.randn(n) for x, n in zip(Xs, sizes)]
    X_long, y_long = stack_tasks(Xs, ys, tasks=["c", "a", "b"])
    graph = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    model = GraphRegularizedRegressor(0.2, task_graph=graph, ridge=0.1, task_column=-1, tol=1e-11, max_iter=20000)
    model.fit(X_long, y_long)
    assert list(model.tasks_) == ["a", "b", "c"]
    data = check_task_data(X_long, y_long, task_column=-1)
    loss = SquaredLoss(data)
    _, grad, _ = loss.value_and_gradient(model.coef_.T, model.intercept_)
    assert model._make_penalty(0.2).subdiff_distance(model.coef_.T, grad) <= 1e-7


@pytest.mark.parametrize(
    "model",
    [
        MeanRegularizedRegressor(0.3),
        GraphRegularizedRegressor(0.3, task_graph=CHAIN),
        MeanRegularizedClassifier(0.05),
        TaskRelationRegressor(0.01),
        GraphRegularizedClassifier(0.05, task_graph=CHAIN),
    ],
    ids=["mean", "graph", "classifier", "relation", "graph-classifier"],
)
def test_pickle_round_trip_and_warm_start(model):
    X, Y = _data(seed=14)
    if is_classifier(model):
        Y = (Y > Y.mean(axis=0)).astype(int)
    model.set_params(tol=1e-9, max_iter=5000).fit(X, Y)
    clone = pickle.loads(pickle.dumps(model))
    assert_allclose(clone.predict(X), model.predict(X))
    model.set_params(warm_start=True).fit(X, Y)
    assert model.n_iter_ <= 2


def test_float32_kept():
    X, Y = _data(seed=15)
    model = MeanRegularizedRegressor(0.3).fit(X.astype(np.float32), Y.astype(np.float32))
    assert model.coef_.dtype == np.float32


# --------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "params, match",
    [
        (
            {"task_graph": np.ones((3, 3))},
            r"task_graph must have shape \(n_tasks, n_tasks\) = \(4, 4\).*got shape \(3, 3\)",
        ),
        (
            {"task_graph": np.triu(np.ones((4, 4)))},
            r"task_graph must be symmetric; got task_graph\[0, 1\] = 1 != task_graph\[1, 0\] = 0",
        ),
        ({"task_graph": -CHAIN}, r"task_graph must have non-negative weights; got task_graph\[0, 1\] = -1\."),
        ({"task_graph": np.where(CHAIN > 1, np.nan, CHAIN)}, "task_graph contains NaN or infinite values"),
        ({"task_graph": [["a"] * 4] * 4}, "task_graph must be a numeric array"),
        ({"laplacian": -np.eye(4)}, "laplacian must be positive semi-definite"),
        ({"laplacian": np.eye(5)}, r"laplacian must have shape \(n_tasks, n_tasks\) = \(4, 4\)"),
        ({"laplacian": np.full((4, 4), np.inf)}, "laplacian contains NaN or infinite values"),
        ({"task_graph": CHAIN, "laplacian": np.eye(4)}, "either task_graph .* or laplacian, not both"),
    ],
)
@pytest.mark.parametrize("estimator", [GraphRegularizedRegressor, GraphRegularizedClassifier])
def test_graph_errors(params, match, estimator):
    X, Y = _data()
    if is_classifier(estimator()):
        Y = (Y > Y.mean(axis=0)).astype(int)
    graph = params.get("task_graph")
    with pytest.raises(ValueError, match=match):
        estimator(**params).fit(X, Y)
    if graph is not None:
        # The user's graph is never modified.
        assert np.asarray(params["task_graph"]).shape == np.asarray(graph).shape


def test_graph_input_not_modified():
    X, Y = _data()
    graph = CHAIN + np.eye(4)  # self-loops are ignored, not removed from the input
    before = graph.copy()
    GraphRegularizedRegressor(0.1, task_graph=graph).fit(X, Y)
    assert_allclose(graph, before)


def test_bad_mixing():
    X, Y = _data()
    with pytest.raises(ValueError, match="mixing"):
        MeanRegularizedRegressor(mixing=1.5).fit(X, Y)


def test_alpha_max_is_inf():
    from skmtl.linear_model import alpha_max

    X, Y = _data()
    assert alpha_max(MeanRegularizedRegressor(), X, Y) == np.inf
    assert alpha_max(GraphRegularizedRegressor(), X, Y) == np.inf


# --------------------------------------------------------------------- sklearn checks
def test_sample_weight_equals_repeated_rows():
    # What sklearn's sample-weight-equivalence checks test, at a tight tol.
    rng = np.random.RandomState(16)
    X, Y = _data(n=30, seed=16)
    counts = rng.randint(0, 3, size=len(X))
    kwargs = dict(tol=1e-12, max_iter=50000)
    for model in (
        MeanRegularizedRegressor(0.3, **kwargs),
        GraphRegularizedRegressor(0.3, task_graph=CHAIN, **kwargs),
        TaskRelationRegressor(0.01, **kwargs),
    ):
        weighted = model.fit(X, Y, sample_weight=counts).coef_.copy()
        repeated = model.fit(np.repeat(X, counts, axis=0), np.repeat(Y, counts, axis=0)).coef_
        assert_allclose(weighted, repeated, rtol=1e-8, atol=1e-10)


def test_sparse_X_matches_dense():
    import scipy.sparse as sp

    X, Y = _data(seed=17)
    X[np.abs(X) < 0.5] = 0.0
    kwargs = dict(tol=1e-10, max_iter=20000)
    for model in (MeanRegularizedRegressor(0.3, **kwargs), GraphRegularizedRegressor(0.3, task_graph=CHAIN, **kwargs)):
        dense = model.fit(X, Y).coef_.copy()
        assert_allclose(model.fit(sp.csr_matrix(X), Y).coef_, dense, atol=1e-8)


def test_classifier_multiclass_task_long_layout():
    rng = np.random.RandomState(18)
    Xs = [rng.randn(40, 3) for _ in range(3)]
    ys = [(x[:, 0] > 0).astype(int) for x in Xs[:2]] + [np.digitize(Xs[2][:, 1], [-0.5, 0.5])]
    X_long, y_long = stack_tasks(Xs, ys)
    model = MeanRegularizedClassifier(0.01, task_column=-1).fit(X_long, y_long)
    # Two binary tasks (one column each) and a 3-class task (three columns).
    assert model.coef_.shape == (5, 3)
    assert list(model.coef_indptr_) == [0, 1, 2, 5]
    assert model.score(X_long, y_long) > 0.7


# --------------------------------------------------------------------- graph classifier
def _binary_tasks(n=120, seed=40, noise=1.0, shared=True):
    """Non-separable binary tasks (logistic noise), related through a common direction."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    B = (rng.randn(3, 1) if shared else 0) + 0.5 * rng.randn(3, 4)
    scores = X @ B + 0.3 * rng.randn(4)
    return X, (scores + noise * rng.logistic(size=scores.shape) > 0).astype(int)


@pytest.mark.parametrize("graph", [CHAIN, None], ids=["chain", "complete"])
def test_graph_classifier_huge_alpha_ties_the_tasks(graph):
    X, Y = _binary_tasks()
    model = GraphRegularizedClassifier(1e6, task_graph=graph, ridge=0.0, tol=1e-10, max_iter=20000).fit(X, Y)
    B = model.coef_
    # A connected graph with a huge weight: every task has the same coefficients ...
    assert np.ptp(B, axis=0).max() < 1e-5 * np.abs(B).max()
    assert np.abs(B).max() > 0.1
    # ... which are the pooled model's: the tasks' gradients cancel in sum
    # (the stationarity of sum_t loss_t(b, c_t) in the common b).
    loss = LogisticLoss(check_task_data(X, 2.0 * Y - 1))
    _, grad, grad_b = loss.value_and_gradient(B.T, model.intercept_)
    assert np.abs(grad.sum(axis=1)).max() < 1e-7
    assert np.abs(grad_b).max() < 1e-7


def test_graph_classifier_without_edges_is_independent_l2_logistic():
    # No edge: alpha / 2 * ridge * ||b_t||^2 + mean logistic loss per task, i.e.
    # scikit-learn's 1/2 ||b||^2 + C sum_i log(...) with C = 1 / (n alpha ridge).
    from sklearn.linear_model import LogisticRegression

    X, Y = _binary_tasks(seed=41)
    alpha, ridge = 0.05, 0.4
    model = GraphRegularizedClassifier(alpha, task_graph=np.zeros((4, 4)), ridge=ridge, tol=1e-12, max_iter=20000)
    model.fit(X, Y)
    C = 1.0 / (len(X) * alpha * ridge)
    for t in range(4):
        ref = LogisticRegression(C=C, tol=1e-12, max_iter=10000).fit(X, Y[:, t])
        assert_allclose(model.coef_[t], ref.coef_[0], atol=1e-7)
        assert_allclose(model.intercept_[t], ref.intercept_[0], atol=1e-7)


def test_graph_classifier_tiny_alpha_is_independent_logistic():
    from sklearn.linear_model import LogisticRegression

    X, Y = _binary_tasks(seed=42)
    model = GraphRegularizedClassifier(1e-9, task_graph=CHAIN, ridge=0.0, tol=1e-12, max_iter=50000).fit(X, Y)
    for t in range(4):
        # C = 1e12: the unpenalized maximum likelihood fit (the data are not separable).
        ref = LogisticRegression(C=1e12, tol=1e-12, max_iter=10000).fit(X, Y[:, t])
        assert_allclose(model.coef_[t], ref.coef_[0], atol=1e-5)
        assert_allclose(model.intercept_[t], ref.intercept_[0], atol=1e-5)


def test_graph_classifier_optimality_with_missing_labels_and_weights():
    X, Y = _binary_tasks(seed=43)
    Y = Y.astype(float)
    Y[::7, 1] = np.nan
    Y[::5, 3] = np.nan
    weights = np.array([1.0, 2.0, 0.5, 1.5])
    alpha, ridge = 0.05, 0.2
    model = GraphRegularizedClassifier(
        alpha, task_graph=CHAIN, ridge=ridge, task_weights=weights, tol=1e-11, max_iter=20000
    ).fit(X, Y)
    assert_allclose(model.laplacian_, _graph_matrix(CHAIN, 0.0))
    loss = LogisticLoss(check_task_data(X, 2.0 * Y - 1), task_weights=weights)
    _, grad, grad_b = loss.value_and_gradient(model.coef_.T, model.intercept_)
    # The objective is smooth: its gradient grad + alpha W (L + ridge I) vanishes.
    assert np.abs(grad + alpha * model.coef_.T @ _graph_matrix(CHAIN, ridge)).max() < 1e-8
    assert np.abs(grad_b).max() < 1e-8


def test_graph_classifier_multiclass_links_same_class_columns():
    rng = np.random.RandomState(44)
    Xs = [rng.randn(50, 3) for _ in range(3)]
    ys = [(x[:, 0] > 0).astype(int) for x in Xs[:2]] + [np.digitize(Xs[2][:, 0], [-0.5, 0.5])]
    X_long, y_long = stack_tasks(Xs, ys)
    graph = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    model = GraphRegularizedClassifier(0.1, task_graph=graph, task_column=-1).fit(X_long, y_long)
    assert list(model.coef_indptr_) == [0, 1, 2, 5]
    # Columns: task 0 (class 1), task 1 (class 1), task 2 (classes 0, 1, 2).
    # Edges: 0-1 (weight 1), 0 and task 2's class-1 column (weight 2).
    A = np.zeros((5, 5))
    A[0, 1] = A[1, 0] = 1.0
    A[0, 3] = A[3, 0] = 2.0
    assert_allclose(model.laplacian_, np.diag(A.sum(axis=1)) - A)
    # A given Laplacian is expanded the same way and stays PSD.
    L = _graph_matrix(graph, 0.0)
    given = GraphRegularizedClassifier(0.1, laplacian=L, task_column=-1).fit(X_long, y_long)
    expected = np.zeros((5, 5))
    tasks, classes = np.array([0, 1, 2, 2, 2]), np.array([1, 1, 0, 1, 2])
    for k in range(5):
        for j in range(5):
            if classes[k] == classes[j]:
                expected[k, j] = L[tasks[k], tasks[j]]
    assert_allclose(given.laplacian_, expected)
    assert np.linalg.eigvalsh(given.laplacian_).min() >= -1e-12
    assert model.score(X_long, y_long) > 0.8


def test_graph_classifier_layouts_agree():
    X, Y = _binary_tasks(seed=45)
    params = dict(alpha=0.05, task_graph=CHAIN, tol=1e-10, max_iter=20000)
    wide = GraphRegularizedClassifier(**params).fit(X, Y)
    X_long, y_long = stack_tasks([X] * 4, [Y[:, t] for t in range(4)])
    long = GraphRegularizedClassifier(**params, task_column=-1).fit(X_long, y_long)
    assert_allclose(long.coef_, wide.coef_, atol=1e-8)
    assert_allclose(long.predict_proba(X_long)[:, 1], np.concatenate([p[:, 1] for p in wide.predict_proba(X)]))


# --------------------------------------------------------------------- MTRL (item 3)
def test_squared_trace_norm_value_and_zero():
    rng = np.random.RandomState(21)
    W = rng.randn(5, 3)
    penalty = SquaredTraceNorm(2.0, ridge=0.5)
    nuclear = np.linalg.svd(W, compute_uv=False).sum()
    assert_allclose(penalty.value(W), 2.0 / 2 * (nuclear**2 + 0.5 * np.sum(W**2)))
    grad = rng.randn(5, 3)
    assert_allclose(penalty.subdiff_distance(np.zeros((5, 3)), grad), np.linalg.norm(grad))
    assert penalty.alpha_max(grad) == np.inf


def test_task_covariance_minimizes_trace_term():
    rng = np.random.RandomState(22)
    W = rng.randn(6, 4)
    omega = _task_covariance(W).dense()
    assert_allclose(np.trace(omega), 1.0)
    best = np.trace(W @ np.linalg.inv(omega) @ W.T)
    assert_allclose(best, np.linalg.svd(W, compute_uv=False).sum() ** 2)
    for _ in range(20):
        C = rng.randn(4, 4)
        other = omega + 0.05 * C @ C.T
        other /= np.trace(other)
        assert np.trace(W @ np.linalg.inv(other) @ W.T) >= best - 1e-10
    assert_allclose(_task_covariance(np.zeros((3, 4))).dense(), np.eye(4) / 4)


@pytest.mark.parametrize(
    "shape, rank",
    [((3, 10), 3), ((10, 4), 4), ((5, 5), 5), ((6, 9), 2), ((2, 7), 1)],
    ids=["d<T", "d>T", "d=T", "rank2<d<T", "rank1"],
)
def test_task_covariance_thin_svd_matches_eigh_reference(shape, rank):
    # The thin SVD of W gives the same matrix as (W'W)^{1/2} from eigh of the
    # T x T matrix W'W (its rounding-level eigenvalues of the null space
    # zeroed: their square roots would be ~1e-8 noise in the reference).
    rng = np.random.RandomState(sum(shape) + rank)
    W = rng.randn(shape[0], rank) @ rng.randn(rank, shape[1])
    eigvals, eigvecs = np.linalg.eigh(W.T @ W)
    eigvals[eigvals < 1e-12 * eigvals.max()] = 0.0
    root = np.sqrt(eigvals)
    reference = (eigvecs * (root / root.sum())) @ eigvecs.T
    omega = _task_covariance(W).dense()
    assert omega.shape == (shape[1], shape[1])
    assert_allclose(omega, reference, rtol=0, atol=1e-10)
    assert_allclose(omega, omega.T, rtol=0, atol=0)
    assert np.linalg.matrix_rank(omega, tol=1e-10) == rank


def test_task_relation_kkt_and_joint_optimality():
    X, Y = _data(seed=23)
    model = TaskRelationRegressor(0.01, ridge=0.2, tol=1e-11, max_iter=20000).fit(X, Y)
    loss = SquaredLoss(check_task_data(X, Y))
    _, grad, grad_b = loss.value_and_gradient(model.coef_.T, model.intercept_)
    assert model._make_penalty(0.01).subdiff_distance(model.coef_.T, grad) <= 1e-8
    assert np.linalg.norm(grad_b) <= 1e-8
    # alpha=0.01 keeps coef_ full rank here (0.05 drops a rank), so Omega is invertible.
    assert np.linalg.svd(model.coef_, compute_uv=False).min() > 0.1
    # With Omega fixed at task_covariance_, B is the solution of the quadratic
    # (MTRL B-step) problem: the closed form with M = Omega^{-1} + ridge I.
    M = np.linalg.inv(model.task_covariance_) + 0.2 * np.eye(4)
    assert_allclose(model.coef_, _closed_form(X, Y, 0.01, M), atol=1e-6)
    assert_allclose(np.diag(model.task_correlation_), 1.0)
    # objective_ is MTRL's joint objective at (coef_, task_covariance_).
    B = model.coef_
    resid = Y - X @ B.T - model.intercept_
    joint = np.sum(resid**2) / (2 * len(X)) + 0.01 / 2 * (
        np.trace(B.T @ np.linalg.inv(model.task_covariance_) @ B) + 0.2 * np.sum(B**2)
    )
    assert_allclose(model.objective_, joint, rtol=1e-8)


def test_task_relation_planted_structure():
    rng = np.random.RandomState(24)
    X = rng.randn(200, 6)
    b1, b2 = rng.randn(6), rng.randn(6)
    # Tasks 0-2 share b1, 3-4 share b2, task 5 is -b1 (negative transfer).
    B = np.column_stack([b1, b1, b1, b2, b2, -b1]) + 0.05 * rng.randn(6, 6)
    Y = X @ B + 0.1 * rng.randn(200, 6)
    corr = TaskRelationRegressor(0.01).fit(X, Y).task_correlation_
    within = [corr[0, 1], corr[0, 2], corr[1, 2], corr[3, 4]]
    between = [corr[i, j] for i in range(3) for j in (3, 4)]
    assert min(within) > 0.9
    assert max(np.abs(between)) < min(within) - 0.3
    assert np.all(corr[5, :3] < -0.9)


def test_task_relation_limits_and_layouts():
    from sklearn.linear_model import LinearRegression

    X, Y = _data(seed=25)
    tiny = TaskRelationRegressor(1e-9, tol=1e-12, max_iter=20000).fit(X, Y)
    assert_allclose(tiny.coef_, LinearRegression().fit(X, Y).coef_, atol=1e-6)
    wide = TaskRelationRegressor(0.1, tol=1e-11, max_iter=20000).fit(X, Y)
    X_long, y_long = stack_tasks([X] * 4, [Y[:, t] for t in range(4)])
    long = TaskRelationRegressor(0.1, tol=1e-11, max_iter=20000, task_column=-1).fit(X_long, y_long)
    assert_allclose(long.coef_, wide.coef_, atol=1e-8)
    assert_allclose(long.task_covariance_, wide.task_covariance_, atol=1e-7)
    clone = pickle.loads(pickle.dumps(wide))
    assert_allclose(clone.task_correlation_, wide.task_correlation_)


def test_task_relation_classifier():
    rng = np.random.RandomState(26)
    X = rng.randn(150, 4)
    b = rng.randn(4)
    Y = (X @ np.column_stack([b, b, -b]) + 0.3 * rng.randn(150, 3) > 0).astype(int)
    model = TaskRelationClassifier(0.01, tol=1e-9, max_iter=20000).fit(X, Y)
    loss = LogisticLoss(check_task_data(X, 2.0 * Y - 1))
    _, grad, _ = loss.value_and_gradient(model.coef_.T, model.intercept_)
    assert model._make_penalty(0.01).subdiff_distance(model.coef_.T, grad) <= 1e-7
    assert model.task_correlation_[0, 1] > 0.8
    assert model.task_correlation_[0, 2] < -0.8


# ---------------------------------------------------------------- many tasks
@pytest.mark.parametrize(
    "estimator",
    [TaskRelationRegressor, TaskRelationClassifier, GraphRegularizedRegressor, GraphRegularizedClassifier],
)
def test_fit_at_many_tasks_forms_no_task_by_task_matrix(estimator, fit_peak_memory):
    # Issue 19: at 10,000 tasks TaskRelation took 2.6 GB (task_covariance_ and
    # task_correlation_) and the default complete graph ran out of memory
    # (its Laplacian's eigendecomposition). Those matrices are now formed on
    # first access only.
    n_tasks = 2000
    X, y, _ = make_clustered_multitask(
        n_samples=10, n_features=5, n_tasks=n_tasks, n_clusters=3, layout="long",
        classification=is_classifier(estimator()), random_state=0,
    )
    model = estimator(task_column=-1, max_iter=50)
    peak = fit_peak_memory(model, X, y)
    assert peak < 8 * n_tasks**2 / 2
    if estimator in (TaskRelationRegressor, TaskRelationClassifier):
        assert np.trace(model.task_covariance_) == pytest.approx(1)
        assert_allclose(np.diag(model.task_correlation_), 1.0)
    else:
        assert_allclose(model.laplacian_.diagonal(), n_tasks - 1)
        assert model.laplacian_ is model.laplacian_


def test_complete_graph_is_the_mean_penalty():
    # The default graph is solved through MeanQuadratic: the same model as
    # the explicit complete graph (eigendecomposition of its Laplacian).
    X, Y = _data(T=5)
    complete = np.ones((5, 5)) - np.eye(5)
    for ridge in [0.0, 0.3]:
        default = GraphRegularizedRegressor(0.2, ridge=ridge, tol=1e-10, max_iter=5000).fit(X, Y)
        given = GraphRegularizedRegressor(0.2, task_graph=complete, ridge=ridge, tol=1e-10, max_iter=5000).fit(X, Y)
        assert isinstance(default._make_penalty(0.2), MeanQuadratic)
        assert_allclose(default.coef_, given.coef_, rtol=1e-7, atol=1e-9)
        assert_allclose(default.objective_, given.objective_, rtol=1e-9)
        assert_allclose(default.laplacian_, given.laplacian_)
        # A refit with a graph replaces the complete graph's Laplacian.
        assert_allclose(default.set_params(task_graph=complete * 2).fit(X, Y).laplacian_, 2 * given.laplacian_)


@pytest.mark.parametrize("ridge", [0.0, 0.2])
def test_sparse_task_graph_is_the_dense_model_without_dense_matrices(ridge, fit_peak_memory):
    X, Y = _data()
    dense = GraphRegularizedRegressor(0.3, task_graph=CHAIN, ridge=ridge, tol=1e-10, max_iter=5000).fit(X, Y)
    sparse = GraphRegularizedRegressor(
        0.3, task_graph=sp.csr_matrix(CHAIN), ridge=ridge, tol=1e-10, max_iter=5000
    ).fit(X, Y)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-7, atol=1e-9)
    assert_allclose(sparse.objective_, dense.objective_, rtol=1e-10)
    assert sp.issparse(sparse.laplacian_)
    assert_allclose(sparse.laplacian_.toarray(), dense.laplacian_)
    # The duality gap certifies it where M = L + ridge I is positive definite.
    assert np.isnan(sparse.dual_gap_) == (ridge == 0)
    with pytest.raises(ValueError, match="symmetric"):
        GraphRegularizedRegressor(task_graph=sp.csr_matrix(np.triu(CHAIN))).fit(X, Y)
    with pytest.raises(ValueError, match="non-negative"):
        GraphRegularizedRegressor(task_graph=sp.csr_matrix(-CHAIN)).fit(X, Y)
    # A chain over 2,000 tasks: no (n_tasks, n_tasks) array anywhere.
    n_tasks = 2000
    X, y, _ = make_clustered_multitask(
        n_samples=10, n_features=5, n_tasks=n_tasks, n_clusters=3, layout="long", random_state=0
    )
    chain = sp.diags([np.ones(n_tasks - 1), np.ones(n_tasks - 1)], [-1, 1])
    model = GraphRegularizedRegressor(task_graph=chain, ridge=ridge, task_column=-1, max_iter=50)
    peak = fit_peak_memory(model, X, y)
    assert peak < 8 * n_tasks**2 / 2


def _long(X, Y):
    """Every (row, task) label of a wide problem as a long-layout row, task id last."""
    rows, tasks = np.nonzero(~np.isnan(Y))
    return np.column_stack([X[rows], tasks]), Y[rows, tasks]


def test_mean_regularized_unseen_task_population():
    X, Y = _data()
    Xl, yl = _long(X, Y)
    X_new = np.column_stack([X[:3], [1, 99, -5]])
    with pytest.raises(ValueError, match=r"Unknown task label\(s\) -5, 99 not seen during fit"):
        MeanRegularizedRegressor(task_column=-1).fit(Xl, yl).predict(X_new)
    model = MeanRegularizedRegressor(alpha=0.5, task_column=-1, unseen_task="population").fit(Xl, yl)
    pred = model.predict(X_new)
    # The point the mean penalty pulls every task towards.
    population = X[1:3] @ model.coef_.mean(axis=0) + model.intercept_.mean()
    assert_allclose(pred[1:], population)
    assert_allclose(pred[0], X[0] @ model.coef_[1] + model.intercept_[1])
    # score scores what predict predicts: unseen tasks included.
    assert np.isfinite(model.score(np.column_stack([X, np.full(len(X), 7)]), Y[:, 0]))


def test_mean_regularized_classifier_unseen_task_population():
    X, Y = _data()
    Xl, yl = _long(X, (Y > np.median(Y, axis=0)).astype(float))
    model = MeanRegularizedClassifier(alpha=0.01, task_column=-1, unseen_task="population").fit(Xl, yl)
    X_new = np.column_stack([X[:5], np.full(5, 42)])
    score = X[:5] @ model.coef_.mean(axis=0) + model.intercept_.mean()
    assert_allclose(model.decision_function(X_new), score)
    assert_allclose(model.predict_proba(X_new)[:, 1], 1 / (1 + np.exp(-score)))
    assert_allclose(model.predict(X_new), (score > 0).astype(float))
    # Tasks with other classes: the classes of a new task are unknown.
    yl3 = np.where(Xl[:, -1] == 0, yl + 2, yl)
    model = MeanRegularizedClassifier(task_column=-1, unseen_task="population").fit(Xl, yl3)
    with pytest.raises(ValueError, match="needs every task to have the same two classes"):
        model.predict(X_new)
    with pytest.raises(ValueError, match="'unseen_task' parameter of MeanRegularizedClassifier"):
        MeanRegularizedClassifier(task_column=-1, unseen_task="mean").fit(Xl, yl)
