"""The per-task scoring loop shared by ``score`` methods and ``skmtl.metrics``."""

import numpy as np

from .._data import _missing


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
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    scores : ndarray of shape (n_tasks,)
        Wide: in column order. Long: in the order of ``np.unique(tasks)``.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred have different shapes: {y_true.shape} and {y_pred.shape}."
        )
    sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if tasks is None:
        if y_true.ndim == 1:
            y_true, y_pred = y_true[:, None], y_pred[:, None]
        observed = ~_missing(y_true)
        columns = [np.flatnonzero(observed[:, t]) for t in range(y_true.shape[1])]
        return np.array(
            [
                metric(y_true[rows, t], y_pred[rows, t], sample_weight=None if sw is None else sw[rows])
                for t, rows in enumerate(columns)
            ]
        )
    tasks = np.asarray(tasks)
    if tasks.shape[0] != y_true.shape[0]:
        raise ValueError(
            f"tasks has {tasks.shape[0]} entries but y_true has {y_true.shape[0]} rows."
        )
    labels, codes = np.unique(tasks, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
    return np.array(
        [
            metric(
                y_true[rows],
                y_pred[rows],
                sample_weight=None if sw is None else sw[rows],
            )
            for rows in (order[a:b] for a, b in zip(bounds[:-1], bounds[1:]))
        ]
    )
