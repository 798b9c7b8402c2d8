"""Utilities: converting between the wide and long layouts."""

from ._layout import stack_tasks, unstack_tasks

__all__ = ["stack_tasks", "unstack_tasks"]
