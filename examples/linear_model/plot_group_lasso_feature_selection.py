# SPDX-License-Identifier: BSD-3-Clause
"""
=============================================
Shared feature selection with the group lasso
=============================================

When several tasks depend on the same few features, selecting those
features jointly is far more reliable than selecting them task by task.
The group lasso (L21 penalty) keeps or drops each feature for all tasks at
once: its penalty is the sum over features of the Euclidean norm of that
feature's coefficients across tasks. A lasso fitted on each task alone has
only that task's few noisy rows to decide with, and every task ends up with
its own set of spurious features.

We plant a shared support in generated data, let
:class:`~skmtl.linear_model.GroupLassoRegressorCV` choose ``alpha``, and
compare the selected features with the truth and with one
:class:`~sklearn.linear_model.LassoCV` per task.
"""

# %%
# Eight tasks, 80 features, of which the same 6 are relevant to every task
# (each task with its own signs and magnitudes). Only 60 rows are used for
# training (fewer rows than features, where selection matters), 200 are
# held out.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LassoCV

from skmtl.datasets import make_sparse_multitask
from skmtl.linear_model import GroupLassoRegressorCV, group_lasso_path
from skmtl.multitask import IndependentTasks
from skmtl.plotting import plot_coef_sparsity, plot_regularization_path

n_train = 60
X, Y, truth = make_sparse_multitask(
    n_samples=n_train + 200, n_features=80, n_tasks=8, n_informative=6, noise=1.0, random_state=0
)
X_train, Y_train, X_test, Y_test = X[:n_train], Y[:n_train], X[n_train:], Y[n_train:]
print("relevant features:", np.flatnonzero(truth.support))


def selection_quality(selected, relevant):
    """Precision, recall and F1 of a boolean selection against the truth."""
    hits = np.sum(selected & relevant)
    precision = hits / max(selected.sum(), 1)
    recall = hits / relevant.sum()
    f1 = 2 * precision * recall / max(precision + recall, np.finfo(float).eps)
    return precision, recall, f1


# %%
# Group lasso, ``alpha`` chosen by 5-fold cross-validation on the training
# rows (a warm-started path over 30 alphas in each fold). A feature is
# selected when its column of ``coef_`` (one row per task) is nonzero.
group_lasso = GroupLassoRegressorCV(n_alphas=30, cv=5).fit(X_train, Y_train)

# %%
# One lasso per task, each with its own cross-validated ``alpha``.
# ``IndependentTasks`` fits a clone on each column of ``Y``.
lasso = IndependentTasks(LassoCV(cv=5, max_iter=10_000)).fit(X_train, Y_train)
lasso_coef = np.array([est.coef_ for est in lasso.estimators_])

# %%
# The group lasso finds every relevant feature. Cross-validation picks the
# ``alpha`` that predicts best, which lets in some small spurious
# coefficients, but they are the same for every task. The per-task lassos
# find the relevant features too, yet each task adds its own spurious
# ones: together the tasks use almost every feature, and a feature chosen
# by one task is typically ignored by the others. The shared selection
# also predicts the 200 held-out rows better.
print(f"group lasso alpha chosen by CV: {group_lasso.alpha_:.3f}")
print(f"{'':15s} {'features':>8s} {'precision':>9s} {'recall':>6s} {'F1':>5s} "
      f"{'tasks per feature':>17s} {'test R^2':>8s}")
for name, model, coef in (
    ("group lasso", group_lasso, group_lasso.coef_),
    ("lasso per task", lasso, lasso_coef),
):
    selected = np.any(coef != 0, axis=0)
    precision, recall, f1 = selection_quality(selected, truth.support)
    # How consistent the selection is across tasks: number of tasks using
    # each selected feature, averaged (8 = the same support for all).
    tasks_per_feature = np.sum(coef != 0, axis=0)[selected].mean()
    print(f"{name:15s} {selected.sum():8d} {precision:9.2f} {recall:6.2f} {f1:5.2f} "
          f"{tasks_per_feature:17.1f} {model.score(X_test, Y_test):8.3f}")

# %%
# The sparsity patterns, one row per task: the planted coefficients, the
# group lasso's whole columns, and the scattered per-task lasso selection.
fig, axes = plt.subplots(3, 1, figsize=(10, 8), constrained_layout=True)
for ax, coef, name in zip(
    axes,
    (truth.coef, group_lasso.coef_, lasso_coef),
    ("truth", "group lasso (CV alpha)", "lasso per task (CV alpha per task)"),
):
    plot_coef_sparsity(coef, ax=ax)
    ax.set_title(f"{name}: {ax.get_title()}")

# %%
# The regularization path shows what ``alpha`` controls: the norm across
# tasks of each feature's coefficients, from ``alpha_max`` (no feature)
# down. The 6 relevant features (colored) enter first and alone over a wide
# range of ``alpha``; the others (grey) follow only at small ``alpha``. The
# dashed line is the cross-validated choice, a little beyond the range of
# exact recovery: the best predictor keeps a few small false positives.
alphas, coefs, _, _ = group_lasso_path(X_train, Y_train, n_alphas=30)
ax = plot_regularization_path(alphas, coefs)
for rank, feature in enumerate(np.flatnonzero(truth.support)):
    ax.lines[feature].set_color(f"C{rank}")
    ax.lines[feature].set_zorder(2)
for feature in np.flatnonzero(~truth.support):
    ax.lines[feature].set_color("lightgrey")
ax.axvline(group_lasso.alpha_, color="black", linestyle="--", label="CV alpha")
ax.legend()

f1_path = np.array([selection_quality(np.any(c != 0, axis=0), truth.support)[2] for c in coefs])
exact = alphas[f1_path == 1.0]
if exact.size:
    print(f"support recovered exactly for alpha in [{exact.min():.3f}, {exact.max():.3f}] "
          f"(alpha_max = {alphas[0]:.3f})")
plt.show()
