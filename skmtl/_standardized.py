"""Standardized features and per-task centered targets around a regressor.

The multi-task kernel ridge has no intercept and an isotropic kernel: it
needs features on one scale and targets centered task by task. The command
line (``skmtl compare``) puts it behind :class:`StandardizedRegressor`.
"""

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted

from ._data import _check_features, _encode_tasks, _group_by_task, split_task_column

__all__ = ["StandardizedRegressor"]


class StandardizedRegressor(RegressorMixin, BaseEstimator):
    """Standardize the features and center the targets per task around a regressor.

    For regressors without an intercept: the features are standardized
    with their training mean and standard deviation over all tasks (one
    scale, so that a feature means the same in every task); each task's
    targets are centered on that task's training mean (an unpenalized
    per-task intercept) and divided by the standard deviation of the
    centered targets. Predictions are mapped back: ``regressor``'s
    prediction times that deviation plus the task's mean; a task unseen in
    fit gets the mean of all training labels.

    Parameters
    ----------
    regressor : estimator
        Fitted on the standardized features and the centered, scaled
        targets. In the long layout it receives the task column last, so
        its ``task_column`` must be -1; in the wide layout None.
    task_column : int, str or None, default=None
        Column of ``X`` holding each row's task (long layout); None: wide
        layout, one column of ``y`` per task (NaN = missing label).

    Attributes
    ----------
    regressor_ : estimator
        The fitted clone of ``regressor``.
    x_mean_, x_scale_ : ndarray of shape (n_features,)
        Training mean and standard deviation of each feature (1 for a
        constant feature).
    tasks_ : ndarray of shape (n_tasks,)
        Task labels seen in fit (long layout only).
    y_offset_ : ndarray of shape (n_tasks,)
        Training mean of each task's targets.
    y_mean_ : float
        Mean of all training labels, the offset of an unseen task.
    y_scale_ : float
        Standard deviation of the centered training targets (1 when zero).

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl._standardized import StandardizedRegressor
    >>> from skmtl.kernel_ridge import MultiTaskKernelRidge
    >>> rng = np.random.RandomState(0)
    >>> x, task = rng.randn(40), np.repeat([0, 1], 20)
    >>> X, y = np.column_stack([x, task]), 2 * x + 100 * task  # far-apart task means
    >>> model = StandardizedRegressor(MultiTaskKernelRidge(alpha=0.01, task_column=-1),
    ...                               task_column=-1).fit(X, y)
    >>> model.y_offset_.round()
    array([  1., 100.])
    >>> bool(model.score(X, y) > 0.99)
    True
    """

    def __init__(self, regressor, *, task_column=None):
        self.regressor = regressor
        self.task_column = task_column

    def _split(self, X):
        if self.task_column is None:
            return _check_features(X, estimator_name=type(self).__name__, accept_sparse=False), None
        features, labels = split_task_column(X, self.task_column)
        return _check_features(features, estimator_name=type(self).__name__, accept_sparse=False), labels

    def _inner_X(self, features, labels):
        """Standardized features, with the task column last (long layout)."""
        scaled = (features - self.x_mean_) / self.x_scale_
        if labels is None:
            return scaled
        if labels.dtype.kind in "iuf":
            return np.column_stack([scaled, labels])
        out = np.empty((len(labels), scaled.shape[1] + 1), dtype=object)
        out[:, :-1], out[:, -1] = scaled, labels
        return out

    def fit(self, X, y):
        """Fit ``regressor`` on the standardized data.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_columns)
            Features, and the task column in the long layout.
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Long layout: one target per row. Wide layout: one column per
            task, NaN = missing label.

        Returns
        -------
        self : StandardizedRegressor
        """
        features, labels = self._split(X)
        y = np.asarray(y, dtype=np.float64)
        self.x_mean_ = features.mean(axis=0)
        scale = features.std(axis=0)
        self.x_scale_ = np.where(scale > 0, scale, 1.0)
        self.y_mean_ = float(np.nanmean(y))
        if labels is None:
            self.y_offset_ = np.nanmean(y.reshape(len(y), -1), axis=0)
            centered = y - self.y_offset_.reshape(y.shape[1:])
        else:
            self.tasks_, codes, _, _ = _group_by_task(labels)
            sums = np.bincount(codes, weights=y, minlength=len(self.tasks_))
            self.y_offset_ = sums / np.bincount(codes, minlength=len(self.tasks_))
            centered = y - self.y_offset_[codes]
        scale = float(np.nanstd(centered))
        self.y_scale_ = scale if scale > 0 else 1.0
        self.regressor_ = clone(self.regressor).fit(
            self._inner_X(features, labels), centered / self.y_scale_
        )
        return self

    def predict(self, X):
        """Predict with ``regressor``, back on the scale and offsets of the targets.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_columns)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_tasks)
        """
        check_is_fitted(self)
        features, labels = self._split(X)
        pred = self.regressor_.predict(self._inner_X(features, labels)) * self.y_scale_
        if labels is None:
            return pred + self.y_offset_.reshape(pred.shape[1:])
        codes = _encode_tasks(labels, self.tasks_, allow_unseen=True)
        return pred + np.where(codes >= 0, self.y_offset_[codes], self.y_mean_)
