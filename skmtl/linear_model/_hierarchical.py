"""Hierarchical (empirical-Bayes) linear models: the linear mixed model, fitted by (RE)ML.

Task ``t`` has rows ``y_ti = b0 + x_ti' beta + z_ti' u_t + e_ti`` with
``u_t ~ N(0, Sigma)`` and ``e_ti ~ N(0, s2_t)``; ``z_ti = [1, x_ti
restricted to the random features]``. The strength of sharing (``Sigma``) is
learned by maximizing the (restricted) likelihood instead of being tuned by
cross-validation, so these models are not *loss x penalty x solver*
(DESIGN.md section 4): they own an EM solver.

The solver touches the rows once: it reduces them to per-task sufficient
statistics (``X_t' W_t X_t``, ``Z_t' W_t X_t``, ``X_t' W_t y_t``, ... with
``Z_t`` a subset of the columns of ``X_t``), then every EM iteration is
stacked ``(T, q, q)`` linear algebra over the tasks. With ``Sigma = L L'``
(``L`` any square root, so a singular ``Sigma`` at the boundary is fine) and
``M_t = s2_t I + L' Z_t' Z_t L``, the Woodbury identity and the determinant
lemma give everything from these statistics::

    V_t^-1 = (I - Z_t L M_t^-1 L' Z_t') / s2_t
    log|V_t| = (n_t - q) log s2_t + log|M_t|

The fixed effects are profiled (generalized least squares) at each
iteration. EM treats ``u_t`` as missing data, and for REML also ``beta``
(flat prior), which makes each step increase the restricted likelihood; the
M-steps are closed form for every covariance structure (the factor model
``L L' + D`` is updated by one factor-analysis EM step on the expected
second moments of ``u_t``). SQUAREM (Varadhan & Roland 2008) extrapolates
two EM steps and keeps the result only when the likelihood does not drop;
L-BFGS-B on the profiled likelihood, with its analytic gradient, finishes
where EM crawls.

The logistic version (:class:`HierarchicalClassifier`) has no sufficient
statistics: each EM step finds the joint mode of ``(beta, u_1..u_T)`` by
Newton steps with the same block-arrow elimination (weighted per-task
Grams from one pass over the rows per step), and integrates ``u_t`` by a
Laplace approximation there.
"""

import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.special
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._data import task_column_position
from ..base import UNSEEN_TASK_CONSTRAINT, MultiTaskMixin
from ..utils._compat import check_n_features_and_names
from ..utils._dask import is_dask_collection
from ._base import _LinearMultiTaskClassifier

__all__ = ["HierarchicalRegressor", "HierarchicalClassifier"]

_LOG_2PI = np.log(2.0 * np.pi)
# EM hands over to the quasi-Newton polish once its steps move the variance
# parameters by less than this (relative): EM is robust far from the optimum,
# L-BFGS fast near it.
_EM_TOL = 1e-3


# --------------------------------------------------------------------- statistics
@dataclass
class _TaskStats:
    """Weighted per-task sufficient statistics of the fixed design ``X``
    (columns kept by the fit, intercept first), the random design ``Z`` and
    ``y``. Leading axis: tasks. ``n`` is the total weight of each task."""

    XX: np.ndarray  # (T, p, p)
    Xy: np.ndarray  # (T, p)
    yy: np.ndarray  # (T,)
    ZZ: np.ndarray  # (T, q, q)
    ZX: np.ndarray  # (T, q, p)
    Zy: np.ndarray  # (T, q)
    n: np.ndarray  # (T,)

    @property
    def n_tasks(self):
        return self.n.shape[0]


def _task_moments(A, rows, codes, targets, weights, n_tasks):
    """Per-task ``A_t' W_t A_t``, ``A_t' W_t y_t``, ``y_t' W_t y_t`` and ``sum W_t``.

    One pass over the labeled (row, task) pairs: a sparse (n_tasks, n_rows)
    indicator carrying the weights sums the rows of each task, one column
    block of the products at a time, so memory stays O(n_rows * n_columns)
    and the rows need not be sorted (the wide layout shares rows between
    tasks).
    """
    shape = (n_tasks, A.shape[0])
    indicator = sp.csr_matrix((weights, (codes, rows)), shape=shape)
    weighted_y = sp.csr_matrix((weights * targets, (codes, rows)), shape=shape)
    m = A.shape[1]
    G = np.empty((n_tasks, m, m))
    for j in range(m):
        G[:, j:, j] = indicator @ (A[:, j:] * A[:, [j]])
        G[:, j, j + 1 :] = G[:, j + 1 :, j]
    Ay = np.asarray(weighted_y @ A)
    yy = np.bincount(codes, weights=weights * targets**2, minlength=n_tasks)
    n = np.bincount(codes, weights=weights, minlength=n_tasks)
    return G, Ay, yy, n


def _select(G, Ay, yy, n, fixed, random):
    """Statistics of the fixed and random designs, both column subsets of ``A``."""
    return _TaskStats(
        XX=G[:, fixed][:, :, fixed],
        Xy=Ay[:, fixed],
        yy=yy,
        ZZ=G[:, random][:, :, random],
        ZX=G[:, random][:, :, fixed],
        Zy=Ay[:, random],
        n=n,
    )


def _independent_columns(gram, rtol=1e-9):
    """Positions of a maximal set of linearly independent columns, earliest first.

    Sequential Gram-Schmidt on the Gram matrix (O(p^3)): a column is kept when
    its residual on the columns kept before it is above ``rtol`` times its
    squared norm. As R's ``lm`` and lme4, a later column aliased with earlier
    ones is the one dropped.
    """
    kept, R = [], np.zeros((0, 0))
    for j in range(gram.shape[0]):
        norm2 = gram[j, j]
        if norm2 <= 0:
            continue
        a = scipy.linalg.solve_triangular(R, gram[kept, j], trans="T") if kept else np.zeros(0)
        residual = norm2 - a @ a
        if residual > rtol * norm2:
            R = np.block([[R, a[:, None]], [np.zeros((1, len(kept))), np.sqrt(residual)[None, None]]])
            kept.append(j)
    return np.asarray(kept, dtype=int)


# --------------------------------------------------------------------- covariance structures
class _Full:
    """Unstructured ``Sigma``; parameters: its q x q entries."""

    def __init__(self, q):
        self.q = q

    def pack(self, Sigma):
        return Sigma.ravel().copy()

    def sigma(self, params):
        Sigma = params.reshape(self.q, self.q)
        return 0.5 * (Sigma + Sigma.T)

    def m_step(self, params, second_moment):
        return second_moment.ravel().copy()

    def is_valid(self, params):
        Sigma = self.sigma(params)
        return np.linalg.eigvalsh(Sigma)[0] >= -1e-12 * max(np.trace(Sigma), 1e-300)

    # The quasi-Newton polish works on Sigma = C C', C lower triangular
    # (unconstrained); the other structures on their own parameters.
    def to_free(self, params):
        Sigma = self.sigma(params)
        jitter = 1e-12 * max(np.trace(Sigma), 1e-300) * np.eye(self.q)
        return np.linalg.cholesky(Sigma + jitter)[np.tril_indices(self.q)]

    def from_free(self, x):
        C = np.zeros((self.q, self.q))
        C[np.tril_indices(self.q)] = x
        return (C @ C.T).ravel()

    def free_gradient(self, x, grad_sigma):
        C = np.zeros((self.q, self.q))
        C[np.tril_indices(self.q)] = x
        return (2 * grad_sigma @ C)[np.tril_indices(self.q)]

    def free_bounds(self, x):
        return [(None, None)] * len(x)

    def free_scale(self, variances):
        """Typical magnitude of each free parameter, given typical variances of the effects."""
        return np.broadcast_to(np.sqrt(variances)[:, None], (self.q, self.q))[np.tril_indices(self.q)]

    # The Laplace polish of the classifier differentiates with respect to a
    # factor L (Sigma = L L') that is linear in its free parameters ``x``:
    # ``factor(x)``, ``factor_gradient(x, dl/dL)``, and back to parameters.
    to_factor = to_free

    def factor(self, x):
        C = np.zeros((self.q, self.q))
        C[np.tril_indices(self.q)] = x
        return C

    def factor_gradient(self, x, grad_L):
        return grad_L[np.tril_indices(self.q)]

    def from_factor(self, x):
        return self.from_free(x)


class _Diagonal(_Full):
    """Diagonal ``Sigma``; parameters: the variances."""

    def pack(self, Sigma):
        return np.diag(Sigma).copy()

    def sigma(self, params):
        return np.diag(params)

    def m_step(self, params, second_moment):
        return np.diag(second_moment).copy()

    def is_valid(self, params):
        return np.all(params >= 0)

    def to_free(self, params):
        return params.copy()

    def from_free(self, x):
        return x.copy()

    def free_gradient(self, x, grad_sigma):
        return np.diag(grad_sigma).copy()

    def free_bounds(self, x):
        return [(0, None)] * len(x)

    def free_scale(self, variances):
        return variances.copy()

    def to_factor(self, params):
        return np.sqrt(params)

    def factor(self, x):
        return np.diag(x)

    def factor_gradient(self, x, grad_L):
        return np.diag(grad_L).copy()

    def from_factor(self, x):
        return x**2


class _Spherical(_Diagonal):
    """``Sigma = s I``; parameter: ``s``."""

    def pack(self, Sigma):
        return np.array([np.trace(Sigma) / self.q])

    def sigma(self, params):
        return params[0] * np.eye(self.q)

    def m_step(self, params, second_moment):
        return np.array([np.trace(second_moment) / self.q])

    def free_gradient(self, x, grad_sigma):
        return np.array([np.trace(grad_sigma)])

    def free_scale(self, variances):
        return np.array([variances.mean()])

    def factor(self, x):
        return x[0] * np.eye(self.q)

    def factor_gradient(self, x, grad_L):
        return np.array([np.trace(grad_L)])


class _Factor(_Full):
    """``Sigma = Lambda Lambda' + diag(D)``, ``Lambda`` of shape (q, k); parameters: ``[Lambda, D]``.

    EM on the extended model ``u_t = Lambda f_t + eps_t``: given the expected
    second moment ``S`` of ``u_t``, one factor-analysis EM step
    (``Lambda = S G' (G S G' + I - G Lambda)^-1`` with
    ``G = Lambda' Sigma^-1``, ``D = diag(S - Lambda G S)``) is the exact
    M-step of that model, so the likelihood still never decreases.
    """

    def __init__(self, q, k):
        self.q, self.k = q, min(k, q)

    def _split(self, params):
        return params[: self.q * self.k].reshape(self.q, self.k), params[self.q * self.k :]

    def pack(self, Sigma):
        # Start from the leading eigenvectors, the rest of the variance in D.
        w, U = np.linalg.eigh(Sigma)
        Lam = U[:, ::-1][:, : self.k] * np.sqrt(np.clip(w[::-1][: self.k], 0, None) / 2)
        return np.concatenate([Lam.ravel(), np.diag(Sigma) - np.sum(Lam**2, axis=1)])

    def sigma(self, params):
        Lam, D = self._split(params)
        return Lam @ Lam.T + np.diag(D)

    def m_step(self, params, second_moment):
        Lam, _ = self._split(params)
        G = np.linalg.lstsq(self.sigma(params), Lam, rcond=None)[0].T  # Lambda' Sigma^+
        factor_moment = np.eye(self.k) - G @ Lam + G @ second_moment @ G.T
        cross = second_moment @ G.T
        Lam_new = np.linalg.solve(factor_moment, cross.T).T
        D_new = np.clip(np.diag(second_moment) - np.sum(Lam_new * cross, axis=1), 0, None)
        return np.concatenate([Lam_new.ravel(), D_new])

    def is_valid(self, params):
        return np.all(self._split(params)[1] >= 0)

    def to_free(self, params):
        return params.copy()

    def from_free(self, x):
        return x.copy()

    def free_gradient(self, x, grad_sigma):
        Lam, _ = self._split(x)
        return np.concatenate([(2 * grad_sigma @ Lam).ravel(), np.diag(grad_sigma)])

    def free_bounds(self, x):
        return [(None, None)] * (self.q * self.k) + [(0, None)] * self.q

    def free_scale(self, variances):
        return np.concatenate([np.repeat(np.sqrt(variances), self.k), variances])

    def to_factor(self, params):
        Lam, D = self._split(params)
        return np.concatenate([Lam.ravel(), np.sqrt(D)])

    def factor(self, x):
        Lam, d = self._split(x)
        return np.hstack([Lam, np.diag(d)])

    def factor_gradient(self, x, grad_L):
        return np.concatenate([grad_L[:, : self.k].ravel(), np.diag(grad_L[:, self.k :])])

    def from_factor(self, x):
        Lam, d = self._split(x)
        return np.concatenate([Lam.ravel(), d**2])


def _structure(covariance_type, q):
    if isinstance(covariance_type, numbers.Integral):
        return _Factor(q, int(covariance_type))
    return {"full": _Full, "diag": _Diagonal, "spherical": _Spherical}[covariance_type](q)


# --------------------------------------------------------------------- E-step
@dataclass
class _Posterior:
    """Everything one E-step computes at ``(Sigma, s2)``."""

    log_likelihood: float
    beta: np.ndarray  # (p,) profiled fixed effects (GLS)
    H_inv: np.ndarray  # (p, p) inverse of sum_t X_t' V_t^-1 X_t
    L: np.ndarray  # (q, q) square root of Sigma
    M_inv: np.ndarray  # (T, q, q)
    F: np.ndarray  # (T, q, p) M_t^-1 L' Z_t' X_t
    mean: np.ndarray  # (T, q) posterior mean of v_t (u_t = L v_t)
    u_second_moment: np.ndarray  # (q, q) mean over tasks of E[u_t u_t' | y]
    residual_ss: np.ndarray  # (T,) E[||y_t - X_t beta - Z_t u_t||^2 | y]
    rr: np.ndarray  # (T,) ||y_t - X_t beta||^2
    XVX: np.ndarray  # (T, p, p) X_t' V_t^-1 X_t


def _sqrt_psd(Sigma):
    """A square root ``L`` with ``L L' = Sigma`` that exists on the boundary (singular Sigma)."""
    w, U = np.linalg.eigh(Sigma)
    return U * np.sqrt(np.clip(w, 0, None))


def _batched_trace(A):
    return np.einsum("tii->t", A)


def _e_step(stats, Sigma, s2, reml):
    """Profiled (restricted) log-likelihood and posterior moments at ``(Sigma, s2)``.

    ``s2`` is (T,) (equal entries for a shared noise). Computes the
    README / statsmodels formulas::

        ML:   -1/2 [n log 2 pi + sum_t log|V_t| + sum_t r_t' V_t^-1 r_t]
        REML: ML + 1/2 [p log 2 pi - log|sum_t X_t' V_t^-1 X_t|]

    with ``r_t = y_t - X_t beta`` at the GLS ``beta``, through the Woodbury
    identity (see the module docstring). For REML the posterior moments
    integrate ``beta`` out under its flat prior, which is what makes EM climb
    the restricted likelihood.
    """
    q, p = stats.ZX.shape[1:]
    L = _sqrt_psd(Sigma)
    LZX = L.T @ stats.ZX
    LZy = stats.Zy @ L
    M = L.T @ stats.ZZ @ L + s2[:, None, None] * np.eye(q)
    M_inv = np.linalg.inv(M)
    F = M_inv @ LZX
    g = np.einsum("tij,tj->ti", M_inv, LZy)
    XVX = (stats.XX - LZX.transpose(0, 2, 1) @ F) / s2[:, None, None]
    XVy = (stats.Xy - np.einsum("tqp,tq->tp", LZX, g)) / s2[:, None]
    yVy = (stats.yy - np.einsum("tq,tq->t", LZy, g)) / s2
    H = XVX.sum(axis=0)
    H_chol = scipy.linalg.cho_factor(H)
    beta = scipy.linalg.cho_solve(H_chol, XVy.sum(axis=0))
    H_inv = scipy.linalg.cho_solve(H_chol, np.eye(p))
    rVr = yVy.sum() - 2 * beta @ XVy.sum(axis=0) + beta @ H @ beta
    logdet_V = np.sum((stats.n - q) * np.log(s2)) + np.sum(np.linalg.slogdet(M)[1])
    n = stats.n.sum()
    log_likelihood = -0.5 * (n * _LOG_2PI + logdet_V + rVr)
    if reml:
        log_likelihood -= 0.5 * (2 * np.sum(np.log(np.diag(H_chol[0]))) - p * _LOG_2PI)

    # Posterior of v_t (u_t = L v_t): mean M^-1 L'Z'r_t, covariance s2 M^-1
    # (+ F H^-1 F' for REML, beta being integrated out).
    c = LZy - LZX @ beta
    mean = g - F @ beta
    cov_v = s2[:, None, None] * M_inv
    rr = stats.yy - 2 * stats.Xy @ beta + (stats.XX @ beta) @ beta
    # E||e_t||^2 = ||r_t - Z_t u_hat||^2 + tr(Z_t' Z_t Cov u_t), simplified with M v = c.
    residual_ss = (
        rr - np.einsum("tq,tq->t", mean, c) - s2 * np.einsum("tq,tq->t", mean, mean)
        + s2 * (q - s2 * _batched_trace(M_inv))
    )
    if reml:
        cov_v = cov_v + F @ H_inv @ F.transpose(0, 2, 1)
        residual_ss = residual_ss + s2 * np.einsum(
            "tij,ji->t", XVX - F.transpose(0, 2, 1) @ F, H_inv
        )
    v_moment = (np.einsum("ti,tj->ij", mean, mean) + cov_v.sum(axis=0)) / stats.n_tasks
    return _Posterior(
        log_likelihood=float(log_likelihood),
        beta=beta,
        H_inv=H_inv,
        L=L,
        M_inv=M_inv,
        F=F,
        mean=mean,
        u_second_moment=L @ v_moment @ L.T,
        residual_ss=np.clip(residual_ss, 0, None),
        rr=rr,
        XVX=XVX,
    )


def _gradient(stats, post, s2, reml):
    """Gradient of the profiled (restricted) log-likelihood: ``(dl/dSigma, dl/ds2_t)``.

    ``dl = 1/2 tr[(V^-1 r r' V^-1 - P) dV]`` with ``P = V^-1`` (ML) or
    ``V^-1 - V^-1 X H^-1 X' V^-1`` (REML), and ``dV = Z dSigma Z'`` or
    ``I ds2_t``; ``beta`` is at its optimum, so it does not move the value
    to first order. Everything reduces to the per-task statistics:
    ``Z'V^-1 Z = (Z'Z - Z'Z L M^-1 L' Z'Z) / s2``, ``X'V^-2 X = (X'V^-1 X -
    F'F) / s2``, ...
    """
    L, beta = post.L, post.beta
    u = post.mean @ L.T  # BLUPs, L M^-1 L' Z'r
    Zr = stats.Zy - stats.ZX @ beta
    ZZ_u = np.einsum("tij,tj->ti", stats.ZZ, u)
    a = (Zr - ZZ_u) / s2[:, None]  # Z' V^-1 r
    K = L @ post.M_inv @ L.T
    ZVZ = (stats.ZZ - stats.ZZ @ K @ stats.ZZ) / s2[:, None, None]
    grad_sigma = np.einsum("ti,tj->ij", a, a) - ZVZ.sum(axis=0)
    rVVr = (post.rr - 2 * np.einsum("ti,ti->t", u, Zr) + np.einsum("ti,ti->t", u, ZZ_u)) / s2**2
    q = L.shape[0]
    trace_V_inv = (stats.n - q + s2 * _batched_trace(post.M_inv)) / s2
    grad_s2 = rVVr - trace_V_inv
    if reml:
        ZVX = (stats.ZX - stats.ZZ @ L @ post.F) / s2[:, None, None]
        grad_sigma = grad_sigma + np.einsum("tir,tjr->ij", ZVX @ post.H_inv, ZVX)
        XVVX = (post.XVX - post.F.transpose(0, 2, 1) @ post.F) / s2[:, None, None]
        grad_s2 = grad_s2 + np.einsum("tij,ji->t", XVVX, post.H_inv)
    return 0.5 * grad_sigma, 0.5 * grad_s2


# --------------------------------------------------------------------- EM + SQUAREM
class _EM:
    """The EM map on ``theta = [covariance parameters, noise variance(s)]``."""

    def __init__(self, stats, structure, *, reml, per_task_noise, noise_floor):
        self.stats, self.structure = stats, structure
        self.reml, self.per_task_noise = reml, per_task_noise
        self.noise_floor = noise_floor
        self.n_cov = None

    def pack(self, Sigma, s2):
        cov = self.structure.pack(Sigma)
        self.n_cov = len(cov)
        return np.concatenate([cov, np.atleast_1d(s2)])

    def unpack(self, theta):
        cov, s2 = theta[: self.n_cov], theta[self.n_cov :]
        return cov, np.broadcast_to(s2, (self.stats.n_tasks,))

    def is_valid(self, theta):
        cov, s2 = self.unpack(theta)
        return bool(np.all(np.isfinite(theta)) and np.all(s2 > 0) and self.structure.is_valid(cov))

    def posterior(self, theta):
        cov, s2 = self.unpack(theta)
        return _e_step(self.stats, self.structure.sigma(cov), np.asarray(s2, dtype=float), self.reml)

    def __call__(self, theta):
        """``(EM(theta), log-likelihood at theta)``."""
        post = self.posterior(theta)
        cov, _ = self.unpack(theta)
        if self.per_task_noise:
            s2 = post.residual_ss / np.maximum(self.stats.n, 1e-300)
        else:
            s2 = np.array([post.residual_ss.sum() / self.stats.n.sum()])
        s2 = np.maximum(s2, self.noise_floor)
        return np.concatenate([self.structure.m_step(cov, post.u_second_moment), s2]), post.log_likelihood

    def polish(self, theta, typical_variances, max_iter, tol):
        """Finish the ascent by L-BFGS-B on the likelihood, with its analytic gradient.

        EM slows down along flat ridges of the likelihood (correlated random
        slopes); a quasi-Newton method started from EM's point converges
        there in a few dozen steps. The covariance is parametrized by the
        structure's free parameters (a Cholesky factor for "full"), the
        noise variances are bounded below by the floor, and every parameter
        is divided by its typical magnitude (``typical_variances``: the
        effects' then the noise's) so that L-BFGS-B sees one scale. Returns
        ``(theta, n_iter, converged)``; ``theta`` is EM's point when the
        polish does not improve on it.
        """
        structure, n_cov = self.structure, self.n_cov
        n_noise = len(theta) - n_cov
        x0 = np.concatenate([structure.to_free(theta[:n_cov]), theta[n_cov:]])
        n_free = len(x0) - n_noise
        scale = np.concatenate(
            [structure.free_scale(typical_variances[:-1]), np.full(n_noise, typical_variances[-1])]
        )

        def to_theta(z):
            x = z * scale
            return np.concatenate([structure.from_free(x[:n_free]), x[n_free:]])

        def negative_log_likelihood(z):
            theta_z = to_theta(z)
            try:
                post = self.posterior(theta_z)
            except np.linalg.LinAlgError:
                # A trial step into a numerically singular region (e.g. a
                # huge variance that absorbs fixed effects): reject it.
                return np.inf, np.zeros_like(z)
            grad_sigma, grad_s2 = _gradient(self.stats, post, self.unpack(theta_z)[1], self.reml)
            if not self.per_task_noise:
                grad_s2 = np.array([grad_s2.sum()])
            grad = np.concatenate([structure.free_gradient((z * scale)[:n_free], grad_sigma), grad_s2])
            return -post.log_likelihood, -grad * scale

        bounds = structure.free_bounds(x0[:n_free]) + [(self.noise_floor, None)] * n_noise
        bounds = [(None if lo is None else lo / c, hi) for (lo, hi), c in zip(bounds, scale)]
        z0 = x0 / scale
        start = negative_log_likelihood(z0)[0]
        result = scipy.optimize.minimize(
            negative_log_likelihood, z0, jac=True, method="L-BFGS-B", bounds=bounds,
            options={"maxiter": max_iter, "ftol": tol, "gtol": 0.0},
        )
        # A line search that fails at machine precision is a converged run,
        # also when it fails from EM's point (no step improves on it).
        converged = result.success or result.nit < max_iter
        if not result.fun <= start:
            return theta, result.nit, converged
        return to_theta(result.x), result.nit, converged


def _squarem(em, theta, max_iter, tol, callback=None):
    """Maximize the likelihood from ``theta`` by SQUAREM-accelerated EM (SqS3).

    Each iteration takes two EM steps ``theta1, theta2``, extrapolates
    ``theta - 2 a r + a^2 v`` (``r = theta1 - theta``, ``v = theta2 - 2 theta1
    + theta``, ``a = -||r|| / ||v||``, halved towards -1 while the point is
    not a valid covariance), then one EM step from there. The result is kept
    when the likelihood at the extrapolated point is at least that at
    ``theta1``; otherwise ``theta2``: either way the likelihood never
    decreases. A jump where the likelihood cannot be evaluated (a numerically
    singular system far from the optimum) is rejected the same way. Stops
    when ``||theta1 - theta|| <= tol * ||theta||``.

    Returns ``(theta, n_iter, converged)``; ``callback(log_likelihood)`` is
    called with the likelihood of every iterate.
    """
    for n_iter in range(1, max_iter + 1):
        theta1, ll0 = em(theta)
        if callback is not None:
            callback(ll0)
        r = theta1 - theta
        if np.linalg.norm(r) <= tol * np.linalg.norm(theta):
            return theta1, n_iter, True
        theta2, ll1 = em(theta1)
        v = theta2 - theta1 - r
        norm_v = np.linalg.norm(v)
        alpha = -np.linalg.norm(r) / norm_v if norm_v > 0 else -1.0
        alpha = min(alpha, -1.0)
        jump = theta - 2 * alpha * r + alpha**2 * v
        while alpha < -1.0 and not em.is_valid(jump):
            alpha = (alpha - 1.0) / 2 if alpha < -1.01 else -1.0
            jump = theta - 2 * alpha * r + alpha**2 * v
        if alpha == -1.0:  # the extrapolation is theta2 itself
            theta = theta2
            continue
        try:
            theta3, ll_jump = em(jump)
        except np.linalg.LinAlgError:
            theta3, ll_jump = None, -np.inf
        theta = theta3 if ll_jump >= ll1 else theta2
    return theta, max_iter, False


# --------------------------------------------------------------------- the fit
def _initial_parameters(stats):
    """``(Sigma, s2)``: pooled least-squares noise, each random effect explaining a tenth of it."""
    beta = np.linalg.lstsq(stats.XX.sum(0), stats.Xy.sum(0), rcond=None)[0]
    rss = stats.yy.sum() - 2 * stats.Xy.sum(0) @ beta + beta @ stats.XX.sum(0) @ beta
    s2 = max(rss / stats.n.sum(), 1e-300)
    z_power = np.diag(stats.ZZ.sum(0)) / stats.n.sum()
    return np.diag(0.1 * s2 / np.where(z_power > 0, z_power, 1.0)), s2


def _fit_mixed_model(stats, *, covariance_type, reml, per_task_noise, max_iter, tol, callback=None):
    """(RE)ML fit of the variance components; returns ``(Sigma, s2 (T,), posterior, n_iter, converged)``.

    With a single task ``Sigma`` is not identifiable (the fixed part absorbs
    the random one: ML puts it at 0, REML is flat), so it is fixed at 0 and
    only the noise is estimated, in closed form.
    """
    q = stats.ZZ.shape[1]
    structure = _structure(covariance_type, q)
    # The noise variance never reaches 0 (an interpolating fit would make the
    # likelihood unbounded); the floor is far below any real noise level.
    noise_floor = 1e-12 * max(stats.yy.sum() / max(stats.n.sum(), 1e-300), 1e-300)
    em = _EM(stats, structure, reml=reml, per_task_noise=per_task_noise, noise_floor=noise_floor)
    Sigma0, s2_0 = _initial_parameters(stats)
    theta = em.pack(Sigma0, np.full(stats.n_tasks if per_task_noise else 1, s2_0))
    if stats.n_tasks == 1:
        p = stats.XX.shape[1]
        dof = stats.n.sum() - (p if reml else 0)
        s2 = max(s2_0 * stats.n.sum() / max(dof, 1e-300), noise_floor)
        theta = em.pack(np.zeros((q, q)), s2)
        n_iter, converged = 1, True  # one closed-form step
    else:
        theta, n_em, _ = _squarem(em, theta, max_iter, _EM_TOL, callback)
        typical = np.append(np.diag(Sigma0), s2_0)
        theta, n_polish, converged = em.polish(theta, typical, max_iter, tol)
        n_iter = n_em + n_polish
    cov, s2 = em.unpack(theta)
    return structure.sigma(cov), np.array(s2, dtype=float), em.posterior(theta), n_iter, converged


# --------------------------------------------------------------------- logistic link (Laplace)
@dataclass
class _LogisticDesign:
    """Labeled (row, task) pairs of a binary multi-task problem, rows gathered once."""

    X: np.ndarray  # (n_pairs, p) fixed design
    Z: np.ndarray  # (n_pairs, q) random design
    codes: np.ndarray  # (n_pairs,) task of each pair
    y: np.ndarray  # (n_pairs,) 0/1 labels
    weights: np.ndarray  # (n_pairs,)
    n_tasks: int


@dataclass
class _Mode:
    """Joint mode of ``(beta, v)`` and the Laplace approximation there."""

    beta: np.ndarray  # (p,)
    v: np.ndarray  # (T, q); u_t = L v_t
    M_inv: np.ndarray  # (T, q, q) posterior covariance of v_t
    log_likelihood: float  # Laplace approximation of the marginal log-likelihood


def _penalized_log_likelihood(design, L, beta, v):
    """``sum w [y eta - log(1 + e^eta)] - 1/2 sum_t ||v_t||^2`` and ``eta``."""
    eta = design.X @ beta + np.einsum("iq,iq->i", design.Z, (v @ L.T)[design.codes])
    value = design.weights @ (design.y * eta - np.logaddexp(0.0, eta)) - 0.5 * np.sum(v * v)
    return value, eta


def _logistic_mode(design, L, beta, v, max_newton=100, rtol=1e-12):
    """Damped Newton on ``(beta, v_1..v_T)`` for the joint mode; returns a :class:`_Mode`.

    The Hessian is block-arrow (one q x q block per task, coupled through
    ``beta``), so each step is the mixed-model solve of ``_e_step`` with
    weights ``w p (1 - p)``: per-task weighted Grams from one pass over the
    pairs, the task blocks eliminated by stacked (T, q, q) solves, a p x p
    system for ``beta``. Steps are halved until the objective increases.
    """
    p, r, T = design.X.shape[1], L.shape[1], design.n_tasks
    A = np.column_stack([design.X, design.Z])
    pairs = np.arange(len(design.y))
    value, eta = _penalized_log_likelihood(design, L, beta, v)
    for _ in range(max_newton):
        prob = scipy.special.expit(eta)
        curvature = np.maximum(design.weights * prob * (1 - prob), 1e-300)
        gradient = design.weights * (design.y - prob)
        G, Ag, _, _ = _task_moments(A, pairs, design.codes, gradient / curvature, curvature, T)
        XWX, ZWX, ZWZ = G[:, :p, :p].sum(axis=0), G[:, p:, :p], G[:, p:, p:]
        LZX = L.T @ ZWX
        M_inv = np.linalg.inv(L.T @ ZWZ @ L + np.eye(r))
        b = Ag[:, p:] @ L - v
        F = M_inv @ LZX
        schur = XWX - np.einsum("tqi,tqj->ij", LZX, F)
        rhs = Ag[:, :p].sum(axis=0) - np.einsum("tqi,tq->i", F, b)
        # A relative ridge keeps the step finite when the data are separable.
        ridge = 1e-10 * max(np.trace(schur) / p, 1e-300) * np.eye(p)
        d_beta = np.linalg.solve(schur + ridge, rhs)
        d_v = np.einsum("tij,tj->ti", M_inv, b) - F @ d_beta
        if d_beta @ rhs + np.sum(d_v * b) <= rtol * (1 + abs(value)):
            break  # the Newton decrement: at the mode, M_inv is the curvature there
        step = 1.0
        while True:
            new_value, new_eta = _penalized_log_likelihood(design, L, beta + step * d_beta, v + step * d_v)
            if new_value >= value or step < 1e-10:
                break
            step /= 2
        if new_value < value:
            break
        beta, v, value, eta = beta + step * d_beta, v + step * d_v, new_value, new_eta
    logdet_M = -np.linalg.slogdet(M_inv)[1].sum()
    return _Mode(beta=beta, v=v, M_inv=M_inv, log_likelihood=float(value - 0.5 * logdet_M))


def _laplace_gradient(design, L, beta, v):
    """Gradient with respect to ``L`` of the Laplace log-likelihood, at the joint mode ``(beta, v)``.

    ``l(L) = f(beta_hat, v_hat; L) - 1/2 sum_t log|M_t|`` with ``M_t = I + L'
    Z_t' W_t Z_t L`` and ``W`` the curvatures at the mode. By the envelope
    theorem ``f`` contributes only its partial derivative; ``log|M_t|``
    depends on ``L`` directly and through the mode (``W`` moves with
    ``eta_hat``), whose derivative comes from one adjoint solve with the
    block-arrow Hessian ``N`` of the Newton steps: with ``c_i`` the
    derivative of ``-1/2 sum log|M|`` with respect to ``eta_i`` and
    ``lambda = N^-1 [X'c; L' Z_t' c_t]``, the indirect term is ``lambda' dgrad_f``.
    """
    p, r, T = design.X.shape[1], L.shape[1], design.n_tasks
    codes, weights = design.codes, design.weights
    ZL = design.Z @ L
    eta = design.X @ beta + np.einsum("ir,ir->i", ZL, v[codes])
    prob = scipy.special.expit(eta)
    curvature = np.maximum(weights * prob * (1 - prob), 1e-300)
    gradient = weights * (design.y - prob)
    A = np.column_stack([design.X, design.Z])
    pairs = np.arange(len(eta))
    G, Ag, _, _ = _task_moments(A, pairs, codes, gradient / curvature, curvature, T)
    XWX, ZWX, ZWZ, Zg = G[:, :p, :p].sum(axis=0), G[:, p:, :p], G[:, p:, p:], Ag[:, p:]
    M_inv = np.linalg.inv(L.T @ ZWZ @ L + np.eye(r))
    leverage = np.einsum("ir,irs,is->i", ZL, M_inv[codes], ZL)
    c = -0.5 * leverage * curvature * (1 - 2 * prob)  # d(-1/2 log|M|) / d eta_i
    indicator = sp.csr_matrix((np.ones(len(eta)), (codes, pairs)), shape=(T, len(eta)))
    Zc = np.asarray(indicator @ (design.Z * c[:, None]))
    # Adjoint solve with N = [[X'WX, X'WZL], [L'Z'WX, M]], tasks eliminated first.
    LZX = L.T @ ZWX
    F = M_inv @ LZX
    b = Zc @ L
    lam_beta = np.linalg.solve(
        XWX - np.einsum("tri,trj->ij", LZX, F), design.X.T @ c - np.einsum("tri,tr->i", F, b)
    )
    lam_v = np.einsum("trs,ts->tr", M_inv, b) - F @ lam_beta
    s_adj = design.X @ lam_beta + np.einsum("ir,ir->i", ZL, lam_v[codes])
    Zws = np.asarray(indicator @ (design.Z * (curvature * s_adj)[:, None]))
    grad_L = (Zg + Zc - Zws).T @ v + Zg.T @ lam_v - np.einsum("tqk,kr,trs->qs", ZWZ, L, M_inv, optimize=True)
    value = weights @ (design.y * eta - np.logaddexp(0.0, eta)) - 0.5 * np.sum(v * v)
    log_likelihood = value + 0.5 * np.linalg.slogdet(M_inv)[1].sum()
    return float(log_likelihood), grad_L


class _LaplaceEM:
    """EM on the covariance parameters with the Laplace posterior of each ``v_t``.

    E-step: the joint mode of ``(beta, v)`` given ``Sigma = L L'`` and the
    Gaussian approximation ``v_t ~ N(v_hat_t, M_t^-1)`` there (Laplace).
    M-step: the structure's closed-form update from the mean of
    ``L (v_hat v_hat' + M^-1) L'``. The mode is warm-started from the last
    one (the same ``u_t``, expressed in the new ``L``).
    """

    def __init__(self, design, structure):
        self.design, self.structure = design, structure
        self.beta = np.zeros(design.X.shape[1])
        self.u = np.zeros((design.n_tasks, design.Z.shape[1]))

    def is_valid(self, theta):
        return bool(np.all(np.isfinite(theta)) and self.structure.is_valid(theta))

    def mode(self, theta):
        L = _sqrt_psd(self.structure.sigma(theta))
        v0 = np.linalg.lstsq(L, self.u.T, rcond=None)[0].T
        mode = _logistic_mode(self.design, L, self.beta, v0)
        self.beta, self.u = mode.beta, mode.v @ L.T
        return mode, L

    def __call__(self, theta):
        mode, L = self.mode(theta)
        v_moment = (mode.v.T @ mode.v + mode.M_inv.sum(axis=0)) / self.design.n_tasks
        return self.structure.m_step(theta, L @ v_moment @ L.T), mode.log_likelihood

    def polish(self, theta, max_iter, tol):
        """Maximize the Laplace log-likelihood itself by L-BFGS-B; returns ``(theta, n_iter, converged)``.

        EM with Laplace moments stops at a fixed point that is not the
        maximum of the Laplace likelihood (it under-estimates the variances,
        as PQL does); the exact gradient (:func:`_laplace_gradient`) with
        respect to a factor ``L`` linear in the structure's parameters
        finishes the job. ``theta`` is kept when the polish does not improve it.
        """
        structure = self.structure

        def negative_log_likelihood(x):
            L = structure.factor(x)
            v0 = np.linalg.lstsq(L, self.u.T, rcond=None)[0].T
            mode = _logistic_mode(self.design, L, self.beta, v0)
            self.beta, self.u = mode.beta, mode.v @ L.T
            log_likelihood, grad_L = _laplace_gradient(self.design, L, mode.beta, mode.v)
            return -log_likelihood, -structure.factor_gradient(x, grad_L)

        x0 = structure.to_factor(theta)
        start = negative_log_likelihood(x0)[0]
        result = scipy.optimize.minimize(
            negative_log_likelihood, x0, jac=True, method="L-BFGS-B",
            options={"maxiter": max_iter, "ftol": tol, "gtol": 0.0},
        )
        if not result.fun <= start:
            return theta, result.nit, False
        return structure.from_factor(result.x), result.nit, result.success or result.nit < max_iter


def _fit_logistic_mixed_model(design, *, covariance_type, max_iter, tol):
    """Laplace-EM fit, then the Laplace likelihood polished; returns ``(Sigma, mode, L, n_iter, converged)``.

    One task: ``Sigma`` is not identifiable and is fixed at 0 (logistic
    regression).
    """
    q = design.Z.shape[1]
    structure = _structure(covariance_type, q)
    em = _LaplaceEM(design, structure)
    if design.n_tasks == 1:
        theta, n_iter, converged = structure.pack(np.zeros((q, q))), 1, True
    else:
        z_power = np.average(design.Z**2, axis=0, weights=design.weights)
        # Start with each effect moving the logit by about 1/2 standard deviation.
        theta = structure.pack(np.diag(0.25 / np.where(z_power > 0, z_power, 1.0)))
        theta, n_em, _ = _squarem(em, theta, max_iter, _EM_TOL)
        theta, n_polish, converged = em.polish(theta, max_iter, tol)
        n_iter = n_em + n_polish
    mode, L = em.mode(theta)
    return structure.sigma(theta), mode, L, n_iter, converged


# --------------------------------------------------------------------- the estimator
def _with_ones(X):
    """``[1, X]`` in float64: the intercept column, then the features."""
    return np.column_stack([np.ones(X.shape[0]), np.asarray(X, dtype=np.float64)])


class _HierarchicalMixin:
    """Parameters, column selection and unseen-task handling shared by the hierarchical models."""

    _parameter_constraints = {
        "random_features": [StrOptions({"all"}), "array-like"],
        "covariance_type": [
            StrOptions({"full", "diag", "spherical"}),
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "fit_intercept": ["boolean"],
        "unseen_task": UNSEEN_TASK_CONSTRAINT,
        "task_column": [numbers.Integral, str, None],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
    }

    # The sufficient statistics are dense products of the rows.
    _accept_sparse = False

    def _columns(self, X, data, pooled):
        """``(fixed, random)``: the kept columns of ``[1, X]`` and the random-slope features.

        ``pooled`` is the weighted Gram matrix of ``[1, X]`` over all labels.
        Aliased fixed columns are dropped (coefficient 0), as lme4.
        """
        random = self._random_positions(data.n_features, self._feature_names(X), pooled, data.n_tasks)
        candidates = np.arange(0 if self.fit_intercept else 1, pooled.shape[0])
        return candidates[_independent_columns(pooled[np.ix_(candidates, candidates)])], random

    def _warn_single_task(self, data, limit):
        if data.n_tasks == 1:
            warnings.warn(
                f"{type(self).__name__} was fitted on a single task: the covariance of "
                f"the random effects needs at least two tasks, so it is set to 0 (the "
                f"model is {limit}).",
                UserWarning,
            )

    def _warn_not_converged(self, converged):
        if not converged:
            warnings.warn(
                f"{type(self).__name__} did not converge: the log-likelihood still "
                f"improved by more than tol={self.tol:g} (relative) per iteration after "
                f"max_iter={self.max_iter} iterations. Increase max_iter, or use fewer "
                "random_features or a simpler covariance_type.",
                ConvergenceWarning,
            )

    def _set_effects(self, data, Sigma, beta, fixed, random, u, cov_u):
        """Fixed part, covariance, BLUPs, total per-task coefficients and shrinkage."""
        full_beta = np.zeros(data.n_features + 1)
        full_beta[fixed] = beta
        self.fixed_intercept_ = float(full_beta[0])
        self.fixed_coef_ = full_beta[1:]
        self.covariance_ = Sigma
        self.random_features_ = random
        self.random_effects_ = u
        self.coef_ = np.tile(self.fixed_coef_, (data.n_tasks, 1))
        self.coef_[:, random] += u[:, 1:]
        self.intercept_ = self.fixed_intercept_ + u[:, 0]
        total = np.trace(Sigma)
        self.shrinkage_ = _batched_trace(cov_u) / total if total > 0 else np.ones(data.n_tasks)

    def _feature_names(self, X):
        """Names of the features (task column excluded), or None without a DataFrame."""
        names = getattr(self, "feature_names_in_", None)
        if names is None or self.task_column is None:
            return names
        return np.delete(names, task_column_position(X, self.task_column))

    def _random_positions(self, n_features, names, pooled, n_tasks):
        """Positions of the random-slope features; validates ``random_features``.

        ``pooled`` is the weighted Gram matrix of ``[1, X]`` over all labels:
        a feature is constant when it is collinear with the column of ones.
        """
        constant = np.flatnonzero(
            np.diag(pooled)[1:] * pooled[0, 0] - pooled[0, 1:] ** 2
            <= 1e-12 * np.diag(pooled)[1:] * pooled[0, 0]
        )
        shown = names if names is not None else np.arange(n_features)
        needs_rank = self.covariance_type not in ("diag", "spherical") and n_tasks > 1
        if isinstance(self.random_features, str):  # "all"
            positions = np.setdiff1d(np.arange(n_features), constant)
            if needs_rank:
                independent = _independent_columns(pooled[np.ix_(*2 * [np.r_[0, 1 + positions]])])
                positions = positions[independent[1:] - 1]
            return positions
        positions = np.array([self._feature_position(f, n_features, names) for f in self.random_features], dtype=int)
        if len(np.unique(positions)) < len(positions):
            raise ValueError(f"random_features lists a feature twice: {list(self.random_features)}.")
        listed_constant = np.intersect1d(positions, constant)
        if len(listed_constant) and n_tasks > 1:
            raise ValueError(
                f"Random feature(s) {[_item(shown[j]) for j in listed_constant]} are constant over the "
                "training rows: a random slope on a constant is a second random intercept. Remove "
                "them from random_features."
            )
        if needs_rank:
            independent = _independent_columns(pooled[np.ix_(*2 * [np.r_[0, 1 + positions]])])
            dependent = np.setdiff1d(np.arange(1, len(positions) + 1), independent) - 1
            if len(dependent):
                raise ValueError(
                    f"Random feature(s) {[_item(shown[positions[j]]) for j in dependent]} are collinear "
                    "with the intercept or the random features before them over the training rows, so "
                    f"covariance_type={self.covariance_type!r} is not identified. Remove them from "
                    "random_features or use covariance_type='diag'."
                )
        return positions

    @staticmethod
    def _feature_position(feature, n_features, names):
        if isinstance(feature, str):
            if names is None or feature not in names:
                available = "X has no column names" if names is None else f"features are {list(names)}"
                raise ValueError(f"Random feature {feature!r} is not a feature of X; {available}.")
            return int(np.flatnonzero(names == feature)[0])
        if isinstance(feature, numbers.Integral) and -n_features <= feature < n_features:
            return int(feature) % n_features
        raise ValueError(
            f"Random feature {feature!r} is not a feature name or a position in [0, {n_features}) "
            "(the task column excluded)."
        )


class HierarchicalRegressor(_HierarchicalMixin, MultiTaskMixin, RegressorMixin, BaseEstimator):
    """Linear mixed model: per-task random intercepts and slopes, variances learned by (RE)ML.

    Each task's model is the population's plus a random deviation whose
    covariance is estimated from the data (empirical Bayes), so how much the
    tasks share is learned rather than tuned by cross-validation. For row
    ``i`` of task ``t``::

        y_ti = b0 + x_ti' beta + z_ti' u_t + e_ti,
        u_t ~ N(0, Sigma),   e_ti ~ N(0, s2)   (s2_t with noise="per_task"),

    with ``z_ti = [1, x_ti restricted to random_features]``: every feature is
    in the fixed part ``(b0, beta)``, the random features also get a random
    slope. Writing ``X_t`` for task ``t``'s fixed design (with its column of
    ones), ``Z_t`` for its random design and ``V_t = s2 I + Z_t Sigma Z_t'``,
    ``(Sigma, s2)`` maximize the log-likelihood (``method="ml"``) or the
    restricted one (``method="reml"``, which corrects the variances for the
    ``p`` estimated fixed effects)::

        ML:   -1/2 [n log(2 pi) + sum_t log|V_t| + sum_t r_t' V_t^-1 r_t]
        REML: -1/2 [(n - p) log(2 pi) + sum_t log|V_t| + sum_t r_t' V_t^-1 r_t
                    + log|sum_t X_t' V_t^-1 X_t|]

    where ``r_t = y_t - X_t beta`` at the generalized least-squares
    ``beta`` (the fixed effects are profiled out), as statsmodels' MixedLM
    and lme4. Then ``u_t`` is predicted by its posterior mean (the BLUP) and
    task ``t``'s coefficients are ``coef_[t] = beta + u_t`` on the random
    features (``beta`` elsewhere).

    Sample weights are frequency weights: a weight of 2 counts a row twice
    (``n`` and ``n_t`` are sums of weights).

    Read more in the :ref:`User Guide <hierarchical>`.

    Parameters
    ----------
    random_features : "all" or list of str or int, default="all"
        Features with a random slope, as column names (DataFrame input) or
        positions among the features (the task column excluded); ``[]``
        gives a random intercept alone. ``"all"`` takes every feature that
        is not constant over the training rows (and, for ``"full"`` and the
        factor model, not aliased with the intercept and the features before
        it: e.g. one dummy of each categorical is left out). A listed
        feature that is constant over the training rows is an error (its
        slope would be a second random intercept).

    covariance_type : {"full", "diag", "spherical"} or int, default="diag"
        Structure of ``Sigma`` (q x q, ``q = 1 + n_random_features``):
        unstructured, diagonal (independent effects), ``s * I``, or an int
        ``k`` for a factor model ``Sigma = Lambda Lambda' + D`` with
        ``Lambda`` of rank ``k`` and ``D`` diagonal (the tasks' deviations
        live near a ``k``-dimensional subspace: the probabilistic
        counterpart of the trace norm). ``"full"`` and the factor model need
        random features that are not collinear with each other (or with the
        intercept) over the training rows, else ``Sigma`` is not identified
        and ``fit`` raises; ``"diag"`` and ``"spherical"`` accept them.

    method : {"reml", "ml"}, default="reml"
        Restricted or plain maximum likelihood.

    noise : {"shared", "per_task"}, default="shared"
        One noise variance ``s2`` for all tasks, or one per task.

    fit_intercept : bool, default=True
        Fit the fixed intercept ``b0``. The random intercept is always in
        ``z_ti``; without ``b0`` the tasks' intercepts are centered on 0.

    unseen_task : {"error", "population"}, default="error"
        Long layout, at predict time: a task not seen in fit raises a
        ``ValueError`` naming it (``"error"``) or is predicted by the
        population model ``b0 + x' beta`` (``"population"``, lme4's
        ``allow.new.levels``).

    task_column : int, str or None, default=None
        None: wide layout, ``y`` of shape (n_samples, n_tasks) with NaN for
        a missing label. Otherwise the column of ``X`` (position, or name
        for a DataFrame) holding each row's task label; ``y`` is 1-D.

    max_iter : int, default=1000
        Maximum number of iterations of each phase of the fit: accelerated
        EM (each iteration costs three EM steps), then L-BFGS-B.

    tol : float, default=1e-12
        Stop when an L-BFGS-B step improves the log-likelihood by less than
        ``tol`` relative to its value.

    Attributes
    ----------
    fixed_intercept_ : float
        ``b0`` (0 when ``fit_intercept=False``).

    fixed_coef_ : ndarray of shape (n_features,)
        ``beta``, the population coefficients. A feature aliased with
        earlier ones (or with the intercept) in the fixed design gets 0, as
        in R's ``lm`` and lme4.

    covariance_ : ndarray of shape (q, q)
        ``Sigma``, in the order ``[intercept, *random_features_]``.

    noise_variance_ : float or ndarray of shape (n_tasks,)
        ``s2``, or ``s2_t`` per task with ``noise="per_task"``.

    random_effects_ : ndarray of shape (n_tasks, q)
        Posterior means (BLUPs) of ``u_t``, same order as ``covariance_``.

    coef_ : ndarray of shape (n_tasks, n_features)
        Each task's total coefficients ``beta + u_t`` (on the random
        features), so tools that read ``coef_`` work.

    intercept_ : ndarray of shape (n_tasks,)
        Each task's total intercept ``b0 + u_t[0]``.

    shrinkage_ : ndarray of shape (n_tasks,)
        ``tr(Cov(u_t | y)) / tr(Sigma)``, the posterior over the prior
        variance of the task's deviation: 0 when the task's own data
        determine ``u_t`` (no pooling), 1 when they say nothing about it
        (the task gets the population model). With a random intercept alone
        ``u_t = (1 - shrinkage_t) * mean(r_t)``, the classical shrinkage
        factor ``(s2 / n_t) / (Sigma + s2 / n_t)``. 1 when ``Sigma = 0``.

    random_features_ : ndarray of int
        Positions (among the features) of the features with a random slope.

    log_likelihood_ : float
        The maximized ML or REML log-likelihood (formula above).

    n_iter_ : int
        Accelerated EM iterations run.

    tasks_ : ndarray of shape (n_tasks,)
        Task labels: sorted labels of the task column (long layout) or
        ``arange(n_tasks)`` (wide layout).

    n_tasks_ : int
        Number of tasks.

    n_features_in_ : int
        Number of columns of ``X`` seen in fit, the task column included.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of ``X`` when it was a DataFrame with string names.

    See Also
    --------
    MeanRegularizedRegressor : a fixed pull towards the tasks' mean, tuned by CV.
    TaskRelationRegressor : a penalized, learned task covariance.
    sklearn.linear_model.BayesianRidge : empirical Bayes for one task.

    Notes
    -----
    **Fit.** The rows are reduced once to per-task sufficient statistics
    (``X_t' X_t``, ``Z_t' X_t``, ``X_t' y_t``, ...; one sparse product per
    feature, no loop over tasks or rows), then EM runs on them, every step
    batched over the tasks with stacked ``(T, q, q)`` linear algebra
    through the Woodbury identity; ``beta`` is profiled by GLS at every
    step; SQUAREM extrapolation (Varadhan & Roland, 2008) accelerates EM
    without losing its monotonicity. EM is robust far from the optimum but
    crawls along the flat ridges of correlated random slopes, so once its
    steps become small (1e-4 relative) L-BFGS-B on the profiled likelihood,
    with its analytic gradient, finishes the ascent. A variance may
    converge to 0 (the boundary); this is handled. A
    :class:`~sklearn.exceptions.ConvergenceWarning` is raised when
    ``max_iter`` is reached first.

    **One task.** With a single task ``Sigma`` is not identifiable (the
    fixed part absorbs the random one), so it is set to 0 and the model is
    ordinary least squares, with a warning.

    **Prediction.** :meth:`predict` uses ``coef_`` and ``intercept_``; its
    ``return_std`` is Henderson's prediction-error standard deviation of
    the BLUP (posterior of ``(beta, u_t)`` with ``Sigma, s2`` fixed at their
    estimates) plus the noise, as :class:`~sklearn.linear_model.BayesianRidge`.

    **Beyond one machine.** ``fit`` also takes a dask DataFrame in the
    long layout (the ``dask`` extra): each partition is reduced to the
    per-task statistics on the worker that holds it, and only these
    (``O(T p^2)`` numbers) reach the client, where EM runs as above: the
    estimates are those of the same rows in memory. ``predict`` then
    returns a dask Series.

    References
    ----------
    Laird & Ware, "Random-effects models for longitudinal data",
    Biometrics 1982. Lindstrom & Bates, "Newton-Raphson and EM algorithms
    for linear mixed-effects models", JASA 1988. Varadhan & Roland,
    "Simple and globally convergent methods for accelerating the
    convergence of any EM algorithm", Scand. J. Stat. 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import HierarchicalRegressor
    >>> rng = np.random.RandomState(0)
    >>> tasks = np.repeat(np.arange(30), 20)
    >>> x = rng.randn(600)
    >>> y = 1.0 + 2.0 * x + rng.randn(30)[tasks] + 0.5 * rng.randn(600)
    >>> model = HierarchicalRegressor(random_features=[], task_column=1)
    >>> model.fit(np.column_stack([x, tasks]), y).fixed_coef_.round(1)
    array([2.])
    >>> model.covariance_.round(1)  # the variance of the tasks' intercepts, truly 1
    array([[0.8]])
    >>> model.predict([[0.0, 99]])  # task 99 was never seen
    Traceback (most recent call last):
        ...
    ValueError: Unknown task label(s) 99 not seen during fit; ...
    """

    _parameter_constraints = {
        **_HierarchicalMixin._parameter_constraints,
        "method": [StrOptions({"reml", "ml"})],
        "noise": [StrOptions({"shared", "per_task"})],
    }

    def __init__(
        self,
        random_features="all",
        *,
        covariance_type="diag",
        method="reml",
        noise="shared",
        fit_intercept=True,
        unseen_task="error",
        task_column=None,
        max_iter=1000,
        tol=1e-12,
    ):
        self.random_features = random_features
        self.covariance_type = covariance_type
        self.method = method
        self.noise = noise
        self.fit_intercept = fit_intercept
        self.unseen_task = unseen_task
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol

    # ------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the mixed model by (restricted) maximum likelihood.

        Parameters
        ----------
        X : {array-like, DataFrame, dask DataFrame} of shape (n_samples, n_columns)
            Features; in the long layout also the task column. A dask
            DataFrame (long layout) is reduced to the per-task statistics
            partition by partition where it lives; only these come back.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Wide layout: one column per task, NaN for a missing label.
            Long layout: 1-D. With a dask ``X``, a dask Series partitioned
            like ``X`` (e.g. a column of the same DataFrame).
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the rows; with a dask ``X``, a dask Series
            partitioned like ``X`` (or None).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if is_dask_collection(X):
            data = self._reduce_on_cluster(X, y, sample_weight)
            G, Ay, yy, n = data.moments
        else:
            data = self._validate_fit(X, y, sample_weight)
            rows, codes, targets = data.to_long()
            weights = np.ones(len(rows)) if data.sample_weight is None else data.sample_weight[rows]
            G, Ay, yy, n = _task_moments(_with_ones(data.X), rows, codes, targets, weights, data.n_tasks)
        fixed, random = self._columns(X, data, G.sum(axis=0))
        stats = _select(G, Ay, yy, n, fixed, np.r_[0, 1 + random])
        self._warn_single_task(data, "ordinary least squares")
        Sigma, s2, post, n_iter, converged = _fit_mixed_model(
            stats,
            covariance_type=self.covariance_type,
            reml=self.method == "reml",
            per_task_noise=self.noise == "per_task",
            max_iter=self.max_iter,
            tol=self.tol,
        )
        self._warn_not_converged(converged)
        self._set_fitted(data, Sigma, s2, post, fixed, random, n_iter)
        return self

    def _reduce_on_cluster(self, X, y, sample_weight):
        """``_validate_fit`` and the per-task statistics of a dask DataFrame, the rows left on the cluster."""
        from . import _hierarchical_dask  # dask is an optional extra

        meta = _hierarchical_dask.check_frame(X, self.task_column, type(self).__name__)
        check_n_features_and_names(self, meta, reset=True)
        reduced = _hierarchical_dask.reduce_task_moments(
            X, y, sample_weight, task_column=self.task_column, estimator_name=type(self).__name__
        )
        self.tasks_, self.n_tasks_, self._single_output = reduced.tasks, reduced.n_tasks, False
        return reduced

    def _set_fitted(self, data, Sigma, s2, post, fixed, random, n_iter):
        P = data.n_features + 1  # coordinates [intercept, *features]
        L = post.L
        cov_u_given_beta = s2[:, None, None] * L @ post.M_inv @ L.T
        self._set_effects(data, Sigma, post.beta, fixed, random, post.mean @ L.T, cov_u_given_beta)
        self.noise_variance_ = s2 if self.noise == "per_task" else float(s2[0])
        self.log_likelihood_ = post.log_likelihood
        self.n_iter_ = int(n_iter)
        # Henderson's prediction-error covariances of (beta, u_t), in the
        # [intercept, *features] coordinates, for predict(return_std=True).
        self._beta_cov = np.zeros((P, P))
        self._beta_cov[np.ix_(fixed, fixed)] = post.H_inv
        self._beta_u_cov = np.zeros((data.n_tasks, P, L.shape[0]))
        self._beta_u_cov[:, fixed, :] = -(post.F @ post.H_inv).transpose(0, 2, 1) @ L.T
        self._u_cov = cov_u_given_beta + L @ post.F @ post.H_inv @ post.F.transpose(0, 2, 1) @ L.T

    # ------------------------------------------------------------ predict
    def predict(self, X, return_std=False):
        """Predict with each task's BLUP model (the population model for unseen tasks).

        Parameters
        ----------
        X : {array-like, DataFrame, dask DataFrame} of shape (n_samples, n_columns)
            A dask DataFrame (long layout) is predicted partition by
            partition, lazily.
        return_std : bool, default=False
            Also return the standard deviation of the predictive
            distribution: the BLUP's prediction error (uncertainty of
            ``beta`` and ``u_t``) and the noise. For an unseen task, the
            prediction error of ``b0 + x' beta`` plus ``z' Sigma z`` and the
            noise (the mean of ``noise_variance_`` when it is per task).

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_tasks) or (n_samples,)
            Wide layout: one column per task (1-D for a model fitted on a 1-D
            ``y``). Long layout: each row predicted by its own task. A dask
            Series with the index of ``X`` for a dask ``X``.
        y_std : ndarray of the same shape
            Only with ``return_std=True``.
        """
        if is_dask_collection(X):
            return self._predict_on_cluster(X, return_std)
        features, codes = self._validate_predict(X, allow_unseen=self.unseen_task == "population")
        A = _with_ones(features)
        Z = A[:, np.concatenate([[0], 1 + self.random_features_])]
        noise = np.broadcast_to(self.noise_variance_, (self.n_tasks_,))
        if codes is None:
            mean = features @ self.coef_.T + self.intercept_
            if not return_std:
                return self._format_output(mean, None)
            var = (
                np.einsum("ip,ip->i", A @ self._beta_cov, A)[:, None]
                + 2 * np.einsum("tiq,iq->it", A @ self._beta_u_cov, Z)
                + np.einsum("tir,ir->it", Z @ self._u_cov, Z)
                + noise
            )
            return self._format_output(mean, None), self._format_output(np.sqrt(var), None)
        seen = codes >= 0
        t = codes[seen]
        mean = features @ self.fixed_coef_ + self.fixed_intercept_
        mean[seen] = np.einsum("ij,ij->i", features[seen], self.coef_[t]) + self.intercept_[t]
        if not return_std:
            return mean
        var = np.einsum("ip,ip->i", A @ self._beta_cov, A)
        var[seen] += (
            2 * np.einsum("ip,ipq,iq->i", A[seen], self._beta_u_cov[t], Z[seen], optimize=True)
            + np.einsum("iq,iqr,ir->i", Z[seen], self._u_cov[t], Z[seen], optimize=True)
            + noise[t]
        )
        var[~seen] += np.einsum("iq,iq->i", Z[~seen] @ self.covariance_, Z[~seen]) + noise.mean()
        return mean, np.sqrt(var)

    def score(self, X, y, sample_weight=None):
        """Mean over tasks of the per-task R^2, each task scored on its own labeled rows.

        As the other skmtl regressors (in-memory data only).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_columns)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        if is_dask_collection(X) or is_dask_collection(y):
            raise TypeError(
                "score takes in-memory data: pass X.compute() and y.compute(), or score the "
                "dask Series that predict(X) returns."
            )
        return super().score(X, y, sample_weight=sample_weight)

    def _predict_on_cluster(self, X, return_std):
        """:meth:`predict` of each partition of a dask DataFrame, lazily."""
        from . import _hierarchical_dask  # dask is an optional extra

        check_is_fitted(self)
        check_n_features_and_names(
            self, _hierarchical_dask.check_frame(X, self.task_column, type(self).__name__), reset=False
        )
        return _hierarchical_dask.predict(self, X, return_std)


def _item(value):
    return value.item() if isinstance(value, np.generic) else value


class HierarchicalClassifier(_HierarchicalMixin, _LinearMultiTaskClassifier):
    """Logistic mixed model: per-task random intercepts and slopes, variances learned by Laplace ML.

    Binary tasks; for row ``i`` of task ``t``::

        logit P(y_ti = c_t) = b0 + x_ti' beta + z_ti' u_t,    u_t ~ N(0, Sigma),

    with ``c_t`` the task's second class (sorted labels) and ``z_ti = [1,
    x_ti restricted to random_features]``. ``Sigma`` maximizes the marginal
    likelihood with the random effects integrated out by a Laplace
    approximation at the joint mode of ``(beta, u)`` (``Sigma = L L'``,
    ``u_t = L v_t``)::

        sum_t [ sum_i w_i log p(y_ti | beta, u_t) - 1/2 ||v_t||^2
                - 1/2 log|I + L' Z_t' W_t Z_t L| ]

    (``W_t`` the logistic curvatures ``w p (1 - p)`` at the mode), with
    ``beta`` at the joint mode as in lme4's ``glmer(nAGQ=0)``. The
    coefficients of task ``t`` are ``beta + u_t`` at the mode (``coef_``,
    ``intercept_``).

    Read more in the :ref:`User Guide <hierarchical>`.

    Parameters
    ----------
    random_features : "all" or list of str or int, default="all"
        As in :class:`HierarchicalRegressor`.

    covariance_type : {"full", "diag", "spherical"} or int, default="diag"
        As in :class:`HierarchicalRegressor`.

    fit_intercept : bool, default=True
        Fit the fixed intercept ``b0``.

    unseen_task : {"error", "population"}, default="error"
        Long layout: a task not seen in fit raises (``"error"``) or gets the
        population model ``b0 + x' beta`` (``"population"``; needs every task
        to have the same two classes). This is the model of a typical task
        (``u = 0``), not the average over tasks, whose probabilities are
        flatter.

    task_column : int, str or None, default=None
        None: wide layout, ``y`` of shape (n_samples, n_tasks) with NaN/None
        for a missing label. Otherwise the column of ``X`` holding each
        row's task label; ``y`` is 1-D.

    max_iter : int, default=200
        Maximum number of iterations of each phase of the fit: accelerated
        EM, then L-BFGS-B.

    tol : float, default=1e-9
        Stop when an L-BFGS-B step improves the Laplace log-likelihood by
        less than ``tol`` relative to its value.

    Attributes
    ----------
    fixed_intercept_, fixed_coef_, covariance_, random_effects_, random_features_
        As in :class:`HierarchicalRegressor` (``random_effects_`` are the
        modes of ``u_t``).

    coef_ : ndarray of shape (n_tasks, n_features)
        Each task's coefficients ``beta + u_t``.

    intercept_ : ndarray of shape (n_tasks,)
        Each task's intercept ``b0 + u_t[0]``.

    shrinkage_ : ndarray of shape (n_tasks,)
        ``tr(Cov(u_t | y)) / tr(Sigma)`` under the Laplace approximation (see
        :class:`HierarchicalRegressor`).

    log_likelihood_ : float
        The Laplace approximation of the maximized marginal log-likelihood.

    n_iter_ : int
        Iterations run (accelerated EM, then L-BFGS-B).

    classes_ : ndarray or list of ndarray
        Wide layout: one array of two classes per task (a single array for a
        1-D ``y``); long layout: the sorted union of all tasks' classes.

    coef_indptr_ : ndarray of shape (n_tasks + 1,)
        ``arange(n_tasks + 1)``: one row of ``coef_`` per (binary) task.

    tasks_, n_tasks_, n_features_in_, feature_names_in_
        As in :class:`HierarchicalRegressor`.

    See Also
    --------
    HierarchicalRegressor : the linear mixed model.
    MeanRegularizedClassifier : a fixed pull towards the tasks' mean, tuned by CV.

    Notes
    -----
    Each E-step finds the joint mode of ``(beta, v_1..v_T)`` by damped
    Newton steps whose block-arrow Hessian is eliminated task by task with
    stacked (T, q, q) solves (one weighted pass over the rows per step);
    the M-step is the closed-form update of :class:`HierarchicalRegressor`
    with the Laplace posterior ``N(v_hat_t, (I + L' Z_t' W_t Z_t L)^-1)``;
    SQUAREM accelerates the iteration. That EM stops near, not at, the
    maximum of the Laplace likelihood (its fixed point under-estimates the
    variances, as PQL does), so L-BFGS-B then maximizes the Laplace
    likelihood itself, with its exact gradient (the dependence of the
    curvatures on the mode included, by one adjoint solve). The fixed effects are not penalized:
    on separable data they grow until the Newton steps stop improving (a
    ``ConvergenceWarning`` is not raised for that). With a single task
    ``Sigma`` is set to 0 (unpenalized logistic regression), with a warning.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import HierarchicalClassifier
    >>> rng = np.random.RandomState(0)
    >>> tasks = np.repeat(np.arange(40), 50)
    >>> x = rng.randn(2000)
    >>> logit = 0.5 + 1.5 * x + rng.randn(40)[tasks]
    >>> y = (rng.rand(2000) < 1 / (1 + np.exp(-logit))).astype(int)
    >>> model = HierarchicalClassifier([], task_column=1).fit(np.column_stack([x, tasks]), y)
    >>> model.fixed_coef_.round(1)
    array([1.5])
    >>> model.covariance_.round(1)  # the variance of the tasks' intercepts, truly 1
    array([[0.9]])
    """

    _parameter_constraints = dict(_HierarchicalMixin._parameter_constraints)

    # Read by the label encoding shared with the penalized classifiers: every
    # row counts once.
    task_weights = None

    # A task whose rows hold one class is normal here (a rare event not
    # observed in it): its random intercept is pulled towards that class,
    # no further than the other tasks allow.
    _allow_single_class = True

    def __init__(
        self,
        random_features="all",
        *,
        covariance_type="diag",
        fit_intercept=True,
        unseen_task="error",
        task_column=None,
        max_iter=200,
        tol=1e-9,
    ):
        self.random_features = random_features
        self.covariance_type = covariance_type
        self.fit_intercept = fit_intercept
        self.unseen_task = unseen_task
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the logistic mixed model by Laplace-approximate maximum likelihood.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_columns)
            Features; in the long layout also the task column.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Class labels, two classes per task; a task may hold a single
            class (a rare event never observed in it) when all tasks
            together have two. Wide layout: one column per task, NaN/None
            for a missing label. Long layout: 1-D.
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the rows.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._check_in_memory(X)
        data = self._validate_fit(X, y, sample_weight)
        encoded, _ = self._encode_targets(data)
        if encoded.n_tasks != data.n_tasks:
            multiclass = [t for t, c in enumerate(self._per_task_classes) if len(c) > 2]
            raise ValueError(
                f"Only binary classification is supported. {type(self).__name__} needs two "
                f"classes per task; task(s) {multiclass[:10]} have more."
            )
        rows, codes, targets = encoded.to_long()
        weights = np.ones(len(rows)) if encoded.sample_weight is None else encoded.sample_weight[rows]
        A = _with_ones(encoded.X)[rows]
        fixed, random = self._columns(X, data, (A * weights[:, None]).T @ A)
        design = _LogisticDesign(
            X=A[:, fixed], Z=A[:, np.r_[0, 1 + random]], codes=codes, y=(targets > 0).astype(float),
            weights=weights, n_tasks=data.n_tasks,
        )
        self._warn_single_task(data, "logistic regression")
        Sigma, mode, L, n_iter, converged = _fit_logistic_mixed_model(
            design, covariance_type=self.covariance_type, max_iter=self.max_iter, tol=self.tol
        )
        self._warn_not_converged(converged)
        self._set_effects(data, Sigma, mode.beta, fixed, random, mode.v @ L.T, L @ mode.M_inv @ L.T)
        self.log_likelihood_ = mode.log_likelihood
        self.n_iter_ = int(n_iter)
        return self

    def _check_in_memory(self, X):
        if is_dask_collection(X):
            raise TypeError(
                f"{type(self).__name__} takes in-memory data only (X.compute()): the logistic "
                "model has no sufficient statistics, each Newton step of its fit passes over the "
                "rows. HierarchicalRegressor fits a dask DataFrame on the cluster."
            )

    def _validate_predict(self, X, **kwargs):
        self._check_in_memory(X)
        return super()._validate_predict(X, **kwargs)

    def _encode_targets(self, data):
        """The penalized classifiers' encoding, one-class tasks put on the classes of all tasks.

        The shared encoding gives a task's only class the target +1; here
        such a task is binary over the two classes of all the data, so that
        +1 is the second class in every task.
        """
        encoded, task_weights = super()._encode_targets(data)
        one_class = [t for t, c in enumerate(self._per_task_classes) if len(c) == 1]
        if not one_class:
            return encoded, task_weights
        classes = np.unique(np.concatenate(self._per_task_classes))
        if len(classes) != 2:
            raise ValueError(
                f"Task(s) {[_item(self.tasks_[t]) for t in one_class[:10]]} hold a single class; "
                f"{type(self).__name__} accepts that only when all tasks together have two "
                f"classes (they have {len(classes)})."
            )
        # Two classes in all: every task is binary (one column each, column t
        # is task t) over these very classes.
        for t in one_class:
            if self._per_task_classes[t][0] == classes[0]:
                rows = encoded.task_rows(t)
                if encoded.layout == "wide":
                    encoded.y[rows, t] = -1.0
                else:
                    encoded.y[rows] = -1.0
        self._per_task_classes = [classes] * data.n_tasks
        if self.task_column is None:
            self.classes_ = list(self._per_task_classes)
        else:
            self._class_position = np.tile(np.arange(2), (data.n_tasks, 1))
        return encoded, task_weights

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def _more_tags(self):  # scikit-learn 1.5
        return {**super()._more_tags(), "binary_only": True}

    def _population_model(self):
        # The typical task, u = 0 (lme4's allow.new.levels).
        return self.fixed_coef_[None, :], np.array([self.fixed_intercept_])
