"""Every estimator at its default settings on the real data sets, as a new user runs it.

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 SKMTL_DATA=/path/to/data \
        python benchmarks/defaults_sweep.py [--data school-raw,school-std,...] \
        [--skip-cv] [--models GroupLassoRegressor,...] [--repeat 3] [--json sweep.jsonl]

For each data set, one train/test split, every regressor (or classifier) of
``skmtl.linear_model``, ``skmtl.kernel_ridge`` and ``skmtl.neural_network``
is fitted with nothing set but the task column (``task_column=-1``, long
layout), beside the baselines ``pooled+onehot`` = ``PooledTasks(RidgeCV /
LogisticRegressionCV, task_features="onehot")`` and ``independent`` =
``IndependentTasks`` of the same, as ``skmtl compare`` builds them. Printed per fit: the test score (pooled
explained variance for regression, mean per-task ROC AUC for
classification), the CPU seconds of ``fit`` and every warning it raised
(the project's rule: defaults fit real grouped data, standardized or not,
without warnings).

Data sets (read from the data home, ``SKMTL_DATA``):

* ``school-raw`` / ``school-std``: School, official split 1 (11,472 training
  students, 139 schools); the raw attributes (%FSM and %VR1 on scales 15
  and 7 beside 0/1 indicators) or standardized over all schools on the
  training rows;
* ``parkinsons-raw`` / ``parkinsons-std``: Parkinsons telemonitoring, 42
  subjects, target total_UPDRS, the 19 usual features (motor_UPDRS
  excluded), half of every subject's recordings for training;
* ``landmine``: 29 binary tasks, 9 features, 20 % of every task's rows of
  each class for training (about 6 positives per task), standardized over
  all tasks (``mlp_school.load_landmine``, split 0).
"""

import argparse
import json
import time
import warnings

import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.metrics import roc_auc_score

import skmtl.kernel_ridge
import skmtl.linear_model
import skmtl.neural_network
from skmtl.datasets import fetch_school, fetch_school_splits, get_data_home
from skmtl.metrics import multitask_explained_variance
from skmtl.model_selection import TaskStratifiedShuffleSplit
from skmtl.model_selection._compare import _logistic_cv
from skmtl.multitask import IndependentTasks, PooledTasks
from skmtl.preprocessing import TaskwiseStandardScaler

from mlp_school import load_landmine  # noqa: E402 (this folder is on sys.path when run as a script)

_MODULES = (skmtl.linear_model, skmtl.kernel_ridge, skmtl.neural_network)


def _standardized(X_train, X_test):
    scaler = TaskwiseStandardScaler(task_column=-1, by_task=False).fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test)


def _school(standardize):
    X, y = fetch_school(return_X_y=True)
    train, test = fetch_school_splits()[0]
    X_train, X_test = (_standardized(X[train], X[test]) if standardize else (X[train], X[test]))
    return X_train, y[train], X_test, y[test]


def _parkinsons(standardize):
    A = np.loadtxt(f"{get_data_home()}/parkinsons/parkinsons_updrs.data", delimiter=",", skiprows=1)
    subject = A[:, 0]
    X = np.column_stack([A[:, 1:4], A[:, 6:], subject])
    y = A[:, 5]
    train, test = next(TaskStratifiedShuffleSplit(1, train_size=0.5, random_state=0).split(X, groups=subject))
    X_train, X_test = (_standardized(X[train], X[test]) if standardize else (X[train], X[test]))
    return X_train, y[train], X_test, y[test]


DATA = {
    "school-raw": (lambda: _school(False), "regression"),
    "school-std": (lambda: _school(True), "regression"),
    "parkinsons-raw": (lambda: _parkinsons(False), "regression"),
    "parkinsons-std": (lambda: _parkinsons(True), "regression"),
    "landmine": (lambda: load_landmine(0), "classification"),
}


def _estimators(kind, skip_cv):
    """``(name, factory)`` of every public estimator of the kind, then the baselines."""
    suffixes = ("Classifier", "ClassifierCV") if kind == "classification" else (
        "Regressor", "RegressorCV", "KernelRidge", "KernelRidgeCV")
    found = {}
    for module in _MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and name.endswith(suffixes) and not (skip_cv and name.endswith("CV")):
                found[name] = obj
    # The baselines of skmtl compare (LogisticRegressionCV by log loss, set
    # so that scikit-learn >= 1.8 does not warn about changing defaults).
    peer = _logistic_cv if kind == "classification" else (lambda: RidgeCV(np.logspace(-3, 4, 15)))
    baselines = {
        "pooled+onehot": lambda: PooledTasks(peer(), task_column=-1, task_features="onehot"),
        "independent": lambda: IndependentTasks(peer(), task_column=-1),
    }
    return [*baselines.items(), *((n, (lambda c=c: c(task_column=-1))) for n, c in sorted(found.items()))]


def _score(model, X_test, y_test, kind):
    tasks = X_test[:, -1]
    if kind == "regression":
        return float(multitask_explained_variance(y_test, model.predict(X_test), tasks=tasks, average="pooled"))
    # Kernel ridge classifiers rank by their scores (no probabilities).
    proba = model.predict_proba(X_test) if hasattr(model, "predict_proba") else model.decision_function(X_test)
    proba = proba[:, -1] if proba.ndim == 2 else proba
    aucs = [roc_auc_score(y_test[tasks == t], proba[tasks == t])
            for t in np.unique(tasks) if len(np.unique(y_test[tasks == t])) == 2]
    return float(np.mean(aucs))


def run(data_name, name, make, data, kind, repeat=1):
    """Fit ``repeat`` times: the median CPU seconds, the last fit's score, warnings and ``n_iter_``."""
    X_train, y_train, X_test, y_test = data
    times = []
    for _ in range(repeat):
        start = time.process_time()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = make().fit(X_train, y_train)
        times.append(time.process_time() - start)
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    n_iter = getattr(model, "n_iter_", None)
    return {"data": data_name, "model": name, "score": _score(model, X_test, y_test, kind),
            "cpu_s": float(np.median(times)), "n_iter": int(n_iter) if np.ndim(n_iter) == 0 and n_iter is not None else None,
            "warnings": messages}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=",".join(DATA), help="comma-separated among " + ", ".join(DATA))
    parser.add_argument("--skip-cv", action="store_true", help="leave out the *CV estimators")
    parser.add_argument("--models", help="comma-separated estimator names (default: all)")
    parser.add_argument("--repeat", type=int, default=1, help="fits per model; the median CPU time is printed")
    parser.add_argument("--json", help="append one JSON line per fit to this file")
    args = parser.parse_args()
    for data_name in args.data.split(","):
        load, kind = DATA[data_name]
        data = load()
        print(f"\n{data_name} ({kind}; {len(data[1])} training rows)")
        print(f"{'model':<34}{'score':>8}{'CPU s':>9}  warnings")
        chosen = None if args.models is None else set(args.models.split(","))
        for name, make in _estimators(kind, args.skip_cv):
            if chosen is not None and name not in chosen:
                continue
            r = run(data_name, name, make, data, kind, args.repeat)
            first = r["warnings"][0][:90] if r["warnings"] else ""
            print(f"{name:<34}{r['score']:>8.4f}{r['cpu_s']:>9.2f}  {len(r['warnings'])} {first}", flush=True)
            if args.json:
                with open(args.json, "a") as f:
                    f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
