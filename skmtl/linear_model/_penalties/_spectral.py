"""Spectral penalties: functions of the singular values of ``W``.

The trace (nuclear) norm and MTRL's squared trace norm favour a low-rank
``W`` (the tasks share a low-dimensional subspace). Both are unitarily
invariant: their prox is a thin SVD and a shrinkage of the singular values.
"""

import numpy as np

from ._base import BasePenalty, _ElasticNetPenalty, _nonnegative


class TraceNorm(_ElasticNetPenalty):
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


def _squared_l1_shrink(sigma, c):
    """``argmin_{s >= 0} ||s - sigma||^2 / 2 + c / 2 * (sum s)^2`` for sorted ``sigma >= 0``.

    The active set is the ``k`` largest entries, ``s_i = sigma_i - c S``
    with ``S = sum_{i <= k} sigma_i / (1 + c k)``; ``k`` is the largest with
    ``sigma_k > c S_k``.
    """
    k = np.arange(1, len(sigma) + 1)
    S = np.cumsum(sigma) / (1.0 + c * k)
    active = np.flatnonzero(sigma - c * S > 0)
    if len(active) == 0:
        return np.zeros_like(sigma)
    return np.clip(sigma - c * S[active[-1]], 0.0, None)


class SquaredTraceNorm(BasePenalty):
    """``alpha / 2 * (||W||_*^2 + ridge * ||W||_F^2)``: the MTRL penalty with ``Omega`` minimized out.

    ``min_{Omega PSD, tr(Omega) = 1} tr(W Omega^+ W') = ||W||_*^2``, so MTRL's
    joint problem in ``(W, Omega)`` is this convex problem in ``W`` alone.
    Its prox shrinks the singular values by a common amount (a thin SVD).
    """

    _parameters = {"alpha": _nonnegative, "ridge": _nonnegative}

    def __init__(self, alpha=1.0, ridge=0.0):
        self._set_params(alpha=alpha, ridge=ridge)

    def value(self, W):
        W = np.asarray(W, dtype=np.float64)
        nuclear = float(np.linalg.svd(W, compute_uv=False).sum()) if W.size else 0.0
        return 0.5 * self.alpha * (nuclear**2 + self.ridge * float(np.einsum("ij,ij->", W, W)))

    def prox(self, W, step):
        W = np.asarray(W)
        shrink = 1.0 + step * self.alpha * self.ridge
        V = W.astype(np.float64, copy=False) / shrink
        U, sigma, Vt = np.linalg.svd(V, full_matrices=False)
        s = _squared_l1_shrink(sigma, step * self.alpha / shrink)
        return ((U * s) @ Vt).astype(W.dtype, copy=False)

    def subdiff_distance(self, W, grad):
        """Distance from ``-grad`` to ``alpha (||W||_* d||W||_* + ridge W)``."""
        W = np.asarray(W, dtype=np.float64)
        target = np.asarray(grad, dtype=np.float64) + self.alpha * self.ridge * W
        nuclear = float(np.linalg.svd(W, compute_uv=False).sum())
        if nuclear == 0.0:
            # (1/2)||.||_*^2 is differentiable at 0 with gradient 0.
            return float(np.linalg.norm(target))
        return TraceNorm(self.alpha * nuclear).subdiff_distance(W, target)

    def alpha_max(self, grad0):
        """``inf``: ``W = 0`` is optimal only when ``grad0 = 0`` (then 0)."""
        return 0.0 if not np.any(np.asarray(grad0)) else np.inf

    @property
    def has_dual(self):
        return self.alpha > 0

    def dual_scale(self, V):
        """1: the conjugate is finite everywhere."""
        return 1.0

    def conjugate(self, V):
        """``sup_W <V, W> - value(W)``, on the singular values ``sigma`` of ``V``.

        The penalty is unitarily invariant, so the supremum is over singular
        values ``s >= 0`` of ``sigma' s - alpha / 2 ((sum s)^2 + ridge
        ||s||^2)``: ``sigma_1^2 / (2 alpha)`` without ridge, else ``s`` is
        :func:`_squared_l1_shrink` of ``sigma / (alpha ridge)`` with ``c = 1
        / ridge``.
        """
        sigma = np.linalg.svd(np.asarray(V, dtype=np.float64), compute_uv=False)
        if sigma.size == 0:
            return 0.0
        if self.ridge == 0:
            return 0.5 * float(sigma[0]) ** 2 / self.alpha
        s = _squared_l1_shrink(sigma / (self.alpha * self.ridge), 1.0 / self.ridge)
        return float(sigma @ s - 0.5 * self.alpha * (s.sum() ** 2 + self.ridge * s @ s))
