"""Sparse group lasso (L1 + L21): features selected jointly across tasks, then per task."""

from ._base import (
    _CLASSIFIER_ATTRIBUTES,
    _COMMON_ATTRIBUTES,
    _COMMON_PARAMETERS,
    _NOTES,
    _OBJECTIVE_CLASSIFICATION,
    _OBJECTIVE_REGRESSION,
    _LinearMultiTaskClassifier,
    _LinearMultiTaskRegressor,
)
from ._group_lasso import _EXPANSION  # the groups are the same
from ._penalties import SparseGroupL21

__all__ = ["SparseGroupLassoRegressor", "SparseGroupLassoClassifier"]


class _SparseGroupLassoMixin:
    """The penalty, shared by the regressor and the classifier."""

    # A sum over features: solved on scaled features, one step per feature.
    _scale_features = True

    def _make_penalty(self, alpha):
        return SparseGroupL21(alpha, l1_ratio=self.l1_ratio)


# The shared objective templates end with an elastic-net term; this
# penalty's l1_ratio mixes L1 and L21 instead.
_ELASTIC_NET = "alpha * (l1_ratio * {omega} + (1 - l1_ratio) / 2 * ||B||_F^2)"
_PENALTY = "alpha * (l1_ratio * sum_tj |B_tj| + (1 - l1_ratio) * sum_j ||B[:, j]||_2)"
_PARAMETERS = """\
    alpha : float, default=1.0
        Regularization strength, >= 0. Every coefficient is 0 from
        :func:`~skmtl.linear_model.alpha_max` on.

    l1_ratio : float in [0, 1], default=0.5
        Share of the L1 norm in the penalty: 0 is the group lasso
        (:class:`GroupLassoRegressor`), 1 independent lassos
        (:class:`MultiTaskLassoRegressor`).

{common}""".format(common=_COMMON_PARAMETERS.split("\n\n", 1)[1])  # all but their l1_ratio

_REFERENCES = """\
    References
    ----------
    Simon, Friedman, Hastie & Tibshirani, "A sparse-group lasso", J. Comput.
    Graph. Stat., 2013.
    Ndiaye, Fercoq, Gramfort & Salmon, "GAP safe screening rules for
    sparse-group lasso", NeurIPS, 2016 (the dual norm in the duality gap)."""


class SparseGroupLassoRegressor(_SparseGroupLassoMixin, _LinearMultiTaskRegressor):
    def __init__(
        self,
        alpha=1.0,
        *,
        l1_ratio=0.5,
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


SparseGroupLassoRegressor.__doc__ = f"""Multi-task linear regression with a sparse group lasso (L1 + L21) penalty.

    A feature is used by some tasks or by none: the L21 part selects
    features jointly across tasks, the L1 part the tasks that use each
    selected feature.

{_OBJECTIVE_REGRESSION.replace(_ELASTIC_NET, _PENALTY)}

    ``B[:, j]`` is feature ``j``'s column of ``coef_``.

    Read more in the :ref:`User Guide <linear_model>`.

    Parameters
    ----------
{_PARAMETERS}

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
        Coefficients, one row per task (float32 for float32 ``X``).

{_COMMON_ATTRIBUTES.format(rows="n_tasks")}

    See Also
    --------
    GroupLassoRegressor : the same support for every task (``l1_ratio=0``).
    MultiTaskLassoRegressor : independent supports (``l1_ratio=1``).

    Notes
    -----
{_NOTES}

{_REFERENCES}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import SparseGroupLassoRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(100, 6)
    >>> B = np.array([[2.0, 0.0, 0.0], [1.5, -2.0, 0.0]])  # features 0 and 1
    >>> Y = X[:, :2] @ B + 0.01 * rng.randn(100, 3)
    >>> model = SparseGroupLassoRegressor(alpha=0.05, l1_ratio=0.5).fit(X, Y)
    >>> (model.coef_ != 0).astype(int)
    array([[1, 1, 0, 0, 0, 0],
           [0, 1, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0]])
    """


class SparseGroupLassoClassifier(_SparseGroupLassoMixin, _LinearMultiTaskClassifier):
    def __init__(
        self,
        alpha=0.01,
        *,
        l1_ratio=0.5,
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


SparseGroupLassoClassifier.__doc__ = f"""Multi-task logistic regression with a sparse group lasso (L1 + L21) penalty.

    A feature is used by some tasks or by none.

{_OBJECTIVE_CLASSIFICATION.replace(_ELASTIC_NET, _PENALTY).format(expansion=_EXPANSION)}

    Read more in the :ref:`User Guide <linear_model>`.

    Parameters
    ----------
{_PARAMETERS.replace("default=1.0", "default=0.01", 1)}

    Attributes
    ----------
    coef_ : ndarray of shape (n_columns, n_features)
        Coefficients, one row per binary column (one per binary task, ``K``
        per task with ``K > 2`` classes).

{_COMMON_ATTRIBUTES.format(rows="n_columns")}

{_CLASSIFIER_ATTRIBUTES}

    See Also
    --------
    SparseGroupLassoRegressor : the squared-loss version.
    GroupLassoClassifier : the same support for every task (``l1_ratio=0``).
    MultiTaskLassoClassifier : independent supports (``l1_ratio=1``).

    Notes
    -----
{_NOTES}

{_REFERENCES}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import SparseGroupLassoClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(120, 5)
    >>> Y = np.column_stack([X[:, 0] > 0, X[:, 0] + X[:, 1] > 0]).astype(int)
    >>> model = SparseGroupLassoClassifier(alpha=0.02).fit(X, Y)
    >>> bool((model.predict(X) == Y).mean() > 0.9)
    True
    """
