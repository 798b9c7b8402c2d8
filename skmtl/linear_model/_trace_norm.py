"""Trace (nuclear) norm: tasks share a low-dimensional subspace."""

from ._base import (
    _CLASSIFIER_ATTRIBUTES,
    _COMMON_ATTRIBUTES,
    _COMMON_PARAMETERS,
    _NOTES,
    _OBJECTIVE_CLASSIFICATION,
    _OBJECTIVE_REGRESSION,
    _LinearMultiTaskClassifier,
    _LinearMultiTaskModel,
    _LinearMultiTaskRegressor,
)
from ._penalties import TraceNorm

__all__ = ["TraceNormRegressor", "TraceNormClassifier"]


class _TraceNormMixin:
    _parameter_constraints = {**_LinearMultiTaskModel._parameter_constraints}

    def _make_penalty(self, alpha):
        return TraceNorm(alpha, l1_ratio=self.l1_ratio)


_OMEGA = "||B||_*"
_PARAMETERS = """\
    alpha : float, default=1.0
        Regularization strength, >= 0. ``coef_`` is 0 from
        :func:`~skmtl.linear_model.alpha_max` on; in between, larger values
        give lower ranks.

{common}"""

_REFERENCES = """\
    References
    ----------
    Ji & Ye, "An accelerated gradient method for trace norm minimization",
    ICML 2009.
    Pong, Tseng, Ji & Ye, "Trace norm regularization: reformulations,
    algorithms, and multi-task learning", SIAM J. Optim., 2010."""

_NOTES_TRACE = _NOTES + """

    ``||B||_*`` is the sum of the singular values of ``B``; its proximal
    operator thresholds them, so each iteration costs a thin SVD of the
    (n_features, n_tasks) coefficient matrix. The rank of ``coef_`` is the
    number of its nonzero singular values."""




class TraceNormRegressor(_TraceNormMixin, _LinearMultiTaskRegressor):
    def __init__(
        self,
        alpha=1.0,
        *,
        l1_ratio=1.0,
        fit_intercept=True,
        task_weights=None,
        task_column=None,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        solver="auto",
    ):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.solver = solver


TraceNormRegressor.__doc__ = f"""Multi-task linear regression with a trace-norm penalty.

    The nuclear norm of the coefficient matrix favours a low rank: every
    task's coefficients are a combination of a few shared directions.

{_OBJECTIVE_REGRESSION.format(omega=_OMEGA)}

    Read more in the :ref:`User Guide <linear_model>`.

    Parameters
    ----------
{_PARAMETERS.format(common=_COMMON_PARAMETERS)}

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Coefficients, one row per task (float32 for float32 ``X``).

{_COMMON_ATTRIBUTES.format(rows="n_tasks")}

    See Also
    --------
    TraceNormRegressorCV : choose ``alpha`` by cross-validation.
    GroupLassoRegressor : shared support instead of a shared subspace.

    Notes
    -----
{_NOTES_TRACE}

{_REFERENCES}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.datasets import make_low_rank_multitask
    >>> from skmtl.linear_model import TraceNormRegressor
    >>> X, Y, truth = make_low_rank_multitask(n_samples=100, n_features=10, n_tasks=8,
    ...                                       rank=2, noise=0.01, random_state=0)
    >>> model = TraceNormRegressor(alpha=0.5).fit(X, Y)
    >>> int(np.linalg.matrix_rank(model.coef_, tol=1e-6))
    2
    """


class TraceNormClassifier(_TraceNormMixin, _LinearMultiTaskClassifier):
    def __init__(
        self,
        alpha=0.01,
        *,
        l1_ratio=1.0,
        fit_intercept=True,
        task_weights=None,
        task_column=None,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        solver="auto",
    ):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.solver = solver


_EXPANSION = (
    "the trace norm is taken of the whole (n_columns, n_features)\n"
    "    matrix, so the one-vs-rest columns of a multiclass task share the\n"
    "    low-rank subspace with the other tasks."
)

TraceNormClassifier.__doc__ = f"""Multi-task logistic regression with a trace-norm penalty.

    The tasks' coefficient vectors share a low-dimensional subspace.

{_OBJECTIVE_CLASSIFICATION.format(omega=_OMEGA, expansion=_EXPANSION)}

    Read more in the :ref:`User Guide <linear_model>`.

    Parameters
    ----------
{_PARAMETERS.format(common=_COMMON_PARAMETERS).replace("default=1.0", "default=0.01", 1)}

    Attributes
    ----------
    coef_ : ndarray of shape (n_columns, n_features)
        Coefficients, one row per binary column.

{_COMMON_ATTRIBUTES.format(rows="n_columns")}

{_CLASSIFIER_ATTRIBUTES}

    See Also
    --------
    TraceNormRegressor : the squared-loss version.
    GroupLassoClassifier : shared support instead.

    Notes
    -----
{_NOTES_TRACE}

{_REFERENCES}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import TraceNormClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 4)
    >>> Y = np.column_stack([X[:, 0] > 0, X[:, 0] > 0.5, X[:, 0] < 0]).astype(int)
    >>> model = TraceNormClassifier(alpha=0.01).fit(X, Y)
    >>> model.coef_.shape
    (3, 4)
    >>> bool(model.score(X, Y) > 0.9)
    True
    """
