# SPDX-License-Identifier: BSD-3-Clause
"""
=====================================
Discovering clusters of related tasks
=====================================

Tasks are often related in groups: schools of the same kind, patients with
the same condition. A single pooled model then mixes groups that differ,
while one model per task ignores the related tasks. Clustered multi-task
learning (:class:`~skmtl.linear_model.ClusteredRegressor`) learns which
tasks go together while it fits them, and shrinks each task towards its
own group. :class:`~skmtl.linear_model.TaskRelationRegressor` learns a full
task correlation matrix instead of hard groups.

We plant four clusters of unequal sizes, check that the learned clusters
match them (adjusted Rand index) and compare the held-out score of each
task with the two single-task baselines.
"""

# %%
# Sixteen tasks in clusters of 7, 4, 3 and 2 tasks, 20 features, and
# between 15 and 60 rows per task (long layout: the task id is the last
# column of ``X``). Half of every task's rows are held out.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV

from skmtl.datasets import make_clustered_multitask
from skmtl.linear_model import ClusteredRegressor, TaskRelationRegressor
from skmtl.metrics import task_scores
from skmtl.model_selection import TaskStratifiedKFold, TaskStratifiedShuffleSplit
from skmtl.multitask import IndependentTasks, PooledTasks
from skmtl.plotting import plot_task_similarity

X, y, truth = make_clustered_multitask(
    n_samples=60,
    n_features=20,
    n_tasks=16,
    n_clusters=4,
    cluster_sizes=[7, 4, 3, 2],
    noise=1.0,
    task_sizes="unequal",
    layout="long",
    random_state=0,
)
tasks = X[:, -1]
split = TaskStratifiedShuffleSplit(n_splits=1, test_size=0.5, task_column=-1, random_state=0)
train, test = next(split.split(X, y))
print("true clusters:", truth.task_clusters)
n_train = np.bincount(tasks[train].astype(int))  # task ids are 0..15
print("training rows per task:", n_train)

# %%
# The number of clusters is given; ``alpha`` (strength of the clustering
# term) and ``beta`` (ridge-like term) are chosen by grid search on the
# training rows, with folds stratified by task so that every task is in
# every training fold. The task-relation model has one ``alpha``.
cv = TaskStratifiedKFold(3, shuffle=True, task_column=-1, random_state=0)
clustered = GridSearchCV(
    ClusteredRegressor(n_clusters=4, task_column=-1, random_state=0),
    {"alpha": [1.0, 10.0], "beta": [0.01, 0.03]},
    cv=cv,
).fit(X[train], y[train])
relation = GridSearchCV(
    TaskRelationRegressor(task_column=-1), {"alpha": np.logspace(-3, -1, 5)}, cv=cv
).fit(X[train], y[train])
best = clustered.best_params_
print(f"ClusteredRegressor: alpha={best['alpha']:g}, beta={best['beta']:g}; "
      f"TaskRelationRegressor: alpha={relation.best_params_['alpha']:g}")

# %%
# The learned clusters match the planted ones up to a relabeling: an
# adjusted Rand index of 1 is a perfect match, 0 is chance level.
found = clustered.best_estimator_.task_clusters_
print("learned clusters:", found)
print(f"adjusted Rand index: {adjusted_rand_score(truth.task_clusters, found):.2f}")

# %%
# Both learned task matrices, rows and columns ordered by the true
# clusters (outlined). The clustered model's similarity ``M`` is a soft
# block diagonal; the task-relation model's correlations show the same
# blocks, and also that some clusters are closer to each other than others
# (their centres were drawn at random, so some are negatively correlated).
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
plot_task_similarity(
    clustered.best_estimator_.task_similarity_,
    clusters=truth.task_clusters,
    ax=axes[0],
    title="ClusteredRegressor: task_similarity_",
)
plot_task_similarity(
    relation.best_estimator_.task_correlation_,
    clusters=truth.task_clusters,
    ax=axes[1],
    title="TaskRelationRegressor: task_correlation_",
)

# %%
# Held-out R^2 of each task. One ridge per task (its ``alpha`` chosen by
# efficient leave-one-out CV) has only a task's own 7 to 30 training rows
# for 20 coefficients; one pooled ridge fits a single model to four
# different clusters, which suits the tasks of the largest cluster at best
# and the others not at all. Sharing within clusters beats both, most of
# all on the small tasks.
ridge = RidgeCV(alphas=np.logspace(-3, 3, 13))
models = {
    "IndependentTasks(RidgeCV)": IndependentTasks(ridge, task_column=-1).fit(X[train], y[train]),
    "PooledTasks(RidgeCV)": PooledTasks(ridge, task_column=-1).fit(X[train], y[train]),
    "ClusteredRegressor": clustered,
    "TaskRelationRegressor": relation,
}
scores = {
    name: task_scores(y[test], model.predict(X[test]), tasks[test], "r2")
    for name, model in models.items()
}
baseline = scores["IndependentTasks(RidgeCV)"]
for name, task_r2 in scores.items():
    better = np.sum(task_r2 > baseline)
    print(f"{name:26s} mean test R^2 {task_r2.mean():6.3f}   "
          f"better than independent on {better:2d} of {len(task_r2)} tasks")

# %%
# Per-task scores, tasks ordered by their number of training rows (the
# axis is cut at R^2 = -1).
order = np.argsort(n_train, kind="stable")
fig, ax = plt.subplots(figsize=(9, 4), constrained_layout=True)
for name, task_r2 in scores.items():
    ax.plot(np.arange(len(order)), task_r2[order], marker="o", label=name)
ax.set_xticks(np.arange(len(order)))
ax.set_xticklabels([f"{t}\n({n})" for t, n in zip(order, n_train[order])])
ax.set_xlabel("task (training rows)")
ax.set_ylabel("test R^2")
ax.set_ylim(max(ax.get_ylim()[0], -1.0), 1.0)
ax.legend(fontsize="small")
plt.show()
