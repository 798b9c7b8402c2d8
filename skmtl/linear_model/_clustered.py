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

The penalties (``_ClusterQuadratic``, ``_SpectralQuadratic``, the
M-update and the convex penalty with ``M`` minimized out) are in
:mod:`._penalties._clustering`.
"""

import numbers
import warnings
from dataclasses import replace

import numpy as np
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import (
    _CLASSIFIER_ATTRIBUTES,
    _LinearMultiTaskClassifier,
    _LinearMultiTaskModel,
    _LinearMultiTaskRegressor,
    warn_not_converged,
)
from ._penalties import (
    MeanQuadratic,
    TaskQuadratic,
    _cluster_average,
    _cluster_matrix_update,
    _ClusterQuadratic,
    _ConvexClusterPenalty,
    _indicator_projection,
    _penalty_eigvals,
    _SpectralQuadratic,
    _TaskSpectrum,
)
from ._extrapolation import _anderson
from ._solvers import solve
from ._task_graph import _LOGISTIC_LOSS, _SQUARED_LOSS, _dense_task_attribute, _forget_dense_attributes

__all__ = ["ClusteredRegressor", "ClusteredClassifier"]


# --------------------------------------------------------------------- k-means penalty
def _canonical_labels(labels):
    """Cluster codes ``0, 1, ...`` in order of first appearance (empty clusters dropped)."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    code = np.empty(len(first), dtype=np.intp)
    code[np.argsort(first)] = np.arange(len(first))
    return code[inverse.ravel()]


class _ClusterProjection:
    """``F F'`` of a hard assignment, kept as its labels until :meth:`dense`."""

    def __init__(self, labels):
        self.labels = labels

    def dense(self):
        return _indicator_projection(self.labels)


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
        intercept = np.asarray(loss.from_centered_intercept(W, b), dtype=self.coef_.dtype)
        self.intercept_ = self._offset_intercept(self.coef_, intercept, -1)
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
        if not converged:
            # The alternation's own certificate: the gap of the convex problem
            # when it decides, else the relative objective change.
            if certificate is not None:
                self.dual_gap_ = float(loss.dual_gap(W, b, certificate))
            outer = replace(
                result, stop_crit=self.stop_crit_, dual_gap=self.dual_gap_ if certificate is not None else np.nan
            )
            warn_not_converged(type(self).__name__, outer, self.max_iter, self.tol, loss)
        elif not inner_converged:
            warn_not_converged(type(self).__name__, result, self.max_iter, self.tol, loss)
        return self


class ClusteredRegressor(_ClusteredMixin, _LinearMultiTaskRegressor):
    def __init__(
        self,
        n_clusters=2,
        alpha=0.1,
        beta=0.1,
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

    task_weights : None, "balanced", "n_samples" or array-like of shape (n_tasks,), default=None
        ``w_t``: 1 per task (None, the same as "balanced"), proportional to the number of labeled
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
{_CLUSTERED_PARAMETERS.format(n_tasks="n_tasks", alpha="0.1")}

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
