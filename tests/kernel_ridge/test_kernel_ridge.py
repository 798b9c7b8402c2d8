"""MultiTaskKernelRidge(+CV, Classifier): reference equivalences, layouts, errors."""

import pickle
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.kernel_approximation import Nystroem
from sklearn.kernel_ridge import KernelRidge
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmtl.kernel_ridge import (
    MultiTaskKernelRidge,
    MultiTaskKernelRidgeClassifier,
    MultiTaskKernelRidgeCV,
    clustered_task_kernel,
    independent_task_kernel,
    mean_regularized_task_kernel,
    pooled_task_kernel,
)
from skmtl.metrics import task_r2_scorer
from skmtl.model_selection import TaskStratifiedKFold
from skmtl.model_selection._split import check_task_cv


def _wide(n=30, T=3, seed=0, missing=0.0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    common = np.sin(X[:, 0]) + 0.5 * X[:, 1]
    Y = common[:, None] + 0.3 * rng.randn(n, T) * X[:, [2]] + 0.1 * rng.randn(n, T)
    if missing:
        Y[rng.rand(n, T) < missing] = np.nan
    return X, Y


def _to_long(X, Y):
    rows, tasks = np.nonzero(~np.isnan(Y))
    return np.column_stack([X[rows], tasks]), Y[rows, tasks]


# ----------------------------------------------------------- references
@pytest.mark.parametrize("missing", [0.0, 0.2])
@pytest.mark.parametrize("solver", ["auto", "cg"])
def test_independent_equals_per_task_kernel_ridge(missing, solver):
    X, Y = _wide(missing=missing)
    model = MultiTaskKernelRidge(0.3, task_kernel="independent", solver=solver, tol=1e-12).fit(X, Y)
    assert model.solver_ == ("eigen" if solver == "auto" and not missing else model.solver_)
    pred = model.predict(X)
    for t in range(Y.shape[1]):
        seen = ~np.isnan(Y[:, t])
        ref = KernelRidge(alpha=0.3, kernel="rbf").fit(X[seen], Y[seen, t])
        np.testing.assert_allclose(pred[:, t], ref.predict(X), rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(model.dual_coef_[seen, t], ref.dual_coef_, rtol=1e-7, atol=1e-10)
        assert np.all(model.dual_coef_[~seen, t] == 0)


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_pooled_equals_one_kernel_ridge_on_all_labels(layout):
    X, Y = _wide(missing=0.2)
    Xl, yl = _to_long(X, Y)
    ref = KernelRidge(alpha=0.5, kernel="rbf", gamma=0.5).fit(Xl[:, :-1], yl)
    model = MultiTaskKernelRidge(0.5, gamma=0.5, task_kernel="pooled")
    if layout == "wide":
        pred = model.fit(X, Y).predict(X)
        np.testing.assert_allclose(pred, np.tile(ref.predict(X)[:, None], 3), rtol=1e-8)
    else:
        model.set_params(task_column=-1).fit(Xl, yl)
        np.testing.assert_allclose(model.predict(Xl), ref.predict(Xl[:, :-1]), rtol=1e-8)
        np.testing.assert_allclose(model.dual_coef_, ref.dual_coef_, rtol=1e-8)


def test_wide_equals_long_layout():
    # celer-style: the long layout built from the wide one gives the same model.
    X, Y = _wide(missing=0.25)
    Xl, yl = _to_long(X, Y)
    perm = np.random.RandomState(0).permutation(len(yl))
    Xl, yl = Xl[perm], yl[perm]
    params = dict(alpha=0.2, task_kernel="mean_regularized", task_mixing=0.3)
    wide = MultiTaskKernelRidge(**params).fit(X, Y)
    long = MultiTaskKernelRidge(**params, task_column=3).fit(Xl, yl)
    rows, tasks = np.nonzero(~np.isnan(Y))
    np.testing.assert_allclose(long.predict(Xl), wide.predict(Xl[:, :3])[np.arange(len(yl)), Xl[:, 3].astype(int)], rtol=1e-8)
    np.testing.assert_allclose(long.dual_coef_, wide.dual_coef_[rows, tasks][perm], rtol=1e-8)


@pytest.mark.parametrize("missing", [0.0, 0.2])
def test_solvers_agree(missing):
    X, Y = _wide(n=25, T=4, missing=missing)
    K = mean_regularized_task_kernel(4, 0.2)
    fits = {
        s: MultiTaskKernelRidge(0.1, task_kernel=K, solver=s, tol=1e-13).fit(X, Y).dual_coef_
        for s in (["eigen"] if not missing else []) + ["dense", "cg"]
    }
    ref = fits["dense"]
    for s, A in fits.items():
        assert np.linalg.norm(A - ref) / np.linalg.norm(ref) < 1e-8, s


def test_sample_weight_equals_kernel_ridge_and_task_weight_scales_alpha():
    X, Y = _wide()
    sw = np.random.RandomState(2).uniform(0.1, 3, len(X))
    w = np.array([1.0, 2.0, 0.5])
    model = MultiTaskKernelRidge(0.4, task_kernel="independent", task_weights=w).fit(X, Y, sample_weight=sw)
    for t in range(3):
        # sum_i w_t s_i r_i^2 + alpha ||f||^2  ==  KernelRidge(alpha / w_t).
        ref = KernelRidge(alpha=0.4 / w[t], kernel="rbf").fit(X, Y[:, t], sample_weight=sw)
        np.testing.assert_allclose(model.predict(X)[:, t], ref.predict(X), rtol=1e-8)
    balanced = MultiTaskKernelRidge(task_weights="balanced").fit(X, Y)
    assert np.allclose(balanced.predict(X), MultiTaskKernelRidge().fit(X, Y).predict(X))


def test_integer_sample_weight_equals_duplicated_rows():
    X, Y = _wide(n=20, missing=0.1)
    sw = np.random.RandomState(0).randint(1, 3, len(X))
    rep = np.repeat(np.arange(len(X)), sw)
    a = MultiTaskKernelRidge(0.3).fit(X, Y, sample_weight=sw)
    b = MultiTaskKernelRidge(0.3).fit(X[rep], Y[rep])
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-8)


def test_sharing_helps_related_tasks():
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, (200, 1))
    f = np.sin(X[:, 0])
    Y = f[:, None] + 0.3 * rng.randn(200, 5)
    Y[10:, :] = np.nan  # each task has 10 labels; the tasks are identical
    Y[np.arange(10, 200), np.arange(10, 200) % 5] = f[10:] + 0.3 * rng.randn(190)
    err = {}
    for kind in ["independent", "mean_regularized"]:
        pred = MultiTaskKernelRidge(0.5, task_kernel=kind, task_mixing=0.1).fit(X, Y).predict(X)
        err[kind] = np.mean((pred - f[:, None]) ** 2)
    assert err["mean_regularized"] < 0.7 * err["independent"]


def test_linear_kernel_mean_regularized_equals_primal_penalty():
    # Stand-in for MeanRegularizedRegressor (not landed): the documented
    # primal penalty (1/lam) sum ||w_t - wbar||^2 + T/(lam + (1-lam)T) ||wbar||^2,
    # solved in closed form, gives the same predictions as the kernel model.
    X, Y = _wide(n=30, T=3)
    T, d, lam, alpha = 3, X.shape[1], 0.3, 0.7
    J = np.ones((T, T))
    P = (np.eye(T) - J / T) / lam + T / (lam + (1 - lam) * T) * J / T**2
    # Normal equations: X'X W + alpha W P = X'Y, vec column-major.
    lhs = np.kron(np.eye(T), X.T @ X) + alpha * np.kron(P, np.eye(d))
    W = np.linalg.solve(lhs, (X.T @ Y).ravel(order="F")).reshape((d, T), order="F")
    model = MultiTaskKernelRidge(alpha, kernel="linear", task_kernel="mean_regularized", task_mixing=lam).fit(X, Y)
    np.testing.assert_allclose(model.predict(X), X @ W, rtol=1e-8)


# ----------------------------------------------------------- learned
def test_learned_task_covariance_decreases_objective_and_is_fixed_point():
    X, Y = _wide(T=4)
    model = MultiTaskKernelRidge(0.1, task_kernel="learned", task_tol=1e-8, max_task_iter=500).fit(X, Y)
    obj = np.array(model._objectives)
    assert np.all(np.diff(obj) <= 1e-10 * obj[0])
    Omega = model.task_covariance_
    assert np.trace(Omega) == pytest.approx(1.0)
    assert model.objective_ == pytest.approx(obj[-1])
    # Re-solving with the learned Omega fixed gives the same model.
    fixed = MultiTaskKernelRidge(0.1, task_kernel=Omega).fit(X, Y)
    np.testing.assert_allclose(fixed.predict(X), model.predict(X), rtol=1e-10)
    # Missing labels: same alternation through the dense/CG solvers.
    Xm, Ym = _wide(T=4, missing=0.2)
    learned = MultiTaskKernelRidge(0.1, task_kernel="learned", solver="cg", tol=1e-10).fit(Xm, Ym)
    assert np.all(np.diff(learned._objectives) <= 1e-8 * learned._objectives[0])
    with pytest.warns(ConvergenceWarning, match="max_task_iter=2"):
        early = MultiTaskKernelRidge(task_kernel="learned", max_task_iter=2).fit(X, Y)
    # The reported covariance is the kernel of the returned dual solution.
    same = MultiTaskKernelRidge(task_kernel=early.task_covariance_).fit(X, Y)
    np.testing.assert_allclose(same.predict(X), early.predict(X), rtol=1e-10)


def test_learned_clusters_recover_planted_groups():
    rng = np.random.RandomState(0)
    X = rng.uniform(-3, 3, (80, 1))
    funcs = [np.sin(X[:, 0]), np.cos(X[:, 0])]
    groups = np.array([0, 1, 0, 1, 1, 0])
    Y = np.column_stack([funcs[g] + 0.1 * rng.randn(80) for g in groups])
    model = MultiTaskKernelRidge(0.1, task_kernel="clustered", task_clusters=2, random_state=0).fit(X, Y)
    same = model.task_clusters_[:, None] == model.task_clusters_[None, :]
    np.testing.assert_array_equal(same, groups[:, None] == groups[None, :])
    given = MultiTaskKernelRidge(0.1, task_kernel="clustered", task_clusters=groups).fit(X, Y)
    np.testing.assert_allclose(model.predict(X), given.predict(X), rtol=1e-10)


# ----------------------------------------------------------- Nystroem
def test_nystroem_features_match_sklearn_and_converge():
    X, Y = _wide(n=60, missing=0.1)
    model = MultiTaskKernelRidge(0.1, gamma=0.3, n_components=20, random_state=0).fit(X, Y)
    ref = Nystroem(gamma=0.3, n_components=20, random_state=0).fit(X)
    np.testing.assert_allclose(model._features(X), ref.transform(X), rtol=1e-8, atol=1e-10)
    exact = MultiTaskKernelRidge(0.1, gamma=0.3).fit(X, Y).predict(X)
    errors = [
        np.abs(MultiTaskKernelRidge(0.1, gamma=0.3, n_components=m, random_state=0).fit(X, Y).predict(X) - exact).max()
        for m in (5, 20, 40, 60)
    ]
    assert errors[0] > errors[1] > errors[2] > errors[3]
    assert errors[-1] < 1e-6
    # Full labels: eigen solver on the low-rank Gram.
    Xf, Yf = _wide(n=60)
    full = MultiTaskKernelRidge(0.1, n_components=60, random_state=0).fit(Xf, Yf)
    assert full.solver_ == "eigen"
    np.testing.assert_allclose(full.predict(Xf), MultiTaskKernelRidge(0.1).fit(Xf, Yf).predict(Xf), atol=1e-6)


# ----------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "params, match",
    [
        ({"task_kernel": np.array([[1.0, 2, 0], [2, 1, 0], [0, 0, 1]])}, "positive semi-definite"),
        ({"task_kernel": np.eye(2)}, r"has shape \(2, 2\) but the data have 3 task"),
        ({"task_kernel": np.full((3, 3), np.nan)}, "NaN or infinite"),
        ({"kernel": lambda A, B: np.ones((len(A), 2))}, r"callable returned an array of shape \(30, 2\); expected \(30, 30\)"),
        ({"kernel": lambda A, B: np.full((len(A), len(B)), np.nan)}, "NaN, infinite"),
        ({"task_kernel": "graph"}, "requires task_graph"),
        ({"task_kernel": "graph", "task_graph": np.ones((2, 2))}, r"task_graph has shape \(2, 2\)"),
        ({"task_kernel": "clustered"}, "requires task_clusters"),
        ({"task_kernel": "clustered", "task_clusters": [0, 1]}, "one label per task"),
        ({"task_kernel": "graph", "task_graph": np.ones((3, 3)), "task_mixing": 0.0}, r"in \(0, 1\]"),
        ({"task_weights": [1.0, 2.0]}, r"task_weights must have shape \(n_tasks,\) = \(3,\)"),
        ({"task_weights": [1.0, -2.0, 1.0]}, "nonnegative"),
        ({"solver": "eigen"}, "solver='eigen' needs every label observed"),
        ({"alpha": 0.0}, "alpha"),
        ({"task_kernel": "nope"}, "task_kernel"),
    ],
)
def test_errors(params, match):
    X, Y = _wide(missing=0.1)
    with pytest.raises(ValueError, match=match):
        MultiTaskKernelRidge(**params).fit(X, Y)


def test_input_errors():
    X, Y = _wide()
    Xnan = X.copy()
    Xnan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MultiTaskKernelRidge().fit(Xnan, Y)
    with pytest.raises(ValueError, match="sample_weight must be nonnegative"):
        MultiTaskKernelRidge().fit(X, Y, sample_weight=-np.ones(len(X)))
    Xl, yl = _to_long(X, Y)
    model = MultiTaskKernelRidge(task_column=-1).fit(Xl, yl)
    with pytest.raises(ValueError, match="Unknown task label"):
        model.predict(np.column_stack([X[:2], [0, 7]]))
    with pytest.raises(ValueError, match="has no labeled rows"):
        Ybad = Y.copy()
        Ybad[:, 1] = np.nan
        MultiTaskKernelRidge().fit(X, Ybad)


# ----------------------------------------------------------- sklearn plumbing
def test_float32_kept_and_close_to_float64():
    X, Y = _wide()
    m32 = MultiTaskKernelRidge(0.5).fit(X.astype(np.float32), Y)
    m64 = MultiTaskKernelRidge(0.5).fit(X, Y)
    assert m32.dual_coef_.dtype == np.float32
    pred = m32.predict(X.astype(np.float32))
    assert pred.dtype == np.float32
    np.testing.assert_allclose(pred, m64.predict(X), rtol=1e-4, atol=1e-4)


def test_inputs_not_modified_and_refit_identical():
    X, Y = _wide(missing=0.2)
    sw = np.ones(len(X))
    K = mean_regularized_task_kernel(3, 0.5)
    copies = [a.copy() for a in (X, Y, sw, K)]
    model = MultiTaskKernelRidge(task_kernel=K, task_weights="balanced")
    p1 = model.fit(X, Y, sample_weight=sw).predict(X)
    p2 = model.fit(X, Y, sample_weight=sw).predict(X)
    np.testing.assert_array_equal(p1, p2)
    for a, b in zip((X, Y, sw, K), copies):
        np.testing.assert_array_equal(a, b)


def test_pipeline_gridsearch_pickle_and_dataframe():
    X, Y = _wide(n=40)
    pipe = make_pipeline(StandardScaler(), MultiTaskKernelRidge())
    search = GridSearchCV(pipe, {"multitaskkernelridge__alpha": [0.1, 1.0]}, cv=3).fit(X, Y)
    assert search.best_params_["multitaskkernelridge__alpha"] in (0.1, 1.0)
    model = MultiTaskKernelRidge(task_kernel="learned").fit(X, Y)
    clone = pickle.loads(pickle.dumps(model))
    # Equal up to BLAS rounding (memory alignment changes summation order).
    np.testing.assert_allclose(clone.predict(X), model.predict(X), rtol=1e-12)
    # Long layout from a DataFrame with string task names.
    Xl, yl = _to_long(X, Y)
    df = pd.DataFrame(Xl[:, :3], columns=["a", "b", "c"])
    df["school"] = np.array(["s0", "s1", "s2"])[Xl[:, 3].astype(int)]
    long = MultiTaskKernelRidge(task_column="school").fit(df, yl)
    assert list(long.tasks_) == ["s0", "s1", "s2"]
    new = pd.DataFrame({"a": [0.0], "b": [0.0], "c": [0.0], "school": ["s2"]})
    assert long.predict(new).shape == (1,)


# ----------------------------------------------------------- CV
def test_cv_loo_matches_brute_force_and_refits_best_alpha():
    X, Y = _wide(n=15, T=2)
    alphas = [0.01, 0.3, 3.0]
    cv = MultiTaskKernelRidgeCV(alphas, task_kernel="mean_regularized").fit(X, Y)
    rows, tasks = np.nonzero(np.ones(Y.shape, bool))
    brute = []
    for alpha in alphas:
        sq = []
        for i, t in zip(rows, tasks):
            Yk = Y.copy()
            Yk[i, t] = np.nan
            pred = MultiTaskKernelRidge(alpha, solver="dense").fit(X, Yk).predict(X[i : i + 1])[0, t]
            sq.append((Y[i, t] - pred) ** 2)
        brute.append(-np.mean(sq))
    np.testing.assert_allclose(cv.cv_scores_, brute, rtol=1e-7)
    assert cv.alpha_ == alphas[int(np.argmax(brute))]
    np.testing.assert_allclose(cv.predict(X), MultiTaskKernelRidge(cv.alpha_).fit(X, Y).predict(X), rtol=1e-10)


def test_cv_missing_labels_long_layout_and_kfold():
    X, Y = _wide(n=15, T=2, missing=0.2)
    Xl, yl = _to_long(X, Y)
    alphas = [0.05, 1.0]
    wide = MultiTaskKernelRidgeCV(alphas).fit(X, Y)
    long = MultiTaskKernelRidgeCV(alphas, task_column=-1).fit(Xl, yl)
    np.testing.assert_allclose(wide.cv_scores_, long.cv_scores_, rtol=1e-8)
    # Brute force for one alpha: refit without each label, predict it.
    brute = []
    for i, t in np.argwhere(~np.isnan(Y)):
        Yk = Y.copy()
        Yk[i, t] = np.nan
        pred = MultiTaskKernelRidge(alphas[0]).fit(X, Yk).predict(X[i : i + 1])[0, t]
        brute.append((Y[i, t] - pred) ** 2)
    assert wide.cv_scores_[0] == pytest.approx(-np.mean(brute), rel=1e-7)
    kfold = MultiTaskKernelRidgeCV(alphas, cv=3).fit(X, Y)
    assert kfold.alpha_ in alphas and kfold.cv_scores_.shape == (2,)
    learned = MultiTaskKernelRidgeCV(alphas, task_kernel="learned").fit(X, Y)
    assert learned.task_covariance_.shape == (2, 2)
    with pytest.raises(ValueError, match="alphas must be"):
        MultiTaskKernelRidgeCV([0.0, 1.0]).fit(X, Y)



def test_cv_scoring_chooses_by_the_given_scorer_on_folds():
    X, Y = _wide(n=30, T=3, missing=0.2)
    Xl, yl = _to_long(X, Y)
    alphas = [1e-3, 1.0, 100.0]
    search = MultiTaskKernelRidgeCV(alphas, task_column=-1, scoring=task_r2_scorer, cv=3).fit(Xl, yl)
    folds = list(check_task_cv(3, -1).split(Xl, yl))
    expected = [
        np.mean([task_r2_scorer(MultiTaskKernelRidge(a, task_column=-1).fit(Xl[tr], yl[tr]), Xl[te], yl[te])
                 for tr, te in folds])
        for a in alphas
    ]  # fmt: skip
    assert_allclose(search.cv_scores_, expected, rtol=1e-8)
    assert search.alpha_ == alphas[int(np.argmax(expected))]
    # Without cv, a scoring switches from the closed-form leave-one-out to folds.
    assert MultiTaskKernelRidgeCV(alphas, task_column=-1, scoring="r2").fit(Xl, yl).cv_scores_.max() <= 1.0


def test_cv_nystroem_long_layout_solves_by_task_blocks():
    # The leave-one-out of a Nystroem model with a group task kernel runs by
    # per-task blocks (no N x N factorization) and its solve is the refit:
    # the same scores as the dense route (the same kernel as a matrix) and
    # the same predictions as a conjugate-gradient fit at alpha_.
    X, Y = _wide(n=40, T=4, missing=0.3)
    Xl, yl = _to_long(X, Y)
    params = dict(alphas=[0.01, 0.3, 3.0], task_column=-1, n_components=15, random_state=0, task_mixing=0.3)
    blocks = MultiTaskKernelRidgeCV(**params).fit(Xl, yl)
    assert blocks.solver_ == "blocks"
    matrix = mean_regularized_task_kernel(4, 0.3)
    dense = MultiTaskKernelRidgeCV(**params, task_kernel=matrix).fit(Xl, yl)
    np.testing.assert_allclose(blocks.cv_scores_, dense.cv_scores_, rtol=1e-9)
    refit = MultiTaskKernelRidge(
        blocks.alpha_, task_column=-1, n_components=15, random_state=0, task_mixing=0.3, solver="cg", tol=1e-12
    ).fit(Xl, yl)
    np.testing.assert_allclose(blocks.predict(Xl), refit.predict(Xl), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("cv", [None, 3])
def test_cv_bad_input_is_reported_before_the_grid_search(cv):
    # With cv=3 the grid search used to swallow these as "All the 9 fits failed".
    X, Y = _wide(n=15, T=2)
    with pytest.raises(ValueError, match="requires y to be passed, but the target y is None"):
        MultiTaskKernelRidgeCV(cv=cv).fit(X, None)
    with pytest.raises(ValueError, match="sample_weight must be nonnegative"):
        MultiTaskKernelRidgeCV(cv=cv).fit(X, Y, sample_weight=-np.ones(len(X)))
    Xnan = X.copy()
    Xnan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MultiTaskKernelRidgeCV(cv=cv).fit(Xnan, Y)


def test_cv_grid_search_splits_within_tasks_in_the_long_layout():
    # A learned task kernel is tuned by K-fold CV; on long data sorted by
    # task, an unshuffled row-wise KFold would hold whole tasks out and every
    # fold would fail. An int cv means per-task stratified folds there.
    X, Y = _wide(n=24, T=3)
    Xl, yl = _to_long(X, Y)
    alphas = [0.05, 1.0]
    kwargs = dict(task_kernel="learned", task_tol=1e-4, max_task_iter=300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no failed-fold warning from GridSearchCV
        long = MultiTaskKernelRidgeCV(alphas, task_column=-1, cv=3, **kwargs).fit(Xl, yl)
    assert np.all(np.isfinite(long.cv_scores_))
    folds = TaskStratifiedKFold(3, task_column=-1)
    explicit = MultiTaskKernelRidgeCV(alphas, task_column=-1, cv=folds, **kwargs).fit(Xl, yl)
    np.testing.assert_allclose(long.cv_scores_, explicit.cv_scores_, rtol=1e-10)


# ----------------------------------------------------------- classifier
def test_classifier_binary_equals_kernel_ridge_on_signed_targets():
    X, Y = _wide(missing=0.2)
    labels = np.where(np.isnan(Y), np.nan, (Y > 0.3).astype(float))
    clf = MultiTaskKernelRidgeClassifier(0.3, task_kernel="independent").fit(X, labels)
    scores = clf.decision_function(X)
    assert isinstance(scores, list) and len(scores) == 3
    for t in range(3):
        seen = ~np.isnan(labels[:, t])
        ref = KernelRidge(alpha=0.3, kernel="rbf").fit(X[seen], 2 * labels[seen, t] - 1)
        np.testing.assert_allclose(scores[t], ref.predict(X), rtol=1e-8, atol=1e-10)
        np.testing.assert_array_equal(clf.classes_[t], [0.0, 1.0])
    assert clf.predict(X).shape == (30, 3)
    assert clf.score(X, labels) > 0.8


def test_classifier_multiclass_long_layout_per_task_classes():
    rng = np.random.RandomState(0)
    X = rng.randn(60, 2)
    tasks = np.repeat([0, 1], 30)
    # Task 0 binary with string labels, task 1 three classes.
    y = np.where(tasks == 0, np.where(X[:, 0] > 0, "yes", "no"), np.array(["a", "b", "c"])[np.digitize(X[:, 0], [-0.5, 0.5])])
    Xl = np.column_stack([X, tasks])
    clf = MultiTaskKernelRidgeClassifier(0.1, task_column=-1).fit(Xl, y)
    assert [list(c) for c in clf.task_classes_] == [["no", "yes"], ["a", "b", "c"]]
    assert list(clf.classes_) == ["a", "b", "c", "no", "yes"]
    assert np.mean(clf.predict(Xl) == y) > 0.9
    scores = clf.decision_function(Xl)
    assert scores.shape == (60, 5)
    assert np.all(np.isinf(scores[tasks == 0][:, :3])) and np.all(np.isinf(scores[tasks == 1][:, 3:]))
    with pytest.raises(ValueError, match="only one class"):
        MultiTaskKernelRidgeClassifier(task_column=-1).fit(Xl, np.where(tasks == 0, "x", y))


# ----------------------------------------------------------- more inputs
def test_sparse_x_and_callable_kernel_match_dense_rbf():
    import scipy.sparse as sp

    X, Y = _wide(missing=0.1)
    ref = MultiTaskKernelRidge(0.3, gamma=0.4).fit(X, Y).predict(X)
    sparse = MultiTaskKernelRidge(0.3, gamma=0.4).fit(sp.csr_matrix(X), Y)
    np.testing.assert_allclose(sparse.predict(sp.csr_matrix(X)), ref, rtol=1e-10)
    call = MultiTaskKernelRidge(0.3, kernel=rbf_kernel, kernel_params={"gamma": 0.4}).fit(X, Y)
    np.testing.assert_allclose(call.predict(X), ref, rtol=1e-10)


def test_cg_convergence_warning_and_n_iter():
    X, Y = _wide(missing=0.2)
    with pytest.warns(ConvergenceWarning, match="Conjugate gradients did not reach tol"):
        model = MultiTaskKernelRidge(1e-6, solver="cg", tol=1e-14, max_iter=2).fit(X, Y)
    assert model.n_iter_ == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = MultiTaskKernelRidge(solver="cg").fit(X, Y)
    assert model.n_iter_ >= 1 and model.solver_ == "cg"


def test_nystroem_long_layout_cg_equals_dense():
    # Long layout + Nystroem: the low-rank CG products (O(N m + m T^2))
    # against the dense solve of the same low-rank system.
    X, Y = _wide(n=40, missing=0.2)
    Xl, yl = _to_long(X, Y)
    params = dict(alpha=0.2, n_components=15, random_state=0, task_column=-1)
    dense = MultiTaskKernelRidge(**params, solver="dense").fit(Xl, yl)
    cg = MultiTaskKernelRidge(**params, solver="cg", tol=1e-12).fit(Xl, yl)
    np.testing.assert_allclose(cg.predict(Xl), dense.predict(Xl), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(
    "task_kernel, build",
    [
        ("independent", lambda T: independent_task_kernel(T)),
        ("pooled", lambda T: pooled_task_kernel(T)),
        ("mean_regularized", lambda T: mean_regularized_task_kernel(T, 0.3)),
        ("clustered", lambda T: clustered_task_kernel([0, 1, 0, 1, 1], 0.3)),
    ],
)
@pytest.mark.parametrize("n_components", [None, 15])
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_group_task_kernels_equal_their_dense_matrix(task_kernel, build, n_components, layout):
    # Named kernels are solved through their group structure (O(T) task
    # kernel products); the same matrix given explicitly takes the dense
    # T x T path the solvers used before. Both must give one model.
    X, Y = _wide(n=30, T=5, missing=0.3)
    data, task_column = ((X, Y), None) if layout == "wide" else (_to_long(X, Y), -1)
    params = dict(
        alpha=0.3, task_mixing=0.3, task_clusters=[0, 1, 0, 1, 1], n_components=n_components,
        random_state=0, task_column=task_column, solver="cg", tol=1e-12,
    )
    named = MultiTaskKernelRidge(task_kernel=task_kernel, **params).fit(*data)
    dense = MultiTaskKernelRidge(task_kernel=build(5), **params).fit(*data)
    np.testing.assert_allclose(named.predict(data[0]), dense.predict(data[0]), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(named.task_kernel_, build(5))
    labels = np.where(np.isnan(data[1]), np.nan, (data[1] > 0.3).astype(float) + (data[1] > 1.0))
    named = MultiTaskKernelRidgeClassifier(task_kernel=task_kernel, **params).fit(data[0], labels)
    dense = MultiTaskKernelRidgeClassifier(task_kernel=build(5), **params).fit(data[0], labels)
    for a, b in zip(np.atleast_1d(named.decision_function(data[0])), np.atleast_1d(dense.decision_function(data[0]))):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


def test_many_tasks_nystroem_no_dense_grid_and_exact_solution():
    # 2,000 tasks x 20 rows, long layout: a dense rows x tasks grid is 640 MB,
    # the T x T task kernel 32 MB; the fit needs O(rows * m + T * m).
    n_tasks, n_rows, m, lam, alpha = 2000, 20, 20, 0.5, 1.0
    rng = np.random.RandomState(0)
    tasks = np.repeat(np.arange(n_tasks), n_rows)
    X = rng.randn(len(tasks), 5)
    y = np.sin(X[:, 0]) + rng.randn(n_tasks)[tasks] * X[:, 1] + 0.1 * rng.randn(len(tasks))
    Xl = np.column_stack([X, tasks])
    model = MultiTaskKernelRidge(alpha, n_components=m, random_state=0, task_column=-1, tol=1e-10)
    tracemalloc.start()
    pred = model.fit(Xl, y).predict(Xl)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 60e6, f"peak {peak / 1e6:.0f} MB"
    # Reference, never forming the N x N system: with Nystroem features Z the
    # kernel is (1 - lam) Z Z' + lam blockdiag(Z_t Z_t'), and Woodbury on the
    # shared part leaves 20 x 20 blocks and one m x m system.
    Z = rbf_kernel(X, model.components_, gamma=1 / 5) @ model.normalization_.T
    Z = Z.reshape(n_tasks, n_rows, m)
    B_inv = np.linalg.inv(lam * Z @ Z.transpose(0, 2, 1) + alpha * np.eye(n_rows))
    B_inv_Z = B_inv @ Z
    small = np.eye(m) / (1 - lam) + np.einsum("tim,tik->mk", Z, B_inv_Z)
    B_inv_y = np.einsum("tij,tj->ti", B_inv, y.reshape(n_tasks, n_rows))
    dual = B_inv_y - np.einsum("tim,m->ti", B_inv_Z, np.linalg.solve(small, np.einsum("tim,ti->m", Z, B_inv_y)))
    np.testing.assert_allclose(pred, y - alpha * dual.ravel(), rtol=1e-7, atol=1e-7)


def test_many_tasks_classifier_scores_only_each_rows_own_task():
    # Binary tasks are the regressor on -1/+1 targets; in the long layout
    # neither fit nor predict may build the (rows, tasks) dual or score grid.
    n_tasks, n_rows = 2000, 20
    rng = np.random.RandomState(0)
    tasks = np.repeat(np.arange(n_tasks), n_rows)
    X = rng.randn(len(tasks), 5)
    labels = np.where(X[:, 0] + rng.randn(n_tasks)[tasks] * X[:, 1] > 0, "pos", "neg")
    Xl = np.column_stack([X, tasks])
    params = dict(n_components=20, random_state=0, task_column=-1, tol=1e-10)
    clf = MultiTaskKernelRidgeClassifier(**params)
    tracemalloc.start()
    clf.fit(Xl, labels)
    scores, pred = clf.decision_function(Xl), clf.predict(Xl)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 60e6, f"peak {peak / 1e6:.0f} MB"
    reference = MultiTaskKernelRidge(**params).fit(Xl, np.where(labels == "pos", 1.0, -1.0)).predict(Xl)
    np.testing.assert_allclose(scores, reference, rtol=1e-7, atol=1e-7)
    np.testing.assert_array_equal(pred, np.where(reference > 0, "pos", "neg"))


def test_classifier_full_grid_eigen_equals_dense():
    X, Y = _wide()
    labels = (Y > 0.3).astype(int)
    eig = MultiTaskKernelRidgeClassifier(0.3).fit(X, labels)
    dense = MultiTaskKernelRidgeClassifier(0.3, solver="dense").fit(X, labels)
    assert eig.solver_ == "eigen"
    for a, b in zip(eig.decision_function(X), dense.decision_function(X)):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_linear_mean_regularized_equals_mean_regularized_regressor():
    # K_task = (1 - lam) 11' + lam I has inverse (I - c 11') / lam with
    # c = (1 - lam) / (lam + T (1 - lam)); the RKHS norm of a linear f is then
    # tr(B' K_task^-1 B), MeanRegularizedRegressor's penalty with mixing = T c
    # and alpha / lam, once its loss 1/(2 n_t) is rescaled by task_weights = n_t.
    from skmtl.linear_model import MeanRegularizedRegressor

    rng = np.random.RandomState(0)
    n, d, T = 30, 4, 3
    X = rng.randn(n, d)
    Y = X @ rng.randn(d, T) + 0.1 * rng.randn(n, T)
    alpha, lam = 2.0, 0.4
    kernel = MultiTaskKernelRidge(alpha, kernel="linear", task_kernel="mean_regularized", task_mixing=lam)
    c = (1 - lam) / (lam + T * (1 - lam))
    linear = MeanRegularizedRegressor(
        alpha / lam, mixing=T * c, fit_intercept=False, task_weights=np.full(T, float(n)), tol=1e-12, max_iter=100000
    )
    np.testing.assert_allclose(kernel.fit(X, Y).predict(X), linear.fit(X, Y).predict(X), rtol=1e-8, atol=1e-10)


# ----------------------------------------------------------- unseen tasks
@pytest.mark.parametrize("n_components", [None, 20])
def test_unseen_task_population_is_the_shared_part(n_components):
    X, Y = _wide(missing=0.2)
    Xl, yl = _to_long(X, Y)
    X_new = np.column_stack([X[:4], [0, 9, 2, -1]])
    with pytest.raises(ValueError, match=r"Unknown task label\(s\) -1, 9"):
        MultiTaskKernelRidge(task_column=-1).fit(Xl, yl).predict(X_new)
    params = dict(alpha=0.3, task_column=-1, n_components=n_components, random_state=0, unseen_task="population")
    model = MultiTaskKernelRidge(task_mixing=0.3, **params).fit(Xl, yl)
    pred = model.predict(X_new)
    np.testing.assert_allclose(pred[[0, 2]], model.predict(X_new[[0, 2]]))
    # A new task s has K_task[s, t] = 1 - task_mixing with every fitted task t:
    # f(x, s) = 0.7 * sum_j a_j k(x, x_j) over all training pairs.
    if n_components is None:
        K = rbf_kernel(X_new[:, :-1], Xl[:, :-1])
    else:
        nystroem = Nystroem(n_components=n_components, random_state=0).fit(Xl[:, :-1])
        K = nystroem.transform(X_new[:, :-1]) @ nystroem.transform(Xl[:, :-1]).T
    np.testing.assert_allclose(pred[[1, 3]], 0.7 * (K @ model.dual_coef_)[[1, 3]], rtol=1e-6)
    # Pooled: every task is the same function, the new one included.
    pooled = MultiTaskKernelRidge(task_kernel="pooled", **params).fit(Xl, yl)
    np.testing.assert_allclose(pooled.predict(X_new), pooled.predict(np.column_stack([X[:4], np.zeros(4)])), rtol=1e-6)


def test_unseen_task_population_classifier_and_cv():
    X, Y = _wide(n=40)
    Xl, yl = _to_long(X, (Y > np.median(Y)).astype(int))
    X_new = np.column_stack([X[:5], np.full(5, 8)])
    clf = MultiTaskKernelRidgeClassifier(alpha=0.5, task_column=-1, unseen_task="population").fit(Xl, yl)
    # Every task binary: one score column each, shared part 1 - task_mixing = 0.5.
    score = 0.5 * rbf_kernel(X[:5], Xl[:, :-1]) @ clf.dual_coef_.toarray().sum(axis=1)
    np.testing.assert_allclose(clf.decision_function(X_new), score, rtol=1e-6)
    assert_array_equal(clf.predict(X_new), (score > 0).astype(int))
    # The CV refit keeps the population part.
    cv = MultiTaskKernelRidgeCV(alphas=[0.1, 1.0], task_column=-1, unseen_task="population").fit(*_to_long(X, Y))
    refit = MultiTaskKernelRidge(alpha=cv.alpha_, task_column=-1, unseen_task="population").fit(*_to_long(X, Y))
    np.testing.assert_allclose(cv.predict(X_new), refit.predict(X_new), rtol=1e-8)


@pytest.mark.parametrize(
    "estimator",
    [MultiTaskKernelRidge, MultiTaskKernelRidgeClassifier, MultiTaskKernelRidgeCV],
)
@pytest.mark.parametrize("task_kernel, shown", [("independent", "'independent'"), ("learned", "'learned'"), (np.eye(3), "an explicit matrix")])
def test_unseen_task_population_needs_a_shared_part(estimator, task_kernel, shown):
    X, Y = _wide()
    Xl, yl = _to_long(X, (Y > 0).astype(int))
    with pytest.raises(ValueError, match=f"unseen_task='population' needs a task kernel with a part shared.*got task_kernel={shown}"):
        estimator(task_kernel=task_kernel, task_column=-1, unseen_task="population").fit(Xl, yl)
