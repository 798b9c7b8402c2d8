"""Multi-task kernel ridge: an input kernel times a task kernel.

``MultiTaskKernelRidge`` fits ``f(x, t)`` in the RKHS of
``k((x, s), (x', t)) = k(x, x') * K_task[s, t]`` (Evgeniou, Micchelli &
Pontil 2005) with exact Kronecker eigen solves (wide layout, all labels),
structured conjugate gradients (missing labels, long layout), Nystroem
features for large n, and a task kernel that can be given or learned.
"""

from ._kernel_ridge import (
    MultiTaskKernelRidge,
    MultiTaskKernelRidgeClassifier,
    MultiTaskKernelRidgeCV,
)
from ._task_kernels import (
    check_task_kernel,
    clustered_task_kernel,
    graph_task_kernel,
    independent_task_kernel,
    mean_regularized_task_kernel,
    mtrl_task_covariance,
    pooled_task_kernel,
)

__all__ = [
    "MultiTaskKernelRidge",
    "MultiTaskKernelRidgeClassifier",
    "MultiTaskKernelRidgeCV",
    "check_task_kernel",
    "clustered_task_kernel",
    "graph_task_kernel",
    "independent_task_kernel",
    "mean_regularized_task_kernel",
    "mtrl_task_covariance",
    "pooled_task_kernel",
]
