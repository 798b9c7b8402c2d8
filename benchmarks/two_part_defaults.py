"""Default strengths of the two-part models on real data: where the best grid pair lies.

The dirty and sparse + low-rank models have two strengths. In relative units
(fractions of each part's ``alpha_max``, ``alpha_scale="relative"``) this
script fits every pair of the grid ``{1, 0.3, 0.1, 0.03, 0.01}^2`` on one
held-out split of three data sets and prints, for each model, the test score
of the default pair (0.1, 0.1) and of the best pair. A best strength of 1
switches its part off (a one-part model won); one at the grid's small end,
0.01, would say the scale is unusable (the edge an inner CV kept choosing
with absolute strengths):

* School, official split 1, features standardized over all schools: pooled
  explained variance (``PooledTasks(RidgeCV(), task_features="onehot")``
  printed for reference);
* computer survey (190 raters, the 16 calibration profiles for training and
  the 4 hold-out profiles for testing, as Lenk et al. 1996): RMSE;
* Landmine (29 fields, a per-field stratified half for training, standardized
  features): the mean over fields of the test AUC.

Run ``python benchmarks/two_part_defaults.py`` (about a minute on 2 cores;
needs the data in ``SKMTL_DATA``). The output is the table in
``doc/benchmarks_task_structure.rst``.

``python benchmarks/two_part_defaults.py --raw`` fits each model at its
defaults on the raw (unstandardized) features of School (all of it, and the
training side of split 1, long layout), the computer survey (wide) and
Landmine (long) and prints the iterations, the duality gap against its
target ``tol * gap_scale``, whether a ConvergenceWarning was raised and the
median CPU time of 3 fits (run it with ``OMP_NUM_THREADS=1``), then the CPU
time and choice of ``DirtyRegressorCV`` and ``SparseLowRankRegressorCV``
(3 folds, default grid) on the raw training side of School's split 1.
"""

import os
import sys
import time
import warnings

import numpy as np
import scipy.io
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeCV
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from skmtl.datasets import fetch_school, fetch_school_splits, get_data_home
from skmtl.linear_model import (
    DirtyClassifier,
    DirtyRegressor,
    DirtyRegressorCV,
    SparseLowRankRegressor,
    SparseLowRankRegressorCV,
)
from skmtl.multitask import PooledTasks

GRID = [1.0, 0.3, 0.1, 0.03, 0.01]
DEFAULT = (0.1, 0.1)


def school():
    X, y = fetch_school(return_X_y=True)
    train, test = fetch_school_splits()[0]
    X = np.column_stack([StandardScaler().fit(X[train, :-1]).transform(X[:, :-1]), X[:, -1]])

    def explained_variance(model):
        pred = model.fit(X[train], y[train]).predict(X[test])
        return 1.0 - np.mean((y[test] - pred) ** 2) / np.var(y[test])

    pooled = explained_variance(PooledTasks(RidgeCV(), task_column=-1, task_features="onehot"))
    print(f"School: PooledTasks(RidgeCV, onehot) explained variance {pooled:.4f}")
    return "School (EV)", explained_variance, {
        "Dirty (linf)": lambda a, b: DirtyRegressor(a, b, task_column=-1),
        "Dirty (l2)": lambda a, b: DirtyRegressor(a, b, shared_norm="l2", task_column=-1),
        "SparseLowRank": lambda a, b: SparseLowRankRegressor(a, b, task_column=-1),
    }


def computer_survey():
    path = os.path.join(get_data_home(), "computer_survey", "conjointAnalysisComputerBuyers.mat")
    mat = scipy.io.loadmat(path)
    X, Y = mat["designMarix"][:, 1:].astype(float), mat["likeBuy"].astype(float).T
    train, test = np.arange(16), np.arange(16, 20)

    def minus_rmse(model):
        pred = model.fit(X[train], Y[train]).predict(X[test])
        return -np.sqrt(np.mean((Y[test] - pred) ** 2))

    return "computer survey (-RMSE)", minus_rmse, {
        "Dirty (linf)": lambda a, b: DirtyRegressor(a, b),
        "SparseLowRank": lambda a, b: SparseLowRankRegressor(a, b),
    }


def _landmine_raw():
    """Landmine in the long layout, raw features: ``(X with the field as last column, y)``."""
    mat = scipy.io.loadmat(os.path.join(get_data_home(), "landmine", "LandmineData.mat"))
    n_tasks = mat["feature"].shape[1]
    X = np.vstack([mat["feature"][0, t] for t in range(n_tasks)])
    y = np.concatenate([mat["label"][0, t].ravel() for t in range(n_tasks)]).astype(int)
    task = np.repeat(np.arange(n_tasks), [len(mat["label"][0, t]) for t in range(n_tasks)])
    return np.column_stack([X, task]), y


def landmine():
    X, y = _landmine_raw()
    X, task = X[:, :-1], X[:, -1].astype(int)
    n_tasks = task.max() + 1
    rng = np.random.RandomState(0)
    train = np.zeros(len(y), dtype=bool)
    for t in range(n_tasks):
        for c in (0, 1):
            rows = rng.permutation(np.flatnonzero((task == t) & (y == c)))
            train[rows[: len(rows) // 2]] = True
    X = np.column_stack([StandardScaler().fit(X[train]).transform(X), task])

    def mean_auc(model):
        scores = model.fit(X[train], y[train]).decision_function(X[~train])
        test_task, test_y = task[~train], y[~train]
        return np.mean([roc_auc_score(test_y[test_task == t], scores[test_task == t]) for t in range(n_tasks)])

    return "Landmine (mean AUC)", mean_auc, {"Dirty (linf)": lambda a, b: DirtyClassifier(a, b, task_column=-1)}


def raw_defaults():
    X, y = fetch_school(return_X_y=True)
    train = fetch_school_splits()[0][0]
    mat = scipy.io.loadmat(os.path.join(get_data_home(), "computer_survey", "conjointAnalysisComputerBuyers.mat"))
    survey = mat["designMarix"][:, 1:].astype(float), mat["likeBuy"].astype(float).T
    school_models = {
        "Dirty (linf)": lambda: DirtyRegressor(task_column=-1),
        "Dirty (l2)": lambda: DirtyRegressor(shared_norm="l2", task_column=-1),
        "SparseLowRank": lambda: SparseLowRankRegressor(task_column=-1),
    }
    cases = [
        ("School (all)", (X, y), school_models),
        ("School split 1 train", (X[train], y[train]), school_models),
        ("computer survey", survey, {"Dirty (linf)": DirtyRegressor, "SparseLowRank": SparseLowRankRegressor}),
        ("Landmine", _landmine_raw(), {"Dirty (linf)": lambda: DirtyClassifier(task_column=-1)}),
    ]
    print(f"{'data':<22} {'model':<14} {'n_iter':>6} {'gap':>9} {'target':>9} {'warning':>8} {'CPU s':>7}")
    for data_name, (features, target), models in cases:
        for model_name, make in models.items():
            times = []
            for _ in range(3):
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", ConvergenceWarning)
                    start = time.process_time()
                    model = make().fit(features, target)
                    times.append(time.process_time() - start)
            warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
            scale = model.tol * model._make_loss(features, target, None).gap_scale()
            print(
                f"{data_name:<22} {model_name:<14} {model.n_iter_:>6} {model.dual_gap_:>9.3g} {scale:>9.3g} "
                f"{'yes' if warned else 'no':>8} {np.median(times):>7.3f}"
            )
    print()
    for make, names in [
        (DirtyRegressorCV, ("alpha_shared_", "alpha_specific_")),
        (SparseLowRankRegressorCV, ("alpha_sparse_", "alpha_rank_")),
    ]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            start = time.process_time()
            model = make(task_column=-1, cv=3).fit(X[train], y[train])
            elapsed = time.process_time() - start
        choice = ", ".join(f"{name}={getattr(model, name):.3g}" for name in names)
        print(f"School split 1 train, {make.__name__}(cv=3): {elapsed:.2f} s CPU, {choice}, warnings {len(caught)}")


def main():
    rows = []
    for load in (school, computer_survey, landmine):
        data_name, score, models = load()
        for model_name, make in models.items():
            table = np.array([[score(make(a, b)) for b in GRID] for a in GRID])
            i, j = np.unravel_index(np.argmax(table), table.shape)
            default = table[GRID.index(DEFAULT[0]), GRID.index(DEFAULT[1])]
            edge = len(GRID) - 1 in (i, j)
            rows.append((data_name, model_name, default, (GRID[i], GRID[j]), table[i, j], edge))
            print(f"{data_name} {model_name}:\n{np.array2string(table, precision=4)}", flush=True)
    print()
    print(f"{'data':<24} {'model':<14} {'default (0.1, 0.1)':>18} {'best pair':>12} {'best':>8}  at 0.01")
    for data_name, model_name, default, pair, best, edge in rows:
        print(f"{data_name:<24} {model_name:<14} {default:>18.4f} {str(pair):>12} {best:>8.4f}  {'yes' if edge else 'no'}")


if __name__ == "__main__":
    if "--raw" in sys.argv:
        raw_defaults()
        sys.exit()
    with warnings.catch_warnings():
        # Some corner pairs stop at max_iter; the table is about accuracy.
        warnings.simplefilter("ignore")
        main()
