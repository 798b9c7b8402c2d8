"""The two data layouts seen by the losses: shared design (wide) and per-task rows (long).

A design computes the raw predictions ``X W + b`` and the backward products
``X' R`` of a loss, and bounds its Hessian; the losses never ask which layout
they hold (DESIGN.md section 4). See :mod:`._losses` for the conventions.
"""

import numpy as np
import scipy.sparse as sp
from scipy.linalg import eigh
from scipy.sparse.linalg import LinearOperator, eigsh

# Above this many unknowns (features + intercept) the exact top eigenvalue of
# a Gram matrix is found by Lanczos instead of a dense eigendecomposition.
_DENSE_EIG_MAX_DIM = 512
# Lanczos (ARPACK) stops when the residual of the top Ritz pair is below
# tol * theta, and then an eigenvalue lies within tol * theta of theta; the
# top Ritz value is itself a lower bound of lambda_max, so theta * (1 + tol)
# bounds lambda_max once the top eigenvalue is the one found (ARPACK's "LA"
# target). 1e-3 takes ~20-40 products with one vector, where 1e-8 took ~70-100.
_LANCZOS_TOL = 1e-3
_LANCZOS_MARGIN = 1.0 + _LANCZOS_TOL
# Passes over a whole dense X that need float64 or padded temporaries (column
# moments, per-task Grams) work on row blocks of about this many entries
# (8 MB in float64), so that their temporaries stay small next to X.
_BLOCK_ELEMENTS = 2**20


def _inner(a, b):
    """Sum of ``a * b`` over all entries, as a Python float.

    ``np.einsum`` rather than ``np.vdot``: the BLAS dot product of OpenBLAS
    goes multi-threaded on long vectors and then stalls badly whenever the
    cores are busy (e.g. several fits under joblib), for no gain here.
    """
    return float(np.einsum("i,i->", np.ravel(a), np.ravel(b)))



def _top_eigenvalue(matvec, dim):
    """Largest eigenvalue of the PSD operator ``matvec`` of size ``dim``.

    Dense eigendecomposition when ``dim`` is small, Lanczos otherwise.
    """
    if dim <= 64:
        # Form the matrix column by column (at most 64 operator products).
        H = np.column_stack([matvec(e) for e in np.eye(dim)])
        return float(eigh((H + H.T) / 2, eigvals_only=True)[-1])
    op = LinearOperator((dim, dim), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(0).standard_normal(dim)
    value = eigsh(op, k=1, which="LA", tol=_LANCZOS_TOL, v0=v0, return_eigenvectors=False)
    return float(value[0]) * _LANCZOS_MARGIN


class _WideDesign:
    """Shared design ``X`` (n, d) for every task: raw prediction (n, T)."""

    layout = "wide"

    def __init__(self, X, n_tasks, fit_intercept, features=None, shift=None):
        # With ``features``, the design is ``X[:, features]``, sliced on first
        # use: a working set solved through its Gram matrix never needs it.
        self._X = X
        self._features = features
        self.n_tasks = n_tasks
        self.fit_intercept = fit_intercept
        # ``shift`` (sparse X, with intercept): the design is ``X - 1 shift'``
        # without forming it (see _standardized).
        self.shift = shift

    @property
    def X(self):
        if self._features is not None:
            self._X, self._features = self._X[:, self._features], None
        return self._X

    def forward(self, W, b):
        X = self.X
        if not sp.issparse(X):
            rows = np.flatnonzero(np.any(W != 0, axis=1))
            if len(rows) < W.shape[0] // 2:
                # Row-sparse W (working sets, strong penalties): only the
                # used columns of X take part in the product.
                X, W = X[:, rows], W[rows]
        Z = X @ W
        if self.shift is not None:
            Z -= self.shift @ W
        if self.fit_intercept:
            Z += b
        return Z

    def restrict(self, features):
        shift = None if self.shift is None else self.shift[features]
        return _WideDesign(self.X, self.n_tasks, self.fit_intercept, features=features, shift=shift)

    def backward(self, R):
        grad_W = np.asarray(self.X.T @ R)
        grad_b = R.sum(axis=0) if self.fit_intercept else np.zeros(self.n_tasks, R.dtype)
        if self.shift is not None:
            grad_W -= np.outer(self.shift, grad_b)
        return grad_W, grad_b

    def per_task_sum(self, values):
        return values.sum(axis=0)

    def per_task_broadcast(self, task_values):
        """(n_tasks,) -> the raw prediction's shape."""
        return np.asarray(task_values)[None, :]

    def hessian_bound(self, weights):
        """Upper bound of ``max_t lambda_max(Xt' diag(c_t) Xt)`` (Xt with intercept).

        ``Xt' diag(c_t) Xt <= max(c) X' X`` in the PSD order (missing labels
        only remove terms), so ``max(c) * ||[X, 1]||_2^2`` bounds every task's
        Hessian. It is exact with no missing label and uniform weights.
        """
        X = self.X
        n, d = X.shape
        dim = d + int(self.fit_intercept)
        # Forming [X, 1]' [X, 1] costs n dim^2 flops, i.e. dim / T gradients;
        # Lanczos costs a few dozen products with one vector (2 n d each).
        shift = self.shift
        if not sp.issparse(X) and (dim <= 64 or dim <= min(self.n_tasks, _DENSE_EIG_MAX_DIM)):
            Xt = np.asarray(X, dtype=np.float64)
            if shift is not None:
                Xt = Xt - shift
            if self.fit_intercept:
                Xt = np.column_stack([Xt, np.ones(n)])
            top = float(eigh(Xt.T @ Xt, eigvals_only=True)[-1])
        else:

            def matvec(v):
                u = X @ v[:d]
                if shift is not None:
                    u = u - shift @ v[:d]
                if self.fit_intercept:
                    u = u + v[d]
                out = np.asarray(X.T @ u, dtype=np.float64).ravel()
                if shift is not None:
                    out -= shift * u.sum()
                if self.fit_intercept:
                    out = np.append(out, u.sum())
                return out

            top = _top_eigenvalue(matvec, dim)
        return float(np.max(weights)) * top


class _LongDesign:
    """Rows grouped by task; block-diagonal CSR ``Z`` gives the raw prediction (N,)."""

    layout = "long"

    def __init__(self, X_sorted, codes, n_tasks, fit_intercept, shift=None):
        n_rows, d = X_sorted.shape
        self.n_tasks = n_tasks
        self.n_features = d
        self.codes = codes
        self.fit_intercept = fit_intercept
        self.X_sorted = X_sorted
        self.shift = shift  # as in _WideDesign
        # Z's column indices take as much memory as its values in int64, half
        # in int32: int32 whenever the indices and the entry count fit (as
        # scipy would choose, but without its int64 -> int32 copy).
        nnz = X_sorted.nnz if sp.issparse(X_sorted) else n_rows * d
        small = max(nnz, n_tasks * d) <= np.iinfo(np.int32).max
        index = np.int32 if small else np.int64
        codes_index = codes.astype(index)
        if sp.issparse(X_sorted):
            X_sorted = X_sorted.tocsr()
            row_of = np.repeat(np.arange(n_rows), np.diff(X_sorted.indptr))
            indices = X_sorted.indices.astype(index) + codes_index[row_of] * index(d)
            indptr, data = X_sorted.indptr.astype(index, copy=False), X_sorted.data
        else:
            indices = (codes_index[:, None] * index(d) + np.arange(d, dtype=index)).ravel()
            indptr = np.arange(0, nnz + 1, d, dtype=index)
            # A view of the C-ordered rows: Z holds no copy of the features.
            data = np.ascontiguousarray(X_sorted).ravel()
        # Block (task t) of row i's columns is [t d, (t + 1) d): vec(W) is
        # W.T.ravel(), i.e. task-major, so W[:, t] lies in block t.
        self.Z = sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_tasks * d), copy=False)
        # The transpose is a CSC view of the same arrays; build the wrapper once.
        self.ZT = self.Z.T

    def restrict(self, features):
        if np.array_equal(features, np.arange(self.n_features)):
            # A working set of every feature: a second copy of X for nothing.
            return self
        shift = None if self.shift is None else self.shift[features]
        return _LongDesign(self.X_sorted[:, features], self.codes, self.n_tasks, self.fit_intercept, shift)

    def forward(self, W, b):
        z = self.Z @ np.ascontiguousarray(W.T).ravel()
        if self.shift is not None:
            z -= (self.shift @ W)[self.codes]
        if self.fit_intercept:
            z += b[self.codes]
        return z

    def backward(self, r):
        grad_W = (self.ZT @ r).reshape(self.n_tasks, self.n_features).T
        if self.fit_intercept:
            grad_b = np.bincount(self.codes, weights=r, minlength=self.n_tasks).astype(r.dtype)
        else:
            grad_b = np.zeros(self.n_tasks, r.dtype)
        if self.shift is not None:
            grad_W -= np.outer(self.shift, grad_b)
        return grad_W, grad_b

    def per_task_sum(self, values):
        return np.bincount(self.codes, weights=values, minlength=self.n_tasks)

    def per_task_broadcast(self, task_values):
        return np.asarray(task_values)[self.codes]

    def hessian_bound(self, weights):
        """``max_t lambda_max(Xt' diag(c_t) Xt)`` (Xt with intercept), exactly.

        Dense features with few columns: the per-task weighted Grams are
        formed by zero-padding the tasks into (tasks, n_max, d) arrays (one
        batched BLAS-3 product) and diagonalized in one batched call, a
        group of tasks at a time so that the padded copy stays small next
        to ``X`` (``_BLOCK_ELEMENTS``). Otherwise: Lanczos on the
        block-diagonal Hessian operator, whose top eigenvalue is the maximum
        over its blocks.
        """
        d, T = self.n_features, self.n_tasks
        dim = d + int(self.fit_intercept)
        X, codes = self.X_sorted, self.codes
        n_rows = X.shape[0]
        starts = np.searchsorted(codes, np.arange(T + 1))
        position = np.arange(n_rows) - starts[codes]
        n_max = int(position.max()) + 1 if n_rows else 0
        padded_size = T * n_max * dim
        shift = self.shift
        if not sp.issparse(X) and dim <= 256 and padded_size <= max(4 * n_rows * dim, 10**6):
            root = np.sqrt(weights)
            top = 0.0
            for group in _row_blocks(T, n_max * dim):
                first, last = group.start, min(group.stop, T)
                rows = slice(starts[first], starts[last])
                blocks = np.zeros((last - first, n_max, dim))
                where = (codes[rows] - first, position[rows])
                Xt = np.asarray(X[rows], dtype=np.float64)
                if shift is not None:
                    Xt = Xt - shift
                blocks[where + (slice(0, d),)] = Xt * root[rows, None]
                if self.fit_intercept:
                    blocks[where + (d,)] = root[rows]
                gram = np.matmul(blocks.transpose(0, 2, 1), blocks)
                top = max(top, float(np.linalg.eigvalsh(gram)[:, -1].max()))
            return top

        def matvec(v):
            V = v.reshape(T, dim).T
            u = self.Z @ np.ascontiguousarray(V[:d].T).ravel()
            if shift is not None:
                u = u - (shift @ V[:d])[codes]
            if self.fit_intercept:
                u = u + V[d][codes]
            u *= weights
            gW = (self.ZT @ u).reshape(T, d)
            if self.fit_intercept:
                gb = np.bincount(codes, weights=u, minlength=T)
                if shift is not None:
                    gW = gW - np.outer(gb, shift)
                gW = np.column_stack([gW, gb])
            return gW.ravel()

        return _top_eigenvalue(matvec, T * dim)


def _row_blocks(n_rows, n_columns):
    """Slices of at most ``_BLOCK_ELEMENTS / n_columns`` rows covering ``range(n_rows)``."""
    step = max(1, _BLOCK_ELEMENTS // max(n_columns, 1))
    return [slice(start, start + step) for start in range(0, n_rows, step)]
