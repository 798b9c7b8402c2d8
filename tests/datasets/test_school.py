"""fetch_school, fetch_school_splits and the data home.

The real files are read from ``SKMTL_DATA`` (CI and tests/conftest.py point it
at ``../shared/data`` next to the repository). Tests that need them skip when
they are absent; download tests use a local ``file://`` URL (no network).
"""

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from numpy.testing import assert_array_equal

import skmtl.datasets._school as school_module
from skmtl.datasets import fetch_school, fetch_school_splits, get_data_home

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_HOME = Path(os.environ.get("SKMTL_DATA") or REPO_ROOT / ".." / "shared" / "data").resolve()
SCHOOL_MAT = DATA_HOME / "school" / "school.mat"
SPLITS_DIR = DATA_HOME / "school_splits"

needs_school = pytest.mark.skipif(
    not SCHOOL_MAT.is_file(),
    reason=f"School data not found at {SCHOOL_MAT} (set SKMTL_DATA to the shared data folder)",
)
needs_splits = pytest.mark.skipif(
    not (SPLITS_DIR / "school_10_indexes.mat").is_file() or not (SPLITS_DIR / "school_b.mat").is_file(),
    reason=f"School splits not found in {SPLITS_DIR} (set SKMTL_DATA to the shared data folder)",
)

N_ROWS, N_TASKS, N_FEATURES = 15362, 139, 27


@pytest.fixture(scope="module")
def school():
    if not SCHOOL_MAT.is_file():
        pytest.skip(f"School data not found at {SCHOOL_MAT}")
    return fetch_school(data_home=DATA_HOME, download_if_missing=False)


# --------------------------------------------------------------------- data home


def test_get_data_home_argument_env_and_default(tmp_path, monkeypatch):
    target = tmp_path / "given" / "nested"
    assert get_data_home(target) == str(target)
    assert target.is_dir()  # created

    monkeypatch.setenv("SKMTL_DATA", str(tmp_path / "from_env"))
    assert get_data_home() == str(tmp_path / "from_env")
    assert (tmp_path / "from_env").is_dir()

    monkeypatch.delenv("SKMTL_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert get_data_home() == str(tmp_path / "home" / "skmtl_data")
    assert (tmp_path / "home" / "skmtl_data").is_dir()
    assert get_data_home("~/elsewhere") == str(tmp_path / "home" / "elsewhere")


# ------------------------------------------------------------------ fetch_school


@needs_school
def test_long_layout_shapes_and_tasks(school):
    assert school.data.shape == (N_ROWS, N_FEATURES + 1)
    assert school.data.dtype == np.float64
    assert school.target.shape == (N_ROWS,)
    assert school.tasks.shape == (N_ROWS,) and school.tasks.dtype.kind == "i"
    assert school.task_column == -1
    assert len(school.feature_names) == N_FEATURES + 1
    assert school.feature_names[-1] == "school"
    assert len(set(school.feature_names)) == N_FEATURES + 1
    assert_array_equal(school.data[:, -1], school.tasks)
    assert_array_equal(np.unique(school.tasks), np.arange(N_TASKS))
    sizes = np.bincount(school.tasks)
    assert sizes.min() == 22 and sizes.max() == 251 and sizes.sum() == N_ROWS
    assert "School" in school.DESCR and "task_column=-1" in school.DESCR
    assert school.frame is None


@needs_school
def test_ones_column_dropped_and_attributes(school):
    features = school.data[:, :-1]
    assert not np.any(np.all(features == 1, axis=0)), "the constant column must be dropped"
    names = school.feature_names[:-1]
    percent = [names.index("pct_free_school_meals"), names.index("pct_vr_band_1")]
    assert features[:, percent].max() > 1
    binary = np.delete(features, percent, axis=1)
    assert set(np.unique(binary)) == {0.0, 1.0}
    # Each block of indicators is one categorical variable.
    for prefix in ("year_", "gender_", "ethnic_"):
        block = [i for i, n in enumerate(names) if n.startswith(prefix)]
        assert_array_equal(features[:, block].sum(axis=1), 1)
    # The name inference the DESCR documents: girls' schools hold girls.
    girls_school = features[:, names.index("school_girls")] == 1
    assert np.all(features[girls_school, names.index("gender_female")] == 1)
    assert school.target.min() >= 1 and school.target.max() <= 70


@needs_school
def test_return_X_y_matches_bunch(school):
    X, y = fetch_school(data_home=DATA_HOME, return_X_y=True)
    assert_array_equal(X, school.data)
    assert_array_equal(y, school.target)


@needs_school
def test_lists_layout_agrees_with_long(school):
    bunch = fetch_school(data_home=DATA_HOME, layout="lists")
    assert len(bunch.data) == len(bunch.target) == N_TASKS
    assert bunch.feature_names == school.feature_names[:-1]
    for t in (0, 57, N_TASKS - 1):
        rows = school.tasks == t
        assert bunch.data[t].shape == (rows.sum(), N_FEATURES)
        assert_array_equal(bunch.data[t], school.data[rows, :-1])
        assert_array_equal(bunch.target[t], school.target[rows])
    assert_array_equal(np.vstack(bunch.data), school.data[:, :-1])
    assert_array_equal(np.concatenate(bunch.target), school.target)

    Xs, ys = fetch_school(data_home=DATA_HOME, layout="lists", return_X_y=True)
    assert [len(y) for y in ys] == [len(y) for y in bunch.target]
    assert_array_equal(Xs[3], bunch.data[3])


@needs_school
def test_as_frame(school):
    pd = pytest.importorskip("pandas")
    bunch = fetch_school(data_home=DATA_HOME, as_frame=True)
    assert isinstance(bunch.data, pd.DataFrame) and isinstance(bunch.target, pd.Series)
    assert list(bunch.data.columns) == school.feature_names
    assert bunch.task_column == "school" and bunch.data["school"].dtype.kind == "i"
    assert_array_equal(bunch.data.to_numpy(dtype=float), school.data)
    assert bunch.frame.shape == (N_ROWS, N_FEATURES + 2)
    assert_array_equal(bunch.frame["score"], school.target)

    Xs, ys = fetch_school(data_home=DATA_HOME, layout="lists", as_frame=True, return_X_y=True)
    assert list(Xs[0].columns) == school.feature_names[:-1] and ys[0].name == "score"


@needs_school
@needs_splits
def test_rows_identical_to_school_b(school):
    b = scipy.io.loadmat(SPLITS_DIR / "school_b.mat")
    assert_array_equal(b["x"].T[:, :N_FEATURES].astype(float), school.data[:, :-1])
    assert_array_equal(b["y"].ravel().astype(float), school.target)
    starts = b["task_indexes"].ravel().astype(int) - 1
    assert_array_equal(starts, np.searchsorted(school.tasks, np.arange(N_TASKS)))


@needs_school
def test_reads_default_data_home_from_env(monkeypatch, school):
    monkeypatch.setenv("SKMTL_DATA", str(DATA_HOME))
    assert_array_equal(fetch_school(download_if_missing=False).target, school.target)


def test_bad_layout():
    with pytest.raises(ValueError, match="layout must be 'long' or 'lists'; got layout='wide'"):
        fetch_school(layout="wide")


def test_missing_file_without_download(tmp_path):
    expected = tmp_path / "school" / "school.mat"
    with pytest.raises(FileNotFoundError, match="not found at") as info:
        fetch_school(data_home=tmp_path, download_if_missing=False)
    message = str(info.value)
    assert str(expected) in message
    assert school_module.SCHOOL_URL in message and "SKMTL_DATA" in message


def _leftovers(folder):
    return [p.name for p in Path(folder).iterdir() if p.name != "school.mat"]


@needs_school
def test_download_from_file_url(tmp_path, monkeypatch, school):
    monkeypatch.setattr(school_module, "SCHOOL_URL", SCHOOL_MAT.as_uri())
    bunch = fetch_school(data_home=tmp_path)
    written = tmp_path / "school" / "school.mat"
    assert written.is_file()
    assert hashlib.sha256(written.read_bytes()).hexdigest() == school_module.SCHOOL_SHA256
    assert _leftovers(written.parent) == []
    assert_array_equal(bunch.data, school.data)
    assert_array_equal(bunch.target, school.target)
    # Present now: no second download.
    monkeypatch.setattr(school_module, "SCHOOL_URL", (tmp_path / "absent.mat").as_uri())
    assert_array_equal(fetch_school(data_home=tmp_path).target, school.target)


@needs_school
def test_download_checksum_mismatch(tmp_path, monkeypatch):
    monkeypatch.setattr(school_module, "SCHOOL_URL", SCHOOL_MAT.as_uri())
    monkeypatch.setattr(school_module, "SCHOOL_SHA256", "0" * 64)
    with pytest.raises(OSError, match="SHA-256") as info:
        fetch_school(data_home=tmp_path)
    assert SCHOOL_MAT.as_uri() in str(info.value)
    folder = tmp_path / "school"
    assert not (folder / "school.mat").exists()
    assert _leftovers(folder) == []


def test_download_failure_names_url(tmp_path, monkeypatch):
    url = (tmp_path / "no_such_dir" / "school.mat").as_uri()
    monkeypatch.setattr(school_module, "SCHOOL_URL", url)
    with pytest.raises(OSError, match="Could not download") as info:
        fetch_school(data_home=tmp_path / "home")
    assert url in str(info.value)
    folder = tmp_path / "home" / "school"
    assert not (folder / "school.mat").exists()
    assert _leftovers(folder) == []


def test_unreadable_or_foreign_file(tmp_path):
    folder = tmp_path / "school"
    folder.mkdir()
    (folder / "school.mat").write_bytes(b"not a MATLAB file")
    with pytest.raises(ValueError, match="Could not read .* as a MATLAB file"):
        fetch_school(data_home=tmp_path)

    scipy.io.savemat(folder / "school.mat", {"A": np.ones(3)})
    with pytest.raises(ValueError, match=r"does not look like MALSAR's school.mat: expected cell arrays 'X' and 'Y', found \['A'\]"):
        fetch_school(data_home=tmp_path)

    cells_X = np.empty((1, 1), dtype=object)
    cells_Y = np.empty((1, 1), dtype=object)
    cells_X[0, 0], cells_Y[0, 0] = np.zeros((3, 28)), np.zeros((3, 1))  # no ones column
    scipy.io.savemat(folder / "school.mat", {"X": cells_X, "Y": cells_Y})
    with pytest.raises(ValueError, match=r"task 0 has X of shape \(3, 28\)"):
        fetch_school(data_home=tmp_path)


# ----------------------------------------------------------- fetch_school_splits


@needs_splits
def test_official_splits():
    splits = fetch_school_splits(data_home=DATA_HOME)
    assert len(splits) == 10
    starts = scipy.io.loadmat(SPLITS_DIR / "school_b.mat")["task_indexes"].ravel().astype(int) - 1
    tasks = np.repeat(np.arange(N_TASKS), np.diff(np.r_[starts, N_ROWS]))
    previous = None
    for train, test in splits:
        assert train.dtype.kind == "i" and test.dtype.kind == "i"
        assert len(train) == 11472 and len(test) == 3890
        assert np.intersect1d(train, test).size == 0
        assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(N_ROWS))
        assert_array_equal(np.unique(tasks[train]), np.arange(N_TASKS))
        assert_array_equal(np.unique(tasks[test]), np.arange(N_TASKS))
        if previous is not None:
            assert not np.array_equal(np.sort(train), np.sort(previous))
        previous = train


@needs_school
@needs_splits
def test_splits_index_fetch_school_rows(school):
    train, test = fetch_school_splits(data_home=DATA_HOME)[0]
    # A split is usable directly as cv= with the long layout.
    assert school.data[train].shape == (11472, N_FEATURES + 1)
    assert_array_equal(np.unique(school.tasks[test]), np.arange(N_TASKS))


def test_splits_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="no canonical download location") as info:
        fetch_school_splits(data_home=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "school_splits") in message and "school_1_indexes.mat" in message
    with pytest.raises(FileNotFoundError, match=r"download_if_missing=True cannot help"):
        fetch_school_splits(data_home=tmp_path, download_if_missing=True)


def _write_splits(folder, **fields):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(1, 11):
        scipy.io.savemat(folder / f"school_{i}_indexes.mat", fields)


def test_splits_bad_files(tmp_path):
    _write_splits(tmp_path / "school_splits", tr=np.arange(1, 4), other=np.arange(4, 6))
    with pytest.raises(ValueError, match="has no 'tr' and 'tst' index fields"):
        fetch_school_splits(data_home=tmp_path)

    _write_splits(tmp_path / "school_splits", tr=np.arange(0, 4), tst=np.arange(4, 6))
    with pytest.raises(ValueError, match="index below 1; School split indices are 1-based"):
        fetch_school_splits(data_home=tmp_path)

    _write_splits(tmp_path / "school_splits", tr=np.array([[1, 2, 3]], dtype=np.uint16), tst=np.array([[4, 5]]))
    train, test = fetch_school_splits(data_home=tmp_path)[0]
    assert_array_equal(train, [0, 1, 2])
    assert_array_equal(test, [3, 4])
