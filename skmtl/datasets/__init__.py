"""Multi-task data sets: real benchmarks and generators with known structure.

Real data are read from the data home (:func:`get_data_home`: the
``data_home`` argument, else the ``SKMTL_DATA`` environment variable, else
``~/skmtl_data``) and downloaded there on first use when a canonical public
location exists. Generators return ``(X, y, truth)`` with the planted
coefficients and structure in ``truth``.
"""

from ._base import get_data_home
from ._generators import make_clustered_multitask, make_low_rank_multitask, make_sparse_multitask
from ._school import fetch_school, fetch_school_splits

__all__ = [
    "get_data_home",
    "fetch_school",
    "fetch_school_splits",
    "make_sparse_multitask",
    "make_low_rank_multitask",
    "make_clustered_multitask",
]
