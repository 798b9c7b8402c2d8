"""Clustered multi-task learning: the convex relaxation of k-cluster MTL (MALSAR CMTL).

Zhou, Chen & Ye (2011) relax the k-means clustering of the tasks'
coefficient vectors into the jointly convex problem over ``W``
(n_features, n_tasks) and a task matrix ``M`` (n_tasks, n_tasks)::

    loss(W) + alpha * eta * (1 + eta) * tr(W (eta I + M)^{-1} W'),
    eta = beta / alpha,   tr(M) = k,   0 <= M <= I  (eigenvalues in [0, 1]).

It is solved here by alternating minimization:

* for fixed ``M`` the penalty is the quadratic task-axis form
  ``tr(W P W')`` with ``P = alpha eta (1 + eta) (eta I + M)^{-1}``, solved
  by FISTA (prox ``V (I + 2 step P)^{-1}``, :class:`TaskQuadratic`) warm
  started from the previous ``W``;
* for fixed ``W`` the optimal ``M`` is in closed form
  (:func:`_cluster_matrix_update`): with ``W'W = U diag(s) U'``,
  ``M = U diag(m) U'`` where ``m`` minimizes ``sum_i s_i / (eta + m_i)``
  subject to ``sum_i m_i = k``, ``0 <= m_i <= 1``. Its KKT conditions give
  ``m_i = clip(sqrt(s_i) / g - eta, 0, 1)`` with the scalar ``g > 0`` set by
  a bisection so that ``sum_i m_i = k``.

Each step can only lower the objective, which is jointly convex, so the
objective values decrease monotonically to the minimum.
"""

import numbers
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ._base import _LinearMultiTaskModel, _LinearMultiTaskRegressor
from ._solvers import solve
from ._task_graph import TaskQuadratic

__all__ = ["ClusteredRegressor"]


def _eig_weights(s, eta, k):
    """``argmin_m sum_i s_i / (eta + m_i)`` s.t. ``sum m = k``, ``0 <= m <= 1``.

    ``s >= 0`` (the eigenvalues of ``W'W``), ``0 < eta < inf``, ``0 < k <= len(s)``.
    Stationarity: ``s_i / (eta + m_i)^2 = g^2`` on the free coordinates, so
    ``m_i = clip(sqrt(s_i) / g - eta, 0, 1)``; ``sum_i m_i`` is non-increasing
    in ``g`` and ``g`` is found by bisection, then made exact from the
    resulting active sets.
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

    Parameters
    ----------
    W : ndarray of shape (n_features, n_tasks)
    alpha, beta : float
        ``alpha >= 0``, ``beta > 0``; ``eta = beta / alpha``.
    k : int
        ``tr(M)``, ``1 <= k <= n_tasks``.

    Returns
    -------
    M : ndarray of shape (n_tasks, n_tasks)
        Symmetric, ``tr(M) = k``, eigenvalues in ``[0, 1]``.
    (m, U) : eigenvalues and eigenvectors of ``M``.
    value : float
        ``alpha eta (1 + eta) tr(W (eta I + M)^{-1} W')``, the minimum over
        ``M`` of the penalty at ``W``.
    """
    W = np.asarray(W, dtype=np.float64)
    s, U = np.linalg.eigh(W.T @ W)
    s = np.clip(s, 0.0, None)
    if alpha == 0:
        # eta = inf: the penalty is beta ||W||_F^2 whatever M; take the
        # limit alpha -> 0 of the optimal M (m = 1 on the k largest s_i).
        m = np.zeros_like(s)
        m[np.argsort(s)[::-1][:k]] = 1.0
    else:
        m = _eig_weights(s, beta / alpha, k)
    M = (U * m) @ U.T
    M = 0.5 * (M + M.T)
    value = float(np.sum(s * _penalty_eigvals(m, alpha, beta)))
    return M, (m, U), value


def _penalty_eigvals(m, alpha, beta):
    """Eigenvalues ``alpha eta (1 + eta) / (eta + m)`` of ``P``, i.e. ``beta (alpha + beta) / (beta + alpha m)``."""
    return beta * (alpha + beta) / (beta + alpha * np.asarray(m, dtype=np.float64))


_BASE_CONSTRAINTS = {
    key: value
    for key, value in _LinearMultiTaskModel._parameter_constraints.items()
    if key not in ("l1_ratio", "solver")
}


class ClusteredRegressor(_LinearMultiTaskRegressor):
    _parameter_constraints = {
        **_BASE_CONSTRAINTS,
        "n_clusters": [Interval(numbers.Integral, 1, None, closed="left")],
        "beta": [Interval(numbers.Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    solver = "fista"

    def __init__(
        self,
        n_clusters=2,
        alpha=1.0,
        beta=1.0,
        *,
        fit_intercept=True,
        task_weights=None,
        task_column=None,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        random_state=None,
    ):
        self.n_clusters = n_clusters
        self.alpha = alpha
        self.beta = beta
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state

    # ------------------------------------------------------------ penalty
    def _penalty_from_eig(self, m, U):
        # tr(W P W') = TaskQuadratic(2, P): its value is 2 / 2 * tr(W P W').
        q = _penalty_eigvals(m, float(self.alpha), float(self.beta))
        P = (U * q) @ U.T
        return TaskQuadratic(2.0, 0.5 * (P + P.T), eig=(q, U))

    def _make_penalty(self, alpha):
        # The penalty at the learned M (used after fit); before fit, M = k/T I.
        m, U = getattr(self, "_m_eig", (None, None))
        if m is None:  # pragma: no cover - only reached through alpha_max
            return TaskQuadratic(1.0, np.eye(1))
        return self._penalty_from_eig(m, U)

    def _penalty_for_alpha_max(self):
        return TaskQuadratic(1.0, np.eye(1))

    # ------------------------------------------------------------ fit
    def _fit(self, X, y, sample_weight):
        loss = self._make_loss(X, y, sample_weight)
        T = loss.n_tasks
        k = int(self.n_clusters)
        if k > T:
            raise ValueError(
                f"n_clusters={k} cannot exceed the number of tasks n_tasks={T}; "
                "tr(M) = n_clusters needs n_clusters <= n_tasks."
            )
        alpha, beta = float(self.alpha), float(self.beta)
        W0, b0 = self._warm_start_point(loss)
        if W0 is not None and np.any(W0):
            _, (m, U), _ = _cluster_matrix_update(W0, alpha, beta, k)
        else:
            m, U = np.full(T, k / T), np.eye(T)
        W = None if W0 is None else np.asarray(W0, dtype=loss.dtype)
        b = b0
        objectives = []
        n_inner = 0
        converged = False
        inner_converged = True
        previous = np.inf
        for it in range(1, self.max_iter + 1):
            penalty = self._penalty_from_eig(m, U)
            result = solve(loss, penalty, W, b, solver="fista", max_iter=self.max_iter, tol=self.tol)
            n_inner += int(result.n_iter)
            inner_converged = bool(result.converged)
            W_new, b_new = result.coef, result.intercept
            if W is not None and np.isfinite(previous) and result.objective > previous:
                # FISTA is not monotone: never accept a worse W than the start.
                loss_old = float(loss.value_and_gradient(W, b)[0])
                if loss_old + penalty.value(W) <= result.objective:
                    W_new, b_new = W, b
            W, b = W_new, b_new
            _, (m, U), pen = _cluster_matrix_update(W, alpha, beta, k)
            value = float(loss.value_and_gradient(W, b)[0]) + pen
            objectives.append(value)
            if np.isfinite(previous) and abs(previous - value) <= self.tol * max(abs(value), 1e-300):
                converged = True
                break
            previous = value
        M = (U * m) @ U.T
        self._m_eig = (m, U)
        self.coef_ = np.ascontiguousarray(np.asarray(W).T)
        self.intercept_ = np.asarray(b, dtype=self.coef_.dtype)
        self.n_iter_ = it
        self.n_inner_iter_ = n_inner
        self.objective_ = objectives[-1]
        self.objective_path_ = np.asarray(objectives)
        self.stop_crit_ = (
            abs(objectives[-2] - objectives[-1]) / max(abs(objectives[-1]), 1e-300)
            if len(objectives) > 1
            else np.inf
        )
        self.task_similarity_ = 0.5 * (M + M.T)
        self.task_clusters_ = self._cluster_labels(m, U, k)
        if not converged:
            warnings.warn(
                f"ClusteredRegressor did not converge: the alternating minimization ran "
                f"max_iter={self.max_iter} iterations (relative objective change "
                f"{self.stop_crit_:.3e}, tol={self.tol:g}). Increase max_iter or tol, "
                "or scale the features (e.g. StandardScaler).",
                ConvergenceWarning,
            )
        elif not inner_converged:
            warnings.warn(
                f"ClusteredRegressor did not converge: the last W-step (FISTA) ran "
                f"max_iter={self.max_iter} iterations without reaching tol={self.tol:g}. "
                "Increase max_iter or tol, or scale the features (e.g. StandardScaler).",
                ConvergenceWarning,
            )
        return self

    def _cluster_labels(self, m, U, k):
        """KMeans on the rows of ``U_k diag(m_k)`` (the top-k eigenvectors of ``M``)."""
        T = len(m)
        if k == 1:
            return np.zeros(T, dtype=np.intp)
        if k == T:
            return np.arange(T, dtype=np.intp)
        from sklearn.cluster import KMeans

        order = np.argsort(m)[::-1][:k]
        embedding = U[:, order] * m[order]
        # Eigenvectors are defined up to sign; fix it so the result is deterministic.
        signs = np.sign(embedding[np.argmax(np.abs(embedding), axis=0), np.arange(k)])
        embedding = embedding * np.where(signs == 0, 1.0, signs)
        n_distinct = len(np.unique(np.round(embedding, 12), axis=0))
        if n_distinct < k:
            # Fewer distinct tasks than clusters (e.g. W = 0): label by uniqueness.
            _, labels = np.unique(np.round(embedding, 12), axis=0, return_inverse=True)
            return labels.ravel().astype(np.intp)
        kmeans = KMeans(n_clusters=k, n_init=10, random_state=check_random_state(self.random_state))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return kmeans.fit_predict(embedding).astype(np.intp)


ClusteredRegressor.__doc__ = """Multi-task linear regression with clustered tasks (convex relaxation, CMTL).

    The tasks' coefficient vectors are assumed to form ``n_clusters``
    groups; the k-means penalty on them is relaxed into a convex one over
    ``B`` (``coef_``, one row ``b_t`` per task, ``W = B'``) and a learned
    task matrix ``M`` (``task_similarity_``). Minimizes jointly::

        sum_t w_t / (2 n_t) * ||y_t - X_t b_t - c_t||^2
            + alpha * eta * (1 + eta) * tr(W (eta I + M)^{-1} W')

    with ``eta = beta / alpha``, over ``W``, the unpenalized intercepts
    ``c`` (``intercept_``) and ``M`` subject to ``tr(M) = n_clusters`` and
    ``0 <= M <= I`` (eigenvalues in ``[0, 1]``). The penalty interpolates
    between a ridge ``beta (1 + eta) ||W||_F^2`` on the part of ``W`` inside
    the cluster subspace and a stronger one outside it.

    **Mapping to MALSAR** (``Least_CMTL(X, Y, rho1, rho2, k)``):
    ``alpha = rho1``, ``beta = rho2``, ``n_clusters = k``; MALSAR's
    ``0.5 * sum_t ||X_t w_t - y_t||^2`` is obtained with ``task_weights =
    n_t`` (the per-task sample counts, as an array) and, since MALSAR's bias
    is a penalized column of ones, ``fit_intercept=False``.

    Task ``t`` has ``n_t`` labeled rows ``X_t, y_t`` (with sample weights,
    ``1 / n_t`` becomes ``s_i / S_t``) and task weight ``w_t``.

    Parameters
    ----------
    n_clusters : int, default=2
        ``k``, the number of task clusters (``tr(M)``), ``1 <= k <= n_tasks``.

    alpha : float, default=1.0
        ``rho1`` of MALSAR: strength of the clustering term, >= 0.

    beta : float, default=1.0
        ``rho2`` of MALSAR: strength of the ridge-like term, > 0.

    fit_intercept : bool, default=True
        Fit one unpenalized intercept per task.

    task_weights : None, "n_samples" or array-like of shape (n_tasks,), default=None
        ``w_t``: 1 per task (None), proportional to the number of labeled
        rows (``"n_samples"``, normalized to mean 1), or given.

    task_column : int, str or None, default=None
        None: wide layout, ``y`` of shape (n_samples, n_tasks) with NaN for
        a missing label. Otherwise the column of ``X`` holding each row's
        task label; ``y`` is 1-D.

    max_iter : int, default=1000
        Maximum number of alternating (outer) iterations, and of FISTA
        iterations in each ``W``-step.

    tol : float, default=1e-4
        The alternation stops when the relative change of the objective
        between two outer iterations is at most ``tol``; each ``W``-step is
        solved by FISTA to ``tol``.

    warm_start : bool, default=False
        Start from the previous fit's ``coef_`` and ``intercept_`` (and the
        ``M`` they imply) when the tasks and features match.

    random_state : int, RandomState instance or None, default=None
        Seeds the KMeans giving ``task_clusters_``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Coefficients, one row per task.

    intercept_ : ndarray of shape (n_tasks,)
        Intercepts (zeros when ``fit_intercept=False``).

    task_similarity_ : ndarray of shape (n_tasks, n_tasks)
        The learned ``M`` (symmetric, trace ``n_clusters``, eigenvalues in
        ``[0, 1]``), optimal for ``coef_``.

    task_clusters_ : ndarray of shape (n_tasks,)
        Cluster label of each task: KMeans (``random_state``) on the rows of
        the top-``n_clusters`` eigenvectors of ``M`` scaled by their
        eigenvalues.

    n_iter_ : int
        Alternating (outer) iterations run.

    n_inner_iter_ : int
        FISTA iterations summed over the ``W``-steps.

    objective_ : float
        Objective at the solution (with ``M = task_similarity_``).

    objective_path_ : ndarray of shape (n_iter_,)
        Objective after each outer iteration (non-increasing).

    stop_crit_ : float
        Final relative objective change.

    tasks_ : ndarray of shape (n_tasks,)
        Task labels.

    n_tasks_ : int
        Number of tasks.

    n_features_in_ : int
        Number of columns of ``X`` seen in fit, the task column included.

    Notes
    -----
    Alternating minimization: for fixed ``M`` the ``W``-problem has the
    quadratic task-axis penalty ``tr(W P W')``,
    ``P = alpha eta (1 + eta) (eta I + M)^{-1}``, solved by warm-started
    FISTA; for fixed ``W`` with ``W'W = U diag(s) U'``, the optimal ``M`` is
    ``U diag(m) U'``, ``m_i = clip(sqrt(s_i) / g - eta, 0, 1)`` with ``g``
    found by bisection so that ``sum_i m_i = n_clusters`` (Zhou, Chen & Ye
    2011).

    References
    ----------
    Zhou, Chen & Ye, "Clustered multi-task learning via alternating
    structure optimization", NIPS 2011.
    Jacob, Bach & Vert, "Clustered multi-task learning: a convex
    formulation", NIPS 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model._clustered import ClusteredRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 3)
    >>> b1, b2 = rng.randn(3), rng.randn(3)
    >>> Y = X @ np.column_stack([b1, b1, b2, b2]) + 0.01 * rng.randn(60, 4)
    >>> model = ClusteredRegressor(n_clusters=2, alpha=0.1, beta=0.01, random_state=0).fit(X, Y)
    >>> bool(model.task_clusters_[0] == model.task_clusters_[1] != model.task_clusters_[2])
    True
    """
