"""Multi-task classification metrics."""

from ._per_task import _average, _collect, _roc_auc

__all__ = ["averaged_auc"]


def averaged_auc(y_true, y_score, tasks=None, *, sample_weight=None, average="mean"):
    """Area under the ROC curve of each binary task, averaged over tasks.

    Each task is scored with ``sklearn.metrics.roc_auc_score`` on its own
    labeled rows; the positive class of a task is the greater of its two
    labels (1 for 0/1 and -1/+1 labels, as in scikit-learn). This is the
    "averaged AUC" reported for multi-task classification benchmarks such as
    Landmine (Xue et al., 2007).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Wide layout (``tasks=None``): one column of binary labels per task,
        NaN (or None in an object array) = missing label, skipped. Long
        layout: one label per row.
    y_score : array-like of the same shape as ``y_true``
        Scores of the positive class: decision values or probabilities.
    tasks : array-like of shape (n_samples,), default=None
        Task label of each row (long layout); None for the wide layout.
    sample_weight : array-like of shape (n_samples,), default=None
    average : {"mean", "weighted"} or None, default="mean"
        ``"mean"``: equal task weights; ``"weighted"``: weighted by the
        number of labeled rows; ``None``: the per-task AUCs.

    Returns
    -------
    auc : float or ndarray of shape (n_tasks,)

    Raises
    ------
    ValueError
        If a task has a single class (its AUC is undefined) or more than
        two classes among its labeled rows; the message names the task.

    References
    ----------
    .. [1] Y. Xue, X. Liao, L. Carin and B. Krishnapuram, "Multi-task learning
       for classification with Dirichlet process priors", JMLR 8, 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.metrics import averaged_auc
    >>> y_true = np.array([[0, 1], [1, 0], [1, np.nan], [0, 1]])
    >>> y_score = np.array([[0.1, 0.8], [0.9, 0.3], [0.4, 0.0], [0.6, 0.2]])
    >>> averaged_auc(y_true, y_score)  # (0.75 + 0.5) / 2
    0.625
    """
    entries = _collect(y_true, y_score, tasks, sample_weight, pred_name="y_score")
    return _average(_roc_auc(entries), entries, average, ("mean", "weighted", None))
