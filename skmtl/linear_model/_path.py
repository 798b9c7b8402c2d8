"""``alpha_max``, warm-started regularization paths and cross-validated estimators.

A path solves one problem for a decreasing grid of ``alpha`` values, each
fit starting from the previous solution (warm start), on one loss object
built once: the data are validated, encoded and their Lipschitz constant
computed a single time. The ``*CV`` estimators run one path per fold
(joblib over folds), pick the ``alpha`` with the best mean validation
score and refit on all the data.
"""

import numbers
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring, mean_squared_error
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing, indexable
from sklearn.utils.validation import _check_sample_weight
from sklearn.utils._param_validation import Interval

from .._data import _missing, check_task_X
from ..metrics._per_task import task_scores
from ..model_selection._split import check_task_cv
from ._base import _COMMON_PARAMETERS, _LinearMultiTaskModel, warn_not_converged
from ._group_lasso import GroupLassoClassifier, GroupLassoRegressor
from ._sparse_group_lasso import SparseGroupLassoClassifier, SparseGroupLassoRegressor
from ._trace_norm import TraceNormRegressor

__all__ = [
    "alpha_max",
    "group_lasso_path",
    "trace_norm_path",
    "regularization_path",
    "GroupLassoRegressorCV",
    "GroupLassoClassifierCV",
    "TraceNormRegressorCV",
    "SparseGroupLassoRegressorCV",
    "SparseGroupLassoClassifierCV",
]


def _check_family(estimator):
    if not isinstance(estimator, _LinearMultiTaskModel):
        raise TypeError(
            "estimator must be one of skmtl.linear_model's penalized linear models "
            f"(GroupLassoRegressor, TraceNormRegressor, ...); got {type(estimator).__name__}."
        )


def _prepare(estimator, X, y, sample_weight):
    """A validated clone of ``estimator`` and its loss on ``X, y``."""
    _check_family(estimator)
    est = clone(estimator)
    est._validate_params()
    est._check_params()
    return est, est._make_loss(X, y, sample_weight)


def alpha_max(estimator, X, y, sample_weight=None):
    """Smallest ``alpha`` for which ``estimator`` fits ``coef_ = 0``, exactly.

    With ``g`` the loss gradient with respect to the coefficients at
    ``B = 0`` and the optimal intercepts of that constant model (the
    per-task weighted means of ``y``, or log-odds for classifiers), ``B = 0``
    is optimal iff ``-g`` lies in ``alpha * l1_ratio * dOmega(0)``, so
    ``alpha_max = Omega^*(g) / l1_ratio`` with ``Omega^*`` the dual norm:
    the largest row norm of ``g`` (L21), the largest row L1 norm
    (L1/L-infinity), the largest entry (L1) or the spectral norm (trace
    norm). For ``MultiTaskLasso*`` with per-task alphas it is the factor
    by which ``alpha`` must be multiplied.

    Parameters
    ----------
    estimator : estimator instance
        A :class:`GroupLassoRegressor`, :class:`TraceNormRegressor`, ... Its
        parameters (``l1_ratio``, ``norm``, ``task_weights``,
        ``fit_intercept``, ``task_column``, ...) are used; ``alpha`` is not.
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
    y : array-like of shape (n_samples,) or (n_samples, n_tasks)
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    alpha_max : float
        0 when ``X`` has no signal (e.g. all-zero features); ``inf`` when
        ``l1_ratio=0`` (a ridge penalty never zeroes the coefficients).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import GroupLassoRegressor, alpha_max
    >>> rng = np.random.RandomState(0)
    >>> X, Y = rng.randn(30, 4), rng.randn(30, 2)
    >>> a = alpha_max(GroupLassoRegressor(), X, Y)
    >>> bool(np.all(GroupLassoRegressor(alpha=a).fit(X, Y).coef_ == 0))
    True
    >>> bool(np.any(GroupLassoRegressor(alpha=0.99 * a).fit(X, Y).coef_ != 0))
    True
    """
    est, loss = _prepare(estimator, X, y, sample_weight)
    return est._alpha_max_of_loss(loss)


def _alpha_grid(a_max, n_alphas, eps):
    """``n_alphas`` values from ``a_max`` down to ``eps * a_max``, log-spaced."""
    if not np.isfinite(a_max):
        raise ValueError(
            "Automatic alpha grid generation is not supported for l1_ratio=0 "
            "(alpha_max is infinite); pass alphas explicitly."
        )
    if a_max <= np.finfo(np.float64).resolution:
        # No signal (all-zero X, constant y): every alpha gives coef_ = 0;
        # as scikit-learn, return a grid of tiny values instead of zeros.
        return np.full(n_alphas, np.finfo(np.float64).resolution)
    return np.geomspace(a_max, a_max * eps, num=n_alphas)


def _check_alphas(alphas, n_alphas, eps):
    if alphas is not None:
        alphas = np.asarray(alphas, dtype=np.float64)
        if alphas.ndim != 1 or alphas.size == 0 or np.any(~np.isfinite(alphas)) or np.any(alphas < 0):
            raise ValueError(
                "alphas must be a non-empty 1-D array of finite non-negative values; "
                f"got {alphas!r}."
            )
        return None
    if not (isinstance(n_alphas, numbers.Integral) and n_alphas >= 1):
        raise ValueError(f"n_alphas must be a positive integer; got {n_alphas!r}.")
    if not (isinstance(eps, numbers.Real) and 0 < eps <= 1):
        raise ValueError(f"eps must be in (0, 1]; got {eps!r}.")
    return None


def _extrapolated_start(est, alphas, coefs, intercepts):
    """Warm start for ``alphas[2]`` from the solutions at ``alphas[0]``, ``alphas[1]``.

    Along a stretch of the path where the support does not change, the
    solution moves smoothly with ``alpha`` (linearly for the lasso), so the
    secant through the last two solutions predicts the next one to second
    order where the last solution alone is a first-order guess. Only the
    entries nonzero in both solutions move: an entry that just entered or
    left the support keeps its last value. ``prox(., 0)`` maps the guess
    back into the penalty's domain (``positive=True``).
    """
    (W2, W1), (b2, b1) = coefs, intercepts
    if alphas[1] == alphas[0]:
        return W1, b1  # repeated alphas: no secant
    step = (alphas[2] - alphas[1]) / (alphas[1] - alphas[0])
    moving = (W1 != 0) & (W2 != 0)
    W0 = W1 + step * np.where(moving, W1 - W2, 0)
    b0 = b1 + step * (b1 - b2)
    return np.asarray(est._make_penalty(alphas[2]).prox(W0, 0.0), dtype=W1.dtype), b0.astype(b1.dtype)


def _run_path(est, loss, alphas, on_solution=None):
    """Solve for each alpha (in the given order) with warm starts.

    Each solve starts at the previous solution, or at the secant guess of
    :func:`_extrapolated_start` when that costs no extra full gradient or
    the solution is dense (see the comment in the loop), and is handed the
    :class:`~._solvers.WarmStart` the previous solve left.
    """
    n = len(alphas)
    coefs = np.empty((n, loss.n_tasks, loss.n_features), dtype=loss.dtype)
    intercepts = np.empty((n, loss.n_tasks), dtype=loss.dtype)
    n_iters = np.empty(n, dtype=int)
    not_converged = []
    # The loss's coefficients and intercepts (centered, maybe scaled
    # features), for the warm starts.
    loss_coefs = np.empty((n, loss.n_features, loss.n_tasks), dtype=loss.dtype)
    centered_intercepts = np.empty_like(intercepts)
    W0 = b0 = warm = None
    for k, alpha in enumerate(alphas):
        # Extrapolate when it is free or pays: if the last solve left its
        # final gradient (working sets ending with a check), starting at its
        # solution saves a full gradient, which a guess would cost; past half
        # of the features in the support, the solve is on the whole problem
        # and a better start saves more than that.
        remembered = warm is not None and warm.gradient_at(W0, b0) is not None
        dense = W0 is not None and 2 * np.count_nonzero(np.any(W0 != 0, axis=1)) >= len(W0)
        if k >= 2 and np.any(W0 != 0) and (not remembered or dense):
            W0, b0 = _extrapolated_start(
                est, alphas[k - 2 : k + 1], (loss_coefs[k - 2], W0), (centered_intercepts[k - 2], b0)
            )
        result = est._solve(loss, alpha, W0, b0, warm_start=warm)
        W0, b0, warm = result.coef, result.intercept, result.warm_start
        loss_coefs[k], centered_intercepts[k], n_iters[k] = result.coef, result.intercept, result.n_iter
        coefs[k], intercepts[k] = est.coef_, est.intercept_
        if not result.converged:
            not_converged.append((alpha, result))
        if on_solution is not None:
            on_solution(k, est)
    if not_converged:
        # The smallest alpha that missed: the hardest fit, whose certificate is reported.
        alpha, result = not_converged[-1]
        name = f"{type(est).__name__} path ({len(not_converged)} of {n} fits, the smallest at alpha={alpha:.3g})"
        warn_not_converged(name, result, est.max_iter, est.tol, loss)
    return coefs, intercepts, n_iters


def _path(estimator, X, y, *, alphas, n_alphas, eps, sample_weight):
    _check_alphas(alphas, n_alphas, eps)
    est, loss = _prepare(estimator, X, y, sample_weight)
    if alphas is None:
        alphas = _alpha_grid(est._alpha_max_of_loss(loss), n_alphas, eps)
    else:
        # Decreasing: each warm start comes from a sparser (smaller) model.
        alphas = np.sort(np.asarray(alphas, dtype=np.float64))[::-1]
    coefs, intercepts, n_iters = _run_path(est, loss, alphas)
    return alphas, coefs, intercepts, n_iters


_PATH_RETURNS = """\
    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The alphas, in decreasing order.
    coefs : ndarray of shape (n_alphas, n_tasks, n_features)
        ``coef_`` at each alpha.
    intercepts : ndarray of shape (n_alphas, n_tasks)
        ``intercept_`` at each alpha.
    n_iters : ndarray of int of shape (n_alphas,)
        Solver iterations of each fit (0 when ``coef_ = 0`` was optimal at once)."""

_PATH_PARAMETERS = """\
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
        Features (and the task column in the long layout).
    y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Targets; NaN marks a missing label in the wide layout.
    alphas : array-like of shape (n_alphas,), default=None
        The alphas to fit (sorted decreasingly). None: ``n_alphas`` values
        log-spaced from :func:`alpha_max` down to ``eps * alpha_max``.
    n_alphas : int, default=50
        Length of the automatic grid.
    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights."""



def regularization_path(estimator, X, y, *, alphas=None, n_alphas=50, eps=1e-3, sample_weight=None):
    _check_family(estimator)
    if "alpha" not in estimator.get_params(deep=False):
        raise TypeError(
            f"{type(estimator).__name__} has no single 'alpha' to trace a path over; "
            "fit it on a grid of its strengths instead (e.g. GridSearchCV)."
        )
    return _path(estimator, X, y, alphas=alphas, n_alphas=n_alphas, eps=eps, sample_weight=sample_weight)


regularization_path.__doc__ = f"""Warm-started path of any penalized linear model over its ``alpha``.

    The classifiers (``GroupLassoClassifier``, ``TraceNormClassifier``,
    ``MultiTaskLassoClassifier``, ...) and the regressors without a
    dedicated path function (``MultiTaskLassoRegressor``, the task-graph
    models) included: ``estimator`` is fitted for each alpha, from the
    largest down, each fit starting at the previous solution, all its other
    parameters as set; the data are validated and the loss built once.

    Parameters
    ----------
    estimator : estimator instance
        One of skmtl.linear_model's models with an ``alpha`` parameter (its
        own ``alpha`` is ignored). A ``TypeError`` is raised for others.
{_PATH_PARAMETERS}
        The automatic grid needs a finite :func:`alpha_max` (a sparsity- or
        rank-inducing penalty); pass ``alphas`` for a smooth one.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The alphas, in decreasing order.
    coefs : ndarray of shape (n_alphas, n_columns, n_features)
        ``coef_`` at each alpha (a classifier's one-vs-rest columns for a
        multiclass task, as in its ``coef_``).
    intercepts : ndarray of shape (n_alphas, n_columns)
        ``intercept_`` at each alpha.
    n_iters : ndarray of int of shape (n_alphas,)
        Solver iterations of each fit (0 when ``coef_ = 0`` was optimal at once).

    See Also
    --------
    group_lasso_path, trace_norm_path, alpha_max

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import GroupLassoClassifier, regularization_path
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 6)
    >>> Y = (X[:, :2] @ rng.randn(2, 3) > 0).astype(int)
    >>> alphas, coefs, _, _ = regularization_path(GroupLassoClassifier(), X, Y, n_alphas=5)
    >>> coefs.shape
    (5, 3, 6)
    >>> [int(np.any(c != 0, axis=0).sum()) for c in coefs]  # features in use
    [0, 2, 6, 6, 6]
    """

def group_lasso_path(
    X,
    y,
    *,
    alphas=None,
    n_alphas=50,
    eps=1e-3,
    sample_weight=None,
    l1_ratio=1.0,
    norm="l2",
    positive=False,
    fit_intercept=True,
    task_weights=None,
    task_column=None,
    max_iter=1000,
    tol=1e-4,
    solver="auto",
):
    return _path(
        GroupLassoRegressor(
            l1_ratio=l1_ratio,
            norm=norm,
            positive=positive,
            fit_intercept=fit_intercept,
            task_weights=task_weights,
            task_column=task_column,
            max_iter=max_iter,
            tol=tol,
            solver=solver,
        ),
        X,
        y,
        alphas=alphas,
        n_alphas=n_alphas,
        eps=eps,
        sample_weight=sample_weight,
    )


group_lasso_path.__doc__ = f"""Group lasso regression path with warm starts.

    Fits :class:`GroupLassoRegressor` for each alpha, from the largest down,
    each fit starting at the previous solution; the data are validated and
    the loss built once.

    Parameters
    ----------
{_PATH_PARAMETERS}
    l1_ratio, norm, positive, fit_intercept, task_weights, task_column, max_iter, tol, solver
        As in :class:`GroupLassoRegressor`.

{_PATH_RETURNS}

    See Also
    --------
    GroupLassoRegressorCV, trace_norm_path, alpha_max

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import group_lasso_path
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(40, 5)
    >>> Y = X[:, :2] @ rng.randn(2, 3)
    >>> alphas, coefs, intercepts, n_iters = group_lasso_path(X, Y, n_alphas=5)
    >>> coefs.shape
    (5, 3, 5)
    >>> bool(np.all(coefs[0] == 0))  # alphas[0] is alpha_max
    True
    """


def trace_norm_path(
    X,
    y,
    *,
    alphas=None,
    n_alphas=50,
    eps=1e-3,
    sample_weight=None,
    l1_ratio=1.0,
    fit_intercept=True,
    task_weights=None,
    task_column=None,
    max_iter=1000,
    tol=1e-4,
):
    return _path(
        TraceNormRegressor(
            l1_ratio=l1_ratio,
            fit_intercept=fit_intercept,
            task_weights=task_weights,
            task_column=task_column,
            max_iter=max_iter,
            tol=tol,
        ),
        X,
        y,
        alphas=alphas,
        n_alphas=n_alphas,
        eps=eps,
        sample_weight=sample_weight,
    )


trace_norm_path.__doc__ = f"""Trace-norm regression path with warm starts.

    Fits :class:`TraceNormRegressor` for each alpha, from the largest down,
    each fit starting at the previous solution.

    Parameters
    ----------
{_PATH_PARAMETERS}
    l1_ratio, fit_intercept, task_weights, task_column, max_iter, tol
        As in :class:`TraceNormRegressor`.

{_PATH_RETURNS}

    See Also
    --------
    TraceNormRegressorCV, group_lasso_path, alpha_max

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import trace_norm_path
    >>> rng = np.random.RandomState(0)
    >>> X, Y = rng.randn(40, 5), rng.randn(40, 3)
    >>> alphas, coefs, _, _ = trace_norm_path(X, Y, n_alphas=4)
    >>> [int(np.linalg.matrix_rank(c, tol=1e-8)) for c in coefs][0]
    0
    """


# ---------------------------------------------------------------- CV
def _true_class_probability(est, X, y):
    """The probability ``est`` gives each entry's observed class, shaped like ``y``.

    Entries without a label (wide layout) get NaN, which the per-task
    scores skip as they skip the missing label itself.
    """
    proba = est.predict_proba(X)
    if est.task_column is not None:
        y = np.asarray(y)
        position = np.clip(np.searchsorted(est.classes_, y), 0, len(est.classes_) - 1)
        found = est.classes_[position] == y
        return np.where(found, proba[np.arange(len(y)), position], 0.0)
    Y = np.asarray(y, dtype=object)
    Y = Y.reshape(len(Y), -1)
    probas = proba if isinstance(proba, list) else [proba]
    classes = est.classes_ if isinstance(est.classes_, list) else [est.classes_]
    out = np.full(Y.shape, np.nan)
    for t, (P, c) in enumerate(zip(probas, classes)):
        labeled = np.flatnonzero(~_missing(Y[:, t]))
        labels = Y[labeled, t].astype(c.dtype)
        position = np.clip(np.searchsorted(c, labels), 0, len(c) - 1)
        out[labeled, t] = np.where(c[position] == labels, P[labeled, position], 0.0)
    return out.reshape(np.shape(y))


def _log_loss_of_true_class(probability, sample_weight=None):
    """Mean of ``-log p`` (clipped at 1e-15, as scikit-learn's ``log_loss``)."""
    return float(np.average(-np.log(np.clip(probability, 1e-15, 1.0)), weights=sample_weight))


def _validation_scores(est, X_test, y_test, sw_test):
    """Mean over tasks of the per-task MSE (regressors) or log loss (classifiers), lower is better.

    The classifiers' default is the log loss, not the accuracy: on tasks
    with a rare class (Landmine: 6 % positives) the model that predicts
    the majority class everywhere, ``alpha >= alpha_max``, had the best
    accuracy, and the CV chose it (ROC AUC 0.5 on every task).
    """
    tasks = None
    if est.task_column is not None:
        _, tasks = check_task_X(X_test, task_column=est.task_column, tasks=est.tasks_)
    if is_classifier(est):
        truth = _true_class_probability(est, X_test, y_test)
        metric = _log_loss_of_true_class
        # task_scores skips unlabeled entries by the first argument: the
        # labels; the metric reads the probabilities.
        per_task = task_scores(y_test, truth, tasks, lambda _, p, **kw: metric(p, **kw), sample_weight=sw_test)
    else:
        per_task = task_scores(y_test, est.predict(X_test), tasks, mean_squared_error, sample_weight=sw_test)
    return float(np.mean(per_task))


def check_cv_scoring(estimator, scoring):
    """``scorer(est, X, y, sample_weight)`` of a CV estimator, higher is better.

    None: minus the mean per-task MSE (regressors) or minus the mean
    per-task log loss (classifiers); otherwise scikit-learn's
    ``check_scoring``.
    """
    if scoring is None:
        def default(est, X, y, sample_weight):
            return -_validation_scores(est, X, y, sample_weight)

        return default
    scorer = check_scoring(estimator, scoring=scoring)
    return lambda est, X, y, sw: scorer(est, X, y) if sw is None else scorer(est, X, y, sample_weight=sw)


def _fold_path(estimator, X, y, sample_weight, train, test, settings, grids, scorer):
    """Validation scores (n_settings, n_alphas) of one fold: one warm-started path per setting.

    ``settings`` are parameter dicts (an ``l1_ratio`` each, or one empty
    dict), ``grids`` their alphas; the fold's loss is built once.
    """
    est, loss = _prepare(
        estimator,
        _safe_indexing(X, train),
        _safe_indexing(y, train),
        None if sample_weight is None else sample_weight[train],
    )
    X_test, y_test = _safe_indexing(X, test), _safe_indexing(y, test)
    sw_test = None if sample_weight is None else sample_weight[test]
    scores = np.empty((len(settings), len(grids[0])))
    with warnings.catch_warnings():
        # A fold's path that stops early is not worth one warning per fold.
        warnings.simplefilter("ignore", ConvergenceWarning)
        for i, (params, alphas) in enumerate(zip(settings, grids)):

            def record(k, fitted):
                scores[i, k] = scorer(fitted, X_test, y_test, sw_test)

            _run_path(est.set_params(**params), loss, alphas, on_solution=record)
    return scores


class _LinearModelCV:
    """Cross-validation over a warm-started alpha path, then a refit.

    Subclasses define ``_estimator_class`` and ``_estimator_params``. The
    fitted model is ``estimator_``: its fitted attributes are read through
    (delegated), not copied.
    """

    # What prediction, scoring and users read of the refitted model.
    _delegated = (
        "coef_", "intercept_", "n_iter_", "stop_crit_", "dual_gap_", "objective_",
        "classes_", "coef_indptr_", "_per_task_classes", "_class_position", "_column_task",
    )  # fmt: skip

    def __getattr__(self, name):
        # Only called for names not found the usual way: before fit (no
        # estimator_) they stay missing, as on the estimator itself.
        if name in type(self)._delegated:
            estimator = self.__dict__.get("estimator_")
            if estimator is not None and hasattr(estimator, name):
                return getattr(estimator, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    _cv_constraints = {
        "alphas": ["array-like", None],
        "n_alphas": [Interval(numbers.Integral, 1, None, closed="left")],
        "eps": [Interval(numbers.Real, 0, 1, closed="right")],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "n_jobs": [numbers.Integral, None],
    }

    # Whether l1_ratio may be a list, cross-validated with alpha (as
    # scikit-learn's ElasticNetCV): each value has its own alpha grid.
    _searches_l1_ratio = False

    def _base_estimator(self):
        params = {name: getattr(self, name) for name in self._estimator_params}
        # The first setting (a searched l1_ratio's first value); the paths set each in turn.
        return self._estimator_class(**{**params, **self._settings()[0]})

    def _settings(self):
        """One parameter dict per path: each ``l1_ratio`` searched, or the estimator's own."""
        if not self._searches_l1_ratio:
            return [{}]
        ratios = np.asarray(self.l1_ratio, dtype=np.float64)
        if ratios.ndim > 1 or ratios.size == 0 or not np.all((ratios >= 0) & (ratios <= 1)):
            raise ValueError(
                f"l1_ratio must be a float in [0, 1] or a non-empty 1-D list of them; got {self.l1_ratio!r}."
            )
        return [{"l1_ratio": float(r)} for r in np.ravel(ratios)]

    def _fit_cv(self, X, y, sample_weight):
        _check_alphas(self.alphas, self.n_alphas, self.eps)
        # Lists and array-likes without __getitem__ become arrays the folds can index.
        X, y = indexable(X, y)
        base = self._base_estimator()
        est, loss = _prepare(base, X, y, sample_weight)
        settings = self._settings()
        if self.alphas is None:
            # alpha_max depends on l1_ratio, not the loss: one loss for all.
            grids = np.array([
                _alpha_grid(est.set_params(**params)._alpha_max_of_loss(loss), self.n_alphas, self.eps)
                for params in settings
            ])  # fmt: skip
        else:
            grids = np.tile(np.sort(np.asarray(self.alphas, dtype=np.float64))[::-1], (len(settings), 1))
        if sample_weight is not None:
            # Already validated by _prepare; one weight per row for indexing
            # the folds (a scalar weights every row alike, as in fit).
            sample_weight = _check_sample_weight(sample_weight, X)
        cv = check_task_cv(self.cv, self.task_column)
        # As LogisticRegressionCV: one classification task gets stratified folds.
        folds = list(check_cv(cv, y, classifier=is_classifier(self)).split(X, y))
        scorer = check_cv_scoring(base, self.scoring)
        per_fold = Parallel(n_jobs=self.n_jobs)(
            delayed(_fold_path)(base, X, y, sample_weight, train, test, settings, grids, scorer)
            for train, test in folds
        )
        path = np.stack(per_fold, axis=-1)  # (n_settings, n_alphas, n_folds), higher is better
        chosen, best = np.unravel_index(int(np.argmax(path.mean(axis=-1))), path.shape[:2])
        alphas = grids[chosen]
        if self._searches_l1_ratio:
            self.l1_ratio_ = settings[chosen]["l1_ratio"]
        if not (self._searches_l1_ratio and np.ndim(self.l1_ratio)):
            # One setting given as such: the path of the alphas alone.
            grids, path = grids[0], path[0]
        self.alphas_ = grids
        self.alpha_ = float(alphas[best])
        if is_classifier(self) or self.scoring is not None:
            self.scores_ = path
        else:
            self.mse_path_ = -path
        # Refit on all the data at the chosen alpha, warm-started along the
        # path down to it (cheaper than a cold fit at a small alpha).
        self._validate_fit(X, y, sample_weight)  # n_features_in_, tasks_, ...
        final = est.set_params(**settings[chosen], alpha=self.alpha_)
        _run_path(final, loss, alphas[: best + 1])
        self.estimator_ = final
        return self


_CV_PARAMETERS = """\
    alphas : array-like of shape (n_alphas,), default=None
        The alphas to try. None: ``n_alphas`` values log-spaced from
        :func:`alpha_max` (on all the data) down to ``eps * alpha_max``.

    n_alphas : int, default=50
        Length of the automatic grid.

    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the automatic grid.

    cv : int, cross-validation generator or iterable, default=None
        Splitting strategy, as in scikit-learn (None: 5-fold). In the long
        layout None or an int means
        :class:`skmtl.model_selection.TaskStratifiedKFold` on the task column,
        so that every task is in every training fold.

    scoring : str, callable or None, default=None
        Validation score, higher is better: a scikit-learn scoring name or a
        scorer ``scorer(estimator, X, y)`` (for instance
        :data:`skmtl.metrics.task_r2_scorer`, or ``"roc_auc"`` for one binary
        task). None: the mean over tasks of each task's mean squared error
        (regressors) or log loss (classifiers; not the accuracy, which on a
        rare class prefers the model that never predicts it), lower is
        better.

    n_jobs : int, default=None
        Folds run in parallel with joblib (``-1``: all cores).

{common}"""


class GroupLassoRegressorCV(_LinearModelCV, GroupLassoRegressor):
    _estimator_class = GroupLassoRegressor
    _estimator_params = (
        "l1_ratio", "norm", "positive", "fit_intercept", "task_weights",
        "task_column", "max_iter", "tol", "solver",
    )  # fmt: skip
    _parameter_constraints = {
        **{k: v for k, v in GroupLassoRegressor._parameter_constraints.items() if k not in ("alpha", "warm_start")},
        **_LinearModelCV._cv_constraints,
    }

    def __init__(
        self,
        *,
        alphas=None,
        n_alphas=50,
        eps=1e-3,
        cv=None,
        scoring=None,
        n_jobs=None,
        l1_ratio=1.0,
        norm="l2",
        positive=False,
        fit_intercept=True,
        task_weights=None,
        task_column=None,
        max_iter=1000,
        tol=1e-4,
        solver="auto",
    ):
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.l1_ratio = l1_ratio
        self.norm = norm
        self.positive = positive
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver

    def _fit(self, X, y, sample_weight):
        return self._fit_cv(X, y, sample_weight)


_CV_ATTRIBUTES = """\
    alpha_ : float
        The alpha with the best mean validation score.

{alphas}

{path}

    estimator_ : {name}
        The model refitted on all the data at ``alpha_``.

    coef_, intercept_, n_iter_, stop_crit_, dual_gap_, objective_
        Those of ``estimator_`` (read through it).

    tasks_ : ndarray of shape (n_tasks,)
        Task labels.

    n_tasks_ : int
        Number of tasks.

    n_features_in_ : int
        Number of columns of ``X`` seen in fit, the task column included.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of ``X`` when it was a DataFrame with string names."""

_ALPHAS = """\
    alphas_ : ndarray of shape (n_alphas,)
        The alphas tried, in decreasing order."""

_MSE_PATH = """\
    mse_path_ : ndarray of shape (n_alphas, n_folds)
        Validation error of each alpha on each fold: the mean over tasks of
        each task's mean squared error on its labeled test rows. With a
        ``scoring``, ``scores_`` (higher is better) instead."""

_SCORES = """\
    scores_ : ndarray of shape (n_alphas, n_folds)
        Validation score of each alpha on each fold: minus the mean over
        tasks of each task's log loss on its labeled test rows, or the
        ``scoring`` (higher is better).

    classes_ : ndarray or list of ndarray
        As in :class:`GroupLassoClassifier`.

    coef_indptr_ : ndarray of shape (n_tasks + 1,)
        As in :class:`GroupLassoClassifier`."""

_CV_NOTES = """\
    Notes
    -----
    The grid is computed once on all the data; every fold runs the whole
    path with warm starts (largest alpha first). The refit on all the data
    also walks the path down to ``alpha_`` with warm starts.
    Convergence warnings inside the folds are silenced; the refit warns."""

GroupLassoRegressorCV.__doc__ = f"""Group lasso regressor with ``alpha`` chosen by cross-validation.

    Same model and objective as :class:`GroupLassoRegressor`.

    Read more in the :ref:`User Guide <linear_model>`.

    Parameters
    ----------
{_CV_PARAMETERS.format(common=_COMMON_PARAMETERS.split("    warm_start")[0].rstrip())}

    norm : {{"l2", "linf"}}, default="l2"
        As in :class:`GroupLassoRegressor`.

    positive : bool, default=False
        As in :class:`GroupLassoRegressor`.

    Attributes
    ----------
{_CV_ATTRIBUTES.format(alphas=_ALPHAS, path=_MSE_PATH, name="GroupLassoRegressor")}

    See Also
    --------
    GroupLassoRegressor, group_lasso_path, TraceNormRegressorCV

{_CV_NOTES}

    Examples
    --------
    >>> from skmtl.datasets import make_sparse_multitask
    >>> from skmtl.linear_model import GroupLassoRegressorCV
    >>> X, Y, truth = make_sparse_multitask(n_samples=80, n_features=30, n_tasks=4,
    ...                                     n_informative=3, random_state=0)
    >>> model = GroupLassoRegressorCV(n_alphas=10, cv=3).fit(X, Y)
    >>> model.mse_path_.shape
    (10, 3)
    >>> bool(model.alpha_ in model.alphas_)
    True
    """


class GroupLassoClassifierCV(_LinearModelCV, GroupLassoClassifier):
    _estimator_class = GroupLassoClassifier
    _estimator_params = GroupLassoRegressorCV._estimator_params
    _parameter_constraints = GroupLassoRegressorCV._parameter_constraints

    __init__ = GroupLassoRegressorCV.__init__

    def _fit(self, X, y, sample_weight):
        return self._fit_cv(X, y, sample_weight)


GroupLassoClassifierCV.__doc__ = f"""Group lasso classifier with ``alpha`` chosen by cross-validation.

    Same model and objective as :class:`GroupLassoClassifier`; the alpha
    with the lowest mean per-task log loss is kept.

    Read more in the :ref:`User Guide <linear_model>`.

    Parameters
    ----------
{_CV_PARAMETERS.format(common=_COMMON_PARAMETERS.split("    warm_start")[0].rstrip())}

    norm : {{"l2", "linf"}}, default="l2"
        As in :class:`GroupLassoClassifier`.

    positive : bool, default=False
        As in :class:`GroupLassoClassifier`.

    Attributes
    ----------
{_CV_ATTRIBUTES.format(alphas=_ALPHAS, path=_SCORES, name="GroupLassoClassifier")}

    See Also
    --------
    GroupLassoClassifier, GroupLassoRegressorCV

{_CV_NOTES}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import GroupLassoClassifierCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(90, 6)
    >>> Y = np.column_stack([X[:, 0] > 0, X[:, 0] + X[:, 1] > 0]).astype(int)
    >>> model = GroupLassoClassifierCV(n_alphas=5, cv=3).fit(X, Y)
    >>> model.scores_.shape
    (5, 3)
    """


class TraceNormRegressorCV(_LinearModelCV, TraceNormRegressor):
    _estimator_class = TraceNormRegressor
    _estimator_params = ("l1_ratio", "fit_intercept", "task_weights", "task_column", "max_iter", "tol", "solver")
    _parameter_constraints = {
        **{k: v for k, v in TraceNormRegressor._parameter_constraints.items() if k not in ("alpha", "warm_start")},
        **_LinearModelCV._cv_constraints,
    }

    def __init__(
        self,
        *,
        alphas=None,
        n_alphas=50,
        eps=1e-3,
        cv=None,
        scoring=None,
        n_jobs=None,
        l1_ratio=1.0,
        fit_intercept=True,
        task_weights=None,
        task_column=None,
        max_iter=1000,
        tol=1e-4,
        solver="auto",
    ):
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver

    def _fit(self, X, y, sample_weight):
        return self._fit_cv(X, y, sample_weight)


TraceNormRegressorCV.__doc__ = f"""Trace-norm regressor with ``alpha`` chosen by cross-validation.

    Same model and objective as :class:`TraceNormRegressor`.

    Read more in the :ref:`User Guide <linear_model>`.

    Parameters
    ----------
{_CV_PARAMETERS.format(common=_COMMON_PARAMETERS.split("    warm_start")[0].rstrip())}

    solver : {{"auto", "fista"}}, default="auto"
        As in :class:`TraceNormRegressor`.

    Attributes
    ----------
{_CV_ATTRIBUTES.format(alphas=_ALPHAS, path=_MSE_PATH, name="TraceNormRegressor")}

    See Also
    --------
    TraceNormRegressor, trace_norm_path, GroupLassoRegressorCV

{_CV_NOTES}

    Examples
    --------
    >>> from skmtl.datasets import make_low_rank_multitask
    >>> from skmtl.linear_model import TraceNormRegressorCV
    >>> X, Y, truth = make_low_rank_multitask(n_samples=60, n_features=10, n_tasks=5,
    ...                                       rank=2, random_state=0)
    >>> model = TraceNormRegressorCV(n_alphas=8, cv=3).fit(X, Y)
    >>> model.mse_path_.shape
    (8, 3)
    """


class SparseGroupLassoRegressorCV(_LinearModelCV, SparseGroupLassoRegressor):
    _estimator_class = SparseGroupLassoRegressor
    _estimator_params = ("l1_ratio", "fit_intercept", "task_weights", "task_column", "max_iter", "tol", "solver")
    _parameter_constraints = {
        **{
            k: v
            for k, v in SparseGroupLassoRegressor._parameter_constraints.items()
            if k not in ("alpha", "warm_start", "l1_ratio")
        },
        "l1_ratio": [Interval(numbers.Real, 0, 1, closed="both"), "array-like"],
        **_LinearModelCV._cv_constraints,
    }
    _searches_l1_ratio = True

    def __init__(
        self,
        *,
        l1_ratio=0.5,
        alphas=None,
        n_alphas=50,
        eps=1e-3,
        cv=None,
        scoring=None,
        n_jobs=None,
        fit_intercept=True,
        task_weights=None,
        task_column=None,
        max_iter=1000,
        tol=1e-4,
        solver="auto",
    ):
        self.l1_ratio = l1_ratio
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.n_jobs = n_jobs
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver

    def _fit(self, X, y, sample_weight):
        return self._fit_cv(X, y, sample_weight)


class SparseGroupLassoClassifierCV(_LinearModelCV, SparseGroupLassoClassifier):
    _estimator_class = SparseGroupLassoClassifier
    _estimator_params = SparseGroupLassoRegressorCV._estimator_params
    _parameter_constraints = SparseGroupLassoRegressorCV._parameter_constraints
    _searches_l1_ratio = True

    __init__ = SparseGroupLassoRegressorCV.__init__

    def _fit(self, X, y, sample_weight):
        return self._fit_cv(X, y, sample_weight)


_SGL_L1_RATIO = """\
    l1_ratio : float or array-like of float in [0, 1], default=0.5
        Share of the L1 norm in the penalty, as in :class:`{name}`.
        A list is cross-validated with ``alpha`` (as scikit-learn's
        ``ElasticNetCV``): each value gets its own alpha grid
        (``alpha_max`` depends on it) and the pair with the best mean
        validation score is kept."""

_SGL_ALPHAS = """\
    l1_ratio_ : float
        The ``l1_ratio`` kept.

    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
        The alphas tried, in decreasing order; one row per ``l1_ratio``
        when a list was given (the paths below then have a first axis of
        length ``n_l1_ratio`` too)."""


def _sgl_cv_doc(kind, name, path, example):
    common = "    fit_intercept" + _COMMON_PARAMETERS.split("    fit_intercept", 1)[1].split("    warm_start")[0].rstrip()
    return f"""Sparse group lasso {kind} with ``alpha`` and ``l1_ratio`` chosen by cross-validation.

    Same model and objective as :class:`{name}`.

    Read more in the :ref:`User Guide <linear_model>`.

    Parameters
    ----------
{_SGL_L1_RATIO.format(name=name)}

{_CV_PARAMETERS.format(common=common)}

    solver : {{"auto", "fista", "working_set"}}, default="auto"
        As in :class:`{name}`.

    Attributes
    ----------
{_CV_ATTRIBUTES.format(alphas=_SGL_ALPHAS, path=path, name=name)}

    See Also
    --------
    {name}, GroupLassoRegressorCV, GroupLassoClassifierCV

{_CV_NOTES}
    With a list of ``l1_ratio`` values each fold builds its loss once and
    runs one path per value.

    Examples
    --------
{example}
    """


SparseGroupLassoRegressorCV.__doc__ = _sgl_cv_doc(
    "regressor",
    "SparseGroupLassoRegressor",
    _MSE_PATH,
    """\
    >>> from skmtl.datasets import make_sparse_multitask
    >>> from skmtl.linear_model import SparseGroupLassoRegressorCV
    >>> X, Y, truth = make_sparse_multitask(n_samples=80, n_features=30, n_tasks=4,
    ...                                     n_informative=3, random_state=0)
    >>> model = SparseGroupLassoRegressorCV(l1_ratio=[0.2, 0.8], n_alphas=10, cv=3).fit(X, Y)
    >>> model.mse_path_.shape
    (2, 10, 3)
    >>> bool(model.l1_ratio_ in (0.2, 0.8))
    True""",
)

SparseGroupLassoClassifierCV.__doc__ = _sgl_cv_doc(
    "classifier",
    "SparseGroupLassoClassifier",
    _SCORES.replace("GroupLassoClassifier", "SparseGroupLassoClassifier"),
    """\
    >>> import numpy as np
    >>> from skmtl.linear_model import SparseGroupLassoClassifierCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(90, 6)
    >>> Y = np.column_stack([X[:, 0] > 0, X[:, 0] + X[:, 1] > 0]).astype(int)
    >>> model = SparseGroupLassoClassifierCV(n_alphas=5, cv=3).fit(X, Y)
    >>> model.scores_.shape
    (5, 3)""",
)
