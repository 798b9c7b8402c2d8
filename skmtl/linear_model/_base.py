"""Shared fit / predict flow of the regularized linear multi-task estimators.

An estimator is *loss x penalty x solver* (DESIGN.md section 4): this module
validates the data once (:meth:`MultiTaskMixin._validate_fit`), builds the
loss (:class:`~._losses.SquaredLoss` or :class:`~._losses.LogisticLoss`),
asks the concrete estimator for its penalty (``_make_penalty``), runs
:func:`~._solvers.solve` and publishes ``coef_ = W.T``. The concrete
estimators (``_group_lasso.py``, ``_trace_norm.py``, ``_lasso.py``) only
declare their penalty and their docstrings.

Classifiers encode each task's labels into -1/+1 columns: a binary task is
one column, a task with ``K > 2`` classes is expanded one-vs-rest into ``K``
columns. The loss and the penalty then see one *column* per binary problem:
the rows of ``coef_`` are these columns, and ``coef_indptr_`` says which rows
belong to which task.
"""

import dataclasses
import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from .._data import TaskData
from ..base import MultiTaskMixin, check_population_classes
from ..utils._task_weights import TASK_WEIGHT_OPTIONS, resolve_task_weights
from ._losses import LogisticLoss, SquaredLoss
from ._penalties import scale_rows
from ._solvers import solve
from ._task_admm import MAX_FEATURES as _ADMM_MAX_FEATURES
from ._task_admm import admm_start

__all__ = []


def warn_not_converged(name, result, max_iter, tol, loss=None):
    """The :class:`~sklearn.exceptions.ConvergenceWarning` of a solve that hit ``max_iter``.

    It names the certificate the solve was judged on: the duality gap
    against ``tol * loss.gap_scale()`` when there is one, else the
    scale-free criterion against ``tol``.
    """
    if loss is not None and np.isfinite(result.dual_gap):
        reached = (
            f"the duality gap reached {result.dual_gap:.3e}, above tol * scale = "
            f"{tol * loss.gap_scale():.3e},"
        )
    else:
        reached = f"the stopping criterion reached {result.stop_crit:.3e}, above tol={tol:g},"
    warnings.warn(
        f"{name} did not converge: {reached} after max_iter={max_iter} iterations. "
        "Increase max_iter, increase alpha, or scale the features (e.g. StandardScaler).",
        ConvergenceWarning,
    )


def null_gradient(loss):
    """Gradient of ``loss`` in the coefficients at ``W = 0``, intercepts optimal.

    The intercepts are those of the intercept-only model, so ``W = 0`` is
    optimal for a penalty exactly when minus this gradient lies in its
    subdifferential at 0: the gradient every ``alpha_max`` is computed from.
    It is returned in the original features' units (``scale=True`` losses
    work on ``X / s``).
    """
    zero = np.zeros((loss.n_features, loss.n_tasks), dtype=loss.dtype)
    _, grad0, _ = loss.value_and_gradient(zero, loss.null_intercept())
    return grad0 if loss.x_scale is None else grad0 * loss.x_scale[:, None]


def _rowwise_dot(X, coef, rows_coef):
    """``out[i] = X[i] @ coef[rows_coef[i]]`` without forming ``X @ coef.T``.

    Long-layout prediction: each row only needs its own task's model, so
    the cost is that of one pass over ``X`` (``nnz`` for a CSR ``X``), not
    ``n_tasks`` times that.
    """
    if sp.issparse(X):
        X = X.tocsr()
        row_of = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        values = X.data * coef[rows_coef[row_of], X.indices]
        return np.bincount(row_of, weights=values, minlength=X.shape[0])
    return np.einsum("ij,ij->i", X, coef[rows_coef])


def _task_means(data):
    """Each task's sample-weighted feature means, shape (n_tasks, n_features) (long layout, dense ``X``).

    A column constant within a task gets that constant exactly (not a
    rounded mean), so that the centered column is exactly 0 there.
    """
    X, codes = data.X, data.task_codes
    n_tasks = data.n_tasks
    weights = np.ones(len(codes)) if data.sample_weight is None else data.sample_weight
    indicator = sp.csr_matrix((weights, (codes, np.arange(len(codes)))), shape=(n_tasks, len(codes)))
    totals = np.asarray(indicator.sum(axis=1)).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        means = np.where(totals[:, None] > 0, (indicator @ X) / totals[:, None], 0.0)
    rows = X[data.order]
    starts = data.task_indptr[:-1]
    present = np.diff(data.task_indptr) > 0
    low = np.minimum.reduceat(rows, starts[present], axis=0)
    high = np.maximum.reduceat(rows, starts[present], axis=0)
    means[present] = np.where(low == high, low, np.clip(means[present], low, high))
    return means.astype(X.dtype, copy=False)


# The tasks' quadratic forms of an ADMM start (_task_admm) hold T d^2
# floats: at most 8e6 (64 MB).
_ADMM_MAX_ENTRIES = 8_000_000


def _admm_pays(loss, penalty):
    """Whether a cold fit starts from ADMM on the tasks' quadratic forms (:mod:`._task_admm`).

    For a squared loss with few features, where FISTA's steps are set by
    the largest curvature; ADMM stops on the duality gap, so the penalty
    needs a conjugate.
    """
    d = loss.n_features
    return (
        loss.is_quadratic
        and d <= _ADMM_MAX_FEATURES
        and loss.n_tasks * d * d <= _ADMM_MAX_ENTRIES
        and getattr(penalty, "has_dual", False)  # as SquaredLoss.dual_gap
    )


class _LinearMultiTaskModel(BaseEstimator):
    """Fit flow of every penalized linear multi-task model.

    Concrete estimators inherit ``MultiTaskMixin`` first, then
    ``RegressorMixin``/``ClassifierMixin``, then this class (scikit-learn's
    mixin order: the multi-task ``score`` and tags win), and implement
    ``_make_penalty(alpha)``.
    """

    _parameter_constraints = {
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "l1_ratio": [Interval(numbers.Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "task_weights": [StrOptions(set(TASK_WEIGHT_OPTIONS)), "array-like", None],
        "task_column": [numbers.Integral, str, None],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "solver": [StrOptions({"auto", "fista", "working_set"})],
    }

    # Whether the penalty is a sum over features (rows of W): the solvers
    # then work on features scaled to unit root mean square
    # (SquaredLoss(scale=True), _penalties.scale_rows).
    _scale_features = False

    # ------------------------------------------------------------ hooks
    def _make_penalty(self, alpha):  # pragma: no cover - abstract
        raise NotImplementedError

    def _encode_targets(self, data):
        """Return ``(data, task_weights)`` as the loss must see them."""
        # Regressors: one loss column per task.
        self._column_task = np.arange(data.n_tasks)
        return data, self.task_weights

    # ------------------------------------------------------------ fit
    def _make_loss(self, X, y, sample_weight):
        """Validate the data, encode the targets and build the loss."""
        data = self._validate_fit(X, y, sample_weight)
        data, task_weights = self._encode_targets(data)
        data = self._center_within_tasks(data)
        loss_class = LogisticLoss if self._loss_name == "logistic" else SquaredLoss
        # Centered features (sklearn's _preprocess_data): the solvers see
        # intercepts c = b + m' W, converted at the estimator's boundary.
        # Penalties that are sums over features are also solved on scaled
        # features (one step per feature), converted the same way.
        return loss_class(
            data, task_weights=task_weights, fit_intercept=self.fit_intercept, center=True,
            scale=self._scale_features,
        )

    def _center_within_tasks(self, data):
        """The loss's data with the features centered within each task (long layout, dense ``X``).

        A feature constant within each task (a school's denomination in
        School, a site's altitude) is collinear with the unpenalized
        intercepts: the loss is flat when its coefficient in task ``t``
        moves by ``e`` and the intercept by ``-e x_tj``, and with globally
        centered features the coefficients meet the intercepts through a
        large curvature, which sets FISTA's step. Centered within each task
        by its means ``m_t`` (``_task_offsets``), those columns are exactly
        0 and the intercepts decouple from ``B``: the same model, with
        intercepts ``intercept_t + m_t' b_t`` (:meth:`_offset_intercept`),
        in a better geometry. School's raw features, the default group
        lasso: 1,591 iterations -> 521 (and 883 -> 205 for the dirty model).
        """
        self._task_offsets = None
        if self.fit_intercept and data.layout == "long" and not sp.issparse(data.X):
            self._task_offsets = _task_means(data)
            data = dataclasses.replace(data, X=data.X - self._task_offsets[data.task_codes])
        return data

    def _offset_intercept(self, coef, intercept, sign):
        """The intercepts for the features centered per task (``sign=1``) or back (``-1``).

        ``coef`` is the model's (n_columns, n_features) ``coef_``.
        """
        if self._task_offsets is None:
            return intercept
        return intercept + sign * np.einsum("tj,tj->t", self._task_offsets, coef).astype(intercept.dtype)

    def _warm_start_point(self, loss):
        """``(W0, b0)`` from the previous fit, as scikit-learn's ``warm_start``."""
        if not self.warm_start or not hasattr(self, "coef_"):
            return None, None
        if self.coef_.shape != (loss.n_tasks, loss.n_features):
            # Different tasks or features than the last fit: start cold.
            return None, None
        W0 = loss.to_loss_coef(self.coef_.T) if self._scale_features else self.coef_.T
        if not self.fit_intercept:
            return W0, None
        return W0, loss.to_centered_intercept(W0, self._offset_intercept(self.coef_, self.intercept_, 1))

    def _solve(self, loss, alpha, W0=None, b0=None, warm_start=None):
        """Solve for one ``alpha`` and set the fitted attributes.

        ``W0``, ``b0`` and the returned result are in the loss's units (see
        ``SquaredLoss.to_loss_coef`` and ``to_centered_intercept``);
        ``coef_`` and ``intercept_`` are the model's. ``warm_start`` is what
        the previous solve on ``loss`` left (``result.warm_start``, a path).
        """
        penalty = self._make_penalty(alpha)
        if self._scale_features:
            penalty = scale_rows(penalty, loss.x_scale)
        n_start = 0
        base, n_blocks = self._admm_structure(loss)
        if warm_start is None and _admm_pays(base, penalty):
            # Cold fits, and warm starts without a path's memory (warm_start=True,
            # the two-part CVs' grids). Both count in max_iter; FISTA keeps
            # at least one iteration to certify.
            W0, b0, n_start = admm_start(
                loss, penalty, W0, self.max_iter - 1, self.tol, base=base, n_blocks=n_blocks
            )
        result = solve(
            loss, penalty, W0, b0, solver=self.solver, max_iter=self.max_iter - n_start, tol=self.tol,
            warm_start=warm_start,
        )
        result = dataclasses.replace(result, n_iter=result.n_iter + n_start)
        W = loss.from_loss_coef(result.coef) if self._scale_features else result.coef
        # coef_ is (n_tasks, n_features) as in scikit-learn; the solvers work
        # on its transpose W (rows = features = the L21 groups).
        self.coef_ = np.ascontiguousarray(W.T)
        intercept = loss.from_centered_intercept(result.coef, result.intercept)
        # The model's coefficients: the sum of the stacked blocks (two-part models).
        model_coef = self.coef_.reshape(len(self.coef_), n_blocks, -1).sum(axis=1)
        self.intercept_ = self._offset_intercept(model_coef, np.asarray(intercept, dtype=self.coef_.dtype), -1)
        self.n_iter_ = int(result.n_iter)
        self.stop_crit_ = float(result.stop_crit)
        self.dual_gap_ = float(result.dual_gap)
        self.objective_ = float(result.objective)
        return result

    def _admm_structure(self, loss):
        """``(base, k)``: ``loss(W)`` is ``base`` at the sum of ``W``'s ``k`` row blocks (hook).

        What an ADMM start (:func:`._task_admm.admm_start`) needs to know.
        """
        return loss, 1

    def _check_params(self):
        """Checks across parameters, before any data work (hook)."""

    def _fit(self, X, y, sample_weight):
        self._check_params()
        loss = self._make_loss(X, y, sample_weight)
        W0, b0 = self._warm_start_point(loss)
        result = self._solve(loss, self.alpha, W0, b0)
        if not result.converged:
            warn_not_converged(type(self).__name__, result, self.max_iter, self.tol, loss)
        return self

    def _alpha_max_of_loss(self, loss):
        """Smallest ``alpha`` for which ``coef_ = 0`` (exact; see :func:`alpha_max`)."""
        return float(self._penalty_for_alpha_max().alpha_max(null_gradient(loss)))

    def _penalty_for_alpha_max(self):
        """The penalty whose ``alpha_max`` is reported (alpha = 1: a pure scale)."""
        return self._make_penalty(1.0)

    # ------------------------------------------------------------ predict
    def _population_model(self):
        """``(coef, intercept)`` of a task never seen in fit (hook).

        Shapes (n_columns, n_features) and (n_columns,), the columns of one
        task (1 for a regressor or a binary classifier). A model opts in to
        ``unseen_task="population"`` by having that parameter and this
        method; it is called only when a row's task is unseen.
        """
        raise NotImplementedError

    def _linear_scores(self, X):
        """Raw scores: ``(n, n_columns)`` when wide, else ``(padded, codes)``.

        Wide layout: ``X @ coef_.T + intercept_``. Long layout: each row's
        scores on its own task's columns only, padded with NaN to the
        largest number of columns of a task (1 for regressors). With
        ``unseen_task="population"`` a row of a task never seen in fit has
        code -1 and is scored by :meth:`_population_model`.
        """
        features, codes = self._validate_predict(
            X, allow_unseen=getattr(self, "unseen_task", "error") == "population"
        )
        if codes is None:
            scores = features @ self.coef_.T
            return np.asarray(scores) + self.intercept_, None
        coef, intercept = self.coef_, self.intercept_
        indptr = getattr(self, "coef_indptr_", None)
        model = codes
        unseen = codes < 0
        if unseen.any():
            # The population model is scored as one more task after the
            # fitted ones.
            population_coef, population_intercept = self._population_model()
            coef = np.vstack([coef, population_coef])
            intercept = np.concatenate([intercept, population_intercept])
            if indptr is not None:
                indptr = np.append(indptr, indptr[-1] + len(population_intercept))
            model = np.where(unseen, self.n_tasks_, codes)
        if indptr is None:
            return (_rowwise_dot(features, coef, model) + intercept[model])[:, None], codes
        n_columns = np.diff(indptr)
        padded = np.full((features.shape[0], int(n_columns.max())), np.nan)
        for k in range(padded.shape[1]):
            rows = np.flatnonzero(n_columns[model] > k)
            columns = indptr[model[rows]] + k
            padded[rows, k] = _rowwise_dot(features[rows], coef, columns) + intercept[columns]
        return padded, codes


class _LinearMultiTaskRegressor(MultiTaskMixin, RegressorMixin, _LinearMultiTaskModel):
    """Squared loss: ``sum_t w_t / (2 n_t) ||y_t - X_t b_t - c_t||^2``."""

    _loss_name = "squared"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model (see the class docstring for the objective).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
            Features; in the long layout also the task column.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Wide layout: one column per task, NaN for a missing label.
            Long layout: 1-D.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows, normalized within each task.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    def predict(self, X):
        """Predict with each task's linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_tasks) or (n_samples,)
            Wide layout: one column per task (1-D for a model fitted on a 1-D
            ``y``). Long layout: each row predicted by its own task.
        """
        scores, codes = self._linear_scores(X)
        if codes is not None:
            return scores[:, 0]
        return self._format_output(scores, None)


def _encode_task(labels):
    """Classes of one task and its -1/+1 target columns (one-vs-rest if K > 2)."""
    classes = np.unique(labels)
    if len(classes) == 2:
        return classes, np.where(labels == classes[1], 1.0, -1.0)[:, None]
    return classes, np.where(labels[:, None] == classes[None, :], 1.0, -1.0)


def _proba_from_scores(scores, n_classes):
    """Probabilities of one task from its column scores.

    Binary task (one column): ``p = sigmoid(score)`` of the second class.
    One-vs-rest columns: the per-class sigmoids, normalized to sum to one
    (scikit-learn's ``LogisticRegression(multi_class="ovr")`` rule).
    """
    if n_classes == 2:
        p = expit(scores[:, 0])
        return np.column_stack([1.0 - p, p])
    p = expit(scores)
    total = p.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, p / total, 1.0 / n_classes)


class _LinearMultiTaskClassifier(MultiTaskMixin, ClassifierMixin, _LinearMultiTaskModel):
    """Logistic loss over per-task -1/+1 columns (one-vs-rest for K > 2)."""

    _loss_name = "logistic"

    def _encode_targets(self, data):
        """Per-task label encoding into -1/+1 columns; sets ``classes_``.

        Wide layout: column ``t`` of ``y`` gives the columns
        ``coef_indptr_[t]:coef_indptr_[t + 1]``; a missing label masks all of
        them. Long layout: a row of a multiclass task is repeated once per
        column of its task (the design grows by that factor for such tasks).
        """
        n_tasks = data.n_tasks
        per_task_classes, blocks = [], []
        for t in range(n_tasks):
            classes, block = _encode_task(data.task_targets(t))
            per_task_classes.append(classes)
            blocks.append(block)
        widths = np.array([b.shape[1] for b in blocks])
        indptr = np.concatenate([[0], np.cumsum(widths)])
        self.coef_indptr_ = indptr
        self._column_task = np.repeat(np.arange(n_tasks), widths)
        self._per_task_classes = per_task_classes
        if data.single_output:
            self.classes_ = per_task_classes[0]
        elif self.task_column is None:
            self.classes_ = list(per_task_classes)
        else:
            self.classes_ = np.unique(np.concatenate(per_task_classes))
            self._class_position = np.full((n_tasks, max(len(c) for c in per_task_classes)), -1)
            for t, classes in enumerate(per_task_classes):
                self._class_position[t, : len(classes)] = np.searchsorted(self.classes_, classes)

        n_columns = int(indptr[-1])
        if data.layout == "wide":
            n = data.n_samples
            Y = np.full((n, n_columns), np.nan)
            for t, block in enumerate(blocks):
                Y[data.task_rows(t), indptr[t] : indptr[t + 1]] = block
            mask = np.repeat(data.mask, widths, axis=1)
            column_of, rows = np.nonzero(mask.T)
            new = TaskData(
                X=data.X,
                y=Y,
                mask=mask,
                task_codes=None,
                tasks=np.arange(n_columns),
                sample_weight=data.sample_weight,
                single_output=data.single_output,
                order=rows,
                task_indptr=np.searchsorted(column_of, np.arange(n_columns + 1)),
            )
        else:
            # Stack the blocks task by task: rows of task t repeated once per
            # column of t (binary tasks: once).
            rows = np.concatenate([np.repeat(data.task_rows(t), widths[t]) for t in range(n_tasks)])
            codes = np.concatenate(
                [np.tile(np.arange(indptr[t], indptr[t + 1]), len(blocks[t])) for t in range(n_tasks)]
            )
            y = np.concatenate([block.ravel() for block in blocks])
            order = np.argsort(codes, kind="stable")
            sw = data.sample_weight
            new = TaskData(
                X=data.X[rows],
                y=y,
                mask=None,
                task_codes=codes,
                tasks=np.arange(n_columns),
                sample_weight=None if sw is None else sw[rows],
                single_output=False,
                order=order,
                task_indptr=np.searchsorted(codes[order], np.arange(n_columns + 1)),
            )
        task_weights = self.task_weights
        if task_weights is not None and not isinstance(task_weights, str):
            # Every one-vs-rest column of a task carries the task's weight.
            weights = resolve_task_weights(task_weights, data.n_samples_per_task, per_task_mean=True)
            task_weights = np.repeat(weights, widths)
        return new, task_weights

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model (see the class docstring for the objective).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
            Features; in the long layout also the task column.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Class labels. Wide layout: one column per task, NaN/None for a
            missing label. Long layout: 1-D. Every task needs two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows, normalized within each task.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    def _linear_scores(self, X):
        """As the regressors'; a row of an unseen task takes the classes of task 0.

        The population model is binary over the classes every task shares
        (checked), so the per-task class tables of task 0 apply to it.
        """
        scores, codes = super()._linear_scores(X)
        if codes is not None and np.any(codes < 0):
            check_population_classes(self._per_task_classes)
            codes = np.where(codes < 0, 0, codes)
        return scores, codes

    def _task_probas(self, X):
        """Wide: list of per-task probability arrays; long: ``(proba, codes)``."""
        scores, codes = self._linear_scores(X)
        indptr = self.coef_indptr_
        n_classes = [len(c) for c in self._per_task_classes]
        if codes is None:
            return [
                _proba_from_scores(scores[:, indptr[t] : indptr[t + 1]], n_classes[t])
                for t in range(len(n_classes))
            ], None
        n_classes = np.asarray(n_classes)
        proba = np.zeros((len(codes), len(self.classes_)))
        row_classes = n_classes[codes]
        for k in np.unique(row_classes):
            rows = np.flatnonzero(row_classes == k)
            width = 1 if k == 2 else k
            p = _proba_from_scores(scores[rows, :width], k)
            proba[rows[:, None], self._class_position[codes[rows], :k]] = p
        return proba, codes

    def predict_proba(self, X):
        """Class probabilities of each task.

        A binary task's probability is the sigmoid of its score; a
        multiclass task's one-vs-rest sigmoids are normalized to sum to one.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)

        Returns
        -------
        proba : ndarray or list of ndarray
            Wide layout: a list with one (n_samples, n_classes_t) array per
            task (one array for a 1-D ``y``). Long layout: (n_samples,
            ``len(classes_)``), zero for classes the row's task does not have.
        """
        probas, codes = self._task_probas(X)
        if codes is None and self._single_output:
            return probas[0]
        return probas

    def predict(self, X):
        """Predict each task's class label.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_tasks) or (n_samples,)
            Original labels; wide layout one column per task (1-D for a 1-D
            ``y``), long layout each row's own task.
        """
        probas, codes = self._task_probas(X)
        if codes is not None:
            return self.classes_[np.argmax(probas, axis=1)]
        labels = [classes[np.argmax(p, axis=1)] for classes, p in zip(self._per_task_classes, probas)]
        if self._single_output:
            return labels[0]
        return np.column_stack(labels) if len({lab.dtype.kind for lab in labels}) == 1 else np.array(
            labels, dtype=object
        ).T

    def decision_function(self, X):
        """Linear scores ``x' b + c`` of every task's columns.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)

        Returns
        -------
        scores : ndarray or list of ndarray
            Wide layout: per task, (n_samples,) for a binary task (score of
            its second class) or (n_samples, n_classes_t) for a multiclass
            one; a list of them (one array for a 1-D ``y``). Long layout:
            (n_samples,) when every task is binary, else (n_samples,
            ``len(classes_)``) with ``-inf`` for classes the row's task lacks
            (a binary task scores ``-s`` and ``s`` for its two classes).
        """
        scores, codes = self._linear_scores(X)
        indptr = self.coef_indptr_
        if codes is None:
            per_task = [
                scores[:, indptr[t]] if indptr[t + 1] - indptr[t] == 1 else scores[:, indptr[t] : indptr[t + 1]]
                for t in range(len(indptr) - 1)
            ]
            return per_task[0] if self._single_output else per_task
        widths = np.diff(indptr)
        if np.all(widths == 1):
            return scores[:, 0]
        out = np.full((len(codes), len(self.classes_)), -np.inf)
        row_width = widths[codes]
        for w in np.unique(row_width):
            rows = np.flatnonzero(row_width == w)
            block = np.column_stack([-scores[rows, 0], scores[rows, 0]]) if w == 1 else scores[rows, :w]
            k = block.shape[1]
            out[rows[:, None], self._class_position[codes[rows], :k]] = block
        return out


# Docstring fragments shared by the concrete estimators (numpydoc).
_OBJECTIVE_REGRESSION = """\
    Minimizes over the coefficients ``B`` (``coef_``, one row per task) and
    the unpenalized intercepts ``c`` (``intercept_``)::

        sum_t w_t / (2 n_t) * ||y_t - X_t b_t - c_t||^2
            + alpha * (l1_ratio * {omega} + (1 - l1_ratio) / 2 * ||B||_F^2)

    where task ``t`` has ``n_t`` labeled rows ``X_t, y_t`` (with sample
    weights, ``1 / n_t`` becomes ``s_i / S_t``, ``S_t`` the task's total
    weight), ``w_t`` is its task
    weight and ``b_t`` its row of ``B``. With the wide layout, no missing
    label and ``task_weights=None`` the data term is scikit-learn's
    ``||Y - X B' - 1 c'||_F^2 / (2 n)``."""

_OBJECTIVE_CLASSIFICATION = """\
    Minimizes over the coefficients ``B`` (``coef_``, one row per binary
    column, see below) and the unpenalized intercepts ``c``::

        sum_k w_k / n_k * sum_{{i in k}} log(1 + exp(-y_ik (x_i' b_k + c_k)))
            + alpha * (l1_ratio * {omega} + (1 - l1_ratio) / 2 * ||B||_F^2)

    Each task's labels are encoded per task: a binary task is one column
    ``k`` with targets -1/+1 (its second class is +1); a task with ``K > 2``
    classes is expanded one-vs-rest into ``K`` columns with the task's
    weight each. ``coef_`` has one row per column, and
    ``coef_[coef_indptr_[t]:coef_indptr_[t + 1]]`` are task ``t``'s rows.
    The penalty sees all the columns as tasks: {expansion}

    The default ``alpha=0.01`` (1.0 for the regressors) follows the scale
    of the mean logistic loss, whose gradient at 0 is at most 1/2 per
    standardized feature: ``alpha=1`` would give the constant model."""

_COMMON_PARAMETERS = """\
    l1_ratio : float in [0, 1], default=1.0
        Mixing with a ridge term: 1 is the pure structured penalty, 0 pure
        ridge (``alpha * ||B||_F^2 / 2``), as in ElasticNet.

    fit_intercept : bool, default=True
        Fit one unpenalized intercept per task.

    task_weights : None, "balanced", "n_samples" or array-like of shape (n_tasks,), default=None
        ``w_t``: 1 per task (None, the same as "balanced"), proportional to the number of labeled
        rows (``"n_samples"``, normalized to mean 1, so every label counts
        the same), or given. ``task_weights = n_t`` with
        ``fit_intercept=False`` gives MALSAR's ``0.5 * sum_t ||.||^2``.

    task_column : int, str or None, default=None
        None: wide layout, ``y`` of shape (n_samples, n_tasks) with NaN for
        a missing label. Otherwise the column of ``X`` (position, or name
        for a DataFrame) holding each row's task label; ``y`` is 1-D.

    max_iter : int, default=1000
        Maximum number of solver iterations.

    tol : float, default=1e-4
        Tolerance on the scale-free stopping criterion (see Notes).

    warm_start : bool, default=False
        Start from the previous fit's ``coef_`` and ``intercept_`` (when the
        tasks and features match).

    solver : {"auto", "fista", "working_set"}, default="auto"
        FISTA with backtracking and adaptive restart, optionally on growing
        working sets of features (row-separable penalties only); ``"auto"``
        uses working sets from 100 features on. With the squared loss, dense
        ``X`` in the wide layout and every label observed, a working set
        grown to every feature is finished, from a cold start with fewer
        samples than features (at most 32 per task), by ADMM through the
        kernel ``X X'``, which ``"auto"`` also uses on such data for
        penalties that are not sums over features (the trace norm); the
        stopping rule (``tol``) is the same whichever runs. A squared-loss
        fit with at most 64 features first runs ADMM on the tasks' quadratic
        forms (unless a path hands over its warm start), which the spread of
        the features' scales does not slow; its iterations count in
        ``max_iter`` and ``n_iter_``."""

_COMMON_ATTRIBUTES = """\
    intercept_ : ndarray of shape ({rows},)
        Intercepts (zeros when ``fit_intercept=False``).

    n_iter_ : int
        Solver iterations run (0 when ``B = 0`` was optimal at once, i.e.
        ``alpha >= alpha_max``).

    stop_crit_ : float
        Final value of the solver's scale-free criterion (see Notes): 0
        exactly at the minimizer.

    dual_gap_ : float
        Duality gap at the solution, in the objective's units: the
        objective exceeds its minimum by at most this. Converged means at
        most ``tol`` times twice the intercept-only model's loss (see
        Notes). NaN for penalties without a computable dual.

    objective_ : float
        Value of the objective at the solution.

    tasks_ : ndarray of shape (n_tasks,)
        Task labels: sorted labels of the task column (long layout) or
        ``arange(n_tasks)`` (wide layout).

    n_tasks_ : int
        Number of tasks.

    n_features_in_ : int
        Number of columns of ``X`` seen in fit, the task column included.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of ``X`` when it was a DataFrame with string names."""

_CLASSIFIER_ATTRIBUTES = """\
    classes_ : ndarray or list of ndarray
        Wide layout: one array of classes per task (a single array for a
        1-D ``y``); long layout: the sorted union of all tasks' classes.

    coef_indptr_ : ndarray of shape (n_tasks + 1,)
        Rows ``coef_indptr_[t]:coef_indptr_[t + 1]`` of ``coef_`` belong to
        task ``t`` (one row for a binary task, ``K`` for ``K`` classes)."""

_NOTES = """\
    **Stopping criterion.** The fit is converged when the duality gap
    (``dual_gap_``), which bounds how far the objective is above its
    minimum, is at most ``tol`` times twice the loss of the intercept-only
    model: for the squared loss ``tol * sum_t w_t / n_t ||y_t -
    mean(y_t)||^2``, which with the wide layout and unit weights is
    :class:`sklearn.linear_model.MultiTaskLasso`'s rule (``tol *
    ||Y||^2`` on centered ``Y``) in the units of the objective above. The
    solver's own measure, the gradient mapping ``L * ||B - prox(B - grad
    / L, 1 / L)||`` relative to its value at ``B = 0`` (``stop_crit_``),
    decides when the gap is computed; for penalties without a computable
    dual it decides alone. A
    :class:`~sklearn.exceptions.ConvergenceWarning` is raised when
    ``max_iter`` is reached first.

    Penalties that are sums over features (group lasso, lasso) are solved
    on features scaled to unit root mean square, with the penalty taken
    on the original coefficients: the same objective, but one large
    feature (an income in dollars next to ratios) no longer slows the
    others down.

    ``coef_`` is the transpose of the solvers' ``W`` (n_features, n_tasks),
    as in :class:`sklearn.linear_model.MultiTaskLasso`. Sparse ``X`` (CSR or
    CSC) is supported and float32 input gives float32 coefficients."""
