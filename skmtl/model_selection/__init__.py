"""Task-aware cross-validation splitters."""

from ._split import LeaveTasksOut, TaskStratifiedKFold, TaskStratifiedShuffleSplit

__all__ = ["LeaveTasksOut", "TaskStratifiedKFold", "TaskStratifiedShuffleSplit"]
