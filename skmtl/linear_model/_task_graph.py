"""Task-coupling penalties: mean-regularized, graph-regularized and task-relation (MTRL) MTL.

Both penalties are quadratic forms on the task axis of the coefficient
matrix ``W`` (n_features, n_tasks)::

    alpha / 2 * tr(W M W'),   M symmetric PSD of shape (n_tasks, n_tasks)

* mean-regularized (Evgeniou & Pontil 2004):
  ``M = I - mixing / T * 1 1'``, i.e.
  ``alpha / 2 * (mixing * sum_t ||b_t - mean_b||^2 + (1 - mixing) * sum_t ||b_t||^2)``;
* graph-regularized (MALSAR SRMTL with a ridge term instead of the L1 one):
  ``M = L + ridge * I`` with ``L = diag(A 1) - A`` the Laplacian of the task
  graph ``A``, i.e.
  ``alpha / 2 * (sum_{s<t} A_st ||b_s - b_t||^2 + ridge * ||B||_F^2)``.

MTRL (Zhang & Yeung 2010) learns the task covariance ``Omega`` jointly with
``W``; minimizing ``Omega`` out leaves the squared nuclear norm
(:class:`SquaredTraceNorm`), which is solved directly.

The penalties are in :mod:`._penalties._task_quadratic` (their prox is
linear, ``V (I + s * alpha * M)^{-1}``) and :mod:`._penalties._spectral`.
``B = 0`` is never optimal for a quadratic penalty unless the loss gradient
vanishes there, so ``alpha_max`` is ``inf``: these models have no finite
``alpha_max`` and the path helpers do not apply to them.
"""

import numbers
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ..base import UNSEEN_TASK_CONSTRAINT
from ._base import (
    _CLASSIFIER_ATTRIBUTES,
    _COMMON_ATTRIBUTES,
    _LinearMultiTaskClassifier,
    _LinearMultiTaskModel,
    _LinearMultiTaskRegressor,
)
from ._penalties import MeanQuadratic, SparseTaskQuadratic, SquaredTraceNorm, TaskQuadratic, _TaskSpectrum

__all__ = [
    "MeanRegularizedRegressor",
    "MeanRegularizedClassifier",
    "GraphRegularizedRegressor",
    "GraphRegularizedClassifier",
    "TaskRelationRegressor",
    "TaskRelationClassifier",
]


# --------------------------------------------------------------------- penalties
def _dense_task_attribute(factored, form, doc):
    """A fitted (n_tasks, n_tasks) attribute formed on first access from ``self.<factored>``.

    ``fit`` stores only the factored form (``O(p n_tasks)`` memory) and
    calls :func:`_forget_dense_attributes`; the dense matrix, ``8 n_tasks^2``
    bytes (800 MB at 10,000 tasks), is formed by ``form(factored)`` the first
    time it is read and then kept like any fitted attribute
    (:class:`functools.cached_property`). Before ``fit``, reading it raises
    :class:`~sklearn.exceptions.NotFittedError` (an ``AttributeError``, so
    ``hasattr`` is False).
    """

    def get(self):
        check_is_fitted(self, factored)
        return form(getattr(self, factored))

    get.__doc__ = doc
    return cached_property(get)


def _forget_dense_attributes(estimator, *names):
    """Drop the dense attributes a previous ``fit`` formed (:func:`_dense_task_attribute`)."""
    for name in names:
        estimator.__dict__.pop(name, None)


def _check_adjacency(task_graph, n_tasks, name="task_graph"):
    """Validate an adjacency matrix; returns a float64 copy with a zero diagonal (CSR if sparse)."""
    if sp.issparse(task_graph):
        return _check_sparse_adjacency(task_graph, n_tasks, name)
    A = _check_task_matrix(task_graph, n_tasks, name)
    if np.any(A < 0):
        i, j = np.argwhere(A < 0)[0]
        raise ValueError(f"{name} must have non-negative weights; got {name}[{i}, {j}] = {float(A[i, j]):g}.")
    np.fill_diagonal(A, 0.0)  # self-loops do not change the Laplacian
    return A


def _check_sparse_adjacency(task_graph, n_tasks, name):
    """:func:`_check_adjacency` of a sparse matrix, on its stored entries only."""
    A = sp.csr_matrix(task_graph, dtype=np.float64, copy=True)
    if A.shape != (n_tasks, n_tasks):
        raise ValueError(
            f"{name} must have shape (n_tasks, n_tasks) = ({n_tasks}, {n_tasks}), one row and "
            f"column per task in the order of tasks_; got shape {A.shape}."
        )
    if not np.all(np.isfinite(A.data)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    if np.any(A.data < 0):
        raise ValueError(f"{name} must have non-negative weights; got {float(A.data.min()):g}.")
    scale = max(float(np.max(A.data, initial=0.0)), 1.0)
    if abs(A - A.T).max() > 1e-10 * scale:
        raise ValueError(f"{name} must be symmetric.")
    A.setdiag(0.0)  # self-loops do not change the Laplacian
    A.eliminate_zeros()
    return ((A + A.T) * 0.5).tocsr()


def _laplacian_of(A):
    """``diag(A 1) - A`` of a symmetric adjacency matrix with a zero diagonal (sparse if ``A`` is)."""
    if sp.issparse(A):
        return (sp.diags(np.asarray(A.sum(axis=1)).ravel()) - A).tocsr()
    return np.diag(A.sum(axis=1)) - A


def _graph_laplacian(task_graph, n_tasks, name="task_graph"):
    """Validate an adjacency matrix and return its Laplacian ``diag(A 1) - A``."""
    return _laplacian_of(_check_adjacency(task_graph, n_tasks, name))


def _expand_to_columns(matrix, column_task, same_class):
    """Task matrix over the classifier's binary columns: ``(E S E') o C``.

    ``E`` maps each column to its task (``column_task``) and ``C`` is
    ``same_class``, 1 for two columns encoding the same class: the entry of
    two tasks links their columns of the same class only. A Schur product of
    PSD matrices is PSD, so a Laplacian stays PSD.
    """
    return matrix[np.ix_(column_task, column_task)] * same_class


def _check_task_matrix(matrix, n_tasks, name):
    """Shape (n_tasks, n_tasks), finite, symmetric; returns a float64 copy."""
    try:
        M = np.array(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array of shape (n_tasks, n_tasks).") from exc
    if M.shape != (n_tasks, n_tasks):
        raise ValueError(
            f"{name} must have shape (n_tasks, n_tasks) = ({n_tasks}, {n_tasks}), one row and "
            f"column per task in the order of tasks_; got shape {M.shape}."
        )
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    scale = max(float(np.max(np.abs(M), initial=0.0)), 1.0)
    if not np.allclose(M, M.T, rtol=0.0, atol=1e-10 * scale):
        i, j = np.unravel_index(np.argmax(np.abs(M - M.T)), M.shape)
        raise ValueError(
            f"{name} must be symmetric; got {name}[{i}, {j}] = {float(M[i, j]):g} != "
            f"{name}[{j}, {i}] = {float(M[j, i]):g}."
        )
    return 0.5 * (M + M.T)


def _check_laplacian(laplacian, n_tasks):
    L = _check_task_matrix(laplacian, n_tasks, "laplacian")
    eig = np.linalg.eigh(L)
    scale = max(float(np.max(np.abs(eig[0]), initial=0.0)), 1.0)
    if eig[0].min() < -1e-10 * scale:
        raise ValueError(
            f"laplacian must be positive semi-definite; its smallest eigenvalue is {eig[0].min():.3g}."
        )
    return L, eig


# --------------------------------------------------------------------- estimators
_BASE_CONSTRAINTS = {
    k: v for k, v in _LinearMultiTaskModel._parameter_constraints.items() if k not in ("l1_ratio", "solver")
}


class _TaskQuadraticMixin:
    """Builds ``M`` once per fit (after the tasks are known) and the penalties from it."""

    # FISTA on all of W: the penalty couples the tasks of a feature but is
    # not a sum over features with a sparsity-inducing part, so working sets
    # do not apply.
    solver = "fista"

    def _task_matrix(self, n_columns):  # pragma: no cover - abstract
        raise NotImplementedError

    def _make_loss(self, X, y, sample_weight):
        loss = super()._make_loss(X, y, sample_weight)
        self._set_task_matrix(loss.n_tasks)
        return loss

    def _set_task_matrix(self, n_columns):
        self._penalty_matrix, self._penalty_eig = self._task_matrix(n_columns)

    def _penalty_for_alpha_max(self):
        # alpha_max is inf for a quadratic penalty; the matrix size does not matter.
        return TaskQuadratic(1.0, np.eye(1))


class _MeanRegularizedMixin(_TaskQuadraticMixin):
    _parameter_constraints = {
        **_BASE_CONSTRAINTS,
        "mixing": [Interval(numbers.Real, 0, 1, closed="both")],
        "unseen_task": UNSEEN_TASK_CONSTRAINT,
    }

    # tr(W M W') is a sum over features, so FISTA can take one step per
    # feature (scale_rows): on School's raw features (%FSM and %VR1 on
    # scales 30-200 times the indicators') the default fit took 11,630
    # iterations, 1,638 with one step per feature.
    _scale_features = True

    def _set_task_matrix(self, n_columns):
        # M = I - mixing / T 1 1' is never formed: its prox is in closed form.
        self._n_penalty_columns = n_columns

    def _make_penalty(self, alpha):
        return MeanQuadratic(alpha, self.mixing, self._n_penalty_columns)

    def _population_model(self):
        # The mean over tasks is what the penalty pulls every task towards:
        # a task without data of its own sits there.
        return self.coef_.mean(axis=0, keepdims=True), self.intercept_.mean(keepdims=True)


_MEAN_OBJECTIVE = """\
    Minimizes over the coefficients ``B`` (``coef_``, one row ``b_t`` per
    {row}) and the unpenalized intercepts ``c`` (``intercept_``)::

{loss}
            + alpha / 2 * (mixing * sum_t ||b_t - b_mean||^2 + (1 - mixing) * sum_t ||b_t||^2)

    with ``b_mean = (1 / T) sum_t b_t`` over the ``T`` {rows}. Equivalently the
    penalty is ``alpha / 2 * tr(B' M B)`` with ``M = I - mixing / T * 1 1'``.
    ``mixing=1`` pulls the tasks towards their mean only (huge ``alpha``
    gives the pooled model, one ``b`` for all tasks, tiny ``alpha`` the
    independent models), ``mixing=0`` is a plain ridge on every task."""

_SQUARED_LOSS = """\
        sum_t w_t / (2 n_t) * ||y_t - X_t b_t - c_t||^2"""

_LOGISTIC_LOSS = """\
        sum_k w_k / n_k * sum_{i in k} log(1 + exp(-y_ik (x_i' b_k + c_k)))"""

_DATA_NOTE = """\
    Task ``t`` has ``n_t`` labeled rows ``X_t, y_t`` (with sample weights,
    ``1 / n_t`` becomes ``s_i / S_t``, ``S_t`` the task's total weight) and
    task weight ``w_t``. With the wide layout, no missing label and
    ``task_weights=None`` the data term is scikit-learn's
    ``||Y - X B' - 1 c'||_F^2 / (2 n)``."""

_COMMON = """\
    fit_intercept : bool, default=True
        Fit one unpenalized intercept per task.

    task_weights : None, "balanced", "n_samples" or array-like of shape (n_tasks,), default=None
        ``w_t``: 1 per task (None, the same as "balanced"), proportional to the number of labeled
        rows (``"n_samples"``, normalized to mean 1), or given.

    task_column : int, str or None, default=None
        None: wide layout, ``y`` of shape (n_samples, n_tasks) with NaN for
        a missing label. Otherwise the column of ``X`` (position, or name
        for a DataFrame) holding each row's task label; ``y`` is 1-D.

    max_iter : int, default=1000
        Maximum number of FISTA iterations.

    tol : float, default=1e-4
        Tolerance on the scale-free stopping criterion (the gradient
        mapping relative to its value at ``B = 0``).

    warm_start : bool, default=False
        Start from the previous fit's ``coef_`` and ``intercept_`` (when the
        tasks and features match)."""

_ATTRIBUTES = """\
    coef_ : ndarray of shape ({rows}, n_features)
        Coefficients, one row per {row} (float32 for float32 ``X``).

""" + _COMMON_ATTRIBUTES

_QUAD_NOTES = """\
    The penalty is a quadratic form on the task axis, so the problem is
    solved by FISTA whose proximal step is linear,
    ``V (I + step * alpha * M)^{-1}``; for the squared loss the solution is
    also that of a linear system (see the tests). The penalty is smooth and
    ``B = 0`` is never optimal for ``alpha < inf``: there is no finite
    ``alpha_max`` (:func:`~skmtl.linear_model.alpha_max` returns ``inf``) and
    no path helper for these models."""

_MEAN_REFERENCES = """\
    References
    ----------
    Evgeniou & Pontil, "Regularized multi-task learning", KDD 2004."""


class MeanRegularizedRegressor(_MeanRegularizedMixin, _LinearMultiTaskRegressor):
    def __init__(
        self,
        alpha=0.1,
        *,
        mixing=0.5,
        fit_intercept=True,
        task_weights=None,
        task_column=None,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        unseen_task="error",
    ):
        self.alpha = alpha
        self.mixing = mixing
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.unseen_task = unseen_task


_MIXING_PARAMETERS = """\
    alpha : float, default={alpha}
        Regularization strength, >= 0.

    mixing : float in [0, 1], default=0.5
        Share of the penalty that pulls each task towards the tasks' mean
        (``sum_t ||b_t - b_mean||^2``); the rest is a ridge on each task.

{common}

    unseen_task : {{"error", "population"}}, default="error"
        Long layout: what ``predict`` (and ``score``) do with a row whose
        task was never seen in fit. "error" raises a ``ValueError`` naming
        the task; "population" predicts with the population model, the
        mean over tasks of ``coef_`` and ``intercept_`` (the point the
        penalty pulls every task towards), e.g. for
        :class:`~skmtl.model_selection.LeaveTasksOut`.{classifier_note}"""

MeanRegularizedRegressor.__doc__ = f"""Multi-task linear regression regularized towards the tasks' mean.

    Every task's coefficients are shrunk towards the mean of all tasks'
    coefficients (and towards 0): the regularized MTL of Evgeniou & Pontil.

{_MEAN_OBJECTIVE.format(row="task", rows="tasks", loss=_SQUARED_LOSS)}

{_DATA_NOTE}

    Read more in the :ref:`User Guide <linear_model>`.

    Parameters
    ----------
{_MIXING_PARAMETERS.format(alpha="0.1", common=_COMMON, classifier_note="")}

    Attributes
    ----------
{_ATTRIBUTES.format(rows="n_tasks", row="task")}

    See Also
    --------
    GraphRegularizedRegressor : pull chosen pairs of tasks together.
    skmtl.multitask.PooledTasks, skmtl.multitask.IndependentTasks : the two limits.

    Notes
    -----
{_QUAD_NOTES}

{_MEAN_REFERENCES}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import MeanRegularizedRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(50, 3)
    >>> Y = X @ (np.array([[1.0], [2.0], [0.0]]) + 0.1 * rng.randn(3, 4))
    >>> model = MeanRegularizedRegressor(alpha=0.1, mixing=1.0).fit(X, Y)
    >>> model.coef_.shape
    (4, 3)
    """


class MeanRegularizedClassifier(_MeanRegularizedMixin, _LinearMultiTaskClassifier):
    def __init__(
        self,
        alpha=0.01,
        *,
        mixing=0.5,
        fit_intercept=True,
        task_weights=None,
        task_column=None,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        unseen_task="error",
    ):
        self.alpha = alpha
        self.mixing = mixing
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.unseen_task = unseen_task


_POPULATION_CLASSES = """ The
        classes of an unseen task are unknown: "population" predicts one
        only when every task has the same two classes."""

MeanRegularizedClassifier.__doc__ = f"""Multi-task logistic regression regularized towards the tasks' mean.

{_MEAN_OBJECTIVE.format(row="binary column", rows="columns", loss=_LOGISTIC_LOSS)}

    Each task's labels are encoded per task: a binary task is one column
    ``k`` with targets -1/+1 (its second class is +1); a task with ``K > 2``
    classes is expanded one-vs-rest into ``K`` columns with the task's
    weight each, and the mean is taken over all columns. ``n_k`` is the
    number of labeled rows of column ``k``.

    Read more in the :ref:`User Guide <linear_model>`.

    Parameters
    ----------
{_MIXING_PARAMETERS.format(alpha="0.01", common=_COMMON, classifier_note=_POPULATION_CLASSES)}

    Attributes
    ----------
{_ATTRIBUTES.format(rows="n_columns", row="binary column")}

{_CLASSIFIER_ATTRIBUTES}

    See Also
    --------
    MeanRegularizedRegressor : the squared-loss version.

    Notes
    -----
{_QUAD_NOTES}

{_MEAN_REFERENCES}
    """


class _GraphRegularizedMixin(_TaskQuadraticMixin):
    """``M = L + ridge * I`` from a task graph (or a given Laplacian) over the penalty's columns."""

    _parameter_constraints = {
        **_BASE_CONSTRAINTS,
        "task_graph": ["array-like", "sparse matrix", None],
        "laplacian": ["array-like", None],
        "ridge": [Interval(numbers.Real, 0, None, closed="left")],
    }

    def _check_params(self):
        if self.task_graph is not None and self.laplacian is not None:
            raise ValueError("Give either task_graph (an adjacency matrix) or laplacian, not both.")

    def _column_coupling(self):
        """``(column_task, same_class)`` when a multiclass task was expanded, else None.

        Regressors and all-binary classifiers have one penalty column per
        task: the task graph applies as given. With one-vs-rest columns, two
        tasks' columns are linked only when they encode the same class (a
        binary task's column encodes its second class).
        """
        per_task = getattr(self, "_per_task_classes", None)
        if per_task is None or all(len(classes) == 2 for classes in per_task):
            return None
        labels = np.empty(len(self._column_task), dtype=object)
        labels[:] = [label for classes in per_task for label in (classes[1:] if len(classes) == 2 else classes)]
        same_class = np.asarray(labels[:, None] == labels[None, :], dtype=np.float64)
        return self._column_task, same_class

    @property
    def _scale_features(self):
        # One step per feature as for the mean penalty (School's raw
        # features: 8,206 -> 357 iterations); a sparse M keeps one step.
        return not (sp.issparse(self.task_graph) or sp.issparse(self.laplacian))

    def _task_matrix(self, n_columns):
        n_tasks = self.n_tasks_
        coupling = self._column_coupling()
        if self.laplacian is not None:
            L, eig = _check_laplacian(self.laplacian, n_tasks)
            if coupling is not None:
                L, eig = _expand_to_columns(L, *coupling), None
        else:
            if self.task_graph is None:
                # The complete graph with unit weights.
                A = np.ones((n_tasks, n_tasks)) - np.eye(n_tasks)
            else:
                A = _check_adjacency(self.task_graph, n_tasks)
            if coupling is not None:
                A = _expand_to_columns(A.toarray() if sp.issparse(A) else A, *coupling)
            L, eig = _laplacian_of(A), None
        self.laplacian_ = L
        if sp.issparse(L):
            return L + self.ridge * sp.identity(n_columns, format="csr"), None
        eigvals, eigvecs = np.linalg.eigh(L) if eig is None else eig
        return L + self.ridge * np.eye(n_columns), (eigvals + self.ridge, eigvecs)

    def _set_task_matrix(self, n_columns):
        # The default complete graph (one column per task) needs no matrix:
        # L = T I - 1 1', so L + ridge I = (T + ridge) (I - mixing / T 1 1')
        # with mixing = T / (T + ridge), the mean penalty, whose prox is in
        # closed form; an eigendecomposition of the T x T matrix took 2.6 GB
        # and minutes at 10,000 tasks.
        complete = self.task_graph is None and self.laplacian is None and self._column_coupling() is None
        self._complete_graph = n_columns if complete else None
        if complete:
            _forget_dense_attributes(self, "laplacian_")
        else:
            super()._set_task_matrix(n_columns)

    # Set in fit, except for the default complete graph: formed on first access.
    laplacian_ = _dense_task_attribute(
        "_complete_graph",
        lambda n_tasks: n_tasks * np.eye(n_tasks) - np.ones((n_tasks, n_tasks)),
        "The Laplacian ``L`` used in fit.",
    )

    def _make_penalty(self, alpha):
        T = self._complete_graph
        if T is not None:
            return MeanQuadratic(alpha * (T + self.ridge), T / (T + self.ridge), T)
        if sp.issparse(self._penalty_matrix):
            return SparseTaskQuadratic(alpha, self._penalty_matrix, positive_definite=self.ridge > 0)
        return TaskQuadratic(alpha, self._penalty_matrix, eig=self._penalty_eig)


class GraphRegularizedRegressor(_GraphRegularizedMixin, _LinearMultiTaskRegressor):
    def __init__(
        self,
        alpha=0.1,
        *,
        task_graph=None,
        laplacian=None,
        ridge=0.0,
        fit_intercept=True,
        task_weights=None,
        task_column=None,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
    ):
        self.alpha = alpha
        self.task_graph = task_graph
        self.laplacian = laplacian
        self.ridge = ridge
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start


_GRAPH_PARAMETERS = """\
    task_graph : {array-like, sparse matrix} of shape (n_tasks, n_tasks), default=None
        Symmetric non-negative adjacency matrix ``A`` of the tasks, rows and
        columns in the order of ``tasks_`` (sorted task labels in the long
        layout, the columns of ``y`` in the wide one); the diagonal is
        ignored. None (and no ``laplacian``): the complete graph with unit
        weights, every pair of tasks pulled together. A sparse graph stays
        sparse (``laplacian_`` too): its prox uses a sparse LU
        factorization instead of an eigendecomposition of a dense
        (n_tasks, n_tasks) matrix, the way to many tasks with few edges.

    laplacian : array-like of shape (n_tasks, n_tasks), default=None
        A symmetric positive semi-definite matrix used as ``L`` directly
        (instead of ``task_graph``; at most one of the two may be given)."""

_GRAPH_REFERENCES = """\
    References
    ----------
    Zhou, Chen & Ye, "MALSAR: Multi-tAsk Learning via StructurAl
    Regularization", Arizona State University, 2011 (SRMTL).
    Evgeniou, Micchelli & Pontil, "Learning multiple tasks with kernel
    methods", JMLR 2005 (graph regularization)."""

GraphRegularizedRegressor.__doc__ = f"""Multi-task linear regression with a task-graph penalty.

    Tasks joined by an edge of the task graph are pulled towards each other,
    with the edge's weight: MALSAR's SRMTL (``Least_SRMTL``) with a ridge term
    in place of its L1 term.

    Minimizes over the coefficients ``B`` (``coef_``, one row ``b_t`` per
    task) and the unpenalized intercepts ``c`` (``intercept_``)::

{_SQUARED_LOSS}
            + alpha / 2 * (sum_{{s < t}} A_st ||b_s - b_t||^2 + ridge * ||B||_F^2)

    where ``A`` is the task graph (adjacency). Equivalently the penalty is
    ``alpha / 2 * tr(B' (L + ridge * I) B)`` with ``L = diag(A 1) - A`` the
    graph Laplacian (``laplacian_``). MALSAR's ``rho1 * ||W R||_F^2`` with
    the edge matrix ``R`` is ``rho1 * tr(W' R R' W)``: ``laplacian = R R'``
    and ``alpha = 2 * rho1`` with its loss mapped by ``task_weights``.

{_DATA_NOTE}

    Read more in the :ref:`User Guide <linear_model>`.

    Parameters
    ----------
    alpha : float, default=0.1
        Regularization strength, >= 0.

{_GRAPH_PARAMETERS}

    ridge : float, default=0.0
        Weight of ``||B||_F^2`` relative to the graph term (``>= 0``). With
        0, the mean of the tasks' coefficients over each connected
        component is not penalized.

{_COMMON}

    Attributes
    ----------
{_ATTRIBUTES.format(rows="n_tasks", row="task")}

    laplacian_ : ndarray of shape (n_tasks, n_tasks)
        The Laplacian ``L`` used in fit. For the default complete graph,
        ``n_tasks * I - 1 1'``, solved through the closed-form mean penalty
        (as :class:`MeanRegularizedRegressor` with ``mixing = n_tasks /
        (n_tasks + ridge)``) and formed only on first access (``8
        n_tasks^2`` bytes).

    See Also
    --------
    MeanRegularizedRegressor : the complete graph, plus a ridge.
    GraphRegularizedClassifier : the logistic-loss version.

    Notes
    -----
{_QUAD_NOTES}

{_GRAPH_REFERENCES}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import GraphRegularizedRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(40, 3)
    >>> Y = X @ rng.randn(3, 3)
    >>> chain = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    >>> model = GraphRegularizedRegressor(alpha=0.1, task_graph=chain).fit(X, Y)
    >>> model.laplacian_.diagonal()
    array([1., 2., 1.])
    """


class GraphRegularizedClassifier(_GraphRegularizedMixin, _LinearMultiTaskClassifier):
    def __init__(
        self,
        alpha=0.01,
        *,
        task_graph=None,
        laplacian=None,
        ridge=0.1,
        fit_intercept=True,
        task_weights=None,
        task_column=None,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
    ):
        self.alpha = alpha
        self.task_graph = task_graph
        self.laplacian = laplacian
        self.ridge = ridge
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start


GraphRegularizedClassifier.__doc__ = f"""Multi-task logistic regression with a task-graph penalty.

    The logistic-loss counterpart of :class:`GraphRegularizedRegressor`
    (MALSAR's ``Logistic_SRMTL`` with a ridge term in place of its L1 term):
    tasks joined by an edge of the task graph are pulled towards each other.
    Minimizes over the coefficients ``B`` (``coef_``, one row ``b_k`` per
    binary column) and the unpenalized intercepts ``c`` (``intercept_``)::

{_LOGISTIC_LOSS}
            + alpha / 2 * (sum_{{k < l}} A_kl ||b_k - b_l||^2 + ridge * ||B||_F^2)

    i.e. ``alpha / 2 * tr(B' (L + ridge * I) B)`` with ``L = diag(A 1) - A``
    (``laplacian_``). When every task is binary, each task is one column
    ``k`` with targets -1/+1 (its second class is +1) and ``A`` is the task
    graph. A task with ``K > 2`` classes is expanded one-vs-rest into ``K``
    columns (with the task's weight each); the graph is then expanded to the
    columns: the column of class ``a`` of task ``s`` and the column of class
    ``a`` of task ``t`` are linked with weight ``A_st`` (a binary task's
    column encodes its second class), other pairs are not. A given
    ``laplacian`` is expanded the same way (entry ``L_st`` between the
    same-class columns of tasks ``s`` and ``t``, which keeps it PSD).
    ``n_k`` is the number of labeled rows of column ``k`` (with sample
    weights, ``1 / n_k`` becomes ``s_i / S_k``) and ``w_k`` its task's
    weight.

    **Mapping to MALSAR** (``Logistic_SRMTL(X, Y, R, rho1, 0)``, whose loss
    is the per-task mean logistic loss with default task weights):
    ``laplacian = R R'``, ``alpha = 2 * rho1``, ``ridge = 0``.

    The default ``ridge=0.1`` keeps the problem strongly convex: with
    ``ridge=0`` nothing penalizes the tasks' common coefficients, which
    diverge on linearly separable data.

    Read more in the :ref:`User Guide <task_structure>`.

    Parameters
    ----------
    alpha : float, default=0.01
        Regularization strength, >= 0 (the scale of the mean logistic loss,
        see :class:`MeanRegularizedClassifier`).

{_GRAPH_PARAMETERS}

    ridge : float, default=0.1
        Weight of ``||B||_F^2`` relative to the graph term (``>= 0``).

{_COMMON}

    Attributes
    ----------
{_ATTRIBUTES.format(rows="n_columns", row="binary column")}

{_CLASSIFIER_ATTRIBUTES}

    laplacian_ : ndarray of shape (n_columns, n_columns)
        The Laplacian ``L`` used in fit, over the binary columns.

    See Also
    --------
    GraphRegularizedRegressor : the squared-loss version.
    MeanRegularizedClassifier : pull every column towards the mean.

    Notes
    -----
{_QUAD_NOTES}

{_GRAPH_REFERENCES}

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import GraphRegularizedClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(80, 3)
    >>> Y = (X @ rng.randn(3, 3) > 0).astype(int)
    >>> chain = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    >>> model = GraphRegularizedClassifier(alpha=0.1, task_graph=chain).fit(X, Y)
    >>> model.coef_.shape, model.laplacian_.diagonal()
    ((3, 3), array([1., 2., 1.]))
    """


# --------------------------------------------------------------------- MTRL
def _task_covariance(W):
    """``(W'W)^{1/2} / tr((W'W)^{1/2})``, the MTRL task covariance of ``W``, as a :class:`_TaskSpectrum`.

    It attains ``min_{Omega PSD, tr(Omega) = 1} tr(W Omega^+ W') = ||W||_*^2``
    (Zhang & Yeung 2010); ``I / T`` for ``W = 0``. From the thin SVD
    ``W = U diag(sigma) V'``, ``(W'W)^{1/2} = V diag(sigma) V'``: ``O(d^2 T)``
    for ``d < T`` features instead of an eigendecomposition of the
    (T, T) matrix ``W'W``, and no (T, T) matrix until ``dense()``.
    """
    W = np.asarray(W, dtype=np.float64)
    T = W.shape[1]
    _, sigma, Vt = np.linalg.svd(W, full_matrices=False)
    total = sigma.sum()
    if total <= 0:
        return _TaskSpectrum(np.zeros((T, 0)), np.zeros(0), 1.0 / T)
    return _TaskSpectrum(Vt.T, sigma / total, 0.0)


def _task_correlation(covariance):
    """A :class:`_TaskSpectrum` task covariance normalized to unit diagonal, dense.

    A task with zero variance (zero coefficients) has no correlation with
    the others.
    """
    omega = covariance.dense()
    d = np.sqrt(np.diag(omega))
    with np.errstate(divide="ignore"):
        inverse = np.where(d > 0, 1.0 / d, 0.0)
    # In place: no second (n_tasks, n_tasks) matrix.
    omega *= inverse[:, None]
    omega *= inverse
    np.fill_diagonal(omega, 1.0)
    return omega


class _TaskRelationMixin(_TaskQuadraticMixin):
    _parameter_constraints = {
        **_BASE_CONSTRAINTS,
        "ridge": [Interval(numbers.Real, 0, None, closed="left")],
    }

    def _set_task_matrix(self, n_columns):
        pass

    def _make_penalty(self, alpha):
        return SquaredTraceNorm(alpha, self.ridge)

    def _penalty_for_alpha_max(self):
        return SquaredTraceNorm(1.0, self.ridge)

    def _fit(self, X, y, sample_weight):
        super()._fit(X, y, sample_weight)
        self._task_covariance = _task_covariance(self.coef_.T)
        _forget_dense_attributes(self, "task_covariance_", "task_correlation_")
        return self

    task_covariance_ = _dense_task_attribute(
        "_task_covariance", _TaskSpectrum.dense, "The learned task covariance ``Omega`` (see the class docstring)."
    )
    task_correlation_ = _dense_task_attribute(
        "_task_covariance", _task_correlation, "``task_covariance_`` normalized to unit diagonal."
    )


_LAZY_COVARIANCE = """Fit keeps it factored (rank at most
        ``min(n_features, n_tasks)``, from the thin SVD of ``coef_``) and
        forms no (n_tasks, n_tasks) matrix; the matrix is formed on first
        access and then kept (``8 n_tasks^2`` bytes, 800 MB at 10,000
        tasks). Without it: with the thin SVD ``coef_ = V diag(sigma) U'``,
        ``Omega = V diag(sigma) V' / sum(sigma)`` (``I / n_tasks`` when
        ``coef_ = 0``), so ``Omega[s, t] = (V[s] * sigma) @ V[t] / sum(sigma)``."""


class TaskRelationRegressor(_TaskRelationMixin, _LinearMultiTaskRegressor):
    def __init__(
        self,
        alpha=1.0,
        *,
        ridge=0.1,
        fit_intercept=True,
        task_weights=None,
        task_column=None,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
    ):
        self.alpha = alpha
        self.ridge = ridge
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start


TaskRelationRegressor.__doc__ = f"""Multi-task linear regression learning the task covariance (MTRL).

    Minimizes jointly over the coefficients ``B`` (``coef_``, one row
    ``b_t`` per task), the unpenalized intercepts ``c`` and the task
    covariance ``Omega`` (``task_covariance_``, PSD, ``tr(Omega) = 1``)::

{_SQUARED_LOSS}
            + alpha / 2 * (tr(B' Omega^{{-1}} B) + ridge * ||B||_F^2)

    (Zhang & Yeung 2010, with ``lambda_2 = alpha`` and
    ``lambda_1 = alpha * ridge``; ``Omega^{{-1}}`` is the pseudo-inverse with
    the rows of ``B`` in the range of ``Omega``). The minimum over
    ``Omega`` is in closed form, ``Omega = (B B')^{{1/2}} / tr((B B')^{{1/2}})``,
    with value ``||B||_*^2`` (the squared nuclear norm), so the problem is
    solved exactly as the convex problem in ``B`` alone::

{_SQUARED_LOSS}
            + alpha / 2 * (||B||_*^2 + ridge * ||B||_F^2)

    by FISTA (whose prox shrinks the singular values of ``B`` by a common
    amount), then ``task_covariance_`` is computed from ``coef_``. This
    avoids the slow alternating minimization (and the regularization of a
    singular ``Omega``) of the original paper.

{_DATA_NOTE}

    Parameters
    ----------
    alpha : float, default=1.0
        Regularization strength, >= 0.

    ridge : float, default=0.1
        Weight of ``||B||_F^2`` relative to the task-relation term.

{_COMMON}

    Attributes
    ----------
{_ATTRIBUTES.format(rows="n_tasks", row="task")}

    task_covariance_ : ndarray of shape (n_tasks, n_tasks)
        The learned ``Omega`` (trace 1), rows and columns in the order of
        ``tasks_``. {_LAZY_COVARIANCE}

    task_correlation_ : ndarray of shape (n_tasks, n_tasks)
        ``Omega`` normalized to unit diagonal: the learned task
        correlations (negative for tasks that transfer negatively). Formed
        on first access, as ``task_covariance_``.

    References
    ----------
    Zhang & Yeung, "A convex formulation for learning task relationships in
    multi-task learning", UAI 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.linear_model import TaskRelationRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(100, 4)
    >>> b = rng.randn(4)
    >>> Y = X @ np.column_stack([b, -b, rng.randn(4)]) + 0.1 * rng.randn(100, 3)
    >>> model = TaskRelationRegressor(alpha=0.01).fit(X, Y)
    >>> bool(model.task_correlation_[0, 1] < -0.5)
    True
    """


class TaskRelationClassifier(_TaskRelationMixin, _LinearMultiTaskClassifier):
    def __init__(
        self,
        alpha=0.01,
        *,
        ridge=0.1,
        fit_intercept=True,
        task_weights=None,
        task_column=None,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
    ):
        self.alpha = alpha
        self.ridge = ridge
        self.fit_intercept = fit_intercept
        self.task_weights = task_weights
        self.task_column = task_column
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start


TaskRelationClassifier.__doc__ = f"""Multi-task logistic regression learning the task covariance (MTRL).

    Minimizes over ``B`` (``coef_``, one row ``b_k`` per binary column),
    the intercepts ``c`` and ``Omega`` (PSD, ``tr(Omega) = 1``)::

{_LOGISTIC_LOSS}
            + alpha / 2 * (tr(B' Omega^{{-1}} B) + ridge * ||B||_F^2)

    solved, as :class:`TaskRelationRegressor`, as the convex problem with
    ``alpha / 2 * (||B||_*^2 + ridge * ||B||_F^2)`` and
    ``Omega = (B B')^{{1/2}} / tr((B B')^{{1/2}})``. A task with ``K > 2``
    classes is expanded one-vs-rest into ``K`` columns (task weight each);
    ``Omega`` is then over the columns.

    Parameters
    ----------
    alpha : float, default=0.01
        Regularization strength, >= 0.

    ridge : float, default=0.1
        Weight of ``||B||_F^2`` relative to the task-relation term.

{_COMMON}

    Attributes
    ----------
{_ATTRIBUTES.format(rows="n_columns", row="binary column")}

{_CLASSIFIER_ATTRIBUTES}

    task_covariance_ : ndarray of shape (n_columns, n_columns)
        The learned ``Omega`` (trace 1). {_LAZY_COVARIANCE}

    task_correlation_ : ndarray of shape (n_columns, n_columns)
        ``Omega`` normalized to unit diagonal. Formed on first access, as
        ``task_covariance_``.

    References
    ----------
    Zhang & Yeung, "A convex formulation for learning task relationships in
    multi-task learning", UAI 2010.
    """
