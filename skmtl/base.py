"""Behaviour shared by every skmtl estimator: layouts, predict dispatch, score.

A multi-task estimator inherits :class:`MultiTaskMixin` (before
``BaseEstimator``) and has a ``task_column`` parameter. In ``fit`` it calls
:meth:`MultiTaskMixin._validate_fit` to get a :class:`~skmtl._data.TaskData`;
in ``predict`` it calls :meth:`MultiTaskMixin._validate_predict` and returns
its per-task predictions through :meth:`MultiTaskMixin._format_output`.
"""

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from ._data import check_task_data, check_task_X, split_task_column
from .utils._compat import check_n_features_and_names

__all__ = ["MultiTaskMixin"]

# ``_parameter_constraints`` entry of the estimators that can predict a task
# never seen in fit with their population model.
UNSEEN_TASK_CONSTRAINT = [StrOptions({"error", "population"})]


def check_population_classes(per_task_classes):
    """Raise unless every task has the same two classes.

    A classifier's population model predicts a task never seen in fit, whose
    classes are unknown: it can only be the binary problem every task shares.
    """
    first = per_task_classes[0]
    if len(first) != 2 or any(not np.array_equal(c, first) for c in per_task_classes):
        raise ValueError(
            "unseen_task='population' needs every task to have the same two classes; "
            "the classes of an unseen task are unknown."
        )


class MultiTaskMixin:
    """Mixin for estimators that fit several tasks at once.

    Provides, for the wide layout (``task_column=None``: ``y`` of shape
    (n_samples, n_tasks), NaN = missing label) and the long layout
    (``task_column`` names the column of ``X`` holding each row's task):

    * ``_validate_fit`` / ``_validate_predict``: one validation path,
      ``n_features_in_``, ``feature_names_in_`` (both count the task column,
      which is part of ``X``), ``tasks_`` and ``n_tasks_``;
    * ``_format_output``: (n_samples, n_tasks) predictions in the wide
      layout (1-D when fitted on a 1-D ``y``), (n_samples,) in the long one;
    * ``score``: the mean over tasks of the per-task R^2 (regressors) or
      accuracy (classifiers), each task scored on its own labeled rows
      (in the long layout the rows' task labels as given, so a task that
      ``predict`` accepts, even one never seen in fit, is scored);
    * scikit-learn tags declaring multi-output support.
    """

    _target_type = "continuous"
    _accept_sparse = True

    # Whether a classification task may hold a single class (see
    # ``check_task_data(allow_single_class=...)``).
    _allow_single_class = False

    def _validate_fit(self, X, y, sample_weight=None):
        """Validate training data, record input metadata, return TaskData."""
        check_n_features_and_names(self, X, reset=True)
        data = check_task_data(
            X,
            y,
            task_column=self.task_column,
            target_type="classification" if is_classifier(self) else "continuous",
            sample_weight=sample_weight,
            accept_sparse=self._accept_sparse,
            estimator_name=type(self).__name__,
            allow_single_class=self._allow_single_class,
        )
        self.tasks_ = data.tasks
        self.n_tasks_ = data.n_tasks
        self._single_output = data.single_output
        return data

    def _validate_predict(self, X, *, known_tasks=True, allow_unseen=False):
        """Return ``(features, task_codes)``; ``task_codes`` is None when wide.

        With ``known_tasks=False`` (long layout, for models that ignore the
        task) unseen task labels are accepted and ``task_codes`` is None.
        With ``allow_unseen=True`` (models with ``unseen_task="population"``)
        rows of a task never seen in fit get code -1 instead of raising.
        """
        check_is_fitted(self)
        features, codes = check_task_X(
            X,
            task_column=self.task_column,
            tasks=self.tasks_ if known_tasks else None,
            allow_unseen=allow_unseen,
            accept_sparse=self._accept_sparse,
            estimator_name=type(self).__name__,
        )
        # After check_task_X, so a 1-D X gets scikit-learn's "Reshape your
        # data" error rather than a feature-count one.
        check_n_features_and_names(self, X, reset=False)
        return features, codes

    def _format_output(self, per_task, task_codes):
        """Turn (n_samples, n_tasks) predictions into the layout's shape.

        ``per_task[i, t]`` is the prediction of task ``t`` for row ``i``.
        Long layout: row ``i`` keeps only its own task's column.
        """
        if task_codes is not None:
            return per_task[np.arange(per_task.shape[0]), task_codes]
        return per_task[:, 0] if self._single_output else per_task

    def score(self, X, y, sample_weight=None):
        """Mean over tasks of the per-task R^2 (regressor) or accuracy (classifier).

        Each task is scored on its labeled rows only (NaN labels in the wide
        layout are skipped), then tasks are averaged with equal weight. In
        the long layout rows are grouped by their task labels as given:
        whatever ``predict`` accepts is scored, tasks never seen in fit
        included (``unseen_task="population"``, ``LeaveTasksOut``). For
        one task this is scikit-learn's ``score``; for a wide ``y`` without
        missing labels it equals ``r2_score(..., multioutput="uniform_average")``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_columns)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        # Imported here, as scikit-learn's own mixins do: every estimator
        # module imports this one, and the metrics layer sits above the
        # estimators (it reads their predictions), not below them.
        from sklearn.metrics import accuracy_score, r2_score

        from .metrics._per_task import task_scores

        metric = accuracy_score if is_classifier(self) else r2_score
        y_pred = self.predict(X)
        tasks = None if self.task_column is None else split_task_column(X, self.task_column)[1]
        return float(np.mean(task_scores(y, y_pred, tasks, metric, sample_weight=sample_weight)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.sparse = self._accept_sparse
        return tags

    def _more_tags(self):  # scikit-learn 1.5
        return {"multioutput": True}
