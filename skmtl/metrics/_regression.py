"""Multi-task regression metrics: explained variance, nMSE, mean task RMSE.

Papers on multi-task regression report these numbers under one name and
several definitions. Each function below writes its definitions out; the
per-task quantities are, for task ``t`` with labeled rows ``i`` (weights
``w_i``, 1 by default)::

    n_t    = sum_i w_i                          (number of labeled rows)
    MSE_t  = sum_i w_i (y_i - yhat_i)^2 / n_t
    Var_t  = sum_i w_i (y_i - mean_t(y))^2 / n_t  (population variance, ddof=0,
                                                  around the task's own mean)

so ``1 - MSE_t / Var_t`` is the task's R^2 (``sklearn.metrics.r2_score``).
"""

import numpy as np

from ._per_task import (
    _average,
    _collect,
    _nmse_per_task,
    _one_minus_ratio,
    _regression_stats,
)

__all__ = ["mean_task_rmse", "multitask_explained_variance", "normalized_mse"]


def _pooled_sst(entries):
    """sum_i w_i (y_i - ybar)^2 over all entries, ybar the pooled weighted mean."""
    y = entries.y_true
    w = np.ones_like(y) if entries.weight is None else entries.weight
    mean = np.average(y, weights=w) if w.sum() > 0 else np.nan
    return float(np.sum(w * (y - mean) ** 2))


def multitask_explained_variance(
    y_true, y_pred, tasks=None, *, sample_weight=None, average="pooled"
):
    """Explained variance of a multi-task regression, as reported on School.

    With ``average="pooled"`` (default) this is the measure of Bakker &
    Heskes (2003) used by Argyriou, Evgeniou & Pontil (2008) and most later
    School benchmarks: one minus the sum of squared test errors over the
    total sum of squares of the test targets, all tasks pooled::

        EV_pooled = 1 - sum_t sum_i (y_ti - yhat_ti)^2 / sum_t sum_i (y_ti - ybar)^2

    where ``ybar`` is the mean of all test targets (all tasks together).
    Equivalently ``1 - MSE / Var(y)`` over the stacked test rows. Papers
    usually print it as a percentage (multiply by 100).

    With ``average="per_task"`` (or its synonym ``"mean"``) it is the mean
    over tasks of ``1 - MSE_t / Var_t``, i.e. the mean per-task R^2: each
    task is measured against its own mean, so this is lower than the pooled
    value when the task means differ. ``average="weighted"`` weights tasks
    by their number of labeled rows; ``None`` returns the per-task values.

    Note that this is not scikit-learn's ``explained_variance_score``,
    which subtracts the mean residual (1 - Var(residual) / Var(y)); use
    :func:`per_task_score` with ``metric="explained_variance"`` for that.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Wide layout (``tasks=None``): one column per task, NaN = missing
        label (skipped). Long layout: one target per row.
    y_pred : array-like of the same shape as ``y_true``
    tasks : array-like of shape (n_samples,), default=None
        Task label of each row (long layout); None for the wide layout.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights in every sum above.
    average : {"pooled", "per_task", "mean", "weighted"} or None, default="pooled"

    Returns
    -------
    score : float or ndarray of shape (n_tasks,)
        Higher is better; 1 for perfect predictions.

    See Also
    --------
    normalized_mse : MSE / Var(y), whose pooled variant is ``1 - EV_pooled``.

    References
    ----------
    .. [1] B. Bakker and T. Heskes, "Task clustering and gating for Bayesian
       multitask learning", JMLR 4, 2003.
    .. [2] A. Argyriou, T. Evgeniou and M. Pontil, "Convex multi-task feature
       learning", Machine Learning 73(3), 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import multitask_explained_variance
    >>> y_true = np.array([0.0, 2.0, 10.0, 12.0])
    >>> y_pred = np.array([1.0, 1.0, 11.0, 11.0])
    >>> tasks = [0, 0, 1, 1]
    >>> round(multitask_explained_variance(y_true, y_pred, tasks), 4)  # 1 - 4 / 104
    0.9615
    >>> multitask_explained_variance(y_true, y_pred, tasks, average="per_task")
    0.0
    """
    entries = _collect(y_true, y_pred, tasks, sample_weight)
    stats = _regression_stats(entries)
    if average == "pooled":
        sst = _pooled_sst(entries)
        sse = float(stats["sse"].sum())
        if sst == 0:
            return 1.0 if sse == 0 else 0.0
        return 1.0 - sse / sst
    scores = _one_minus_ratio(stats["sse"], stats["sst"], entries, "Explained variance")
    return _average(scores, entries, average, ("pooled", "per_task", "mean", "weighted", None))


def normalized_mse(y_true, y_pred, tasks=None, *, sample_weight=None, average="aggregate"):
    """Normalized mean squared error (nMSE) of a multi-task regression.

    Per task, ``nMSE_t = MSE_t / Var_t`` (``= 1 - R^2_t``), where ``Var_t``
    is the population variance (ddof=0) of the task's labeled targets. The
    averages:

    * ``"aggregate"`` (default), the form reported with MALSAR-style
      experiments (e.g. Zhou, Chen & Ye on School)::

          nMSE = sum_t n_t MSE_t / sum_t n_t Var_t
               = sum_t SSE_t / sum_t SST_t

      total squared error over the sum of the per-task total sums of
      squares, so large tasks weigh more and each task is measured against
      its own mean;
    * ``"pooled"``: ``MSE / Var(y)`` over all labeled entries stacked, the
      variance taken around the overall mean (``1 -``
      :func:`multitask_explained_variance`);
    * ``"per_task"`` (synonym ``"mean"``): the mean over tasks of
      ``nMSE_t``; ``"weighted"``: weighted by each task's number of labeled
      rows; ``None``: the per-task values.

    (MALSAR's example script ``eval_MTL_mse`` computes yet another number,
    ``sum_t sqrt(SSE_t) n_t / sum_t n_t``, unnormalized; it is not
    reproduced here.)

    A task with zero target variance has an infinite nMSE (0 when predicted
    exactly), with an ``UndefinedMetricWarning``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Wide layout (``tasks=None``): one column per task, NaN = missing
        label (skipped). Long layout: one target per row.
    y_pred : array-like of the same shape as ``y_true``
    tasks : array-like of shape (n_samples,), default=None
        Task label of each row (long layout); None for the wide layout.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights: ``n_t`` becomes the task's sum of weights.
    average : {"aggregate", "pooled", "per_task", "mean", "weighted"} or None, \
            default="aggregate"

    Returns
    -------
    nmse : float or ndarray of shape (n_tasks,)
        Lower is better; 0 for perfect predictions, 1 for predicting each
        task's test mean.

    See Also
    --------
    multitask_explained_variance, mean_task_rmse

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import normalized_mse
    >>> y_true = np.array([0.0, 2.0, 10.0, 12.0, 14.0])
    >>> y_pred = np.array([1.0, 1.0, 12.0, 12.0, 12.0])
    >>> tasks = [0, 0, 1, 1, 1]
    >>> normalized_mse(y_true, y_pred, tasks, average=None)  # (2 / 2) and (8 / 8)
    array([1., 1.])
    >>> normalized_mse(y_true, y_pred, tasks)  # (2 + 8) / (2 + 8)
    1.0
    """
    entries = _collect(y_true, y_pred, tasks, sample_weight)
    stats = _regression_stats(entries)
    if average in ("aggregate", "pooled"):
        sse = float(stats["sse"].sum())
        sst = float(stats["sst"].sum()) if average == "aggregate" else _pooled_sst(entries)
        if sst == 0:
            return 0.0 if sse == 0 else np.inf
        return sse / sst
    nmse = _nmse_per_task(stats, entries)
    allowed = ("aggregate", "pooled", "per_task", "mean", "weighted", None)
    return _average(nmse, entries, average, allowed)


def mean_task_rmse(y_true, y_pred, tasks=None, *, sample_weight=None, average="mean"):
    """Root mean squared error per task, averaged over tasks.

    ``RMSE_t = sqrt(MSE_t)`` on each task's labeled rows; ``average="mean"``
    (default) returns ``mean_t RMSE_t`` with equal task weights,
    ``"weighted"`` weights tasks by their number of labeled rows,
    ``"pooled"`` is ``sqrt(sum_t SSE_t / sum_t n_t)`` (the RMSE of all
    entries stacked), ``None`` the per-task values.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Wide layout (``tasks=None``): one column per task, NaN = missing
        label (skipped). Long layout: one target per row.
    y_pred : array-like of the same shape as ``y_true``
    tasks : array-like of shape (n_samples,), default=None
        Task label of each row (long layout); None for the wide layout.
    sample_weight : array-like of shape (n_samples,), default=None
    average : {"mean", "weighted", "pooled"} or None, default="mean"

    Returns
    -------
    rmse : float or ndarray of shape (n_tasks,)
        Lower is better.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import mean_task_rmse
    >>> y_true = np.array([[0.0, 1.0], [0.0, np.nan]])
    >>> y_pred = np.array([[2.0, 2.0], [2.0, 5.0]])
    >>> mean_task_rmse(y_true, y_pred)  # (2 + 1) / 2
    1.5
    """
    entries = _collect(y_true, y_pred, tasks, sample_weight)
    stats = _regression_stats(entries)
    if average == "pooled":
        return float(np.sqrt(stats["sse"].sum() / stats["weight"].sum()))
    rmse = np.sqrt(stats["sse"] / stats["weight"])
    return _average(rmse, entries, average, ("mean", "weighted", "pooled", None))
