"""A row-separable penalty in the coordinates of scaled features (``scale=True`` losses)."""

import numpy as np

from ._base import BasePenalty, _as_is, _float_array
from ._composite import BlockPenalty
from ._row_separable import _RowSeparable
from ._task_quadratic import SparseTaskQuadratic, TaskQuadratic


class _RowScaled(BasePenalty):
    """``g(V) = h(V / s)``: a penalty ``h`` seen in the coordinates ``V = s W`` of scaled features.

    A loss on the features ``X / s`` (:class:`~._losses.SquaredLoss`
    ``scale=True``) has coefficients ``V = s W`` (``s`` per row); the model
    is the same when the penalty is taken at ``W = V / s``. For a penalty
    that acts on each row alone, ``prox_{tau g}(V) = s prox_{tau / s^2 h}(V / s)``
    row by row: proximal gradient on the scaled problem is proximal gradient
    with one step per feature, so that one feature on a large scale (an
    income next to a few ratios) no longer sets the step of all the others.
    """

    _parameters = {"penalty": _as_is, "scale": _float_array}

    def __init__(self, penalty, scale):
        self._set_params(penalty=penalty, scale=scale)
        self._column = self.scale[:, None]
        self.alpha = penalty.alpha

    def value(self, V):
        return self.penalty.value(np.asarray(V) / self._column)

    def prox(self, V, step):
        V = np.asarray(V)
        inner = self.penalty.prox(V / self._column.astype(V.dtype), step / self.scale**2)
        return np.asarray(inner * self._column, dtype=V.dtype)

    def restrict(self, rows):
        return _RowScaled(self.penalty.restrict(rows), self.scale[rows])

    def subdiff_distance_rows(self, V, grad):
        # dg(V) = dh(V / s) / s, row by row.
        W = np.asarray(V, dtype=np.float64) / self._column
        return self.penalty.subdiff_distance_rows(W, np.asarray(grad, dtype=np.float64) * self._column) / self.scale

    def subdiff_distance(self, V, grad):
        return float(np.sqrt(np.sum(self.subdiff_distance_rows(V, grad) ** 2)))

    def alpha_max(self, grad0):
        return self.penalty.alpha_max(np.asarray(grad0, dtype=np.float64) * self._column)

    def null_ratio(self, grad0):
        return self.penalty.null_ratio(np.asarray(grad0, dtype=np.float64) * self._column)

    @property
    def has_dual(self):
        return self.penalty.has_dual

    def dual_scale(self, U):
        return self.penalty.dual_scale(np.asarray(U, dtype=np.float64) * self._column)

    def conjugate(self, U):
        # g*(U) = sup_V <U, V> - h(V / s) = h*(s U).
        return self.penalty.conjugate(np.asarray(U, dtype=np.float64) * self._column)


def scale_rows(penalty, scale):
    """The penalty ``penalty`` in the coordinates ``V = scale[:, None] * W`` (see :class:`_RowScaled`).

    ``penalty`` must act on each row of ``W`` alone (a sum over features:
    :class:`L21`, :class:`L1`, :class:`L1Linf`, a dense
    :class:`TaskQuadratic` ``tr(W M W')``, or a :class:`BlockPenalty` of
    two such); ``scale`` is None or of shape (n_features,). Returns
    ``penalty`` itself when ``scale`` is None.
    """
    if scale is None:
        return penalty
    if isinstance(penalty, BlockPenalty):
        n = penalty.n_features
        return BlockPenalty(n, scale_rows(penalty.first, scale[:n]), scale_rows(penalty.second, scale[n:]))
    # A sparse M's prox factorizes one system per step: one step per row
    # would need one factorization per feature.
    row_wise = isinstance(penalty, _RowSeparable) or (
        isinstance(penalty, TaskQuadratic) and not isinstance(penalty, SparseTaskQuadratic)
    )
    if not row_wise:
        raise TypeError(f"scale_rows needs a penalty that is a sum over rows; got {type(penalty).__name__}.")
    return _RowScaled(penalty, scale)
