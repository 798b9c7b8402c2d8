"""Single-task baselines every multi-task model is compared with.

:class:`IndependentTasks` fits one clone of an estimator per task (no
sharing at all); :class:`PooledTasks` fits one estimator on the rows of all
tasks (complete sharing), optionally with one-hot task indicators so that
each task gets its own offset. A multi-task model is worth its cost when it
beats both.
"""

import numbers

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import has_fit_parameter

from .base import UNSEEN_TASK_CONSTRAINT, MultiTaskMixin
from .utils._compat import get_tags, legacy_tags

__all__ = ["IndependentTasks", "PooledTasks"]


def _inner_has(method):
    """``available_if`` check: the wrapped estimator has ``method``."""

    def check(self):
        inner = getattr(self, "estimator_", None) or self.estimator
        getattr(inner, method)
        return True

    return check


def _accepts_sparse(estimator):
    """Whether ``estimator`` declares that it fits sparse ``X`` (its input tags).

    None with scikit-learn 1.5, which has no such tag: the caller then tries
    sparse ``X`` and falls back to dense when that fit raises.
    """
    return None if get_tags is None else get_tags(estimator).input_tags.sparse


def _fit_one(estimator, X, y, sample_weight):
    if sample_weight is None:
        return estimator.fit(X, y)
    return estimator.fit(X, y, sample_weight=sample_weight)


class _BaselineMixin(MultiTaskMixin, MetaEstimatorMixin):
    """What both baselines share: tags and classes follow the wrapped estimator."""

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"])],
        "task_column": [numbers.Integral, str, None],
    }

    def _check_sample_weight_support(self, sample_weight):
        if sample_weight is not None and not has_fit_parameter(self.estimator, "sample_weight"):
            raise ValueError(
                f"{type(self.estimator).__name__} does not accept sample_weight, "
                f"so {type(self).__name__} cannot pass it on."
            )

    @property
    def _estimator_type(self):  # scikit-learn 1.5 reads this attribute
        return getattr(self.estimator, "_estimator_type", None)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.input_tags.sparse = inner.input_tags.sparse
        return tags

    def _more_tags(self):  # scikit-learn 1.5: the same tags in its dict form
        inner = legacy_tags(self.estimator)
        return {key: inner[key] for key in ("poor_score", "binary_only", "multilabel")}

    def _layout_output(self, outputs, task_codes, classes, fill):
        """Arrange per-task ``predict_proba``/``decision_function`` outputs.

        ``outputs[t]`` is task ``t``'s output on the rows given to it. Wide
        layout: a list of per-task arrays (scikit-learn's multi-output
        convention), or the single array for a 1-D ``y``. Long layout: one
        array; when tasks have 2-D outputs its columns follow the union of
        all tasks' classes (``classes_``), ``fill`` where a task lacks a
        class.
        """
        if task_codes is None:
            return outputs[0] if self._single_output else outputs
        # Long layout: ``outputs`` holds ``(task, rows, output)`` per task present.
        if all(out.ndim == 1 for _, _, out in outputs):
            result = np.empty(len(task_codes))
            for _, rows, out in outputs:
                result[rows] = out
            return result
        result = np.full((len(task_codes), len(self.classes_)), fill)
        for t, rows, out in outputs:
            if out.ndim == 1:  # binary decision_function: score of classes[1]
                out = np.column_stack([-out, out])
            result[np.ix_(rows, np.searchsorted(self.classes_, classes[t]))] = out
        return result

    def _set_classes(self, per_task_classes):
        if self._single_output:
            self.classes_ = per_task_classes[0]
        elif self.task_column is None:
            self.classes_ = list(per_task_classes)
        else:
            self.classes_ = np.unique(np.concatenate(per_task_classes))


class IndependentTasks(_BaselineMixin, BaseEstimator):
    """One independent clone of an estimator per task (no sharing).

    The "no transfer" baseline: task ``t`` is fitted on its own labeled
    rows only, exactly as if the other tasks did not exist.

    Parameters
    ----------
    estimator : estimator object
        A scikit-learn regressor or classifier, cloned once per task.
    task_column : int, str or None, default=None
        None: wide layout, ``y`` of shape (n_samples, n_tasks) with NaN for
        a missing label (that row is left out of that task only). Otherwise
        the column of ``X`` (position, or name for a DataFrame) holding each
        row's task label; ``y`` is then 1-D (long layout).
    n_jobs : int, default=None
        Number of tasks fitted in parallel with joblib (``-1``: all cores).

    Attributes
    ----------
    estimators_ : list of estimators of length n_tasks
        The fitted clone of each task, in the order of ``tasks_``.
    tasks_ : ndarray of shape (n_tasks,)
        Task labels: sorted labels of the task column (long layout) or
        ``arange(n_tasks)`` (wide layout).
    n_tasks_ : int
    classes_ : ndarray or list of ndarray
        Classifiers only. Wide layout: one array per task (a single array for
        a 1-D ``y``); long layout: the sorted union of all tasks' classes.
    n_features_in_ : int
        Number of columns of ``X`` seen in fit, the task column included.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of ``X`` when it was a DataFrame with string names.

    See Also
    --------
    PooledTasks : one estimator for all tasks.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skmtl.multitask import IndependentTasks
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(30, 3)
    >>> Y = np.column_stack([X @ [1.0, 0, 0], X @ [0, 1.0, 0]])
    >>> Y[:5, 1] = np.nan  # five rows without a label for task 1
    >>> model = IndependentTasks(Ridge(alpha=1e-3)).fit(X, Y)
    >>> model.predict(X).shape
    (30, 2)
    """

    _parameter_constraints = {
        **_BaselineMixin._parameter_constraints,
        "n_jobs": [numbers.Integral, None],
    }

    def __init__(self, estimator, *, task_column=None, n_jobs=None):
        self.estimator = estimator
        self.task_column = task_column
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit one clone of ``estimator`` per task on that task's labeled rows.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        self._check_sample_weight_support(sample_weight)
        data = self._validate_fit(X, y, sample_weight)
        sw = data.sample_weight
        self.estimators_ = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_one)(
                clone(self.estimator),
                data.X[rows],
                data.task_targets(t),
                None if sw is None else sw[rows],
            )
            for t, rows in ((t, data.task_rows(t)) for t in range(data.n_tasks))
        )
        if hasattr(self.estimators_[0], "classes_"):
            self._set_classes([est.classes_ for est in self.estimators_])
        return self

    def _per_task(self, X, method):
        """Call ``method`` of each task's estimator on that task's rows.

        Wide layout: one output per task on all rows. Long layout: a
        ``(task, rows, output)`` triple for each task present in ``X`` (a
        task without rows is not called: estimators reject empty input).
        """
        features, codes = self._validate_predict(X)
        if codes is None:
            return [getattr(est, method)(features) for est in self.estimators_], None
        order = np.argsort(codes, kind="stable")
        present, starts = np.unique(codes[order], return_index=True)
        return [
            (t, rows, getattr(self.estimators_[t], method)(features[rows]))
            for t, rows in zip(present, np.split(order, starts[1:]))
        ], codes

    def predict(self, X):
        """Predict with each task's own estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_tasks) or (n_samples,)
            Wide layout: one column per task (1-D for a model fitted on a
            1-D ``y``). Long layout: each row predicted by its own task.
        """
        outputs, codes = self._per_task(X, "predict")
        arrays = outputs if codes is None else [out for _, _, out in outputs]
        # Tasks labelled with strings and tasks labelled with numbers share an
        # object array, so no label is turned into a string.
        same_kind = len({a.dtype.kind for a in arrays}) == 1
        dtype = np.result_type(*arrays) if same_kind else object
        if codes is None:
            return self._format_output(np.column_stack([a.astype(dtype) for a in arrays]), None)
        result = np.empty(len(codes), dtype=dtype)
        for _, rows, out in outputs:
            result[rows] = out
        return result

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of each task's classifier.

        Returns
        -------
        proba : ndarray or list of ndarray
            Wide layout: a list with one (n_samples, n_classes_t) array per
            task (one array for a 1-D ``y``). Long layout: (n_samples,
            ``len(classes_)``), zero for classes the row's task does not have.
        """
        outputs, codes = self._per_task(X, "predict_proba")
        return self._layout_output(outputs, codes, [e.classes_ for e in self.estimators_], 0.0)

    @available_if(_inner_has("decision_function"))
    def decision_function(self, X):
        """Decision function of each task's estimator.

        Returns
        -------
        scores : ndarray or list of ndarray
            Laid out as in :meth:`predict_proba`; in the long layout a class
            the row's task does not have scores ``-inf``.
        """
        outputs, codes = self._per_task(X, "decision_function")
        return self._layout_output(
            outputs, codes, [e.classes_ for e in self.estimators_], -np.inf
        )


class PooledTasks(_BaselineMixin, BaseEstimator):
    """One estimator fitted on the rows of all tasks (complete sharing).

    The "tasks are the same" baseline. With ``task_features="onehot"`` a
    one-hot task indicator is appended to the features, so a linear model
    learns a shared slope and one offset per task — a strong baseline on
    School-like data.

    Parameters
    ----------
    estimator : estimator object
        A scikit-learn regressor or classifier.
    task_column : int, str or None, default=None
        None: wide layout (each observed entry of ``y[:, t]`` becomes one
        training row); else the task column of ``X`` (long layout).
    task_features : {None, "onehot"}, default=None
        None: the task is ignored, so any task — even one never seen in
        fit — can be predicted. "onehot": append one indicator column per
        task seen in fit; an unseen task is handled as ``unseen_task``
        says. The features and indicators are then passed to ``estimator``
        as one CSR matrix (one indicator entry per row) when its tags say
        it accepts sparse input (``Ridge``, ``LogisticRegression``, trees,
        ...; with scikit-learn 1.5, which has no such tag, unless fitting on
        it raises), else as a dense array of n_rows x
        (n_features + n_tasks) values: dense-only estimators
        (``HistGradientBoostingRegressor``, a ``Pipeline`` starting with
        ``StandardScaler()``) need memory proportional to rows x tasks.
    unseen_task : {"error", "population"}, default="error"
        Long layout with ``task_features="onehot"``: what ``predict`` (and
        ``score``) do with a row whose task was never seen in fit. "error"
        raises a ``ValueError`` naming the task; "population" gives the row
        an all-zero indicator, i.e. the shared model without any task's
        offset (for a linear model: offset 0), e.g. for
        :class:`~skmtl.model_selection.LeaveTasksOut`. Without task
        features the task is ignored and every task is predicted alike.

    Attributes
    ----------
    estimator_ : estimator
        The single fitted estimator.
    estimators_ : list of length n_tasks
        ``estimator_`` repeated for every task, for uniform access with
        :class:`IndependentTasks`.
    tasks_ : ndarray of shape (n_tasks,)
    n_tasks_ : int
    classes_ : ndarray or list of ndarray
        Classifiers only: the pooled estimator's classes (one entry per task
        in the wide layout).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    See Also
    --------
    IndependentTasks : one estimator per task.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from skmtl.multitask import PooledTasks
    >>> rng = np.random.RandomState(0)
    >>> X = np.column_stack([rng.randn(40, 2), np.repeat([0, 1], 20)])
    >>> y = X[:, 0] + 3.0 * X[:, 2]  # task 1 is shifted by 3
    >>> model = PooledTasks(Ridge(alpha=1e-6), task_column=-1, task_features="onehot")
    >>> round(model.fit(X, y).score(X, y), 3)
    1.0
    """

    _parameter_constraints = {
        **_BaselineMixin._parameter_constraints,
        "task_features": [StrOptions({"onehot"}), None],
        "unseen_task": UNSEEN_TASK_CONSTRAINT,
    }

    def __init__(self, estimator, *, task_column=None, task_features=None, unseen_task="error"):
        self.estimator = estimator
        self.task_column = task_column
        self.task_features = task_features
        self.unseen_task = unseen_task

    def _with_task_features(self, X, codes):
        """Append the one-hot task block to ``X``: CSR unless the estimator needs dense.

        A dense block costs rows x tasks (14.9 GiB for 10,000 tasks of 20
        rows), the sparse one a single entry per row. A row of an unseen
        task (code -1) gets no indicator: the population model.
        """
        if self.task_features is None:
            return X
        rows = np.flatnonzero(codes >= 0)
        onehot = sp.csr_matrix(
            (np.ones(len(rows), dtype=X.dtype), (rows, codes[rows])),
            shape=(len(codes), self.n_tasks_),
        )
        if self._sparse_design or sp.issparse(X):
            return sp.hstack([X, onehot], format="csr")
        return np.hstack([X, onehot.toarray()])

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit one estimator on every (row, task) label.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        self._check_sample_weight_support(sample_weight)
        data = self._validate_fit(X, y, sample_weight)
        accepts = _accepts_sparse(self.estimator)
        self._sparse_design = accepts is not False
        rows, codes, targets = data.to_long()
        sw = None if data.sample_weight is None else data.sample_weight[rows]
        X_rows = data.X[rows]
        try:
            self.estimator_ = _fit_one(clone(self.estimator), self._with_task_features(X_rows, codes), targets, sw)
        except (TypeError, ValueError):
            # scikit-learn 1.5 (no sparse tag): the estimator needs dense X
            # (TypeError from validation, ValueError from e.g. a centering
            # StandardScaler); a dense fit that fails too says why.
            if accepts is not None or self.task_features is None or sp.issparse(X_rows):
                raise
            self._sparse_design = False
            self.estimator_ = _fit_one(clone(self.estimator), self._with_task_features(X_rows, codes), targets, sw)
        self.estimators_ = [self.estimator_] * data.n_tasks
        if hasattr(self.estimator_, "classes_"):
            self._set_classes([self.estimator_.classes_] * data.n_tasks)
        return self

    def _apply(self, X, method):
        """Call the pooled estimator's ``method`` for every task of every row.

        Returns ``(outputs, codes)`` with ``outputs`` a per-task list (wide)
        or ``[output]`` of the rows' own tasks (long).
        """
        # The task does not enter a model without task features, so any task
        # label (even one unseen in fit) can be predicted.
        ignore_task = self.task_column is not None and self.task_features is None
        features, codes = self._validate_predict(
            X, known_tasks=not ignore_task, allow_unseen=self.unseen_task == "population"
        )
        call = getattr(self.estimator_, method)
        if ignore_task:
            return [call(features)], None
        if codes is not None:
            return [call(self._with_task_features(features, codes))], None
        if self.task_features is None:
            return [call(features)] * self.n_tasks_, None
        n = features.shape[0]
        return [call(self._with_task_features(features, np.full(n, t))) for t in range(self.n_tasks_)], None

    def predict(self, X):
        """Predict with the pooled estimator.

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_tasks) or (n_samples,)
            Wide layout: one column per task (identical columns when
            ``task_features=None``). Long layout: one prediction per row.
        """
        outputs, _ = self._apply(X, "predict")
        if self.task_column is not None:
            return outputs[0]
        return self._format_output(np.column_stack(outputs), None)

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the pooled classifier.

        Returns
        -------
        proba : ndarray or list of ndarray
            Wide layout: a list with one array per task (one array for a
            1-D ``y``); long layout: (n_samples, n_classes).
        """
        outputs, _ = self._apply(X, "predict_proba")
        return outputs[0] if self.task_column is not None else self._layout_output(outputs, None, None, 0.0)

    @available_if(_inner_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the pooled estimator, laid out as :meth:`predict_proba`."""
        outputs, _ = self._apply(X, "decision_function")
        return outputs[0] if self.task_column is not None else self._layout_output(outputs, None, None, 0.0)
