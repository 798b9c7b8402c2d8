"""MultiTaskMLPRegressor / MultiTaskMLPClassifier: layouts, API, bad input."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from skmtl.neural_network import MultiTaskMLPClassifier, MultiTaskMLPRegressor
from skmtl.neural_network._layers import forward, output_loss, task_sums


@pytest.fixture
def shared_problem():
    """Two regression tasks reading one nonlinear feature; missing labels."""
    rng = np.random.RandomState(0)
    X = rng.randn(200, 5)
    Y = np.column_stack([np.sin(2 * X[:, 0]), np.sin(2 * X[:, 0]) + 0.5 * X[:, 1]])
    Y[:30, 1] = np.nan
    return X, Y


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


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
            (16,), learning_rate_init=1e-2, max_iter=600, early_stopping=True, n_iter_no_change=100,
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
    warm = _fit(MultiTaskMLPRegressor((8,), max_iter=5, warm_start=True, random_state=0), X, Y)
    first = warm.coefs_[0].copy()
    _fit(warm, X, Y)
    assert warm.n_iter_ == 10  # continued, not restarted
    assert not np.array_equal(first, warm.coefs_[0])


def test_transform_in_a_pipeline(shared_problem):
    X, Y = shared_problem
    mtl = _fit(MultiTaskMLPRegressor((16,), max_iter=50, random_state=0), X, Y)
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
