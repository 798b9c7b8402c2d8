"""School study: every multi-task model against the single-task baselines.

Protocol (``doc/school_study.rst`` holds the results and the discussion):

* split schemes: the 10 official 75/25 splits of Argyriou, Evgeniou & Pontil
  (2008) (``official``), and seeded per-school random splits with 10 %, 20 %
  or 30 % of every school's students for training and the rest for testing
  (``10``, ``20``, ``30``; :class:`skmtl.model_selection.TaskStratifiedShuffleSplit`,
  ``random_state=0``);
* every hyper-parameter is chosen by inner cross-validation on the training
  part only (``TaskStratifiedShuffleSplit``, 2 repeats of a per-school
  75/25 split of the training rows, so every school is in every inner
  training set even with 2 training rows), scored by the pooled squared
  error on the inner validation rows (the criterion of the pooled explained
  variance), then the model is refitted on the whole training part with the
  chosen values and scored on the test part. The three baselines tune their
  ridge penalty with their own efficient leave-one-out CV (``RidgeCV``, as
  ``python -m skmtl`` does);
* metrics on the test part: pooled explained variance ``1 - sum(err^2) /
  sum((y - mean(y))^2)`` over all test students, the mean over schools of
  each school's RMSE, and the mean over schools of each school's
  ``1 - MSE_t / Var_t``; mean +/- std over splits, and the paired
  difference of each model against the best baseline of the scheme (mean
  +/- std over splits of the per-split difference, and on how many splits
  the model is better).

Preprocessing of the multi-task models, fitted on the (inner) training part
only: the 27 features are standardized over all schools together (one
scale for all tasks, so that a coefficient shared by the tasks means the
same thing in every school; per-school standardization hurts here), the
target is standardized, and every school's intercept is a coefficient of a
constant column of value ``intercept_scale`` penalized by the model's own
regularizer (``fit_intercept=False``): the intercepts are then shrunk
towards each other like the other coefficients, by an amount tuned through
``intercept_scale`` (the penalty on an intercept is that of a slope divided
by ``intercept_scale ** 2``). The estimators' own ``fit_intercept=True``
leaves the per-school intercepts unpenalized, which costs a lot when schools
have few training students (see the doc). The losses use
``task_weights="n_samples"`` so that every student counts the same, as in
the pooled metric.

Run ``python benchmarks/school_study.py --quick`` for a smoke run
(< 30 s), ``python benchmarks/school_study.py --n-jobs 2 --json out.json``
for the full study. Needs the School files in ``SKMTL_DATA``.
"""

import argparse
import json
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning

from skmtl.__main__ import _MODELS as _CLI_MODELS
from skmtl.datasets import fetch_school, fetch_school_splits
from skmtl.kernel_ridge import MultiTaskKernelRidge
from skmtl.linear_model import (
    ClusteredRegressor,
    DirtyRegressor,
    GraphRegularizedRegressor,
    GroupLassoRegressor,
    MeanRegularizedRegressor,
    MultiTaskLassoRegressor,
    SparseLowRankRegressor,
    TaskRelationRegressor,
    TraceNormRegressor,
)
from skmtl.metrics import mean_task_rmse, multitask_explained_variance
from skmtl.model_selection import TaskStratifiedShuffleSplit
from skmtl.neural_network import MultiTaskMLPRegressor

SCHEMES = ("official", "10", "20", "30")
METRICS = ("ev_pooled", "rmse_mean", "ev_per_school")
# Columns of School's X that hold the school type (constant within a school).
_SCHOOL_TYPE = slice(21, 27)
_INTERCEPT_SCALES = (1.0, 4.0)


# --------------------------------------------------------------------------
# Model specifications
# --------------------------------------------------------------------------


@dataclass
class Spec:
    """How to build, tune and feed one model.

    ``make(params, context)`` returns an unfitted estimator; ``grid`` lists
    the outer parameter combinations; ``path`` is ``(name, values)`` walked
    with warm starts from the most to the least regularized value (None:
    no path). ``prepared``: the model sees the standardized features with
    the constant column and the standardized target (the grid's
    ``intercept_scale`` sets the constant); else it sees the raw data and
    tunes itself (``grid`` and ``path`` unused).
    """

    make: callable
    description: str
    baseline: bool = False
    prepared: bool = True
    grid: list = field(default_factory=lambda: [{}])
    path: tuple = None


def _with_scales(grid=({},), scales=_INTERCEPT_SCALES):
    return [{**g, "intercept_scale": c} for g in grid for c in scales]


def _linear(cls, **fixed):
    def make(params, context):
        return cls(
            **fixed, **params, fit_intercept=False, task_weights="n_samples", task_column=-1,
            max_iter=2000,
        )

    return make


def _graph_model(params, context):
    return GraphRegularizedRegressor(
        **params, task_graph=context["type_graph"], fit_intercept=False,
        task_weights="n_samples", task_column=-1, max_iter=2000,
    )


def _baseline(name):
    return lambda params, context: _CLI_MODELS[name][1](-1, False, context["n_rows"], 0)


def _kernel(params, context):
    return MultiTaskKernelRidge(
        kernel="rbf", task_kernel="mean_regularized", n_components=context["n_components"],
        random_state=0, task_column=-1, **params,
    )


def _mlp(params, context):
    return MultiTaskMLPRegressor(
        hidden_layer_sizes=(32,), early_stopping=True, max_iter=context["mlp_epochs"],
        random_state=0, task_column=-1, **params,
    )




def _specs(quick=False):
    """The models; ``quick`` shrinks every grid and path to at most 2 values."""
    specs = {
        "independent": Spec(_baseline("independent"), "IndependentTasks(RidgeCV)", baseline=True, prepared=False),
        "pooled": Spec(_baseline("pooled"), "PooledTasks(RidgeCV)", baseline=True, prepared=False),
        "pooled+onehot": Spec(
            _baseline("pooled+onehot"), "PooledTasks(RidgeCV, task_features='onehot')",
            baseline=True, prepared=False,
        ),
        "hierarchical": Spec(
            _baseline("hierarchical"),
            "HierarchicalRegressor() (random intercept and slopes, diagonal covariance, REML): nothing tuned",
            prepared=False,
        ),
        "mean-reg": Spec(
            _linear(MeanRegularizedRegressor, mixing=1.0),
            "MeanRegularizedRegressor(mixing=1), alpha path x intercept_scale",
            grid=_with_scales(), path=("alpha", np.logspace(2.5, -0.5, 5)),
        ),
        "graph-reg": Spec(
            _graph_model,
            "GraphRegularizedRegressor on a school-type graph (same gender x denomination)",
            grid=_with_scales(), path=("alpha", np.logspace(2.5, -0.5, 5)),
        ),
        "task-relation": Spec(
            _linear(TaskRelationRegressor),
            "TaskRelationRegressor (MTRL, ridge=0.1), alpha path x intercept_scale",
            grid=_with_scales([{"ridge": 0.1}]), path=("alpha", np.logspace(1, -2, 5)),
        ),
        "clustered": Spec(
            _linear(ClusteredRegressor, n_clusters=3, random_state=0),
            "ClusteredRegressor(n_clusters=3, beta=0.01), alpha path, intercept_scale=4",
            grid=_with_scales([{"beta": 0.01}], (4.0,)), path=("alpha", np.logspace(2, -1, 4)),
        ),
        "group-lasso": Spec(
            _linear(GroupLassoRegressor), "GroupLassoRegressor (L21), alpha path x intercept_scale",
            grid=_with_scales(), path=("alpha", np.logspace(0.5, -2.5, 5)),
        ),
        "trace-norm": Spec(
            _linear(TraceNormRegressor), "TraceNormRegressor, alpha path x intercept_scale",
            grid=_with_scales(), path=("alpha", np.logspace(1.5, -1.5, 5)),
        ),
        "lasso": Spec(
            _linear(MultiTaskLassoRegressor), "MultiTaskLassoRegressor (L1 per task), alpha path",
            grid=_with_scales(), path=("alpha", np.logspace(-0.5, -3.5, 5)),
        ),
        # Relative strengths (fractions of each part's alpha_max, the
        # models' default): one grid suits both parts.
        "dirty": Spec(
            _linear(DirtyRegressor),
            "DirtyRegressor (L1/Linf shared + L1 specific), relative alpha_specific {0.3, 0.1, 0.03} "
            "x alpha_shared path 1..0.01, intercept_scale=4",
            grid=_with_scales([{"alpha_specific": a} for a in (0.3, 0.1, 0.03)], (4.0,)),
            path=("alpha_shared", np.geomspace(1.0, 0.01, 5)),
        ),
        "sparse-low-rank": Spec(
            _linear(SparseLowRankRegressor),
            "SparseLowRankRegressor (L1 + nuclear), relative alpha_sparse {1, 0.3, 0.1} "
            "x alpha_rank path 1..0.01, intercept_scale=4",
            grid=_with_scales([{"alpha_sparse": a} for a in (1.0, 0.3, 0.1)], (4.0,)),
            path=("alpha_rank", np.geomspace(1.0, 0.01, 5)),
        ),
        "kernel": Spec(
            _kernel,
            "MultiTaskKernelRidge(rbf x mean_regularized task kernel, task_mixing=0.1, 200 Nystroem components), alpha",
            grid=_with_scales(
                [{"alpha": a, "task_mixing": 0.1} for a in (1.0, 10.0)], (1.0,)
            ),
        ),
        "mlp": Spec(
            _mlp,
            "MultiTaskMLPRegressor((32,), early stopping, 50 epochs), alpha",
            grid=_with_scales([{"alpha": a} for a in (1e-2, 1.0)], (1.0,)),
        ),
    }
    if quick:
        for spec in specs.values():
            spec.grid = spec.grid[:2]
            if spec.path is not None:
                spec.path = (spec.path[0], spec.path[1][::3][:2])
    return specs


# --------------------------------------------------------------------------
# Data, preparation, tuning
# --------------------------------------------------------------------------


def _splits(scheme, n_splits):
    """Train/test index pairs of one scheme (seeded, reproducible)."""
    X, y = _DATA["X"], _DATA["y"]
    if scheme == "official":
        return fetch_school_splits()[:n_splits]
    train = int(scheme) / 100
    cv = TaskStratifiedShuffleSplit(
        n_splits=n_splits, train_size=train, test_size=round(1 - train, 10), task_column=-1, random_state=0
    )
    return list(cv.split(X, y))


def _prepare(X_train, y_train, X_eval, intercept_scale):
    """Scale features and target on the training rows; append the constant column.

    Returns the transformed train and eval arrays (task column last) and
    the target's ``(mean, scale)`` to map predictions back.
    """
    mean = X_train[:, :-1].mean(axis=0)
    scale = X_train[:, :-1].std(axis=0)
    scale[scale == 0] = 1.0

    def transform(X):
        const = np.full((len(X), 1), intercept_scale)
        return np.hstack([(X[:, :-1] - mean) / scale, const, X[:, -1:]])

    y_mean, y_scale = y_train.mean(), y_train.std()
    return transform(X_train), (y_train - y_mean) / y_scale, transform(X_eval), (y_mean, y_scale)


def _type_graph(X):
    """Task graph from the school type (gender x denomination) of each school.

    ``A = S / n_type + 1 / T``: schools of the same type are pulled towards
    their type's mean, all schools (weakly) towards the overall mean, so a
    school alone of its type is still tied to the others.
    """
    tasks = X[:, -1].astype(int)
    T = tasks.max() + 1
    first = np.zeros(T, dtype=int)
    first[tasks[::-1]] = np.arange(len(tasks))[::-1]
    _, type_of = np.unique(X[first, _SCHOOL_TYPE], axis=0, return_inverse=True)
    same = (type_of[:, None] == type_of[None, :]).astype(float)
    return same / same.sum(axis=1, keepdims=True) + 1.0 / T


def _context(X_train, quick):
    return {
        "n_rows": len(X_train),
        "type_graph": _type_graph(X_train),
        "n_components": 100 if quick else 200,
        "mlp_epochs": 10 if quick else 50,
    }


def _fit_predict(spec, params, X_train, y_train, X_eval, context, warm=None):
    """Fit on the training rows (``warm``: a fitted estimator to reuse) and predict."""
    if not spec.prepared:
        model = spec.make(params, context).fit(X_train, y_train)
        return model.predict(X_eval), model
    params = dict(params)
    A, b, V, (y_mean, y_scale) = _prepare(X_train, y_train, X_eval, params.pop("intercept_scale"))
    if warm is None:
        model = spec.make(params, context)
    else:
        model = warm.set_params(**params, warm_start=True)
    model.fit(A, b)
    return model.predict(V) * y_scale + y_mean, model


def _tune(spec, X, y, inner, context):
    """Inner-CV choice of the parameters: the lowest pooled validation SSE."""
    if not spec.prepared:
        return {}, None
    path_name, path_values = spec.path if spec.path is not None else (None, [None])
    sse = np.zeros((len(spec.grid), len(path_values)))
    for tr, va in inner:
        for g, params in enumerate(spec.grid):
            model = None
            for p, value in enumerate(path_values):
                full = dict(params) if path_name is None else {**params, path_name: value}
                pred, model = _fit_predict(spec, full, X[tr], y[tr], X[va], context, warm=model)
                sse[g, p] += np.sum((pred - y[va]) ** 2)
                if path_name is None:
                    model = None
    g, p = np.unravel_index(np.argmin(sse), sse.shape)
    best = dict(spec.grid[g])
    if path_name is not None:
        best[path_name] = float(path_values[p])
    at_edge = path_name is not None and p in (0, len(path_values) - 1)
    return best, bool(at_edge)


def _scores(y_true, y_pred, tasks):
    return {
        "ev_pooled": multitask_explained_variance(y_true, y_pred, tasks),
        "rmse_mean": mean_task_rmse(y_true, y_pred, tasks),
        "ev_per_school": multitask_explained_variance(y_true, y_pred, tasks, average="per_task"),
    }


def _run_one(name, spec, train, test, split_seed, quick):
    """Tune on the training part, refit, score on the test part (one job)."""
    X, y = _DATA["X"], _DATA["y"]
    start = time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        X_train, y_train = X[train], y[train]
        context = _context(X_train, quick)
        inner = list(
            TaskStratifiedShuffleSplit(
                n_splits=2, test_size=0.25, task_column=-1, random_state=split_seed
            ).split(X_train)
        )
        best, at_edge = _tune(spec, X_train, y_train, inner, context)
        pred, _ = _fit_predict(spec, best, X_train, y_train, X[test], context)
    n_warnings = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    result = _scores(y[test], pred, X[test, -1])
    result.update(
        params=best, at_edge=at_edge, convergence_warnings=n_warnings,
        cpu_seconds=time.process_time() - start,
    )
    return result


_DATA = {}


def _load():
    if not _DATA:
        X, y = fetch_school(return_X_y=True, download_if_missing=False)
        _DATA.update(X=X, y=y)


def _load_and_run(*args):
    _load()  # in a joblib worker process
    return _run_one(*args)


# --------------------------------------------------------------------------
# Summary and report
# --------------------------------------------------------------------------


def _summarize(per_split, baselines):
    """Mean/std per model and metric, paired differences against the best baseline."""
    summary = {}
    for name, rows in per_split.items():
        summary[name] = {
            m: {"mean": float(np.mean([r[m] for r in rows])), "std": float(np.std([r[m] for r in rows]))}
            for m in METRICS
        }
    ranked = [b for b in baselines if b in summary]
    best = max(ranked, key=lambda b: summary[b]["ev_pooled"]["mean"]) if ranked else None
    if best is not None:
        for name, rows in per_split.items():
            ref = per_split[best]
            for m in METRICS:
                diff = np.array([r[m] - s[m] for r, s in zip(rows, ref)])
                better = diff < 0 if m == "rmse_mean" else diff > 0
                summary[name][m].update(
                    diff_mean=float(diff.mean()), diff_std=float(diff.std()), wins=int(better.sum())
                )
    return summary, best


def _table(scheme, summary, best, n_splits, specs):
    lines = [
        f"School, scheme {scheme!r}: {n_splits} splits; paired differences against "
        f"the best baseline, {best}",
        f"{'model':<16} {'pooled EV':>15} {'mean RMSE':>14} {'per-school EV':>15} "
        f"{'dEV vs best':>17} {'wins':>5} {'dRMSE':>16}",
    ]
    order = sorted(summary, key=lambda n: (not specs[n].baseline, -summary[n]["ev_pooled"]["mean"]))
    for name in order:
        s = summary[name]
        ev, rmse, pev = s["ev_pooled"], s["rmse_mean"], s["ev_per_school"]
        row = (
            f"{name:<16} {ev['mean']:7.4f}+-{ev['std']:.4f} {rmse['mean']:6.3f}+-{rmse['std']:.3f} "
            f"{pev['mean']:7.4f}+-{pev['std']:.4f}"
        )
        if "diff_mean" in ev:
            row += (
                f" {ev['diff_mean']:+8.4f}+-{ev['diff_std']:.4f} {ev['wins']:>2}/{n_splits:<2}"
                f" {rmse['diff_mean']:+7.3f}+-{rmse['diff_std']:.3f}"
            )
        lines.append(row)
    return "\n".join(lines)


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schemes", default=",".join(SCHEMES),
                        help=f"comma-separated among {', '.join(SCHEMES)} (default: all)")
    parser.add_argument("--models", default=None,
                        help="comma-separated model names (default: all); baselines are always added")
    parser.add_argument("--n-splits", type=int, default=10, help="outer splits per scheme (default 10)")
    parser.add_argument("--n-jobs", type=int, default=1, help="joblib workers over (split, model) jobs")
    parser.add_argument("--json", default=None, help="write every per-split result and the summary here")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: official scheme, 2 splits, mean-reg + pooled+onehot, tiny grids")
    return parser.parse_args(argv)


def main(argv=None):
    args = _parse(argv)
    specs = _specs(quick=args.quick)
    if args.quick:
        schemes, names, n_splits = ["official"], ["pooled+onehot", "mean-reg"], 2
    else:
        schemes = [s.strip() for s in args.schemes.split(",") if s.strip()]
        names = list(specs) if args.models is None else [n.strip() for n in args.models.split(",") if n.strip()]
        n_splits = args.n_splits
        names = [n for n in specs if specs[n].baseline] + [n for n in names if not specs[n].baseline]
    for bad in [s for s in schemes if s not in SCHEMES] + [n for n in names if n not in specs]:
        raise SystemExit(f"unknown scheme or model {bad!r}; schemes: {SCHEMES}, models: {list(specs)}")
    _load()
    started = time.perf_counter()
    splits = {scheme: _splits(scheme, n_splits) for scheme in schemes}
    jobs = [
        (scheme, k, name)
        for scheme in schemes for k in range(len(splits[scheme])) for name in names
    ]
    results = Parallel(n_jobs=args.n_jobs)(
        delayed(_load_and_run)(name, specs[name], *splits[scheme][k], k, args.quick)
        for scheme, k, name in jobs
    )
    report = {"argv": sys.argv[1:], "quick": args.quick, "schemes": {}}
    for scheme in schemes:
        per_split = {
            name: [r for (s, k, n), r in zip(jobs, results) if s == scheme and n == name] for name in names
        }
        summary, best = _summarize(per_split, [n for n in names if specs[n].baseline])
        print(_table(scheme, summary, best, len(splits[scheme]), specs), end="\n\n", flush=True)
        report["schemes"][scheme] = {"best_baseline": best, "summary": summary, "per_split": per_split}
    wall = time.perf_counter() - started
    cpu = sum(r["cpu_seconds"] for r in results)
    print(f"wall time {wall:.1f} s, CPU time in jobs {cpu:.1f} s, n_jobs={args.n_jobs}")
    report.update(wall_seconds=wall, cpu_seconds=cpu, models={n: specs[n].description for n in names})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1, default=float)
    return report


if __name__ == "__main__":
    main()
