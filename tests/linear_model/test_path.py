"""alpha_max, warm-started paths and the *CV estimators."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.model_selection import KFold

from skmtl.datasets import make_low_rank_multitask, make_sparse_multitask
from skmtl.linear_model import (
    GroupLassoClassifier,
    GroupLassoClassifierCV,
    GroupLassoRegressor,
    GroupLassoRegressorCV,
    DirtyRegressor,
    MultiTaskLassoClassifier,
    MultiTaskLassoRegressor,
    SparseGroupLassoClassifier,
    SparseGroupLassoClassifierCV,
    SparseGroupLassoRegressor,
    SparseGroupLassoRegressorCV,
    TraceNormClassifier,
    TraceNormRegressor,
    TraceNormRegressorCV,
    alpha_max,
    group_lasso_path,
    regularization_path,
    trace_norm_path,
)
from skmtl.linear_model._path import check_cv_scoring
from skmtl.model_selection import TaskStratifiedKFold


def _sparse(seed=0, **kwargs):
    params = dict(n_samples=100, n_features=40, n_tasks=5, n_informative=4, noise=0.5, random_state=seed)
    params.update(kwargs)
    return make_sparse_multitask(**params)


def test_alpha_max_closed_forms():
    X, Y, _ = _sparse()
    G = X.T @ (Y - Y.mean(axis=0)) / len(X)  # -gradient at 0 with the optimal intercepts
    assert alpha_max(GroupLassoRegressor(), X, Y) == pytest.approx(np.linalg.norm(G, axis=1).max(), rel=1e-12)
    assert alpha_max(GroupLassoRegressor(norm="linf"), X, Y) == pytest.approx(np.abs(G).sum(axis=1).max(), rel=1e-12)
    assert alpha_max(GroupLassoRegressor(positive=True), X, Y) == pytest.approx(
        np.linalg.norm(np.maximum(G, 0), axis=1).max(), rel=1e-12
    )
    assert alpha_max(MultiTaskLassoRegressor(), X, Y) == pytest.approx(np.abs(G).max(), rel=1e-12)
    assert alpha_max(TraceNormRegressor(), X, Y) == pytest.approx(np.linalg.norm(G, 2), rel=1e-12)
    assert alpha_max(GroupLassoRegressor(l1_ratio=0.5), X, Y) == pytest.approx(2 * np.linalg.norm(G, axis=1).max())
    assert alpha_max(GroupLassoRegressor(l1_ratio=0.0), X, Y) == np.inf
    # No signal: alpha_max is 0 and the grid is made of tiny alphas.
    assert alpha_max(GroupLassoRegressor(), np.zeros_like(X), Y) == 0.0
    alphas, coefs, _, _ = group_lasso_path(np.zeros_like(X), Y, n_alphas=3)
    assert_array_equal(coefs, 0)
    assert np.all(alphas > 0)
    with pytest.raises(TypeError, match="estimator must be one of skmtl.linear_model's penalized linear models"):
        alpha_max(object(), X, Y)


def test_group_lasso_path_matches_individual_fits():
    X, Y, _ = _sparse(seed=1)
    alphas, coefs, intercepts, n_iters = group_lasso_path(X, Y, n_alphas=8, eps=1e-2, tol=1e-9, max_iter=10000)
    assert coefs.shape == (8, 5, 40) and intercepts.shape == (8, 5) and n_iters.shape == (8,)
    assert alphas[0] == pytest.approx(alpha_max(GroupLassoRegressor(), X, Y))
    assert_allclose(alphas[-1] / alphas[0], 1e-2)
    assert_array_equal(coefs[0], 0) and n_iters[0] == 0
    # Supports grow along the path, and each point is the cold fit.
    support = np.any(coefs != 0, axis=1).sum(axis=1)
    assert np.all(np.diff(support) >= 0)
    for k in (3, 7):
        cold = GroupLassoRegressor(alphas[k], tol=1e-9, max_iter=10000).fit(X, Y)
        assert_allclose(coefs[k], cold.coef_, rtol=1e-5, atol=1e-7)
    # Given alphas are sorted decreasingly.
    given, _, _, _ = group_lasso_path(X, Y, alphas=[0.01, 0.1, 0.05])
    assert_array_equal(given, [0.1, 0.05, 0.01])


def test_warm_started_path_is_cheaper_than_cold_fits():
    X, Y, _ = _sparse(seed=2)
    alphas, _, _, n_iters = group_lasso_path(X, Y, n_alphas=20, tol=1e-6)
    cold = sum(GroupLassoRegressor(a, tol=1e-6).fit(X, Y).n_iter_ for a in alphas)
    assert n_iters.sum() < cold


def test_trace_norm_path_ranks_grow():
    X, Y, truth = make_low_rank_multitask(n_samples=150, n_features=12, n_tasks=8, rank=2, noise=0.1, random_state=0)
    alphas, coefs, _, _ = trace_norm_path(X, Y, n_alphas=10, eps=1e-2, tol=1e-8, max_iter=5000)
    ranks = [int(np.linalg.matrix_rank(c, tol=1e-6 * max(np.abs(c).max(), 1e-300))) for c in coefs]
    assert ranks[0] == 0 and max(ranks) >= 2
    assert 2 in ranks  # the planted rank appears along the path



@pytest.mark.parametrize(
    "estimator, classification",
    [
        (GroupLassoClassifier(tol=1e-9, max_iter=20000), True),
        (TraceNormClassifier(tol=1e-9, max_iter=20000), True),
        (MultiTaskLassoClassifier(tol=1e-9, max_iter=20000), True),
        (MultiTaskLassoRegressor(tol=1e-9, max_iter=20000), False),
        (GroupLassoRegressor(norm="linf", tol=1e-9, max_iter=20000), False),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, bool) else "",
)
def test_regularization_path_of_any_model_matches_cold_fits(estimator, classification):
    X, Y, _ = _sparse(seed=2, n_samples=60, n_features=12, n_tasks=3)
    y = (Y > np.median(Y, axis=0)).astype(int) if classification else Y
    alphas, coefs, intercepts, n_iters = regularization_path(estimator, X, y, n_alphas=6, eps=1e-2)
    assert coefs.shape == (6, 3, 12) and intercepts.shape == (6, 3)
    assert alphas[0] == pytest.approx(alpha_max(estimator, X, y))
    assert_array_equal(coefs[0], 0) and n_iters[0] == 0
    for k in (2, 5):
        cold = estimator.set_params(alpha=alphas[k]).fit(X, y)
        assert_allclose(coefs[k], cold.coef_, rtol=1e-4, atol=1e-6)
        assert_allclose(intercepts[k], cold.intercept_, rtol=1e-4, atol=1e-6)


def test_regularization_path_errors():
    X, Y, _ = _sparse()
    with pytest.raises(TypeError, match="DirtyRegressor has no single 'alpha'"):
        regularization_path(DirtyRegressor(), X, Y)
    with pytest.raises(TypeError, match="estimator must be one of skmtl.linear_model's"):
        regularization_path(object(), X, Y)

def test_path_errors():
    X, Y, _ = _sparse()
    with pytest.raises(ValueError, match="alphas must be a non-empty 1-D array of finite non-negative values"):
        group_lasso_path(X, Y, alphas=[0.1, -1.0])
    with pytest.raises(ValueError, match="n_alphas must be a positive integer; got 0"):
        group_lasso_path(X, Y, n_alphas=0)
    with pytest.raises(ValueError, match=r"eps must be in \(0, 1\]; got 2"):
        group_lasso_path(X, Y, eps=2)
    with pytest.raises(ValueError, match="Automatic alpha grid generation is not supported for l1_ratio=0"):
        group_lasso_path(X, Y, l1_ratio=0.0)
    with pytest.raises(ValueError, match="The 'alpha' parameter|The 'l1_ratio' parameter of GroupLassoRegressor"):
        group_lasso_path(X, Y, l1_ratio=2.0)


def test_group_lasso_cv_recovers_the_support():
    # Enough noise that prediction-optimal alphas do not keep spurious
    # features, and enough tasks for the shared support to stand out.
    X, Y, truth = make_sparse_multitask(
        n_samples=100, n_features=30, n_tasks=20, n_informative=4, noise=1.0, random_state=0
    )
    model = GroupLassoRegressorCV(n_alphas=15, cv=3).fit(X, Y)
    assert model.mse_path_.shape == (15, 3)
    assert model.alpha_ in model.alphas_
    assert np.argmin(model.mse_path_.mean(axis=1)) == list(model.alphas_).index(model.alpha_)
    found = np.any(model.coef_ != 0, axis=0)
    tp = np.sum(found & truth.support)
    f1 = 2 * tp / (found.sum() + truth.support.sum())
    assert f1 >= 0.95
    # The refit is the plain estimator at alpha_.
    ref = GroupLassoRegressor(model.alpha_).fit(X, Y)
    assert_allclose(model.predict(X), ref.predict(X), rtol=1e-3, atol=1e-3)


def test_cv_long_layout_with_task_stratified_folds_and_n_jobs():
    X, y, truth = _sparse(seed=3, layout="long", n_samples=40)
    cv = TaskStratifiedKFold(n_splits=3, task_column=-1)
    serial = TraceNormRegressorCV(n_alphas=6, cv=cv, task_column=-1).fit(X, y)
    parallel = TraceNormRegressorCV(n_alphas=6, cv=cv, task_column=-1, n_jobs=2).fit(X, y)
    assert_allclose(serial.mse_path_, parallel.mse_path_)
    assert serial.alpha_ == parallel.alpha_
    assert serial.predict(X).shape == (len(y),)
    assert_array_equal(serial.tasks_, np.arange(5))


def test_classifier_cv():
    rng = np.random.RandomState(4)
    X = rng.randn(120, 10)
    Y = np.column_stack([X[:, 0] + X[:, 1] > 0, X[:, 0] - X[:, 1] > 0.3, X[:, 1] > 0]).astype(int)
    model = GroupLassoClassifierCV(n_alphas=6, cv=3).fit(X, Y)
    assert model.scores_.shape == (6, 3)
    assert np.argmax(model.scores_.mean(axis=1)) == list(model.alphas_).index(model.alpha_)
    assert [list(c) for c in model.classes_] == [[0, 1]] * 3
    assert model.score(X, Y) > 0.9
    ref = GroupLassoClassifier(model.alpha_).fit(X, Y)
    assert np.mean(ref.predict(X) == model.predict(X)) > 0.98
    assert_allclose(np.sum(model.predict_proba(X)[0], axis=1), 1.0)


def test_cv_scoring():
    # A scorer (here ROC AUC, the metric of rare positives) chooses alpha by
    # the mean of its fold values, recomputed here from the folds' fits.
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.RandomState(5)
    X = rng.randn(150, 6)
    y = (X[:, 0] + 0.5 * rng.randn(150) > 1.0).astype(int)
    folds = list(StratifiedKFold(3).split(X, y))
    model = GroupLassoClassifierCV(n_alphas=4, cv=folds, scoring="roc_auc").fit(X, y)
    for k, alpha in enumerate(model.alphas_):
        expected = [
            roc_auc_score(y[te], GroupLassoClassifier(alpha).fit(X[tr], y[tr]).decision_function(X[te]))
            for tr, te in folds
        ]
        assert_allclose(model.scores_[k], expected, atol=1e-3)  # path warm starts vs cold fits, tol=1e-4
    assert model.alpha_ == model.alphas_[np.argmax(model.scores_.mean(axis=1))]
    regressor = GroupLassoRegressorCV(n_alphas=4, cv=3, scoring="r2").fit(X, X[:, :2] @ [1.0, -1.0])
    assert regressor.scores_.shape == (4, 3) and not hasattr(regressor, "mse_path_")


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_classifier_cv_default_score_is_minus_the_mean_task_log_loss(layout):
    from sklearn.metrics import log_loss

    rng = np.random.RandomState(6)
    X = rng.randn(90, 5)
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] + 0.5 * rng.randn(90) > 0.5, X[:, 0] - X[:, 2] > 0]).astype(float)
    Y[:10, 1] = np.nan  # a missing label is not scored
    tasks = np.tile(np.arange(3), 90)
    if layout == "long":
        keep = ~np.isnan(Y.ravel())
        X, Y = np.column_stack([np.repeat(X, 3, axis=0), tasks])[keep], Y.ravel()[keep]
    column = None if layout == "wide" else -1
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    model = GroupLassoClassifierCV(n_alphas=3, cv=folds, task_column=column).fit(X, Y)
    for k, alpha in enumerate(model.alphas_):
        expected = []
        for tr, te in folds:
            fit = GroupLassoClassifier(alpha, task_column=column, tol=1e-8).fit(X[tr], Y[tr])
            proba = fit.predict_proba(X[te])
            if layout == "wide":
                losses = [log_loss(Y[te, t][~np.isnan(Y[te, t])], proba[t][~np.isnan(Y[te, t])], labels=[0, 1])
                          for t in range(3)]
            else:
                losses = [log_loss(Y[te][X[te, -1] == t], proba[X[te, -1] == t], labels=[0, 1]) for t in range(3)]
            expected.append(-np.mean(losses))
        assert_allclose(model.scores_[k], expected, atol=1e-3)


def test_classifier_cv_does_not_choose_the_null_model_on_a_rare_class():
    # Landmine-like tasks, 8 % positives: every alpha's accuracy is within a
    # row of the majority rate, and the accuracy picked alpha_max (all
    # coefficients zero, ROC AUC 0.5). The log loss sees the signal.
    rng = np.random.RandomState(9)
    X = rng.randn(400, 6)
    Y = np.column_stack([X[:, 0] + X[:, 1] + 1.5 * rng.randn(400) > 2.8 for _ in range(3)]).astype(int)
    assert 0.04 < Y.mean() < 0.12
    by_accuracy = GroupLassoClassifierCV(n_alphas=6, cv=3, scoring="accuracy").fit(X, Y)
    assert not np.any(by_accuracy.estimator_.coef_)
    model = GroupLassoClassifierCV(n_alphas=6, cv=3).fit(X, Y)
    assert model.alpha_ < model.alphas_[0]
    assert np.all(np.abs(model.estimator_.coef_[:, :2]) > 0)


def test_cv_int_splits_within_tasks_in_long_layout():
    # Rows sorted by task: a row-wise 3-fold split would hold whole tasks out.
    from skmtl.datasets import make_sparse_multitask
    from skmtl.linear_model import GroupLassoRegressorCV

    X, y, _ = make_sparse_multitask(n_samples=30, n_features=8, n_tasks=6, layout="long", random_state=0)
    model = GroupLassoRegressorCV(n_alphas=4, cv=3, task_column=-1).fit(X, y)
    assert model.mse_path_.shape == (4, 3)
    assert np.all(np.isfinite(model.mse_path_))


def test_extrapolated_warm_start_is_exact_on_a_linear_stretch():
    # On a stretch of alphas where the support and signs do not change, the
    # lasso solution is affine in alpha: the secant through the last two
    # solutions predicts the next one exactly.
    from skmtl.linear_model._path import _extrapolated_start

    X, Y, _ = _sparse(seed=3, n_features=10, n_tasks=2)
    est = MultiTaskLassoRegressor(tol=1e-13, max_iter=100_000)
    a0 = alpha_max(est, X, Y)
    alphas = a0 * np.array([0.1, 0.09, 0.08])
    fits = [MultiTaskLassoRegressor(a, tol=1e-13, max_iter=100_000).fit(X, Y) for a in alphas]
    signs = [np.sign(f.coef_) for f in fits]
    assert_array_equal(signs[0], signs[1]) and assert_array_equal(signs[1], signs[2])
    assert np.any(signs[0] == 0) and np.any(signs[0] != 0)
    W0, b0 = _extrapolated_start(
        est, alphas, (fits[0].coef_.T, fits[1].coef_.T), (fits[0].intercept_, fits[1].intercept_)
    )
    assert_allclose(W0, fits[2].coef_.T, atol=1e-9)
    assert_allclose(b0, fits[2].intercept_, atol=1e-9)
    # The plain warm start (the last solution) is much farther.
    assert np.abs(fits[1].coef_ - fits[2].coef_).max() > 1e3 * np.abs(W0 - fits[2].coef_.T).max()


def test_extrapolated_warm_start_stays_in_the_domain():
    from skmtl.linear_model._path import _extrapolated_start

    est = GroupLassoRegressor(positive=True)
    W2 = np.array([[1.0, 2.0], [0.5, 0.0]])
    W1 = np.array([[0.2, 2.5], [0.6, 0.0]])
    W0, b0 = _extrapolated_start(est, np.array([3.0, 2.0, 1.0]), (W2, W1), (np.zeros(2), np.ones(2)))
    # 0.2 + (0.2 - 1.0) < 0 is clipped by prox(., 0); the entry that is 0 in
    # the last solution stays 0; the intercepts move along their secant.
    assert_allclose(W0, [[0.0, 3.0], [0.7, 0.0]])
    assert_allclose(b0, [2.0, 2.0])
    # Repeated alphas (given by the user) have no secant: the last solution.
    W0, b0 = _extrapolated_start(est, np.array([2.0, 2.0, 1.0]), (W2, W1), (np.zeros(2), np.ones(2)))
    assert_array_equal(W0, W1) and assert_array_equal(b0, np.ones(2))


# --------------------------------------------------------------------- sparse group lasso CV
def _brute_force_scores(make, folds, X, y, alphas):
    """The default validation score (higher is better) of each alpha on each fold, from cold fits."""
    scorer = check_cv_scoring(make(1.0), None)
    out = np.empty((len(alphas), len(folds)))
    for k, alpha in enumerate(alphas):
        for f, (train, test) in enumerate(folds):
            out[k, f] = scorer(make(alpha).fit(X[train], y[train]), X[test], y[test], None)
    return out


@pytest.mark.parametrize("layout", ["wide", "long"])
def test_sparse_group_lasso_cv_equals_a_brute_force_loop_over_folds(layout):
    X, Y, _ = _sparse(seed=6, n_samples=60, n_features=12, n_tasks=4, layout=layout)
    task_column = -1 if layout == "long" else None
    folds = list(TaskStratifiedKFold(3, task_column=-1).split(X, Y) if layout == "long" else
                 TaskStratifiedKFold(3).split(X, Y))  # fmt: skip
    ratios = [0.2, 0.8]
    model = SparseGroupLassoRegressorCV(
        l1_ratio=ratios, n_alphas=5, eps=1e-2, cv=folds, task_column=task_column, tol=1e-8, max_iter=10_000
    ).fit(X, Y)
    assert model.alphas_.shape == (2, 5) and model.mse_path_.shape == (2, 5, 3)
    for i, ratio in enumerate(ratios):
        assert model.alphas_[i, 0] == pytest.approx(alpha_max(SparseGroupLassoRegressor(l1_ratio=ratio, task_column=task_column), X, Y))
        expected = _brute_force_scores(
            lambda a: SparseGroupLassoRegressor(a, l1_ratio=ratio, task_column=task_column, tol=1e-8, max_iter=10_000),
            folds, X, Y, model.alphas_[i],
        )
        assert_allclose(-model.mse_path_[i], expected, rtol=1e-6)
    i, k = np.unravel_index(np.argmin(model.mse_path_.mean(axis=-1)), (2, 5))
    assert model.l1_ratio_ == ratios[i] and model.alpha_ == model.alphas_[i, k]
    # The refit is the plain estimator at (alpha_, l1_ratio_).
    ref = SparseGroupLassoRegressor(model.alpha_, l1_ratio=model.l1_ratio_, task_column=task_column, tol=1e-8,
                                    max_iter=10_000).fit(X, Y)
    assert_allclose(model.coef_, ref.coef_, atol=1e-6)
    assert_allclose(model.predict(X), ref.predict(X), atol=1e-6)


def test_sparse_group_lasso_cv_with_one_l1_ratio_keeps_the_one_dimensional_path():
    X, Y, _ = _sparse(seed=7, n_samples=60, n_features=10, n_tasks=3)
    model = SparseGroupLassoRegressorCV(l1_ratio=0.3, n_alphas=4, cv=3).fit(X, Y)
    assert model.alphas_.shape == (4,) and model.mse_path_.shape == (4, 3) and model.l1_ratio_ == 0.3
    assert model.estimator_.l1_ratio == 0.3
    listed = SparseGroupLassoRegressorCV(l1_ratio=[0.3], n_alphas=4, cv=3).fit(X, Y)
    assert listed.mse_path_.shape == (1, 4, 3)
    assert_allclose(listed.mse_path_[0], model.mse_path_)
    with pytest.raises(ValueError, match="l1_ratio must be"):
        SparseGroupLassoRegressorCV(l1_ratio=[0.3, 1.5], n_alphas=4, cv=3).fit(X, Y)
    with pytest.raises(ValueError, match="l1_ratio must be"):
        SparseGroupLassoRegressorCV(l1_ratio=[], n_alphas=4, cv=3).fit(X, Y)


def test_sparse_group_lasso_classifier_cv_equals_a_brute_force_loop_over_folds():
    from sklearn.model_selection import KFold

    rng = np.random.RandomState(8)
    X = rng.randn(90, 6)
    Y = np.column_stack([X[:, 0] > 0, X[:, 0] + X[:, 1] > 0, X[:, 2] + 0.5 * rng.randn(90) > 0]).astype(int)
    folds = list(KFold(3).split(X))
    model = SparseGroupLassoClassifierCV(
        l1_ratio=[0.5, 0.9], alphas=[0.05, 0.02, 0.005], cv=folds, tol=1e-8, max_iter=10_000
    ).fit(X, Y)
    assert model.scores_.shape == (2, 3, 3)
    assert_array_equal(model.alphas_, [[0.05, 0.02, 0.005]] * 2)
    for i, ratio in enumerate([0.5, 0.9]):
        expected = _brute_force_scores(
            lambda a: SparseGroupLassoClassifier(a, l1_ratio=ratio, tol=1e-8, max_iter=10_000),
            folds, X, Y, model.alphas_[i],
        )
        assert_allclose(model.scores_[i], expected, rtol=1e-6)
    i, k = np.unravel_index(np.argmax(model.scores_.mean(axis=-1)), (2, 3))
    assert (model.l1_ratio_, model.alpha_) == ([0.5, 0.9][i], model.alphas_[i, k])
    assert [list(c) for c in model.classes_] == [[0, 1]] * 3


@pytest.mark.parametrize("Estimator", [SparseGroupLassoRegressorCV, SparseGroupLassoClassifierCV])
def test_sparse_group_lasso_cv_pickles(Estimator):
    import pickle

    X, Y, _ = _sparse(seed=9, n_samples=60, n_features=8, n_tasks=3)
    if Estimator is SparseGroupLassoClassifierCV:
        Y = (Y > np.median(Y, axis=0)).astype(int)
    model = Estimator(l1_ratio=[0.3, 0.7], n_alphas=4, cv=3).fit(X, Y)
    restored = pickle.loads(pickle.dumps(model))
    assert_array_equal(restored.predict(X), model.predict(X))
    assert restored.l1_ratio_ == model.l1_ratio_ and restored.alpha_ == model.alpha_
    assert_array_equal(restored.coef_, model.coef_)


@pytest.mark.parametrize(
    "Estimator",
    [GroupLassoRegressorCV, GroupLassoClassifierCV, TraceNormRegressorCV, SparseGroupLassoRegressorCV,
     SparseGroupLassoClassifierCV],
)  # fmt: skip
def test_cv_estimators_accept_a_scalar_sample_weight(Estimator):
    # The plain estimators accept a scalar weight (every row alike); the CV
    # ones indexed it per fold and raised IndexError.
    rng = np.random.RandomState(0)
    X = rng.randn(60, 5)
    Y = X @ rng.randn(5, 3)
    if Estimator in (GroupLassoClassifierCV, SparseGroupLassoClassifierCV):
        Y = (Y > 0).astype(int)
    weighted = Estimator(n_alphas=3, cv=3).fit(X, Y, sample_weight=2.0)
    plain = Estimator(n_alphas=3, cv=3).fit(X, Y)
    assert weighted.alpha_ == plain.alpha_
    assert_allclose(weighted.coef_, plain.coef_, rtol=1e-6, atol=1e-10)
