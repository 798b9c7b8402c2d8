"""Optional matplotlib views of multi-task results.

matplotlib is an optional dependency (``pip install "skmtl[plot]"``): it is
imported when a function is called, and a clear ``ImportError`` says so if
it is missing. Every function draws on ``ax`` (a new figure when None) and
returns the matplotlib ``Axes``.
"""

from ._plots import (
    plot_coef_sparsity,
    plot_regularization_path,
    plot_task_gains,
    plot_task_similarity,
)

__all__ = [
    "plot_coef_sparsity",
    "plot_regularization_path",
    "plot_task_gains",
    "plot_task_similarity",
]
