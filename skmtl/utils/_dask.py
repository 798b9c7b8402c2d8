"""Recognizing dask collections without importing dask.

dask is an optional extra: ``import skmtl`` must not import it. A dask
collection cannot exist unless its creator imported dask, so when dask is
not in ``sys.modules`` nothing is one.
"""

import sys


def is_dask_collection(obj):
    """Whether ``obj`` is a dask collection (DataFrame, Series, Array, ...); never imports dask."""
    dask = sys.modules.get("dask")
    return dask is not None and dask.is_dask_collection(obj)
