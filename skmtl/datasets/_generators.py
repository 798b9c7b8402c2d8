"""Synthetic multi-task problems with a planted, known structure.

Each generator returns ``(X, y, truth)``: data in the wide or long layout
(DESIGN.md section 2) and a :class:`~sklearn.utils.Bunch` holding the true
coefficients and the structure they were drawn from, so that a test or a
benchmark can check what an estimator recovers.

All generators share one model. Task ``t`` has coefficients ``coef[t]`` and an
intercept ``intercept[t]`` (drawn from N(0, 1)); its inputs are i.i.d. standard
normal and its targets are

* regression: ``y = x @ coef[t] + intercept[t] + noise * e``, ``e ~ N(0, 1)``;
* classification: ``y = 1[x @ coef[t] + intercept[t] + noise * l > 0]``,
  ``l`` standard logistic, i.e. ``P(y = 1 | x) = sigmoid(score / noise)``.

Only the draw of ``coef`` differs between generators.
"""

import numbers

import numpy as np
from sklearn.utils import Bunch, check_random_state

__all__ = ["make_sparse_multitask", "make_low_rank_multitask", "make_clustered_multitask"]

_LAYOUTS = ("wide", "long")

# Shared docstring pieces (numpydoc), filled into each generator's docstring.
_COMMON_PARAMETERS = """\
    noise : float, default=0.1
        Regression: ``y = x @ coef[t] + intercept[t] + noise * e`` with
        ``e ~ N(0, 1)``. Classification: scale of the logistic noise added
        to the linear score before thresholding (0 gives noiseless labels).
        Inputs ``x`` are i.i.d. N(0, 1), intercepts are drawn from N(0, 1).

    task_sizes : None, "unequal" or array-like of int, default=None
        Number of labeled rows of each task (related tasks first, then the
        unrelated ones). None: ``n_samples`` for every task. ``"unequal"``:
        drawn uniformly between ``n_samples // 4`` and ``n_samples``
        (at least 1, or 2 for classification). In layout ``"long"`` each
        task gets that many rows with its own inputs (an array may then
        exceed ``n_samples``); in layout ``"wide"`` all tasks share the
        ``n_samples`` rows of ``X`` and a task with ``n_t < n_samples`` has
        its other labels missing at random (NaN).

    n_unrelated_tasks : int, default=0
        Extra tasks appended after the ``n_tasks`` related ones, with
        coefficients drawn independently of the planted structure:
        {unrelated}. Their indices are ``truth.unrelated_tasks``. This is
        the "related tasks plus a few unrelated ones" benchmark.

    layout : {{"wide", "long"}}, default="wide"
        ``"wide"``: ``X`` of shape (n_samples, n_features) shared by all
        tasks, ``y`` of shape (n_samples, n_tasks_total), NaN = missing.
        ``"long"``: one row per (sample, task), rows grouped by task in task
        order, the task id (0..T-1, as a float) in the LAST column of ``X``
        (``task_column=-1``), ``y`` 1-D.

    classification : bool, default=False
        If True, binary labels in {{0, 1}}:
        ``y = 1[x @ coef[t] + intercept[t] + noise * l > 0]`` with ``l``
        standard logistic, i.e. ``P(y = 1 | x) = sigmoid(score / noise)``
        (a logistic model with coefficients ``coef / noise``). Every task
        holds both classes: in the rare draw where a task gets a single
        class, the label of its row whose score lies closest to the other
        class is flipped.

    random_state : int, RandomState instance or None, default=None
        Seed of the random draws; an int gives reproducible output."""

_COMMON_RETURNS = """\
    X : ndarray of shape (n_samples, n_features) or (n_rows, n_features + 1)
        Inputs. Layout ``"long"``: ``n_rows = sum(truth.task_sizes)`` and
        the last column is the task id.

    y : ndarray of shape (n_samples, n_tasks_total) or (n_rows,)
        Targets. Wide layout: float64 with NaN for missing labels (labels
        0.0 / 1.0 for classification). Long layout: float64, or int64 labels
        for classification.

    truth : :class:`~sklearn.utils.Bunch`
        The ground truth, with ``n_tasks_total = n_tasks + n_unrelated_tasks``:

        coef : ndarray of shape (n_tasks_total, n_features)
            True coefficients, one row per task.
        intercept : ndarray of shape (n_tasks_total,)
            True intercepts.
        task_sizes : ndarray of int of shape (n_tasks_total,)
            Number of labeled rows of each task.
        unrelated_tasks : ndarray of int
            Indices of the unrelated tasks (the last ``n_unrelated_tasks``).
        noise : float
            The ``noise`` argument.
        layout : str
            The ``layout`` argument.
        task_column : int or None
            ``-1`` in the long layout, None in the wide one."""


_SPARSE_PARAMETERS = _COMMON_PARAMETERS.format(
    unrelated="each on its own random support of\n        ``n_informative`` features"
)
_LOW_RANK_PARAMETERS = _COMMON_PARAMETERS.format(
    unrelated="i.i.d. Gaussian, outside the shared\n        subspace, with the same expected norm"
)
_CLUSTERED_PARAMETERS = _COMMON_PARAMETERS.format(
    unrelated="each a cluster of its own, drawn like\n        a cluster centre"
)


def _check_int(value, name, minimum):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {name}={value!r}.")
    return int(value)


def _check_common(n_samples, n_features, n_tasks, noise, n_unrelated_tasks, layout, classification):
    if layout not in _LAYOUTS:
        raise ValueError(f"layout must be 'wide' or 'long'; got layout={layout!r}.")
    n_samples = _check_int(n_samples, "n_samples", 2 if classification else 1)
    n_features = _check_int(n_features, "n_features", 1)
    n_tasks = _check_int(n_tasks, "n_tasks", 1)
    n_unrelated_tasks = _check_int(n_unrelated_tasks, "n_unrelated_tasks", 0)
    if not isinstance(noise, numbers.Real) or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0; got noise={noise!r}.")
    return n_samples, n_features, n_tasks, n_unrelated_tasks


def _task_sizes(task_sizes, n_samples, n_tasks_total, layout, classification, rng):
    """Validated (or drawn) number of labeled rows per task."""
    smallest = 2 if classification else 1
    if task_sizes is None:
        return np.full(n_tasks_total, n_samples)
    if isinstance(task_sizes, str):
        if task_sizes != "unequal":
            raise ValueError(
                f"task_sizes must be None, 'unequal' or an array of ints; got task_sizes={task_sizes!r}."
            )
        low = max(n_samples // 4, smallest)
        return rng.randint(low, n_samples + 1, size=n_tasks_total)
    sizes = np.asarray(task_sizes)
    if sizes.shape != (n_tasks_total,):
        raise ValueError(
            f"task_sizes must hold one size per task ({n_tasks_total} = n_tasks + "
            f"n_unrelated_tasks); got an array of shape {sizes.shape}."
        )
    if sizes.dtype.kind not in "iu" and not (sizes.dtype.kind == "f" and np.all(sizes == np.round(sizes))):
        raise ValueError(f"task_sizes must hold integers; got {sizes.tolist()}.")
    sizes = sizes.astype(np.int64)
    if sizes.min() < smallest:
        raise ValueError(
            f"Every task needs at least {smallest} row(s)"
            f"{' (two classes)' if classification else ''}; task_sizes has "
            f"{int(sizes.min())} for task {int(np.argmin(sizes))}."
        )
    if layout == "wide" and sizes.max() > n_samples:
        raise ValueError(
            f"In layout 'wide' a task cannot have more labels than the "
            f"n_samples={n_samples} shared rows; task_sizes has {int(sizes.max())} "
            f"for task {int(np.argmax(sizes))}."
        )
    return sizes


def _sparse_row(rng, n_features, n_informative):
    """A coefficient vector on a random support, magnitudes in [0.5, 1.5]."""
    row = np.zeros(n_features)
    support = rng.choice(n_features, n_informative, replace=False)
    row[support] = _magnitudes(rng, n_informative)
    return row


def _magnitudes(rng, size):
    # Bounded away from zero so the planted support is recoverable.
    return rng.choice([-1.0, 1.0], size=size) * rng.uniform(0.5, 1.5, size=size)


def _simulate(coef, intercept, sizes, *, n_samples, noise, layout, classification, rng):
    """Draw inputs and targets of every task from the linear model."""
    n_tasks, n_features = coef.shape
    if layout == "wide":
        X = rng.standard_normal((n_samples, n_features))
        scores = X @ coef.T + intercept
        if np.all(sizes == n_samples):
            mask = np.ones((n_samples, n_tasks), dtype=bool)
        else:
            # Random ranks per column: task t keeps the labels of its
            # sizes[t] lowest-ranked rows, i.e. a uniformly random subset.
            ranks = np.argsort(np.argsort(rng.random_sample((n_samples, n_tasks)), axis=0), axis=0)
            mask = ranks < sizes
        task_of_row = None
    else:
        task_of_row = np.repeat(np.arange(n_tasks), sizes)
        X = rng.standard_normal((len(task_of_row), n_features))
        scores = np.einsum("ij,ij->i", X, coef[task_of_row]) + intercept[task_of_row]
        mask = None

    if not classification:
        y = scores + noise * rng.standard_normal(scores.shape)
    else:
        y = (scores + noise * rng.logistic(size=scores.shape) > 0).astype(np.int64)
        _ensure_two_classes(y, scores, mask, task_of_row)

    if layout == "wide":
        y = y.astype(np.float64)
        y[~mask] = np.nan
        return X, y
    return np.column_stack([X, task_of_row.astype(np.float64)]), y


def _ensure_two_classes(y, scores, mask, task_of_row):
    """Flip, in a task with one class, the label of its most ambiguous row."""
    if mask is not None:
        n_labeled = mask.sum(axis=0)
        n_positive = (y * mask).sum(axis=0)
    else:
        n_labeled = np.bincount(task_of_row)
        n_positive = np.bincount(task_of_row, weights=y, minlength=len(n_labeled))
    # Only the (rare) single-class tasks are visited.
    for t in np.flatnonzero((n_positive == 0) | (n_positive == n_labeled)):
        rows = np.flatnonzero(mask[:, t]) if mask is not None else np.flatnonzero(task_of_row == t)
        task_scores = scores[rows, t] if mask is not None else scores[rows]
        # All labels 1: the lowest score is the closest to class 0, and
        # vice versa.
        flip = rows[np.argmin(task_scores) if n_positive[t] else np.argmax(task_scores)]
        if mask is not None:
            y[flip, t] = 1 - y[flip, t]
        else:
            y[flip] = 1 - y[flip]


def _finish(coef, intercept, sizes, n_unrelated_tasks, *, n_samples, noise, layout, classification, rng, **fields):
    X, y = _simulate(
        coef,
        intercept,
        sizes,
        n_samples=n_samples,
        noise=noise,
        layout=layout,
        classification=classification,
        rng=rng,
    )
    n_tasks_total = coef.shape[0]
    truth = Bunch(
        coef=coef,
        intercept=intercept,
        task_sizes=np.asarray(sizes, dtype=np.int64),
        unrelated_tasks=np.arange(n_tasks_total - n_unrelated_tasks, n_tasks_total),
        noise=float(noise),
        layout=layout,
        task_column=-1 if layout == "long" else None,
        **fields,
    )
    return X, y, truth


def make_sparse_multitask(
    n_samples=100,
    n_features=50,
    n_tasks=10,
    n_informative=5,
    *,
    noise=0.1,
    task_sizes=None,
    n_unrelated_tasks=0,
    layout="wide",
    classification=False,
    random_state=None,
):
    rng = check_random_state(random_state)
    n_samples, n_features, n_tasks, n_unrelated_tasks = _check_common(
        n_samples, n_features, n_tasks, noise, n_unrelated_tasks, layout, classification
    )
    n_informative = _check_int(n_informative, "n_informative", 1)
    if n_informative > n_features:
        raise ValueError(
            f"n_informative={n_informative} cannot exceed n_features={n_features}."
        )
    n_tasks_total = n_tasks + n_unrelated_tasks
    sizes = _task_sizes(task_sizes, n_samples, n_tasks_total, layout, classification, rng)

    support = np.zeros(n_features, dtype=bool)
    support[rng.choice(n_features, n_informative, replace=False)] = True
    coef = np.zeros((n_tasks_total, n_features))
    coef[:n_tasks, support] = _magnitudes(rng, n_tasks * n_informative).reshape(n_tasks, n_informative)
    for t in range(n_tasks, n_tasks_total):
        coef[t] = _sparse_row(rng, n_features, n_informative)
    intercept = rng.standard_normal(n_tasks_total)
    return _finish(
        coef,
        intercept,
        sizes,
        n_unrelated_tasks,
        n_samples=n_samples,
        noise=noise,
        layout=layout,
        classification=classification,
        rng=rng,
        support=support,
    )


make_sparse_multitask.__doc__ = f"""Generate tasks sharing a sparse set of relevant features.

    The ``n_tasks`` related tasks have nonzero coefficients on the same
    ``n_informative`` features and on no other (the feature rows of the
    d x T weight matrix ``coef.T`` are jointly sparse): the setting of the
    L21 / group-lasso penalty
    (:class:`skmtl.linear_model.GroupLassoRegressor`,
    :class:`sklearn.linear_model.MultiTaskLasso`). Nonzero coefficients have a
    random sign and a magnitude uniform in [0.5, 1.5], drawn independently
    per task.

    Parameters
    ----------
    n_samples : int, default=100
        Number of rows of ``X`` in layout ``"wide"``; rows per task in layout
        ``"long"`` (unless ``task_sizes`` says otherwise).

    n_features : int, default=50
        Number of features (the task column excluded).

    n_tasks : int, default=10
        Number of related tasks.

    n_informative : int, default=5
        Number of features in the shared support.

{_SPARSE_PARAMETERS}

    Returns
    -------
{_COMMON_RETURNS}
        support : ndarray of bool of shape (n_features,)
            The shared support: ``coef[:n_tasks]`` is nonzero exactly in
            these columns.

    See Also
    --------
    make_low_rank_multitask, make_clustered_multitask

    Examples
    --------
    >>> from skmtl.datasets import make_sparse_multitask
    >>> X, Y, truth = make_sparse_multitask(n_samples=60, n_features=20, n_tasks=4,
    ...                                     n_informative=3, random_state=0)
    >>> X.shape, Y.shape, truth.coef.shape
    ((60, 20), (60, 4), (4, 20))
    >>> int(truth.support.sum())
    3
    >>> X, y, truth = make_sparse_multitask(n_samples=30, n_tasks=3, layout="long",
    ...                                     task_sizes="unequal", random_state=0)
    >>> X.shape[1], int(truth.task_sizes.sum()) == X.shape[0], truth.task_column
    (51, True, -1)
    """


def make_low_rank_multitask(
    n_samples=100,
    n_features=50,
    n_tasks=10,
    rank=3,
    *,
    noise=0.1,
    task_sizes=None,
    n_unrelated_tasks=0,
    layout="wide",
    classification=False,
    random_state=None,
):
    rng = check_random_state(random_state)
    n_samples, n_features, n_tasks, n_unrelated_tasks = _check_common(
        n_samples, n_features, n_tasks, noise, n_unrelated_tasks, layout, classification
    )
    rank = _check_int(rank, "rank", 1)
    if rank > min(n_features, n_tasks):
        raise ValueError(
            f"rank={rank} cannot exceed min(n_features, n_tasks) = "
            f"min({n_features}, {n_tasks}) = {min(n_features, n_tasks)}."
        )
    n_tasks_total = n_tasks + n_unrelated_tasks
    sizes = _task_sizes(task_sizes, n_samples, n_tasks_total, layout, classification, rng)

    # Orthonormal components: each related task's coef lies in their span,
    # with squared norm rank on average.
    components = np.linalg.qr(rng.standard_normal((n_features, rank)))[0].T
    task_loadings = rng.standard_normal((n_tasks, rank))
    coef = np.empty((n_tasks_total, n_features))
    coef[:n_tasks] = task_loadings @ components
    # Unrelated tasks: isotropic, with the same expected squared norm.
    coef[n_tasks:] = rng.standard_normal((n_unrelated_tasks, n_features)) * np.sqrt(rank / n_features)
    intercept = rng.standard_normal(n_tasks_total)
    return _finish(
        coef,
        intercept,
        sizes,
        n_unrelated_tasks,
        n_samples=n_samples,
        noise=noise,
        layout=layout,
        classification=classification,
        rng=rng,
        rank=rank,
        components=components,
        task_loadings=task_loadings,
    )


make_low_rank_multitask.__doc__ = f"""Generate tasks whose coefficients span a shared low-rank subspace.

    ``coef[:n_tasks] = task_loadings @ components`` has rank ``rank``: every
    related task is a combination of ``rank`` shared directions in feature
    space, the setting of trace-norm (nuclear-norm) regularization
    (:class:`skmtl.linear_model.TraceNormRegressor`). ``components`` has
    orthonormal rows (a random subspace) and ``task_loadings`` i.i.d.
    N(0, 1) entries.

    Parameters
    ----------
    n_samples : int, default=100
        Number of rows of ``X`` in layout ``"wide"``; rows per task in layout
        ``"long"`` (unless ``task_sizes`` says otherwise).

    n_features : int, default=50
        Number of features (the task column excluded).

    n_tasks : int, default=10
        Number of related tasks.

    rank : int, default=3
        Rank of the related tasks' coefficient matrix; at most
        ``min(n_features, n_tasks)``.

{_LOW_RANK_PARAMETERS}

    Returns
    -------
{_COMMON_RETURNS}
        rank : int
            The rank of ``coef[:n_tasks]``.
        components : ndarray of shape (rank, n_features)
            Orthonormal basis (rows) of the shared subspace.
        task_loadings : ndarray of shape (n_tasks, rank)
            Coordinates of each related task in that basis.

    See Also
    --------
    make_sparse_multitask, make_clustered_multitask

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.datasets import make_low_rank_multitask
    >>> X, Y, truth = make_low_rank_multitask(n_samples=50, n_features=20, n_tasks=8,
    ...                                       rank=2, random_state=0)
    >>> X.shape, Y.shape
    ((50, 20), (50, 8))
    >>> int(np.linalg.matrix_rank(truth.coef))
    2
    """


def _cluster_sizes(cluster_sizes, n_clusters, n_tasks, rng):
    if cluster_sizes is None:
        return np.array([len(part) for part in np.array_split(np.arange(n_tasks), n_clusters)])
    if isinstance(cluster_sizes, str):
        if cluster_sizes != "unequal":
            raise ValueError(
                "cluster_sizes must be None, 'unequal' or an array of ints; got "
                f"cluster_sizes={cluster_sizes!r}."
            )
        # One task per cluster, the rest spread with random (Dirichlet)
        # proportions, so sizes differ markedly.
        extra = rng.multinomial(n_tasks - n_clusters, rng.dirichlet(np.ones(n_clusters)))
        return 1 + extra
    sizes = np.asarray(cluster_sizes)
    if (
        sizes.shape != (n_clusters,)
        or sizes.dtype.kind not in "iu"
        or sizes.min() < 1
        or sizes.sum() != n_tasks
    ):
        raise ValueError(
            f"cluster_sizes must hold n_clusters={n_clusters} positive integers "
            f"summing to n_tasks={n_tasks}; got {sizes.tolist()}."
        )
    return sizes.astype(np.int64)


def make_clustered_multitask(
    n_samples=100,
    n_features=50,
    n_tasks=10,
    n_clusters=3,
    *,
    cluster_std=0.1,
    cluster_sizes=None,
    noise=0.1,
    task_sizes=None,
    n_unrelated_tasks=0,
    layout="wide",
    classification=False,
    random_state=None,
):
    rng = check_random_state(random_state)
    n_samples, n_features, n_tasks, n_unrelated_tasks = _check_common(
        n_samples, n_features, n_tasks, noise, n_unrelated_tasks, layout, classification
    )
    n_clusters = _check_int(n_clusters, "n_clusters", 1)
    if n_clusters > n_tasks:
        raise ValueError(f"n_clusters={n_clusters} cannot exceed n_tasks={n_tasks}.")
    if not isinstance(cluster_std, numbers.Real) or not np.isfinite(cluster_std) or cluster_std < 0:
        raise ValueError(f"cluster_std must be a finite number >= 0; got cluster_std={cluster_std!r}.")
    members = _cluster_sizes(cluster_sizes, n_clusters, n_tasks, rng)
    n_tasks_total = n_tasks + n_unrelated_tasks
    sizes = _task_sizes(task_sizes, n_samples, n_tasks_total, layout, classification, rng)

    cluster_centers = rng.standard_normal((n_clusters, n_features))
    # Clusters are interleaved among the tasks, as in real data.
    labels = rng.permutation(np.repeat(np.arange(n_clusters), members))
    coef = np.empty((n_tasks_total, n_features))
    coef[:n_tasks] = cluster_centers[labels] + cluster_std * rng.standard_normal((n_tasks, n_features))
    # An unrelated task is a cluster of its own, drawn like a centre.
    coef[n_tasks:] = rng.standard_normal((n_unrelated_tasks, n_features))
    intercept = rng.standard_normal(n_tasks_total)
    task_clusters = np.concatenate([labels, np.full(n_unrelated_tasks, -1)])
    return _finish(
        coef,
        intercept,
        sizes,
        n_unrelated_tasks,
        n_samples=n_samples,
        noise=noise,
        layout=layout,
        classification=classification,
        rng=rng,
        task_clusters=task_clusters,
        cluster_centers=cluster_centers,
    )


make_clustered_multitask.__doc__ = f"""Generate tasks grouped in clusters of similar coefficients.

    Each related task belongs to one of ``n_clusters`` clusters; its
    coefficients are the cluster centre plus a small deviation,
    ``coef[t] = cluster_centers[k] + cluster_std * N(0, I)``, with centres
    drawn i.i.d. N(0, I). This is the setting of clustered multi-task
    learning (:class:`skmtl.linear_model.ClusteredRegressor`). Cluster
    labels are randomly interleaved among the tasks.

    Parameters
    ----------
    n_samples : int, default=100
        Number of rows of ``X`` in layout ``"wide"``; rows per task in layout
        ``"long"`` (unless ``task_sizes`` says otherwise).

    n_features : int, default=50
        Number of features (the task column excluded).

    n_tasks : int, default=10
        Number of related tasks (those in clusters).

    n_clusters : int, default=3
        Number of clusters; at most ``n_tasks``.

    cluster_std : float, default=0.1
        Standard deviation of each coefficient around its cluster centre
        (the centres' coefficients have standard deviation 1).

    cluster_sizes : None, "unequal" or array-like of int, default=None
        Number of tasks in each cluster. None: as equal as possible.
        ``"unequal"``: random, each cluster with at least one task. An
        array: ``n_clusters`` positive integers summing to ``n_tasks``.

{_CLUSTERED_PARAMETERS}

    Returns
    -------
{_COMMON_RETURNS}
        task_clusters : ndarray of int of shape (n_tasks_total,)
            Cluster label (0..n_clusters-1) of each task; -1 for the
            unrelated tasks.
        cluster_centers : ndarray of shape (n_clusters, n_features)
            The cluster centres.

    See Also
    --------
    make_sparse_multitask, make_low_rank_multitask

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.datasets import make_clustered_multitask
    >>> X, Y, truth = make_clustered_multitask(n_samples=40, n_features=10, n_tasks=6,
    ...                                        n_clusters=2, random_state=0)
    >>> Y.shape, np.bincount(truth.task_clusters).tolist()
    ((40, 6), [3, 3])
    """
