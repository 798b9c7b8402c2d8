"""Task weighting (uncertainty, DWA, GradNorm, fixed) and PCGrad gradient surgery."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skmtl.neural_network import MultiTaskMLPRegressor
from skmtl.neural_network._layers import backward, forward, init_params, output_loss
from skmtl.neural_network._weighting import DWAWeighting, GradNormWeighting, pcgrad


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _cos(a, b):
    return a @ b / np.linalg.norm(a) / np.linalg.norm(b)


def test_pcgrad_projects_conflicting_pairs():
    G = np.array([[1.0, 0.0], [-1.0, 1.0], [0.0, 2.0]])
    P = pcgrad(G, np.random.RandomState(0))
    # g0 and g1 conflict: each loses its component along the other
    assert P[0] @ G[1] == pytest.approx(0.0, abs=1e-12)
    assert P[1] @ G[0] >= -1e-12
    # g2 conflicts with nobody: unchanged
    np.testing.assert_array_equal(P[2], G[2])
    # no conflict at all: the identity
    H = np.abs(G)
    np.testing.assert_array_equal(pcgrad(H, np.random.RandomState(0)), H)


def _conflicting_gradients():
    """Two tasks y and -y on one trunk whose two heads start identical."""
    rng = np.random.RandomState(0)
    X = rng.randn(100, 3)
    y = np.sin(X[:, 0]) + X[:, 1]
    Y = np.column_stack([y, -y])
    coefs, intercepts = init_params([3, 8, 1], 1, 2, "tanh", np.float64, rng)
    coefs[-1][:, 1] = coefs[-1][:, 0]
    intercepts[-1][1] = intercepts[-1][0]
    acts = forward(coefs, intercepts, 1, X, None, "tanh")
    _, dZ = output_loss(acts[-1], Y, None, {"kind": "regression"}, None)
    _, _, task_grads = backward(coefs, acts, 1, dZ / 100, None, "tanh", per_task_trunk=True)
    return np.concatenate([g.reshape(2, -1) for g in task_grads], axis=1)


def test_pcgrad_on_two_conflicting_tasks():
    G = _conflicting_gradients()
    assert _cos(G[0], G[1]) < -0.2  # the tasks pull the shared layer apart
    P = pcgrad(G, np.random.RandomState(0))
    assert _cos(P[0], G[1]) >= -1e-10 and _cos(P[1], G[0]) >= -1e-10
    # the summed update no longer increases either task's loss to first order
    assert P.sum(0) @ G[0] >= -1e-10 and P.sum(0) @ G[1] >= -1e-10


def test_pcgrad_estimator_trains_conflicting_tasks():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 3)
    y = np.sin(2 * X[:, 0]) + X[:, 1]
    Y = np.column_stack([y, -y + 0.3 * X[:, 2]])
    model = _fit(MultiTaskMLPRegressor((16,), max_iter=200, learning_rate_init=1e-2, gradient_surgery="pcgrad", random_state=0), X, Y)
    assert model.score(X, Y) > 0.9


def test_uncertainty_weighting_downweights_the_noisy_task():
    rng = np.random.RandomState(0)
    X = rng.randn(1000, 3)
    f = np.sin(X[:, 0]) + X[:, 1]
    Y = np.column_stack([f + 0.05 * rng.randn(1000), f + 1.0 * rng.randn(1000)])
    model = _fit(
        MultiTaskMLPRegressor((16,), batch_size=50, max_iter=60, learning_rate_init=1e-2, task_weighting="uncertainty", random_state=0),
        X, Y,
    )
    w = model.task_weights_
    assert w[1] < w[0] / 5
    # stationarity of the log-variance: w_t ~ 1 / (2 L_t) (Kendall et al.)
    L = model.task_loss_curve_[-1]
    np.testing.assert_allclose(w[1], 1 / (2 * L[1]), rtol=0.3)


def test_dwa_favours_the_task_whose_loss_stalls():
    dwa = DWAWeighting(2, temperature=2.0)
    for losses in ([1.0, 1.0], [1.0, 0.5]):
        dwa.end_epoch(np.array(losses))
    w = dwa.weights()
    assert w.sum() == pytest.approx(2.0)
    assert w[0] > w[1]
    expected = 2 * np.exp(np.array([1.0, 0.5]) / 2) / np.exp(np.array([1.0, 0.5]) / 2).sum()
    np.testing.assert_allclose(w, expected)


def test_dwa_in_the_estimator_starts_with_equal_weights():
    rng = np.random.RandomState(0)
    X = rng.randn(100, 3)
    Y = np.column_stack([X[:, 0], 3 * np.sin(X[:, 1])])
    model = _fit(MultiTaskMLPRegressor((8,), max_iter=10, task_weighting="dwa", random_state=0), X, Y)
    history = np.array(model.task_weights_history_)
    np.testing.assert_array_equal(history[0], [1.0, 1.0])
    np.testing.assert_allclose(history.sum(axis=1), 2.0)
    assert not np.allclose(history[-1], 1.0)


def test_gradnorm_balances_gradient_norms():
    gn = GradNormWeighting(2, alpha=0.0)
    present = np.array([True, True])
    gn.param_grads(np.array([1.0, 1.0]), present, np.array([1.0, 1.0]))
    # equal training rates (alpha=0): target is the mean norm; the larger norm's weight goes down
    (grad,) = gn.param_grads(np.array([1.0, 1.0]), present, np.array([3.0, 1.0]))
    assert grad[0] > 0 and grad[1] < 0
    gn.params[0][:] = [3.0, 0.5]
    gn.after_update()
    assert gn.params[0].sum() == pytest.approx(2.0)


def test_gradnorm_estimator_shrinks_the_large_scale_task():
    rng = np.random.RandomState(0)
    X = rng.randn(400, 3)
    f = np.sin(X[:, 0]) + X[:, 1]
    Y = np.column_stack([f, 10 * (f + 0.2 * X[:, 2])])
    model = _fit(
        MultiTaskMLPRegressor((16,), batch_size=50, max_iter=40, learning_rate_init=1e-2, task_weighting="gradnorm", random_state=0),
        X, Y,
    )
    assert model.task_weights_[1] < model.task_weights_[0]
    assert model.task_weights_.sum() == pytest.approx(2.0)


def test_zero_weight_task_head_is_not_trained():
    rng = np.random.RandomState(0)
    X = rng.randn(100, 3)
    Y = np.column_stack([X[:, 0], X[:, 1]])
    # With zero gradient Adam leaves a parameter exactly where it is.
    params = dict(alpha=0.0, task_weighting=[1.0, 0.0], early_stopping=False, random_state=0)
    init = _fit(MultiTaskMLPRegressor((8,), max_iter=1, **params), X, Y)
    model = _fit(MultiTaskMLPRegressor((8,), max_iter=20, **params), X, Y)
    # Its head is the shared head plus its own deviation, which stays put.
    def deviation(m, t):
        return m.coefs_[-1][:, t] - m.shared_head_coefs_[0]

    np.testing.assert_allclose(deviation(model, 1), deviation(init, 1), atol=1e-6)
    assert not np.allclose(deviation(model, 0), deviation(init, 0), atol=1e-3)
