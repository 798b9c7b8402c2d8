"""Data-fitting terms of the linear multi-task models.

A loss is a small object built once from a :class:`~skmtl._data.TaskData`
and the encoded float targets. Solvers only see its methods; they never
know whether the data came in the wide or the long layout (DESIGN.md
section 4).

Conventions (shared with :mod:`._penalties` and :mod:`._solvers`)
-----------------------------------------------------------------
* ``W`` has shape (n_features, n_tasks): column ``t`` is task ``t``'s
  coefficient vector, row ``j`` is feature ``j`` across tasks (the group of
  the L21 norm). Estimators publish ``coef_ = W.T``.
* ``b`` has shape (n_tasks,), the intercepts; they are never penalized.
* The loss of task ``t`` averages its labeled rows with the sample weights
  normalized within the task, and is scaled by the task weight ``w_t``::

      f(W, b) = sum_t w_t * sum_{i in t} s_i / S_t * l(y_it, x_i' W[:, t] + b_t)

  with ``S_t = sum_{i in t} s_i``. For unit sample weights this is
  ``sum_t w_t / n_t * sum_{i in t} l(...)``. The squared loss uses
  ``l(y, z) = (y - z)^2 / 2``, so with the wide layout, no missing label,
  ``w_t = 1`` and no sample weights ``f = ||Y - XW - 1 b'||_F^2 / (2 n)``,
  the data term of :class:`sklearn.linear_model.MultiTaskLasso`.

Internally every labeled (row, task) pair carries one weight
``c = w_t * s_i / S_t``; a missing label has weight 0, so one masked
elementwise product folds the mask, the task weights and the sample weights
into the residual before the single backward product.

Three designs compute the raw predictions and gradients:

* wide (shared ``X``): the raw prediction is ``X @ W + b`` of shape
  (n_samples, n_tasks) and the gradient ``X.T @ (C * residual)``: two BLAS-3
  products per gradient whatever the number of tasks;
* long (per-task rows): rows are sorted by task once, and the features are
  laid out as the block-diagonal CSR matrix ``Z`` of shape
  (n_rows, n_tasks * n_features) whose row ``i`` holds ``x_i`` in the block of
  its task. Then ``Z @ vec(W)`` is every row's prediction with its own task
  and ``Z.T @ r`` the per-task gradients: one sparse product each way, no
  loop over tasks (fast with thousands of tasks), and the same code for
  dense and sparse ``X``. ``Z``'s values are the sorted features; only its
  column indices are shifted by ``task * n_features``. (Measured against
  ``einsum`` row products and ``np.add.reduceat`` segment sums, it was 2-10x
  faster from 139 to 1000 tasks.)
* Gram (squared loss, wide layout, no missing label, ``n >> d``): the loss
  is a quadratic form in ``X' X``, so an iteration costs ``d^2 T`` flops
  instead of ``n d T`` (see :class:`SquaredLoss`, ``gram``). With fewer
  rows than that, ``SquaredLoss.restrict`` still works through the Gram
  matrix of the restricted columns (working sets), whose blocks are cached
  on the loss as the working sets grow (``_WorkingSetGram``).
"""

import copy
import dataclasses

import numpy as np
import scipy.sparse as sp
from scipy.linalg import cho_factor, cho_solve, eigh
from scipy.sparse.linalg import LinearOperator, eigsh
from scipy.special import expit, xlogy

__all__ = ["SquaredLoss", "LogisticLoss"]

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
# Working sets of the squared loss (wide layout, every label observed) are
# solved through the Gram matrix of their columns up to this many features
# (and at most n_samples): beyond, its |ws|^2 memory and |ws|^3 Lipschitz
# estimate stop paying off.
_WS_GRAM_MAX_FEATURES = 2048
# Gram forms of more features than this skip the zero rows of W in G @ W
# (below, finding them costs more than the product).
_GRAM_SPARSE_MIN = 256
# Power iterations estimating the top eigenvalue of a kernel (_KernelSystem).
_POWER_ITERATIONS = 20
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


def _resolve_task_weights(task_weights, n_samples_per_task):
    """Return the (n_tasks,) task weights ``w_t``.

    ``None`` gives 1 per task; ``"n_samples"`` gives weights proportional to
    the number of labeled rows, normalized to mean 1 (``w_t = T n_t /
    sum_s n_s``), so that every label counts the same and, with no missing
    label in the wide layout, ``"n_samples"`` equals ``None``.
    """
    n_tasks = len(n_samples_per_task)
    if task_weights is None:
        return np.ones(n_tasks)
    if isinstance(task_weights, str):
        if task_weights == "n_samples":
            counts = np.asarray(n_samples_per_task, dtype=np.float64)
            return n_tasks * counts / counts.sum()
        raise ValueError(
            f"task_weights={task_weights!r} is not supported; use None, "
            "'n_samples' or an array of shape (n_tasks,)."
        )
    weights = np.asarray(task_weights, dtype=np.float64)
    if weights.shape != (n_tasks,):
        raise ValueError(
            f"task_weights must have shape (n_tasks,) = ({n_tasks},); got "
            f"shape {weights.shape}."
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("task_weights must be finite and non-negative.")
    if not np.any(weights > 0):
        raise ValueError("task_weights are all zero; at least one task must count.")
    return weights


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


def _feature_moments(X, sample_weight, center, scale):
    """``(m, s)``: the (sample-weighted) means and scales of the columns of ``X``, float64.

    ``m`` (None without ``center``, or when the means are all 0) is the
    weighted mean; ``s`` (None without ``scale``) the weighted root mean
    square of the columns centered by ``m``, 1 for a constant column. Both
    are None when the weights sum to 0. Dense ``X`` is read in row blocks
    (:func:`_row_blocks`), so that neither a float64 conversion nor the
    centered squares of the whole ``X`` are ever allocated; sparse ``X``
    keeps its pattern (centering would densify it).
    """
    weights = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    total = weights.sum()
    if not total > 0 or not (center or scale):
        return None, None
    sparse = sp.issparse(X)
    blocks = None if sparse else _row_blocks(*X.shape)
    m = None
    if center:
        if sparse:
            m = np.asarray(X.T @ weights, dtype=np.float64).ravel() / total
        else:
            m = sum(weights[rows] @ np.asarray(X[rows], dtype=np.float64) for rows in blocks) / total
        m = m if np.any(m) else None
    if not scale:
        return m, None
    if sparse:
        squares = np.asarray(X.multiply(X).T @ weights, dtype=np.float64).ravel() / total
        if m is not None:
            squares = np.maximum(squares - m * m, 0.0)
    else:
        squares = 0.0
        for rows in blocks:
            part = np.array(X[rows], dtype=np.float64)
            if m is not None:
                part -= m
            squares = squares + weights[rows] @ np.square(part, out=part)
        squares = squares / total
    scales = np.sqrt(squares)
    return m, np.where((scales > 0) & np.isfinite(scales), scales, 1.0)


def _standardized(X, sample_weight, center, scale, rows=None):
    """``(Xs, m, s)``: the rows ``rows`` of ``X`` (all when None), centered by ``m`` and divided by ``s``.

    The intercepts are not penalized, so a model on ``X - 1 m'`` with
    intercepts ``c = b + m' W`` is the same model: centering only changes
    the solvers' geometry. Features far from 0 couple ``W`` with the
    intercepts through the large eigenvalue ``n ||m||^2`` of ``[X, 1]' [X,
    1]``: with an offset of 5, proximal gradient methods took 100x more
    iterations on the uncentered design. Scaling: proximal gradient
    methods take one step for all features, set by the largest curvature;
    one column on the scale of an income (sd 1e4) next to standardized
    ones left the others nearly frozen (1000 iterations at 11 times the
    optimal objective, where scikit-learn's coordinate descent, which is
    scale-free, needed 11 epochs). On ``X / s`` every column has curvature
    about 1, and the intercepts' curvature (1 per task) no longer exceeds
    the features'.

    ``m`` and ``s`` are those of :func:`_feature_moments` (``center``,
    ``scale``). Memory: ``Xs`` is the only copy of ``X`` made (the gathered
    rows, or one copy when something changes), centered and scaled in
    place, in ``X``'s dtype; without ``rows`` and with nothing to do it is
    ``X`` itself. Sparse ``X`` keeps its pattern: only scaled, the designs
    subtract ``1 m'`` in their products. The input is never modified.
    """
    m, scales = _feature_moments(X, sample_weight, center, scale)
    sparse = sp.issparse(X)
    changes = scales is not None or (m is not None and not sparse)
    if rows is not None:
        # C order whatever X's: the long design's CSR values are its rows.
        # (mode="clip" since rows are valid: "raise" buffers a second copy.)
        out = None if sparse else np.empty((len(rows), X.shape[1]), X.dtype)
        X = X[rows] if sparse else np.take(X, rows, axis=0, out=out, mode="clip")
    elif changes:
        # order="K": a Fortran-ordered X stays so (its BLAS products too).
        X = X.copy() if sparse else X.copy(order="K")
    if sparse:
        if scales is not None:
            X.data *= (1.0 / scales)[X.indices]
        return X, m, scales
    if m is not None:
        X -= m
    if scales is not None:
        X /= scales
    return X, m, scales


class _BaseLoss:
    """Common construction: design, per-label weights, targets.

    Subclasses define ``_pointwise(raw, y) -> (loss, derivative)`` and
    ``_curvature`` (an upper bound of the second derivative of ``l``).
    """

    _curvature = 1.0

    def __init__(self, data, y=None, *, task_weights=None, fit_intercept=True, center=False, scale=False):
        X = data.X
        if not (sp.issparse(X) or isinstance(X, np.ndarray)):
            raise TypeError("data.X must be a NumPy array or a SciPy sparse matrix.")
        wide = data.layout == "wide" and data.mask is not None
        rows = codes = None
        if not wide:
            # The long design works on the rows grouped by task: they are
            # gathered once and centered and scaled in that copy.
            rows, codes, _ = data.to_long()
            rows, codes = np.asarray(rows), np.asarray(codes, dtype=np.int64)
        X, self.x_offset, self.x_scale = _standardized(
            X, data.sample_weight, center and fit_intercept, scale, rows=rows
        )
        # The means in the loss's units: its features are (X - 1 m') / s.
        self._offset = None
        if self.x_offset is not None:
            self._offset = self.x_offset if self.x_scale is None else self.x_offset / self.x_scale
        # The (possibly centered and scaled) wide data the loss works on
        # (Gram forms, blocks, kernels); sparse X is centered implicitly by
        # its design. The long design holds its own copy: the input's rows
        # are not kept.
        self._source = dataclasses.replace(data, X=X) if wide else None
        shift = self._offset if sp.issparse(X) else None
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        self.dtype = np.dtype(dtype)
        self.fit_intercept = bool(fit_intercept)
        self.n_features = X.shape[1]
        self.n_tasks = data.n_tasks
        counts = data.n_samples_per_task
        self.task_weights_ = _resolve_task_weights(task_weights, counts)

        y = data.y if y is None else np.asarray(y)
        if y.shape != data.y.shape:
            raise ValueError(
                f"Encoded targets must have the shape of data.y {data.y.shape}; got {y.shape}."
            )
        sample_weight = data.sample_weight
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if np.any(sample_weight < 0) or not np.all(np.isfinite(sample_weight)):
                raise ValueError("sample_weight must be finite and non-negative.")

        if wide:
            mask = data.mask
            if mask.all():
                # Every label observed: c_it = w_t s_i / S, one outer product.
                s = np.ones(len(mask)) if sample_weight is None else sample_weight
                T = mask.shape[1]
                per_task = self._normalize(np.ones(T), np.full(T, s.sum()))
                weights = np.outer(s, per_task)
                # Kept for products with the weights at the cost of one vector.
                self._weight_factors = (s, per_task)
                targets = np.array(y, dtype=np.float64)
            else:
                weights = mask.astype(np.float64)
                if sample_weight is not None:
                    weights *= sample_weight[:, None]
                weights = self._normalize(weights, weights.sum(axis=0))
                # Missing labels become 0 so that they stay finite in the
                # residual; their weight is 0, so they never count.
                targets = np.where(mask, y, 0).astype(np.float64)
            self._targets = self._check_targets(targets, mask)
            self._design = _WideDesign(X, self.n_tasks, self.fit_intercept, shift=shift)
        else:
            weights = np.ones(len(rows)) if sample_weight is None else sample_weight[rows]
            totals = np.bincount(codes, weights=weights, minlength=self.n_tasks)
            weights = self._normalize(weights, totals[codes], codes=codes)
            if data.layout == "long":
                targets = y[rows]
            else:  # wide data without a mask is not produced by TaskData
                targets = y[rows, codes]
            self._targets = self._check_targets(np.asarray(targets, dtype=np.float64), None)
            self._design = _LongDesign(X, codes, self.n_tasks, self.fit_intercept, shift)
        self._weights = weights.astype(self.dtype, copy=False)
        self._targets = self._targets.astype(self.dtype, copy=False)
        self._lipschitz = None
        self._null = None
        self._null_b = None
        self._memo = None
        self._totals = None

    # c = s a' (the wide layout with every label observed), else None.
    _weight_factors = None

    def to_loss_coef(self, W):
        """Coefficients of the original features in the loss's units: ``s * W`` (``scale=True``)."""
        if self.x_scale is None:
            return W
        return np.asarray(W * self.x_scale[:, None], dtype=np.result_type(W, self.dtype))

    def from_loss_coef(self, V):
        """The original features' coefficients ``V / s`` (see :meth:`to_loss_coef`)."""
        if self.x_scale is None:
            return V
        return np.asarray(V / self.x_scale[:, None], dtype=V.dtype)

    def to_centered_intercept(self, W, b):
        """The loss's intercepts for the model ``(W, b)``, ``W`` in the loss's units.

        With ``x_offset`` (``center=True``) the loss works on ``X - 1 m'``
        and its intercepts are ``c = b + m' W`` (``m / s`` in the units of
        ``scale=True``); else ``b`` itself.
        """
        if self._offset is None or b is None:
            return b
        return np.asarray(b + self._offset @ np.asarray(W, dtype=np.float64), dtype=self.dtype)

    def from_centered_intercept(self, W, c):
        """The original features' intercepts ``b = c - m' W`` (see :meth:`to_centered_intercept`)."""
        if self._offset is None:
            return c
        return np.asarray(c - self._offset @ np.asarray(W, dtype=np.float64), dtype=self.dtype)

    def gap_scale(self):
        """What ``tol`` multiplies in the duality-gap stop: twice the intercept-only loss.

        For the squared loss that is ``sum_t w_t / n_t ||y_t - mean(y_t)||^2``:
        with the wide layout and unit weights ``||Y - 1 mean(Y)||_F^2 / n``,
        scikit-learn's ``tol * ||Y||^2`` (centered ``Y``) in its ``1 / n``
        units, so a ``tol`` means the same for both.
        """
        return 2.0 * float(self.null_model()[1])

    def dual_gap(self, W, b, penalty):
        """Duality gap of ``self + penalty`` at ``(W, b)``: ``P(W, b) - D(theta) >= 0``, or None.

        A certificate: the objective at ``(W, b)`` exceeds the minimum by
        at most the gap, and the gap is 0 at a minimizer. None when the
        penalty has no usable conjugate (``penalty.has_dual`` false or
        absent). See :meth:`SquaredLoss.dual_gap` and
        :meth:`LogisticLoss.dual_gap` for the dual points.
        """
        if not getattr(penalty, "has_dual", False):
            return None
        W, b = self._check_coef(W, b)
        return max(self._dual_gap(W, b, penalty), 0.0)

    def _task_column_factor(self, factor):
        """A per-task factor ``(n_tasks,)`` as an array that multiplies per-label values."""
        factor = np.asarray(factor, dtype=np.float64)
        if factor.ndim == 0:
            return factor
        return self._design.per_task_broadcast(factor)

    def _normalize(self, weights, totals, codes=None):
        """``c = w_t * s_i / S_t`` with ``0 / 0 = 0`` (a task with zero total weight)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(totals > 0, 1.0 / totals, 0.0)
        task_weights = self.task_weights_ if codes is None else self.task_weights_[codes]
        return weights * scale * task_weights

    def _check_targets(self, targets, mask):
        return targets

    # ------------------------------------------------------------------
    # The "raw prediction" interface: solvers cache raw = X W + b (the
    # expensive product) and combine cached raws linearly, so one FISTA
    # iteration costs exactly one forward and one backward product.
    @property
    def layout(self):
        return self._design.layout

    def raw_prediction(self, W, b):
        """Linear predictor of every labeled entry: (n, T) wide, (n_labels,) long."""
        return self._design.forward(W, b)

    def value_from_raw(self, raw):
        """Loss value at a raw prediction from :meth:`raw_prediction`."""
        loss, _ = self._pointwise(raw, self._targets, need_derivative=False)
        return _inner(self._weights, loss)

    def value_and_gradient_from_raw(self, raw):
        """``(value, grad_W, grad_b)`` sharing the one residual at ``raw``."""
        loss, deriv = self._pointwise(raw, self._targets, need_derivative=True)
        value = _inner(self._weights, loss)
        grad_W, grad_b = self._design.backward(deriv * self._weights)
        return value, grad_W, grad_b

    # ------------------------------------------------------------------
    def _check_coef(self, W, b):
        W = np.asarray(W)
        if W.shape != (self.n_features, self.n_tasks):
            raise ValueError(
                f"W must have shape (n_features, n_tasks) = "
                f"({self.n_features}, {self.n_tasks}); got {W.shape}."
            )
        b = np.zeros(self.n_tasks, self.dtype) if b is None else np.asarray(b)
        if b.shape != (self.n_tasks,):
            raise ValueError(f"b must have shape (n_tasks,) = ({self.n_tasks},); got {b.shape}.")
        return W.astype(self.dtype, copy=False), b.astype(self.dtype, copy=False)

    def value(self, W, b=None):
        """Loss at coefficients ``W`` (n_features, n_tasks) and intercepts ``b``."""
        W, b = self._check_coef(W, b)
        return self.value_from_raw(self.raw_prediction(W, b))

    def value_and_gradient(self, W, b=None):
        """Return ``(value, grad_W, grad_b)``; ``grad_b`` is 0 without intercept.

        At the zero model (``W = 0`` and the intercepts of
        :meth:`null_intercept`) the answer comes from :meth:`null_model`'s
        cache: estimators and paths ask for it at every ``alpha`` (the
        ``alpha_max`` check), and on a wide ``X`` it is a full gradient.
        """
        W, b = self._check_coef(W, b)
        if not W.any():
            _, value, grad_W, grad_b = self.null_model()
            if np.array_equal(b, self._null_b):
                return value, grad_W.copy(), grad_b.copy()
        return self.value_and_gradient_from_raw(self.raw_prediction(W, b))

    def task_values(self, W, b=None):
        """Per-task contributions ``w_t * mean_t l`` (n_tasks,); they sum to :meth:`value`."""
        W, b = self._check_coef(W, b)
        loss, _ = self._pointwise(self.raw_prediction(W, b), self._targets, need_derivative=False)
        return np.asarray(self._design.per_task_sum(self._weights * loss), dtype=np.float64)

    def lipschitz(self):
        """Upper bound of the Lipschitz constant of the gradient w.r.t. ``(W, b)``.

        The Hessian is block diagonal over tasks, so the constant is the
        largest over tasks of ``kappa * lambda_max(Xt' diag(c_t) Xt)``, with
        ``Xt`` the task's rows plus a column of ones when fitting an
        intercept and ``kappa`` the loss's curvature bound (1 squared, 1/4
        logistic).

        * long layout: that maximum itself, by batched dense
          eigendecompositions of the per-task Grams (dense ``X`` with fewer
          than 256 columns) or by Lanczos on the block-diagonal Hessian;
        * wide layout: ``kappa * max(c) * ||[X, 1]||_2^2``, exact without
          missing labels and sample weights; the Gram form
          (:class:`SquaredLoss`) is exact with sample weights too.

        Lanczos estimates (more than 64 unknowns and too large for a dense
        eigendecomposition) are converged to 1e-3 and inflated by 1e-3
        (``_LANCZOS_TOL``). Cached after the first call.
        """
        if self._lipschitz is None:
            bound = self._design.hessian_bound(self._weights.astype(np.float64))
            self._lipschitz = self._curvature * bound
        return self._lipschitz

    def restrict(self, features):
        """The same loss on the features ``features`` only (a new object).

        Targets, weights and intercepts are shared; used by working-set
        solvers, whose other rows of ``W`` are 0.
        """
        features = np.asarray(features)
        new = copy.copy(self)
        new._design = self._design.restrict(features)
        new.n_features = len(features)
        new._lipschitz = None
        new._null = None
        new._memo = None
        new._totals = None
        return new

    def remember_gradient(self, W, b, raw, grad_W, grad_b, step_constant=None):
        """Keep the gradient computed at ``(W, b)`` for :meth:`recall_gradient`.

        A solver stores the full gradient of its returned point, which it
        computed anyway for its stopping rule; the next solve of a
        warm-started path starts from that very point and gets it back for
        free instead of paying a full gradient again (``grad_W=None``
        forgets it). ``step_constant`` (the solver's last accepted inverse
        step size) becomes :attr:`step_hint`.
        """
        if grad_W is None:
            self._memo = None
        else:
            self._memo = (np.array(W, copy=True), np.array(b, copy=True), raw, grad_W, grad_b)
        if step_constant is not None:
            self._step_hint = float(step_constant)

    @property
    def step_hint(self):
        """Inverse step size accepted by the last solve on this loss, or None.

        A working-set solve whose first working set holds every feature
        starts from it instead of estimating ``||X||_2^2`` (Lanczos: 10-20
        gradients on a wide ``X``, at every ``alpha`` of a path's dense end);
        backtracking corrects it if it is too small.
        """
        return getattr(self, "_step_hint", None)

    def recall_gradient(self, W, b):
        """``(raw, grad_W, grad_b)`` stored for exactly this ``(W, b)``, else None."""
        memo = getattr(self, "_memo", None)
        if memo is None or memo[0].shape != np.shape(W):
            return None
        if not (np.array_equal(memo[0], W) and np.array_equal(memo[1], b)):
            return None
        return memo[2:]

    def null_model(self):
        """``(raw, value, grad_W, grad_b)`` at ``W = 0`` and the null intercepts.

        The start of every solve's stopping rule (and its early exit when
        ``W = 0`` is optimal); cached, so that a warm-started path pays the
        full gradient it costs once rather than once per alpha.
        """
        if self._null is None:
            zero = np.zeros((self.n_features, self.n_tasks), dtype=self.dtype)
            b_null = np.asarray(self.null_intercept(), dtype=self.dtype)
            raw = self.raw_prediction(zero, b_null)
            self._null = (raw, *self.value_and_gradient_from_raw(raw))
            self._null_b = b_null
        return self._null

    def _task_values_from_raw(self, raw):
        """Per-task contributions ``w_t * mean_t l`` at a raw prediction, float64 (n_tasks,)."""
        loss, _ = self._pointwise(raw, self._targets, need_derivative=False)
        return self._weighted_task_sums(loss.astype(np.float64, copy=False))

    def _weighted_task_sums(self, values):
        return np.asarray(self._design.per_task_sum(self._weights * values), dtype=np.float64)


class _GramQuadratic:
    """The squared loss of a shared design through its Gram matrix.

    Without missing labels every task weights the rows alike, ``c_it = a_t
    s_i`` with ``a_t = w_t / sum_i s_i``, so the loss is a quadratic in each
    task's ``(w_t, b_t)`` built from ``G = X' S X``, ``m = X' s``,
    ``Q = X' S Y``, ``u = s' Y`` and ``v = s' Y^2`` (``S = diag(s)``)::

        f = sum_t a_t / 2 (w_t' G w_t + 2 b_t m' w_t + (sum s) b_t^2 - 2 w_t' q_t - 2 b_t u_t + v_t)

    An iteration then costs ``d^2 T`` flops instead of ``n d T``. The raw
    prediction is the stacked ``[G W + m b'; m' W + (sum s) b'; W; b']``
    (linear in ``(W, b)``, so solvers can still extrapolate cached raws).
    """

    def __init__(self, X, Y, s, a, fit_intercept, dtype):
        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        unit = bool(np.all(s == 1))
        # Unit weights: X' X is one BLAS syrk (half the flops of X' (S X)).
        self.G = _gram_of(X, X, s, unit).astype(dtype, copy=False)
        self.m = (X.sum(axis=0) if unit else s @ X).astype(dtype)
        self.S = float(s.sum())
        self.Q = _gram_of(X, Y, s, unit).astype(dtype, copy=False)
        self.u = (s @ Y).astype(dtype)
        self.v = (s @ (Y * Y)).astype(dtype)
        self.a = np.asarray(a, dtype=dtype)
        self.fit_intercept = fit_intercept

    @classmethod
    def from_parts(cls, G, m, S, Q, u, v, a, fit_intercept):
        new = cls.__new__(cls)
        new.G, new.m, new.S, new.Q, new.u, new.v, new.a = G, m, S, Q, u, v, a
        new.fit_intercept = fit_intercept
        return new

    def restrict(self, features):
        new = copy.copy(self)
        new.G = self.G[np.ix_(features, features)]
        new.m, new.Q = self.m[features], self.Q[features]
        return new

    def raw(self, W, b):
        d = self.G.shape[0]
        out = np.empty((2 * d + 2, W.shape[1]), dtype=np.result_type(self.G, W))
        H = out[:d]
        rows = np.flatnonzero(np.any(W != 0, axis=1)) if d > _GRAM_SPARSE_MIN else None
        if rows is not None and len(rows) < d // 2:
            np.matmul(self.G[:, rows], W[rows], out=H)
        else:
            np.matmul(self.G, W, out=H)
        if self.fit_intercept:
            H += np.outer(self.m, b)
            out[d] = self.m @ W + self.S * b
            out[2 * d + 1] = b
        else:
            # Without intercept b is ignored, as in the direct designs.
            out[d] = out[2 * d + 1] = 0
        out[d + 1 : 2 * d + 1] = W
        return out

    def split(self, raw):
        d = self.G.shape[0]
        return raw[:d], raw[d], raw[d + 1 : 2 * d + 1], raw[2 * d + 1]

    def task_values(self, raw):
        H, h, W, b = self.split(raw)
        quad = np.einsum("ij,ij->j", W, H - 2 * self.Q) + b * (h - 2 * self.u)
        return 0.5 * self.a.astype(np.float64) * (quad + self.v)

    def gradient(self, raw):
        H, h, _, _ = self.split(raw)
        grad_W = self.a * (H - self.Q)
        grad_b = self.a * (h - self.u) if self.fit_intercept else np.zeros_like(self.u)
        return grad_W, grad_b

    def bregman(self, raw_new, raw_old):
        dH, dh, dW, db = self.split(raw_new - raw_old)
        return 0.5 * float(np.dot(self.a, np.einsum("ij,ij->j", dW, dH) + db * dh))

    def hessian_bound(self):
        d = self.G.shape[0]
        H = np.asarray(self.G, dtype=np.float64)
        if self.fit_intercept:
            H = np.block([[H, self.m[:, None]], [self.m[None], np.array([[self.S]])]])
        if H.shape[0] <= _DENSE_EIG_MAX_DIM:
            top = float(eigh(H, eigvals_only=True)[-1])
        else:
            top = _top_eigenvalue(lambda v: H @ v, H.shape[0])
        return float(np.max(self.a)) * top if d or self.fit_intercept else 0.0


def _gram_of(A, B, s, unit):
    """``A' diag(s) B``; ``A' A`` goes to BLAS ``syrk`` (half the flops) when ``s = 1``."""
    if unit:
        return A.T @ B
    return A.T @ (B * s[:, None])


class _WorkingSetGram:
    """Gram blocks of the features seen in working sets, grown as they grow.

    A working-set solver restricts the squared loss to a few hundred
    features many times; with ``n_samples`` much larger than that, solving
    each restricted problem through the Gram matrix of its columns costs
    ``|ws|^2 T`` flops per iteration instead of ``2 n |ws| T``. The Gram
    columns of a feature are computed once, the first time it enters a
    working set (``n |new| |cached|`` flops), so a sequence of growing
    working sets costs about one Gram of the last one.
    """

    def __init__(self, X, Y, s, a, fit_intercept, dtype):
        self.X, self.Y, self.s = X, Y, s
        self.unit = bool(np.all(s == 1))
        self.a = np.asarray(a, dtype=dtype)
        self.fit_intercept = fit_intercept
        self.dtype = dtype
        self.S = float(s.sum())
        self.u = (s @ Y).astype(dtype)
        self.v = (s @ (Y * Y)).astype(dtype)
        d, T = X.shape[1], Y.shape[1]
        self.position = np.full(d, -1, dtype=np.int64)
        self.features = np.empty(0, dtype=np.int64)
        self.X_cached = np.empty((X.shape[0], 0), dtype=np.float64)
        self.G = np.empty((0, 0), dtype=np.float64)
        self.Q = np.empty((0, T), dtype=np.float64)
        self.m = np.empty(0, dtype=np.float64)

    def worth(self, n_features):
        """Whether a working set of this size is cheaper through its Gram matrix."""
        n = self.X.shape[0]
        return n_features <= min(n, _WS_GRAM_MAX_FEATURES)

    def quadratic(self, features):
        """The :class:`_GramQuadratic` of the columns ``features``."""
        features = np.asarray(features, dtype=np.int64)
        new = features[self.position[features] < 0]
        if len(new):
            s, unit = self.s, self.unit
            Xn = np.asarray(self.X[:, new], dtype=np.float64)
            cross = _gram_of(Xn, self.X_cached, s, unit)  # (|new|, |cached|)
            Gnn = Xn.T @ Xn if unit else _gram_of(Xn, Xn, s, unit)
            self.G = np.block([[self.G, cross.T], [cross, Gnn]])
            self.Q = np.vstack([self.Q, _gram_of(Xn, self.Y, s, unit)])
            self.m = np.concatenate([self.m, Xn.sum(axis=0) if unit else s @ Xn])
            self.position[new] = len(self.features) + np.arange(len(new))
            self.features = np.concatenate([self.features, new])
            self.X_cached = np.hstack([self.X_cached, Xn])
        idx = self.position[features]
        dtype = self.dtype
        return _GramQuadratic.from_parts(
            self.G[np.ix_(idx, idx)].astype(dtype, copy=False),
            self.m[idx].astype(dtype, copy=False),
            self.S,
            self.Q[idx].astype(dtype, copy=False),
            self.u,
            self.v,
            self.a,
            self.fit_intercept,
        )


class _GramColumns:
    """Full Gram columns of the features in recent supports, for gradients at row-sparse ``W``.

    Without missing labels (``c_it = a_t s_i``) the gradient of the squared
    loss at ``(W, b)`` is, with ``Xc = X - 1 xbar'`` (weighted means; no
    centering without intercept) and ``g0`` the gradient at ``W = 0`` and
    the null intercepts::

        grad_W = (Xc' S Xc W) a + g0 + xbar grad_b'

    For ``W`` supported on a few rows ``F`` only the columns ``Xc' S Xc[:,
    F]`` (``d x |F|``) are needed: the product costs ``d |F| T`` flops
    instead of the ``n d T`` of ``X' R``. A warm-started path's sparse
    stretch checks optimality with a full gradient at each ``alpha`` while
    its support grows by a few features: each column is computed once
    (``n d`` flops), the first time its feature is in a checked support.
    Centering keeps features far from 0 from cancelling (``Xc' S X[:, F]``
    equals ``Xc' S Xc[:, F]``; the centering term is computed from the same
    centered columns).
    """

    def __init__(self, X, s, a, grad0, fit_intercept, max_columns):
        S = float(s.sum())
        self.X, self.s, self.a = X, s, a
        self.unit = bool(np.all(s == 1))
        self.x_mean = (s @ X) / S if fit_intercept and S > 0 else None
        self.grad0 = grad0
        self.max_columns = max_columns
        self.position = np.full(X.shape[1], -1, dtype=np.int64)
        self.C = np.empty((X.shape[1], 0))
        self.used = 0  # columns of C in use (its capacity doubles)

    def covers(self, rows, n_tasks):
        """Whether :meth:`gradient` beats a backward product for a ``W`` supported on ``rows``.

        At most ``n_samples / 4`` rows, at most ``n_tasks / 2`` of them
        without a cached column (their columns cost half the flops of one
        backward product, in wider, faster BLAS calls: a bet on their reuse
        by the next checks that a single fit would lose).
        """
        n_new = int(np.count_nonzero(self.position[rows] < 0))
        if 2 * n_new > n_tasks or 4 * len(rows) > self.X.shape[0]:
            return False
        if self.used + n_new > self.max_columns:
            # The support moved on: start afresh from the next call.
            self.position[:] = -1
            self.used = 0
            return False
        return True

    def gradient(self, W, rows, grad_b):
        """``(grad_W, n_new)`` at ``W`` supported on ``rows`` (see :meth:`covers`).

        ``n_new`` columns were computed for it.
        """
        new = rows[self.position[rows] < 0]
        if len(new):
            Xn = np.asarray(self.X[:, new], dtype=np.float64)
            if self.x_mean is not None:
                Xn = Xn - self.x_mean[new]
            SXn = Xn if self.unit else Xn * self.s[:, None]
            block = self.X.T @ SXn
            if self.x_mean is not None:
                block -= np.outer(self.x_mean, SXn.sum(axis=0))
            used = self.used
            if used + len(new) > self.C.shape[1]:
                grown = np.empty((self.C.shape[0], max(2 * self.C.shape[1], used + len(new))))
                grown[:, :used] = self.C[:, :used]
                self.C = grown
            self.C[:, used : used + len(new)] = block
            self.position[new] = used + np.arange(len(new))
            self.used = used + len(new)
        grad_W = self.C[:, self.position[rows]] @ (W[rows] * self.a)
        grad_W += self.grad0
        if self.x_mean is not None:
            grad_W += np.outer(self.x_mean, grad_b)
        return grad_W, len(new)


class _FeatureBlocks:
    """Contiguous blocks of the columns of a shared dense ``X``, for block coordinate descent.

    Without missing labels every task weights the rows alike, ``c_it = a_t
    s_i``, so the loss restricted to block ``B`` is, for each task, a
    quadratic with Hessian ``a_t X_B' S X_B``: the block's Gram matrix is
    shared by the tasks, computed once (``n |B|^2`` flops, ``n d |B|`` for
    all blocks) and kept for later solves on the same loss (a path).
    ``X[:, B]`` of a contiguous block is a view: a block's products cost
    ``n |B| T`` flops with no copy, so a sweep over all blocks costs one
    forward and one backward product with ``X``.
    """

    def __init__(self, X, s, a, weights, fit_intercept, block_size):
        d = X.shape[1]
        self.X, self.s = X, s
        # c = a_t s_i per entry (n, T): the derivative of the loss is
        # c * (raw - y), so a change dR of the raw prediction moves it by c dR.
        self.weights = weights
        self.unit = bool(np.all(s == 1))
        self.a = a
        self.fit_intercept = fit_intercept
        self.S = float(s.sum())
        self.slices = [slice(i, min(i + block_size, d)) for i in range(0, d, block_size)]
        self._grams = [None] * len(self.slices)

    def gram(self, k):
        """``(G, L)``: block ``k``'s Gram ``X_B' S X_B`` and ``max(a) lambda_max(G)``."""
        if self._grams[k] is None:
            XB = self.X[:, self.slices[k]]
            G = _gram_of(XB, XB, self.s, self.unit)
            top = float(eigh(G, eigvals_only=True)[-1]) if G.size else 0.0
            self._grams[k] = (G, float(np.max(self.a)) * top)
        return self._grams[k]

    def gradient(self, k, D):
        """``X_B' D``: block ``k``'s gradient from the weighted residual ``D``."""
        return self.X[:, self.slices[k]].T @ D

    def forward(self, k, dW):
        """``X_B dW``: the change of the raw prediction when block ``k`` moves by ``dW``."""
        return self.X[:, self.slices[k]] @ dW


class _KernelSystem:
    """Ridge systems of the squared loss on a wide shared design, through its kernel.

    Without missing labels and with one weight ``a`` for every task (``c_it
    = a s_i``), the squared loss with its intercepts at their optimum is
    ``a / 2 ||Yt - Xt W||_F^2`` with ``Xt = D (X - 1 xbar')``, ``Yt = D (Y
    - 1 ybar')``, ``D = diag(sqrt(s))`` and weighted means (no centering
    without intercept). Its Hessian ``A = a Xt' Xt`` is shared by the tasks,
    so ``(A + rho I) W = V`` is solved for every task at once through the
    ``n x n`` kernel ``K = Xt Xt'`` (Woodbury)::

        (A + rho I)^-1 V = (V - a Xt' (a K + rho I)^-1 Xt V) / rho

    ``K`` costs ``n^2 d`` flops once (``n / (4 T)`` gradients) and each
    ``rho`` a Cholesky factorization (``n^3 / 3``); a solve then costs
    about one gradient. ``Xt`` is formed (a copy of ``X``, unless the loss
    already centered it, ``x_centered``): centering ``X X'`` afterwards
    would cancel catastrophically on features far from 0 (an offset of 5
    left ADMM stalled at a relative measure of 6e-7).
    Used by :func:`._solvers._admm_loop` on wide ``X`` (``n < d``), where
    the exact ridge solve absorbs the ill-conditioning of ``X`` that slows
    proximal gradient methods.

    With ``single=True``, ``Xt``, the kernel, its factorization and the two
    products of a solve are float32 (half the time of float64 BLAS); ``V``,
    the result and the constant term ``linear`` stay float64, so rounding
    only touches the correction ``a Xt' (a K + rho I)^-1 Xt V``. ADMM then
    levels off at a relative measure of about ``3e-8 alpha_max / alpha``
    (measured on Gaussian designs, ``alpha_max / 10`` to ``/ 1000``): the
    solver uses it for loose tolerances, checks optimality in float64 and
    moves to ``single=False`` when the rounding stalls it.
    """

    def __init__(self, X, Y, s, a, fit_intercept, single=False, x_centered=False):
        S = float(s.sum())
        center = fit_intercept and S > 0
        self.single = single
        # (X already centered by the loss: its means are rounding.)
        center_x = center and not x_centered
        self.x_mean = (s @ X) / S if center_x else np.zeros(X.shape[1])
        self.y_mean = (s @ Y) / S if center else np.zeros(Y.shape[1])
        root = None if np.all(s == 1) else np.sqrt(s)[:, None]
        self.a = float(a)
        dtype = np.float32 if single else np.float64
        Xt = np.asarray(X - self.x_mean if center_x else X, dtype=dtype)
        Yt = Y - self.y_mean
        if root is not None:
            Xt = Xt * root.astype(dtype)
            Yt = Yt * root
        self.Xt = Xt
        K = Xt @ Xt.T
        self.K = K
        # A W - linear is the gradient of the profiled loss, from the
        # float64 X whatever the precision of Xt: ``a Xt' Yt``, with the
        # centering term ``m 1' D Yt`` (zero up to rounding) kept.
        DYt = Yt if root is None else Yt * root
        self.linear = self.a * (X.T @ DYt - np.outer(self.x_mean, DYt.sum(axis=0)))
        # A few power iterations on the small K: a lower estimate of the
        # Lipschitz constant (within a few %), which is all ADMM needs (its
        # first rho, and a stopping bound that an exact check confirms).
        v = np.random.default_rng(0).standard_normal(K.shape[0]).astype(dtype)
        top = 0.0
        for _ in range(_POWER_ITERATIONS):
            w = K @ v
            top = float(np.linalg.norm(w))
            if top == 0:
                break
            v = w / top
        self.lipschitz = self.a * top
        self._rho = self._factor = None

    def solve(self, V, rho):
        """``(A + rho I)^-1 V`` for every column of ``V`` (shape (d, T)), in float64."""
        if rho != self._rho:
            M = self.a * self.K
            M.flat[:: M.shape[0] + 1] += rho
            self._factor, self._rho = cho_factor(M, lower=True, check_finite=False), rho
        inner = cho_solve(self._factor, self.Xt @ V.astype(self.Xt.dtype, copy=False), check_finite=False)
        W = np.multiply(self.Xt.T @ inner, -self.a, dtype=np.float64)
        W += V
        W /= rho
        return W

    def intercept(self, W):
        """The intercepts that minimize the loss for ``W``."""
        return self.y_mean - self.x_mean @ W


class SquaredLoss(_BaseLoss):
    """Task-weighted mean squared error of a linear multi-task model.

    ``f(W, b) = sum_t w_t * sum_{i in t} (s_i / S_t) (y_it - x_i' W[:, t] - b_t)^2 / 2``

    Parameters
    ----------
    data : TaskData
        Validated data (either layout); missing labels are masked and sample
        weights are normalized within each task.
    y : ndarray of shape ``data.y.shape``, default=None
        Float targets; ``data.y`` when None.
    task_weights : None, "n_samples" or array-like of shape (n_tasks,), default=None
        ``w_t``: 1 per task, ``T n_t / sum_s n_s`` (every label counts the
        same), or given. ``task_weights = n_t`` gives MALSAR's
        ``0.5 * sum_t ||X_t w_t - y_t||^2``.
    fit_intercept : bool, default=True
        Whether ``b`` is used (else ``grad_b`` is 0).
    center : bool, default=False
        With ``fit_intercept``, work on the dense features centered by their
        sample-weighted means ``m`` (``x_offset``; a copy): the loss's
        intercepts are then ``c = b + m' W`` (:meth:`to_centered_intercept`,
        :meth:`from_centered_intercept`), the same model in a geometry where
        features far from 0 no longer slow the solvers. The estimators use
        it. Sparse ``X`` is centered implicitly (in the design's products,
        no dense copy); no effect on features already of mean 0.
    gram : "auto" or bool, default="auto"
        Work with the Gram matrix ``X' X`` (d x d) instead of ``X``: an
        iteration then costs ``d^2 T`` instead of ``n d T`` flops, after a
        one-off ``n d^2``. Needs the wide layout without missing labels.
        "auto" uses it for dense float64 ``X`` with ``n_samples >= 2
        (n_features + 1)`` and ``n_features <= 2048``.

    Notes
    -----
    Float32 features keep float32 gradients. With the wide layout, no
    missing label and unit weights this is the data term of
    :class:`sklearn.linear_model.MultiTaskLasso`.

    The Gram form computes the value as a difference of large terms, so its
    absolute accuracy is about ``eps * ||y||^2`` rather than ``eps *
    f``; solvers use :meth:`bregman_from_raw`, which has no such
    cancellation, in their line search.
    """

    _curvature = 1.0

    def __init__(
        self, data, y=None, *, task_weights=None, fit_intercept=True, center=False, scale=False, gram="auto"
    ):
        super().__init__(data, y, task_weights=task_weights, fit_intercept=fit_intercept, center=center, scale=scale)
        data = self._source
        if gram not in ("auto", True, False):
            raise ValueError(f"gram must be 'auto', True or False; got {gram!r}.")
        self._gram = None
        self._ws_gram = None
        self._block_source = self._blocks = None
        self._kernel_source = None
        self._kernel = {}
        self._single = None
        self._columns = None
        if gram is False:
            return
        complete = self.layout == "wide" and bool(np.all(data.mask))
        if gram is True and not complete:
            raise ValueError(
                "gram=True needs the wide layout with every label observed; "
                "missing labels or the long layout give each task its own Gram matrix."
            )
        if not complete:
            return
        if not sp.issparse(data.X) and self.dtype == np.float64:
            s = data.sample_weight
            s = np.ones(data.X.shape[0]) if s is None else np.asarray(s, dtype=np.float64)
            a = self.task_weights_ / s.sum() if s.sum() > 0 else np.zeros(self.n_tasks)
            # Built lazily: only working-set solvers (restrict) use it.
            self._ws_gram = (data.X, s, a)
            self._block_source = (data.X, s, a)
            self._kernel_source = (data.X, s, a)
        n, d = data.X.shape
        if gram == "auto" and not (
            not sp.issparse(data.X) and self.dtype == np.float64 and n >= 2 * (d + 1) and d <= 2048
        ):
            return
        X = data.X.toarray() if sp.issparse(data.X) else data.X
        s = np.ones(n) if data.sample_weight is None else np.asarray(data.sample_weight, dtype=np.float64)
        a = self.task_weights_ / s.sum() if s.sum() > 0 else np.zeros(self.n_tasks)
        self._gram = _GramQuadratic(X, self._targets, s, a, self.fit_intercept, self.dtype)
        self._ws_gram = None

    def restrict(self, features):
        """The loss on ``features`` only (see :meth:`_BaseLoss.restrict`).

        With the wide layout, every label observed and dense float64 ``X``
        (and ``gram`` not False), a restriction to at most
        ``min(n_samples, 2048)`` features works through the Gram matrix of
        those columns, whose blocks are cached on this loss and reused by
        later restrictions (growing working sets).
        """
        features = np.asarray(features)
        new = super().restrict(features)
        if self._gram is not None:
            new._gram = self._gram.restrict(features)
        elif self._ws_gram is not None:
            if isinstance(self._ws_gram, tuple):
                X, s, a = self._ws_gram
                self._ws_gram = _WorkingSetGram(X, self._targets, s, a, self.fit_intercept, self.dtype)
            if self._ws_gram.worth(len(features)):
                new._gram = self._ws_gram.quadratic(features)
        new._ws_gram = None
        new._block_source = new._blocks = None
        new._kernel_source = None
        new._kernel = {}
        new._single = False
        new._columns = False
        return new

    def kernel_available(self, max_samples):
        """Whether :meth:`kernel_system` gives a kernel (nothing is built).

        Under the conditions of :meth:`block_design`, when every task has
        the same weight and ``X`` has fewer rows than columns, at most
        ``max_samples`` (the kernel costs ``n^2 d`` flops).
        """
        if self._kernel_source is None or self._gram is not None:
            return False
        X, _, a = self._kernel_source
        n, d = X.shape
        return n < d and n <= max_samples and bool(np.allclose(a, a[0], rtol=1e-12, atol=0))

    def kernel_system(self, max_samples, single=False):
        """:class:`_KernelSystem` of this loss (float32 if ``single``), or None.

        See :meth:`kernel_available`. Cached per precision: a path computes
        its kernel once.
        """
        if not self.kernel_available(max_samples):
            return None
        if self._kernel.get(single) is None:
            X, s, a = self._kernel_source
            self._kernel[single] = _KernelSystem(
                X, self._targets.astype(np.float64), s, a[0], self.fit_intercept, single=single,
                x_centered=self.x_offset is not None,
            )
        return self._kernel[single]

    def single_precision(self):
        """A float32 twin of this loss on centered features, or None (cached).

        Available under the conditions of :meth:`block_design`, and offers
        float32 blocks itself (:meth:`block_design`). The twin's
        design is ``X - 1 m'`` (``m`` the sample-weighted feature means) in
        float32, so that its products cost half of float64 BLAS; centering
        first keeps features far from 0 from cancelling in float32 (an
        offset of 5 left float32 FISTA at a relative measure of 2e-4). It
        is the same model with intercepts ``b + m' W`` (:meth:`to_single`,
        :meth:`from_single`); without intercept nothing is centered.
        """
        if self._single is None:
            self._single = False
            if self._block_source is not None and self._gram is None:
                X, s, a = self._block_source
                center = self.fit_intercept and s.sum() > 0 and self.x_offset is None
                m = (s @ X) / s.sum() if center else np.zeros(X.shape[1])
                twin = copy.copy(self)
                twin.dtype = np.dtype(np.float32)
                X32 = (X - m if center else X).astype(np.float32)
                twin._design = _WideDesign(X32, self.n_tasks, self.fit_intercept)
                twin._weights = self._weights.astype(np.float32)
                twin._targets = self._targets.astype(np.float32)
                twin._lipschitz = twin._null = twin._null_b = twin._memo = None
                twin._gram = twin._ws_gram = twin._blocks = None
                # Its own blocks (block_design): float32 block coordinate descent.
                twin._block_source = (X32, s.astype(np.float32), a)
                twin._kernel_source, twin._kernel, twin._single = None, {}, False
                twin._columns = False
                twin._shift = m
                self._single = twin
        return self._single or None

    def to_single(self, W, b, raw=None, grad_W=None, grad_b=None):
        """``(W, b)`` and ``(raw, grad_W, grad_b)`` there, for :meth:`single_precision`'s twin.

        The raw prediction is the same; the twin's gradient in ``W`` is
        ``(X - 1 m')' R = grad_W - m grad_b'``. Without ``raw`` (and the
        gradient), the third item is None.
        """
        m = self._single._shift
        f32 = np.float32
        start = None
        if raw is not None:
            start = (raw.astype(f32), (grad_W - np.outer(m, grad_b)).astype(f32), grad_b.astype(f32))
        return W.astype(f32), (b + m @ W).astype(f32), start

    def from_single(self, W, b):
        """The twin's float32 ``(W, b)`` as float64 parameters of this loss."""
        W = W.astype(np.float64)
        return W, b.astype(np.float64) - self._single._shift @ W

    def gradient_from_support(self, W, raw):
        """``(grad_W, grad_b, n_products)`` at a row-sparse ``W`` through Gram columns, or None.

        Under the conditions of :meth:`block_design`, for ``W`` with at most
        ``n_samples / 4`` nonzero rows, at most ``n_tasks / 2`` of them new to
        the cache (see :class:`_GramColumns`): ``raw`` is the raw
        prediction at ``W`` (the intercept gradient comes from it),
        ``n_products`` is 1 when new columns were computed (a product with
        ``X``), else 0. None when the direct backward product is cheaper.
        """
        if self._columns is None:
            self._columns = False
            if self._block_source is not None and self._gram is None:
                X, s, a = self._block_source
                grad0 = self.null_model()[2]
                center = self.fit_intercept and self.x_offset is None
                self._columns = _GramColumns(X, s, a, grad0, center, X.shape[0] // 2)
        if self._columns is False:
            return None
        rows = np.flatnonzero(np.any(W != 0, axis=1))
        if not self._columns.covers(rows, self.n_tasks):
            return None
        if self.fit_intercept:
            grad_b = self._design.per_task_sum(self.weighted_residual(raw))
        else:
            grad_b = np.zeros(self.n_tasks, self.dtype)
        grad_W, n_new = self._columns.gradient(W, rows, grad_b)
        return grad_W, grad_b, int(n_new > 0)

    def block_design(self, block_size):
        """:class:`_FeatureBlocks` of ``block_size`` columns, or None.

        Available with the wide layout, every label observed and dense
        float64 ``X`` (the conditions of the Gram working sets), when the
        loss is not already in Gram form. Cached: a path reuses the blocks'
        Gram matrices.
        """
        if self._block_source is None or self._gram is not None:
            return None
        if self._blocks is None or self._blocks.slices[0].stop != min(block_size, self.n_features):
            X, s, a = self._block_source
            a = np.asarray(a, dtype=np.float64)
            self._blocks = _FeatureBlocks(X, s, a, self._weights, self.fit_intercept, block_size)
        return self._blocks

    def weighted_residual(self, raw):
        """``c * (raw - y)``: the loss's derivative per entry; ``X' D`` is the gradient."""
        return (raw - self._targets) * self._weights

    def raw_prediction(self, W, b):
        if self._gram is not None:
            return self._gram.raw(W, b)
        return super().raw_prediction(W, b)

    def value_from_raw(self, raw):
        if self._gram is not None:
            return float(self._gram.task_values(raw).sum())
        return super().value_from_raw(raw)

    def value_and_gradient_from_raw(self, raw):
        if self._gram is not None:
            grad_W, grad_b = self._gram.gradient(raw)
            return float(self._gram.task_values(raw).sum()), grad_W, grad_b
        return super().value_and_gradient_from_raw(raw)

    def gradient_from_raw(self, raw):
        """``(grad_W, grad_b)`` at ``raw``, without the loss value (line searches
        on :meth:`bregman_from_raw` do not need it)."""
        if self._gram is not None:
            return self._gram.gradient(raw)
        return self._design.backward(self.weighted_residual(raw))

    def bregman_from_raw(self, raw_new, raw_old):
        """``f(new) - f(old) - <grad f(old), new - old>`` of two raw predictions.

        For a quadratic this is ``(new - old)' H (new - old) / 2``, computed
        from the difference without cancellation.
        """
        if self._gram is not None:
            return self._gram.bregman(raw_new, raw_old)
        diff = raw_new - raw_old
        return 0.5 * _inner(self._weights, diff * diff)

    def task_values(self, W, b=None):
        if self._gram is not None:
            W, b = self._check_coef(W, b)
            return self._gram.task_values(self._gram.raw(W, b))
        return super().task_values(W, b)

    def lipschitz(self):
        if self._gram is not None and self._lipschitz is None:
            self._lipschitz = self._gram.hessian_bound()
        return super().lipschitz()

    def _pointwise(self, raw, y, need_derivative):
        residual = raw - y
        return 0.5 * residual * residual, residual

    def _dual_gap(self, W, b, penalty):
        """The gap of :meth:`_BaseLoss.dual_gap`, from the loss's value and gradient at ``(W, b)``.

        With per-label weights ``c`` the loss is ``sum c r^2 / 2`` (``r = y -
        X W - b``) and the Fenchel dual of ``loss + h`` is, over one
        ``theta`` per label summing to 0 in each task when fitting
        intercepts::

            D(theta) = -sum (theta y + theta^2 / (2 c)) - h^*(-X' theta).

        The dual point is the residual ``theta = -c r`` at the intercepts
        that are optimal for ``W`` (the residual centered per task), times
        ``penalty.dual_scale`` (one factor, or one per task, into the
        domain of ``h^*``: Massias et al., 2018; sklearn's ``dual_gap_``).
        Every term follows from the per-task values ``f_t``, the gradient
        ``G`` and ``grad_b`` at ``(W, b)``: profiling the intercepts gives
        ``f_t - grad_b_t^2 / (2 w_t)`` and ``G - (X' c) diag(grad_b / w)``,
        and ``sum theta y = <G, W> - 2 f``. So a gap costs nothing beyond
        the gradient, which the solvers have already at their last point
        (``recall_gradient``), and the Gram form needs no pass over ``X``.
        """
        memo = self.recall_gradient(W, b)
        if memo is None:
            raw = self.raw_prediction(W, b)
            grad_W, grad_b = self.gradient_from_raw(raw)
        else:
            raw, grad_W, grad_b = memo
        task_f = self._task_values_from_raw(raw)
        primal = float(task_f.sum()) + penalty.value(W)
        G = np.asarray(grad_W, dtype=np.float64)
        if self.fit_intercept:
            totals, label_sums = self._label_totals()
            grad_b = np.asarray(grad_b, dtype=np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                kappa = np.where(totals > 0, grad_b / totals, 0.0)
            task_f = task_f - 0.5 * grad_b * kappa
            G = G - label_sums * kappa
        scale = penalty.dual_scale(-G)
        linear = 2.0 * task_f - np.einsum("ij,ij->j", G, np.asarray(W, dtype=np.float64))
        dual = float(np.sum(scale * linear - scale * scale * task_f)) - penalty.conjugate(-G * scale)
        return primal - dual

    def _label_totals(self):
        """``(sum_i c_it, X' c)``: per-task weight totals and weighted column sums (cached)."""
        if self._totals is None:
            if self._weight_factors is None:
                label_sums, totals = self._design.backward(self._weights.astype(np.float64))
            else:
                # c = s a': X' c = (X' s) a', one product with a vector.
                s, a = self._weight_factors
                design = self._design
                column = np.asarray(design.X.T @ s, dtype=np.float64).ravel()
                if design.shift is not None:
                    column = column - design.shift * s.sum()
                label_sums, totals = np.outer(column, a), s.sum() * a
            self._totals = (np.asarray(totals, dtype=np.float64), np.asarray(label_sums, dtype=np.float64))
        return self._totals

    def _task_values_from_raw(self, raw):
        if self._gram is not None:
            return np.asarray(self._gram.task_values(raw), dtype=np.float64)
        return super()._task_values_from_raw(raw)

    def null_intercept(self):
        """Intercepts minimizing the loss at ``W = 0``: the weighted task means of y."""
        if not self.fit_intercept:
            return np.zeros(self.n_tasks, self.dtype)
        if self._gram is not None:
            # u_t / sum(s): the sample-weighted mean, without a pass over Y.
            return (self._gram.u / self._gram.S if self._gram.S > 0 else 0 * self._gram.u).astype(self.dtype)
        totals = self._weighted_task_sums(np.ones_like(self._targets))
        sums = self._weighted_task_sums(self._targets)
        with np.errstate(divide="ignore", invalid="ignore"):
            means = np.where(totals > 0, sums / totals, 0.0)
        return means.astype(self.dtype)


class LogisticLoss(_BaseLoss):
    """Task-weighted mean logistic loss of binary linear multi-task models.

    ``f(W, b) = sum_t w_t * sum_{i in t} (s_i / S_t) log(1 + exp(-y_it (x_i' W[:, t] + b_t)))``

    Labels are encoded as -1 / +1 (MALSAR's convention; an estimator encodes
    each task's two classes, or expands a multiclass task one-vs-rest into
    several -1/+1 columns, before building the loss). Parameters are those
    of :class:`SquaredLoss` but ``gram``; ``y`` must hold -1 or +1 on every
    labeled entry.

    Notes
    -----
    The second derivative of ``log(1 + exp(-z))`` is at most 1/4, so the
    Lipschitz bound is a quarter of the squared loss's.
    """

    _curvature = 0.25

    def _check_targets(self, targets, mask):
        observed = targets if mask is None else targets[mask]
        if not np.all((observed == 1) | (observed == -1)):
            bad = np.unique(observed[(observed != 1) & (observed != -1)])[:5]
            raise ValueError(
                "LogisticLoss expects labels encoded as -1 or +1; found "
                f"{', '.join(repr(float(v)) for v in bad)}."
            )
        return targets

    def _pointwise(self, raw, y, need_derivative):
        margin = -y * raw
        loss = np.logaddexp(0, margin)
        if not need_derivative:
            return loss, None
        # d/dz log(1 + exp(-y z)) = -y * sigmoid(-y z)
        return loss, -y * expit(margin)

    def _dual_gap(self, W, b, penalty):
        """The gap of :meth:`_BaseLoss.dual_gap` for the logistic loss.

        With ``l_i(z) = c_i log(1 + exp(-y_i z))`` the conjugate is
        ``c_i (p log p + (1 - p) log(1 - p))`` at ``theta_i = -c_i y_i p``,
        ``p`` in [0, 1]. The dual point is the loss's derivative
        ``theta = -c y sigmoid(-y z)`` at ``(W, b)``; with intercepts each
        task's ``theta`` must sum to 0, so the larger of its positive and
        negative parts is scaled down to the other (this keeps ``p`` in
        [0, 1]), then the whole point by ``penalty.dual_scale``. One
        backward product (``X' theta``) beyond the raw prediction.
        """
        design = self._design
        raw = self.raw_prediction(W, b)
        loss, deriv = self._pointwise(raw, self._targets, need_derivative=True)
        c = self._weights.astype(np.float64)
        primal = _inner(c, loss) + penalty.value(W)
        theta = c * deriv
        if self.fit_intercept:
            up = np.asarray(design.per_task_sum(np.maximum(theta, 0)), dtype=np.float64)
            down = np.asarray(design.per_task_sum(np.maximum(-theta, 0)), dtype=np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                shrink_up = np.where(up > down, down / up, 1.0)
                shrink_down = np.where(down > up, up / down, 1.0)
            theta = np.where(
                theta > 0, theta * design.per_task_broadcast(shrink_up), theta * design.per_task_broadcast(shrink_down)
            )
        G = np.asarray(design.backward(theta)[0], dtype=np.float64)
        scale = penalty.dual_scale(-G)
        y = self._targets.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(c > 0, -self._task_column_factor(scale) * theta * y / c, 0.0)
        entropy = c * (xlogy(p, p) + xlogy(1.0 - p, 1.0 - p))
        dual = -float(entropy.sum()) - penalty.conjugate(-G * scale)
        return primal - dual

    def null_intercept(self):
        """Intercepts minimizing the loss at ``W = 0``: the weighted log-odds of +1."""
        if not self.fit_intercept:
            return np.zeros(self.n_tasks, self.dtype)
        totals = self._weighted_task_sums(np.ones_like(self._targets))
        positives = self._weighted_task_sums((self._targets > 0).astype(self.dtype))
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(totals > 0, positives / totals, 0.5)
        # A task whose weighted labels are all of one class has no finite
        # optimum; clip to a large but finite log-odds.
        p = np.clip(p, 1e-10, 1 - 1e-10)
        return np.log(p / (1 - p)).astype(self.dtype)
