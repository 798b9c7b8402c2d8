"""MALSAR's task-structure problems on School: CMTL, Dirty, SparseTrace vs MALSAR's Octave run.

Run (about 75 s of CPU on one core; ``--malsar-cmtl`` adds ~30 s)::

    OMP_NUM_THREADS=1 python benchmarks/task_structure_malsar.py --malsar-cmtl --repeat 5

Options: ``--reference`` (default ``../shared/reference``), ``--subopt``
(1e-6), ``--cases``, ``--profile`` (cProfile of each kept fit) and
``--malsar-cmtl`` (re-runs MALSAR's Least_CMTL iteration in NumPy to show
where and why it stops; see ``doc/benchmarks_task_structure.rst``).

Inputs and MALSAR's numbers come from ``../shared/reference`` (see its
README): School, 139 tasks, 29 columns (28 features and a penalized
column of ones).
Each problem is mapped to skmtl's convention (``fit_intercept=False``,
``task_weights = n_t`` for MALSAR's ``0.5 * sum_t ||.||^2``, ``2 n_t`` for
the two "no 1/2" models):

* ``Least_CMTL(rho1=10, rho2=1, k=3)``: ``ClusteredRegressor(n_clusters=3,
  alpha=10, beta=1)``;
* ``Least_Dirty(lambda1=2000, lambda2=200)``: ``DirtyRegressor(2000, 200, alpha_scale="absolute")``;
* ``Least_SparseTrace(gamma=100, tau=200)``:
  ``SparseLowRankRegressor(100, alpha_scale="absolute", rank_constraint=200)``.

The objective is recomputed in MALSAR's form from the fitted coefficients
(for CMTL at the fitted ``M = task_similarity_``). The reference optimum
``P*`` is the lowest objective of a fit at ``tol=1e-10`` and of every fit
below. The tolerances ``1e-2, 1e-3, ...`` are tried from loose to tight;
the first whose fit reaches a relative suboptimality
``(P - P*) / P* <= --subopt`` is kept and timed (CPU time of ``fit``,
validation included, best of ``--repeat``, BLAS pinned to one thread). The
same is done for the loosest tolerance whose objective is at most
MALSAR's. MALSAR's seconds were measured by whoever made the reference
files, on another machine, under GNU Octave: compare orders of magnitude.
"""

import argparse
import time
import warnings

import numpy as np
from linear_malsar import DEFAULT_REFERENCE, load_tasks, print_table, read_reference
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from skmtl.linear_model import ClusteredRegressor, DirtyRegressor, SparseLowRankRegressor

TOLS = [10.0**-e for e in range(2, 11)]


def squared_errors(Xs, ys, W):
    """``sum_t ||X_t w_t - y_t||^2`` for ``W`` of shape (n_features, n_tasks)."""
    return sum(np.sum((x @ W[:, t] - y) ** 2) for t, (x, y) in enumerate(zip(Xs, ys)))


def cmtl_objective(Xs, ys, model, rho1, rho2):
    """MALSAR's Least_CMTL function value at ``(coef_, task_similarity_)``."""
    W, M = model.coef_.T, model.task_similarity_
    eta = rho2 / rho1
    penalty = rho1 * eta * (1 + eta) * np.trace(W @ np.linalg.solve(eta * np.eye(len(M)) + M, W.T))
    return 0.5 * squared_errors(Xs, ys, W) + penalty


def dirty_objective(Xs, ys, model, lambda1, lambda2):
    P, Q = model.shared_coef_.T, model.specific_coef_.T
    return squared_errors(Xs, ys, P + Q) + lambda1 * np.abs(P).max(axis=1).sum() + lambda2 * np.abs(Q).sum()


def sparse_trace_objective(Xs, ys, model, gamma, tau):
    P, Q = model.shared_coef_.T, model.specific_coef_.T
    # The constraint ||Q||_* <= tau is part of the problem: report a violation as inf.
    feasible = np.linalg.svd(Q, compute_uv=False).sum() <= tau * (1 + 1e-9)
    return squared_errors(Xs, ys, P + Q) + gamma * np.abs(P).sum() if feasible else np.inf


CASES = {
    # case: (estimator factory (task weights n_t, tol), MALSAR objective at a fitted model)
    "Least_CMTL": (
        lambda n, tol: ClusteredRegressor(3, 10.0, 1.0, task_weights=n, tol=tol, max_iter=100_000),
        lambda Xs, ys, m: cmtl_objective(Xs, ys, m, 10.0, 1.0),
    ),
    "Least_Dirty": (
        lambda n, tol: DirtyRegressor(2000.0, 200.0, alpha_scale="absolute", task_weights=2 * n, tol=tol, max_iter=100_000),
        lambda Xs, ys, m: dirty_objective(Xs, ys, m, 2000.0, 200.0),
    ),
    "Least_SparseTrace": (
        lambda n, tol: SparseLowRankRegressor(
            100.0, alpha_scale="absolute", rank_constraint=200.0, task_weights=2 * n, tol=tol, max_iter=100_000
        ),
        lambda Xs, ys, m: sparse_trace_objective(Xs, ys, m, 100.0, 200.0),
    ),
}


def malsar_cmtl_trajectory(Xs, ys, rho1, rho2, k, tol=1e-5, max_iter=1500):
    """Function values of MALSAR's Least_CMTL iteration (re-implemented here, not MALSAR's code).

    MALSAR does not minimize ``M`` out: it runs one accelerated projected
    gradient on the pair ``(W, M)`` from ``W = 0``, ``M = k / T I``, with a
    backtracking step ``1 / gamma`` that only grows, no restart, the
    eigenvalues of ``M_s - grad_M / gamma`` projected onto ``{sum = k, 0 <=
    m <= 1}``, and it stops when ``|F_i - F_{i-1}| <= tol F_{i-1}``. Its
    function value is ``0.5 sum_t ||X_t w_t - y_t||^2 + c tr(W (eta I +
    M)^{-1} W')`` at the new point ``(W, M)``, with ``c = rho1 eta (1 +
    eta)``, ``eta = rho2 / rho1``, ``M = P diag(m) P'`` and ``P`` the real
    parts of the eigenvectors of the (non-symmetric) projected matrix, as in
    MALSAR. ``tol=0`` runs all ``max_iter`` iterations.

    Returns the list of function values, ``(W, M)`` at the end and the final ``gamma``.
    """
    eta = rho2 / rho1
    c = rho1 * eta * (1 + eta)
    gram = np.stack([x.T @ x for x in Xs])
    xy = np.column_stack([x.T @ y for x, y in zip(Xs, ys)])
    yy = sum(y @ y for y in ys)
    T = len(Xs)

    def data_term(W):
        return 0.5 * (yy - 2 * np.sum(W * xy) + np.einsum("it,tij,jt->", W, gram, W))

    def project(a):  # argmin ||m - a||, sum m = k, 0 <= m <= 1: bisection on the shift
        lo, hi = a.min() - 1.0, a.max()
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if np.clip(a - mid, 0, 1).sum() > k else (lo, mid)
        return np.clip(a - 0.5 * (lo + hi), 0, 1)

    W = W_old = np.zeros_like(xy)
    M = M_old = np.eye(T) * k / T
    t, t_old, gamma = 1.0, 0.0, 1.0
    values = []
    for _ in range(max_iter):
        a = (t_old - 1) / t
        Ws, Ms = (1 + a) * W - a * W_old, (1 + a) * M - a * M_old
        inv = np.linalg.inv(eta * np.eye(T) + Ms)
        grad_W = np.einsum("tij,jt->it", gram, Ws) - xy + 2 * c * Ws @ inv
        grad_M = -c * (Ws.T @ Ws @ inv @ inv)
        F_s = data_term(Ws) + c * np.sum(Ws * (Ws @ inv))
        while True:
            W_new = Ws - grad_W / gamma
            eigvals, P = np.linalg.eig(Ms - grad_M / gamma)
            P, m = P.real, project(eigvals.real)
            M_new = (P * m) @ P.T
            F_new = data_term(W_new) + c * np.trace(W_new @ (P / (eta + m)) @ P.T @ W_new.T)
            dW, dM = W_new - Ws, M_new - Ms
            step = np.sum(dW**2) + np.sum(dM**2)
            if step / 2 <= np.finfo(float).eps:
                break
            if F_new <= F_s + np.sum(dW * grad_W) + np.sum(dM * grad_M) + gamma / 2 * step:
                break
            gamma *= 2
        W_old, W, M_old, M = W, W_new, M, M_new
        values.append(F_new)
        if step / 2 <= np.finfo(float).eps:
            break
        if len(values) >= 3 and abs(values[-1] - values[-2]) <= tol * values[-2]:
            break
        t_old, t = t, 0.5 * (1 + np.sqrt(1 + 4 * t * t))
    return values, (W, M), gamma


def explain_malsar_cmtl(Xs, ys, row):
    from skmtl.linear_model._clustered import _cluster_matrix_update

    rho1, rho2, k = 10.0, 1.0, 3
    print(
        f"MALSAR's reported Least_CMTL run: {float(row['malsar_objective']):.10g} "
        f"after {row['malsar_iterations']} iterations"
    )
    # The step 1 / gamma is common to W and M; W alone would allow 1 / max_t lambda_max(X_t' X_t + 2 c / eta).
    lipschitz_w = max(np.linalg.eigvalsh(x.T @ x)[-1] for x in Xs) + 2 * rho1 * (1 + rho2 / rho1)
    values, (W, _), gamma = malsar_cmtl_trajectory(Xs, ys, rho1, rho2, k, tol=1e-5)
    print(
        f"  re-run, tol=1e-5 (tFlag=1): stops after {len(values)} iterations at {values[-1]:.10g}; "
        f"step 1/gamma = {1 / gamma:.1e} (the W-block alone: {1 / lipschitz_w:.1e})"
    )
    values, (W, _), gamma = malsar_cmtl_trajectory(Xs, ys, rho1, rho2, k, tol=0.0)
    changes = np.abs(np.diff(values)) / np.asarray(values[:-1])
    for i in (10, 50, 100, 229, 500, 1000, len(values)):
        print(f"  re-run, no stop test: iteration {i:>4}: {values[i - 1]:.10g} (relative change {changes[i - 2]:.1e})")
    _, penalty = _cluster_matrix_update(W, rho1, rho2, k)
    value = 0.5 * squared_errors(Xs, ys, W) + penalty
    print(f"  its last W with the optimal M for that W: {value:.10g}; 1/gamma = {1 / gamma:.1e}")


def cpu_fit(make, X, y, repeat):
    best, model = np.inf, None
    for _ in range(repeat):
        model = make()
        start = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            model.fit(X, y)
        best = min(best, time.process_time() - start)
    return best, model


def run_case(case, Xs, ys, X_long, y_long, malsar_objective, subopt, repeat):
    factory, objective = CASES[case]
    n = np.array([len(v) for v in ys], dtype=np.float64)

    def make(tol):
        return factory(n, tol).set_params(fit_intercept=False, task_column=-1)

    fits = {}
    for tol in [1e-10, *TOLS]:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            fits[tol] = objective(Xs, ys, make(tol).fit(X_long, y_long))
    p_star = min(fits.values())
    rows = []
    for target, label in ((p_star * (1 + subopt), f"subopt <= {subopt:g}"), (malsar_objective, "<= MALSAR")):
        tol = next(t for t in TOLS if fits[t] <= target)
        seconds, model = cpu_fit(lambda: make(tol), X_long, y_long, repeat)
        value = objective(Xs, ys, model)
        rows.append((label, tol, value, (value - p_star) / p_star, seconds, model))
    return p_star, rows


def profile_fit(model, X, y, top=8):
    import cProfile
    import pstats

    profiler = cProfile.Profile(timer=time.process_time)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        profiler.runcall(model.fit, X, y)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=type(DEFAULT_REFERENCE), default=DEFAULT_REFERENCE)
    parser.add_argument("--subopt", type=float, default=1e-6)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument(
        "--malsar-cmtl", action="store_true",
        help="also re-run MALSAR's Least_CMTL iteration in NumPy (about 30 s): where does it stop?",
    )
    parser.add_argument("--profile", action="store_true", help="profile one fit per case at the kept tol")
    args = parser.parse_args()
    reference = read_reference(args.reference)
    Xs, ys, X_long, y_long = load_tasks(args.reference / "school_prepared.mat")
    if args.malsar_cmtl:
        with threadpool_limits(1):
            explain_malsar_cmtl(Xs, ys, reference["Least_CMTL"])
    header = [
        "case", "target", "tol", "objective", "subopt", "MALSAR objective", "MALSAR subopt",
        "CPU s", "MALSAR Octave s", "speed-up", "iterations",
    ]
    table = []
    with threadpool_limits(1):
        for case in args.cases:
            malsar_objective = float(reference[case]["malsar_objective"])
            malsar_seconds = float(reference[case]["malsar_octave_seconds"])
            p_star, rows = run_case(case, Xs, ys, X_long, y_long, malsar_objective, args.subopt, args.repeat)
            print(f"{case}: P* = {p_star:.10g}", flush=True)
            for label, tol, value, gap, seconds, model in rows:
                iterations = str(model.n_iter_)
                if hasattr(model, "n_inner_iter_"):
                    iterations += f" ({model.n_inner_iter_} FISTA)"
                table.append(
                    [
                        case, label, f"{tol:.0e}", f"{value:.10g}", f"{gap:.1e}", f"{malsar_objective:.10g}",
                        f"{(malsar_objective - p_star) / p_star:.1e}", f"{seconds:.3f}", f"{malsar_seconds:.2f}",
                        f"{malsar_seconds / seconds:.1f}x", iterations,
                    ]
                )
                print("  ", table[-1][1:], flush=True)
            if args.profile:
                profile_fit(rows[0][-1], X_long, y_long)
    print_table(header, table)


if __name__ == "__main__":
    main()
