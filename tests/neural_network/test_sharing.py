"""Heads that share with a learned strength (``_sharing.py``) and the linear skip path."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from skmtl.neural_network import MultiTaskMLPClassifier, MultiTaskMLPRegressor
from skmtl.neural_network._sharing import class_curvature, evidence_update, head_gram_eigenvalues


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _linear_tasks(coef, n=60, noise=0.3, seed=0):
    """Wide layout: y_t = X coef[:, t] + noise."""
    rng = np.random.RandomState(seed)
    X = rng.randn(n, coef.shape[0])
    return X, X @ coef + noise * rng.randn(n, coef.shape[1])


def test_skip_path_nests_the_linear_model():
    """With the trunk's output weights at zero the network is the linear model of its skip path."""
    X, Y = _linear_tasks(np.random.RandomState(1).randn(4, 3))
    model = _fit(MultiTaskMLPRegressor((5,), max_iter=2, dtype=np.float64, random_state=0), X, Y)
    ridge = Ridge(alpha=1.0).fit(X, Y)
    model.coefs_[-1][...] = 0
    model.skip_coef_[...] = ridge.coef_.T[:, :, None]
    model.intercepts_[-1][...] = ridge.intercept_[:, None]
    np.testing.assert_allclose(model.predict(X), ridge.predict(X), rtol=1e-12)


def test_skip_path_helps_on_a_linear_problem():
    """Unrelated linear tasks: the skip path brings the network to the per-task ridges."""
    rng = np.random.RandomState(0)
    coef = rng.randn(5, 4)
    X, Y = _linear_tasks(coef, n=200)
    X_test, Y_test = _linear_tasks(coef, n=1000, seed=1)
    params = dict(
        hidden_layer_sizes=(8,), alpha=1e-4, learning_rate_init=1e-2, batch_size=20, max_iter=60, early_stopping=False,
        random_state=0,
    )
    with_skip = _fit(MultiTaskMLPRegressor(**params), X, Y)
    without = _fit(MultiTaskMLPRegressor(linear_skip=False, **params), X, Y)

    def mse(model):
        return np.mean((model.predict(X_test) - Y_test) ** 2)

    ridge = mse(Ridge(alpha=1.0).fit(X, Y))  # the noise's variance 0.09, plus estimation error
    # measured: 0.108 with the skip path, 0.113 without, 0.094 for the ridges
    assert mse(with_skip) < min(1.2 * ridge, mse(without))


@pytest.mark.parametrize("same", [True, False])
def test_sharing_strength_pools_identical_tasks_and_frees_different_ones(same):
    """The learned strength of the skip heads: large for one shared model, small for unrelated ones."""
    rng = np.random.RandomState(0)
    base = rng.randn(5, 1)
    coef = base * np.ones((1, 6)) if same else rng.randn(5, 6)
    X, Y = _linear_tasks(coef, n=60)
    model = _fit(
        MultiTaskMLPRegressor(
            (8,), alpha=3.0, learning_rate_init=1e-2, batch_size=10, max_iter=100, early_stopping=False,
            random_state=0,
        ),
        X, Y,
    )
    skip_strength = model.head_sharing_[-1]
    # measured: 2116 (the same task six times) and 0.75 (six unrelated tasks)
    if same:
        assert skip_strength > 100
    else:
        assert skip_strength < 2


def test_fixed_sharing_strength_interpolates_between_independent_and_pooled():
    rng = np.random.RandomState(0)
    X, Y = _linear_tasks(rng.randn(5, 4), n=80)
    spread = {}
    for strength in (0.0, 1e4):
        model = _fit(
            MultiTaskMLPRegressor((4,), head_sharing=strength, learning_rate_init=1e-2, max_iter=150, random_state=0),
            X, Y,
        )
        np.testing.assert_array_equal(model.head_sharing_, strength)
        spread[strength] = np.std(model.skip_coef_, axis=1).mean()
    assert spread[1e4] < 0.05 * spread[0.0]


def test_head_sharing_none_and_single_task_have_no_shared_head():
    X, Y = _linear_tasks(np.ones((3, 2)))
    for model, y in ((MultiTaskMLPRegressor((4,), head_sharing=None, max_iter=5), Y), (MultiTaskMLPRegressor((4,), max_iter=5), Y[:, 0])):
        _fit(model, X, y)
        assert model.shared_head_coefs_ is None and model.head_sharing_ is None


def test_classifier_learns_the_sharing_strength():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 4)
    Y = np.column_stack([X[:, 0] + 0.3 * rng.randn(300) > 0 for _ in range(3)]).astype(int)
    model = _fit(MultiTaskMLPClassifier((8,), max_iter=60, random_state=0), X, Y)
    assert model.head_sharing_.shape == (2,)
    assert model.head_sharing_[-1] > 10  # three noisy copies of one task


def test_evidence_update_fixed_point():
    """Data that determine every coordinate (large eigenvalues): lambda = sigma^2 * #coords / ||D||^2."""
    eigenvalues = np.full((3, 2), 1e9)
    assert evidence_update(1.5, eigenvalues, np.ones(3), 12.0, 2.0) == pytest.approx(2.0 * 6 / 12.0, rel=1e-6)
    # one update moves the strength by a factor of 2 at most
    assert evidence_update(5.0, eigenvalues, np.ones(3), 12.0, 2.0) == pytest.approx(2.5)
    assert evidence_update(5.0, eigenvalues, np.ones(3), 0.0, 2.0) == 5.0  # no deviation yet


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_gram_eigenvalues_match_per_task_loops(layout):
    rng = np.random.RandomState(0)
    Phi = rng.randn(30, 4)
    if layout == "long":
        codes = np.arange(30) % 3
        weight = rng.rand(30)
        expected = [np.linalg.eigvalsh((Phi[codes == t] * weight[codes == t, None]).T @ Phi[codes == t]) for t in range(3)]
    else:
        codes = None
        weight = rng.rand(30, 3) * (rng.rand(30, 3) > 0.3)
        expected = [np.linalg.eigvalsh((Phi * weight[:, t, None]).T @ Phi) for t in range(3)]
    np.testing.assert_allclose(head_gram_eigenvalues(Phi, weight, codes, 3, np.random.RandomState(0)), np.clip(expected, 0, None), atol=1e-12)


def test_class_curvature_of_class_frequencies():
    target = np.array([[1, 0], [0, 1], [0, 2], [0, 0]])
    weight = np.ones(target.shape)
    curvature = class_curvature(target, weight, None, 2, np.array([2, 3]))
    # binary: p = 1/4; three classes with frequencies 1/2, 1/4, 1/4
    np.testing.assert_allclose(curvature, [0.25 * 0.75, (0.25 + 2 * 0.1875) / 3])


def test_gram_eigenvalues_of_a_row_subset_keep_the_task_total(monkeypatch):
    """Above _MAX_GRAM_ROWS rows a task's Gram matrix comes from a reweighted subset."""
    from skmtl.neural_network import _sharing

    monkeypatch.setattr(_sharing, "_MAX_GRAM_ROWS", 50)
    rng = np.random.RandomState(0)
    Phi = np.ones((400, 1))
    codes = np.repeat([0, 1], [300, 100])
    eigenvalues = head_gram_eigenvalues(Phi, rng.uniform(1, 2, 400), codes, 2, rng)
    weights = np.random.RandomState(0).uniform(1, 2, 400)
    np.testing.assert_allclose(eigenvalues[:, 0], [weights[:300].sum(), weights[300:].sum()])
