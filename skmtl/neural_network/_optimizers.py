"""Stochastic optimizers updating a list of parameter arrays in place.

Same update rules and defaults as scikit-learn's ``_stochastic_optimizers``
(Adam: Kingma & Ba 2014; SGD with Nesterov momentum), written for any list
of arrays so that the task-weighting parameters (log-variances, GradNorm
weights) ride along with the network's.
"""

import numpy as np

__all__ = ["AdamOptimizer", "SGDOptimizer"]


class AdamOptimizer:
    """Adam with bias correction folded into the step size.

    Parameters
    ----------
    params : list of ndarray
        Updated in place by :meth:`update`.
    learning_rate_init : float
    beta_1, beta_2, epsilon : float
        scikit-learn's defaults (0.9, 0.999, 1e-8).
    """

    def __init__(self, params, learning_rate_init=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.learning_rate_init = learning_rate_init
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.ms = [np.zeros_like(p) for p in params]
        self.vs = [np.zeros_like(p) for p in params]
        self._scratch = [np.empty_like(p) for p in params]

    def update(self, params, grads):
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        # lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t): bias-corrected step size. A
        # Python float, so that float32 parameters are not updated through
        # float64 temporaries (NumPy 2 promotes arrays to a NumPy scalar's dtype).
        lr = float(self.learning_rate_init * np.sqrt(1 - b2**self.t) / (1 - b1**self.t))
        for p, g, m, v, step in zip(params, grads, self.ms, self.vs, self._scratch):
            # In place through a kept scratch array: the head weights of many
            # tasks make these arrays large, and fresh temporaries of that
            # size cost more than the arithmetic.
            np.multiply(g, 1 - b1, out=step)
            m *= b1
            m += step
            np.multiply(g, g, out=step)
            step *= 1 - b2
            v *= b2
            v += step
            np.sqrt(v, out=step)
            step += self.epsilon
            np.divide(m, step, out=step)
            step *= lr
            p -= step


class SGDOptimizer:
    """SGD with (Nesterov) momentum, constant learning rate."""

    def __init__(self, params, learning_rate_init=1e-3, momentum=0.9, nesterov=True):
        self.learning_rate_init = learning_rate_init
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocities = [np.zeros_like(p) for p in params]

    def update(self, params, grads):
        lr, mu = self.learning_rate_init, self.momentum
        for p, g, v in zip(params, grads, self.velocities):
            v *= mu
            v -= lr * g
            if self.nesterov:
                p += mu * v - lr * g
            else:
                p += v
