"""Regularized linear multi-task models.

The estimators (group lasso, trace norm, ...) are thin classes built from
three private components: the losses in ``_losses.py`` (squared, logistic),
the penalties in the ``_penalties`` package (one module per prox
structure: row-separable norms, spectral norms, task quadratics, composite
penalties) and the solvers in ``_solvers.py``. This module is the stable public
import location; private modules may move.
"""

from ._hierarchical import HierarchicalClassifier, HierarchicalRegressor
from ._group_lasso import GroupLassoClassifier, GroupLassoRegressor
from ._lasso import MultiTaskLassoClassifier, MultiTaskLassoRegressor
from ._path import (
    GroupLassoClassifierCV,
    GroupLassoRegressorCV,
    SparseGroupLassoClassifierCV,
    SparseGroupLassoRegressorCV,
    TraceNormRegressorCV,
    alpha_max,
    group_lasso_path,
    regularization_path,
    trace_norm_path,
)
from ._clustered import ClusteredClassifier, ClusteredRegressor
from ._dirty import DirtyClassifier, DirtyRegressor, SparseLowRankRegressor
from ._dirty_cv import DirtyClassifierCV, DirtyRegressorCV, SparseLowRankRegressorCV
from ._task_graph import (
    GraphRegularizedClassifier,
    GraphRegularizedRegressor,
    MeanRegularizedClassifier,
    MeanRegularizedRegressor,
    TaskRelationClassifier,
    TaskRelationRegressor,
)
from ._sparse_group_lasso import SparseGroupLassoClassifier, SparseGroupLassoRegressor
from ._trace_norm import TraceNormClassifier, TraceNormRegressor

__all__ = [
    "HierarchicalRegressor",
    "HierarchicalClassifier",
    "ClusteredRegressor",
    "ClusteredClassifier",
    "DirtyRegressor",
    "DirtyClassifier",
    "SparseLowRankRegressor",
    "DirtyRegressorCV",
    "DirtyClassifierCV",
    "SparseLowRankRegressorCV",
    "MeanRegularizedRegressor",
    "MeanRegularizedClassifier",
    "GraphRegularizedRegressor",
    "GraphRegularizedClassifier",
    "TaskRelationRegressor",
    "TaskRelationClassifier",
    "alpha_max",
    "group_lasso_path",
    "regularization_path",
    "trace_norm_path",
    "GroupLassoClassifier",
    "GroupLassoClassifierCV",
    "GroupLassoRegressorCV",
    "TraceNormRegressorCV",
    "GroupLassoRegressor",
    "MultiTaskLassoClassifier",
    "MultiTaskLassoRegressor",
    "SparseGroupLassoClassifier",
    "SparseGroupLassoClassifierCV",
    "SparseGroupLassoRegressor",
    "SparseGroupLassoRegressorCV",
    "TraceNormClassifier",
    "TraceNormRegressor",
]
