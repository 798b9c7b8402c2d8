"""Group lasso on a sparse design whose features are not centered: CSR vs dense vs scikit-learn.

Run (under a minute)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/linear_sparse.py

Data: ``n=500`` rows, ``d=1000`` features, ``T=10`` tasks; each entry is
nonzero with probability 0.3, uniform on (0, 1) (count- or tf-idf-like
features: means near 0.15, far from 0 relative to their spread); 20 rows
of ``W`` nonzero, noise 0.1. ``GroupLassoRegressor`` is fitted on the CSR
matrix and on the same values as a dense array, and scikit-learn's
``MultiTaskLasso`` (which takes dense ``X`` only) on the dense array, all at
``tol=1e-4`` (ours: the relative gradient mapping; sklearn: its duality
gap rule), BLAS pinned to one thread, best of 3 CPU seconds. The objective
``||Y - X W - 1 b'||_F^2 / (2 n) + alpha sum_j ||W[j, :]||_2`` is
recomputed from each fit and reported relative to the best one.

The dense fit works on a centered copy of ``X``; the sparse one centers
inside its products (``X @ W - 1 (m' W)`` and ``X' R - m 1' R``) so that
the CSR matrix is never densified.
"""

import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskLasso
from threadpoolctl import threadpool_limits

from linear_wide import objective, timed
from skmtl.linear_model import GroupLassoRegressor, alpha_max


def make_data(n=500, d=1000, T=10, density=0.3, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, d)) < density) * rng.random((n, d))
    W = np.zeros((d, T))
    W[:20] = rng.standard_normal((20, T))
    return X, X @ W + 0.1 * rng.standard_normal((n, T))


def main():
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    X, Y = make_data()
    X_csr = sp.csr_matrix(X)
    print(f"n={X.shape[0]} d={X.shape[1]} T={Y.shape[1]}, {X_csr.nnz / X.size:.0%} nonzero, feature means {X.mean():.3f}")
    amax = alpha_max(GroupLassoRegressor(), X, Y)
    with threadpool_limits(1):
        for factor in (10, 100):
            alpha = amax / factor
            runs = {
                "skmtl, CSR X": lambda: GroupLassoRegressor(alpha=alpha, tol=1e-4, max_iter=100_000).fit(X_csr, Y),
                "skmtl, dense X": lambda: GroupLassoRegressor(alpha=alpha, tol=1e-4, max_iter=100_000).fit(X, Y),
                "sklearn MultiTaskLasso, dense X": lambda: MultiTaskLasso(alpha=alpha, tol=1e-4, max_iter=100_000).fit(X, Y),
            }
            results = {name: timed(fit, 3) for name, fit in runs.items()}
            values = {name: objective(X, Y, m.coef_, m.intercept_, alpha) for name, (_, _, m) in results.items()}
            best = min(values.values())
            print(f"alpha_max/{factor}:")
            for name, (cpu, _, model) in results.items():
                subopt = (values[name] - best) / best
                print(f"  {name:32s} {cpu:.3f} s CPU  n_iter={model.n_iter_}  subopt={subopt:.1e}")


if __name__ == "__main__":
    main()
