"""Clustered multi-task learning (CMTL): k-means-regularized MTL and its convex relaxation.

Zhou, Chen & Ye (2011) write k-cluster MTL as a penalty on the task axis of
``W`` (n_features, n_tasks) through the normalized cluster indicator ``F``
(n_tasks, k), ``F_tj = 1 / sqrt(n_j)`` when task ``t`` is in cluster ``j``::

    alpha * sum_t ||w_t - mu_g(t)||^2 + beta * ||W||_F^2 = tr(W P W'),
    P = alpha (I - F F') + beta I = alpha eta (1 + eta) (eta I + F F')^{-1},

with ``eta = beta / alpha`` (``F F'`` is a projection, so both forms have
the eigenvalue ``beta`` on the cluster subspace and ``alpha + beta``
outside it). Two problems follow:

* ``method="kmeans"``: minimize over ``W`` and the assignment (non-convex).
  Alternating minimization: for a fixed assignment the penalty is the
  quadratic form above (:class:`_ClusterQuadratic`, a
  :class:`TaskQuadratic` whose prox needs only the clusters' means); for a
  fixed ``W`` the best assignment is the k-means clustering of the tasks'
  coefficient vectors (scikit-learn's ``KMeans`` with restarts, plus
  Lloyd's iterations from the current clusters, kept only when better);
* ``method="convex"``: replace ``F F'`` by ``M`` with ``tr(M) = k`` and
  ``0 <= M <= I`` (the convex hull of the ``F F'``): a jointly convex
  problem. For fixed ``M``, ``P = alpha eta (1 + eta) (eta I + M)^{-1}``
  (:class:`_SpectralQuadratic`); for fixed ``W`` the optimal ``M`` is in
  closed form (:func:`_cluster_matrix_update`): with ``W'W = U diag(s) U'``,
  ``M = U diag(m) U'`` where ``m`` minimizes ``sum_i s_i / (eta + m_i)``
  subject to ``sum_i m_i = k``, ``0 <= m_i <= 1``. Its KKT conditions give
  ``m_i = clip(sqrt(s_i) / g - eta, 0, 1)`` with the scalar ``g > 0`` set by
  a bisection so that ``sum_i m_i = k``. ``W'W`` has rank at most
  ``p = min(n_features, n_tasks)`` and every zero ``s_i`` gets the same
  ``m_i``, so from the thin SVD ``W = U_p S V_p'`` both ``M`` and ``P``
  are ``V_p diag(.) V_p' + c (I - V_p V_p')`` (:class:`_TaskSpectrum`):
  the M-update, the prox and the penalty cost ``O(n_features p n_tasks)``
  and no (n_tasks, n_tasks) matrix is formed in the loop.

In both, the ``W``-step is FISTA warm started from the previous ``W`` and
never accepted when worse, and the structure step is exact (convex) or
never worse (k-means), so the objective decreases monotonically; the
convex one to its global minimum, which is a lower bound on the k-means
objective. The convex method's ``W``-steps are inexact while ``M`` still
moves (each stops after reducing its gradient mapping tenfold; the next
M-update replaces the ``M`` it was solved for) and exact (to ``tol``) once
the objective stalls, so the stopping rule is that of exact alternation.
"""

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import (
    _CLASSIFIER_ATTRIBUTES,
    _LinearMultiTaskClassifier,
    _LinearMultiTaskModel,
    _LinearMultiTaskRegressor,
)
from ._solvers import _anderson, solve
from ._task_graph import (
    _LOGISTIC_LOSS,
    _SQUARED_LOSS,
    MeanQuadratic,
    TaskQuadratic,
    _dense_task_attribute,
    _forget_dense_attributes,
    _TaskSpectrum,
)

__all__ = ["ClusteredRegressor", "ClusteredClassifier"]


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


class _ConvexClusterPenalty:
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

    def __init__(self, alpha, beta, k):
        self.alpha, self.beta, self.k = float(alpha), float(beta), int(k)

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

    def __init__(self, P):
        self.alpha = 2.0
        self.P = P

    def __repr__(self):
        return f"_SpectralQuadratic(n_tasks={self.P.n_tasks}, rank={len(self.P.values)})"

    @property
    def task_matrix(self):
        return self.P.dense()

    def _apply(self, W):
        return self.P.apply(np.asarray(W, dtype=np.float64))

    def prox(self, W, step):
        W = np.asarray(W)
        shrink = self.P.map(lambda q: 1.0 / (1.0 + 2.0 * step * q))
        return shrink.apply(W.astype(np.float64, copy=False)).astype(W.dtype, copy=False)


# --------------------------------------------------------------------- k-means penalty
def _canonical_labels(labels):
    """Cluster codes ``0, 1, ...`` in order of first appearance (empty clusters dropped)."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    code = np.empty(len(first), dtype=np.intp)
    code[np.argsort(first)] = np.arange(len(first))
    return code[inverse.ravel()]


def _cluster_average(labels):
    """Sparse (n_tasks, n_clusters) ``A`` such that ``W @ A`` holds the clusters' mean columns."""
    counts = np.bincount(labels)
    n_tasks = len(labels)
    return sp.csr_matrix((1.0 / counts[labels], (np.arange(n_tasks), labels)), shape=(n_tasks, len(counts)))


def _indicator_projection(labels):
    """``F F'`` of the normalized cluster indicator: ``1 / n_j`` within cluster ``j``, else 0."""
    same = labels[:, None] == labels[None, :]
    return same / np.bincount(labels)[labels][None, :]


class _ClusterProjection:
    """``F F'`` of a hard assignment, kept as its labels until :meth:`dense`."""

    def __init__(self, labels):
        self.labels = labels

    def dense(self):
        return _indicator_projection(self.labels)


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

    def __init__(self, labels, alpha, beta):
        self.alpha = 2.0  # TaskQuadratic's alpha / 2 * tr(W P W') = tr(W P W')
        self.labels = np.asarray(labels, dtype=np.intp)
        self.cluster_alpha = float(alpha)
        self.beta = float(beta)
        self._average = _cluster_average(self.labels)

    def __repr__(self):
        return (
            f"_ClusterQuadratic(alpha={self.cluster_alpha!r}, beta={self.beta!r}, "
            f"n_clusters={self._average.shape[1]}, n_tasks={len(self.labels)})"
        )

    @property
    def task_matrix(self):
        identity = np.eye(len(self.labels))
        return self.cluster_alpha * (identity - _indicator_projection(self.labels)) + self.beta * identity

    def _cluster_means(self, W):
        """``W F F'``: every column replaced by its cluster's mean."""
        means = np.asarray(self._average.T @ np.asarray(W, dtype=np.float64).T).T
        return means[:, self.labels]

    def _apply(self, W):
        W = np.asarray(W, dtype=np.float64)
        return self.cluster_alpha * (W - self._cluster_means(W)) + self.beta * W

    def prox(self, W, step):
        W = np.asarray(W)
        W64 = W.astype(np.float64, copy=False)
        mean = self._cluster_means(W64)
        out = (W64 - mean) / (1.0 + 2.0 * step * (self.cluster_alpha + self.beta)) + mean / (
            1.0 + 2.0 * step * self.beta
        )
        return out.astype(W.dtype, copy=False)


# --------------------------------------------------------------------- structure steps
class _ConvexStep:
    """Task structure of the convex relaxation: ``M``, updated in closed form.

    ``M`` and ``P`` are kept as :class:`_TaskSpectrum` (rank
    ``min(n_features, n_tasks)`` plus a multiple of the identity): no
    (n_tasks, n_tasks) matrix is formed until ``similarity()``.
    """

    # The next M-update replaces the M a W-step is solved for: W-steps may be inexact.
    inexact = True

    def __init__(self, alpha, beta, n_clusters, n_tasks, n_init, rng):
        self.alpha, self.beta, self.k = alpha, beta, n_clusters
        self.n_init, self.rng = n_init, rng
        # Start from M = k / T I (the centre of the feasible set).
        self.M = _TaskSpectrum(np.zeros((n_tasks, 0)), np.zeros(0), n_clusters / n_tasks)

    def start(self, W0, labels0):
        if W0 is not None and np.any(W0):
            self.update(W0)

    def penalty(self):
        return _SpectralQuadratic(self.M.map(lambda m: _penalty_eigvals(m, self.alpha, self.beta)))

    def update(self, W):
        """Optimal ``M`` for ``W``; returns ``(penalty value, structure changed)``."""
        self.M, value = _cluster_matrix_update(W, self.alpha, self.beta, self.k)
        return value, True

    def similarity(self):
        """``M`` (a :class:`_TaskSpectrum`)."""
        return self.M

    def labels(self):
        """KMeans on the rows of ``U_k diag(m_k)`` (the top-k eigenvectors of ``M``).

        With fewer directions than clusters (``n_features < n_clusters``),
        only the ``n_features`` directions of ``V`` are used: the others
        span the null space of ``W``, a degenerate eigenspace of ``M`` with
        no information on the tasks.
        """
        k, T = self.k, self.M.n_tasks
        if k == 1:
            return np.zeros(T, dtype=np.intp)
        if k == T:
            return np.arange(T, dtype=np.intp)
        m, U = self.M.values, self.M.V
        order = np.argsort(m, kind="stable")[::-1][:k]
        embedding = U[:, order] * m[order]
        # Eigenvectors are defined up to sign; fix it so the result is deterministic.
        signs = np.sign(embedding[np.argmax(np.abs(embedding), axis=0), np.arange(len(order))])
        embedding = embedding * np.where(signs == 0, 1.0, signs)
        return _kmeans_labels(embedding, k, self.n_init, self.rng)


def _kmeans_labels(points, k, n_init, rng, init=None):
    """KMeans labels of the rows of ``points`` (canonical codes); fewer distinct points than ``k`` allowed."""
    from sklearn.cluster import KMeans

    distinct = np.unique(np.round(points, 12), axis=0)
    if len(distinct) <= k:
        # Fewer distinct tasks than clusters (e.g. W = 0): label by uniqueness.
        _, labels = np.unique(np.round(points, 12), axis=0, return_inverse=True)
        return _canonical_labels(labels.ravel())
    if init is None:
        kmeans = KMeans(n_clusters=k, n_init=n_init, random_state=rng)
    else:
        kmeans = KMeans(n_clusters=k, init=init, n_init=1, random_state=rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return _canonical_labels(kmeans.fit_predict(points))


class _KMeansStep:
    """Task structure of the k-means problem: a hard assignment of the tasks to clusters."""

    # The assignment step depends on W: each W-step is solved to tol.
    inexact = False

    def __init__(self, alpha, beta, n_clusters, n_tasks, n_init, rng):
        self.alpha, self.beta, self.k = alpha, beta, n_clusters
        self.n_tasks, self.n_init, self.rng = n_tasks, n_init, rng
        self.assignment = None

    def start(self, W0, labels0):
        if labels0 is not None and len(labels0) == self.n_tasks:
            self.assignment = _canonical_labels(labels0)
        elif W0 is not None and np.any(W0):
            self.update(W0)

    def penalty(self):
        if self.assignment is None:
            # First W-step: the convex penalty at M = k / T I, an isotropic
            # ridge q ||W||_F^2 (MeanQuadratic with mixing=0 is alpha / 2 ||W||^2).
            q = float(_penalty_eigvals(self.k / self.n_tasks, self.alpha, self.beta))
            return MeanQuadratic(2.0 * q, 0.0, self.n_tasks)
        return _ClusterQuadratic(self.assignment, self.alpha, self.beta)

    def update(self, W):
        """Best of: the current assignment, KMeans restarts, Lloyd from the current clusters."""
        points = np.asarray(W, dtype=np.float64).T
        candidates = [_kmeans_labels(points, self.k, self.n_init, self.rng)]
        if self.assignment is not None:
            current = self.assignment
            if current.max() + 1 == self.k:
                centres = np.asarray(_cluster_average(current).T @ points)
                candidates.append(_kmeans_labels(points, self.k, 1, self.rng, init=centres))
            best = _ClusterQuadratic(current, self.alpha, self.beta).value(W)
        else:
            current, best = None, np.inf
        chosen = current
        for labels in candidates:
            value = _ClusterQuadratic(labels, self.alpha, self.beta).value(W)
            # Only a strict improvement moves the assignment, so that a
            # stable assignment is detected (and rounding cannot cycle).
            if chosen is None or value < best - 1e-12 * abs(best):
                chosen, best = labels, value
        changed = current is None or not np.array_equal(chosen, current)
        self.assignment = chosen
        return best, changed

    def similarity(self):
        """``F F'`` (a :class:`_ClusterProjection`)."""
        return _ClusterProjection(self.assignment)

    def labels(self):
        return self.assignment.copy()


# Outer iterates of the convex method per Anderson extrapolation (minus one).
_ANDERSON_MEMORY = 5
# The smallest tol at which the convex method stops on its duality gap.
_CERTIFY_MIN_TOL = 1e-6

# An inexact W-step stops when its gradient mapping is this fraction of its
# first one (on School: 0.3, 0.1 and 0.03 all gave 0.30-0.34 s at tol=1e-6,
# against 0.65 s with exact W-steps).
_INNER_REDUCTION = 0.1


class _ReductionStop:
    """FISTA callback: stop once the stopping criterion falls to ``reduction`` times its first value.

    The first value is the gradient mapping at the warm start; for the
    convex method, with ``M`` optimal for that ``W``, it is the gradient
    mapping of the jointly convex problem with ``M`` minimized out
    (Danskin), so a fixed reduction is a relative-error inexact step.
    """

    def __init__(self, reduction):
        self.reduction = reduction
        self.first = None

    def __call__(self, n_iter, W, b, stop_crit):
        if self.first is None:
            self.first = stop_crit
        return stop_crit <= self.reduction * self.first


_STEPS = {"convex": _ConvexStep, "kmeans": _KMeansStep}


# --------------------------------------------------------------------- estimators
_BASE_CONSTRAINTS = {
    key: value
    for key, value in _LinearMultiTaskModel._parameter_constraints.items()
    if key not in ("l1_ratio", "solver")
}


class _ClusteredMixin:
    """Alternating minimization over ``W`` and the task structure, for either loss."""

    _parameter_constraints = {
        **_BASE_CONSTRAINTS,
        "n_clusters": [Interval(numbers.Integral, 1, None, closed="left")],
        "beta": [Interval(numbers.Real, 0, None, closed="neither")],
        "method": [StrOptions({"convex", "kmeans"})],
        "n_init": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    # FISTA on all of W: the penalty couples the tasks of every feature.
    solver = "fista"

    def _make_penalty(self, alpha):
        # The W-penalty at the learned task structure (alpha is fixed by it).
        penalty = getattr(self, "_structure_penalty", None)
        if penalty is None:  # pragma: no cover - only reached through alpha_max
            return TaskQuadratic(1.0, np.eye(1))
        return penalty

    def _penalty_for_alpha_max(self):
        # A quadratic penalty: alpha_max is inf whatever its matrix.
        return TaskQuadratic(1.0, np.eye(1))

    task_similarity_ = _dense_task_attribute(
        "_task_similarity",
        lambda similarity: similarity.dense(),
        "The learned task matrix ``M`` (see the class docstring).",
    )

    @staticmethod
    def _extrapolate(history, W, b, value, loss, certificate, step):
        """Anderson extrapolation of the convex method's outer iterates ``(W, b)``.

        The alternation converges linearly, slowly when the penalty is
        ill-conditioned (``beta << alpha``: 480 outer iterations on the
        demo's data at the default ``tol``, where the objective change had
        stalled after 19 at 0.6% above the minimum). Every
        ``_ANDERSON_MEMORY + 1`` iterates the extrapolation (as in the block
        coordinate descent of :mod:`._solvers`) is kept when it lowers the
        objective with ``M`` minimized out, so the objective still decreases
        monotonically; ``M`` is then updated for it. Returns ``(W, b, value)``.
        """
        history.append(np.concatenate([np.ravel(W), np.ravel(b)]))
        if len(history) < _ANDERSON_MEMORY + 1:
            return W, b, value
        weights = _anderson(history)
        points = np.array(history[1:])
        history.clear()
        if weights is None:
            return W, b, value
        x = weights @ points
        W_e = x[: W.size].reshape(W.shape).astype(W.dtype, copy=False)
        b_e = x[W.size :].astype(np.asarray(b).dtype, copy=False)
        value_e = float(loss.value(W_e, b_e)) + certificate.value(W_e)
        if not value_e < value:
            return W, b, value
        step.update(W_e)
        return W_e, b_e, value_e

    def _check_n_clusters(self, n_columns):
        k = int(self.n_clusters)
        if k > n_columns:
            what = (
                " (binary columns: a task with K > 2 classes counts K)"
                if is_classifier(self)
                else ""
            )
            raise ValueError(
                f"n_clusters={k} cannot exceed the number of tasks n_tasks={n_columns}{what}; "
                "tr(M) = n_clusters needs n_clusters <= n_tasks."
            )
        return k

    def _fit(self, X, y, sample_weight):
        loss = self._make_loss(X, y, sample_weight)
        T = loss.n_tasks
        k = self._check_n_clusters(T)
        alpha, beta = float(self.alpha), float(self.beta)
        W0, b0 = self._warm_start_point(loss)
        step = _STEPS[self.method](alpha, beta, k, T, self.n_init, check_random_state(self.random_state))
        step.start(W0, getattr(self, "task_clusters_", None) if W0 is not None else None)
        W = None if W0 is None else np.asarray(W0, dtype=loss.dtype)
        b = b0
        objectives = []
        n_inner = 0
        converged = False
        inner_converged = True
        previous = np.inf
        # Inexact alternation: while the task structure still moves, each
        # W-step stops once it has reduced its gradient mapping by
        # _INNER_REDUCTION (or reached tol): the M-update that follows
        # replaces the M it is solved for. Once the objective stalls, the
        # W-steps are solved to tol and the alternation stops by the same
        # rule as with exact W-steps (a stall of inexact steps is no proof).
        exact = not step.inexact
        # The convex problem is certified by its duality gap: the objective
        # change can stall far from the optimum when the alternation or the
        # W-steps crawl (an ill-conditioned penalty, a feature with a large
        # scale), 0.6% above it on the demo's data. Near the optimum the gap
        # shrinks only like the distance to it (the conjugate's supremum over
        # M sees M's fractional eigenvalues as ties), so below
        # _CERTIFY_MIN_TOL the stall rule alone decides, as it did before.
        convex = self.method == "convex"
        certificate = _ConvexClusterPenalty(alpha, beta, k) if convex and self.tol >= _CERTIFY_MIN_TOL else None
        gap = np.nan
        history = []
        inner_tol = self.tol
        for it in range(1, self.max_iter + 1):
            penalty = step.penalty()
            result = solve(
                loss,
                penalty,
                W,
                b,
                solver="fista",
                max_iter=self.max_iter,
                tol=inner_tol,
                callback=None if exact else _ReductionStop(_INNER_REDUCTION),
            )
            n_inner += int(result.n_iter)
            inner_converged = bool(result.converged)
            W_new, b_new = result.coef, result.intercept
            if W is not None and np.isfinite(previous) and result.objective > previous:
                # FISTA is not monotone: never accept a worse W than the start.
                loss_old = float(loss.value_and_gradient(W, b)[0])
                if loss_old + penalty.value(W) <= result.objective:
                    W_new, b_new = W, b
            W, b = W_new, b_new
            pen, changed = step.update(W)
            value = float(loss.value(W, b)) + pen
            if certificate is not None:
                W, b, value = self._extrapolate(history, W, b, value, loss, certificate, step)
            objectives.append(value)
            # A k-means assignment that did not move leaves W optimal as is.
            stalled = not changed or (
                np.isfinite(previous) and abs(previous - value) <= self.tol * max(abs(value), 1e-300)
            )
            if certificate is not None and exact:
                # Past the first stall the gap decides, at every iteration
                # (extrapolation keeps the objective moving, so stalls are
                # rare); a stall above the target means the W-steps are not
                # accurate enough for it.
                gap = loss.dual_gap(W, b, certificate)
                target = self.tol * loss.gap_scale()
                if gap <= target:
                    converged = True
                    break
                if stalled:
                    # (Down to tol / 100: below, the alternation lags, not the W-steps.)
                    inner_tol = max(inner_tol * min(max(np.sqrt(target / gap), 1e-2), 0.5), 1e-2 * self.tol)
            elif stalled:
                if certificate is None and (inner_converged or exact):
                    converged = True
                    break
                exact = True
            previous = value
        self._structure_penalty = step.penalty()
        self.coef_ = np.ascontiguousarray(np.asarray(W).T)
        self.intercept_ = np.asarray(loss.from_centered_intercept(W, b), dtype=self.coef_.dtype)
        self.n_iter_ = it
        self.n_inner_iter_ = n_inner
        self.objective_ = objectives[-1]
        self.objective_path_ = np.asarray(objectives)
        self.stop_crit_ = (
            abs(objectives[-2] - objectives[-1]) / max(abs(objectives[-1]), 1e-300)
            if len(objectives) > 1
            else np.inf
        )
        if convex and certificate is None:
            gap = loss.dual_gap(W, b, _ConvexClusterPenalty(alpha, beta, k))  # reported only
        self.dual_gap_ = float(gap)
        self._task_similarity = step.similarity()
        _forget_dense_attributes(self, "task_similarity_")
        self.task_clusters_ = step.labels()
        name = type(self).__name__
        if not converged:
            reached = f"relative objective change {self.stop_crit_:.3e}"
            if certificate is not None:
                gap = loss.dual_gap(W, b, certificate)
                self.dual_gap_ = float(gap)
                reached = f"duality gap {gap:.3e}, above tol * scale = {self.tol * loss.gap_scale():.3e}"
            warnings.warn(
                f"{name} did not converge: the alternating minimization ran "
                f"max_iter={self.max_iter} iterations ({reached}, tol={self.tol:g}). "
                "Increase max_iter or tol, or scale the features (e.g. StandardScaler).",
                ConvergenceWarning,
            )
        elif not inner_converged:
            warnings.warn(
                f"{name} did not converge: the last W-step (FISTA) ran "
                f"max_iter={self.max_iter} iterations without reaching tol={self.tol:g}. "
                "Increase max_iter or tol, or scale the features (e.g. StandardScaler).",
                ConvergenceWarning,
            )
        return self


class ClusteredRegressor(_ClusteredMixin, _LinearMultiTaskRegressor):
    def __init__(
        self,
        n_clusters=2,
        alpha=1.0,
        beta=1.0,
        *,
        method="convex",
        n_init=10,
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
        self.method = method
        self.n_init = n_init
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state


class ClusteredClassifier(_ClusteredMixin, _LinearMultiTaskClassifier):
    def __init__(
        self,
        n_clusters=2,
        alpha=0.01,
        beta=0.01,
        *,
        method="convex",
        n_init=10,
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
        self.method = method
        self.n_init = n_init
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state


# --------------------------------------------------------------------- docstrings
_CLUSTERED_OBJECTIVE = """\
    Minimizes over the coefficients ``B`` (``coef_``, one row ``b_{t}`` per
    {row}; ``W = B'``), the unpenalized intercepts ``c`` (``intercept_``)
    and the clustering of the {rows}, as chosen by ``method``:

    * ``method="convex"`` (default; Zhou, Chen & Ye 2011, MALSAR
      ``{malsar}_CMTL``), jointly convex, solved to its global minimum::

{loss}
                + alpha * eta * (1 + eta) * tr(W (eta I + M)^{{-1}} W'),   eta = beta / alpha

      also over the task matrix ``M`` (``task_similarity_``) subject to
      ``tr(M) = n_clusters`` and ``0 <= M <= I`` (eigenvalues in ``[0, 1]``);

    * ``method="kmeans"``, k-means-regularized (non-convex, a local minimum)::

{loss}
                + alpha * sum_{t} ||b_{t} - mu_g({t})||^2 + beta * ||B||_F^2

      also over the assignment ``g({t})`` of each {row} to one of
      ``n_clusters`` clusters (``task_clusters_``) and the centroids
      ``mu_j`` (at the optimum, the mean of cluster ``j``'s ``b_{t}``).

    The two penalties agree on hard clusterings: with the normalized
    cluster indicator ``F`` (``F_{t}j = 1 / sqrt(n_j)`` if ``g({t}) = j``,
    ``n_j`` the cluster's size) the k-means penalty is ``tr(W P W')`` with
    ``P = alpha (I - F F') + beta I``, which is the convex penalty at
    ``M = F F'``. The convex method relaxes these ``M`` (eigenvalues 0 or
    1) to their convex hull, so its minimum is a lower bound on the k-means
    objective. Both act as a ridge ``beta ||.||^2`` on the part of ``W`` in
    the cluster subspace and ``(alpha + beta) ||.||^2`` outside it."""

_CLUSTERED_PARAMETERS = """\
    n_clusters : int, default=2
        ``k``, the number of clusters (``tr(M)``), ``1 <= k <= {n_tasks}``.

    alpha : float, default={alpha}
        ``rho1`` of MALSAR: strength of the clustering term, >= 0.

    beta : float, default={alpha}
        ``rho2`` of MALSAR: strength of the ridge-like term, > 0.

    method : {{"convex", "kmeans"}}, default="convex"
        The convex relaxation or the k-means-regularized problem (see the
        objectives above).

    n_init : int, default=10
        KMeans restarts: at each assignment step of ``method="kmeans"``, and
        for the final ``task_clusters_`` of ``method="convex"``.

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
        between two outer iterations is at most ``tol`` (``"kmeans"``: also
        when the assignment no longer changes) after a ``W``-step solved
        by FISTA to ``tol`` (see Notes for the inexact steps before it);
        for ``"convex"`` with ``tol >= 1e-6``, only once the duality gap of
        the jointly convex problem (``dual_gap_``) is at most ``tol`` times
        twice the intercept-only model's loss (near the optimum that gap
        shrinks only like the distance to it, too slowly to certify tighter
        targets).

    warm_start : bool, default=False
        Start from the previous fit's ``coef_`` and ``intercept_`` (and the
        ``M`` they imply, or the previous ``task_clusters_`` for
        ``"kmeans"``) when the tasks and features match.

    random_state : int, RandomState instance or None, default=None
        Seeds the KMeans runs (assignment steps of ``"kmeans"``, final
        ``task_clusters_`` of ``"convex"``): an int gives identical refits."""

_CLUSTERED_ATTRIBUTES = """\
    coef_ : ndarray of shape ({rows}, n_features)
        Coefficients, one row per {row}.

    intercept_ : ndarray of shape ({rows},)
        Intercepts (zeros when ``fit_intercept=False``).

    task_similarity_ : ndarray of shape ({rows}, {rows})
        ``"convex"``: the learned ``M`` (symmetric, trace ``n_clusters``,
        eigenvalues in ``[0, 1]``), optimal for ``coef_``. ``"kmeans"``:
        ``F F'``, i.e. ``1 / n_j`` between two {rows} of cluster ``j`` and 0
        otherwise. Fit keeps ``M`` factored (``"convex"``: eigenvectors
        of rank ``min(n_features, {rows})`` and one eigenvalue for their
        complement; ``"kmeans"``: ``task_clusters_``) and forms no ({rows},
        {rows}) matrix; the matrix is formed on first access and then kept
        (``8 T^2`` bytes, 800 MB at ``T = 10,000``). Without it,
        ``task_clusters_`` summarizes the structure.

    task_clusters_ : ndarray of shape ({rows},)
        Cluster label of each {row}, numbered in order of first appearance:
        the assignment for ``"kmeans"``; for ``"convex"``, KMeans
        (``random_state``) on the rows of the top-``n_clusters``
        eigenvectors of ``M`` scaled by their eigenvalues.

    n_iter_ : int
        Alternating (outer) iterations run.

    n_inner_iter_ : int
        FISTA iterations summed over the ``W``-steps.

    objective_ : float
        Objective at the solution (with ``task_similarity_``).

    objective_path_ : ndarray of shape (``n_iter_``,)
        Objective after each outer iteration, i.e. after each structure
        step (non-increasing).

    stop_crit_ : float
        Final relative objective change.

    dual_gap_ : float
        ``"convex"``: duality gap of the jointly convex problem at the
        solution (the objective is within it of the minimum); NaN for
        ``"kmeans"``, which is not convex.

    tasks_ : ndarray of shape (n_tasks,)
        Task labels: sorted labels of the task column (long layout) or
        ``arange(n_tasks)`` (wide layout).

    n_tasks_ : int
        Number of tasks.

    n_features_in_ : int
        Number of columns of ``X`` seen in fit, the task column included.

    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Column names of ``X`` when it was a DataFrame with string names."""

_CLUSTERED_NOTES = """\
    Alternating minimization. The ``W``-step has the quadratic task-axis
    penalty ``tr(W P W')`` and is solved by warm-started FISTA (its prox is
    linear, ``V (I + 2 step P)^{{-1}}``). ``"convex"``: for fixed ``W`` with
    ``W'W = U diag(s) U'``, the optimal ``M`` is ``U diag(m) U'``,
    ``m_i = clip(sqrt(s_i) / g - eta, 0, 1)`` with ``g`` found by bisection
    so that ``sum_i m_i = n_clusters``. ``W'W`` has rank at most
    ``p = min(n_features, T)``: ``M`` and ``P`` are kept as a rank-``p``
    part (from the thin SVD of ``W``) plus a multiple of the identity, so
    an outer iteration costs ``O(n_features p T)`` beyond the data
    products, linear in ``T``. While the objective decreases by more than
    ``tol``, each ``W``-step stops once FISTA has reduced its gradient
    mapping tenfold (an inexact step for an ``M`` the next update
    replaces; never accepted when worse, so the objective still decreases
    monotonically); from then on the ``W``-steps are solved to ``tol``
    and the alternation stops as with exact steps. ``"kmeans"``: the first ``W``-step
    uses ``M = n_clusters / T * I``, then the assignment is the best of the
    current one, KMeans with ``n_init`` restarts and Lloyd's iterations
    started from the current clusters (the objective never increases); it
    stops when the assignment is stable. The result depends on the start:
    compare ``objective_`` across ``random_state`` values, or use
    ``"convex"`` for a unique minimum."""

_CLUSTERED_REFERENCES = """\
    References
    ----------
    Zhou, Chen & Ye, "Clustered multi-task learning via alternating
    structure optimization", NIPS 2011.
    Jacob, Bach & Vert, "Clustered multi-task learning: a convex
    formulation", NIPS 2008."""


ClusteredRegressor.__doc__ = f"""Multi-task linear regression with clustered tasks (CMTL).

    The tasks' coefficient vectors are assumed to form ``n_clusters``
    groups; each task is pulled towards its cluster's centre.

{_CLUSTERED_OBJECTIVE.format(t="t", row="task", rows="tasks", malsar="Least", loss=_SQUARED_LOSS.replace("        ", "            ", 1))}

    Task ``t`` has ``n_t`` labeled rows ``X_t, y_t`` (with sample weights,
    ``1 / n_t`` becomes ``s_i / S_t``) and task weight ``w_t``.

    **Mapping to MALSAR** (``Least_CMTL(X, Y, rho1, rho2, k)``, the convex
    method): ``alpha = rho1``, ``beta = rho2``, ``n_clusters = k``;
    MALSAR's ``0.5 * sum_t ||X_t w_t - y_t||^2`` is obtained with
    ``task_weights = n_t`` (the per-task sample counts, as an array) and,
    since MALSAR's bias is a penalized column of ones,
    ``fit_intercept=False``.

    Read more in the :ref:`User Guide <task_structure>`.

    Parameters
    ----------
{_CLUSTERED_PARAMETERS.format(n_tasks="n_tasks", alpha="1.0")}

    Attributes
    ----------
{_CLUSTERED_ATTRIBUTES.format(rows="n_tasks", row="task")}

    See Also
    --------
    ClusteredClassifier : the logistic-loss version.
    GraphRegularizedRegressor : a given task graph instead of learned clusters.

    Notes
    -----
{_CLUSTERED_NOTES}

{_CLUSTERED_REFERENCES}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import ClusteredRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 3)
    >>> b1, b2 = rng.randn(3), rng.randn(3)
    >>> Y = X @ np.column_stack([b1, b1, b2, b2]) + 0.01 * rng.randn(60, 4)
    >>> model = ClusteredRegressor(n_clusters=2, alpha=0.1, beta=0.01, random_state=0).fit(X, Y)
    >>> bool(model.task_clusters_[0] == model.task_clusters_[1] != model.task_clusters_[2])
    True
    >>> ClusteredRegressor(2, 0.1, 0.01, method="kmeans", random_state=0).fit(X, Y).task_clusters_
    array([0, 0, 1, 1])
    """


ClusteredClassifier.__doc__ = f"""Multi-task logistic regression with clustered tasks (CMTL).

    The logistic-loss counterpart of :class:`ClusteredRegressor` (MALSAR's
    ``Logistic_CMTL`` for the convex method).

{_CLUSTERED_OBJECTIVE.format(t="k", row="binary column", rows="columns", malsar="Logistic", loss=_LOGISTIC_LOSS.replace("        ", "            ", 1))}

    Each task's labels are encoded per task: a binary task is one column
    ``k`` with targets -1/+1 (its second class is +1); a task with ``K > 2``
    classes is expanded one-vs-rest into ``K`` columns with the task's
    weight each, and the clusters are over these columns (so
    ``n_clusters`` is at most their number). ``n_k`` is the number of
    labeled rows of column ``k`` (with sample weights, ``1 / n_k`` becomes
    ``s_i / S_k``) and ``w_k`` its task's weight.

    **Mapping to MALSAR** (``Logistic_CMTL(X, Y, rho1, rho2, k)``, whose
    loss is the per-task mean logistic loss with a free bias):
    ``alpha = rho1``, ``beta = rho2``, ``n_clusters = k``, default task
    weights. The defaults ``alpha = beta = 0.01`` follow the scale of the
    mean logistic loss (its gradient at 0 is at most 1/2 per standardized
    feature).

    Read more in the :ref:`User Guide <task_structure>`.

    Parameters
    ----------
{_CLUSTERED_PARAMETERS.format(n_tasks="n_columns", alpha="0.01")}

    Attributes
    ----------
{_CLUSTERED_ATTRIBUTES.format(rows="n_columns", row="binary column")}

{_CLASSIFIER_ATTRIBUTES}

    See Also
    --------
    ClusteredRegressor : the squared-loss version.

    Notes
    -----
{_CLUSTERED_NOTES}

{_CLUSTERED_REFERENCES}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import ClusteredClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 3)
    >>> b1, b2 = 3 * rng.randn(3), 3 * rng.randn(3)
    >>> Y = (X @ np.column_stack([b1, b2, b1, b2]) > 0).astype(int)
    >>> model = ClusteredClassifier(n_clusters=2, alpha=0.05, beta=0.001, random_state=0).fit(X, Y)
    >>> model.task_clusters_
    array([0, 1, 0, 1])
    """
