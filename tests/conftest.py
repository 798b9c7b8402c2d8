"""Shared fixtures: small multi-task problems in both layouts."""

import os
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

# Tests and CI read the real data sets from the shared folder next to the
# repository unless SKMTL_DATA already points somewhere.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
os.environ.setdefault("SKMTL_DATA", str(SHARED_DATA))

# Tests that need School or the MALSAR reference skip when they are absent
# (a checkout without the shared folder). CI must run them all: there a
# missing file stops the session instead of turning into silent skips.
_CI_FILES = ("school/school.mat", "school_splits/school_1_indexes.mat", "../reference/malsar_school.csv",
             "../reference/school_prepared.mat", "../reference/school_mixedlm.json")


def pytest_sessionstart(session):
    if os.environ.get("CI", "").lower() in ("", "0", "false"):
        return
    data = Path(os.environ["SKMTL_DATA"])
    missing = [name for name in _CI_FILES if not (data / name).exists()]
    if missing:
        raise pytest.UsageError(
            f"CI is set but SKMTL_DATA={data} lacks {missing}: the tests that need them "
            "would be skipped."
        )


@pytest.fixture
def wide_data():
    """Three related regression tasks on one design, two labels missing."""
    rng = np.random.RandomState(0)
    X = rng.randn(40, 4)
    W = np.array([[1.0, 0.5, 0.0, 0.0], [1.2, 0.4, 0.0, 0.1], [0.9, 0.6, 0.1, 0.0]])
    Y = X @ W.T + 0.1 * rng.randn(40, 3)
    Y[3, 0] = np.nan
    Y[7, 2] = np.nan
    return X, Y


@pytest.fixture
def long_data():
    """Three regression tasks with their own inputs; task id in the last column."""
    rng = np.random.RandomState(1)
    sizes = [15, 25, 20]
    tasks = np.repeat([0, 1, 2], sizes)
    X = rng.randn(len(tasks), 3)
    slopes = np.array([[1.0, -1.0, 0.5], [1.1, -0.9, 0.4], [0.8, -1.2, 0.6]])
    y = np.einsum("ij,ij->i", X, slopes[tasks]) + np.array([0.0, 2.0, -1.0])[tasks]
    y += 0.05 * rng.randn(len(tasks))
    # Shuffle so rows of a task are not contiguous, as in real data.
    perm = rng.permutation(len(tasks))
    return np.column_stack([X, tasks])[perm], y[perm]


@pytest.fixture
def fit_peak_memory():
    """``fit(model, X, y)``: fit ``model`` and return the tracemalloc peak of the fit, in bytes.

    ConvergenceWarnings are ignored: memory tests stop after a few iterations.
    """

    def fit(model, X, y):
        tracemalloc.start()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X, y)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    return fit


@pytest.fixture(scope="module")
def dask_client():
    """A dask.distributed client of an in-process LocalCluster: one worker, two threads.

    Two threads, because with a single thread in the whole cluster joblib
    sees ``effective_n_jobs == 1`` and runs everything in the calling thread.
    """
    distributed = pytest.importorskip(
        "distributed", reason="dask.distributed is an optional extra (pip install 'skmtl[dask]')"
    )
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()
