"""MultiTaskMLPRegressor / MultiTaskMLPClassifier: layouts, API, bad input."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import log_loss, r2_score
from sklearn.pipeline import make_pipeline

from skmtl.neural_network import MultiTaskMLPClassifier, MultiTaskMLPRegressor
from skmtl.neural_network._layers import data_term_gradients, forward, output_loss, task_sums


@pytest.fixture
def shared_problem():
    """Two regression tasks reading one nonlinear feature; missing labels."""
    rng = np.random.RandomState(0)
    X = rng.randn(200, 5)
    Y = np.column_stack([np.sin(2 * X[:, 0]), np.sin(2 * X[:, 0]) + 0.5 * X[:, 1]])
    Y[:30, 1] = np.nan
    return X, Y


def _fit(model, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, **fit_params)


def test_wide_fit_predict_shapes_and_attributes(shared_problem):
    X, Y = shared_problem
    model = _fit(MultiTaskMLPRegressor((16, 8), head_layer_sizes=(4,), max_iter=30, random_state=0), X, Y)
    assert model.predict(X).shape == (200, 2)
    assert model.predict(X).dtype == np.float64
    assert model.transform(X).shape == (200, 8)
    assert [c.shape for c in model.coefs_] == [(5, 16), (16, 8), (8, 2, 4), (4, 2, 1)]
    assert [b.shape for b in model.intercepts_] == [(16,), (8,), (2, 4), (2, 1)]
    assert all(c.dtype == np.float32 for c in model.coefs_)
    assert model.n_iter_ == len(model.loss_curve_) == len(model.task_loss_curve_) == 30
    assert np.array(model.task_weights_history_).shape == (30, 2)
    assert np.all(np.isfinite(model.predict(X)))


def test_missing_label_is_masked_not_used(shared_problem):
    """Changing a masked (NaN) label's value cannot change the fit: it is never read."""
    X, Y = shared_problem
    a = _fit(MultiTaskMLPRegressor((8,), max_iter=5, random_state=0), X, Y)
    # Same data with task 1's missing rows given a label in a *third* task
    # column that is itself missing elsewhere: the first two tasks' losses
    # only depend on their observed rows.
    acts = forward(a.coefs_, a.intercepts_, 1, X.astype(np.float32), None, "relu")
    observed = ~np.isnan(Y)
    loss, _ = output_loss(acts[-1], np.where(observed, Y, 123.0), observed, {"kind": "regression"}, None)
    loss2, _ = output_loss(acts[-1], np.where(observed, Y, -7.0), observed, {"kind": "regression"}, None)
    np.testing.assert_array_equal(loss, loss2)


def test_wide_and_long_layouts_give_the_same_task_losses():
    """Long layout (gathered heads) == wide layout on the same (row, task) pairs."""
    rng = np.random.RandomState(0)
    X = rng.randn(30, 3)
    Y = rng.randn(30, 3)
    model = _fit(MultiTaskMLPRegressor((6,), head_layer_sizes=(3,), max_iter=2, random_state=0, dtype=np.float64), X, Y)
    wide = forward(model.coefs_, model.intercepts_, 1, X, None, "relu")[-1]
    loss_w, _ = output_loss(wide, Y, None, {"kind": "regression"}, None)
    codes = np.repeat(np.arange(3), 30)
    rows = np.tile(np.arange(30), 3)
    long = forward(model.coefs_, model.intercepts_, 1, X[rows], codes, "relu")[-1]
    loss_l, _ = output_loss(long, Y[rows, codes], None, {"kind": "regression"}, codes)
    np.testing.assert_allclose(task_sums(loss_w, None, 3), task_sums(loss_l, codes, 3), rtol=1e-12)
    # and predict in the long layout returns each row's own task
    Xl = np.column_stack([X[rows], codes])
    long_model = clone(model).set_params(task_column=-1)
    long_model = _fit(long_model, Xl, Y[rows, codes])
    assert long_model.predict(Xl).shape == (90,)
    assert long_model.transform(Xl).shape == (90, 6)


def test_long_layout_string_tasks_and_unknown_task(long_data):
    X, y = long_data
    names = np.array(["a", "b", "c"])[X[:, -1].astype(int)]
    Xs = np.column_stack([X[:, :-1], names]).astype(object)
    model = _fit(MultiTaskMLPRegressor((8,), max_iter=20, random_state=0, task_column=-1), Xs, y)
    assert list(model.tasks_) == ["a", "b", "c"]
    assert model.predict(Xs).shape == (len(y),)
    bad = Xs.copy()
    bad[0, -1] = "z"
    with pytest.raises(ValueError, match="'z'"):
        model.predict(bad)
    # transform ignores the task: an unseen task can be embedded
    assert model.transform(bad).shape == (len(y), 8)


def test_fit_is_reproducible_and_pickles(shared_problem):
    X, Y = shared_problem
    est = MultiTaskMLPRegressor((8,), max_iter=10, random_state=3)
    a, b = _fit(clone(est), X, Y), _fit(clone(est), X, Y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(a.predict(X), c.predict(X))


def test_convergence_warning_and_stopping(shared_problem):
    X, Y = shared_problem
    with pytest.warns(ConvergenceWarning, match="maximum iterations \\(3\\)"):
        MultiTaskMLPRegressor((8,), max_iter=3, random_state=0).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = MultiTaskMLPRegressor((8,), max_iter=500, tol=1e-2, random_state=0).fit(X, Y)
    assert model.n_iter_ < 500


def test_early_stopping_keeps_best_validation_score(shared_problem):
    X, Y = shared_problem
    model = _fit(
        MultiTaskMLPRegressor(
            (16,), learning_rate_init=1e-2, max_iter=600, early_stopping=True, n_iter_no_change=30,
            random_state=0,
        ),
        X, Y,
    )
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert model.best_loss_ is None
    assert model.best_validation_score_ > 0.9
    assert model.n_iter_ < 600


def test_partial_fit_and_warm_start(shared_problem):
    X, Y = shared_problem
    model = MultiTaskMLPRegressor((8,), random_state=0)
    for _ in range(5):
        model.partial_fit(X, Y)
    assert model.n_iter_ == 5
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :3], Y)
    with pytest.raises(ValueError, match="task column"):
        model.partial_fit(X, Y[:, :1])
    warm = _fit(MultiTaskMLPRegressor((8,), max_iter=5, warm_start=True, early_stopping=False, random_state=0), X, Y)
    first = warm.coefs_[0].copy()
    _fit(warm, X, Y)
    assert warm.n_iter_ == 10  # continued, not restarted
    assert not np.array_equal(first, warm.coefs_[0])


def test_transform_in_a_pipeline(shared_problem):
    X, Y = shared_problem
    mtl = _fit(MultiTaskMLPRegressor((16,), max_iter=50, random_state=0), X, Y)
    # the trunk's output as the heads read it: after the ReLU
    H = mtl.transform(X)
    np.testing.assert_allclose(H, np.maximum(X @ mtl.coefs_[0] + mtl.intercepts_[0], 0), rtol=1e-5, atol=1e-6)
    # A new task fitted on few rows from the shared representation.
    pipe = make_pipeline(mtl, Ridge(alpha=1e-3))
    assert pipe.fit(X, Y[:, 0]).predict(X).shape == (200,)
    assert list(mtl.get_feature_names_out())[:2] == ["multitaskmlpregressor0", "multitaskmlpregressor1"]


def test_diverging_training_raises(shared_problem):
    X, Y = shared_problem
    with pytest.raises(ValueError, match="diverged"):
        MultiTaskMLPRegressor((8,), solver="sgd", learning_rate_init=10.0, max_iter=50, random_state=0).fit(
            X, Y * 1e3
        )


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": (10, 0)}, "positive integers"),
        ({"hidden_layer_sizes": (10, -2)}, "positive integers"),
        ({"hidden_layer_sizes": ()}, "at least one layer"),
        ({"head_layer_sizes": (0,)}, "positive integers"),
        ({"hidden_layer_sizes": 0}, "hidden_layer_sizes"),
        ({"dtype": "int32"}, "float32 or float64"),
        ({"task_weighting": [1.0, 2.0, 3.0]}, "one weight per task"),
        ({"task_weighting": [1.0, -2.0]}, "non-negative"),
        ({"activation": "softplus"}, "activation"),
    ],
)
def test_bad_parameters(shared_problem, params, match):
    X, Y = shared_problem
    with pytest.raises(ValueError, match=match):
        MultiTaskMLPRegressor(max_iter=1, **params).fit(X, Y)


def test_bad_data(shared_problem):
    X, Y = shared_problem
    Y = Y.copy()
    Y[:, 1] = np.nan
    with pytest.raises(ValueError, match="task 1 .* no labeled rows"):
        MultiTaskMLPRegressor(max_iter=1).fit(X, Y)
    Xbad = X.copy()
    Xbad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MultiTaskMLPRegressor(max_iter=1).fit(Xbad, shared_problem[1])
    Xbad[3, 2] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        MultiTaskMLPRegressor(max_iter=1).fit(Xbad, shared_problem[1])
    with pytest.raises(ValueError, match="validation"):
        MultiTaskMLPRegressor(early_stopping=True, validation_fraction=0.5).fit(X[:1], Y[:1, 0])
    # "auto" (the default) falls back to the training loss
    assert MultiTaskMLPRegressor(max_iter=1).fit(X[:1], Y[:1, 0]).stopping_reason_ == "max_iter"


def _two_heads(n=300, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 4)
    sentiment = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "pos", "neg")
    topic = np.digitize(X[:, 1] - X[:, 0], [-0.7, 0.7])  # three topics 0, 1, 2
    return X, sentiment, topic


def test_classifier_binary_and_multiclass_heads_in_one_model():
    X, sentiment, topic = _two_heads()
    Y = np.empty((300, 2), dtype=object)
    Y[:, 0], Y[:, 1] = sentiment, topic
    Y[:20, 1] = None  # missing topic labels
    model = _fit(MultiTaskMLPClassifier((32,), max_iter=300, random_state=0), X, Y)
    assert [list(c) for c in model.classes_] == [["neg", "pos"], [0, 1, 2]]
    # binary head: one logistic unit; multiclass head: three softmax units
    assert model.coefs_[-1].shape == (32, 2, 3)
    proba = model.predict_proba(X)
    assert [p.shape for p in proba] == [(300, 2), (300, 3)]
    for p in proba:
        np.testing.assert_allclose(p.sum(axis=1), 1.0)
    pred = model.predict(X)
    assert pred.shape == (300, 2)
    assert np.mean(pred[:, 0] == sentiment) > 0.9
    assert np.mean(pred[:, 1].astype(int) == topic) > 0.85


def test_classifier_long_layout_union_of_classes():
    X, sentiment, topic = _two_heads()
    task = np.arange(300) % 2
    y = np.where(task == 0, np.where(sentiment == "pos", "pos", "neg"), np.array(["t0", "t1", "t2"])[topic])
    Xl = np.column_stack([X, task])
    model = _fit(MultiTaskMLPClassifier((32,), max_iter=300, random_state=0, task_column=-1), Xl, y)
    assert list(model.classes_) == ["neg", "pos", "t0", "t1", "t2"]
    proba = model.predict_proba(Xl)
    assert proba.shape == (300, 5)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # a row of the sentiment task has zero probability for topic classes
    assert np.all(proba[task == 0][:, 2:] == 0) and np.all(proba[task == 1][:, :2] == 0)
    assert model.score(Xl, y) > 0.85


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_float32_input_gives_float32_output(layout):
    """As scikit-learn's MLP: predictions and probabilities keep float32 (issue 19)."""
    X, sentiment, topic = _two_heads(n=60)
    Y = np.column_stack([sentiment == "pos", topic]).astype(int)
    task_column = None
    if layout == "long":
        X, Y = np.vstack([np.column_stack([X, np.full(60, t)]) for t in (0, 1)]), Y.T.ravel()
        task_column = -1
    X32 = X.astype(np.float32)
    params = {"hidden_layer_sizes": (4,), "max_iter": 2, "random_state": 0, "task_column": task_column}
    reg = _fit(MultiTaskMLPRegressor(**params), X, Y.astype(float))
    clf = _fit(MultiTaskMLPClassifier(**params), X, Y)
    proba = clf.predict_proba(X32)
    assert reg.predict(X32).dtype == np.float32
    assert all(p.dtype == np.float32 for p in (proba if isinstance(proba, list) else [proba]))
    # float64 input still gives float64, whatever dtype the weights have
    assert reg.predict(X).dtype == np.float64
    np.testing.assert_allclose(reg.predict(X32), reg.predict(X), rtol=1e-5, atol=1e-6)


def test_classifier_one_class_task_and_partial_fit_classes():
    X, sentiment, topic = _two_heads()
    Y = np.column_stack([topic, np.zeros(300, int)])
    with pytest.raises(ValueError, match="task 1 .* only one class"):
        MultiTaskMLPClassifier(max_iter=1).fit(X, Y)
    model = MultiTaskMLPClassifier((8,), random_state=0)
    model.partial_fit(X[:50], topic[:50], classes=[0, 1, 2])
    model.partial_fit(X[50:], topic[50:])
    assert list(model.classes_) == [0, 1, 2]
    with pytest.raises(ValueError, match="not in classes"):
        model.partial_fit(X[:10], np.arange(10) % 2 + 5)


# ------------------------------------------------------------------ sample_weight
def _weighted_problem(layout, seed=0):
    """Small problem with integer weights 0..3 (a few zeros) in either layout."""
    rng = np.random.RandomState(seed)
    X = rng.randn(40, 4)
    sw = rng.randint(0, 4, 40)
    if layout == "wide":
        Y = np.column_stack([np.sin(X[:, 0]), X[:, 1] - X[:, 0]])
        Y[::7, 1] = np.nan
        return X, Y, sw, {}
    tasks = np.arange(40) % 3
    y = np.sin(X[:, 0]) + tasks * X[:, 1]
    return np.column_stack([X, tasks]), y, sw, {"task_column": -1}


@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_integer_sample_weight_fit_equals_repeated_rows(layout, solver):
    """Full-batch float64 training: weights are repetitions, zeros are dropped rows."""
    X, y, sw, layout_params = _weighted_problem(layout)
    est = MultiTaskMLPRegressor(
        (8,), head_layer_sizes=(3,), solver=solver, batch_size=1000, max_iter=25, tol=0.0, early_stopping=False,
        learning_rate_init=1e-2, dtype=np.float64, random_state=0, **layout_params,
    )
    weighted = _fit(clone(est), X, y, sample_weight=sw)
    repeated = _fit(clone(est), np.repeat(X, sw, axis=0), np.repeat(y, sw, axis=0))
    assert weighted.n_iter_ == repeated.n_iter_ == 25
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)
    for a, b in zip(weighted.coefs_ + weighted.intercepts_, repeated.coefs_ + repeated.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    # partial_fit takes the same weights
    partial = clone(est)
    for _ in range(3):
        partial.partial_fit(X, y, sample_weight=sw)
    dropped = clone(est).set_params(max_iter=3)
    _fit(dropped, np.repeat(X, sw, axis=0), np.repeat(y, sw, axis=0))
    np.testing.assert_allclose(partial.coefs_[0], dropped.coefs_[0], rtol=1e-9, atol=1e-12)


def test_zero_sample_weight_drops_rows_classifier():
    X, sentiment, topic = _two_heads(n=60)
    Y = np.column_stack([sentiment, topic]).astype(object)
    sw = np.ones(60)
    sw[::4] = 0.0
    est = MultiTaskMLPClassifier(
        (8,), batch_size=1000, max_iter=20, tol=0.0, early_stopping=False, dtype=np.float64, random_state=0
    )
    weighted = _fit(clone(est), X, Y, sample_weight=sw)
    dropped = _fit(clone(est), X[sw > 0], Y[sw > 0])
    for a, b in zip(weighted.predict_proba(X), dropped.predict_proba(X)):
        np.testing.assert_allclose(a, b, rtol=1e-9)
    # partial_fit(X, y, sample_weight, classes): scikit-learn's argument order
    partial = MultiTaskMLPClassifier((8,), random_state=0)
    partial.partial_fit(X, sentiment, np.ones(60), ["neg", "pos"])
    assert list(partial.classes_) == ["neg", "pos"]


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_zero_weight_rows_are_never_read_with_minibatches(layout):
    """Labels of zero-weight rows cannot change a minibatch fit (batches of only such rows included)."""
    X, y, sw, layout_params = _weighted_problem(layout)
    sw = (sw > 0).astype(float)
    est = MultiTaskMLPRegressor((8,), batch_size=2, max_iter=3, random_state=0, **layout_params)
    a = _fit(clone(est), X, y, sample_weight=sw)
    y_changed = y.copy()
    y_changed[sw == 0] = 1e6
    b = _fit(clone(est), X, y_changed, sample_weight=sw)
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(p, q)
    assert np.all(np.isfinite(a.loss_curve_))


def test_sample_weight_changes_the_fit_towards_heavy_rows():
    """Two groups of rows with contradicting labels: the heavier group wins."""
    rng = np.random.RandomState(0)
    X = rng.randn(100, 2)
    y = np.where(np.arange(100) < 50, 1.0, -1.0)  # same inputs distribution, opposite targets
    sw = np.where(np.arange(100) < 50, 9.0, 1.0)
    model = _fit(MultiTaskMLPRegressor((4,), max_iter=200, learning_rate_init=1e-2, random_state=0), X, y, sample_weight=sw)
    # weighted mean of the labels: (9 - 1) / 10 = 0.8
    assert model.predict(X).mean() == pytest.approx(0.8, abs=0.1)


def test_validation_score_is_weighted(shared_problem):
    """Early stopping scores held-out rows with their weights: sklearn's weighted R^2 / accuracy."""
    X, Y = shared_problem
    sw = np.random.RandomState(0).uniform(0.5, 2.0, len(X))
    model = _fit(
        MultiTaskMLPRegressor((16,), max_iter=30, early_stopping=True, random_state=0), X, Y, sample_weight=sw
    )
    assert len(model.validation_scores_) == model.n_iter_
    observed = ~np.isnan(Y)
    score = model._validation_score(X.astype(np.float32), np.where(observed, Y, 0), observed, None, sw)
    pred = model.predict(X)
    # R^2 with errors and variances summed over tasks (each around its own mean).
    sse = sst = 0.0
    for t, o in enumerate(observed.T):
        w, yt = sw[o], Y[o, t]
        sse += np.sum(w * (yt - pred[o, t]) ** 2)
        sst += np.sum(w * (yt - np.average(yt, weights=w)) ** 2)
    assert score == pytest.approx(1 - sse / sst, rel=1e-5)
    # One task: scikit-learn's weighted R^2.
    one = _fit(MultiTaskMLPRegressor((4,), max_iter=5, early_stopping=True, random_state=0), X, Y[:, 0],
               sample_weight=sw)
    seen = observed[:, 0]
    score = one._validation_score(X[seen].astype(np.float32), Y[seen, :1], observed[seen, :1], None, sw[seen])
    assert score == pytest.approx(r2_score(Y[seen, 0], one.predict(X[seen]), sample_weight=sw[seen]), rel=1e-5)
    # long layout, classifier: minus the weighted mean cross-entropy over all tasks
    X2, sentiment, _ = _two_heads(n=120)
    tasks = np.arange(120) % 2
    clf = _fit(MultiTaskMLPClassifier((8,), max_iter=20, random_state=0, task_column=-1), np.column_stack([X2, tasks]), sentiment)
    target = (sentiment == "pos").astype(int)
    w = np.random.RandomState(1).uniform(0.5, 2.0, 120)
    score = clf._validation_score(X2.astype(np.float32), target, None, tasks, w)
    proba = clf.predict_proba(np.column_stack([X2, tasks]))
    assert score == pytest.approx(-log_loss(target, proba, sample_weight=w), rel=1e-5)


@pytest.mark.parametrize(
    "sample_weight, match",
    [
        (np.ones(3), r"sample_weight.shape == \(3,\), expected \(200,\)"),
        (np.r_[np.nan, np.ones(199)], "sample_weight contains NaN"),
        (np.r_[-1.0, np.ones(199)], "sample_weight must be non-negative; got 1 negative"),
        (np.zeros(200), "at least one non-zero"),
    ],
)
def test_bad_sample_weight(shared_problem, sample_weight, match):
    X, Y = shared_problem
    for model in (MultiTaskMLPRegressor(max_iter=1), MultiTaskMLPClassifier(max_iter=1)):
        y = Y if model._kind == "regression" else (X[:, :2] > 0).astype(int)
        with pytest.raises(ValueError, match=match):
            model.fit(X, y, sample_weight=sample_weight)
    with pytest.raises(ValueError, match=match):
        MultiTaskMLPRegressor().partial_fit(X, Y, sample_weight=sample_weight)


# ------------------------------------------------------- unbiased minibatch steps
class _GradientRecorder:
    """Stands in for the optimizer: keeps each step's gradients, leaves the weights alone."""

    def __init__(self):
        self.steps = []

    def update(self, params, grads):
        self.steps.append([np.array(g, dtype=np.float64) for g in grads])


def _epoch_gradients(model, X, y, rows):
    """One partial_fit epoch over X[rows] at fixed weights: the batch sizes and gradients."""
    model._optimizer = recorder = _GradientRecorder()
    model.partial_fit(X[rows], y[rows])
    batch_size = model.batch_size
    sizes = [min(batch_size, len(rows) - start) for start in range(0, len(rows), batch_size)]
    return np.array(sizes), recorder.steps


@pytest.mark.parametrize("layout", ["long", "wide"])
@pytest.mark.parametrize("task_weighting", [[1.0, 0.5, 2.0], "uncertainty"])
def test_minibatch_gradients_average_to_the_full_gradient(layout, task_weighting):
    """The estimator's batch gradients, weighted by B_k / N, sum to the full-data gradient.

    Long layout with tasks of 4, 10 and 46 rows, or wide with a third of a
    task's labels missing; batches of 7 (the last one short). The
    ``partial_fit`` call takes its ``n_t`` from the rows it is given (a
    subset here, in which the task proportions differ from the first call).
    The uncertainty weights' gradients ``1/2 - w_t L_t`` are unbiased too.
    """
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    if layout == "long":
        tasks = np.repeat([0, 1, 2], [4, 10, 46])
        y = np.sin(X[:, 0]) + tasks * X[:, 1]
        X = np.column_stack([X, tasks])
        subset = np.r_[0:14, 14:40:2]
    else:
        y = np.column_stack([np.sin(X[:, 0]), X[:, 1], X[:, 0] * X[:, 2]])
        y[rng.rand(60) < 0.6, 1] = np.nan
        y[:5, 2] = np.nan
        subset = np.arange(0, 60, 2) + 1
    model = MultiTaskMLPRegressor(
        (5,), head_layer_sizes=(2,), batch_size=7, alpha=0.0, head_sharing=0.0, task_weighting=task_weighting,
        dtype=np.float64, random_state=0, task_column=-1 if layout == "long" else None,
    )
    model.partial_fit(X, y)
    sizes, steps = _epoch_gradients(model, X, y, subset)
    assert len(steps) == len(sizes) >= 4 and sizes[-1] < 7
    average = [sum(w * step[j] for w, step in zip(sizes / len(subset), steps)) for j in range(len(steps[0]))]

    Xs, ys = X[subset], y[subset]
    if layout == "long":
        features, codes, target, observed = Xs[:, :-1], Xs[:, -1].astype(int), ys, None
    else:
        features, codes, observed = Xs, None, ~np.isnan(ys)
        target = np.where(observed, ys, 0.0)
    weights = model._weighting.weights()
    _, L, _, gw, gb, _ = data_term_gradients(
        model.coefs_, model.intercepts_, 1, features, target, observed, codes, {"kind": "regression"},
        "relu", weights, skip=model.skip_coef_,
    )
    n_net = len(gw) + len(gb)
    for a, b in zip(average[:n_net], gw + gb):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-14)
    if task_weighting == "uncertainty":
        np.testing.assert_allclose(average[n_net], 0.5 - weights * L, rtol=1e-11)


# ------------------------------------------------------------------ defaults
def _small_long_problem(classification, n_tasks=4, seed=0):
    """Tasks of 30 to 90 rows sharing one nonlinear feature (long layout)."""
    rng = np.random.RandomState(seed)
    sizes = np.arange(30, 30 * n_tasks, 20)[:n_tasks]
    tasks = np.repeat(np.arange(n_tasks), sizes)
    X = rng.randn(len(tasks), 5)
    score = np.sin(2 * X[:, 0]) + 0.3 * tasks * X[:, 1] + 0.2 * rng.randn(len(tasks))
    y = (score > 0).astype(int) if classification else score
    return np.column_stack([X, tasks]), y, sizes


@pytest.mark.parametrize("classification", [False, True])
def test_defaults_stop_early_on_a_per_task_validation_split_without_warning(classification):
    X, y, sizes = _small_long_problem(classification)
    cls = MultiTaskMLPClassifier if classification else MultiTaskMLPRegressor
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = cls(random_state=0, task_column=-1).fit(X, y)
    assert model.stopping_reason_ == "validation_score"
    assert model.n_iter_ < model.max_iter
    assert len(model.validation_scores_) == model.n_iter_
    assert model.best_validation_score_ == max(model.validation_scores_)
    # 240 rows: batches of 24 (10 per epoch), alpha 0.5 per task for 200 rows
    # of batch weight, a step 3 times 1e-3 (small data)
    assert model.alpha_ == pytest.approx(0.5 * len(sizes) * 24 / 200)
    assert model.learning_rate_init_ == pytest.approx(3e-3)
    # validation_fraction of every task's rows (of each class for the classifier) held out
    held_out = np.array([
        sum(np.ceil(0.1 * c) for c in np.bincount(y[X[:, -1] == t]) if c > 1) if classification
        else np.ceil(0.1 * n)
        for t, n in enumerate(sizes)
    ])
    np.testing.assert_array_equal(model._train_task_totals, sizes - held_out)


def test_wide_defaults_raise_no_warning_and_training_loss_stopping_is_recorded(shared_problem):
    X, Y = shared_problem
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = MultiTaskMLPRegressor(random_state=0).fit(X, Y)
    assert model.stopping_reason_ == "validation_score"
    on_loss = _fit(MultiTaskMLPRegressor((8,), early_stopping=False, tol=1e-2, random_state=0), X, Y)
    assert on_loss.stopping_reason_ == "training_loss" and on_loss.n_iter_ < on_loss.max_iter
    capped = _fit(MultiTaskMLPRegressor((8,), early_stopping=False, max_iter=3, random_state=0), X, Y)
    assert capped.stopping_reason_ == "max_iter"
    capped.partial_fit(X, Y)
    assert capped.stopping_reason_ == "partial_fit"


# ------------------------------------------------------------ task embeddings
@pytest.mark.parametrize("classification", [False, True])
def test_task_embeddings_long_layout(classification):
    X, y, sizes = _small_long_problem(classification)
    cls = MultiTaskMLPClassifier if classification else MultiTaskMLPRegressor
    model = _fit(cls((16,), task_encoding="embedding", embedding_dim=3, random_state=0, task_column=-1), X, y)
    n_tasks = len(sizes)
    assert model.task_embedding_.shape == (n_tasks, 3)
    # one shared output layer; the embeddings' weights follow the 5 features'
    assert [c.shape for c in model.coefs_] == [(5 + 3, 16), (16, 1)]
    assert [b.shape for b in model.intercepts_] == [(16,), (n_tasks, 1)]
    assert model.skip_coef_.shape == (5, n_tasks, 1) and len(model.shared_head_coefs_) == 1
    assert np.any(model.task_embedding_ != 0)  # learned, from zero
    # measured 0.77 / 0.40 (task heads: 0.80 / 0.49); a constant scores about 0.5 / 0
    assert model.score(X, y) > (0.7 if classification else 0.3)
    assert model.transform(X).shape == (len(y), 16) and model.transform(X).min() >= 0
    # A task never seen in fit is refused, as with task heads (transform too: it reads the task).
    unseen = X.copy()
    unseen[0, -1] = n_tasks
    for method in (model.predict, model.transform):
        with pytest.raises(ValueError, match="Unknown task"):
            method(unseen)
    model.partial_fit(X, y)
    assert model.stopping_reason_ == "partial_fit"


def test_task_embeddings_wide_layout_is_each_row_once_per_task(shared_problem):
    X, Y = shared_problem
    model = _fit(MultiTaskMLPRegressor((8,), task_encoding="embedding", max_iter=20, random_state=0), X, Y)
    # Row i of task t is the long layout's entry (i, t): same logits.
    rows, tasks = np.repeat(np.arange(len(X)), 2), np.tile([0, 1], len(X))
    long = forward(
        model.coefs_, model.intercepts_, 2, X[rows].astype(np.float32), tasks, "relu", model.skip_coef_,
        model.task_embedding_,
    )
    np.testing.assert_allclose(model.predict(X).ravel(), long[-1][:, 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.transform(X).reshape(-1, 8), np.maximum(long[1], 0), rtol=1e-5, atol=1e-6)
    assert model.transform(X).shape == (len(X), 2 * 8)
    assert model.get_feature_names_out().shape == (16,)


def test_task_embeddings_sample_weight_is_row_repetition():
    X, y, sw, layout_params = _weighted_problem("long")
    est = MultiTaskMLPRegressor(
        (8,), task_encoding="embedding", embedding_dim=2, batch_size=1000, max_iter=15, tol=0.0,
        early_stopping=False, learning_rate_init=1e-2, dtype=np.float64, random_state=0, **layout_params,
    )
    weighted = _fit(clone(est), X, y, sample_weight=sw)
    repeated = _fit(clone(est), np.repeat(X, sw, axis=0), np.repeat(y, sw, axis=0))
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(weighted.task_embedding_, repeated.task_embedding_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("params", [{"gradient_surgery": "pcgrad"}, {"task_weighting": "gradnorm"}])
def test_task_embeddings_refuse_per_task_shared_gradients(shared_problem, params):
    X, Y = shared_problem
    with pytest.raises(ValueError, match="task_encoding='heads'"):
        MultiTaskMLPRegressor(task_encoding="embedding", **params).fit(X, Y)


# ------------------------------------------------------------ seed ensembles
def test_seed_ensemble_averages_networks_of_derived_seeds(shared_problem):
    X, Y = shared_problem
    est = MultiTaskMLPRegressor((8,), max_iter=20, random_state=0)
    single = _fit(clone(est), X, Y)
    ensemble = _fit(clone(est).set_params(n_ensembles=3), X, Y)
    # The estimator itself is the n_ensembles=1 network; two more with seeds from random_state.
    np.testing.assert_array_equal(ensemble.coefs_[0], single.coefs_[0])
    assert single.ensemble_ == [] and len(ensemble.ensemble_) == 2
    seeds = [m.random_state for m in ensemble.ensemble_]
    assert len(set(seeds)) == 2 and seeds == [m.random_state for m in _fit(clone(ensemble), X, Y).ensemble_]
    members = [single.predict(X), *(m.predict(X) for m in ensemble.ensemble_)]
    assert not np.allclose(members[0], members[1])
    np.testing.assert_allclose(ensemble.predict(X), np.mean(members, axis=0), rtol=1e-6)
    # partial_fit trains every member one epoch
    before = [m.n_iter_ for m in (ensemble, *ensemble.ensemble_)]
    ensemble.partial_fit(X, Y)
    assert [m.n_iter_ for m in (ensemble, *ensemble.ensemble_)] == [n + 1 for n in before]


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_seed_ensemble_classifier_averages_probabilities(layout):
    X, sentiment, topic = _two_heads(n=120)
    if layout == "wide":
        y, params = np.column_stack([sentiment, topic]).astype(object), {}
    else:
        tasks = np.arange(120) % 2
        y, params = np.where(tasks == 0, sentiment, topic.astype(str)), {"task_column": -1}
        X = np.column_stack([X, tasks])
    model = _fit(MultiTaskMLPClassifier((8,), max_iter=30, n_ensembles=2, random_state=0, **params), X, y)
    member = model.ensemble_[0]
    single = _fit(clone(model).set_params(n_ensembles=1), X, y)
    proba, parts = model.predict_proba(X), (single.predict_proba(X), member.predict_proba(X))
    assert not np.allclose(np.hstack(parts[0]), np.hstack(parts[1]))  # two different networks
    if layout == "wide":
        for t in range(2):
            np.testing.assert_allclose(proba[t], (parts[0][t] + parts[1][t]) / 2, rtol=1e-6)
    else:
        np.testing.assert_allclose(proba, (parts[0] + parts[1]) / 2, rtol=1e-6)
        np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)


def test_adaptive_learning_rate_divides_the_step_on_each_plateau(shared_problem):
    X, Y = shared_problem
    est = MultiTaskMLPRegressor((8,), learning_rate_init=1e-2, max_iter=2000, random_state=0)
    constant = _fit(clone(est), X, Y)
    adaptive = _fit(clone(est).set_params(learning_rate="adaptive"), X, Y)
    # Two plateaus divide 1e-2 by 10 each; the third stops training.
    assert adaptive._optimizer.learning_rate_init == pytest.approx(1e-4)
    assert constant._optimizer.learning_rate_init == 1e-2
    assert adaptive.stopping_reason_ == constant.stopping_reason_ == "validation_score"
    # Each plateau restarts from the best weights, so the best score cannot drop.
    assert adaptive.n_iter_ > constant.n_iter_ + 2 * constant.n_iter_no_change
    assert adaptive.best_validation_score_ >= constant.best_validation_score_


def test_regressor_outputs_start_at_the_task_means():
    # Adam moves a weight by about learning_rate_init per step: from zero
    # intercepts the offsets of uncentered targets took hundreds of epochs
    # (Parkinsons' total_UPDRS: 3 of 5 seeds stopped at max_iter=500).
    rng = np.random.RandomState(0)
    X = rng.randn(300, 4)
    Y = X @ rng.randn(4, 3) + np.array([40.0, -20.0, 5.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        frozen = MultiTaskMLPRegressor(max_iter=1, early_stopping=False, learning_rate_init=1e-12, random_state=0)
        frozen.fit(X, Y)
    np.testing.assert_allclose(frozen.intercepts_[-1].ravel(), Y.mean(axis=0), atol=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = MultiTaskMLPRegressor(random_state=0).fit(X, Y)
    assert model.score(X, Y) > 0.99
