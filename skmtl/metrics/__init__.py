"""Per-task metrics and scorers for multi-task models.

Every function takes either layout: wide (``tasks=None``, ``y`` of shape
(n_samples, n_tasks), NaN = missing label, skipped) or long (``tasks`` gives
each row's task label, ``y`` is 1-D).
"""

from ._classification import averaged_auc
from ._per_task import TaskScoreTable, per_task_score, task_scores
from ._regression import mean_task_rmse, multitask_explained_variance, normalized_mse
from ._scorer import (
    averaged_auc_scorer,
    explained_variance_scorer,
    get_task_scorer,
    get_task_scorer_names,
    make_task_scorer,
    neg_normalized_mse_scorer,
    neg_task_mse_scorer,
    neg_task_rmse_scorer,
    task_accuracy_scorer,
    task_r2_scorer,
)

__all__ = [
    "TaskScoreTable",
    "averaged_auc",
    "averaged_auc_scorer",
    "explained_variance_scorer",
    "get_task_scorer",
    "get_task_scorer_names",
    "make_task_scorer",
    "mean_task_rmse",
    "multitask_explained_variance",
    "neg_normalized_mse_scorer",
    "neg_task_mse_scorer",
    "neg_task_rmse_scorer",
    "normalized_mse",
    "per_task_score",
    "task_accuracy_scorer",
    "task_r2_scorer",
    "task_scores",
]
