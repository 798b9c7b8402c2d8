"""MultiTaskKernelRidgeCV on School: the leave-one-out against one fit per alpha.

Issue 16, item 11: ``MultiTaskKernelRidgeCV(alphas=(0.1, 1, 10),
n_components=500, task_mixing=0.1)`` in the long layout on School's official
split 1 (11,472 training rows). Its exact leave-one-out used to
eigendecompose the N x N product kernel. It now works by per-task blocks plus
one Woodbury term, and its solve is the refit. The target is about one fit
per alpha or less. The script times, interleaved, the CV fit and one
``MultiTaskKernelRidge`` fit at each alpha (the conjugate-gradient solver a
plain fit uses), and prints the test R^2 of both at the chosen alpha.

Run ``OMP_NUM_THREADS=1 python benchmarks/kernel_ridge_cv_school.py
--repeat 3``; needs the School files in ``SKMTL_DATA``.
"""

import argparse
import time

import numpy as np

from skmtl.datasets import fetch_school, fetch_school_splits
from skmtl.kernel_ridge import MultiTaskKernelRidge, MultiTaskKernelRidgeCV

ALPHAS = (0.1, 1.0, 10.0)
PARAMS = dict(n_components=500, task_mixing=0.1, task_column=-1, random_state=0)


def _timed(make, X, y):
    start = time.process_time()
    model = make().fit(X, y)
    return model, time.process_time() - start


def main(repeat):
    X, y = fetch_school(return_X_y=True)
    train, test = fetch_school_splits()[0]
    cv_times, fit_times = [], {a: [] for a in ALPHAS}
    for _ in range(repeat):
        cv, seconds = _timed(lambda: MultiTaskKernelRidgeCV(ALPHAS, **PARAMS), X[train], y[train])
        cv_times.append(seconds)
        for alpha in ALPHAS:
            model, seconds = _timed(lambda: MultiTaskKernelRidge(alpha, **PARAMS), X[train], y[train])
            fit_times[alpha].append(seconds)
            if alpha == cv.alpha_:
                plain = model
    print(f"CV fit ({len(ALPHAS)} alphas, solver_={cv.solver_!r}): median {np.median(cv_times):.1f} s CPU, "
          f"worst {max(cv_times):.1f} s; alpha_={cv.alpha_}")
    for alpha in ALPHAS:
        print(f"MultiTaskKernelRidge(alpha={alpha}): median {np.median(fit_times[alpha]):.1f} s CPU, "
              f"worst {max(fit_times[alpha]):.1f} s")
    total = sum(np.median(t) for t in fit_times.values())
    print(f"one fit per alpha: {total:.1f} s CPU (medians summed)")
    print(f"test R^2 at alpha_: CV {cv.score(X[test], y[test]):.6f}, plain fit {plain.score(X[test], y[test]):.6f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    main(parser.parse_args().repeat)
