"""Tests of the penalties: every penalty goes through the same checks.

``_penalties(n_features, n_tasks)`` lists every penalty class of the
package (and its variants: elastic-net mixing, positivity, scaled rows);
a new penalty adds one line there. Each is checked for

* the prox: the three-point inequality (it characterizes the prox), and
  the prox against ``scipy.optimize`` on small random inputs;
* the optimality measure: 0 exactly at prox points;
* the conjugate, where the penalty has one: the Fenchel-Young inequality,
  with equality at prox points, and its domain (the dual norm's ball).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize

from skmtl.linear_model._penalties import (
    L1,
    L21,
    BlockPenalty,
    L1Linf,
    MeanQuadratic,
    NuclearBall,
    SparseGroupL21,
    SparseTaskQuadratic,
    SquaredTraceNorm,
    TaskQuadratic,
    TraceNorm,
    _ClusterQuadratic,
    _ConvexClusterPenalty,
    _SpectralQuadratic,
    _TaskL1,
    _TaskSpectrum,
    scale_rows,
)
from skmtl.linear_model._penalties._row_separable import _epsilon_norms


def _penalties(n_features, n_tasks):
    """Every penalty, for a ``W`` of shape (n_features, n_tasks); ``n_features`` even, ``n_tasks >= 3``."""
    rng = np.random.RandomState(0)
    C = rng.randn(n_tasks, n_tasks)
    chain = np.diag(np.ones(n_tasks - 1), 1)
    laplacian = np.diag((chain + chain.T).sum(axis=1)) - chain - chain.T
    basis = np.linalg.qr(rng.randn(n_tasks, 2))[0]
    half = n_features // 2
    return [
        L21(0.7),
        L21(0.7, l1_ratio=0.6),
        L21(0.7, positive=True),
        L21(0.4, l1_ratio=0.0),
        L1(0.5),
        L1(0.5, l1_ratio=0.3),
        L1(0.5, positive=True),
        L1Linf(0.6),
        L1Linf(0.6, l1_ratio=0.7),
        SparseGroupL21(0.6, l1_ratio=0.4),
        _TaskL1(np.linspace(0.3, 1.5, n_tasks)),
        _TaskL1(np.linspace(0.0, 1.5, n_tasks), l1_ratio=0.4),
        scale_rows(L21(0.7, l1_ratio=0.8), rng.uniform(0.5, 2.0, n_features)),
        TraceNorm(0.9),
        TraceNorm(0.9, l1_ratio=0.5),
        SquaredTraceNorm(0.7),
        SquaredTraceNorm(1.3, ridge=0.4),
        TaskQuadratic(1.3, C @ C.T),
        TaskQuadratic(0.7, laplacian + 0.1 * np.eye(n_tasks)),
        MeanQuadratic(0.7, 0.8, n_tasks),
        MeanQuadratic(0.7, 1.0, n_tasks),
        SparseTaskQuadratic(0.7, sp.csr_matrix(laplacian) + 0.1 * sp.identity(n_tasks), positive_definite=True),
        _SpectralQuadratic(_TaskSpectrum(basis, [0.5, 2.0], 1.2)),
        _ClusterQuadratic(np.arange(n_tasks) % 2, 0.8, 0.3),
        NuclearBall(1.5),
        BlockPenalty(half, L1Linf(0.7), L1(0.4)),
        BlockPenalty(half, L1(0.5), NuclearBall(1.5)),
        BlockPenalty(half, L1(0.5), TraceNorm(0.9)),
        BlockPenalty(half, _TaskL1(np.linspace(0.3, 1.5, n_tasks)), TraceNorm(0.9)),
        scale_rows(BlockPenalty(half, L21(0.7), L1(0.4)), rng.uniform(0.5, 2.0, n_features)),
    ]


N_FEATURES, N_TASKS = 6, 3
PENALTIES = _penalties(N_FEATURES, N_TASKS)
IDS = [repr(p) for p in PENALTIES]
# Penalties whose conjugate the duality gaps use.
DUAL = [p for p in PENALTIES if getattr(p, "has_dual", False)]


def _in_domain(penalty, Z):
    """A point of the penalty's domain near ``Z``: a prox with a negligible step.

    For a norm or a quadratic it is ``Z`` (to 1e-8); for a constraint
    (``positive=True``, a ball) it is the projection.
    """
    return penalty.prox(Z, 1e-8)


@pytest.mark.parametrize("penalty", PENALTIES, ids=IDS)
@pytest.mark.parametrize("step", [0.1, 1.0, 3.0])
def test_prox_three_point_inequality(penalty, step):
    # P = prox(W) iff <W - P, Z - P> <= step * (g(Z) - g(P)) for every Z.
    rng = np.random.RandomState(0)
    for _ in range(5):
        W = 2 * rng.randn(N_FEATURES, N_TASKS)
        W[1] *= 0.05  # a row that the group penalties zero out
        P = penalty.prox(W, step)
        for _ in range(20):
            Z = _in_domain(penalty, P + rng.randn(*W.shape) * rng.choice([1e-3, 0.1, 1.0]))
            lhs = np.vdot(W - P, Z - P)
            rhs = step * (penalty.value(Z) - penalty.value(P))
            assert lhs <= rhs + 1e-10 * (1 + abs(rhs))


@pytest.mark.parametrize("index", range(len(PENALTIES)), ids=IDS)
def test_prox_matches_scipy_minimize(index):
    # P minimizes F(X) = ||X - W||^2 / (2 step) + g(X) over the domain; F is
    # (1 / step)-strongly convex, so F(X) - F(P) >= ||X - P||^2 / (2 step)
    # bounds the distance of scipy's point too. scipy searches over x and
    # evaluates F at the point of the domain nearest x (constraints).
    penalty = _penalties(2, 3)[index]
    rng = np.random.RandomState(1)
    step = 0.8
    W = 2 * rng.randn(2, 3)
    P = penalty.prox(W, step)

    def objective(X):
        return 0.5 * np.sum((X - W) ** 2) / step + penalty.value(X)

    def searched(x):
        return objective(_in_domain(penalty, x.reshape(W.shape)))

    best = min(
        (
            minimize(searched, x0, method="Powell", options={"xtol": 1e-10, "ftol": 1e-14, "maxfev": 20000})
            for x0 in (np.zeros(W.size), W.ravel(), rng.randn(W.size))
        ),
        key=lambda res: res.fun,
    )
    gap = best.fun - objective(P)
    assert -1e-10 <= gap <= 1e-6
    X = _in_domain(penalty, best.x.reshape(W.shape))
    assert np.linalg.norm(X - P) <= np.sqrt(2 * step * max(gap, 0.0)) + 1e-6


@pytest.mark.parametrize("penalty", PENALTIES, ids=IDS)
@pytest.mark.parametrize("step", [0.3, 2.0])
def test_subdiff_distance_is_zero_at_prox_points(penalty, step):
    # P = prox(V, step) means (V - P) / step is in dg(P): the optimality
    # measure of "gradient" (P - V) / step is 0 at P, and positive elsewhere.
    rng = np.random.RandomState(2)
    V = 2 * rng.randn(N_FEATURES, N_TASKS)
    V[2] *= 0.1
    P = penalty.prox(V, step)
    grad = (P - V) / step
    scale = np.linalg.norm(grad)
    assert penalty.subdiff_distance(P, grad) <= 1e-8 * scale
    Q = _in_domain(penalty, P + 0.1 * rng.randn(*P.shape))
    assert penalty.subdiff_distance(Q, grad) > 1e-3 * scale


@pytest.mark.parametrize("penalty", DUAL, ids=repr)
@pytest.mark.parametrize("step", [0.3, 2.0])
def test_fenchel_young_equality_at_prox_points(penalty, step):
    # V = (Z - P) / step is a subgradient at P = prox(Z, step): g(P) + g*(V) = <P, V>.
    rng = np.random.RandomState(3)
    Z = 3 * rng.randn(N_FEATURES, N_TASKS)
    P = penalty.prox(Z, step)
    V = (Z - P) / step
    assert penalty.value(P) + penalty.conjugate(V) == pytest.approx(np.vdot(P, V), rel=1e-9, abs=1e-12)
    # V is in the conjugate's domain. Without a ridge part that domain is
    # the dual norm's ball of radius alpha and V, a subgradient at P != 0,
    # is on its boundary: dual_scale maps 3 V back onto V.
    assert_allclose(penalty.dual_scale(V), 1.0, rtol=1e-9)
    scale = np.asarray(penalty.dual_scale(3 * V))
    assert np.all((scale == 1.0) | np.isclose(scale, 1 / 3, rtol=1e-9))


@pytest.mark.parametrize(
    "penalty", DUAL + [_ConvexClusterPenalty(0.7, 0.3, 2)], ids=repr
)
def test_fenchel_young_inequality(penalty):
    # g(W) + g*(V) >= <W, V> for W in the domain and V scaled into the
    # conjugate's domain (the duality gaps' dual points).
    rng = np.random.RandomState(4)
    for _ in range(50):
        W = rng.randn(N_FEATURES, N_TASKS) * rng.choice([0.01, 1.0, 10.0])
        if hasattr(penalty, "prox"):
            W = _in_domain(penalty, W)
        V = rng.randn(N_FEATURES, N_TASKS) * rng.choice([0.01, 1.0, 10.0])
        V = V * penalty.dual_scale(V)
        assert penalty.value(W) + penalty.conjugate(V) >= np.vdot(W, V) - 1e-10 * (1 + abs(np.vdot(W, V)))


@pytest.mark.parametrize("penalty", [p for p in PENALTIES if "alpha" in p.get_params()], ids=repr)
def test_alpha_max_is_the_threshold_for_zero(penalty):
    rng = np.random.RandomState(3)
    grad0 = rng.randn(N_FEATURES, N_TASKS)
    alpha_max = penalty.alpha_max(grad0)
    if not hasattr(penalty, "null_ratio"):
        # A differentiable penalty: W = 0 is optimal only for grad0 = 0.
        assert alpha_max == np.inf and penalty.alpha_max(0 * grad0) == 0.0
        return
    if penalty._norm_share == 0:
        assert alpha_max == np.inf
        return
    above = penalty.with_params(alpha=alpha_max * (1 + 1e-9))
    below = penalty.with_params(alpha=alpha_max * (1 - 1e-3))
    zero = np.zeros_like(grad0)
    scale = np.linalg.norm(grad0)
    assert above.subdiff_distance(zero, grad0) <= 1e-12 * scale
    assert below.subdiff_distance(zero, grad0) > 0
    # One prox-gradient step from 0 stays exactly at 0 above alpha_max.
    for step in (0.1, 1.0, 10.0):
        assert_array_equal(above.prox(-step * grad0, step), 0.0)
        assert np.any(below.prox(-step * grad0, step) != 0)


@pytest.mark.parametrize("penalty", PENALTIES, ids=IDS)
def test_prox_keeps_float32(penalty):
    W = np.random.RandomState(6).randn(N_FEATURES, N_TASKS).astype(np.float32)
    P = penalty.prox(W, 0.5)
    assert P.dtype == np.float32
    assert_allclose(P, penalty.prox(W.astype(np.float64), 0.5), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("penalty", PENALTIES, ids=IDS)
def test_params_round_trip(penalty):
    # Every penalty declares its hyper-parameters once (BasePenalty): a copy
    # from get_params is the same penalty.
    copy = penalty.with_params()
    assert type(copy) is type(penalty) and repr(copy) == repr(penalty)
    W = np.random.RandomState(7).randn(N_FEATURES, N_TASKS)
    assert copy.value(W) == penalty.value(W)
    assert_array_equal(copy.prox(W, 0.5), penalty.prox(W, 0.5))


def test_alpha_max_closed_forms():
    rng = np.random.RandomState(4)
    G = rng.randn(5, 3)
    assert L21(1.0).alpha_max(G) == pytest.approx(np.linalg.norm(G, axis=1).max())
    assert L21(1.0, l1_ratio=0.5).alpha_max(G) == pytest.approx(2 * np.linalg.norm(G, axis=1).max())
    assert L21(1.0, positive=True).alpha_max(G) == pytest.approx(np.linalg.norm(np.maximum(-G, 0), axis=1).max())
    assert L1(1.0).alpha_max(G) == pytest.approx(np.abs(G).max())
    assert L1(1.0, positive=True).alpha_max(G) == pytest.approx(np.max(-G))
    assert L1(1.0, positive=True).alpha_max(np.abs(G)) == 0.0
    assert TraceNorm(1.0).alpha_max(G) == pytest.approx(np.linalg.svd(G, compute_uv=False)[0])
    assert L1Linf(1.0).alpha_max(G) == pytest.approx(np.abs(G).sum(axis=1).max())


def test_values():
    rng = np.random.RandomState(5)
    W = rng.randn(5, 3)
    fro2 = np.sum(W**2)
    assert L21(2.0).value(W) == pytest.approx(2 * np.linalg.norm(W, axis=1).sum())
    assert L1(2.0).value(W) == pytest.approx(2 * np.abs(W).sum())
    assert TraceNorm(2.0).value(W) == pytest.approx(2 * np.linalg.svd(W, compute_uv=False).sum())
    assert L1Linf(2.0).value(W) == pytest.approx(2 * np.abs(W).max(axis=1).sum())
    # Elastic-net mixing: alpha * (r * Omega_0 + (1 - r) / 2 ||W||_F^2).
    assert L21(2.0, l1_ratio=0.25).value(W) == pytest.approx(
        2 * (0.25 * np.linalg.norm(W, axis=1).sum() + 0.375 * fro2)
    )
    assert L1(2.0, l1_ratio=0.0).value(W) == pytest.approx(fro2)


def test_closed_form_proxes():
    W = np.array([[3.0, 4.0], [0.3, 0.4], [-1.0, 2.0]])
    # Group soft-thresholding of the row norms (5, 0.5, sqrt(5)) by 1.
    assert_allclose(L21(1.0).prox(W, 1.0), W * np.array([[0.8], [0.0], [1 - 1 / np.sqrt(5)]]))
    assert_allclose(L1(1.0).prox(W, 0.5), np.sign(W) * np.maximum(np.abs(W) - 0.5, 0))
    assert_allclose(L1(1.0, positive=True).prox(W, 0.5), np.maximum(W - 0.5, 0))
    # Row [3, 4] with tau = 2: clip the magnitudes at theta = 2.5, so the
    # removed mass (0.5 + 1.5) equals tau.
    assert_allclose(L1Linf(1.0).prox(W[:1], 2.0), [[2.5, 2.5]])
    assert_allclose(L1Linf(1.0).prox(W[1:2], 2.0), [[0.0, 0.0]])
    # Ridge only: prox = W / (1 + step * alpha).
    assert_allclose(TraceNorm(2.0, l1_ratio=0.0).prox(W, 0.5), W / 2)
    # Trace norm: singular values shrink by step * alpha.
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    assert_allclose(TraceNorm(1.0).prox(W, 1.0), (U * np.maximum(s - 1, 0)) @ Vt, atol=1e-12)


def test_positive_penalties_reject_negative_coefficients():
    W = np.array([[1.0, -0.5]])
    for penalty in (L21(1.0, positive=True), L1(1.0, positive=True)):
        assert penalty.subdiff_distance(W, np.zeros_like(W)) == np.inf
        assert np.all(penalty.prox(W, 1.0) >= 0)


def test_l1linf_prox_of_many_rows_matches_row_by_row():
    # The vectorized projection equals a per-row bisection on theta.
    rng = np.random.RandomState(7)
    V = rng.randn(50, 6) * rng.uniform(0.1, 3, (50, 1))
    tau = 1.5
    P = L1Linf(1.0).prox(V, tau)
    for v, p in zip(V, P):
        a = np.abs(v)
        if a.sum() <= tau:
            assert_allclose(p, 0.0)
            continue
        lo, hi = 0.0, a.max()
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if np.maximum(a - mid, 0).sum() > tau else (lo, mid)
        assert_allclose(p, np.sign(v) * np.minimum(a, lo), atol=1e-12)


def test_sparse_group_dual_norm_is_the_epsilon_norm():
    # Per row, the smallest nu with ||S_{tau nu}(v)||_2 <= (1 - tau) nu
    # (Ndiaye et al., 2016), found here by bisection on nu.
    rng = np.random.RandomState(9)
    V = rng.randn(30, 5) * rng.uniform(0.1, 3, (30, 1))
    V[3] = 0.0
    V[4, 1:] = 0.0
    V[5] = 1.0  # ties
    for tau in (0.0, 0.3, 0.7, 1.0):
        expected = []
        for a in np.abs(V):
            lo, hi = 0.0, a.sum() + 1.0
            for _ in range(200):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if np.linalg.norm(np.maximum(a - tau * mid, 0)) > (1 - tau) * mid else (lo, mid)
            expected.append(hi)
        assert_allclose(_epsilon_norms(np.abs(V), tau), expected, rtol=1e-10, atol=1e-14)
        assert SparseGroupL21(2.0, l1_ratio=tau).alpha_max(V) == pytest.approx(max(expected))
    # The two ends: the L2 norm (tau = 0) and the L-infinity norm (tau = 1).
    assert_allclose(_epsilon_norms(np.abs(V), 0.0), np.linalg.norm(V, axis=1))
    assert_allclose(_epsilon_norms(np.abs(V), 1.0), np.abs(V).max(axis=1))


def test_sparse_group_ends_are_l21_and_l1():
    rng = np.random.RandomState(10)
    V, W = rng.randn(5, 3), rng.randn(5, 3)
    for end, twin in ((0.0, L21(0.7)), (1.0, L1(0.7))):
        penalty = SparseGroupL21(0.7, l1_ratio=end)
        assert penalty.value(W) == pytest.approx(twin.value(W))
        assert_allclose(penalty.prox(V, 0.4), twin.prox(V, 0.4))
        assert penalty.subdiff_distance(W, V) == pytest.approx(twin.subdiff_distance(W, V))


def test_parameter_errors():
    with pytest.raises(ValueError, match="alpha must be >= 0; got -1.0"):
        L21(-1.0)
    with pytest.raises(ValueError, match=r"l1_ratio must be in \[0, 1\]; got 1.5"):
        L1(1.0, l1_ratio=1.5)
    with pytest.raises(TypeError, match="alpha must be a real number; got 'a'"):
        TraceNorm("a")
    with pytest.raises(ValueError, match="TraceNorm does not support positive=True"):
        TraceNorm(1.0, positive=True)
    with pytest.raises(ValueError, match="L1Linf does not support positive=True"):
        L1Linf(1.0, positive=True)
    with pytest.raises(ValueError, match="alpha must be >= 0; got nan"):
        L1(np.nan)
    # Every penalty checks the hyper-parameters it declares (BasePenalty).
    with pytest.raises(ValueError, match=r"mixing must be in \[0, 1\]; got 1.5"):
        MeanQuadratic(1.0, 1.5, 3)
    with pytest.raises(ValueError, match="radius must be >= 0; got -1"):
        NuclearBall(-1)
    with pytest.raises(ValueError, match=r"l1_ratio must be in \[0, 1\]; got -0.1"):
        SparseGroupL21(1.0, l1_ratio=-0.1)
    with pytest.raises(TypeError, match="ridge must be a real number; got None"):
        SquaredTraceNorm(1.0, ridge=None)


@pytest.mark.parametrize("penalty", [p for p in PENALTIES if hasattr(p, "subdiff_distance_rows")], ids=repr)
def test_row_distances_add_up_to_the_distance(penalty):
    rng = np.random.RandomState(8)
    W = _in_domain(penalty, rng.randn(N_FEATURES, N_TASKS))
    W[[1, 4]] = 0.0
    grad = rng.randn(N_FEATURES, N_TASKS)
    rows = penalty.subdiff_distance_rows(W, grad)
    assert rows.shape == (N_FEATURES,) and np.all(rows >= 0)
    assert np.sqrt(np.sum(rows**2)) == pytest.approx(penalty.subdiff_distance(W, grad))
    # Every row of a prox point is optimal for the gradient (P - V) / step.
    V = W - grad
    P = penalty.prox(V, 1.0)
    assert_allclose(penalty.subdiff_distance_rows(P, P - V), 0.0, atol=1e-12)


def test_trace_norm_is_not_row_separable():
    assert not hasattr(TraceNorm(1.0), "subdiff_distance_rows")
