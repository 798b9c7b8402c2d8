"""Penalties of the linear multi-task models.

A penalty is a small class acting on the whole coefficient matrix ``W`` of
shape (n_features, n_tasks) (rows = features across tasks, the groups of the
L21 norm). Every penalty has the elastic-net form::

    alpha * Omega(W),   Omega(W) = l1_ratio * Omega_0(W) + (1 - l1_ratio) / 2 * ||W||_F^2

and provides

* ``value(W)``: ``alpha * Omega(W)``;
* ``prox(W, step)``: ``argmin_P ||P - W||_F^2 / 2 + step * alpha * Omega(P)``;
* ``subdiff_distance(W, grad)``: the Euclidean (Frobenius) distance from
  ``-grad`` to the subdifferential ``alpha * dOmega(W)``; it is 0 exactly at
  a minimizer of ``f + alpha * Omega`` when ``grad`` is the gradient of ``f``
  (with the intercepts at their optimum). For the separable penalties it is
  the square root of the sum of the squared per-row (per-entry) distances;
* ``alpha_max(grad0)``: the smallest ``alpha`` for which ``W = 0`` is optimal
  when ``grad0`` is the loss gradient at ``W = 0``: the dual norm of
  ``grad0`` divided by ``l1_ratio`` (as scikit-learn's ``_alpha_grid``);
  ``inf`` when ``l1_ratio = 0``.

The elastic-net part only rescales the prox of ``Omega_0``::

    prox_{s a (r Omega_0 + (1 - r)/2 ||.||^2)}(V) = prox_{s a r / (1 + s a (1 - r)) Omega_0}(V / (1 + s a (1 - r)))
"""

import numbers

import numpy as np

__all__ = ["L21", "L1", "TraceNorm", "L1Linf", "scale_rows"]


def _check_scalar(value, name, *, low=0.0, high=None):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r}.")
    if not np.isfinite(value) or value < low or (high is not None and value > high):
        bounds = f"in [{low:g}, {high:g}]" if high is not None else f">= {low:g}"
        raise ValueError(f"{name} must be {bounds}; got {value!r}.")
    return float(value)


class _Penalty:
    """Elastic-net scaffolding; subclasses implement the ``Omega_0`` parts."""

    _supports_positive = False

    def __init__(self, alpha=1.0, *, l1_ratio=1.0, positive=False):
        self.alpha = _check_scalar(alpha, "alpha")
        self.l1_ratio = _check_scalar(l1_ratio, "l1_ratio", high=1.0)
        if positive and not self._supports_positive:
            raise ValueError(f"{type(self).__name__} does not support positive=True.")
        self.positive = bool(positive)

    def __repr__(self):
        extra = ", positive=True" if self.positive else ""
        return f"{type(self).__name__}(alpha={self.alpha!r}, l1_ratio={self.l1_ratio!r}{extra})"

    @property
    def _strength(self):
        """Weight of ``Omega_0``: ``alpha * l1_ratio``."""
        return self.alpha * self.l1_ratio

    @property
    def _ridge(self):
        """Weight of ``||W||_F^2 / 2``: ``alpha * (1 - l1_ratio)``."""
        return self.alpha * (1.0 - self.l1_ratio)

    def value(self, W):
        """``alpha * (l1_ratio * Omega_0(W) + (1 - l1_ratio) / 2 * ||W||_F^2)``.

        With ``positive=True`` the constraint ``W >= 0`` is left out of the
        value (the solvers only produce feasible ``W``, through the prox).
        """
        W = np.asarray(W)
        value = 0.0
        if self._strength > 0:
            value += self._strength * self._norm(W)
        if self._ridge > 0:
            flat = W.ravel()
            value += 0.5 * self._ridge * float(np.einsum("i,i->", flat, flat))
        return value

    def prox(self, W, step):
        """Proximal operator of ``step * value`` at ``W`` (a new array).

        ``step`` is a float, or for a penalty that is a sum over rows an
        array of shape (n_features,): one step per row (see :func:`scale_rows`).
        """
        W = np.asarray(W)
        if np.ndim(step):
            step = np.asarray(step, dtype=W.dtype)[:, None]
        shrink = 1.0 + step * self._ridge
        V = W / shrink if np.any(shrink != 1.0) else W
        threshold = step * self._strength / shrink
        return self._prox(V, threshold)

    def subdiff_distance(self, W, grad):
        """Frobenius distance from ``-grad`` to ``alpha * dOmega(W)``.

        Returns ``inf`` for a ``W`` outside the domain (a negative entry with
        ``positive=True``).
        """
        W = np.asarray(W)
        target = -np.asarray(grad, dtype=np.float64)
        if self._ridge > 0:
            target = target - self._ridge * W
        return float(self._distance(W.astype(np.float64, copy=False), target, self._strength))

    def alpha_max(self, grad0):
        """Smallest ``alpha`` for which ``W = 0`` is optimal (gradient ``grad0`` at 0)."""
        if self.l1_ratio == 0:
            return np.inf
        return float(self._dual_norm(-np.asarray(grad0, dtype=np.float64))) / self.l1_ratio

    def null_ratio(self, grad0):
        """``alpha / alpha_max(grad0)``: 1 or more exactly when ``W = 0`` is optimal."""
        top = self.alpha_max(grad0)
        return self.alpha / top if top > 0 else np.inf

    # ------------------------------------------------------------------
    # The Fenchel conjugate, for duality gaps (SquaredLoss.dual_gap).
    @property
    def has_dual(self):
        """Whether :meth:`conjugate` is finite on a scaled dual point: a positive ``alpha``."""
        return self.alpha > 0

    def dual_scale(self, V):
        """Factor ``s`` in (0, 1] that makes ``conjugate(s * V)`` finite.

        With a ridge part the conjugate is finite everywhere (1). Else it is
        the indicator of the dual ball ``Omega_0^*(V) <= alpha l1_ratio``,
        and ``s`` scales ``V`` into it (the rescaled residual of the
        Lasso's dual point, Massias et al., 2018).
        """
        if self._ridge > 0:
            return 1.0
        norm = self._dual_norm(np.asarray(V, dtype=np.float64))
        return min(1.0, self._strength / norm) if norm > 0 else 1.0

    def conjugate(self, V):
        """``sup_W <V, W> - value(W)`` for ``V`` in the domain (see :meth:`dual_scale`).

        For ``h = lam Omega_0 + rho / 2 ||.||_F^2`` with ``rho > 0`` it is
        ``||prox_{lam Omega_0}(V)||_F^2 / (2 rho)`` (``Omega_0`` is
        positively homogeneous); without ridge, 0 inside the dual ball.
        """
        if not self._ridge > 0:
            return 0.0
        V = np.asarray(V, dtype=np.float64)
        P = self._prox(V, self._strength) if self._strength > 0 else V
        return 0.5 * float(np.einsum("ij,ij->", P, P)) / self._ridge


def _row_norms(W):
    return np.sqrt(np.einsum("ij,ij->i", W, W))


class _RowSeparable(_Penalty):
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
        norms = _row_norms(V)
        threshold = np.ravel(threshold) if np.ndim(threshold) else threshold
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(norms > threshold, 1.0 - threshold / norms, 0.0)
        return V * scale[:, None].astype(V.dtype, copy=False)

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
        return np.sign(V) * np.maximum(np.abs(V) - threshold, 0)

    def _row_distances(self, W, Z, lam):
        if self.positive:
            # d(|.| + indicator(>= 0))(0) = (-inf, lam]
            diff = np.where(W > 0, Z - lam, np.maximum(Z - lam, 0))
            diff[W < 0] = np.inf  # outside the domain
        else:
            diff = np.where(W != 0, Z - lam * np.sign(W), np.maximum(np.abs(Z) - lam, 0))
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


class TraceNorm(_Penalty):
    """Nuclear (trace) norm ``Omega_0(W) = sum of singular values of W``.

    Favours a low-rank ``W``: the tasks share a low-dimensional subspace.

    Parameters
    ----------
    alpha : float, default=1.0
    l1_ratio : float in [0, 1], default=1.0
    """

    def _norm(self, W):
        return float(np.linalg.svd(W, compute_uv=False).sum())

    def _prox(self, V, threshold):
        # Singular value thresholding; the thin SVD costs d T min(d, T).
        U, s, Vt = np.linalg.svd(V, full_matrices=False)
        s = np.maximum(s - threshold, 0)
        keep = s > 0
        return (U[:, keep] * s[keep]) @ Vt[keep]

    def _distance(self, W, Z, lam):
        # dOmega_0(W) = {U V' + N : U' N = 0, N V = 0, ||N||_2 <= 1} with
        # W = U S V' its compact SVD. Split Z into its part on the tangent
        # space of W and the orthogonal part N = (I - UU') Z (I - VV').
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        tol = s.max(initial=0.0) * max(W.shape) * np.finfo(np.float64).eps * 10
        rank = int(np.sum(s > tol))
        U, Vt = U[:, :rank], Vt[:rank]
        left = Z - U @ (U.T @ Z)
        N = left - (left @ Vt.T) @ Vt
        tangent = Z - N - lam * (U @ Vt)
        # Distance from N to the spectral-norm ball of radius lam.
        sigma = np.linalg.svd(N, compute_uv=False)
        return np.sqrt(np.sum(tangent**2) + np.sum(np.maximum(sigma - lam, 0) ** 2))

    def _dual_norm(self, Z):
        return np.linalg.norm(Z, 2) if Z.size else 0.0


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


class _RowScaled:
    """``g(V) = h(V / s)``: a penalty ``h`` seen in the coordinates ``V = s W`` of scaled features.

    A loss on the features ``X / s`` (:class:`~._losses.SquaredLoss`
    ``scale=True``) has coefficients ``V = s W`` (``s`` per row); the model
    is the same when the penalty is taken at ``W = V / s``. For a penalty
    that acts on each row alone, ``prox_{tau g}(V) = s prox_{tau / s^2 h}(V / s)``
    row by row: proximal gradient on the scaled problem is proximal gradient
    with one step per feature, so that one feature on a large scale (an
    income next to a few ratios) no longer sets the step of all the others.
    """

    def __init__(self, penalty, scale):
        self.penalty = penalty
        self.scale = np.asarray(scale, dtype=np.float64)
        self._column = self.scale[:, None]
        self.alpha = penalty.alpha

    def __repr__(self):
        return f"scale_rows({self.penalty!r})"

    def value(self, V):
        return self.penalty.value(np.asarray(V) / self._column)

    def prox(self, V, step):
        V = np.asarray(V)
        inner = self.penalty.prox(V / self._column.astype(V.dtype), step / self.scale**2)
        return np.asarray(inner * self._column, dtype=V.dtype)

    def restrict(self, rows):
        return _RowScaled(self.penalty.restrict(rows), self.scale[rows])

    def subdiff_distance_rows(self, V, grad):
        # dg(V) = dh(V / s) / s, row by row.
        W = np.asarray(V, dtype=np.float64) / self._column
        return self.penalty.subdiff_distance_rows(W, np.asarray(grad, dtype=np.float64) * self._column) / self.scale

    def subdiff_distance(self, V, grad):
        return float(np.sqrt(np.sum(self.subdiff_distance_rows(V, grad) ** 2)))

    def alpha_max(self, grad0):
        return self.penalty.alpha_max(np.asarray(grad0, dtype=np.float64) * self._column)

    def null_ratio(self, grad0):
        return self.penalty.null_ratio(np.asarray(grad0, dtype=np.float64) * self._column)

    @property
    def has_dual(self):
        return self.penalty.has_dual

    def dual_scale(self, U):
        return self.penalty.dual_scale(np.asarray(U, dtype=np.float64) * self._column)

    def conjugate(self, U):
        # g*(U) = sup_V <U, V> - h(V / s) = h*(s U).
        return self.penalty.conjugate(np.asarray(U, dtype=np.float64) * self._column)


def scale_rows(penalty, scale):
    """The penalty ``penalty`` in the coordinates ``V = scale[:, None] * W`` (see :class:`_RowScaled`).

    ``penalty`` must act on each row of ``W`` alone (a sum over features:
    :class:`L21`, :class:`L1`, :class:`L1Linf`); ``scale`` is None or of
    shape (n_features,). Returns ``penalty`` itself when ``scale`` is None.
    """
    if scale is None:
        return penalty
    if not isinstance(penalty, _RowSeparable):
        raise TypeError(f"scale_rows needs a penalty that is a sum over rows; got {type(penalty).__name__}.")
    return _RowScaled(penalty, scale)
