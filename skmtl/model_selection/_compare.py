"""Does multi-task learning help, task by task? :func:`compare_with_single_task`.

Every model (the user's, plus the single-task baselines) is fitted on the
training rows of every split and scored on the test rows of each task
separately. Per task, the fold scores of a model are compared with those of
:class:`~skmtl.multitask.IndependentTasks` (no transfer) and
:class:`~skmtl.multitask.PooledTasks` (full sharing) by a paired test across
splits; a task significantly worse than with independent models is flagged
as *negative transfer* (hurt), one significantly better as helped.

The fits run through joblib (``n_jobs``), one job per (model, split) pair, so
the whole comparison also runs on a Dask cluster under
``joblib.parallel_backend("dask")``.
"""

import json
import numbers
import sys
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from scipy import stats
from sklearn.base import clone, is_classifier
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LogisticRegressionCV, RidgeCV
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing

from .._data import _group_by_task, _missing, split_task_column, task_column_position
from ..metrics._per_task import _METRICS, _collect, _resolve_metric
from ..metrics._scorer import _find_task_column, _get_response
from ..multitask import IndependentTasks, PooledTasks
from ._split import TaskStratifiedKFold, TaskStratifiedShuffleSplit

__all__ = ["ComparisonResult", "compare_with_single_task"]

# Per-task metrics that need class labels (the automatic baselines are then
# classifiers) and the response each one scores.
_CLASSIFICATION_METRICS = {"accuracy", "balanced_accuracy", "roc_auc"}
_RESPONSE = {"roc_auc": ("decision_function", "predict_proba")}
_TESTS = ("corrected_t", "t")
_REFERENCES = ("independent", "pooled")
# Ridge penalties of the automatic regression baselines: wide enough for
# features on any scale (RidgeCV's efficient LOO makes the grid cheap).
_RIDGE_ALPHAS = np.logspace(-3, 4, 15)


# --------------------------------------------------------------------------
# Baselines
# --------------------------------------------------------------------------


def _logistic_cv():
    """``LogisticRegressionCV`` with an explicit setting for every parameter
    whose default is changing (scikit-learn >= 1.8 warns otherwise), L2
    penalty, C chosen by log-loss on an inner 3-fold CV."""
    # Newton-Cholesky: a few exact Newton steps, far faster than L-BFGS on the
    # small, often separable, per-task problems (it forms the d x d Hessian).
    params = {
        "Cs": np.logspace(-3, 3, 7),
        "cv": 3,
        "solver": "newton-cholesky",
        "max_iter": 1000,
        "scoring": "neg_log_loss",
    }
    defaults = LogisticRegressionCV().get_params()
    if defaults.get("l1_ratios") == "warn":
        params["l1_ratios"] = (0.0,)
    if defaults.get("use_legacy_attributes") == "warn":
        params["use_legacy_attributes"] = False
    return LogisticRegressionCV(**params)


def _default_baselines(task_column, classification):
    inner = _logistic_cv() if classification else RidgeCV(alphas=_RIDGE_ALPHAS)
    return {
        "independent": IndependentTasks(inner, task_column=task_column),
        "pooled": PooledTasks(clone(inner), task_column=task_column),
    }


def _final_step(estimator):
    """The estimator a Pipeline ends with (the estimator itself otherwise)."""
    steps = getattr(estimator, "steps", None)
    return _final_step(steps[-1][1]) if steps else estimator


def _find_references(estimators):
    """Names of the models serving as IndependentTasks / PooledTasks references.

    The first :class:`IndependentTasks` and the first :class:`PooledTasks`
    without task features (one-hot task features make a model with task
    offsets, not the "all tasks are the same" baseline), possibly at the end
    of a Pipeline; None when there is none.
    """
    final = {name: _final_step(est) for name, est in estimators.items()}
    independent = [n for n, e in final.items() if isinstance(e, IndependentTasks)]
    pooled = [
        n for n, e in final.items() if isinstance(e, PooledTasks) and e.task_features is None
    ]
    return {
        "independent": (independent or [None])[0],
        "pooled": (pooled or [None])[0],
    }


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def _check_estimators(estimators):
    if not isinstance(estimators, dict) or not estimators:
        raise ValueError(
            "estimators must be a non-empty dict mapping model names to estimators, "
            f"e.g. {{'group lasso': GroupLassoRegressor(...)}}; got {estimators!r}."
        )
    for name, est in estimators.items():
        if not isinstance(name, str):
            raise TypeError(f"Model names must be strings; got {name!r}.")
        if not (hasattr(est, "fit") and hasattr(est, "predict")):
            raise TypeError(
                f"estimators[{name!r}] is not an estimator (it needs fit and predict); "
                f"got {type(est).__name__}."
            )


def _check_scoring(scoring):
    """``(name, greater_is_better, response_method)`` of a per-task metric."""
    if isinstance(scoring, str):
        if scoring not in _METRICS:
            raise ValueError(
                f"Unknown scoring {scoring!r}; use one of {sorted(_METRICS)} or a callable "
                "metric(y_true, y_pred) -> float applied to each task (greater is better)."
            )
        return scoring, _METRICS[scoring][1], _RESPONSE.get(scoring, ("predict",))
    if callable(scoring):
        return getattr(scoring, "__name__", type(scoring).__name__), True, ("predict",)
    raise TypeError(
        f"scoring must be a per-task metric name or a callable; got {type(scoring).__name__}."
    )


def _same_column(a, b, X):
    """Whether two task_column values designate the same column of ``X``."""
    if a == b:
        return True
    try:
        return task_column_position(X, a) == task_column_position(X, b)
    except (ValueError, TypeError):
        return False


def _check_task_columns(estimators, task_column, X):
    for name, est in estimators.items():
        found = _find_task_column(est)
        if found is None:
            continue
        if task_column is None or not _same_column(found, task_column, X):
            raise ValueError(
                f"estimators[{name!r}] reads its task labels from task_column={found!r} but "
                f"compare_with_single_task was called with task_column={task_column!r}; "
                "give every model and the comparison the same task column."
            )


def _check_alpha(alpha):
    if (
        isinstance(alpha, (bool, np.bool_))
        or not isinstance(alpha, numbers.Real)
        or not 0 < alpha < 1
    ):
        raise ValueError(f"alpha must be a significance level in (0, 1); got alpha={alpha!r}.")


def _task_layout(X, y, task_column):
    """Task labels and, per row, the task code (long) or the label matrix (wide).

    Returns ``(tasks, codes, y_scores)``: sorted task labels (long) or column
    labels (wide: DataFrame column names, else positions); the (n,) task
    code of every row (long) or None (wide); ``y`` as an array for scoring,
    2-D in the wide layout.
    """
    y_arr = np.asarray(y)
    n = X.shape[0] if hasattr(X, "shape") else len(X)
    if y_arr.ndim not in (1, 2) or y_arr.shape[0] != n:
        raise ValueError(
            f"X has {n} rows but y has shape {y_arr.shape}; expected ({n},) or ({n}, n_tasks)."
        )
    if task_column is None:
        if y_arr.ndim == 1:
            y_arr = y_arr[:, None]
        tasks = np.asarray(y.columns) if hasattr(y, "columns") else np.arange(y_arr.shape[1])
        return tasks, None, y_arr
    if y_arr.ndim == 2 and y_arr.shape[1] == 1:
        y_arr = y_arr.ravel()
    if y_arr.ndim != 1:
        raise ValueError(
            f"With task_column={task_column!r} (long layout) y must be 1-D, one label per "
            f"row; got shape {y_arr.shape}."
        )
    labels = split_task_column(X, task_column)[1]
    tasks, codes, _, _ = _group_by_task(labels)
    return tasks, codes, y_arr


def _make_cv(cv, task_column):
    if cv is None:
        return TaskStratifiedShuffleSplit(
            n_splits=5, test_size=0.25, task_column=task_column, random_state=0
        )
    if isinstance(cv, numbers.Integral) and not isinstance(cv, (bool, np.bool_)):
        return TaskStratifiedKFold(n_splits=cv, shuffle=True, task_column=task_column, random_state=0)
    return check_cv(cv)


# --------------------------------------------------------------------------
# One (model, split) job
# --------------------------------------------------------------------------


def _two_classes(y_true, codes, n_tasks):
    """Tasks with two distinct labels among ``y_true`` (ROC AUC needs both)."""
    if codes is None:  # wide: one column per task
        return np.array(
            [len(np.unique(col[~_missing(col)])) == 2 for col in y_true.T], dtype=bool
        )
    _, cls = np.unique(y_true, return_inverse=True)
    pairs = np.unique(codes * (cls.max() + 1) + cls.reshape(-1))
    return np.bincount(pairs // (cls.max() + 1), minlength=n_tasks) == 2


def _fold_task_scores(y_true, y_pred, codes, n_tasks, metric):
    """Per-task scores of one test fold, NaN for tasks without (scorable) labels.

    ``codes`` gives each test row's task (long layout); None means ``y_true``
    is the wide (n, n_tasks) label matrix.
    """
    _, per_task = _resolve_metric(metric)
    scores = np.full(n_tasks, np.nan)
    if codes is None:
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        present = (~_missing(y_true)).any(axis=0)
    else:
        present = np.bincount(codes, minlength=n_tasks) > 0
    if metric == "roc_auc":
        # A task with one class in this test fold has no AUC: NaN, not an error.
        present &= _two_classes(y_true, codes, n_tasks)
    if not present.any():
        return scores
    with warnings.catch_warnings():
        # R^2 of a task with one test row is NaN; the result reports the
        # number of splits each task was scored on.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        if codes is None:
            entries = _collect(y_true[:, present], y_pred[:, present])
        else:
            keep = present[codes]
            entries = _collect(y_true[keep], y_pred[keep], codes[keep])
        scores[np.flatnonzero(present)] = per_task(entries)
    return scores


def _fit_and_score(estimator, X, y, y_scores, codes, n_tasks, train, test, metric,
                   response_method, return_predictions):
    """Fit on ``train``, score every task on ``test``; runs in a joblib worker."""
    # The warnings are kept (the filters in force still apply, so "error"
    # still raises) and reported once per model, not once per fit.
    with warnings.catch_warnings(record=True) as caught:
        start = time.perf_counter()
        estimator = clone(estimator).fit(_safe_indexing(X, train), _safe_indexing(y, train))
        fit_time = time.perf_counter() - start
        X_test = _safe_indexing(X, test)
        y_test = y_scores[test]
        response = _get_response(estimator, X_test, response_method, y_test)
    if isinstance(response, (list, tuple)):
        # Wide-layout decision_function of a multi-output model: one 1-D
        # array per task (predict_proba lists are reduced by _get_response).
        response = np.column_stack(response)
    response = np.asarray(response)
    expected = (len(test),) if codes is not None else y_test.shape
    if response.shape != expected and not (codes is None and response.shape == expected[:1]
                                           and expected[1] == 1):
        layout = (
            "one prediction per row (long layout)"
            if codes is not None
            else "one column per task of y (wide layout)"
        )
        raise ValueError(
            f"{type(estimator).__name__} returned predictions of shape {response.shape} for "
            f"test targets of shape {expected}; every model must predict {layout}."
        )
    scores = _fold_task_scores(
        y_test, response, None if codes is None else codes[test], n_tasks, metric
    )
    caught = [(w.category, str(w.message)) for w in caught]
    return scores, fit_time, (response if return_predictions else None), caught


def _warning_summary(caught, n_splits, width=150):
    """One line for a model's fit warnings: how many, in how many splits, the first one."""
    _, category, message = caught[0]
    first = f"{category}: {message.strip().splitlines()[0]}"
    if len(first) > width:
        first = first[: width - 3] + "..."
    n_fits = len({k for k, *_ in caught})
    return f"{len(caught)} warning(s) in {n_fits} of {n_splits} fits, first {first}"


class _Progress:
    """A progress indication on stderr ("[compare] 7/20 fits (...), 3.1 s elapsed").

    On a terminal one line is rewritten in place; otherwise (a log file, a
    pipe) a line is printed at most once every ``interval`` seconds, so a
    short run prints nothing but its last line and a long one a few lines
    a minute. ``verbose > 1`` prints every fit.
    """

    def __init__(self, total, verbose, interval=2.0):
        self.total, self.verbose, self.done = total, verbose, 0
        self.start = self.last = time.perf_counter()
        self.interval = 0.0 if verbose > 1 else interval
        self.tty = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()

    def update(self, label):
        self.done += 1
        now = time.perf_counter()
        if not self.verbose:
            return
        final = self.done == self.total
        if not (self.tty or final or now - self.last >= self.interval):
            return
        self.last = now
        message = (
            f"[compare] {self.done}/{self.total} fits ({label}), "
            f"{now - self.start:.1f} s elapsed"
        )
        if self.tty:
            print("\r" + message.ljust(78), end="\n" if final else "", file=sys.stderr, flush=True)
        else:
            print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Paired test across splits
# --------------------------------------------------------------------------


def _paired_test(diff, ratio, test):
    """Two-sided p-values of paired differences, one test per task.

    Parameters
    ----------
    diff : ndarray of shape (n_splits, n_tasks)
        Score differences (NaN where a split did not score the task).
    ratio : ndarray of shape (n_tasks,)
        Mean ``n_test / n_train`` of each task, for the corrected test.
    test : {"corrected_t", "t"}

    Returns
    -------
    pvalues : ndarray of shape (n_tasks,)
        NaN for a task scored on fewer than two splits; 1 when every
        difference is zero; 0 when the differences are identical and
        non-zero (the limit of the t statistic as their variance vanishes).
    """
    valid = np.isfinite(diff)
    k = valid.sum(axis=0)
    d = np.where(valid, diff, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = d.sum(axis=0) / k
        var = ((d - mean) ** 2 * valid).sum(axis=0) / (k - 1)
        # Nadeau & Bengio (2003): the splits share training rows, so the
        # differences are correlated and var/k underestimates the variance
        # of their mean; (1/k + n_test/n_train) var corrects for it.
        factor = 1.0 / k + (ratio if test == "corrected_t" else 0.0)
        t_stat = mean / np.sqrt(factor * var)
        pvalues = 2 * stats.t.sf(np.abs(t_stat), np.maximum(k - 1, 1))
    # Zero variance (up to rounding): the t statistic is 0/0 or +-inf.
    scale = np.max(np.abs(d), axis=0) if len(d) else np.zeros(diff.shape[1])
    flat = np.sqrt(np.maximum(var, 0)) <= 1e-12 * scale
    flat |= scale == 0
    pvalues = np.where(flat, np.where(np.abs(mean) <= 1e-12 * scale, 1.0, 0.0), pvalues)
    pvalues[k < 2] = np.nan
    return pvalues


# --------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------


def _py(value):
    """A JSON-ready Python scalar (NaN and inf become None)."""
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _py_list(values):
    return [_py_list(v) if isinstance(v, (list, np.ndarray)) else _py(v) for v in values]


# How the report names a metric.
_DISPLAY = {"r2": "R^2", "mse": "MSE", "rmse": "RMSE", "mae": "MAE", "nmse": "nMSE",
            "roc_auc": "ROC AUC"}


def _format_table(header, rows, align):
    """Text table with every column as wide as its widest cell.

    ``align`` holds one ``"<"`` (left) or ``">"`` (right) per column;
    columns are two spaces apart, trailing blanks removed.
    """
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    return "\n".join(
        "  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(line, align, widths)).rstrip()
        for line in [header, *rows]
    )


def _label(value):
    return str(value.item() if isinstance(value, np.generic) else value)


class ComparisonResult:
    """Per-task comparison of models with the single-task baselines.

    Returned by :func:`compare_with_single_task`; see there for how it is
    computed. Scores keep the metric's own sign (an RMSE is shown as an
    RMSE); *gains* are always "positive = better than the reference".

    Parameters
    ----------
    models : list of str
        Model names, baselines first.
    tasks : ndarray of shape (n_tasks,)
        Task labels.
    scores : ndarray of shape (n_models, n_splits, n_tasks)
        Test score of every model on every task in every split; NaN where a
        split has no (scorable) test row of the task.
    scoring : str
        Name of the per-task metric.
    greater_is_better : bool
    references : dict
        ``{"independent": name or None, "pooled": name or None}``.
    test_train_ratio : ndarray of shape (n_tasks,)
        Mean over splits of each task's ``n_test / n_train``.
    fit_times : ndarray of shape (n_models, n_splits)
        Seconds spent in ``fit``.
    test : {"corrected_t", "t"}, default="corrected_t"
    alpha : float, default=0.05
    n_test : ndarray of shape (n_splits, n_tasks), default=None
        Number of test labels of each task in each split.
    predictions : dict, default=None
        ``{name: [y_pred of split 0, ...]}`` when requested.
    splits : list of (train, test), default=None
        The row indices of every split.
    fit_warnings : dict, default=None
        ``{name: [(split, category name, message), ...]}``: the warnings
        raised while fitting and scoring each model (an empty list when
        none).

    Attributes
    ----------
    mean_scores, std_scores : ndarray of shape (n_models, n_tasks)
        Mean and (population, ``ddof=0``) standard deviation over splits.
    n_scored : ndarray of shape (n_models, n_tasks)
        Number of splits that scored each task.
    gain_vs_independent, gain_vs_pooled : ndarray of shape (n_models, n_tasks)
        Mean over splits of the paired score difference with the reference,
        signed so that positive is better (NaN without that reference).
    pvalue_vs_independent, pvalue_vs_pooled : ndarray of shape (n_models, n_tasks)
        Two-sided p-value of the paired test of that difference (NaN for
        the reference itself and for tasks scored on fewer than 2 splits).
    hurt : ndarray of bool of shape (n_models, n_tasks)
        Negative transfer: significantly worse than IndependentTasks
        (``pvalue_vs_independent < alpha`` and a negative gain).
    helped : ndarray of bool of shape (n_models, n_tasks)
        Significantly better than IndependentTasks.
    summary : dict
        Per model: ``mean_score`` and ``median_score`` (mean and median
        over tasks of the per-task mean), ``std_score`` (standard deviation
        over splits of the mean over tasks), ``mean_gain_vs_independent``,
        ``mean_gain_vs_pooled`` and their medians over tasks
        ``median_gain_vs_*`` (robust to one task with a huge score, as an
        R^2 of -4000), ``n_better`` and ``n_worse`` (tasks with a positive
        or negative mean gain over IndependentTasks, significant or not),
        ``n_helped``, ``n_hurt``, ``n_tasks`` and ``fit_time`` (mean
        seconds per fit).
    """

    def __init__(
        self,
        models,
        tasks,
        scores,
        scoring,
        greater_is_better,
        references,
        test_train_ratio,
        fit_times,
        *,
        test="corrected_t",
        alpha=0.05,
        n_test=None,
        predictions=None,
        splits=None,
        fit_warnings=None,
    ):
        self.models = list(models)
        self.tasks = np.asarray(tasks)
        self.scores = np.asarray(scores, dtype=np.float64)
        self.scoring = scoring
        self.greater_is_better = bool(greater_is_better)
        self.references = dict(references)
        self.test_train_ratio = np.asarray(test_train_ratio, dtype=np.float64)
        self.fit_times = np.asarray(fit_times, dtype=np.float64)
        self.test = test
        self.alpha = alpha
        self.n_test = n_test
        self.predictions = predictions
        self.splits = splits
        self.fit_warnings = {name: [] for name in self.models}
        self.fit_warnings.update(fit_warnings or {})
        self._compute()

    # ------------------------------------------------------------ statistics
    @property
    def n_splits(self):
        return self.scores.shape[1]

    def _compute(self):
        scored = np.isfinite(self.scores)
        self.n_scored = scored.sum(axis=1)
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN tasks
            self.mean_scores = np.nanmean(self.scores, axis=1)
            self.std_scores = np.nanstd(self.scores, axis=1)
        sign = 1.0 if self.greater_is_better else -1.0
        shape = self.mean_scores.shape
        for ref in _REFERENCES:
            gain, pvalue = np.full(shape, np.nan), np.full(shape, np.nan)
            name = self.references.get(ref)
            if name is not None:
                r = self.models.index(name)
                for m in range(len(self.models)):
                    diff = sign * (self.scores[m] - self.scores[r])
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)
                        gain[m] = np.nanmean(diff, axis=0)
                    if m != r:
                        pvalue[m] = _paired_test(diff, self.test_train_ratio, self.test)
            setattr(self, f"gain_vs_{ref}", gain)
            setattr(self, f"pvalue_vs_{ref}", pvalue)
        significant = self.pvalue_vs_independent < self.alpha
        self.hurt = significant & (self.gain_vs_independent < 0)
        self.helped = significant & (self.gain_vs_independent > 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fold_means = np.nanmean(self.scores, axis=2)  # (n_models, n_splits)
            self.summary = {
                name: {
                    "mean_score": float(np.nanmean(self.mean_scores[m])),
                    "std_score": float(np.nanstd(fold_means[m])),
                    "median_score": float(np.nanmedian(self.mean_scores[m])),
                    "mean_gain_vs_independent": float(np.nanmean(self.gain_vs_independent[m])),
                    "mean_gain_vs_pooled": float(np.nanmean(self.gain_vs_pooled[m])),
                    "median_gain_vs_independent": float(np.nanmedian(self.gain_vs_independent[m])),
                    "median_gain_vs_pooled": float(np.nanmedian(self.gain_vs_pooled[m])),
                    "n_better": int((self.gain_vs_independent[m] > 0).sum()),
                    "n_worse": int((self.gain_vs_independent[m] < 0).sum()),
                    "n_helped": int(self.helped[m].sum()),
                    "n_hurt": int(self.hurt[m].sum()),
                    "n_tasks": len(self.tasks),
                    "fit_time": float(np.mean(self.fit_times[m])),
                }
                for m, name in enumerate(self.models)
            }

    def _index(self, model):
        if model not in self.models:
            raise KeyError(f"No model {model!r}; models are {self.models}.")
        return self.models.index(model)

    def hurt_tasks(self, model):
        """Labels of the tasks ``model`` hurts (negative transfer).

        Parameters
        ----------
        model : str

        Returns
        -------
        tasks : ndarray
        """
        return self.tasks[self.hurt[self._index(model)]]

    def helped_tasks(self, model):
        """Labels of the tasks ``model`` significantly improves over IndependentTasks.

        Parameters
        ----------
        model : str

        Returns
        -------
        tasks : ndarray
        """
        return self.tasks[self.helped[self._index(model)]]

    # ---------------------------------------------------------------- export
    _PER_TASK = (
        "mean_scores",
        "std_scores",
        "n_scored",
        "gain_vs_independent",
        "gain_vs_pooled",
        "pvalue_vs_independent",
        "pvalue_vs_pooled",
        "helped",
        "hurt",
    )

    def to_frame(self):
        """The per-task table as a pandas DataFrame.

        Returns
        -------
        frame : pandas.DataFrame
            One row per (model, task) — a ``MultiIndex`` named ``model``,
            ``task`` — with columns ``mean``, ``std``, ``n_scored``,
            ``gain_vs_independent``, ``gain_vs_pooled``,
            ``pvalue_vs_independent``, ``pvalue_vs_pooled``, ``helped``,
            ``hurt``. ``frame.loc["pooled"]`` is the table of one model.
        """
        pd = _require_pandas("ComparisonResult.to_frame")
        index = pd.MultiIndex.from_product([self.models, self.tasks], names=["model", "task"])
        columns = {
            name.replace("_scores", ""): getattr(self, name).reshape(-1) for name in self._PER_TASK
        }
        return pd.DataFrame(columns, index=index)

    def summary_frame(self):
        """The per-model summary as a pandas DataFrame indexed by model.

        Returns
        -------
        frame : pandas.DataFrame
        """
        pd = _require_pandas("ComparisonResult.summary_frame")
        frame = pd.DataFrame.from_dict(self.summary, orient="index")
        frame.index.name = "model"
        return frame

    def to_dict(self):
        """Everything as JSON-serializable Python objects (NaN becomes None).

        Returns
        -------
        result : dict
            ``scoring``, ``greater_is_better``, ``test``, ``alpha``,
            ``n_splits``, ``tasks``, ``references``, and ``models``: for each
            model ``{"per_task": {...arrays over tasks..., "fold_scores":
            (n_splits, n_tasks)}, "summary": {...}}``, and ``fit_warnings``:
            for each model a list of ``[split, category, message]``.
        """
        per_task = {
            name: {
                key.replace("_scores", ""): _py_list(getattr(self, key)[m])
                for key in self._PER_TASK
            }
            for m, name in enumerate(self.models)
        }
        for m, name in enumerate(self.models):
            per_task[name]["fold_scores"] = _py_list(self.scores[m])
        return {
            "scoring": self.scoring,
            "greater_is_better": self.greater_is_better,
            "test": self.test,
            "alpha": self.alpha,
            "n_splits": self.n_splits,
            "tasks": _py_list(self.tasks),
            "references": self.references,
            "models": {
                name: {
                    "per_task": per_task[name],
                    "summary": {k: _py(v) for k, v in self.summary[name].items()},
                }
                for name in self.models
            },
            "fit_warnings": {
                name: [list(entry) for entry in caught] for name, caught in self.fit_warnings.items()
            },
        }

    def to_json(self, **kwargs):
        """:meth:`to_dict` as a JSON string (``kwargs`` go to ``json.dumps``).

        Returns
        -------
        text : str
        """
        return json.dumps(self.to_dict(), **kwargs)

    # ---------------------------------------------------------------- report
    def _test_text(self):
        name = (
            "corrected paired t-test (Nadeau & Bengio 2003)"
            if self.test == "corrected_t"
            else "paired t-test"
        )
        return f"{name} across the {self.n_splits} splits, alpha={self.alpha:g}"

    def _task_table(self, max_tasks, notes, all_tasks_hint):
        n_tasks = len(self.tasks)
        rows = np.arange(n_tasks)
        footer = []
        if max_tasks is not None and n_tasks > max_tasks:
            flagged = np.flatnonzero((self.hurt | self.helped).any(axis=0))
            rows = (flagged if len(flagged) else rows)[:max_tasks]
            footer.append(
                f"({len(rows)} of {n_tasks} tasks shown"
                + (", those with a flag" if len(flagged) else "")
                + f"; {all_tasks_hint})"
            )
        labels = [_label(t) for t in self.tasks]
        notes = {} if notes is None else {_label(k): str(v) for k, v in notes.items()}
        with_notes = any(labels[t] in notes for t in rows)
        pick = np.nanargmax if self.greater_is_better else np.nanargmin
        table = []
        for t in rows:
            cells = [
                f"{self.mean_scores[m, t]:.3f} ±{self.std_scores[m, t]:.3f} "
                + ("+" if self.helped[m, t] else "-" if self.hurt[m, t] else " ")
                for m in range(len(self.models))
            ]
            column = self.mean_scores[:, t]
            best = self.models[pick(column)] if np.isfinite(column).any() else ""
            table.append([labels[t], *([notes.get(labels[t], "")] if with_notes else []), *cells, best])
        for name, key in (("mean", "mean_score"), ("median", "median_score")):
            cells = [f"{self.summary[n][key]:.3f}  " for n in self.models]
            table.append([name, *([""] if with_notes else []), *cells, ""])
        header = ["task", *([""] if with_notes else []), *(f"{n}  " for n in self.models), "best"]
        align = ">" + ("<" if with_notes else "") + ">" * len(self.models) + "<"
        return "\n".join([_format_table(header, table, align), *footer])

    def _summary_table(self):
        metric = _DISPLAY.get(self.scoring, self.scoring)
        header = ["model", f"mean {metric}", "median", "±std", "gain vs indep.", "gain vs pooled",
                  "better", "worse", "helped", "hurt", "fit (s)"]
        rows = []
        for name, s in self.summary.items():
            is_ref = name == self.references.get("independent")
            gains = [
                "(ref.)" if name == self.references.get(ref) else f"{s[f'median_gain_vs_{ref}']:+.4f}"
                for ref in _REFERENCES
            ]
            counts = ["" if is_ref else str(s[key]) for key in ("n_better", "n_worse", "n_helped", "n_hurt")]
            rows.append([name, f"{s['mean_score']:.4f}", f"{s['median_score']:.4f}",
                         f"{s['std_score']:.4f}", *gains, *counts, f"{s['fit_time']:.2f}"])
        return _format_table(header, rows, "<" + ">" * (len(header) - 1))

    def _warnings_text(self):
        lines = [
            f"  {name}: {_warning_summary(caught, self.n_splits)}"
            for name, caught in self.fit_warnings.items()
            if caught
        ]
        return ["", "Warnings during the fits, one line per model:", *lines] if lines else []

    def report(self, max_tasks=30, notes=None):
        """A readable text report: the per-task table and the summary.

        Parameters
        ----------
        max_tasks : int or None, default=30
            With more tasks, only the flagged ones (up to ``max_tasks``) are
            listed; None lists every task.
        notes : dict, default=None
            ``{task label: short text}`` shown in a column next to the task.

        Returns
        -------
        text : str
        """
        return self._report(max_tasks, notes, "report(max_tasks=None) or to_frame() for all")

    def _report(self, max_tasks, notes, all_tasks_hint):
        """:meth:`report`, the truncated task table pointing at ``all_tasks_hint``."""
        direction = "greater" if self.greater_is_better else "lower"
        ref = self.references.get("independent")
        legend = (
            f"Flags vs {ref!r} ({self._test_text()}): + helped, - hurt (negative transfer)."
            if ref is not None
            else "No IndependentTasks model to compare with: no helped/hurt flags."
        )
        lines = [
            f"Per-task test {_DISPLAY.get(self.scoring, self.scoring)} ({direction} is better), "
            "mean ±std over "
            f"{self.n_splits} splits, {len(self.tasks)} tasks.",
            legend,
            self._task_table(max_tasks, notes, all_tasks_hint),
            "",
            self._summary_table(),
            "Gains: median over tasks (robust to a task with an extreme score; the means are "
            "in summary).\nbetter/worse: tasks with a positive/negative mean gain over "
            "IndependentTasks; helped/hurt: those the paired test finds significant.",
            *self._warnings_text(),
        ]
        return "\n".join(lines)

    def __str__(self):
        return self.report()

    def __repr__(self):
        return (
            f"ComparisonResult(models={self.models}, n_tasks={len(self.tasks)}, "
            f"n_splits={self.n_splits}, scoring={self.scoring!r})"
        )


def _require_pandas(what):
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(
            f"{what} requires pandas, which is not installed; pip install pandas "
            "(or use to_dict())."
        ) from exc
    return pd


# --------------------------------------------------------------------------
# Public function
# --------------------------------------------------------------------------


def compare_with_single_task(
    estimators,
    X,
    y,
    *,
    task_column=None,
    cv=None,
    scoring="r2",
    baselines="auto",
    test="corrected_t",
    alpha=0.05,
    n_jobs=None,
    return_predictions=False,
    verbose=0,
):
    """Compare models with the single-task baselines, task by task.

    Every model is fitted on the training rows of every split of ``cv`` and
    each task is scored on its own test rows. Per task, the fold scores of
    each model are compared with those of the IndependentTasks model (no
    transfer) and of the PooledTasks model (full sharing) by a two-sided
    paired test across splits. A task where a model is significantly worse
    than IndependentTasks is flagged as **hurt** (negative transfer); one
    where it is significantly better as **helped**.

    Warnings raised while fitting and scoring (a ``ConvergenceWarning`` per
    fit of an iterative model, say) are collected per model in
    ``result.fit_warnings`` and issued once per model at the end, in place
    of one per fit; a filter that turns them into errors still raises.

    Parameters
    ----------
    estimators : dict of str -> estimator
        The models to compare, by name. They must use the same layout as
        the comparison (the same ``task_column``).
    X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
        Long layout: includes the task column.
    y : array-like or DataFrame of shape (n_samples,) or (n_samples, n_tasks)
        Long layout: one label per row. Wide layout: one column per task,
        NaN = missing label (DataFrame column names become task labels).
    task_column : int, str or None, default=None
        None: wide layout (each column of ``y`` is a task). Otherwise the
        column of ``X`` holding each row's task label (long layout).
    cv : int, cross-validation generator, iterable or None, default=None
        None: ``TaskStratifiedShuffleSplit(n_splits=5, test_size=0.25,
        random_state=0)``, a random 75/25 split of every task's rows, five
        times. An int ``k``: ``TaskStratifiedKFold(k, shuffle=True,
        random_state=0)``. A splitter is called as ``cv.split(X, y,
        groups=task_labels)`` (no ``groups`` in the wide layout); an
        iterable gives ``(train, test)`` index arrays. The paired tests
        need at least two splits (with one, a warning is given and nothing
        is flagged).
    scoring : str or callable, default="r2"
        Per-task metric: ``"r2"``, ``"explained_variance"``, ``"mse"``,
        ``"rmse"``, ``"mae"``, ``"nmse"`` (lower is better for these four),
        ``"accuracy"``, ``"balanced_accuracy"``, ``"roc_auc"`` (scored on
        ``decision_function`` or ``predict_proba``; a task with one class in
        a test fold is not scored on that fold), or a callable
        ``metric(y_true, y_pred) -> float`` on one task's rows, greater is
        better.
    baselines : {"auto"} or None, default="auto"
        ``"auto"``: the first :class:`~skmtl.multitask.IndependentTasks`
        among ``estimators`` (possibly ending a Pipeline) is the
        independent reference, and the first
        :class:`~skmtl.multitask.PooledTasks` without task features the
        pooled reference; a missing one is added, named
        ``"independent"`` / ``"pooled"``, wrapping ``RidgeCV(alphas=
        np.logspace(-3, 4, 15))`` for regression or an L2
        ``LogisticRegressionCV`` (C in ``np.logspace(-3, 3, 7)`` chosen by
        inner 3-fold log-loss, ``solver="newton-cholesky"``) when
        ``scoring`` is a classification metric or an estimator is a
        classifier. None: add nothing; gains and flags are computed only
        against references found among ``estimators``.
    test : {"corrected_t", "t"}, default="corrected_t"
        The paired test of the per-split score differences ``d_k`` of a
        task (``k = 1..K`` splits that scored it):
        ``t = mean(d) / sqrt(c * var(d))`` with ``K - 1`` degrees of
        freedom, ``var`` the unbiased variance. ``"t"``: ``c = 1/K``, the
        classical paired t-test (``scipy.stats.ttest_rel``).
        ``"corrected_t"``: ``c = 1/K + n_test/n_train`` (the task's mean
        ratio), the corrected resampled t-test of Nadeau & Bengio (2003),
        which accounts for the training rows that the splits share (the
        plain test then rejects far too often). Identical non-zero
        differences give p = 0, all-zero differences p = 1, a task scored
        on fewer than two splits p = NaN (no flag).
    alpha : float in (0, 1), default=0.05
        Significance level of the per-task tests (not adjusted for the
        number of tasks: expect about ``alpha * n_tasks`` false flags among
        tasks where nothing changes).
    n_jobs : int, default=None
        Number of (model, split) fits run in parallel by joblib; any joblib
        backend applies (``joblib.parallel_backend("dask")`` for a Dask
        cluster).
    return_predictions : bool, default=False
        Keep every model's test predictions (``result.predictions``) and the
        splits (``result.splits``), e.g. to compute other metrics.
    verbose : int, default=0
        Print progress on stderr (one line per completed fit when > 1).

    Returns
    -------
    result : ComparisonResult
        Per-task table (``mean_scores``, ``std_scores``, gains, p-values,
        ``hurt``, ``helped``), ``summary``, ``report()``, ``to_frame()``,
        ``to_dict()``.

    See Also
    --------
    skmtl.multitask.IndependentTasks, skmtl.multitask.PooledTasks
    skmtl.model_selection.TaskStratifiedShuffleSplit
    skmtl.plotting.plot_task_gains : bar chart of a result's per-task gains.

    References
    ----------
    .. [1] C. Nadeau and Y. Bengio, "Inference for the generalization error",
       Machine Learning 52(3), 2003.

    Examples
    --------
    >>> from sklearn.linear_model import RidgeCV
    >>> from skmtl.datasets import make_clustered_multitask
    >>> from skmtl.model_selection import compare_with_single_task
    >>> from skmtl.multitask import PooledTasks
    >>> X, y, truth = make_clustered_multitask(
    ...     n_samples=30, n_features=5, n_tasks=4, n_clusters=1, layout="long", random_state=0)
    >>> result = compare_with_single_task(
    ...     {"onehot": PooledTasks(RidgeCV(), task_column=-1, task_features="onehot")},
    ...     X, y, task_column=-1)
    >>> result.models
    ['independent', 'pooled', 'onehot']
    >>> result.mean_scores.shape  # (n_models, n_tasks)
    (3, 4)
    """
    _check_estimators(estimators)
    metric_name, greater_is_better, response_method = _check_scoring(scoring)
    _check_alpha(alpha)
    if test not in _TESTS:
        raise ValueError(f"test must be one of {_TESTS}; got test={test!r}.")
    if baselines not in ("auto", None):
        raise ValueError(f'baselines must be "auto" or None; got baselines={baselines!r}.')
    tasks, codes, y_scores = _task_layout(X, y, task_column)
    _check_task_columns(estimators, task_column, X)

    models = dict(estimators)
    references = _find_references(models)
    if baselines == "auto":
        classification = metric_name in _CLASSIFICATION_METRICS or any(
            is_classifier(e) for e in estimators.values()
        )
        added = {
            name: est
            for name, est in _default_baselines(task_column, classification).items()
            if references[name] is None
        }
        clash = sorted(set(added) & set(estimators))
        if clash:
            raise ValueError(
                f"A model is named {clash[0]!r} but is not a {type(added[clash[0]]).__name__}; "
                "rename it or pass baselines=None."
            )
        models = {**added, **models}
        references.update({name: name for name in added})

    splits = [
        (np.asarray(train), np.asarray(test_rows))
        for train, test_rows in _make_cv(cv, task_column).split(
            X, y, groups=None if codes is None else tasks[codes]
        )
    ]
    if not splits:
        raise ValueError("cv gave no train/test split.")
    if len(splits) == 1:
        warnings.warn(
            "cv gave a single split: the paired tests need at least two, so every "
            "p-value is NaN and no task is flagged as helped or hurt.",
            UserWarning,
            stacklevel=2,
        )
    # Test/train label counts of every task in every split (corrected test).
    if codes is None:
        labeled = ~_missing(y_scores)
        counts = [(labeled[tr].sum(axis=0), labeled[te].sum(axis=0)) for tr, te in splits]
    else:
        counts = [
            (np.bincount(codes[tr], minlength=len(tasks)), np.bincount(codes[te], minlength=len(tasks)))
            for tr, te in splits
        ]
    n_train = np.array([c[0] for c in counts], dtype=np.float64)
    n_test = np.array([c[1] for c in counts])
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a task never trained on: NaN
        ratio = np.nanmean(np.where(n_train > 0, n_test / n_train, np.nan), axis=0)

    names = list(models)
    jobs = [(m, k) for m in range(len(names)) for k in range(len(splits))]
    progress = _Progress(len(jobs), verbose)
    parallel = Parallel(n_jobs=n_jobs, return_as="generator" if verbose else "list")
    outputs = []
    for (m, k), out in zip(
        jobs,
        parallel(
            delayed(_fit_and_score)(
                models[names[m]], X, y, y_scores, codes, len(tasks), splits[k][0], splits[k][1],
                scoring, response_method, return_predictions,
            )
            for m, k in jobs
        ),
    ):
        outputs.append(out)
        progress.update(f"{names[m]}, split {k + 1}/{len(splits)}")

    n_models, n_splits = len(names), len(splits)
    scores = np.array([o[0] for o in outputs]).reshape(n_models, n_splits, len(tasks))
    fit_times = np.array([o[1] for o in outputs]).reshape(n_models, n_splits)
    predictions = None
    if return_predictions:
        predictions = {
            name: [outputs[m * n_splits + k][2] for k in range(n_splits)]
            for m, name in enumerate(names)
        }
    fit_warnings = {}
    for m, name in enumerate(names):
        caught = [
            (k, category, message)
            for k in range(n_splits)
            for category, message in outputs[m * n_splits + k][3]
        ]
        fit_warnings[name] = [(k, category.__name__, message) for k, category, message in caught]
        if caught:
            warnings.warn(
                f"{name}: {_warning_summary(fit_warnings[name], n_splits)} "
                "(all of them in result.fit_warnings).",
                caught[0][1],
                stacklevel=2,
            )
    return ComparisonResult(
        names,
        tasks,
        scores,
        metric_name,
        greater_is_better,
        references,
        ratio,
        fit_times,
        test=test,
        alpha=alpha,
        n_test=n_test,
        predictions=predictions,
        splits=splits if return_predictions else None,
        fit_warnings=fit_warnings,
    )
