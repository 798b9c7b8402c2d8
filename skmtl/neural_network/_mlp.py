"""Multi-task multilayer perceptrons: a shared trunk and one head per task.

Hard parameter sharing (Caruana 1997): every task reads the same learned
representation (the trunk) through its own head. The estimators follow
scikit-learn's ``MLPRegressor`` / ``MLPClassifier`` (parameters, Adam/SGD,
Glorot initialization, stopping rules, ``loss_curve_``) and skmtl's two data
layouts. The heavy lifting is in ``_layers.py`` (pure functions),
``_optimizers.py`` and ``_weighting.py``.
"""

import numbers
import warnings

import numpy as np
from sklearn.base import (
    BaseEstimator,
    clone,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    RegressorMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._data import _encode_tasks, check_task_data
from ..base import MultiTaskMixin
from ..model_selection import TaskStratifiedShuffleSplit
from ..utils._compat import check_n_features_and_names
from ._layers import (
    data_term_gradients,
    init_params,
    output_loss,
    output_probabilities,
    penalty,
    predict_activations,
    predict_logits,
    task_sums,
    task_totals,
)
from ._optimizers import AdamOptimizer, SGDOptimizer
from ._sharing import class_curvature, evidence_update, head_gram_eigenvalues
from ._weighting import make_weighting, pcgrad

__all__ = ["MultiTaskMLPClassifier", "MultiTaskMLPRegressor"]

# alpha="auto": the data term sums the tasks' mean losses, so a penalty that
# weighs the same against each task grows with their number. 0.5 per task
# came out of benchmarks/mlp_school.py defaults (School and Landmine: best
# or within 0.005 of the best of 0.2, 0.3, 0.5 per task and of fixed values).
_ALPHA_PER_TASK = 0.5

# Small data sets (fewer than _LARGE_DATA rows) train with smaller batches
# and a larger step: batch_size="auto" is min(200, ceil(n / 10)) rows, at
# least 10 steps per epoch (alpha="auto" shrinks with the batch), and
# learning_rate_init="auto" is 1e-3 * min(3, 2000 / n). With min(200, n)
# rows and 1e-3, an epoch of 240 rows was 2 steps, and n_iter_no_change
# epochs stopped training before it had learned (the 8 tasks of 30 rows of
# tests/neural_network/test_quality.py: mean R^2 0.58; 0.75 now); smaller
# batches alone needed more than max_iter epochs at 1e-3. School and
# Landmine have more than 2,000 rows: 200 rows and 1e-3 for them (3e-3
# was worse there), see benchmarks/mlp_school.py.
_MIN_BATCHES = 10
_LARGE_BATCH = 200
_LARGE_DATA = 2000
_BASE_LEARNING_RATE = 1e-3
_MAX_LEARNING_RATE_FACTOR = 3.0

# learning_rate="adaptive" divides the rate by this factor on each plateau
# of the stopping criterion, at most this many times.
_ADAPTIVE_FACTOR = 10.0
_ADAPTIVE_STEPS = 2

# head_sharing="auto" starts from a ridge-like pull of strength 1 (weak next
# to a task's sum of squares) and updates it after every epoch.
_INITIAL_SHARING = 1.0


def _check_layer_sizes(sizes, name, *, allow_empty):
    sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
    if not allow_empty and not sizes:
        raise ValueError(f"{name} must have at least one layer; got {sizes}.")
    if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
        raise ValueError(f"{name} must contain only positive integers; got {tuple(sizes)}.")
    return [int(s) for s in sizes]


def _check_mlp_sample_weight(sample_weight):
    """Reject negative and all-zero weights (shape, NaN, inf: check_task_data).

    scikit-learn >= 1.6 rejects all-zero weights itself; 1.5 does not.
    """
    if sample_weight is None:
        return
    if np.any(sample_weight < 0):
        raise ValueError(
            f"sample_weight must be non-negative; got {int((sample_weight < 0).sum())} "
            f"negative value(s), the smallest {sample_weight.min()}."
        )
    if not np.any(sample_weight > 0):
        raise ValueError("sample_weight must contain at least one non-zero value; all are 0.")


def _entry_weights(shape, observed, sample_weight):
    """Weight of each (row, task) entry: the row's weight where labeled, else 0."""
    weight = np.ones(shape) if observed is None else observed.astype(np.float64)
    if sample_weight is not None:
        weight *= sample_weight if len(shape) == 1 else sample_weight[:, None]
    return weight


class _BaseMultiTaskMLP(MultiTaskMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin):
    """Shared fit flow of the two estimators; subclasses encode targets."""

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(numbers.Integral, 1, None, closed="left")],
        "head_layer_sizes": ["array-like", Interval(numbers.Integral, 1, None, closed="left")],
        "task_encoding": [StrOptions({"heads", "embedding"})],
        "embedding_dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "linear_skip": ["boolean"],
        "head_sharing": [StrOptions({"auto"}), Interval(numbers.Real, 0, None, closed="left"), None],
        "activation": [StrOptions({"relu", "tanh", "logistic"})],
        "alpha": [StrOptions({"auto"}), Interval(numbers.Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "adaptive"})],
        "learning_rate_init": [StrOptions({"auto"}), Interval(numbers.Real, 0, None, closed="neither")],
        "solver": [StrOptions({"adam", "sgd"})],
        "momentum": [Interval(numbers.Real, 0, 1, closed="both")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "early_stopping": [StrOptions({"auto"}), "boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "task_weighting": [StrOptions({"equal", "uncertainty", "dwa", "gradnorm"}), "array-like"],
        "gradient_surgery": [StrOptions({"pcgrad"}), None],
        "gradnorm_alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "dwa_temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "n_ensembles": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "dtype": [type, str],
        "verbose": ["verbose"],
        "task_column": [numbers.Integral, str, None],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        *,
        head_layer_sizes=(),
        task_encoding="heads",
        embedding_dim=8,
        linear_skip=True,
        head_sharing="auto",
        activation="relu",
        alpha="auto",
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init="auto",
        solver="adam",
        momentum=0.9,
        max_iter=500,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping="auto",
        validation_fraction=0.1,
        task_weighting="equal",
        gradient_surgery=None,
        gradnorm_alpha=1.5,
        dwa_temperature=2.0,
        n_ensembles=1,
        random_state=None,
        dtype=np.float32,
        verbose=False,
        task_column=None,
        warm_start=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.head_layer_sizes = head_layer_sizes
        self.task_encoding = task_encoding
        self.embedding_dim = embedding_dim
        self.linear_skip = linear_skip
        self.head_sharing = head_sharing
        self.activation = activation
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.solver = solver
        self.momentum = momentum
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.task_weighting = task_weighting
        self.gradient_surgery = gradient_surgery
        self.gradnorm_alpha = gradnorm_alpha
        self.dwa_temperature = dwa_temperature
        self.n_ensembles = n_ensembles
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose
        self.task_column = task_column
        self.warm_start = warm_start

    # ------------------------------------------------------------------ data
    def _check_dtype(self):
        try:
            dtype = np.dtype(self.dtype)
        except TypeError:
            dtype = None
        if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(f"dtype must be float32 or float64; got {self.dtype!r}.")
        return dtype

    def _validate_training_data(self, X, y, sample_weight, reset):
        """TaskData plus row task codes in the fitted ``tasks_`` (long layout)."""
        if reset:
            data = self._validate_fit(X, y, sample_weight)
            _check_mlp_sample_weight(data.sample_weight)
            return data, data.task_codes
        check_n_features_and_names(self, X, reset=False)
        data = check_task_data(
            X,
            y,
            task_column=self.task_column,
            target_type="classification" if self._kind == "classification" else "continuous",
            sample_weight=sample_weight,
            accept_sparse=self._accept_sparse,
            estimator_name=type(self).__name__,
        )
        _check_mlp_sample_weight(data.sample_weight)
        if data.task_codes is not None:
            return data, _encode_tasks(data.tasks, self.tasks_)[data.task_codes]
        if data.n_tasks != self.n_tasks_:
            raise ValueError(
                f"y has {data.n_tasks} task column(s), but {type(self).__name__} was "
                f"fitted with {self.n_tasks_}."
            )
        return data, None

    def _initialize(self, n_samples, n_features, dtype, early_stopping, sample_weight):
        hidden = _check_layer_sizes(self.hidden_layer_sizes, "hidden_layer_sizes", allow_empty=False)
        heads = _check_layer_sizes(self.head_layer_sizes, "head_layer_sizes", allow_empty=True)
        self._random_state = check_random_state(self.random_state)
        if self.batch_size == "auto":
            self._batch_size = min(_LARGE_BATCH, -(-n_samples // _MIN_BATCHES))
        else:
            self._batch_size = min(self.batch_size, n_samples)
        # Sums of weights, so that weighted rows count as repeated ones.
        total = n_samples if sample_weight is None else float(sample_weight.sum())
        batch_weight = self._batch_size * total / n_samples
        # The penalty alpha / (2 n_b) of every step adds up to alpha / (2 n_b)
        # per epoch: proportional to n_b, "auto" weighs the same for any batch size.
        self.alpha_ = (
            _ALPHA_PER_TASK * self.n_tasks_ * batch_weight / _LARGE_BATCH if self.alpha == "auto"
            else float(self.alpha)
        )
        self.learning_rate_init_ = (
            _BASE_LEARNING_RATE * np.clip(_LARGE_DATA / total, 1, _MAX_LEARNING_RATE_FACTOR)
            if self.learning_rate_init == "auto" else float(self.learning_rate_init)
        )
        self._n_trunk = len(hidden)
        self._dtype = dtype
        embedded = self.task_encoding == "embedding"
        if embedded and (self.gradient_surgery is not None or self.task_weighting == "gradnorm"):
            raise ValueError(
                "gradient_surgery and task_weighting='gradnorm' act on per-task gradients of the "
                "layers shared under the task heads; use them with task_encoding='heads'."
            )
        sizes = [n_features, *hidden, *heads, self._n_units]
        # Layers shared by all tasks: the trunk, or every layer with embeddings.
        self._n_shared = len(sizes) - 1 if embedded else self._n_trunk
        # The embeddings are extra inputs of the first layer (Glorot over both).
        self.coefs_, self.intercepts_ = init_params(
            [n_features + self.embedding_dim * embedded, *sizes[1:]], self._n_shared, self.n_tasks_,
            self.activation, dtype, self._random_state,
        )
        self.n_layers_ = len(sizes)
        # Zero: training starts from the network of the pooled tasks, each
        # with its own output intercept.
        self.task_embedding_ = np.zeros((self.n_tasks_, self.embedding_dim), dtype=dtype) if embedded else None
        if embedded:
            self.intercepts_[-1] = np.tile(self.intercepts_[-1], (self.n_tasks_, 1))
        # Zero: training starts from the network without the skip path.
        self.skip_coef_ = (
            np.zeros((n_features, self.n_tasks_, self._n_units), dtype=dtype) if self.linear_skip else None
        )
        self.shared_head_coefs_ = None
        self.head_sharing_ = None
        heads = self._weights()[self._heads()]
        if self.head_sharing is not None and self.n_tasks_ > 1 and heads:
            self.shared_head_coefs_ = [W.mean(axis=1) for W in heads]
            start = _INITIAL_SHARING if self.head_sharing == "auto" else float(self.head_sharing)
            self.head_sharing_ = np.full(len(self.shared_head_coefs_), start)
        self._weighting = make_weighting(
            self.task_weighting,
            self.n_tasks_,
            temperature=self.dwa_temperature,
            gradnorm_alpha=self.gradnorm_alpha,
        )
        params = self._params()
        if self.solver == "adam":
            self._optimizer = AdamOptimizer(params, self.learning_rate_init_)
        else:
            self._optimizer = SGDOptimizer(params, self.learning_rate_init_, self.momentum)
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self.task_loss_curve_ = []
        self.task_weights_history_ = []
        self.best_loss_ = np.inf
        self._no_improvement_count = 0
        self._learning_rate_drops = 0
        self._early_stopping = early_stopping
        if early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None

    def _weights(self):
        """Every penalized weight array: layers, then the skip path and the task embeddings if any."""
        extra = [W for W in (self.skip_coef_, self.task_embedding_) if W is not None]
        return [*self.coefs_, *extra]

    def _heads(self):
        """Slice of ``_weights()`` holding the per-task linear heads (pulled to shared ones).

        The output layer when each task has its own, then the skip path.
        """
        first = len(self.coefs_) - (self.task_embedding_ is None)
        return slice(first, len(self.coefs_) + (self.skip_coef_ is not None))

    def _params(self):
        # The order of the gradients of data_term_gradients, then the shared heads'.
        return [*self._weights(), *self.intercepts_, *self._weighting.params, *(self.shared_head_coefs_ or [])]

    # -------------------------------------------------------------- training
    def _fit(self, X, y, sample_weight=None, *, incremental, classes=None):
        fitted = hasattr(self, "coefs_")
        first = not fitted or not (incremental or self.warm_start)
        if fitted and not first:
            previous = (self.n_features_in_, self.n_tasks_, self.tasks_)
        data, codes = self._validate_training_data(X, y, sample_weight, reset=first or not incremental)
        dtype = self._check_dtype() if first else self._dtype
        if first:
            self._set_problem(data, classes)
        elif not incremental and (
            previous[0] != self.n_features_in_
            or previous[1] != self.n_tasks_
            or not np.array_equal(previous[2], self.tasks_)
        ):
            raise ValueError(
                "warm_start=True needs the same features and tasks as the previous fit; "
                "set warm_start=False to start afresh."
            )
        target, observed = self._encode_targets(data, codes)
        Xd = data.X.astype(dtype, copy=False)
        if first:
            early_stopping = self._resolve_early_stopping(Xd.shape[0], self._validation_strata(target, codes))
            self._initialize(*Xd.shape, dtype, early_stopping, data.sample_weight)
            if self._kind == "regression":
                self._start_at_task_means(target, observed, codes, data.sample_weight)
        if self._kind == "regression":
            target = target.astype(dtype, copy=False)
        self._train(Xd, target, observed, codes, data.sample_weight, incremental)
        self.task_weights_ = np.asarray(self._weighting.weights(), dtype=np.float64).copy()
        if first:
            # Seeds of the other members, drawn after this network's training
            # (whose random numbers it leaves as with n_ensembles=1).
            seeds = check_random_state(self.random_state).randint(np.iinfo(np.int32).max, size=self.n_ensembles - 1)
            self.ensemble_ = [clone(self).set_params(n_ensembles=1, random_state=int(seed)) for seed in seeds]
        for member in self.ensemble_:
            member._fit(X, y, sample_weight, incremental=incremental, classes=classes)
        return self

    def _start_at_task_means(self, target, observed, codes, sample_weight):
        """Output intercepts at each task's (weighted) mean target (embeddings: the overall mean).

        Adam moves a weight by about ``learning_rate_init`` per step, so the
        offset of a target that is not centered took hundreds of epochs: on
        Parkinsons (total_UPDRS, 7 to 55, standardized features) 3 of 5
        seeds stopped at max_iter=500 with a ConvergenceWarning.
        """
        target = np.asarray(target, dtype=np.float64)
        weight = _entry_weights(target.shape, observed, sample_weight)
        totals = task_sums(weight, codes, self.n_tasks_)
        sums = task_sums(weight * target, codes, self.n_tasks_)
        if self.task_encoding == "embedding":
            # One mean for all: the tasks' differences are the embeddings' to learn.
            totals, sums = totals.sum(), sums.sum()
        means = sums / np.maximum(totals, np.finfo(np.float64).tiny)
        self.intercepts_[-1][:, 0] += np.asarray(means, dtype=self.intercepts_[-1].dtype)

    def _validation_strata(self, target, codes):
        """Strata of the validation split: each task (long layout), each task's class (classifier).

        None in the wide layout, where a row holds every task's label.
        """
        if codes is None:
            return None
        if self._kind == "classification":
            return codes * int(self._problem["n_classes"].max()) + target
        return codes

    def _resolve_early_stopping(self, n, strata):
        """``early_stopping``, "auto" being True when some stratum can give a validation row."""
        if self.early_stopping != "auto":
            return self.early_stopping
        if strata is None:
            return n >= 2
        return bool(np.bincount(strata).max() >= 2)

    def _train(self, X, target, observed, codes, sample_weight, incremental):
        n = X.shape[0]
        rng = self._random_state
        early_stopping = self._early_stopping and not incremental
        if early_stopping:
            # validation_fraction of every stratum (a stratum of one row trains).
            splitter = TaskStratifiedShuffleSplit(1, test_size=self.validation_fraction, random_state=rng)
            strata = self._validation_strata(target, codes)
            if n < 2 or (strata is not None and np.bincount(strata).max() < 2):
                raise ValueError(
                    f"early_stopping with validation_fraction={self.validation_fraction} "
                    f"leaves no training or validation rows out of {n}."
                )
            train, val = next(splitter.split(np.zeros((n, 1)), groups=strata))
            val_data = self._take(X, target, observed, codes, sample_weight, rows=val)
            X, target, observed, codes, sample_weight = self._take(
                X, target, observed, codes, sample_weight, rows=train
            )
            n = X.shape[0]
        batch_size = min(self._batch_size, n)
        n_epochs = 1 if incremental else self.max_iter
        n_tasks = self.n_tasks_
        # Share of the training weight held by each task's labels, n_t / N:
        # a batch of weight n_b divides task t's loss sum by n_b n_t / N, its
        # expected weight of task t, so the batch objective is unbiased.
        total = n if sample_weight is None else float(sample_weight.sum())
        self._train_task_totals = task_totals(n, observed, codes, n_tasks, sample_weight)
        task_share = self._train_task_totals / total
        learn_sharing = self.head_sharing == "auto" and self.shared_head_coefs_ is not None
        if learn_sharing:
            weight = self._curvature_weights(target, observed, codes, sample_weight)
            # Aligned with _heads(): the output layer's (its inputs move with
            # the trunk: computed below), then the skip path's (fixed inputs).
            output_head = self.task_embedding_ is None
            eigenvalues = [None] * output_head
            if self.skip_coef_ is not None:
                eigenvalues.append(self._gram_eigenvalues(X, weight, codes))
        converged = False
        for _ in range(n_epochs):
            perm = rng.permutation(n)
            loss_sum = 0.0
            task_sum = np.zeros(n_tasks)
            task_count = np.zeros(n_tasks)
            for start in range(0, n, batch_size):
                idx = np.sort(perm[start : start + batch_size])
                # Overflow is caught below as a non-finite loss, with advice.
                with np.errstate(over="ignore", invalid="ignore"):
                    loss, task_losses, denominators = self._step(
                        *self._take(X, target, observed, codes, sample_weight, rows=idx), task_share
                    )
                loss_sum += loss * len(idx)
                # sum_b D_t L_t = the task's loss sum over the epoch; sum_b D_t = n_t
                task_sum += task_losses * denominators
                task_count += denominators
            self.n_iter_ += 1
            self.t_ += n
            loss = loss_sum / n
            task_loss = np.where(task_count > 0, task_sum / np.maximum(task_count, 1), np.nan)
            if not np.isfinite(loss):
                raise ValueError(
                    f"Training of {type(self).__name__} diverged: the loss is {loss} at "
                    f"iteration {self.n_iter_}. Try a smaller learning_rate_init, a larger "
                    "alpha, or standardizing X and y."
                )
            self.loss_curve_.append(loss)
            self.task_loss_curve_.append(task_loss)
            if learn_sharing:
                epoch = len(self.loss_curve_)
                if output_head and (eigenvalues[0] is None or (epoch & (epoch - 1) == 0 and epoch.bit_length() % 2)):
                    # The output layer's inputs move with the trunk: recompute at
                    # epochs 1, 4, 16, 64, ... (a log of the epochs' cost).
                    coefs, intercepts = self._cast_params(X.dtype)
                    inputs = predict_activations(coefs[:-1], intercepts[:-1], self._n_trunk, X, codes, self.activation)
                    eigenvalues[0] = self._gram_eigenvalues(inputs, weight, codes)
                self._update_head_sharing(eigenvalues, task_loss)
            self._weighting.end_epoch(task_loss)
            self.task_weights_history_.append(np.array(self._weighting.weights(), dtype=np.float64))
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {loss:.8f}")
            if incremental:
                continue
            if self._stop(loss, val_data if early_stopping else None):
                converged = True
                break
        if early_stopping and getattr(self, "_best_params", None) is not None:
            for p, best in zip(self._params(), self._best_params):
                p[...] = best
        if incremental:
            self.stopping_reason_ = "partial_fit"
        elif converged:
            self.stopping_reason_ = "validation_score" if early_stopping else "training_loss"
        else:
            self.stopping_reason_ = "max_iter"
            warnings.warn(
                f"{type(self).__name__}: maximum iterations ({self.max_iter}) reached and "
                f"the optimization hasn't converged yet (the {'validation score' if early_stopping else 'training loss'} "
                f"improved by more than tol={self.tol} within the last {self.n_iter_no_change} "
                "epochs). Increase max_iter or learning_rate_init, or raise tol.",
                ConvergenceWarning,
            )

    def _stop(self, loss, val_data):
        """scikit-learn's rule: no improvement > tol for n_iter_no_change epochs."""
        if val_data is not None:
            score = self._validation_score(*val_data)
            self.validation_scores_.append(score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = [p.copy() for p in self._params()]
        else:
            if loss > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            self.best_loss_ = min(self.best_loss_, loss)
        if self._no_improvement_count > self.n_iter_no_change:
            if self.learning_rate == "adaptive" and self._learning_rate_drops < _ADAPTIVE_STEPS:
                self._learning_rate_drops += 1
                self._optimizer.learning_rate_init /= _ADAPTIVE_FACTOR
                self._no_improvement_count = 0
                if val_data is not None:
                    # Go on from the best weights: the last ones are past the plateau.
                    for p, best in zip(self._params(), self._best_params):
                        p[...] = best
                if self.verbose:
                    print(f"No improvement for {self.n_iter_no_change} consecutive epochs. "
                          f"Learning rate set to {self._optimizer.learning_rate_init:g}.")
                return False
            if self.verbose:
                print(f"No improvement for {self.n_iter_no_change} consecutive epochs. Stopping.")
            return True
        return False

    @staticmethod
    def _take(*arrays, rows):
        """Rows of each array (None stays None)."""
        return tuple(None if a is None else a[rows] for a in arrays)

    def _step(self, X, target, observed, codes, sample_weight, task_share):
        """One minibatch: objective, per-task loss estimates, their denominators; updates params.

        ``task_share`` is ``n_t / N`` over the training data: task ``t``'s
        loss sum is divided by ``D_t = n_b n_t / N`` (``n_b`` the batch's
        weight), so every ``L_t`` is an unbiased estimate of the task's
        mean loss over all its rows, whatever the batch holds of it.
        """
        n_tasks = self.n_tasks_
        weighting = self._weighting
        # scikit-learn's MLP divides the penalty by the batch's total weight.
        total = X.shape[0] if sample_weight is None else float(sample_weight.sum())
        if total == 0:
            # Only zero-weight rows: the batch is as good as absent.
            return 0.0, np.zeros(n_tasks), np.zeros(n_tasks)
        denominators = task_share * total
        per_task = weighting.needs_task_grads or self.gradient_surgery is not None
        data_value, task_losses, counts, coef_grads, intercept_grads, task_grads = data_term_gradients(
            self.coefs_, self.intercepts_, self._n_shared, X, target, observed, codes, self._problem,
            self.activation, weighting.weights(), sample_weight, denominators, per_task_trunk=per_task,
            skip=self.skip_coef_, embedding=self.task_embedding_,
        )
        present = counts > 0
        objective = data_value + weighting.extra_objective()
        weights = self._weights()
        objective += 0.5 * self.alpha_ * penalty(weights) / total
        grad_norms = None
        if per_task:
            last = task_grads[-2:]  # weights and biases of the last shared layer
            grad_norms = np.sqrt(sum((g.reshape(n_tasks, -1).astype(np.float64) ** 2).sum(axis=1) for g in last))
            if self.gradient_surgery == "pcgrad":
                self._apply_pcgrad(task_grads, coef_grads, intercept_grads)
        for layer, W in enumerate(weights):
            coef_grads[layer] += (self.alpha_ / total) * W
        shared = self.shared_head_coefs_ or []
        shared_grads = []
        if shared:
            objective += self._pull_to_shared_heads(weights, coef_grads, shared_grads)
            previous = [S.copy() for S in shared]
        weight_grads = weighting.param_grads(task_losses, present, grad_norms)
        self._optimizer.update(
            self._params(), [*coef_grads, *intercept_grads, *weight_grads, *shared_grads]
        )
        # W_t = S + D_t: the optimizer stepped each W_t as its deviation;
        # the shared head's step moves every task's head.
        for W, S, S_old in zip(weights[self._heads()], shared, previous if shared else []):
            W += (S - S_old)[:, None]
        weighting.after_update()
        return objective, task_losses, denominators

    def _pull_to_shared_heads(self, weights, coef_grads, shared_grads):
        """Add the pull of each head towards the shared head; return its value.

        In the coordinates ``(S, D_t)`` of ``W_t = S + D_t``, the gradient
        of the shared head is the sum of the heads' gradients and the
        penalty ``sum_t w_t lambda / (2 n_t) ||D_t||^2`` acts on the
        deviations only (``_sharing.py``).
        """
        totals = self._train_task_totals
        per_task = np.where(totals > 0, self._weighting.weights() / np.where(totals > 0, totals, 1), 0.0)
        value = 0.0
        heads = range(len(weights))[self._heads()]
        for layer, S, strength in zip(heads, self.shared_head_coefs_, self.head_sharing_):
            grad = coef_grads[layer]
            shared_grads.append(grad.sum(axis=1))
            D = weights[layer] - S[:, None]
            value += 0.5 * strength * float(per_task @ np.einsum("itk,itk->t", D, D))
            grad += (strength * per_task[:, None] * D).astype(grad.dtype, copy=False)
        return value

    def _curvature_weights(self, target, observed, codes, sample_weight):
        """Each entry's weight in the heads' Gram matrices: row weight times curvature."""
        weight = _entry_weights(target.shape, observed, sample_weight)
        if self._kind == "classification":
            curvature = class_curvature(target, weight, codes, self.n_tasks_, self._problem["n_classes"])
            weight = weight * (curvature[codes] if codes is not None else curvature)
        return weight

    def _gram_eigenvalues(self, inputs, weight, codes):
        return head_gram_eigenvalues(inputs, weight, codes, self.n_tasks_, self._random_state)

    def _update_head_sharing(self, eigenvalues, task_loss):
        """Evidence update of each shared head's strength after an epoch (``_sharing.py``)."""
        weights = self._weights()[self._heads()]
        strengths = self.head_sharing_
        units = np.ones(self.n_tasks_)
        variance = 1.0
        if self._kind == "regression":
            gamma = sum(float((e / (e + lam)).sum()) for e, lam in zip(eigenvalues, strengths))
            totals = self._train_task_totals
            variance = float(np.nansum(2 * totals * task_loss)) / max(totals.sum() - gamma, 1.0)
        else:
            n_classes = self._problem["n_classes"]
            units = np.where(n_classes == 2, 1, n_classes).astype(np.float64)
        for i, (W, S, e) in enumerate(zip(weights, self.shared_head_coefs_, eigenvalues)):
            D = W.astype(np.float64) - S[:, None]
            strengths[i] = evidence_update(strengths[i], e, units, float(np.vdot(D, D)), variance)

    def _apply_pcgrad(self, task_grads, coef_grads, intercept_grads):
        n_tasks = self.n_tasks_
        sizes = [g[0].size for g in task_grads]
        G = np.concatenate([g.reshape(n_tasks, -1) for g in task_grads], axis=1)
        total = pcgrad(G, self._random_state).sum(axis=0)
        pieces = np.split(total, np.cumsum(sizes)[:-1])
        for layer in range(self._n_trunk):
            coef_grads[layer] = pieces[2 * layer].reshape(coef_grads[layer].shape)
            intercept_grads[layer] = pieces[2 * layer + 1].reshape(intercept_grads[layer].shape)

    # ------------------------------------------------------------ prediction
    def _cast_params(self, dtype):
        return (
            [W.astype(dtype, copy=False) for W in self.coefs_],
            [b.astype(dtype, copy=False) for b in self.intercepts_],
        )

    def _cast_embedding(self, dtype):
        return None if self.task_embedding_ is None else self.task_embedding_.astype(dtype, copy=False)

    def _logits(self, X, codes):
        coefs, intercepts = self._cast_params(X.dtype)
        skip = None if self.skip_coef_ is None else self.skip_coef_.astype(X.dtype, copy=False)
        return predict_logits(
            coefs, intercepts, self._n_shared, X, codes, self.activation, skip, self._cast_embedding(X.dtype)
        )

    def _member_logits(self, X):
        """Logits of this network and of the other ensemble members, and the rows' task codes."""
        check_is_fitted(self)
        features, codes = self._validate_predict(X)
        return [member._logits(features, codes) for member in (self, *self.ensemble_)], codes

    @property
    def _n_features_out(self):
        """Width of the representation returned by :meth:`transform`."""
        width = self.coefs_[self._n_trunk - 1].shape[1]
        wide_embedding = self.task_embedding_ is not None and self.task_column is None
        return width * self.n_tasks_ if wide_embedding else width

    def transform(self, X):
        """Shared representation: the last hidden layer of the trunk (activated).

        With ``task_encoding="embedding"`` the trunk reads the task: the
        long layout gives each row's representation for its own task (a
        task seen in fit), the wide layout every task's, side by side.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
            In the long layout the task column is ignored with task heads
            (the trunk is shared, so rows of unseen tasks can be transformed).

        Returns
        -------
        H : ndarray of shape (n_samples, hidden_layer_sizes[-1])
            (n_samples, n_tasks * hidden_layer_sizes[-1]) with embeddings
            in the wide layout, task by task.
        """
        check_is_fitted(self)
        embedding = self.task_embedding_ is not None
        features, codes = self._validate_predict(X, known_tasks=embedding)
        coefs, intercepts = self._cast_params(features.dtype)
        H = predict_activations(
            coefs[: self._n_trunk], intercepts[: self._n_trunk], self._n_trunk, features, codes,
            self.activation, self._cast_embedding(features.dtype),
        )
        return H.reshape(H.shape[0], -1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class MultiTaskMLPRegressor(_BaseMultiTaskMLP, RegressorMixin, BaseEstimator):
    r"""Multi-task MLP regressor: shared hidden layers, one head per task.

    Every row goes through the shared trunk (``hidden_layer_sizes``); task
    ``t`` reads the trunk's last layer through its own head
    (``head_layer_sizes`` hidden layers, then one linear output unit).
    The objective is

    .. math::

        \sum_t w_t L_t + \frac{\alpha}{2 n_b} \sum_l \|W_l\|_F^2,
        \qquad L_t = \frac{1}{2 n_{t}} \sum_{i \in t} s_i (y_{it} - f_t(x_i))^2,

    where ``s_i`` is the row's ``sample_weight`` (1 by default),
    ``n_t = sum_{i in t} s_i`` runs over ALL the labeled training rows of
    task ``t`` (a NaN label in the wide layout is masked out of that task
    only; without weights ``n_t`` is their number), the penalty runs over
    all weights of trunk and heads (not intercepts), ``n_b`` is the total
    weight of a minibatch (scikit-learn's convention; ``N = sum_i s_i`` over
    all training rows for one full batch) and ``w_t`` comes from
    ``task_weighting``. Minibatch Adam or SGD steps on a batch ``b`` take
    the gradient of

    .. math::

        \frac{N}{n_b} \sum_t \frac{w_t}{2 n_t} \sum_{i \in b \cap t}
        s_i (y_{it} - f_t(x_i))^2 + \frac{\alpha}{2 n_b} \sum_l \|W_l\|_F^2:

    each row keeps its weight ``w_t s_i / n_t`` of the full data term,
    however many rows of its task the batch holds, so a batch's data term
    is an unbiased estimate of the full one, and an epoch's batches,
    weighted by ``n_b / N``, add up to it exactly. With one task
    (``n_t = N``) and no head layers this is exactly scikit-learn's
    ``MLPRegressor``, per batch and in full, weighted or not (half the
    weighted mean squared error plus ``alpha / 2 ||W||^2 / n_b``). Early
    stopping takes ``n_t`` and ``N`` from the rows left for training,
    :meth:`partial_fit` from the rows of the call.

    Read more in the :ref:`User Guide <neural_network>`.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(100,)
        Sizes of the shared (trunk) layers; at least one.
    head_layer_sizes : array-like of int, default=()
        Sizes of the hidden layers of each task's head (before its output).
    task_encoding : {"heads", "embedding"}, default="heads"
        How the network tells the tasks apart. "heads": one head per task
        on the shared trunk. "embedding": a learned vector ``e_t`` of
        ``embedding_dim`` numbers per task (``task_embedding_``, started
        at zero) is appended to the inputs of the first layer, and every
        layer is shared, the output layer included (one head, with an
        intercept per task): ``f_t(x) = g([x, e_t]) + x @
        skip_coef_[:, t]``. A task then costs ``embedding_dim`` parameters
        instead of a head, for many tasks of few rows each that vary
        smoothly (tasks that are points of a low-dimensional space). In the
        wide layout every row goes through the network once per task.
        Not with ``gradient_surgery`` or ``task_weighting="gradnorm"``.
    embedding_dim : int, default=8
        Length of each task's embedding with ``task_encoding="embedding"``.
    linear_skip : bool, default=True
        Add a linear term of the inputs to each task's output (wide and
        deep): ``f_t(x) = head_t(trunk(x)) + x @ skip_coef_[:, t]``, so the
        network contains the per-task and the pooled linear models.
    head_sharing : "auto", float >= 0 or None, default="auto"
        Pull of each task's linear heads (the output layer and the skip
        path) towards a shared head: ``W_t = S + D_t`` with the penalty
        ``sum_t w_t lambda / (2 n_t) ||D_t||^2``, task by task a ridge of
        strength ``lambda`` (in the scale of a sum of squared errors)
        centred on ``S``. 0 gives independent heads, a large value one
        pooled head (each task keeps its intercept). "auto" estimates one
        ``lambda`` per shared head by an evidence (empirical-Bayes) update
        after every epoch, as in a hierarchical model. None: no shared
        head (the plain multi-head network). Ignored with one task. With
        ``task_encoding="embedding"`` it acts on the skip path only.
    activation : {"relu", "tanh", "logistic"}, default="relu"
    alpha : "auto" or float, default="auto"
        Strength of the L2 penalty (scikit-learn's convention, above).
        "auto" is ``0.5 * n_tasks * B / 200`` with ``B`` the weight of a
        minibatch (its rows without ``sample_weight``): 0.5 per task for
        batches of 200 rows. The data term sums the tasks' mean losses, so
        the penalty grows with their number to weigh the same against each
        (chosen on School and Landmine, see :ref:`benchmarks_mlp`); and the
        penalties ``alpha / (2 n_b)`` of an epoch's steps add up to
        ``alpha / (2 B)``, so ``alpha`` proportional to ``B`` makes the
        penalty per epoch the same for any batch size.
    batch_size : int or "auto", default="auto"
        Rows per minibatch; "auto" is ``min(200, ceil(n_samples / 10))``:
        batches of 200 rows, but at least 10 per epoch on small data sets
        (``max_iter`` and ``n_iter_no_change`` count epochs, and an epoch of
        one or two steps stops training before it has learned).
    learning_rate : {"constant", "adaptive"}, default="constant"
        "adaptive": each time the stopping rule (``tol``,
        ``n_iter_no_change``) would end the fit, the step is divided by 10
        and training goes on (from the best weights with early stopping);
        the third time ends it. "constant" was as good on School and
        Landmine and cheaper (:ref:`benchmarks_mlp`).
    learning_rate_init : float or "auto", default="auto"
        Step size of Adam or SGD. "auto" is ``1e-3 * min(3, max(1, 2000 /
        N))`` (``N`` the rows' total weight): scikit-learn's 1e-3 from
        2,000 rows on, up to 3e-3 on small data sets, where 1e-3 needed
        more than ``max_iter`` epochs (``learning_rate_init_``). The "auto"
        values of ``alpha``, ``batch_size`` and ``learning_rate_init`` are
        set from the rows of ``fit`` (of the first ``partial_fit`` call).
    solver : {"adam", "sgd"}, default="adam"
    momentum : float, default=0.9
        Nesterov momentum of ``solver="sgd"``.
    max_iter : int, default=500
        Maximum number of epochs: a cap, the stopping rule below ends fits
        at the defaults (School and Landmine: 37-60 epochs; 8 tasks of 30
        rows: 153-169; scikit-learn's 200 cut some fits on small data sets
        short, with a ConvergenceWarning).
    tol : float, default=1e-4
        Training stops when the validation score with early stopping (else
        the training loss) has not improved by ``tol`` for more than
        ``n_iter_no_change`` epochs; ``stopping_reason_`` says which rule
        ended it.
    n_iter_no_change : int, default=10
    early_stopping : "auto" or bool, default="auto"
        Hold out ``validation_fraction`` of the rows, score them after each
        epoch (R^2, see ``validation_scores_``), stop on no improvement and
        keep the best weights. In the long layout the held-out rows are
        ``validation_fraction`` of every task's rows
        (:class:`~skmtl.model_selection.TaskStratifiedShuffleSplit`; a task
        with one row keeps it for training); in the wide layout, of all
        rows. "auto": on unless no row can be held out (then the training
        loss decides).
    validation_fraction : float, default=0.1
    task_weighting : {"equal", "uncertainty", "dwa", "gradnorm"} or array-like of shape (n_tasks,), default="equal"
        ``w_t`` above: equal, learned homoscedastic uncertainty (Kendall et
        al. 2018; adds ``sum_t s_t / 2`` with ``w_t = exp(-s_t)``), dynamic
        weight average (Liu et al. 2019), GradNorm (Chen et al. 2018), or
        fixed weights.
    gradient_surgery : {"pcgrad"} or None, default=None
        "pcgrad": project conflicting task gradients of the shared layers
        (Yu et al. 2020) before summing them.
    gradnorm_alpha : float, default=1.5
        GradNorm's asymmetry parameter.
    dwa_temperature : float, default=2.0
        Dynamic weight average's temperature.
    n_ensembles : int, default=1
        Seed ensemble: ``fit`` (and ``partial_fit``) also trains
        ``n_ensembles - 1`` copies of the network (``ensemble_``) with
        seeds drawn from ``random_state``, each with its own
        initialization, batches and validation split, and ``predict``
        averages the predictions of all ``n_ensembles`` networks
        (the classifier: their probabilities). The fitted attributes other
        than ``ensemble_`` (``coefs_``, ``loss_curve_``, ...) and
        ``transform`` are this network's, which is the one fitted with
        ``n_ensembles=1``. Costs ``n_ensembles`` fits.
    random_state : int, RandomState instance or None, default=None
        Initialization, shuffling, validation split and PCGrad orders.
    dtype : {np.float32, np.float64}, default=np.float32
        Training precision. Predictions are computed in the precision of the
        ``X`` given to ``predict`` and returned as float64.
    verbose : bool, default=False
    task_column : int, str or None, default=None
        None: wide layout, ``y`` (n_samples, n_tasks) with NaN = missing.
        Otherwise the column of ``X`` holding each row's task (long layout).
    warm_start : bool, default=False
        Reuse the previous weights (same features and tasks) in ``fit``.

    Attributes
    ----------
    coefs_ : list of ndarray
        ``len(hidden_layer_sizes)`` trunk matrices (fan_in, fan_out), then
        one array (fan_in, n_tasks, fan_out) per head layer, the output
        layer last (fan_out = 1). With task embeddings every layer is a
        matrix (fan_in, fan_out) and the first has ``n_features +
        embedding_dim`` rows, the embeddings' weights last.
    task_embedding_ : ndarray of shape (n_tasks, embedding_dim) or None
        The tasks' embeddings (None with task heads).
    skip_coef_ : ndarray of shape (n_features, n_tasks, 1) or None
        The linear skip path's weights (None without ``linear_skip``).
    shared_head_coefs_ : list of ndarray or None
        The shared heads ``S``: (fan_in, 1) of the output layer, then
        (n_features, 1) of the skip path if any; ``coefs_[-1][:, t] - S``
        is task ``t``'s deviation. None without ``head_sharing`` or with
        one task.
    head_sharing_ : ndarray of shape (n_shared_heads,) or None
        The strength ``lambda`` of each shared head (in the order of
        ``shared_head_coefs_``): ``head_sharing``, or its last estimate
        with "auto".
    intercepts_ : list of ndarray
        (fan_out,) for trunk layers, (n_tasks, fan_out) for head layers
        (with task embeddings: for the output layer only).
    n_layers_ : int
    n_iter_ : int
        Epochs run (over all ``fit``/``partial_fit`` calls since the start).
    stopping_reason_ : str
        What ended the last call: "validation_score" or "training_loss"
        (no improvement by ``tol`` for ``n_iter_no_change`` epochs),
        "max_iter" (with a ConvergenceWarning) or "partial_fit" (one epoch).
    alpha_ : float
        The L2 strength used (``alpha``, or its "auto" value).
    learning_rate_init_ : float
        The initial step size used (``learning_rate_init``, or its "auto"
        value).
    t_ : int
        Training rows seen.
    loss_curve_ : list of float
        Minibatch objective (above) averaged over each epoch's minibatches
        (weighted by their number of rows, as scikit-learn does).
    task_loss_curve_ : list of ndarray of shape (n_tasks,)
        Unweighted ``L_t`` over each epoch: the task's (weighted) mean loss
        over all its training rows, each taken when its batch was trained
        on (NaN if a task had no row).
    task_weights_ : ndarray of shape (n_tasks,)
    task_weights_history_ : list of ndarray of shape (n_tasks,)
        ``w_t`` at the end of each epoch.
    best_loss_ : float or None
    validation_scores_ : list of float
        Only with ``early_stopping``: after each epoch, the R^2 of the
        held-out labels with errors and variances summed over tasks
        (``1 - sum_t SSE_t / sum_t SST_t``, each task's variance around its
        own mean), steadier than the mean of per-task R^2 when tasks have
        few held-out rows.
    best_validation_score_ : float
        Only with ``early_stopping``.
    ensemble_ : list of MultiTaskMLPRegressor
        The other members of the seed ensemble (``n_ensembles - 1``
        networks; empty by default).
    tasks_ : ndarray of shape (n_tasks,)
    n_tasks_ : int
    n_features_in_ : int
        Columns of ``X`` in fit, the task column included.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    See Also
    --------
    MultiTaskMLPClassifier : the classification counterpart.
    sklearn.neural_network.MLPRegressor : the single-task model.

    Notes
    -----
    Wide layout: all heads read the shared representation through one
    matrix product with the (h, n_tasks, 1) output weights. Long layout:
    each row's logit uses its own task's head, gathered with
    ``coefs_[-1][:, codes]``; head gradients are segment sums over tasks (a
    sparse task-indicator product). Neither loops over rows or tasks.

    References
    ----------
    Caruana, R. (1997). Multitask learning. Machine Learning 28.
    Kendall, A., Gal, Y., Cipolla, R. (2018). Multi-task learning using
    uncertainty to weigh losses. CVPR.
    Liu, S., Johns, E., Davison, A. (2019). End-to-end multi-task learning with
    attention. CVPR.
    Chen, Z. et al. (2018). GradNorm. ICML.
    Yu, T. et al. (2020). Gradient surgery for multi-task learning. NeurIPS.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural_network import MultiTaskMLPRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 5)
    >>> Y = np.column_stack([np.sin(X[:, 0]), np.sin(X[:, 0]) + X[:, 1]])
    >>> Y[:20, 1] = np.nan  # missing labels of task 1
    >>> model = MultiTaskMLPRegressor((32,), max_iter=300, random_state=0).fit(X, Y)
    >>> model.predict(X).shape, model.transform(X).shape
    ((200, 2), (200, 32))
    """

    _kind = "regression"
    _n_units = 1

    def _set_problem(self, data, classes):
        self._problem = {"kind": "regression"}

    def _encode_targets(self, data, codes):
        if data.mask is None:
            return data.y, None
        observed = None if data.mask.all() else data.mask
        return np.where(data.mask, data.y, 0.0), observed

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to the data.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights: a row's weight multiplies its loss in
            every task it is labeled for, and ``n_t``, ``N`` and ``n_b`` in
            the objective become sums of weights (integer weights are the
            same as repeating rows within a minibatch).

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``(X, y)`` (initializes the network on the first call).

        The objective's ``n_t`` and ``N`` are those of the rows passed in
        this call, so the epoch's steps are unbiased for the objective on
        ``(X, y)``: a call is one epoch of :meth:`fit` on its rows. (Counts
        accumulated over calls would weigh a task's rows by how often it
        was seen before, not by the data of the step.)

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights, as in :meth:`fit`.

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _validation_score(self, X, target, observed, codes, sample_weight):
        """R^2 of the held-out rows, errors and variances summed over tasks.

        ``1 - sum_t SSE_t / sum_t SST_t``, each task's variance taken around
        its own mean (one task: scikit-learn's R^2). Not the mean of the
        per-task R^2: a task with a handful of held-out rows of nearly equal
        targets has a hugely negative R^2 that would stop training early.
        """
        pred = self._logits(X, codes)[..., 0].astype(np.float64)
        target = target.astype(np.float64)
        weight = _entry_weights(target.shape, observed, sample_weight)
        n_tasks = self.n_tasks_
        count = task_sums(weight > 0, codes, n_tasks)
        mean = task_sums(weight * target, codes, n_tasks) / np.maximum(
            task_sums(weight, codes, n_tasks), np.finfo(np.float64).tiny
        )
        res = task_sums(weight * (target - pred) ** 2, codes, n_tasks)
        centered = target - (mean if codes is None else mean[codes])
        tot = task_sums(weight * centered**2, codes, n_tasks)
        usable = (count > 1) & (tot > 0)
        if not usable.any():
            return float(-res.sum())
        return float(1 - res[usable].sum() / tot[usable].sum())

    def predict(self, X):
        """Predict every task (wide) or each row's own task (long).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_tasks) or (n_samples,)
            float32 for float32 ``X``, else float64 (as ``MLPRegressor``).
        """
        logits, codes = self._member_logits(X)
        # Z has the dtype of X (the weights are cast to it), so float32 input
        # gives float32 predictions, as scikit-learn's MLPRegressor.
        Z = np.mean(logits, axis=0)[..., 0]
        return Z if codes is not None else self._format_output(Z, None)


class MultiTaskMLPClassifier(_BaseMultiTaskMLP, ClassifierMixin, BaseEstimator):
    r"""Multi-task MLP classifier: shared hidden layers, one head per task.

    Each task has its own classes: a binary task gets one logistic output
    unit, a task with ``k > 2`` classes a softmax over ``k`` units, and both
    kinds coexist in one network (e.g. a sentiment task and a topic task on
    the same inputs). The objective is

    .. math::

        \sum_t w_t L_t + \frac{\alpha}{2 n_b} \sum_l \|W_l\|_F^2,

    with ``L_t`` the mean cross-entropy over all labeled training rows of
    task ``t``, weighted by ``sample_weight``, minimized by minibatch steps
    that are unbiased estimates of it, as in :class:`MultiTaskMLPRegressor`
    (scikit-learn's ``MLPClassifier`` loss, per batch and in full, for one
    task).

    Read more in the :ref:`User Guide <neural_network>`.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(100,)
    head_layer_sizes : array-like of int, default=()
    task_encoding : {"heads", "embedding"}, default="heads"
    embedding_dim : int, default=8
    linear_skip : bool, default=True
    head_sharing : "auto", float >= 0 or None, default="auto"
        Evidence update with ``sigma^2 = 1`` and the loss's curvature at
        each task's class frequencies (a multiclass task's deviations
        count once per class).
    activation : {"relu", "tanh", "logistic"}, default="relu"
    alpha : "auto" or float, default="auto"
    batch_size : int or "auto", default="auto"
    learning_rate : {"constant", "adaptive"}, default="constant"
    learning_rate_init : float or "auto", default="auto"
    solver : {"adam", "sgd"}, default="adam"
    momentum : float, default=0.9
    max_iter : int, default=500
    tol : float, default=1e-4
    n_iter_no_change : int, default=10
    early_stopping : "auto" or bool, default="auto"
        Validation score: minus the mean cross-entropy of the held-out
        labels; the held-out rows are ``validation_fraction`` of each
        task's rows of each class in the long layout.
    validation_fraction : float, default=0.1
    task_weighting : {"equal", "uncertainty", "dwa", "gradnorm"} or array-like, default="equal"
    gradient_surgery : {"pcgrad"} or None, default=None
    gradnorm_alpha : float, default=1.5
    dwa_temperature : float, default=2.0
    n_ensembles : int, default=1
    random_state : int, RandomState instance or None, default=None
    dtype : {np.float32, np.float64}, default=np.float32
    verbose : bool, default=False
    task_column : int, str or None, default=None
    warm_start : bool, default=False
        See :class:`MultiTaskMLPRegressor` for all of these.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray
        Wide layout: one array per task (one array for a 1-D ``y``); long
        layout: the sorted union of all tasks' classes.
    coefs_, intercepts_, skip_coef_, task_embedding_, shared_head_coefs_, head_sharing_ : see the regressor
        The output layer and the skip path have
        ``max_t k_t`` units per task (1 for binary tasks), extra units of
        tasks with fewer classes unused.
    n_iter_, stopping_reason_, alpha_, learning_rate_init_, t_, loss_curve_, task_loss_curve_ : see the regressor
    task_weights_, task_weights_history_ : see the regressor
    best_loss_, validation_scores_, best_validation_score_ : see the regressor
    ensemble_ : list of MultiTaskMLPClassifier
        The other members of the seed ensemble (see the regressor).
    tasks_ : ndarray of shape (n_tasks,)
    n_tasks_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    See Also
    --------
    MultiTaskMLPRegressor : the regression counterpart.
    sklearn.neural_network.MLPClassifier : the single-task model.

    Examples
    --------
    >>> import numpy as np
    >>> from skmtl.neural_network import MultiTaskMLPClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(300, 4)
    >>> sentiment = np.where(X[:, 0] > 0, "pos", "neg")
    >>> topic = np.digitize(X[:, 1], [-0.5, 0.5])  # three topics
    >>> model = MultiTaskMLPClassifier((32,), max_iter=300, random_state=0)
    >>> model = model.fit(X, np.column_stack([sentiment, topic]).astype(object))
    >>> [p.shape for p in model.predict_proba(X)]
    [(300, 2), (300, 3)]
    """

    _kind = "classification"

    def _set_problem(self, data, classes):
        n_tasks = data.n_tasks
        if classes is None:
            task_classes = [np.unique(data.task_targets(t)) for t in range(n_tasks)]
        elif isinstance(classes, (list, tuple)) and len(classes) and np.ndim(classes[0]) == 1:
            task_classes = [np.unique(np.asarray(c)) for c in classes]
            if len(task_classes) != n_tasks:
                raise ValueError(f"classes has {len(task_classes)} entries for {n_tasks} tasks.")
        else:
            task_classes = [np.unique(np.asarray(classes))] * n_tasks
        for t, c in enumerate(task_classes):
            if len(c) < 2:
                raise ValueError(f"task {self.tasks_[t]!r} has only one class; a classifier needs two.")
        self._task_classes = task_classes
        n_classes = np.array([len(c) for c in task_classes])
        binary = n_classes == 2
        units = np.where(binary, 1, n_classes)
        self._n_units = int(units.max())
        self._problem = {
            "kind": "classification",
            "binary": binary,
            "unit_mask": np.arange(self._n_units) < units[:, None],
            "n_classes": n_classes,
        }
        if self._single_output:
            self.classes_ = task_classes[0]
        elif self.task_column is None:
            self.classes_ = list(task_classes)
        else:
            self.classes_ = np.unique(np.concatenate(task_classes))
            # union position of class j of task t (-1: the task has no class j)
            width = max(2, self._n_units)
            table = np.full((n_tasks, width), -1)
            for t, c in enumerate(task_classes):
                table[t, : len(c)] = np.searchsorted(self.classes_, c)
            self._union_index = table

    def _encode_targets(self, data, codes):
        """Class position of each label within its task (-1 / masked when missing)."""
        def encode(labels, t):
            known = self._task_classes[t]
            pos = np.minimum(np.searchsorted(known, labels), len(known) - 1)
            if np.any(known[pos] != labels):
                unknown = np.setdiff1d(labels, known)
                raise ValueError(f"task {self.tasks_[t]!r} has labels {unknown[:5]} not in classes {known}.")
            return pos

        if codes is None:
            target = np.zeros(data.y.shape, dtype=np.intp)
            for t in range(data.n_tasks):  # setup, not the training step
                target[data.task_rows(t), t] = encode(data.task_targets(t), t)
            observed = None if data.mask.all() else data.mask
            return target, observed
        target = np.zeros(len(codes), dtype=np.intp)
        for t in np.unique(codes):
            rows = np.flatnonzero(codes == t)
            target[rows] = encode(np.asarray(data.y[rows].tolist()) if data.y.dtype.kind == "O" else data.y[rows], t)
        return target, None

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to the data.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights: a row's weight multiplies its loss in
            every task it is labeled for, and ``n_t``, ``N`` and ``n_b`` in
            the objective become sums of weights (integer weights are the
            same as repeating rows within a minibatch).

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over ``(X, y)`` (initializes the network on the first call).

        The objective's ``n_t`` and ``N`` are those of the rows passed in
        this call, so the epoch's steps are unbiased for the objective on
        ``(X, y)``: a call is one epoch of :meth:`fit` on its rows. (Counts
        accumulated over calls would weigh a task's rows by how often it
        was seen before, not by the data of the step.)

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights, as in :meth:`fit`.
        classes : array-like or list of array-like, default=None
            First call only: the classes of every task (one array for all
            tasks, or one per task); None takes those present in ``y``.

        Returns
        -------
        self : object
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _class_proba(self, Z, codes):
        """(n, T, C) or (n, C) probabilities over each task's own classes."""
        binary = self._problem["binary"]
        unit_mask = self._problem["unit_mask"]
        if codes is not None:
            binary, unit_mask = binary[codes], unit_mask[codes]
        P = output_probabilities(Z, binary, unit_mask)
        width = max(2, P.shape[-1])
        Q = np.zeros(P.shape[:-1] + (width,), dtype=P.dtype)
        Q[..., : P.shape[-1]] = P
        p1 = P[..., 0]
        Q[..., 0] = np.where(binary, 1 - p1, Q[..., 0])
        Q[..., 1] = np.where(binary, p1, Q[..., 1])
        return Q

    def _validation_score(self, X, target, observed, codes, sample_weight):
        """Minus the (weighted) mean cross-entropy of the held-out labels, over all tasks.

        Smooth where accuracy is not: with a rare class, the accuracy of a
        few held-out rows stays at the majority's rate whatever the fit.
        """
        loss, _ = output_loss(
            self._logits(X, codes).astype(np.float64), target, observed, self._problem, codes
        )
        weight = _entry_weights(target.shape, observed, sample_weight)
        return float(-np.sum(weight * loss) / np.sum(weight))

    def predict_proba(self, X):
        """Class probabilities of each task.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)

        Returns
        -------
        proba : ndarray or list of ndarray
            Wide layout: a list with one (n_samples, n_classes_t) array per
            task (one array for a 1-D ``y``). Long layout: (n_samples,
            ``len(classes_)``) over the union of classes, zero for classes the
            row's task does not have. float32 for float32 ``X``, else float64.
        """
        logits, codes = self._member_logits(X)
        Q = np.mean([self._class_proba(Z, codes) for Z in logits], axis=0)
        if codes is None:
            out = [Q[:, t, : len(c)] for t, c in enumerate(self._task_classes)]
            return out[0] if self._single_output else out
        n = len(codes)
        columns = self._union_index[codes]
        result = np.zeros((n, len(self.classes_) + 1), dtype=Q.dtype)
        # Unused slots (-1) land in a scratch column dropped below.
        np.put_along_axis(result, np.where(columns < 0, len(self.classes_), columns), Q, axis=1)
        return result[:, :-1]

    def predict(self, X):
        """Most probable class of every task (wide) or of each row's task (long).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_columns)

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_tasks) or (n_samples,)
        """
        proba = self.predict_proba(X)
        if self.task_column is not None:
            return self.classes_[proba.argmax(axis=1)]
        if self._single_output:
            return self.classes_[proba.argmax(axis=1)]
        labels = [c[p.argmax(axis=1)] for c, p in zip(self._task_classes, proba)]
        return np.column_stack(labels) if len({c.dtype.kind for c in self._task_classes}) == 1 else (
            np.column_stack([np.asarray(lab, dtype=object) for lab in labels])
        )
