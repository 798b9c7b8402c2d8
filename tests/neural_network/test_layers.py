"""The network's pure functions: finite-difference gradients, sklearn's MLP loss."""

import inspect
import numpy as np
import pytest
from scipy.optimize import approx_fprime
from sklearn.neural_network import MLPClassifier, MLPRegressor

from skmtl.neural_network._layers import (
    data_term_gradients,
    forward,
    init_params,
    penalty,
    task_totals,
    weighted_task_losses,
)


def _problem(kind, n_tasks, seed=0):
    if kind == "regression":
        return {"kind": "regression"}, 1
    # task 0 binary, task 1 three classes, task 2 (if any) four classes
    n_classes = np.array([2, 3, 4][:n_tasks])
    units = np.where(n_classes == 2, 1, n_classes)
    K = int(units.max())
    return {
        "kind": "classification",
        "binary": n_classes == 2,
        "unit_mask": np.arange(K) < units[:, None],
        "n_classes": n_classes,
    }, K


def _data(kind, layout, n=12, d=4, n_tasks=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    problem, K = _problem(kind, n_tasks)
    if layout == "wide":
        codes = None
        if kind == "regression":
            target = rng.randn(n, n_tasks)
        else:
            target = np.column_stack([rng.randint(0, c, n) for c in problem["n_classes"]])
        observed = rng.rand(n, n_tasks) > 0.25
        observed[0] = True
    else:
        codes = np.arange(n) % n_tasks
        rng.shuffle(codes)
        observed = None
        if kind == "regression":
            target = rng.randn(n)
        else:
            target = rng.randint(0, 2, n)  # valid for every task
    return X, target, observed, codes, problem, K


def _objective(
    coefs, intercepts, n_trunk, X, target, observed, codes, problem, weights, alpha, activation,
    sample_weight=None,
):
    """sum_t w_t L_t + alpha/2 ||W||^2 / sum(s) and its gradient (the estimator's step)."""
    value, L, _, gw, gb, task_grads = data_term_gradients(
        coefs, intercepts, n_trunk, X, target, observed, codes, problem, activation, weights,
        sample_weight, per_task_trunk=True,
    )
    total = X.shape[0] if sample_weight is None else sample_weight.sum()
    value += 0.5 * alpha * penalty(coefs) / total
    gw = [g + alpha / total * W for g, W in zip(gw, coefs)]
    return value, gw, gb, L, task_grads


def _flatten(arrays):
    return np.concatenate([a.ravel() for a in arrays])


def _unflatten(theta, like):
    out, pos = [], 0
    for a in like:
        out.append(theta[pos : pos + a.size].reshape(a.shape))
        pos += a.size
    return out


@pytest.mark.parametrize("kind", ["regression", "classification"])
@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("heads", [(), (3,)])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic"])
def test_gradient_finite_differences(kind, layout, heads, activation):
    X, target, observed, codes, problem, K = _data(kind, layout)
    n_tasks = 3
    rng = np.random.RandomState(1)
    sizes = [X.shape[1], 5, 4, *heads, K]
    coefs, intercepts = init_params(sizes, 2, n_tasks, activation, np.float64, rng)
    weights = np.array([1.0, 0.5, 2.0])
    alpha = 0.3
    params = coefs + intercepts

    def f(theta):
        p = _unflatten(theta, params)
        return _objective(p[: len(coefs)], p[len(coefs) :], 2, X, target, observed, codes, problem, weights, alpha, activation)[0]

    theta = _flatten(params)
    value, gw, gb, _, task_grads = _objective(coefs, intercepts, 2, X, target, observed, codes, problem, weights, alpha, activation)
    numeric = approx_fprime(theta, f, 1e-6)
    np.testing.assert_allclose(_flatten(gw + gb), numeric, rtol=1e-4, atol=1e-6)

    # The per-task shared gradients are each task's own term, summing to the total.
    for t in range(n_tasks):
        one = np.zeros(n_tasks)
        one[t] = weights[t]
        _, gw_t, gb_t, _, _ = _objective(coefs, intercepts, 2, X, target, observed, codes, problem, one, 0.0, activation)
        for layer in range(2):
            np.testing.assert_allclose(task_grads[2 * layer][t], gw_t[layer], rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(task_grads[2 * layer + 1][t], gb_t[layer], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["regression", "classification"])
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_gradient_finite_differences_with_sample_weight(kind, layout):
    X, target, observed, codes, problem, K = _data(kind, layout)
    sample_weight = np.random.RandomState(2).uniform(0, 3, X.shape[0])
    sample_weight[3] = 0.0
    rng = np.random.RandomState(1)
    coefs, intercepts = init_params([X.shape[1], 5, 4, 3, K], 2, 3, "tanh", np.float64, rng)
    args = (X, target, observed, codes, problem, np.array([1.0, 0.5, 2.0]), 0.3, "tanh", sample_weight)
    params = coefs + intercepts

    def f(theta):
        p = _unflatten(theta, params)
        return _objective(p[: len(coefs)], p[len(coefs) :], 2, *args)[0]

    _, gw, gb, _, _ = _objective(coefs, intercepts, 2, *args)
    numeric = approx_fprime(_flatten(params), f, 1e-6)
    np.testing.assert_allclose(_flatten(gw + gb), numeric, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kind", ["regression", "classification"])
@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_gradient_finite_differences_with_task_embeddings(kind, layout, activation):
    """Embeddings appended to the first layer's inputs, one shared head with per-task intercepts, skip path, weights."""
    X, target, observed, codes, problem, K = _data(kind, layout)
    n_tasks, k = 3, 2
    rng = np.random.RandomState(1)
    coefs, intercepts = init_params([X.shape[1] + k, 5, 4, K], 3, n_tasks, activation, np.float64, rng)
    intercepts[-1] = intercepts[-1] + rng.randn(n_tasks, K)
    embedding = rng.randn(n_tasks, k)
    skip = 0.1 * rng.randn(X.shape[1], n_tasks, K)
    sample_weight = rng.uniform(0, 2, X.shape[0])
    weights = np.array([1.0, 0.5, 2.0])
    params = [*coefs, skip, embedding, *intercepts]

    def objective(p):
        value, _, _, gw, gb, _ = data_term_gradients(
            p[:3], p[5:], 3, X, target, observed, codes, problem, activation, weights, sample_weight,
            skip=p[3], embedding=p[4],
        )
        return value, gw + gb

    numeric = approx_fprime(_flatten(params), lambda theta: objective(_unflatten(theta, params))[0], 1e-7)
    np.testing.assert_allclose(_flatten(objective(params)[1]), numeric, rtol=1e-4, atol=1e-6)
    # Row i of task t in the wide layout is the long layout's (i, t) entry.
    if layout == "wide":
        Z = forward(coefs, intercepts, 3, X, None, activation, skip, embedding)[-1]
        rows, tasks = np.repeat(np.arange(len(X)), n_tasks), np.tile(np.arange(n_tasks), len(X))
        Z_long = forward(coefs, intercepts, 3, X[rows], tasks, activation, skip, embedding)[-1]
        np.testing.assert_allclose(Z.reshape(-1, K), Z_long, rtol=1e-12)


@pytest.mark.parametrize("kind", ["regression", "classification"])
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_integer_sample_weight_is_row_repetition(kind, layout):
    """Weights 0..3 give the objective and gradients of the repeated rows (0: dropped)."""
    X, target, observed, codes, problem, K = _data(kind, layout, n=15)
    sample_weight = np.random.RandomState(3).randint(0, 4, X.shape[0])
    sample_weight[:2] = [0, 3]
    rng = np.random.RandomState(1)
    coefs, intercepts = init_params([X.shape[1], 5, 3, K], 1, 3, "relu", np.float64, rng)

    def rows(a):
        return None if a is None else np.repeat(a, sample_weight, axis=0)

    common = (problem, np.array([1.0, 0.5, 2.0]), 0.3, "relu")
    weighted = _objective(coefs, intercepts, 1, X, target, observed, codes, *common, sample_weight.astype(float))
    repeated = _objective(coefs, intercepts, 1, rows(X), rows(target), rows(observed), rows(codes), *common)
    assert weighted[0] == pytest.approx(repeated[0], rel=1e-12)
    np.testing.assert_allclose(weighted[3], repeated[3], rtol=1e-12)  # per-task L_t
    for a, b in zip(weighted[1] + weighted[2], repeated[1] + repeated[2]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)
    # A row's weight applies to each of its observed labels: the totals S_t.
    Z = forward(coefs, intercepts, 1, X, codes, "relu")[-1]
    _, totals, _ = weighted_task_losses(Z, target, observed, problem, codes, 3, sample_weight.astype(float))
    if layout == "wide":
        np.testing.assert_array_equal(totals, sample_weight @ observed)
    else:
        np.testing.assert_array_equal(totals, np.bincount(codes, sample_weight, 3))


def _sklearn_backprop(mlp, X, Y, sample_weight=None):
    # scikit-learn 1.6 added a sample_weight argument to this private method;
    # before, integer weights are passed as the repeated rows they stand for.
    if "sample_weight" in inspect.signature(mlp._backprop).parameters:
        weights = (sample_weight,)
    else:
        weights = ()
        if sample_weight is not None:
            X, Y = np.repeat(X, sample_weight, axis=0), np.repeat(Y, sample_weight, axis=0)
    layer_units = [X.shape[1], *mlp.hidden_layer_sizes, Y.shape[1]]
    activations = [X] + [None] * (len(layer_units) - 1)
    deltas = [None] * (len(activations) - 1)
    coef_grads = [np.empty((a, b)) for a, b in zip(layer_units[:-1], layer_units[1:])]
    intercept_grads = [np.empty(b) for b in layer_units[1:]]
    return mlp._backprop(X, Y, *weights, activations, deltas, coef_grads, intercept_grads)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_single_task_matches_sklearn_regressor(activation, weighted):
    rng = np.random.RandomState(0)
    X, y = rng.randn(30, 4), rng.randn(30)
    sw = rng.randint(0, 4, 30) if weighted else None
    mlp = MLPRegressor(hidden_layer_sizes=(6, 5), activation=activation, alpha=0.7, max_iter=1, random_state=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp.fit(X, y)
    coefs = mlp.coefs_[:-1] + [mlp.coefs_[-1][:, None, :]]
    intercepts = mlp.intercepts_[:-1] + [mlp.intercepts_[-1][None, :]]
    ours, gw, gb, _, _ = _objective(
        coefs, intercepts, 2, X, y[:, None], np.ones((30, 1), bool), None, {"kind": "regression"},
        np.ones(1), 0.7, activation, None if sw is None else sw.astype(float),
    )
    loss, sk_gw, sk_gb = _sklearn_backprop(mlp, X, y[:, None], sw)
    assert ours == pytest.approx(loss, rel=1e-12)
    for a, b in zip(gw, sk_gw):
        np.testing.assert_allclose(a.reshape(b.shape), b, rtol=1e-10, atol=1e-12)
    for a, b in zip(gb, sk_gb):
        np.testing.assert_allclose(a.reshape(b.shape), b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        forward(coefs, intercepts, 2, X, None, activation)[-1][:, 0, 0], mlp.predict(X), rtol=1e-12
    )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_single_task_matches_sklearn_classifier(n_classes, weighted):
    import warnings

    rng = np.random.RandomState(0)
    X, y = rng.randn(40, 4), np.arange(40) % n_classes
    sw = rng.randint(0, 4, 40) if weighted else None
    mlp = MLPClassifier(hidden_layer_sizes=(6,), alpha=0.2, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp.fit(X, y)
    problem, K = _problem("classification", 1) if n_classes == 2 else (
        {"kind": "classification", "binary": np.array([False]), "unit_mask": np.ones((1, 3), bool)}, 3
    )
    coefs = mlp.coefs_[:-1] + [mlp.coefs_[-1][:, None, :]]
    intercepts = mlp.intercepts_[:-1] + [mlp.intercepts_[-1][None, :]]
    ours, gw, _, _, _ = _objective(
        coefs, intercepts, 1, X, y[:, None], np.ones((40, 1), bool), None, problem, np.ones(1), 0.2, "relu",
        None if sw is None else sw.astype(float),
    )
    Y = y[:, None].astype(float) if n_classes == 2 else np.eye(3)[y]
    loss, sk_gw, _ = _sklearn_backprop(mlp, X, Y, sw)
    assert ours == pytest.approx(loss, rel=1e-10)
    for a, b in zip(gw, sk_gw):
        np.testing.assert_allclose(a.reshape(b.shape), b, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("kind", ["regression", "classification"])
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_minibatch_estimates_are_unbiased_over_an_epoch(kind, layout):
    """Batch denominators D_t = n_t B / N: an epoch's batches average to the full data term.

    Unequal task sizes (long) or label counts (wide, missing labels), row
    weights, and a short last batch: sum_k (B_k / N) g_k equals the full
    gradient, and likewise the value and every L_t. The per-batch mean
    (D_t = the batch's own S_t) does not: rows of a task with few rows in a
    batch count more than those of a task with many.
    """
    X, target, observed, codes, problem, K = _data(kind, layout, n=40)
    if layout == "long":
        codes = np.minimum(np.arange(40) // 6, 2)  # tasks of 6, 6 and 28 rows
    sample_weight = np.random.RandomState(4).uniform(0.2, 2.0, 40)
    coefs, intercepts = init_params([X.shape[1], 5, 3, K], 2, 3, "tanh", np.float64, np.random.RandomState(1))
    weights = np.array([1.0, 0.5, 2.0])

    def term(rows, denominators=None):
        take = (lambda a: None if a is None else a[rows])
        value, L, _, gw, gb, _ = data_term_gradients(
            coefs, intercepts, 2, X[rows], take(target), take(observed), take(codes), problem, "tanh",
            weights, sample_weight[rows], denominators,
        )
        return np.r_[value, L, _flatten(gw + gb)]

    full = term(np.arange(40))
    N = sample_weight.sum()
    share = task_totals(40, observed, codes, 3, sample_weight) / N
    unbiased, per_batch = 0.0, 0.0
    for rows in np.array_split(np.random.RandomState(0).permutation(40), np.arange(9, 40, 9)):
        B = sample_weight[rows].sum()
        unbiased = unbiased + B / N * term(rows, share * B)
        per_batch = per_batch + B / N * term(rows)
    np.testing.assert_allclose(unbiased, full, rtol=1e-12, atol=1e-14)
    # measured: 0.056 (wide regression) to 0.33 (long regression) relative error
    assert np.linalg.norm(per_batch[4:] - full[4:]) > 0.03 * np.linalg.norm(full[4:])
