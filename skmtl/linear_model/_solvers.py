"""Solvers of the linear multi-task models: plain functions over (loss, penalty).

A solver never sees the data layout: it talks to a loss from
:mod:`._losses` (value, gradient, Lipschitz bound, through cached raw
predictions), to the loss's speed-ups through their one interface
(``loss.accelerators``, :mod:`._accelerators`) and to a penalty from
:mod:`._penalties` (value, prox, optimality measure), and returns a
:class:`SolverResult`. Estimators turn ``converged=False`` into a
:class:`~sklearn.exceptions.ConvergenceWarning`.

* :func:`fista` — accelerated proximal gradient on all of ``W``; any penalty.
* :func:`working_set_fista` — FISTA on a growing set of rows of ``W``
  (features), for penalties that are sums over rows (L21, L1, L1/Linf):
  the cost per iteration then scales with the number of useful features.
  Once the working set holds every feature, :func:`_route_whole` picks the
  method that finishes (FISTA, maybe after float32 iterations, or kernel
  ADMM), in one place.
* :func:`admm` — ADMM through the kernel ``X X'`` of the squared loss on
  wide dense data; any penalty with a prox.
* :func:`solve` — picks one of them and certifies the result.

All stop on the same scale-free criterion (see the Notes of :func:`fista`),
so a ``tol`` means the same thing whichever solver ran. A path hands each
solve the :class:`WarmStart` the previous one left.
"""

from dataclasses import dataclass

import numpy as np

from ._designs import _inner

__all__ = [
    "SolverResult",
    "WarmStart",
    "fista",
    "working_set_fista",
    "admm",
    "solve",
    "LOSS_REQUIRED",
    "PENALTY_REQUIRED",
]

#: Methods and attributes a loss must provide to the solvers (a loss with
#: ``is_quadratic`` true also provides ``bregman_from_raw``).
LOSS_REQUIRED = (
    "raw_prediction",
    "value_from_raw",
    "value_and_gradient_from_raw",
    "gradient_from_raw",
    "lipschitz",
    "null_intercept",
    "null_model",
    "null_model_cached",
    "n_features",
    "n_tasks",
    "fit_intercept",
    "dtype",
    "is_quadratic",
    "accelerators",
)
#: Methods a penalty must provide to the solvers.
PENALTY_REQUIRED = ("value", "prox", "subdiff_distance")
#: What :func:`working_set_fista` needs on top.
LOSS_REQUIRED_WS = ("restrict", "whole_model")
PENALTY_REQUIRED_WS = ("subdiff_distance_rows", "restrict")

# Each iteration first tries a step 1 / (L * _STEP_GROWTH) longer than the
# last accepted one (an adaptive step that can grow back after a pessimistic
# start), then the last accepted one, then doubles L until the quadratic
# upper bound holds.
_STEP_GROWTH = 0.9
_BACKTRACK = 2.0
_MAX_BACKTRACKS = 60
# solve(solver="auto") uses working sets from this many features on.
_WS_MIN_FEATURES = 100
# ADMM (working_set_fista, once the working set holds every feature, on wide
# X through the kernel of the squared loss): over-relaxation, and how often
# and past which imbalance of its residuals rho is rebalanced (Boyd et al.,
# 2011, section 3.4.1). The kernel costs n / (4 T) gradients: ADMM is used
# up to _ADMM_MAX_KERNEL of them.
_ADMM_RELAX = 1.6
_ADMM_BALANCE_EVERY = 5
_ADMM_BALANCE = 10.0
_ADMM_MAX_KERNEL = 8.0
_ADMM_CHECK_EVERY = 20
# ADMM starts with the float32 kernel when its target (relative to the
# reference measure) is this many times above float32's rounding floor,
# about 0.55 eps32 alpha_max / alpha (see _accelerators.KernelSystem).
_ADMM_SINGLE_MARGIN = 20.0
# Whole-problem solves (without ADMM) with a relative target of at least
# _SINGLE_MIN_TOL (the half of tol=1e-4 they aim at) run float32 FISTA
# first, down to at most _SINGLE_FLOOR (float32 FISTA on centered features
# levels off near 1e-7 relative, see _accelerators.SinglePrecisionTwin) and
# for at most _SINGLE_MAX_ITER iterations (a path's warm start needs 3-7);
# float64 finishes if needed.
_SINGLE_MIN_TOL = 5e-5
_SINGLE_FLOOR = 1e-6
_SINGLE_MAX_ITER = 200
# A loss that offers its whole problem through a Gram model (a tall X with
# few tasks, Accelerators.whole_model) moves its rounds to that model from
# the start when alpha < _MODEL_FIRST_RATIO alpha_max (small alphas: the
# Gram matrix pays whatever the support), or once the last restricted
# solution filled _FILLED of its working set and the next working set holds
# _WHOLE_MODEL_SHARE of the features (a dense solution at a larger alpha).
# Otherwise a sparse solution stays on X and the Gram blocks of its working
# sets. At n = 2000, d = 500, T = 5 on the designs of linear_wide.py --grid:
# 0.43-0.84x the time of the Gram form at alpha_max / 10, 0.83-1.09x at /100.
_MODEL_FIRST_RATIO = 1 / 20
_FILLED = 0.75
_WHOLE_MODEL_SHARE = 1 / 8
# Restricted problems solved "to the final tolerance" aim at half of it, so
# that the full criterion, measured with a possibly larger L, meets it too.
_INNER_TIGHT = 0.5


@dataclass
class WarmStart:
    """What a working-set solve leaves for the next solve on the same loss (a path).

    The next solve of a warm-started path starts at (or near) the point the
    last one returned: there, the raw prediction and the gradient the last
    solve computed for its own stop are known, and its last step constant
    spares the first working set an eigenvalue estimate (a Lanczos run on a
    wide ``X``: 10-20 gradients).

    Attributes
    ----------
    coef : ndarray of shape (n_features, n_tasks)
        The returned ``W`` (in the loss's units).
    intercept : ndarray of shape (n_tasks,)
        The returned ``b``.
    raw, grad_W, grad_b : ndarray or None
        Raw prediction and gradient at ``(coef, intercept)``; None when the
        solve stopped without them (FISTA's own stop on the whole problem).
    step : float
        The last accepted inverse step size.
    """

    coef: np.ndarray
    intercept: np.ndarray
    raw: np.ndarray = None
    grad_W: np.ndarray = None
    grad_b: np.ndarray = None
    step: float = None

    def gradient_at(self, W, b):
        """``(raw, grad_W, grad_b)`` when ``(W, b)`` is exactly the stored point, else None."""
        if self.grad_W is None or self.coef.shape != np.shape(W):
            return None
        if not (np.array_equal(self.coef, W) and np.array_equal(self.intercept, b)):
            return None
        return self.raw, self.grad_W, self.grad_b


@dataclass
class SolverResult:
    """What a solver returns.

    Attributes
    ----------
    coef : ndarray of shape (n_features, n_tasks)
        ``W`` (estimators publish ``coef_ = coef.T``).
    intercept : ndarray of shape (n_tasks,)
        ``b`` (zeros without intercept).
    n_iter : int
        Iterations run: FISTA steps summed over working sets, plus block
        coordinate descent sweeps. 0 exactly when the null solution ``W = 0``
        was returned by the ``alpha >= alpha_max`` check; a warm start
        accepted after one optimality check counts as 1.
    converged : bool
        Whether ``stop_crit <= tol`` was reached within ``max_iter``.
    stop_crit : float
        Final value of the scale-free stopping criterion (see :func:`fista`).
    objective : float
        ``loss.value(coef, intercept) + penalty.value(coef)``.
    lipschitz : float
        Last accepted inverse step size.
    n_products : int
        Products with the data (a forward ``X @ W`` or a backward
        ``X.T @ R``, whatever their size) spent: one gradient is two.
    dual_gap : float
        Duality gap at ``(coef, intercept)`` (see :func:`solve`), NaN when
        the penalty has no usable conjugate or the solver was called alone.
    warm_start : WarmStart or None
        What the next solve of a path on the same loss can start from
        (:func:`working_set_fista` only).
    """

    coef: np.ndarray
    intercept: np.ndarray
    n_iter: int
    converged: bool
    stop_crit: float
    objective: float
    lipschitz: float = np.nan
    n_products: int = 0
    dual_gap: float = np.nan
    warm_start: WarmStart = None


@dataclass
class _Inner:
    """What an inner method returns: its last point and what it knows there.

    ``crit`` is the measure it stopped on (absolute); ``lipschitz`` the
    step constant FISTA accepted last (NaN for the methods without steps);
    ``grad_W`` and ``grad_b`` the gradient at the point when the method
    computed it (ADMM and the float32 stage check with it).
    """

    coef: np.ndarray
    intercept: np.ndarray
    raw: np.ndarray
    n_iter: int
    converged: bool
    crit: float
    n_products: int
    lipschitz: float = np.nan
    grad_W: np.ndarray = None
    grad_b: np.ndarray = None


@dataclass
class _NullModel:
    """``W = 0`` with the intercept-only model's intercepts: the early exit and the reference."""

    zero: np.ndarray
    intercept: np.ndarray
    raw: np.ndarray
    value: float
    grad_W: np.ndarray
    grad_b: np.ndarray
    n_products: int  # spent computing it (0 when the loss had it cached)

    @classmethod
    def of(cls, loss):
        n_products = 0 if loss.null_model_cached else 2
        zero = np.zeros((loss.n_features, loss.n_tasks), dtype=loss.dtype)
        intercept = np.asarray(loss.null_intercept(), dtype=loss.dtype)
        return cls(zero, intercept, *loss.null_model(), n_products)

    def result(self, penalty, L, n_products):
        """The null solution as a :class:`SolverResult` (``n_iter = 0``)."""
        objective = self.value + penalty.value(self.zero)
        return SolverResult(self.zero, self.intercept.copy(), 0, True, 0.0, objective, L, n_products)


def _check_components(loss, penalty, solver, loss_extra=(), penalty_extra=()):
    """Fail fast, naming every missing method, before any computation."""
    for obj, required, kind in (
        (loss, LOSS_REQUIRED + tuple(loss_extra), "loss"),
        (penalty, PENALTY_REQUIRED + tuple(penalty_extra), "penalty"),
    ):
        missing = [name for name in required if not hasattr(obj, name)]
        if missing:
            raise TypeError(
                f"{solver} needs a {kind} providing {', '.join(required)}; "
                f"{type(obj).__name__} lacks {', '.join(missing)}."
            )


def _check_start(loss, W0, b0):
    shape = (loss.n_features, loss.n_tasks)
    if W0 is None:
        W = np.zeros(shape, dtype=loss.dtype)
    else:
        W = np.array(W0, dtype=loss.dtype, copy=True)
        if W.shape != shape:
            raise ValueError(f"W0 must have shape (n_features, n_tasks) = {shape}; got {W.shape}.")
    if not loss.fit_intercept:
        b = np.zeros(loss.n_tasks, dtype=loss.dtype)
    elif b0 is None:
        b = np.asarray(loss.null_intercept(), dtype=loss.dtype).copy()
    else:
        b = np.array(b0, dtype=loss.dtype, copy=True)
        if b.shape != (loss.n_tasks,):
            raise ValueError(f"b0 must have shape (n_tasks,) = ({loss.n_tasks},); got {b.shape}.")
    return W, b


def _check_budget(max_iter, tol):
    if not (isinstance(max_iter, (int, np.integer)) and max_iter >= 1):
        raise ValueError(f"max_iter must be a positive integer; got {max_iter!r}.")
    if not tol >= 0:
        raise ValueError(f"tol must be non-negative; got {tol!r}.")


def _gradient_mapping(penalty, W, gW, gb, L):
    """``L * ||(W - prox(W - gW / L, 1 / L), gb / L)||``: 0 exactly at a minimizer."""
    P = penalty.prox(W - gW / L, 1.0 / L)
    D = W - P
    return L * np.sqrt(_inner(D, D) + _inner(gb, gb) / L**2)


def _optimality_measure(penalty, W, gW, gb):
    """``hypot(penalty.subdiff_distance(W, gW), ||gb||)``: 0 exactly at a minimizer.

    It bounds the gradient mapping of :func:`fista` for every step size, so
    a solver that stops on it meets :func:`fista`'s rule whatever ``L``.
    """
    return float(np.hypot(penalty.subdiff_distance(W, gW), np.sqrt(_inner(gb, gb))))


def _gradient_at(loss, W, raw, grad0):
    """``(grad_W, grad_b, n_products)`` at ``W`` whose raw prediction is ``raw``.

    Through the loss's Gram columns when its accelerators offer them for
    this ``W`` (a row-sparse ``W``), else one backward product. ``grad0``
    is the null model's gradient in ``W``.
    """
    out = loss.accelerators.support_gradient(W, raw, grad0)
    if out is None:
        grad_W, grad_b = loss.gradient_from_raw(raw)
        return grad_W, grad_b, 1
    return out


def _null_is_optimal(penalty, zero, gW0):
    """Whether ``W = 0`` (with the null intercepts) solves the problem.

    Only the coefficients are judged: the null intercepts minimize the loss
    at ``W = 0`` by construction, so their gradient is rounding (or, for a
    logistic task with one class, the clipped log-odds' tiny remainder).
    Judging it too would make an all-zero ``X`` (gradient exactly 0 in
    ``W``) chase rounding errors for ``max_iter`` iterations.
    """
    eps = np.finfo(zero.dtype).eps
    return penalty.subdiff_distance(zero, gW0) <= 1e3 * eps * np.sqrt(_inner(gW0, gW0))


def _fista_loop(
    loss, penalty, W, b, L, stop_abs, max_iter, ref, callback=None, n_iter_offset=0, start=None
):
    """FISTA iterations from ``(W, b)`` until the gradient mapping is <= ``stop_abs``.

    ``start``, when given, is ``(raw, grad_W, grad_b)`` at ``(W, b)``,
    already known to the caller: the first iteration then needs no product.
    Returns an :class:`_Inner` whose ``crit`` is the last gradient mapping.
    """
    fit_intercept = loss.fit_intercept
    dtype = loss.dtype
    eps = np.finfo(dtype).eps
    # A quadratic loss checks the line search with its exact Bregman
    # divergence (no value, no cancellation); other losses with values.
    quadratic = loss.is_quadratic
    if start is None:
        raw_W = loss.raw_prediction(W, b)
        n_products = 1
    else:
        raw_W, gW, gb = start
        n_products = 0
    W_prev, b_prev, raw_prev = W, b, raw_W
    V, c, raw_V = W, b, raw_W
    t = 1.0
    converged = False
    crit = np.inf
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        if n_iter == 1 and start is not None:
            f_V = None if quadratic else loss.value_from_raw(raw_V)
        elif quadratic:
            gW, gb = loss.gradient_from_raw(raw_V)
            n_products += 1
        else:
            f_V, gW, gb = loss.value_and_gradient_from_raw(raw_V)
            n_products += 1
        if not quadratic:
            slack = 10 * eps * max(abs(f_V), 1.0)
        L_prev = L
        L *= _STEP_GROWTH
        for n_tries in range(_MAX_BACKTRACKS):
            W_new = np.asarray(penalty.prox(V - gW / L, 1.0 / L), dtype=dtype)
            b_new = c - gb / L if fit_intercept else c
            raw_new = loss.raw_prediction(W_new, b_new)
            n_products += 1
            dW = W_new - V
            db = b_new - c
            sq = _inner(dW, dW) + _inner(db, db)
            if quadratic:
                if loss.bregman_from_raw(raw_new, raw_V) <= 0.5 * L * sq * (1 + 1e3 * eps):
                    break
            else:
                f_new = loss.value_from_raw(raw_new)
                if f_new <= f_V + _inner(gW, dW) + _inner(gb, db) + 0.5 * L * sq + slack:
                    break
            # The longer step failed: back to the last accepted one (on the
            # first iteration the Lipschitz bound, which makes one step
            # exact on a one-feature problem), then halve.
            L = L_prev if n_tries == 0 else L * _BACKTRACK
        crit = L * np.sqrt(sq)

        W_prev, b_prev, raw_prev, W, b, raw_W = W, b, raw_W, W_new, b_new, raw_new
        if crit <= stop_abs:
            converged = True
            break
        if callback is not None and callback(n_iter_offset + n_iter, W, b, crit / ref):
            break

        # Gradient-based adaptive restart: the prox-gradient step from V
        # points against the momentum direction.
        if _inner(dW, W_prev - W) + _inner(db, b_prev - b) > 0:
            t = 1.0
            V, c, raw_V = W, b, raw_W
            continue
        # Variable step: t_{k+1} = (1 + sqrt(1 + 4 (L_k+1 / L_k) t_k^2)) / 2.
        # (Python floats: a NumPy float64 scalar would upcast float32 arrays.)
        t_next = 0.5 * (1.0 + (1.0 + 4.0 * (L / L_prev) * t * t) ** 0.5)
        beta = (t - 1.0) / t_next
        t = t_next
        V = W + beta * (W - W_prev)
        c = b + beta * (b - b_prev) if fit_intercept else b
        # X V + c is the same combination of the cached raw predictions.
        raw_V = raw_W + beta * (raw_W - raw_prev)
    return _Inner(W, b, raw_W, n_iter, converged, crit, n_products, lipschitz=L)


def _twin_start(loss, W, tol):
    """Whether a warm start at ``W`` goes straight to the float32 twin.

    A ``W`` with at least half of its rows nonzero makes the working set the
    whole problem, whose warm starts the twin iterates on (see
    :func:`_route_whole`) when the target allows; the start's raw
    prediction and gradient are then the twin's, at half the cost.
    """
    if _INNER_TIGHT * tol < _SINGLE_MIN_TOL:
        return False
    if 2 * np.count_nonzero(np.any(W != 0, axis=1)) < W.shape[0]:
        return False
    return loss.accelerators.single_precision() is not None


def _twin_stage(loss, twin, penalty, point, L, stop_abs, max_iter, ref):
    """FISTA on the float32 ``twin`` of the loss from ``point``, back in float64.

    At most ``_SINGLE_MAX_ITER`` iterations, down to ``max(stop_abs, _SINGLE_FLOOR * ref)`` at most (float32's
    rounding floor). ``point`` is an :class:`_Inner` whose raw prediction
    and gradient may be None: then the twin computes them, at half the cost.

    Returns an :class:`_Inner` at the float64 point, with its float64 raw
    prediction and gradient (two products), its gradient mapping as
    ``crit`` and ``lipschitz`` raised to the step constant FISTA accepted.
    """
    W32, b32, start32 = twin.to_single(point.coef, point.intercept, point.raw, point.grad_W, point.grad_b)
    stop = max(stop_abs, _SINGLE_FLOOR * ref)
    max_iter = min(max_iter, _SINGLE_MAX_ITER)
    inner = _fista_loop(twin, penalty, W32, b32, L, stop, max_iter, ref, start=start32)
    L = max(L, inner.lipschitz)
    W, b = twin.from_single(inner.coef, inner.intercept)
    raw = loss.raw_prediction(W, b)
    gW, gb = loss.gradient_from_raw(raw)
    crit = _gradient_mapping(penalty, W, gW, gb, L)
    return _Inner(W, b, raw, inner.n_iter, False, crit, 2, lipschitz=L, grad_W=gW, grad_b=gb)


def _kernel_system(loss, single=False):
    """The loss's :class:`._accelerators.KernelSystem` when ADMM pays, else None."""
    return loss.accelerators.kernel_system(int(_ADMM_MAX_KERNEL * 4 * loss.n_tasks), single=single)


def _null_ratio(penalty, gW0):
    """``alpha / alpha_max`` in [1e-6, 1]; 1 for a penalty with no sparsifying part."""
    r = penalty.null_ratio(gW0) if hasattr(penalty, "null_ratio") else 1.0
    if not r > 0:
        r = 1.0  # no sparsifying part (l1_ratio = 0): W = 0 is never optimal
    return min(max(r, 1e-6), 1.0)


def _admm_kernel(loss, penalty, gW0, stop_rel):
    """The kernel system ADMM starts with (None when ADMM does not apply).

    Float32 when the relative target ``stop_rel`` is at least
    ``_ADMM_SINGLE_MARGIN`` times the floor of its rounding, ``0.55 eps32
    / r`` with ``r = alpha / alpha_max``: at ``alpha_max / 100`` from a
    relative target of 5e-4 on (``tol = 1e-3``).
    """
    floor = 0.55 * np.finfo(np.float32).eps / _null_ratio(penalty, gW0)
    return _kernel_system(loss, single=bool(stop_rel >= _ADMM_SINGLE_MARGIN * floor))


def _admm_rho(penalty, kernel, gW0):
    """First ``rho`` of ADMM, from the penalty's strength relative to ``alpha_max``.

    Measured on Gaussian designs (n < d, 3 <= alpha_max / alpha <= 1000),
    the ``rho`` at which residual balancing settles is about ``L min(0.6
    sqrt(r), 4 r)`` with ``r = alpha / alpha_max`` and ``L`` the loss's
    Lipschitz constant; balancing corrects the rest.
    """
    r = _null_ratio(penalty, gW0)
    rho = kernel.lipschitz * min(0.6 * np.sqrt(r), 4.0 * r)
    return rho if rho > 0 else 1.0  # a constant design: any rho works


def _rebalanced(primal, step, W_k, Z, U):
    """The factor by which residual balancing multiplies ``rho`` (1: keep it)."""
    tiny = np.finfo(float).tiny
    r = primal / max(np.sqrt(_inner(W_k, W_k)), np.sqrt(_inner(Z, Z)), tiny)
    s = np.sqrt(_inner(step, step)) / max(np.sqrt(_inner(U, U)), tiny)
    if r > _ADMM_BALANCE * s:
        return 2.0 if r < _ADMM_BALANCE**2 * s else 5.0
    if s > _ADMM_BALANCE * r:
        return 0.5 if s < _ADMM_BALANCE**2 * r else 0.2
    return 1.0


def _admm_loop(loss, penalty, kernel, W, gW, stop_abs, max_iter, rho):
    """ADMM on ``f(W) + g(Z)`` subject to ``W = Z``, for quadratic losses on a wide ``X``.

    ``f`` is the squared loss with its intercepts at their optimum (a
    quadratic with Hessian ``A``); each iteration solves the ridge system
    ``(A + rho I) W = V`` exactly (``kernel``, :class:`._accelerators.KernelSystem`),
    takes the penalty's prox for ``Z`` and updates the scaled dual ``U``,
    with over-relaxation 1.6 and residual balancing of ``rho`` every 5
    iterations (Boyd et al., 2011). The exact ridge solve makes the number
    of iterations nearly independent of the conditioning of ``X``. A
    float32 ``kernel`` that stalls (an exact check that did not halve the
    measure since the previous one) is replaced by the float64 one.

    Stopping: at the end of an iteration ``rho U`` is a subgradient of the
    penalty at ``Z`` and ``grad f(W) = rho (Z_prev - U_prev - W)``, so
    ``dist(-grad f(Z), dg(Z)) <= ||grad f(W) + rho U|| + L ||Z - W||``
    costs nothing; when that bound (calibrated by the last exact check)
    meets ``stop_abs``, or 20 iterations after the last check, the exact
    :func:`_optimality_measure` is computed at ``Z`` (one gradient) and
    decides. Returns an :class:`_Inner` at ``Z``.

    On a Gaussian ``X`` with n = 500, d = 1000 at ``alpha_max / 100`` it
    takes 12-16 iterations where FISTA took 40. For loose targets (at least
    20 times float32's rounding floor, see :func:`_admm_kernel`) the kernel
    and its products are float32, at half the cost; the stop is still
    decided in float64.

    References
    ----------
    Boyd, Parikh, Chu, Peleato & Eckstein, "Distributed optimization and
    statistical learning via the alternating direction method of
    multipliers", Found. Trends Mach. Learn., 2011.
    """
    L = kernel.lipschitz
    Z = np.array(W, dtype=np.float64, copy=True)
    U = -np.asarray(gW, dtype=np.float64) / rho  # the dual of a warm start
    relax = _ADMM_RELAX
    ratio = 1.0
    converged = False
    crit = np.inf
    raw = gW = gb = b = None
    n_products = 0
    n_iter = last_check = 0
    last_crit = np.inf
    for n_iter in range(1, max_iter + 1):
        # (In place where it saves a pass over a (d, T) array: at n = 500
        # these passes cost a fifth of an iteration.)
        V = Z - U
        V *= rho
        V += kernel.linear
        W_k = kernel.solve(V, rho)
        n_products += 2
        # W_h = relax W_k + (1 - relax) Z, and the next U = U + W_h - Z.
        over = W_k - Z
        over *= relax - 1.0
        W_h = over + W_k
        U += W_h
        Z_prev = Z
        Z = penalty.prox(U, 1.0 / rho)
        U -= Z
        primal = np.sqrt(_inner(Z - W_k, Z - W_k))
        step = Z_prev - Z
        over += step  # grad f(W_k) + rho U, over rho
        dual = rho * np.sqrt(_inner(over, over))
        bound = dual + L * primal
        # The bound can be far looser than the measure (the L ||Z - W||
        # term): an exact check every _ADMM_CHECK_EVERY iterations at the
        # latest calibrates it.
        if bound * ratio <= stop_abs or n_iter - last_check >= _ADMM_CHECK_EVERY or n_iter == max_iter:
            last_check = n_iter
            b = kernel.intercept(Z)
            raw = loss.raw_prediction(Z, b)
            gW, gb = loss.gradient_from_raw(raw)
            n_products += 2
            crit = _optimality_measure(penalty, Z, gW, gb)
            if crit <= stop_abs:
                converged = True
                break
            if kernel.single and crit > 0.5 * last_crit:
                kernel = _kernel_system(loss)  # float32 rounding: go on in float64
            last_crit = crit
            if bound > 0:
                ratio = crit / bound
        if n_iter % _ADMM_BALANCE_EVERY == 0:
            factor = _rebalanced(primal, step, W_k, Z, U)
            if factor != 1.0:
                rho *= factor
                U /= factor
    return _Inner(Z, b, raw, n_iter, converged, crit, n_products, grad_W=gW, grad_b=gb)


@dataclass
class _Route:
    """How :func:`working_set_fista` finishes the whole problem (see :func:`_route_whole`).

    ``method`` is ``"admm"`` (with ``kernel`` and its first ``rho``) or
    ``"fista"``; ``twin``, when set, runs float32 iterations first.
    """

    method: str
    kernel: object = None
    rho: float = None
    twin: object = None


def _route_whole(loss, penalty, gW0, cold, stop_rel):
    """The inner method that finishes the whole problem: the one place that picks it.

    * On a cold start, ADMM through the kernel when the loss offers it
      (wide dense data, at most ``32 n_tasks`` samples): ill-conditioning
      does not slow it (1.65x FISTA on problem a at ``alpha_max / 100``).
      Warm starts keep FISTA, which needs 3-7 cheaper iterations from a
      nearby solution where ADMM needs about 10.
    * Else FISTA; for a relative target ``stop_rel`` of at least 5e-5
      (``tol >= 1e-4``) it first iterates on the loss's float32 twin when
      it has one (1.3-1.4x on the paths of problems a and b, 1.5x on b's
      cold fit at ``alpha_max / 100`` and ``tol=1e-3``).

    The figures that justify each route are in ``doc/benchmarks_linear.rst``.
    """
    if cold:
        kernel = _admm_kernel(loss, penalty, gW0, stop_rel)
        if kernel is not None:
            return _Route("admm", kernel=kernel, rho=_admm_rho(penalty, kernel, gW0))
    twin = None if stop_rel < _SINGLE_MIN_TOL else loss.accelerators.single_precision()
    return _Route("fista", twin=twin)


def _finish_whole(loss, penalty, route, point, L, stop_abs, max_iter, ref, target):
    """Solve the whole problem from ``point`` (an :class:`_Inner`) by ``route``.

    ``stop_abs`` is the inner target, ``target`` the final one (``tol *
    ref``), which a float32 stage that already meets it stops at. Returns
    an :class:`_Inner` whose ``lipschitz`` is the step constant to report.
    """
    if route.method == "admm":
        inner = _admm_loop(loss, penalty, route.kernel, point.coef, point.grad_W, stop_abs, max_iter, route.rho)
        inner.lipschitz = L
        return inner
    n_iter = n_products = 0
    if route.twin is not None:
        point = _twin_stage(loss, route.twin, penalty, point, L, stop_abs, max_iter, ref)
        point.converged = point.crit <= target
        if point.converged or point.n_iter >= max_iter:
            return point
        n_iter, n_products, L = point.n_iter, point.n_products, point.lipschitz
    # FISTA stops on its own rule (the gradient mapping at its last
    # extrapolated point): a check with one more full gradient would add
    # nothing.
    start = None if point.raw is None else (point.raw, point.grad_W, point.grad_b)
    inner = _fista_loop(loss, penalty, point.coef, point.intercept, L, stop_abs, max_iter - n_iter, ref, start=start)
    inner.n_iter += n_iter
    inner.n_products += n_products
    return inner


def _start_point(loss, W, b, W0, b0, null, warm_start, tol):
    """``(raw, grad_W, grad_b, n_products)`` at the start ``(W, b)``.

    Free for a cold start (the null model) and for the point the last solve
    of a path returned (``warm_start``); None for a dense warm start that
    the float32 twin will compute (see :func:`_twin_start`).
    """
    if W0 is None and (not loss.fit_intercept or b0 is None or np.array_equal(b, null.intercept)):
        return null.raw, null.grad_W, null.grad_b, 0
    remembered = None if warm_start is None or W0 is None else warm_start.gradient_at(W, b)
    if remembered is not None:
        return (*remembered, 0)
    if _twin_start(loss, W, tol):
        return None, None, None, 0
    raw = loss.raw_prediction(W, b)
    gW, gb, backward = _gradient_at(loss, W, raw, null.grad_W)
    return raw, gW, gb, 1 + backward


def _working_set(penalty, W, gW, ws_size):
    """The next working set (sorted feature indices) and its size target.

    The support of ``W`` and the rows farthest from optimality (largest
    ``subdiff_distance_rows``, only those that violate their condition),
    at least twice as many as the support; every feature past half of
    them, or when the gradient is not known yet (a dense warm start).
    """
    n_features = W.shape[0]
    support = np.flatnonzero(np.any(W != 0, axis=1))
    ws_size = max(ws_size, min(2 * len(support), n_features))
    if gW is None:
        return np.arange(n_features), ws_size
    scores = np.asarray(penalty.subdiff_distance_rows(W, gW), dtype=np.float64)
    scores[support] = np.inf  # the support always stays in
    # Only rows that violate their optimality condition (or are in the
    # support) are worth adding: the others would stay at 0.
    size = min(ws_size, max(int(np.count_nonzero(scores > 0)), 1))
    # Past half of the features a restriction saves little and the next
    # round would likely need them all: take them all at once.
    if 2 * size >= n_features:
        return np.arange(n_features), ws_size
    return np.sort(np.argpartition(-scores, size - 1)[:size]), ws_size


def _first_step(sub, warm_start):
    """The step constant of the first working set: the last solve's when there is one (a path).

    The working set's own is an eigenvalue problem (0.3 ms at 40 features
    in Gram form, 16 ms at 512, 10-20 gradients for the whole wide X), and
    backtracking corrects a constant too small.

    The gradient mapping of :func:`fista` needs a step
    size ``1 / L``; here ``L`` is the largest step-size constant accepted by
    the restricted solves so far (the first one is the last solve's
    constant, or the exact Lipschitz constant of the first working set).
    The full problem's constant is never computed: on a wide ``X`` its
    Lanczos estimate alone costs 10-20 gradients. The reference value ``G0``
    at ``W = 0`` does not depend on ``L`` (without ridge part), and the
    mapping is zero exactly at a minimizer whatever ``L``. Products with the
    full ``X`` (``n_products``) are one forward and one backward per outer
    iteration; Gram iterations are not counted.
    """
    hint = None if warm_start is None else warm_start.step
    L = float(hint if hint is not None else sub.lipschitz())
    return L if np.isfinite(L) and L > 0 else 1.0


def _restricted_round(loss, sub, penalty, ws, point, L, stop_abs, max_iter, ref, null):
    """FISTA on the features ``ws`` (the loss ``sub``) from ``point``, then the full gradient there.

    When the loss restricts to the Gram matrix of the
    working columns (its accelerators: the squared loss, wide dense ``X``,
    every label observed), an iteration costs ``|ws|^2 T`` flops, hundreds
    of times less than a full gradient, so that restricted problem is
    solved to the final tolerance at once, and the working set grows
    4-fold when an outer iteration did not halve the criterion. Otherwise
    the restricted problem is solved to 30% of the current full criterion
    (as in celer / skglm) and the working set doubles. The full gradient at
    a row-sparse ``W`` comes from the loss's Gram columns when offered
    (``d |S| T`` flops for a support ``S``, against ``n d T``).

    Returns an :class:`_Inner` at the new full ``W`` with its gradient, its
    gradient mapping (with the largest step constant so far: the restricted
    constants grow with the working set) as ``crit``, and the products
    spent with the full ``X`` (Gram iterations do not touch it).
    """
    gram = sub.accelerators.in_gram_form
    # The raw prediction and gradient at W serve the restricted problem too
    # (W is 0 outside ws), unless it is in Gram form.
    start = None if gram else (point.raw, point.grad_W[ws], point.grad_b)
    inner = _fista_loop(sub, penalty.restrict(ws), point.coef[ws], point.intercept, L, stop_abs, max_iter, ref, start=start)
    L = max(L, inner.lipschitz)
    W = np.zeros_like(point.coef)
    W[ws] = inner.coef
    raw = loss.raw_prediction(W, inner.intercept)
    gW, gb, backward = _gradient_at(loss, W, raw, null.grad_W)
    n_products = (0 if gram else inner.n_products) + 1 + backward
    crit = _gradient_mapping(penalty, W, gW, gb, L)
    return _Inner(W, inner.intercept, raw, inner.n_iter, False, crit, n_products, lipschitz=L, grad_W=gW, grad_b=gb)


def fista(loss, penalty, W0=None, b0=None, *, max_iter=1000, tol=1e-4, callback=None):
    """Accelerated proximal gradient (FISTA) with backtracking and adaptive restart.

    Minimizes ``loss(W, b) + penalty(W)`` over ``W`` (n_features, n_tasks)
    and the unpenalized intercepts ``b`` (n_tasks,).

    Parameters
    ----------
    loss : loss object
        Provides the methods and attributes in ``LOSS_REQUIRED``, e.g.
        :class:`~skmtl.linear_model._losses.SquaredLoss`. A quadratic loss
        (``is_quadratic``) checks the line search with its exact
        ``bregman_from_raw`` instead of loss values.
    penalty : penalty object
        Provides ``value``, ``prox`` and ``subdiff_distance``, e.g.
        :class:`~skmtl.linear_model._penalties.L21`.
    W0 : ndarray of shape (n_features, n_tasks), default=None
        Starting coefficients (warm start); zeros when None. Not modified.
    b0 : ndarray of shape (n_tasks,), default=None
        Starting intercepts; when None, those of the intercept-only model
        (``loss.null_intercept()``). Ignored without intercept.
    max_iter : int, default=1000
        Maximum number of iterations (accepted steps).
    tol : float, default=1e-4
        Tolerance on the scale-free stopping criterion (see Notes).
    callback : callable, default=None
        Called after every iteration as ``callback(n_iter, W, b, stop_crit)``;
        returning True stops the solver (``converged`` stays False).

    Returns
    -------
    SolverResult

    Notes
    -----
    **Stopping rule.** With ``L`` the current inverse step size, ``g`` the
    gradient at the extrapolated point ``(V, c)`` and ``P = prox(V - g_W / L,
    1 / L)`` the next iterate, the gradient mapping
    ``G = L * ||(V - P, g_b / L)||`` (Frobenius, joint with the intercepts)
    is zero exactly at a minimizer, for every penalty. The solver stops when
    ``G / G0 <= tol``, where ``G0`` is the same measure at ``W = 0`` with
    the intercept-only model's intercepts and the initial ``L``; so ``tol``
    is free of the scale of ``X`` and ``y`` (copt's certificate, made
    relative). When ``W = 0`` is already optimal (``alpha >= alpha_max``,
    checked with ``penalty.subdiff_distance`` of the coefficients' gradient
    alone: the null intercepts are optimal for ``W = 0`` by construction, so
    an all-zero ``X`` is caught too) the solver returns ``W = 0`` exactly
    and ``n_iter = 0``; ``n_iter = 0`` means that and nothing else.

    **Steps.** The first step is ``1 / loss.lipschitz()``. Each iteration
    first tries a step 1/0.9 times longer than the last accepted one, then
    that one, then halves it until ``f(P) <= f(V) + <g, P - V> + L/2 ||P -
    V||^2`` (up to rounding). The momentum follows the variable-step rule of Scheinberg,
    Goldfarb & Bai (2014) and restarts whenever the step and the momentum
    disagree, ``<V - P, P - W_prev> > 0`` (O'Donoghue & Candes, 2015),
    which makes FISTA adapt to strong convexity.

    **Cost.** The raw predictions ``X W + b`` are cached: the extrapolated
    point's is a linear combination of the last two, so an iteration without
    backtracking costs one forward and one backward product with ``X``.

    References
    ----------
    Beck & Teboulle, "A fast iterative shrinkage-thresholding algorithm for
    linear inverse problems", SIAM J. Imaging Sci., 2009.
    Scheinberg, Goldfarb & Bai, "Fast first-order methods for composite
    convex optimization with backtracking", Found. Comput. Math., 2014.
    O'Donoghue & Candes, "Adaptive restart for accelerated gradient
    schemes", Found. Comput. Math., 2015.
    """
    _check_components(loss, penalty, "fista")
    _check_budget(max_iter, tol)
    W, b = _check_start(loss, W0, b0)
    null = _NullModel.of(loss)
    L = np.nan
    if not _null_is_optimal(penalty, null.zero, null.grad_W):
        # (Checked first: at alpha >= alpha_max the Lipschitz constant, an
        # eigenvalue problem, is not needed.)
        L = float(loss.lipschitz())
        if not np.isfinite(L) or L <= 0:
            # A zero design (all-zero X and no intercept): any step works.
            L = 1.0
        ref = _gradient_mapping(penalty, null.zero, null.grad_W, null.grad_b, L)
        if ref > 0:
            inner = _fista_loop(loss, penalty, W, b, L, tol * ref, max_iter, ref, callback)
            objective = loss.value_from_raw(inner.raw) + penalty.value(inner.coef)
            return SolverResult(
                inner.coef, inner.intercept, inner.n_iter, inner.converged, float(inner.crit / ref),
                float(objective), inner.lipschitz, inner.n_products + 2,
            )
    # W = 0 is optimal (alpha >= alpha_max up to rounding): return it
    # exactly, whatever the warm start.
    return null.result(penalty, L, 2)


def _dense_ahead(point, previous_ws, ws, n_features):
    """Whether the solution looks dense: the last restricted solution filled its working set.

    (At least ``_FILLED`` of it, and the next working set holds
    ``_WHOLE_MODEL_SHARE`` of the features.)
    """
    if previous_ws is None or point.grad_W is None or len(ws) < _WHOLE_MODEL_SHARE * n_features:
        return False
    support = np.count_nonzero(np.any(point.coef != 0, axis=1))
    return support >= _FILLED * len(previous_ws)


def _model_at(loss, point):
    """The loss's Gram model anchored at ``point`` (None if it offers none)."""
    return loss.whole_model(point.coef, point.intercept, point.grad_W, point.grad_b)


def _settle(loss, active, penalty, point, L, target):
    """``(point, active, converged)`` after a round: whether ``point`` meets ``target``, on the loss itself.

    A point found on the Gram model (``active``) that meets it there is
    checked on the loss (:func:`_exact_point`); if it misses there, the
    rounds go on from it on the model anchored there (one more step of
    iterative refinement).
    """
    converged = point.crit <= target
    if converged and active is not loss:
        point = _exact_point(loss, penalty, point, L)
        converged = point.crit <= target
        active = loss if converged else _model_at(loss, point)
    return point, active, converged


def _round(active, sub, penalty, ws, point, L, tol, max_iter, ref, null, cold):
    """One round of :func:`working_set_fista` on ``sub`` (``active`` restricted to ``ws``, or ``active``).

    Restricted problems are solved to 30% of the current full measure
    (celer, skglm); the whole problem straight to the final tolerance (an
    outer round would only restart FISTA) by the method
    :func:`_route_whole` picks, and so is a Gram-based restricted problem of
    a loss on ``X``: its iterations cost ``|ws|^2 T`` flops, hundreds of
    times less than the full gradient of a round. Returns the round's
    :class:`_Inner` and whether it was such a Gram-based one.
    """
    full = sub is active
    gram_inner = sub.accelerators.in_gram_form and not active.accelerators.in_gram_form
    target = tol * ref
    stop = _INNER_TIGHT * target if full or gram_inner else max(0.3 * point.crit, target)
    if full:
        # (The relative target as tol gives it: stop / ref can round below
        # _SINGLE_MIN_TOL at tol=1e-4, which kept the float32 twin off.)
        route = _route_whole(active, penalty, null.grad_W, cold, _INNER_TIGHT * tol)
        return _finish_whole(active, penalty, route, point, L, stop, max_iter, ref, target), gram_inner
    return _restricted_round(active, sub, penalty, ws, point, L, stop, max_iter, ref, null), gram_inner


def _exact_point(loss, penalty, point, L):
    """``point`` (a solve of the loss's Gram model) with the loss's own raw prediction, gradient and measure.

    One forward and one backward product with ``X``: the check that
    certifies a point found on :meth:`whole_model <._losses.SquaredLoss.whole_model>`,
    whose Hessian is rounded.
    """
    raw = loss.raw_prediction(point.coef, point.intercept)
    gW, gb = loss.gradient_from_raw(raw)
    crit = _gradient_mapping(penalty, point.coef, gW, gb, L)
    n_products = point.n_products + 2
    return _Inner(point.coef, point.intercept, raw, point.n_iter, False, crit, n_products, L, gW, gb)


def working_set_fista(
    loss, penalty, W0=None, b0=None, *, max_iter=1000, tol=1e-4, callback=None, initial_size=32, warm_start=None
):
    """FISTA on working sets of features, for row-separable penalties.

    Same problem, arguments and stopping rule as :func:`fista`, which it
    calls on a growing subset of the rows of ``W`` while the other rows stay
    at 0 (Massias et al., 2018; Bertrand et al., 2022).

    Parameters
    ----------
    loss, penalty, W0, b0, max_iter, tol, callback
        As in :func:`fista`. The loss must also provide ``restrict`` and
        ``whole_model``, the penalty ``subdiff_distance_rows`` (per-row
        optimality measures). ``max_iter`` bounds the iterations summed over
        working sets; ``callback`` is called after each working set is solved.
    initial_size : int, default=32
        Size of the first working set.
    warm_start : WarmStart, default=None
        What the previous solve on this loss left (``result.warm_start``):
        a start at exactly its point skips its full gradient, and the first
        working set starts from its step constant (:func:`_first_step`).

    Returns
    -------
    SolverResult
        With ``warm_start`` set for the next solve of a path.

    Notes
    -----
    Each round (:func:`_round`) solves the problem restricted to a working
    set (:func:`_working_set`) and stops when the full gradient mapping
    meets the criterion of :func:`fista`; with every feature, the method
    :func:`_route_whole` picks finishes. On a tall ``X`` with few tasks the
    rounds move to the loss's Gram model (``loss.whole_model``) for small
    ``alpha`` or a dense solution (:func:`_dense_ahead`), and a point that
    meets the criterion there is checked on ``X`` (:func:`_settle`). An
    optimal warm start is accepted after one check, ``n_iter = 1``.

    References
    ----------
    Massias, Gramfort & Salmon, "Celer: a fast solver for the Lasso with
    dual extrapolation", ICML 2018.
    Bertrand et al., "Beyond L1: faster and better sparse models with
    skglm", NeurIPS 2022.
    """
    _check_components(loss, penalty, "working_set_fista", LOSS_REQUIRED_WS, PENALTY_REQUIRED_WS)
    _check_budget(max_iter, tol)
    if not (isinstance(initial_size, (int, np.integer)) and initial_size >= 1):
        raise ValueError(f"initial_size must be a positive integer; got {initial_size!r}.")
    W, b = _check_start(loss, W0, b0)
    null = _NullModel.of(loss)
    if _null_is_optimal(penalty, null.zero, null.grad_W):
        return null.result(penalty, np.nan, null.n_products)
    raw, gW, gb, n_products = _start_point(loss, W, b, W0, b0, null, warm_start, tol)
    point = _Inner(W, b, raw, 0, False, None, n_products, grad_W=gW, grad_b=gb)
    n_features = loss.n_features
    n_iter = 0
    converged = False
    ws_size = min(initial_size, n_features)
    active, ws = loss, None  # the loss the rounds work on: the loss or its Gram model
    model_first = _null_ratio(penalty, null.grad_W) < _MODEL_FIRST_RATIO
    # L of the stopping rule: the step constant of the restricted problems
    # (see _first_step); the full problem's Lipschitz constant is never computed.
    L = ref = None
    while True:
        if point.crit is not None:
            # The criterion of the last round's point: decide before
            # building the next working set.
            point, active, converged = _settle(loss, active, penalty, point, L, tol * ref)
            if converged or n_iter >= max_iter:
                break
            if callback is not None and callback(n_iter, point.coef, point.intercept, point.crit / ref):
                break
        previous_ws = ws
        ws, ws_size = _working_set(penalty, point.coef, point.grad_W, ws_size)
        if active is loss and (model_first or _dense_ahead(point, previous_ws, ws, n_features)):
            active = _model_at(loss, point) or loss
        full = len(ws) == n_features
        # All features: the active loss itself, whose cached constants serve
        # every later solve on it (a path).
        sub = active if full else active.restrict(ws)
        if L is None:
            L = _first_step(sub, warm_start)
            ref = _gradient_mapping(penalty, null.zero, null.grad_W, null.grad_b, L)
            if ref == 0:
                return null.result(penalty, L, null.n_products + point.n_products)
            if point.grad_W is not None:
                # The start itself (a warm start may already be optimal).
                point.crit = _gradient_mapping(penalty, point.coef, point.grad_W, point.grad_b, L)
                converged = point.crit <= tol * ref
                if converged:
                    active = loss  # (the start is the loss's own point)
                    break
        previous = point.crit
        if active is not loss:
            point.raw = None  # maybe the loss's raw prediction, not the model's: FISTA computes it
        out, gram_inner = _round(active, sub, penalty, ws, point, L, tol, max_iter - n_iter, ref, null, W0 is None)
        n_iter += out.n_iter
        out.n_products += point.n_products
        point, L = out, out.lipschitz
        if full and active is loss:
            converged = out.converged
            break
        if not full and point.crit > 0.5 * previous:
            # Too little progress: the working set misses useful features.
            # Gram-based working sets are cheap to enlarge, full rounds are
            # not: grow them faster.
            ws_size = min((4 if gram_inner else 2) * ws_size, n_features)
    if active is not loss:
        # Stopped on the model (max_iter, callback): the loss's own point.
        point = _exact_point(loss, penalty, point, L)
    memory = WarmStart(point.coef.copy(), point.intercept.copy(), point.raw, point.grad_W, point.grad_b, L)
    # 0 iterations is reserved for the null solution of the alpha_max check;
    # accepting a warm start after one full-gradient check counts as one.
    objective = loss.value_from_raw(point.raw) + penalty.value(point.coef)
    return SolverResult(
        point.coef, point.intercept, max(n_iter, 1), bool(converged), float(point.crit / ref), float(objective), L,
        null.n_products + point.n_products, warm_start=memory,
    )


def admm(loss, penalty, W0=None, b0=None, *, max_iter=1000, tol=1e-4):
    """ADMM through the kernel of the squared loss (see :func:`_admm_loop`).

    Same problem, arguments and stopping rule as :func:`fista`, for a loss
    that offers its kernel system (``loss.accelerators.kernel_system``: the squared loss
    with the wide layout, every label observed, dense float64 ``X``, the same
    weight for every task, fewer samples than features and at most ``32
    n_tasks`` of them). Each iteration solves the loss's ridge system
    exactly, so a small ``alpha`` on an ill-conditioned wide ``X`` does not
    slow it as it slows :func:`fista`; a warm start gains less than
    FISTA's does (paths use FISTA). It stops when the L-free measure
    ``hypot(penalty.subdiff_distance(W, grad_W), ||grad_b||)``, which
    bounds :func:`fista`'s gradient mapping for every step size, is at most
    ``tol`` times the reference ``G0`` (computed with the kernel's Lipschitz
    estimate).

    Raises
    ------
    ValueError
        If the loss offers no kernel system under those conditions.

    References
    ----------
    Boyd, Parikh, Chu, Peleato & Eckstein, "Distributed optimization and
    statistical learning via the alternating direction method of
    multipliers", Found. Trends Mach. Learn., 2011.
    """
    _check_components(loss, penalty, "admm")
    _check_budget(max_iter, tol)
    W, b = _check_start(loss, W0, b0)
    null = _NullModel.of(loss)
    kernel = _admm_kernel(loss, penalty, null.grad_W, tol)
    if kernel is None:
        raise ValueError(
            "admm needs the squared loss on a dense float64 X in the wide layout with every "
            "label observed, the same weight for every task, and fewer samples than features "
            f"(at most {int(_ADMM_MAX_KERNEL * 4)} per task)."
        )
    L = kernel.lipschitz if kernel.lipschitz > 0 else 1.0
    ref = _gradient_mapping(penalty, null.zero, null.grad_W, null.grad_b, L)
    if _null_is_optimal(penalty, null.zero, null.grad_W) or ref == 0:
        return null.result(penalty, L, null.n_products)
    n_products = null.n_products
    gW = null.grad_W
    if W0 is not None:
        gW, _ = loss.gradient_from_raw(loss.raw_prediction(W, b))
        n_products += 2
    inner = _admm_loop(loss, penalty, kernel, W, gW, tol * ref, max_iter, _admm_rho(penalty, kernel, null.grad_W))
    objective = loss.value_from_raw(inner.raw) + penalty.value(inner.coef)
    return SolverResult(
        inner.coef, inner.intercept, inner.n_iter, inner.converged, float(inner.crit / ref), float(objective), L,
        n_products + inner.n_products,
    )


_SOLVERS = {"working_set": working_set_fista, "fista": fista, "admm": admm}


def _route(loss, penalty, W0, solver, callback):
    """The name of the solver that ``solve(solver=solver)`` runs (see :func:`solve`)."""
    if solver == "auto":
        separable = all(hasattr(penalty, n) for n in PENALTY_REQUIRED_WS) and all(
            hasattr(loss, n) for n in LOSS_REQUIRED_WS
        )
        if separable and loss.n_features >= _WS_MIN_FEATURES:
            return "working_set"
        max_samples = int(_ADMM_MAX_KERNEL * 4 * loss.n_tasks)
        if W0 is None and callback is None and loss.accelerators.kernel_available(max_samples):
            return "admm"
        return "fista"
    if solver not in _SOLVERS:
        raise ValueError(f"solver must be 'auto', 'fista', 'working_set' or 'admm'; got {solver!r}.")
    return solver


# The duality-gap stop (solve): each round that misses the gap target runs
# the solver again from its last point, with its own criterion tightened by
# sqrt(target / gap) (the gap of a strongly convex problem shrinks like the
# square of the measures), between these bounds.
_GAP_TIGHTEN = (1e-2, 0.5)


def solve(
    loss, penalty, W0=None, b0=None, *, solver="auto", max_iter=1000, tol=1e-4, callback=None, warm_start=None,
    **kwargs,
):
    """Minimize ``loss + penalty`` and certify the result by a duality gap.

    ``solver="auto"`` uses working sets (:func:`working_set_fista`) when
    the penalty is a sum over rows (it has ``subdiff_distance_rows``), the
    loss can be restricted to a subset of features and there are at least
    ``_WS_MIN_FEATURES`` (100) features (their last phase may itself run
    ADMM). Otherwise it uses :func:`admm` for a cold start (``W0`` None, no
    ``callback``) when the loss offers its kernel system, plain FISTA else.
    With few features, restricting the design costs more than it saves
    (School, 29 features: 2-3x slower). On wide data ADMM took 0.040-0.059
    s where FISTA took 0.053-0.113 s (``benchmarks/trace_norm_wide.py``:
    trace norm, n = 500, d = 1000, T = 20, ``alpha_max / 10`` and ``/
    100``, ``tol`` 1e-3 and 1e-4), with a lower objective at each.

    **Stopping rule.** When the penalty has a conjugate
    (``penalty.has_dual``: L21, L1, L1/Linf, the trace norm, their
    elastic-net forms, the task-quadratic penalties), the result is
    converged only when the duality gap (``loss.dual_gap``) is at most
    ``tol * loss.gap_scale()``: for the squared loss ``tol ||Y -
    mean(Y)||_F^2 / n``, scikit-learn's rule for ``MultiTaskLasso`` in the
    same units, so the objective is within that of its minimum. The
    solver's own scale-free criterion (see :func:`fista`) decides when to
    look at the gap; a gap above the target sends the solver on from its
    last point with a tighter criterion, within the same ``max_iter``.
    Without a conjugate, the solver's criterion decides alone.

    Returns
    -------
    SolverResult
        ``n_iter`` and ``n_products`` summed over rounds; ``dual_gap`` the
        last gap (NaN without a conjugate).
    """
    name = _route(loss, penalty, W0, solver, callback)
    run = _SOLVERS[name]
    if callback is not None:
        kwargs["callback"] = callback
    memory = name == "working_set"
    if memory:
        kwargs["warm_start"] = warm_start
    result = run(loss, penalty, W0, b0, max_iter=max_iter, tol=tol, **kwargs)
    if not getattr(penalty, "has_dual", False) or result.n_iter == 0:
        # n_iter = 0: the null solution of the alpha >= alpha_max check, exact.
        if result.n_iter == 0 and getattr(penalty, "has_dual", False):
            result.dual_gap = 0.0
        return result
    target = tol * loss.gap_scale()
    inner_tol = tol
    n_iter, n_products = result.n_iter, result.n_products
    while True:
        known = None if result.warm_start is None else result.warm_start.gradient_at(result.coef, result.intercept)
        gap = loss.dual_gap(result.coef, result.intercept, penalty, gradient=known)
        if gap <= target or n_iter >= max_iter or callback is not None or inner_tol == 0:
            break
        inner_tol *= min(max(np.sqrt(target / gap), _GAP_TIGHTEN[0]), _GAP_TIGHTEN[1])
        if memory:
            kwargs["warm_start"] = result.warm_start
        result = run(
            loss, penalty, result.coef, result.intercept, max_iter=max_iter - n_iter, tol=inner_tol, **kwargs
        )
        n_iter += result.n_iter
        n_products += result.n_products
    result.n_iter, result.n_products = n_iter, n_products
    result.dual_gap = float(gap)
    result.converged = bool(gap <= target)
    return result
