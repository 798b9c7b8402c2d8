"""Scorers ``scorer(estimator, X, y)`` for ``GridSearchCV`` / ``cross_val_score``.

A scikit-learn scorer sees only ``(estimator, X, y)``. A multi-task scorer
also needs each row's task in the long layout: it reads the estimator's
``task_column`` and takes the labels from that column of ``X`` with
:func:`skmtl._data.split_task_column`, the same code the estimator uses. In
the wide layout (``task_column=None``) every column of ``y`` is a task,
scored on its observed (non-NaN) rows.
"""

import inspect
import numbers

import numpy as np

from .._data import split_task_column
from ._classification import averaged_auc
from ._per_task import _METRICS, _average, _collect, _Entries, _loop, _resolve_metric
from ._regression import multitask_explained_variance, normalized_mse

__all__ = [
    "averaged_auc_scorer",
    "explained_variance_scorer",
    "get_task_scorer",
    "get_task_scorer_names",
    "make_task_scorer",
    "neg_normalized_mse_scorer",
    "neg_task_mse_scorer",
    "neg_task_rmse_scorer",
    "task_accuracy_scorer",
    "task_r2_scorer",
]

_RESPONSE_METHODS = ("predict", "predict_proba", "decision_function")
_PER_TASK_AVERAGES = ("mean", "weighted", "pooled")


def _find_task_column(estimator):
    """The ``task_column`` that applies to the ``X`` given to ``estimator``.

    A Pipeline receives the raw ``X``, so its first step's task column is
    the one that applies (a TaskwiseStandardScaler, say); if the first step
    has none, the final estimator's is used. Meta-estimators without the
    parameter (``GridSearchCV`` in nested CV) defer to their ``estimator``.
    """
    if hasattr(estimator, "task_column"):
        return estimator.task_column
    steps = getattr(estimator, "steps", None)
    if steps:
        for _, step in (steps[0], steps[-1]):
            if step is not None and step != "passthrough":
                task_column = _find_task_column(step)
                if task_column is not None:
                    return task_column
        return None
    inner = getattr(estimator, "estimator", None)
    if inner is not None and not isinstance(inner, str):
        return _find_task_column(inner)
    return None


def _positive_scores(proba, y_true, estimator_name):
    """Positive-class probabilities, one per (row, task), from ``predict_proba``.

    Accepted outputs: a list of (n_samples, 2) arrays, one per task (as
    scikit-learn's multi-output classifiers); an (n_samples, 2) array for a
    single task or the long layout; an (n_samples, n_tasks) array already
    holding positive-class probabilities for a wide ``y``.
    """
    if isinstance(proba, (list, tuple)):
        return np.column_stack([_positive_scores(p, None, estimator_name) for p in proba])
    proba = np.asarray(proba)
    wide = y_true is not None and np.ndim(y_true) == 2 and np.shape(y_true)[1] > 1
    if proba.ndim == 1 or (wide and proba.shape == np.shape(y_true)):
        return proba
    if proba.ndim == 2 and proba.shape[1] == 2:
        return proba[:, 1]
    raise ValueError(
        f"{estimator_name}.predict_proba returned an array of shape {proba.shape}; "
        "a task scorer needs two classes per task (binary tasks)."
    )


def _get_response(estimator, X, response_method, y_true):
    for method in response_method:
        if hasattr(estimator, method):
            break
    else:
        raise AttributeError(
            f"{type(estimator).__name__} has none of the response methods "
            f"{list(response_method)} required by this scorer."
        )
    response = getattr(estimator, method)(X)
    if method == "predict_proba":
        response = _positive_scores(response, y_true, type(estimator).__name__)
    elif isinstance(response, list):
        # Wide layout: one decision_function array per task, binary tasks
        # give one score column each.
        response = np.column_stack(response)
    return response


def _pooled(entries):
    """All entries as one task: for ``average="pooled"``."""
    m = len(entries.codes)
    return _Entries(
        tasks=np.array(["pooled"]),
        layout="long",
        codes=np.zeros(m, dtype=np.intp),
        rows=entries.rows,
        y_true=entries.y_true,
        y_pred=entries.y_pred,
        weight=entries.weight,
        indptr=np.array([0, m]),
    )


class _TaskScorer:
    """Callable ``scorer(estimator, X, y_true, sample_weight=None) -> float``.

    Built by :func:`make_task_scorer`; see there.
    """

    def __init__(self, metric, *, sign, average, response_method, task_column, kwargs):
        self._metric = metric
        self._sign = sign
        self._average = average
        self._response_method = response_method
        self._task_column = task_column
        self._kwargs = kwargs
        self._task_aware = callable(metric) and "tasks" in _parameters(metric)
        # Only the metric itself is stored (no closures), so the scorer
        # pickles for GridSearchCV(n_jobs=...) whenever the metric does.
        if isinstance(metric, str):
            self._name = metric
        else:
            self._name = getattr(metric, "__name__", type(metric).__name__)

    def _per_task(self, entries):
        if isinstance(self._metric, str):
            return _METRICS[self._metric][0](entries)
        return _loop(entries, self._metric, **self._kwargs)

    def _task_labels(self, estimator, X):
        task_column = self._task_column
        if task_column is None:
            task_column = _find_task_column(estimator)
        if task_column is None:
            return None
        return split_task_column(X, task_column)[1]

    def score(self, y_true, y_pred, tasks=None, sample_weight=None):
        """The signed score of predictions (without calling an estimator)."""
        return self._sign * self._score(y_true, y_pred, tasks, sample_weight)

    def _score(self, y_true, y_pred, tasks, sample_weight):
        if self._task_aware:
            kwargs = dict(self._kwargs)
            if "average" in _parameters(self._metric):
                kwargs["average"] = self._average
            value = self._metric(y_true, y_pred, tasks=tasks, sample_weight=sample_weight, **kwargs)
            if np.ndim(value) != 0:
                raise ValueError(
                    f"{self._name} returned an array of shape {np.shape(value)}; "
                    "a scorer needs one number (choose an average that returns one)."
                )
            return float(value)
        entries = _collect(y_true, y_pred, tasks, sample_weight)
        if self._average == "pooled":
            return float(self._per_task(_pooled(entries))[0])
        return _average(self._per_task(entries), entries, self._average, _PER_TASK_AVERAGES)

    def __call__(self, estimator, X, y_true, sample_weight=None):
        """Score ``estimator`` on ``X`` against ``y_true``.

        Parameters
        ----------
        estimator : fitted estimator
            Its ``task_column`` (or the scorer's own) says where the task
            labels are in ``X``; None means the wide layout.
        X : array-like, sparse matrix or DataFrame
        y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
            Greater is better (losses are negated).
        """
        tasks = self._task_labels(estimator, X)
        y_pred = _get_response(estimator, X, self._response_method, y_true)
        return self.score(y_true, y_pred, tasks, sample_weight)

    def __repr__(self):
        parts = [self._name]
        if self._sign < 0:
            parts.append("greater_is_better=False")
        if self._average != "mean":
            parts.append(f"average={self._average!r}")
        if self._response_method != ("predict",):
            methods = self._response_method
            parts.append(f"response_method={methods[0] if len(methods) == 1 else methods!r}")
        if self._task_column is not None:
            parts.append(f"task_column={self._task_column!r}")
        parts += [f"{key}={value!r}" for key, value in self._kwargs.items()]
        return f"make_task_scorer({', '.join(parts)})"


def _parameters(func):
    try:
        return inspect.signature(func).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return {}


def make_task_scorer(
    metric,
    *,
    greater_is_better=None,
    average="mean",
    response_method="predict",
    task_column=None,
    **kwargs,
):
    """Make a multi-task scorer for ``GridSearchCV(scoring=...)`` and friends.

    The scorer is called as ``scorer(estimator, X, y)``. It predicts with
    ``response_method``, finds each row's task and scores every task on its
    labeled rows:

    * long layout (``estimator.task_column`` set, or ``task_column`` given
      here): the task labels are read from that column of ``X`` (a position,
      or a name for a DataFrame) with :func:`skmtl._data.split_task_column`;
    * wide layout (``task_column=None``): each column of ``y`` is a task,
      scored on its observed rows (NaN labels are skipped).

    For a :class:`~sklearn.pipeline.Pipeline` the task column of the first
    step (which sees the raw ``X``) is used, else the final estimator's.

    Parameters
    ----------
    metric : str or callable
        A per-task metric: a name accepted by :func:`per_task_score`
        (``"r2"``, ``"mse"``, ``"rmse"``, ``"mae"``, ``"nmse"``,
        ``"explained_variance"``, ``"accuracy"``, ``"balanced_accuracy"``,
        ``"roc_auc"``) or a callable ``metric(y_true, y_pred,
        sample_weight=None, **kwargs) -> float`` applied to each task,
        combined across tasks by ``average``. A callable with a ``tasks``
        parameter (:func:`normalized_mse`,
        :func:`multitask_explained_variance`, :func:`mean_task_rmse`,
        :func:`averaged_auc`, or your own
        ``metric(y_true, y_pred, tasks=None, sample_weight=None, ...)``) is
        task-aware: it is called once on all rows with the task labels
        (None in the wide layout) and ``average`` is passed on to it when it
        has that parameter.
    greater_is_better : bool, default=None
        False for losses: the scorer then returns the negated value, as
        scikit-learn's ``neg_*`` scorers. None: inferred from a metric name
        (False for ``"mse"``, ``"rmse"``, ``"mae"`` and ``"nmse"``), True
        for a callable.
    average : str, default="mean"
        Per-task metrics: ``"mean"`` (equal task weights), ``"weighted"``
        (by each task's number of labeled rows) or ``"pooled"`` (the metric
        on all labeled entries stacked, ignoring tasks). Task-aware metrics:
        forwarded as their ``average``.
    response_method : {"predict", "predict_proba", "decision_function"} or \
            tuple of them, default="predict"
        The estimator method giving ``y_pred``; with a tuple, the first one
        the estimator has. ``predict_proba`` output is reduced to the
        positive-class probability of each task: a list of (n, 2) arrays
        (one per task), an (n, 2) array (one task, or the long layout) or an
        (n, n_tasks) array of positive-class probabilities (wide) are
        understood.
    task_column : int or str, default=None
        Where the task labels are in ``X``, overriding the estimator's
        ``task_column``; needed when the estimator (e.g. a Pipeline whose
        first step is not task-aware) does not tell.
    **kwargs
        Extra keyword arguments of ``metric`` (callables only).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, sample_weight=None) -> float``; also
        ``scorer.score(y_true, y_pred, tasks=None, sample_weight=None)``.

    See Also
    --------
    get_task_scorer : the ready-made scorers by name.

    Examples
    --------
    >>> from sklearn.metrics import mean_absolute_error
    >>> from skmtl.metrics import make_task_scorer, normalized_mse
    >>> make_task_scorer(mean_absolute_error, greater_is_better=False)
    make_task_scorer(mean_absolute_error, greater_is_better=False)
    >>> make_task_scorer(normalized_mse, greater_is_better=False, average="aggregate")
    make_task_scorer(normalized_mse, greater_is_better=False, average='aggregate')
    """
    if greater_is_better is None:
        greater_is_better = _METRICS[metric][1] if isinstance(metric, str) and metric in _METRICS else True
    if not isinstance(greater_is_better, (bool, np.bool_)):
        raise TypeError(f"greater_is_better must be a bool or None; got {greater_is_better!r}.")
    methods = (response_method,) if isinstance(response_method, str) else tuple(response_method)
    unknown = [m for m in methods if m not in _RESPONSE_METHODS]
    if not methods or unknown:
        raise ValueError(
            f"response_method={response_method!r} is not valid; use one of "
            f"{_RESPONSE_METHODS} or a tuple of them."
        )
    if task_column is not None and not isinstance(task_column, (numbers.Integral, str)):
        raise TypeError(
            f"task_column must be an int, a column name or None; got {task_column!r}."
        )
    task_aware = callable(metric) and "tasks" in _parameters(metric)
    if not task_aware:
        if average not in _PER_TASK_AVERAGES:
            raise ValueError(
                f"average={average!r} is not valid for a per-task metric; use one of "
                f"{_PER_TASK_AVERAGES}."
            )
        _resolve_metric(metric)  # raises for an unknown name or a non-callable
        if kwargs and isinstance(metric, str):
            raise TypeError(
                f"Extra arguments {sorted(kwargs)} are not accepted with the metric "
                f"name {metric!r}; pass a callable instead."
            )
    return _TaskScorer(
        metric,
        sign=1 if greater_is_better else -1,
        average=average,
        response_method=methods,
        task_column=task_column,
        kwargs=kwargs,
    )


task_r2_scorer = make_task_scorer("r2")
task_accuracy_scorer = make_task_scorer("accuracy")
neg_task_mse_scorer = make_task_scorer("mse")
neg_task_rmse_scorer = make_task_scorer("rmse")
explained_variance_scorer = make_task_scorer(multitask_explained_variance, average="pooled")
neg_normalized_mse_scorer = make_task_scorer(
    normalized_mse, greater_is_better=False, average="aggregate"
)
averaged_auc_scorer = make_task_scorer(
    averaged_auc, response_method=("decision_function", "predict_proba")
)

_SCORERS = {
    "task_r2": task_r2_scorer,
    "task_accuracy": task_accuracy_scorer,
    "neg_task_mse": neg_task_mse_scorer,
    "neg_task_rmse": neg_task_rmse_scorer,
    "explained_variance": explained_variance_scorer,
    "neg_normalized_mse": neg_normalized_mse_scorer,
    "averaged_auc": averaged_auc_scorer,
}


def get_task_scorer(scoring):
    """A ready-made multi-task scorer by name (or a callable, returned as is).

    ======================== =============================================
    name                     score
    ======================== =============================================
    ``"task_r2"``            mean over tasks of R^2
    ``"task_accuracy"``      mean over tasks of accuracy
    ``"neg_task_mse"``       minus the mean over tasks of MSE
    ``"neg_task_rmse"``      minus :func:`mean_task_rmse`
    ``"explained_variance"`` :func:`multitask_explained_variance`, pooled
                             (the School benchmark's definition)
    ``"neg_normalized_mse"`` minus :func:`normalized_mse`, aggregate form
    ``"averaged_auc"``       :func:`averaged_auc` of ``decision_function``
                             (or ``predict_proba``)
    ======================== =============================================

    Each is also a module constant, ``<name>_scorer`` (e.g.
    ``task_r2_scorer``). Pass the scorer object, not the name, to
    scikit-learn: ``GridSearchCV(model, grid, scoring=get_task_scorer("task_r2"))``
    (scikit-learn's own string names know nothing of tasks).

    Parameters
    ----------
    scoring : str or callable

    Returns
    -------
    scorer : callable
    """
    if callable(scoring):
        return scoring
    if isinstance(scoring, str) and scoring in _SCORERS:
        return _SCORERS[scoring]
    raise ValueError(
        f"{scoring!r} is not a multi-task scorer name; valid names are "
        f"{get_task_scorer_names()}, or use make_task_scorer."
    )


def get_task_scorer_names():
    """Names accepted by :func:`get_task_scorer`, sorted.

    Returns
    -------
    names : list of str
    """
    return sorted(_SCORERS)
