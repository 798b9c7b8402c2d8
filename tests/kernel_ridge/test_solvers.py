"""Solvers of the multi-task kernel ridge system against a dense nT x nT solve."""

import numpy as np
import pytest
from sklearn.metrics.pairwise import rbf_kernel

from skmtl.kernel_ridge._solvers import (
    DenseGram,
    LowRankGram,
    eigen_loo_errors,
    loo_route,
    pair_loo_errors,
    product_gram,
    solve_cg,
    solve_dense,
    solve_eigen,
)
from skmtl.kernel_ridge._task_kernels import DenseTaskKernel, GroupTaskKernel, mean_regularized_task_kernel


def _problem(n=25, T=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    Kx = rbf_kernel(X, gamma=0.3)
    B = rng.randn(T, T)
    Kt = B @ B.T / T + 0.1 * np.eye(T)
    Y = rng.randn(n, T)
    return rng, Kx, Kt, Y


def _dense_full(Kx, Kt, Y, alpha, v=None):
    """Reference: the nT x nT system (G + alpha V^-1) a = y, row-major vec."""
    G = np.kron(Kx, Kt)
    v = np.ones(G.shape[0]) if v is None else v
    return np.linalg.solve(G + alpha * np.diag(1.0 / v), Y.ravel()).reshape(Y.shape)


def _rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("alpha", [1e-3, 0.1, 10.0])
def test_eigen_equals_dense_full_system(alpha):
    _, Kx, Kt, Y = _problem()
    (A,) = solve_eigen(DenseGram(Kx), Kt, Y, [alpha])
    assert _rel(A, _dense_full(Kx, Kt, Y, alpha)) < 1e-8


def test_eigen_weighted_equals_dense_full_system():
    rng, Kx, Kt, Y = _problem()
    s, w = rng.uniform(0.2, 3, Y.shape[0]), rng.uniform(0.2, 3, Y.shape[1])
    gram = DenseGram(Kx).scaled(np.sqrt(s))
    (A,) = solve_eigen(gram, Kt, Y, [0.3], row_sqrt_weight=np.sqrt(s), task_sqrt_weight=np.sqrt(w))
    assert _rel(A, _dense_full(Kx, Kt, Y, 0.3, np.outer(s, w).ravel())) < 1e-8


def test_eigen_low_rank_equals_dense_full_system():
    # Kx = Z Z' of rank 5 < n: the complement of U has eigenvalue 0.
    rng, _, Kt, Y = _problem()
    Z = rng.randn(Y.shape[0], 5)
    (A,) = solve_eigen(LowRankGram(Z), Kt, Y, [0.2])
    assert _rel(A, _dense_full(Z @ Z.T, Kt, Y, 0.2)) < 1e-8


def test_eigen_several_alphas_reuse_decomposition():
    _, Kx, Kt, Y = _problem()
    gram = DenseGram(Kx)
    A1, A2 = solve_eigen(gram, Kt, Y, [0.1, 1.0])
    assert gram._eigh is not None
    assert _rel(A2, _dense_full(Kx, Kt, Y, 1.0)) < 1e-8
    assert _rel(A1, _dense_full(Kx, Kt, Y, 0.1)) < 1e-8


def _masked_reference(Kx, Kt, rows, codes, y, alpha, v=None):
    G = Kx[np.ix_(rows, rows)] * Kt[np.ix_(codes, codes)]
    v = np.ones(len(y)) if v is None else v
    return np.linalg.solve(G + alpha * np.diag(1.0 / v), y)


@pytest.mark.parametrize("weighted", [False, True])
def test_cg_missing_labels_equals_dense_masked_solve(weighted):
    rng, Kx, Kt, Y = _problem()
    mask = rng.rand(*Y.shape) > 0.3
    rows, codes = np.nonzero(mask)
    y = Y[rows, codes]
    v = rng.uniform(0.5, 2, len(y)) if weighted else None
    sw = None if v is None else np.sqrt(v)
    ref = _masked_reference(Kx, Kt, rows, codes, y, 0.1, v)
    res = solve_cg(DenseGram(Kx), Kt, rows, codes, y, 0.1, n_tasks=4, sqrt_weight=sw, tol=1e-13)
    assert res.converged and res.n_iter >= 1
    assert _rel(res.dual, ref) < 1e-8
    dense = solve_dense(DenseGram(Kx), Kt, rows, codes, y, 0.1, sqrt_weight=sw)
    assert _rel(dense.dual, ref) < 1e-10


@pytest.mark.parametrize("gram_kind", ["dense", "low_rank"])
def test_cg_long_layout_equals_dense(gram_kind):
    # Long layout: one pair per row (sparse scatter branch: 20 N < N T).
    rng = np.random.RandomState(3)
    N, T = 120, 30
    X = rng.randn(N, 2)
    codes = rng.randint(T, size=N)
    Kt = mean_regularized_task_kernel(T, 0.3)
    y = rng.randn(N)
    if gram_kind == "dense":
        gram = DenseGram(rbf_kernel(X))
    else:
        gram = LowRankGram(rng.randn(N, 10))
    rows = np.arange(N)
    Kx = gram.submatrix(rows)
    ref = _masked_reference(Kx, Kt, rows, codes, y, 0.05)
    res = solve_cg(gram, Kt, rows, codes, y, 0.05, n_tasks=T, tol=1e-13)
    assert _rel(res.dual, ref) < 1e-8
    np.testing.assert_allclose(product_gram(gram, Kt, rows, codes), Kx * Kt[np.ix_(codes, codes)])


def test_cg_reports_non_convergence_and_warm_start():
    rng, Kx, Kt, Y = _problem()
    rows, codes = np.nonzero(np.ones(Y.shape, bool))
    y = Y[rows, codes]
    res = solve_cg(DenseGram(Kx), Kt, rows, codes, y, 1e-4, n_tasks=4, tol=1e-14, max_iter=2)
    assert not res.converged and res.n_iter == 2
    exact = solve_dense(DenseGram(Kx), Kt, rows, codes, y, 1e-4).dual
    warm = solve_cg(DenseGram(Kx), Kt, rows, codes, y, 1e-4, n_tasks=4, tol=1e-6, x0=exact)
    assert warm.n_iter <= 1


def test_eigen_loo_equals_refits():
    # Exact leave-one-label-out: refit without label (i, t) (masked dense
    # solve) and predict it.
    _, Kx, Kt, Y = _problem(n=12, T=3)
    alpha = 0.2
    _, (res,) = eigen_loo_errors(DenseGram(Kx), Kt, Y, [alpha])
    all_rows, all_codes = np.nonzero(np.ones(Y.shape, bool))
    for k in [0, 7, 20, 35]:
        keep = np.arange(len(all_rows)) != k
        rows, codes = all_rows[keep], all_codes[keep]
        a = _masked_reference(Kx, Kt, rows, codes, Y[rows, codes], alpha)
        i, t = all_rows[k], all_codes[k]
        pred = np.sum(Kx[i, rows] * Kt[t, codes] * a)
        assert res[i, t] == pytest.approx(Y[i, t] - pred, rel=1e-8)


@pytest.mark.parametrize(
    "groups, shared, own",
    [
        ([0, 0, 0, 0, 0], 0.7, 0.3),  # mean-regularized
        ([0, 1, 0, 1, 2], 0.5, 0.5),  # clustered, one singleton cluster
        ([0, 0, 0, 0, 0], 1.0, 0.0),  # pooled: no per-task blocks
        ([0, 0, 0, 0, 0], 0.0, 1.0),  # independent: no Woodbury term
    ],
)
def test_pair_loo_by_blocks_equals_dense_route_and_refits(groups, shared, own):
    # Nystroem-like features, a group task kernel, weights, unequal task
    # sizes and rows shared between tasks (a wide grid with missing labels).
    rng = np.random.RandomState(0)
    Z = rng.randn(30, 6)
    rows = np.r_[np.arange(30), rng.randint(0, 30, 12)]
    codes = np.r_[rng.randint(0, 5, 30), rng.randint(0, 4, 12)]
    y, w = rng.randn(len(rows)), rng.uniform(0.2, 2.0, len(rows))
    alphas = [1e-3, 0.3, 10.0]
    group = GroupTaskKernel(np.array(groups), shared, own)
    assert loo_route(LowRankGram(Z), group, codes, len(alphas)) == "blocks"
    assert loo_route(LowRankGram(Z), DenseTaskKernel(group.toarray()), codes, len(alphas)) == "dense"
    blocks = pair_loo_errors(LowRankGram(Z), group, rows, codes, y, alphas, sqrt_weight=np.sqrt(w))
    dense = pair_loo_errors(
        LowRankGram(Z), DenseTaskKernel(group.toarray()), rows, codes, y, alphas, sqrt_weight=np.sqrt(w)
    )
    for got, expected in zip(blocks, dense):
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10 * np.abs(b).max())
    # The duals solve the weighted system; a residual is the refit's error.
    Kx, Kt = Z @ Z.T, group.toarray()
    duals, residuals = blocks
    np.testing.assert_allclose(duals[1], _masked_reference(Kx, Kt, rows, codes, y, alphas[1], v=w), rtol=1e-8)
    keep = np.arange(len(rows)) != 3
    a = _masked_reference(Kx, Kt, rows[keep], codes[keep], y[keep], alphas[1], v=w[keep])
    pred = np.sum(Kx[rows[3], rows[keep]] * Kt[codes[3], codes[keep]] * a)
    assert residuals[1][3] == pytest.approx(y[3] - pred, rel=1e-8)


def test_eigen_preconditioner_cuts_iterations():
    from skmtl.kernel_ridge._solvers import eigen_preconditioner

    rng, Kx, Kt, Y = _problem(n=60, T=5)
    mask = rng.rand(*Y.shape) > 0.1
    rows, codes = np.nonzero(mask)
    y = Y[rows, codes]
    ref = _masked_reference(Kx, Kt, rows, codes, y, 1e-3)
    jacobi = solve_cg(DenseGram(Kx), Kt, rows, codes, y, 1e-3, n_tasks=5, tol=1e-12)
    pre = eigen_preconditioner(DenseGram(Kx), Kt, rows, codes, 1e-3)
    eig = solve_cg(DenseGram(Kx), Kt, rows, codes, y, 1e-3, n_tasks=5, tol=1e-12, preconditioner=pre)
    assert _rel(eig.dual, ref) < 1e-8 and _rel(jacobi.dual, ref) < 1e-8
    assert eig.n_iter < jacobi.n_iter / 3
