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
(both in :mod:`._designs`). The speed-ups of the squared loss on a shared
dense design (its Gram form, Gram working sets and columns, feature blocks,
the kernel system, a float32 twin) live beside the loss, in
:mod:`._accelerators`, behind one interface: ``loss.accelerators``.
"""

import copy
import dataclasses

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, xlogy

from ._accelerators import Accelerators, GramQuadratic, SharedDesignAccelerators
from ..utils._task_weights import resolve_task_weights
from ._designs import _inner, _LongDesign, _row_blocks, _WideDesign

__all__ = ["SquaredLoss", "LogisticLoss"]

# A tall dense X (n >= 2 (d + 1)) is put in Gram form at once when the tasks
# share its n d^2 / 2 flops enough: from d / _GRAM_UPFRONT_TASKS tasks on.
# With fewer, working sets run on X and the Gram blocks of their columns,
# and the Gram matrix of every feature is formed (in float32) only when a
# solve needs the whole problem (SharedDesignAccelerators.whole_model): at
# n = 2000, d = 500, T = 5 the Gram matrix alone (9.9 ms) cost more than
# scikit-learn's fit at alpha_max / 10 (7.7 ms). Measured at T = 5 and 20
# (working sets on X: 0.4-0.8x the Gram form's time at alpha_max / 10) and
# T = 100 (the Gram form, unchanged); doc/benchmarks_linear.rst.
_GRAM_UPFRONT_TASKS = 8


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


def _normalized(weights, totals, task_weights):
    """``c = w_t * s_i / S_t`` with ``0 / 0 = 0`` (a task with zero total weight)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(totals > 0, 1.0 / totals, 0.0)
    return weights * scale * task_weights


def _wide_weights(data, y, sample_weight, task_weights):
    """``(c, targets, factors)`` of the wide layout, float64 (n, T).

    ``factors`` is ``(s, a)`` with ``c = s a'`` when every label is observed
    (kept for products with the weights at the cost of one vector), else
    None. Missing labels get weight 0 and target 0 (finite in the residual,
    never counted).
    """
    mask = data.mask
    if mask.all():
        s = np.ones(len(mask)) if sample_weight is None else sample_weight
        T = mask.shape[1]
        per_task = _normalized(np.ones(T), np.full(T, s.sum()), task_weights)
        return np.outer(s, per_task), np.array(y, dtype=np.float64), (s, per_task)
    weights = mask.astype(np.float64)
    if sample_weight is not None:
        weights *= sample_weight[:, None]
    weights = _normalized(weights, weights.sum(axis=0), task_weights)
    return weights, np.where(mask, y, 0).astype(np.float64), None


def _long_weights(data, y, sample_weight, task_weights, rows, codes):
    """``(c, targets)`` of the labeled entries gathered by task (``rows``, ``codes``), float64."""
    weights = np.ones(len(rows)) if sample_weight is None else sample_weight[rows]
    totals = np.bincount(codes, weights=weights, minlength=len(task_weights))
    weights = _normalized(weights, totals[codes], task_weights[codes])
    # (Wide data without a mask is not produced by TaskData.)
    targets = y[rows] if data.layout == "long" else y[rows, codes]
    return weights, np.asarray(targets, dtype=np.float64)


class _FeatureUnits:
    """Conversions between the model's coefficients and the loss's (centered, scaled) units."""

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


class _SubProblems:
    """The losses a working-set solver derives: restricted to some features, or a Gram model."""

    def restrict(self, features):
        """The same loss on the features ``features`` only (a new object).

        Targets, weights and intercepts are shared; used by working-set
        solvers, whose other rows of ``W`` are 0. Its accelerators are those
        of the parent for these columns (:meth:`.Accelerators.restrict`).
        """
        features = np.asarray(features)
        new = copy.copy(self)
        new._design = self._design.restrict(features)
        new.n_features = len(features)
        new.accelerators = self.accelerators.restrict(features)
        new._reset_caches()
        return new

    def whole_model(self, W, b, grad_W, grad_b):
        """The loss's quadratic model at ``(W, b)`` through an approximate Gram matrix, or None.

        A new loss whose gradient at ``(W, b)`` is ``(grad_W, grad_b)``
        (computed by the caller on ``X``) and whose Hessian is that of the
        Gram matrix the accelerators form once
        (:meth:`.Accelerators.whole_model`: a tall ``X``); None when they
        offer none. Working-set solvers solve the whole problem on it and
        check the result on the loss itself.
        """
        gram = self.accelerators.whole_model(W, b, grad_W, grad_b)
        if gram is None:
            return None
        new = copy.copy(self)
        new.accelerators = Accelerators(gram)
        new._reset_caches()
        return new


class _BaseLoss(_FeatureUnits, _SubProblems):
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
        self.task_weights_ = resolve_task_weights(task_weights, counts, per_task_mean=True)

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
            weights, targets, self._weight_factors = _wide_weights(data, y, sample_weight, self.task_weights_)
            self._design = _WideDesign(X, self.n_tasks, self.fit_intercept, shift=shift)
        else:
            weights, targets = _long_weights(data, y, sample_weight, self.task_weights_, rows, codes)
            self._design = _LongDesign(X, codes, self.n_tasks, self.fit_intercept, shift)
        self._targets = self._check_targets(targets, data.mask if wide else None).astype(self.dtype, copy=False)
        self._weights = weights.astype(self.dtype, copy=False)
        self.accelerators = Accelerators()
        self._reset_caches()

    def _reset_caches(self):
        """Forget what is computed lazily from the design (a new or restricted loss)."""
        self._lipschitz = None
        self._null = self._null_b = None
        self._totals = None

    # c = s a' (the wide layout with every label observed), else None.
    _weight_factors = None
    #: Whether the loss is a quadratic: it then offers ``bregman_from_raw``.
    is_quadratic = False

    def gap_scale(self):
        """What ``tol`` multiplies in the duality-gap stop: twice the intercept-only loss.

        For the squared loss that is ``sum_t w_t / n_t ||y_t - mean(y_t)||^2``:
        with the wide layout and unit weights ``||Y - 1 mean(Y)||_F^2 / n``,
        scikit-learn's ``tol * ||Y||^2`` (centered ``Y``) in its ``1 / n``
        units, so a ``tol`` means the same for both.
        """
        return 2.0 * float(self.null_model()[1])

    def dual_gap(self, W, b, penalty, gradient=None):
        """Duality gap of ``self + penalty`` at ``(W, b)``: ``P(W, b) - D(theta) >= 0``, or None.

        A certificate: the objective at ``(W, b)`` exceeds the minimum by
        at most the gap, and the gap is 0 at a minimizer. None when the
        penalty has no usable conjugate (``penalty.has_dual`` false or
        absent). ``gradient``, when given, is ``(raw, grad_W, grad_b)`` at
        ``(W, b)``, already known to the caller (a solver's last point): the
        squared loss then needs no product with ``X``. See
        :meth:`SquaredLoss._dual_gap` and :meth:`LogisticLoss._dual_gap` for
        the dual points.
        """
        if not getattr(penalty, "has_dual", False):
            return None
        W, b = self._check_coef(W, b)
        return max(self._dual_gap(W, b, penalty, gradient), 0.0)

    def _task_column_factor(self, factor):
        """A per-task factor ``(n_tasks,)`` as an array that multiplies per-label values."""
        factor = np.asarray(factor, dtype=np.float64)
        if factor.ndim == 0:
            return factor
        return self._design.per_task_broadcast(factor)

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

    def gradient_from_raw(self, raw):
        """``(grad_W, grad_b)`` at ``raw``, without the loss value."""
        _, deriv = self._pointwise(raw, self._targets, need_derivative=True)
        return self._design.backward(deriv * self._weights)

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

    @property
    def null_model_cached(self):
        """Whether :meth:`null_model` is already computed (asking it is then free)."""
        return self._null is not None

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
        (n_features + 1)``, ``n_features <= 2048`` and at least
        ``n_features / 8`` tasks; with fewer tasks such a tall ``X`` offers
        the Gram model of the whole problem on demand (:meth:`whole_model`).

    Notes
    -----
    Float32 features keep float32 gradients. With the wide layout, no
    missing label and unit weights this is the data term of
    :class:`sklearn.linear_model.MultiTaskLasso`.

    The Gram form computes the value as a difference of large terms, so its
    absolute accuracy is about ``eps * ||y||^2`` rather than ``eps *
    f``; solvers use :meth:`bregman_from_raw`, which has no such
    cancellation, in their line search.

    Its speed-ups (the Gram form, Gram working sets and columns, feature
    blocks, the kernel system, the float32 twin) are offered to the solvers
    by ``accelerators`` (:mod:`._accelerators`): with the wide layout,
    every label observed and dense float64 ``X`` (or ``gram=True``), and
    ``gram`` not False.
    """

    _curvature = 1.0
    is_quadratic = True

    def __init__(
        self, data, y=None, *, task_weights=None, fit_intercept=True, center=False, scale=False, gram="auto"
    ):
        super().__init__(data, y, task_weights=task_weights, fit_intercept=fit_intercept, center=center, scale=scale)
        if gram not in ("auto", True, False):
            raise ValueError(f"gram must be 'auto', True or False; got {gram!r}.")
        data = self._source
        complete = self.layout == "wide" and bool(np.all(data.mask))
        if gram is True and not complete:
            raise ValueError(
                "gram=True needs the wide layout with every label observed; "
                "missing labels or the long layout give each task its own Gram matrix."
            )
        if gram is False or not complete:
            return
        X = data.X
        n, d = X.shape
        s = np.ones(n) if data.sample_weight is None else np.asarray(data.sample_weight, dtype=np.float64)
        a = self.task_weights_ / s.sum() if s.sum() > 0 else np.zeros(self.n_tasks)
        dense64 = not sp.issparse(X) and self.dtype == np.float64
        tall = dense64 and n >= 2 * (d + 1) and d <= 2048
        if gram is True or (tall and _GRAM_UPFRONT_TASKS * self.n_tasks >= d):
            X = X.toarray() if sp.issparse(X) else X
            self.accelerators = Accelerators(GramQuadratic(X, self._targets, s, a, self.fit_intercept, self.dtype))
        elif dense64:
            self.accelerators = SharedDesignAccelerators(
                X, self._targets, s, a, self._weights, self.fit_intercept, x_centered=self.x_offset is not None,
                tall=tall,
            )

    @property
    def _gram(self):
        """The quadratic form the loss computes through, or None (see ``gram``)."""
        return self.accelerators.gram

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
        return self._design.backward((raw - self._targets) * self._weights)

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

    def _dual_gap(self, W, b, penalty, gradient):
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
        (``gradient``), and the Gram form needs no pass over ``X``.
        """
        if gradient is None:
            raw = self.raw_prediction(W, b)
            grad_W, grad_b = self.gradient_from_raw(raw)
        else:
            raw, grad_W, grad_b = gradient
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

    def _dual_gap(self, W, b, penalty, gradient):
        """The gap of :meth:`_BaseLoss.dual_gap` for the logistic loss (``gradient`` unused).

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
