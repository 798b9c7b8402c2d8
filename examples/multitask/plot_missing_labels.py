# SPDX-License-Identifier: BSD-3-Clause
"""
=============================================
Missing labels in the wide layout cost no row
=============================================

In the wide layout ``Y`` has one column per task and ``NaN`` marks a missing
label. skmtl leaves a missing entry out of that task only: the row still
trains the other tasks. Dropping every row with a missing label (what a
plain multi-output regressor forces you to do) throws data away.
"""

# %%
# Twelve similar tasks sharing one design; 15 % of the labels are missing
# at random, so most rows miss at least one task's label.
import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score

from skmtl.datasets import make_clustered_multitask
from skmtl.multitask import IndependentTasks

X, Y, truth = make_clustered_multitask(
    n_samples=300, n_features=10, n_tasks=12, n_clusters=1, noise=1.0, random_state=0
)
rng = np.random.RandomState(0)
train = rng.rand(len(X)) < 0.5
Y_train = Y[train].copy()
Y_train[rng.rand(*Y_train.shape) < 0.15] = np.nan
complete = ~np.isnan(Y_train).any(axis=1)
print(f"training rows: {train.sum()}, rows with every label: {complete.sum()}")

# %%
# One ridge per task, trained on every label of its task versus only on the
# rows with all labels present.
model = IndependentTasks(RidgeCV())
kept = model.fit(X[train], Y_train).predict(X[~train])
dropped = model.fit(X[train][complete], Y_train[complete]).predict(X[~train])
print(f"test R^2, missing labels masked : {r2_score(Y[~train], kept):.3f}")
print(f"test R^2, incomplete rows dropped: {r2_score(Y[~train], dropped):.3f}")
