"""Penalties of the linear multi-task models, one module per prox structure.

A penalty is a small class acting on the whole coefficient matrix ``W`` of
shape (n_features, n_tasks) (rows = features across tasks, the groups of the
L21 norm), built on :class:`BasePenalty` (its hyper-parameters, declared
once). Every penalty provides

* ``value(W)``;
* ``prox(W, step)``: ``argmin_P ||P - W||_F^2 / 2 + step * value(P)``;
* ``subdiff_distance(W, grad)``: the Euclidean (Frobenius) distance from
  ``-grad`` to the subdifferential of ``value`` at ``W``; it is 0 exactly at
  a minimizer of ``f + value`` when ``grad`` is the gradient of ``f``
  (with the intercepts at their optimum);

and where they exist ``alpha_max(grad0)`` (the smallest ``alpha`` for which
``W = 0`` is optimal when ``grad0`` is the loss gradient at ``W = 0``) and
the conjugate (``has_dual``, ``dual_scale``, ``conjugate``) for duality
gaps. The modules:

* :mod:`._row_separable`: sums over the rows, prox row by row (L21, L1,
  L1/L-infinity, per-task L1, sparse group); :mod:`._scaled`: such a penalty in the
  coordinates of scaled features (:func:`scale_rows`);
* :mod:`._spectral`: functions of the singular values (trace norm, squared
  trace norm), prox by a thin SVD;
* :mod:`._task_quadratic`: ``alpha / 2 tr(W M W')`` (mean, graph), a
  linear prox; :mod:`._clustering`: those of clustered MTL;
* :mod:`._composite`: one penalty per block of rows, a nuclear-norm ball.
"""

from ._base import BasePenalty, _check_scalar, _ElasticNetPenalty
from ._clustering import (
    _ClusterQuadratic,
    _ConvexClusterPenalty,
    _SpectralQuadratic,
    _cluster_average,
    _cluster_matrix_update,
    _eig_weights,
    _indicator_projection,
    _penalty_eigvals,
)
from ._composite import BlockPenalty, NuclearBall
from ._row_separable import L1, L21, L1Linf, SparseGroupL21, _linf_threshold, _RowSeparable, _TaskL1
from ._scaled import _RowScaled, scale_rows
from ._spectral import SquaredTraceNorm, TraceNorm
from ._task_quadratic import MeanQuadratic, SparseTaskQuadratic, TaskQuadratic, _TaskSpectrum

__all__ = [
    "BasePenalty",
    "BlockPenalty",
    "L1",
    "L21",
    "L1Linf",
    "MeanQuadratic",
    "NuclearBall",
    "SparseGroupL21",
    "SparseTaskQuadratic",
    "SquaredTraceNorm",
    "TaskQuadratic",
    "TraceNorm",
    "scale_rows",
]
