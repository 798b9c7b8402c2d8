"""Conversion between per-task lists and the long layout (DESIGN.md section 2).

Many multi-task data sets arrive as one ``(X_t, y_t)`` pair per task (MALSAR's
cell arrays, per-school files). skmtl's long layout stacks them into one
``X`` whose LAST column holds each row's task label and one 1-D ``y``.
:func:`stack_tasks` builds it and :func:`unstack_tasks` takes it apart again.
"""

import numpy as np
import scipy.sparse as sp

from .._data import _group_by_task, _missing, _numeric_if_numbers, _show, split_task_column

__all__ = ["stack_tasks", "unstack_tasks"]

# Column appended by ``stack_tasks`` when the per-task inputs are DataFrames.
_TASK_NAME = "task"


def _is_frame(X):
    return hasattr(X, "iloc") and hasattr(X, "columns")


def _as_task_list(values, name, item_ndim):
    """``values`` as a list of per-task items.

    An ndarray is split along its first axis (a 3-D array of equally sized
    tasks is a valid ``Xs``), but one holding a single task's data, like a
    long-layout ``X``, is refused.
    """
    single = sp.issparse(values) or _is_frame(values) or (
        isinstance(values, np.ndarray) and values.dtype != object and values.ndim <= item_ndim
    )
    if single or isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(
            f"{name} must be a list with one entry per task; got a single "
            f"{type(values).__name__}"
            + (f" of shape {values.shape}" if hasattr(values, "shape") else "")
            + ". (unstack_tasks splits a long-layout array into per-task lists.)"
        )
    return list(values)


def _task_labels(tasks, n_tasks):
    """Validated task labels: a numeric array, or an object array otherwise.

    Labels are kept as given: strings stay strings (``"7"`` and ``"007"``
    are two tasks); strings mixed with numbers raise a ValueError.
    """
    if tasks is None:
        return np.arange(n_tasks)
    tasks = _as_task_list(tasks, "tasks", item_ndim=0)
    if len(tasks) != n_tasks:
        raise ValueError(
            f"tasks has {len(tasks)} labels but {n_tasks} tasks were given "
            "(one label per entry of Xs)."
        )
    labels = np.empty(n_tasks, dtype=object)
    labels[:] = tasks  # element-wise: tuples stay hashable labels, not rows
    if _missing(labels).any():
        raise ValueError("tasks contains a missing label (None/NaN); every task needs a label.")
    if len(set(tasks)) != n_tasks:
        seen, duplicate = set(), None
        for label in tasks:
            if label in seen:
                duplicate = label
                break
            seen.add(label)
        raise ValueError(
            f"tasks contains the label {_show(duplicate)} more than once; "
            "task labels must be unique."
        )
    return _numeric_if_numbers(labels)


def _check_task_arrays(Xs, ys):
    """Per-task X_t (2-D array, sparse matrix or DataFrame) and y_t (1-D)."""
    Xs = _as_task_list(Xs, "Xs", item_ndim=2)
    ys = _as_task_list(ys, "ys", item_ndim=1)
    if len(Xs) == 0:
        raise ValueError("Xs is empty; stack_tasks needs at least one task.")
    if len(Xs) != len(ys):
        raise ValueError(
            f"Xs and ys have different lengths ({len(Xs)} and {len(ys)}); "
            "give one X and one y per task."
        )
    checked_X, checked_y = [], []
    for t, (X_t, y_t) in enumerate(zip(Xs, ys)):
        if not (sp.issparse(X_t) or _is_frame(X_t)):
            X_t = np.asarray(X_t)
        if X_t.ndim != 2:
            raise ValueError(
                f"Xs[{t}] must be 2-D (n_samples, n_features); got shape {X_t.shape}."
            )
        y_t = np.asarray(y_t)
        if y_t.ndim == 2 and y_t.shape[1] == 1:
            y_t = y_t.ravel()
        if y_t.ndim != 1:
            raise ValueError(f"ys[{t}] must be 1-D; got shape {y_t.shape}.")
        if X_t.shape[0] != y_t.shape[0]:
            raise ValueError(
                f"Xs[{t}] has {X_t.shape[0]} rows but ys[{t}] has {y_t.shape[0]} "
                "labels; each task needs one label per row."
            )
        if X_t.shape[0] == 0:
            raise ValueError(
                f"Xs[{t}] has no rows; a task without rows cannot be represented "
                "in the long layout."
            )
        if checked_X and X_t.shape[1] != checked_X[0].shape[1]:
            raise ValueError(
                f"Xs[{t}] has {X_t.shape[1]} features but Xs[0] has "
                f"{checked_X[0].shape[1]}; every task needs the same features."
            )
        checked_X.append(X_t)
        checked_y.append(y_t)
    return checked_X, checked_y


def _label_dtype(feature_dtype, labels):
    """Float dtype holding the features and every label exactly."""
    dtype = np.result_type(feature_dtype, np.float32)
    if dtype.kind == "f" and not np.array_equal(labels.astype(dtype), labels):
        dtype = np.dtype(np.float64)
    return dtype


def stack_tasks(Xs, ys, tasks=None):
    """Stack per-task data into the long layout.

    Parameters
    ----------
    Xs : list of {array-like, sparse matrix, DataFrame} of shape (n_t, n_features)
        Inputs of each task; all tasks have the same features.
    ys : list of array-like of shape (n_t,)
        Targets of each task.
    tasks : list of hashable of length n_tasks, default=None
        Label of each task; ``0, ..., n_tasks - 1`` by default. Labels must
        be unique and not missing.

    Returns
    -------
    X : ndarray, CSR matrix or DataFrame of shape (sum_t n_t, n_features + 1)
        The rows of ``Xs[0]``, then ``Xs[1]``, ... with the task label in the
        LAST column (use ``task_column=-1``). With numeric labels ``X`` is a
        float array (float32 kept when it holds the labels exactly); with
        other labels (strings, ...) it is an object array. If any ``X_t`` is
        sparse the result is a CSR matrix (numeric labels only). If every
        ``X_t`` is a DataFrame with the same columns the result is a
        DataFrame with a new index and a last column named ``"task"``.
    y : ndarray of shape (sum_t n_t,)

    See Also
    --------
    unstack_tasks : the inverse operation.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.utils import stack_tasks
    >>> X, y = stack_tasks([np.ones((2, 1)), np.zeros((1, 1))], [[1, 2], [3]])
    >>> X
    array([[1., 0.],
           [1., 0.],
           [0., 1.]])
    >>> y
    array([1, 2, 3])
    """
    Xs, ys = _check_task_arrays(Xs, ys)
    labels = _task_labels(tasks, len(Xs))
    sizes = [X_t.shape[0] for X_t in Xs]
    row_labels = np.repeat(labels, sizes)
    y = np.concatenate(ys)

    if all(_is_frame(X_t) for X_t in Xs):
        return _stack_frames(Xs, row_labels), y
    Xs = [X_t.to_numpy() if _is_frame(X_t) else X_t for X_t in Xs]

    if any(sp.issparse(X_t) for X_t in Xs):
        if labels.dtype == object:
            raise ValueError(
                "Non-numeric task labels cannot be stored in a sparse matrix; "
                "use numeric task labels or dense Xs."
            )
        blocks = [X_t if sp.issparse(X_t) else sp.csr_matrix(X_t) for X_t in Xs]
        features = sp.vstack(blocks, format="csr")
        dtype = _label_dtype(features.dtype, labels)
        column = sp.csr_matrix(row_labels.astype(dtype).reshape(-1, 1))
        return sp.hstack([features.astype(dtype, copy=False), column], format="csr"), y

    features = np.concatenate(Xs, axis=0)
    if labels.dtype == object or features.dtype.kind not in "biuf":
        X = np.empty((features.shape[0], features.shape[1] + 1), dtype=object)
        X[:, :-1] = features
        X[:, -1] = row_labels
        return X, y
    dtype = _label_dtype(features.dtype, labels)
    return np.column_stack([features.astype(dtype, copy=False), row_labels.astype(dtype)]), y


def _stack_frames(Xs, row_labels):
    import pandas as pd

    columns = list(Xs[0].columns)
    for t, X_t in enumerate(Xs[1:], start=1):
        if list(X_t.columns) != columns:
            raise ValueError(
                f"Xs[{t}] has columns {list(X_t.columns)[:10]} but Xs[0] has "
                f"{columns[:10]}; every task needs the same columns."
            )
    if _TASK_NAME in columns:
        raise ValueError(
            f"The DataFrames in Xs already have a column named {_TASK_NAME!r}; "
            "rename it so that stack_tasks can add the task column."
        )
    X = pd.concat(Xs, axis=0, ignore_index=True)
    X[_TASK_NAME] = row_labels
    return X


def unstack_tasks(X, y, task_column=-1):
    """Split long-layout data into per-task lists.

    Parameters
    ----------
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
        Long-layout inputs; one column holds each row's task label.
    y : array-like or Series of shape (n_samples,)
    task_column : int or str, default=-1
        Position of the task column (negative counts from the end), or its
        name when ``X`` is a DataFrame.

    Returns
    -------
    Xs : list of {ndarray, CSR matrix, DataFrame} of shape (n_t, n_columns - 1)
        Features of each task (task column removed), rows in their original
        order. DataFrame in, DataFrames out (original index kept); an object
        array whose features are numbers comes back as float.
    ys : list of {ndarray, Series} of shape (n_t,)
    tasks : ndarray of shape (n_tasks,)
        Sorted task labels (as ``np.unique``); ``Xs[i]`` belongs to
        ``tasks[i]``. Integral float labels come back as integers; string
        labels stay strings (``"7"`` and ``"007"`` are two tasks).

    See Also
    --------
    stack_tasks : the inverse operation.
    """
    features, labels = split_task_column(X, task_column)
    if sp.issparse(features):
        features = features.tocsr()
    elif not _is_frame(features) and features.dtype == object:
        # stack_tasks stores numeric features next to string labels in an
        # object array; give them back their numeric type.
        try:
            features = features.astype(np.float64)
        except (TypeError, ValueError):
            pass
    if not hasattr(y, "iloc"):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D in the long layout; got shape {y.shape}.")
    if y.shape[0] != features.shape[0]:
        raise ValueError(
            f"X and y have inconsistent numbers of samples: X has "
            f"{features.shape[0]} rows, y has {y.shape[0]}."
        )
    tasks, _, order, indptr = _group_by_task(labels)
    groups = np.split(order, indptr[1:-1])
    if _is_frame(features):
        Xs = [features.iloc[rows] for rows in groups]
    else:
        Xs = [features[rows] for rows in groups]
    ys = [y.iloc[rows] if hasattr(y, "iloc") else y[rows] for rows in groups]
    return Xs, ys, tasks
