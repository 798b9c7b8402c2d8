"""Trace norm on wide data: the engine's FISTA against its ADMM through the kernel.

Run (about a minute)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/trace_norm_wide.py

Data: problem a) of ``linear_wide.py`` (n=500, d=1000, T=20, AR(1)
Gaussian design). For ``alpha = alpha_max / 10`` and ``/ 100`` and each
``tol``, :func:`skmtl.linear_model._solvers.fista` and
:func:`skmtl.linear_model._solvers.admm` solve the squared loss plus the
trace norm from a cold start; CPU seconds are best of 3 and include
building the loss (and, for ADMM, its kernel ``X X'``). The suboptimality
is relative to a FISTA solution at ``tol=1e-10``. ``solve(solver="auto")``
picks ADMM here.
"""

import time

import numpy as np
from threadpoolctl import threadpool_limits

from linear_wide import PROBLEMS, make_data
from skmtl._data import check_task_data
from skmtl.linear_model._losses import SquaredLoss
from skmtl.linear_model._penalties import TraceNorm
from skmtl.linear_model._solvers import admm, fista


def best_of(fn, repeat=3):
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.process_time()
        out = fn()
        best = min(best, time.process_time() - start)
    return best, out


def main():
    X, Y = make_data(*PROBLEMS["a"])
    data = check_task_data(X, Y)
    loss = SquaredLoss(data)
    top = TraceNorm(1.0).alpha_max(loss.null_model()[2])
    print(f"{'alpha':10s} {'tol':6s} {'solver':6s} {'CPU s':>7s} {'n_iter':>6s} {'subopt':>8s}")
    with threadpool_limits(1):
        for factor in (10, 100):
            penalty = TraceNorm(top / factor)
            reference = fista(SquaredLoss(data), penalty, tol=1e-10, max_iter=100_000).objective
            for tol in (1e-3, 1e-4):
                for name, solver in (("fista", fista), ("admm", admm)):
                    seconds, result = best_of(lambda: solver(SquaredLoss(data), penalty, tol=tol, max_iter=100_000))
                    subopt = (result.objective - reference) / abs(reference)
                    print(f"amax/{factor:<5d} {tol:<6.0e} {name:6s} {seconds:7.3f} {result.n_iter:6d} {subopt:8.1e}")


if __name__ == "__main__":
    main()
