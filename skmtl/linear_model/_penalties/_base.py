"""The base classes of the penalties: hyper-parameters, and the elastic-net scaffolding."""

import numbers

import numpy as np


def _check_scalar(value, name, *, low=0.0, high=None):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r}.")
    if not np.isfinite(value) or value < low or (high is not None and value > high):
        bounds = f"in [{low:g}, {high:g}]" if high is not None else f">= {low:g}"
        raise ValueError(f"{name} must be {bounds}; got {value!r}.")
    return float(value)


# Checks for ``BasePenalty._parameters``: ``check(value, name) -> value``.
def _nonnegative(value, name):
    return _check_scalar(value, name)


def _ratio(value, name):
    return _check_scalar(value, name, high=1.0)


def _flag(value, name):
    return bool(value)


def _count(value, name):
    return int(value)


def _float_array(value, name):
    return np.asarray(value, dtype=np.float64)


def _as_is(value, name):
    """Arrays and structures, validated by the estimator that builds the penalty."""
    return value


def _short(value):
    """``repr`` of a hyper-parameter, arrays by their shape (test ids, messages)."""
    shape = getattr(value, "shape", None)
    return repr(value) if shape is None or shape == () else f"<array {shape}>"


class BasePenalty:
    """Base class of the penalties: the hyper-parameters, declared once.

    A penalty declares its hyper-parameters in ``_parameters``, a dict
    ``name -> check`` in the order of its ``__init__`` signature (as
    scikit-learn's ``_parameter_constraints``; a subclass with other
    hyper-parameters declares its own), and its ``__init__`` sets them
    with :meth:`_set_params`, which checks each value and names the bad
    one. :meth:`get_params`, :meth:`with_params`
    and the ``repr`` follow from the declaration (skglm's
    ``params_to_dict``, without numba).

    The solvers call ``value(W)``, ``prox(W, step)`` and
    ``subdiff_distance(W, grad)`` (``_solvers.PENALTY_REQUIRED``), and use
    when present: ``alpha_max`` / ``null_ratio`` (paths, the null
    solution), ``has_dual`` / ``dual_scale`` / ``conjugate`` (duality
    gaps), and for a sum over rows ``subdiff_distance_rows``, ``restrict``
    and a per-row ``step`` in ``prox`` (working sets, block coordinate
    descent, :func:`scale_rows`). This class defines none of them: a
    penalty has exactly the capabilities it implements, the required ones
    checked by name.
    """

    _parameters = {}

    def _set_params(self, **params):
        for name, value in params.items():
            setattr(self, name, self._parameters[name](value, name))

    def get_params(self):
        """The hyper-parameters, ``{name: value}``, in the order of ``__init__``."""
        return {name: getattr(self, name) for name in self._parameters}

    def with_params(self, **changes):
        """A new penalty of the same class, with ``changes`` to its hyper-parameters."""
        return type(self)(**{**self.get_params(), **changes})

    def __repr__(self):
        params = ", ".join(f"{name}={_short(value)}" for name, value in self.get_params().items())
        return f"{type(self).__name__}({params})"


class _ElasticNetPenalty(BasePenalty):
    """Elastic-net scaffolding: ``alpha * (r * Omega_0(W) + (1 - r) / 2 * ||W||_F^2)``.

    ``r`` is ``_norm_share``: ``l1_ratio`` (the default), or 1 for a
    penalty with no ridge part whose own ``l1_ratio`` means something else
    (:class:`SparseGroupL21`). Subclasses implement ``Omega_0`` through
    ``_norm(W)``, ``_prox(V, threshold)`` (the prox of ``threshold *
    Omega_0``), ``_distance(W, Z, lam)`` (distance from ``Z`` to ``lam *
    dOmega_0(W)``) and ``_dual_norm(Z)``; this class adds the ridge part,
    the optimality measure, ``alpha_max`` and the conjugate. The ridge
    only rescales the prox of ``Omega_0``::

        prox_{s a (r Omega_0 + (1 - r)/2 ||.||^2)}(V) = prox_{s a r / (1 + s a (1 - r)) Omega_0}(V / (1 + s a (1 - r)))

    Parameters
    ----------
    alpha : float, default=1.0
    l1_ratio : float in [0, 1], default=1.0
    positive : bool, default=False
        Constrain ``W >= 0`` (the subclasses that set ``_supports_positive``).
    """

    _parameters = {"alpha": _nonnegative, "l1_ratio": _ratio, "positive": _flag}
    _supports_positive = False
    # For the subclasses without that hyper-parameter (no constraint W >= 0).
    positive = False

    def __init__(self, alpha=1.0, *, l1_ratio=1.0, positive=False):
        self._set_params(alpha=alpha, l1_ratio=l1_ratio, positive=positive)
        if self.positive and not self._supports_positive:
            raise ValueError(f"{type(self).__name__} does not support positive=True.")

    @property
    def _norm_share(self):
        """``r``: the share of ``alpha`` on ``Omega_0``."""
        return self.l1_ratio

    @property
    def _strength(self):
        """Weight of ``Omega_0``: ``alpha * r``."""
        return self.alpha * self._norm_share

    @property
    def _ridge(self):
        """Weight of ``||W||_F^2 / 2``: ``alpha * (1 - r)``."""
        return self.alpha * (1.0 - self._norm_share)

    def value(self, W):
        """``alpha * (r * Omega_0(W) + (1 - r) / 2 * ||W||_F^2)``.

        With ``positive=True`` the constraint ``W >= 0`` is left out of the
        value (the solvers only produce feasible ``W``, through the prox).
        """
        W = np.asarray(W)
        value = 0.0
        if self._strength > 0:
            value += self._strength * self._norm(W)
        if self._ridge > 0:
            flat = W.ravel()
            value += 0.5 * self._ridge * float(np.einsum("i,i->", flat, flat))
        return value

    def prox(self, W, step):
        """Proximal operator of ``step * value`` at ``W`` (a new array).

        ``step`` is a float, or for a penalty that is a sum over rows an
        array of shape (n_features,): one step per row (see :func:`scale_rows`).
        """
        W = np.asarray(W)
        if np.ndim(step):
            step = np.asarray(step, dtype=W.dtype)[:, None]
        shrink = 1.0 + step * self._ridge
        V = W / shrink if np.any(shrink != 1.0) else W
        threshold = step * self._strength / shrink
        return self._prox(V, threshold)

    def subdiff_distance(self, W, grad):
        """Frobenius distance from ``-grad`` to the subdifferential of ``value`` at ``W``.

        0 exactly at a minimizer of ``f + value`` when ``grad`` is the
        gradient of ``f``; ``inf`` for a ``W`` outside the domain (a
        negative entry with ``positive=True``).
        """
        W = np.asarray(W)
        target = -np.asarray(grad, dtype=np.float64)
        if self._ridge > 0:
            target = target - self._ridge * W
        return float(self._distance(W.astype(np.float64, copy=False), target, self._strength))

    def alpha_max(self, grad0):
        """Smallest ``alpha`` for which ``W = 0`` is optimal (gradient ``grad0`` at 0).

        The dual norm of ``grad0`` over ``r`` (scikit-learn's
        ``_alpha_grid``); ``inf`` when ``r = 0``.
        """
        if self._norm_share == 0:
            return np.inf
        return float(self._dual_norm(-np.asarray(grad0, dtype=np.float64))) / self._norm_share

    def null_ratio(self, grad0):
        """``alpha / alpha_max(grad0)``: 1 or more exactly when ``W = 0`` is optimal."""
        top = self.alpha_max(grad0)
        return self.alpha / top if top > 0 else np.inf

    # ------------------------------------------------------------------
    # The Fenchel conjugate, for duality gaps (SquaredLoss.dual_gap).
    @property
    def has_dual(self):
        """Whether :meth:`conjugate` is finite on a scaled dual point: a positive ``alpha``."""
        return self.alpha > 0

    def dual_scale(self, V):
        """Factor ``s`` in (0, 1] that makes ``conjugate(s * V)`` finite.

        With a ridge part the conjugate is finite everywhere (1). Else it is
        the indicator of the dual ball ``Omega_0^*(V) <= alpha r``, and
        ``s`` scales ``V`` into it (the rescaled residual of the Lasso's
        dual point, Massias et al., 2018).
        """
        if self._ridge > 0:
            return 1.0
        norm = self._dual_norm(np.asarray(V, dtype=np.float64))
        return min(1.0, self._strength / norm) if norm > 0 else 1.0

    def conjugate(self, V):
        """``sup_W <V, W> - value(W)`` for ``V`` in the domain (see :meth:`dual_scale`).

        For ``h = lam Omega_0 + rho / 2 ||.||_F^2`` with ``rho > 0`` it is
        ``||prox_{lam Omega_0}(V)||_F^2 / (2 rho)`` (``Omega_0`` is
        positively homogeneous); without ridge, 0 inside the dual ball.
        """
        if not self._ridge > 0:
            return 0.0
        V = np.asarray(V, dtype=np.float64)
        P = self._prox(V, self._strength) if self._strength > 0 else V
        return 0.5 * float(np.einsum("ij,ij->", P, P)) / self._ridge
