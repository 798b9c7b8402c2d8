"""Independent lassos per task, solved jointly (the sparse single-task baseline)."""

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval

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
from ._penalties import L1, _TaskL1

__all__ = ["MultiTaskLassoRegressor", "MultiTaskLassoClassifier"]


class _LassoMixin:

    _scale_features = True
    _parameter_constraints = {
        **_LinearMultiTaskModel._parameter_constraints,
        "alpha": [Interval(numbers.Real, 0, None, closed="left"), "array-like"],
    }

    def _check_params(self):
        alpha = np.asarray(self.alpha, dtype=np.float64)
        if alpha.ndim > 1 or (alpha.ndim == 1 and alpha.size == 0):
            raise ValueError(f"alpha must be a float or a 1-D array with one value per task; got shape {alpha.shape}.")
        if not np.all(np.isfinite(alpha)) or np.any(alpha < 0):
            raise ValueError(f"alpha must be finite and non-negative; got {self.alpha!r}.")

    def _penalty_for_alpha_max(self):
        # Per-task alphas: alpha_max is the factor on the alpha vector.
        return self._make_penalty(self.alpha if np.ndim(self.alpha) else 1.0)

    def _make_penalty(self, alpha):
        alpha = np.asarray(alpha, dtype=np.float64)
        if alpha.ndim == 0:
            return L1(float(alpha), l1_ratio=self.l1_ratio)
        n_tasks = len(self.tasks_)
        if alpha.shape != (n_tasks,):
            raise ValueError(
                f"alpha has {alpha.size} values but there are {n_tasks} tasks; give one "
                "alpha per task (in the order of tasks_) or a single float."
            )
        # One-vs-rest columns of a classification task share its alpha.
        return _TaskL1(alpha[self._column_task], l1_ratio=self.l1_ratio)


_OMEGA = "sum_t a_t / alpha * ||b_t||_1"
_PARAMETERS = """\
    alpha : float or array-like of shape (n_tasks,), default=1.0
        Regularization strength, >= 0. An array gives each task its own
        strength ``a_t`` (in the order of ``tasks_``); the penalty is then
        ``sum_t a_t (l1_ratio ||b_t||_1 + (1 - l1_ratio) / 2 ||b_t||^2)``.

{common}"""

_REFERENCES = """\
    References
    ----------
    Tibshirani, "Regression shrinkage and selection via the lasso", J. R.
    Stat. Soc. B, 1996.
    Beck & Teboulle, "A fast iterative shrinkage-thresholding algorithm for
    linear inverse problems", SIAM J. Imaging Sci., 2009."""

_NOTES_LASSO = _NOTES + """

    The penalty is separable over tasks: without ``task_weights`` tying
    them and with ``sample_weight`` normalized per task, each task's
    coefficients are those of :class:`sklearn.linear_model.Lasso` (or
    ``ElasticNet``) fitted on that task alone with ``a_t / w_t``; solving
    them jointly shares the design products."""


class MultiTaskLassoRegressor(_LassoMixin, _LinearMultiTaskRegressor):
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


MultiTaskLassoRegressor.__doc__ = f"""Independent lasso (L1) regressions per task, solved jointly.

    No sharing between tasks: the sparse single-task baseline of the
    group lasso, with one ``alpha`` per task allowed.

{_OBJECTIVE_REGRESSION.format(omega=_OMEGA)}

    With a scalar ``alpha`` every ``a_t = alpha`` and the penalty is the
    entrywise ``||B||_1``.

    Read more in the :ref:`User Guide <linear_model>`.

    Parameters
    ----------
{_PARAMETERS.format(common=_COMMON_PARAMETERS)}

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Coefficients, one row per task.

{_COMMON_ATTRIBUTES.format(rows="n_tasks")}

    See Also
    --------
    GroupLassoRegressor : features selected jointly across tasks.
    sklearn.linear_model.Lasso : one task.

    Notes
    -----
{_NOTES_LASSO}

{_REFERENCES}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import MultiTaskLassoRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(50, 4)
    >>> Y = np.column_stack([X[:, 0], X[:, 1]]) + 0.01 * rng.randn(50, 2)
    >>> model = MultiTaskLassoRegressor(alpha=[0.05, 0.1]).fit(X, Y)
    >>> (model.coef_ != 0).astype(int)
    array([[1, 0, 0, 0],
           [0, 1, 0, 0]])
    """


class MultiTaskLassoClassifier(_LassoMixin, _LinearMultiTaskClassifier):
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
    "the L1 norm is entrywise, so every column (each one-vs-rest\n"
    "    column too) is an independent L1-penalized logistic regression with\n"
    "    its task's ``a_t``."
)

MultiTaskLassoClassifier.__doc__ = f"""Independent L1-penalized logistic regressions per task, solved jointly.

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
    GroupLassoClassifier : features selected jointly across tasks.
    MultiTaskLassoRegressor : the squared-loss version.

    Notes
    -----
{_NOTES_LASSO}

{_REFERENCES}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import MultiTaskLassoClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 3)
    >>> y = np.where(X[:, 0] > 0, "yes", "no")
    >>> model = MultiTaskLassoClassifier(alpha=0.01).fit(X, y)
    >>> model.classes_
    array(['no', 'yes'], dtype='<U3')
    >>> model.predict(X[:2]).tolist() == y[:2].tolist()
    True
    """
