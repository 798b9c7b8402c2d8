"""Task kernels: PSD, their penalties on task weight vectors, validation."""

import numpy as np
import pytest

from skmtl.kernel_ridge import (
    check_task_kernel,
    clustered_task_kernel,
    graph_task_kernel,
    independent_task_kernel,
    mean_regularized_task_kernel,
    mtrl_task_covariance,
    pooled_task_kernel,
)
from skmtl.kernel_ridge._task_kernels import DenseTaskKernel, GroupTaskKernel


def _penalty(K, W):
    """RKHS norm of f(x, t) = <w_t, x> under task kernel K: sum K^+_st <w_s, w_t>."""
    return np.trace(W @ np.linalg.pinv(K) @ W.T)


def _is_psd(K):
    return np.allclose(K, K.T) and np.linalg.eigvalsh(K)[0] > -1e-10


@pytest.mark.parametrize(
    "K",
    [
        independent_task_kernel(4),
        pooled_task_kernel(4),
        mean_regularized_task_kernel(4, 0.3),
        clustered_task_kernel([0, 1, 0, 1], 0.4),
        graph_task_kernel(np.array([[0, 1, 0, 0], [1, 0, 2, 0], [0, 2, 0, 1], [0, 0, 1, 0.0]]), 0.2),
    ],
)
def test_builders_are_psd(K):
    assert K.shape == (4, 4) and _is_psd(K)


def test_mean_regularized_extremes_and_penalty():
    T, lam = 5, 0.3
    np.testing.assert_allclose(mean_regularized_task_kernel(T, 0.0), pooled_task_kernel(T))
    np.testing.assert_allclose(mean_regularized_task_kernel(T, 1.0), independent_task_kernel(T))
    W = np.random.RandomState(0).randn(3, T)  # one column per task
    wbar = W.mean(axis=1, keepdims=True)
    expected = np.sum((W - wbar) ** 2) / lam + T / (lam + (1 - lam) * T) * np.sum(wbar**2)
    assert _penalty(mean_regularized_task_kernel(T, lam), W) == pytest.approx(expected, rel=1e-10)


def test_graph_kernel_penalty():
    A = np.array([[0, 1.0, 0.5], [1.0, 0, 0], [0.5, 0, 0]])
    lam = 0.25
    W = np.random.RandomState(1).randn(4, 3)
    diffs = sum(A[s, t] * np.sum((W[:, s] - W[:, t]) ** 2) for s in range(3) for t in range(s + 1, 3))
    expected = (1 - lam) * diffs + lam * np.sum(W**2)
    assert _penalty(graph_task_kernel(A, lam), W) == pytest.approx(expected, rel=1e-10)
    # The Laplacian of the same graph gives the same kernel.
    L = np.diag(A.sum(axis=1)) - A
    np.testing.assert_allclose(graph_task_kernel(L, lam), graph_task_kernel(A, lam))
    np.testing.assert_allclose(graph_task_kernel(A, 1.0), np.eye(3), atol=1e-14)


def test_clustered_reduces_to_mean_regularized_and_independent():
    np.testing.assert_allclose(clustered_task_kernel([7, 7, 7], 0.4), mean_regularized_task_kernel(3, 0.4))
    np.testing.assert_allclose(clustered_task_kernel(["a", "b", "c"], 0.4), np.eye(3))


@pytest.mark.parametrize(
    "K, match",
    [
        (np.array([[1.0, 2.0], [2.0, 1.0]]), "positive semi-definite; its smallest eigenvalue"),
        (np.array([[1.0, 0.5], [0.0, 1.0]]), "must be symmetric"),
        (np.eye(3), r"has shape \(3, 3\) but the data have 2 task"),
        (np.ones((2, 3)), "must be a square 2-D array"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), "NaN or infinite"),
        (np.zeros((2, 2)), "is zero"),
        ([["a", "b"], ["c", "d"]], "numeric"),
    ],
)
def test_check_task_kernel_errors(K, match):
    with pytest.raises(ValueError, match=match):
        check_task_kernel(K, 2)


def test_check_task_kernel_accepts_rounding_and_symmetrizes():
    K = mean_regularized_task_kernel(3, 0.0)  # rank one: eigenvalues ~0
    K[0, 1] += 1e-12
    out = check_task_kernel(K, 3)
    np.testing.assert_array_equal(out, out.T)


@pytest.mark.parametrize(
    "builder, args, match",
    [
        (graph_task_kernel, (np.array([[0, 1.0], [0.0, 0]]), 0.5), "symmetric"),
        (graph_task_kernel, (np.array([[0, 1.0, -1], [1, 0, 1], [-1, 1, 0]]), 0.5), "both signs"),
        (graph_task_kernel, (np.ones((2, 2)), 0.0), r"in \(0, 1\]"),
        (mean_regularized_task_kernel, (3, 1.5), r"in \[0, 1\]"),
        (clustered_task_kernel, (np.zeros((2, 2)), 0.5), "must be 1-D"),
    ],
)
def test_builder_errors(builder, args, match):
    with pytest.raises(ValueError, match=match):
        builder(*args)


def test_mtrl_update_minimizes_trace_penalty():
    rng = np.random.RandomState(0)
    W = rng.randn(6, 4)
    Omega = mtrl_task_covariance(W.T @ W)
    assert np.trace(Omega) == pytest.approx(1.0) and _is_psd(Omega)
    best = _penalty(Omega, W)
    # Closed form value: tr((W'W)^{1/2})^2; any other unit-trace PSD is worse.
    root = np.linalg.eigvalsh(W.T @ W)
    assert best == pytest.approx(np.sum(np.sqrt(root)) ** 2, rel=1e-8)
    for _ in range(5):
        B = rng.randn(4, 4)
        other = B @ B.T
        assert _penalty(other / np.trace(other), W) >= best - 1e-9
    np.testing.assert_allclose(mtrl_task_covariance(np.zeros((3, 3))), np.eye(3) / 3)


@pytest.mark.parametrize("shared, own", [(0.0, 1.0), (1.0, 0.0), (0.6, 0.4)])
def test_group_task_kernel_products_equal_the_dense_matrix(shared, own):
    # Group-structured kernels never form the T x T matrix; every product
    # the solvers use must equal the one of their dense form.
    rng = np.random.RandomState(0)
    groups = np.array([0, 2, 0, 1, 2, 2])
    group_kernel = GroupTaskKernel(groups, shared, own)
    dense = DenseTaskKernel(group_kernel.toarray())
    np.testing.assert_allclose(dense.K, shared * (groups[:, None] == groups) + own * np.eye(6))
    W, F = rng.randn(6, 3), rng.randn(5, 6)
    rows, codes = np.array([0, 4, 4, 2]), np.array([5, 0, 3, 3])
    for method, args in [("matmat", (W,)), ("pair_values", (F, rows, codes)), ("take", (codes,))]:
        np.testing.assert_allclose(getattr(group_kernel, method)(*args), getattr(dense, method)(*args), atol=1e-14)
    np.testing.assert_allclose(group_kernel.diagonal(), dense.diagonal())
    # classifier columns: tasks 0, 0, 1, 2, 3 with keys binary / class a / class b
    col_task, col_key = np.array([0, 0, 1, 2, 3]), np.array([1, 2, 0, 1, 0])
    np.testing.assert_allclose(
        group_kernel.restrict(col_task, col_key).toarray(), dense.restrict(col_task, col_key).toarray()
    )
