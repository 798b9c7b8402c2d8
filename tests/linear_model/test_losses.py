"""Tests of the multi-task losses: gradients, layouts, masking, weights."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.optimize import check_grad
from sklearn.exceptions import ConvergenceWarning

from skmtl._data import check_task_data
from skmtl.datasets import make_clustered_multitask
from skmtl.linear_model._losses import LogisticLoss, SquaredLoss
from skmtl.linear_model._penalties import L21

LOSSES = [SquaredLoss, LogisticLoss]


def _wide_problem(loss_cls, *, n=30, d=5, T=3, seed=0, missing=True, sample_weight=True):
    """Wide data with a few missing labels; -1/+1 labels for the logistic loss."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    W = rng.randn(d, T)
    Y = X @ W + 0.3 * rng.randn(n, T)
    if loss_cls is LogisticLoss:
        Y = np.where(Y > 0, 1.0, -1.0)
    if missing:
        Y[rng.rand(n, T) < 0.2] = np.nan
    sw = rng.uniform(0.2, 2.0, n) if sample_weight else None
    return X, Y, sw


def _stack_long(X, Y, sw):
    """The long layout of wide data: one row per observed (sample, task), task id last."""
    rows, tasks = np.nonzero(~np.isnan(Y))
    features = X[rows] if not sp.issparse(X) else X[rows].toarray()
    X_long = np.column_stack([features, tasks])
    return X_long, Y[rows, tasks], (None if sw is None else sw[rows])


def _flat(loss, W, b):
    return np.concatenate([W.ravel(), b])


def _unflat(loss, theta):
    d, T = loss.n_features, loss.n_tasks
    return theta[: d * T].reshape(d, T), theta[d * T :]


def _make_loss(loss_cls, layout, sparse, *, fit_intercept=True, task_weights=None, seed=0):
    X, Y, sw = _wide_problem(loss_cls, seed=seed)
    if layout == "long":
        X, Y, sw = _stack_long(X, Y, sw)
        if sparse:
            X = sp.csr_matrix(X)
        data = check_task_data(X, Y, task_column=-1, sample_weight=sw)
    else:
        data = check_task_data(sp.csr_matrix(X) if sparse else X, Y, sample_weight=sw)
    return loss_cls(data, task_weights=task_weights, fit_intercept=fit_intercept)


def _task_column(layout):
    return -1 if layout == "long" else None


@pytest.mark.parametrize("sample_weight", [False, True])
def test_tall_design_with_few_tasks_offers_its_gram_model(sample_weight):
    # n >= 2 (d + 1) with T < d / 8: no Gram form up front (its n d^2 / 2
    # flops would outweigh a sparse solve on X); the Gram model of the whole
    # problem on demand, exact in its gradient at the anchor, float32 in
    # its Hessian.
    rng = np.random.RandomState(5)
    X, Y = rng.randn(200, 40) + 1.0, rng.randn(200, 3)
    sw = rng.uniform(0.5, 2.0, 200) if sample_weight else None
    data = check_task_data(X, Y, sample_weight=sw)
    loss = SquaredLoss(data, task_weights=np.array([0.5, 2.0, 1.0]), center=True)
    assert not loss.accelerators.in_gram_form and loss.accelerators.offers_whole_model
    assert SquaredLoss(check_task_data(X, np.tile(Y, 2))).accelerators.in_gram_form  # 8 T >= d
    W, b = rng.randn(40, 3), rng.randn(3)
    raw = loss.raw_prediction(W, b)
    gW, gb = loss.gradient_from_raw(raw)
    model = loss.whole_model(W, b, gW, gb)
    assert model.accelerators.in_gram_form
    raw_m = model.raw_prediction(W, b)
    gW_m, gb_m = model.gradient_from_raw(raw_m)
    assert_allclose(gW_m, gW, rtol=1e-9, atol=1e-12)
    assert_allclose(gb_m, gb, rtol=1e-9, atol=1e-12)
    V, c = rng.randn(40, 3), rng.randn(3)
    exact = loss.bregman_from_raw(loss.raw_prediction(V, c), raw)
    assert model.bregman_from_raw(model.raw_prediction(V, c), raw_m) == pytest.approx(exact, rel=1e-5)
    # Its gradient elsewhere is the loss's up to the rounded Hessian.
    gV, _ = loss.gradient_from_raw(loss.raw_prediction(V, c))
    gV_m, _ = model.gradient_from_raw(model.raw_prediction(V, c))
    assert_allclose(gV_m, gV, rtol=0, atol=1e-5 * np.abs(gV).max())
    # Formed once (a path reuses it).
    assert loss.whole_model(V, c, gV, gb).accelerators.gram.G is model.accelerators.gram.G
    # None on a wide X, without the accelerators, and for the logistic loss.
    wide = SquaredLoss(check_task_data(X[:30], Y[:30]))
    assert wide.whole_model(W, b, gW, gb) is None and not wide.accelerators.offers_whole_model
    assert SquaredLoss(data, gram=False).whole_model(W, b, gW, gb) is None
    logistic = LogisticLoss(check_task_data(X, np.sign(Y)))
    assert logistic.whole_model(W, b, gW, gb) is None


@pytest.mark.parametrize("loss_cls", LOSSES)
@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gradient_matches_finite_differences(loss_cls, layout, sparse, fit_intercept):
    # Missing labels, sample weights and explicit task weights all at once.
    loss = _make_loss(
        loss_cls, layout, sparse, fit_intercept=fit_intercept, task_weights=np.array([0.5, 2.0, 1.0])
    )
    rng = np.random.RandomState(1)
    W, b = 0.5 * rng.randn(loss.n_features, loss.n_tasks), rng.randn(loss.n_tasks)

    def func(theta):
        return loss.value(*_unflat(loss, theta))

    def grad(theta):
        _, gW, gb = loss.value_and_gradient(*_unflat(loss, theta))
        return _flat(loss, gW, gb)

    theta = _flat(loss, W, b)
    g = grad(theta)
    assert check_grad(func, grad, theta, epsilon=1e-6) < 1e-6 * max(1.0, np.linalg.norm(g))
    value, _, gb = loss.value_and_gradient(W, b)
    assert value == pytest.approx(func(theta), rel=1e-14)
    if not fit_intercept:
        assert_allclose(gb, 0.0)


@pytest.mark.parametrize("loss_cls", LOSSES)
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("task_weights", [None, "n_samples", np.array([1.0, 3.0, 0.5])])
def test_long_and_wide_layouts_agree(loss_cls, sparse, task_weights):
    X, Y, sw = _wide_problem(loss_cls, seed=3)
    wide = loss_cls(
        check_task_data(sp.csr_matrix(X) if sparse else X, Y, sample_weight=sw),
        task_weights=task_weights,
    )
    X_long, y_long, sw_long = _stack_long(X, Y, sw)
    # Shuffle the long rows: the loss sorts them by task once.
    perm = np.random.RandomState(0).permutation(len(y_long))
    X_long, y_long, sw_long = X_long[perm], y_long[perm], sw_long[perm]
    long = loss_cls(
        check_task_data(sp.csr_matrix(X_long) if sparse else X_long, y_long, task_column=-1, sample_weight=sw_long),
        task_weights=task_weights,
    )
    assert (wide.layout, long.layout) == ("wide", "long")
    rng = np.random.RandomState(2)
    W, b = rng.randn(X.shape[1], 3), rng.randn(3)
    v1, gW1, gb1 = wide.value_and_gradient(W, b)
    v2, gW2, gb2 = long.value_and_gradient(W, b)
    assert v1 == pytest.approx(v2, rel=1e-12)
    assert_allclose(gW1, gW2, rtol=1e-11, atol=1e-13)
    assert_allclose(gb1, gb2, rtol=1e-11, atol=1e-13)
    assert_allclose(wide.task_values(W, b), long.task_values(W, b), rtol=1e-12)
    assert_allclose(wide.null_intercept(), long.null_intercept(), rtol=1e-12)
    assert wide.lipschitz() >= long.lipschitz() * (1 - 1e-9)


@pytest.mark.parametrize("loss_cls", LOSSES)
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_missing_label_only_affects_its_task(loss_cls, layout):
    X, Y, _ = _wide_problem(loss_cls, missing=False, sample_weight=False, seed=4)
    Y_missing = Y.copy()
    Y_missing[[2, 5], 1] = np.nan

    def build(Y):
        if layout == "wide":
            return loss_cls(check_task_data(X, Y))
        X_long, y_long, _ = _stack_long(X, Y, None)
        return loss_cls(check_task_data(X_long, y_long, task_column=-1))

    full, masked = build(Y), build(Y_missing)
    rng = np.random.RandomState(5)
    W, b = rng.randn(X.shape[1], 3), rng.randn(3)
    before, after = full.task_values(W, b), masked.task_values(W, b)
    assert_allclose(after[[0, 2]], before[[0, 2]], rtol=1e-14)
    assert after[1] != pytest.approx(before[1])
    # Task 1 without rows 2 and 5 is the mean over its other rows.
    _, gW_full, _ = full.value_and_gradient(W, b)
    _, gW_masked, _ = masked.value_and_gradient(W, b)
    assert_allclose(gW_masked[:, [0, 2]], gW_full[:, [0, 2]], rtol=1e-13)
    assert after.sum() == pytest.approx(masked.value(W, b), rel=1e-13)


def test_squared_loss_is_sklearn_multitask_data_term():
    X, Y, _ = _wide_problem(SquaredLoss, missing=False, sample_weight=False)
    loss = SquaredLoss(check_task_data(X, Y))
    rng = np.random.RandomState(0)
    W, b = rng.randn(X.shape[1], 3), rng.randn(3)
    expected = np.sum((Y - X @ W - b) ** 2) / (2 * X.shape[0])
    assert loss.value(W, b) == pytest.approx(expected, rel=1e-13)
    # With no missing label, "n_samples" task weights are all 1.
    loss_n = SquaredLoss(check_task_data(X, Y), task_weights="n_samples")
    assert_allclose(loss_n.task_weights_, 1.0)
    assert loss_n.value(W, b) == pytest.approx(expected, rel=1e-13)


def test_malsar_task_weights_give_half_sum_of_squares():
    X, Y, _ = _wide_problem(SquaredLoss, sample_weight=False, seed=6)
    data = check_task_data(X, Y)
    n_t = data.n_samples_per_task
    loss = SquaredLoss(data, task_weights=n_t, fit_intercept=False)
    W = np.random.RandomState(0).randn(X.shape[1], 3)
    R = np.where(np.isnan(Y), 0.0, Y - X @ W)
    assert loss.value(W) == pytest.approx(0.5 * np.sum(R**2), rel=1e-13)
    # "n_samples": w_t = T n_t / sum n_t, so every label weighs T / sum n_t.
    loss_n = SquaredLoss(data, task_weights="n_samples", fit_intercept=False)
    assert_allclose(loss_n.task_weights_, 3 * n_t / n_t.sum())
    assert loss_n.value(W) == pytest.approx(3 * np.sum(R**2) / (2 * n_t.sum()), rel=1e-13)


@pytest.mark.parametrize("loss_cls", LOSSES)
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_integer_sample_weight_equals_duplicated_rows(loss_cls, layout):
    X, Y, _ = _wide_problem(loss_cls, sample_weight=False, seed=7)
    sw = np.random.RandomState(0).randint(0, 4, X.shape[0]).astype(float)
    sw[:3] = [1, 2, 3]
    X_rep, Y_rep = np.repeat(X, sw.astype(int), axis=0), np.repeat(Y, sw.astype(int), axis=0)
    if layout == "long":
        X, Y, sw = _stack_long(X, Y, sw)
        X_rep, Y_rep, _ = _stack_long(X_rep, Y_rep, None)
        weighted = loss_cls(check_task_data(X, Y, task_column=-1, sample_weight=sw))
        repeated = loss_cls(check_task_data(X_rep, Y_rep, task_column=-1))
    else:
        weighted = loss_cls(check_task_data(X, Y, sample_weight=sw))
        repeated = loss_cls(check_task_data(X_rep, Y_rep))
    rng = np.random.RandomState(8)
    W, b = rng.randn(X.shape[1] - (layout == "long"), 3), rng.randn(3)
    v1, gW1, gb1 = weighted.value_and_gradient(W, b)
    v2, gW2, gb2 = repeated.value_and_gradient(W, b)
    assert v1 == pytest.approx(v2, rel=1e-12)
    assert_allclose(gW1, gW2, rtol=1e-11, atol=1e-14)
    assert_allclose(gb1, gb2, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("loss_cls", LOSSES)
@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("sparse", [False, True])
def test_lipschitz_bounds_per_task_hessian(loss_cls, layout, sparse):
    loss = _make_loss(loss_cls, layout, sparse, task_weights=np.array([0.5, 2.0, 1.0]))
    X, Y, sw = _wide_problem(loss_cls, seed=0)
    weights = np.array([0.5, 2.0, 1.0])
    exact = 0.0
    for t in range(3):  # brute force, task by task
        rows = ~np.isnan(Y[:, t])
        Xt = np.column_stack([X[rows], np.ones(rows.sum())])
        c = weights[t] * sw[rows] / sw[rows].sum()
        exact = max(exact, np.linalg.eigvalsh(Xt.T @ (c[:, None] * Xt))[-1])
    curvature = 1.0 if loss_cls is SquaredLoss else 0.25
    L = loss.lipschitz()
    assert L >= curvature * exact * (1 - 1e-10)
    if layout == "long":  # computed exactly per task
        assert L == pytest.approx(curvature * exact, rel=1e-6)
    # The gradient is L-Lipschitz along random pairs of points.
    rng = np.random.RandomState(0)
    for _ in range(5):
        W1, W2 = rng.randn(2, loss.n_features, loss.n_tasks)
        b1, b2 = rng.randn(2, loss.n_tasks)
        _, g1, c1 = loss.value_and_gradient(W1, b1)
        _, g2, c2 = loss.value_and_gradient(W2, b2)
        dg = np.sqrt(np.sum((g1 - g2) ** 2) + np.sum((c1 - c2) ** 2))
        assert dg <= L * np.sqrt(np.sum((W1 - W2) ** 2) + np.sum((b1 - b2) ** 2))


def test_lipschitz_lanczos_path_matches_dense():
    # More unknowns than the dense thresholds: Lanczos in both designs.
    rng = np.random.RandomState(0)
    n, d, T = 400, 300, 2
    X = rng.randn(n, d)
    Y = rng.randn(n, T)
    exact = np.linalg.eigvalsh(np.column_stack([X, np.ones(n)]).T @ np.column_stack([X, np.ones(n)]))[-1] / n
    wide = SquaredLoss(check_task_data(X, Y), gram=False)
    long = SquaredLoss(check_task_data(sp.csr_matrix(np.column_stack([X, np.zeros(n)])), Y[:, 0], task_column=-1))
    # Lanczos to 1e-3 relative, inflated by the same margin.
    for loss in (wide, long):
        assert exact <= loss.lipschitz() <= exact * (1 + 2e-3)


@pytest.mark.parametrize("loss_cls", LOSSES)
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_null_intercept_zeroes_intercept_gradient(loss_cls, layout):
    loss = _make_loss(loss_cls, layout, False, task_weights="n_samples")
    b0 = loss.null_intercept()
    _, _, gb = loss.value_and_gradient(np.zeros((loss.n_features, loss.n_tasks)), b0)
    assert_allclose(gb, 0.0, atol=1e-14)
    assert_allclose(_make_loss(loss_cls, layout, False, fit_intercept=False).null_intercept(), 0.0)


@pytest.mark.parametrize("loss_cls", LOSSES)
@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("sparse", [False, True])
def test_float32_is_kept(loss_cls, layout, sparse):
    loss64 = _make_loss(loss_cls, layout, sparse)
    X, Y, sw = _wide_problem(loss_cls)
    if layout == "long":
        X, Y, sw = _stack_long(X, Y, sw)
    X32 = X.astype(np.float32)
    X32 = sp.csr_matrix(X32) if sparse else X32
    data = check_task_data(X32, Y, task_column=-1 if layout == "long" else None, sample_weight=sw)
    loss32 = loss_cls(data)
    assert loss32.dtype == np.float32
    rng = np.random.RandomState(0)
    W, b = rng.randn(loss64.n_features, 3), rng.randn(3)
    v32, gW32, gb32 = loss32.value_and_gradient(W.astype(np.float32), b.astype(np.float32))
    v64, gW64, gb64 = loss64.value_and_gradient(W, b)
    assert gW32.dtype == np.float32 and gb32.dtype == np.float32
    assert loss32.raw_prediction(W.astype(np.float32), b.astype(np.float32)).dtype == np.float32
    assert v32 == pytest.approx(v64, rel=1e-5)
    assert_allclose(gW32, gW64, rtol=1e-4, atol=1e-5)


def test_many_tasks_long_layout_matches_per_task_loop():
    # 1000 tasks: the vectorized segment products agree with a task loop.
    rng = np.random.RandomState(0)
    T, d = 1000, 4
    sizes = rng.randint(1, 6, T)
    tasks = np.repeat(np.arange(T), sizes)
    X = rng.randn(len(tasks), d)
    y = rng.randn(len(tasks))
    loss = SquaredLoss(check_task_data(np.column_stack([X, tasks]), y, task_column=-1))
    W, b = rng.randn(d, T), rng.randn(T)
    value, gW, gb = loss.value_and_gradient(W, b)
    expected_value = 0.0
    for t in range(0, T, 97):
        rows = tasks == t
        r = X[rows] @ W[:, t] + b[t] - y[rows]
        assert_allclose(gW[:, t], X[rows].T @ r / rows.sum(), rtol=1e-12)
        assert gb[t] == pytest.approx(r.mean(), rel=1e-12)
    for t in range(T):
        rows = tasks == t
        expected_value += np.mean((X[rows] @ W[:, t] + b[t] - y[rows]) ** 2) / 2
    assert value == pytest.approx(expected_value, rel=1e-12)


def test_logistic_value_is_mean_log_loss():
    X, Y, _ = _wide_problem(LogisticLoss, missing=False, sample_weight=False)
    loss = LogisticLoss(check_task_data(X, Y))
    rng = np.random.RandomState(0)
    W, b = rng.randn(X.shape[1], 3), rng.randn(3)
    expected = np.sum(np.mean(np.log1p(np.exp(-Y * (X @ W + b))), axis=0))
    assert loss.value(W, b) == pytest.approx(expected, rel=1e-13)
    # Large margins stay finite (log-sum-exp form).
    assert np.isfinite(loss.value(1e4 * W, b))


def test_errors_name_the_problem():
    X, Y, sw = _wide_problem(SquaredLoss)
    data = check_task_data(X, Y)
    with pytest.raises(ValueError, match="task_weights='uniform' is not supported"):
        SquaredLoss(data, task_weights="uniform")
    with pytest.raises(ValueError, match=r"task_weights must have shape \(n_tasks,\) = \(3,\)"):
        SquaredLoss(data, task_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="finite and nonnegative"):
        SquaredLoss(data, task_weights=[1.0, -2.0, 1.0])
    with pytest.raises(ValueError, match="all zero"):
        SquaredLoss(data, task_weights=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="-1 or \\+1; found 0.0"):
        LogisticLoss(check_task_data(X, np.where(np.isnan(Y), np.nan, (Y > 0).astype(float))))
    with pytest.raises(ValueError, match="shape of data.y"):
        SquaredLoss(data, Y[:, :2])
    with pytest.raises(ValueError, match="sample_weight must be finite and non-negative"):
        SquaredLoss(check_task_data(X, Y, sample_weight=-sw))
    loss = SquaredLoss(data)
    with pytest.raises(ValueError, match=r"W must have shape \(n_features, n_tasks\) = \(5, 3\)"):
        loss.value(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"b must have shape \(n_tasks,\) = \(3,\)"):
        loss.value(np.zeros((5, 3)), np.zeros(2))


# ---------------------------------------------------------------- Gram form, Bregman, restriction
def _complete_wide(seed=0, n=40, d=6, T=3):
    X, Y, sw = _wide_problem(SquaredLoss, n=n, d=d, T=T, seed=seed, missing=False)
    return X, Y, sw


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sample_weight", [False, True])
@pytest.mark.parametrize("task_weights", [None, np.array([0.5, 2.0, 1.0])])
def test_gram_form_equals_direct_form(fit_intercept, sample_weight, task_weights):
    X, Y, sw = _complete_wide(seed=9)
    data = check_task_data(X, Y, sample_weight=sw if sample_weight else None)
    direct = SquaredLoss(data, task_weights=task_weights, fit_intercept=fit_intercept, gram=False)
    gram = SquaredLoss(data, task_weights=task_weights, fit_intercept=fit_intercept, gram=True)
    assert gram.accelerators.in_gram_form and not direct.accelerators.in_gram_form
    rng = np.random.RandomState(0)
    W, b = rng.randn(6, 3), rng.randn(3)
    v1, gW1, gb1 = direct.value_and_gradient(W, b)
    v2, gW2, gb2 = gram.value_and_gradient(W, b)
    assert v2 == pytest.approx(v1, rel=1e-11)
    assert_allclose(gW2, gW1, rtol=1e-10, atol=1e-13)
    assert_allclose(gb2, gb1, rtol=1e-10, atol=1e-13)
    assert_allclose(gram.task_values(W, b), direct.task_values(W, b), rtol=1e-11)
    assert_allclose(gram.null_intercept(), direct.null_intercept(), rtol=1e-12)
    # The Gram form's bound is exact; the direct wide one bounds the sample
    # weights by their maximum.
    Xt = np.column_stack([X, np.ones(len(X))]) if fit_intercept else X
    s = sw if sample_weight else np.ones(len(X))
    w = np.ones(3) if task_weights is None else task_weights
    exact = w.max() / s.sum() * np.linalg.eigvalsh(Xt.T @ (s[:, None] * Xt))[-1]
    assert gram.lipschitz() == pytest.approx(exact, rel=1e-10)
    assert direct.lipschitz() >= exact * (1 - 1e-10)
    if not sample_weight:
        assert direct.lipschitz() == pytest.approx(exact, rel=1e-10)
    W2, b2 = rng.randn(6, 3), rng.randn(3)
    assert gram.bregman_from_raw(gram.raw_prediction(W2, b2), gram.raw_prediction(W, b)) == pytest.approx(
        direct.bregman_from_raw(direct.raw_prediction(W2, b2), direct.raw_prediction(W, b)), rel=1e-11
    )

    def func(theta):
        return gram.value(*_unflat(gram, theta))

    def grad(theta):
        _, gW, gb = gram.value_and_gradient(*_unflat(gram, theta))
        return _flat(gram, gW, gb)

    theta = _flat(gram, W, b)
    assert check_grad(func, grad, theta, epsilon=1e-6) < 1e-6 * max(1.0, np.linalg.norm(grad(theta)))


def test_gram_auto_choice_and_errors():
    X, Y, _ = _complete_wide()
    assert SquaredLoss(check_task_data(X, Y)).accelerators.in_gram_form  # n = 40 >= 2 (d + 1)
    assert not SquaredLoss(check_task_data(X[:10], Y[:10])).accelerators.in_gram_form  # too few rows
    assert not SquaredLoss(check_task_data(X.astype(np.float32), Y)).accelerators.in_gram_form
    assert not SquaredLoss(check_task_data(sp.csr_matrix(X), Y)).accelerators.in_gram_form
    Y_missing = Y.copy()
    Y_missing[0, 0] = np.nan
    assert not SquaredLoss(check_task_data(X, Y_missing)).accelerators.in_gram_form
    with pytest.raises(ValueError, match="gram=True needs the wide layout with every label observed"):
        SquaredLoss(check_task_data(X, Y_missing), gram=True)
    with pytest.raises(ValueError, match="gram must be 'auto', True or False; got 'yes'"):
        SquaredLoss(check_task_data(X, Y), gram="yes")
    # Forced on sparse X, it densifies and agrees.
    W = np.random.RandomState(0).randn(6, 3)
    assert SquaredLoss(check_task_data(sp.csr_matrix(X), Y), gram=True).value(W) == pytest.approx(
        SquaredLoss(check_task_data(X, Y), gram=False).value(W), rel=1e-12
    )


@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("sparse", [False, True])
def test_bregman_is_the_linearization_error(layout, sparse):
    loss = _make_loss(SquaredLoss, layout, sparse, task_weights=np.array([0.5, 2.0, 1.0]))
    rng = np.random.RandomState(3)
    W0, b0, W1, b1 = rng.randn(5, 3), rng.randn(3), rng.randn(5, 3), rng.randn(3)
    f0, gW, gb = loss.value_and_gradient(W0, b0)
    expected = loss.value(W1, b1) - f0 - np.sum(gW * (W1 - W0)) - np.sum(gb * (b1 - b0))
    got = loss.bregman_from_raw(loss.raw_prediction(W1, b1), loss.raw_prediction(W0, b0))
    assert got == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(
    "loss_cls, layout",
    [(SquaredLoss, "wide"), (SquaredLoss, "long"), (SquaredLoss, "gram"), (LogisticLoss, "wide"), (LogisticLoss, "long")],
)
@pytest.mark.parametrize("sparse", [False, True])
def test_restrict_is_the_loss_with_other_rows_at_zero(loss_cls, layout, sparse):
    if layout == "gram":
        X, Y, sw = _complete_wide(seed=2)
        loss = SquaredLoss(check_task_data(sp.csr_matrix(X) if sparse else X, Y, sample_weight=sw), gram=True)
    else:
        loss = _make_loss(loss_cls, layout, sparse)
    features = np.array([0, 2, 3])
    sub = loss.restrict(features)
    assert sub.n_features == 3 and loss.n_features > 3
    rng = np.random.RandomState(4)
    W = np.zeros((loss.n_features, 3))
    W[features] = rng.randn(3, 3)
    b = rng.randn(3)
    v, gW, gb = loss.value_and_gradient(W, b)
    v_sub, gW_sub, gb_sub = sub.value_and_gradient(W[features], b)
    assert v_sub == pytest.approx(v, rel=1e-12)
    assert_allclose(gW_sub, gW[features], rtol=1e-11, atol=1e-14)
    assert_allclose(gb_sub, gb, rtol=1e-11, atol=1e-14)
    assert sub.lipschitz() <= loss.lipschitz() * (1 + 1e-9)
    # The full loss is left untouched.
    assert loss.value_and_gradient(W, b)[0] == v


# ---------------------------------------------------------------- working-set Gram blocks
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sample_weight", [False, True])
def test_restrict_works_through_cached_gram_blocks(fit_intercept, sample_weight):
    # n < 2 (d + 1): no full Gram form, but a restriction to few features
    # is solved through the Gram matrix of its columns, grown incrementally.
    rng = np.random.RandomState(3)
    X, Y = rng.randn(30, 40), rng.randn(30, 3) + 2.0
    sw = rng.uniform(0.5, 2.0, 30) if sample_weight else None
    data = check_task_data(X, Y, sample_weight=sw)
    loss = SquaredLoss(data, task_weights=np.array([0.5, 2.0, 1.0]), fit_intercept=fit_intercept)
    direct = SquaredLoss(data, task_weights=np.array([0.5, 2.0, 1.0]), fit_intercept=fit_intercept, gram=False)
    assert not loss.accelerators.in_gram_form
    for features in (np.array([0, 5, 7]), np.array([5, 7, 9, 30, 2]), np.array([9, 0])):
        sub = loss.restrict(features)
        sub_direct = direct.restrict(features)
        assert sub.accelerators.in_gram_form and not sub_direct.accelerators.in_gram_form
        W, b = rng.randn(len(features), 3), rng.randn(3)
        v, gW, gb = sub.value_and_gradient(W, b)
        v_d, gW_d, gb_d = sub_direct.value_and_gradient(W, b)
        assert v == pytest.approx(v_d, rel=1e-10)
        assert_allclose(gW, gW_d, rtol=1e-10, atol=1e-12)
        assert_allclose(gb, gb_d, rtol=1e-10, atol=1e-12)
        # Exact through the Gram matrix; the direct design bounds it (exactly
        # without sample weights).
        assert sub.lipschitz() <= sub_direct.lipschitz() * (1 + 1e-9)
        if sw is None:
            assert sub.lipschitz() == pytest.approx(sub_direct.lipschitz(), rel=1e-9)
    # Every feature's Gram columns were computed once: 0, 5, 7, then 9, 30, 2.
    assert_allclose(loss.accelerators._working_sets.features, [0, 5, 7, 9, 30, 2])
    order = [0, 5, 7, 9, 30, 2]
    s = np.ones(30) if sw is None else sw
    assert_allclose(loss.accelerators._working_sets.G, (X.T @ (X * s[:, None]))[np.ix_(order, order)], rtol=1e-12)
    # The sub-loss does not restrict its X unless asked to.
    assert sub._design._features is not None
    assert sub._design.X.shape == (30, 2)


def test_restrict_gram_blocks_only_when_they_pay_off():
    rng = np.random.RandomState(4)
    X, Y = rng.randn(30, 60), rng.randn(30, 2)
    loss = SquaredLoss(check_task_data(X, Y))
    assert loss.restrict(np.arange(30)).accelerators.in_gram_form
    assert not loss.restrict(np.arange(31)).accelerators.in_gram_form  # more features than rows
    assert not SquaredLoss(check_task_data(X, Y), gram=False).restrict(np.arange(3)).accelerators.in_gram_form
    assert not SquaredLoss(check_task_data(X.astype(np.float32), Y)).restrict(np.arange(3)).accelerators.in_gram_form
    Y_missing = Y.copy()
    Y_missing[0, 1] = np.nan
    assert not SquaredLoss(check_task_data(X, Y_missing)).restrict(np.arange(3)).accelerators.in_gram_form
    assert not SquaredLoss(check_task_data(sp.csr_matrix(X), Y)).restrict(np.arange(3)).accelerators.in_gram_form


@pytest.mark.parametrize("loss_cls", LOSSES)
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_null_model_is_cached_and_exact(loss_cls, layout):
    loss = _make_loss(loss_cls, layout, False)
    raw, value, gW, gb = loss.null_model()
    zero = np.zeros((loss.n_features, loss.n_tasks))
    v, gW_ref, gb_ref = loss.value_and_gradient(zero, loss.null_intercept())
    assert value == pytest.approx(v, rel=1e-12)
    assert_allclose(gW, gW_ref, rtol=1e-12, atol=1e-14)
    assert_allclose(gb, gb_ref, rtol=1e-12, atol=1e-14)
    assert loss.null_model()[2] is gW  # computed once
    assert loss.restrict(np.array([0, 1])).null_model()[2].shape == (2, loss.n_tasks)


@pytest.mark.parametrize("layout", ["wide", "long", "gram"])
def test_gradient_from_raw_is_the_gradient(layout):
    if layout == "gram":
        X, Y, sw = _complete_wide(seed=5)
        loss = SquaredLoss(check_task_data(X, Y, sample_weight=sw), gram=True)
    else:
        loss = _make_loss(SquaredLoss, layout, False)
    rng = np.random.RandomState(6)
    W, b = rng.randn(loss.n_features, loss.n_tasks), rng.randn(loss.n_tasks)
    raw = loss.raw_prediction(W, b)
    _, gW, gb = loss.value_and_gradient_from_raw(raw)
    gW2, gb2 = loss.gradient_from_raw(raw)
    assert_allclose(gW2, gW, rtol=1e-12, atol=1e-14)
    assert_allclose(gb2, gb, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("loss_cls", [SquaredLoss, LogisticLoss])
def test_gradient_at_the_null_model_is_cached_and_safe(loss_cls):
    X, Y, sw = _wide_problem(loss_cls)
    data = check_task_data(X, Y, sample_weight=sw)
    loss = loss_cls(data)
    zero = np.zeros((loss.n_features, loss.n_tasks))
    b = loss.null_intercept()
    value, gW, gb = loss.value_and_gradient(zero, b)
    direct = loss.value_and_gradient_from_raw(loss.raw_prediction(zero, b))
    assert value == direct[0]
    assert_allclose(gW, direct[1], rtol=0, atol=0) and assert_allclose(gb, direct[2], rtol=0, atol=0)
    # Copies: a caller modifying them does not corrupt the cache.
    gW += 1.0
    assert_allclose(loss.value_and_gradient(zero, b)[1], direct[1], rtol=0, atol=0)
    # Another intercept is not the null model: computed, not cached.
    other = loss.value_and_gradient(zero, b + 1.0)
    assert other[0] != value


def test_dual_gap_takes_a_known_gradient():
    X, Y, sw = _wide_problem(SquaredLoss, missing=False)
    loss = SquaredLoss(check_task_data(X, Y, sample_weight=sw), gram=False)
    rng = np.random.RandomState(0)
    W, b = 0.1 * rng.randn(loss.n_features, loss.n_tasks), rng.randn(loss.n_tasks)
    raw = loss.raw_prediction(W, b)
    gW, gb = loss.gradient_from_raw(raw)
    gap = loss.dual_gap(W, b, L21(0.1))
    assert gap > 0
    assert loss.dual_gap(W, b, L21(0.1), gradient=(raw, gW, gb)) == pytest.approx(gap, rel=1e-12)


# ---------------------------------------------------------------- centered features
@pytest.mark.parametrize("loss_cls", LOSSES)
@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("sparse", [False, True])
def test_centered_loss_is_the_same_model_with_shifted_intercepts(loss_cls, layout, sparse):
    X, Y, sw = _wide_problem(loss_cls)
    X = X + 50.0
    if layout == "long":
        X, Y, sw = _stack_long(X, Y, sw)
    X_before = X.copy()
    X_in = sp.csr_matrix(X) if sparse else X
    data = check_task_data(X_in, Y, sample_weight=sw, task_column=_task_column(layout))
    plain = loss_cls(data)
    centered = loss_cls(data, center=True)
    features = data.X.toarray() if sparse else data.X
    assert_allclose(centered.x_offset, np.average(features, axis=0, weights=sw))
    assert plain.x_offset is None
    # A centered copy of dense X; sparse X is kept as is (centered in the
    # products). The input is untouched either way.
    design = centered._design
    assert sp.issparse(design.X if layout == "wide" else design.X_sorted) is sparse
    assert np.array_equal(X_in.toarray() if sparse else X_in, X_before)
    # The Lipschitz bound is the centered problem's, whichever way X is centered.
    if sparse:
        copy = loss_cls(check_task_data(X_before, Y, sample_weight=sw, task_column=_task_column(layout)), center=True)
        assert_allclose(centered.lipschitz(), copy.lipschitz(), rtol=1e-2)
    rng = np.random.RandomState(1)
    W, b = rng.randn(data.n_features, data.n_tasks), rng.randn(data.n_tasks)
    c = centered.to_centered_intercept(W, b)
    assert_allclose(c, b + centered.x_offset @ W)
    assert_allclose(centered.from_centered_intercept(W, c), b)
    # Same predictions, values and coefficient gradients (at c = b + m' W the
    # gradient in b is the same; in W it differs by m grad_b').
    assert_allclose(centered.raw_prediction(W, c), plain.raw_prediction(W, b), rtol=1e-10)
    f0, g0, gb0 = plain.value_and_gradient(W, b)
    f1, g1, gb1 = centered.value_and_gradient(W, c)
    assert_allclose(f1, f0, rtol=1e-10)
    assert_allclose(gb1, gb0, rtol=1e-8, atol=1e-12)
    assert_allclose(g1, g0 - np.outer(centered.x_offset, gb0), rtol=1e-7, atol=1e-9 * np.abs(g0).max())


def test_centering_applies_to_dense_features_with_intercept_only():
    X, Y, _ = _wide_problem(SquaredLoss, missing=False, sample_weight=False)
    X = X + 3.0
    implicit = SquaredLoss(check_task_data(sp.csr_matrix(X), Y), center=True)
    assert implicit.x_offset is not None and sp.issparse(implicit._source.X)
    assert SquaredLoss(check_task_data(X, Y), center=True, fit_intercept=False).x_offset is None
    assert SquaredLoss(check_task_data(X, Y), center=True).x_offset is not None
    # Rows +v and -v in turn: means exactly 0, nothing to do.
    signs = np.where(np.arange(len(X)) % 2 == 0, 1.0, -1.0)[:, None]
    assert SquaredLoss(check_task_data(signs * [1.0, 2.0, -3.0], Y), center=True).x_offset is None
    X32 = SquaredLoss(check_task_data(X.astype(np.float32), Y), center=True)
    assert X32.dtype == np.float32 and X32._source.X.dtype == np.float32
    assert_allclose(X32._source.X.mean(axis=0), 0, atol=1e-5)
    # Identity without centering.
    W, b = np.ones((X.shape[1], Y.shape[1])), np.arange(Y.shape[1], dtype=float)
    plain = SquaredLoss(check_task_data(X, Y))
    assert plain.to_centered_intercept(W, b) is b and plain.from_centered_intercept(W, b) is b


# ---------------------------------------------------------------- memory
def _peak_allocation(function):
    """``(result, peak bytes allocated while it ran)`` (tracemalloc)."""
    tracemalloc.start()
    try:
        result = function()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "name", ["GroupLassoRegressor", "MultiTaskLassoRegressor", "MeanRegularizedRegressor", "TraceNormRegressor"]
)
def test_long_layout_fit_holds_at_most_three_copies_of_X(name):
    # Issue 19: at 1,000 tasks the linear models held ~5.4 copies of X (a
    # centered copy, float64 squares, the sorted copy, int64 CSR indices,
    # padded per-task Grams). Now: the validated copy, one sorted copy
    # centered and scaled in place, int32 indices (half a copy).
    from skmtl import linear_model

    X, y, _ = make_clustered_multitask(
        n_samples=100, n_features=50, n_tasks=1000, n_clusters=3, layout="long", random_state=0
    )
    model = getattr(linear_model, name)(task_column=-1, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, peak = _peak_allocation(lambda: model.fit(X, y))
    assert peak <= 3 * X.nbytes


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_long_loss_keeps_one_sorted_copy_and_no_float64_temporary(dtype):
    X, y, _ = make_clustered_multitask(
        n_samples=100, n_features=50, n_tasks=1000, n_clusters=3, layout="long", random_state=0
    )
    # Shuffled rows (the sort gathers them), features far from 0, sample weights.
    order = np.random.RandomState(0).permutation(len(y))
    X, y = X[order], y[order]
    X[:, :-1] += 5.0
    sw = np.random.RandomState(1).uniform(0.5, 2.0, len(y))
    data = check_task_data(X.astype(dtype), y, sample_weight=sw, task_column=-1)
    features = data.X
    loss, peak = _peak_allocation(lambda: SquaredLoss(data, center=True, scale=True))
    # The sorted copy, int32 CSR indices and small row blocks; no float64
    # (or second) copy of the features.
    assert peak <= 2 * features.size * 4 + features.nbytes + 2**24
    design = loss._design
    assert design.Z.indices.dtype == np.int32
    assert np.shares_memory(design.Z.data, design.X_sorted)
    assert loss._source is None
    rows = data.to_long()[0]
    expected = (features[rows] - loss.x_offset) / loss.x_scale
    assert_allclose(design.X_sorted, expected, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)
    assert_allclose(np.average(expected, axis=0, weights=sw[rows]), 0, atol=1e-4)
