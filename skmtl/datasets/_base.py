"""Where skmtl keeps the data sets it loads (the "data home")."""

import os
from pathlib import Path

__all__ = ["get_data_home"]

#: Environment variable naming the data home when ``data_home`` is not given.
DATA_HOME_ENV = "SKMTL_DATA"
#: Data home used when neither ``data_home`` nor ``SKMTL_DATA`` is set.
DEFAULT_DATA_HOME = Path("~") / "skmtl_data"


def get_data_home(data_home=None):
    """Return the path of the skmtl data folder, creating it if missing.

    The data home holds one sub-folder per data set (for instance
    ``<data_home>/school/school.mat``), as scikit-learn's
    :func:`sklearn.datasets.get_data_home` does. It is, in order of
    precedence:

    1. the ``data_home`` argument;
    2. the environment variable ``SKMTL_DATA``;
    3. ``~/skmtl_data``.

    A leading ``~`` is expanded to the user's home folder.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use. If None, ``SKMTL_DATA`` or ``~/skmtl_data``.

    Returns
    -------
    data_home : str
        The path of the data folder (it exists on return).

    Examples
    --------
    >>> from skmtl.datasets import get_data_home
    >>> get_data_home("/tmp/my_skmtl_data")
    '/tmp/my_skmtl_data'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or DEFAULT_DATA_HOME
    data_home = os.path.expanduser(os.fspath(data_home))
    os.makedirs(data_home, exist_ok=True)
    return data_home
