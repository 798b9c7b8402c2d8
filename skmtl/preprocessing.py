"""Per-task feature standardization (DESIGN.md section 2).

In the long layout rows of different tasks may come from different
populations (schools, sites, patients); :class:`TaskwiseStandardScaler`
standardizes every feature with the statistics of the row's own task and
passes the task column through, so it can sit in front of any skmtl
estimator in a :class:`~sklearn.pipeline.Pipeline`.
"""

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils._set_output import _get_output_config
from sklearn.utils.validation import _check_sample_weight, check_array, check_is_fitted

from ._data import (
    FLOAT_DTYPES,
    _check_features,
    _check_position,
    _encode_tasks,
    _group_by_task,
    _show,
    split_task_column,
    task_column_position,
)
from .utils._compat import check_n_features_and_names

__all__ = ["TaskwiseStandardScaler"]


def _per_row(stat, codes, dtype):
    """Statistics of each row's task: broadcast one row, or gather per row."""
    stat = stat.astype(dtype, copy=False)
    return stat[0] if codes is None else stat[codes]


def _dense(M):
    return M.toarray() if sp.issparse(M) else np.asarray(M)


def _task_moments(F, codes, weights, total):
    """Per-task weighted mean and (ddof=0) variance of every feature.

    Segment sums are products with the (n_tasks, n_samples) sparse
    indicator matrix ``G`` (``G[t, i] = w_i`` if row ``i`` belongs to task
    ``t``), so dense and sparse ``F`` need no loop over tasks or rows. The
    variance is the corrected two-pass estimate used by scikit-learn's
    ``StandardScaler``: ``(sum w d^2 - (sum w d)^2 / sum w) / sum w`` with
    ``d = x - mean``. Sums are accumulated in float64.
    """
    n_samples, n_tasks = F.shape[0], len(total)
    G = sp.csr_matrix((weights, (codes, np.arange(n_samples))), shape=(n_tasks, n_samples))
    total = total[:, None]
    mean = _dense(G @ F) / total
    if sp.issparse(F):
        # Deviations of the stored entries, plus the implicit zeros, each of
        # which deviates by -mean.
        row_codes = np.repeat(codes, np.diff(F.indptr))
        deviation = F.data - mean[row_codes, F.indices]
        stored = sp.csr_matrix(
            (np.ones_like(deviation), F.indices, F.indptr), shape=F.shape
        )
        implicit = total - _dense(G @ stored)
        stored.data = deviation
        first = _dense(G @ stored) - implicit * mean
        stored.data = deviation**2
        second = _dense(G @ stored) + implicit * mean**2
    else:
        deviation = F - _per_row(mean, None if n_tasks == 1 else codes, np.float64)
        first = _dense(G @ deviation)
        deviation **= 2
        second = _dense(G @ deviation)
    var = np.maximum((second - first**2 / total) / total, 0.0)
    return mean, var


class TaskwiseStandardScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardize features with the mean and standard deviation of each task.

    Long layout (``task_column`` set): for task ``t`` with rows ``I_t`` and
    sample weights ``s_i`` (default 1), feature ``j`` is centered and
    scaled with

        mean_[t, j] = sum_{i in I_t} s_i x_ij / sum_{i in I_t} s_i
        var_[t, j]  = sum_{i in I_t} s_i (x_ij - mean_[t, j])^2 / sum_{i in I_t} s_i

    (``ddof=0``), and row ``i`` of task ``t`` becomes
    ``(x_i - mean_[t]) / scale_[t]`` with ``scale_ = sqrt(var_)``. A feature
    that is constant within a task (zero variance up to rounding) keeps
    ``scale_ = 1``. The task column is passed through unchanged at its
    position, so the output has the same columns as the input and can be
    fed to a long-layout estimator with the same ``task_column``.

    Wide layout (``task_column=None``), or ``by_task=False``: all rows form
    one group and the transform is that of
    :class:`sklearn.preprocessing.StandardScaler` (the task column, if any,
    passed through). Use it in front of a model that shares or pulls
    together coefficients across tasks: a coefficient then means the same
    in every task, which per-task scaling would break.

    Parameters
    ----------
    task_column : int, str or None, default=None
        None for the wide layout; else the position of the task column of
        ``X`` (negative counts from the end) or its name when ``X`` is a
        DataFrame. Task labels may be any sortable hashables (strings too).
    with_mean : bool, default=True
        Center each feature on its task's mean. Not possible for sparse
        ``X`` (it would densify it): pass ``with_mean=False`` there.
    with_std : bool, default=True
        Scale each feature to its task's unit variance.
    by_task : bool, default=True
        False: one mean and standard deviation over all rows, whatever
        their task (tasks unseen in fit are then accepted by transform).
    copy : bool, default=True
        If False, the wide layout standardizes a float ``X`` in place, as
        ``StandardScaler`` does. The long layout always returns a new array
        (it has to carry the task column) and never modifies ``X``.

    Attributes
    ----------
    tasks_ : ndarray of shape (n_tasks,)
        Sorted task labels seen in fit; ``[0]`` in the wide layout and with
        ``by_task=False``.
    mean_ : ndarray of shape (n_tasks, n_features) or None
        Per-task mean of each feature (the task column excluded). None when
        ``with_mean=False`` and ``with_std=False``.
    var_ : ndarray of shape (n_tasks, n_features) or None
        Per-task variance of each feature. None when ``with_std=False``.
    scale_ : ndarray of shape (n_tasks, n_features) or None
        Per-task scaling factor, ``sqrt(var_)`` with 1 for constant
        features. None when ``with_std=False``.
    n_samples_seen_ : ndarray of shape (n_tasks,)
        Number of rows of each task (sum of their ``sample_weight`` when
        weights are given).
    n_features_in_ : int
        Number of columns of ``X`` seen in fit, task column included.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of ``X`` (when a DataFrame with string column names),
        task column included.

    Notes
    -----
    Fitting makes a few (n_samples, n_features) float64 temporaries;
    transforming one of the input's dtype (float32 is kept). Sparse ``X``
    is scaled entry by entry without densifying. NaN and infinite feature
    values are rejected.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.preprocessing import TaskwiseStandardScaler
    >>> X = np.array([[1.0, 0], [3.0, 0], [10.0, 1], [30.0, 1]])
    >>> TaskwiseStandardScaler(task_column=-1).fit_transform(X)
    array([[-1.,  0.],
           [ 1.,  0.],
           [-1.,  1.],
           [ 1.,  1.]])
    """

    _parameter_constraints = {
        "task_column": [numbers.Integral, str, None],
        "with_mean": ["boolean"],
        "with_std": ["boolean"],
        "by_task": ["boolean"],
        "copy": ["boolean"],
    }

    def __init__(self, *, task_column=None, with_mean=True, with_std=True, by_task=True, copy=True):
        self.task_column = task_column
        self.with_mean = with_mean
        self.with_std = with_std
        self.by_task = by_task
        self.copy = copy

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute the mean and standard deviation of every feature per task.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
            Features, and the task column in the long layout.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row in its task's statistics.

        Returns
        -------
        self : object
            Fitted scaler.
        """
        name = type(self).__name__
        check_n_features_and_names(self, X, reset=True)
        if self.task_column is None:
            F = _check_features(X, estimator_name=name)
            tasks, codes = np.array([0]), np.zeros(F.shape[0], dtype=np.intp)
        else:
            features, labels = split_task_column(X, self.task_column)
            F = _check_features(features, estimator_name=name)
            if self.by_task:
                tasks, codes, _, _ = _group_by_task(labels)
            else:
                tasks, codes = np.array([0]), np.zeros(F.shape[0], dtype=np.intp)
        if sp.issparse(F) and self.with_mean:
            raise ValueError(
                "Cannot center sparse matrices: pass `with_mean=False` instead. "
                "Centering would make the matrix dense."
            )
        if sample_weight is None:
            weights = np.ones(F.shape[0])
        else:
            weights = _check_sample_weight(sample_weight, F, dtype=np.float64)
            if np.any(weights < 0):
                raise ValueError("sample_weight must be non-negative.")
        total = np.bincount(codes, weights=weights, minlength=len(tasks))
        empty = np.flatnonzero(total == 0)
        if len(empty):
            raise ValueError(
                f"Task {_show(tasks[empty[0]])} has zero total sample_weight; its "
                "mean and variance are undefined."
            )
        mean, var = _task_moments(F, codes, weights, total)

        self.tasks_ = tasks
        self.n_samples_seen_ = total if sample_weight is not None else total.astype(np.int64)
        self.mean_ = mean if (self.with_mean or self.with_std) else None
        self.var_ = var if self.with_std else None
        self.scale_ = None
        if self.with_std:
            # Constant within a task up to the rounding error of the two-pass
            # variance (Chan, Golub & LeVeque), as in StandardScaler.
            eps = np.finfo(np.float64).eps
            n = total[:, None]
            constant = var <= n * eps * var + (n * mean * eps) ** 2
            self.scale_ = np.where(constant, 1.0, np.sqrt(var))
        return self

    def transform(self, X, copy=None):
        """Standardize each row with the statistics of its task.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
            Same columns as in fit. Every task label must have been seen in
            fit.
        copy : bool, default=None
            Overrides ``self.copy`` (wide layout only).

        Returns
        -------
        X_tr : {ndarray, sparse matrix, DataFrame} of shape (n_samples, n_columns)
            Standardized features with the task column unchanged at its
            position. A float array (an object array when the task labels
            are not numbers), a CSR matrix for sparse ``X``, or a DataFrame
            with the input's columns and index under
            ``set_output(transform="pandas")``.
        """
        check_is_fitted(self)
        F, codes, inplace = self._validate_X(X, copy, check_features=True)
        F = self._standardize(F, codes, inplace, inverse=False)
        as_frame = _get_output_config("transform", self)["dense"] == "pandas"
        return self._with_task_column(X, F, as_frame, self.get_feature_names_out())

    def inverse_transform(self, X, copy=None):
        """Undo :meth:`transform`: ``x * scale_[t] + mean_[t]`` for a row of task ``t``.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
            Standardized data, with the task column in the long layout.
        copy : bool, default=None
            Overrides ``self.copy`` (wide layout only).

        Returns
        -------
        X_original : {ndarray, sparse matrix, DataFrame} of shape (n_samples, n_columns)
            Same container rules as :meth:`transform`, except that a
            DataFrame input always gives a DataFrame with its columns and
            index.
        """
        check_is_fitted(self)
        F, codes, inplace = self._validate_X(X, copy, check_features=False)
        n_features = self.n_features_in_ - (self.task_column is not None)
        if F.shape[1] != n_features:
            raise ValueError(
                f"X has {F.shape[1]} feature columns, but {type(self).__name__} "
                f"was fitted with {n_features}."
            )
        F = self._standardize(F, codes, inplace, inverse=True)
        is_frame = hasattr(X, "iloc") and hasattr(X, "columns")
        return self._with_task_column(X, F, is_frame, X.columns if is_frame else None)

    def _validate_X(self, X, copy, *, check_features):
        """Return ``(features, task_codes, inplace)`` for (inverse) transform.

        ``task_codes`` is None in the wide layout; ``inplace`` says whether
        ``features`` may be overwritten (it is not the caller's data, or
        ``copy=False`` allows it).
        """
        name = type(self).__name__
        copy = self.copy if copy is None else copy
        if self.task_column is None:
            F = check_array(X, accept_sparse="csr", dtype=FLOAT_DTYPES, copy=copy, estimator=name)
            if check_features:
                check_n_features_and_names(self, X, reset=False)
            data = F.data if sp.issparse(F) else F
            return F, None, data.flags.writeable
        features, labels = split_task_column(X, self.task_column)
        if check_features:
            # Before looking at the labels, so that a wrong number of
            # columns is reported as such rather than as unknown tasks.
            check_n_features_and_names(self, X, reset=False)
        F = _check_features(features, estimator_name=name)
        # The feature block may share memory with a DataFrame X: never
        # write into it.
        return F, _encode_tasks(labels, self.tasks_) if self.by_task else None, False

    def _standardize(self, F, codes, inplace, *, inverse):
        """(Inverse) standardization of the feature block ``F``."""
        if sp.issparse(F):
            if self.with_mean:
                raise ValueError(
                    f"Cannot {'un' if inverse else ''}center sparse matrices: pass "
                    "`with_mean=False` instead. Centering would make the matrix dense."
                )
            if self.with_std:
                F = F if inplace else F.copy()
                row_codes = None if codes is None else np.repeat(codes, np.diff(F.indptr))
                scale = self.scale_.astype(F.dtype)
                entry_scale = scale[0, F.indices] if codes is None else scale[row_codes, F.indices]
                if inverse:
                    F.data *= entry_scale
                else:
                    F.data /= entry_scale
            return F

        steps = [("mean", np.subtract), ("scale", np.divide)]
        if inverse:
            steps = [("scale", np.multiply), ("mean", np.add)]
        for stat, op in steps:
            if not (self.with_mean if stat == "mean" else self.with_std):
                continue
            values = _per_row(getattr(self, f"{stat}_"), codes, F.dtype)
            # The first operation allocates the result unless F may be
            # overwritten; later ones work in place on that result.
            F = op(F, values, out=F if inplace else None)
            inplace = True
        return F

    def _with_task_column(self, X, F, as_frame, columns):
        """Put the task column of ``X`` back, unchanged, at its position."""
        is_frame = hasattr(X, "iloc") and hasattr(X, "columns")
        if self.task_column is None:
            if as_frame and not sp.issparse(F):
                import pandas as pd

                return pd.DataFrame(F, columns=columns, index=X.index if is_frame else None)
            return F
        position = (
            task_column_position(X, self.task_column)
            if hasattr(X, "shape")
            else _check_position(self.task_column, F.shape[1] + 1)  # a list of rows
        )

        if sp.issparse(X):
            labels = X.tocsc()[:, [position]]
            dtype = np.result_type(F.dtype, labels.dtype)
            return sp.hstack(
                [F[:, :position], labels, F[:, position:]], format="csr", dtype=dtype
            )

        if is_frame:
            labels = X.iloc[:, position]
        else:
            X = np.asarray(X)
            labels = X[:, position]
        if as_frame:
            import pandas as pd

            columns = list(columns)
            out = pd.DataFrame(
                F,
                columns=columns[:position] + columns[position + 1 :],
                index=X.index if is_frame else None,
            )
            # ``.array`` keeps the column's dtype (categorical, string, ...)
            # and avoids aligning on a possibly non-unique index.
            out.insert(position, columns[position], labels.array if is_frame else labels)
            return out

        labels = labels.to_numpy() if is_frame else labels
        if labels.dtype.kind in "biuf":
            dtype = F.dtype
            if not np.array_equal(labels.astype(dtype), labels):
                dtype = np.dtype(np.float64)  # float32 cannot hold these labels
            return np.insert(F.astype(dtype, copy=False), position, labels.astype(dtype), axis=1)
        out = np.empty((F.shape[0], F.shape[1] + 1), dtype=object)
        keep = np.arange(F.shape[1] + 1) != position
        out[:, keep] = F
        out[:, position] = labels
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = not self.with_mean
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _more_tags(self):  # scikit-learn 1.5
        return {"preserves_dtype": [np.float64, np.float32]}
