"""Multi-task kernel ridge: eigen solver vs the naive dense nT x nT solve vs T KernelRidge fits.

Run (about two minutes on 2 shared cores; times are the best of 2-3 runs)::

    python benchmarks/kernel_ridge_speed.py --n 2000 --tasks 20 --naive-n 100 200 300

All methods solve the same problem (rbf input kernel, mean-regularized task
kernel, every label observed) except the T independent sklearn
``KernelRidge`` fits, which share nothing (the ``task_kernel="independent"``
special case). The naive solve forms the (nT, nT) product kernel and calls
LAPACK; it is timed at the sizes given by ``--naive-n`` (at n=2000, T=20 its
40000 x 40000 system needs 12.8 GB) and extrapolated to ``--n`` with its
O((nT)^3) cost, fitted on the measured points. Peak memory is the tracemalloc
peak of NumPy allocations during the fit.
"""

import argparse
import time
import tracemalloc

import numpy as np
import scipy.linalg
from sklearn.kernel_ridge import KernelRidge
from sklearn.metrics.pairwise import rbf_kernel

from skmtl.kernel_ridge import MultiTaskKernelRidge, mean_regularized_task_kernel


def make_data(n, T, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 5)
    Y = np.sin(X[:, :1]) + 0.3 * rng.randn(n, T) * X[:, 1:2] + 0.1 * rng.randn(n, T)
    return X, Y


def naive_dense(X, Y, alpha, mixing):
    """Form the nT x nT system (Kx (x) Kt + alpha I) a = vec(Y) and solve it."""
    G = np.kron(rbf_kernel(X, gamma=0.2), mean_regularized_task_kernel(Y.shape[1], mixing))
    G.flat[:: G.shape[0] + 1] += alpha
    return scipy.linalg.solve(G, Y.ravel(), assume_a="pos").reshape(Y.shape)


def timed(fn, repeat=1):
    best, peak, out = np.inf, 0, None
    for _ in range(repeat):
        tracemalloc.start()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return best, peak / 2**20, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--naive-n", type=int, nargs="*", default=[100, 200, 300])
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--mixing", type=float, default=0.3)
    args = parser.parse_args()
    n, T, alpha = args.n, args.tasks, args.alpha
    rows = []

    # Naive dense solve at small n; check it agrees with the eigen solver.
    naive_times = []
    for m in args.naive_n:
        X, Y = make_data(m, T)
        t, mem, A = timed(lambda: naive_dense(X, Y, alpha, args.mixing), repeat=2)
        model = MultiTaskKernelRidge(alpha, gamma=0.2, task_kernel="mean_regularized", task_mixing=args.mixing)
        te, meme, _ = timed(lambda: model.fit(X, Y), repeat=3)
        rel = np.linalg.norm(model.dual_coef_ - A) / np.linalg.norm(A)
        naive_times.append(t)
        rows.append((f"naive dense nT x nT solve", m, T, t, mem, f"eigen {te:.3f} s, rel. diff {rel:.1e}"))
    # Fit t = c (nT)^3 on the measured points (least squares in log space).
    sizes = np.array(args.naive_n, dtype=float) * T
    c = np.exp(np.mean(np.log(naive_times) - 3 * np.log(sizes)))
    naive_extrapolated = c * (n * T) ** 3

    X, Y = make_data(n, T)
    model = MultiTaskKernelRidge(alpha, gamma=0.2, task_kernel="mean_regularized", task_mixing=args.mixing)
    # Best of 3: the machine is shared, so the minimum is the least noisy.
    t_eig, mem_eig, _ = timed(lambda: model.fit(X, Y), repeat=3)
    rows.append(("MultiTaskKernelRidge solver=eigen", n, T, t_eig, mem_eig, "shares across tasks"))

    def independent():
        return [KernelRidge(alpha=alpha, kernel="rbf", gamma=0.2).fit(X, Y[:, t]) for t in range(T)]

    t_ind, mem_ind, fits = timed(independent, repeat=2)
    rows.append((f"{T} x sklearn KernelRidge", n, T, t_ind, mem_ind, "no sharing"))

    def sk_multi():
        return KernelRidge(alpha=alpha, kernel="rbf", gamma=0.2).fit(X, Y)

    t_skm, mem_skm, _ = timed(sk_multi, repeat=3)
    rows.append(("sklearn KernelRidge, Y (n, T) at once", n, T, t_skm, mem_skm, "no sharing, one Cholesky"))

    indep = MultiTaskKernelRidge(alpha, gamma=0.2, task_kernel="independent")
    t_mi, mem_mi, _ = timed(lambda: indep.fit(X, Y), repeat=3)
    diff = max(np.abs(indep.dual_coef_[:, t] - fits[t].dual_coef_).max() for t in range(T))
    rows.append(("MultiTaskKernelRidge independent", n, T, t_mi, mem_mi, f"max |dual - sklearn| {diff:.1e}"))

    missing = Y.copy()
    missing[np.random.RandomState(1).rand(n, T) < 0.1] = np.nan
    cg_model = MultiTaskKernelRidge(alpha, gamma=0.2, task_kernel="mean_regularized", task_mixing=args.mixing, solver="cg")
    t_cg, mem_cg, _ = timed(lambda: cg_model.fit(X, missing))
    rows.append(("MultiTaskKernelRidge solver=cg, 10% missing", n, T, t_cg, mem_cg, f"{cg_model.n_iter_} CG iterations, tol 1e-6"))

    print(f"{'method':<45} {'n':>6} {'T':>4} {'time (s)':>10} {'peak MB':>9}  note")
    for name, m, tt, t, mem, note in rows:
        print(f"{name:<45} {m:>6} {tt:>4} {t:>10.3f} {mem:>9.1f}  {note}")
    print(
        f"naive dense at n={n}, T={T} (extrapolated from n={args.naive_n} as (nT)^3): "
        f"{naive_extrapolated:.0f} s, memory {(n * T) ** 2 * 8 / 2**30:.1f} GB -> eigen speed-up "
        f"{naive_extrapolated / t_eig:.0f}x"
    )
    print(f"eigen vs {T} x KernelRidge: {t_ind / t_eig:.2f}x")


if __name__ == "__main__":
    main()
