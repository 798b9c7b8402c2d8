# SPDX-License-Identifier: BSD-3-Clause
"""
===================================================
Grid search over a pipeline with a task column
===================================================

School (139 schools, 15,362 students) in the long layout: a DataFrame whose
``school`` column names each row's task. ``TaskwiseStandardScaler`` scales
features within each school and passes the task column through, then a
pooled ridge with one offset per school is tuned by ``GridSearchCV`` with
per-school stratified folds. Hyper-parameters are chosen on the training
part only; the score is the School benchmark's pooled explained variance.
"""

# %%
import numpy as np
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skmtl.datasets import fetch_school, fetch_school_splits
from skmtl.metrics import explained_variance_scorer, multitask_explained_variance
from skmtl.model_selection import TaskStratifiedKFold
from skmtl.multitask import PooledTasks
from skmtl.preprocessing import TaskwiseStandardScaler

school = fetch_school(as_frame=True)
X, y = school.data, school.target.to_numpy()
train, test = fetch_school_splits()[0]

# %%
# The scaler keeps the ``school`` column in place; with pandas output the
# pooled model finds it by name.
pipe = make_pipeline(
    TaskwiseStandardScaler(task_column="school", with_std=False),
    PooledTasks(Ridge(), task_column="school", task_features="onehot"),
).set_output(transform="pandas")
search = GridSearchCV(
    pipe,
    {"pooledtasks__estimator__alpha": np.logspace(-2, 3, 6)},
    cv=TaskStratifiedKFold(3, shuffle=True, task_column="school", random_state=0),
    scoring=explained_variance_scorer,
)
search.fit(X.iloc[train], y[train])
print("chosen alpha:", search.best_params_["pooledtasks__estimator__alpha"])

# %%
pred = search.predict(X.iloc[test])
ev = multitask_explained_variance(y[test], pred, X["school"].to_numpy()[test], average="pooled")
print(f"pooled explained variance on the official split 1: {ev:.3f}")
