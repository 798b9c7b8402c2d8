"""Per-task scoring: the loop shared by ``score`` methods and ``skmtl.metrics``.

Both layouts are first reduced to one representation, :class:`_Entries`:
every labeled (row, task) pair as one entry, grouped by task. Wide layout
(``tasks=None``): ``y`` is (n_samples, n_tasks) and a NaN/None label is not an
entry. Long layout: ``tasks`` gives each row's task label and every row is an
entry. The named metrics (R^2, MSE, nMSE, accuracy, ROC AUC, ...) are then
segment sums (``np.bincount``) over all tasks at once, so scoring thousands
of tasks costs about as much as scoring one; a user's callable is called once
per task.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils.multiclass import check_classification_targets

from .._data import _homogeneous, _missing, _normalize_task_labels, _preview, _show

__all__ = ["TaskScoreTable", "per_task_score", "task_scores"]


# --------------------------------------------------------------------------
# One representation of labeled entries for both layouts
# --------------------------------------------------------------------------


@dataclass
class _Entries:
    """Every labeled (row, task) pair, grouped by task.

    Entries of task ``t`` are ``slice(indptr[t], indptr[t + 1])`` of
    ``y_true``, ``y_pred``, ``weight``, ``rows`` and ``codes``.
    """

    tasks: np.ndarray  # (n_tasks,) task labels: column positions (wide) or sorted labels (long)
    layout: str
    codes: np.ndarray  # (n_entries,) task position of each entry, non-decreasing
    rows: np.ndarray  # (n_entries,) row of each entry in the input
    y_true: np.ndarray
    y_pred: np.ndarray
    weight: np.ndarray | None
    indptr: np.ndarray  # (n_tasks + 1,)

    @property
    def n_tasks(self):
        return len(self.tasks)

    @property
    def n_samples(self):
        """Number of labeled entries of each task."""
        return np.diff(self.indptr)

    @property
    def total_weight(self):
        """Sum of sample weights per task (the entry count when unweighted)."""
        if self.weight is None:
            return self.n_samples.astype(np.float64)
        return self.task_sum(self.weight)

    def name(self, t):
        if self.layout == "wide":
            return f"task {t} (column {t} of y_true)"
        return f"task {_show(self.tasks[t])}"

    def task_slices(self):
        return [slice(a, b) for a, b in zip(self.indptr[:-1], self.indptr[1:])]

    def task_sum(self, values):
        """Per-task sums of ``values`` (one value per entry), shape (n_tasks,)."""
        return np.bincount(self.codes, weights=values, minlength=self.n_tasks)

    def weighted(self, values):
        return values if self.weight is None else self.weight * values


def _as_1d_labels(y, name):
    if y.ndim == 2 and y.shape[1] == 1:
        return y.ravel()
    if y.ndim != 1:
        raise ValueError(
            f"With per-row task labels (long layout), {name} must be 1-D; got shape {y.shape}."
        )
    return y


def _collect(y_true, y_pred, tasks=None, sample_weight=None, *, pred_name="y_pred"):
    """Validate both layouts and return the labeled entries as :class:`_Entries`.

    A wide task without any labeled row and, in the long layout, a missing
    label raise: a score that silently ignores a task would mislead.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    shape_true, shape_pred = y_true.shape, y_pred.shape
    if y_true.ndim not in (1, 2):
        raise ValueError(f"y_true must be 1-D or 2-D; got shape {shape_true}.")
    n = y_true.shape[0]
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.shape != (n,):
            raise ValueError(
                f"sample_weight has shape {sample_weight.shape}; expected ({n},), "
                "one weight per row."
            )
        if not np.all(np.isfinite(sample_weight)) or np.any(sample_weight < 0):
            raise ValueError("sample_weight must be finite and non-negative.")

    if tasks is None:
        if y_true.ndim == 1:
            y_true = y_true[:, None]
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"y_true and {pred_name} have different shapes: {shape_true} and {shape_pred}."
            )
        mask = ~_missing(y_true)
        empty = np.flatnonzero(~mask.any(axis=0))
        if len(empty):
            raise ValueError(
                f"task {empty[0]} (column {empty[0]} of y_true) has no labeled rows "
                "(all labels missing); it cannot be scored."
            )
        # Column-major nonzero lists the entries task by task, rows increasing.
        codes, rows = np.nonzero(mask.T)
        labels = np.arange(y_true.shape[1])
        layout = "wide"
        yt, yp = y_true[rows, codes], y_pred[rows, codes]
    else:
        tasks = np.asarray(tasks)
        if tasks.ndim != 1:
            tasks = tasks.reshape(-1)
        if tasks.shape[0] != n:
            raise ValueError(f"tasks has {tasks.shape[0]} entries but y_true has {n} rows.")
        y_true = _as_1d_labels(y_true, "y_true")
        y_pred = _as_1d_labels(y_pred, pred_name)
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"y_true and {pred_name} have different shapes: {shape_true} and {shape_pred}."
            )
        missing = _missing(y_true)
        if missing.any():
            raise ValueError(
                f"y_true contains {int(missing.sum())} missing label(s) (NaN/None); "
                "in the long layout every row is one (sample, task) label."
            )
        try:
            labels, codes = np.unique(_normalize_task_labels(tasks), return_inverse=True)
        except TypeError as exc:
            raise ValueError(
                "Task labels could not be sorted; use labels of one type "
                "(all numbers or all strings)."
            ) from exc
        codes = codes.reshape(-1)
        rows = np.argsort(codes, kind="stable")
        codes = codes[rows]
        layout = "long"
        yt, yp = y_true[rows], y_pred[rows]
    indptr = np.searchsorted(codes, np.arange(len(labels) + 1))
    return _Entries(
        tasks=labels,
        layout=layout,
        codes=codes,
        rows=rows,
        y_true=yt,
        y_pred=yp,
        weight=None if sample_weight is None else sample_weight[rows],
        indptr=indptr,
    )


def _check_continuous(entries, pred_name="y_pred"):
    """Cast the entries to float64 and require finite values."""
    try:
        entries.y_true = entries.y_true.astype(np.float64)
        entries.y_pred = entries.y_pred.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "y_true and y_pred must hold numbers for a regression metric."
        ) from exc
    for values, name in ((entries.y_true, "y_true"), (entries.y_pred, pred_name)):
        bad = ~np.isfinite(values)
        if bad.any():
            t = entries.codes[np.argmax(bad)]
            raise ValueError(
                f"{name} contains NaN or infinity at a labeled entry of "
                f"{entries.name(t)}."
            )
    return entries


# --------------------------------------------------------------------------
# Closed-form regression statistics, all tasks at once
# --------------------------------------------------------------------------


def _regression_stats(entries):
    """Per-task weighted sums used by every regression metric.

    Returns a dict of arrays of shape (n_tasks,): ``weight`` (sum of
    weights), ``sse`` (sum of w (y - y_hat)^2), ``sst`` (sum of
    w (y - mean_t(y))^2, the task's own weighted mean), ``sae`` (sum of
    w |y - y_hat|) and ``sse_centered`` (sum of w (e - mean_t(e))^2 with
    e = y - y_hat, the numerator of explained_variance_score).
    """
    _check_continuous(entries)
    total = entries.total_weight
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = entries.task_sum(entries.weighted(entries.y_true)) / total
        err = entries.y_true - entries.y_pred
        mean_err = entries.task_sum(entries.weighted(err)) / total
    centered = entries.y_true - mean[entries.codes]
    return {
        "weight": total,
        "sse": entries.task_sum(entries.weighted(err**2)),
        "sst": entries.task_sum(entries.weighted(centered**2)),
        "sae": entries.task_sum(entries.weighted(np.abs(err))),
        "sse_centered": entries.task_sum(
            entries.weighted((err - mean_err[entries.codes]) ** 2)
        ),
    }


def _one_minus_ratio(numerator, denominator, entries, metric_name):
    """``1 - numerator / denominator`` with scikit-learn's finite conventions.

    As ``sklearn.metrics.r2_score(force_finite=True)``: a task with constant
    targets scores 1.0 when predicted perfectly and 0.0 otherwise; a task
    with fewer than two labeled rows scores NaN (with a warning).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = 1.0 - numerator / denominator
    constant = denominator == 0
    scores[constant] = np.where(numerator[constant] == 0, 1.0, 0.0)
    too_small = entries.n_samples < 2
    if too_small.any():
        names = ", ".join(entries.name(t) for t in np.flatnonzero(too_small)[:5])
        warnings.warn(
            f"{metric_name} is not well-defined with fewer than two labeled "
            f"rows; NaN returned for {names}.",
            UndefinedMetricWarning,
            stacklevel=3,
        )
        scores[too_small] = np.nan
    return scores


def _nmse_per_task(stats, entries):
    """MSE_t / Var_t = sse_t / sst_t; a constant task gives inf (0 if exact)."""
    sse, sst = stats["sse"], stats["sst"]
    with np.errstate(invalid="ignore", divide="ignore"):
        nmse = sse / sst
    constant = sst == 0
    if constant.any():
        nmse[constant] = np.where(sse[constant] == 0, 0.0, np.inf)
        names = ", ".join(entries.name(t) for t in np.flatnonzero(constant)[:5])
        warnings.warn(
            f"Zero target variance for {names}: its normalized MSE is "
            "infinite (0 when predicted exactly).",
            UndefinedMetricWarning,
            stacklevel=3,
        )
    return nmse


def _r2(entries):
    stats = _regression_stats(entries)
    return _one_minus_ratio(stats["sse"], stats["sst"], entries, "R^2")


def _explained_variance(entries):
    stats = _regression_stats(entries)
    return _one_minus_ratio(stats["sse_centered"], stats["sst"], entries, "Explained variance")


def _mse(entries):
    stats = _regression_stats(entries)
    return stats["sse"] / stats["weight"]


def _rmse(entries):
    return np.sqrt(_mse(entries))


def _mae(entries):
    stats = _regression_stats(entries)
    return stats["sae"] / stats["weight"]


def _nmse(entries):
    return _nmse_per_task(_regression_stats(entries), entries)


# --------------------------------------------------------------------------
# Per-task loop for user callables; vectorized classification metrics
# --------------------------------------------------------------------------


def _loop(entries, metric, **kwargs):
    """Call ``metric(y_true_t, y_pred_t[, sample_weight=w_t], **kwargs)`` per task.

    ``sample_weight`` is only passed when weights were given, so metrics
    without that parameter work unweighted.
    """
    scores = np.empty(entries.n_tasks)
    for t, part in enumerate(entries.task_slices()):
        if entries.weight is not None:
            kwargs["sample_weight"] = entries.weight[part]
        # A wide object y may hold string labels for one task and integers
        # for another; each task's own labels get their natural dtype.
        scores[t] = metric(
            _homogeneous(entries.y_true[part]), _homogeneous(entries.y_pred[part]), **kwargs
        )
    return scores


def _binary_labels(entries):
    """0/1 label of every entry (1 = the greater class of its task).

    Raises unless every task has exactly two classes among its labeled
    rows; the message names the first offending task.
    """
    try:
        classes, cls = np.unique(entries.y_true, return_inverse=True)
    except TypeError as exc:
        raise ValueError("Class labels of y_true could not be sorted; use one type.") from exc
    cls = cls.reshape(-1)
    # Distinct (task, class) pairs, sorted by task then class.
    pairs = np.unique(entries.codes * len(classes) + cls)
    task_of_pair = pairs // len(classes)
    n_classes = np.bincount(task_of_pair, minlength=entries.n_tasks)
    bad = np.flatnonzero(n_classes != 2)
    if len(bad):
        t = bad[0]
        if n_classes[t] < 2:
            only = classes[pairs[np.searchsorted(task_of_pair, t)] % len(classes)]
            raise ValueError(
                f"{entries.name(t)} has a single class ({_show(only)}) in y_true; ROC AUC "
                "is undefined for it. Use a split that keeps both classes of every "
                "task in each test set (e.g. TaskStratifiedShuffleSplit with groups "
                "combining task and class), or drop the task."
            )
        raise ValueError(
            f"{entries.name(t)} has {n_classes[t]} classes in y_true; ROC AUC needs "
            "binary labels per task."
        )
    greater = pairs[np.searchsorted(task_of_pair, np.arange(entries.n_tasks), side="right") - 1]
    return (cls == greater[entries.codes] % len(classes)).astype(np.float64)


def _roc_auc(entries):
    """ROC AUC of every task at once, as ``sklearn.metrics.roc_auc_score``.

    The AUC is the (weighted) Mann-Whitney statistic: the probability that a
    positive scores above a negative, ties counting one half, which is the
    trapezoidal area under the ROC curve scikit-learn computes:

        AUC_t = sum_{i pos, j neg} w_i w_j ([s_i > s_j] + [s_i = s_j] / 2) / (W_pos W_neg)

    Entries are sorted by (task, score) once; for each group of tied scores
    the weight of negatives strictly below it is an exclusive cumulative sum.
    """
    try:
        score = entries.y_pred.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError("y_score must hold numbers (decision values or probabilities).") from exc
    bad = ~np.isfinite(score)
    if bad.any():
        raise ValueError(
            f"y_score contains NaN or infinity for {entries.name(entries.codes[np.argmax(bad)])}."
        )
    positive = _binary_labels(entries)
    weight = np.ones_like(score) if entries.weight is None else entries.weight
    order = np.lexsort((score, entries.codes))
    codes, score = entries.codes[order], score[order]
    positive, weight = positive[order], weight[order]
    new_group = np.ones(len(score), dtype=bool)
    new_group[1:] = (codes[1:] != codes[:-1]) | (score[1:] != score[:-1])
    group = np.cumsum(new_group) - 1
    task_of_group = codes[new_group]
    neg_in_group = np.bincount(group, weight * (1 - positive))
    pos_in_group = np.bincount(group, weight * positive)
    # Negatives below each group within its task: exclusive cumsum, restarted per task.
    below = np.cumsum(neg_in_group) - neg_in_group
    first_group = np.searchsorted(task_of_group, np.arange(entries.n_tasks))
    below -= below[first_group][task_of_group]
    wins = np.bincount(
        task_of_group, pos_in_group * (below + 0.5 * neg_in_group), minlength=entries.n_tasks
    )
    pos_total = np.bincount(codes, weight * positive, minlength=entries.n_tasks)
    neg_total = np.bincount(codes, weight * (1 - positive), minlength=entries.n_tasks)
    with np.errstate(invalid="ignore", divide="ignore"):
        return wins / (pos_total * neg_total)


def _correct(entries):
    """Per-entry 1.0 where the prediction equals the label; labels must be classes."""
    check_classification_targets(entries.y_true)
    return (entries.y_true == entries.y_pred).astype(np.float64)


def _accuracy(entries):
    return entries.task_sum(entries.weighted(_correct(entries))) / entries.total_weight


def _balanced_accuracy(entries):
    """Mean over each task's classes (those in y_true) of the per-class recall."""
    correct = _correct(entries)
    classes, cls = np.unique(entries.y_true, return_inverse=True)
    pair = entries.codes * len(classes) + cls.reshape(-1)
    size = entries.n_tasks * len(classes)
    support = np.bincount(pair, entries.weighted(np.ones_like(correct)), minlength=size)
    hits = np.bincount(pair, entries.weighted(correct), minlength=size)
    present = np.bincount(pair, minlength=size) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(present, hits / support, 0.0).reshape(entries.n_tasks, -1)
    return recall.sum(axis=1) / present.reshape(entries.n_tasks, -1).sum(axis=1)


# name -> (per-task function of _Entries, greater_is_better)
_METRICS = {
    "r2": (_r2, True),
    "explained_variance": (_explained_variance, True),
    "mse": (_mse, False),
    "rmse": (_rmse, False),
    "mae": (_mae, False),
    "nmse": (_nmse, False),
    "accuracy": (_accuracy, True),
    "balanced_accuracy": (_balanced_accuracy, True),
    "roc_auc": (_roc_auc, True),
}


def _resolve_metric(metric):
    """Return ``(name, per_task_function)`` for a metric name or callable."""
    if isinstance(metric, str):
        if metric not in _METRICS:
            raise ValueError(
                f"Unknown metric {metric!r}; valid names are {sorted(_METRICS)}, "
                "or pass a callable metric(y_true, y_pred, sample_weight=None)."
            )
        return metric, _METRICS[metric][0]
    if not callable(metric):
        raise TypeError(
            f"metric must be a metric name or a callable; got {type(metric).__name__}."
        )

    def per_task(entries):
        return _loop(entries, metric)

    return getattr(metric, "__name__", type(metric).__name__), per_task


def _average(scores, entries, average, allowed):
    """Aggregate per-task ``scores`` as ``average`` says."""
    if average not in allowed:
        raise ValueError(f"average={average!r} is not one of {allowed}.")
    if average == "per_task":  # the wording of School papers for the task mean
        average = "mean"
    if average is None:
        return scores
    if average == "mean":
        return float(np.mean(scores))
    if average == "weighted":
        return float(np.average(scores, weights=entries.total_weight))
    raise AssertionError(average)  # pragma: no cover - "pooled" handled by callers


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def task_scores(y_true, y_pred, tasks, metric, *, sample_weight=None):
    """Score each task on its own labeled rows.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Wide layout when ``tasks`` is None: one column per task, NaN/None =
        missing label (the entry is skipped). Long layout: one label per row.
    y_pred : array-like of the same shape as ``y_true``
    tasks : array-like of shape (n_samples,) or None
        Task label of each row (long layout), None for the wide layout.
    metric : callable ``metric(y_true, y_pred, sample_weight=None) -> float``
        ``sample_weight`` is passed only when given. A metric name accepted
        by :func:`per_task_score` (``"r2"``, ``"rmse"``, ...) works too.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    scores : ndarray of shape (n_tasks,)
        Wide: in column order. Long: in the order of ``np.unique(tasks)``.
    """
    entries = _collect(y_true, y_pred, tasks, sample_weight)
    return _resolve_metric(metric)[1](entries)


def _label_text(label):
    return str(label.item() if isinstance(label, np.generic) else label)


class TaskScoreTable:
    """Scores of one metric per task, as returned by :func:`per_task_score`.

    Parameters
    ----------
    tasks : ndarray of shape (n_tasks,)
        Task labels: column positions (wide layout) or sorted labels (long).
    scores : ndarray of shape (n_tasks,)
    n_samples : ndarray of int of shape (n_tasks,)
        Number of labeled rows each task was scored on.
    metric : str
        Name of the metric.
    weights : ndarray of shape (n_tasks,), default=None
        Per-task weights of :attr:`weighted_mean` (sum of sample weights);
        ``n_samples`` when None.

    Attributes
    ----------
    mean : float
        Mean over tasks, each task weighted equally.
    weighted_mean : float
        Mean over tasks weighted by each task's number of labeled rows (sum
        of sample weights when they were given).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import per_task_score
    >>> y_true = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 4.0], [4.0, 5.0]])
    >>> y_pred = np.array([[1.0, 2.5], [2.0, 0.0], [3.5, 4.0], [4.0, 5.0]])
    >>> table = per_task_score(y_true, y_pred, metric="mse")
    >>> table.scores
    array([0.0625    , 0.08333333])
    >>> table.n_samples
    array([4, 3])
    """

    def __init__(self, tasks, scores, n_samples, metric, weights=None):
        self.tasks = np.asarray(tasks)
        self.scores = np.asarray(scores, dtype=np.float64)
        self.n_samples = np.asarray(n_samples)
        self.metric = metric
        self._weights = self.n_samples if weights is None else np.asarray(weights)

    @property
    def mean(self):
        return float(np.mean(self.scores))

    @property
    def weighted_mean(self):
        return float(np.average(self.scores, weights=self._weights))

    def __len__(self):
        return len(self.scores)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.scores, dtype=dtype)

    def __getitem__(self, task):
        """Score of the task labeled ``task``."""
        hits = np.flatnonzero(self.tasks == task)
        if len(hits) == 0:
            raise KeyError(f"No task {task!r}; tasks are {_preview(self.tasks)}.")
        return float(self.scores[hits[0]])

    def to_frame(self):
        """The table as a pandas DataFrame indexed by task.

        Returns
        -------
        frame : pandas.DataFrame
            Columns ``score`` and ``n_samples``; index named ``task``.
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is a test dependency
            raise ImportError("TaskScoreTable.to_frame requires pandas.") from exc
        return pd.DataFrame(
            {"score": self.scores, "n_samples": self.n_samples},
            index=pd.Index(self.tasks, name="task"),
        )

    def to_string(self, max_rows=20):
        """Text table; with more than ``max_rows`` tasks the middle is elided."""
        n = len(self)
        if max_rows is not None and n > max_rows:
            head = max_rows // 2
            shown = list(range(head)) + [None] + list(range(n - (max_rows - head), n))
        else:
            shown = list(range(n))
        cells = [
            ("...", "...", "...")
            if t is None
            else (_label_text(self.tasks[t]), f"{self.scores[t]:.4f}", str(self.n_samples[t]))
            for t in shown
        ]
        header = ("task", self.metric, "n_samples")
        widths = [max(len(row[i]) for row in [header, *cells]) for i in range(3)]
        lines = [
            f"{header[0]:<{widths[0]}}  {header[1]:>{widths[1]}}  {header[2]:>{widths[2]}}"
        ]
        lines += [
            f"{a:<{widths[0]}}  {b:>{widths[1]}}  {c:>{widths[2]}}" for a, b, c in cells
        ]
        lines.append(
            f"{n} task{'s' if n != 1 else ''}: mean {self.mean:.4f}, "
            f"weighted mean {self.weighted_mean:.4f}"
        )
        return "\n".join(lines)

    def __str__(self):
        return self.to_string()

    def __repr__(self):
        return f"TaskScoreTable(metric={self.metric!r}, n_tasks={len(self)})\n{self.to_string()}"


def per_task_score(y_true, y_pred, tasks=None, metric="r2", *, sample_weight=None):
    """Score each task on its own labeled rows and return a table.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Wide layout (``tasks=None``): one column per task; NaN (or None in
        an object array) marks a missing label, which is skipped. Long
        layout: one label per row, none missing.
    y_pred : array-like of the same shape as ``y_true``
        Predictions; scores (decision values or positive-class
        probabilities) for ``metric="roc_auc"``.
    tasks : array-like of shape (n_samples,), default=None
        Task label of each row (long layout); None for the wide layout.
    metric : str or callable, default="r2"
        ``"r2"``, ``"explained_variance"`` (scikit-learn's
        ``explained_variance_score``, 1 - Var(residual) / Var(y)),
        ``"mse"``, ``"rmse"``, ``"mae"``, ``"nmse"`` (MSE / Var(y), see
        :func:`normalized_mse`), ``"accuracy"``, ``"balanced_accuracy"``,
        ``"roc_auc"`` (binary labels per task), or a callable
        ``metric(y_true, y_pred, sample_weight=None) -> float`` applied per
        task (``sample_weight`` passed only when given). The named metrics
        are computed for all tasks at once and agree with scikit-learn's
        functions; R^2 and explained variance of a task
        with a single labeled row are NaN (with a warning), as in
        scikit-learn.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights (the same weight for every task of a wide row).

    Returns
    -------
    table : TaskScoreTable
        ``tasks``, ``scores``, ``n_samples`` per task, ``mean``,
        ``weighted_mean`` and ``to_frame()``.

    See Also
    --------
    multitask_explained_variance, normalized_mse, mean_task_rmse, averaged_auc

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import per_task_score
    >>> y_true = np.array([1.0, 2.0, 3.0, 1.0, 3.0])
    >>> y_pred = np.array([1.0, 2.0, 2.0, 2.0, 2.0])
    >>> table = per_task_score(y_true, y_pred, tasks=["a", "a", "a", "b", "b"], metric="mae")
    >>> print(table)
    task     mae  n_samples
    a     0.3333          3
    b     1.0000          2
    2 tasks: mean 0.6667, weighted mean 0.6000
    """
    entries = _collect(y_true, y_pred, tasks, sample_weight)
    name, per_task = _resolve_metric(metric)
    return TaskScoreTable(
        entries.tasks,
        per_task(entries),
        entries.n_samples,
        name,
        weights=entries.total_weight,
    )
