"""Every model family on many small tasks: fit time and peak memory.

Run (about 10 minutes on one core; each model in its own process)::

    python benchmarks/many_tasks.py
    python benchmarks/many_tasks.py --tasks 2000 --models KernelRidge Pooled(Ridge,onehot)

Data: :func:`skmtl.datasets.make_clustered_multitask`, long layout,
``--tasks`` (10,000) tasks of ``--rows`` (20) rows and 20 features, 3
clusters of tasks, task id in the last column: 200,000 rows. Each model
runs at its defaults (the MLPs for ``--mlp-epochs`` epochs) in a fresh
Python process with BLAS pinned to one thread and its address space capped
at ``--memory-limit`` GB, so that a model asking for more fails with a
``MemoryError`` instead of swapping the machine. Reported: wall-clock time
of ``fit`` and of ``predict`` on the training rows, the process's peak
resident memory (``ru_maxrss``: interpreter, libraries and data included)
and its growth over the process after loading the data, and the mean
per-task R^2 (accuracy for classifiers) on the training rows. A model that
fails prints the exception instead; one running past ``--timeout`` seconds
is stopped.

The goal (issue 19) is every model under a minute and 2 GB.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings

MLP_EPOCHS = 20


def models(mlp_epochs):
    """Name -> zero-argument constructor of each model, long layout (task column -1)."""
    from sklearn.linear_model import LogisticRegression, Ridge

    from skmtl import linear_model as lm
    from skmtl.kernel_ridge import MultiTaskKernelRidge, MultiTaskKernelRidgeClassifier
    from skmtl.multitask import IndependentTasks, PooledTasks
    from skmtl.neural_network import MultiTaskMLPClassifier, MultiTaskMLPRegressor

    long = {"task_column": -1}
    mlp = {"max_iter": mlp_epochs, "random_state": 0, **long}
    kernel = {"n_components": 200, "random_state": 0, **long}
    linear = {
        name: getattr(lm, name)
        for name in [
            "GroupLassoRegressor",
            "MultiTaskLassoRegressor",
            "TraceNormRegressor",
            "ClusteredRegressor",
            "MeanRegularizedRegressor",
            "GraphRegularizedRegressor",
            "TaskRelationRegressor",
            "DirtyRegressor",
            "SparseLowRankRegressor",
            "HierarchicalRegressor",
            "GroupLassoClassifier",
            "ClusteredClassifier",
            "MeanRegularizedClassifier",
            "TaskRelationClassifier",
            "DirtyClassifier",
        ]
    }
    builders = {name: (lambda cls=cls: cls(**long)) for name, cls in linear.items()}
    builders.update(
        {
            "KernelRidge": lambda: MultiTaskKernelRidge(**kernel),
            "KernelRidgeClassifier": lambda: MultiTaskKernelRidgeClassifier(**kernel),
            "MLPRegressor": lambda: MultiTaskMLPRegressor(**mlp),
            "MLPClassifier": lambda: MultiTaskMLPClassifier(**mlp),
            "Independent(Ridge)": lambda: IndependentTasks(Ridge(), **long),
            "Pooled(Ridge,onehot)": lambda: PooledTasks(Ridge(), task_features="onehot", **long),
            "Pooled(Logistic,onehot)": lambda: PooledTasks(
                LogisticRegression(), task_features="onehot", **long
            ),
        }
    )
    return builders


def is_classification(name):
    return "Classifier" in name or "Logistic" in name


def run_one(name, n_tasks, n_rows, mlp_epochs):
    """Fit and predict one model in this process; print one JSON line."""
    from threadpoolctl import threadpool_limits

    from skmtl.datasets import make_clustered_multitask

    X, y, _ = make_clustered_multitask(
        n_samples=n_rows, n_features=20, n_tasks=n_tasks, n_clusters=3, layout="long",
        classification=is_classification(name), random_state=0,
    )
    model = models(mlp_epochs)[name]()
    rss_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        model.fit(X, y)
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        model.predict(X)
        predict_time = time.perf_counter() - start
        score = model.score(X, y)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "fit": fit_time, "predict": predict_time, "peak_gb": rss / 2**20,
        "growth_gb": (rss - rss_data) / 2**20, "score": score,
    }))


def run_isolated(name, args):
    """Run one model in a child process under the memory cap; its result or its error."""
    limit = int(args.memory_limit * 2**30)

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    command = [
        sys.executable, __file__, "--run", name, "--tasks", str(args.tasks),
        "--rows", str(args.rows), "--mlp-epochs", str(args.mlp_epochs),
    ]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=args.timeout, preexec_fn=cap, env=env
        )
    except subprocess.TimeoutExpired:
        return None, f"stopped after {args.timeout:.0f} s"
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return None, lines[-1] if lines else f"exit code {done.returncode}"
    return json.loads(done.stdout.strip().splitlines()[-1]), None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=20, help="rows per task")
    parser.add_argument("--mlp-epochs", type=int, default=MLP_EPOCHS)
    parser.add_argument("--memory-limit", type=float, default=5.0, help="address space cap (GB) per model")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per model")
    parser.add_argument("--models", nargs="*", help="names to run (default: all)")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_one(args.run, args.tasks, args.rows, args.mlp_epochs)
        return
    names = args.models or list(models(args.mlp_epochs))
    print(f"{args.tasks} tasks x {args.rows} rows x 20 features (long layout), one BLAS thread")
    print(f"{'model':26s} {'fit (s)':>8s} {'predict (s)':>11s} {'peak (GB)':>9s} {'growth (GB)':>11s} {'score':>6s}")
    for name in names:
        result, error = run_isolated(name, args)
        if error is not None:
            print(f"{name:26s} failed: {error}")
            continue
        print(
            f"{name:26s} {result['fit']:8.1f} {result['predict']:11.1f} {result['peak_gb']:9.2f} "
            f"{result['growth_gb']:11.2f} {result['score']:6.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
