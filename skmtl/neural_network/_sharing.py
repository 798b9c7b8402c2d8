"""Heads that share with a learned strength: mean-regularized task heads.

Each task's linear head (the output layer, and the linear skip path) is a
shared head plus a task deviation, ``W_t = S + D_t``, and the objective adds

.. math::

    \\sum_t \\frac{w_t \\lambda}{2 n_t} \\|D_t\\|^2,

so that, task by task, the data term ``w_t / (2 n_t) SSE_t`` and the pull
towards the shared head form a ridge of strength ``lambda`` (in the scale of
a sum of squared errors) centred on ``S``: ``lambda = 0`` gives independent
heads, ``lambda -> inf`` one pooled head (plus each task's intercept). This
is the prior ``D_t ~ N(0, sigma^2 / lambda I)`` of a hierarchical model, and
``lambda`` is estimated as in one, by MacKay's (1992) evidence update

.. math::

    \\lambda \\leftarrow \\hat\\sigma^2 \\gamma / \\sum_t \\|D_t\\|^2,
    \\qquad \\gamma = \\sum_t \\sum_j \\frac{e_{tj}}{e_{tj} + \\lambda},

with ``e_tj`` the eigenvalues of task ``t``'s Gram matrix of the head's
inputs (weighted by the loss's curvature), ``gamma`` the number of
deviation coordinates the data determine and ``sigma^2`` the residual
variance (1 for classification). Functions here are pure; the estimator
applies the penalty in its steps and the update after each epoch.

References
----------
MacKay, D. J. C. (1992). Bayesian interpolation. Neural Computation 4.
Evgeniou, T., Pontil, M. (2004). Regularized multi-task learning. KDD.
"""

import numpy as np
import scipy.sparse as sp


__all__ = ["class_curvature", "evidence_update", "head_gram_eigenvalues"]

# Largest head input handled by exact per-task eigenvalues (T p^3 work);
# wider inputs use the Gram matrices' diagonals.
_MAX_EXACT_WIDTH = 256
# Largest factor by which one evidence update moves the strength.
_MAX_CHANGE = 2.0
# Rows per task (wide layout: in all) forming the Gram matrices.
_MAX_GRAM_ROWS = 1000


def class_curvature(target, weight, codes, n_tasks, n_classes):
    """Curvature of each task's cross-entropy at its (weighted) class frequencies.

    ``p (1 - p)`` of a binary task's positive rate, the mean of ``p_k (1 -
    p_k)`` over a multiclass task's classes: the Hessian weight of a row at
    the model that predicts the frequencies, a fixed stand-in for the
    fitted probabilities.

    Parameters
    ----------
    target : ndarray of int of shape (n,) (long) or (n, n_tasks) (wide)
        Class positions within each task.
    weight : ndarray like ``target``
        Entry weights, 0 where unlabeled.
    codes : ndarray of int of shape (n,) or None
    n_tasks : int
    n_classes : ndarray of int of shape (n_tasks,)

    Returns
    -------
    curvature : ndarray of shape (n_tasks,)
    """
    width = int(n_classes.max())
    task = codes if codes is not None else np.broadcast_to(np.arange(n_tasks), target.shape)
    counts = np.bincount((task * width + target).ravel(), weight.ravel(), n_tasks * width)
    counts = counts.reshape(n_tasks, width).astype(np.float64)
    freq = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    pq = freq * (1 - freq)
    return np.where(n_classes == 2, pq[:, 1], pq.sum(axis=1) / n_classes)


def head_gram_eigenvalues(Phi, weight, codes, n_tasks, rng):
    """Eigenvalues of each task's weighted Gram matrix ``Phi_t' C_t Phi_t``.

    A task with more than ``_MAX_GRAM_ROWS`` weighted rows contributes a
    random subset of that many, their weights scaled up to the task's
    total (the wide layout subsamples rows for all tasks at once): the
    evidence update needs the spectrum's scale, not every row.

    Parameters
    ----------
    Phi : {ndarray, sparse matrix} of shape (n, p) or ndarray of shape (n, n_tasks, p)
        The inputs of the heads (the features, for the skip path); per task
        in the wide layout with head layers.
    weight : ndarray of shape (n,) (long) or (n, n_tasks) (wide)
        Each entry's row weight times the loss's curvature, 0 where the
        entry is unlabeled.
    codes : ndarray of int of shape (n,) or None
    n_tasks : int
    rng : numpy.random.RandomState
        Draws the subsets.

    Returns
    -------
    eigenvalues : ndarray of shape (n_tasks, p)
        Exact (on the subsets) when ``p <= 256``, else each Gram matrix's
        diagonal.
    """
    p = Phi.shape[-1]
    n = Phi.shape[0]
    if codes is None:
        if n > _MAX_GRAM_ROWS:
            rows = np.sort(rng.choice(n, _MAX_GRAM_ROWS, replace=False))
            kept = weight[rows]
            scale = weight.sum(axis=0) / np.maximum(kept.sum(axis=0), np.finfo(np.float64).tiny)
            Phi, weight = Phi[rows], kept * scale
    else:
        # Each task's rows in a random order; keep the first _MAX_GRAM_ROWS.
        order = np.lexsort((rng.random_sample(n), codes))
        sizes = np.bincount(codes, minlength=n_tasks)
        starts = np.cumsum(sizes) - sizes
        rank = np.arange(n) - np.repeat(starts, sizes)
        rows = order[rank < _MAX_GRAM_ROWS]
        kept = np.bincount(codes[rows], weight[rows], n_tasks)
        scale = np.bincount(codes, weight, n_tasks) / np.maximum(kept, np.finfo(np.float64).tiny)
        Phi, codes = Phi[rows], codes[rows]
        weight = weight[rows] * scale[codes]
    sq = Phi.multiply(Phi) if sp.issparse(Phi) else Phi * Phi
    if p > _MAX_EXACT_WIDTH:
        if codes is not None:
            indicator = sp.csr_matrix(
                (weight, codes, np.arange(len(codes) + 1)), shape=(len(codes), n_tasks)
            )
            diagonals = indicator.T @ sq
        elif sq.ndim == 3:
            diagonals = np.einsum("ntp,nt->tp", sq, weight)
        else:
            diagonals = (sq.T @ weight).T
        return np.asarray(diagonals.todense() if sp.issparse(diagonals) else diagonals, dtype=np.float64)
    Phi = Phi.toarray() if sp.issparse(Phi) else np.asarray(Phi)
    Phi = Phi.astype(np.float64, copy=False)
    if codes is not None:
        # Rows sorted by task: one small product per task.
        order = np.argsort(codes, kind="stable")
        bounds = np.cumsum(np.bincount(codes, minlength=n_tasks))[:-1]
        blocks = zip(np.split(Phi[order], bounds), np.split(weight[order], bounds))
        grams = np.stack([(P * w[:, None]).T @ P for P, w in blocks])
    else:
        # A per-task input (head layers in the wide layout) is (n, n_tasks, p).
        task_inputs = [Phi[:, t] if Phi.ndim == 3 else Phi for t in range(n_tasks)]
        grams = np.stack([(P * weight[:, t, None]).T @ P for t, P in enumerate(task_inputs)])
    return np.clip(np.linalg.eigvalsh(grams), 0, None)


def evidence_update(strength, eigenvalues, units, deviation_norm2, residual_variance):
    """One evidence (MacKay) update of the sharing strength ``lambda``.

    Parameters
    ----------
    strength : float
        The current ``lambda``.
    eigenvalues : ndarray of shape (n_tasks, p)
        From :func:`head_gram_eigenvalues`.
    units : ndarray of shape (n_tasks,)
        Output units of each task (its deviations are ``p * units``
        coordinates sharing the task's Gram matrix).
    deviation_norm2 : float
        ``sum_t ||D_t||^2``.
    residual_variance : float
        ``sigma^2`` (1 for classification).

    Returns
    -------
    strength : float
        The update, at most ``_MAX_CHANGE`` times larger or smaller than
        ``strength`` and within [1e-6, 1e6]; unchanged while every deviation
        is zero.
    """
    if deviation_norm2 <= 0:
        return strength
    gamma = float(units @ (eigenvalues / (eigenvalues + strength)).sum(axis=1))
    target = residual_variance * gamma / deviation_norm2
    # The fixed point assumes the deviations optimal for the current
    # strength, which stochastic steps reach only gradually: a free jump
    # could pool the heads (deviations shrink, the estimate grows, ...)
    # before the trunk has learned what tells the tasks apart.
    step = np.clip(target / strength, 1 / _MAX_CHANGE, _MAX_CHANGE)
    return float(np.clip(strength * step, 1e-6, 1e6))
