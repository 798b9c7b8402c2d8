"""Fit time of the task-structure models against the number of tasks T.

Run (under 10 minutes on one core)::

    python benchmarks/task_structure_scaling.py --plot doc/_static/task_structure_scaling.png

Data: :func:`skmtl.datasets.make_clustered_multitask` with ``n_features=50``,
5 clusters of tasks, noise 0.1. Layout ``long``: every task has its own
``--rows`` (40) rows, task id in the last column, ``N = 40 T`` rows.
Layout ``wide``: ``--wide-rows`` (200) rows shared by all tasks, every label
observed, ``Y`` of shape (200, T). Every model runs at its default
``tol=1e-4`` with ``max_iter=10000``; the regularization is set relative
to the data so that no solution is trivial: ``alpha_max / 10`` for the
group lasso, trace norm and the two parts of the dirty and sparse +
low-rank models (the dual norms of the loss gradient at 0), fixed values
for the quadratic penalties. Reported: CPU time of ``fit`` (validation
included; best of up to 3 runs while their total stays under 1 s), BLAS
pinned to one thread, and the iteration count. A model whose fit took more
than ``--budget`` seconds is not run at larger T (marked ``skipped``).
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from threadpoolctl import threadpool_limits

from skmtl.datasets import make_clustered_multitask
from skmtl.linear_model import (
    ClusteredRegressor,
    DirtyRegressor,
    GroupLassoRegressor,
    MeanRegularizedRegressor,
    SparseLowRankRegressor,
    TaskRelationRegressor,
    TraceNormRegressor,
)
from skmtl.multitask import IndependentTasks

DEFAULT_TASKS = [10, 30, 100, 300, 1000, 2000]


def null_gradient(X, y, layout):
    """``G`` (n_features, T): gradient of the mean squared loss at ``B = 0`` with the intercepts fitted."""
    if layout == "wide":
        Xc = X - X.mean(axis=0)
        return -Xc.T @ (y - y.mean(axis=0)) / len(X)
    task = X[:, -1].astype(np.intp)
    counts = np.bincount(task)
    x, yc = X[:, :-1], y - (np.bincount(task, weights=y) / counts)[task]
    # The rows' task ids are sorted (generated long layout): one segment per task.
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return -(np.add.reduceat(x * yc[:, None], starts, axis=0) / counts[:, None]).T


def models(X, y, layout):
    G = null_gradient(X, y, layout)
    l21 = np.linalg.norm(G, axis=1).max()
    spectral = np.linalg.norm(G, 2)
    common = {"max_iter": 10_000}
    return {
        "Clustered": ClusteredRegressor(5, 0.1, 0.01, random_state=0, **common),
        "MeanRegularized": MeanRegularizedRegressor(0.1, **common),
        "TaskRelation": TaskRelationRegressor(0.01, **common),
        # Relative strengths: a tenth of each part's alpha_max, as the others.
        "Dirty": DirtyRegressor(0.1, 0.1, **common),
        "SparseLowRank": SparseLowRankRegressor(0.1, 0.1, **common),
        "GroupLasso": GroupLassoRegressor(l21 / 10, **common),
        "TraceNorm": TraceNormRegressor(spectral / 10, **common),
        "Independent(Ridge)": IndependentTasks(Ridge(1.0)),
    }


def make_data(T, layout, rows, wide_rows):
    if layout == "long":
        X, y, _ = make_clustered_multitask(
            rows, 50, T, min(5, T), noise=0.1, layout="long", random_state=0
        )
    else:
        X, y, _ = make_clustered_multitask(wide_rows, 50, T, min(5, T), noise=0.1, random_state=0)
    return X, y


def time_fit(model, X, y):
    best, total, runs = np.inf, 0.0, 0
    while runs < 3 and (runs == 0 or total + best < 1.0):
        start = time.process_time()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(X, y)
        elapsed = time.process_time() - start
        best, total, runs = min(best, elapsed), total + elapsed, runs + 1
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return best, converged


def n_iter(model):
    n = getattr(model, "n_iter_", None)
    if n is None:
        return ""
    inner = getattr(model, "n_inner_iter_", None)
    return f"{n}" + (f" ({inner})" if inner is not None else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=DEFAULT_TASKS)
    parser.add_argument("--layouts", nargs="+", default=["long", "wide"], choices=["long", "wide"])
    parser.add_argument("--models", nargs="+", default=None, help="subset of the model names")
    parser.add_argument("--rows", type=int, default=40, help="rows per task (long layout)")
    parser.add_argument("--wide-rows", type=int, default=200, help="shared rows (wide layout)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds; slower models stop growing T")
    parser.add_argument("--plot", metavar="PNG", help="save a log-log plot of time against T")
    args = parser.parse_args()
    results = {}  # (layout, model) -> list of (T, seconds)
    table = {}  # (layout, model) -> {T: cell}
    over_budget = set()
    print("layout  T  rows  model  CPU s  n_iter (inner FISTA)  converged")
    with threadpool_limits(1):
        for layout in args.layouts:
            for T in args.tasks:
                X, y = make_data(T, layout, args.rows, args.wide_rows)
                for name, model in models(X, y, layout).items():
                    if args.models and name not in args.models:
                        continue
                    cells = table.setdefault((layout, name), {})
                    if (layout, name) in over_budget:
                        cells[T] = "skipped"
                        continue
                    if layout == "long":
                        model.set_params(task_column=-1)
                    seconds, converged = time_fit(model, X, y)
                    results.setdefault((layout, name), []).append((T, seconds))
                    if seconds > args.budget:
                        over_budget.add((layout, name))
                    cells[T] = f"{seconds:.3f}" + ("" if converged else " (not converged)")
                    print(layout, T, len(X), name, cells[T], n_iter(model), flush=True)
    header = ["layout", "model", *(f"T={T}" for T in args.tasks)]
    rows = [[layout, name, *(cells.get(T, "") for T in args.tasks)] for (layout, name), cells in table.items()]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    sep = "  ".join("=" * w for w in widths)
    print("\nfit CPU time (s)\n" + "\n".join([sep, "  ".join(h.ljust(w) for h, w in zip(header, widths)), sep]))
    print("\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in rows))
    print(sep)
    if args.plot:
        plot(results, args.plot)


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({name for _, name in results})
    colors = dict(zip(names, plt.get_cmap("tab10").colors))
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for (layout, name), points in results.items():
        T, seconds = np.array(points).T
        ax.loglog(
            T, seconds, marker="o" if layout == "long" else "s", linestyle="-" if layout == "long" else "--",
            color=colors[name], label=f"{name} ({layout})",
        )
    ax.set_xlabel("number of tasks T")
    ax.set_ylabel("fit CPU time (s), one thread")
    ax.set_title("Task-structure models: fit time against T (d = 50)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"saved {path}")


if __name__ == "__main__":
    main()
