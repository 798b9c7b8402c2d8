"""HierarchicalRegressor vs statsmodels MixedLM on School, accuracy on the official splits, scaling in T.

Run (about 3 minutes on one core)::

    python benchmarks/hierarchical_school.py
    python benchmarks/hierarchical_school.py --rst table.rst --plot doc/_static/hierarchical_scaling.png
    python benchmarks/hierarchical_school.py --quick     # smaller scaling run

Protocol (issue #15, "Speed" and "Accuracy"):

* one process, BLAS pinned to one thread (``OMP_NUM_THREADS=1`` set before
  NumPy is imported, and ``threadpool_limits(1)``); CPU time
  (``time.process_time``), best of 3;
* **School fits**: the four models of ``../shared/reference/
  school_mixedlm.json`` (21 fixed features, one dummy of each categorical
  dropped; a random intercept, or a random intercept plus random slopes of
  ``vr_band_1`` and ``vr_band_2`` with a full 3 x 3 covariance; REML and ML)
  on all 15,362 rows, by ``HierarchicalRegressor`` (default ``tol``) and by
  statsmodels ``MixedLM(...).fit(reml=...)`` with its default optimizer; the
  log-likelihood of both is recomputed here with the README formula (dense
  ``V_t`` per school), not taken from either library;
* **accuracy**: the 10 official splits, fit on the training rows, mean
  per-school RMSE and pooled explained variance on the test rows; the
  default ``HierarchicalRegressor()`` on the 27 raw features, and the
  3-effect model of the reference;
* **other data sets**: Landmine (29 binary tasks, 30 % of each field for
  training, averaged AUC) and Parkinsons telemonitoring (42 subjects, motor
  UPDRS, 75 % of each subject's recordings for training, mean per-subject
  RMSE), 5 task-stratified random splits; the hierarchical models with
  their defaults on the raw features against the single-task baselines on
  per-task standardized features;
* **scaling**: long layout, ``T`` tasks of 100 rows, 10 features all with
  random slopes (q = 11), default diagonal covariance and full covariance;
  CPU time of ``fit`` (validation and sufficient statistics included).
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from skmtl.datasets import fetch_school, fetch_school_splits  # noqa: E402
from skmtl.linear_model import HierarchicalRegressor  # noqa: E402
from skmtl.metrics import mean_task_rmse, multitask_explained_variance  # noqa: E402

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "school_mixedlm.json"
FITS = {
    "random intercept, REML": "random_intercept_reml",
    "random intercept, ML": "random_intercept_ml",
    "intercept + VR-band slopes, REML": "random_intercept_vr_band_1_2_reml",
    "intercept + VR-band slopes, ML": "random_intercept_vr_band_1_2_ml",
}


def cpu_time(fit, repeat=3):
    """Best CPU time of ``repeat`` calls of ``fit()``, and its last result."""
    best = np.inf
    for _ in range(repeat):
        start = time.process_time()
        result = fit()
        best = min(best, time.process_time() - start)
    return best, result


def readme_log_likelihood(X, Z, y, groups, beta, Psi, s2, reml):
    """The reference README's formula, with a dense V_t per school."""
    n, p = X.shape
    total, H = 0.0, np.zeros((p, p))
    for g in np.unique(groups):
        rows = groups == g
        V = s2 * np.eye(rows.sum()) + Z[rows] @ Psi @ Z[rows].T
        r = y[rows] - X[rows] @ beta
        total += np.linalg.slogdet(V)[1] + r @ np.linalg.solve(V, r)
        H += X[rows].T @ np.linalg.solve(V, X[rows])
    if reml:
        return -0.5 * ((n - p) * np.log(2 * np.pi) + total + np.linalg.slogdet(H)[1])
    return -0.5 * (n * np.log(2 * np.pi) + total)


def school_fits(repeat):
    import statsmodels.api as sm

    reference = json.loads(REFERENCE.read_text())
    frame = fetch_school(as_frame=True).frame
    features = reference["fixed_features"]
    y, groups = frame["score"].to_numpy(), frame["school"].to_numpy()
    X = np.column_stack([np.ones(len(y)), frame[features].to_numpy()])
    rows = []
    for label, key in FITS.items():
        ref = reference[key]
        slopes = [f for f in ref["random_features"] if f != "intercept"]
        Z = np.column_stack([np.ones(len(y)), frame[slopes].to_numpy()])
        method = "reml" if ref["reml"] else "ml"
        model = HierarchicalRegressor(slopes, covariance_type="full", method=method, task_column="school")
        ours_time, ours = cpu_time(lambda: model.fit(frame[features + ["school"]], frame["score"]), repeat)
        beta = np.r_[ours.fixed_intercept_, ours.fixed_coef_]
        ours_ll = readme_log_likelihood(X, Z, y, groups, beta, ours.covariance_, ours.noise_variance_, ref["reml"])

        def fit_statsmodels():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # its boundary / convergence chatter
                return sm.MixedLM(y, X, groups=groups, exog_re=Z).fit(reml=ref["reml"])

        sm_time, sm_fit = cpu_time(fit_statsmodels, repeat)
        sm_ll = readme_log_likelihood(
            X, Z, y, groups, sm_fit.fe_params, np.asarray(sm_fit.cov_re), sm_fit.scale, ref["reml"]
        )
        rows.append((label, ours_time, ours_ll, sm_time, sm_ll, ref["log_likelihood"], ours.n_iter_))
        print(
            f"{label:26s} skmtl {ours_time:6.3f} s  ll {ours_ll:.4f} | statsmodels {sm_time:6.3f} s  "
            f"ll {sm_ll:.4f} | ref ll {ref['log_likelihood']:.4f} | speed-up {sm_time / ours_time:5.1f}x",
            flush=True,
        )
    return rows


def accuracy():
    data = fetch_school()
    X, y = data.data, data.target
    splits = fetch_school_splits()
    models = {
        "HierarchicalRegressor() (defaults, 27 raw features)": {},
        "3-effect model (21 features, full covariance)": "reference",
    }
    reference = json.loads(REFERENCE.read_text())
    names = list(data.feature_names)
    columns = [names.index(f) for f in reference["fixed_features"]] + [X.shape[1] - 1]
    rows = []
    for label, spec in models.items():
        if spec == "reference":
            Xm = X[:, columns]
            slopes = [reference["fixed_features"].index(f) for f in ("vr_band_1", "vr_band_2")]
            make = lambda: HierarchicalRegressor(slopes, covariance_type="full", task_column=-1)  # noqa: E731
        else:
            Xm = X
            make = lambda: HierarchicalRegressor(task_column=-1)  # noqa: E731
        rmse, ev, seconds = [], [], []
        for train, test in splits:
            start = time.process_time()
            model = make().fit(Xm[train], y[train])
            seconds.append(time.process_time() - start)
            pred = model.predict(Xm[test])
            rmse.append(mean_task_rmse(y[test], pred, tasks=Xm[test, -1]))
            ev.append(multitask_explained_variance(y[test], pred, tasks=Xm[test, -1]))
        rows.append((label, np.mean(rmse), np.std(rmse), np.mean(ev), np.std(ev), np.mean(seconds)))
        print(
            f"{label:52s} RMSE {np.mean(rmse):.4f} +- {np.std(rmse):.3f}  EV {np.mean(ev):.4f} "
            f"+- {np.std(ev):.4f}  fit {np.mean(seconds):.3f} s",
            flush=True,
        )
    return rows


def other_datasets(data_home):
    """Landmine (29 binary tasks, averaged AUC) and Parkinsons (42 subjects, motor UPDRS), 5 random splits.

    Every task split in the same proportion (TaskStratifiedShuffleSplit):
    Landmine 30 % of each field for training, Parkinsons 75 %. Defaults of
    the hierarchical models against the single-task baselines.
    """
    import scipy.io
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline

    from skmtl.linear_model import HierarchicalClassifier
    from skmtl.metrics import averaged_auc
    from skmtl.model_selection import TaskStratifiedShuffleSplit
    from skmtl.multitask import IndependentTasks, PooledTasks
    from skmtl.preprocessing import TaskwiseStandardScaler
    from skmtl.utils import stack_tasks

    mat = scipy.io.loadmat(Path(data_home) / "landmine" / "LandmineData.mat")
    landmine = stack_tasks([mat["feature"][0, t] for t in range(29)], [mat["label"][0, t].ravel() for t in range(29)])
    table = np.loadtxt(Path(data_home) / "parkinsons" / "parkinsons_updrs.data", delimiter=",", skiprows=1)
    parkinsons = np.column_stack([table[:, 1:4], table[:, 6:], table[:, 0]]), table[:, 4]

    def scaled(estimator):
        # The baselines see per-task standardized features, as usual for them.
        return make_pipeline(TaskwiseStandardScaler(task_column=-1), estimator)

    problems = {
        "Landmine, averaged AUC": (landmine, 0.3, {
            "HierarchicalClassifier() (defaults)": HierarchicalClassifier(task_column=-1),
            "IndependentTasks(LogisticRegression())": scaled(IndependentTasks(LogisticRegression(), task_column=-1)),
            "PooledTasks(LogisticRegression())": scaled(PooledTasks(LogisticRegression(), task_column=-1)),
        }),
        "Parkinsons motor UPDRS, mean per-subject RMSE": (parkinsons, 0.75, {
            "HierarchicalRegressor() (defaults)": HierarchicalRegressor(task_column=-1),
            "IndependentTasks(Ridge())": scaled(IndependentTasks(Ridge(), task_column=-1)),
            "PooledTasks(Ridge(), onehot)": scaled(PooledTasks(Ridge(), task_features="onehot", task_column=-1)),
        }),
    }
    rows = []
    for problem, ((X, y), train_size, models) in problems.items():
        splits = list(TaskStratifiedShuffleSplit(5, train_size=train_size, task_column=-1, random_state=0).split(X, y))
        for label, model in models.items():
            scores, seconds = [], []
            for train, test in splits:
                start = time.process_time()
                model.fit(X[train], y[train])
                seconds.append(time.process_time() - start)
                if problem.startswith("Landmine"):
                    scores.append(averaged_auc(y[test], model.predict_proba(X[test])[:, 1], tasks=X[test, -1]))
                else:
                    scores.append(mean_task_rmse(y[test], model.predict(X[test]), tasks=X[test, -1]))
            rows.append((problem, label, np.mean(scores), np.std(scores), np.mean(seconds)))
            print(
                f"{problem:46s} {label:40s} {np.mean(scores):.4f} +- {np.std(scores):.4f}  "
                f"fit {np.mean(seconds):.3f} s",
                flush=True,
            )
    return rows


def scaling_problem(T, n_t=100, d=10, seed=0):
    rng = np.random.RandomState(seed)
    tasks = np.repeat(np.arange(T), n_t)
    X = rng.randn(T * n_t, d)
    U = rng.randn(T, d + 1) * np.sqrt(np.linspace(0.2, 1.0, d + 1))
    y = 1 + X @ np.linspace(-1, 1, d) + U[tasks, 0] + np.einsum("ij,ij->i", X, U[tasks, 1:])
    y += rng.randn(T * n_t)
    perm = rng.permutation(len(y))  # rows of a task not contiguous, as in real data
    return np.column_stack([X, tasks])[perm], y[perm]


def scaling(task_counts):
    rows = []
    for T in task_counts:
        Xl, y = scaling_problem(T)
        times = {}
        for covariance_type in ("diag", "full"):
            model = HierarchicalRegressor(covariance_type=covariance_type, task_column=-1)
            times[covariance_type], _ = cpu_time(lambda: model.fit(Xl, y), repeat=1 if T >= 3000 else 3)
        rows.append((T, len(y), times["diag"], times["full"]))
        print(f"T={T:6d} rows={len(y):8d}  diag {times['diag']:6.2f} s  full {times['full']:6.2f} s", flush=True)
    return rows


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    T = [r[0] for r in rows]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.loglog(T, [r[2] for r in rows], "o-", label='covariance_type="diag"')
    ax.loglog(T, [r[3] for r in rows], "s-", label='covariance_type="full"')
    ax.set_xlabel("number of tasks T (100 rows each)")
    ax.set_ylabel("fit CPU time (s), one thread")
    ax.set_title("HierarchicalRegressor, 10 random slopes + intercept")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_rst(path, school, acc, other, scale):
    lines = [
        f".. Produced by benchmarks/hierarchical_school.py on {datetime.date.today()} "
        f"({platform.processor() or platform.machine()}, one thread).",
        "",
        ".. list-table:: School, all 15,362 rows: CPU time (best of 3) and log-likelihood (README formula)",
        "   :header-rows: 1",
        "",
        "   * - model",
        "     - skmtl (s)",
        "     - skmtl log-lik",
        "     - statsmodels (s)",
        "     - statsmodels log-lik",
        "     - speed-up",
    ]
    for label, ours_t, ours_ll, sm_t, sm_ll, _, _ in school:
        lines += [
            f"   * - {label}",
            f"     - {ours_t:.3f}",
            f"     - {ours_ll:.4f}",
            f"     - {sm_t:.3f}",
            f"     - {sm_ll:.4f}",
            f"     - {sm_t / ours_t:.0f}x",
        ]
    lines += [
        "",
        ".. list-table:: School, 10 official splits (mean +- sd over splits)",
        "   :header-rows: 1",
        "",
        "   * - model",
        "     - mean per-school RMSE",
        "     - pooled explained variance",
        "     - fit (s)",
    ]
    for label, rmse, rmse_sd, ev, ev_sd, seconds in acc:
        lines += [f"   * - {label}", f"     - {rmse:.4f} +- {rmse_sd:.3f}", f"     - {ev:.4f} +- {ev_sd:.4f}",
                  f"     - {seconds:.3f}"]
    lines += [
        "",
        ".. list-table:: Other data sets, 5 task-stratified random splits (mean +- sd)",
        "   :header-rows: 1",
        "",
        "   * - data, score",
        "     - model",
        "     - score",
        "     - fit (s)",
    ]
    for problem, label, score, score_sd, seconds in other:
        lines += [f"   * - {problem}", f"     - {label}", f"     - {score:.4f} +- {score_sd:.4f}",
                  f"     - {seconds:.3f}"]
    lines += [
        "",
        ".. list-table:: Scaling, long layout, 100 rows per task, q = 11 (CPU s)",
        "   :header-rows: 1",
        "",
        "   * - tasks",
        "     - rows",
        "     - diag",
        "     - full",
    ]
    for T, n, diag, full in scale:
        lines += [f"   * - {T:,}", f"     - {n:,}", f"     - {diag:.2f}", f"     - {full:.2f}"]
    Path(path).write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scaling up to T=1000 only")
    parser.add_argument("--rst", help="write the tables (reStructuredText) to this file")
    parser.add_argument("--plot", help="write the scaling plot (PNG) to this file")
    args = parser.parse_args()
    task_counts = [100, 300, 1000] if args.quick else [100, 300, 1000, 3000, 10000]
    with threadpool_limits(1):
        school = school_fits(repeat=3)
        acc = accuracy()
        other = other_datasets(os.environ.get("SKMTL_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
        scale = scaling(task_counts)
    if args.plot:
        plot(scale, args.plot)
    if args.rst:
        write_rst(args.rst, school, acc, other, scale)


if __name__ == "__main__":
    main()
