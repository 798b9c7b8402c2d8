"""Cross-validated two-part models: both strengths chosen on a 2-D grid.

The dirty and sparse + low-rank models have two strengths. In relative
units (fractions of each part's ``alpha_max``, the models' default
``alpha_scale="relative"``) one grid suits every data set: each fold walks
it with warm starts, in a snake order so that every fit starts from the
neighbouring grid point's solution, and the pair with the best mean
validation score is refitted on all the data.
"""

import numbers
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context, clone, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing, indexable
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ..base import MultiTaskMixin
from ..model_selection._split import check_task_cv
from ._dirty import DirtyClassifier, DirtyRegressor, SparseLowRankRegressor
from ._path import check_cv_scoring

__all__ = ["DirtyRegressorCV", "DirtyClassifierCV", "SparseLowRankRegressorCV"]


def _relative_grid(alphas, n_alphas, eps):
    """The relative strengths to try, decreasing (largest = sparsest first)."""
    if alphas is None:
        return np.geomspace(1.0, eps, n_alphas)
    grid = np.sort(np.asarray(alphas, dtype=np.float64).ravel())[::-1]
    if grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid < 0):
        raise ValueError(f"alphas must be a non-empty list of nonnegative numbers; got {alphas!r}.")
    return grid


def _snake(n):
    """Grid points ``(i, j)`` row by row, every other row reversed: each is next to the last."""
    return [(i, j) for i in range(n) for j in (range(n) if i % 2 == 0 else range(n - 1, -1, -1))]


def _fold_grid(base, names, grid, X, y, sample_weight, train, test, scorer):
    """Validation score of every grid pair on one fold, warm-started along the snake."""
    est = clone(base).set_params(warm_start=True)
    fit_params = {} if sample_weight is None else {"sample_weight": sample_weight[train]}
    X_train, y_train = _safe_indexing(X, train), _safe_indexing(y, train)
    X_test, y_test = _safe_indexing(X, test), _safe_indexing(y, test)
    sw_test = None if sample_weight is None else sample_weight[test]
    scores = np.empty((len(grid), len(grid)))
    with warnings.catch_warnings():
        # A fold's fit that stops early is not worth one warning per grid point.
        warnings.simplefilter("ignore", ConvergenceWarning)
        for i, j in _snake(len(grid)):
            est.set_params(**{names[0]: grid[i], names[1]: grid[j]}).fit(X_train, y_train, **fit_params)
            scores[i, j] = scorer(est, X_test, y_test, sw_test)
    return scores


class _TwoPartCV(MultiTaskMixin, BaseEstimator):
    """Grid search over the two relative strengths of ``_estimator_class``.

    Subclasses define ``_estimator_class``; every parameter of the CV that
    the estimator also has is passed to it. The fitted attributes of the
    refitted model (``coef_``, ``shared_coef_``, ``classes_``, ...) are read
    from ``estimator_``.
    """

    _cv_constraints = {
        "alphas": ["array-like", None],
        "n_alphas": [Interval(numbers.Integral, 1, None, closed="left")],
        "eps": [Interval(numbers.Real, 0, 1, closed="right")],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "n_jobs": [numbers.Integral, None],
    }

    @classmethod
    def _constraints(cls):
        """The estimator's constraints without the strengths, plus the CV's."""
        model = cls._estimator_class
        dropped = (*model._strength_names, "alpha_scale", "warm_start")
        kept = {k: v for k, v in model._parameter_constraints.items() if k not in dropped}
        return {**kept, **cls._cv_constraints}

    def __getattr__(self, name):
        # Only reached when normal lookup fails: the refitted model's fitted
        # attributes, without copying them here one by one.
        estimator = self.__dict__.get("estimator_")
        if estimator is not None and name.endswith("_") and not name.startswith("__"):
            return getattr(estimator, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Choose both strengths by cross-validation, then refit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        grid = _relative_grid(self.alphas, self.n_alphas, self.eps)
        names = self._estimator_class._strength_names
        params = self._estimator_class().get_params()
        base = self._estimator_class(**{k: v for k, v in self.get_params().items() if k in params})
        # Validated once before the folds, so that bad input is reported as
        # such (and to record n_features_in_, tasks_, ...).
        self._validate_fit(X, y, sample_weight)
        X, y = indexable(X, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        cv = check_cv(check_task_cv(self.cv, self.task_column), y, classifier=is_classifier(self))
        scorer = check_cv_scoring(base, self.scoring)
        per_fold = Parallel(n_jobs=self.n_jobs)(
            delayed(_fold_grid)(base, names, grid, X, y, sample_weight, train, test, scorer)
            for train, test in cv.split(X, y)
        )
        self.scores_ = np.stack(per_fold, axis=-1)
        best = np.unravel_index(np.argmax(self.scores_.mean(axis=-1)), self.scores_.shape[:2])
        self.alphas_ = grid
        chosen = {name: float(grid[k]) for name, k in zip(names, best)}
        for name, value in chosen.items():
            setattr(self, f"{name}_", value)
        fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        self.estimator_ = base.set_params(**chosen).fit(X, y, **fit_params)
        return self

    def _fitted(self):
        check_is_fitted(self)
        return self.estimator_

    def predict(self, X):
        """Predict with the refitted model (``estimator_.predict``)."""
        return self._fitted().predict(X)


class _ClassifierCVMixin(ClassifierMixin):
    def decision_function(self, X):
        """``estimator_.decision_function``."""
        return self._fitted().decision_function(X)

    def predict_proba(self, X):
        """``estimator_.predict_proba``."""
        return self._fitted().predict_proba(X)


_CV_DOC = """{title}

    Same model and objective as :class:`{model}`, with ``{first}`` and
    ``{second}`` in relative units (fractions of each part's ``alpha_max``,
    ``alpha_scale="relative"``) chosen on the grid ``alphas x alphas``.

    Parameters
    ----------
    alphas : array-like of float, default=None
        Relative strengths tried for both parts. None: ``n_alphas`` values
        log-spaced from 1 (the part is zero) down to ``eps``.

    n_alphas : int, default=5
        Length of the automatic grid (``n_alphas ** 2`` pairs).

    eps : float, default=1e-2
        Smallest value of the automatic grid.

    cv : int, cross-validation generator or iterable, default=None
        Splitting strategy (None: 5-fold). In the long layout None or an int
        means :class:`skmtl.model_selection.TaskStratifiedKFold` on the task
        column, so that every task is in every training fold.

    scoring : str, callable or None, default=None
        Validation score, higher is better: a scikit-learn scoring name or a
        scorer ``scorer(estimator, X, y)`` (for instance
        :data:`skmtl.metrics.task_r2_scorer`). None: {default_score}.

    n_jobs : int, default=None
        Folds run in parallel with joblib (``-1``: all cores).

    **other parameters : as :class:`{model}`.

    Attributes
    ----------
    {first}_, {second}_ : float
        The chosen relative strengths.

    alphas_ : ndarray of shape (n_alphas,)
        The grid, decreasing.

    scores_ : ndarray of shape (n_alphas, n_alphas, n_folds)
        Validation score of every pair (``{first}`` along the first axis) on
        every fold.

    estimator_ : {model}
        The model refitted on all the data at the chosen pair. Its fitted
        attributes (``coef_``, ``intercept_``, ``shared_coef_``, ...) are
        also readable on this object.

    tasks_ : ndarray of shape (n_tasks,)
        Task labels.

    n_tasks_ : int
        Number of tasks.

    n_features_in_ : int
        Number of columns of ``X`` seen in fit, the task column included.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of ``X`` when it was a DataFrame with string names.

    See Also
    --------
    {model}

    Notes
    -----
    Each fold walks the grid row by row with warm starts (every other row
    reversed, so each fit starts from the neighbouring pair's solution);
    convergence warnings inside the folds are silenced, the refit warns.

    Examples
    --------
    >>> from skmtl.datasets import make_sparse_multitask
    >>> from skmtl.linear_model import {name}
    >>> X, Y, _ = make_sparse_multitask(n_samples=60, n_features=8, n_tasks=3,
    ...                                 n_informative=3, {example_kw}random_state=0)
    >>> model = {name}(n_alphas=3, cv=3).fit(X, Y)
    >>> model.scores_.shape
    (3, 3, 3)
    """

_MSE = "minus the mean over tasks of each task's mean squared error"
_LOG_LOSS = "minus the mean over tasks of each task's log loss"


def _cv_init(self, *, alphas=None, n_alphas=5, eps=1e-2, cv=None, scoring=None, n_jobs=None, **params):
    self.alphas = alphas
    self.n_alphas = n_alphas
    self.eps = eps
    self.cv = cv
    self.scoring = scoring
    self.n_jobs = n_jobs
    for name, value in params.items():
        setattr(self, name, value)


class _DirtyCV(_TwoPartCV):
    def __init__(
        self, *, alphas=None, n_alphas=5, eps=1e-2, cv=None, scoring=None, n_jobs=None,
        shared_norm="linf", fit_intercept=True, task_weights=None, task_column=None, max_iter=1000, tol=1e-4,
    ):  # fmt: skip
        _cv_init(
            self, alphas=alphas, n_alphas=n_alphas, eps=eps, cv=cv, scoring=scoring, n_jobs=n_jobs,
            shared_norm=shared_norm, fit_intercept=fit_intercept, task_weights=task_weights,
            task_column=task_column, max_iter=max_iter, tol=tol,
        )  # fmt: skip


class DirtyRegressorCV(RegressorMixin, _DirtyCV):
    _estimator_class = DirtyRegressor


class DirtyClassifierCV(_ClassifierCVMixin, _DirtyCV):
    _estimator_class = DirtyClassifier


class SparseLowRankRegressorCV(RegressorMixin, _TwoPartCV):
    _estimator_class = SparseLowRankRegressor

    def __init__(
        self, *, alphas=None, n_alphas=5, eps=1e-2, cv=None, scoring=None, n_jobs=None,
        fit_intercept=True, task_weights=None, task_column=None, max_iter=1000, tol=1e-4,
    ):  # fmt: skip
        _cv_init(
            self, alphas=alphas, n_alphas=n_alphas, eps=eps, cv=cv, scoring=scoring, n_jobs=n_jobs,
            fit_intercept=fit_intercept, task_weights=task_weights, task_column=task_column,
            max_iter=max_iter, tol=tol,
        )  # fmt: skip


for _cls, _title, _default, _extra in [
    (DirtyRegressorCV, "Dirty multi-task regression with both strengths chosen by cross-validation.", _MSE, ""),
    (DirtyClassifierCV, "Dirty multi-task logistic regression with both strengths chosen by cross-validation.",
     _LOG_LOSS, "classification=True, "),
    (SparseLowRankRegressorCV, "Sparse + low-rank multi-task regression with both strengths chosen by "
     "cross-validation.", _MSE, ""),
]:  # fmt: skip
    _model = _cls._estimator_class
    _cls._parameter_constraints = _cls._constraints()
    _cls.__doc__ = _CV_DOC.format(
        title=_title, model=_model.__name__, name=_cls.__name__, first=_model._strength_names[0],
        second=_model._strength_names[1], default_score=_default, example_kw=_extra,
    )
