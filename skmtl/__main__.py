"""The ``skmtl`` command line (also ``python -m skmtl``).

``skmtl`` with no argument runs ``skmtl compare all``: the single-task
baselines compared task by task on a generated benchmark (related tasks plus
a few unrelated ones) and, when the data home holds it, on School.

``skmtl compare data.csv --target y --task-column school`` runs the same
comparison on your own data (long layout: one row per (sample, task), the
task named in a column); ``--target y1,y2,y3`` without ``--task-column``
reads one task per target column (wide layout, empty cells = missing
labels). Every comparison goes through
:func:`skmtl.model_selection.compare_with_single_task`: per-task test scores
over per-task stratified splits, gains over IndependentTasks and PooledTasks,
and a paired test flagging the tasks a model helps or hurts.
"""

import argparse
import csv
import importlib
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.linear_model import RidgeCV

from ._data import split_task_column
from ._standardized import StandardizedRegressor
from .datasets import fetch_school, fetch_school_splits, make_clustered_multitask
from .metrics import make_task_scorer, multitask_explained_variance, per_task_score
from .model_selection import TaskStratifiedKFold, TaskStratifiedShuffleSplit, compare_with_single_task
from .model_selection._compare import _CLASSIFICATION_METRICS, _format_table, _logistic_cv
from .multitask import IndependentTasks, PooledTasks

_ALPHAS = np.logspace(-3, 4, 15)
_BUILTIN = ("demo", "school", "all")
_METRIC_NAMES = (
    "r2", "explained_variance", "mse", "rmse", "mae", "nmse",
    "accuracy", "balanced_accuracy", "roc_auc",
)  # fmt: skip
# Above this many rows the kernel model uses Nystroem features (exact kernel
# ridge is cubic in the number of labels).
_KERNEL_EXACT_MAX_ROWS = 3000


def _fail(message):
    """Exit with status 1 and ``skmtl: error: message`` on stderr."""
    raise SystemExit(f"skmtl: error: {message}")


def _note(message):
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------


def _kernel_model(task_column, n_rows, seed):
    from .kernel_ridge import MultiTaskKernelRidgeCV

    kernel = MultiTaskKernelRidgeCV(
        alphas=(0.1, 1.0, 10.0),
        kernel="rbf",
        task_kernel="mean_regularized",
        task_column=None if task_column is None else -1,
        n_components=None if n_rows <= _KERNEL_EXACT_MAX_ROWS else 500,
        random_state=seed,
    )
    return StandardizedRegressor(kernel, task_column=task_column)


# name -> (description, factory(task_column, classification, n_rows, seed)).
# Only models importable in this version are listed; add new ones here.
_MODELS = {
    "independent": (
        "IndependentTasks: one RidgeCV (LogisticRegressionCV) per task",
        lambda tc, clf, n, seed: IndependentTasks(_inner(clf), task_column=tc),
    ),
    "pooled": (
        "PooledTasks: one RidgeCV (LogisticRegressionCV) for all tasks",
        lambda tc, clf, n, seed: PooledTasks(_inner(clf), task_column=tc),
    ),
    "pooled+onehot": (
        "PooledTasks with one-hot task features (shared slopes, per-task offsets)",
        lambda tc, clf, n, seed: PooledTasks(_inner(clf), task_column=tc, task_features="onehot"),
    ),
    "kernel": (
        "MultiTaskKernelRidgeCV: RBF x mean-regularized task kernel, alpha in "
        "{0.1, 1, 10} by exact leave-one-out (regression only)",
        lambda tc, clf, n, seed: _kernel_model(tc, n, seed),
    ),
    "group-lasso": (
        "GroupLassoRegressorCV / GroupLassoClassifierCV: shared feature support, "
        "alpha by 3-fold CV on standardized features",
        lambda tc, clf, n, seed: _scaled(tc, _linear_cv("GroupLasso", clf, tc)),
    ),
    "trace-norm": (
        "TraceNormRegressorCV: shared low-rank coefficients, alpha by 3-fold CV "
        "(regression only)",
        lambda tc, clf, n, seed: _scaled(tc, _linear_cv("TraceNorm", clf, tc)),
    ),
    "mlp": (
        "MultiTaskMLPRegressor / Classifier at its defaults: shared hidden layer "
        "(100), one head per task with a linear skip path and learned sharing, "
        "early stopping",
        lambda tc, clf, n, seed: _scaled(tc, _mlp(tc, clf, seed)),
    ),
    "mean-regularized": (
        "MeanRegularizedRegressor / Classifier: tasks pulled towards their mean, "
        "alpha and mixing by 3-fold grid search",
        lambda tc, clf, n, seed: _tuned(
            "MeanRegularized", clf, tc, alpha=np.logspace(-2, 2, 5), mixing=(0.5, 0.9, 0.99)
        ),
    ),
    "hierarchical": (
        "HierarchicalRegressor / Classifier: random intercept and slopes per task "
        "(diagonal covariance), their variances learned by REML (Laplace for "
        "classification): nothing tuned",
        lambda tc, clf, n, seed: _scaled(tc, _hierarchical(tc, clf)),
    ),
    "clustered": (
        "ClusteredRegressor / Classifier: convex clustered MTL with 3 task clusters, "
        "alpha and beta by 3-fold grid search",
        lambda tc, clf, n, seed: _tuned(
            "Clustered", clf, tc, n_clusters=(3,),
            # The logistic loss is bounded, so the classifier's scale is smaller.
            **(dict(alpha=(0.01, 0.1, 1.0), beta=(0.001, 0.01)) if clf
               else dict(alpha=(1.0, 10.0, 100.0), beta=(0.1, 1.0))),
        ),
    ),
}
_REGRESSION_ONLY = ("kernel", "trace-norm")


def _scaled(task_column, model):
    """Standardized features in front of ``model`` (task column kept).

    One scaling for all tasks: the models share or pull together their
    coefficients across tasks, which needs a feature to mean the same in
    every task (per-task scaling costs about 0.005 explained variance on
    School, doc/school_study.rst).
    """
    from sklearn.pipeline import make_pipeline

    from .preprocessing import TaskwiseStandardScaler

    return make_pipeline(TaskwiseStandardScaler(task_column=task_column, by_task=False), model)


def _linear_cv(family, classification, task_column):
    from . import linear_model

    kind = "Classifier" if classification else "Regressor"
    return getattr(linear_model, f"{family}{kind}CV")(n_alphas=10, cv=3, task_column=task_column)


def _tuned(family, classification, task_column, **grid):
    """``family`` behind per-task scaling, its grid searched by 3-fold CV within tasks."""
    from sklearn.model_selection import GridSearchCV, KFold

    from . import linear_model

    kind = "Classifier" if classification else "Regressor"
    # The weakest penalties of the grid on near-duplicate features (as
    # Parkinsons' Jitter:DDP = 3 x Jitter:RAP, a within-task condition number
    # of about 16,000) need up to ~2,500 iterations to reach tol: with the
    # default 1,000, a default run on Parkinsons warned 10 times.
    model = getattr(linear_model, f"{family}{kind}")(task_column=task_column, max_iter=5000)
    # Long layout: every inner fold must hold rows of every task (and, for
    # classes, of every class of every task).
    cv = (
        KFold(3) if task_column is None
        else TaskStratifiedKFold(3, task_column=task_column, stratify_y=classification)
    )
    grid = {f"{type(model).__name__.lower()}__{k}": list(v) for k, v in grid.items()}
    # The inner folds hold a handful of rows per task, where per-task R^2
    # swings wildly; the squared error over all rows picks a steadier alpha.
    scoring = None if classification else make_task_scorer("mse", average="pooled")
    return GridSearchCV(_scaled(task_column, model), grid, cv=cv, scoring=scoring)


def _hierarchical(task_column, classification):
    from . import linear_model

    cls = linear_model.HierarchicalClassifier if classification else linear_model.HierarchicalRegressor
    return cls(task_column=task_column)


def _mlp(task_column, classification, seed):
    from . import neural_network

    cls = neural_network.MultiTaskMLPClassifier if classification else neural_network.MultiTaskMLPRegressor
    return cls(task_column=task_column, random_state=seed)
_DEFAULT_MODELS = {
    "demo": ["independent", "pooled", "pooled+onehot", "mean-regularized", "hierarchical", "clustered"],
    "school": ["independent", "pooled", "pooled+onehot", "mean-regularized", "hierarchical"],
    "csv": ["independent", "pooled", "pooled+onehot", "mean-regularized", "hierarchical", "kernel"],
}


def _inner(classification):
    return _logistic_cv() if classification else RidgeCV(alphas=_ALPHAS)


def _parse_models(text, default):
    names = default if text is None else [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in _MODELS]
    if unknown or not names:
        _fail(
            f"unknown model name {unknown[0] if unknown else text!r} in --models; "
            f"available: {', '.join(_MODELS)}"
        )
    return list(dict.fromkeys(names))


def _build_models(names, task_column, classification, n_rows, seed):
    for name in _REGRESSION_ONLY:
        if classification and name in names:
            _fail(f"the {name!r} model is for regression targets; drop it from --models")
    return {
        name: _MODELS[name][1](task_column, classification, n_rows, seed) for name in names
    }


# --------------------------------------------------------------------------
# Data sets
# --------------------------------------------------------------------------


def _splits(args, X, y, task_column, n_splits, train_size, unit="per-task"):
    """The train/test splits and the words describing them.

    ``--cv K``: K-fold within every task (each row tested once); otherwise
    ``--shuffle-splits`` random splits of every task's rows, ``n_splits``
    and ``train_size`` being the data set's defaults.
    """
    if args.cv is not None:
        cv = TaskStratifiedKFold(args.cv, shuffle=True, task_column=task_column, random_state=args.seed)
        protocol = f"{args.cv}-fold CV within every task"
    else:
        train_size = args.train_size or train_size
        cv = TaskStratifiedShuffleSplit(
            n_splits=args.shuffle_splits or n_splits,
            train_size=train_size,
            test_size=round(1 - train_size, 10),
            task_column=task_column,
            random_state=args.seed,
        )
        train = round(100 * train_size)
        protocol = f"{cv.get_n_splits()} {unit} {train}/{100 - train} splits"
    try:
        splits = list(cv.split(X, y))
    except ValueError as exc:  # a task smaller than K
        _fail(f"--cv {args.cv}: {exc}")
    return splits, protocol


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
    splits, protocol = _splits(args, X, y, -1, 5, 0.5)
    n_tasks = len(np.unique(X[:, -1]))
    notes = {int(t): "unrelated" for t in truth.unrelated_tasks}
    title = (
        f"Generated benchmark: {n_tasks} tasks ({len(notes)} unrelated), "
        f"{X.shape[1] - 1} features, {len(y)} rows; {protocol}"
    )
    return dict(X=X, y=y, task_column=-1, cv=splits, title=title, notes=notes, kind="demo")


def _school(args):
    X, y = fetch_school(return_X_y=True, download_if_missing=False)
    splits = None
    if args.train_size is None and args.cv is None:
        try:
            splits = fetch_school_splits()[: args.shuffle_splits or 10]
            protocol = f"the {len(splits)} official 75/25 splits (Argyriou et al. 2008)"
        except OSError:
            pass
    if splits is None:
        splits, protocol = _splits(args, X, y, -1, 10, 0.75, unit="seeded per-school")
    title = f"School: 139 schools, {len(y)} students; {protocol}"
    return dict(X=X, y=y, task_column=-1, cv=splits, title=title, notes={}, kind="school")


# pandas' default missing-value markers (read_csv's na_values), so that a
# file means the same here as in pandas. A task label must match one exactly
# (a task may be called "na" or "none"); a number cell is missing whatever
# its case, since no number is spelled with letters.
_NA_MARKERS = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})  # fmt: skip
_MISSING = frozenset(marker.lower() for marker in _NA_MARKERS)


def _parse_float(text):
    text = text.strip()
    return math.nan if text.lower() in _MISSING else float(text)


def _numeric_column(rows, lines, j, name, path):
    values = np.empty(len(rows))
    for i, row in enumerate(rows):
        try:
            values[i] = _parse_float(row[j])
        except ValueError:
            _fail(
                f"column {name!r} of {path} is not numeric (line {lines[i]}: {row[j]!r}); "
                "encode it as numbers or leave it out with --features"
            )
    return values


def _numbered_rows(reader):
    """``(line, row)`` for every row of ``reader``; ``line`` is 1-based, as in the file.

    A row's line is where it starts (a quoted field may span lines); blank
    lines count, so error messages point at the right line.
    """
    records, end = [], 0
    for row in reader:
        records.append((end + 1, row))
        end = reader.line_num
    return records


# Auto-detection calls a text target classes only up to this many distinct
# values: beyond, it is more likely numbers written with units ("34.4 pts").
_MAX_AUTO_CLASSES = 20


def _missing_targets(values):
    return np.array([v is None or (isinstance(v, float) and math.isnan(v)) for v in values])


def _typed_targets(raw, targets, lines, args):
    """The target matrix and whether it is a classification, per ``--task-type``.

    auto: numbers are a regression target, unless they take two values or
    ``--scoring`` is a classification metric; text is class labels when it
    has few distinct values, otherwise an error naming a value.
    """
    try:
        Y = np.column_stack([[_parse_float(v) for v in values] for values in raw])
    except ValueError:
        Y = None
    text = None
    if Y is None:
        # The first value that is not a number, to show the user.
        j, i = next((j, i) for j, values in enumerate(raw) for i, v in enumerate(values)
                    if _is_text(v))
        text = f"column {targets[j]!r} holds text ({raw[j][i]!r} on line {lines[i]})"
    if args.task_type == "regression":
        if text:
            _fail(f"--task-type regression needs a numeric target, but {text}")
        classification = False
    elif args.task_type == "classification":
        classification = True
    elif Y is not None:
        observed = Y[~np.isnan(Y)]
        classification = args.scoring in _CLASSIFICATION_METRICS or len(np.unique(observed)) == 2
        if classification and np.any(observed != np.round(observed)):
            _fail(
                f"--scoring {args.scoring} needs class labels but the target is continuous; "
                "use a regression metric (r2, rmse, ...)"
            )
    else:
        n_classes = len({v for values in raw for v in values if v.lower() not in _MISSING})
        if n_classes > _MAX_AUTO_CLASSES:
            _fail(
                f"target {text} and {n_classes} distinct values: too many to be classes. "
                "For a regression, make the column numbers only (no units); to treat "
                "every value as a class, pass --task-type classification"
            )
        classification = True
    if classification and args.scoring is not None and args.scoring not in _CLASSIFICATION_METRICS:
        _fail(f"--scoring {args.scoring} is a regression metric but the target holds classes")
    if not classification and args.scoring in _CLASSIFICATION_METRICS:
        _fail(f"--scoring {args.scoring} is a classification metric but --task-type is regression")
    if Y is None:
        Y = np.array(raw, dtype=object).T
        Y[np.vectorize(lambda v: v.lower() in _MISSING)(Y)] = None
    return Y, classification


def _is_text(value):
    try:
        _parse_float(value)
    except ValueError:
        return True
    return False


def _read_csv(path, args):
    """Read a CSV file into ``(X, y, task_column, classification, info)``."""
    path = Path(path)
    try:
        # utf-8-sig drops the byte-order mark that spreadsheet programs put
        # before the first column's name.
        with open(path, newline="", encoding="utf-8-sig") as f:
            sample = f.read(4096)
            f.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            records = _numbered_rows(csv.reader(f, dialect))
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror or exc}")
    except (UnicodeDecodeError, csv.Error) as exc:
        _fail(f"{path} is not a readable CSV text file: {exc}")
    records = [(line, row) for line, row in records if any(cell.strip() for cell in row)]
    if not records:
        _fail(f"{path} is empty")
    header = [h.strip() for h in records[0][1]]
    lines = [line for line, _ in records[1:]]
    rows = [row for _, row in records[1:]]
    if not rows:
        _fail(f"{path} has a header but no data rows")
    for line, row in zip(lines, rows):
        if len(row) != len(header):
            _fail(f"line {line} of {path} has {len(row)} fields; the header has {len(header)}")

    targets = [t.strip() for t in args.target.split(",") if t.strip()]
    wanted = targets + ([args.task_column] if args.task_column else [])
    features = None
    if args.features:
        features = [c.strip() for c in args.features.split(",") if c.strip()]
        wanted += features
    shown = ", ".join(header[:20]) + (" ..." if len(header) > 20 else "")
    for name in wanted:
        if name not in header:
            _fail(f"column {name!r} not found in {path}; its columns are: {shown}")
    if args.task_column and len(targets) != 1:
        _fail(
            "with --task-column give one --target column (long layout); without "
            "--task-column, several targets are one task each (wide layout)"
        )
    if args.task_column in targets:
        _fail(f"column {args.task_column!r} cannot be both the target and the task column")
    if features is None:
        features = [c for c in header if c not in targets and c != args.task_column]
    if not features:
        _fail(f"{path} has no feature column besides the target and task columns")
    col = {name: j for j, name in enumerate(header)}

    F = np.column_stack([_numeric_column(rows, lines, col[c], c, path) for c in features])
    bad = np.flatnonzero(np.isnan(F).any(axis=0))
    if len(bad):
        name = features[bad[0]]
        _fail(
            f"feature column {name!r} has {int(np.isnan(F[:, bad[0]]).sum())} missing "
            "value(s); impute them or leave the column out with --features"
        )

    raw = [[row[col[t]].strip() for row in rows] for t in targets]
    Y, classification = _typed_targets(raw, targets, lines, args)
    info = {"path": str(path), "n_rows": len(rows), "features": features, "targets": targets}
    if args.task_column is None:
        y = Y[:, 0] if len(targets) == 1 else Y
        return F, y, None, classification, info

    # Labels stay the strings written in the file: "1" and "01" are two tasks.
    labels = np.array([row[col[args.task_column]].strip() for row in rows], dtype=object)
    no_task = np.flatnonzero([label in _NA_MARKERS for label in labels])
    if len(no_task):
        shown = ", ".join(str(lines[i]) for i in no_task[:5])
        _fail(
            f"task column {args.task_column!r} has no task on {len(no_task)} row(s) "
            f"(line(s) {shown}{', ...' if len(no_task) > 5 else ''}): empty or a "
            "missing-value marker such as NA; every row needs a task"
        )
    y = Y[:, 0]
    missing = _missing_targets(y)
    if missing.any():
        # A row without a label carries no (sample, task) pair in the long
        # layout; say so instead of dropping it silently.
        _note(f"skmtl: note: {int(missing.sum())} row(s) without a target value left out")
        F, y, labels = F[~missing], y[~missing], labels[~missing]
        info["n_rows_without_target"] = int(missing.sum())
    X = np.empty((len(y), F.shape[1] + 1), dtype=object)
    X[:, :-1], X[:, -1] = F, labels
    if y.dtype == object:
        y = y.astype(str)
    counts = np.unique(labels, return_counts=True)[1]
    if (counts < 2).any():
        _fail(
            f"{int((counts < 2).sum())} task(s) have a single row; every task needs at "
            "least two (one to train on, one to test)"
        )
    return X, y, -1, classification, info


def _check_two_classes(y, X, task_column, splits, info, args):
    """Every task has two classes, each with two training rows in every split.

    A per-task classifier cannot be fitted on one class, and the inner
    3-fold CV of the classifiers needs two rows of a class to keep one in
    every inner training fold. Say which task fails before fitting starts.
    """
    if task_column is None:  # wide: one task per target column
        Y = y.reshape(len(y), -1)
        tasks = [
            (f"target column {name!r}", np.flatnonzero(~_missing_targets(Y[:, j])), Y[:, j])
            for j, name in enumerate(info["targets"])
        ]
    else:
        labels = X[:, -1]
        tasks = [
            (f"task {label!r} (column {args.task_column!r})", np.flatnonzero(labels == label), y)
            for label in np.unique(labels)
        ]
    in_train = np.zeros((len(splits), len(y)), dtype=bool)
    for k, (train, _) in enumerate(splits):
        in_train[k, train] = True
    for name, rows, values in tasks:
        classes = values[rows].astype(str)
        if len(np.unique(classes)) < 2:
            _fail(
                f"{name} has a single class ({str(classes[0])!r}) in the target: a per-task "
                "classifier needs two; leave the task out of the file"
            )
        for k in range(len(splits)):
            found, counts = np.unique(classes[in_train[k, rows]], return_counts=True)
            rare = [c for c in np.unique(classes) if counts[found == c].sum() < 2]
            if rare:
                _fail(
                    f"{name} has {int(counts[found == rare[0]].sum())} training row(s) of "
                    f"class {str(rare[0])!r} in split {k + 1}; the classifiers need two of "
                    "each class: use fewer splits (--cv 2), a larger --train-size, or leave "
                    "the task out"
                )


def _csv(args):
    if args.target is None:
        _fail("--target is required with a CSV file (the column to predict)")
    X, y, task_column, classification, info = _read_csv(args.dataset, args)
    splits, protocol = _splits(args, X, y, task_column, 5, 0.75)
    if classification:
        _check_two_classes(y, X, task_column, splits, info, args)
    n_tasks = len(np.unique(X[:, -1])) if task_column is not None else np.shape(y.reshape(len(y), -1))[1]
    layout = f"task column {args.task_column!r}" if task_column is not None else "one task per target column"
    target = ", ".join(repr(t) for t in info["targets"])
    if classification:
        observed = y[~_missing_targets(y.ravel()).reshape(y.shape)]
        kind = f"classification of {target} ({len(np.unique(observed.astype(str)))} classes)"
    else:
        kind = f"regression of {target}"
    title = (
        f"{info['path']}: {n_tasks} tasks ({layout}), {len(info['features'])} features, "
        f"{len(y)} rows; {kind}; {protocol}"
    )
    # Wide layout: tasks are numbered by target column; show the names.
    notes = {} if task_column is not None else dict(enumerate(info["targets"]))
    return dict(
        X=X, y=y, task_column=task_column, cv=splits, title=title, notes=notes, kind="csv",
        classification=classification, info=info,
    )


# --------------------------------------------------------------------------
# Running and reporting
# --------------------------------------------------------------------------


def _pooled_metrics(result, data):
    """Per split: pooled explained variance, per-task R^2 and RMSE (regression)."""
    y, task_column = np.asarray(data["y"], dtype=np.float64), data["task_column"]
    tasks = None if task_column is None else split_task_column(data["X"], task_column)[1]
    out = {}
    for name, predictions in result.predictions.items():
        ev, r2, rmse = [], [], []
        for (_, test), pred in zip(result.splits, predictions):
            t = None if tasks is None else tasks[test]
            ev.append(multitask_explained_variance(y[test], pred, t, average="pooled"))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tasks with one test row: NaN
                r2.append(per_task_score(y[test], pred, t, metric="r2").scores)
                rmse.append(per_task_score(y[test], pred, t, metric="rmse").scores)
        out[name] = {
            "explained_variance": np.array(ev),
            "r2": np.array(r2),
            "rmse": np.array(rmse),
        }
    return out


def _format_summary(result, metrics):
    header = ["model", "explained var. (pooled)", "mean task RMSE", "mean task R^2",
              "median task R^2", "helped", "hurt"]
    rows = []
    for name in result.models:
        m = metrics[name]
        ev = m["explained_variance"]
        rmse = np.nanmean(m["rmse"], axis=1)
        r2 = np.nanmean(m["r2"], axis=1)
        s = result.summary[name]
        is_ref = name == result.references.get("independent")
        rows.append([
            name, f"{ev.mean():.4f} ±{ev.std():.4f}", f"{rmse.mean():.3f} ±{rmse.std():.3f}",
            f"{r2.mean():.3f} ±{r2.std():.3f}", f"{np.nanmedian(np.nanmean(m['r2'], axis=0)):.3f}",
            "" if is_ref else str(s["n_helped"]), "" if is_ref else str(s["n_hurt"]),
        ])
    return _format_table(header, rows, "<" + ">" * (len(header) - 1))


def _legacy_json(result, metrics):
    """The per-model keys of the first JSON format, kept for existing readers."""
    return {
        name: {
            "per_task_r2_mean": _nan_to_none(np.nanmean(m["r2"], axis=0)),
            "per_task_rmse_mean": _nan_to_none(np.nanmean(m["rmse"], axis=0)),
            "explained_variance": m["explained_variance"].tolist(),
        }
        for name, m in metrics.items()
    }


def _nan_to_none(values):
    return [None if not np.isfinite(v) else float(v) for v in values]


def _check_matplotlib():
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        _fail('--plot needs matplotlib (pip install matplotlib, or "skmtl[plot]")')


def _plot(result, path, model):
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    from .plotting import plot_task_gains
    from .plotting._plots import _best_model

    model = model or _best_model(result)
    ax = plot_task_gains(result, model=model)
    try:
        ax.figure.savefig(path, dpi=100, bbox_inches="tight")
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror or exc}")
    finally:
        plt.close(ax.figure)
    return model


def _run(key, data, args):
    kind = data["kind"]
    classification = data.get("classification", False)
    scoring = args.scoring or ("accuracy" if classification else "r2")
    default = _DEFAULT_MODELS[kind]
    if classification:
        default = [name for name in default if name not in _REGRESSION_ONLY]
    names = _parse_models(args.models, default)
    if args.plot_model and args.plot_model not in {*names, "independent", "pooled"}:
        _fail(f"--plot-model {args.plot_model!r} is not among the compared models: "
              f"{', '.join(dict.fromkeys(['independent', 'pooled', *names]))}")
    models = _build_models(names, data["task_column"], classification, len(data["y"]), args.seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="cv gave a single split")
        # The report has one line per model for the fits' warnings.
        warnings.filterwarnings("ignore", message=r".*warning\(s\) in \d+ of \d+ fits")
        result = compare_with_single_task(
            models,
            data["X"],
            data["y"],
            task_column=data["task_column"],
            cv=data["cv"],
            scoring=scoring,
            n_jobs=args.n_jobs,
            return_predictions=not classification,
            verbose=0 if args.quiet else 1,
        )
    if result.n_splits == 1:
        print("(one split: no paired test, so no task is flagged as helped or hurt)")
    metrics = None if classification else _pooled_metrics(result, data)
    if key != "school" or args.all_tasks:
        print(result._report(None if args.all_tasks else 30, data["notes"], "--all-tasks for all"))
    else:  # 139 schools: the summary tables only
        for line in result._warnings_text()[1:]:
            print(line)
    if metrics is not None:
        print()
        print(_format_summary(result, metrics))
    report = {"title": data["title"], "tasks": result.to_dict()["tasks"]}
    if metrics is not None:
        report["models"] = _legacy_json(result, metrics)
    report["comparison"] = result.to_dict()
    if "info" in data:
        report["data"] = data["info"]
    if args.plot:
        path = args.plot
        if args.dataset == "all":
            stem, ext = os.path.splitext(path)
            path = f"{stem}-{key}{ext or '.png'}"
        model = _plot(result, path, args.plot_model)
        print(f"\nPer-task gains of {model!r} plotted to {path}")
    return report


def _compare(args):
    if args.dataset in ("demo", "all"):
        runs = [("demo", _demo)] + ([("school", _school)] if args.dataset == "all" else [])
    elif args.dataset == "school":
        runs = [("school", _school)]
    else:
        runs = [("csv", _csv)]
    report = {}
    for key, load in runs:
        start = time.perf_counter()
        try:
            data = load(args)
        except OSError as exc:
            if args.dataset == "all":
                print(f"\n(School skipped: {exc})")
                continue
            _fail(exc)
        print(f"\n== {data['title']}", flush=True)
        report[key] = _run(key, data, args)
        print(f"({time.perf_counter() - start:.1f} s)")
    if args.json:
        try:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=1, allow_nan=False)
        except OSError as exc:
            _fail(f"cannot write {args.json}: {exc.strerror or exc}")
        print(f"\nResults written to {args.json}")


def _parser():
    parser = argparse.ArgumentParser(
        prog="skmtl",
        description="Multi-task learning: compare models with single-task baselines, task by task.",
    )
    sub = parser.add_subparsers(dest="command")
    compare = sub.add_parser(
        "compare",
        help="compare models with the single-task baselines on a data set",
        description=(
            "Fit every model on per-task stratified train/test splits, score each task "
            "on its test rows, and flag the tasks a model helps or hurts compared with "
            "independent per-task models (paired corrected t-test across splits)."
        ),
        epilog="models: " + "; ".join(f"{n} = {d}" for n, (d, _) in _MODELS.items()),
    )
    compare.add_argument(
        "dataset",
        nargs="?",
        default="all",
        help="demo (generated), school (data home), all (both; the default) or a CSV file",
    )
    compare.add_argument("--target", help="CSV: target column(s), comma-separated")
    compare.add_argument(
        "--task-column",
        help="CSV: column naming each row's task (long layout); labels are read as "
        "written (1 and 01 are two tasks)",
    )
    compare.add_argument(
        "--features", help="CSV: feature columns, comma-separated (default: all other columns)"
    )
    compare.add_argument(
        "--models",
        help=f"comma-separated models among {', '.join(_MODELS)} "
        "(default: independent,pooled,pooled+onehot,mean-regularized,hierarchical; on demo also "
        "clustered, on a CSV also kernel)",
    )
    compare.add_argument(
        "--task-type",
        choices=("auto", "regression", "classification"),
        default="auto",
        help="CSV: what the target is (default auto: numbers are a regression target "
        "unless they take two values; text with at most "
        f"{_MAX_AUTO_CLASSES} distinct values is class labels)",
    )
    compare.add_argument(
        "--cv",
        type=int,
        metavar="K",
        help="K-fold cross-validation within every task (each row tested once), "
        "instead of random splits",
    )
    compare.add_argument(
        "--shuffle-splits",
        "--n-splits",
        dest="shuffle_splits",
        type=int,
        metavar="N",
        help="number of random per-task train/test splits (default: 5 on demo and CSV; "
        "on School the first N of the 10 official splits)",
    )
    compare.add_argument(
        "--train-size",
        type=float,
        default=None,
        help="fraction of each task's rows to train on in the random splits (default: "
        "0.5 on demo, 0.75 on a CSV; on School it replaces the official splits by "
        "seeded ones)",
    )
    compare.add_argument(
        "--scoring",
        choices=_METRIC_NAMES,
        default=None,
        help="per-task metric (default: r2, or accuracy for class targets)",
    )
    compare.add_argument("--seed", type=int, default=0, help="random seed of data and splits")
    compare.add_argument("--n-jobs", type=int, default=None, help="parallel fits (joblib)")
    compare.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    compare.add_argument(
        "--plot", metavar="PATH", help="also plot the per-task gains of the best model (PNG)"
    )
    compare.add_argument(
        "--plot-model", metavar="NAME",
        help="the model whose gains --plot shows (default: the largest mean gain)",
    )
    compare.add_argument(
        "--all-tasks", action="store_true",
        help="list every task in the table (default: beyond 30 tasks, the flagged ones only)",
    )
    compare.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    return parser


def main(argv=None):
    """Entry point of the ``skmtl`` console script."""
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv or ["compare"])
    if args.command is None:
        _parser().print_help()
        return
    if args.shuffle_splits is not None and args.shuffle_splits < 1:
        _fail("--shuffle-splits must be at least 1")
    if args.cv is not None and args.cv < 2:
        _fail("--cv K needs K >= 2 folds; for one random split use --shuffle-splits 1")
    if args.cv is not None and (args.shuffle_splits is not None or args.train_size is not None):
        given = "--shuffle-splits" if args.shuffle_splits is not None else "--train-size"
        _fail(f"--cv (K-fold) and {given} (random splits) are two protocols; give one")
    if args.train_size is not None and not 0 < args.train_size < 1:
        _fail("--train-size must be a fraction strictly between 0 and 1")
    if args.plot_model and not args.plot:
        _fail("--plot-model chooses the model of --plot PATH; give --plot too")
    if args.plot:
        _check_matplotlib()  # before a long comparison, not after it
    if args.dataset not in _BUILTIN:
        path = Path(args.dataset)
        if path.suffix or len(path.parts) > 1:  # meant as a file
            if not path.exists():
                _fail(f"file not found: {args.dataset}")
            if not path.is_file():
                _fail(f"{args.dataset} is not a file")
        elif not path.is_file():
            _fail(
                f"argument dataset: invalid choice: {args.dataset!r} is neither "
                f"{', '.join(_BUILTIN)} nor an existing CSV file"
            )
    else:
        csv_only = [
            opt for opt, value in (("--target", args.target), ("--task-column", args.task_column),
                                   ("--features", args.features), ("--task-type", args.task_type))
            if value not in (None, "auto")
        ]
        if csv_only:
            _fail(f"{csv_only[0]} applies to a CSV file, not to {args.dataset}")
        if args.scoring in _CLASSIFICATION_METRICS:
            _fail(f"--scoring {args.scoring} is a classification metric; {args.dataset} is regression")
    try:
        _compare(args)
    except BrokenPipeError:
        # The reader went away (``skmtl compare demo | head``): stop quietly,
        # and keep Python from complaining again when it flushes stdout.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
