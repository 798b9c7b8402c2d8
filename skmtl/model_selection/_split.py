"""Cross-validation splitters that respect tasks.

* :class:`TaskStratifiedShuffleSplit` and :class:`TaskStratifiedKFold` split
  every task in the same proportion, so each task is both trained on and
  evaluated (the protocol of the School benchmark: a random 75/25 split of
  each school's students).
* :class:`LeaveTasksOut` holds out whole tasks, to measure how a model does
  on tasks it has never seen.

Each row's task comes from, in order: the ``groups`` argument of ``split``;
the ``task_column`` of ``X`` (position or DataFrame column name, read with
:func:`skmtl._data.split_task_column` as the estimators do); otherwise (wide
layout) all rows form one group.

All splitters work with ``cross_val_score``, ``cross_validate`` and
``GridSearchCV(cv=...)``. Pass ``groups`` to those functions, or set
``task_column`` on the splitter to the estimator's ``task_column``.
"""

import numbers

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.model_selection._split import BaseShuffleSplit
from sklearn.utils import check_random_state, indexable
from sklearn.utils.validation import _num_samples

from .._data import _group_by_task, _normalize_task_labels, _show, split_task_column

__all__ = ["LeaveTasksOut", "TaskStratifiedKFold", "TaskStratifiedShuffleSplit"]


# --------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------


def _task_codes(X, groups, task_column, n_samples):
    """Task code of each row and the sorted task labels, or ``(None, None)``.

    ``groups`` wins over ``task_column``; with neither there are no tasks.
    """
    if groups is not None:
        # Not np.asarray(groups): it would turn a list mixing 1 and "1"
        # into the strings "1" and "1", one task.
        labels = _normalize_task_labels(groups)
        if labels.shape[0] != n_samples:
            raise ValueError(
                f"groups has {labels.shape[0]} entries but X has {n_samples} rows."
            )
    elif task_column is not None:
        labels = split_task_column(X, task_column)[1]
    else:
        return None, None
    tasks, codes, _, _ = _group_by_task(labels)
    return codes, tasks


def _group_rows(codes, rng=None):
    """Rows ordered task by task; within a task in data order or, with ``rng``, random.

    Returns ``(order, rank)``: ``order`` lists the rows grouped by task and
    ``rank[i]`` is the position of ``order[i]`` within its task.
    """
    n = len(codes)
    if rng is None:
        order = np.argsort(codes, kind="stable")
    else:
        perm = rng.permutation(n)
        order = perm[np.argsort(codes[perm], kind="stable")]
    sorted_codes = codes[order]
    starts = np.searchsorted(sorted_codes, sorted_codes, side="left")
    return order, np.arange(n) - starts


def _check_n_splits(n_splits, minimum):
    if (
        isinstance(n_splits, (bool, np.bool_))
        or not isinstance(n_splits, numbers.Integral)
        or n_splits < minimum
    ):
        raise ValueError(
            f"n_splits must be an int >= {minimum}; got n_splits={n_splits!r}."
        )


def _check_shuffle(shuffle, random_state, name):
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False; got {shuffle!r}.")
    if not shuffle and random_state is not None:
        raise ValueError(
            f"Setting random_state has no effect since shuffle is False in {name}; "
            "leave random_state=None or set shuffle=True."
        )


def _check_task_column(task_column):
    if task_column is not None and (
        isinstance(task_column, (bool, np.bool_))
        or not isinstance(task_column, (numbers.Integral, str))
    ):
        raise TypeError(
            f"task_column must be an int position, a column name or None; got {task_column!r}."
        )


def _check_size(value, name):
    if value is None:
        return
    if isinstance(value, (bool, np.bool_)):
        pass
    elif isinstance(value, numbers.Integral):
        if value >= 1:
            return
    elif isinstance(value, numbers.Real) and 0 < value < 1:
        return
    raise ValueError(
        f"{name}={value!r} should be a float in (0, 1) (fraction of each task's "
        "rows) or an int >= 1 (number of rows per task), or None."
    )


def _names(tasks, positions, limit=5):
    shown = ", ".join(_show(tasks[t]) for t in positions[:limit])
    return shown + (" ..." if len(positions) > limit else "")


def _with_classes(codes, y):
    """One code per (task, class) pair of the rows, for class-stratified folds."""
    if y is None:
        raise ValueError("stratify_y=True needs the class labels: pass y to split.")
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(codes):
        raise ValueError(
            f"stratify_y=True needs one class label per row; got y of shape {y.shape} "
            f"for {len(codes)} rows."
        )
    classes = np.unique(y, return_inverse=True)[1].reshape(-1)
    return np.unique(codes * (classes.max() + 1) + classes, return_inverse=True)[1].reshape(-1)


def _n_rows(value, n_per_task, rounding):
    """Per-task row counts for a fraction (rounded) or an absolute int."""
    if isinstance(value, numbers.Integral):
        return np.full(len(n_per_task), int(value))
    # round() first: 0.3 * 10 is 3.0000000000000004, whose ceil would be 4.
    return rounding(np.round(value * n_per_task, 8)).astype(np.intp)


# --------------------------------------------------------------------------
# Splitters
# --------------------------------------------------------------------------


class TaskStratifiedShuffleSplit(BaseShuffleSplit):
    """Random train/test splits that split every task in the same proportion.

    Each split draws, independently within every task, ``test_size`` of the
    task's rows for testing and ``train_size`` for training. This is the
    evaluation protocol of the School benchmark (a random 75/25 split of
    every school's students, or 10/20/30 % of each school for training).
    Unlike scikit-learn's ``StratifiedShuffleSplit``, the proportion is
    exact per task (up to rounding), not only in expectation, and no task is
    ever missing from the training set.

    Row counts for a task with ``n_t`` rows:

    * ``n_test = ceil(test_size * n_t)`` and ``n_train = floor(train_size *
      n_t)`` for fractions (the rounding of ``ShuffleSplit``); an int is a
      number of rows per task; a size left None is the complement;
    * then, for ``n_t >= 2``, ``n_test`` is clipped to ``[1, n_t - 1]`` and
      ``n_train`` to ``[1, n_t - n_test]``, so every task has at least one
      training and one test row (an int larger than a task allows is
      reduced for that task);
    * a task with a single row always goes to training.

    Parameters
    ----------
    n_splits : int, default=10
        Number of re-shuffling and splitting iterations.
    test_size : float or int, default=None
        Fraction in (0, 1) of each task's rows, or number of rows per task,
        to test on. None: the complement of ``train_size``, or 0.1 when both
        are None.
    train_size : float or int, default=None
        Fraction or number of each task's rows to train on. None: the
        complement of ``test_size``.
    task_column : int or str, default=None
        Column of ``X`` holding the task labels (long layout). Ignored when
        ``groups`` is passed to :meth:`split`. With neither, all rows form
        one group and this is a plain shuffle split (wide layout).
    random_state : int, RandomState instance or None, default=None
        Pass an int for reproducible splits across calls.

    See Also
    --------
    TaskStratifiedKFold : k-fold within every task.
    LeaveTasksOut : hold out whole tasks.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.model_selection import TaskStratifiedShuffleSplit
    >>> X = np.arange(12).reshape(-1, 1)
    >>> tasks = np.repeat(["a", "b"], [4, 8])
    >>> cv = TaskStratifiedShuffleSplit(n_splits=1, test_size=0.25, random_state=0)
    >>> train, test = next(cv.split(X, groups=tasks))
    >>> tasks[test]
    array(['a', 'b', 'b'], dtype='<U1')
    """

    __metadata_request__split = {"groups": True}

    def __init__(
        self, n_splits=10, *, test_size=None, train_size=None, task_column=None, random_state=None
    ):
        _check_n_splits(n_splits, 1)
        _check_size(test_size, "test_size")
        _check_size(train_size, "train_size")
        if (
            isinstance(test_size, float)
            and isinstance(train_size, float)
            and test_size + train_size > 1 + 1e-12
        ):
            raise ValueError(
                f"test_size + train_size = {test_size + train_size:g} should be <= 1 "
                "(they are fractions of each task's rows)."
            )
        _check_task_column(task_column)
        super().__init__(
            n_splits=n_splits, test_size=test_size, train_size=train_size, random_state=random_state
        )
        self.task_column = task_column
        self._default_test_size = 0.1

    def _task_sizes(self, n_per_task):
        """``(n_train, n_test)`` per task, following the rules in the class docstring."""
        test_size, train_size = self.test_size, self.train_size
        if test_size is None and train_size is None:
            test_size = self._default_test_size
        n_t = n_per_task
        room = np.maximum(n_t - 1, 1)
        if test_size is not None:
            n_test = np.clip(_n_rows(test_size, n_t, np.ceil), 1, room)
            if train_size is None:
                n_train = n_t - n_test
            else:
                n_train = np.clip(_n_rows(train_size, n_t, np.floor), 1, np.maximum(n_t - n_test, 1))
        else:
            n_train = np.clip(_n_rows(train_size, n_t, np.floor), 1, room)
            n_test = n_t - n_train
        single = n_t == 1
        n_train[single], n_test[single] = 1, 0
        return n_train, n_test

    def split(self, X, y=None, groups=None):
        """Generate train/test indices, every task split in the same ratio.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_columns)
            Holds the task column when ``task_column`` is set.
        y : array-like, default=None
            Ignored; present for API compatibility.
        groups : array-like of shape (n_samples,), default=None
            Task label of each row; takes precedence over ``task_column``.

        Yields
        ------
        train : ndarray of int
            Training row indices, sorted.
        test : ndarray of int
            Test row indices, sorted.
        """
        yield from super().split(X, y, groups)

    def _iter_indices(self, X, y=None, groups=None):
        n_samples = _num_samples(X)
        codes, _ = _task_codes(X, groups, self.task_column, n_samples)
        if codes is None:
            codes = np.zeros(n_samples, dtype=np.intp)
        n_train, n_test = self._task_sizes(np.bincount(codes))
        if n_test.sum() == 0:
            raise ValueError(
                f"Every task has a single row ({n_samples} rows in all), so no row "
                "can be held out for testing."
            )
        rng = check_random_state(self.random_state)
        for _ in range(self.n_splits):
            order, rank = _group_rows(codes, rng)
            t = codes[order]
            is_test = rank < n_test[t]
            is_train = ~is_test & (rank < n_test[t] + n_train[t])
            yield np.sort(order[is_train]), np.sort(order[is_test])


class _TaskCrossValidator(BaseCrossValidator):
    """k-fold skeleton: ``get_n_splits``, a documented ``split``, task lookup."""

    __metadata_request__split = {"groups": True}

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of splits, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored; present for API compatibility.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits

    def split(self, X, y=None, groups=None):
        """Generate train/test indices.

        Parameters
        ----------
        X : array-like, sparse matrix or DataFrame of shape (n_samples, n_columns)
            Holds the task column when ``task_column`` is set.
        y : array-like, default=None
            Ignored; present for API compatibility.
        groups : array-like of shape (n_samples,), default=None
            Task label of each row; takes precedence over ``task_column``.

        Yields
        ------
        train : ndarray of int
            Training row indices, sorted.
        test : ndarray of int
            Test row indices, sorted.
        """
        X, y, groups = indexable(X, y, groups)
        yield from super().split(X, y, groups)

    def _iter_test_masks(self, X=None, y=None, groups=None):
        fold = self._test_folds(X, y, groups)
        for f in range(self.n_splits):
            yield fold == f


class TaskStratifiedKFold(_TaskCrossValidator):
    """K-fold cross-validation within every task.

    Each task's rows are split into ``n_splits`` folds of (nearly) equal
    size, and fold ``k`` of the splitter is the union of every task's fold
    ``k``: every task is trained on about ``(n_splits - 1) / n_splits`` of its
    rows and tested on the rest, in every fold.

    Folds are contiguous blocks of each task's rows (in data order, or in a
    random order with ``shuffle=True``). When ``n_t`` is not a multiple of
    ``n_splits`` the larger folds rotate between tasks, so the total fold
    sizes differ by at most one row. Without shuffling this is exactly
    scikit-learn's ``StratifiedKFold`` with the task labels as classes.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2. Every task needs at least ``n_splits``
        rows.
    shuffle : bool, default=False
        Shuffle each task's rows before splitting them into folds.
    task_column : int or str, default=None
        Column of ``X`` holding the task labels (long layout). Ignored when
        ``groups`` is passed to :meth:`split`. With neither, all rows form
        one group and this is a plain k-fold (wide layout).
    random_state : int, RandomState instance or None, default=None
        Used when ``shuffle=True``; must be None otherwise.
    stratify_y : bool, default=False
        Also stratify by the class labels ``y`` passed to :meth:`split`:
        every class of every task is spread over the folds (scikit-learn's
        ``StratifiedKFold`` within each task), so a class with at least two
        rows in a task is left in the training rows of every fold. For
        classification targets with rare classes.

    See Also
    --------
    TaskStratifiedShuffleSplit, LeaveTasksOut

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.model_selection import TaskStratifiedKFold
    >>> X = np.column_stack([np.arange(6), [0, 0, 0, 1, 1, 1]])
    >>> for train, test in TaskStratifiedKFold(n_splits=3, task_column=-1).split(X):
    ...     print(test)
    [0 3]
    [1 4]
    [2 5]
    """

    def __init__(self, n_splits=5, *, shuffle=False, task_column=None, random_state=None,
                 stratify_y=False):
        _check_n_splits(n_splits, 2)
        _check_shuffle(shuffle, random_state, type(self).__name__)
        _check_task_column(task_column)
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.task_column = task_column
        self.random_state = random_state
        self.stratify_y = stratify_y

    def _test_folds(self, X, y, groups):
        n_samples = _num_samples(X)
        codes, tasks = _task_codes(X, groups, self.task_column, n_samples)
        k = self.n_splits
        if codes is None:
            if n_samples < k:
                raise ValueError(
                    f"Cannot have n_splits={k} greater than the number of samples: "
                    f"n_samples={n_samples}."
                )
            codes = np.zeros(n_samples, dtype=np.intp)
        else:
            n_per_task = np.bincount(codes)
            small = np.flatnonzero(n_per_task < k)
            if len(small):
                raise ValueError(
                    f"{type(self).__name__}(n_splits={k}) needs at least {k} rows per "
                    f"task (one per test fold); task {_names(tasks, small)} has only "
                    f"{n_per_task[small[0]]} row{'s' if n_per_task[small[0]] != 1 else ''}"
                    f"{'' if len(small) == 1 else f' ({len(small)} tasks too small)'}. "
                    "Lower n_splits, or drop or merge the small tasks."
                )
        if self.stratify_y:
            codes = _with_classes(codes, y)
        rng = check_random_state(self.random_state) if self.shuffle else None
        order, rank = _group_rows(codes, rng)
        t = codes[order]
        # As StratifiedKFold: dealing the task-sorted rows round-robin gives
        # each (fold, task) its size, so the extra rows of a task whose size
        # is not a multiple of k land in different folds for different tasks.
        alloc = np.bincount(
            (np.arange(n_samples) % k) * (t.max() + 1) + t, minlength=k * (t.max() + 1)
        ).reshape(k, -1)
        ends = np.cumsum(alloc, axis=0)  # fold f of task t ends at rank ends[f, t]
        fold = np.empty(n_samples, dtype=np.intp)
        fold[order] = (ends[:, t] <= rank).sum(axis=0)
        return fold


class LeaveTasksOut(_TaskCrossValidator):
    """K-fold over tasks: each test fold holds out whole tasks.

    Measures how a model does on tasks it has never seen (``GroupKFold``
    with the tasks as groups). The model must predict unseen tasks: the
    estimators with a population part do with ``unseen_task="population"``
    (:class:`~skmtl.linear_model.HierarchicalRegressor` and
    :class:`~skmtl.linear_model.HierarchicalClassifier`: the fixed part;
    :class:`~skmtl.linear_model.MeanRegularizedRegressor` and
    :class:`~skmtl.linear_model.MeanRegularizedClassifier`: the mean
    task; :class:`~skmtl.multitask.PooledTasks` with
    ``task_features="onehot"``: no task offset;
    :class:`~skmtl.kernel_ridge.MultiTaskKernelRidge` with the
    "mean_regularized" or "pooled" task kernel: the shared part), and
    ``PooledTasks`` without task features ignores the task. Other
    long-layout estimators raise on the first unseen task. ``score`` scores
    each held-out task on its own rows.

    Without shuffling, tasks are assigned largest first to the fold with the
    fewest rows so far (as scikit-learn's ``GroupKFold``), which balances the
    number of test rows. With ``shuffle=True`` the tasks are randomly
    permuted and cut into ``n_splits`` groups of (nearly) equal numbers of
    tasks.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2 and at most the number of tasks.
        ``n_splits = n_tasks`` is leave-one-task-out.
    task_column : int or str, default=None
        Column of ``X`` holding the task labels. Ignored when ``groups`` is
        passed to :meth:`split`; one of the two is required.
    shuffle : bool, default=False
        Assign tasks to folds at random.
    random_state : int, RandomState instance or None, default=None
        Used when ``shuffle=True``; must be None otherwise.

    See Also
    --------
    TaskStratifiedKFold : every task in every fold.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.model_selection import LeaveTasksOut
    >>> X = np.zeros((6, 1))
    >>> tasks = ["a", "a", "a", "b", "b", "c"]
    >>> for train, test in LeaveTasksOut(n_splits=2).split(X, groups=tasks):
    ...     print(train, test)
    [3 4 5] [0 1 2]
    [0 1 2] [3 4 5]
    """

    def __init__(self, n_splits=5, *, task_column=None, shuffle=False, random_state=None):
        _check_n_splits(n_splits, 2)
        _check_shuffle(shuffle, random_state, type(self).__name__)
        _check_task_column(task_column)
        self.n_splits = n_splits
        self.task_column = task_column
        self.shuffle = shuffle
        self.random_state = random_state

    def _test_folds(self, X, y, groups):
        codes, tasks = _task_codes(X, groups, self.task_column, _num_samples(X))
        if codes is None:
            raise ValueError(
                "LeaveTasksOut needs each row's task: pass groups to split (or to "
                "cross_val_score / GridSearchCV.fit), or set task_column."
            )
        k, n_tasks = self.n_splits, len(tasks)
        if k > n_tasks:
            raise ValueError(
                f"Cannot have n_splits={k} greater than the number of tasks: {n_tasks}."
            )
        fold_of_task = np.empty(n_tasks, dtype=np.intp)
        if self.shuffle:
            rng = check_random_state(self.random_state)
            for f, chunk in enumerate(np.array_split(rng.permutation(n_tasks), k)):
                fold_of_task[chunk] = f
        else:
            sizes = np.bincount(codes, minlength=n_tasks)
            rows_in_fold = np.zeros(k, dtype=np.intp)
            # Greedy largest-first bin packing; a loop over tasks, not rows.
            for t in np.argsort(-sizes, kind="stable"):
                f = np.argmin(rows_in_fold)
                fold_of_task[t] = f
                rows_in_fold[f] += sizes[t]
        return fold_of_task[codes]


def check_task_cv(cv, task_column, default=5):
    """The cross-validator of a multi-task ``*CV`` estimator.

    In the long layout, rows are grouped by task, so scikit-learn's default
    for an int (or None) ``cv``, an unshuffled ``KFold``, would hold whole
    tasks out and leave tasks unseen at fit time: there, an int means a
    :class:`TaskStratifiedKFold` on the task column (every fold holds rows
    of every task). A splitter or an iterable is used as given.
    """
    if task_column is not None and (cv is None or isinstance(cv, numbers.Integral)):
        return TaskStratifiedKFold(default if cv is None else cv, task_column=task_column)
    return default if cv is None else cv
