"""Solvers for the multi-task kernel ridge system.

Every problem is a list of N observed (row, task) pairs ``(r_k, c_k)`` with
target ``y_k`` and weight ``v_k``, over ``n`` distinct inputs and ``T``
tasks. The product kernel is ``G[k, l] = Kx[r_k, r_l] * Kt[c_k, c_l]`` and
the dual coefficients solve (sklearn ``KernelRidge`` with sample weights)::

    (D G D + alpha I) u = D y,     a = D u,     D = diag(sqrt(v))

which is ``(G + alpha V^{-1}) a = y`` when every ``v_k > 0``. Solvers:

* :func:`solve_eigen` — all ``n * T`` pairs observed and ``v = s (x) w``
  (sample weight times task weight): ``D G D = (Ds Kx Ds) (x) (Dw Kt Dw)``
  is diagonal in the joint eigenbasis of the two factors, so the system is
  solved with one ``n x n`` and one ``T x T`` eigendecomposition and
  matrix products, in ``O(n^3 + T^3 + n^2 T)`` time and ``O(n^2 + nT)``
  memory, never forming the ``nT x nT`` matrix (``_ridge.py::_solve_svd``
  pattern). One decomposition serves every ``alpha``.
* :func:`solve_cg` — any pattern: conjugate gradients on the system above,
  where ``G @ a`` is ``Kx @ E(a)`` (``E(a)`` the ``n x T`` scatter of ``a``,
  sparse in the long layout) followed by a gather against ``Kt``:
  ``O(n^2 T)`` (wide) or ``O(N^2 + N T)`` (long) per iteration, memory
  ``O(n^2 + nT)``; with Nystroem features (``Kx = Z Z'``, m columns)
  ``O(n m T)`` (wide) or ``O(N m + m T^2)`` (long; ``O(N m + T m)`` and
  memory ``O(N m + T m)`` with a group-structured task kernel, see
  :class:`~._task_kernels.GroupTaskKernel`). Preconditioned by
  Jacobi, or, for a wide grid with at least half of the labels observed, by
  the full-grid eigen solve restricted to the observed pairs
  (:func:`eigen_preconditioner`, one extra ``O(n^3)`` decomposition, few
  iterations). The stopping rule is scipy's
  relative residual ``||D y - (D G D + alpha I) u|| <= tol * ||D y||``.
* :func:`solve_dense` — forms the ``N x N`` system and calls LAPACK
  (``O(N^3)`` time, ``O(N^2)`` memory); exact, for small ``N``.

The input Gram is an object with ``matmat``, ``diag``, ``submatrix``,
``scaled`` and ``eigh``: :class:`DenseGram` (the exact kernel matrix) or
:class:`LowRankGram` (``Kx = Z Z'`` from Nystroem features, where every
product costs ``O(n m)`` per column instead of ``O(n^2)``).
"""

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, cg

from ._task_kernels import GroupTaskKernel, as_task_kernel

__all__ = [
    "DenseGram",
    "LowRankGram",
    "KernelSolverResult",
    "solve_eigen",
    "eigen_loo_errors",
    "pair_loo_errors",
    "loo_route",
    "solve_cg",
    "eigen_preconditioner",
    "solve_dense",
    "product_gram",
]


class DenseGram:
    """The exact input Gram matrix ``Kx`` (n x n)."""

    def __init__(self, K):
        self.K = K
        self._eigh = None

    @property
    def n(self):
        return self.K.shape[0]

    def matmat(self, B):
        """``Kx @ B`` for a dense or sparse (n, p) ``B``."""
        if sp.issparse(B):
            # Kx is symmetric: Kx @ B = (B' Kx)'; a CSR-times-dense product
            # costs nnz(B) * n instead of n^2 * p.
            return np.asarray((B.T.tocsr() @ self.K).T)
        return self.K @ B

    def diag(self):
        return np.diag(self.K).copy()

    def submatrix(self, rows):
        return self.K[np.ix_(rows, rows)]

    def scaled(self, d):
        """Gram of ``diag(d) Kx diag(d)`` (sample weights in the eigen solver)."""
        return DenseGram(d[:, None] * self.K * d[None, :])

    def primal(self, E):
        """Coefficients ``C`` of the fitted functions, ``f(x, .) = k(x, X_fit) @ C @ Kt``.

        For the exact kernel these are the dual coefficients ``E`` themselves
        (dense, (n, J)); :class:`LowRankGram` gives (m, J) ones instead.
        """
        return E.toarray() if sp.issparse(E) else E

    def primal_gram(self, C):
        """Inner products ``C' Kx C`` of functions with coefficients ``C`` (see :meth:`primal`)."""
        return C.T @ self.matmat(C)

    def eigh(self):
        """``(evals, evecs)`` of ``Kx``, cached; negative rounding clipped to 0."""
        if self._eigh is None:
            # Divide and conquer ("evd") is the fastest LAPACK driver when
            # every eigenvector is wanted.
            evals, evecs = scipy.linalg.eigh(self.K, driver="evd")
            self._eigh = np.clip(evals, 0.0, None), evecs
        return self._eigh


class LowRankGram:
    """A low-rank input Gram ``Kx = Z Z'`` given by features ``Z`` (n x m)."""

    def __init__(self, Z):
        self.Z = Z
        self._eigh = None

    @property
    def n(self):
        return self.Z.shape[0]

    def matmat(self, B):
        if sp.issparse(B):
            return self.Z @ np.asarray((B.T.tocsr() @ self.Z).T)
        return self.Z @ (self.Z.T @ B)

    def diag(self):
        return np.einsum("ij,ij->i", self.Z, self.Z)

    def submatrix(self, rows):
        Zr = self.Z[rows]
        return Zr @ Zr.T

    def scaled(self, d):
        return LowRankGram(d[:, None] * self.Z)

    def primal(self, E):
        """Feature-space coefficients ``Z' E`` (m, J): ``f(x, .) = z(x) @ Z' E``.

        ``E`` sparse (one entry per observed pair) costs ``O(N m)``.
        """
        return np.asarray((E.T @ self.Z).T) if sp.issparse(E) else self.Z.T @ E

    def primal_gram(self, C):
        return C.T @ C

    def eigh(self):
        """Nonzero spectrum of ``Z Z'`` from the thin SVD of ``Z`` (rank <= m)."""
        if self._eigh is None:
            U, s, _ = scipy.linalg.svd(self.Z, full_matrices=False)
            self._eigh = s**2, U
        return self._eigh


@dataclass
class KernelSolverResult:
    """Output of a kernel ridge solver.

    Attributes
    ----------
    dual : ndarray of shape (N,)
        Dual coefficients ``a`` of the observed pairs, in the given order.
    n_iter : int or None
        Conjugate-gradient iterations; None for direct solvers.
    converged : bool
    """

    dual: np.ndarray
    n_iter: int | None
    converged: bool


def _eigen_parts(gram, task_kernel, row_sqrt_weight, task_sqrt_weight):
    """Eigendecompositions of the (already weighted) input Gram and task kernel."""
    del row_sqrt_weight  # ``gram`` is ``Ds Kx Ds`` already (cached eigh)
    # The eigenbasis needs the (T, T) matrix: the full grid is n x T anyway.
    Kt = as_task_kernel(task_kernel).toarray()
    if task_sqrt_weight is not None:
        Kt = task_sqrt_weight[:, None] * Kt * task_sqrt_weight[None, :]
    lx, U = gram.eigh()
    lt, V = np.linalg.eigh(Kt)
    return lx, U, np.clip(lt, 0.0, None), V


def solve_eigen(gram, task_kernel, Y, alphas, *, row_sqrt_weight=None, task_sqrt_weight=None):
    """Solve ``Kx A Kt + alpha A = Y`` (weighted) in the joint eigenbasis.

    With ``Kx = U diag(lx) U'`` and ``Kt = V diag(lt) V'`` the solution is
    ``A = U [(U' Y V) / (lx lt' + alpha)] V'``; when ``Kx`` is low rank
    (``U`` has ``r < n`` columns) the orthogonal complement has eigenvalue 0
    and contributes ``(Y - U U' Y) / alpha``.

    Parameters
    ----------
    gram : DenseGram or LowRankGram
        The weighted Gram ``Ds Kx Ds`` (``gram.scaled(row_sqrt_weight)``),
        so that its cached eigendecomposition serves repeated calls.
    task_kernel : ndarray of shape (T, T)
    Y : ndarray of shape (n, T)
    alphas : sequence of float > 0
    row_sqrt_weight, task_sqrt_weight : ndarray or None
        Square roots of the sample and task weights.

    Returns
    -------
    duals : list of ndarray of shape (n, T)
        Dual coefficient matrix ``A`` for each alpha.
    """
    lx, U, lt, V = _eigen_parts(gram, task_kernel, row_sqrt_weight, task_sqrt_weight)
    Yw = Y
    if row_sqrt_weight is not None:
        Yw = row_sqrt_weight[:, None] * Yw
    if task_sqrt_weight is not None:
        Yw = Yw * task_sqrt_weight[None, :]
    UtY = U.T @ Yw
    Yt = UtY @ V
    residual = Yw - U @ UtY if U.shape[1] < U.shape[0] else None
    spectrum = lx[:, None] * lt[None, :]
    duals = []
    for alpha in alphas:
        C = U @ ((Yt / (spectrum + alpha)) @ V.T)
        if residual is not None:
            C += residual / alpha
        if row_sqrt_weight is not None:
            C *= row_sqrt_weight[:, None]
        if task_sqrt_weight is not None:
            C *= task_sqrt_weight[None, :]
        duals.append(C)
    return duals


def eigen_loo_errors(gram, task_kernel, Y, alphas, *, row_sqrt_weight=None, task_sqrt_weight=None):
    """Exact leave-one-label-out residuals for every alpha (eigen case).

    Leaving the label ``(i, t)`` out of a ridge fit changes its residual to
    ``u_it / (d_it * C_it,it)`` with ``C = (D G D + alpha I)^{-1}`` (the
    kernel form of the PRESS identity). The diagonal of ``C`` in the joint
    eigenbasis is ``(U o U) [1 / (lx lt' + alpha)] (V o V)'``, an
    ``O(n r T + n T^2)`` product, so all alphas reuse one decomposition.

    Returns
    -------
    duals : list of ndarray of shape (n, T)
    loo_residuals : list of ndarray of shape (n, T)
        NaN where the weight is zero (the label does not enter the fit).
    """
    lx, U, lt, V = _eigen_parts(gram, task_kernel, row_sqrt_weight, task_sqrt_weight)
    duals = solve_eigen(
        gram, task_kernel, Y, alphas, row_sqrt_weight=row_sqrt_weight, task_sqrt_weight=task_sqrt_weight
    )
    n, T = Y.shape
    d = np.ones((n, T))
    if row_sqrt_weight is not None:
        d = d * row_sqrt_weight[:, None]
    if task_sqrt_weight is not None:
        d = d * task_sqrt_weight[None, :]
    U2, V2 = U**2, V**2
    leftover = 1.0 - U2.sum(axis=1) if U.shape[1] < n else None
    spectrum = lx[:, None] * lt[None, :]
    residuals = []
    for alpha, A in zip(alphas, duals):
        diag_C = U2 @ (1.0 / (spectrum + alpha)) @ V2.T
        if leftover is not None:
            diag_C += np.clip(leftover, 0.0, None)[:, None] / alpha
        with np.errstate(divide="ignore", invalid="ignore"):
            # A = D u, so u / (d C_kk) = A / (d^2 C_kk).
            res = A / (d**2 * diag_C)
        res[d == 0] = np.nan
        residuals.append(res)
    return duals, residuals


def pair_loo_errors(gram, task_kernel, rows, codes, y, alphas, *, sqrt_weight=None):
    """Exact leave-one-label-out residuals for every alpha, any pattern of pairs.

    The residual of the left-out label ``k`` is ``u_k / (d_k C_kk)`` with
    ``C = (D G D + alpha I)^{-1}`` and ``u = C D y``, as in
    :func:`eigen_loo_errors`. Two exact routes, whichever costs fewer
    operations; both serve every alpha from one factorization:

    * dense: the ``N x N`` system is eigendecomposed once (``O(N^3)``);
    * blocks, for Nystroem features (``Kx = Z Z'``, m columns) and a
      group-structured task kernel ``shared * S + own * I``
      (:class:`~._task_kernels.GroupTaskKernel`): ``D G D`` is
      ``own * blockdiag_t(F_t F_t')`` plus, for each group of tasks, the
      rank-m term ``shared * F_g F_g'`` (``F = D Z[rows]``). The per-task
      blocks are eigendecomposed once (``sum_t n_t^3``); each alpha then
      costs one m x m solve per group (Woodbury) and ``O(N m^2)`` products.
      With hundreds of tasks of tens of rows this is thousands of times
      cheaper than the dense route (School: 11,472 pairs, m = 500).

    Parameters
    ----------
    gram : DenseGram or LowRankGram
        The unweighted input Gram of the rows.
    task_kernel : DenseTaskKernel or GroupTaskKernel
        Kernel between the columns ``codes`` index.
    rows, codes : ndarray of int of shape (N,)
    y : ndarray of shape (N,)
    alphas : sequence of float > 0
    sqrt_weight : ndarray of shape (N,) or None
        ``d``: square roots of the pairs' weights.

    Returns
    -------
    duals : list of ndarray of shape (N,)
        Dual coefficients ``a = D u`` of the fit on every label, per alpha.
    loo_residuals : list of ndarray of shape (N,)
        Not finite where the weight is zero (the label does not enter the fit).
    """
    task_kernel = as_task_kernel(task_kernel)
    d = np.ones(len(y)) if sqrt_weight is None else sqrt_weight
    if loo_route(gram, task_kernel, codes, len(alphas)) == "blocks":
        return _block_loo_errors(gram.Z, task_kernel, rows, codes, y, alphas, d)
    P = d[:, None] * product_gram(gram, task_kernel, rows, codes) * d[None, :]
    lam, Q = scipy.linalg.eigh(P, driver="evd")
    lam = np.clip(lam, 0.0, None)
    Qb, Q2 = Q.T @ (d * y), Q**2
    duals, residuals = [], []
    for alpha in alphas:
        u = Q @ (Qb / (lam + alpha))
        duals.append(d * u)
        with np.errstate(divide="ignore", invalid="ignore"):
            residuals.append(u / (d * (Q2 @ (1.0 / (lam + alpha)))))
    return duals, residuals


def loo_route(gram, task_kernel, codes, n_alphas):
    """The cheaper exact route of :func:`pair_loo_errors`: "blocks" or "dense"."""
    if not (isinstance(gram, LowRankGram) and isinstance(task_kernel, GroupTaskKernel)):
        return "dense"
    sizes = np.bincount(codes, minlength=task_kernel.shape[0]).astype(np.float64)
    N, m, n_groups = len(codes), gram.Z.shape[1], task_kernel.groups.max() + 1
    blocks = np.sum(sizes**3) + n_alphas * (3.0 * N * m * (m + sizes.max()) + n_groups * m**3)
    return "blocks" if blocks < float(N) ** 3 else "dense"


def _task_block_eigh(F, sizes, own):
    """Eigendecompositions of the per-task blocks ``own * F_t F_t'``.

    ``F`` holds the pairs sorted by task, ``sizes`` the (positive) count of
    each task in that order.
    Returns the eigenvalues (N,) and the block-diagonal (N, N) sparse matrix
    of eigenvectors. Tasks of equal size are decomposed in one batched call.
    """
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    mu = np.zeros(F.shape[0])
    blocks = [None] * len(sizes)
    for size in np.unique(sizes):
        tasks = np.flatnonzero(sizes == size)
        index = starts[tasks][:, None] + np.arange(size)  # (k, size)
        Ft = F[index]  # (k, size, m)
        evals, evecs = np.linalg.eigh(own * Ft @ Ft.transpose(0, 2, 1))
        mu[index] = np.clip(evals, 0.0, None)
        for t, V in zip(tasks, evecs):
            blocks[t] = V
    return mu, sp.block_diag(blocks, format="csr")


def _block_loo_errors(Z, task_kernel, rows, codes, y, alphas, d):
    """:func:`pair_loo_errors` by per-task blocks plus a Woodbury term per group.

    With the pairs sorted by task, ``D G D = Q diag(mu) Q' + shared * sum_g
    F_g F_g'`` (``Q`` block-diagonal: the eigenvectors of the own blocks).
    In the rotated basis ``U = sqrt(shared) Q' F``, ``b = Q' D y`` and
    ``lam = mu + alpha``, Woodbury gives ``C = Q (L^-1 - L^-1 U M_g^-1 U'
    L^-1) Q'`` with ``M_g = I + U_g' L^-1 U_g`` for each group ``g``; the
    diagonal of ``C`` is ``(Q o Q) lam^-1`` minus the row norms of ``Q L^-1
    U`` in the ``M_g^-1`` metric.
    """
    shared, own = task_kernel.shared, task_kernel.own
    pair_group = task_kernel.groups[codes]
    order = np.lexsort((codes, pair_group))
    d_sorted = d[order]
    F = d_sorted[:, None] * Z[rows[order]]
    if own > 0:
        sizes = np.bincount(codes, minlength=task_kernel.shape[0])
        task_order = np.lexsort((np.arange(len(sizes)), task_kernel.groups))
        mu, Q = _task_block_eigh(F, sizes[task_order][sizes[task_order] > 0], own)
    else:
        mu, Q = np.zeros(len(y)), sp.identity(len(y), format="csr")
    Q2 = Q.multiply(Q).tocsr()
    b = Q.T @ (d_sorted * y[order])
    U = np.sqrt(shared) * (Q.T @ F) if shared > 0 else None
    bounds = np.flatnonzero(np.diff(pair_group[order])) + 1
    groups = [slice(a, z) for a, z in zip(np.r_[0, bounds], np.r_[bounds, len(y)])]
    unsorted = np.empty_like(order)
    unsorted[order] = np.arange(len(order))
    duals, residuals = [], []
    for alpha in alphas:
        inv_lam = 1.0 / (mu + alpha)
        rotated = b * inv_lam
        diag_C = Q2 @ inv_lam
        if U is not None:
            U_lam = U * inv_lam[:, None]
            E = Q @ U_lam
            for g in groups:
                factor = scipy.linalg.cho_factor(np.eye(U.shape[1]) + U[g].T @ U_lam[g])
                rotated[g] -= U_lam[g] @ scipy.linalg.cho_solve(factor, U_lam[g].T @ b[g])
                diag_C[g] -= np.einsum("km,km->k", E[g], scipy.linalg.cho_solve(factor, E[g].T).T)
        u = Q @ rotated
        duals.append((d_sorted * u)[unsorted])
        with np.errstate(divide="ignore", invalid="ignore"):
            residuals.append((u / (d_sorted * diag_C))[unsorted])
    return duals, residuals


def eigen_preconditioner(gram, task_kernel, rows, codes, alpha, *, task_sqrt_weight=None):
    """Preconditioner for a partly observed grid: the full-grid inverse, restricted.

    The system of the observed pairs is ``S (D G D + alpha I) S'`` (``S``
    selects them from the full ``n x T`` grid); ``S (D G D + alpha I)^{-1}
    S'`` approximates its inverse well when most labels are observed, and
    is applied in the joint eigenbasis in ``O(n r T + n T^2)``.

    Parameters
    ----------
    gram : DenseGram or LowRankGram
        The row-weighted Gram ``Ds Kx Ds``.
    """
    lx, U, lt, V = _eigen_parts(gram, task_kernel, None, task_sqrt_weight)
    n, T = gram.n, task_kernel.shape[0]
    denominator = lx[:, None] * lt[None, :] + alpha
    low_rank = U.shape[1] < n

    def apply(v):
        E = np.zeros((n, T))
        E[rows, codes] = np.ravel(v)
        UtE = U.T @ E
        out = U @ (((UtE @ V) / denominator) @ V.T)
        if low_rank:
            out += (E - U @ UtE) / alpha
        return out[rows, codes]

    return apply


def _scatter(values, rows, codes, n, T, sparse):
    if sparse:
        return sp.csr_matrix((values, (rows, codes)), shape=(n, T))
    E = np.zeros((n, T), dtype=values.dtype)
    E[rows, codes] = values
    return E


def _low_rank_pair_product(Z, task_kernel, rows, codes, n_tasks):
    """``a -> G a`` for Nystroem features (``Kx = Z Z'``) and few pairs per task.

    ``(G a)_k = z_(r_k)' (Z' E(a) Kt)[:, c_k]``: the per-task sums
    ``sum_(l: c_l = t) a_l z_(r_l)`` (segment sums over the pairs sorted by
    task, as a sparse (T, N) product), the task kernel applied to these
    (T, m) sums, and a gather. ``O(N m)`` plus the task kernel product
    (``O(T m)`` for a :class:`GroupTaskKernel`); memory ``O(N m + T m)``,
    never the n x T grid.
    """
    N, m = len(rows), Z.shape[1]
    # Long layout: one pair per row, in row order, so Z needs no copy.
    Zp = Z if N == Z.shape[0] and np.array_equal(rows, np.arange(N)) else Z[rows]
    order = np.argsort(codes, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=n_tasks))])
    # The gather of each pair's row of M is done by blocks of about 8 MB:
    # one (N, m) temporary would double the memory and, at 200,000 pairs,
    # take 6 times as long (page faults, cache misses) as the arithmetic.
    block = max(1, 2**20 // m)

    def product(a):
        sums = sp.csr_matrix((a[order], order, indptr), shape=(n_tasks, N)) @ Zp
        M = task_kernel.matmat(sums)  # (T, m)
        out = np.empty(N, dtype=M.dtype)
        for start in range(0, N, block):
            stop = start + block
            out[start:stop] = np.einsum("km,km->k", Zp[start:stop], M[codes[start:stop]])
        return out

    return product


def product_gram(gram, task_kernel, rows, codes):
    """The ``N x N`` product kernel ``Kx[r][:, r] * Kt[c][:, c]``."""
    return gram.submatrix(rows) * as_task_kernel(task_kernel).take(codes)


def solve_dense(gram, task_kernel, rows, codes, y, alpha, *, sqrt_weight=None):
    """Direct solve of the ``N x N`` system (Cholesky, LU fallback)."""
    G = product_gram(gram, task_kernel, rows, codes)
    b = y
    if sqrt_weight is not None:
        G = sqrt_weight[:, None] * G * sqrt_weight[None, :]
        b = sqrt_weight * y
    G.flat[:: G.shape[0] + 1] += alpha
    try:
        u = scipy.linalg.solve(G, b, assume_a="pos")
    except np.linalg.LinAlgError:  # pragma: no cover - PD up to rounding
        u = scipy.linalg.solve(G, b)
    dual = u if sqrt_weight is None else sqrt_weight * u
    return KernelSolverResult(dual, None, True)


def solve_cg(
    gram,
    task_kernel,
    rows,
    codes,
    y,
    alpha,
    *,
    n_tasks,
    sqrt_weight=None,
    tol=1e-6,
    max_iter=None,
    x0=None,
    preconditioner=None,
):
    """Conjugate gradients on ``(D G D + alpha I) u = D y`` without forming ``G``.

    ``G @ a`` is computed as ``Kx @ E(a)`` then, for each pair ``k``,
    ``sum_s (Kx E(a))[r_k, s] * Kt[s, c_k]``. ``E(a)`` is dense (n, T) when
    the pairs fill at least a twentieth of the grid (wide layout, BLAS-3
    products) and CSR otherwise (long layout: one pair per row, so
    ``Kx @ E`` costs ``N^2`` rather than ``N^2 T``). With Nystroem features
    and a sparse grid the n x T grid is never formed: per-task sums of the
    features, ``O(N m)`` (:func:`_low_rank_pair_product`).

    Parameters
    ----------
    gram : DenseGram or LowRankGram
    task_kernel : ndarray of shape (T, T), DenseTaskKernel or GroupTaskKernel
        A :class:`GroupTaskKernel` makes every task kernel product ``O(T)``
        per column instead of ``O(T^2)``.
    rows, codes : ndarray of int of shape (N,)
    y : ndarray of shape (N,)
    alpha : float > 0
    n_tasks : int
    sqrt_weight : ndarray of shape (N,) or None
    tol : float
        Relative residual at which scipy's ``cg`` stops.
    max_iter : int or None
        None: ``10 * N`` (scipy's default).
    x0 : ndarray of shape (N,) or None
        Warm start for the dual coefficients ``a``.
    preconditioner : callable or None
        Approximate inverse of ``D G D + alpha I`` (e.g.
        :func:`eigen_preconditioner`); None: Jacobi (its diagonal).

    Returns
    -------
    KernelSolverResult
    """
    task_kernel = as_task_kernel(task_kernel)
    n, N, T = gram.n, len(y), n_tasks
    dtype = np.result_type(y.dtype, np.float64)
    d = np.ones(N, dtype=dtype) if sqrt_weight is None else sqrt_weight.astype(dtype)
    sparse = 20 * N < n * T

    if sparse and isinstance(gram, LowRankGram):
        product = _low_rank_pair_product(gram.Z, task_kernel, rows, codes, T)
    elif sparse:

        def product(a):
            F = gram.matmat(_scatter(a, rows, codes, n, T, sparse=True))
            return task_kernel.pair_values(F, rows, codes)

    else:

        def product(a):
            F = gram.matmat(_scatter(a, rows, codes, n, T, sparse=False))
            return task_kernel.matmat(F.T)[codes, rows]

    def matvec(u):
        return d * product(d * np.ravel(u)) + alpha * u

    op = LinearOperator((N, N), matvec=matvec, dtype=dtype)
    # Jacobi preconditioner: diag(D G D) + alpha.
    diag = d**2 * gram.diag()[rows] * task_kernel.diagonal()[codes] + alpha
    if preconditioner is None:
        precond = LinearOperator((N, N), matvec=lambda v: np.ravel(v) / diag, dtype=dtype)
    else:
        precond = LinearOperator((N, N), matvec=preconditioner, dtype=dtype)
    n_iter = [0]

    def count(_):
        n_iter[0] += 1

    u0 = None
    if x0 is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            u0 = np.where(d > 0, x0 / d, 0.0)
    u, info = cg(
        op,
        d * y,
        x0=u0,
        rtol=tol,
        atol=0.0,
        maxiter=max_iter if max_iter is not None else 10 * N,
        M=precond,
        callback=count,
    )
    return KernelSolverResult(d * u, n_iter[0], info == 0)
