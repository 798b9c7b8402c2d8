"""One check of the ``task_weights`` parameter, shared by every family of models."""

import numpy as np

__all__ = ["TASK_WEIGHT_OPTIONS", "resolve_task_weights"]

TASK_WEIGHT_OPTIONS = frozenset({"balanced", "n_samples"})


def resolve_task_weights(task_weights, n_samples_per_task, *, per_task_mean):
    """Return the task weights ``w_t`` as a float64 array of shape (n_tasks,).

    The two named options mean the same to a user in every model:
    ``"balanced"`` makes every task weigh the same in the data term, and
    ``"n_samples"`` makes every label weigh the same (a task weighs in
    proportion to its ``n_t`` labels). The vector they resolve to depends on
    how the model's data term is normalized:

    * ``per_task_mean=True`` (the linear models): task ``t``'s data term is
      a weighted *mean* over its labels, so ``w_t = 1`` (the default, None)
      is "balanced" and "n_samples" gives ``w_t = T n_t / N``;
    * ``per_task_mean=False`` (kernel ridge): the data term is a *sum* over
      labels, so ``w_t = 1`` (None) is "n_samples" and "balanced" gives
      ``w_t = N / (T n_t)``.

    Both named vectors have mean 1 over the tasks when every task has the
    same number of labels. An array is checked (shape (n_tasks,), finite,
    nonnegative, not all zero) and returned as given.
    """
    counts = np.asarray(n_samples_per_task, dtype=np.float64)
    n_tasks = len(counts)
    if task_weights is None:
        return np.ones(n_tasks)
    if isinstance(task_weights, str):
        if task_weights not in TASK_WEIGHT_OPTIONS:
            raise ValueError(
                f"task_weights={task_weights!r} is not supported; use None, "
                f"{' or '.join(repr(o) for o in sorted(TASK_WEIGHT_OPTIONS))}, "
                "or an array of shape (n_tasks,)."
            )
        if (task_weights == "balanced") == per_task_mean:
            return np.ones(n_tasks)
        if task_weights == "n_samples":
            return n_tasks * counts / counts.sum()
        with np.errstate(divide="ignore"):
            # A task without labels has no data term to weigh.
            return np.where(counts > 0, counts.sum() / (n_tasks * counts), 0.0)
    weights = np.asarray(task_weights, dtype=np.float64)
    if weights.shape != (n_tasks,):
        raise ValueError(
            f"task_weights must have shape (n_tasks,) = ({n_tasks},); "
            f"got shape {weights.shape}."
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("task_weights must be finite and nonnegative.")
    if not np.any(weights > 0):
        raise ValueError("task_weights are all zero; at least one task must count.")
    return weights
