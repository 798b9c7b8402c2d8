"""The ``skmtl`` command line (also ``python -m skmtl``).

``skmtl`` with no argument runs ``skmtl compare all``: the single-task
baselines compared task by task on a generated benchmark (related tasks plus
a few unrelated ones) and, when the data home holds it, on School.
"""

import argparse
import json
import sys
import time

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import RidgeCV
from sklearn.metrics import mean_squared_error, r2_score

from .datasets import fetch_school, fetch_school_splits, make_clustered_multitask
from .metrics import multitask_explained_variance, per_task_score
from .model_selection import TaskStratifiedShuffleSplit
from .multitask import IndependentTasks, PooledTasks

_ALPHAS = np.logspace(-3, 4, 15)


def _baselines(task_column):
    return {
        "independent": IndependentTasks(RidgeCV(alphas=_ALPHAS), task_column=task_column),
        "pooled": PooledTasks(RidgeCV(alphas=_ALPHAS), task_column=task_column),
        "pooled+onehot": PooledTasks(
            RidgeCV(alphas=_ALPHAS), task_column=task_column, task_features="onehot"
        ),
    }


def _rmse(y_true, y_pred, sample_weight=None):
    return np.sqrt(mean_squared_error(y_true, y_pred, sample_weight=sample_weight))


def evaluate(models, X, y, tasks, splits):
    """Fit every model on every split; collect per-task and pooled test scores.

    Returns
    -------
    dict
        ``r2[name]`` (n_splits, n_tasks) per-task R^2, ``rmse[name]``
        (n_splits, n_tasks) per-task RMSE, ``explained_variance[name]``
        (n_splits,) pooled explained variance, ``tasks`` the task labels.
    """
    result = {"r2": {}, "rmse": {}, "explained_variance": {}}
    for name, model in models.items():
        r2, rmse, ev = [], [], []
        for train, test in splits:
            pred = clone(model).fit(X[train], y[train]).predict(X[test])
            r2.append(per_task_score(y[test], pred, tasks[test], metric=r2_score).scores)
            rmse.append(per_task_score(y[test], pred, tasks[test], metric=_rmse).scores)
            ev.append(multitask_explained_variance(y[test], pred, tasks[test], average="pooled"))
        result["r2"][name] = np.array(r2)
        result["rmse"][name] = np.array(rmse)
        result["explained_variance"][name] = np.array(ev)
    result["tasks"] = np.unique(tasks)
    return result


def _format_task_table(result, notes):
    names = list(result["r2"])
    width = max(16, *(len(n) + 2 for n in names))
    means = {n: result["r2"][n].mean(axis=0) for n in names}
    stds = {n: result["r2"][n].std(axis=0) for n in names}
    lines = [f"{'task':>6}  {'note':<10}" + "".join(f"{n:>{width}}" for n in names) + f"{'best':>{width}}"]
    for t, task in enumerate(result["tasks"]):
        cells = "".join(f"{f'{means[n][t]:.3f} ±{stds[n][t]:.3f}':>{width}}" for n in names)
        best = max(names, key=lambda n: means[n][t])
        lines.append(f"{task!s:>6}  {notes.get(t, ''):<10}{cells}{best:>{width}}")
    lines.append(f"{'mean':>6}  {'':<10}" + "".join(f"{np.mean(means[n]):>{width}.3f}" for n in names))
    return "\n".join(lines)


def _format_summary(result):
    lines = [f"{'model':<15}{'explained var. (pooled)':>26}{'mean task RMSE':>18}{'mean task R^2':>16}"]
    for name in result["r2"]:
        ev = result["explained_variance"][name]
        rmse = result["rmse"][name].mean(axis=1)
        r2 = result["r2"][name].mean(axis=1)
        lines.append(
            f"{name:<15}{ev.mean():>18.4f} ±{ev.std():.4f}"
            f"{rmse.mean():>11.3f} ±{rmse.std():.3f}{r2.mean():>9.3f} ±{r2.std():.3f}"
        )
    return "\n".join(lines)


def _demo(args):
    # One family of similar tasks (few rows each, so sharing pays) plus three
    # unrelated tasks (where pooling is negative transfer).
    X, y, truth = make_clustered_multitask(
        n_samples=60,
        n_features=20,
        n_tasks=12,
        n_clusters=1,
        cluster_std=0.3,
        noise=1.0,
        n_unrelated_tasks=3,
        task_sizes="unequal",
        layout="long",
        random_state=args.seed,
    )
    tasks = X[:, -1].astype(int)
    cv = TaskStratifiedShuffleSplit(
        n_splits=args.n_splits or 5, test_size=0.5, task_column=-1, random_state=args.seed
    )
    result = evaluate(_baselines(-1), X, y, tasks, list(cv.split(X, y)))
    notes = {int(t): "unrelated" for t in truth.unrelated_tasks}
    title = (
        f"Generated benchmark: {len(np.unique(tasks))} tasks ({len(notes)} unrelated), "
        f"{X.shape[1] - 1} features, {len(y)} rows; {cv.get_n_splits()} per-task 50/50 splits"
    )
    return title, result, notes


def _school(args):
    X, y = fetch_school(return_X_y=True, download_if_missing=False)
    tasks = X[:, -1].astype(int)
    try:
        splits = fetch_school_splits()[: args.n_splits or 10]
        protocol = f"the {len(splits)} official 75/25 splits (Argyriou et al. 2008)"
    except OSError:
        cv = TaskStratifiedShuffleSplit(
            n_splits=args.n_splits or 10, test_size=0.25, task_column=-1, random_state=args.seed
        )
        splits = list(cv.split(X, y))
        protocol = f"{len(splits)} seeded per-school 75/25 splits"
    result = evaluate(_baselines(-1), X, y, tasks, splits)
    title = f"School: 139 schools, {len(y)} students; {protocol}"
    return title, result, {}


def _to_json(result):
    return {
        "tasks": [t.item() for t in result["tasks"]],
        "models": {
            name: {
                "per_task_r2_mean": result["r2"][name].mean(axis=0).tolist(),
                "per_task_rmse_mean": result["rmse"][name].mean(axis=0).tolist(),
                "explained_variance": result["explained_variance"][name].tolist(),
            }
            for name in result["r2"]
        },
    }


def _compare(args):
    runs = []
    if args.dataset in ("demo", "all"):
        runs.append(("demo", _demo))
    if args.dataset in ("school", "all"):
        runs.append(("school", _school))
    report = {}
    for key, run in runs:
        start = time.perf_counter()
        try:
            title, result, notes = run(args)
        except OSError as exc:
            if args.dataset == "all":
                print(f"\n(School skipped: {exc})")
                continue
            raise SystemExit(f"skmtl: error: {exc}")
        print(f"\n== {title} ({time.perf_counter() - start:.1f} s)")
        print("Per-task test R^2, mean ±std over splits:" if key == "demo" else "")
        if key == "demo":
            print(_format_task_table(result, notes))
        print(_format_summary(result))
        report[key] = _to_json(result)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
        print(f"\nResults written to {args.json}")


def _parser():
    parser = argparse.ArgumentParser(
        prog="skmtl",
        description="Multi-task learning: compare models with single-task baselines, task by task.",
    )
    sub = parser.add_subparsers(dest="command")
    compare = sub.add_parser("compare", help="compare the baselines on a data set")
    compare.add_argument("dataset", nargs="?", default="all", choices=["demo", "school", "all"])
    compare.add_argument(
        "--n-splits",
        type=int,
        default=None,
        help="number of train/test splits (default: 5 on demo, the 10 official splits on School)",
    )
    compare.add_argument("--seed", type=int, default=0, help="random seed of data and splits")
    compare.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    return parser


def main(argv=None):
    """Entry point of the ``skmtl`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv or ["compare"])
    if args.n_splits is not None and args.n_splits < 1:
        raise SystemExit("skmtl: error: --n-splits must be at least 1")
    _compare(args)


if __name__ == "__main__":
    main()
