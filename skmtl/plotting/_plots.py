"""The plotting functions; matplotlib is imported inside each of them."""

import numpy as np

__all__ = [
    "plot_coef_sparsity",
    "plot_regularization_path",
    "plot_task_gains",
    "plot_task_similarity",
]

# Colors of the per-task gain bars (matplotlib's tab: palette).
HURT_COLOR = "#d62728"
HELPED_COLOR = "#2ca02c"
NEUTRAL_COLOR = "#7f7f7f"
# Tick labels are unreadable beyond this many tasks or features.
_MAX_TICK_LABELS = 60


def _pyplot(function):
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{function} requires matplotlib, which is not installed; "
            'pip install matplotlib (or pip install "skmtl[plot]").'
        ) from exc
    return plt


def _axes(ax, function, figsize=None):
    plt = _pyplot(function)
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _text(label):
    return str(label.item() if isinstance(label, np.generic) else label)


def _set_ticks(ax, axis, labels, rotation=0):
    if len(labels) > _MAX_TICK_LABELS:
        # Too many to read; matplotlib's default numbers would be positions
        # (ranks once sorted), easily mistaken for task labels.
        (ax.set_xticks if axis == "x" else ax.set_yticks)([])
        return
    positions = np.arange(len(labels))
    texts = [_text(label) for label in labels]
    if axis == "x":
        ax.set_xticks(positions)
        ax.set_xticklabels(texts, rotation=rotation)
    else:
        ax.set_yticks(positions)
        ax.set_yticklabels(texts)


def _best_model(result):
    """The model with the largest mean gain over IndependentTasks.

    Baselines only when nothing else was compared (then any but the
    independent reference).
    """
    references = result.references.values()
    candidates = [m for m in result.models if m not in references] or [
        m for m in result.models if m != result.references.get("independent")
    ] or result.models
    return max(candidates, key=lambda m: np.nan_to_num(
        result.summary[m]["mean_gain_vs_independent"], nan=-np.inf))


def plot_task_gains(result, model=None, *, reference="independent", sort=False, ax=None):
    """Bar chart of a model's per-task gain over a single-task baseline.

    One bar per task: the mean over splits of the paired score difference
    between ``model`` and the reference (positive = better, whatever the
    metric's direction), with the standard deviation of that difference
    over splits as a labelled error bar. Tasks where the paired test of the
    comparison finds the model significantly worse are red (negative
    transfer), significantly better green, the others grey. The title says
    how many tasks are helped and hurt, and when the model does not gain on
    average (when chosen automatically: when no model does).

    Parameters
    ----------
    result : ComparisonResult
        From :func:`skmtl.model_selection.compare_with_single_task`.
    model : str, default=None
        Model to plot. None: the non-baseline model with the largest mean
        gain over IndependentTasks, even when that gain is negative.
    reference : {"independent", "pooled"}, default="independent"
        Baseline the gains are measured against.
    sort : bool, default=False
        Order the bars by gain instead of by task.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        ``ax.patches`` holds one bar per task, in plotted order.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.linear_model import RidgeCV
    >>> from skmtl.datasets import make_clustered_multitask
    >>> from skmtl.model_selection import compare_with_single_task
    >>> from skmtl.multitask import PooledTasks
    >>> from skmtl.plotting import plot_task_gains
    >>> X, y, _ = make_clustered_multitask(n_samples=30, n_features=5, n_tasks=4,
    ...                                    n_clusters=1, layout="long", random_state=0)
    >>> result = compare_with_single_task(
    ...     {"onehot": PooledTasks(RidgeCV(), task_column=-1, task_features="onehot")},
    ...     X, y, task_column=-1)
    >>> ax = plot_task_gains(result, "onehot")
    >>> len(ax.patches)
    4
    """
    if reference not in ("independent", "pooled"):
        raise ValueError(f'reference must be "independent" or "pooled"; got {reference!r}.')
    ref_name = result.references.get(reference)
    if ref_name is None:
        raise ValueError(
            f"The comparison has no {reference} reference model (it was run with "
            "baselines=None and without one); choose the other reference."
        )
    chosen = model is None
    if chosen:
        model = _best_model(result)
    if model not in result.models:
        raise ValueError(f"No model {model!r} in the comparison; models are {result.models}.")
    ax = _axes(ax, "plot_task_gains", figsize=(max(6.0, 0.3 * len(result.tasks)), 4.0))
    m, r = result.models.index(model), result.models.index(ref_name)
    sign = 1.0 if result.greater_is_better else -1.0
    diff = sign * (result.scores[m] - result.scores[r])  # (n_splits, n_tasks)
    gain = getattr(result, f"gain_vs_{reference}")[m]
    pvalue = getattr(result, f"pvalue_vs_{reference}")[m]
    with np.errstate(invalid="ignore"):
        spread = np.array([np.std(col[np.isfinite(col)]) if np.isfinite(col).any() else 0.0
                           for col in diff.T])
        significant = pvalue < result.alpha
    colors = np.where(
        significant & (gain < 0), HURT_COLOR, np.where(significant & (gain > 0), HELPED_COLOR, NEUTRAL_COLOR)
    )
    order = np.argsort(np.nan_to_num(gain, nan=0.0), kind="stable") if sort else np.arange(len(gain))
    x = np.arange(len(order))
    ax.bar(x, np.nan_to_num(gain[order]), color=colors[order])
    bars = ax.errorbar(x, np.nan_to_num(gain[order]), yerr=spread[order], fmt="none",
                       ecolor="#333333", capsize=2 if len(order) <= 40 else 0)
    ax.axhline(0.0, color="black", linewidth=0.8)
    _set_ticks(ax, "x", result.tasks[order], rotation=90 if len(order) > 15 else 0)
    ax.set_xlim(-0.6, len(order) - 0.4)
    hidden = len(order) > _MAX_TICK_LABELS
    ax.set_xlabel(f"{len(order)} tasks" + (", sorted by gain" if sort else "") if hidden else "task")
    ax.set_ylabel(f"gain in {result.scoring} over {ref_name}\n(positive = better)")
    n_hurt = int((colors == HURT_COLOR).sum())
    n_helped = int((colors == HELPED_COLOR).sum())
    title = f"{model}: {n_helped} task(s) helped, {n_hurt} hurt (alpha={result.alpha:g})"
    mean_gain = result.summary[model][f"mean_gain_vs_{reference}"]
    if not mean_gain > 0:
        title += (
            f"\nno model improves on {ref_name} on average; the least bad is shown"
            if chosen
            else f"\nno gain over {ref_name} on average (mean gain {mean_gain:+.3g})"
        )
    ax.set_title(title)
    from matplotlib.patches import Patch

    bars.set_label(f"±1 std of the gain over the {result.n_splits} splits")
    ax.legend(
        handles=[
            Patch(color=HELPED_COLOR, label="significantly better"),
            Patch(color=HURT_COLOR, label="significantly worse (negative transfer)"),
            Patch(color=NEUTRAL_COLOR, label="no significant difference"),
            bars,
        ],
        loc="best",
        fontsize="small",
    )
    return ax


def plot_task_similarity(matrix, labels=None, clusters=None, *, ax=None, cmap=None,
                         colorbar=True, title=None):
    """Heatmap of a task similarity or covariance matrix, ordered by clusters.

    Parameters
    ----------
    matrix : array-like of shape (n_tasks, n_tasks)
        Task similarity, correlation, covariance or kernel matrix (e.g. a
        clustered model's similarity, ``task_covariance_`` of a
        task-relationship model, a learned task kernel).
    labels : array-like of shape (n_tasks,), default=None
        Task names for the ticks (positions when None).
    clusters : array-like of shape (n_tasks,), default=None
        Cluster label of each task: rows and columns are reordered so that
        each cluster is a contiguous block (stable order within a cluster)
        and the blocks are outlined.
    ax : matplotlib Axes, default=None
    cmap : str, default=None
        Colormap; None: ``"RdBu_r"`` centered on zero when the matrix has
        negative entries, else ``"viridis"``.
    colorbar : bool, default=True
    title : str, default=None

    Returns
    -------
    ax : matplotlib Axes
        ``ax.images[0]`` is the heatmap (in the plotted order).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.plotting import plot_task_similarity
    >>> S = np.array([[1.0, 0.1, 0.9], [0.1, 1.0, 0.2], [0.9, 0.2, 1.0]])
    >>> ax = plot_task_similarity(S, labels=["a", "b", "c"], clusters=[0, 1, 0])
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['a', 'c', 'b']
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"matrix must be square (n_tasks, n_tasks); got shape {matrix.shape}.")
    n = matrix.shape[0]
    labels = np.arange(n) if labels is None else np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels has {labels.size} entries; expected {n}, one per task.")
    if clusters is None:
        order, boundaries = np.arange(n), []
    else:
        clusters = np.asarray(clusters)
        if clusters.shape != (n,):
            raise ValueError(f"clusters has {clusters.size} entries; expected {n}, one per task.")
        order = np.argsort(clusters, kind="stable")
        sorted_clusters = clusters[order]
        boundaries = np.flatnonzero(sorted_clusters[1:] != sorted_clusters[:-1]) + 1
    ax = _axes(ax, "plot_task_similarity", figsize=(5.5, 4.5))
    shown = matrix[np.ix_(order, order)]
    if cmap is None and np.nanmin(matrix) < 0:
        cmap, limit = "RdBu_r", np.nanmax(np.abs(matrix))
        vmin, vmax = -limit, limit
    else:
        cmap, vmin, vmax = cmap or "viridis", None, None
    image = ax.imshow(shown, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    # Outline the cluster blocks.
    edges = np.concatenate([[0], boundaries, [n]])
    if clusters is not None:
        from matplotlib.patches import Rectangle

        for start, stop in zip(edges[:-1], edges[1:]):
            ax.add_patch(Rectangle((start - 0.5, start - 0.5), stop - start, stop - start,
                                   fill=False, edgecolor="black", linewidth=1.5))
    _set_ticks(ax, "x", labels[order], rotation=90 if n > 15 else 0)
    _set_ticks(ax, "y", labels[order])
    ax.set_xlabel("task")
    ax.set_ylabel("task")
    if title is None:
        title = "Task similarity" + (f" ({len(edges) - 1} clusters)" if clusters is not None else "")
    ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(image, ax=ax)
    return ax


def plot_regularization_path(alphas, coefs, *, norm="auto", feature_names=None, ax=None):
    """Coefficients (or their norms across tasks) along a path of penalties.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
        Penalty strengths (positive; plotted on a log axis).
    coefs : array-like of shape (n_alphas, n_features) or (n_alphas, n_tasks, n_features)
        Coefficients at each alpha, as returned by
        :func:`skmtl.linear_model.group_lasso_path`. scikit-learn's order
        (alphas last: ``(n_features, n_alphas)`` or ``(n_tasks, n_features,
        n_alphas)``) is recognized when the first axis does not match.
    norm : {"auto", "l2", None}, default="auto"
        Multi-task coefficients: ``"l2"`` plots one line per feature, the
        Euclidean norm of its coefficients across tasks (the quantity a
        group lasso zeroes); None plots every coefficient. ``"auto"``:
        ``"l2"`` for 3-D ``coefs``.
    feature_names : array-like of shape (n_features,), default=None
        Legend labels (shown with at most 10 features).
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
        One line per feature (``norm="l2"`` or 2-D ``coefs``) or per
        (task, feature) coefficient, then a horizontal line at zero.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.plotting import plot_regularization_path
    >>> alphas = np.logspace(0, -2, 5)
    >>> coefs = np.random.RandomState(0).randn(5, 3, 4)  # (n_alphas, n_tasks, n_features)
    >>> len(plot_regularization_path(alphas, coefs).lines)  # 4 features + the zero line
    5
    """
    alphas = np.asarray(alphas, dtype=np.float64).ravel()
    coefs = np.asarray(coefs, dtype=np.float64)
    if coefs.ndim not in (2, 3):
        raise ValueError(
            "coefs must be (n_alphas, n_features) or (n_alphas, n_tasks, n_features); "
            f"got shape {coefs.shape}."
        )
    if coefs.shape[0] != len(alphas):
        if coefs.shape[-1] == len(alphas):
            coefs = np.moveaxis(coefs, -1, 0)  # scikit-learn's lasso_path order
        else:
            raise ValueError(
                f"coefs has shape {coefs.shape} but there are {len(alphas)} alphas; "
                "its first axis must run over the alphas."
            )
    if np.any(alphas <= 0):
        raise ValueError("alphas must be positive (they are plotted on a log scale).")
    if norm not in ("auto", "l2", None):
        raise ValueError(f'norm must be "auto", "l2" or None; got {norm!r}.')
    if norm == "auto":
        norm = "l2" if coefs.ndim == 3 else None
    ax = _axes(ax, "plot_regularization_path")
    if coefs.ndim == 3 and norm == "l2":
        values = np.linalg.norm(coefs, axis=1)  # (n_alphas, n_features)
        ylabel = "norm of the coefficients across tasks"
    else:
        values = coefs.reshape(len(alphas), -1)
        ylabel = "coefficient"
    order = np.argsort(alphas)
    n_features = coefs.shape[-1]
    lines = ax.plot(alphas[order], values[order])
    if coefs.ndim == 3 and norm is None:
        # Color by feature so a feature's task coefficients share a color.
        colors = [f"C{j % 10}" for j in range(n_features)] * coefs.shape[1]
        for line, color in zip(lines, colors):
            line.set_color(color)
    ax.set_xscale("log")
    ax.set_xlabel("alpha (penalty strength)")
    ax.set_ylabel(ylabel)
    ax.axhline(0.0, color="black", linewidth=0.5)
    if feature_names is not None and len(lines) == n_features and n_features <= 10:
        ax.legend(lines, [_text(f) for f in feature_names], fontsize="small")
    ax.set_title("Regularization path")
    return ax


def plot_coef_sparsity(coef, *, tol=0.0, task_names=None, feature_names=None, ax=None):
    """Sparsity pattern of a (n_tasks, n_features) coefficient matrix.

    Nonzero coefficients (``|coef| > tol``) are drawn with their magnitude
    in a sequential colormap; zeros are white. Shared sparsity (a group
    lasso) shows as whole white columns.

    Parameters
    ----------
    coef : array-like of shape (n_tasks, n_features)
        As ``coef_`` of the multi-task linear models (a 1-D array is one
        task).
    tol : float, default=0.0
        Magnitudes at most ``tol`` count as zero.
    task_names, feature_names : array-like, default=None
        Tick labels (shown with at most 60 of each).
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
        ``ax.images[0]`` holds the masked magnitudes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skmtl.plotting import plot_coef_sparsity
    >>> coef = np.array([[1.0, 0.0, 2.0], [0.5, 0.0, 0.0]])
    >>> plot_coef_sparsity(coef).get_title()
    '2 of 3 features used; 3 nonzero coefficients'
    """
    coef = np.asarray(coef, dtype=np.float64)
    if coef.ndim == 1:
        coef = coef[None, :]
    if coef.ndim != 2:
        raise ValueError(f"coef must be (n_tasks, n_features); got shape {coef.shape}.")
    magnitude = np.abs(coef)
    nonzero = magnitude > tol
    ax = _axes(ax, "plot_coef_sparsity", figsize=(max(5.0, 0.15 * coef.shape[1]), max(2.5, 0.25 * coef.shape[0])))
    import matplotlib

    cmap = matplotlib.colormaps["Blues"].with_extremes(bad="white")  # zeros are masked
    image = ax.imshow(np.ma.masked_where(~nonzero, magnitude), cmap=cmap, aspect="auto",
                      interpolation="nearest", vmin=0)
    ax.figure.colorbar(image, ax=ax, label="|coefficient|")
    if task_names is not None:
        _set_ticks(ax, "y", np.asarray(task_names))
    if feature_names is not None:
        _set_ticks(ax, "x", np.asarray(feature_names), rotation=90)
    ax.set_xlabel("feature")
    ax.set_ylabel("task")
    ax.set_title(
        f"{int(nonzero.any(axis=0).sum())} of {coef.shape[1]} features used; "
        f"{int(nonzero.sum())} nonzero coefficients"
    )
    return ax
