"""Tests of the Anderson extrapolation."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skmtl.linear_model._extrapolation import _anderson


def test_anderson_weights_extrapolate_a_linear_sequence():
    # x_k = x* + M^k (x_0 - x*) for a contraction M: with one more difference
    # than dimensions, the extrapolation is x* exactly (Anderson, 1965).
    rng = np.random.RandomState(0)
    M = np.diag([0.9, 0.5, -0.3])
    x_star = rng.randn(3)
    xs = [x_star + np.linalg.matrix_power(M, k) @ np.ones(3) for k in range(5)]
    c = _anderson(xs)
    assert c.sum() == pytest.approx(1.0)
    # (up to the 1e-10 relative Tikhonov term that guards ill-conditioning)
    assert_allclose(c @ np.array(xs[1:]), x_star, atol=1e-4)
    assert np.linalg.norm(xs[-1] - x_star) > 0.5
    # A stalled sequence (all differences 0) gives no extrapolation.
    assert _anderson([np.ones(3)] * 4) is None
