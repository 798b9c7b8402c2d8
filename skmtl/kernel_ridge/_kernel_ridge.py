"""Multi-task kernel ridge regression and classification.

The model (Evgeniou, Micchelli & Pontil 2005) is kernel ridge regression on
(input, task) pairs with the product kernel
``k((x, s), (x', t)) = k(x, x') * K_task[s, t]``. Solvers live in
``_solvers.py``, task kernels in ``_task_kernels.py``; this module turns
either data layout into a list of observed (row, task) pairs and back.
"""

import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import PAIRWISE_KERNEL_FUNCTIONS, pairwise_kernels
from sklearn.model_selection import GridSearchCV
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import UNSEEN_TASK_CONSTRAINT, MultiTaskMixin, check_population_classes
from ..utils._task_weights import TASK_WEIGHT_OPTIONS, resolve_task_weights
from ..model_selection._split import check_task_cv
from ._solvers import (
    DenseGram,
    LowRankGram,
    eigen_loo_errors,
    eigen_preconditioner,
    loo_route,
    pair_loo_errors,
    solve_cg,
    solve_dense,
    solve_eigen,
)
from ._task_kernels import (
    DenseTaskKernel,
    GroupTaskKernel,
    _check_square,
    _clustered_group_kernel,
    _mean_regularized_group_kernel,
    check_task_kernel,
    graph_task_kernel,
    mtrl_task_covariance,
)

__all__ = ["MultiTaskKernelRidge", "MultiTaskKernelRidgeClassifier", "MultiTaskKernelRidgeCV"]

TASK_KERNELS = {"independent", "pooled", "mean_regularized", "graph", "clustered", "learned"}
# Task kernels with a part shared by every task, which a task never seen in
# fit takes: K_task[s, t] = shared for a new task s and every fitted t.
POPULATION_TASK_KERNELS = ("mean_regularized", "pooled")
# Above this many observed labels, solver="auto" prefers conjugate gradients
# to the O(N^3) dense factorization when the eigen solver does not apply.
DENSE_MAX_LABELS = 1000


@dataclass
class _Problem:
    """Observed (row, column) pairs of one fit, layout-free.

    A column is a task (regression, binary classification) or one class of
    a multiclass task (one-vs-rest). ``col_kernel`` maps the task kernel to
    the columns' kernel: ``K_task[task_j, task_l]`` when columns ``j`` and
    ``l`` have the same key, else 0.
    """

    rows: np.ndarray
    cols: np.ndarray
    y: np.ndarray
    n_rows: int
    n_cols: int
    col_task: np.ndarray  # task of each column
    col_key: np.ndarray | None  # (J,) key of each column, None = one key for all
    row_weight: np.ndarray | None  # (n,) sample weights
    col_weight: np.ndarray | None  # (J,) task weights

    @property
    def full_grid(self):
        return len(self.y) == self.n_rows * self.n_cols

    def col_kernel(self, task_kernel):
        return task_kernel.restrict(self.col_task, self.col_key)

    def sqrt_weight(self):
        """Square root of each pair's weight ``s_i * w_t``, or None."""
        if self.row_weight is None and self.col_weight is None:
            return None
        v = np.ones(len(self.y))
        if self.row_weight is not None:
            v = v * self.row_weight[self.rows]
        if self.col_weight is not None:
            v = v * self.col_weight[self.cols]
        return np.sqrt(v)


class _GramCache:
    """Input Gram of the training rows and its weighted version (eigen solver)."""

    def __init__(self, gram, row_weight):
        self.gram = gram
        self.row_sqrt = None if row_weight is None else np.sqrt(row_weight)
        self._weighted = None

    @property
    def weighted(self):
        if self._weighted is None:
            self._weighted = self.gram if self.row_sqrt is None else self.gram.scaled(self.row_sqrt)
        return self._weighted


class _BaseMultiTaskKernelRidge(BaseEstimator):
    """Shared machinery: kernels, task kernels, solver dispatch, prediction."""

    _parameter_constraints = {
        "kernel": [StrOptions(set(PAIRWISE_KERNEL_FUNCTIONS)), callable],
        "gamma": [Interval(numbers.Real, 0, None, closed="left"), None],
        "degree": [Interval(numbers.Real, 0, None, closed="left")],
        "coef0": [Interval(numbers.Real, None, None, closed="neither")],
        "kernel_params": [dict, None],
        "task_kernel": [StrOptions(TASK_KERNELS), "array-like"],
        "task_mixing": [Interval(numbers.Real, 0, 1, closed="both")],
        "task_graph": ["array-like", None],
        "task_clusters": ["array-like", Interval(numbers.Integral, 1, None, closed="left"), None],
        "task_weights": [StrOptions(set(TASK_WEIGHT_OPTIONS)), "array-like", None],
        "task_column": [numbers.Integral, str, None],
        "solver": [StrOptions({"auto", "eigen", "cg", "dense"})],
        "tol": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "n_components": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "max_task_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "task_tol": [Interval(numbers.Real, 0, None, closed="neither")],
        "unseen_task": UNSEEN_TASK_CONSTRAINT,
    }

    # ---------------------------------------------------------------- kernels
    def _kernel(self, X, Y):
        """Input kernel matrix ``k(X, Y)``, shape and finiteness checked."""
        if callable(self.kernel):
            K = self.kernel(X, Y, **(self.kernel_params or {}))
            K = K.toarray() if sp.issparse(K) else np.asarray(K)
            expected = (X.shape[0], Y.shape[0])
            if K.shape != expected:
                raise ValueError(
                    f"The kernel callable returned an array of shape {K.shape}; "
                    f"expected {expected} (rows of its first argument x rows of "
                    "its second). A callable kernel is called on whole arrays, "
                    "kernel(X, Y, **kernel_params), and must return their Gram matrix."
                )
        else:
            params = {"gamma": self.gamma, "degree": self.degree, "coef0": self.coef0}
            params.update(self.kernel_params or {})
            K = pairwise_kernels(X, Y, metric=self.kernel, filter_params=True, **params)
        if K.dtype.kind not in "fiu" or not np.all(np.isfinite(K)):
            raise ValueError(
                f"The input kernel {self.kernel!r} returned NaN, infinite or "
                "non-numeric values."
            )
        return K

    def _input_gram(self, X):
        """Exact Gram of the training rows, or Nystroem features (``n_components``)."""
        if self.n_components is None:
            self.X_fit_ = X
            return DenseGram(self._kernel(X, X))
        # Nystroem (Williams & Seeger 2001) exactly as
        # sklearn.kernel_approximation.Nystroem (same random basis, same
        # normalization), written here so that a callable kernel keeps the
        # whole-array calling convention.
        rng = check_random_state(self.random_state)
        n = X.shape[0]
        m = min(self.n_components, n)
        basis_rows = rng.permutation(n)[:m]
        basis = X[basis_rows]
        U, S, Vt = scipy.linalg.svd(self._kernel(basis, basis))
        S = np.maximum(S, 1e-12)
        self.components_ = basis
        self.component_indices_ = basis_rows
        self.normalization_ = (U / np.sqrt(S)) @ Vt
        return LowRankGram(self._features(X))

    def _features(self, X):
        """Nystroem features ``k(X, basis) @ normalization'``."""
        return self._kernel(X, self.components_) @ self.normalization_.T

    def _make_task_kernel(self, n_tasks):
        """The task kernel (except "learned"), as a solver's kernel object.

        The named kernels other than "graph" are group-structured
        (:class:`GroupTaskKernel`): ``O(T)`` memory and products, so that
        10,000s of tasks never need a dense T x T matrix.
        """
        kind = self.task_kernel
        if not isinstance(kind, str):
            return DenseTaskKernel(check_task_kernel(kind, n_tasks))
        one_group = np.zeros(n_tasks, dtype=np.intp)
        if kind == "independent":
            return GroupTaskKernel(one_group, 0.0, 1.0)
        if kind == "pooled":
            return GroupTaskKernel(one_group, 1.0, 0.0)
        if kind == "mean_regularized":
            return _mean_regularized_group_kernel(n_tasks, self.task_mixing)
        if kind == "graph":
            if self.task_graph is None:
                raise ValueError("task_kernel='graph' requires task_graph (an (n_tasks, n_tasks) adjacency matrix).")
            _check_square(self.task_graph, "task_graph", n_tasks)
            return DenseTaskKernel(graph_task_kernel(self.task_graph, self.task_mixing))
        # clustered
        if self.task_clusters is None:
            raise ValueError("task_kernel='clustered' requires task_clusters (one cluster label per task).")
        labels = np.asarray(self.task_clusters)
        if labels.ndim != 1 or len(labels) != n_tasks:
            raise ValueError(
                f"task_clusters must hold one label per task ({n_tasks}); got shape {labels.shape}."
            )
        return _clustered_group_kernel(labels, self.task_mixing)

    def _check_unseen_task(self):
        """``unseen_task="population"`` needs a task kernel with a shared part."""
        named = isinstance(self.task_kernel, str)
        if self.unseen_task == "population" and not (named and self.task_kernel in POPULATION_TASK_KERNELS):
            raise ValueError(
                "unseen_task='population' needs a task kernel with a part shared by every "
                "task, which a task never seen in fit takes: task_kernel='mean_regularized' "
                f"or 'pooled'; got task_kernel={repr(self.task_kernel) if named else 'an explicit matrix'}."
            )

    @staticmethod
    def _check_sample_weight(sample_weight):
        if sample_weight is not None and np.any(sample_weight < 0):
            raise ValueError("sample_weight must be nonnegative.")
        return sample_weight

    # ---------------------------------------------------------------- solving
    def _choose_solver(self, problem):
        if self.solver == "eigen" and not problem.full_grid:
            raise ValueError(
                "solver='eigen' needs every label observed in the wide layout "
                "(task_column=None, no NaN in y); use solver='cg' or 'dense'."
            )
        if self.solver != "auto":
            return self.solver
        if problem.full_grid:
            return "eigen"
        return "dense" if len(problem.y) <= DENSE_MAX_LABELS else "cg"

    def _solve(self, cache, K_cols, problem, solver, alpha, x0=None):
        if solver == "eigen":
            Y = np.zeros((problem.n_rows, problem.n_cols))
            Y[problem.rows, problem.cols] = problem.y
            col_sqrt = None if problem.col_weight is None else np.sqrt(problem.col_weight)
            (A,) = solve_eigen(
                cache.weighted, K_cols, Y, [alpha], row_sqrt_weight=cache.row_sqrt, task_sqrt_weight=col_sqrt
            )
            return A[problem.rows, problem.cols], None, True
        if solver == "dense":
            res = solve_dense(cache.gram, K_cols, problem.rows, problem.cols, problem.y, alpha,
                              sqrt_weight=problem.sqrt_weight())
        else:
            preconditioner = None
            if 2 * len(problem.y) >= problem.n_rows * problem.n_cols:
                # Most of the grid observed (wide layout, some NaN): the
                # full-grid eigen solve is a near-inverse, so CG needs few
                # iterations (the decomposition is cached across alternations).
                col_sqrt = None if problem.col_weight is None else np.sqrt(problem.col_weight)
                preconditioner = eigen_preconditioner(
                    cache.weighted, K_cols, problem.rows, problem.cols, alpha, task_sqrt_weight=col_sqrt
                )
            res = solve_cg(
                cache.gram, K_cols, problem.rows, problem.cols, problem.y, alpha,
                n_tasks=problem.n_cols, sqrt_weight=problem.sqrt_weight(),
                tol=self.tol, max_iter=self.max_iter, x0=x0, preconditioner=preconditioner,
            )
        return res.dual, res.n_iter, res.converged

    @staticmethod
    def _dual_grid(dual, problem):
        """The dual coefficients on the (n_samples, n_columns) grid, as CSR.

        Sparse: in the long layout the grid has one entry per row.
        """
        return sp.csr_matrix((dual, (problem.rows, problem.cols)), shape=(problem.n_rows, problem.n_cols))

    def _fit_problem(self, X, problem, alpha, cache=None, solved=None):
        """Solve for the dual coefficients; set the fitted attributes.

        ``solved = (solver, dual)`` gives dual coefficients at ``alpha``
        found already (by the leave-one-out of :class:`MultiTaskKernelRidgeCV`).
        """
        if cache is None:
            cache = _GramCache(self._input_gram(X), problem.row_weight)
        solver = self._choose_solver(problem) if solved is None else solved[0]
        n_iter_total, converged_all, dual = 0, True, None
        if self._learns_clusters():
            K_cols, n_iter0, converged_all = self._learn_clusters(cache, problem, solver, alpha)
            n_iter_total += n_iter0
        else:
            K_cols = self._initial_col_kernel(problem)
        learned = isinstance(self.task_kernel, str) and self.task_kernel == "learned"
        objectives = []
        for it in range(self.max_task_iter if learned else 1):
            if solved is None:
                dual, n_iter, converged = self._solve(cache, K_cols, problem, solver, alpha, x0=dual)
            else:
                dual, n_iter, converged = solved[1], None, True
            converged_all &= converged
            # A direct solve counts as one iteration (sklearn's checks want
            # n_iter_ >= 1 whenever max_iter is a parameter).
            n_iter_total += 1 if n_iter is None else n_iter
            # Optimal value for this task kernel: alpha * <a, y> (from
            # (G + alpha V^-1) a = y), so the alternation is monitored exactly.
            objectives.append(float(alpha * dual @ problem.y))
            # f(x, .) = phi(x)' coef: coef = E(a) Kt on the training rows
            # (exact kernel) or Z' E(a) Kt (Nystroem), never an n x J grid
            # for Nystroem.
            primal = cache.gram.primal(self._dual_grid(dual, problem))
            coef = K_cols.matmat(primal.T).T
            if not learned:
                break
            # Task weights in feature space: W = Phi' E(a) Kt, so W'W = coef' Kx coef.
            update = mtrl_task_covariance(cache.gram.primal_gram(coef))
            current = K_cols.toarray()
            change = np.linalg.norm(update - current) / np.linalg.norm(current)
            if change <= self.task_tol:
                break
            if it == self.max_task_iter - 1:
                # Keep the kernel the last dual solve used, so that
                # task_covariance_ and dual_coef_ stay one consistent model.
                warnings.warn(
                    f"The task covariance did not converge in max_task_iter="
                    f"{self.max_task_iter} alternations (last relative change "
                    f"{change:.2e} > task_tol={self.task_tol}); increase max_task_iter.",
                    ConvergenceWarning,
                )
                break
            K_cols = DenseTaskKernel(update)
        if not converged_all:
            warnings.warn(
                f"Conjugate gradients did not reach tol={self.tol} in "
                f"{self.max_iter or '10 * n_labels'} iterations; increase max_iter, "
                "alpha or tol, or use solver='dense' for small problems.",
                ConvergenceWarning,
            )
        if learned:
            self.task_covariance_ = K_cols.toarray()
            self.n_task_iter_ = it + 1
        self._objectives = objectives
        self.objective_ = objectives[-1]
        self._task_kernel = K_cols
        self.solver_ = solver
        self.n_iter_ = n_iter_total
        self._dual = dual
        self._coef = coef
        if self.unseen_task == "population":
            # A new task s has K_task[s, t] = shared for every fitted column
            # t, so f(x, s) = shared * sum_t phi(x)' primal_t.
            self._population_coef = K_cols.shared * primal.sum(axis=1)
        return self

    @property
    def task_kernel_(self):
        """The (n_tasks, n_tasks) task kernel used, built on access.

        Named kernels other than "graph" are stored by their group
        structure (``O(T)`` memory); this dense matrix costs ``8 T^2``
        bytes (800 MB for 10,000 tasks).
        """
        return self._task_kernel.toarray()

    def _learns_clusters(self):
        return (
            isinstance(self.task_kernel, str)
            and self.task_kernel == "clustered"
            and isinstance(self.task_clusters, numbers.Integral)
        )

    def _learn_clusters(self, cache, problem, solver, alpha):
        """Clusters of tasks from an independent fit (``task_clusters=<int>``).

        Each task is described by its independently fitted function on the
        training inputs, ``F = Kx E(a)`` (n values per task); k-means on
        these vectors gives the clusters, and the model is refitted with
        the "clustered" task kernel.
        """
        T = len(self.tasks_)
        K0 = problem.col_kernel(GroupTaskKernel(np.zeros(T, dtype=np.intp), 0.0, 1.0))
        dual, n_iter, converged = self._solve(cache, K0, problem, solver, alpha)
        # K0 is the identity on the columns, so F = Kx E(a) K0 = Kx E(a).
        F = cache.gram.matmat(self._dual_grid(dual, problem))
        # A multiclass task (one column per class) is described by the mean
        # of its columns; other tasks by their single column.
        features = np.stack([F[:, problem.col_task == t].mean(axis=1) for t in range(T)])
        n_clusters = min(self.task_clusters, T)
        labels = KMeans(n_clusters=n_clusters, n_init=10, random_state=self.random_state).fit(features).labels_
        self.task_clusters_ = labels
        K_cols = problem.col_kernel(_clustered_group_kernel(labels, self.task_mixing))
        return K_cols, 1 if n_iter is None else n_iter, converged

    def _initial_col_kernel(self, problem):
        T = len(self.tasks_)
        if isinstance(self.task_kernel, str) and self.task_kernel == "learned":
            return DenseTaskKernel(np.eye(problem.n_cols) / problem.n_cols)
        return problem.col_kernel(self._make_task_kernel(T))

    def _representation(self, features):
        """Rows in the space of ``_coef``: kernel values against the training rows, or Nystroem features."""
        K = self._kernel(features, self.components_ if self.n_components else self.X_fit_)
        return K if self.n_components is None else K @ self.normalization_.T

    def _validate_rows(self, X):
        """``(features, codes)`` as ``_validate_predict``; code -1 marks a task never seen in fit."""
        return self._validate_predict(X, allow_unseen=self.unseen_task == "population")

    def _row_columns(self, codes, first_columns):
        """``(coef, columns)``: ``coef[columns[i]]`` are the coefficients of row i's task's first column.

        ``first_columns[t]`` is task ``t``'s first score column. A row of a
        task never seen in fit (code -1) gets the population's column,
        appended after the fitted ones.
        """
        coef = self._coef.T
        columns = first_columns[codes]
        unseen = codes < 0
        if unseen.any():
            coef = np.vstack([coef, self._population_coef])
            columns[unseen] = len(coef) - 1
        return coef, columns

    def _decision(self, X):
        """Scores of every column: (features, task codes, (n, J) scores)."""
        features, codes = self._validate_predict(X)
        scores = self._representation(features) @ self._coef
        return features, codes, scores.astype(self._dtype, copy=False)

    def _new_problem(self, data, y_pairs, rows, cols, n_cols, col_task, col_key):
        sw = self._check_sample_weight(data.sample_weight)
        task_w = None if self.task_weights is None else resolve_task_weights(
            self.task_weights, data.n_samples_per_task, per_task_mean=False
        )
        return _Problem(
            rows=rows, cols=cols, y=y_pairs, n_rows=data.n_samples, n_cols=n_cols,
            col_task=col_task, col_key=col_key, row_weight=sw,
            col_weight=None if task_w is None else task_w[col_task],
        )

    def _regression_problem(self, data):
        if data.task_codes is None:
            rows, cols = np.nonzero(data.mask)
            y_pairs = data.y[rows, cols]
        else:
            rows, cols, y_pairs = np.arange(data.n_samples), data.task_codes, data.y
        T = data.n_tasks
        return self._new_problem(data, y_pairs.astype(np.float64), rows, cols, T, np.arange(T), None)


_OBJECTIVE_DOC = """
    The kernel on (input, task) pairs is ``k((x, s), (x', t)) = k(x, x') *
    K_task[s, t]``, with ``H`` its reproducing kernel Hilbert space. The
    fitted function minimizes::

        sum_{(i, t) observed}  s_i * w_t * (y_it - f(x_i, t))^2  +  alpha * ||f||_H^2

    over ``f`` in ``H`` (``s_i`` sample weights, ``w_t`` task weights, both
    1 by default). This is scikit-learn's ``KernelRidge`` scaling (no
    ``1/n`` factor, no intercept): with ``task_kernel="independent"`` each
    task is exactly ``KernelRidge(alpha)`` fitted on its labeled rows, and
    with ``"pooled"`` the model is one ``KernelRidge(alpha)`` fitted on all
    (row, task) labels. The solution is ``f(x, t) = sum_(j, s) a_js k(x,
    x_j) K_task[s, t]`` with dual coefficients ``a`` solving ``(G + alpha
    V^{-1}) a = y``, ``G`` the product kernel of the observed pairs.
"""


class MultiTaskKernelRidge(MultiTaskMixin, RegressorMixin, _BaseMultiTaskKernelRidge):
    __doc__ = (
        """Multi-task kernel ridge regression with an input kernel times a task kernel.
"""
        + _OBJECTIVE_DOC
        + """
    Read more in the :doc:`User Guide </user_guide/kernel_ridge>`.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularization strength, > 0.
    kernel : str or callable, default="rbf"
        Input kernel: a name from ``sklearn.metrics.pairwise.PAIRWISE_KERNEL_FUNCTIONS``
        ("rbf", "linear", "poly", "laplacian", ...) or a callable
        ``kernel(X, Y, **kernel_params)`` returning the (n_X, n_Y) Gram
        matrix (called on whole arrays, unlike ``KernelRidge``, whose
        callable is called per pair of rows).
    gamma, degree, coef0 : float
        Parameters of the named kernels, as in ``KernelRidge``.
    kernel_params : dict, default=None
        Extra keyword arguments of the kernel.
    task_kernel : {"independent", "pooled", "mean_regularized", "graph", \
"clustered", "learned"} or array-like of shape (n_tasks, n_tasks), \
default="mean_regularized"
        ``K_task``: identity; all ones; ``(1 - task_mixing) * 11' +
        task_mixing * I``; ``((1 - task_mixing) L + task_mixing I)^{-1}``
        with ``L`` the Laplacian of ``task_graph``; the mean-regularized
        kernel within the clusters of ``task_clusters``; an explicit
        symmetric PSD matrix; or learned jointly (MTRL, see Notes). Tasks
        are ordered as ``tasks_``.
    task_mixing : float in [0, 1], default=0.5
        Share of each task's own part (1 = independent, 0 = pooled) for the
        "mean_regularized", "clustered" and "graph" kernels.
    task_graph : array-like of shape (n_tasks, n_tasks), default=None
        Task adjacency (or Laplacian) for ``task_kernel="graph"``.
    task_clusters : array-like of shape (n_tasks,) or int, default=None
        Cluster label of each task for ``task_kernel="clustered"``, or the
        number of clusters to learn: k-means on the tasks' independently
        fitted functions (on the training inputs), then a refit with the
        clustered kernel (``task_clusters_``; ``random_state`` seeds k-means).
    task_weights : None, "balanced", "n_samples" or array-like of shape (n_tasks,), default=None
        ``w_t``, the weight of task ``t``'s squared errors. None (the same as
        "n_samples") counts every label the same; "balanced" gives ``N / (T
        n_t)`` so that every task weighs the same. (The linear models default
        to "balanced": their data term is a mean per task.)
    task_column : int, str or None, default=None
        None: wide layout (``y`` of shape (n_samples, n_tasks), NaN = missing
        label). Otherwise the column of ``X`` holding each row's task (long
        layout, ``y`` 1-D).
    solver : {"auto", "eigen", "cg", "dense"}, default="auto"
        "eigen": joint eigendecomposition, wide layout with every label
        observed. "dense": LAPACK solve of the N x N system of the N
        observed labels. "cg": conjugate gradients on Kronecker/Hadamard
        structured products (preconditioned by the full-grid eigen solve
        when at least half of the wide grid is observed, else Jacobi). "auto": "eigen" when possible, else "dense"
        up to 1000 labels, else "cg".
    tol : float, default=1e-6
        Conjugate gradients stop at relative residual ``||b - A u|| <=
        tol * ||b||`` of the (weighted) dual system.
    max_iter : int, default=None
        Maximum conjugate-gradient iterations (None: 10 x labels).
    n_components : int, default=None
        Use ``n_components`` Nystroem features instead of the exact input
        kernel (``Kx ~ Z Z'``): time O(n m^2 + n m T), memory O(n m). The
        solution tends to the exact one as ``n_components`` grows (equal
        at ``n_components = n_samples``).
    random_state : int, RandomState instance or None, default=None
        Nystroem basis selection.
    max_task_iter : int, default=100
        Maximum alternations for ``task_kernel="learned"``.
    task_tol : float, default=1e-6
        The alternation stops when the task covariance changes by less
        than ``task_tol`` in relative Frobenius norm.
    unseen_task : {"error", "population"}, default="error"
        Long layout: what ``predict`` (and ``score``) do with a row whose
        task was never seen in fit. "error" raises a ``ValueError`` naming
        the task; "population" predicts the part shared by every task: a
        new task ``s`` has ``K_task[s, t] = 1 - task_mixing`` with every
        fitted task ``t`` (the common part of the mean-regularized kernel;
        1 for "pooled"), so ``f(x, s) = (1 - task_mixing) * sum_(j, t) a_jt
        k(x, x_j)``, e.g. for :class:`~skmtl.model_selection.LeaveTasksOut`.
        Only with ``task_kernel="mean_regularized"`` or ``"pooled"`` (a
        ``ValueError`` at fit otherwise); a classifier predicts an unseen
        task only when every task has the same two classes.

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_samples, n_tasks) or (n_samples,)
        Dual coefficients ``a``: wide layout one column per task, 0 for a
        missing label (1-D for a 1-D ``y``); long layout one per row of ``X``.
    X_fit_ : ndarray or sparse matrix of shape (n_samples, n_features)
        Training features (task column removed); not set with ``n_components``.
    task_kernel_ : ndarray of shape (n_tasks, n_tasks)
        The task kernel used, built on access: the named kernels other than
        "graph" and "learned" are stored by their group structure, so a fit
        with many tasks never holds this ``8 T^2``-byte matrix.
    task_covariance_ : ndarray of shape (n_tasks, n_tasks)
        Learned task covariance (``task_kernel="learned"`` only).
    task_clusters_ : ndarray of shape (n_tasks,)
        Learned task clusters (``task_clusters=<int>`` only).
    n_task_iter_ : int
        Alternations run (``task_kernel="learned"`` only).
    objective_ : float
        Value of the objective at the solution.
    solver_ : str
        Solver used: "eigen", "cg" or "dense"; in :class:`MultiTaskKernelRidgeCV`
        also "blocks" (the leave-one-out's exact solve by per-task blocks).
    n_iter_ : int
        Conjugate-gradient iterations, summed over the alternations of
        ``task_kernel="learned"``; with a direct solver ("eigen", "dense")
        the number of solves (1, or the number of alternations).
    components_, component_indices_, normalization_ : ndarray
        Nystroem basis (with ``n_components``), as in ``sklearn.kernel_approximation.Nystroem``.
    tasks_ : ndarray of shape (n_tasks,)
    n_tasks_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    See Also
    --------
    sklearn.kernel_ridge.KernelRidge : the single-task model.
    MultiTaskKernelRidgeCV : alpha chosen by exact leave-one-label-out.
    MultiTaskKernelRidgeClassifier : least-squares classification.

    Notes
    -----
    With ``task_kernel="learned"`` the task kernel ``Omega`` (PSD, unit
    trace) is learned jointly, minimizing the objective above over ``f``
    and ``Omega`` (MTRL, Zhang & Yeung 2010): alternately solve the ridge
    problem and set ``Omega = (W'W)^{1/2} / tr((W'W)^{1/2})``, where the
    Gram of the task weight vectors is ``W'W = M' Kx M`` with ``M = E(a)
    Omega`` (dual form; ``E(a)`` puts the dual coefficients on an
    (n_samples, n_tasks) grid). Each step decreases the objective. The
    start is ``Omega = I / T``.

    Solvers: "eigen" costs O(n^3 + T^3 + n^2 T) time and O(n^2 + nT)
    memory and never forms the nT x nT system; "cg" costs O(n^2 T) per
    iteration (wide, missing labels) or O(N^2 + N T) (long) with the
    n x n (or N x N) input Gram in memory; "dense" O(N^3) time and O(N^2)
    memory. With ``n_components=m`` in the long layout, "cg" costs
    O(N m + T m) per iteration and O(N m + T m) memory when the task
    kernel is "independent", "pooled", "mean_regularized" or "clustered"
    (products through the tasks' groups; O(N m + T^2 m) for a dense task
    kernel): 10,000 tasks of 20 rows fit in about 20 s and 1 GB with
    ``n_components=200``.

    References
    ----------
    T. Evgeniou, C. Micchelli, M. Pontil, "Learning multiple tasks with
    kernel methods", JMLR 6, 2005.
    Y. Zhang, D.-Y. Yeung, "A convex formulation for learning task
    relationships in multi-task learning", UAI 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.kernel_ridge import MultiTaskKernelRidge
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(50, 3)
    >>> Y = np.column_stack([np.sin(X[:, 0]), np.sin(X[:, 0]) + 0.1 * X[:, 1]])
    >>> Y[:5, 1] = np.nan  # missing labels are masked out of the loss
    >>> model = MultiTaskKernelRidge(alpha=0.1, task_kernel="mean_regularized").fit(X, Y)
    >>> model.predict(X[:2]).shape
    (2, 2)
    """
    )

    _parameter_constraints = {
        **_BaseMultiTaskKernelRidge._parameter_constraints,
        "alpha": [Interval(numbers.Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        alpha=1.0,
        *,
        kernel="rbf",
        gamma=None,
        degree=3,
        coef0=1,
        kernel_params=None,
        task_kernel="mean_regularized",
        task_mixing=0.5,
        task_graph=None,
        task_clusters=None,
        task_weights=None,
        task_column=None,
        solver="auto",
        tol=1e-6,
        max_iter=None,
        n_components=None,
        random_state=None,
        max_task_iter=100,
        task_tol=1e-6,
        unseen_task="error",
    ):
        self.alpha = alpha
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.task_kernel = task_kernel
        self.task_mixing = task_mixing
        self.task_graph = task_graph
        self.task_clusters = task_clusters
        self.task_weights = task_weights
        self.task_column = task_column
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.n_components = n_components
        self.random_state = random_state
        self.max_task_iter = max_task_iter
        self.task_tol = task_tol
        self.unseen_task = unseen_task

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the multi-task kernel ridge model.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            NaN marks a missing label (wide layout).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        self._check_unseen_task()
        data = self._validate_fit(X, y, sample_weight)
        self._dtype = data.X.dtype
        problem = self._regression_problem(data)
        self._fit_problem(data.X, problem, self.alpha)
        self._set_dual_coef(problem, data)
        return self

    def _set_dual_coef(self, problem, data):
        if data.task_codes is None:
            A = self._dual_grid(self._dual, problem).toarray().astype(self._dtype, copy=False)
            self.dual_coef_ = A[:, 0] if data.single_output else A
        else:
            self.dual_coef_ = self._dual.astype(self._dtype, copy=False)

    def predict(self, X):
        """Predict every task (wide) or each row's own task (long).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_tasks) or (n_samples,)
        """
        features, codes = self._validate_rows(X)
        if codes is None:
            scores = self._representation(features) @ self._coef
            return self._format_output(scores.astype(self._dtype, copy=False), None)
        # Long layout: each row's own task only, never the (n, T) scores of
        # every task (16 GB for 200,000 rows of 10,000 tasks).
        coef, columns = self._row_columns(codes, np.arange(self.n_tasks_))
        pred = np.einsum("ip,ip->i", self._representation(features), coef[columns])
        return pred.astype(self._dtype, copy=False)


class MultiTaskKernelRidgeCV(MultiTaskKernelRidge):
    __doc__ = (
        """Multi-task kernel ridge with ``alpha`` chosen by cross-validation.

    With ``cv=None`` every alpha is scored by the exact leave-one-label-out
    (LOO) mean squared error: each observed label ``(i, t)`` is predicted by
    the model fitted on all other labels (the row still serves the other
    tasks), computed in closed form, ``residual = a_k / C_kk`` with
    ``C = (G + alpha V^{-1})^{-1}`` (weighted ``(a_k / (v_k C_kk))``). In the
    wide layout with every label observed all alphas share one joint
    eigendecomposition (cost of a single fit). Otherwise, with Nystroem
    features (``n_components``) and a named task kernel other than "graph",
    each task's block is eigendecomposed once and every alpha costs one
    ``m x m`` solve per group of tasks (O(N m^2)); else the N x N product
    kernel is eigendecomposed once (O(N^3)). Either factorization also
    gives the refit at ``alpha_``. ``task_kernel="learned"``, an explicit
    ``cv`` or a ``scoring`` use ``GridSearchCV`` (by default with the masked
    mean squared error).
"""
        + _OBJECTIVE_DOC
        + """
    Parameters
    ----------
    alphas : array-like of float > 0, default=(0.1, 1.0, 10.0)
    cv : int, cross-validation generator, iterable or None, default=None
        None: exact leave-one-label-out (or, with ``scoring``, 5 folds);
        otherwise passed to GridSearchCV. In the long layout an int means
        :class:`skmtl.model_selection.TaskStratifiedKFold` on the task column.
    scoring : str, callable or None, default=None
        None: mean squared error over the observed labels (leave-one-out or
        folds). Otherwise a scikit-learn scoring name or a scorer
        ``scorer(estimator, X, y)`` (for instance
        :data:`skmtl.metrics.task_r2_scorer`), higher is better, evaluated on
        cross-validation folds: the closed-form leave-one-out gives squared
        errors only.
    **other parameters : as :class:`MultiTaskKernelRidge`.

    Attributes
    ----------
    alpha_ : float
        Selected alpha.
    best_score_ : float
        Negative mean squared (LOO or CV) error at ``alpha_``, or the best
        mean ``scoring`` value.
    cv_scores_ : ndarray of shape (n_alphas,)
        The same for every alpha.
    Other attributes as :class:`MultiTaskKernelRidge`, for the refit at
    ``alpha_``.

    See Also
    --------
    MultiTaskKernelRidge

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.kernel_ridge import MultiTaskKernelRidgeCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(40, 2)
    >>> Y = np.column_stack([np.sin(X[:, 0]), np.sin(X[:, 0]) + 0.1 * X[:, 1]])
    >>> model = MultiTaskKernelRidgeCV(alphas=[0.01, 0.1, 1.0]).fit(X, Y)
    >>> model.cv_scores_.shape
    (3,)
    """
    )

    _parameter_constraints = {
        **_BaseMultiTaskKernelRidge._parameter_constraints,
        "alphas": ["array-like"],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
    }

    def __init__(
        self,
        alphas=(0.1, 1.0, 10.0),
        *,
        cv=None,
        scoring=None,
        kernel="rbf",
        gamma=None,
        degree=3,
        coef0=1,
        kernel_params=None,
        task_kernel="mean_regularized",
        task_mixing=0.5,
        task_graph=None,
        task_clusters=None,
        task_weights=None,
        task_column=None,
        solver="auto",
        tol=1e-6,
        max_iter=None,
        n_components=None,
        random_state=None,
        max_task_iter=100,
        task_tol=1e-6,
        unseen_task="error",
    ):
        super().__init__(
            kernel=kernel, gamma=gamma, degree=degree, coef0=coef0, kernel_params=kernel_params,
            task_kernel=task_kernel, task_mixing=task_mixing, task_graph=task_graph,
            task_clusters=task_clusters, task_weights=task_weights, task_column=task_column,
            solver=solver, tol=tol, max_iter=max_iter, n_components=n_components,
            random_state=random_state, max_task_iter=max_task_iter, task_tol=task_tol,
            unseen_task=unseen_task,
        )
        del self.alpha
        self.alphas = alphas
        self.cv = cv
        self.scoring = scoring

    def _check_alphas(self):
        alphas = np.asarray(self.alphas, dtype=np.float64).ravel()
        if alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas <= 0):
            raise ValueError(f"alphas must be a non-empty list of positive numbers; got {self.alphas!r}.")
        return alphas

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Select ``alpha`` and refit on all data.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        alphas = self._check_alphas()
        self._check_unseen_task()
        # Validated before any grid search, so that bad input (y=None, NaN,
        # a negative weight) is reported as such, not as "All the fits failed".
        data = self._validate_fit(X, y, sample_weight)
        self._check_sample_weight(data.sample_weight)
        learned = isinstance(self.task_kernel, str) and self.task_kernel == "learned"
        if self.cv is not None or self.scoring is not None or learned or self._learns_clusters():
            return self._fit_grid_search(X, y, sample_weight, alphas)
        self._dtype = data.X.dtype
        problem = self._regression_problem(data)
        cache = _GramCache(self._input_gram(data.X), problem.row_weight)
        K_cols = self._initial_col_kernel(problem)
        errors, duals = self._loo_squared_errors(cache, K_cols, problem, alphas)
        self.cv_scores_ = -errors
        best = int(np.argmin(errors))
        self.alpha_ = float(alphas[best])
        self.best_score_ = float(-errors[best])
        # Off the full grid the leave-one-out factorization has solved the
        # system at every alpha already: no conjugate gradients for the refit.
        solved = None
        if not problem.full_grid:
            # The route pair_loo_errors took (same count of alphas), so solver_ names it.
            solved = (loo_route(cache.gram, K_cols, problem.cols, len(alphas)), duals[best])
        self._fit_problem(data.X, problem, self.alpha_, cache=cache, solved=solved)
        self._set_dual_coef(problem, data)
        return self

    def _loo_squared_errors(self, cache, K_cols, problem, alphas):
        """Weighted mean squared LOO residual and dual coefficients of every alpha."""
        v = problem.sqrt_weight()
        v = np.ones(len(problem.y)) if v is None else v**2
        if problem.full_grid:
            Y = np.zeros((problem.n_rows, problem.n_cols))
            Y[problem.rows, problem.cols] = problem.y
            col_sqrt = None if problem.col_weight is None else np.sqrt(problem.col_weight)
            duals, residuals = eigen_loo_errors(
                cache.weighted, K_cols, Y, alphas, row_sqrt_weight=cache.row_sqrt, task_sqrt_weight=col_sqrt
            )
            duals = [A[problem.rows, problem.cols] for A in duals]
            residuals = [r[problem.rows, problem.cols] for r in residuals]
        else:
            duals, residuals = pair_loo_errors(
                cache.gram, K_cols, problem.rows, problem.cols, problem.y, alphas,
                sqrt_weight=problem.sqrt_weight(),
            )
        keep = v > 0
        errors = np.array([np.sum(v[keep] * r[keep] ** 2) / np.sum(v[keep]) for r in residuals])
        return errors, duals

    def _fit_grid_search(self, X, y, sample_weight, alphas):
        params = {k: v for k, v in self.get_params().items() if k not in ("alphas", "cv", "scoring")}
        search = GridSearchCV(
            MultiTaskKernelRidge(**params),
            {"alpha": list(alphas)},
            cv=check_task_cv(self.cv, self.task_column),
            scoring=_masked_neg_mse if self.scoring is None else self.scoring,
        )
        fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        search.fit(X, y, **fit_params)
        best = search.best_estimator_
        # Adopt the refitted best model's fitted state (attributes ending in
        # "_" and private caches), as if fitted here with alpha_.
        fitted = {
            k: v for k, v in best.__dict__.items()
            if k.endswith("_") or (k.startswith("_") and not k.startswith("__"))
        }
        self.__dict__.update(fitted)
        self.alpha_ = float(search.best_params_["alpha"])
        self.best_score_ = float(search.best_score_)
        self.cv_scores_ = np.asarray(search.cv_results_["mean_test_score"])
        return self


def _masked_neg_mse(estimator, X, y):
    """Negative mean squared error over the observed labels (NaN skipped)."""
    y = np.asarray(y, dtype=np.float64)
    pred = np.asarray(estimator.predict(X), dtype=np.float64).reshape(y.shape)
    observed = ~np.isnan(y)
    return -float(np.mean((y[observed] - pred[observed]) ** 2))


class MultiTaskKernelRidgeClassifier(MultiTaskMixin, ClassifierMixin, _BaseMultiTaskKernelRidge):
    __doc__ = (
        """Least-squares multi-task kernel classifier (kernel RidgeClassifier per task).

    Each task's labels become targets in {-1, +1}: a binary task gives one
    column (``+1`` = ``classes_[t][1]``), a multiclass task one column per
    class (one-vs-rest), as in ``sklearn.linear_model.RidgeClassifier``.
    The columns are fitted jointly by :class:`MultiTaskKernelRidge`; the
    kernel between two columns is ``K_task[s, t]`` when both are binary
    columns or both are the one-vs-rest column of the same class label,
    and 0 otherwise (so the classes of one task stay independent, as in
    ``RidgeClassifier``). A row is assigned ``classes_[t][1]`` when its
    score is positive (binary) or the class of the largest score.
"""
        + _OBJECTIVE_DOC.replace("y_it", "y_ic").replace("(i, t)", "(i, c)")
        + """
    Parameters
    ----------
    alpha : float, default=1.0
    Other parameters : as :class:`MultiTaskKernelRidge`.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        Wide layout: one array per task (one array for a 1-D ``y``); long
        layout: the sorted union of every task's classes.
    task_classes_ : list of ndarray
        Classes of each task, in the order of ``tasks_``.
    dual_coef_ : ndarray or sparse matrix of shape (n_samples, n_columns)
        Dual coefficients of the score columns (0 where a label is missing);
        CSR in the long layout, where each row has entries only in its own
        task's columns (a dense array would be rows x tasks).
    Other attributes as :class:`MultiTaskKernelRidge`.

    See Also
    --------
    MultiTaskKernelRidge
    sklearn.linear_model.RidgeClassifier

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.kernel_ridge import MultiTaskKernelRidgeClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(40, 2)
    >>> Y = np.column_stack([X[:, 0] > 0, X[:, 0] + 0.2 * X[:, 1] > 0]).astype(int)
    >>> clf = MultiTaskKernelRidgeClassifier(alpha=0.1).fit(X, Y)
    >>> clf.predict(X[:3]).shape
    (3, 2)
    """
    )

    _parameter_constraints = MultiTaskKernelRidge._parameter_constraints
    __init__ = MultiTaskKernelRidge.__init__

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Wide layout: NaN/None marks a missing label.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        self._check_unseen_task()
        data = self._validate_fit(X, y, sample_weight)
        self._dtype = data.X.dtype
        classes = [np.unique(data.task_targets(t)) for t in range(data.n_tasks)]
        self.task_classes_ = classes
        # Columns: one per binary task, one per class of a multiclass task.
        col_task, keys, rows_all, cols_all, y_all = [], [], [], [], []
        for t, cl in enumerate(classes):
            rows, labels = data.task_rows(t), data.task_targets(t)
            positives = cl[1:] if len(cl) == 2 else cl
            for c in positives:
                j = len(col_task)
                col_task.append(t)
                keys.append(("binary",) if len(cl) == 2 else ("class", c))
                rows_all.append(rows)
                cols_all.append(np.full(len(rows), j))
                y_all.append(np.where(labels == c, 1.0, -1.0))
        key_ids = np.array([{k: i for i, k in enumerate(dict.fromkeys(keys))}[k] for k in keys])
        rows, cols = np.concatenate(rows_all), np.concatenate(cols_all)
        order = np.lexsort((cols, rows))
        problem = self._new_problem(
            data, np.concatenate(y_all)[order], rows[order], cols[order], len(col_task),
            np.asarray(col_task), None if np.all(key_ids == key_ids[0]) else key_ids,
        )
        self._col_task = problem.col_task
        self._fit_problem(data.X, problem, self.alpha)
        grid = self._dual_grid(self._dual, problem).astype(self._dtype, copy=False)
        self.dual_coef_ = grid if data.task_codes is not None else grid.toarray()
        if data.single_output:
            self.classes_ = classes[0]
        elif data.task_codes is None:
            self.classes_ = list(classes)
        else:
            self.classes_ = np.unique(np.concatenate(classes))
        return self

    def _task_scores(self, scores, t):
        cols = np.flatnonzero(self._col_task == t)
        return scores[:, cols[0]] if len(cols) == 1 else scores[:, cols]

    def decision_function(self, X):
        """Scores of each task's columns.

        Returns
        -------
        scores : ndarray or list of ndarray
            Wide layout: a list with one array per task, (n_samples,) for a
            binary task (positive = ``classes_[t][1]``) or (n_samples,
            n_classes_t); one array for a 1-D ``y``. Long layout: (n_samples,)
            when every task is binary, else (n_samples, ``len(classes_)``) with
            ``-inf`` for classes the row's task does not have.
        """
        if self.task_column is not None:
            scores, codes = self._own_class_scores(X)
            if all(len(cl) == 2 for cl in self.task_classes_):
                return scores[:, 1]
            positions = self._per_task_table(lambda cl: np.searchsorted(self.classes_, cl), len(self.classes_))
            # Padding slots point at a scratch column, dropped below.
            result = np.full((len(codes), len(self.classes_) + 1), -np.inf, dtype=scores.dtype)
            np.put_along_axis(result, positions[codes], scores, axis=1)
            return result[:, :-1]
        _, _, scores = self._decision(X)
        per_task = [self._task_scores(scores, t) for t in range(self.n_tasks_)]
        return per_task[0] if self._single_output else per_task

    def predict(self, X):
        """Predicted class of every task (wide) or of each row's task (long).

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_tasks) or (n_samples,)
        """
        if self.task_column is not None:
            scores, codes = self._own_class_scores(X)
            # A binary task's scores are (-s, s): argmax is classes[1] iff s > 0.
            classes = self._per_task_table(lambda cl: cl, self.task_classes_[0][0])
            return classes[codes, np.argmax(scores, axis=1)]
        _, _, scores = self._decision(X)
        labels = []
        for t, cl in enumerate(self.task_classes_):
            s = self._task_scores(scores, t)
            labels.append(cl[(s > 0).astype(int)] if s.ndim == 1 else cl[np.argmax(s, axis=1)])
        return labels[0] if self._single_output else np.column_stack(labels)

    def _own_class_scores(self, X):
        """Long layout: scores of each row's own task's classes, ``(scores, codes)``.

        ``scores`` is (n_samples, max classes per task): ``(-s, s)`` for a
        binary task with score ``s``, one score per class otherwise, padded
        with ``-inf``. Only the row's own columns are computed, never the
        (n_samples, n_columns) scores of every task.
        """
        features, codes = self._validate_rows(X)
        # Columns are numbered task by task, so task t owns a contiguous range.
        counts = np.bincount(self._col_task, minlength=self.n_tasks_)
        coef, first = self._row_columns(codes, np.cumsum(counts) - counts)
        if np.any(codes < 0):
            # The population model is the binary problem every task shares:
            # task 0's classes are an unseen task's.
            check_population_classes(self.task_classes_)
            codes = np.where(codes < 0, 0, codes)
        representation = self._representation(features)
        scores = np.full((len(codes), max(2, counts.max())), -np.inf)
        for k in range(counts.max()):  # a task's k-th column, for all tasks at once
            rows = np.flatnonzero(counts[codes] > k)
            cols = first[rows] + k
            scores[rows, k] = np.einsum("ip,ip->i", representation[rows], coef[cols])
        binary = (counts == 1)[codes]
        scores[binary, 1] = scores[binary, 0]
        scores[binary, 0] = -scores[binary, 1]
        return scores.astype(self._dtype, copy=False), codes

    def _per_task_table(self, values, fill):
        """(n_tasks, max classes per task) table of ``values(task_classes_[t])``, padded with ``fill``."""
        rows = [values(cl) for cl in self.task_classes_]
        dtype = np.result_type(*[r.dtype for r in rows])
        table = np.full((len(rows), max(len(r) for r in rows)), fill, dtype=dtype)
        for t, r in enumerate(rows):
            table[t, : len(r)] = r
        return table

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags
