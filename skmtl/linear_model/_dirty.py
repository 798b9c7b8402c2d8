"""Dirty and sparse + low-rank multi-task models: ``B = P + Q``, one penalty per part.

* dirty model (Jalali et al. 2010; MALSAR ``Least_Dirty``):
  ``alpha_shared * ||P||_{1,inf}`` (or the L21 norm) on the shared part
  ``P`` (features used by all tasks) plus ``alpha_specific * ||Q||_1`` on the
  task-specific part ``Q`` (entrywise sparse);
* sparse + low-rank (Chen, Liu & Ye 2010; MALSAR ``Least_SparseTrace``):
  ``alpha_sparse * ||P||_1`` plus ``alpha_rank * ||Q||_*`` (or the constraint
  ``||Q||_* <= rank_constraint``).

The solvers see the stacked variable ``Z = [P; Q]`` of shape
(2 n_features, n_tasks) with the design ``[X, X]``: :class:`_StackedLoss`
maps ``Z`` to ``W = P + Q`` for an existing loss (both blocks of the
gradient are the loss gradient w.r.t. ``W``; the Lipschitz constant
doubles), and :class:`~._penalties.BlockPenalty` applies one penalty to
each block (its prox is block-separable, so it is exact).

Duality gap. The stacked problem is ``min_Z f(A Z) + h(Z)`` with ``A Z = P
+ Q`` and ``h(Z) = g1(P) + g2(Q)``; its Fenchel dual is ``max_theta
-f^*(theta) - h^*(-A' X' theta)`` with ``A' U = [U; U]``, so the dual
penalty term is ``g1^*(U) + g2^*(U)`` at ``U = -X' theta``: the conjugate of
the infimal convolution ``min_{P + Q = W} g1(P) + g2(Q)``, the penalty of
the model in ``W``. :meth:`_StackedLoss.dual_gap` hands the wrapped loss
that dual term (:class:`_SplitPenalty`), so ``dual_gap_`` is a gap of the
stated problem, like every other model's.

Squared-loss fits with few features start from ADMM on the tasks' Gram
matrices (:func:`._task_admm.admm_start`, ``_admm_structure``), which the
spread of the features' scales does not slow down (the trace norm cannot be
solved on scaled features as the dirty model's norms are); in the long layout the features are centered
within each task (``_LinearMultiTaskModel._center_within_tasks``).
"""

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import (
    _CLASSIFIER_ATTRIBUTES,
    _COMMON_ATTRIBUTES,
    _LinearMultiTaskClassifier,
    _LinearMultiTaskModel,
    _LinearMultiTaskRegressor,
    null_gradient,
    warn_not_converged,
)
from ._accelerators import Accelerators
from ._task_admm import MAX_FEATURES as _ADMM_MAX_FEATURES
from ._penalties import L1, L21, BlockPenalty, L1Linf, NuclearBall, TraceNorm

__all__ = [
    "DirtyRegressor",
    "DirtyClassifier",
    "SparseLowRankRegressor",
]


# --------------------------------------------------------------------- loss wrapper
class _SplitPenalty:
    """The stacked penalty seen by the wrapped loss's duality gap, at a split ``Z = [P; Q]``.

    ``value`` is ``h(Z) = g1(P) + g2(Q)`` whatever ``W`` it is given (the
    loss calls it at ``W = P + Q``), so the primal term is the stacked
    objective at ``Z``; ``conjugate(U) = h^*([U; U]) = g1^*(U) + g2^*(U)``
    and ``dual_scale`` scales ``[U; U]`` as a whole (see the module
    docstring).
    """

    has_dual = True

    def __init__(self, penalty, Z):
        self.penalty = penalty
        self.Z = Z

    def value(self, W):
        return self.penalty.value(self.Z)

    def dual_scale(self, U):
        return self.penalty.dual_scale(np.vstack([U, U]))

    def conjugate(self, U):
        return self.penalty.conjugate(np.vstack([U, U]))


class _StackedLoss:
    """A loss of ``W`` seen as a loss of ``Z = [P; Q]`` with ``W = P + Q``.

    Provides what :func:`~._solvers.fista` needs (``LOSS_REQUIRED``, and
    ``bregman_from_raw`` when the wrapped loss is quadratic) and the
    duality gap of :func:`~._solvers.solve` (``dual_gap``, ``gap_scale``);
    it offers no speed-up (its ``accelerators`` are the empty base). The
    raw predictions are those of the wrapped loss at ``W = P + Q``.
    """

    accelerators = Accelerators()

    def __init__(self, loss):
        self.loss = loss
        self.n_base_features = loss.n_features
        self.n_features = 2 * loss.n_features
        self.n_tasks = loss.n_tasks
        self.fit_intercept = loss.fit_intercept
        self.dtype = loss.dtype
        self.is_quadratic = loss.is_quadratic
        # Scaled features (the dirty model): both blocks are in the loss's units.
        self.x_scale = None if loss.x_scale is None else np.concatenate([loss.x_scale, loss.x_scale])

    @property
    def null_model_cached(self):
        return self.loss.null_model_cached

    def to_loss_coef(self, Z):
        return np.vstack([self.loss.to_loss_coef(part) for part in self.split(np.asarray(Z))])

    def from_loss_coef(self, Z):
        return np.vstack([self.loss.from_loss_coef(part) for part in self.split(np.asarray(Z))])

    def split(self, Z):
        """``(P, Q)`` blocks of ``Z``."""
        d = self.n_base_features
        return Z[:d], Z[d:]

    def _merge(self, Z):
        P, Q = self.split(np.asarray(Z))
        return P + Q

    def _stack(self, grad_W):
        return np.vstack([grad_W, grad_W])

    def raw_prediction(self, Z, b):
        return self.loss.raw_prediction(self._merge(Z), b)

    def value_from_raw(self, raw):
        return self.loss.value_from_raw(raw)

    def value_and_gradient_from_raw(self, raw):
        value, grad_W, grad_b = self.loss.value_and_gradient_from_raw(raw)
        return value, self._stack(grad_W), grad_b

    def gradient_from_raw(self, raw):
        grad_W, grad_b = self.loss.gradient_from_raw(raw)
        return self._stack(grad_W), grad_b

    def bregman_from_raw(self, raw_new, raw_old):
        return self.loss.bregman_from_raw(raw_new, raw_old)

    def value(self, Z, b=None):
        return self.loss.value(self._merge(Z), b)

    def value_and_gradient(self, Z, b=None):
        value, grad_W, grad_b = self.loss.value_and_gradient(self._merge(Z), b)
        return value, self._stack(grad_W), grad_b

    def lipschitz(self):
        # The Hessian w.r.t. Z is [[H, H], [H, H]], of norm 2 ||H||.
        return 2.0 * self.loss.lipschitz()

    def null_intercept(self):
        return self.loss.null_intercept()

    def to_centered_intercept(self, Z, b):
        return self.loss.to_centered_intercept(self._merge(Z), b)

    def from_centered_intercept(self, Z, c):
        return self.loss.from_centered_intercept(self._merge(Z), c)

    def null_model(self):
        raw, value, grad_W, grad_b = self.loss.null_model()
        return raw, value, self._stack(grad_W), grad_b

    def gap_scale(self):
        return self.loss.gap_scale()

    def dual_gap(self, Z, b, penalty, gradient=None):
        """Duality gap of ``self + penalty`` (a :class:`BlockPenalty`) at ``(Z, b)``, or None.

        The wrapped loss's gap at ``W = P + Q`` with the dual term of the
        stacked problem (:class:`_SplitPenalty`). ``gradient``, when given,
        is ``(raw, grad_Z, grad_b)`` at ``(Z, b)``; both blocks of
        ``grad_Z`` are the gradient in ``W``.
        """
        if not getattr(penalty, "has_dual", False):
            return None
        Z = np.asarray(Z)
        if gradient is not None:
            raw, grad_Z, grad_b = gradient
            gradient = raw, self.split(np.asarray(grad_Z))[0], grad_b
        return self.loss.dual_gap(self._merge(Z), b, _SplitPenalty(penalty, Z), gradient=gradient)


# --------------------------------------------------------------------- estimators
_BASE_CONSTRAINTS = {
    k: v
    for k, v in _LinearMultiTaskModel._parameter_constraints.items()
    if k not in ("alpha", "l1_ratio", "solver")
}
_NONNEG = [Interval(numbers.Real, 0, None, closed="left")]
_ALPHA_SCALE = [StrOptions({"relative", "absolute"})]


class _TwoPartMixin:
    """Fit over ``Z = [P; Q]``; publishes ``shared_coef_``, ``specific_coef_`` and ``coef_ = P' + Q'``."""

    # The stacked loss has no ``restrict``: plain FISTA on all of Z.
    solver = "fista"

    # The strength parameters of the two parts, in the order (P, Q).
    _strength_names = ()

    def _unit_penalties(self):  # pragma: no cover - abstract
        """The norms of ``P`` and ``Q`` at strength 1."""
        raise NotImplementedError

    def _make_block_penalty(self, n_features, strengths):  # pragma: no cover - abstract
        raise NotImplementedError

    def _make_penalty(self, alpha=None):
        return self._make_block_penalty(self._n_base_features, self._strengths)

    def _set_strengths(self, base_loss):
        """The absolute strengths of the two parts; publishes ``<name>_max_``.

        ``<name>_max_`` is the part's ``alpha_max``: the dual norm of the loss
        gradient at ``B = 0`` (intercepts fitted), the smallest strength for
        which that part is zero when the other one is too. Relative strengths
        are fractions of it, so the same values suit any scale of ``X`` and
        ``y`` (the two maxima differ by up to a factor ``n_tasks``).
        """
        grad0 = null_gradient(base_loss)
        self._strengths = []
        for name, unit in zip(self._strength_names, self._unit_penalties()):
            top = float(unit.alpha_max(grad0))
            setattr(self, f"{name}_max_", top)
            value = getattr(self, name)
            self._strengths.append(value * top if self.alpha_scale == "relative" else value)

    def _make_loss(self, X, y, sample_weight):
        loss = super()._make_loss(X, y, sample_weight)
        self._n_base_features = loss.n_features
        return _StackedLoss(loss)

    def _warm_start_point(self, loss):
        if not self.warm_start or not hasattr(self, "shared_coef_"):
            return None, None
        if self.shared_coef_.shape != (loss.n_tasks, loss.n_base_features):
            return None, None
        Z0 = np.vstack([self.shared_coef_.T, self.specific_coef_.T])
        if self._scale_features:
            Z0 = loss.to_loss_coef(Z0)
        if not self.fit_intercept:
            return Z0, None
        return Z0, loss.to_centered_intercept(Z0, self._offset_intercept(self.coef_, self.intercept_, 1))

    def _fit(self, X, y, sample_weight):
        self._check_params()
        loss = self._make_loss(X, y, sample_weight)
        self._set_strengths(loss.loss)
        W0, b0 = self._warm_start_point(loss)
        result = self._solve(loss, None, W0, b0)
        Z = np.ascontiguousarray(self.coef_)  # (n_tasks, 2 n_features) from _solve
        d = loss.n_base_features
        self.shared_coef_ = np.ascontiguousarray(Z[:, :d])
        self.specific_coef_ = np.ascontiguousarray(Z[:, d:])
        self.coef_ = self.shared_coef_ + self.specific_coef_
        if not result.converged:
            warn_not_converged(type(self).__name__, result, self.max_iter, self.tol, loss)
        return self

    def _admm_structure(self, loss):
        # The stacked loss is the base loss at P + Q.
        return loss.loss, 2

    def _alpha_max_of_loss(self, loss):  # pragma: no cover - no path helper
        raise NotImplementedError(f"{type(self).__name__} has two strengths: no single alpha_max.")


class _DirtyMixin(_TwoPartMixin):
    # Both parts' norms are sums over features: solved on scaled features,
    # one step per feature (the sparse + low-rank model's trace norm is not).
    _scale_features = True

    _parameter_constraints = {
        **_BASE_CONSTRAINTS,
        "alpha_shared": _NONNEG,
        "alpha_specific": _NONNEG,
        "alpha_scale": _ALPHA_SCALE,
        "shared_norm": [StrOptions({"linf", "l2"})],
    }
    _strength_names = ("alpha_shared", "alpha_specific")

    def _shared_norm(self, alpha):
        return L1Linf(alpha) if self.shared_norm == "linf" else L21(alpha)

    def _unit_penalties(self):
        return self._shared_norm(1.0), L1(1.0)

    def _make_block_penalty(self, n_features, strengths):
        return BlockPenalty(n_features, self._shared_norm(strengths[0]), L1(strengths[1]))


_COMMON = """\
    fit_intercept : bool, default=True
        Fit one unpenalized intercept per task.

    task_weights : None, "n_samples" or array-like of shape (n_tasks,), default=None
        ``w_t``: 1 per task (None), proportional to the number of labeled
        rows (``"n_samples"``, normalized to mean 1), or given.
        ``task_weights = 2 n_t`` with ``fit_intercept=False`` gives MALSAR's
        ``sum_t ||X_t b_t - y_t||^2`` (no 1/2) of ``Least_Dirty`` and
        ``Least_SparseTrace``.

    task_column : int, str or None, default=None
        None: wide layout, ``y`` of shape (n_samples, n_tasks) with NaN for
        a missing label. Otherwise the column of ``X`` (position, or name
        for a DataFrame) holding each row's task label; ``y`` is 1-D.

    max_iter : int, default=1000
        Maximum number of iterations of each solver: the ADMM start of a
        squared loss with few features, then FISTA (see Notes).
        ``n_iter_`` is their sum.

    tol : float, default=1e-4
        Converged means a duality gap (``dual_gap_``) of at most ``tol``
        times twice the intercept-only model's loss: the objective is then
        within that of its minimum. The solver's scale-free criterion (the
        gradient mapping in ``(P, Q, c)`` relative to its value at 0)
        decides when to look at the gap.

    warm_start : bool, default=False
        Start from the previous fit's ``shared_coef_``, ``specific_coef_``
        and ``intercept_`` (when the tasks and features match)."""

_ATTRIBUTES = """\
    coef_ : ndarray of shape ({rows}, n_features)
        ``B = P + Q``, one row per {row}: the coefficients used to predict.

    shared_coef_ : ndarray of shape ({rows}, n_features)
        ``P``, the {shared} part.

    specific_coef_ : ndarray of shape ({rows}, n_features)
        ``Q``, the {specific} part.

    {first}_max_, {second}_max_ : float
        Each part's ``alpha_max`` on the training data (see ``alpha_scale``).

""" + _COMMON_ATTRIBUTES

_SQUARED = """\
        sum_t w_t / (2 n_t) * ||y_t - X_t (p_t + q_t) - c_t||^2"""
_LOGISTIC = """\
        sum_k w_k / n_k * sum_{i in k} log(1 + exp(-y_ik (x_i' (p_k + q_k) + c_k)))"""

_DIRTY_PENALTY = """\
            + alpha_shared * Omega(P) + alpha_specific * sum_{t,j} |q_tj|

    with ``Omega(P) = sum_j max_t |p_tj|`` (``shared_norm="linf"``, the
    L1/L-infinity norm of Jalali et al.) or ``sum_j ||p_:j||_2``
    (``shared_norm="l2"``, the group lasso norm), ``p_t, q_t`` the rows of
    ``P`` (``shared_coef_``) and ``Q`` (``specific_coef_``), and
    ``B = P + Q`` (``coef_``)."""

_ALPHA_SCALE_DOC = """\
    alpha_scale : {{"relative", "absolute"}}, default="relative"
        Units of the two strengths. "relative": fractions of each part's
        ``alpha_max`` on the training data (``{first}_max_``,
        ``{second}_max_``: the smallest strength that zeroes the part when
        the other is zero too), so the values mean the same on any scale of
        ``X`` and ``y``; 1 zeroes the part. "absolute": the strengths of the
        objective as written (MALSAR's parameters)."""

_DIRTY_PARAMETERS = """\
    alpha_shared : float, default=0.1
        Strength of the row-sparse norm on the shared part ``P``, >= 0.

    alpha_specific : float, default=0.1
        Strength of the entrywise L1 norm on the specific part ``Q``, >= 0.

{scale}

    shared_norm : {{"linf", "l2"}}, default="linf"
        Norm of the rows of ``P``: L-infinity (MALSAR ``Least_Dirty``) or L2.

{common}"""

_MALSAR_DIRTY = """

    MALSAR ``Least_Dirty`` (``sum_t ||X_t (p_t + q_t) - y_t||^2 + lambda1
    ||P||_{1,inf} + lambda2 ||Q||_1``) is ``task_weights = 2 n_t``,
    ``fit_intercept=False``, ``alpha_scale="absolute"``,
    ``alpha_shared = lambda1``, ``alpha_specific = lambda2``."""

_START_NOTES = f"""\
    With the squared loss and at most {_ADMM_MAX_FEATURES} features, FISTA starts from ADMM
    on the tasks' Gram matrices (built from ``n_features + 1`` gradients),
    which solves the loss's part exactly and so does not slow down when the
    features' scales differ by decades; FISTA and the duality gap then
    certify its point (usually in one iteration). In the long layout the
    features are centered within each task (the same model: the
    intercepts absorb the means), so that a feature constant within each
    task does not couple the coefficients with the intercepts."""

_DIRTY_NOTES = """\
    Solved by FISTA on the stacked ``Z = [P; Q]`` with the design
    ``[X, X]``; the penalty is separable between the blocks, so its prox is
    exact (the L1/L-infinity prox by Moreau's decomposition with an exact
    L1-ball projection). The split between ``P`` and ``Q`` need not be
    unique (with a single task both penalties are multiples of ``|b_j|``);
    the solver returns one minimizer, certified by a duality gap
    (``dual_gap_``: with ``g1``, ``g2`` the two parts' penalties, the dual
    of the stacked problem has the penalty term ``g1^*(U) + g2^*(U)``, the
    conjugate of ``min_{{P + Q = B}} g1(P) + g2(Q)``).

""" + _START_NOTES + """{malsar}

    References
    ----------
    Jalali, Ravikumar, Sanghavi & Ruan, "A dirty model for multi-task
    learning", NIPS 2010.
    Zhou, Chen & Ye, "MALSAR: Multi-tAsk Learning via StructurAl
    Regularization", Arizona State University, 2011."""


class DirtyRegressor(_DirtyMixin, _LinearMultiTaskRegressor):
    def __init__(
        self,
        alpha_shared=0.1,
        alpha_specific=0.1,
        *,
        alpha_scale="relative",
        shared_norm="linf",
        fit_intercept=True,
        task_weights=None,
        task_column=None,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
    ):
        self.alpha_shared = alpha_shared
        self.alpha_specific = alpha_specific
        self.alpha_scale = alpha_scale
        self.shared_norm = shared_norm
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start


DirtyRegressor.__doc__ = f"""Dirty multi-task linear regression: shared + task-specific coefficients.

    ``B = P + Q``: the shared part ``P`` uses a set of features common to
    all tasks (row-sparse), the specific part ``Q`` adds a few per-task
    coefficients (entrywise sparse). Minimizes over ``P``, ``Q`` and the
    unpenalized intercepts ``c`` (``intercept_``)::

{_SQUARED}
{_DIRTY_PENALTY}

    Task ``t`` has ``n_t`` labeled rows ``X_t, y_t`` (with sample weights,
    ``1 / n_t`` becomes ``s_i / S_t``) and task weight ``w_t``.

    Parameters
    ----------
{_DIRTY_PARAMETERS.format(scale=_ALPHA_SCALE_DOC.format(first="alpha_shared", second="alpha_specific"), common=_COMMON)}

    Attributes
    ----------
{_ATTRIBUTES.format(rows="n_tasks", row="task", shared="shared (row-sparse)", specific="task-specific (sparse)", first="alpha_shared", second="alpha_specific")}

    See Also
    --------
    skmtl.linear_model.GroupLassoRegressor : the shared part alone.
    skmtl.linear_model.MultiTaskLassoRegressor : the specific part alone.

    Notes
    -----
{_DIRTY_NOTES.format(malsar=_MALSAR_DIRTY)}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import DirtyRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 5)
    >>> Y = X @ rng.randn(5, 3)
    >>> model = DirtyRegressor(0.1, 0.05).fit(X, Y)
    >>> model.coef_.shape, model.shared_coef_.shape
    ((3, 5), (3, 5))
    """


_CLASSIFIER_PARTS = _ATTRIBUTES.format(
    rows="n_columns", row="binary column", shared="shared (row-sparse)", specific="column-specific (sparse)",
    first="alpha_shared", second="alpha_specific",
)


class DirtyClassifier(_DirtyMixin, _LinearMultiTaskClassifier):
    def __init__(
        self,
        alpha_shared=0.1,
        alpha_specific=0.1,
        *,
        alpha_scale="relative",
        shared_norm="linf",
        fit_intercept=True,
        task_weights=None,
        task_column=None,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
    ):
        self.alpha_shared = alpha_shared
        self.alpha_specific = alpha_specific
        self.alpha_scale = alpha_scale
        self.shared_norm = shared_norm
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start


DirtyClassifier.__doc__ = f"""Dirty multi-task logistic regression: shared + task-specific coefficients.

    Minimizes over ``P``, ``Q`` (one row per binary column) and the
    unpenalized intercepts ``c``::

{_LOGISTIC}
{_DIRTY_PENALTY}

    Each task's labels are encoded per task: a binary task is one column
    ``k`` with targets -1/+1 (its second class is +1); a task with ``K > 2``
    classes is expanded one-vs-rest into ``K`` columns with the task's
    weight each; the penalties see all the columns as tasks.

    Parameters
    ----------
{_DIRTY_PARAMETERS.format(scale=_ALPHA_SCALE_DOC.format(first="alpha_shared", second="alpha_specific"), common=_COMMON)}

    Attributes
    ----------
{_CLASSIFIER_PARTS}

{_CLASSIFIER_ATTRIBUTES}

    Notes
    -----
{_DIRTY_NOTES.format(malsar="")}
    """


class SparseLowRankRegressor(_TwoPartMixin, _LinearMultiTaskRegressor):
    _parameter_constraints = {
        **_BASE_CONSTRAINTS,
        "alpha_sparse": _NONNEG,
        "alpha_rank": _NONNEG,
        "alpha_scale": _ALPHA_SCALE,
        "rank_constraint": [Interval(numbers.Real, 0, None, closed="left"), None],
    }
    _strength_names = ("alpha_sparse", "alpha_rank")

    def __init__(
        self,
        alpha_sparse=0.1,
        alpha_rank=0.1,
        *,
        alpha_scale="relative",
        rank_constraint=None,
        fit_intercept=True,
        task_weights=None,
        task_column=None,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
    ):
        self.alpha_sparse = alpha_sparse
        self.alpha_rank = alpha_rank
        self.alpha_scale = alpha_scale
        self.rank_constraint = rank_constraint
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start

    def _unit_penalties(self):
        return L1(1.0), TraceNorm(1.0)

    def _make_block_penalty(self, n_features, strengths):
        second = TraceNorm(strengths[1]) if self.rank_constraint is None else NuclearBall(self.rank_constraint)
        return BlockPenalty(n_features, L1(strengths[0]), second)


SparseLowRankRegressor.__doc__ = f"""Sparse + low-rank multi-task linear regression.

    ``B = P + Q`` with an entrywise sparse ``P`` (the task-specific
    outliers) and a low-rank ``Q`` (the subspace shared by the tasks). Minimizes over ``P``,
    ``Q`` and the unpenalized intercepts ``c``::

{_SQUARED}
            + alpha_sparse * sum_{{t,j}} |p_tj| + alpha_rank * ||Q||_*

    (``||.||_*`` the nuclear norm), or, with ``rank_constraint=tau``,
    ``alpha_sparse * sum |p_tj|`` subject to ``||Q||_* <= tau``
    (``alpha_rank`` is then ignored): MALSAR's ``Least_SparseTrace``,
    ``sum_t ||X_t (p_t + q_t) - y_t||^2 + gamma ||P||_1`` s.t.
    ``||Q||_* <= tau``, is ``task_weights = 2 n_t``, ``fit_intercept=False``,
    ``alpha_scale="absolute"``, ``alpha_sparse = gamma``, ``rank_constraint = tau``.

    For uniformity with :class:`DirtyRegressor`, ``shared_coef_`` is the
    sparse part ``P`` and ``specific_coef_`` the low-rank part ``Q``.

    Parameters
    ----------
    alpha_sparse : float, default=0.1
        Strength of the entrywise L1 norm on ``P``, >= 0.

    alpha_rank : float, default=0.1
        Strength of the nuclear norm on ``Q``, >= 0 (unused with
        ``rank_constraint``).

{_ALPHA_SCALE_DOC.format(first="alpha_sparse", second="alpha_rank")}

    rank_constraint : float or None, default=None
        ``tau``: constrain ``||Q||_* <= tau`` instead of penalizing it
        (in the units of ``Q``, whatever ``alpha_scale``).

{_COMMON}

    Attributes
    ----------
{_ATTRIBUTES.format(rows="n_tasks", row="task", shared="sparse", specific="low-rank", first="alpha_sparse", second="alpha_rank")}

    Notes
    -----
    Solved by FISTA on the stacked ``Z = [P; Q]`` with the design
    ``[X, X]``; the block prox is exact: soft thresholding of ``P`` and
    singular value thresholding of ``Q`` (or the projection of its singular
    values onto the L1 ball of radius ``tau``). The L1 step is applied to
    ``P`` alone, with threshold ``step * alpha_sparse`` (the prox's
    three-point inequality is tested). The duality gap (``dual_gap_``)
    takes the conjugate of ``min_{{P + Q = B}} g1(P) + g2(Q)``, ``g1^*(U) +
    g2^*(U)``: the indicator of ``max |u_tj| <= alpha_sparse`` plus that of
    ``||U||_2 <= alpha_rank`` (or, with ``rank_constraint``, ``tau
    ||U||_2``).

{_START_NOTES}

    References
    ----------
    Chen, Liu & Ye, "Learning incoherent sparse and low-rank patterns from
    multiple tasks", KDD 2010.
    Zhou, Chen & Ye, "MALSAR: Multi-tAsk Learning via StructurAl
    Regularization", Arizona State University, 2011.
    """
