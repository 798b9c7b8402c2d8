"""Task kernels: the T x T matrix ``K_task`` that couples the tasks.

A multi-task kernel model (Evgeniou, Micchelli & Pontil 2005) uses the
kernel ``k((x, s), (x', t)) = k(x, x') * K_task[s, t]`` on (input, task)
pairs. For a linear input kernel, ``f(x, t) = <w_t, x>`` and the RKHS norm
of ``f`` is ``sum_{s,t} (K_task^+)[s, t] <w_s, w_t>``, so each task kernel
below is a penalty on the task weight vectors; the docstrings give it.

Every builder returns a symmetric positive semi-definite ``(T, T)`` float64
array. ``check_task_kernel`` validates a user-given matrix and
``mtrl_task_covariance`` is the closed-form task-covariance update of MTRL
(Zhang & Yeung 2010) used by ``task_kernel="learned"``.
"""

import numbers

import numpy as np

__all__ = [
    "independent_task_kernel",
    "pooled_task_kernel",
    "mean_regularized_task_kernel",
    "graph_task_kernel",
    "clustered_task_kernel",
    "check_task_kernel",
    "mtrl_task_covariance",
]

# Eigenvalues above -PSD_RTOL * max|eigenvalue| count as zero: eigh of an
# exactly PSD matrix built in floating point returns tiny negative values.
PSD_RTOL = 1e-10


def independent_task_kernel(n_tasks):
    """Identity task kernel: no sharing, penalty ``sum_t ||w_t||^2``."""
    return np.eye(n_tasks)


def pooled_task_kernel(n_tasks):
    """All-ones task kernel: every task is the same function (one model)."""
    return np.ones((n_tasks, n_tasks))


def _check_mixing(task_mixing, name, *, allow_zero):
    if not isinstance(task_mixing, numbers.Real) or isinstance(task_mixing, bool):
        raise ValueError(f"task_mixing must be a real number in [0, 1]; got {task_mixing!r}.")
    low_ok = task_mixing >= 0 if allow_zero else task_mixing > 0
    if not (low_ok and task_mixing <= 1):
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        raise ValueError(
            f"task_mixing must be in {interval} for task_kernel={name!r}; got {task_mixing!r}."
        )
    return float(task_mixing)


def mean_regularized_task_kernel(n_tasks, task_mixing=0.5):
    """Mean-regularized task kernel ``(1 - lam) * 11' + lam * I``.

    ``lam = task_mixing`` in [0, 1]: 0 is the pooled model, 1 independent
    tasks. Each task is a common part plus its own part. With
    ``wbar = mean_t w_t`` the penalty (linear input kernel) is, for
    ``lam > 0``::

        (1 / lam) * sum_t ||w_t - wbar||^2  +  T / (lam + (1 - lam) T) * ||wbar||^2

    i.e. the Evgeniou & Pontil (2004) regularizer: deviations from the mean
    task cost ``1 / lam``, the mean itself is cheap when ``lam`` is small.
    """
    lam = _check_mixing(task_mixing, "mean_regularized", allow_zero=True)
    return (1.0 - lam) * np.ones((n_tasks, n_tasks)) + lam * np.eye(n_tasks)


def clustered_task_kernel(task_clusters, task_mixing=0.5):
    """Mean-regularized kernel within clusters: ``(1 - lam) * C + lam * I``.

    ``C[s, t] = 1`` when tasks ``s`` and ``t`` are in the same cluster. The
    penalty is the mean-regularized one applied to each cluster separately
    (tasks are pulled to their cluster's mean); one cluster gives
    ``"mean_regularized"``, singletons give ``"independent"``.

    Parameters
    ----------
    task_clusters : array-like of shape (n_tasks,)
        Cluster label of each task (any hashable labels).
    task_mixing : float in [0, 1]
    """
    labels = np.asarray(task_clusters)
    if labels.ndim != 1:
        raise ValueError(f"task_clusters must be 1-D (one label per task); got shape {labels.shape}.")
    lam = _check_mixing(task_mixing, "clustered", allow_zero=True)
    same = (labels[:, None] == labels[None, :]).astype(np.float64)
    return (1.0 - lam) * same + lam * np.eye(len(labels))


def graph_task_kernel(task_graph, task_mixing=0.5):
    """Graph task kernel ``((1 - lam) * L + lam * I)^{-1}``.

    ``L = D - A`` is the Laplacian of the task graph with adjacency ``A``
    (nonnegative, symmetric; its diagonal is ignored). The penalty (linear
    input kernel) is::

        (1 - lam) * sum_{s < t} A[s, t] ||w_s - w_t||^2  +  lam * sum_t ||w_t||^2

    so neighbouring tasks are pulled together. ``lam = task_mixing`` must be
    in (0, 1]; 1 gives independent tasks.

    Parameters
    ----------
    task_graph : array-like of shape (n_tasks, n_tasks)
        Adjacency matrix, or a graph Laplacian (symmetric, nonpositive off
        the diagonal, rows summing to zero), detected as such.
    task_mixing : float in (0, 1]
    """
    A = _check_square(task_graph, "task_graph", None)
    if not np.allclose(A, A.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(A).max())):
        raise ValueError("task_graph must be symmetric.")
    off = A - np.diag(np.diag(A))
    if np.all(off <= 0) and np.allclose(A.sum(axis=1), 0.0, atol=1e-10 * max(1.0, np.abs(A).max())):
        laplacian = A  # given as a Laplacian
    elif np.all(off >= 0):
        laplacian = np.diag(off.sum(axis=1)) - off
    else:
        raise ValueError(
            "task_graph must be a nonnegative adjacency matrix or a graph "
            "Laplacian (nonpositive off-diagonal entries, rows summing to 0); "
            "it has off-diagonal entries of both signs."
        )
    lam = _check_mixing(task_mixing, "graph", allow_zero=False)
    precision = (1.0 - lam) * laplacian + lam * np.eye(len(A))
    evals, evecs = np.linalg.eigh(precision)
    # precision is PD (lam > 0, L PSD); invert through eigh to stay symmetric.
    return (evecs / evals) @ evecs.T


def _check_square(matrix, name, n_tasks):
    try:
        M = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric (n_tasks, n_tasks) array.") from exc
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"{name} must be a square 2-D array; got shape {M.shape}.")
    if n_tasks is not None and M.shape[0] != n_tasks:
        raise ValueError(
            f"{name} has shape {M.shape} but the data have {n_tasks} task(s); "
            f"expected ({n_tasks}, {n_tasks})."
        )
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return M


def check_task_kernel(task_kernel, n_tasks, *, name="task_kernel", psd_rtol=PSD_RTOL):
    """Validate an explicit task kernel: square, right size, finite, symmetric, PSD.

    Symmetry is checked to a relative tolerance of 1e-8 and the matrix is
    then symmetrized; an eigenvalue below ``-psd_rtol * max |eigenvalue|``
    raises (no silent projection).

    Returns
    -------
    K : ndarray of shape (n_tasks, n_tasks), float64
    """
    K = _check_square(task_kernel, name, n_tasks)
    scale = max(np.abs(K).max(), np.finfo(np.float64).tiny)
    if np.abs(K - K.T).max() > 1e-8 * scale:
        raise ValueError(f"{name} must be symmetric; max |K - K.T| = {np.abs(K - K.T).max():.3g}.")
    K = (K + K.T) / 2
    evals = np.linalg.eigvalsh(K)
    if evals[0] < -psd_rtol * max(np.abs(evals).max(), np.finfo(np.float64).tiny):
        raise ValueError(
            f"{name} must be positive semi-definite; its smallest eigenvalue "
            f"is {evals[0]:.3g} (largest {evals[-1]:.3g})."
        )
    if evals[-1] <= 0:
        raise ValueError(f"{name} is zero; a task kernel needs a positive eigenvalue.")
    return K


def mtrl_task_covariance(WtW):
    """MTRL closed-form task covariance ``(W'W)^{1/2} / tr((W'W)^{1/2})``.

    For fixed task weights ``W`` (one column per task, in feature space)
    this minimizes ``tr(W Omega^{-1} W')`` over PSD ``Omega`` with unit trace
    (Zhang & Yeung 2010). Only the Gram ``W'W`` (T x T) is needed, which
    kernel models get from their dual coefficients.
    """
    evals, evecs = np.linalg.eigh((WtW + WtW.T) / 2)
    root = (evecs * np.sqrt(np.clip(evals, 0.0, None))) @ evecs.T
    trace = np.trace(root)
    if not trace > 0:  # W = 0: nothing learned, keep tasks independent
        return np.eye(len(WtW)) / len(WtW)
    return (root + root.T) / (2 * trace)
