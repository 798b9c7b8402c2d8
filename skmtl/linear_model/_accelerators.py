"""Speed-ups of the squared loss on a shared dense design, behind one interface.

A loss offers the solvers its speed-ups through one object, its
``accelerators`` (:class:`Accelerators`): the solvers ask it by public
methods what it can do and never look inside the loss. The base class offers
nothing (every method answers None or False), which is what the logistic
loss, the long layout, sparse or float32 ``X`` and missing labels get;
:class:`SharedDesignAccelerators` serves the squared loss on a dense float64
shared design with every label observed, where every task weights the rows
alike (``c_it = a_t s_i``) so that one Gram matrix of ``X`` serves all tasks:

* :class:`GramQuadratic` -- the loss as a quadratic form in ``X' S X``
  (``d^2 T`` flops per iteration instead of ``n d T``), for the whole loss
  when ``n >> d`` and for working sets (:class:`WorkingSetGram`, whose
  blocks are cached as working sets grow);
* :class:`GramColumns` -- full gradients at row-sparse ``W`` from cached Gram
  columns (a path's sparse stretch);
* the whole problem's Gram model on a tall ``X`` with few tasks
  (:meth:`SharedDesignAccelerators.whole_model`: the Gram matrix formed in
  float32 when a solve needs it, anchored at an exact gradient);
* :class:`KernelSystem` -- ridge systems through the ``n x n`` kernel, for
  ADMM on wide data;
* :class:`SinglePrecisionTwin` -- the same loss in float32 on centered
  features, for the loose iterations of a path's dense warm starts.

Each cache belongs to the object that fills it; a loss restricted to some
features gets fresh accelerators from :meth:`Accelerators.restrict`. The
figures that justify each one are in ``doc/benchmarks_linear.rst``.
"""

import copy

import numpy as np
from scipy.linalg import cho_factor, cho_solve, eigh

from ._designs import _DENSE_EIG_MAX_DIM, _WideDesign, _inner, _top_eigenvalue

__all__ = ["Accelerators", "SharedDesignAccelerators"]

# Working sets of the squared loss (wide layout, every label observed) are
# solved through the Gram matrix of their columns up to this many features
# (and at most n_samples): beyond, its |ws|^2 memory and |ws|^3 Lipschitz
# estimate stop paying off.
_WS_GRAM_MAX_FEATURES = 2048
# Gram forms of more features than this skip the zero rows of W in G @ W
# (below, finding them costs more than the product).
_GRAM_SPARSE_MIN = 256
# Power iterations estimating the top eigenvalue of a kernel (KernelSystem).
_POWER_ITERATIONS = 20
class GramQuadratic:
    """The squared loss of a shared design through its Gram matrix.

    Without missing labels every task weights the rows alike, ``c_it = a_t
    s_i`` with ``a_t = w_t / sum_i s_i``, so the loss is a quadratic in each
    task's ``(w_t, b_t)`` built from ``G = X' S X``, ``m = X' s``,
    ``Q = X' S Y``, ``u = s' Y`` and ``v = s' Y^2`` (``S = diag(s)``)::

        f = sum_t a_t / 2 (w_t' G w_t + 2 b_t m' w_t + (sum s) b_t^2 - 2 w_t' q_t - 2 b_t u_t + v_t)

    An iteration then costs ``d^2 T`` flops instead of ``n d T``. The raw
    prediction is the stacked ``[G W + m b'; m' W + (sum s) b'; W; b']``
    (linear in ``(W, b)``, so solvers can still extrapolate cached raws).
    """

    def __init__(self, X, Y, s, a, fit_intercept, dtype):
        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        unit = bool(np.all(s == 1))
        # Unit weights: X' X is one BLAS syrk (half the flops of X' (S X)).
        self.G = _gram_of(X, X, s, unit).astype(dtype, copy=False)
        self.m = (X.sum(axis=0) if unit else s @ X).astype(dtype)
        self.S = float(s.sum())
        self.Q = _gram_of(X, Y, s, unit).astype(dtype, copy=False)
        self.u = (s @ Y).astype(dtype)
        self.v = (s @ (Y * Y)).astype(dtype)
        self.a = np.asarray(a, dtype=dtype)
        self.fit_intercept = fit_intercept

    @classmethod
    def from_parts(cls, G, m, S, Q, u, v, a, fit_intercept):
        new = cls.__new__(cls)
        new.G, new.m, new.S, new.Q, new.u, new.v, new.a = G, m, S, Q, u, v, a
        new.fit_intercept = fit_intercept
        return new

    def restrict(self, features):
        new = copy.copy(self)
        new.G = self.G[np.ix_(features, features)]
        new.m, new.Q = self.m[features], self.Q[features]
        return new

    def anchored(self, W, b, grad_W, grad_b):
        """The same Hessian with the linear terms moved so that the gradient at ``(W, b)`` is ``(grad_W, grad_b)``.

        With an approximate ``G`` (:meth:`SharedDesignAccelerators.whole_model`)
        this is the loss's quadratic model at ``(W, b)``: its minimizer is
        one step of iterative refinement, exact up to ``||G - X' S X||``
        times the distance to the optimum.
        """
        new = copy.copy(self)
        H = self.G @ W
        h = self.m @ W
        if self.fit_intercept:
            H += np.outer(self.m, b)
            h += self.S * b
        with np.errstate(divide="ignore", invalid="ignore"):
            inverse = np.where(self.a > 0, 1.0 / self.a, 0.0)
        new.Q = H - grad_W * inverse
        new.u = h - grad_b * inverse if self.fit_intercept else self.u
        return new

    def raw(self, W, b):
        d = self.G.shape[0]
        out = np.empty((2 * d + 2, W.shape[1]), dtype=np.result_type(self.G, W))
        H = out[:d]
        rows = np.flatnonzero(np.any(W != 0, axis=1)) if d > _GRAM_SPARSE_MIN else None
        if rows is not None and len(rows) < d // 2:
            np.matmul(self.G[:, rows], W[rows], out=H)
        else:
            np.matmul(self.G, W, out=H)
        if self.fit_intercept:
            H += np.outer(self.m, b)
            out[d] = self.m @ W + self.S * b
            out[2 * d + 1] = b
        else:
            # Without intercept b is ignored, as in the direct designs.
            out[d] = out[2 * d + 1] = 0
        out[d + 1 : 2 * d + 1] = W
        return out

    def split(self, raw):
        d = self.G.shape[0]
        return raw[:d], raw[d], raw[d + 1 : 2 * d + 1], raw[2 * d + 1]

    def task_values(self, raw):
        H, h, W, b = self.split(raw)
        quad = np.einsum("ij,ij->j", W, H - 2 * self.Q) + b * (h - 2 * self.u)
        return 0.5 * self.a.astype(np.float64) * (quad + self.v)

    def gradient(self, raw):
        H, h, _, _ = self.split(raw)
        grad_W = self.a * (H - self.Q)
        grad_b = self.a * (h - self.u) if self.fit_intercept else np.zeros_like(self.u)
        return grad_W, grad_b

    def bregman(self, raw_new, raw_old):
        dH, dh, dW, db = self.split(raw_new - raw_old)
        return 0.5 * float(np.dot(self.a, np.einsum("ij,ij->j", dW, dH) + db * dh))

    def hessian_bound(self):
        d = self.G.shape[0]
        H = np.asarray(self.G, dtype=np.float64)
        if self.fit_intercept:
            H = np.block([[H, self.m[:, None]], [self.m[None], np.array([[self.S]])]])
        if H.shape[0] <= _DENSE_EIG_MAX_DIM:
            top = float(eigh(H, eigvals_only=True)[-1])
        else:
            top = _top_eigenvalue(lambda v: H @ v, H.shape[0])
        return float(np.max(self.a)) * top if d or self.fit_intercept else 0.0


def _gram_of(A, B, s, unit):
    """``A' diag(s) B``; ``A' A`` goes to BLAS ``syrk`` (half the flops) when ``s = 1``."""
    if unit:
        return A.T @ B
    return A.T @ (B * s[:, None])


class WorkingSetGram:
    """Gram blocks of the features seen in working sets, grown as they grow.

    A working-set solver restricts the squared loss to a few hundred
    features many times; with ``n_samples`` much larger than that, solving
    each restricted problem through the Gram matrix of its columns costs
    ``|ws|^2 T`` flops per iteration instead of ``2 n |ws| T``. The Gram
    columns of a feature are computed once, the first time it enters a
    working set (``n |new| |cached|`` flops), so a sequence of growing
    working sets costs about one Gram of the last one.
    """

    def __init__(self, X, Y, s, a, fit_intercept, dtype):
        self.X, self.Y, self.s = X, Y, s
        self.unit = bool(np.all(s == 1))
        self.a = np.asarray(a, dtype=dtype)
        self.fit_intercept = fit_intercept
        self.dtype = dtype
        self.S = float(s.sum())
        self.u = (s @ Y).astype(dtype)
        self.v = (s @ (Y * Y)).astype(dtype)
        d, T = X.shape[1], Y.shape[1]
        self.position = np.full(d, -1, dtype=np.int64)
        self.features = np.empty(0, dtype=np.int64)
        self.X_cached = np.empty((X.shape[0], 0), dtype=np.float64)
        self.G = np.empty((0, 0), dtype=np.float64)
        self.Q = np.empty((0, T), dtype=np.float64)
        self.m = np.empty(0, dtype=np.float64)

    def worth(self, n_features):
        """Whether a working set of this size is cheaper through its Gram matrix."""
        n = self.X.shape[0]
        return n_features <= min(n, _WS_GRAM_MAX_FEATURES)

    def quadratic(self, features):
        """The :class:`GramQuadratic` of the columns ``features``."""
        features = np.asarray(features, dtype=np.int64)
        new = features[self.position[features] < 0]
        if len(new):
            s, unit = self.s, self.unit
            Xn = np.asarray(self.X[:, new], dtype=np.float64)
            cross = _gram_of(Xn, self.X_cached, s, unit)  # (|new|, |cached|)
            Gnn = Xn.T @ Xn if unit else _gram_of(Xn, Xn, s, unit)
            self.G = np.block([[self.G, cross.T], [cross, Gnn]])
            self.Q = np.vstack([self.Q, _gram_of(Xn, self.Y, s, unit)])
            self.m = np.concatenate([self.m, Xn.sum(axis=0) if unit else s @ Xn])
            self.position[new] = len(self.features) + np.arange(len(new))
            self.features = np.concatenate([self.features, new])
            self.X_cached = np.hstack([self.X_cached, Xn])
        idx = self.position[features]
        dtype = self.dtype
        return GramQuadratic.from_parts(
            self.G[np.ix_(idx, idx)].astype(dtype, copy=False),
            self.m[idx].astype(dtype, copy=False),
            self.S,
            self.Q[idx].astype(dtype, copy=False),
            self.u,
            self.v,
            self.a,
            self.fit_intercept,
        )


class GramColumns:
    """Full Gram columns of the features in recent supports, for gradients at row-sparse ``W``.

    Without missing labels (``c_it = a_t s_i``) the gradient of the squared
    loss at ``(W, b)`` is, with ``Xc = X - 1 xbar'`` (weighted means; no
    centering without intercept) and ``g0`` the gradient at ``W = 0`` and
    the null intercepts::

        grad_W = (Xc' S Xc W) a + g0 + xbar grad_b'

    For ``W`` supported on a few rows ``F`` only the columns ``Xc' S Xc[:,
    F]`` (``d x |F|``) are needed: the product costs ``d |F| T`` flops
    instead of the ``n d T`` of ``X' R``. A warm-started path's sparse
    stretch checks optimality with a full gradient at each ``alpha`` while
    its support grows by a few features: each column is computed once
    (``n d`` flops), the first time its feature is in a checked support.
    Centering keeps features far from 0 from cancelling (``Xc' S X[:, F]``
    equals ``Xc' S Xc[:, F]``; the centering term is computed from the same
    centered columns).
    """

    def __init__(self, X, s, a, grad0, fit_intercept, max_columns):
        S = float(s.sum())
        self.X, self.s, self.a = X, s, a
        self.unit = bool(np.all(s == 1))
        self.x_mean = (s @ X) / S if fit_intercept and S > 0 else None
        self.grad0 = grad0
        self.max_columns = max_columns
        self.position = np.full(X.shape[1], -1, dtype=np.int64)
        self.C = np.empty((X.shape[1], 0))
        self.used = 0  # columns of C in use (its capacity doubles)

    def covers(self, rows, n_tasks):
        """Whether :meth:`gradient` beats a backward product for a ``W`` supported on ``rows``.

        At most ``n_samples / 4`` rows, at most ``n_tasks / 2`` of them
        without a cached column (their columns cost half the flops of one
        backward product, in wider, faster BLAS calls: a bet on their reuse
        by the next checks that a single fit would lose).
        """
        n_new = int(np.count_nonzero(self.position[rows] < 0))
        if 2 * n_new > n_tasks or 4 * len(rows) > self.X.shape[0]:
            return False
        if self.used + n_new > self.max_columns:
            # The support moved on: start afresh from the next call.
            self.position[:] = -1
            self.used = 0
            return False
        return True

    def gradient(self, W, rows, grad_b):
        """``(grad_W, n_new)`` at ``W`` supported on ``rows`` (see :meth:`covers`).

        ``n_new`` columns were computed for it.
        """
        new = rows[self.position[rows] < 0]
        if len(new):
            Xn = np.asarray(self.X[:, new], dtype=np.float64)
            if self.x_mean is not None:
                Xn = Xn - self.x_mean[new]
            SXn = Xn if self.unit else Xn * self.s[:, None]
            block = self.X.T @ SXn
            if self.x_mean is not None:
                block -= np.outer(self.x_mean, SXn.sum(axis=0))
            used = self.used
            if used + len(new) > self.C.shape[1]:
                grown = np.empty((self.C.shape[0], max(2 * self.C.shape[1], used + len(new))))
                grown[:, :used] = self.C[:, :used]
                self.C = grown
            self.C[:, used : used + len(new)] = block
            self.position[new] = used + np.arange(len(new))
            self.used = used + len(new)
        grad_W = self.C[:, self.position[rows]] @ (W[rows] * self.a)
        grad_W += self.grad0
        if self.x_mean is not None:
            grad_W += np.outer(self.x_mean, grad_b)
        return grad_W, len(new)


class KernelSystem:
    """Ridge systems of the squared loss on a wide shared design, through its kernel.

    Without missing labels and with one weight ``a`` for every task (``c_it
    = a s_i``), the squared loss with its intercepts at their optimum is
    ``a / 2 ||Yt - Xt W||_F^2`` with ``Xt = D (X - 1 xbar')``, ``Yt = D (Y
    - 1 ybar')``, ``D = diag(sqrt(s))`` and weighted means (no centering
    without intercept). Its Hessian ``A = a Xt' Xt`` is shared by the tasks,
    so ``(A + rho I) W = V`` is solved for every task at once through the
    ``n x n`` kernel ``K = Xt Xt'`` (Woodbury)::

        (A + rho I)^-1 V = (V - a Xt' (a K + rho I)^-1 Xt V) / rho

    ``K`` costs ``n^2 d`` flops once (``n / (4 T)`` gradients) and each
    ``rho`` a Cholesky factorization (``n^3 / 3``); a solve then costs
    about one gradient. ``Xt`` is formed (a copy of ``X``, unless the loss
    already centered it, ``x_centered``): centering ``X X'`` afterwards
    would cancel catastrophically on features far from 0 (an offset of 5
    left ADMM stalled at a relative measure of 6e-7).
    Used by :func:`._solvers._admm` on wide ``X`` (``n < d``), where
    the exact ridge solve absorbs the ill-conditioning of ``X`` that slows
    proximal gradient methods.

    With ``single=True``, ``Xt``, the kernel, its factorization and the two
    products of a solve are float32 (half the time of float64 BLAS); ``V``,
    the result and the constant term ``linear`` stay float64, so rounding
    only touches the correction ``a Xt' (a K + rho I)^-1 Xt V``. ADMM then
    levels off at a relative measure of about ``3e-8 alpha_max / alpha``
    (measured on Gaussian designs, ``alpha_max / 10`` to ``/ 1000``): the
    solver uses it for loose tolerances, checks optimality in float64 and
    moves to ``single=False`` when the rounding stalls it.
    """

    def __init__(self, X, Y, s, a, fit_intercept, single=False, x_centered=False):
        S = float(s.sum())
        center = fit_intercept and S > 0
        self.single = single
        # (X already centered by the loss: its means are rounding.)
        center_x = center and not x_centered
        self.x_mean = (s @ X) / S if center_x else np.zeros(X.shape[1])
        self.y_mean = (s @ Y) / S if center else np.zeros(Y.shape[1])
        root = None if np.all(s == 1) else np.sqrt(s)[:, None]
        self.a = float(a)
        dtype = np.float32 if single else np.float64
        Xt = np.asarray(X - self.x_mean if center_x else X, dtype=dtype)
        Yt = Y - self.y_mean
        if root is not None:
            Xt = Xt * root.astype(dtype)
            Yt = Yt * root
        self.Xt = Xt
        K = Xt @ Xt.T
        self.K = K
        # A W - linear is the gradient of the profiled loss, from the
        # float64 X whatever the precision of Xt: ``a Xt' Yt``, with the
        # centering term ``m 1' D Yt`` (zero up to rounding) kept.
        DYt = Yt if root is None else Yt * root
        self.linear = self.a * (X.T @ DYt - np.outer(self.x_mean, DYt.sum(axis=0)))
        # A few power iterations on the small K: a lower estimate of the
        # Lipschitz constant (within a few %), which is all ADMM needs (its
        # first rho, and a stopping bound that an exact check confirms).
        v = np.random.default_rng(0).standard_normal(K.shape[0]).astype(dtype)
        top = 0.0
        for _ in range(_POWER_ITERATIONS):
            w = K @ v
            top = float(np.linalg.norm(w))
            if top == 0:
                break
            v = w / top
        self.lipschitz = self.a * top
        self._rho = self._factor = None

    def solve(self, V, rho):
        """``(A + rho I)^-1 V`` for every column of ``V`` (shape (d, T)), in float64."""
        if rho != self._rho:
            M = self.a * self.K
            M.flat[:: M.shape[0] + 1] += rho
            self._factor, self._rho = cho_factor(M, lower=True, check_finite=False), rho
        inner = cho_solve(self._factor, self.Xt @ V.astype(self.Xt.dtype, copy=False), check_finite=False)
        W = np.multiply(self.Xt.T @ inner, -self.a, dtype=np.float64)
        W += V
        W /= rho
        return W

    def intercept(self, W):
        """The intercepts that minimize the loss for ``W``."""
        return self.y_mean - self.x_mean @ W


class Accelerators:
    """The speed-ups a loss offers the solvers; this base class offers none.

    The one interface between the solvers and the speed-ups: every loss has
    one (``loss.accelerators``), the solvers call only these methods, and a
    method answers None (or False) when its speed-up does not apply, so that
    the solver takes its plain route.

    Parameters
    ----------
    gram : GramQuadratic, default=None
        The quadratic form the loss computes through (None: it works on
        ``X``).
    """

    def __init__(self, gram=None):
        self.gram = gram

    @property
    def in_gram_form(self):
        """Whether the loss computes through a Gram matrix: its iterations never touch ``X``."""
        return self.gram is not None

    def restrict(self, features):
        """The accelerators of the loss restricted to the columns ``features``."""
        return Accelerators(None if self.gram is None else self.gram.restrict(features))

    def support_gradient(self, W, raw, grad0):
        """``(grad_W, grad_b, n_products)`` at a row-sparse ``W`` without a backward product, or None.

        ``raw`` is the raw prediction at ``W`` and ``grad0`` the gradient in
        ``W`` of the null model (``loss.null_model()``); ``n_products`` counts
        the products with ``X`` spent (0 or 1).
        """
        return None

    @property
    def offers_whole_model(self):
        """Whether :meth:`whole_model` gives a model."""
        return False

    def whole_model(self, W, b, grad_W, grad_b):
        """:class:`GramQuadratic` of every feature with the gradient ``(grad_W, grad_b)`` at ``(W, b)``, or None.

        Offered when forming the Gram matrix of the whole problem beats
        iterating on ``X`` (see :class:`SharedDesignAccelerators`).
        """
        return None

    def kernel_available(self, max_samples):
        """Whether :meth:`kernel_system` gives a kernel for ``max_samples`` (nothing is built)."""
        return False

    def kernel_system(self, max_samples, single=False):
        """:class:`KernelSystem` (ADMM; float32 if ``single``), or None."""
        return None

    def single_precision(self):
        """:class:`SinglePrecisionTwin` of the loss, or None."""
        return None


class SharedDesignAccelerators(Accelerators):
    """The speed-ups of the squared loss on a dense float64 shared ``X``, every label observed.

    Every task then weights the rows alike (``c_it = a_t s_i``). Each
    speed-up is built on first use and cached here, so that a path (many
    solves on one loss) pays for it once.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The loss's features (after its own centering and scaling).
    targets : ndarray of shape (n_samples, n_tasks)
        The loss's targets.
    s : ndarray of shape (n_samples,)
        Sample weights.
    a : ndarray of shape (n_tasks,)
        Per-task factors: ``c = s a'``.
    weights : ndarray of shape (n_samples, n_tasks)
        The loss's per-entry weights ``c``.
    fit_intercept : bool
    x_centered : bool
        Whether the loss centered ``X`` already (the speed-ups that center
        then skip it).
    tall : bool, default=False
        Whether ``X`` is tall enough (``n >= 2 (d + 1)``) for the Gram matrix
        of every feature to beat iterating on ``X`` once a solve needs the
        whole problem (:meth:`whole_model`); the float32 twin is then not
        offered.
    """

    def __init__(self, X, targets, s, a, weights, fit_intercept, x_centered, tall=False):
        super().__init__()
        self.X, self.targets, self.weights = X, targets, weights
        self.s, self.a = s, np.asarray(a, dtype=np.float64)
        self.fit_intercept = fit_intercept
        self.x_centered = x_centered
        self.tall = tall
        self._working_sets = self._columns = self._twin = self._whole = None
        self._kernels = {}

    def restrict(self, features):
        """Working sets of at most ``min(n_samples, 2048)`` features get their Gram form."""
        if self._working_sets is None:
            self._working_sets = WorkingSetGram(self.X, self.targets, self.s, self.a, self.fit_intercept, self.X.dtype)
        if not self._working_sets.worth(len(features)):
            return Accelerators()
        return Accelerators(self._working_sets.quadratic(features))

    def support_gradient(self, W, raw, grad0):
        """Through :class:`GramColumns`, for ``W`` with at most ``n_samples / 4`` nonzero rows.

        At most ``n_tasks / 2`` of them new to the cache (see
        :meth:`GramColumns.covers`); None when the backward product is cheaper.
        """
        if self._columns is None:
            center = self.fit_intercept and not self.x_centered
            self._columns = GramColumns(self.X, self.s, self.a, grad0, center, self.X.shape[0] // 2)
        rows = np.flatnonzero(np.any(W != 0, axis=1))
        if not self._columns.covers(rows, W.shape[1]):
            return None
        if self.fit_intercept:
            grad_b = ((raw - self.targets) * self.weights).sum(axis=0)
        else:
            grad_b = np.zeros(W.shape[1], raw.dtype)
        grad_W, n_new = self._columns.gradient(W, rows, grad_b)
        return grad_W, grad_b, int(n_new > 0)

    @property
    def offers_whole_model(self):
        return self.tall

    def whole_model(self, W, b, grad_W, grad_b):
        """Through the Gram matrix of every feature formed in float32, on a tall ``X``.

        The whole problem of a tall ``X`` is cheaper through its Gram matrix
        (``n d^2 / 2`` flops once, then ``d^2 T`` per iteration) than on
        ``X`` (``2 n d T`` per iteration); formed in float32 it costs half
        (5.0 ms against 9.9 ms at n = 2000, d = 500, one thread, plus 1-2
        ms for the float32 copy of ``X`` in a fit). The
        rounding only touches the Hessian: the model is anchored at the exact
        gradient (:meth:`GramQuadratic.anchored`), and the solver checks its
        minimizer with a float64 gradient on ``X``. Only the model's
        gradients and Bregman divergences are the loss's (its values are
        off by a constant). Cached: a path forms it once.
        """
        if not self.tall:
            return None
        if self._whole is None:
            s, unit = self.s, bool(np.all(self.s == 1))
            X32 = np.asarray(self.X if unit else self.X * np.sqrt(s)[:, None], dtype=np.float32)
            G = (X32.T @ X32).astype(np.float64)
            m = self.X.sum(axis=0) if unit else s @ self.X
            zero = np.zeros((self.X.shape[1], self.targets.shape[1]))
            self._whole = GramQuadratic.from_parts(
                G, m, float(s.sum()), zero, zero[0], zero[0], self.a, self.fit_intercept
            )
        return self._whole.anchored(W, b, grad_W, grad_b)

    def kernel_available(self, max_samples):
        """With fewer rows than columns, at most ``max_samples``, and one weight for every task.

        (The kernel costs ``n^2 d`` flops.)
        """
        n, d = self.X.shape
        return n < d and n <= max_samples and bool(np.allclose(self.a, self.a[0], rtol=1e-12, atol=0))

    def kernel_system(self, max_samples, single=False):
        """Cached per precision: a path computes its kernel once."""
        if not self.kernel_available(max_samples):
            return None
        if single not in self._kernels:
            self._kernels[single] = KernelSystem(
                self.X, self.targets, self.s, self.a[0], self.fit_intercept, single=single,
                x_centered=self.x_centered,
            )
        return self._kernels[single]

    def single_precision(self):
        """None on a tall ``X``, whose whole problem goes through :meth:`whole_model`."""
        if self.tall:
            return None
        if self._twin is None:
            center = self.fit_intercept and self.s.sum() > 0 and not self.x_centered
            self._twin = SinglePrecisionTwin(self.X, self.targets, self.s, self.weights, self.fit_intercept, center)
        return self._twin


class SinglePrecisionTwin:
    """The squared loss of :class:`SharedDesignAccelerators` in float32, on centered features.

    Its design is ``X - 1 m'`` (``m`` the sample-weighted feature means;
    nothing is centered without intercept or when the loss centered ``X``)
    in float32, so that its products cost half of float64 BLAS; centering
    first keeps features far from 0 from cancelling in float32 (an offset
    of 5 left float32 FISTA at a relative measure of 2e-4). It is the same
    model with intercepts ``b + m' W`` (:meth:`to_single`,
    :meth:`from_single`), and offers what FISTA uses of a quadratic loss.
    """

    is_quadratic = True
    dtype = np.dtype(np.float32)

    def __init__(self, X, targets, s, weights, fit_intercept, center):
        self.shift = (s @ X) / s.sum() if center else np.zeros(X.shape[1])
        self.n_features, self.n_tasks = X.shape[1], targets.shape[1]
        self.fit_intercept = fit_intercept
        X32 = (X - self.shift if center else X).astype(np.float32)
        self._design = _WideDesign(X32, self.n_tasks, fit_intercept)
        self._targets = targets.astype(np.float32)
        self._weights = weights.astype(np.float32)

    def raw_prediction(self, W, b):
        return self._design.forward(W, b)

    def gradient_from_raw(self, raw):
        return self._design.backward((raw - self._targets) * self._weights)

    def bregman_from_raw(self, raw_new, raw_old):
        diff = raw_new - raw_old
        return 0.5 * _inner(self._weights, diff * diff)

    def to_single(self, W, b, raw=None, grad_W=None, grad_b=None):
        """``(W, b)`` and ``(raw, grad_W, grad_b)`` there, as the twin's float32 parameters.

        The raw prediction is the same; the twin's gradient in ``W`` is
        ``(X - 1 m')' R = grad_W - m grad_b'``. Without ``raw`` (and the
        gradient), the third item is None.
        """
        f32 = np.float32
        start = None
        if raw is not None:
            start = (raw.astype(f32), (grad_W - np.outer(self.shift, grad_b)).astype(f32), grad_b.astype(f32))
        return W.astype(f32), (b + self.shift @ W).astype(f32), start

    def from_single(self, W, b):
        """The twin's float32 ``(W, b)`` as float64 parameters of the loss."""
        W = W.astype(np.float64)
        return W, b.astype(np.float64) - self.shift @ W
