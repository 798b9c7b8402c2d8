"""HierarchicalRegressor on a dask DataFrame: the per-task statistics are reduced on the cluster.

The linear mixed model sees the rows only through per-task sufficient
statistics (``O(T p^2)`` numbers, see :func:`._hierarchical._task_moments`),
and these are sums over rows: each partition is reduced where it lives and
the partial sums are added in a tree, so only the ``(T, p, p)`` statistics
reach the client, and the EM fit then runs there as for in-memory data.

Two dask computations: the distinct task labels (small), then one pass over
the partitions, in which each partition encodes its labels against them and
reduces its rows. The checks that the in-memory validation makes on the
whole array (NaN or infinity in the features, the target or the weights)
are counted during that pass and raised after it, naming the columns.

Imported only when a dask collection is passed: dask is an optional extra
(``pip install "skmtl[dask]"``).
"""

from typing import NamedTuple

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from .._data import _encode_tasks, _group_by_task, _normalize_task_labels, split_task_column, task_column_position
from ._hierarchical import _task_moments, _with_ones

# Partial statistics summed at once by one task of the reduction tree: a
# handful keeps its depth small and its memory to a few (T, p, p) arrays.
_FAN_IN = 8


class Reduced(NamedTuple):
    """What the fit needs of a dask input: the tasks and the per-task statistics of ``[1, X]``."""

    tasks: np.ndarray
    n_features: int
    moments: tuple  # (G, Ay, yy, n) of ``_task_moments``

    @property
    def n_tasks(self):
        return len(self.tasks)


class _Partial(NamedTuple):
    """Statistics of some partitions, and their counts of invalid entries."""

    G: np.ndarray
    Ay: np.ndarray
    yy: np.ndarray
    n: np.ndarray
    bad_X: np.ndarray  # (n_features,) NaN or infinite entries per feature
    missing_y: int
    infinite_y: int
    bad_weights: int


def check_frame(X, task_column, estimator_name):
    """Validate a dask ``X`` without computing it; return its (empty) pandas meta frame.

    Raises
    ------
    TypeError
        If ``X`` is not a dask DataFrame, or ``task_column`` is None.
    ValueError
        If the task column is not a column of ``X``, or a feature column is
        not numeric (named).
    """
    if not isinstance(X, dd.DataFrame):
        raise TypeError(
            f"{estimator_name} accepts a dask DataFrame (long layout), not a {type(X).__name__}; "
            "convert it with dask.dataframe.from_dask_array, or call .compute() for in-memory data."
        )
    if task_column is None:
        raise TypeError(
            f"{estimator_name} takes a dask DataFrame in the long layout only (task_column "
            "naming the column of task labels); with task_column=None pass in-memory data "
            "(X.compute())."
        )
    position = task_column_position(X, task_column)
    dtypes = X.dtypes.drop(X.columns[position])
    not_numeric = [f"{name!r} ({dtype})" for name, dtype in dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)]
    if not_numeric:
        raise ValueError(
            f"Feature column(s) {', '.join(not_numeric[:10])} of X are not numeric; "
            f"{estimator_name} needs numbers (e.g. X.astype({{name: float}}) or one-hot columns)."
        )
    # dask's documented description of a collection: an empty pandas frame
    # with its columns and dtypes.
    return X._meta


def _check_partitioned_like(values, name, n_partitions):
    """The partitions of ``y`` or ``sample_weight`` (None: unweighted), after checks of their form."""
    if values is None:
        return [None] * n_partitions
    if not dask.is_dask_collection(values) or not hasattr(values, "to_delayed"):
        raise TypeError(
            f"With a dask DataFrame X, {name} must be a dask Series partitioned like X (e.g. a "
            f"column of the same DataFrame), not a {type(values).__name__}: the rows stay on the "
            "cluster."
        )
    if values.ndim == 2 and values.shape[1] != 1:
        raise ValueError(f"{name} must be 1-D (one value per row of X); got {values.shape[1]} columns.")
    dtypes = list(values.dtypes) if isinstance(values, dd.DataFrame) else [values.dtype]
    if not all(pd.api.types.is_numeric_dtype(dtype) for dtype in dtypes):
        raise ValueError(f"{name} must hold numbers; got dtype {dtypes[0]}.")
    parts = values.to_delayed().ravel().tolist() if hasattr(values, "chunks") else values.to_delayed()
    if len(parts) != n_partitions:
        raise ValueError(
            f"{name} has {len(parts)} partitions and X {n_partitions}: pass {name} partitioned like "
            "X (e.g. a column of the same DataFrame)."
        )
    return parts


def _column(values, part, name, partition):
    """A 1-D float64 array of one partition of ``y`` or ``sample_weight``, checked against ``part``."""
    if values is None:
        return np.ones(len(part))
    if hasattr(values, "index"):
        if not values.index.equals(part.index):
            raise ValueError(
                f"Partition {partition} of {name} does not hold the rows of partition {partition} "
                f"of X (their indexes differ): pass {name} partitioned like X."
            )
        return values.to_numpy(dtype=np.float64, na_value=np.nan).reshape(-1)
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if len(values) != len(part):
        raise ValueError(
            f"Partition {partition} of {name} has {len(values)} rows, that of X {len(part)}: pass "
            f"{name} partitioned like X."
        )
    return values


def _partition_statistics(part, y, weights, tasks, task_column, partition):
    """Statistics of one partition (a pandas DataFrame), computed on a worker."""
    features, labels = split_task_column(part, task_column)
    X = features.to_numpy(dtype=np.float64, na_value=np.nan)
    y = _column(y, part, "y", partition)
    weights = _column(weights, part, "sample_weight", partition)
    bad_X = np.count_nonzero(~np.isfinite(X), axis=0)
    missing_y, infinite_y = np.count_nonzero(np.isnan(y)), np.count_nonzero(np.isinf(y))
    bad_weights = np.count_nonzero(~np.isfinite(weights))
    m = X.shape[1] + 1
    if len(y) == 0 or bad_X.any() or missing_y or infinite_y or bad_weights:
        # Nothing to add, or the fit will raise: the counts are what matters.
        moments = np.zeros((len(tasks), m, m)), np.zeros((len(tasks), m)), np.zeros(len(tasks)), np.zeros(len(tasks))
    else:
        codes = _encode_tasks(labels, tasks)
        moments = _task_moments(_with_ones(X), np.arange(len(y)), codes, y, weights, len(tasks))
    return _Partial(*moments, bad_X, missing_y, infinite_y, bad_weights)


def _add(*partials):
    return _Partial(*(sum(field) for field in zip(*partials)))


def reduce_task_moments(X, y, sample_weight, *, task_column, estimator_name):
    """Tasks and per-task statistics of a dask DataFrame, reduced on the cluster.

    ``X`` has passed :func:`check_frame`. Task labels are kept as given and
    sorted, as for in-memory data.

    Returns
    -------
    Reduced
    """
    position = task_column_position(X, task_column)
    labels = X[X.columns[position]].unique(split_out=1).compute()  # a tree reduction, no shuffle
    if labels.isna().any():
        raise ValueError("The task column contains NaN/None (a missing label); every row needs a task label.")
    if len(labels) == 0:
        raise ValueError(f"X has no rows; {estimator_name} needs at least one.")
    tasks = _group_by_task(_normalize_task_labels(labels.to_numpy()))[0]

    parts = X.to_delayed()
    targets = _check_partitioned_like(y, "y", len(parts))
    weights = _check_partitioned_like(sample_weight, "sample_weight", len(parts))
    shared_tasks = dask.delayed(tasks)  # one copy in the graph
    partials = [
        dask.delayed(_partition_statistics)(part, target, weight, shared_tasks, task_column, i)
        for i, (part, target, weight) in enumerate(zip(parts, targets, weights))
    ]
    while len(partials) > 1:
        partials = [dask.delayed(_add)(*partials[i : i + _FAN_IN]) for i in range(0, len(partials), _FAN_IN)]
    (total,) = dask.compute(partials[0])

    if total.bad_X.any():
        names = X.columns.drop(X.columns[position])
        bad = [f"{names[j]!r} ({total.bad_X[j]} rows)" for j in np.flatnonzero(total.bad_X)]
        raise ValueError(f"Input X contains NaN or infinity in feature column(s) {', '.join(bad[:10])}.")
    if total.missing_y:
        raise ValueError(
            f"y contains {total.missing_y} missing label(s) (NaN/None). In the long layout every row "
            "is one (sample, task) label: drop unlabeled rows before fitting (X[y.notnull()], "
            "y[y.notnull()])."
        )
    if total.infinite_y:
        raise ValueError("Input y contains infinity or a value too large for float64.")
    if total.bad_weights:
        raise ValueError(f"sample_weight contains NaN or infinity on {total.bad_weights} row(s).")
    return Reduced(tasks, len(X.columns) - 1, (total.G, total.Ay, total.yy, total.n))


def _predict_partition(part, model, return_std):
    """``model.predict`` of one partition, as a frame ``y_pred`` (and ``y_std``) with its index."""
    if len(part) == 0:  # predict needs a row
        outputs = (np.zeros(0),) * 2
    else:
        outputs = model.predict(part, return_std=True) if return_std else (model.predict(part),)
    return pd.DataFrame(dict(zip(["y_pred", "y_std"], outputs)), index=part.index)


def predict(model, X, return_std):
    """``model.predict`` of each partition of a dask ``X``, lazily: a dask Series (two with ``return_std``).

    With ``return_std`` both Series are columns of one frame, so computing
    them together predicts each partition once.
    """
    meta = pd.DataFrame({"y_pred": [], "y_std": []} if return_std else {"y_pred": []}, dtype=np.float64)
    predictions = X.map_partitions(_predict_partition, model, return_std, meta=meta)
    if return_std:
        return predictions["y_pred"], predictions["y_std"]
    return predictions["y_pred"]
