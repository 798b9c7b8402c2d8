"""Pure functions of the multi-task network: forward pass, losses, backprop.

The network is a shared trunk (``n_trunk`` dense layers applied to every
row) followed by one head per task (``head_layer_sizes`` hidden layers and
an output layer). Parameters are two lists, as in scikit-learn's MLP:

* trunk layer ``l``: ``coefs[l]`` (fan_in, fan_out), ``intercepts[l]`` (fan_out,);
* head layer ``l``: ``coefs[l]`` (fan_in, n_tasks, fan_out) and
  ``intercepts[l]`` (n_tasks, fan_out). Putting the task axis in the middle
  makes ``coefs[l].reshape(fan_in, n_tasks * fan_out)`` a free view, so in the
  wide layout all heads fed by the shared representation are ONE matrix
  product (BLAS-3), and in the long layout ``coefs[l][:, codes]`` gathers the
  head of each row's own task.

The output layer has ``K`` units per task (1 for regression and binary
tasks, ``n_classes`` for multiclass tasks); a task with fewer units than
``K`` has its extra units masked out (``unit_mask``), so binary (sigmoid) and
multiclass (softmax) heads share one array.

Activations of head layers are (n, n_tasks, h) in the wide layout (every row
goes through every head) and (n, h) in the long layout (a row goes through
its own task's head only). Gradients of per-task losses with respect to the
shared layers can be returned per task (leading task axis), which task
weighting (GradNorm) and gradient surgery (PCGrad) need.

An optional linear skip path (wide and deep) adds ``X @ V[:, t]`` to the
logits of task ``t``: ``skip`` (n_features, n_tasks, K), a head layer that
reads the inputs instead of the trunk, so the network contains the linear
models of the inputs.

Task embeddings replace the heads: every layer is shared (``n_trunk`` is
the number of layers) and ``embedding`` (n_tasks, k) holds a learned
vector ``e_t`` per task, appended to the inputs of the first layer, whose
weight matrix is (n_features + k, fan_out): ``z_1 = x W_x + e_t W_e + b_1``.
The output layer's intercept is one row per task (n_tasks, K). The first
layer then depends on the task, so in the wide layout every row goes
through the network once per task: activations are (n * n_tasks, h), row
``i * n_tasks + t`` holding task ``t`` of row ``i`` (the logits are
reshaped to (n, T, K)).

No function here loops over rows or tasks: the long layout uses gathers
(``W[:, codes]``) forward and a sparse task-indicator matrix (segment sums)
for the head gradients.
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

__all__ = [
    "ACTIVATIONS",
    "forward",
    "output_loss",
    "backward",
    "init_params",
    "penalty",
    "task_totals",
    "weighted_task_losses",
    "data_term_gradients",
]


def _relu(Z):
    return np.maximum(Z, 0, out=Z)


def _tanh(Z):
    return np.tanh(Z, out=Z)


def _logistic(Z):
    return expit(Z, out=Z)


ACTIVATIONS = {"relu": _relu, "tanh": _tanh, "logistic": _logistic}


def _activation_derivative(name, A, delta):
    """Multiply ``delta`` in place by f'(z), written in terms of A = f(z)."""
    if name == "relu":
        delta *= A > 0
    elif name == "tanh":
        delta *= 1 - A**2
    else:  # logistic
        delta *= A * (1 - A)
    return delta


def init_params(layer_sizes, n_trunk, n_tasks, activation, dtype, rng):
    """Glorot-uniform weights, as scikit-learn's MLP (factor 2 for logistic).

    Parameters
    ----------
    layer_sizes : list of int
        ``[n_features, *hidden_layer_sizes, *head_layer_sizes, K]``.
    n_trunk : int
        Number of shared layers (``len(hidden_layer_sizes)``).

    Returns
    -------
    coefs, intercepts : lists of ndarray
    """
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for layer, (fan_in, fan_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
        bound = np.sqrt(factor / (fan_in + fan_out))
        shape = (fan_in, fan_out) if layer < n_trunk else (fan_in, n_tasks, fan_out)
        b_shape = (fan_out,) if layer < n_trunk else (n_tasks, fan_out)
        coefs.append(rng.uniform(-bound, bound, shape).astype(dtype))
        intercepts.append(rng.uniform(-bound, bound, b_shape).astype(dtype))
    return coefs, intercepts


def task_scatter(values, codes, n_tasks):
    """Sparse (n, n_tasks * k) matrix holding row i's ``values[i]`` in task codes[i]'s k columns.

    ``D.T @ A`` is then the per-task sum of the outer products
    ``A[i] values[i]^T`` (segment sums) without forming them.
    """
    n, k = values.shape
    columns = (codes[:, None] * k + np.arange(k)).ravel()
    return sp.csr_matrix(
        (values.ravel(), columns, np.arange(0, n * k + 1, k)), shape=(n, n_tasks * k)
    )


def _gather_heads(W, codes):
    """(n, fan_in, fan_out): the head weights of each row's own task."""
    return W.transpose(1, 0, 2)[codes]


def _add_task_rows(Z, B, codes, expand=False):
    """Add task ``t``'s row ``B[t]`` to each row of ``Z`` (a per-task bias of a shared layer).

    Long layout: ``Z + B[codes]``. Wide layout: ``Z`` is (n * T, h), or
    (n, h) with ``expand`` (the first layer, whose input is not yet per
    task), and the result is (n * T, h), row ``i * T + t`` for task ``t``.
    """
    if codes is not None:
        return Z + B[codes]
    n_tasks, width = B.shape
    Z = Z[:, None, :] if expand else Z.reshape(-1, n_tasks, width)
    return (Z + B).reshape(-1, width)


def _task_row_sums(delta, codes, n_tasks):
    """(n_tasks, h) sums of ``delta``'s rows by task: the gradient of :func:`_add_task_rows`' ``B``."""
    if codes is None:
        return delta.reshape(-1, n_tasks, delta.shape[-1]).sum(axis=0)
    indicator = sp.csr_matrix(
        (np.ones(len(codes), dtype=delta.dtype), codes, np.arange(len(codes) + 1)),
        shape=(len(codes), n_tasks),
    )
    return np.asarray(indicator.T @ delta)


def _head_linear(A, W, b, codes):
    """One head layer for every task: wide (codes None) or gathered (long)."""
    fan_in, n_tasks, fan_out = W.shape
    if codes is not None:
        # Long layout: row i through task codes[i] only (batched matrix-vector).
        return np.matmul(A[:, None, :], _gather_heads(W, codes))[:, 0] + b[codes]
    if A.ndim == 2:
        # Shared input: all heads in one BLAS-3 product.
        Z = A @ W.reshape(fan_in, n_tasks * fan_out)
        return Z.reshape(-1, n_tasks, fan_out) + b
    # Per-task input (n, T, i): batched product over tasks.
    return np.matmul(A.transpose(1, 0, 2), W.transpose(1, 0, 2)).transpose(1, 0, 2) + b


def _skip_term(X, V, codes):
    """The skip path's logits ``X @ V[:, t]``: (n, T, K) wide, (n, K) long."""
    if codes is None:
        return np.asarray(X @ V.reshape(V.shape[0], -1)).reshape(X.shape[0], *V.shape[1:])
    if not sp.issparse(X):
        return np.matmul(X[:, None, :], _gather_heads(V, codes))[:, 0]
    # Sparse X, long layout: each stored entry x_ij adds x_ij V[j, code_i].
    X = sp.csr_matrix(X)
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    values = X.data[:, None] * V[X.indices, codes[rows]]
    return np.stack(
        [np.bincount(rows, values[:, k], X.shape[0]) for k in range(V.shape[2])], axis=1
    ).astype(V.dtype, copy=False)


def _head_weight_gradient(A, delta, codes, n_tasks):
    """Gradient of a head layer's weights (fan_in, T, fan_out) from its input and deltas."""
    fan_out = delta.shape[-1]
    if codes is not None:
        # Segment sums of per-row outer products: task t gets its rows only.
        scatter = task_scatter(delta, codes, n_tasks)
        grad = scatter.T @ A
        grad = (grad.toarray() if sp.issparse(grad) else np.asarray(grad)).reshape(n_tasks, fan_out, -1)
        return np.ascontiguousarray(grad.transpose(2, 0, 1)), scatter
    if A.ndim == 2:
        flat = delta.reshape(delta.shape[0], n_tasks * fan_out)
        return np.asarray(A.T @ flat).reshape(-1, n_tasks, fan_out), None
    grad = np.matmul(A.transpose(1, 2, 0), delta.transpose(1, 0, 2))
    return np.ascontiguousarray(grad.transpose(1, 0, 2)), None


def forward(coefs, intercepts, n_trunk, X, codes, activation, skip=None, embedding=None):
    """Activations of every layer; the last entry is the raw output (logits).

    ``skip`` (n_features, n_tasks, K), if given, is the linear skip path:
    its term is added to the logits. ``embedding`` (n_tasks, k), if given,
    is appended to the first layer's inputs (task embeddings, all layers
    shared; module docstring).

    Returns
    -------
    activations : list
        ``[X, trunk_1, ..., trunk_L, head_1, ..., Z]`` with trunk outputs
        (n, h), head outputs (n, T, h) (wide) or (n, h) (long) and logits
        ``Z`` (n, T, K) (wide) or (n, K) (long). With ``embedding`` in the
        wide layout the hidden outputs are (n * T, h).
    """
    act = ACTIVATIONS[activation]
    activations = [X]
    A = X
    n_layers = len(coefs)
    for layer in range(n_layers):
        W, b = coefs[layer], intercepts[layer]
        if layer >= n_trunk:
            Z = _head_linear(A, W, b, codes)
        elif layer == 0 and embedding is not None:
            d = X.shape[1]
            Z = np.asarray(X @ W[:d]) + b
            Z = _add_task_rows(Z, embedding @ W[d:], codes, expand=True)
        else:
            Z = A @ W
            if b.ndim == 1:
                Z += b
            else:  # the output layer's per-task intercepts (task embeddings)
                Z = _add_task_rows(Z, b, codes)
        if layer == n_layers - 1:
            if embedding is not None and codes is None:
                Z = Z.reshape(X.shape[0], -1, Z.shape[-1])
            if skip is not None:
                Z += _skip_term(X, skip, codes)
        else:
            Z = act(Z)
        activations.append(Z)
        A = Z
    return activations


def _in_chunks(function, X, codes, chunk):
    """``function(X, codes)`` on chunks of rows, concatenated (bounds the long layout's gathers)."""
    if X.shape[0] <= chunk:
        return function(X, codes)
    return np.concatenate([
        function(X[start : start + chunk], None if codes is None else codes[start : start + chunk])
        for start in range(0, X.shape[0], chunk)
    ])


def predict_logits(coefs, intercepts, n_trunk, X, codes, activation, skip=None, embedding=None, chunk=4096):
    """Output logits, in chunks of rows."""
    return _in_chunks(
        lambda X, codes: forward(coefs, intercepts, n_trunk, X, codes, activation, skip, embedding)[-1],
        X, codes, chunk,
    )


def predict_activations(coefs, intercepts, n_trunk, X, codes, activation, embedding=None, chunk=4096):
    """Output of the last of the layers given, activated, in chunks of rows.

    ``coefs[:-1]`` gives the output layer's inputs, ``coefs[:n_trunk]`` the
    trunk's representation. With ``embedding`` in the wide layout: (n, T, h).
    """
    last = _in_chunks(
        lambda X, codes: forward(coefs, intercepts, n_trunk, X, codes, activation, embedding=embedding)[-1],
        X, codes, chunk,
    )
    # forward leaves its last layer linear (the logits); here it is hidden.
    return ACTIVATIONS[activation](last)


def output_probabilities(Z, binary, unit_mask):
    """Sigmoid for binary heads, softmax over a task's own units otherwise.

    ``Z`` is (..., K) with the task axis just before it (wide (n, T, K)) or
    ``binary``/``unit_mask`` already gathered per row (long (n,), (n, K)).
    """
    Zm = np.where(unit_mask, Z, -np.inf)
    Zm = Zm - Zm.max(axis=-1, keepdims=True)
    E = np.exp(Zm)
    soft = E / E.sum(axis=-1, keepdims=True)
    sig = expit(Z) * unit_mask
    return np.where(binary[..., None], sig, soft)


def output_loss(Z, target, observed, problem, codes):
    """Per-entry loss and d(loss)/dZ of the output layer.

    Parameters
    ----------
    Z : ndarray of shape (n, T, K) (wide) or (n, K) (long)
    target : ndarray of shape (n, T) / (n,)
        Regression: the value (anything where unobserved). Classification:
        the class position within the task (anything where unobserved).
    observed : ndarray of bool of shape (n, T) or None (long: all observed)
    problem : dict
        ``"kind"`` ("regression" or "classification"); classification also
        has ``"binary"`` (T,) bool and ``"unit_mask"`` (T, K) bool.
    codes : ndarray of int of shape (n,) or None

    Returns
    -------
    loss : ndarray of shape (n, T) / (n,)
        0.5 * squared error, or the cross-entropy; 0 where unobserved.
    dZ : ndarray like Z
        Gradient of each entry's loss with respect to its logits (canonical
        links: prediction - target), 0 where unobserved or masked.
    """
    if problem["kind"] == "regression":
        err = Z[..., 0] - target
        if observed is not None:
            err = np.where(observed, err, 0)
        return 0.5 * err**2, err[..., None]
    binary = problem["binary"]
    unit_mask = problem["unit_mask"]
    if codes is not None:
        binary, unit_mask = binary[codes], unit_mask[codes]
    K = Z.shape[-1]
    cls = np.where(observed, target, 0) if observed is not None else target
    onehot = cls[..., None] == np.arange(K)
    # Binary head: one logistic unit whose target is "class 1".
    y_unit = np.where(binary[..., None], (np.arange(K) == 0) & (cls[..., None] == 1), onehot)
    P = output_probabilities(Z, binary, unit_mask)
    dZ = (P - y_unit) * unit_mask
    # Stable losses from logits: softplus(z) - y z, logsumexp(z) - z_y.
    z0 = Z[..., 0]
    bin_loss = np.logaddexp(0, z0) - (cls == 1) * z0
    Zm = np.where(unit_mask, Z, -np.inf)
    top = Zm.max(axis=-1)
    lse = top + np.log(np.exp(Zm - top[..., None]).sum(axis=-1))
    # (binary tasks' class 1 has no unit of its own: clip, the value is unused)
    z_true = np.take_along_axis(Z, np.minimum(cls, K - 1)[..., None], axis=-1)[..., 0]
    loss = np.where(binary, bin_loss, lse - z_true)
    if observed is not None:
        loss = np.where(observed, loss, 0)
        dZ *= observed[..., None]
    return loss, dZ.astype(Z.dtype, copy=False)


def task_sums(values, codes, n_tasks):
    """Sum of per-entry values for each task: (n, T) -> (T,), or long (n,) -> (T,)."""
    if codes is None:
        return values.sum(axis=0)
    return np.bincount(codes, weights=values, minlength=n_tasks)


def task_totals(n_rows, observed, codes, n_tasks, sample_weight=None):
    """Total weight ``S_t = sum_{i in t} s_i`` of the labeled rows of each task.

    ``s_i = 1`` without ``sample_weight`` (``S_t`` is then the label count
    ``n_t``); in the wide layout a row's weight counts in every task it is
    labeled for (``observed`` None: all labeled).

    Returns
    -------
    totals : ndarray of shape (n_tasks,), float64
    """
    if codes is not None:
        return np.bincount(codes, weights=sample_weight, minlength=n_tasks).astype(np.float64)
    if observed is not None:
        if sample_weight is None:
            return observed.sum(axis=0).astype(np.float64)
        return np.asarray(sample_weight @ observed, dtype=np.float64)
    total = float(n_rows) if sample_weight is None else float(sample_weight.sum())
    return np.full(n_tasks, total)


def weighted_task_losses(
    Z, target, observed, problem, codes, n_tasks, sample_weight=None, denominators=None
):
    """Per-task (weighted) losses ``L_t`` and the per-entry gradient of their sums.

    ``L_t = sum_{i in t} s_i l_it / D_t`` over the labeled rows of task ``t``
    given (``s_i = 1`` without ``sample_weight``; in the wide layout a row's
    weight applies to each of its observed labels). By default ``D_t = S_t``,
    the rows' own total weight of task ``t`` (:func:`task_totals`), so
    ``L_t`` is the task's weighted mean loss over these rows. A minibatch
    passes ``D_t = S_t^{full} B / N`` instead (the task's total in the whole
    training set times the batch's share of the total weight), which makes
    ``L_t`` an unbiased estimate of the full-data mean loss of task ``t``.

    Parameters
    ----------
    Z, target, observed, problem, codes
        As in :func:`output_loss`.
    n_tasks : int
    sample_weight : ndarray of shape (n,) or None
    denominators : ndarray of shape (n_tasks,) or None
        ``D_t`` above; None uses the rows' totals ``S_t``.

    Returns
    -------
    task_losses : ndarray of shape (n_tasks,)
        ``L_t`` (0 for a task with ``D_t = 0``).
    totals : ndarray of shape (n_tasks,)
        ``S_t`` of the rows given (float64; ``> 0`` marks the tasks present).
    dZ : ndarray like Z
        Gradient of ``s_i l_it`` with respect to the logits (not yet divided
        by ``D_t``).
    """
    loss, dZ = output_loss(Z, target, observed, problem, codes)
    totals = task_totals(Z.shape[0], observed, codes, n_tasks, sample_weight)
    if sample_weight is not None:
        s = sample_weight
        loss = loss * (s[:, None] if codes is None else s)
        dZ *= (s[:, None, None] if codes is None else s[:, None]).astype(dZ.dtype, copy=False)
    sums = task_sums(loss, codes, n_tasks)
    denominators = totals if denominators is None else denominators
    task_losses = np.where(denominators > 0, sums / np.where(denominators > 0, denominators, 1), 0.0)
    return task_losses, totals, dZ


def data_term_gradients(
    coefs, intercepts, n_trunk, X, target, observed, codes, problem, activation, task_weights,
    sample_weight=None, denominators=None, *, per_task_trunk=False, skip=None, embedding=None,
):
    """Value and gradients of the data term ``sum_t w_t L_t`` (no penalty).

    ``L_t`` is the (weighted) loss of task ``t`` divided by ``D_t``
    (:func:`weighted_task_losses`; ``denominators``, by default the rows'
    own totals ``S_t``); the gradient of each entry is scaled by
    ``w_t / D_t`` before backpropagation. The L2 penalty, whose scale is
    ``alpha / (2 sum_i s_i)`` (scikit-learn's convention), is added by the
    caller after any gradient surgery of the per-task shared gradients.
    With a linear ``skip`` path (:func:`forward`) its gradient follows the
    layers' in ``coef_grads``, then the ``embedding``'s if any.

    Returns
    -------
    value : float
    task_losses, totals : ndarray of shape (n_tasks,)
        ``L_t`` and the rows' ``S_t``.
    coef_grads, intercept_grads, task_grads
        As in :func:`backward`.
    """
    n_tasks = len(task_weights)
    activations = forward(coefs, intercepts, n_trunk, X, codes, activation, skip, embedding)
    task_losses, totals, dZ = weighted_task_losses(
        activations[-1], target, observed, problem, codes, n_tasks, sample_weight, denominators
    )
    denominators = totals if denominators is None else denominators
    scale = np.where(denominators > 0, task_weights / np.where(denominators > 0, denominators, 1), 0.0)
    scale = scale.astype(dZ.dtype)
    dZ *= scale[codes][:, None] if codes is not None else scale[:, None]
    grads = backward(
        coefs, activations, n_trunk, dZ, codes, activation, per_task_trunk=per_task_trunk, skip=skip,
        embedding=embedding, intercepts=intercepts,
    )
    return (float(task_weights @ task_losses), task_losses, totals, *grads)


def penalty(coefs):
    """Sum of squared weights (intercepts excluded)."""
    return sum(float(np.vdot(W, W)) for W in coefs)


def backward(
    coefs, activations, n_trunk, dZ, codes, activation, *, per_task_trunk=False, skip=None,
    embedding=None, intercepts=None,
):
    """Backpropagate the output gradient ``dZ`` (already weighted and scaled).

    Parameters
    ----------
    dZ : ndarray of shape (n, T, K) (wide) or (n, K) (long)
        Gradient of the objective with respect to the logits.
    per_task_trunk : bool
        Also return, for every shared parameter, the gradient of each task's
        term separately (leading task axis). The total shared gradient is
        then their sum. Not with ``embedding``.
    skip : ndarray of shape (n_features, n_tasks, K) or None
        The linear skip path of :func:`forward`.
    embedding : ndarray of shape (n_tasks, k) or None
        The task embeddings of :func:`forward`; ``intercepts`` must then be
        given (the shape of each tells a shared intercept from per-task ones).

    Returns
    -------
    coef_grads, intercept_grads : lists of ndarray (penalty not included)
        With ``skip``, ``coef_grads`` continues with the skip path's
        gradient, then with ``embedding``, the embeddings'.
    task_grads : list of ndarray or None
        With ``per_task_trunk``: ``[dW_1, db_1, ..., dW_L, db_L]`` of the
        trunk layers, each with a leading axis of length n_tasks.
    """
    n_layers = len(coefs)
    n_tasks = dZ.shape[1] if codes is None else (coefs[-1].shape[1] if embedding is None else len(embedding))
    coef_grads = [None] * n_layers
    intercept_grads = [None] * n_layers
    delta = dZ
    skip_grad = [] if skip is None else [_head_weight_gradient(activations[0], dZ, codes, n_tasks)[0]]
    embedding_grad = []
    if embedding is not None and codes is None:
        delta = dZ.reshape(-1, dZ.shape[-1])  # rows i * T + t, as the hidden layers'
    for layer in range(n_layers - 1, n_trunk - 1, -1):
        A = activations[layer]
        W = coefs[layer]
        fan_in, _, fan_out = W.shape
        coef_grads[layer], scatter = _head_weight_gradient(A, delta, codes, n_tasks)
        if codes is not None:
            # (bincount: scipy's sum has a fixed cost larger than this work)
            sums = np.bincount(scatter.indices, scatter.data, n_tasks * fan_out)
            intercept_grads[layer] = sums.reshape(n_tasks, fan_out).astype(delta.dtype)
            heads = _gather_heads(W, codes)
            if fan_out == 1:
                # A stack of one-column products costs more than a broadcast.
                back = heads[:, :, 0] * delta
            else:
                back = np.matmul(heads, delta[:, :, None])[..., 0]
            if layer == n_trunk and per_task_trunk:
                # A row's gradient belongs to its own task only.
                back = back[None] * (codes == np.arange(n_tasks)[:, None])[:, :, None]
        elif A.ndim == 2:
            flat = delta.reshape(delta.shape[0], n_tasks * fan_out)
            intercept_grads[layer] = delta.sum(axis=0)
            if per_task_trunk:
                back = np.matmul(delta.transpose(1, 0, 2), W.transpose(1, 2, 0))
            else:
                back = flat @ W.reshape(fan_in, n_tasks * fan_out).T
        else:
            intercept_grads[layer] = delta.sum(axis=0)
            back = np.matmul(delta.transpose(1, 0, 2), W.transpose(1, 2, 0)).transpose(1, 0, 2)
        if layer > 0:
            delta = _activation_derivative(activation, activations[layer], back)
    task_grads = [] if per_task_trunk else None
    for layer in range(n_trunk - 1, -1, -1):
        A = activations[layer]
        if delta.ndim == 3:  # (T, n, h): per-task deltas, one GEMM for all tasks
            n_t, n, h = delta.shape
            flat = delta.transpose(1, 0, 2).reshape(n, n_t * h)
            grad = np.asarray(A.T @ flat).reshape(-1, n_t, h).transpose(1, 0, 2)
            bias = delta.sum(axis=1)
            task_grads[0:0] = [grad, bias]
            coef_grads[layer] = grad.sum(axis=0)
            intercept_grads[layer] = bias.sum(axis=0)
        elif layer == 0 and embedding is not None:
            # z_1 = x W_x + e_t W_e + b_1: W_e and e_t see the per-task sums of the deltas.
            task_delta = _task_row_sums(delta, codes, n_tasks)
            rows = delta if codes is not None else delta.reshape(A.shape[0], n_tasks, -1).sum(axis=1)
            W_e = coefs[0][A.shape[1] :]
            coef_grads[0] = np.vstack([np.asarray(A.T @ rows), embedding.T @ task_delta])
            intercept_grads[0] = task_delta.sum(axis=0)
            embedding_grad = [task_delta @ W_e.T]
        else:
            coef_grads[layer] = np.asarray(A.T @ delta)
            per_task_bias = intercepts is not None and intercepts[layer].ndim == 2
            intercept_grads[layer] = _task_row_sums(delta, codes, n_tasks) if per_task_bias else delta.sum(axis=0)
        if layer > 0:
            back = delta @ coefs[layer].T
            delta = _activation_derivative(activation, activations[layer], back)
    return coef_grads + skip_grad + embedding_grad, intercept_grads, task_grads
