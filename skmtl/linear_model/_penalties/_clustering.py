"""The penalties of clustered MTL (Zhou, Chen & Ye, 2011): task quadratics of a task structure.

For a normalized cluster indicator ``F`` (n_tasks, k) the k-means penalty
is ``alpha * sum_t ||w_t - mu_g(t)||^2 + beta * ||W||_F^2 = tr(W P W')``
with ``P = alpha (I - F F') + beta I`` (:class:`_ClusterQuadratic`); the
convex relaxation replaces ``F F'`` by ``M`` with ``tr(M) = k``,
``0 <= M <= I``, and ``P = beta (alpha + beta) (beta I + alpha M)^{-1}``
(:class:`_SpectralQuadratic` for a fixed ``M``).
Minimizing ``M`` out (:func:`_cluster_matrix_update`, in closed form)
leaves a convex penalty of ``W`` alone, :class:`_ConvexClusterPenalty`,
whose conjugate certifies the convex problem. The alternation between
``W`` and the structure is in ``_clustered.py``.
"""

import numpy as np
import scipy.sparse as sp

from ._base import BasePenalty, _as_is, _count, _nonnegative
from ._task_quadratic import TaskQuadratic, _TaskSpectrum


def _labels(value, name):
    return np.asarray(value, dtype=np.intp)


def _eig_weights(s, eta, k):
    """``argmin_m sum_i s_i / (eta + m_i)`` s.t. ``sum m = k``, ``0 <= m <= 1``.

    ``s >= 0`` (the eigenvalues of ``W'W``), ``0 < eta <= inf``, ``0 < k <= len(s)``.
    Stationarity: ``s_i / (eta + m_i)^2 = g^2`` on the free coordinates, so
    ``m_i = clip(sqrt(s_i) / g - eta, 0, 1)``; ``sum_i m_i`` is non-increasing
    in ``g`` and ``g`` is found by bisection, then made exact from the
    resulting active sets. Every ``s_i = 0`` gets the same ``m_i`` (0, or
    the trace left over when at most ``k`` of the ``s_i`` are positive), so
    the null space of ``W'W`` is an eigenspace of ``M``. ``eta = inf``
    (``alpha = 0``) is the limit ``eta -> inf``: ``m_i = 1`` on the ``k``
    largest ``s_i``.
    """
    s = np.clip(np.asarray(s, dtype=np.float64), 0.0, None)
    T = len(s)
    scale = float(s.max(initial=0.0))
    positive = s > 1e-14 * max(scale, np.finfo(float).tiny)
    n_pos = int(positive.sum())
    m = np.zeros(T)
    if n_pos <= k:
        # Every direction with s_i > 0 gets m_i = 1; the rest of the trace
        # goes to directions with s_i = 0, where it does not change the value.
        m[positive] = 1.0
        if T > n_pos:
            m[~positive] = (k - n_pos) / (T - n_pos)
        return m
    if not np.isfinite(eta):
        m[np.argsort(s, kind="stable")[::-1][:k]] = 1.0
        return m
    r = np.sqrt(s[positive])

    def total(g):
        return np.clip(r / g - eta, 0.0, 1.0).sum()

    lo = r.min() / (1.0 + eta)  # all m_i = 1: sum = n_pos > k
    hi = r.max() / eta  # all m_i = 0: sum = 0 < k
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if total(mid) > k:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * hi:
            break
    g = 0.5 * (lo + hi)
    mp = np.clip(r / g - eta, 0.0, 1.0)
    # Exact g from the active sets: sum_F (r_i / g - eta) + |A| = k.
    free = (mp > 0) & (mp < 1)
    n_one = int(np.sum(mp >= 1))
    if free.any():
        denom = k - n_one + eta * free.sum()
        if denom > 0:
            g_exact = r[free].sum() / denom
            mp_exact = np.clip(r / g_exact - eta, 0.0, 1.0)
            if abs(mp_exact.sum() - k) <= abs(mp.sum() - k):
                mp = mp_exact
    m[positive] = mp
    return m


def _cluster_matrix_update(W, alpha, beta, k):
    """Optimal ``M`` for a fixed ``W`` and the penalty value it attains.

    From the thin SVD ``W = U diag(sigma) V'``: ``W'W = V diag(sigma^2) V'``
    has rank at most ``p = min(n_features, n_tasks)`` and the optimal ``M``
    is ``V diag(m) V' + m_0 (I - V V')`` (:func:`_eig_weights`), in
    ``O(n_features p n_tasks)`` without any (n_tasks, n_tasks) matrix.

    Parameters
    ----------
    W : ndarray of shape (n_features, n_tasks)
    alpha, beta : float
        ``alpha >= 0``, ``beta > 0``; ``eta = beta / alpha``.
    k : int
        ``tr(M)``, ``1 <= k <= n_tasks``.

    Returns
    -------
    M : _TaskSpectrum
        Symmetric, ``tr(M) = k``, eigenvalues in ``[0, 1]``.
    value : float
        ``alpha eta (1 + eta) tr(W (eta I + M)^{-1} W')``, the minimum over
        ``M`` of the penalty at ``W``.
    """
    W = np.asarray(W, dtype=np.float64)
    T = W.shape[1]
    _, sigma, Vt = np.linalg.svd(W, full_matrices=False)
    s = sigma**2
    p = len(s)
    eta = beta / alpha if alpha > 0 else np.inf
    # The T - p zero eigenvalues of W'W outside V's span share one weight.
    m = _eig_weights(np.concatenate([s, np.zeros(T - p)]), eta, k)
    M = _TaskSpectrum(Vt.T, m[:p], m[p] if T > p else 0.0)
    value = float(np.sum(s * _penalty_eigvals(M.values, alpha, beta)))
    return M, value


def _penalty_eigvals(m, alpha, beta):
    """Eigenvalues ``alpha eta (1 + eta) / (eta + m)`` of ``P``, i.e. ``beta (alpha + beta) / (beta + alpha m)``."""
    return beta * (alpha + beta) / (beta + alpha * np.asarray(m, dtype=np.float64))


class _ConvexClusterPenalty(BasePenalty):
    """CMTL's convex penalty with ``M`` minimized out: ``g(W) = min_M tr(W P(M) W')``.

    Only for the duality gap of the convex method (``loss.dual_gap``): ``g``
    is the partial minimum of a jointly convex function, so its conjugate
    is the supremum over ``M`` of the quadratics' conjugates, ``tr(V P(M)^-1
    V') / 4`` with ``P(M)^-1 = (beta I + alpha M) / (beta (alpha + beta))``,
    linear in ``M``: the supremum over ``tr(M) = k``, ``0 <= M <= I`` puts
    ``M`` on the top ``k`` eigenvectors of ``V'V``::

        g^*(V) = (beta ||V||_F^2 + alpha * sum of the k largest sigma_i(V)^2) / (4 beta (alpha + beta)).
    """

    has_dual = True
    _parameters = {"alpha": _nonnegative, "beta": _nonnegative, "k": _count}

    def __init__(self, alpha, beta, k):
        self._set_params(alpha=alpha, beta=beta, k=k)

    def value(self, W):
        return _cluster_matrix_update(W, self.alpha, self.beta, self.k)[1]

    def dual_scale(self, V):
        return 1.0

    def conjugate(self, V):
        sigma = np.linalg.svd(np.asarray(V, dtype=np.float64), compute_uv=False)
        top = float(np.sum(np.sort(sigma**2)[::-1][: self.k]))
        total = float(np.sum(sigma**2))
        return (self.beta * total + self.alpha * top) / (4.0 * self.beta * (self.alpha + self.beta))


class _SpectralQuadratic(TaskQuadratic):
    """``tr(W P W')`` (``TaskQuadratic(2, P)``) for ``P`` a :class:`_TaskSpectrum`.

    The prox ``V (I + 2 step P)^{-1}`` maps the eigenvalues ``q`` of ``P`` to
    ``1 / (1 + 2 step q)``: ``O(n_features p n_tasks)`` per call.
    """

    # The W-steps are certified through the whole convex problem instead
    # (_ConvexClusterPenalty); P changes at every outer iteration.
    has_dual = False
    _parameters = {"P": _as_is}
    _weight = 2.0  # tr(W P W') = 2 / 2 tr(W P W')

    def __init__(self, P):
        self._set_params(P=P)

    @property
    def task_matrix(self):
        return self.P.dense()

    def _apply(self, W):
        return self.P.apply(np.asarray(W, dtype=np.float64))

    def prox(self, W, step):
        W = np.asarray(W)
        shrink = self.P.map(lambda q: 1.0 / (1.0 + 2.0 * step * q))
        return shrink.apply(W.astype(np.float64, copy=False)).astype(W.dtype, copy=False)


def _cluster_average(labels):
    """Sparse (n_tasks, n_clusters) ``A`` such that ``W @ A`` holds the clusters' mean columns."""
    counts = np.bincount(labels)
    n_tasks = len(labels)
    return sp.csr_matrix((1.0 / counts[labels], (np.arange(n_tasks), labels)), shape=(n_tasks, len(counts)))


def _indicator_projection(labels):
    """``F F'`` of the normalized cluster indicator: ``1 / n_j`` within cluster ``j``, else 0."""
    same = labels[:, None] == labels[None, :]
    return same / np.bincount(labels)[labels][None, :]


class _ClusterQuadratic(TaskQuadratic):
    """``alpha * sum_t ||w_t - mu_g(t)||^2 + beta * ||W||_F^2`` for a fixed assignment ``g``.

    ``= tr(W P W')`` with ``P = alpha (I - F F') + beta I`` (``F`` the
    normalized cluster indicator, ``mu_j`` the mean of cluster ``j``), i.e.
    ``TaskQuadratic(2, P)``. ``W F F'`` replaces each column by its
    cluster's mean, so neither ``P`` nor an eigendecomposition is formed:
    the prox shrinks the cluster means by ``1 + 2 step beta`` and the
    deviations from them by ``1 + 2 step (alpha + beta)``, O(n_features *
    n_tasks) per call.
    """

    # The k-means problem is not convex: no gap certifies it.
    has_dual = False
    _parameters = {"labels": _labels, "alpha": _nonnegative, "beta": _nonnegative}
    _weight = 2.0  # tr(W P W') = 2 / 2 tr(W P W')

    def __init__(self, labels, alpha, beta):
        self._set_params(labels=labels, alpha=alpha, beta=beta)
        self._average = _cluster_average(self.labels)

    @property
    def task_matrix(self):
        identity = np.eye(len(self.labels))
        return self.alpha * (identity - _indicator_projection(self.labels)) + self.beta * identity

    def _cluster_means(self, W):
        """``W F F'``: every column replaced by its cluster's mean."""
        means = np.asarray(self._average.T @ np.asarray(W, dtype=np.float64).T).T
        return means[:, self.labels]

    def _apply(self, W):
        W = np.asarray(W, dtype=np.float64)
        return self.alpha * (W - self._cluster_means(W)) + self.beta * W

    def prox(self, W, step):
        W = np.asarray(W)
        W64 = W.astype(np.float64, copy=False)
        mean = self._cluster_means(W64)
        out = (W64 - mean) / (1.0 + 2.0 * step * (self.alpha + self.beta)) + mean / (
            1.0 + 2.0 * step * self.beta
        )
        return out.astype(W.dtype, copy=False)
