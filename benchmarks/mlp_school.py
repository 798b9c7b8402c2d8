"""MultiTaskMLPRegressor on School (long layout, 139 tasks): gradient check, quality, defaults.

Three commands, the first two on School's official splits (``fetch_school_splits``;
``SKMTL_DATA`` must hold the files), with the features standardized over
all schools together (``TaskwiseStandardScaler(task_column=-1,
by_task=False)``, fitted on the training rows) and the exam score
standardized with the training rows' mean and standard deviation (the
predictions are mapped back)::

    python benchmarks/mlp_school.py gradient [--split 0] [--epochs 20]
    python benchmarks/mlp_school.py quality [--splits 0,1,2] [--json out.json]
    python benchmarks/mlp_school.py defaults [--splits 0,1,2] [--landmine-splits 0,1,2] [--json out.json]
    python benchmarks/mlp_school.py generated [--seeds 0,1,2] [--json out.json]

``gradient`` measures how well a minibatch gradient estimates the gradient
of the full data term ``sum_t w_t L_t`` (``L_t`` the mean loss over ALL
training rows of task ``t``, ``w_t = 1``) at fixed network weights, for two
normalizations of the minibatch loss:

* ``batch``: each task's loss is the mean over that task's rows *in the
  minibatch* (``D_t = S_t^batch``, skmtl before issue 7);
* ``unbiased``: row ``i`` of task ``t`` weighs ``w_t / (n_t B / N)`` with
  ``n_t`` the task's rows in the training set, ``B`` the batch size and
  ``N`` the training-set size (``D_t = n_t B / N``, skmtl since issue 7).

Over ``--epochs`` random epochs of batches of 200 it reports, for all
parameters and for the trunk and head parameters separately, the relative
bias ``||mean_k g_k - g|| / ||g||`` with its Monte-Carlo noise floor
``sqrt(mean_k ||g_k - gbar||^2 / M) / ||g||`` (M batches), the relative
root-mean-square error ``sqrt(mean_k ||g_k - g||^2) / ||g||``, and the
cosine between ``mean_k g_k`` and ``g``; and how often each task is present
in a batch (with the ``batch`` normalization a task's expected weight in the
minibatch objective is about that probability instead of ``w_t``). The
weights are those of ``MultiTaskMLPRegressor((32,), random_state=0)`` at
initialization and after 10 epochs of training, float64.

``quality`` fits a small grid of ``MultiTaskMLPRegressor`` settings
(``GRID`` below, ``random_state=0``, ``task_column=-1``, batch 200, Adam,
ReLU, one linear head per school) on each split's training rows and scores
the test rows by the pooled explained variance ``1 - sum (y - yhat)^2 /
sum (y - mean(y))^2`` (``multitask_explained_variance(average="pooled")``),
counting ConvergenceWarnings. Every setting is scored on the test rows, so
the best of the grid is an optimistic estimate. Run it with the skmtl to
compare on the path (e.g. ``PYTHONPATH=<copy of an older skmtl>``).

``defaults`` runs the networks at their default settings side by side with
the linear baselines of ``python -m skmtl`` (``RidgeCV`` / ``LogisticRegressionCV``
inside ``IndependentTasks`` and ``PooledTasks``), all in one run, on

* School, official splits, as above (global standardization, the score
  standardized for the networks only): pooled explained variance and mean
  per-school RMSE of the test rows;
* Landmine (29 binary tasks, 14,820 rows, 9 features, 3-9 % positives;
  ``$SKMTL_DATA/landmine/LandmineData.mat``): per split, 20 % of every
  task's rows of each class for training
  (``TaskStratifiedShuffleSplit(train_size=0.2, random_state=split)`` with
  task x class strata), the rest for testing, features standardized over
  all tasks on the training rows; mean per-task ROC AUC of the test rows.

Networks: ``MultiTaskMLPRegressor()`` / ``MultiTaskMLPClassifier()`` (only
``random_state=0`` and the task column set), and the same without the skip
path and the shared heads (``linear_skip=False, head_sharing=None``), and
with the defaults before issue 17 (also ``early_stopping=False,
alpha=1e-4``, batches of ``min(200, n)`` rows, ``learning_rate_init=1e-3``,
``max_iter=200``), and with task embeddings instead of one head per task
(``task_encoding="embedding"``). ``--mlp-params`` overrides parameters of
every network (e.g. ``"alpha=10"``), for choosing the defaults;
``--networks`` picks networks by their position in that list (e.g.
``0,3``) and ``--no-baselines`` skips the linear models.

``generated`` runs the same networks on two generated problems of
``tests/neural_network/test_quality.py``, in the long layout, mean per-task
R^2 of held-out rows (200 per task, resp. 50):

* shared representation: 8 tasks of 30 training rows,
  ``y_t = tanh(X A) b_t + noise`` (``shared_representation_tasks``), beside
  one ``MLPRegressor`` per task, at scikit-learn's defaults and at the
  test's settings (``(32,)``, tanh, ``learning_rate_init=1e-2``,
  ``alpha=1e-3``, ``max_iter=400``);
* many small tasks: 200 tasks of 15 training rows,
  ``y = tanh(X A + z_t C) b + noise`` with each task a point ``z_t`` of a
  planted 2-dim space (``many_small_tasks``);

each with data seeds ``--seeds`` (the networks keep ``random_state=0``).
"""

import argparse
import json
import pathlib
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklearn.metrics import r2_score, roc_auc_score
from sklearn.neural_network import MLPRegressor

from skmtl.__main__ import _MODELS as _CLI_MODELS
from skmtl.datasets import fetch_school, fetch_school_splits, get_data_home
from skmtl.metrics import mean_task_rmse, multitask_explained_variance
from skmtl.model_selection import TaskStratifiedShuffleSplit
from skmtl.multitask import IndependentTasks
from skmtl.neural_network import MultiTaskMLPClassifier, MultiTaskMLPRegressor
from skmtl.preprocessing import TaskwiseStandardScaler

_COMMON = dict(random_state=0, task_column=-1)
_EARLY = dict(early_stopping=True, n_iter_no_change=20, max_iter=300)
_NO_EARLY = dict(early_stopping=False, max_iter=100)
# task_weighting "n_samples": w_t = T n_t / N (n_t training rows of school t,
# N in all), which makes the data term the mean loss over all students, the
# criterion of the pooled explained variance; "equal" is the default w_t = 1.
GRID = [
    dict(hidden_layer_sizes=hidden, alpha=alpha, learning_rate_init=lr, task_weighting=weighting, **stopping)
    for weighting in ("equal", "n_samples")
    for hidden in [(32,), (16,)]
    for alpha in (0.1, 1.0, 10.0)
    for lr in (1e-3, 1e-2)
    for stopping in (_EARLY, _NO_EARLY)
]


def _describe(params):
    stop = f"early n={params['n_iter_no_change']}" if params["early_stopping"] else f"max_iter={params['max_iter']}"
    weighting = "" if params["task_weighting"] == "equal" else " w~n_t"
    return f"{params['hidden_layer_sizes']} alpha={params['alpha']:g} lr={params['learning_rate_init']:g} {stop}{weighting}"


def load_split(split):
    """Standardized training and test rows of one official split (task column last)."""
    X, y = fetch_school(return_X_y=True)
    train, test = fetch_school_splits()[split]
    scaler = TaskwiseStandardScaler(task_column=-1, by_task=False).fit(X[train])
    y_mean, y_std = y[train].mean(), y[train].std()
    return (
        scaler.transform(X[train]), (y[train] - y_mean) / y_std,
        scaler.transform(X[test]), y[test], (y_mean, y_std),
    )


# --------------------------------------------------------------------- gradient
def _flat(grads):
    return np.concatenate([g.ravel() for g in grads])


def _gradient_stats(batch_grads, full):
    """Relative bias (and its noise floor), RMSE and cosine of batch gradients vs ``full``."""
    G = np.asarray(batch_grads)
    mean = G.mean(axis=0)
    norm = np.linalg.norm(full)
    spread = np.sqrt(np.mean(np.sum((G - mean) ** 2, axis=1)) / len(G))
    return {
        "bias": float(np.linalg.norm(mean - full) / norm),
        "noise_floor": float(spread / norm),
        "rmse": float(np.sqrt(np.mean(np.sum((G - full) ** 2, axis=1))) / norm),
        "cosine": float(mean @ full / (np.linalg.norm(mean) * norm)),
    }


def gradient_check(split=0, n_epochs=20, batch_size=200, trained_epochs=(0, 10)):
    # (imported here: ``quality`` also runs with skmtl versions without task_totals)
    from skmtl.neural_network._layers import data_term_gradients, init_params, task_totals

    X, y, _, _, _ = load_split(split)
    features = X[:, :-1]
    _, codes = np.unique(X[:, -1], return_inverse=True)
    n, n_tasks = len(y), codes.max() + 1
    weights = np.ones(n_tasks)
    totals = task_totals(n, None, codes, n_tasks)
    problem = {"kind": "regression"}
    report = {}
    for epochs in trained_epochs:
        if epochs == 0:
            coefs, intercepts = init_params(
                [features.shape[1], 32, 1], 1, n_tasks, "relu", np.float64, np.random.RandomState(0)
            )
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = MultiTaskMLPRegressor((32,), max_iter=epochs, dtype=np.float64, **_COMMON).fit(X, y)
            coefs, intercepts = model.coefs_, model.intercepts_
        args = (coefs, intercepts, 1)

        def grad(rows, denominators):
            _, _, present, gw, gb, _ = data_term_gradients(
                *args, features[rows], y[rows], None, codes[rows], problem, "relu", weights,
                None, denominators,
            )
            return _flat(gw + gb), present > 0

        full, _ = grad(np.arange(n), None)
        n_trunk = coefs[0].size
        trunk = np.r_[np.ones(n_trunk, bool), np.zeros(coefs[1].size, bool), np.ones(intercepts[0].size, bool),
                      np.zeros(intercepts[1].size, bool)]
        rng = np.random.RandomState(0)
        batches = {"batch": [], "unbiased": []}
        present = []
        for _ in range(n_epochs):
            perm = rng.permutation(n)
            for start in range(0, n, batch_size):
                rows = np.sort(perm[start : start + batch_size])
                g, here = grad(rows, None)
                batches["batch"].append(g)
                present.append(here)
                batches["unbiased"].append(grad(rows, totals * len(rows) / n)[0])
        p = np.mean(present, axis=0)
        rows = {}
        for name, G in batches.items():
            G = np.asarray(G)
            rows[name] = {part: _gradient_stats(G[:, mask], full[mask]) for part, mask in
                          (("all", slice(None)), ("trunk", trunk), ("heads", ~trunk))}
        report[f"after {epochs} epochs"] = {
            "normalizations": rows,
            "presence": {"min": float(p.min()), "median": float(np.median(p)), "max": float(p.max()),
                         "corr_with_n_t": float(np.corrcoef(p, totals)[0, 1])},
            "n_batches": len(present),
        }
    return report


def print_gradient(report):
    for point, r in report.items():
        print(f"Weights {point}: {r['n_batches']} batches of 200")
        print(f"{'normalization':<14}{'params':<8}{'rel. bias':>11}{'noise floor':>13}{'rel. RMSE':>11}{'cosine':>9}")
        for name, parts in r["normalizations"].items():
            for part, s in parts.items():
                print(f"{name:<14}{part:<8}{s['bias']:>11.4f}{s['noise_floor']:>13.4f}{s['rmse']:>11.3f}{s['cosine']:>9.4f}")
        p = r["presence"]
        print(f"P(task in batch): min {p['min']:.3f}, median {p['median']:.3f}, max {p['max']:.3f}, "
              f"correlation with n_t {p['corr_with_n_t']:.3f}\n")


# ---------------------------------------------------------------------- quality
def fit_score(params, data):
    X_train, y_train, X_test, y_test, (y_mean, y_std) = data
    params = dict(params)
    if params["task_weighting"] == "n_samples":
        counts = np.unique(X_train[:, -1], return_counts=True)[1]
        params["task_weighting"] = len(counts) * counts / counts.sum()
    start = time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model = MultiTaskMLPRegressor(**params, **_COMMON).fit(X_train, y_train)
    pred = model.predict(X_test) * y_std + y_mean
    ev = multitask_explained_variance(y_test, pred, tasks=X_test[:, -1], average="pooled")
    return {
        "ev": float(ev), "epochs": int(model.n_iter_), "cpu_s": time.process_time() - start,
        "convergence_warnings": sum(issubclass(w.category, ConvergenceWarning) for w in caught),
    }


def quality(splits, grid):
    results = []
    for split in splits:
        data = load_split(split)
        for params in grid:
            r = fit_score(params, data)
            results.append({"split": split, "setting": _describe(params), **r})
            print(f"split {split}  {_describe(params):<48} EV {r['ev']:.4f}  epochs {r['epochs']:>3}  "
                  f"warnings {r['convergence_warnings']}  cpu {r['cpu_s']:.1f}s", flush=True)
    return results


def print_quality(results):
    settings = list(dict.fromkeys(r["setting"] for r in results))
    splits = list(dict.fromkeys(r["split"] for r in results))
    print(f"\n{'setting':<48}" + "".join(f"{'split ' + str(s):>10}" for s in splits) + f"{'mean':>9}{'warn':>6}")
    for setting in settings:
        rows = [r for r in results if r["setting"] == setting]
        evs = [r["ev"] for r in rows]
        print(f"{setting:<48}" + "".join(f"{e:>10.4f}" for e in evs)
              + f"{np.mean(evs):>9.4f}{sum(r['convergence_warnings'] for r in rows):>6}")


# ---------------------------------------------------------------------- defaults
_NETWORKS = {
    "MLP (defaults)": {},
    "MLP, no skip path / shared heads": dict(linear_skip=False, head_sharing=None),
    "MLP, defaults before issue 17": dict(
        linear_skip=False, head_sharing=None, early_stopping=False, alpha=1e-4, batch_size=200,
        learning_rate_init=1e-3, max_iter=200,
    ),
    "MLP, task embeddings": dict(task_encoding="embedding"),
}
_BASELINES = ["pooled+onehot", "pooled", "independent"]


def load_landmine(split, train_size=0.2):
    """Standardized training and test rows of one Landmine split (task column last)."""
    from scipy.io import loadmat

    mat = loadmat(f"{get_data_home()}/landmine/LandmineData.mat")
    features = [mat["feature"][0, t] for t in range(mat["feature"].shape[1])]
    labels = [mat["label"][0, t].ravel().astype(int) for t in range(len(features))]
    tasks = np.repeat(np.arange(len(features)), [len(f) for f in features])
    X = np.column_stack([np.vstack(features), tasks])
    y = np.concatenate(labels)
    cv = TaskStratifiedShuffleSplit(1, train_size=train_size, random_state=split)
    train, test = next(cv.split(X, groups=2 * tasks + y))
    scaler = TaskwiseStandardScaler(task_column=-1, by_task=False).fit(X[train])
    return scaler.transform(X[train]), y[train], scaler.transform(X[test]), y[test]


def _fit_predict(model, X_train, y_train, X_test, proba=False):
    start = time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(X_train, y_train)
    pred = model.predict_proba(X_test)[:, 1] if proba else model.predict(X_test)
    info = {
        "cpu_s": time.process_time() - start,
        "convergence_warnings": sum(issubclass(w.category, ConvergenceWarning) for w in caught),
    }
    if hasattr(model, "n_iter_") and np.ndim(model.n_iter_) == 0:
        info["epochs"] = int(model.n_iter_)
    if getattr(model, "head_sharing_", None) is not None:
        info["head_sharing"] = [float(v) for v in model.head_sharing_]
    return pred, info


def _models(estimator, networks, overrides, baselines, classification, n_samples):
    """The chosen networks (with the overrides), then the linear baselines if asked."""
    models = {name: estimator(**{**_COMMON, **overrides, **_NETWORKS[name]}) for name in networks}
    if baselines:
        models.update({name: _CLI_MODELS[name][1](-1, classification, n_samples, 0) for name in _BASELINES})
    return models


def defaults(school_splits, landmine_splits, overrides, networks=tuple(_NETWORKS), baselines=True):
    results = []
    for split in school_splits:
        X_train, y_train, X_test, y_test, (y_mean, y_std) = load_split(split)
        tasks = X_test[:, -1]
        models = _models(MultiTaskMLPRegressor, networks, overrides, baselines, False, len(y_train))
        for name, model in models.items():
            network = name.startswith("MLP")
            pred, info = _fit_predict(model, X_train, y_train if network else y_train * y_std + y_mean, X_test)
            pred = pred * y_std + y_mean if network else pred
            r = {"data": "school", "split": split, "model": name,
                 "pooled_ev": float(multitask_explained_variance(y_test, pred, tasks=tasks, average="pooled")),
                 "mean_rmse": float(mean_task_rmse(y_test, pred, tasks=tasks)), **info}
            results.append(r)
            print(f"school split {split}  {name:<34} EV {r['pooled_ev']:.4f}  RMSE {r['mean_rmse']:.3f}  "
                  f"{_extras(r)}", flush=True)
    for split in landmine_splits:
        X_train, y_train, X_test, y_test = load_landmine(split)
        tasks = X_test[:, -1]
        models = _models(MultiTaskMLPClassifier, networks, overrides, baselines, True, len(y_train))
        for name, model in models.items():
            score, info = _fit_predict(model, X_train, y_train, X_test, proba=True)
            auc = np.mean([roc_auc_score(y_test[tasks == t], score[tasks == t]) for t in np.unique(tasks)])
            r = {"data": "landmine", "split": split, "model": name, "mean_auc": float(auc), **info}
            results.append(r)
            print(f"landmine split {split}  {name:<34} AUC {auc:.4f}  {_extras(r)}", flush=True)
    return results


# -------------------------------------------------------------------- generated
def _generators():
    """The generated problems of tests/neural_network/test_quality.py."""
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "neural_network"))
    from test_quality import many_small_tasks, shared_representation_tasks

    return {
        "shared representation": lambda seed: shared_representation_tasks(seed=seed),
        "many small tasks": lambda seed: many_small_tasks(seed=seed)[:4],
    }


_INDEPENDENT_MLPS = {
    "independent MLPRegressor (defaults)": dict(random_state=0),
    "independent MLPRegressor (test's settings)": dict(
        hidden_layer_sizes=(32,), activation="tanh", max_iter=400, learning_rate_init=1e-2, alpha=1e-3,
        random_state=0,
    ),
}


def generated(seeds, overrides, networks=tuple(_NETWORKS)):
    results = []
    for problem, make in _generators().items():
        for seed in seeds:
            X_train, y_train, X_test, y_test = make(seed)
            tasks = X_test[:, -1]
            models = {name: MultiTaskMLPRegressor(**{**_COMMON, **overrides, **_NETWORKS[name]}) for name in networks}
            if problem == "shared representation":
                models.update({name: IndependentTasks(MLPRegressor(**params), task_column=-1)
                               for name, params in _INDEPENDENT_MLPS.items()})
            for name, model in models.items():
                pred, info = _fit_predict(model, X_train, y_train, X_test)
                r2 = np.mean([r2_score(y_test[tasks == t], pred[tasks == t]) for t in np.unique(tasks)])
                r = {"data": problem, "split": seed, "model": name, "mean_r2": float(r2), **info}
                results.append(r)
                print(f"{problem} seed {seed}  {name:<42} R2 {r2:.4f}  {_extras(r)}", flush=True)
    return results


def _extras(r):
    parts = [f"cpu {r['cpu_s']:.1f}s", f"warnings {r['convergence_warnings']}"]
    if "epochs" in r:
        parts.append(f"epochs {r['epochs']}")
    if "head_sharing" in r:
        parts.append("sharing " + "/".join(f"{v:.3g}" for v in r["head_sharing"]))
    return "  ".join(parts)


def print_defaults(results):
    """Median and worst split of every model's scores, per data set."""
    for data, metrics in (
        ("school", [("pooled_ev", max), ("mean_rmse", min)]),
        ("landmine", [("mean_auc", max)]),
        ("shared representation", [("mean_r2", max)]),
        ("many small tasks", [("mean_r2", max)]),
    ):
        rows = [r for r in results if r["data"] == data]
        if not rows:
            continue
        print(f"\n{data}: {len({r['split'] for r in rows})} splits; median (worst split)")
        for model in dict.fromkeys(r["model"] for r in rows):
            mine = [r for r in rows if r["model"] == model]
            cells = []
            for key, best in metrics:
                values = np.array([r[key] for r in mine])
                worst = values.min() if best is max else values.max()
                cells.append(f"{key} {np.median(values):.4f} ({worst:.4f})")
            warn = sum(r["convergence_warnings"] for r in mine)
            print(f"  {model:<34} " + "  ".join(cells) + f"  warnings {warn}  cpu {np.median([r['cpu_s'] for r in mine]):.1f}s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("gradient", help="minibatch vs full-batch gradient")
    g.add_argument("--split", type=int, default=0)
    g.add_argument("--epochs", type=int, default=20)
    q = sub.add_parser("quality", help="pooled explained variance of a small grid")
    q.add_argument("--splits", default="0,1,2", help="official split indices, comma-separated")
    q.add_argument("--settings", default=None, help="indices into GRID, comma-separated (default: all)")
    d = sub.add_parser("defaults", help="default networks next to the linear baselines")
    d.add_argument("--splits", default="0,1,2", help="School official split indices ('' for none)")
    d.add_argument("--landmine-splits", default="0,1,2", help="Landmine split seeds ('' for none)")
    d.add_argument("--no-baselines", action="store_true", help="networks only")
    r = sub.add_parser("generated", help="networks on the generated problems of the quality tests")
    r.add_argument("--seeds", default="0,1,2", help="data seeds, comma-separated")
    for p in (d, r):
        p.add_argument("--mlp-params", default="", help="overrides of every network, e.g. 'alpha=10;max_iter=300'")
        p.add_argument("--networks", default=None, help="positions in the list of networks, e.g. '0,3' (default: all)")
    for p in (g, q, d, r):
        p.add_argument("--json", default=None, help="write the results to this file")
    args = parser.parse_args()

    def ints(text):
        return [int(s) for s in text.split(",") if s.strip()]

    if args.command in ("defaults", "generated"):
        overrides = {k: eval(v) for k, v in (item.split("=") for item in args.mlp_params.split(";") if item)}
        names = list(_NETWORKS)
        networks = names if args.networks is None else [names[i] for i in ints(args.networks)]
    if args.command == "gradient":
        out = gradient_check(args.split, args.epochs)
        print_gradient(out)
    elif args.command == "defaults":
        out = defaults(ints(args.splits), ints(args.landmine_splits), overrides, networks, not args.no_baselines)
        print_defaults(out)
    elif args.command == "generated":
        out = generated(ints(args.seeds), overrides, networks)
        print_defaults(out)
    else:
        grid = GRID if args.settings is None else [GRID[int(i)] for i in args.settings.split(",")]
        out = quality([int(s) for s in args.splits.split(",")], grid)
        print_quality(out)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
