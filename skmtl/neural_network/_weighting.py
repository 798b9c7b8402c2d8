"""Task weighting and gradient surgery for the multi-task MLP.

The network minimizes ``sum_t w_t * L_t (+ extra terms) + penalty``. In a
minibatch every ``L_t`` is an unbiased estimate of task t's mean loss over
all its training rows (0 when the batch holds none of them); the strategies
below use these estimates. A weighting strategy decides ``w_t``:

* :class:`FixedWeighting` — equal weights or an explicit array;
* :class:`UncertaintyWeighting` — homoscedastic uncertainty (Kendall, Gal &
  Cipolla 2018): learned log-variances ``s_t``, ``w_t = exp(-s_t)`` and the
  extra term ``sum_t s_t / 2``. With ``L_t`` half the mean squared error
  this is the Gaussian negative log-likelihood, minimized over ``s_t`` at
  ``w_t = 1 / (2 L_t)``: noisy tasks get small weights;
* :class:`DWAWeighting` — dynamic weight average (Liu, Johns & Davison
  2019): ``w_t = T softmax_t(r_t / temperature)`` with ``r_t`` the ratio of
  task t's last two epoch losses, so tasks whose loss stalls get more weight;
* :class:`GradNormWeighting` — GradNorm (Chen et al. 2018): weights learned so
  that the gradient norms ``G_t = ||grad_W w_t L_t||`` on the last shared
  layer approach ``mean(G) * r_t ** alpha`` (``r_t`` the relative inverse
  training rate); renormalized to sum to T after each step.

:func:`pcgrad` is PCGrad gradient surgery (Yu et al. 2020) on the shared
parameters: a task gradient conflicting with another's (negative inner
product) is projected onto the normal plane of the other.
"""

import numpy as np

__all__ = [
    "FixedWeighting",
    "UncertaintyWeighting",
    "DWAWeighting",
    "GradNormWeighting",
    "make_weighting",
    "pcgrad",
]


class FixedWeighting:
    """Constant task weights (``"equal"`` or a user array)."""

    needs_task_grads = False

    def __init__(self, weights):
        self._weights = np.asarray(weights, dtype=np.float64)
        self.params = []

    def weights(self):
        return self._weights

    def extra_objective(self):
        return 0.0

    def param_grads(self, task_losses, present, task_grad_norms=None):
        return []

    def after_update(self):
        pass

    def end_epoch(self, epoch_task_losses):
        pass


class UncertaintyWeighting(FixedWeighting):
    """Learned log-variances: ``w_t = exp(-s_t)``, extra term ``sum_t s_t / 2``."""

    def __init__(self, n_tasks):
        self.params = [np.zeros(n_tasks)]

    def weights(self):
        return np.exp(-self.params[0])

    def extra_objective(self):
        return 0.5 * float(self.params[0].sum())

    def param_grads(self, task_losses, present, task_grad_norms=None):
        # d/ds_t [exp(-s_t) L_t + s_t / 2] for every task, present or not:
        # the minibatch L_t are unbiased estimates (0 for a task absent from
        # the batch), so this is an unbiased estimate of the full gradient.
        # (Skipping absent tasks would move the stationary point from
        # w_t = 1 / (2 L_t) to P(t in batch) / (2 L_t).)
        return [0.5 - self.weights() * task_losses]


class DWAWeighting(FixedWeighting):
    """Dynamic weight average on the per-task epoch losses."""

    def __init__(self, n_tasks, temperature=2.0):
        self._weights = np.ones(n_tasks)
        self.temperature = temperature
        self.params = []
        self._history = []

    def end_epoch(self, epoch_task_losses):
        self._history.append(np.asarray(epoch_task_losses, dtype=np.float64))
        if len(self._history) < 2:
            return  # Liu et al.: w = 1 for the first two epochs
        previous, last = self._history[-2], self._history[-1]
        ratio = last / np.maximum(previous, np.finfo(np.float64).tiny)
        logits = ratio / self.temperature
        e = np.exp(logits - logits.max())
        self._weights = len(e) * e / e.sum()
        self._history = self._history[-2:]


class GradNormWeighting(FixedWeighting):
    """GradNorm: weights trained to balance the tasks' gradient norms."""

    needs_task_grads = True

    def __init__(self, n_tasks, alpha=1.5):
        self.params = [np.ones(n_tasks)]
        self.alpha = alpha
        self.initial_losses = None

    def weights(self):
        return self.params[0]

    def param_grads(self, task_losses, present, task_grad_norms=None):
        w = self.params[0]
        if self.initial_losses is None:
            self.initial_losses = np.where(present, task_losses, np.nan)
        # Only tasks in the batch: an absent task's G_t is 0 and its L_t
        # estimate 0, which say nothing about its training rate.
        # Record L_t(0) for tasks seen for the first time.
        fresh = present & np.isnan(self.initial_losses)
        self.initial_losses[fresh] = task_losses[fresh]
        usable = present & (self.initial_losses > 0)
        if usable.sum() < 2:
            return [np.zeros_like(w)]
        G = task_grad_norms  # norms of grad of w_t L_t on the last shared layer
        ratio = np.where(usable, task_losses / np.where(usable, self.initial_losses, 1), 0)
        inverse_rate = ratio / ratio[usable].mean()
        target = G[usable].mean() * inverse_rate**self.alpha  # a constant (no gradient)
        # d/dw_t |w_t ||g_t|| - target_t| = sign(.) * ||g_t|| = sign(.) * G_t / w_t
        grad = np.sign(G - target) * G / np.maximum(w, 1e-12)
        return [np.where(usable, grad, 0.0)]

    def after_update(self):
        w = np.maximum(self.params[0], 1e-6)
        self.params[0][:] = len(w) * w / w.sum()


def make_weighting(task_weighting, n_tasks, *, temperature=2.0, gradnorm_alpha=1.5):
    """Build the weighting strategy for ``task_weighting``; validates arrays."""
    if isinstance(task_weighting, str):
        if task_weighting == "equal":
            return FixedWeighting(np.ones(n_tasks))
        if task_weighting == "uncertainty":
            return UncertaintyWeighting(n_tasks)
        if task_weighting == "dwa":
            return DWAWeighting(n_tasks, temperature)
        return GradNormWeighting(n_tasks, gradnorm_alpha)
    weights = np.asarray(task_weighting, dtype=np.float64)
    if weights.shape != (n_tasks,):
        raise ValueError(
            f"task_weighting has shape {weights.shape}, but there are {n_tasks} tasks; "
            "give one weight per task."
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("task_weighting must hold finite, non-negative weights.")
    return FixedWeighting(weights)


def pcgrad(G, rng):
    """PCGrad: project each task gradient off the gradients it conflicts with.

    Parameters
    ----------
    G : ndarray of shape (n_tasks, n_params)
        Per-task gradients of the shared parameters.
    rng : numpy.random.RandomState
        Draws each task's random order of the other tasks (Yu et al. 2020).

    Returns
    -------
    projected : ndarray of shape (n_tasks, n_params)
        Row t is g_t projected, in turn, onto the normal plane of every
        original g_s (s != t) with ``g_t . g_s < 0``. The update direction is
        ``projected.sum(axis=0)``.
    """
    n_tasks = G.shape[0]
    projected = G.copy()
    squared_norms = np.maximum(np.einsum("tp,tp->t", G, G), np.finfo(G.dtype).tiny)
    orders = np.argsort(rng.random_sample((n_tasks, n_tasks)), axis=1)
    tasks = np.arange(n_tasks)
    # One pass per position in the random orders, vectorized over tasks.
    for k in range(n_tasks):
        other = orders[:, k]
        dots = np.einsum("tp,tp->t", projected, G[other])
        coef = np.where((dots < 0) & (other != tasks), dots / squared_norms[other], 0.0)
        projected -= coef[:, None].astype(G.dtype) * G[other]
    return projected
