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
import scipy.sparse as sp

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
    return _mean_regularized_group_kernel(n_tasks, task_mixing).toarray()


def _mean_regularized_group_kernel(n_tasks, task_mixing):
    lam = _check_mixing(task_mixing, "mean_regularized", allow_zero=True)
    return GroupTaskKernel(np.zeros(n_tasks, dtype=np.intp), 1.0 - lam, lam)


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
    return _clustered_group_kernel(task_clusters, task_mixing).toarray()


def _clustered_group_kernel(task_clusters, task_mixing):
    labels = np.asarray(task_clusters)
    if labels.ndim != 1:
        raise ValueError(f"task_clusters must be 1-D (one label per task); got shape {labels.shape}.")
    lam = _check_mixing(task_mixing, "clustered", allow_zero=True)
    groups = np.unique(labels, return_inverse=True)[1]
    return GroupTaskKernel(groups, 1.0 - lam, lam)


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


class DenseTaskKernel:
    """A task kernel held as its (T, T) matrix: products cost ``O(T^2)`` per column.

    The solvers see task kernels only through this interface (shared with
    :class:`GroupTaskKernel`, whose products cost ``O(T)``).
    """

    def __init__(self, K):
        self.K = K

    @property
    def shape(self):
        return self.K.shape

    def toarray(self):
        return self.K

    def diagonal(self):
        return np.diag(self.K).copy()

    def take(self, codes):
        """``K[codes][:, codes]``: the kernel between the tasks of pairs."""
        return self.K[np.ix_(codes, codes)]

    def matmat(self, W):
        """``K @ W`` for a dense ``W`` of shape (T, p)."""
        return self.K @ W

    def pair_values(self, F, rows, codes):
        """``(F @ K)[rows, codes]`` for ``F`` of shape (n, T), in ``O(N T)``."""
        return np.einsum("ks,ks->k", F[rows], self.K[codes])

    def restrict(self, col_task, col_key):
        """Kernel of the columns of a classifier (see ``_Problem.col_kernel``)."""
        K = self.K[np.ix_(col_task, col_task)]
        if col_key is not None:
            K = K * (col_key[:, None] == col_key[None, :])
        return DenseTaskKernel(K)


class GroupTaskKernel:
    """Task kernel ``shared * S + own * I``, ``S[s, t] = 1`` when s and t share a group.

    The "independent" (``shared=0``), "pooled" (one group, ``own=0``),
    "mean_regularized" (one group) and "clustered" kernels have this form.
    It is stored as the (T,) group labels, so memory is ``O(T)`` and ``K @
    W`` costs ``O(T p)`` (per-group sums through a sparse indicator) rather
    than the ``O(T^2 p)`` of the dense matrix: what lets the solvers run
    with 10,000s of tasks.

    Parameters
    ----------
    groups : ndarray of int of shape (T,)
        Group of each task, coded ``0, ..., n_groups - 1``.
    shared, own : float
    """

    def __init__(self, groups, shared, own):
        self.groups = np.asarray(groups)
        self.shared = float(shared)
        self.own = float(own)
        T = len(self.groups)
        # (T, n_groups) 0/1 indicator: S @ W = indicator @ (indicator' @ W).
        self._indicator = sp.csr_matrix(
            (np.ones(T), (np.arange(T), self.groups)), shape=(T, self.groups.max() + 1)
        )

    @property
    def shape(self):
        return (len(self.groups), len(self.groups))

    def toarray(self):
        same = self.groups[:, None] == self.groups[None, :]
        return self.shared * same + self.own * np.eye(len(self.groups))

    def diagonal(self):
        return np.full(len(self.groups), self.shared + self.own)

    def take(self, codes):
        groups = self.groups[codes]
        return self.shared * (groups[:, None] == groups[None, :]) + self.own * (
            codes[:, None] == codes[None, :]
        )

    def matmat(self, W):
        out = self.own * W
        if self.shared:
            group_sums = self._indicator.T @ W  # (n_groups, p)
            out += self.shared * group_sums[self.groups]
        return out

    def pair_values(self, F, rows, codes):
        return self.matmat(F.T)[codes, rows]

    def restrict(self, col_task, col_key):
        # Two columns are coupled when their tasks share a group and their
        # keys agree; the identity part stays the identity, as distinct
        # columns of one task have distinct keys.
        groups = self.groups[col_task]
        if col_key is not None:
            groups = np.unique(np.column_stack([groups, col_key]), axis=0, return_inverse=True)[1]
        return GroupTaskKernel(np.ravel(groups), self.shared, self.own)


def as_task_kernel(task_kernel):
    """A task kernel object for the solvers; a plain array becomes :class:`DenseTaskKernel`."""
    if isinstance(task_kernel, (DenseTaskKernel, GroupTaskKernel)):
        return task_kernel
    return DenseTaskKernel(np.asarray(task_kernel))
