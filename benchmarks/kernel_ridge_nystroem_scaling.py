"""Long layout, many rows: Nystroem + conjugate gradients scaling in N.

Run (under a minute on 2 cores)::

    python benchmarks/kernel_ridge_nystroem_scaling.py --sizes 5000 20000 50000 --tasks 100 --components 200

Rows are spread over ``--tasks`` tasks (long layout, task id in the last
column); the input kernel is rbf approximated by ``--components`` Nystroem
features, the task kernel mean-regularized. Each CG iteration costs
O(N m + m T^2) and memory is O(N m): no N x N matrix is formed. Reported:
fit time, CG iterations (tol 1e-6), peak NumPy memory (tracemalloc) and the
held-out R^2 against the exact (noise-free) functions.
"""

import argparse
import time
import tracemalloc

import numpy as np

from skmtl.kernel_ridge import MultiTaskKernelRidge


def make_long(N, T, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-3, 3, (N, 2))
    tasks = rng.randint(T, size=N)
    shift = np.random.RandomState(42).randn(T) * 0.3  # the same tasks in train and test
    f = np.sin(X[:, 0]) + 0.5 * np.cos(X[:, 1]) + shift[tasks] * X[:, 0]
    return np.column_stack([X, tasks]), f + 0.2 * rng.randn(N), f


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000, 50000])
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--components", type=int, default=200)
    parser.add_argument("--plot", metavar="PNG", help="also save time and memory against N")
    args = parser.parse_args()
    rows = []
    print(f"{'N':>7} {'T':>5} {'m':>5} {'time (s)':>9} {'CG iter':>8} {'peak MB':>8} {'test R^2':>9}")
    for N in args.sizes:
        X, y, _ = make_long(N, args.tasks)
        Xt, _, ft = make_long(5000, args.tasks, seed=1)
        model = MultiTaskKernelRidge(
            1.0, gamma=0.5, task_kernel="mean_regularized", task_mixing=0.2,
            task_column=-1, n_components=args.components, random_state=0, solver="cg",
        )
        tracemalloc.start()
        t0 = time.perf_counter()
        model.fit(X, y)
        elapsed = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        pred = model.predict(Xt)
        r2 = 1 - np.mean((pred - ft) ** 2) / np.var(ft)
        print(f"{N:>7} {args.tasks:>5} {args.components:>5} {elapsed:>9.2f} {model.n_iter_:>8} {peak:>8.1f} {r2:>9.4f}")
        rows.append((N, elapsed, peak))
    if args.plot:
        _plot(np.array(rows), args)


def _plot(rows, args):
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax_time.loglog(rows[:, 0], rows[:, 1], "o-")
    ax_time.set(xlabel="rows N (long layout)", ylabel="fit time (s)")
    ax_mem.loglog(rows[:, 0], rows[:, 2], "o-")
    ax_mem.set(xlabel="rows N (long layout)", ylabel="peak traced memory (MB)")
    for ax in (ax_time, ax_mem):
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    fig.suptitle(f"MultiTaskKernelRidge, Nystroem m={args.components}, CG, T={args.tasks}")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=100)


if __name__ == "__main__":
    main()
