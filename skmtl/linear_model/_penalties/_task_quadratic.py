"""Task quadratics: ``alpha / 2 * tr(W M W')`` for a symmetric PSD task matrix ``M``.

They couple the tasks of every feature (mean- and graph-regularized MTL;
the clustered models' penalties for a fixed task structure are in
:mod:`._clustering`). Their prox is linear::

    prox_{s * alpha/2 tr(. M .')}(V) = V (I + s * alpha * M)^{-1}

computed from an eigendecomposition of ``M`` done once per fit, a sparse
LU factorization for a sparse ``M``, or in closed form (the mean penalty,
a :class:`_TaskSpectrum`). ``W = 0`` is never optimal for a quadratic
penalty unless the loss gradient vanishes there, so ``alpha_max`` is
``inf``.
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from ._base import BasePenalty, _count, _flag, _float_array, _nonnegative, _ratio


def _csc(value, name):
    return sp.csc_matrix(value, dtype=np.float64)


def _per_row(step):
    """``step`` as a column when it holds one step per row (broadcasts against ``W``)."""
    return np.asarray(step, dtype=np.float64)[:, None] if np.ndim(step) else step


class _TaskSpectrum:
    """The symmetric (n_tasks, n_tasks) matrix ``V diag(values) V' + rest (I - V V')``.

    ``V`` (n_tasks, p) has orthonormal columns; its orthogonal complement
    (empty when ``p = n_tasks``) is an eigenspace with the single
    eigenvalue ``rest``. Functions of ``W'W`` have this form with ``p =
    min(n_features, n_tasks)`` (``W'W`` has rank at most ``n_features``):
    MTRL's task covariance (``_task_graph._task_covariance``) and the
    convex clustered model's ``M`` and ``P``, which are constant on the
    null space of ``W`` (:func:`_eig_weights`). Products with it
    cost ``O(n_features p n_tasks)`` and it takes ``O(p n_tasks)`` memory;
    only :meth:`dense` forms the matrix (for a fitted attribute, on demand).
    """

    def __init__(self, V, values, rest):
        self.V = V
        self.values = np.asarray(values, dtype=np.float64)
        # A square V leaves no complement: rest would only add rounding.
        self.rest = float(rest) if V.shape[1] < V.shape[0] else 0.0

    def __repr__(self):
        return f"_TaskSpectrum(n_tasks={self.n_tasks}, rank={len(self.values)})"

    @property
    def n_tasks(self):
        return self.V.shape[0]

    def map(self, f):
        """``f`` applied to the eigenvalues (same eigenvectors)."""
        return _TaskSpectrum(self.V, f(self.values), float(f(self.rest)))

    def apply(self, W):
        """``W @ A`` for ``W`` of shape (n_features, n_tasks), float64."""
        out = ((W @ self.V) * (self.values - self.rest)) @ self.V.T
        if self.rest != 0.0:
            out += self.rest * W
        return out

    def dense(self):
        """The (n_tasks, n_tasks) matrix, exactly symmetric."""
        A = (self.V * (self.values - self.rest)) @ self.V.T
        A[np.diag_indices_from(A)] += self.rest
        # In place: one (n_tasks, n_tasks) temporary (the transpose) instead of two.
        A += A.T
        A *= 0.5
        return A

    def trace(self):
        return float(self.values.sum() + self.rest * (self.n_tasks - len(self.values)))


class TaskQuadratic(BasePenalty):
    """``alpha / 2 * tr(W M W')`` for a symmetric PSD ``M`` (n_tasks, n_tasks).

    Parameters
    ----------
    alpha : float
        Strength, >= 0.
    task_matrix : ndarray of shape (n_tasks, n_tasks)
        ``M``, symmetric positive semi-definite (not re-validated here).
    eig : tuple (eigenvalues, eigenvectors), default=None
        A precomputed ``numpy.linalg.eigh(M)``, reused across alphas.
    """

    _parameters = {"alpha": _nonnegative, "task_matrix": _float_array}

    def __init__(self, alpha, task_matrix, *, eig=None):
        self._set_params(alpha=alpha, task_matrix=task_matrix)
        if eig is None:
            eig = np.linalg.eigh(self.task_matrix)
        eigvals, eigvecs = eig
        # Rounding can make a PSD matrix's smallest eigenvalues slightly negative.
        self._eigvals = np.clip(eigvals, 0.0, None)
        self._eigvecs = eigvecs

    @property
    def _weight(self):
        """``c`` of ``c / 2 * tr(W M W')``: ``alpha``."""
        return self.alpha

    def _apply(self, W):
        """``W M``."""
        return np.asarray(W, dtype=np.float64) @ self.task_matrix

    def value(self, W):
        W = np.asarray(W, dtype=np.float64)
        return 0.5 * self._weight * float(np.einsum("ij,ij->", W, self._apply(W)))

    def prox(self, W, step):
        """``W (I + step * alpha * M)^{-1}`` (a new array, ``W``'s dtype).

        ``step`` may hold one step per row of ``W`` (:func:`~._scaled.scale_rows`):
        ``tr(W M W')`` is a sum over the rows.
        """
        W = np.asarray(W)
        Z = (W.astype(np.float64, copy=False) @ self._eigvecs) / (1.0 + _per_row(step) * self._weight * self._eigvals)
        return (Z @ self._eigvecs.T).astype(W.dtype, copy=False)

    def subdiff_distance_rows(self, W, grad):
        """``||grad_j + alpha (W M)_j||`` per row ``j``: the penalty is differentiable."""
        residual = np.asarray(grad, dtype=np.float64) + self._weight * self._apply(W)
        return np.sqrt(np.einsum("ij,ij->i", residual, residual))

    def subdiff_distance(self, W, grad):
        """``||grad + alpha W M||_F``."""
        return float(np.linalg.norm(self.subdiff_distance_rows(W, grad)))

    def alpha_max(self, grad0):
        """``inf``: no finite ``alpha`` makes ``W = 0`` optimal (unless ``grad0 = 0``)."""
        return 0.0 if not np.any(np.asarray(grad0)) else np.inf

    # The conjugate, for duality gaps (see _ElasticNetPenalty.conjugate).
    @property
    def has_dual(self):
        """Whether ``M`` is positive definite (else the conjugate is infinite almost everywhere)."""
        eigvals = self._eigvals
        return self.alpha > 0 and eigvals.size > 0 and eigvals[0] > 1e-12 * eigvals[-1]

    def dual_scale(self, V):
        """1: a positive definite quadratic has a finite conjugate everywhere."""
        return 1.0

    def conjugate(self, V):
        """``tr(V M^-1 V') / (2 alpha)``."""
        Z = np.asarray(V, dtype=np.float64) @ self._eigvecs
        return 0.5 * float(np.einsum("ij,ij,j->", Z, Z, 1.0 / self._eigvals)) / self.alpha


class MeanQuadratic(TaskQuadratic):
    """``alpha / 2 * (mixing * sum_t ||w_t - mean_w||^2 + (1 - mixing) * sum_t ||w_t||^2)``.

    ``M = I - mixing / T * 1 1'``; its prox is in closed form: the task
    mean is shrunk by ``1 + s alpha (1 - mixing)`` and the deviations from it
    by ``1 + s alpha``, O(n_features * n_tasks) per call.
    """

    _parameters = {"alpha": _nonnegative, "mixing": _ratio, "n_tasks": _count}

    def __init__(self, alpha, mixing, n_tasks):
        self._set_params(alpha=alpha, mixing=mixing, n_tasks=n_tasks)

    @property
    def task_matrix(self):
        T = self.n_tasks
        return np.eye(T) - self.mixing / T * np.ones((T, T))

    def _apply(self, W):
        W = np.asarray(W, dtype=np.float64)
        return W - self.mixing * W.mean(axis=1, keepdims=True)

    @property
    def has_dual(self):
        # M's eigenvalues: 1 on the deviations from the mean, 1 - mixing on it.
        return self.alpha > 0 and self.mixing < 1

    def conjugate(self, V):
        V = np.asarray(V, dtype=np.float64)
        mean = V.mean(axis=1, keepdims=True)
        deviation = V - mean
        on_mean = self.n_tasks * float(np.einsum("ij,ij->", mean, mean)) / (1.0 - self.mixing)
        return 0.5 * (float(np.einsum("ij,ij->", deviation, deviation)) + on_mean) / self.alpha

    def prox(self, W, step):
        W = np.asarray(W)
        W64 = W.astype(np.float64, copy=False)
        mean = W64.mean(axis=1, keepdims=True)
        step = _per_row(step)
        out = (W64 - mean) / (1.0 + step * self.alpha) + mean / (1.0 + step * self.alpha * (1.0 - self.mixing))
        return out.astype(W.dtype, copy=False)


class SparseTaskQuadratic(TaskQuadratic):
    """``alpha / 2 * tr(W M W')`` for a sparse symmetric PSD ``M``, never densified.

    For a sparse task graph (chains, k-nearest neighbours): ``W M`` costs
    ``O(n_features nnz(M))`` and the prox solves ``(I + step alpha M) X' =
    V'`` with a sparse LU factorization (SuperLU), kept for the last step
    size (FISTA changes it only when backtracking), instead of an
    eigendecomposition of the dense (n_tasks, n_tasks) matrix.

    Parameters
    ----------
    alpha : float
        Strength, >= 0.
    task_matrix : sparse matrix of shape (n_tasks, n_tasks)
        ``M``, symmetric positive semi-definite (not re-validated here).
    positive_definite : bool
        Whether ``M`` is known to be positive definite (a Laplacian plus a
        ridge > 0): only then is the conjugate finite (duality gaps).
    """

    _parameters = {"alpha": _nonnegative, "task_matrix": _csc, "positive_definite": _flag}

    def __init__(self, alpha, task_matrix, *, positive_definite):
        self._set_params(alpha=alpha, task_matrix=task_matrix, positive_definite=positive_definite)
        self._step, self._factor = None, None
        self._inverse = None

    def _apply(self, W):
        # M is symmetric: W M = (M W')'.
        return np.asarray(self.task_matrix @ np.asarray(W, dtype=np.float64).T).T

    def prox(self, W, step):
        W = np.asarray(W)
        if step != self._step:
            system = sp.identity(self.task_matrix.shape[0], format="csc") + (step * self.alpha) * self.task_matrix
            self._step, self._factor = step, splu(system.tocsc())
        out = self._factor.solve(np.ascontiguousarray(W.T, dtype=np.float64))
        return out.T.astype(W.dtype, copy=False)

    @property
    def has_dual(self):
        return self.alpha > 0 and self.positive_definite

    def conjugate(self, V):
        """``tr(V M^-1 V') / (2 alpha)``, by a sparse LU factorization of ``M`` (kept)."""
        if self._inverse is None:
            self._inverse = splu(self.task_matrix)
        V = np.asarray(V, dtype=np.float64)
        solved = self._inverse.solve(np.ascontiguousarray(V.T))
        return 0.5 * float(np.einsum("ij,ji->", V, solved)) / self.alpha
