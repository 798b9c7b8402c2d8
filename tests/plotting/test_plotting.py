"""skmtl.plotting: every plot renders to a PNG and shows what it claims."""

import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib", reason="plotting needs the optional matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from sklearn.linear_model import RidgeCV  # noqa: E402

from skmtl.datasets import make_clustered_multitask  # noqa: E402
from skmtl.model_selection import (  # noqa: E402
    ComparisonResult,
    TaskStratifiedShuffleSplit,
    compare_with_single_task,
)
from skmtl.multitask import PooledTasks  # noqa: E402
from skmtl.plotting import (  # noqa: E402
    plot_coef_sparsity,
    plot_regularization_path,
    plot_task_gains,
    plot_task_similarity,
)
from skmtl.plotting._plots import HELPED_COLOR, HURT_COLOR, NEUTRAL_COLOR  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _save(ax, tmp_path, name):
    path = tmp_path / name
    ax.figure.savefig(path)
    assert path.exists() and path.stat().st_size > 5000  # a real image, not an empty canvas
    return path


def _bar_colors(ax):
    return [to_hex(patch.get_facecolor(), keep_alpha=False) for patch in ax.patches]


@pytest.fixture(scope="module")
def result():
    """A synthetic result: task 0 helped, task 2 hurt, task 1 unchanged (5 splits)."""
    rng = np.random.RandomState(0)
    independent = 0.6 + 0.01 * rng.randn(5, 4)
    model = independent + np.array([0.2, 0.0, -0.3, 0.01]) + 0.01 * rng.randn(5, 4)
    pooled = independent - 0.1
    scores = np.stack([independent, pooled, model])
    return ComparisonResult(
        ["independent", "pooled", "mtl"], np.array(["a", "b", "c", "d"]), scores, "r2", True,
        {"independent": "independent", "pooled": "pooled"}, np.full(4, 1 / 3), np.zeros((3, 5)),
    )


def test_task_gains_highlights_hurt_and_helped_tasks(result, tmp_path):
    assert result.hurt_tasks("mtl").tolist() == ["c"]
    assert "a" in result.helped_tasks("mtl")
    ax = plot_task_gains(result)  # the non-baseline model by default
    assert len(ax.patches) == 4
    colors = _bar_colors(ax)
    assert colors[2] == HURT_COLOR and colors[0] == HELPED_COLOR and colors[1] == NEUTRAL_COLOR
    heights = [patch.get_height() for patch in ax.patches]
    np.testing.assert_allclose(heights, result.gain_vs_independent[2])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c", "d"]
    assert ax.get_title().startswith("mtl:") and "1 hurt" in ax.get_title()
    _save(ax, tmp_path, "gains.png")


def test_task_gains_sorted_and_against_pooled(result, tmp_path):
    ax = plot_task_gains(result, "mtl", sort=True)
    heights = [patch.get_height() for patch in ax.patches]
    assert heights == sorted(heights)
    assert _bar_colors(ax)[0] == HURT_COLOR  # the most negative bar first
    ax = plot_task_gains(result, "mtl", reference="pooled")
    assert "over pooled" in ax.get_ylabel()
    np.testing.assert_allclose([p.get_height() for p in ax.patches], result.gain_vs_pooled[2])
    _save(ax, tmp_path, "gains_pooled.png")


def test_task_gains_of_a_real_comparison_with_a_lower_is_better_metric(tmp_path):
    X, y, truth = make_clustered_multitask(
        n_samples=30, n_features=5, n_tasks=5, n_clusters=1, n_unrelated_tasks=1,
        noise=0.5, layout="long", random_state=0,
    )
    res = compare_with_single_task(
        {"onehot": PooledTasks(RidgeCV(), task_column=-1, task_features="onehot")},
        X, y, task_column=-1, scoring="rmse",
    )
    ax = plot_task_gains(res, "onehot")
    assert len(ax.patches) == 6
    hurt = [c == HURT_COLOR for c in _bar_colors(ax)]
    assert hurt == res.hurt[res.models.index("onehot")].tolist()
    _save(ax, tmp_path, "rmse_gains.png")



def test_many_tasks_hide_their_tick_labels(tmp_path):
    # Past 60 tasks labels are unreadable; numbered default ticks would read
    # as task labels although they are positions (ranks once sorted).
    X, y, _ = make_clustered_multitask(
        n_samples=8, n_features=3, n_tasks=70, n_clusters=1, layout="long", random_state=0
    )
    res = compare_with_single_task(
        {"onehot": PooledTasks(RidgeCV(), task_column=-1, task_features="onehot")},
        X, y, task_column=-1, cv=TaskStratifiedShuffleSplit(2, test_size=0.5, task_column=-1,
                                                             random_state=0),
    )
    ax = plot_task_gains(res, "onehot", sort=True)
    assert len(ax.patches) == 70
    assert list(ax.get_xticks()) == []
    assert ax.get_xlabel() == "70 tasks, sorted by gain"
    ax = plot_task_similarity(np.eye(70))
    assert list(ax.get_xticks()) == [] and list(ax.get_yticks()) == []
    _save(ax, tmp_path, "many.png")

def _with_gains(result, *gains):
    """``result``'s independent and pooled scores and one model per mean gain."""
    base = result.scores[0]
    return ComparisonResult(
        ["independent", "pooled", *(f"m{g:+g}" for g in gains)], result.tasks,
        np.stack([base, base - 0.2, *(base + g + 0.01 * np.arange(4) for g in gains)]),
        "r2", True, {"independent": "independent", "pooled": "pooled"},
        result.test_train_ratio, np.zeros((2 + len(gains), 5)),
    )


def test_task_gains_title_says_when_no_model_helps_and_error_bars_are_labelled(result):
    ax = plot_task_gains(_with_gains(result, 0.1, -0.1))
    assert ax.get_title().startswith("m+0.1: 4 task(s) helped")
    assert "\n" not in ax.get_title()  # it gains: nothing to add
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend[-1] == "±1 std of the gain over the 5 splits"
    # Every model worse than independent: the best of them is still drawn,
    # and the title says that none helps.
    worse = _with_gains(result, -0.1, -0.3)
    ax = plot_task_gains(worse)
    assert ax.get_title().startswith("m-0.1: 0 task(s) helped, 4 hurt")
    assert ax.get_title().endswith("no model improves on independent on average; the least bad is shown")
    ax = plot_task_gains(worse, "m-0.3")
    assert ax.get_title().endswith("no gain over independent on average (mean gain -0.285)")


def test_task_gains_errors(result):
    with pytest.raises(ValueError, match="No model 'lasso'"):
        plot_task_gains(result, "lasso")
    with pytest.raises(ValueError, match='reference must be "independent" or "pooled"'):
        plot_task_gains(result, "mtl", reference="best")
    no_pooled = ComparisonResult(
        result.models, result.tasks, result.scores, "r2", True,
        {"independent": "independent", "pooled": None}, result.test_train_ratio, result.fit_times,
    )
    with pytest.raises(ValueError, match="no pooled reference"):
        plot_task_gains(no_pooled, "mtl", reference="pooled")


def test_task_similarity_is_ordered_by_cluster(tmp_path):
    clusters = np.array([1, 0, 1, 0, 2])
    rng = np.random.RandomState(0)
    A = rng.rand(5, 5)
    S = (A + A.T) / 2
    ax = plot_task_similarity(S, labels=list("vwxyz"), clusters=clusters)
    order = [1, 3, 0, 2, 4]
    np.testing.assert_allclose(ax.images[0].get_array(), S[np.ix_(order, order)])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["w", "y", "v", "x", "z"]
    blocks = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert [(b.get_width()) for b in blocks] == [2, 2, 1]
    assert "3 clusters" in ax.get_title()
    assert ax.images[0].get_cmap().name == "viridis"
    _save(ax, tmp_path, "similarity.png")


def test_task_covariance_with_negative_entries_is_centered_on_zero(tmp_path):
    C = np.array([[1.0, -0.5, 0.2], [-0.5, 2.0, 0.0], [0.2, 0.0, 1.0]])
    ax = plot_task_similarity(C, colorbar=False, title="Learned task covariance")
    image = ax.images[0]
    assert image.get_cmap().name == "RdBu_r"
    assert image.get_clim() == (-2.0, 2.0)
    assert ax.get_title() == "Learned task covariance"
    _save(ax, tmp_path, "covariance.png")


def test_task_similarity_errors():
    with pytest.raises(ValueError, match="must be square"):
        plot_task_similarity(np.ones((2, 3)))
    with pytest.raises(ValueError, match="clusters has 2 entries; expected 3"):
        plot_task_similarity(np.eye(3), clusters=[0, 1])
    with pytest.raises(ValueError, match="labels has 4 entries; expected 3"):
        plot_task_similarity(np.eye(3), labels=list("abcd"))


def test_regularization_path(tmp_path):
    rng = np.random.RandomState(0)
    alphas = np.logspace(1, -2, 8)
    coefs = rng.randn(8, 3, 5)  # (n_alphas, n_tasks, n_features)
    ax = plot_regularization_path(alphas, coefs, feature_names=list("abcde"))
    assert len(ax.lines) == 5 + 1  # one norm per feature, plus the zero line
    order = np.argsort(alphas)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), np.linalg.norm(coefs[order, :, 0], axis=1))
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list("abcde")
    _save(ax, tmp_path, "path.png")
    # Every coefficient, features sharing a color across tasks.
    ax = plot_regularization_path(alphas, coefs, norm=None)
    assert len(ax.lines) == 15 + 1
    assert ax.lines[0].get_color() == ax.lines[5].get_color()
    # scikit-learn's order (alphas last) is recognized; a single task is 2-D.
    ax = plot_regularization_path(alphas, coefs[:, 0, :].T)
    np.testing.assert_allclose(ax.lines[2].get_ydata(), coefs[order, 0, 2])


def test_regularization_path_errors():
    with pytest.raises(ValueError, match="there are 3 alphas"):
        plot_regularization_path([1.0, 0.1, 0.01], np.ones((4, 2)))
    with pytest.raises(ValueError, match="alphas must be positive"):
        plot_regularization_path([1.0, 0.0], np.ones((2, 2)))
    with pytest.raises(ValueError, match="coefs must be"):
        plot_regularization_path([1.0], np.ones(3))
    with pytest.raises(ValueError, match="norm must be"):
        plot_regularization_path([1.0], np.ones((1, 2)), norm="l1")


def test_coef_sparsity(tmp_path):
    coef = np.zeros((4, 12))
    coef[:, [0, 3, 7]] = np.random.RandomState(0).randn(4, 3)
    coef[1, 5] = 1e-9  # below tol: drawn as zero
    ax = plot_coef_sparsity(coef, tol=1e-6, task_names=list("abcd"))
    shown = ax.images[0].get_array()
    np.testing.assert_array_equal(~np.ma.getmaskarray(shown), np.abs(coef) > 1e-6)
    assert ax.get_title() == "3 of 12 features used; 12 nonzero coefficients"
    assert [t.get_text() for t in ax.get_yticklabels()] == list("abcd")
    _save(ax, tmp_path, "sparsity.png")
    with pytest.raises(ValueError, match="coef must be"):
        plot_coef_sparsity(np.ones((2, 2, 2)))


def test_draws_on_a_given_axes():
    fig, axes = plt.subplots(1, 2)
    assert plot_coef_sparsity(np.eye(3), ax=axes[1]) is axes[1]
    assert plot_task_similarity(np.eye(3), ax=axes[0], colorbar=False) is axes[0]


def test_missing_matplotlib_is_a_clear_error(result, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="plot_task_gains requires matplotlib"):
        plot_task_gains(result, "mtl")
    with pytest.raises(ImportError, match="plot_coef_sparsity requires matplotlib"):
        plot_coef_sparsity(np.eye(2))
