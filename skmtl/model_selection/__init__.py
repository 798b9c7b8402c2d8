"""Task-aware cross-validation splitters and the single-task comparison."""

from ._compare import ComparisonResult, compare_with_single_task
from ._split import LeaveTasksOut, TaskStratifiedKFold, TaskStratifiedShuffleSplit

__all__ = [
    "ComparisonResult",
    "LeaveTasksOut",
    "TaskStratifiedKFold",
    "TaskStratifiedShuffleSplit",
    "compare_with_single_task",
]
