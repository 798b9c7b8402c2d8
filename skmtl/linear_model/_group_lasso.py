"""Group lasso (L21 or L1/L-infinity): features selected jointly across tasks."""

from sklearn.utils._param_validation import StrOptions

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
from ._penalties import L21, L1Linf

__all__ = ["GroupLassoRegressor", "GroupLassoClassifier"]


class _GroupLassoMixin:
    """Penalty and parameter checks shared by the regressor and the classifier."""

    _scale_features = True

    _parameter_constraints = {
        **_LinearMultiTaskModel._parameter_constraints,
        "norm": [StrOptions({"l2", "linf"})],
        "positive": ["boolean"],
    }

    def _check_params(self):
        if self.positive and self.norm != "l2":
            raise ValueError(
                f"positive=True is only supported with norm='l2'; got norm={self.norm!r}. "
                "Use norm='l2' for nonnegative coefficients."
            )

    def _make_penalty(self, alpha):
        if self.norm == "linf":
            return L1Linf(alpha, l1_ratio=self.l1_ratio)
        return L21(alpha, l1_ratio=self.l1_ratio, positive=self.positive)


_OMEGA = "sum_j ||B[:, j]||"
_PARAMETERS = """\
    alpha : float, default=1.0
        Regularization strength, >= 0. Every coefficient is 0 from
        :func:`~skmtl.linear_model.alpha_max` on.

{common}

    norm : {{"l2", "linf"}}, default="l2"
        Norm of each feature's column ``B[:, j]`` across tasks: Euclidean
        (L21, group lasso) or maximum (L1/L-infinity, which also pushes the
        tasks' coefficients of a selected feature to equal magnitudes).

    positive : bool, default=False
        Constrain the coefficients to be nonnegative (``norm="l2"`` only)."""

_SEE_ALSO = """\
    See Also
    --------
    GroupLassoRegressorCV : choose ``alpha`` by cross-validation.
    MultiTaskLassoRegressor : independent L1 penalty per task.
    TraceNormRegressor : shared low-rank structure instead of shared support.
    sklearn.linear_model.MultiTaskLasso : the same model (``norm="l2"``, wide
        layout without missing labels)."""

_REFERENCES = """\
    References
    ----------
    Obozinski, Taskar & Jordan, "Joint covariate selection and joint subspace
    selection for multiple classification problems", Stat. Comput., 2010.
    Turlach, Venables & Wright, "Simultaneous variable selection",
    Technometrics, 2005 (the L1/L-infinity norm).
    Beck & Teboulle, "A fast iterative shrinkage-thresholding algorithm for
    linear inverse problems", SIAM J. Imaging Sci., 2009."""


class GroupLassoRegressor(_GroupLassoMixin, _LinearMultiTaskRegressor):
    def __init__(
        self,
        alpha=1.0,
        *,
        l1_ratio=1.0,
        norm="l2",
        positive=False,
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
        self.norm = norm
        self.positive = positive
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.solver = solver


GroupLassoRegressor.__doc__ = f"""Multi-task linear regression with a group lasso (L21) penalty.

    A feature is used by all tasks or by none: the penalty is the sum over
    features of the norm of that feature's coefficients across tasks.

{_OBJECTIVE_REGRESSION.format(omega=_OMEGA)}

    ``B[:, j]`` is feature ``j``'s column of ``coef_`` and ``||.||`` its
    Euclidean norm (``norm="l2"``) or maximum absolute value
    (``norm="linf"``).

    Read more in the :ref:`User Guide <linear_model>`.

    Parameters
    ----------
{_PARAMETERS.format(common=_COMMON_PARAMETERS)}

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Coefficients, one row per task (float32 for float32 ``X``).

{_COMMON_ATTRIBUTES.format(rows="n_tasks")}

{_SEE_ALSO}

    Notes
    -----
{_NOTES}

{_REFERENCES}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import GroupLassoRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(50, 6)
    >>> Y = X[:, :2] @ rng.randn(2, 3) + 0.01 * rng.randn(50, 3)
    >>> model = GroupLassoRegressor(alpha=0.1).fit(X, Y)
    >>> model.coef_.shape
    (3, 6)
    >>> np.flatnonzero(np.any(model.coef_ != 0, axis=0))  # shared support
    array([0, 1])
    """


class GroupLassoClassifier(_GroupLassoMixin, _LinearMultiTaskClassifier):
    def __init__(
        self,
        alpha=0.01,
        *,
        l1_ratio=1.0,
        norm="l2",
        positive=False,
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
        self.norm = norm
        self.positive = positive
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.solver = solver


_EXPANSION = (
    "a feature's group ``B[:, j]`` holds the coefficients of every column,\n"
    "    so the one-vs-rest columns of a multiclass task select features\n"
    "    together with each other and with the other tasks."
)

GroupLassoClassifier.__doc__ = f"""Multi-task logistic regression with a group lasso (L21) penalty.

    A feature is used by all tasks or by none.

{_OBJECTIVE_CLASSIFICATION.format(omega=_OMEGA, expansion=_EXPANSION)}

    Read more in the :ref:`User Guide <linear_model>`.

    Parameters
    ----------
{_PARAMETERS.format(common=_COMMON_PARAMETERS).replace("default=1.0", "default=0.01", 1)}

    Attributes
    ----------
    coef_ : ndarray of shape (n_columns, n_features)
        Coefficients, one row per binary column (one per binary task, ``K``
        per task with ``K > 2`` classes).

{_COMMON_ATTRIBUTES.format(rows="n_columns")}

{_CLASSIFIER_ATTRIBUTES}

    See Also
    --------
    GroupLassoClassifierCV : choose ``alpha`` by cross-validation.
    GroupLassoRegressor : the squared-loss version.
    TraceNormClassifier : shared low-rank structure instead.

    Notes
    -----
{_NOTES}

{_REFERENCES}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import GroupLassoClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(80, 5)
    >>> Y = np.column_stack([X[:, 0] > 0, X[:, 0] + X[:, 1] > 0]).astype(int)
    >>> model = GroupLassoClassifier(alpha=0.01).fit(X, Y)
    >>> model.predict(X).shape
    (80, 2)
    >>> bool((model.predict(X) == Y).mean() > 0.9)
    True
    >>> [p.shape for p in model.predict_proba(X[:3])]
    [(3, 2), (3, 2)]
    """
