"""Tests of the solvers: optimality, references (sklearn, MALSAR), warm starts."""

import os
import csv
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import ElasticNet, Lasso, MultiTaskElasticNet, MultiTaskLasso

from skmtl._data import check_task_data
from skmtl.linear_model._losses import LogisticLoss, SquaredLoss
from skmtl.linear_model._lasso import _TaskL1
from skmtl.linear_model._penalties import L1, L21, L1Linf, TraceNorm, scale_rows
from skmtl.linear_model._task_graph import MeanQuadratic, SquaredTraceNorm, TaskQuadratic
from skmtl.linear_model._solvers import (
    PENALTY_REQUIRED,
    SolverResult,
    WarmStart,
    _gradient_mapping,
    admm,
    fista,
    solve,
    working_set_fista,
)

# The MALSAR references sit next to the data home (../shared/{data,reference}).
REFERENCE = Path(os.environ["SKMTL_DATA"]).resolve().parent / "reference"


def _regression(n=60, d=25, T=4, seed=0, missing=False, offset=3.0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    W = np.zeros((d, T))
    W[:5] = rng.randn(5, T)
    Y = X @ W + 0.3 * rng.randn(n, T) + offset
    if missing:
        Y[rng.rand(n, T) < 0.15] = np.nan
    return X, Y


def _classification(n=80, d=12, T=3, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    W = np.zeros((d, T))
    W[:4] = rng.randn(4, T)
    Y = np.where(X @ W + 0.5 * rng.randn(n, T) + 0.3 > 0, 1.0, -1.0)
    return X, Y


def _penalty_grid(alpha_scale):
    return [
        L21(alpha_scale),
        L21(alpha_scale, l1_ratio=0.5),
        L21(alpha_scale, positive=True),
        L1(alpha_scale),
        L1(alpha_scale, positive=True),
        TraceNorm(alpha_scale),
        TraceNorm(alpha_scale, l1_ratio=0.7),
        L1Linf(alpha_scale),
        L1Linf(alpha_scale, l1_ratio=0.5),
    ]


def _gradient_at_null(loss):
    zero = np.zeros((loss.n_features, loss.n_tasks))
    return loss.value_and_gradient(zero, loss.null_intercept())[1]


# ---------------------------------------------------------------- references
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.6])
def test_l21_matches_sklearn_multitask(fit_intercept, l1_ratio):
    X, Y = _regression()
    alpha = 0.15
    result = fista(
        SquaredLoss(check_task_data(X, Y), fit_intercept=fit_intercept),
        L21(alpha, l1_ratio=l1_ratio),
        tol=1e-11,
        max_iter=20000,
    )
    if l1_ratio == 1.0:
        ref = MultiTaskLasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-14, max_iter=100000)
    else:
        ref = MultiTaskElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=1e-14, max_iter=100000)
    ref.fit(X, Y)
    assert result.converged
    assert np.sum(np.any(ref.coef_ != 0, axis=0)) < X.shape[1]  # a sparse solution
    assert_allclose(result.coef, ref.coef_.T, rtol=1e-6, atol=1e-6 * np.abs(ref.coef_).max())
    assert_allclose(result.intercept, np.broadcast_to(ref.intercept_, 4), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.4])
def test_l1_single_task_matches_sklearn_lasso(positive, l1_ratio):
    X, Y = _regression(T=1, seed=1)
    alpha = 0.05
    result = fista(SquaredLoss(check_task_data(X, Y[:, 0])), L1(alpha, l1_ratio=l1_ratio, positive=positive), tol=1e-11, max_iter=20000)
    ref = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, positive=positive, tol=1e-14, max_iter=100000)
    if l1_ratio == 1.0:
        ref = Lasso(alpha=alpha, positive=positive, tol=1e-14, max_iter=100000)
    ref.fit(X, Y[:, 0])
    assert_allclose(result.coef[:, 0], ref.coef_, rtol=1e-6, atol=1e-7)
    assert result.intercept[0] == pytest.approx(ref.intercept_, rel=1e-6)


def test_independent_l1_equals_one_lasso_per_task():
    X, Y = _regression(T=3, seed=2)
    result = fista(SquaredLoss(check_task_data(X, Y)), L1(0.08), tol=1e-11, max_iter=20000)
    for t in range(3):
        ref = Lasso(alpha=0.08, tol=1e-14, max_iter=100000).fit(X, Y[:, t])
        assert_allclose(result.coef[:, t], ref.coef_, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- optimality
def _loss_cases():
    X, Y = _regression(missing=True)
    Xc, Yc = _classification()
    return {
        "squared": lambda: SquaredLoss(check_task_data(X, Y), task_weights="n_samples"),
        "squared_sparse_noint": lambda: SquaredLoss(check_task_data(sp.csr_matrix(X), Y), fit_intercept=False),
        "logistic": lambda: LogisticLoss(check_task_data(Xc, Yc)),
    }


LOSS_CASES = _loss_cases()


@pytest.mark.parametrize("loss_name", list(LOSS_CASES))
@pytest.mark.parametrize("penalty_index", range(len(_penalty_grid(1.0))))
def test_kkt_conditions_hold_at_the_solution(loss_name, penalty_index):
    loss = LOSS_CASES[loss_name]()
    template = _penalty_grid(1.0)[penalty_index]
    grad0 = _gradient_at_null(loss)
    alpha_max = template.alpha_max(grad0)
    penalty = type(template)(
        0.2 * alpha_max, l1_ratio=template.l1_ratio, **({"positive": True} if template.positive else {})
    )
    result = fista(loss, penalty, tol=1e-9, max_iter=20000)
    assert result.converged and result.stop_crit <= 1e-9
    _, gW, gb = loss.value_and_gradient(result.coef, result.intercept)
    scale = np.linalg.norm(grad0)
    assert penalty.subdiff_distance(result.coef, gW) <= 1e-6 * scale
    assert np.linalg.norm(gb) <= 1e-6 * scale
    assert np.any(result.coef != 0)
    assert result.objective == pytest.approx(loss.value(result.coef, result.intercept) + penalty.value(result.coef))
    if penalty.positive:
        assert np.all(result.coef >= 0)
    # Nothing near the solution is better.
    rng = np.random.RandomState(0)
    for _ in range(10):
        W = result.coef + 1e-3 * rng.randn(*result.coef.shape)
        W = np.abs(W) if penalty.positive else W
        assert loss.value(W, result.intercept) + penalty.value(W) >= result.objective - 1e-12


@pytest.mark.parametrize("loss_name", list(LOSS_CASES))
@pytest.mark.parametrize("penalty_index", range(len(_penalty_grid(1.0))))
def test_alpha_above_alpha_max_gives_zero(loss_name, penalty_index):
    loss = LOSS_CASES[loss_name]()
    template = _penalty_grid(1.0)[penalty_index]
    alpha_max = template.alpha_max(_gradient_at_null(loss))
    kwargs = {"l1_ratio": template.l1_ratio, **({"positive": True} if template.positive else {})}
    warm = np.ones((loss.n_features, loss.n_tasks))
    for factor in (1.0, 1.5):
        result = fista(loss, type(template)(factor * alpha_max, **kwargs), W0=warm)
        assert_array_equal(result.coef, 0.0)
        assert result.n_iter == 0 and result.converged
        assert_allclose(result.intercept, loss.null_intercept())
    # Just below alpha_max the solution is not zero.
    result = fista(loss, type(template)(0.9 * alpha_max, **kwargs), tol=1e-8)
    assert np.any(result.coef != 0)


def test_long_and_wide_layouts_give_the_same_solution():
    X, Y = _regression(missing=True, seed=3)
    rows, tasks = np.nonzero(~np.isnan(Y))
    perm = np.random.RandomState(0).permutation(len(rows))
    rows, tasks = rows[perm], tasks[perm]
    long = check_task_data(np.column_stack([X[rows], tasks]), Y[rows, tasks], task_column=-1)
    for penalty in (L21(0.1), TraceNorm(0.3), L1Linf(0.1)):
        r_wide = fista(SquaredLoss(check_task_data(X, Y)), penalty, tol=1e-10, max_iter=20000)
        r_long = fista(SquaredLoss(long), penalty, tol=1e-10, max_iter=20000)
        assert_allclose(r_long.coef, r_wide.coef, rtol=1e-6, atol=1e-8)
        assert_allclose(r_long.intercept, r_wide.intercept, rtol=1e-6)


def test_sparse_and_dense_give_the_same_solution():
    X, Y = _regression(missing=True, seed=4)
    X[X < 0.3] = 0.0
    dense = fista(SquaredLoss(check_task_data(X, Y)), L21(0.05), tol=1e-10, max_iter=20000)
    sparse = fista(SquaredLoss(check_task_data(sp.csr_matrix(X), Y)), L21(0.05), tol=1e-10, max_iter=20000)
    assert_allclose(sparse.coef, dense.coef, rtol=1e-7, atol=1e-10)


def test_float32_solution():
    X, Y = _regression(seed=5)
    r64 = fista(SquaredLoss(check_task_data(X, Y)), L21(0.1), tol=1e-8)
    r32 = fista(SquaredLoss(check_task_data(X.astype(np.float32), Y)), L21(0.1), tol=1e-4)
    assert r32.coef.dtype == np.float32 and r32.intercept.dtype == np.float32
    assert r32.converged
    assert_allclose(r32.coef, r64.coef, atol=2e-3 * np.abs(r64.coef).max())


# ---------------------------------------------------------------- solver behaviour
def test_warm_start_from_the_solution_takes_at_most_two_iterations():
    X, Y = _regression(seed=6)
    loss = SquaredLoss(check_task_data(X, Y))
    first = fista(loss, L21(0.1), tol=1e-6)
    assert first.n_iter > 2
    again = fista(loss, L21(0.1), first.coef, first.intercept, tol=1e-6)
    assert again.converged and again.n_iter <= 2
    assert again.objective <= first.objective + 1e-12


def test_max_iter_reached_is_reported():
    X, Y = _regression(seed=7)
    result = fista(SquaredLoss(check_task_data(X, Y)), L21(0.01), tol=1e-12, max_iter=3)
    assert isinstance(result, SolverResult)
    assert not result.converged and result.n_iter == 3 and result.stop_crit > 1e-12


def test_objective_decreases_with_iterations_and_callback_stops():
    X, Y = _regression(seed=8)
    loss = SquaredLoss(check_task_data(X, Y))
    seen = []

    def callback(n_iter, W, b, stop_crit):
        seen.append((n_iter, loss.value(W, b) + L21(0.05).value(W), stop_crit))
        return n_iter == 5

    result = fista(loss, L21(0.05), tol=1e-12, callback=callback)
    assert result.n_iter == 5 and not result.converged
    assert [s[0] for s in seen] == [1, 2, 3, 4, 5]
    tight = fista(loss, L21(0.05), tol=1e-10, max_iter=10000)
    assert tight.objective <= min(s[1] for s in seen)
    # Iterations beyond a converged run only reduce the objective.
    assert tight.objective <= fista(loss, L21(0.05), tol=1e-3).objective + 1e-12


def test_stop_crit_is_scale_free():
    # Scaling y (and the penalty) by 100 leaves the iterations unchanged.
    X, Y = _regression(seed=9)
    r1 = fista(SquaredLoss(check_task_data(X, Y)), L21(0.1), tol=1e-6)
    r2 = fista(SquaredLoss(check_task_data(X, 100 * Y)), L21(10.0), tol=1e-6)
    assert r1.n_iter == r2.n_iter
    assert r1.stop_crit == pytest.approx(r2.stop_crit, rel=1e-6)
    assert_allclose(100 * r1.coef, r2.coef, rtol=1e-8, atol=1e-10)


def test_missing_methods_fail_fast():
    X, Y = _regression()
    loss = SquaredLoss(check_task_data(X, Y))

    class NoProx:
        def value(self, W):
            return 0.0

    with pytest.raises(TypeError, match="NoProx lacks prox, subdiff_distance"):
        fista(loss, NoProx())
    assert PENALTY_REQUIRED == ("value", "prox", "subdiff_distance")

    class LossOnlyValue:
        def value(self, W, b):
            return 0.0

    with pytest.raises(TypeError, match="LossOnlyValue lacks raw_prediction, value_from_raw"):
        fista(LossOnlyValue(), L21(1.0))


def test_argument_errors():
    X, Y = _regression()
    loss = SquaredLoss(check_task_data(X, Y))
    with pytest.raises(ValueError, match="max_iter must be a positive integer; got 0"):
        fista(loss, L21(1.0), max_iter=0)
    with pytest.raises(ValueError, match="tol must be non-negative; got -1"):
        fista(loss, L21(1.0), tol=-1)
    with pytest.raises(ValueError, match=r"W0 must have shape \(n_features, n_tasks\) = \(25, 4\)"):
        fista(loss, L21(1.0), W0=np.zeros((4, 25)))
    with pytest.raises(ValueError, match=r"b0 must have shape \(n_tasks,\) = \(4,\)"):
        fista(loss, L21(1.0), b0=np.zeros(3))


def test_inputs_are_not_modified():
    X, Y = _regression()
    loss = SquaredLoss(check_task_data(X, Y))
    W0, b0 = np.ones((25, 4)), np.zeros(4)
    fista(loss, L21(0.1), W0, b0)
    assert_array_equal(W0, 1.0)
    assert_array_equal(b0, 0.0)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_all_zero_design(fit_intercept):
    X = np.zeros((20, 4))
    Y = np.random.RandomState(0).randn(20, 2)
    loss = SquaredLoss(check_task_data(X, Y), fit_intercept=fit_intercept)
    # The null exit judges the coefficients only (the intercepts' gradient
    # is rounding), so no estimator-side workaround is needed: 0 iterations,
    # whatever alpha, for both solvers and every penalty.
    for penalty in (L21(0.1), L21(1e-8), L1(1e-8), TraceNorm(1e-8), L1Linf(1e-8)):
        for solver in (fista, working_set_fista):
            if solver is working_set_fista and isinstance(penalty, TraceNorm):
                continue
            result = solver(loss, penalty, max_iter=5)
            assert_array_equal(result.coef, 0.0)
            assert result.converged and result.n_iter == 0 and result.stop_crit == 0.0
            assert_allclose(result.intercept, Y.mean(axis=0) if fit_intercept else 0.0)


@pytest.mark.parametrize("penalty", [L21(0.05), L1(0.05), TraceNorm(0.1), L1Linf(0.05)], ids=repr)
def test_awkward_designs_do_not_break_the_solver(penalty):
    rng = np.random.RandomState(1)
    X = rng.randn(15, 40)  # n_features >> n_samples
    X[:, 3] = 1.0  # constant feature
    X[:, 7] = X[:, 6]  # duplicated feature
    Y = X[:, :4] @ rng.randn(4, 3) + 0.1 * rng.randn(15, 3)
    cases = [
        SquaredLoss(check_task_data(X, Y)),
        SquaredLoss(check_task_data(X, Y[:, 0])),  # one task
        # Long layout with single-sample tasks.
        SquaredLoss(check_task_data(np.column_stack([X, np.arange(15) % 8]), Y[:, 0], task_column=-1)),
    ]
    for loss in cases:
        result = fista(loss, penalty, tol=1e-8, max_iter=20000)
        assert result.converged and np.all(np.isfinite(result.coef))
        _, gW, _ = loss.value_and_gradient(result.coef, result.intercept)
        assert penalty.subdiff_distance(result.coef, gW) <= 1e-5 * np.linalg.norm(_gradient_at_null(loss))


def test_float32_long_sparse_solution():
    X, Y = _regression(missing=True, seed=13)
    rows, tasks = np.nonzero(~np.isnan(Y))
    X_long = sp.csr_matrix(np.column_stack([X[rows], tasks]).astype(np.float32))
    data32 = check_task_data(X_long, Y[rows, tasks], task_column=-1)
    data64 = check_task_data(X_long.astype(np.float64), Y[rows, tasks], task_column=-1)
    r32 = fista(SquaredLoss(data32), TraceNorm(0.2), tol=1e-4)
    r64 = fista(SquaredLoss(data64), TraceNorm(0.2), tol=1e-8)
    assert r32.coef.dtype == np.float32 and r32.converged
    assert_allclose(r32.coef, r64.coef, atol=2e-3 * np.abs(r64.coef).max())


# ---------------------------------------------------------------- working sets
def _wide_sparse_truth(n=80, d=200, T=5, seed=10, missing=False):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    W = np.zeros((d, T))
    W[rng.choice(d, 6, replace=False)] = rng.randn(6, T)
    Y = X @ W + 0.1 * rng.randn(n, T)
    if missing:
        Y[rng.rand(n, T) < 0.1] = np.nan
    return X, Y


WS_CASES = {
    "squared_gram": lambda X, Y: SquaredLoss(check_task_data(X[:60, :25], Y[:60]), gram=True),
    "squared_wide_missing": lambda X, Y: SquaredLoss(check_task_data(X, np.where(np.arange(len(Y))[:, None] % 7 == 3, np.nan, Y))),
    "squared_sparse": lambda X, Y: SquaredLoss(check_task_data(sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0)), Y)),
    "squared_long": lambda X, Y: SquaredLoss(
        check_task_data(np.column_stack([np.vstack([X[:40], X[40:]]), np.repeat([0, 1], 40)]), np.concatenate([Y[:40, 0], Y[40:, 1]]), task_column=-1)
    ),
    "logistic": lambda X, Y: LogisticLoss(check_task_data(X, np.where(Y > 0, 1.0, -1.0))),
}


@pytest.mark.parametrize("case", list(WS_CASES))
@pytest.mark.parametrize("penalty_cls", [L21, L1, L1Linf])
def test_working_sets_reach_the_fista_solution(case, penalty_cls):
    X, Y = _wide_sparse_truth()
    loss = WS_CASES[case](X, Y)
    alpha = 0.1 * penalty_cls(1.0).alpha_max(_gradient_at_null(loss))
    penalty = penalty_cls(alpha)
    ws = working_set_fista(loss, penalty, tol=1e-9, max_iter=20000)
    full = fista(loss, penalty, tol=1e-9, max_iter=20000)
    assert ws.converged and ws.stop_crit <= 1e-9
    assert ws.objective <= full.objective + 1e-9 * abs(full.objective)
    assert_allclose(ws.coef, full.coef, rtol=1e-5, atol=1e-6 * np.abs(full.coef).max())
    _, gW, gb = loss.value_and_gradient(ws.coef, ws.intercept)
    assert penalty.subdiff_distance(ws.coef, gW) <= 1e-6 * np.linalg.norm(_gradient_at_null(loss))
    # Far fewer rows than features are ever used.
    assert np.sum(np.any(ws.coef != 0, axis=1)) < loss.n_features


def test_working_sets_match_sklearn_multitask_lasso():
    X, Y = _wide_sparse_truth(seed=11)
    for fit_intercept in (True, False):
        result = working_set_fista(SquaredLoss(check_task_data(X, Y), fit_intercept=fit_intercept), L21(0.05), tol=1e-11, max_iter=20000)
        ref = MultiTaskLasso(alpha=0.05, fit_intercept=fit_intercept, tol=1e-14, max_iter=100000).fit(X, Y)
        assert_allclose(result.coef, ref.coef_.T, rtol=1e-6, atol=1e-6 * np.abs(ref.coef_).max())


def test_working_sets_zero_warm_start_and_budget():
    X, Y = _wide_sparse_truth(seed=12)
    loss = SquaredLoss(check_task_data(X, Y))
    alpha_max = L21(1.0).alpha_max(_gradient_at_null(loss))
    zero = working_set_fista(loss, L21(alpha_max), W0=np.ones((200, 5)))
    assert_array_equal(zero.coef, 0.0)
    assert zero.n_iter == 0 and zero.converged
    first = working_set_fista(loss, L21(0.1 * alpha_max), tol=1e-6)
    again = working_set_fista(loss, L21(0.1 * alpha_max), first.coef, first.intercept, tol=1e-6)
    assert again.converged and again.n_iter <= 2
    short = working_set_fista(loss, L21(0.01 * alpha_max), tol=1e-12, max_iter=3)
    assert not short.converged and short.n_iter <= 3
    with pytest.raises(ValueError, match="initial_size must be a positive integer; got 0"):
        working_set_fista(loss, L21(1.0), initial_size=0)


def test_working_sets_need_a_row_separable_penalty():
    X, Y = _wide_sparse_truth()
    loss = SquaredLoss(check_task_data(X, Y))
    with pytest.raises(TypeError, match="TraceNorm lacks subdiff_distance_rows"):
        working_set_fista(loss, TraceNorm(1.0))


def test_solve_dispatches_on_the_penalty():
    X, Y = _wide_sparse_truth()
    loss = SquaredLoss(check_task_data(X, Y))
    alpha = 0.1 * L21(1.0).alpha_max(_gradient_at_null(loss))
    auto = solve(loss, L21(alpha), tol=1e-8)
    assert_allclose(auto.coef, working_set_fista(loss, L21(alpha), tol=1e-8).coef)
    # A non-separable penalty on wide dense data (n < d, n <= 32 T): ADMM
    # from a cold start, FISTA from a warm one.
    assert loss.accelerators.kernel_system(32 * loss.n_tasks) is not None
    trace = solve(loss, TraceNorm(1.0), tol=1e-6)
    assert trace.n_iter == admm(loss, TraceNorm(1.0), tol=1e-6).n_iter
    warm = solve(loss, TraceNorm(1.0), trace.coef, trace.intercept, tol=1e-6)
    assert warm.n_iter == fista(loss, TraceNorm(1.0), trace.coef, trace.intercept, tol=1e-6).n_iter
    assert solve(loss, L21(alpha), solver="fista", tol=1e-8).n_iter == fista(loss, L21(alpha), tol=1e-8).n_iter
    # Few features: plain FISTA (this design's n >= d: no kernel either).
    small = SquaredLoss(check_task_data(X[:, :30], Y))
    assert small.accelerators.kernel_system(10**6) is None
    assert solve(small, L21(0.1), tol=1e-8).n_iter == fista(small, L21(0.1), tol=1e-8).n_iter
    with pytest.raises(ValueError, match="solver must be 'auto', 'fista', 'working_set' or 'admm'; got 'cd'"):
        solve(loss, L21(1.0), solver="cd")


# ---------------------------------------------------------------- MALSAR references
def _malsar_rows():
    path = REFERENCE / "malsar_school.csv"
    if not path.exists():
        return {}
    with open(path) as f:
        return {row["case"]: row for row in csv.DictReader(f)}


def _load_tasks(name):
    mat = scipy.io.loadmat(REFERENCE / name, mat_dtype=True)
    Xs = [np.asarray(x, dtype=np.float64) for x in mat["X"].ravel()]
    ys = [np.asarray(y, dtype=np.float64).ravel() for y in mat["Y"].ravel()]
    X_long = np.vstack([np.column_stack([x, np.full(len(x), t)]) for t, x in enumerate(Xs)])
    return Xs, ys, check_task_data(X_long, np.concatenate(ys), task_column=-1)


def _omega(name, W):
    if name == "L21":
        return np.linalg.norm(W, axis=1).sum()
    if name == "Trace":
        return np.linalg.svd(W, compute_uv=False).sum()
    return np.abs(W).sum()


_PENALTY_OF = {"L21": L21, "Trace": TraceNorm, "Lasso": L1}
MALSAR_CASES = [
    # case, data file, loss, penalty, rho1, rho_L2
    ("Least_L21", "school_prepared.mat", "Least", "L21", 1000.0, 0.0),
    ("Least_L21_rhoL2", "school_prepared.mat", "Least", "L21", 1000.0, 100.0),
    ("Least_Trace", "school_prepared.mat", "Least", "Trace", 1000.0, 0.0),
    ("Least_Lasso", "school_prepared.mat", "Least", "Lasso", 100.0, 0.0),
    ("Least_Lasso_rhoL2", "school_prepared.mat", "Least", "Lasso", 100.0, 100.0),
    ("Logistic_L21", "synth_binary.mat", "Logistic", "L21", 0.1, 0.0),
    ("Logistic_L21_rhoL2", "synth_binary.mat", "Logistic", "L21", 0.1, 0.01),
    ("Logistic_Trace", "synth_binary.mat", "Logistic", "Trace", 0.3, 0.0),
]


@pytest.mark.skipif(not (REFERENCE / "malsar_school.csv").exists(), reason="MALSAR reference files not available")
@pytest.mark.parametrize("case, filename, loss_name, penalty_name, rho1, rho_l2", MALSAR_CASES, ids=[c[0] for c in MALSAR_CASES])
def test_objective_at_most_malsar(case, filename, loss_name, penalty_name, rho1, rho_l2):
    row = _malsar_rows()[case]
    assert (row["malsar_function"], row["malsar_params"]) == (
        f"{loss_name}_{penalty_name}",
        f"rho1={rho1:g} rho_L2={rho_l2:g}",
    )
    Xs, ys, data = _load_tasks(filename)
    # MALSAR: loss + rho1 * Omega(W) + rho_L2 ||W||_F^2. skmtl: loss +
    # alpha (l1_ratio Omega + (1 - l1_ratio)/2 ||W||_F^2).
    alpha = rho1 + 2 * rho_l2
    penalty = _PENALTY_OF[penalty_name](alpha, l1_ratio=rho1 / alpha)

    def solve():
        if loss_name == "Least":
            # task_weights = n_t turns the task means into MALSAR's 0.5 * sum
            # of squares; the last column of ones is the (penalized) bias.
            loss = SquaredLoss(data, task_weights=data.n_samples_per_task, fit_intercept=False)
        else:
            loss = LogisticLoss(data)
        return fista(loss, penalty)

    timings = []
    for _ in range(3):
        start = time.perf_counter()
        result = solve()
        timings.append(time.perf_counter() - start)
    assert result.converged
    W, b = result.coef, result.intercept
    if loss_name == "Least":
        data_term = 0.5 * sum(np.sum((x @ W[:, t] - y) ** 2) for t, (x, y) in enumerate(zip(Xs, ys)))
    else:
        data_term = sum(np.mean(np.logaddexp(0, -y * (x @ W[:, t] + b[t]))) for t, (x, y) in enumerate(zip(Xs, ys)))
    ours = data_term + rho1 * _omega(penalty_name, W) + rho_l2 * np.sum(W**2)
    malsar = float(row["malsar_objective"])
    print(
        f"\n{case}: skmtl {ours:.10g} (n_iter={result.n_iter}, {min(timings):.4f} s best of 3) "
        f"vs MALSAR {malsar:.10g} ({row['malsar_iterations']} iterations, "
        f"{row['malsar_octave_seconds']} s Octave)"
    )
    assert ours <= malsar
    # And the solver's own objective is MALSAR's up to the mapping.
    assert result.objective == pytest.approx(ours, rel=1e-10)


# ---------------------------------------------------------------- working sets through Gram blocks
@pytest.mark.parametrize("shape", [(40, 150, 4), (300, 120, 5)], ids=["wide_n_lt_d", "tall_n_gt_d"])
@pytest.mark.parametrize("factor", [0.5, 0.1, 0.01])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_working_sets_reach_the_fista_optimum(shape, factor, fit_intercept):
    n, d, T = shape
    rng = np.random.RandomState(0)
    X = rng.randn(n, d)
    W_true = np.zeros((d, T))
    W_true[:6] = rng.randn(6, T)
    Y = X @ W_true + 0.5 * rng.randn(n, T) + 1.0
    data = check_task_data(X, Y)
    loss = SquaredLoss(data, fit_intercept=fit_intercept, gram=False)
    penalty = L21(factor * L21(1.0).alpha_max(_gradient_at_null(loss)))
    reference = fista(loss, penalty, tol=1e-12, max_iter=100_000)
    ws = working_set_fista(SquaredLoss(data, fit_intercept=fit_intercept), penalty, tol=1e-10, max_iter=100_000)
    assert ws.converged and ws.stop_crit <= 1e-10
    assert ws.objective <= reference.objective + 1e-10 * abs(reference.objective)
    # n < d with a small alpha is badly conditioned: coefficients agree less
    # tightly than objectives.
    assert_allclose(ws.coef, reference.coef, rtol=1e-4, atol=1e-6 * np.abs(reference.coef).max())
    assert_allclose(ws.intercept, reference.intercept, rtol=1e-6, atol=1e-6)
    # The certificate holds for the full problem: KKT per row.
    _, gW, _ = loss.value_and_gradient(ws.coef, ws.intercept)
    assert penalty.subdiff_distance(ws.coef, gW) <= 1e-6 * np.linalg.norm(_gradient_at_null(loss))


@pytest.mark.parametrize("factor", [0.3, 0.01], ids=["rounds_on_X", "gram_model_first"])
def test_tall_few_task_working_sets_certify_gram_model_points_on_X(factor):
    # A tall X with T < d / 8: sparse rounds stay on X; a small alpha (or a
    # dense solution) moves them to the float32 Gram model, whose points are
    # checked, and refined, on X: the optimum is reached to 1e-10 all the same.
    rng = np.random.RandomState(1)
    n, d, T = 400, 60, 3
    X = rng.randn(n, d)
    X[:, 1:] += 0.8 * X[:, :-1]
    Y = X[:, :4] @ rng.randn(4, T) + rng.randn(n, T) + 2.0
    data = check_task_data(X, Y)
    loss = SquaredLoss(data, center=True)
    assert loss.accelerators.offers_whole_model
    penalty = L21(factor * L21(1.0).alpha_max(_gradient_at_null(loss)))
    reference = fista(SquaredLoss(data, center=True, gram=True), penalty, tol=1e-12, max_iter=100_000)
    result = working_set_fista(loss, penalty, tol=1e-10, max_iter=100_000)
    assert result.converged and result.stop_crit <= 1e-10
    assert result.objective <= reference.objective + 1e-10 * abs(reference.objective)
    assert (loss.accelerators._whole is not None) == (factor < 0.05)
    # What it returns is the loss's own: objective and remembered gradient.
    assert result.objective == pytest.approx(loss.value(result.coef, result.intercept) + penalty.value(result.coef))
    _, gW, gb = loss.value_and_gradient(result.coef, result.intercept)
    assert_allclose(result.warm_start.grad_W, gW, rtol=1e-10, atol=1e-12)
    # Restarted at its own point (the duality-gap loop of solve): accepted
    # at once, with the loss's raw prediction.
    again = working_set_fista(
        loss, penalty, result.coef, result.intercept, tol=1e-10, warm_start=result.warm_start
    )
    assert again.n_iter == 1 and again.objective == pytest.approx(result.objective, rel=1e-14)
    # Stopped on the model by max_iter: still the loss's point and measure.
    early = working_set_fista(SquaredLoss(data, center=True), penalty, tol=1e-12, max_iter=2)
    assert not early.converged
    assert early.objective == pytest.approx(loss.value(early.coef, early.intercept) + penalty.value(early.coef))


def test_working_sets_with_gram_blocks_spend_few_full_gradients():
    # A sparse solution: the working sets settle in a few rounds and the
    # restricted problems never touch X, so the full products stay few.
    rng = np.random.RandomState(1)
    X = rng.randn(200, 2000)
    W_true = np.zeros((2000, 5))
    W_true[:10] = rng.randn(10, 5)
    Y = X @ W_true + 0.1 * rng.randn(200, 5)
    loss = SquaredLoss(check_task_data(X, Y))
    penalty = L21(0.1 * L21(1.0).alpha_max(_gradient_at_null(loss)))
    result = working_set_fista(loss, penalty, tol=1e-8)
    assert result.converged
    assert result.n_products <= 16
    # A warm restart at the solution is one full-gradient check (counted as
    # one iteration; 0 is kept for the null solution)...
    fresh = SquaredLoss(check_task_data(X, Y))
    again = working_set_fista(fresh, penalty, result.coef, result.intercept, tol=1e-8)
    assert again.converged and again.n_iter == 1 and again.n_products == 4  # null model + check
    # ... and free on the loss that solved it: the final gradient is
    # remembered (warm-started paths start where the last solve ended).
    again = working_set_fista(loss, penalty, result.coef, result.intercept, tol=1e-8, warm_start=result.warm_start)
    assert again.converged and again.n_iter == 1 and again.n_products == 0
    assert_array_equal(again.coef, result.coef)


# ---------------------------------------------------------------- duality gap
@pytest.mark.parametrize("penalty", _penalty_grid(0.05), ids=repr)
@pytest.mark.parametrize("layout", ["wide", "wide_missing", "long", "gram"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dual_gap_certifies_and_vanishes(penalty, layout, fit_intercept):
    X, Y = _regression(missing=layout == "wide_missing")
    rng = np.random.RandomState(1)
    sw = rng.uniform(0.5, 2.0, len(X))
    if layout == "long":
        T = Y.shape[1]
        X_long = np.vstack([np.column_stack([X, np.full(len(X), t)]) for t in range(T)])
        data = check_task_data(X_long, Y.T.ravel(), task_column=-1, sample_weight=np.tile(sw, T))
    else:
        data = check_task_data(X, Y, sample_weight=sw)
    loss = SquaredLoss(data, fit_intercept=fit_intercept, gram=layout == "gram")
    best = fista(loss, penalty, tol=1e-12, max_iter=100_000)
    assert loss.dual_gap(best.coef, best.intercept, penalty) <= 1e-8 * max(1.0, abs(best.objective))
    previous = np.inf
    for tol in (1e-1, 1e-3, 1e-6):
        result = fista(loss, penalty, tol=tol, max_iter=100_000)
        gap = loss.dual_gap(result.coef, result.intercept, penalty)
        # A certificate: never below the true suboptimality (nor below 0).
        assert gap >= result.objective - best.objective - 1e-10 * abs(best.objective)
        assert gap >= 0
        assert gap <= previous * 1.5 + 1e-12
        previous = gap
    # Anywhere, e.g. at a random point, it bounds the suboptimality.
    W = rng.randn(*best.coef.shape)
    if penalty.positive:
        W = np.abs(W)  # inside the domain
    b = rng.randn(loss.n_tasks)
    objective = loss.value(W, b) + penalty.value(W)
    assert loss.dual_gap(W, b, penalty) >= objective - best.objective - 1e-9


def _more_dual_penalties(alpha, n_features, n_tasks):
    """Penalties with a conjugate beyond the norms: task quadratics, scaled rows, per-task L1."""
    rng = np.random.RandomState(7)
    A = rng.randn(n_tasks, n_tasks)
    return [
        MeanQuadratic(alpha, 0.5, n_tasks),
        TaskQuadratic(alpha, A @ A.T + 0.1 * np.eye(n_tasks)),
        SquaredTraceNorm(alpha),
        SquaredTraceNorm(alpha, ridge=0.5),
        scale_rows(L21(alpha), rng.uniform(0.1, 10.0, n_features)),
        scale_rows(L1Linf(alpha, l1_ratio=0.5), rng.uniform(0.1, 10.0, n_features)),
        _TaskL1(alpha * rng.uniform(0.5, 2.0, n_tasks)),
    ]


def _assert_gap_certifies(loss, penalty, rng):
    best = fista(loss, penalty, tol=1e-10, max_iter=20_000)
    assert loss.dual_gap(best.coef, best.intercept, penalty) <= 1e-6 * max(1.0, abs(best.objective))
    for tol in (1e-1, 1e-3):
        result = fista(loss, penalty, tol=tol, max_iter=100_000)
        gap = loss.dual_gap(result.coef, result.intercept, penalty)
        assert gap >= result.objective - best.objective - 1e-10 * abs(best.objective)
    W = rng.randn(*best.coef.shape)
    b = rng.randn(loss.n_tasks)
    objective = loss.value(W, b) + penalty.value(W)
    assert loss.dual_gap(W, b, penalty) >= objective - best.objective - 1e-9


@pytest.mark.parametrize("index", range(7))
@pytest.mark.parametrize("loss_name", ["squared", "logistic"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dual_gap_of_the_other_penalties(index, loss_name, fit_intercept):
    if loss_name == "squared":
        X, Y = _regression(d=8)
        loss = SquaredLoss(check_task_data(X, Y), fit_intercept=fit_intercept)
    else:
        X, Y = _classification(d=8)
        loss = LogisticLoss(check_task_data(X, Y), fit_intercept=fit_intercept)
    penalty = _more_dual_penalties(0.05, loss.n_features, loss.n_tasks)[index]
    assert penalty.has_dual
    _assert_gap_certifies(loss, penalty, np.random.RandomState(index))


@pytest.mark.parametrize("penalty", _penalty_grid(0.03), ids=repr)
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_dual_gap_of_the_logistic_loss_certifies_and_vanishes(penalty, layout):
    X, Y = _classification(d=8)
    if layout == "long":
        T = Y.shape[1]
        X_long = np.vstack([np.column_stack([X, np.full(len(X), t)]) for t in range(T)])
        data = check_task_data(X_long, Y.T.ravel(), task_column=-1)
    else:
        data = check_task_data(X, Y)
    rng = np.random.RandomState(3)
    loss = LogisticLoss(data)
    best = fista(loss, penalty, tol=1e-9, max_iter=20_000)
    assert loss.dual_gap(best.coef, best.intercept, penalty) <= 1e-6 * best.objective
    W = np.abs(rng.randn(*best.coef.shape))
    b = rng.randn(loss.n_tasks)
    assert loss.dual_gap(W, b, penalty) >= loss.value(W, b) + penalty.value(W) - best.objective - 1e-9


def test_no_dual_without_a_conjugate():
    X, Y = _regression(d=8)
    loss = SquaredLoss(check_task_data(X, Y))
    assert loss.dual_gap(np.zeros((8, 4)), None, MeanQuadratic(0.1, 1.0, 4)) is None  # singular M
    assert loss.dual_gap(np.zeros((8, 4)), None, L21(0.0)) is None  # no penalty: no dual point


def test_solve_certifies_by_the_gap_and_goes_on_when_the_criterion_passes_early():
    # One feature on a large scale: FISTA's relative criterion is met far
    # from the optimum; solve() looks at the gap and goes on from there.
    X, Y = _regression(d=8)
    X = X.copy()
    X[:, 0] *= 1e3
    loss = SquaredLoss(check_task_data(X, Y))
    penalty = L21(0.05)
    alone = fista(loss, penalty, tol=1e-4)
    certified = solve(loss, penalty, solver="fista", tol=1e-4, max_iter=100_000)
    target = 1e-4 * loss.gap_scale()
    assert loss.dual_gap(alone.coef, alone.intercept, penalty) > target  # the old answer
    assert certified.converged and certified.dual_gap <= target
    assert certified.dual_gap == pytest.approx(loss.dual_gap(certified.coef, certified.intercept, penalty))
    best = fista(loss, penalty, tol=1e-12, max_iter=1_000_000)
    assert certified.objective - best.objective <= certified.dual_gap + 1e-12


def test_dual_gap_matches_sklearn_multitask_lasso_at_its_optimum():
    X, Y = _regression()
    est = MultiTaskLasso(alpha=0.05, tol=1e-12, max_iter=100_000).fit(X, Y)
    loss = SquaredLoss(check_task_data(X, Y))
    gap = loss.dual_gap(est.coef_.T, est.intercept_, L21(0.05))
    assert 0 <= gap <= 1e-9


def test_warm_start_gives_the_gradient_at_its_point_only():
    rng = np.random.RandomState(0)
    W, b = rng.randn(6, 3), rng.randn(3)
    raw, gW, gb = rng.randn(20, 3), rng.randn(6, 3), rng.randn(3)
    memory = WarmStart(W.copy(), b.copy(), raw, gW, gb, step=2.5)
    assert memory.gradient_at(W, b)[1] is gW
    W_moved = W.copy()
    W_moved[0, 0] += 1e-12
    assert memory.gradient_at(W_moved, b) is None and memory.gradient_at(W, b + 1e-12) is None
    assert memory.gradient_at(W[:2], b) is None
    assert WarmStart(W, b, step=3.0).gradient_at(W, b) is None  # a step, no gradient


def test_path_memory_is_explicit():
    # The solve leaves its last gradient and step constant in its result,
    # not on the loss: a second solve gets them only when handed them.
    X, Y = _wide_sparse_truth()
    loss = SquaredLoss(check_task_data(X, Y))
    penalty = L21(0.1 * L21(1.0).alpha_max(_gradient_at_null(loss)))
    first = solve(loss, penalty, tol=1e-6)
    memory = first.warm_start
    assert memory.step == first.lipschitz and memory.gradient_at(first.coef, first.intercept) is not None
    cold = solve(loss, penalty, first.coef, first.intercept, tol=1e-6)
    warm = solve(loss, penalty, first.coef, first.intercept, tol=1e-6, warm_start=memory)
    assert warm.n_products < cold.n_products
    assert_allclose(warm.coef, cold.coef)


# ---------------------------------------------------------------- ADMM through the kernel
def _admm_problem(sample_weight=False, n=30, d=90, T=4, seed=5):
    # n < d and n <= 32 T: the kernel route of the working-set solver.
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    X[:, 1:] += 0.5 * X[:, :-1]
    Y = X[:, :5] @ rng.randn(5, T) + 0.5 * rng.randn(n, T) + 2.0
    sw = rng.uniform(0.5, 2.0, n) if sample_weight else None
    return X, Y, sw


def _admm_case(penalty, fit_intercept, sample_weight):
    """A fresh loss on the ADMM problem and FISTA's solution at tol=1e-12."""
    X, Y, sw = _admm_problem(sample_weight)
    data = check_task_data(X, Y, sample_weight=sw)
    reference = fista(SquaredLoss(data, fit_intercept=fit_intercept), penalty, tol=1e-12, max_iter=100_000)
    return SquaredLoss(data, fit_intercept=fit_intercept), reference


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("sample_weight", [False, True])
@pytest.mark.parametrize("single", [False, True])
def test_kernel_system_solves_the_ridge_system(fit_intercept, sample_weight, single):
    X, Y, sw = _admm_problem(sample_weight)
    X = X + 50.0  # features far from 0: the kernel must not cancel
    loss = SquaredLoss(check_task_data(X, Y, sample_weight=sw), fit_intercept=fit_intercept)
    kernel = loss.accelerators.kernel_system(max_samples=100, single=single)
    assert kernel.single is single and kernel.K.dtype == (np.float32 if single else np.float64)
    assert loss.accelerators.kernel_system(max_samples=100, single=single) is kernel  # cached per precision
    # float32 rounding only touches the correction term of a solve.
    rtol = 1e-4 if single else 1e-9
    s = np.ones(len(X)) if sw is None else sw
    a = 1.0 / s.sum()
    x_mean = s @ X / s.sum() if fit_intercept else np.zeros(X.shape[1])
    y_mean = s @ Y / s.sum() if fit_intercept else np.zeros(Y.shape[1])
    Xt = np.sqrt(s)[:, None] * (X - x_mean)
    Yt = np.sqrt(s)[:, None] * (Y - y_mean)
    A = a * Xt.T @ Xt
    assert_allclose(kernel.K, Xt @ Xt.T, rtol=rtol / 10, atol=rtol * np.abs(Xt @ Xt.T).max() / 10)
    assert_allclose(kernel.linear, a * Xt.T @ Yt, atol=1e-12)  # float64 in both precisions
    V = np.random.RandomState(0).randn(*kernel.linear.shape)
    top = np.linalg.eigvalsh(A)[-1]
    # ADMM's rho are 0.0006 to 0.6 times the top eigenvalue (alpha_max / 1e6 to 1).
    for rho in (0.01 * top, 0.01 * top, 0.5 * top):  # a repeated rho reuses its factorization
        W = kernel.solve(V, rho)
        assert W.dtype == np.float64
        assert_allclose(W, np.linalg.solve(A + rho * np.eye(len(A)), V), rtol=rtol, atol=rtol / 10)
    assert 0.95 * top <= kernel.lipschitz <= top * (1 + 1e-6)
    # The profiled loss: its intercepts are the loss's optimum for any W.
    W = np.random.RandomState(1).randn(*kernel.linear.shape)
    b = kernel.intercept(W)
    if fit_intercept:
        _, _, gb = loss.value_and_gradient(W, b)
        assert_allclose(gb, 0, atol=1e-12)
    _, gW, _ = loss.value_and_gradient(W, b)
    assert_allclose(gW, A @ W - kernel.linear, atol=1e-10)


def test_kernel_system_needs_complete_dense_wide_data_with_few_samples():
    X, Y, _ = _admm_problem()
    loss = SquaredLoss(check_task_data(X, Y))
    assert loss.accelerators.kernel_available(100) and loss.accelerators._kernels == {}  # asking builds nothing
    assert loss.accelerators.kernel_system(100) is not None and loss.accelerators.kernel_system(100, single=True) is not None
    assert not loss.accelerators.kernel_available(29)
    assert SquaredLoss(check_task_data(X, Y)).accelerators.kernel_system(29) is None  # n = 30 > max_samples
    Y_missing = Y.copy()
    Y_missing[0, 0] = np.nan
    assert SquaredLoss(check_task_data(X, Y_missing)).accelerators.kernel_system(100) is None
    assert SquaredLoss(check_task_data(sp.csr_matrix(X), Y)).accelerators.kernel_system(100) is None
    assert SquaredLoss(check_task_data(X, Y), task_weights=[1, 2, 1, 1]).accelerators.kernel_system(100) is None
    assert not SquaredLoss(check_task_data(X, Y), task_weights=[1, 2, 1, 1]).accelerators.kernel_available(100)
    assert SquaredLoss(check_task_data(X.astype(np.float32), Y)).accelerators.kernel_system(100) is None
    X_tall, Y_tall, _ = _admm_problem(n=95)  # n >= d: the d x d Gram is the cheaper system
    assert SquaredLoss(check_task_data(X_tall, Y_tall), gram=False).accelerators.kernel_system(1000) is None


@pytest.mark.parametrize(
    "penalty",
    [L21(0.01), L21(0.01, l1_ratio=0.5), L21(0.01, positive=True), L1(0.005), L1Linf(0.01)],
    ids=repr,
)
@pytest.mark.parametrize("fit_intercept, sample_weight", [(True, False), (False, True)])
def test_working_sets_finish_with_admm_on_dense_wide_problems(penalty, fit_intercept, sample_weight):
    loss, reference = _admm_case(penalty, fit_intercept, sample_weight)
    result = working_set_fista(loss, penalty, tol=1e-9, max_iter=100_000)
    assert loss.accelerators._kernels[False]._factor is not None  # ADMM ran, in float64
    assert result.converged
    assert result.objective <= reference.objective + 1e-9 * abs(reference.objective)
    assert_allclose(result.coef, reference.coef, rtol=1e-4, atol=1e-6)
    assert_allclose(result.intercept, reference.intercept, rtol=1e-6, atol=1e-6)
    # ADMM returns its prox output Z: exact zeros where the solution has them.
    assert np.any(reference.coef == 0)
    assert_array_equal(result.coef == 0, reference.coef == 0)
    if penalty.positive:
        assert np.all(result.coef >= 0)
    # Its certificate, recomputed from scratch.
    _, gW, gb = loss.value_and_gradient(result.coef, result.intercept)
    measure = np.hypot(penalty.subdiff_distance(result.coef, gW), np.linalg.norm(gb))
    assert measure <= 1e-9 * np.linalg.norm(_gradient_at_null(loss))
    assert result.objective == pytest.approx(loss.value(result.coef, result.intercept) + penalty.value(result.coef))


def test_admm_recovers_from_a_poor_first_rho(monkeypatch):
    import skmtl.linear_model._solvers as solvers

    X, Y, _ = _admm_problem()
    data = check_task_data(X, Y)
    reference = fista(SquaredLoss(data), L21(0.01), tol=1e-12, max_iter=100_000)
    first = solvers._admm_rho
    for factor in (1e-3, 1e3):
        monkeypatch.setattr(solvers, "_admm_rho", lambda *a, f=factor: f * first(*a))
        result = working_set_fista(SquaredLoss(data), L21(0.01), tol=1e-8, max_iter=100_000)
        assert result.converged
        assert result.objective <= reference.objective + 1e-8 * abs(reference.objective)


def test_admm_budget_and_warm_starts():
    X, Y, _ = _admm_problem()
    data = check_task_data(X, Y)
    # Out of iterations inside ADMM: reported, with a consistent point.
    loss = SquaredLoss(data)
    short = working_set_fista(loss, L21(0.01), tol=1e-12, max_iter=60)
    assert not short.converged and short.n_iter == 60
    assert loss.accelerators._kernels[False] is not None and loss.accelerators._kernels.get(True) is None  # tol 1e-12: float64 only
    assert short.objective == pytest.approx(loss.value(short.coef, short.intercept) + L21(0.01).value(short.coef))
    # A warm start (a path's next alpha) continues with FISTA: the kernel is
    # never built for it.
    loss = SquaredLoss(data)
    warm = working_set_fista(loss, L21(0.01), short.coef, short.intercept, tol=1e-8, max_iter=100_000)
    assert warm.converged and loss.accelerators._kernels == {}


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.7])
def test_admm_matches_sklearn_multitask_lasso_on_a_dense_wide_problem(fit_intercept, l1_ratio):
    X, Y, _ = _admm_problem()
    Estimator = MultiTaskLasso if l1_ratio == 1 else MultiTaskElasticNet
    kwargs = {} if l1_ratio == 1 else {"l1_ratio": l1_ratio}
    ref = Estimator(alpha=0.02, fit_intercept=fit_intercept, tol=1e-14, max_iter=1_000_000, **kwargs).fit(X, Y)
    loss = SquaredLoss(check_task_data(X, Y), fit_intercept=fit_intercept)
    result = working_set_fista(loss, L21(0.02, l1_ratio=l1_ratio), tol=1e-11, max_iter=100_000)
    assert loss.accelerators._kernels[False]._factor is not None  # ADMM ran, in float64
    assert np.mean(np.any(result.coef != 0, axis=1)) > 0.5  # a dense solution
    assert_allclose(result.coef.T, ref.coef_, rtol=1e-6, atol=1e-8 * np.abs(ref.coef_).max())
    assert_allclose(result.intercept, ref.intercept_, rtol=1e-6, atol=1e-8)


def test_admm_first_rho_follows_the_relative_strength():
    import skmtl.linear_model._solvers as solvers
    from skmtl.linear_model._lasso import _TaskL1

    X, Y, _ = _admm_problem()
    loss = SquaredLoss(check_task_data(X, Y))
    kernel = loss.accelerators.kernel_system(100)
    g0 = _gradient_at_null(loss)
    top = L21(1.0).alpha_max(g0)
    assert L21(top / 100).null_ratio(g0) == pytest.approx(0.01)
    # Per-task alphas: the ratio is that of the alphas to the null threshold.
    alphas = np.array([1.0, 2.0, 3.0, 4.0])
    factor = _TaskL1(alphas).alpha_max(g0)
    assert _TaskL1(alphas * factor / 100).null_ratio(g0) == pytest.approx(0.01)
    rho = solvers._admm_rho(L21(top / 100), kernel, g0)
    assert rho == pytest.approx(kernel.lipschitz * 0.04)
    assert solvers._admm_rho(_TaskL1(alphas * factor / 100), kernel, g0) == pytest.approx(rho)
    # No sparsifying part, or W = 0 optimal: the ratio is capped at 1.
    assert solvers._admm_rho(L21(1.0, l1_ratio=0.0), kernel, g0) == pytest.approx(0.6 * kernel.lipschitz)
    assert solvers._admm_rho(L21(10 * top), kernel, g0) == pytest.approx(0.6 * kernel.lipschitz)


def test_admm_per_task_alphas_match_one_lasso_per_task(monkeypatch):
    import skmtl.linear_model._solvers as solvers
    from skmtl.linear_model import MultiTaskLassoRegressor

    calls = []
    admm = solvers._admm_loop
    monkeypatch.setattr(solvers, "_admm_loop", lambda *a: calls.append(1) or admm(*a))
    X, Y, _ = _admm_problem(d=120)  # solver="auto" takes working sets from 100 features on
    alphas = np.array([0.002, 0.005, 0.01, 0.02])
    model = MultiTaskLassoRegressor(alpha=alphas, tol=1e-11, max_iter=100_000).fit(X, Y)
    assert calls  # the dense wide problem went through ADMM
    for t, alpha in enumerate(alphas):
        ref = Lasso(alpha=alpha, tol=1e-14, max_iter=1_000_000).fit(X, Y[:, t])
        assert_allclose(model.coef_[t], ref.coef_, rtol=1e-6, atol=1e-8)
        assert model.intercept_[t] == pytest.approx(ref.intercept_, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("penalty", [TraceNorm(0.05), TraceNorm(0.05, l1_ratio=0.7), L21(0.01), L1Linf(0.01)], ids=repr)
@pytest.mark.parametrize("fit_intercept, sample_weight", [(True, False), (False, True)])
def test_admm_reaches_the_fista_solution(penalty, fit_intercept, sample_weight):
    loss, reference = _admm_case(penalty, fit_intercept, sample_weight)
    result = admm(loss, penalty, tol=1e-10, max_iter=100_000)
    assert result.converged and result.stop_crit <= 1e-10
    assert result.objective <= reference.objective + 1e-9 * abs(reference.objective)
    assert_allclose(result.coef, reference.coef, rtol=1e-5, atol=1e-7)
    assert_allclose(result.intercept, reference.intercept, rtol=1e-6, atol=1e-7)
    _, gW, gb = loss.value_and_gradient(result.coef, result.intercept)
    measure = np.hypot(penalty.subdiff_distance(result.coef, gW), np.linalg.norm(gb))
    assert measure <= 1e-9 * np.linalg.norm(_gradient_at_null(loss))
    # From a warm start (the solution): one iteration confirms it.
    again = admm(loss, penalty, result.coef, result.intercept, tol=1e-8, max_iter=100_000)
    assert again.converged and again.n_iter <= 2


def test_admm_null_solution_budget_and_unsupported_losses():
    X, Y, _ = _admm_problem()
    loss = SquaredLoss(check_task_data(X, Y))
    top = TraceNorm(1.0).alpha_max(_gradient_at_null(loss))
    null = admm(loss, TraceNorm(1.01 * top))
    assert null.n_iter == 0 and not null.coef.any() and null.converged
    short = admm(loss, TraceNorm(0.01 * top), tol=1e-12, max_iter=3)
    assert not short.converged and short.n_iter == 3
    assert short.objective == pytest.approx(loss.value(short.coef, short.intercept) + TraceNorm(0.01 * top).value(short.coef))
    message = "admm needs the squared loss on a dense float64 X in the wide layout"
    with pytest.raises(ValueError, match=message):
        admm(LogisticLoss(check_task_data(X, np.sign(Y - Y.mean(axis=0)))), TraceNorm(0.1))
    Y_missing = Y.copy()
    Y_missing[0, 0] = np.nan
    with pytest.raises(ValueError, match=message):
        admm(SquaredLoss(check_task_data(X, Y_missing)), TraceNorm(0.1))
    with pytest.raises(ValueError, match=message):
        admm(SquaredLoss(check_task_data(X[:, :20], Y)), TraceNorm(0.1))  # n >= d


def test_trace_norm_regressor_on_wide_data_uses_admm(monkeypatch):
    import skmtl.linear_model._solvers as solvers
    from skmtl.linear_model import TraceNormRegressor

    calls = []
    loop = solvers._admm_loop
    monkeypatch.setattr(solvers, "_admm_loop", lambda *a: calls.append(1) or loop(*a))
    X, Y, _ = _admm_problem()
    auto = TraceNormRegressor(alpha=0.05, tol=1e-10, max_iter=100_000).fit(X, Y)
    assert calls
    plain = TraceNormRegressor(alpha=0.05, tol=1e-12, max_iter=100_000, solver="fista").fit(X, Y)
    assert auto.objective_ <= plain.objective_ + 1e-9 * abs(plain.objective_)
    assert_allclose(auto.coef_, plain.coef_, rtol=1e-5, atol=1e-7)


def test_admm_checks_exactly_when_its_free_bound_is_loose():
    # With a Lipschitz estimate 1e6 times too large in its bound, the free
    # bound never meets the target; the periodic exact check still stops
    # ADMM soon after the measure does.
    from skmtl.linear_model._solvers import _ADMM_CHECK_EVERY, _admm_loop, _admm_rho

    X, Y, _ = _admm_problem()
    loss = SquaredLoss(check_task_data(X, Y))
    kernel = loss.accelerators.kernel_system(100)
    _, _, g0, gb0 = loss.null_model()
    stop = 1e-6 * np.hypot(np.linalg.norm(g0), np.linalg.norm(gb0))
    rho = _admm_rho(L21(0.01), kernel, g0)
    zero = np.zeros_like(g0)
    normal = _admm_loop(loss, L21(0.01), kernel, zero, g0, stop, 100_000, rho)
    kernel.lipschitz *= 1e6
    loose = _admm_loop(loss, L21(0.01), kernel, zero, g0, stop, 100_000, rho)
    assert normal.converged and loose.converged
    assert loose.n_iter <= normal.n_iter + _ADMM_CHECK_EVERY
    assert loose.crit <= stop


def test_admm_in_float32_for_loose_targets_and_float64_for_tight_ones():
    # alpha_max / 100: float32 rounding levels off near 3e-6 relative; a
    # target of 5e-4 (tol 1e-3 in the working sets) runs in float32, 5e-6
    # (tol 1e-5) in float64 from the start.
    from skmtl.linear_model._solvers import _admm_kernel

    X, Y, _ = _admm_problem(n=60, d=200, T=5)
    data = check_task_data(X, Y)
    g0 = _gradient_at_null(SquaredLoss(data))
    penalty = L21(L21(1.0).alpha_max(g0) / 100)
    assert _admm_kernel(SquaredLoss(data), penalty, g0, 5e-4).single
    assert not _admm_kernel(SquaredLoss(data), penalty, g0, 5e-6).single
    reference = fista(SquaredLoss(data), penalty, tol=1e-12, max_iter=100_000)
    for tol, single in ((1e-3, True), (1e-5, False)):
        loss = SquaredLoss(data)
        result = working_set_fista(loss, penalty, tol=tol, max_iter=100_000)
        assert result.converged and loss.accelerators._kernels[single]._factor is not None
        assert (not single) not in loss.accelerators._kernels  # one precision only: no fallback here
        # The certificate holds in float64, recomputed from scratch.
        _, gW, gb = loss.value_and_gradient(result.coef, result.intercept)
        assert np.hypot(penalty.subdiff_distance(result.coef, gW), np.linalg.norm(gb)) <= tol * np.linalg.norm(g0)
        assert result.objective <= reference.objective * (1 + 1e-5)


def test_admm_leaves_float32_when_its_rounding_stalls():
    # A float32 kernel given a target below its rounding floor: ADMM notices
    # that an exact check did not halve the measure and goes on in float64.
    from skmtl.linear_model._solvers import _admm_loop, _admm_rho

    X, Y, _ = _admm_problem(n=60, d=200, T=5)
    X = X + 5.0
    loss = SquaredLoss(check_task_data(X, Y))
    _, _, g0, gb0 = loss.null_model()
    penalty = L21(L21(1.0).alpha_max(g0) / 300)
    stop = 1e-11 * np.hypot(np.linalg.norm(g0), np.linalg.norm(gb0))
    single = loss.accelerators.kernel_system(100, single=True)
    out = _admm_loop(loss, penalty, single, np.zeros_like(g0), g0, stop, 100_000, _admm_rho(penalty, single, g0))
    assert out.converged and out.crit <= stop  # certified in float64
    assert loss.accelerators._kernels[False]._factor is not None  # by the float64 kernel


# ---------------------------------------------------------------- float32 twin for warm starts
def test_single_precision_twin_is_the_same_model_on_centered_features():
    X, Y, sw = _admm_problem(sample_weight=True)
    X = X + 50.0  # far from 0: the twin centers before rounding
    loss = SquaredLoss(check_task_data(X, Y, sample_weight=sw))
    twin = loss.accelerators.single_precision()
    assert twin.dtype == np.float32 and loss.accelerators.single_precision() is twin  # cached
    W = np.random.RandomState(0).randn(X.shape[1], Y.shape[1])
    b = np.arange(Y.shape[1], dtype=float)
    raw = loss.raw_prediction(W, b)
    _, g, gb = loss.value_and_gradient(W, b)
    W32, b32, (raw32, g_start, gb_start) = twin.to_single(W, b, raw, g, gb)
    assert W32.dtype == b32.dtype == raw32.dtype == g_start.dtype == np.float32
    assert_allclose(twin.raw_prediction(W32, b32), raw, rtol=1e-4, atol=1e-3)
    # The twin's own gradient at its parameters is the converted one.
    g32, gb32 = twin.gradient_from_raw(twin.raw_prediction(W32, b32))
    assert_allclose(g32, g_start, rtol=1e-3, atol=1e-4 * np.abs(g).max())
    assert_allclose(gb32, gb_start, rtol=1e-3, atol=1e-4 * np.abs(gb).max())
    W_back, b_back = twin.from_single(W32, b32)
    assert W_back.dtype == b_back.dtype == np.float64
    assert_allclose(W_back, W, rtol=1e-6)
    assert_allclose(b_back, b, atol=1e-4 * np.abs(W).sum())
    # Not offered without the shared design's accelerators: missing labels, sparse or float32 X.
    Y_missing = Y.copy()
    Y_missing[0, 0] = np.nan
    assert SquaredLoss(check_task_data(X, Y_missing)).accelerators.single_precision() is None
    assert SquaredLoss(check_task_data(sp.csr_matrix(X), Y)).accelerators.single_precision() is None
    assert SquaredLoss(check_task_data(X.astype(np.float32), Y)).accelerators.single_precision() is None


def _twin_problem(kind):
    if kind == "wide":  # n < d (cold starts would run ADMM)
        X, Y, _ = _admm_problem(n=60, d=150, T=5)
        return X + 5.0, Y
    # d <= n < 2 (d + 1): not in Gram form.
    rng = np.random.RandomState(5)
    X = rng.randn(700, 400) + 1.0
    return X, X[:, :5] @ rng.randn(5, 3) + 0.5 * rng.randn(700, 3) + 2.0


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("kind", ["wide", "tall"])
def test_warm_starts_iterate_in_float32_and_certify_in_float64(fit_intercept, kind, monkeypatch):
    import skmtl.linear_model._solvers as solvers

    X, Y = _twin_problem(kind)
    d = X.shape[1]
    data = check_task_data(X, Y)
    g0 = _gradient_at_null(SquaredLoss(data, fit_intercept=fit_intercept))
    top = L21(1.0).alpha_max(g0)
    # Past half of the features in the support: a whole-problem warm start.
    previous = working_set_fista(SquaredLoss(data, fit_intercept=fit_intercept), L21(top / 300), tol=1e-8, max_iter=100_000)
    assert 2 * np.count_nonzero(np.any(previous.coef != 0, axis=1)) >= d
    penalty = L21(top / 400)
    solver = admm if kind == "wide" else working_set_fista
    reference = solver(SquaredLoss(data, fit_intercept=fit_intercept), penalty, tol=1e-11, max_iter=100_000)
    assert reference.converged
    for tol, twin_used in ((1e-3, True), (1e-6, False)):
        loss = SquaredLoss(data, fit_intercept=fit_intercept)
        loss.null_model()  # (the reference of the stopping rule: 2 products)
        result = working_set_fista(loss, penalty, previous.coef, previous.intercept, tol=tol, max_iter=100_000)
        assert result.converged and (loss.accelerators._twin is not None) is twin_used
        assert result.stop_crit <= tol  # the float64 gradient mapping at the returned point
        assert result.coef.dtype == np.float64
        if twin_used:
            # The start's products were the twin's: float64 only checked.
            assert result.n_products == 2
    # A target below float32's floor: the float64 check fails and float64
    # iterations finish from the float32 point.
    monkeypatch.setattr(solvers, "_SINGLE_MIN_TOL", 0.0)
    loss = SquaredLoss(data, fit_intercept=fit_intercept)
    tight = working_set_fista(loss, penalty, previous.coef, previous.intercept, tol=1e-10, max_iter=100_000)
    assert tight.converged and loss.accelerators._twin is not None
    assert tight.objective <= reference.objective + 1e-10 * abs(reference.objective)
    assert_allclose(tight.coef, reference.coef, rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- Gram columns for sparse gradients
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_from_support_matches_the_backward_product(fit_intercept, weighted):
    rng = np.random.RandomState(4)
    n, d, T = 80, 120, 6
    X = rng.randn(n, d) + 50.0  # far from 0: the columns are centered
    Y = rng.randn(n, T)
    sw = rng.uniform(0.5, 2.0, n) if weighted else None
    task_weights = rng.uniform(0.5, 2.0, T) if weighted else None
    loss = SquaredLoss(check_task_data(X, Y, sample_weight=sw), task_weights=task_weights, fit_intercept=fit_intercept)
    b = rng.randn(T)
    # Each column is computed once: the second support adds two, the third none.
    for rows, n_products in (([3, 17, 40], 1), ([3, 17, 40, 41, 99], 1), ([], 0)):
        W = np.zeros((d, T))
        W[rows] = rng.randn(len(rows), T)
        raw = loss.raw_prediction(W, b)
        _, g, gb = loss.value_and_gradient_from_raw(raw)
        g_cols, gb_cols, products = loss.accelerators.support_gradient(W, raw, loss.null_model()[2])
        assert products == n_products
        assert_allclose(g_cols, g, rtol=0, atol=1e-12 * np.abs(g).max())
        assert_allclose(gb_cols, gb, rtol=0, atol=1e-12 * max(np.abs(gb).max(), 1.0))
    assert loss.accelerators._columns.used == 5


def test_gradient_from_support_declines_when_a_product_is_cheaper():
    rng = np.random.RandomState(5)
    n, d, T = 40, 100, 6
    loss = SquaredLoss(check_task_data(rng.randn(n, d), rng.randn(n, T)))

    def gradient(rows):
        W = np.zeros((d, T))
        W[rows] = 1.0
        return loss.accelerators.support_gradient(W, loss.raw_prediction(W, np.zeros(T)), loss.null_model()[2])

    assert gradient(np.arange(4)) is None  # 4 new columns for 6 tasks: above half a backward product
    for start in range(0, 9, 3):
        assert gradient(np.arange(start, start + 3))[2] == 1
    assert gradient(np.arange(9))[2] == 0 and gradient(np.arange(10))[2] == 1
    # Past n / 4 rows a backward product is cheaper, even with every column cached.
    assert loss.accelerators._columns.used == 10 and not loss.accelerators._columns.covers(np.arange(11), T)
    # Past n / 2 cached columns the cache starts afresh.
    for start in range(12, 21, 3):
        assert gradient(np.arange(start, start + 3)) is not None
    assert gradient(np.arange(21, 24)) is None and loss.accelerators._columns.used == 0
    assert gradient(np.arange(21, 24))[2] == 1
    # Not offered without the shared design's accelerators, nor on restricted losses.
    X, Y = rng.randn(n, d), rng.randn(n, T)
    Y[0, 0] = np.nan
    for other in (
        SquaredLoss(check_task_data(X, Y)),
        SquaredLoss(check_task_data(sp.csr_matrix(X), np.nan_to_num(Y))),
        SquaredLoss(check_task_data(X.astype(np.float32), np.nan_to_num(Y))),
        loss.restrict(np.arange(10)),
    ):
        V = np.zeros((other.n_features, T))
        assert other.accelerators.support_gradient(V, other.raw_prediction(V, np.zeros(T)), other.null_model()[2]) is None


def test_working_sets_check_sparse_solutions_through_gram_columns():
    X, Y, _ = _admm_problem(n=200, d=400, T=8)
    data = check_task_data(X + 5.0, Y)
    top = L21(1.0).alpha_max(_gradient_at_null(SquaredLoss(data)))
    loss = SquaredLoss(data)
    first = working_set_fista(loss, L21(top / 2), tol=1e-10, max_iter=100_000)
    assert 0 < loss.accelerators._columns.used <= 8
    penalty = L21(top / 2.2)
    warm = working_set_fista(loss, penalty, first.coef, first.intercept, tol=1e-10, max_iter=100_000)
    cold = fista(SquaredLoss(data), penalty, tol=1e-12, max_iter=100_000)
    assert warm.converged and cold.converged
    assert warm.objective <= cold.objective + 1e-10 * abs(cold.objective)
    assert_allclose(warm.coef, cold.coef, rtol=1e-6, atol=1e-8)
    # Its criterion, recomputed from a backward product, meets the tolerance.
    fresh = SquaredLoss(data)
    _, g, gb = fresh.value_and_gradient(warm.coef, warm.intercept)
    _, g0, gb0 = fresh.value_and_gradient(np.zeros_like(warm.coef), fresh.null_intercept())
    L = warm.lipschitz
    crit = _gradient_mapping(penalty, warm.coef, g, gb, L) / _gradient_mapping(penalty, 0 * warm.coef, g0, gb0, L)
    assert crit <= 1e-10


# ---------------------------------------------------------------- centered losses
@pytest.mark.parametrize("sample_weight", [False, True])
def test_centered_loss_reaches_the_same_model_on_every_route(sample_weight):
    # Kernel (cold, n < d), float32 twin (dense warm start) and Gram columns
    # (sparse checks) skip their own centering on a loss that centered X.
    X, Y, sw = _admm_problem(sample_weight, n=60, d=150, T=5)
    data = check_task_data(X + 50.0, Y, sample_weight=sw)
    top = L21(1.0).alpha_max(_gradient_at_null(SquaredLoss(data)))
    for factor, W0 in ((1.2, None), (300.0, None), (400.0, "warm")):
        penalty = L21(top / factor)
        reference = admm(SquaredLoss(data), penalty, tol=1e-11, max_iter=100_000)
        loss = SquaredLoss(data, center=True)
        start = (None, None)
        if W0 == "warm":
            previous = admm(SquaredLoss(data), L21(top / 300), tol=1e-8, max_iter=100_000)
            start = (previous.coef, loss.to_centered_intercept(previous.coef, previous.intercept))
        result = working_set_fista(loss, penalty, *start, tol=1e-8, max_iter=100_000)
        assert result.converged
        assert_allclose(result.objective, reference.objective, rtol=1e-7)
        assert_allclose(result.coef, reference.coef, rtol=1e-4, atol=1e-6 * np.abs(reference.coef).max())
        b = loss.from_centered_intercept(result.coef, result.intercept)
        assert_allclose(b, reference.intercept, rtol=1e-4, atol=1e-4)
        if factor == 1.2:
            assert loss.accelerators._columns.used > 0
        elif W0 is None:
            assert loss.accelerators._kernels
        else:
            loss = SquaredLoss(data, center=True)
            loose = working_set_fista(loss, penalty, *start, tol=1e-3, max_iter=100_000)
            assert loose.converged and loss.accelerators._twin is not None
            assert loose.objective <= reference.objective * (1 + 1e-3)
