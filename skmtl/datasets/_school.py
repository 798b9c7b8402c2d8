"""The School data set (ILEA exam scores, 139 schools) and its official splits.

The data are not shipped with skmtl: they are read from the data home
(:func:`skmtl.datasets.get_data_home`), and ``school.mat`` is downloaded from
the MALSAR repository on first use, as scikit-learn's ``fetch_*`` functions do.
"""

import hashlib
import os
import tempfile
import urllib.error
import urllib.request

import numpy as np
import scipy.io
from sklearn.utils import Bunch

from ._base import get_data_home

__all__ = ["fetch_school", "fetch_school_splits"]

#: Canonical public location of ``school.mat`` (MALSAR toolbox, ``data/school.mat``).
SCHOOL_URL = "https://raw.githubusercontent.com/jiayuzhou/MALSAR/master/data/school.mat"
#: SHA-256 of the MALSAR ``school.mat``; a download must match it.
SCHOOL_SHA256 = "57fb3238fdd03a9aa17276e2ce18d9bbb5d128c3261e794fe6233b58b6909068"
SCHOOL_FOLDER = "school"
SCHOOL_FILE = "school.mat"
SPLITS_FOLDER = "school_splits"
N_SPLITS = 10
_DOWNLOAD_TIMEOUT = 60  # seconds
_CHUNK = 1 << 16

# The 27 attributes in their column order. The categorical variables of the
# original ILEA file were expanded into 0/1 indicators in the order of their
# codes (README of the splits); the data pin down the order where a code list
# was ambiguous: the boys'/girls' school columns coincide with one student
# gender column each, and the VR-band columns order the mean scores
# VR1 > VR2 > VR3.
FEATURE_NAMES = [
    "year_1985",
    "year_1986",
    "year_1987",
    "pct_free_school_meals",
    "pct_vr_band_1",
    "gender_female",
    "gender_male",
    "vr_band_3",
    "vr_band_1",
    "vr_band_2",
    "ethnic_eswi",
    "ethnic_african",
    "ethnic_arab",
    "ethnic_bangladeshi",
    "ethnic_caribbean",
    "ethnic_greek",
    "ethnic_indian",
    "ethnic_pakistani",
    "ethnic_se_asian",
    "ethnic_turkish",
    "ethnic_other",
    "school_mixed",
    "school_boys",
    "school_girls",
    "school_maintained",
    "school_church_of_england",
    "school_roman_catholic",
]
TASK_FEATURE = "school"
TARGET_NAME = "score"

DESCR = """\
.. _school_dataset:

School data set (Inner London Education Authority)
---------------------------------------------------

**Data Set Characteristics:**

:Number of tasks: 139 (secondary schools)
:Number of instances: 15,362 students, 22 to 251 per school
:Number of attributes: 27 (25 binary indicators, 2 percentages)
:Target: exam score (1 to 70), regression
:Task column: ``"school"``, the LAST column of ``data`` in the long layout
    (``task_column=-1``; school index 0..138 stored as float)

Examination records of 15,362 students from 139 London secondary schools in
1985, 1986 and 1987, a random 50% sample collected by the Inner London
Education Authority and studied by Goldstein (1991). Each school is one task;
the target is the student's exam score. It is the most used benchmark for
multi-task regression (Bakker & Heskes 2003; Evgeniou, Micchelli & Pontil
2005; Argyriou, Evgeniou & Pontil 2008; Zhou, Chen & Ye 2011).

Attributes (column order of ``data``):

- year of the exam: ``year_1985``, ``year_1986``, ``year_1987``;
- school-level percentages: ``pct_free_school_meals`` (% of students
  eligible for free school meals) and ``pct_vr_band_1`` (% of students in
  verbal-reasoning band 1);
- student gender: ``gender_female``, ``gender_male``;
- student verbal-reasoning band: ``vr_band_3``, ``vr_band_1``,
  ``vr_band_2`` (a handful of students have none of the three);
- ethnic group: ``ethnic_eswi`` (born in England, Scotland, Wales or
  Ireland), ``ethnic_african``, ``ethnic_arab``, ``ethnic_bangladeshi``,
  ``ethnic_caribbean``, ``ethnic_greek``, ``ethnic_indian``,
  ``ethnic_pakistani``, ``ethnic_se_asian``, ``ethnic_turkish``,
  ``ethnic_other``;
- school gender: ``school_mixed``, ``school_boys``, ``school_girls``;
- school denomination: ``school_maintained``, ``school_church_of_england``,
  ``school_roman_catholic``.

The categorical variables are expanded into indicators in the order of the
original codes; the student-gender and VR-band column names were identified
from the data (the gender columns coincide with the boys'/girls' school
columns; mean scores order the VR bands).

The file is MALSAR's ``data/school.mat`` (cells ``X{t}``, ``Y{t}``); its
trailing column of ones is dropped (estimators fit their own intercepts).
The rows are identical, in the same order, to ``school_b.mat`` of Argyriou,
Evgeniou & Pontil (2008), so the 10 official 75%/25% splits returned by
:func:`skmtl.datasets.fetch_school_splits` index the rows of this data set.
Usual metric: explained variance (or nMSE) on held-out students.

No licence is stated; the data are distributed with MTL toolboxes for
research use and are not redistributed with skmtl.

.. rubric:: References

- H. Goldstein, "Multilevel modelling of survey data", The Statistician 40
  (1991) 235-244.
- A. Argyriou, T. Evgeniou, M. Pontil, "Convex multi-task feature
  learning", Machine Learning 73 (2008) 243-272.
- J. Zhou, J. Chen, J. Ye, "MALSAR: Multi-tAsk Learning via StructurAl
  Regularization", Arizona State University (2011).
"""


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url, path, sha256):
    """Download ``url`` to ``path`` atomically, checking its SHA-256.

    The bytes go to a temporary file in the destination folder, renamed
    onto ``path`` only once complete and verified, so an interrupted or
    corrupt download never leaves a file that later loads would trust.
    """
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".part")
    try:
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT) as response:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise OSError(
                f"Could not download {url} to {path}: {exc}. Check the network "
                f"connection, or download the file by hand and place it at {path} "
                "(or point data_home / the SKMTL_DATA environment variable at a "
                "folder that holds it)."
            ) from exc
        if digest.hexdigest() != sha256:
            raise OSError(
                f"The file downloaded from {url} has SHA-256 {digest.hexdigest()}, "
                f"expected {sha256}: the download is corrupt or the remote file "
                f"changed. Nothing was written to {path}."
            )
        os.replace(tmp_path, path)
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)


def _school_path(data_home, download_if_missing):
    data_home = get_data_home(data_home)
    path = os.path.join(data_home, SCHOOL_FOLDER, SCHOOL_FILE)
    if os.path.exists(path):
        return path
    if not download_if_missing:
        raise FileNotFoundError(
            f"The School data file was not found at {path}. Download it from "
            f"{SCHOOL_URL} (MALSAR, data/school.mat) into that folder, call "
            "fetch_school(download_if_missing=True), or set data_home / the "
            "SKMTL_DATA environment variable to a folder holding "
            f"{SCHOOL_FOLDER}/{SCHOOL_FILE}."
        )
    # Read the module constants at call time so tests (and mirrors) can
    # point them elsewhere.
    _download(SCHOOL_URL, path, SCHOOL_SHA256)
    return path


def _load_school_lists(path):
    """Per-task feature matrices (ones column dropped) and targets."""
    try:
        mat = scipy.io.loadmat(path, mat_dtype=True)
    except Exception as exc:  # scipy raises several types on a bad file
        raise ValueError(f"Could not read {path} as a MATLAB file: {exc}") from exc
    if "X" not in mat or "Y" not in mat:
        raise ValueError(
            f"{path} does not look like MALSAR's school.mat: expected cell "
            f"arrays 'X' and 'Y', found {sorted(k for k in mat if not k.startswith('__'))}."
        )
    Xs = [np.asarray(x, dtype=np.float64) for x in mat["X"].ravel()]
    ys = [np.asarray(y, dtype=np.float64).ravel() for y in mat["Y"].ravel()]
    n_columns = len(FEATURE_NAMES) + 1
    for t, (x, y) in enumerate(zip(Xs, ys, strict=True)):
        if x.ndim != 2 or x.shape[1] != n_columns or x.shape[0] != y.shape[0] or not np.all(x[:, -1] == 1):
            raise ValueError(
                f"{path} does not look like MALSAR's school.mat: task {t} has X of "
                f"shape {x.shape} and {y.shape[0]} targets, expected "
                f"{n_columns} columns ending in a column of ones."
            )
    return [x[:, :-1] for x in Xs], ys


def fetch_school(
    data_home=None,
    *,
    download_if_missing=True,
    return_X_y=False,
    layout="long",
    as_frame=False,
):
    """Load the School data set (ILEA exam scores, 139 regression tasks).

    15,362 students in 139 London secondary schools (22 to 251 per school),
    27 attributes, target the exam score. Each school is a task. The file
    ``<data_home>/school/school.mat`` (MALSAR's ``data/school.mat``) is read,
    and downloaded first if missing. The constant column of ones stored in
    the file is dropped: estimators fit their own intercepts.

    ================   =======================================
    Tasks              139
    Samples total      15,362
    Samples per task   22 - 251
    Features           27 (+ the task column in layout "long")
    Target             exam score, real, 1 - 70
    ================   =======================================

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data home. By default ``SKMTL_DATA`` or ``~/skmtl_data``; see
        :func:`get_data_home`.

    download_if_missing : bool, default=True
        If the file is missing, download it from :data:`SCHOOL_URL` (checked
        against its SHA-256). If False, a missing file raises
        ``FileNotFoundError``.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    layout : {"long", "lists"}, default="long"
        ``"long"``: one row per student, the school index (0..138, as a
        float) in the LAST column of ``data``, so estimators take
        ``task_column=-1``. ``"lists"``: one feature matrix and one target
        vector per school.

    as_frame : bool, default=False
        If True, ``data`` is a pandas DataFrame (the ``"school"`` column holds
        integer school indices, so ``task_column="school"``) and ``target``
        a Series named ``"score"``; with ``layout="lists"``, lists of them.
        Requires pandas.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes (layout "long").

        data : ndarray of shape (15362, 28) or DataFrame
            27 attributes followed by the school index (task column).
        target : ndarray of shape (15362,) or Series
            Exam scores.
        tasks : ndarray of int of shape (15362,)
            The school index of each row (same as ``data[:, -1]``).
        feature_names : list of str
            The 28 column names; the last one is ``"school"``.
        task_column : int or str
            ``-1`` (position of the school column), or ``"school"`` when
            ``as_frame=True``. Pass it as the estimators' ``task_column``.
        frame : DataFrame or None
            ``data`` with a ``"score"`` column when ``as_frame=True``.
        DESCR : str
            Description of the data set.

        With ``layout="lists"``: ``data`` is a list of 139 arrays of shape
        (n_t, 27), ``target`` a list of 139 arrays of shape (n_t,), and
        ``feature_names`` the 27 attribute names.

    (data, target) : tuple if ``return_X_y`` is True
        As above (two lists for ``layout="lists"``).

    Raises
    ------
    FileNotFoundError
        If the file is missing and ``download_if_missing=False``.
    OSError
        If the download fails or its checksum does not match.
    ValueError
        If ``layout`` is not ``"long"`` or ``"lists"``.

    See Also
    --------
    fetch_school_splits : the 10 official 75%/25% train/test splits.

    Notes
    -----
    See ``DESCR`` for the attribute list and references.

    Examples
    --------
    >>> from skmtl.datasets import fetch_school
    >>> school = fetch_school()  # doctest: +SKIP
    >>> school.data.shape, school.task_column  # doctest: +SKIP
    ((15362, 28), -1)
    >>> Xs, ys = fetch_school(layout="lists", return_X_y=True)  # doctest: +SKIP
    >>> len(Xs), Xs[0].shape  # doctest: +SKIP
    (139, (200, 27))
    """
    if layout not in ("long", "lists"):
        raise ValueError(f"layout must be 'long' or 'lists'; got layout={layout!r}.")
    Xs, ys = _load_school_lists(_school_path(data_home, download_if_missing))

    if layout == "lists":
        if as_frame:
            pd = _import_pandas()
            Xs = [pd.DataFrame(x, columns=FEATURE_NAMES) for x in Xs]
            ys = [pd.Series(y, name=TARGET_NAME) for y in ys]
        if return_X_y:
            return Xs, ys
        return Bunch(data=Xs, target=ys, feature_names=list(FEATURE_NAMES), DESCR=DESCR)

    sizes = [len(y) for y in ys]
    tasks = np.repeat(np.arange(len(ys)), sizes)
    data = np.column_stack([np.vstack(Xs), tasks.astype(np.float64)])
    target = np.concatenate(ys)
    feature_names = [*FEATURE_NAMES, TASK_FEATURE]
    task_column = -1
    frame = None
    if as_frame:
        pd = _import_pandas()
        data = pd.DataFrame(data, columns=feature_names)
        data[TASK_FEATURE] = tasks
        target = pd.Series(target, name=TARGET_NAME)
        frame = pd.concat([data, target], axis=1)
        task_column = TASK_FEATURE
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        tasks=tasks,
        feature_names=feature_names,
        task_column=task_column,
        frame=frame,
        DESCR=DESCR,
    )


def _import_pandas():
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas is a test dependency
        raise ImportError("as_frame=True requires pandas; install it with `pip install pandas`.") from exc
    return pd


def fetch_school_splits(data_home=None, *, download_if_missing=False):
    """Load the 10 official 75%/25% train/test splits of the School data.

    The splits of Argyriou, Evgeniou & Pontil (2008), reused by later
    papers: in each, every school has 72-75% of its students in the training
    side, and every student is in exactly one side (11,472 train and 3,890
    test rows). They index the rows of :func:`fetch_school` (identical, in the
    same order, to the authors' ``school_b.mat``).

    The files ``<data_home>/school_splits/school_{1..10}_indexes.mat`` (fields
    ``tr`` and ``tst``, 1-based row numbers) are read. There is no canonical
    public download location for them: they come from the authors' web site
    and are redistributed with some MTL code bases (e.g. GitHub
    ``tjanez/PyMTL``, ``data/school/``). Place them in the data home by hand.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data home. By default ``SKMTL_DATA`` or ``~/skmtl_data``; see
        :func:`get_data_home`.

    download_if_missing : bool, default=False
        Accepted for symmetry with :func:`fetch_school`. There is no canonical
        location to download the splits from, so missing files always raise
        ``FileNotFoundError``, whatever this value.

    Returns
    -------
    splits : list of 10 tuples (train_idx, test_idx)
        0-based row indices (int arrays) into ``fetch_school().data``, usable
        as the ``cv`` argument of scikit-learn's model selection tools.

    Raises
    ------
    FileNotFoundError
        If a split file is missing.

    See Also
    --------
    fetch_school : the data these splits index.

    Examples
    --------
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn.linear_model import Ridge
    >>> from skmtl.datasets import fetch_school, fetch_school_splits
    >>> X, y = fetch_school(return_X_y=True)  # doctest: +SKIP
    >>> splits = fetch_school_splits()  # doctest: +SKIP
    >>> train, test = splits[0]  # doctest: +SKIP
    >>> len(train), len(test)  # doctest: +SKIP
    (11472, 3890)
    >>> scores = cross_val_score(Ridge(), X[:, :-1], y, cv=splits)  # doctest: +SKIP
    """
    folder = os.path.join(get_data_home(data_home), SPLITS_FOLDER)
    paths = [os.path.join(folder, f"school_{i}_indexes.mat") for i in range(1, N_SPLITS + 1)]
    missing = [os.path.basename(p) for p in paths if not os.path.exists(p)]
    if missing:
        note = " (download_if_missing=True cannot help)" if download_if_missing else ""
        raise FileNotFoundError(
            f"School split file(s) {', '.join(missing)} not found in {folder}. There "
            f"is no canonical download location for these files{note}: they are "
            "the splits of Argyriou, Evgeniou & Pontil (2008), from the authors' "
            "web site and redistributed e.g. in GitHub tjanez/PyMTL (data/school/). "
            "Copy school_1_indexes.mat ... school_10_indexes.mat into that folder, "
            "or set data_home / the SKMTL_DATA environment variable to a folder "
            f"holding {SPLITS_FOLDER}/."
        )
    return [_load_split(path) for path in paths]


def _load_split(path):
    mat = scipy.io.loadmat(path)
    if "tr" not in mat or "tst" not in mat:
        raise ValueError(f"{path} has no 'tr' and 'tst' index fields; is it a School split file?")
    # Stored as 1-based uint16; widen before shifting so 0 cannot wrap around.
    train, test = (np.asarray(mat[key], dtype=np.intp).ravel() - 1 for key in ("tr", "tst"))
    if min(train.min(initial=0), test.min(initial=0)) < 0:
        raise ValueError(f"{path} holds an index below 1; School split indices are 1-based.")
    return train, test
