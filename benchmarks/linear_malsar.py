"""MALSAR reference problems: skmtl's solver at its default tol vs MALSAR's Octave time.

Run (a few seconds)::

    python benchmarks/linear_malsar.py [--reference ../shared/reference]

Inputs and MALSAR's numbers are those of ``../shared/reference`` (see its
README): School (139 tasks, 28 features incl. a penalized bias column) for
the least-squares models, a synthetic 10-task binary set for the logistic
ones. Each problem is mapped to skmtl's convention as the README says
(``task_weights = n_t``, ``alpha = rho1 + 2 rho_L2``, ``l1_ratio = rho1 /
alpha``) and solved by :func:`skmtl.linear_model._solvers.solve` at its
default ``tol=1e-4``; the time covers building the loss (validation, task
sorting, Lipschitz constant) and the solve, best of 5, BLAS pinned to one
thread. The objective is recomputed in MALSAR's form from the coefficients.
MALSAR's seconds were measured by whoever made the reference files, on
another machine, under GNU Octave: compare orders of magnitude only.
"""

import argparse
import csv
import time
from pathlib import Path

import numpy as np
import scipy.io
from threadpoolctl import threadpool_limits

from skmtl._data import check_task_data
from skmtl.linear_model._losses import LogisticLoss, SquaredLoss
from skmtl.linear_model._penalties import L1, L21, TraceNorm
from skmtl.linear_model._solvers import solve

DEFAULT_REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
CASES = {
    # case: (data file, loss, penalty, rho1, rho_L2)
    "Least_L21": ("school_prepared.mat", "Least", "L21", 1000.0, 0.0),
    "Least_L21_rhoL2": ("school_prepared.mat", "Least", "L21", 1000.0, 100.0),
    "Least_Trace": ("school_prepared.mat", "Least", "Trace", 1000.0, 0.0),
    "Least_Lasso": ("school_prepared.mat", "Least", "Lasso", 100.0, 0.0),
    "Least_Lasso_rhoL2": ("school_prepared.mat", "Least", "Lasso", 100.0, 100.0),
    "Logistic_L21": ("synth_binary.mat", "Logistic", "L21", 0.1, 0.0),
    "Logistic_L21_rhoL2": ("synth_binary.mat", "Logistic", "L21", 0.1, 0.01),
    "Logistic_Trace": ("synth_binary.mat", "Logistic", "Trace", 0.3, 0.0),
}
PENALTIES = {"L21": L21, "Trace": TraceNorm, "Lasso": L1}


def load_tasks(path):
    """Per-task lists ``Xs``, ``ys`` of a MALSAR .mat input and the long layout (task id last)."""
    mat = scipy.io.loadmat(path, mat_dtype=True)
    Xs = [np.asarray(x, dtype=np.float64) for x in mat["X"].ravel()]
    ys = [np.asarray(y, dtype=np.float64).ravel() for y in mat["Y"].ravel()]
    X_long = np.vstack([np.column_stack([x, np.full(len(x), t)]) for t, x in enumerate(Xs)])
    return Xs, ys, X_long, np.concatenate(ys)


def read_reference(reference):
    """MALSAR's results, ``{case: row}`` from ``malsar_school.csv``."""
    with open(Path(reference) / "malsar_school.csv") as f:
        return {row["case"]: row for row in csv.DictReader(f)}


def print_table(header, table):
    """Print ``table`` (lists of strings) as an RST simple table."""
    widths = [max(len(h), *(len(r[i]) for r in table)) for i, h in enumerate(header)]
    sep = "  ".join("=" * w for w in widths)
    print("\n" + "\n".join([sep, "  ".join(h.ljust(w) for h, w in zip(header, widths)), sep]))
    print("\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in table))
    print(sep)


def omega(name, W):
    if name == "L21":
        return np.linalg.norm(W, axis=1).sum()
    if name == "Trace":
        return np.linalg.svd(W, compute_uv=False).sum()
    return np.abs(W).sum()


def run_case(reference, filename, loss_name, penalty_name, rho1, rho_l2, repeat):
    Xs, ys, X_long, y_long = load_tasks(reference / filename)
    alpha = rho1 + 2 * rho_l2
    penalty = PENALTIES[penalty_name](alpha, l1_ratio=rho1 / alpha)

    def fit():
        data = check_task_data(X_long, y_long, task_column=-1)
        if loss_name == "Least":
            loss = SquaredLoss(data, task_weights=data.n_samples_per_task, fit_intercept=False)
        else:
            loss = LogisticLoss(data)
        return solve(loss, penalty)

    best = np.inf
    for _ in range(repeat):
        start = time.process_time()
        result = fit()
        best = min(best, time.process_time() - start)
    W, b = result.coef, result.intercept
    if loss_name == "Least":
        data_term = 0.5 * sum(np.sum((x @ W[:, t] - y) ** 2) for t, (x, y) in enumerate(zip(Xs, ys)))
    else:
        data_term = sum(
            np.mean(np.logaddexp(0, -y * (x @ W[:, t] + b[t]))) for t, (x, y) in enumerate(zip(Xs, ys))
        )
    objective = data_term + rho1 * omega(penalty_name, W) + rho_l2 * np.sum(W**2)
    return best, objective, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = read_reference(args.reference)
    header = ["case", "skmtl s", "MALSAR Octave s", "speed-up", "skmtl objective", "MALSAR objective", "n_iter"]
    table = []
    with threadpool_limits(1):
        for case, row in rows.items():
            if case not in CASES:  # the task-structure models have their own script
                table.append([case, "see task_structure_malsar.py", row["malsar_octave_seconds"], "", "",
                              row["malsar_objective"], ""])
                continue
            seconds, objective, result = run_case(args.reference, *CASES[case], args.repeat)
            malsar_s = float(row["malsar_octave_seconds"])
            malsar_obj = float(row["malsar_objective"])
            table.append(
                [
                    case,
                    f"{seconds:.4f}",
                    f"{malsar_s:.4f}",
                    f"{malsar_s / seconds:.1f}x",
                    f"{objective:.10g}" + (" (<=)" if objective <= malsar_obj else " (>)"),
                    f"{malsar_obj:.10g}",
                    str(result.n_iter),
                ]
            )
            print(case, table[-1][1:], flush=True)
    print_table(header, table)


if __name__ == "__main__":
    main()
