"""Penalties that are sums over the rows (features) of ``W``: L21, L1, sparse group, L1/L-infinity.

Their prox and optimality measure act row by row, so they also take one
step per row (:func:`~._scaled.scale_rows`) and restrict to a subset of
rows (working sets, feature blocks).
"""

import numpy as np

from ._base import _ElasticNetPenalty, _float_array, _nonnegative, _ratio


def _row_norms(W):
    return np.sqrt(np.einsum("ij,ij->i", W, W))


def _soft_threshold(V, threshold):
    """Prox of ``threshold * ||.||_1``, entrywise."""
    return np.sign(V) * np.maximum(np.abs(V) - threshold, 0)


def _group_shrink(V, threshold):
    """Prox of ``threshold * sum_j ||V[j, :]||_2``: each row's norm shrunk by ``threshold``.

    ``threshold`` is a scalar or one value per row ((n_rows,) or (n_rows, 1)).
    """
    norms = _row_norms(V)
    threshold = np.ravel(threshold) if np.ndim(threshold) else threshold
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(norms > threshold, 1.0 - threshold / norms, 0.0)
    return V * scale[:, None].astype(V.dtype, copy=False)


def _l1_distances(W, Z, lam):
    """Entrywise distances from ``Z`` to ``lam * d||.||_1(W)``: ``lam sign(W)``, or ``[-lam, lam]`` at 0."""
    return np.where(W != 0, Z - lam * np.sign(W), np.maximum(np.abs(Z) - lam, 0))


class _RowSeparable(_ElasticNetPenalty):
    """A penalty that is a sum over the rows (features) of ``W``.

    Such penalties also give per-row optimality measures, which working-set
    solvers use to rank the features outside the working set.
    """

    def subdiff_distance_rows(self, W, grad):
        """Per-row distances from ``-grad`` to ``alpha * dOmega(W)``, shape (n_features,).

        :meth:`subdiff_distance` is their Euclidean norm.
        """
        W = np.asarray(W, dtype=np.float64)
        target = -np.asarray(grad, dtype=np.float64)
        if self._ridge > 0:
            target = target - self._ridge * W
        return self._row_distances(W, target, self._strength)

    def _distance(self, W, Z, lam):
        return np.sqrt(np.sum(self._row_distances(W, Z, lam) ** 2))

    def restrict(self, rows):
        """The penalty of the rows ``rows`` of ``W`` (working sets): the same for every row."""
        return self


class L21(_RowSeparable):
    """L2/L1 (group lasso) norm over rows: ``Omega_0(W) = sum_j ||W[j, :]||_2``.

    A feature is used by all tasks or by none (joint feature selection,
    :class:`sklearn.linear_model.MultiTaskLasso`). ``positive=True`` adds the
    constraint ``W >= 0``.

    Parameters
    ----------
    alpha : float, default=1.0
    l1_ratio : float in [0, 1], default=1.0
    positive : bool, default=False
    """

    _supports_positive = True

    def _norm(self, W):
        return float(_row_norms(W).sum())

    def _prox(self, V, threshold):
        # With W >= 0, the prox is the group shrinkage of max(V, 0): the
        # negative part only adds ||P - V||^2 terms that P = 0 there minimizes.
        if self.positive:
            V = np.maximum(V, 0)
        return _group_shrink(V, threshold)

    def _row_distances(self, W, Z, lam):
        norms = _row_norms(W)
        zero = norms == 0
        out = np.empty(W.shape[0])
        if self.positive:
            # Rows at 0: subdifferential lam * ball + nonpositive orthant.
            out[zero] = np.maximum(_row_norms(np.maximum(Z[zero], 0)) - lam, 0)
            # Nonzero rows: coordinates with W > 0 must equal lam * W / ||W||,
            # those with W = 0 may be any nonpositive number.
            Wn, Zn = W[~zero], Z[~zero]
            diff = np.where(Wn > 0, Zn - lam * Wn / norms[~zero][:, None], np.maximum(Zn, 0))
            out[~zero] = _row_norms(diff)
            out[np.any(W < 0, axis=1)] = np.inf  # outside the domain
            return out
        out[zero] = np.maximum(_row_norms(Z[zero]) - lam, 0)
        out[~zero] = _row_norms(Z[~zero] - lam * W[~zero] / norms[~zero][:, None])
        return out

    def _dual_norm(self, Z):
        if self.positive:
            Z = np.maximum(Z, 0)
        return _row_norms(Z).max(initial=0.0)


class L1(_RowSeparable):
    """Entrywise L1 norm ``Omega_0(W) = sum_jt |W_jt|``: independent lassos.

    Parameters
    ----------
    alpha : float, default=1.0
    l1_ratio : float in [0, 1], default=1.0
    positive : bool, default=False
        Constrain ``W >= 0``.
    """

    _supports_positive = True

    def _norm(self, W):
        return float(np.abs(W).sum())

    def _prox(self, V, threshold):
        if self.positive:
            return np.maximum(V - threshold, 0)
        return _soft_threshold(V, threshold)

    def _row_distances(self, W, Z, lam):
        if self.positive:
            # d(|.| + indicator(>= 0))(0) = (-inf, lam]
            diff = np.where(W > 0, Z - lam, np.maximum(Z - lam, 0))
            diff[W < 0] = np.inf  # outside the domain
        else:
            diff = _l1_distances(W, Z, lam)
        return _row_norms(diff)

    def _dual_norm(self, Z):
        if self.positive:
            return max(float(Z.max(initial=0.0)), 0.0)
        return np.abs(Z).max(initial=0.0)

    def dual_scale(self, V):
        """Per-task factors (n_tasks,): the tasks' duals are separate problems."""
        V = np.asarray(V, dtype=np.float64)
        if not np.all(self._ridge > 0):
            peaks = (np.maximum(V, 0) if self.positive else np.abs(V)).max(axis=0, initial=0.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = np.where(peaks > 0, self._strength / peaks, 1.0)
            return np.where(self._ridge > 0, 1.0, np.minimum(scale, 1.0))
        return np.ones(V.shape[1])

    def conjugate(self, V):
        V = np.asarray(V, dtype=np.float64)
        ridge = np.broadcast_to(self._ridge, V.shape[1:])
        P = self._prox(V, self._strength)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_task = np.where(ridge > 0, 0.5 * np.einsum("ij,ij->j", P, P) / ridge, 0.0)
        return float(per_task.sum())


class _TaskL1(L1):
    """Entrywise L1 with one strength per column: ``sum_t a_t Omega_t(W[:, t])``.

    ``Omega_t(w) = l1_ratio * ||w||_1 + (1 - l1_ratio) / 2 * ||w||^2``. The
    penalty is separable over columns, so its prox is the elastic-net prox
    of :class:`L1` with per-column thresholds and shrinkage (broadcast over
    the rows), and the optimality measure is :class:`L1`'s with per-column
    ``lam``. ``alpha_max`` returns the smallest factor ``c`` for which
    ``c * a`` makes ``W = 0`` optimal.

    Parameters
    ----------
    alphas : array-like of shape (n_columns,)
        Nonnegative per-column strengths ``a_t``.
    l1_ratio : float in [0, 1], default=1.0
    """

    _parameters = {"alphas": _float_array, "l1_ratio": _ratio}

    def __init__(self, alphas, *, l1_ratio=1.0):
        self._set_params(alphas=alphas, l1_ratio=l1_ratio)

    @property
    def alpha(self):
        """The largest strength."""
        return float(self.alphas.max(initial=0.0))

    @property
    def _strength(self):
        return self.alphas * self.l1_ratio

    @property
    def has_dual(self):
        # A task with alpha 0 is plain least squares: its dual point is
        # feasible only at the exact optimum, so no gap certifies it.
        return bool(np.all(self.alphas > 0))

    @property
    def _ridge(self):
        return self.alphas * (1.0 - self.l1_ratio)

    def value(self, W):
        W = np.asarray(W, dtype=np.float64)
        return float(self._strength @ np.abs(W).sum(axis=0) + 0.5 * self._ridge @ (W * W).sum(axis=0))

    def prox(self, W, step):
        W = np.asarray(W)
        if np.ndim(step):  # one step per row (scale_rows)
            step = np.asarray(step, dtype=np.float64)[:, None]
        shrink = 1.0 + step * self._ridge
        threshold = (step * self._strength / shrink).astype(W.dtype)
        return self._prox(W / shrink.astype(W.dtype), threshold)

    def subdiff_distance_rows(self, W, grad):
        W = np.asarray(W, dtype=np.float64)
        target = -np.asarray(grad, dtype=np.float64) - self._ridge * W
        return self._row_distances(W, target, self._strength)

    def subdiff_distance(self, W, grad):
        return float(np.sqrt(np.sum(self.subdiff_distance_rows(W, grad) ** 2)))

    def alpha_max(self, grad0):
        if self.l1_ratio == 0:
            return np.inf
        peaks = np.abs(np.asarray(grad0, dtype=np.float64)).max(axis=0, initial=0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(peaks > 0, peaks / self._strength, 0.0)
        return float(ratios.max(initial=0.0))

    def null_ratio(self, grad0):
        # alpha_max is here the factor on every task's alpha that makes W = 0
        # optimal, so the ratio of the alphas to it is its inverse.
        top = self.alpha_max(grad0)
        return 1.0 / top if top > 0 else np.inf


def _epsilon_norms(A, tau):
    """Per row of ``A >= 0`` (n_rows, T): the smallest ``nu`` with ``||(A - tau nu)_+||_2 <= (1 - tau) nu``.

    The dual norm of ``tau ||.||_1 + (1 - tau) ||.||_2`` (the epsilon-norm
    of Ndiaye et al., 2016). With the entries sorted decreasingly, ``nu``
    lies where exactly ``k`` entries exceed ``tau nu``; there the condition
    is the quadratic ``(k tau^2 - (1 - tau)^2) nu^2 - 2 tau S_k nu + Q_k =
    0`` (``S_k``, ``Q_k`` the sums of the ``k`` largest entries and of
    their squares), whose smallest positive root is ``Q_k / (tau S_k +
    sqrt(tau^2 S_k^2 - (k tau^2 - (1 - tau)^2) Q_k))``. The ``k`` is the
    number of sorted entries ``a_k`` at which ``nu = a_k / tau`` already
    meets the condition, all rows at once.
    """
    if A.shape[1] == 0:
        return np.zeros(A.shape[0])
    U = -np.sort(-A, axis=1)
    k = np.arange(1, A.shape[1] + 1)
    S = np.cumsum(U, axis=1)
    Q = np.cumsum(U * U, axis=1)
    # ||(A - a_k)_+||^2 = Q_k - 2 a_k S_k + k a_k^2 (k = 1 always qualifies: 0 <= a_1).
    excess = np.maximum(Q - 2 * U * S + k * U * U, 0.0)
    n_active = np.maximum(np.sum(tau**2 * excess <= (1 - tau) ** 2 * U * U, axis=1), 1)
    rows = np.arange(A.shape[0])
    S, Q = S[rows, n_active - 1], Q[rows, n_active - 1]
    discriminant = np.maximum((tau * S) ** 2 - (n_active * tau**2 - (1 - tau) ** 2) * Q, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(Q > 0, Q / (tau * S + np.sqrt(discriminant)), 0.0)


class SparseGroupL21(_RowSeparable):
    """Sparse-group norm ``l1_ratio * sum_jt |W_jt| + (1 - l1_ratio) * sum_j ||W[j, :]||_2``, times ``alpha``.

    The L21 part selects features jointly across tasks, the L1 part the
    tasks that use a selected feature (the sparse group lasso, Simon et
    al., 2013). ``l1_ratio`` is the L1 share of the norm: there is no
    ridge part (``_norm_share = 1``), so ``alpha_max`` is the dual norm of
    the gradient at 0.

    Parameters
    ----------
    alpha : float, default=1.0
    l1_ratio : float in [0, 1], default=0.5

    Notes
    -----
    The prox of ``t (r ||.||_1 + (1 - r) sum_j ||.||_2)`` is the group
    shrinkage by ``(1 - r) t`` of the soft-thresholding by ``r t``
    (Friedman, Hastie & Tibshirani, 2010). The dual norm is the largest
    row's epsilon-norm (:func:`_epsilon_norms`).
    """

    _parameters = {"alpha": _nonnegative, "l1_ratio": _ratio}
    _norm_share = 1.0

    def __init__(self, alpha=1.0, *, l1_ratio=0.5):
        self._set_params(alpha=alpha, l1_ratio=l1_ratio)

    def _norm(self, W):
        return float(self.l1_ratio * np.abs(W).sum() + (1 - self.l1_ratio) * _row_norms(W).sum())

    def _prox(self, V, threshold):
        return _group_shrink(_soft_threshold(V, self.l1_ratio * threshold), (1 - self.l1_ratio) * threshold)

    def _row_distances(self, W, Z, lam):
        r = self.l1_ratio
        norms = _row_norms(W)
        zero = norms == 0
        out = np.empty(W.shape[0])
        # Rows at 0: lam * (r [-1, 1]^T + (1 - r) unit ball); the box part
        # absorbs up to r lam of each entry, the ball the rest's norm.
        out[zero] = np.maximum(_row_norms(_soft_threshold(Z[zero], r * lam)) - (1 - r) * lam, 0)
        # Other rows: the ball part is (1 - r) lam W / ||W||, the box part L1's.
        Wn = W[~zero]
        group = Z[~zero] - (1 - r) * lam * Wn / norms[~zero][:, None]
        out[~zero] = _row_norms(_l1_distances(Wn, group, r * lam))
        return out

    def _dual_norm(self, Z):
        return _epsilon_norms(np.abs(Z), self.l1_ratio).max(initial=0.0)


def _linf_threshold(A, radius):
    """Per-row ``theta >= 0`` with ``sum_t max(A_t - theta, 0) = radius``.

    ``A`` (n_rows, T) holds nonnegative values; ``radius`` is a scalar or
    (n_rows,). Rows with ``sum A <= radius`` get ``theta = 0``. This is the
    threshold of the Euclidean projection onto the L1 ball (Duchi et al.,
    2008), computed for all rows at once by sorting.
    """
    radius = np.broadcast_to(np.asarray(radius, dtype=np.float64), A.shape[:1])
    if A.shape[1] == 0:
        return np.zeros(A.shape[0])
    U = -np.sort(-A, axis=1)
    cumsum = np.cumsum(U, axis=1)
    k = np.arange(1, A.shape[1] + 1)
    candidates = (cumsum - radius[:, None]) / k
    # rho = the last k with U_k > theta_k (always holds at k = 1 when radius > 0)
    rho = np.sum(U > candidates, axis=1)
    rho = np.maximum(rho, 1)
    theta = candidates[np.arange(A.shape[0]), rho - 1]
    return np.maximum(theta, 0.0)


def _project_simplex_masked(V, radius, mask):
    """Project the masked entries of each row onto ``{x >= 0, sum x = radius}``.

    Entries outside ``mask`` are 0 in the result. Sorting with the masked-out
    entries at ``-inf`` keeps the whole computation vectorized.
    """
    values = np.where(mask, V, -np.inf)
    U = -np.sort(-values, axis=1)
    finite = np.isfinite(U)
    cumsum = np.cumsum(np.where(finite, U, 0.0), axis=1)
    k = np.arange(1, V.shape[1] + 1)
    candidates = (cumsum - radius) / k
    rho = np.sum(finite & (U > candidates), axis=1)
    rho = np.maximum(rho, 1)
    theta = candidates[np.arange(V.shape[0]), rho - 1]
    return np.where(mask, np.maximum(V - theta[:, None], 0), 0.0)


class L1Linf(_RowSeparable):
    """L1/L-infinity norm over rows: ``Omega_0(W) = sum_j max_t |W_jt|``.

    Like :class:`L21` it selects features jointly across tasks, and it
    pushes the tasks' coefficients of a selected feature to equal magnitudes
    (Turlach et al., 2005; Negahban & Wainwright, 2008).

    Parameters
    ----------
    alpha : float, default=1.0
    l1_ratio : float in [0, 1], default=1.0

    Notes
    -----
    The prox uses the Moreau decomposition: ``prox_{tau ||.||_inf}(v) = v -
    P(v)`` where ``P`` projects onto the L1 ball of radius ``tau``; that is
    ``sign(v) * min(|v|, theta)`` with the projection's threshold ``theta``,
    so the clipped entries equal ``theta`` exactly.
    """

    def _norm(self, W):
        return float(np.abs(W).max(axis=1, initial=0.0).sum())

    def _prox(self, V, threshold):
        A = np.abs(V)
        theta = _linf_threshold(A, np.ravel(threshold) if np.ndim(threshold) else threshold)
        return np.sign(V) * np.minimum(A, theta[:, None].astype(V.dtype, copy=False))

    def _row_distances(self, W, Z, lam):
        A = np.abs(W)
        peak = A.max(axis=1, initial=0.0)
        zero = peak == 0
        out = np.empty(W.shape[0])
        # Rows at 0: distance to the L1 ball of radius lam, i.e. the norm of
        # Z minus its projection = sign(Z) min(|Z|, theta).
        Zz = np.abs(Z[zero])
        theta = _linf_threshold(Zz, lam)
        out[zero] = _row_norms(np.minimum(Zz, theta[:, None]))
        # Nonzero rows: dOmega_0 = {sign(w_t) mu_t on the argmax set, 0 off
        # it, mu >= 0, sum mu = 1}. Ties are the entries within 1e-10
        # (relative) of the row maximum.
        An, Zn, Wn = A[~zero], Z[~zero], W[~zero]
        active = An >= peak[~zero][:, None] * (1 - 1e-10)
        oriented = np.sign(Wn) * Zn
        proj = _project_simplex_masked(oriented, lam, active)
        out[~zero] = _row_norms(np.where(active, oriented - proj, Zn))
        return out

    def _dual_norm(self, Z):
        return np.abs(Z).sum(axis=1).max(initial=0.0)
