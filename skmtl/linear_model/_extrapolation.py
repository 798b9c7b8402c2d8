"""Anderson extrapolation of a sequence of iterates (alternating minimization).

Used by the clustered model's alternating minimization
(:mod:`._clustered`); none of the solvers of :mod:`._solvers` extrapolates.
"""

import numpy as np

__all__ = []


def _anderson(history):
    """Weights ``c`` (summing to 1) of the Anderson extrapolation of the last iterates.

    ``c`` minimizes ``||sum_k c_k (x_{k+1} - x_k)||`` (Anderson, 1965; the
    offline form of Scieur et al., 2016, as in skglm). None when the
    differences are (numerically) dependent.
    """
    X = np.array(history)
    U = np.diff(X, axis=0)
    UU = U @ U.T
    UU += 1e-10 * np.trace(UU) * np.eye(len(UU)) / len(UU)
    try:
        z = np.linalg.solve(UU, np.ones(len(UU)))
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(z)) or z.sum() == 0:
        return None
    return z / z.sum()
