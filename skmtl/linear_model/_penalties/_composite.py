"""Composite penalties and constraint sets: a penalty per block of rows, a nuclear-norm ball.

The dirty and sparse + low-rank models (``_dirty.py``) solve for ``Z =
[P; Q]`` with one penalty on each block (:class:`BlockPenalty`); the
constrained form of the second takes the indicator of a nuclear-norm
ball (:class:`NuclearBall`) as its penalty.
"""

import numpy as np
from scipy.optimize import minimize_scalar

from ._base import BasePenalty, _as_is, _count, _nonnegative
from ._row_separable import _linf_threshold
from ._spectral import TraceNorm


class NuclearBall(BasePenalty):
    """The constraint ``||Q||_* <= radius`` as a penalty (its indicator).

    ``value`` is 0 (the solvers only produce feasible points, through the
    prox); ``prox`` is the Euclidean projection onto the nuclear-norm ball:
    the singular values are projected onto the L1 ball of radius ``radius``
    (exact, by sorting).
    """

    _parameters = {"radius": _nonnegative}

    def __init__(self, radius):
        self._set_params(radius=radius)

    def value(self, W):
        return 0.0

    # The conjugate of the indicator is the support function of the ball,
    # ``radius * ||V||_2`` (the spectral norm, the nuclear norm's dual):
    # finite everywhere, so every dual point serves as it is.
    has_dual = True

    def dual_scale(self, V):
        """1: the conjugate is finite everywhere."""
        return 1.0

    def conjugate(self, V):
        """``sup_{||W||_* <= radius} <V, W> = radius * ||V||_2``."""
        V = np.asarray(V, dtype=np.float64)
        return self.radius * float(np.linalg.norm(V, 2)) if V.size else 0.0

    def prox(self, W, step):
        W = np.asarray(W)
        U, s, Vt = np.linalg.svd(W.astype(np.float64, copy=False), full_matrices=False)
        if s.sum() > self.radius:
            theta = _linf_threshold(s[None, :], self.radius)[0]
            s = np.maximum(s - theta, 0.0)
        return ((U * s) @ Vt).astype(W.dtype, copy=False)

    def subdiff_distance(self, W, grad):
        """Distance from ``-grad`` to the normal cone of the ball at ``W``.

        Inside the ball the cone is ``{0}``; on the boundary it is
        ``{lam * G : lam >= 0, G in d||W||_*}``, and the distance is
        minimized over ``lam`` (a convex 1-D problem).
        """
        W = np.asarray(W, dtype=np.float64)
        Z = -np.asarray(grad, dtype=np.float64)
        nuclear = float(np.linalg.svd(W, compute_uv=False).sum()) if W.size else 0.0
        if nuclear > self.radius * (1 + 1e-8):
            return np.inf
        if nuclear < self.radius * (1 - 1e-8):
            return float(np.linalg.norm(Z))

        def dist(lam):
            return TraceNorm(lam).subdiff_distance(W, -Z)

        top = max(np.linalg.norm(Z, 2), 1e-300)
        res = minimize_scalar(dist, bounds=(0.0, 2 * top), method="bounded", options={"xatol": 1e-12 * top})
        return float(min(res.fun, dist(0.0)))


class BlockPenalty(BasePenalty):
    """``first(P) + second(Q)`` on ``Z = [P; Q]`` of shape (2 n_features, n_tasks).

    The prox of a block-separable function is the prox of each block;
    ``subdiff_distance`` is the square root of the sum of the blocks'
    squared distances, and the conjugate is the sum of the blocks'
    conjugates, ``h^*([U; V]) = first^*(U) + second^*(V)``.

    Parameters
    ----------
    n_features : int
        Rows of ``P`` (and of ``Q``).
    first, second : penalty objects
        Provide ``value``, ``prox`` and ``subdiff_distance`` (e.g.
        :class:`L1Linf` and :class:`L1`).
    """

    _parameters = {"n_features": _count, "first": _as_is, "second": _as_is}

    def __init__(self, n_features, first, second):
        self._set_params(n_features=n_features, first=first, second=second)

    def _split(self, Z):
        d = self.n_features
        return Z[:d], Z[d:]

    def value(self, Z):
        P, Q = self._split(np.asarray(Z))
        return float(self.first.value(P) + self.second.value(Q))

    def prox(self, Z, step):
        P, Q = self._split(np.asarray(Z))
        return np.vstack([self.first.prox(P, step), self.second.prox(Q, step)])

    def subdiff_distance(self, Z, grad):
        P, Q = self._split(np.asarray(Z))
        gP, gQ = self._split(np.asarray(grad))
        return float(np.hypot(self.first.subdiff_distance(P, gP), self.second.subdiff_distance(Q, gQ)))

    # ------------------------------------------------------------------
    # The conjugate, for duality gaps (the two-part models' dual_gap_).
    @property
    def has_dual(self):
        """Whether both blocks have a usable conjugate."""
        return bool(getattr(self.first, "has_dual", False) and getattr(self.second, "has_dual", False))

    def dual_scale(self, U):
        """The smaller of the blocks' factors (per task where one of them is per task).

        A dual point is scaled as a whole. Each block's conjugate is finite
        everywhere or on the ball of a norm that does not grow when a column
        shrinks (spectral, L-infinity, L2/L-infinity, L-infinity/L1,
        epsilon-norms): a factor below a block's own keeps that block in
        its domain, so the smaller one serves both.
        """
        UP, UQ = self._split(np.asarray(U, dtype=np.float64))
        return np.minimum(self.first.dual_scale(UP), self.second.dual_scale(UQ))

    def conjugate(self, U):
        """``first^*(U_P) + second^*(U_Q)`` (a sum of functions of separate blocks)."""
        UP, UQ = self._split(np.asarray(U, dtype=np.float64))
        return float(self.first.conjugate(UP) + self.second.conjugate(UQ))
