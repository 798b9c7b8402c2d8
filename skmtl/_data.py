"""One validated representation of multi-task data for both layouts.

Every skmtl estimator turns its ``fit`` input into a :class:`TaskData` once;
solvers see only that object, never the layout (DESIGN.md section 2).

Wide layout (``task_column=None``): ``X`` is (n, d) and ``y`` is (n, T); NaN
(or ``None`` for object labels) marks a missing label. A missing label masks
the row out of that task's loss only; the row still serves the other tasks.
A 1-D ``y`` is a single task.

Long layout (``task_column=<int or name>``): one column of ``X`` holds the
task label of each row, ``y`` is 1-D. Labels are kept as given: strings stay
strings (``"7"`` and ``"007"`` are two tasks), only numbers compare as
numbers. The task column is removed from the features. Rows are grouped per task once (a stable sort by task code), so
per-task work is a slice of ``order`` between two ``task_indptr`` offsets.
"""

import difflib
import numbers
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_array


__all__ = ["TaskData", "check_task_data", "check_task_X", "split_task_column"]

FLOAT_DTYPES = (np.float64, np.float32)
# dtype kinds of numeric task labels (bool, int, uint, float).
_NUMERIC_KINDS = "biuf"


@dataclass
class TaskData:
    """Validated multi-task training data.

    Attributes
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Features only (the task column removed), float64 or float32, dense
        or CSR.
    y : ndarray of shape (n_samples, n_tasks) or (n_samples,)
        Wide layout: one column per task, missing entries as in the input
        (NaN / None). Long layout: one label per row. Regression targets are
        float64; classification labels keep their dtype.
    mask : ndarray of bool, shape (n_samples, n_tasks), or None
        Wide layout: True where a label is observed. None in the long layout.
    task_codes : ndarray of int, shape (n_samples,), or None
        Long layout: position of each row's task in ``tasks``.
    tasks : ndarray of shape (n_tasks,)
        Sorted task labels (long layout) or ``arange(n_tasks)`` (wide).
    sample_weight : ndarray of shape (n_samples,) or None
    single_output : bool
        True when a 1-D ``y`` was given in the wide layout (predictions are
        then returned 1-D).
    order, task_indptr : ndarray of int
        Rows of task ``t`` (with an observed label) are
        ``order[task_indptr[t]:task_indptr[t + 1]]``, in increasing order.
    """

    X: object
    y: np.ndarray
    mask: np.ndarray | None
    task_codes: np.ndarray | None
    tasks: np.ndarray
    sample_weight: np.ndarray | None
    single_output: bool
    order: np.ndarray
    task_indptr: np.ndarray

    @property
    def layout(self):
        return "wide" if self.task_codes is None else "long"

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]

    @property
    def n_tasks(self):
        return len(self.tasks)

    @property
    def n_samples_per_task(self):
        """Number of labeled rows of each task, shape (n_tasks,)."""
        return np.diff(self.task_indptr)

    def task_rows(self, t):
        """Row indices (into ``X``) of the labeled rows of task ``t``."""
        return self.order[self.task_indptr[t] : self.task_indptr[t + 1]]

    def task_targets(self, t):
        """Labels of task ``t`` on :meth:`task_rows`."""
        rows = self.task_rows(t)
        return _homogeneous(self.y[rows] if self.y.ndim == 1 else self.y[rows, t])

    def to_long(self):
        """Return ``(rows, task_codes, targets)`` of every observed label.

        For the long layout this is the data itself; for the wide layout
        each observed entry of ``y`` becomes one (row, task) pair, grouped
        by task.
        """
        if self.task_codes is not None:
            return self.order, self.task_codes[self.order], self.y[self.order]
        codes = np.repeat(np.arange(self.n_tasks), self.n_samples_per_task)
        return self.order, codes, self.y[self.order, codes]


def _homogeneous(labels):
    """Give an object array of one kind of label its natural dtype.

    A wide ``y`` mixing tasks with string and integer labels is an object
    array; each task's own labels are homogeneous and classifiers expect
    them typed (``type_of_target`` rejects object arrays of ints).
    """
    return np.asarray(labels.tolist()) if labels.dtype.kind == "O" else labels


def _missing(values):
    """Boolean mask of missing labels: NaN for floats, None/NaN for objects."""
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype.kind == "O":
        return np.frompyfunc(
            lambda v: v is None or (isinstance(v, float) and v != v), 1, 1
        )(values).astype(bool)
    return np.zeros(values.shape, dtype=bool)


def _normalize_task_labels(values):
    """Task labels as a 1-D array, kept as given.

    Only numbers compare as numbers: strings stay strings, so ``"7"`` and
    ``"007"`` (or ``"1"`` and ``"1.0"``) are two tasks. An object array (or
    a list) holding only numbers becomes a numeric array, and integral
    floats become int64: a task column stored in a float matrix holds 0.0,
    1.0, ...; calling those tasks 0, 1, ... is what users expect in
    ``tasks_`` and reports.

    Raises
    ------
    ValueError
        If a label is missing (None/NaN) or infinite, or if strings and
        numbers are mixed (they cannot be sorted into one ``tasks_``).
    """
    if not hasattr(values, "__array__"):
        # np.asarray would turn a list mixing strings and numbers (or None)
        # into strings: 1 and "1" would become one task.
        values = _object_array(values)
    values = np.asarray(values)
    if values.ndim != 1:
        values = values.reshape(-1)
    missing = _missing(values)
    if missing.any():
        rows = np.flatnonzero(missing)
        shown = ", ".join(str(i) for i in rows[:5])
        raise ValueError(
            f"The task column contains NaN/None (a missing label) on {len(rows)} "
            f"row(s) (position(s) {shown}{', ...' if len(rows) > 5 else ''}); every "
            "row needs a task label."
        )
    if values.dtype.kind == "O":
        values = _numeric_if_numbers(values)
    if values.dtype.kind == "f":
        if not np.all(np.isfinite(values)):
            raise ValueError(
                "The task column contains infinite values; every row needs a "
                "finite task label."
            )
        if np.all(values == np.round(values)):
            values = values.astype(np.int64)
    return values


def _object_array(items):
    """A 1-D object array of ``items``, each element kept as it is."""
    items = list(items)
    out = np.empty(len(items), dtype=object)
    out[:] = items  # element-wise: tuples stay labels, not rows
    return out


def _numeric_if_numbers(labels):
    """An object array of labels as a numeric array when every label is a number.

    Raises a ValueError when strings and numbers are mixed; other labels
    (strings, tuples, ...) are returned unchanged.
    """
    types = set(map(type, labels))
    numeric = [issubclass(t, numbers.Real) for t in types]
    if types and all(numeric):
        return np.array(labels.tolist())
    if any(numeric) and any(issubclass(t, (str, bytes)) for t in types):
        raise ValueError(
            "Task labels could not be sorted: they mix strings and numbers; use "
            "labels of one type (all numbers or all strings)."
        )
    return labels


def _group_by_task(labels):
    """Group rows by task label.

    Returns
    -------
    tasks : ndarray of shape (n_tasks,)
        Sorted unique labels (``np.unique``).
    codes : ndarray of int of shape (n_samples,)
        Position of each row's label in ``tasks``.
    order, indptr : ndarray of int
        Rows of task ``t`` are ``order[indptr[t]:indptr[t + 1]]``, in their
        original order (stable sort).
    """
    try:
        tasks, codes = np.unique(labels, return_inverse=True)
    except TypeError as exc:
        raise ValueError(
            "Task labels could not be sorted; use labels of one type "
            "(all numbers or all strings)."
        ) from exc
    codes = codes.reshape(-1)
    order = np.argsort(codes, kind="stable")
    indptr = np.searchsorted(codes[order], np.arange(len(tasks) + 1))
    return tasks, codes, order, indptr


def split_task_column(X, task_column):
    """Separate the task column from the features.

    Parameters
    ----------
    X : array-like, sparse matrix or DataFrame of shape (n_samples, n_columns)
    task_column : int or str
        Position of the task column (negative counts from the end), or its
        name when ``X`` is a pandas DataFrame.

    Returns
    -------
    features : same container as ``X`` without the task column
    task_labels : ndarray of shape (n_samples,)
        Labels as given: strings stay strings, numbers (also in an object
        array) become a numeric array, integral floats int64.

    Raises
    ------
    ValueError
        If a task label is missing or infinite, or strings and numbers are
        mixed.
    """
    if hasattr(X, "iloc") and hasattr(X, "columns"):
        position = task_column_position(X, task_column)
        column = X.iloc[:, position]
        labels = column.to_numpy()
        # pandas' own missing values (pd.NA of nullable dtypes, NaT) as None,
        # so that they are reported as missing labels.
        missing = column.isna().to_numpy()
        if missing.any():
            labels = labels.astype(object)
            labels[missing] = None
        features = X.drop(columns=X.columns[position])
        return features, _normalize_task_labels(labels)

    if isinstance(task_column, str):
        raise ValueError(
            f"task_column={task_column!r} is a column name, but X has no "
            "column names (pass a pandas DataFrame, or give the column's "
            "integer position)."
        )
    if not isinstance(task_column, (int, np.integer)):
        raise TypeError(
            f"task_column must be an int, a column name or None; got "
            f"{type(task_column).__name__}."
        )
    if sp.issparse(X):
        X = X.tocsc()
        n_columns = X.shape[1]
        position = _check_position(task_column, n_columns)
        labels = X[:, [position]].toarray().ravel()
        keep = np.delete(np.arange(n_columns), position)
        return X[:, keep].tocsr(), _normalize_task_labels(labels)

    X = np.asarray(X) if not hasattr(X, "__array__") else np.asarray(X)
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2D X holding a task column, got an array of shape {X.shape}."
        )
    position = _check_position(task_column, X.shape[1])
    return np.delete(X, position, axis=1), _normalize_task_labels(X[:, position])


def task_column_position(X, task_column):
    """Position of the task column in ``X`` (an integer label of a DataFrame
    column wins over the same integer as a position)."""
    if hasattr(X, "iloc") and hasattr(X, "columns"):
        columns = list(X.columns)
        if isinstance(task_column, (int, np.integer)) and task_column not in columns:
            return _check_position(task_column, len(columns))
        if task_column not in columns:
            raise ValueError(_missing_column_message(task_column, columns))
        return columns.index(task_column)
    return _check_position(task_column, X.shape[1])


def _missing_column_message(task_column, columns):
    """Why ``task_column`` is not among ``columns``, with the near matches.

    A ColumnTransformer prefixes its output columns with the transformer's
    name (``remainder__subject``): those are matched by their suffix, the
    others by ``difflib``'s similarity.
    """
    names = [str(c) for c in columns]
    wanted = str(task_column)
    near = [c for c in names if c.endswith(f"__{wanted}")]
    near += [c for c in difflib.get_close_matches(wanted, names, n=5) if c not in near]
    message = (
        f"task_column={task_column!r} is not a column of X ({len(columns)} columns: "
        f"{', '.join(repr(c) for c in names[:10])}{', ...' if len(columns) > 10 else ''})."
    )
    if near:
        message += f" Near matches: {', '.join(repr(c) for c in near[:5])}."
    if any("__" in c for c in near):
        message += (
            " A ColumnTransformer (or make_column_transformer) prefixes its output "
            "columns with the transformer's name: pass verbose_feature_names_out=False "
            "to keep the original names, or use the prefixed name as task_column."
        )
    return message


def _check_position(task_column, n_columns):
    if not -n_columns <= task_column < n_columns:
        raise ValueError(
            f"task_column={task_column} is out of range for X with "
            f"{n_columns} columns."
        )
    return int(task_column) % n_columns


def _check_features(X, *, estimator_name, accept_sparse=True, dtype=FLOAT_DTYPES):
    try:
        return check_array(
            X,
            accept_sparse="csr" if accept_sparse else False,
            dtype=dtype,
            ensure_min_samples=1,
            estimator=estimator_name,
            input_name="X",
        )
    except ValueError as exc:
        found = _text_feature(X) if dtype is not None else None
        if found is None:
            raise
        column, value = found
        raise ValueError(
            f"{estimator_name} needs numeric features, but {column} holds text "
            f"({value!r}). Encode it as numbers (e.g. a OneHotEncoder in a "
            "ColumnTransformer) or leave it out; the task column is the only "
            "column that may hold text."
        ) from exc


def _text_feature(X):
    """``(description, value)`` of the first feature value that is not a number, or None.

    Features are the columns of ``X`` without the task column: an array's
    column is described by that position, a DataFrame's by its name.
    """
    if sp.issparse(X) or not hasattr(X, "__len__"):
        return None
    frame = hasattr(X, "iloc") and hasattr(X, "columns")
    values = X.to_numpy(dtype=object) if frame else np.asarray(X, dtype=object)
    if values.ndim != 2:
        return None
    for j in range(values.shape[1]):
        for value in values[:, j]:
            if not isinstance(value, (str, bytes)):
                continue  # numbers, and missing values (another error's business)
            try:
                float(value)
            except ValueError:
                if frame:
                    return f"feature column {X.columns[j]!r}", value
                return f"feature column {j} (counted without the task column)", value
    return None


def _encode_tasks(labels, tasks, allow_unseen=False):
    """Codes of ``labels`` in the sorted ``tasks``.

    A label not among ``tasks`` raises, or gets code -1 with
    ``allow_unseen=True``.
    """
    mismatch = ValueError(
        f"Task labels of type {labels.dtype} cannot be compared with the "
        f"task labels seen in fit ({tasks.dtype})."
    )
    # NumPy would compare the number 7 with the string "7" (as unequal, or
    # by converting one to the other's type): only numbers compare with
    # numbers.
    comparable = (labels.dtype.kind in _NUMERIC_KINDS) == (tasks.dtype.kind in _NUMERIC_KINDS)
    try:
        codes = np.searchsorted(tasks, labels) if comparable else None
    except TypeError:
        codes = None
    if codes is None:
        # Labels of another type than the fitted tasks ("7" against 7) are
        # other tasks: all unseen.
        if allow_unseen:
            return np.full(len(labels), -1, dtype=np.intp)
        raise mismatch
    codes = np.minimum(codes, len(tasks) - 1)
    unseen = tasks[codes] != labels
    if allow_unseen:
        return np.where(unseen, -1, codes)
    if np.any(unseen):
        unknown = np.unique(labels[unseen])
        shown = ", ".join(_show(u) for u in unknown[:10])
        raise ValueError(
            f"Unknown task label(s) {shown}{' ...' if len(unknown) > 10 else ''} "
            f"not seen during fit; known tasks: {_preview(tasks)}."
        )
    return codes


def _show(value):
    """repr of a label without NumPy's scalar wrapper (``1``, not ``np.int64(1)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _preview(tasks, limit=10):
    shown = ", ".join(_show(t) for t in tasks[:limit])
    return f"[{shown}{', ...' if len(tasks) > limit else ''}]"


def _task_name(tasks, t, layout):
    if layout == "wide":
        return f"task {t} (column {t} of y)"
    return f"task {_show(tasks[t])}"


def _check_wide_targets(Y, mask, target_type, allow_single_class):
    """Per-task checks of a wide ``Y``: labels present, finite or valid classes."""
    tasks = np.arange(Y.shape[1])
    empty = np.flatnonzero(mask.sum(axis=0) == 0)
    if len(empty):
        raise ValueError(
            f"{_task_name(tasks, empty[0], 'wide')} has no labeled rows "
            "(all labels missing); drop it or provide labels."
        )
    if target_type == "continuous":
        if not np.all(np.isfinite(Y if mask.all() else Y[mask])):
            raise ValueError("Input y contains infinity or a value too large for float64.")
        return
    for t in tasks:
        _check_classes(_homogeneous(Y[mask[:, t], t]), _task_name(tasks, t, "wide"), allow_single_class)


def _check_classes(labels, name, allow_single_class=False):
    check_classification_targets(labels)
    if not allow_single_class and len(np.unique(labels)) < 2:
        raise ValueError(
            f"{name} has only one class ({_show(np.unique(labels)[0])}); a "
            "classifier needs at least two classes per task."
        )


def _as_targets(y, target_type, estimator_name):
    if y is None:
        raise ValueError(
            f"{estimator_name or 'This estimator'} requires y to be passed, "
            "but the target y is None."
        )
    y = np.asarray(y) if not sp.issparse(y) else y
    if sp.issparse(y):
        raise TypeError("A sparse y is not supported; pass a dense array.")
    if target_type == "continuous":
        if y.dtype.kind not in "biuf":
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"y must hold numbers for a regressor; got dtype {y.dtype}."
                ) from exc
        y = y.astype(np.float64, copy=False)
    if y.dtype.kind == "c":
        raise ValueError("Complex data not supported.")
    return y


def _refuse_dask(estimator_name, **arrays):
    """Name the dask input an in-memory model cannot take, instead of failing inside pandas' API."""
    from .utils._dask import is_dask_collection  # skmtl.utils imports this module

    for name, value in arrays.items():
        if is_dask_collection(value):
            raise TypeError(
                f"{estimator_name or 'This estimator'} got a dask {type(value).__name__} as {name}; "
                "it works on data in memory. Only HierarchicalRegressor fits from a dask DataFrame "
                "(out of core); for this model call .compute() on it first to get a pandas or "
                "NumPy object."
            )


def check_task_data(
    X,
    y,
    *,
    task_column=None,
    target_type="continuous",
    sample_weight=None,
    accept_sparse=True,
    dtype=FLOAT_DTYPES,
    estimator_name=None,
    allow_single_class=False,
):
    """Validate ``X, y`` in either layout and build a :class:`TaskData`.

    Parameters
    ----------
    X : array-like, sparse matrix or DataFrame
    y : array-like
        Wide layout: (n_samples,) or (n_samples, n_tasks) with NaN for a
        missing label. Long layout: (n_samples,).
    task_column : int, str or None
        None for the wide layout, else the task column of ``X``.
    target_type : {"continuous", "classification"}
    sample_weight : array-like of shape (n_samples,) or None
    accept_sparse : bool
    dtype : dtype or tuple of dtypes
    estimator_name : str or None
        Used in error messages.
    allow_single_class : bool, default=False
        Classification only: accept a task whose labeled rows hold a single
        class, as long as all labels together hold two. For models that
        share strength across tasks enough to fit such a task (a rare event
        seen in some tasks only: ``HierarchicalClassifier``'s random
        intercept); other classifiers need two classes per task.

    Returns
    -------
    TaskData
        Never a view that could write into the caller's arrays: the solvers
        only read ``X`` and ``y``.
    """
    _refuse_dask(estimator_name, X=X, y=y, sample_weight=sample_weight)
    if task_column is None:
        X = _check_features(X, estimator_name=estimator_name, accept_sparse=accept_sparse, dtype=dtype)
        y = _as_targets(y, target_type, estimator_name)
        if y.ndim not in (1, 2) or (y.ndim == 2 and y.shape[1] == 0):
            raise ValueError(
                f"y must be 1-D (one task) or 2-D (n_samples, n_tasks); got shape {y.shape}."
            )
        if y.shape[0] != X.shape[0]:
            raise ValueError(
                f"X and y have inconsistent numbers of samples: X has "
                f"{X.shape[0]} rows, y has {y.shape[0]}."
            )
        single_output = y.ndim == 1
        Y = y.reshape(-1, 1) if single_output else y
        mask = ~_missing(Y)
        tasks = np.arange(Y.shape[1])
        _check_wide_targets(Y, mask, target_type, allow_single_class)
        if mask.all():
            # Every label observed: each task holds every row.
            rows = np.tile(np.arange(Y.shape[0]), Y.shape[1])
            indptr = Y.shape[0] * np.arange(Y.shape[1] + 1)
        else:
            # Column-major nonzero of the mask lists each task's rows in order.
            task_of, rows = np.nonzero(mask.T)
            indptr = np.searchsorted(task_of, np.arange(Y.shape[1] + 1))
        codes = None
        y_out = Y
    else:
        features, labels = split_task_column(X, task_column)
        X = _check_features(features, estimator_name=estimator_name, accept_sparse=accept_sparse, dtype=dtype)
        y = _as_targets(y, target_type, estimator_name)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1:
            raise ValueError(
                f"With task_column set (long layout), y must be 1-D; got shape {y.shape}."
            )
        if y.shape[0] != X.shape[0]:
            raise ValueError(
                f"X and y have inconsistent numbers of samples: X has "
                f"{X.shape[0]} rows, y has {y.shape[0]}."
            )
        missing = _missing(y)
        if missing.any():
            raise ValueError(
                f"y contains {int(missing.sum())} missing label(s) (NaN/None). In "
                "the long layout every row is one (sample, task) label: drop "
                "unlabeled rows before fitting."
            )
        if target_type == "continuous" and not np.all(np.isfinite(y)):
            raise ValueError("Input y contains infinity or a value too large for float64.")
        tasks, codes, rows, indptr = _group_by_task(labels)
        if target_type == "classification":
            for t in range(len(tasks)):
                _check_classes(
                    y[rows[indptr[t] : indptr[t + 1]]], _task_name(tasks, t, "long"), allow_single_class
                )
        single_output = False
        mask = None
        y_out = y
    if allow_single_class and target_type == "classification":
        # One class in a task is accepted, one class in all the data is not.
        classes = np.unique(_homogeneous(y_out if mask is None else y_out[mask]))
        if len(classes) < 2:
            raise ValueError(
                f"y has only one class ({_show(classes[0])}) over all tasks; a "
                "classifier needs at least two classes."
            )
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
    return TaskData(
        X=X,
        y=y_out,
        mask=mask,
        task_codes=codes,
        tasks=tasks,
        sample_weight=sample_weight,
        single_output=single_output,
        order=rows,
        task_indptr=indptr,
    )


def check_task_X(
    X,
    *,
    task_column,
    tasks=None,
    allow_unseen=False,
    accept_sparse=True,
    dtype=FLOAT_DTYPES,
    estimator_name=None,
):
    """Validate ``X`` at predict time.

    Parameters
    ----------
    X : array-like, sparse matrix or DataFrame
    task_column : int, str or None
        None for the wide layout, else the task column of ``X``.
    tasks : ndarray of shape (n_tasks,) or None
        Sorted task labels seen in fit; None to ignore the task column
        (``task_codes`` is then None).
    allow_unseen : bool, default=False
        False: a task label not in ``tasks`` raises a ``ValueError`` naming
        it. True: its rows get code -1, for models that predict tasks never
        seen in fit (``unseen_task="population"``).
    accept_sparse : bool
    dtype : dtype or tuple of dtypes
    estimator_name : str or None
        Used in error messages.

    Returns
    -------
    features : ndarray or CSR matrix of shape (n_samples, n_features)
    task_codes : ndarray of int of shape (n_samples,) or None
        Position of each row's task in ``tasks`` (long layout), -1 for an
        unseen task when ``allow_unseen=True``.
    """
    _refuse_dask(estimator_name, X=X)
    if task_column is None:
        return _check_features(X, estimator_name=estimator_name, accept_sparse=accept_sparse, dtype=dtype), None
    features, labels = split_task_column(X, task_column)
    features = _check_features(features, estimator_name=estimator_name, accept_sparse=accept_sparse, dtype=dtype)
    codes = None if tasks is None else _encode_tasks(labels, tasks, allow_unseen)
    return features, codes
