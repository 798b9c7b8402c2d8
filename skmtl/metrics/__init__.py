"""Per-task metrics and scorers for multi-task models."""

from ._per_task import task_scores

__all__ = ["task_scores"]
