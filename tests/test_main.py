"""The ``skmtl`` command line, end to end through a subprocess."""

import csv
import importlib.util
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from skmtl.__main__ import main
from skmtl.datasets import make_clustered_multitask


def _run(*args, data_home=None):
    env = dict(os.environ)
    if data_home is not None:
        env["SKMTL_DATA"] = str(data_home)
    return subprocess.run(
        [sys.executable, "-m", "skmtl", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_demo_prints_per_task_table_and_flags_unrelated_tasks(tmp_path):
    out = tmp_path / "demo.json"
    result = _run("compare", "demo", "--n-splits", "3", "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "Per-task test R^2" in result.stdout
    assert result.stdout.count("unrelated") >= 3
    report = json.loads(out.read_text())["demo"]
    models = report["models"]
    comparison = report["comparison"]
    assert comparison["tasks"] == list(range(15))
    # The paired test finds the negative transfer on an unrelated task, never on a related one.
    hurt = np.array(comparison["models"]["pooled+onehot"]["per_task"]["hurt"])
    assert hurt[12:].any() and not hurt[:12].any()
    assert set(models) == {"independent", "pooled", "pooled+onehot", "mean-regularized", "hierarchical", "clustered"}
    assert len(report["tasks"]) == 15
    # Pooling helps the twelve similar tasks and hurts the three unrelated ones.
    onehot = np.array(models["pooled+onehot"]["per_task_r2_mean"])
    alone = np.array(models["independent"]["per_task_r2_mean"])
    assert np.mean(onehot[:12]) > np.mean(alone[:12]) + 0.1
    assert np.all(onehot[12:] < alone[12:])
    # The multi-task models, tuned by inner CV, keep most of pooling's gain on
    # the similar tasks without pooling's damage to the unrelated ones.
    for name in ("mean-regularized", "clustered"):
        scores = np.array(models[name]["per_task_r2_mean"])
        assert np.mean(scores[:12]) > np.mean(alone[:12]) + 0.1
        assert np.mean(scores[12:]) > np.mean(onehot[12:]) + 1.0
        assert np.mean(models[name]["explained_variance"]) > np.mean(models["independent"]["explained_variance"])


def test_school_uses_the_official_splits():
    data_home = Path(os.environ["SKMTL_DATA"])
    if not (data_home / "school" / "school.mat").exists():
        pytest.skip(f"School data not in the data home {data_home}")
    result = _run("compare", "school", "--n-splits", "1")
    assert result.returncode == 0, result.stderr
    assert "official 75/25 splits" in result.stdout
    line = next(l for l in result.stdout.splitlines() if l.startswith("pooled+onehot"))
    explained_variance = float(line.split()[1])
    # Pooled ridge with per-school offsets: about 38% on the official splits.
    assert 0.36 < explained_variance < 0.40


def test_school_missing_data_home_is_a_clear_error(tmp_path):
    result = _run("compare", "school", data_home=tmp_path)
    assert result.returncode != 0
    assert "School data file was not found" in result.stderr


def test_school_seeded_splits_with_a_train_size(tmp_path):
    data_home = Path(os.environ["SKMTL_DATA"])
    if not (data_home / "school" / "school.mat").exists():
        pytest.skip(f"School data not in the data home {data_home}")
    out = tmp_path / "school.json"
    result = _run(
        "compare", "school", "--n-splits", "2", "--train-size", "0.3",
        "--models", "independent,pooled+onehot", "--json", str(out),
    )
    assert result.returncode == 0, result.stderr
    assert "2 seeded per-school 30/70 splits" in result.stdout
    comparison = json.loads(out.read_text())["school"]["comparison"]
    assert len(comparison["tasks"]) == 139
    assert list(comparison["models"]) == ["pooled", "independent", "pooled+onehot"]


def test_bad_arguments_are_rejected():
    result = _run("compare", "demo", "--shuffle-splits", "0")
    assert result.returncode != 0 and "--shuffle-splits must be at least 1" in result.stderr
    result = _run("compare", "nowhere")
    assert result.returncode != 0 and "invalid choice" in result.stderr


def _error(capsys, *args):
    """Run ``skmtl`` in this process (fast) and return its error message."""
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    code = exc.value.code
    # _fail exits with its message; argparse prints to stderr and exits with 2.
    return code if isinstance(code, str) else capsys.readouterr().err


def test_more_bad_arguments(capsys):
    assert "--target applies to a CSV file, not to demo" in _error(capsys, "compare", "demo", "--target", "y")
    assert "--train-size must be a fraction" in _error(capsys, "compare", "demo", "--train-size", "1.5")
    assert "invalid choice: 'r3'" in _error(capsys, "compare", "demo", "--scoring", "r3")
    message = _error(capsys, "compare", "demo", "--scoring", "accuracy")
    assert "accuracy is a classification metric; demo is regression" in message


# --------------------------------------------------------------------------
# Your own data: a CSV file
# --------------------------------------------------------------------------


def _write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def long_csv(tmp_path_factory):
    """Five similar schools and one unrelated one, named by strings."""
    X, y, truth = make_clustered_multitask(
        n_samples=30, n_features=4, n_tasks=5, n_clusters=1, n_unrelated_tasks=1,
        noise=0.5, layout="long", random_state=0,
    )
    rows = [[*np.round(x[:4], 4), f"school-{int(x[4])}", round(t, 4)] for x, t in zip(X, y)]
    path = tmp_path_factory.mktemp("csv") / "scores.csv"
    return _write_csv(path, ["x0", "x1", "x2", "x3", "school", "score"], rows)


def test_csv_long_layout_end_to_end(long_csv, tmp_path):
    out, png = tmp_path / "out.json", tmp_path / "gains.png"
    # matplotlib is an optional extra: plot only where it is installed.
    plot = ["--plot", str(png)] if importlib.util.find_spec("matplotlib") else []
    result = _run(
        "compare", str(long_csv), "--target", "score", "--task-column", "school",
        "--models", "independent,pooled,kernel", "--shuffle-splits", "3", "--train-size", "0.7",
        "--json", str(out), *plot,
    )
    assert result.returncode == 0, result.stderr
    assert ("6 tasks (task column 'school'), 4 features, 180 rows; regression of 'score'; "
            "3 per-task 70/30 splits") in result.stdout
    assert "school-5" in result.stdout
    assert "[compare] 9/9 fits" in result.stderr  # progress goes to stderr
    report = json.loads(out.read_text())["csv"]
    comparison = report["comparison"]
    assert comparison["tasks"] == [f"school-{t}" for t in range(6)]
    assert list(comparison["models"]) == ["independent", "pooled", "kernel"]
    assert comparison["n_splits"] == 3
    # Pooling all schools hurts the unrelated one most.
    gains = comparison["models"]["pooled"]["per_task"]["gain_vs_independent"]
    assert int(np.argmin(gains)) == 5
    assert report["data"]["features"] == ["x0", "x1", "x2", "x3"]
    if plot:
        assert png.exists() and png.stat().st_size > 5000
        assert "Per-task gains of 'kernel' plotted to" in result.stdout


def test_csv_wide_layout_with_missing_labels(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    Y = np.column_stack([X[:, 0], X[:, 0] + 0.5 * X[:, 1], -X[:, 2]]) + 0.1 * rng.randn(60, 3)
    Y[::7, 1] = np.nan
    rows = [[*np.round(x, 4), *["" if np.isnan(v) else round(v, 4) for v in y]] for x, y in zip(X, Y)]
    path = _write_csv(tmp_path / "wide.csv", ["a", "b", "c", "y1", "y2", "y3"], rows)
    out = tmp_path / "wide.json"
    result = _run(
        "compare", str(path), "--target", "y1,y2,y3", "--models", "independent,pooled",
        "--scoring", "rmse", "--json", str(out), "-q",
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # --quiet: no progress
    comparison = json.loads(out.read_text())["csv"]["comparison"]
    assert comparison["scoring"] == "rmse" and comparison["tasks"] == [0, 1, 2]
    assert comparison["models"]["pooled"]["summary"]["n_hurt"] == 3


def test_csv_errors_are_clear(long_csv, tmp_path, capsys):
    # End to end once: a missing file fails with a non-zero exit code.
    result = _run("compare", str(tmp_path / "missing.csv"), "--target", "score")
    assert result.returncode != 0 and "skmtl: error: file not found" in result.stderr
    # The other errors in this process (same code path, no interpreter start-up).
    path = str(long_csv)
    message = _error(capsys, "compare", path, "--target", "grade", "--task-column", "school")
    assert "column 'grade' not found" in message and "x0, x1" in message
    message = _error(capsys, "compare", path, "--target", "score", "--task-column", "school",
                     "--models", "independent,group_lasso")
    assert "unknown model name 'group_lasso'" in message and "group-lasso" in message
    assert "--target is required" in _error(capsys, "compare", path, "--task-column", "school")
    message = _error(capsys, "compare", path, "--target", "score", "--task-column", "score")
    assert "cannot be both the target and the task column" in message
    classes = _write_csv(tmp_path / "classes.csv", ["x", "t", "y"],
                         [[i, "ab"[i % 2], "yes" if i % 3 else "no"] for i in range(40)])
    message = _error(capsys, "compare", str(classes), "--target", "y", "--task-column", "t",
                     "--models", "kernel")
    assert "'kernel' model is for regression targets" in message
    message = _error(capsys, "compare", str(classes), "--target", "y", "--task-column", "t",
                     "--scoring", "rmse")
    assert "--scoring rmse is a regression metric but the target holds classes" in message
    message = _error(capsys, "compare", path, "--target", "score", "--task-column", "school",
                     "--scoring", "roc_auc")
    assert "--scoring roc_auc needs class labels but the target is continuous" in message
    bad = _write_csv(tmp_path / "bad.csv", ["x", "t", "y"], [["1.0", "a", "2"], ["oops", "a", "3"]])
    message = _error(capsys, "compare", str(bad), "--target", "y", "--task-column", "t")
    assert "column 'x' of" in message and "not numeric (line 3: 'oops')" in message
    gap = _write_csv(tmp_path / "gap.csv", ["x", "t", "y"], [["1.0", "a", "2"], ["", "a", "3"]])
    message = _error(capsys, "compare", str(gap), "--target", "y", "--task-column", "t")
    assert "feature column 'x' has 1 missing value(s)" in message
    single = _write_csv(tmp_path / "single.csv", ["x", "t", "y"],
                        [["1.0", "a", "2"], ["2.0", "a", "3"], ["0.5", "b", "1"]])
    message = _error(capsys, "compare", str(single), "--target", "y", "--task-column", "t")
    assert "1 task(s) have a single row" in message
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("x,t,y\n1.0,a,2\n2.0,a\n")
    message = _error(capsys, "compare", str(ragged), "--target", "y", "--task-column", "t")
    assert "line 3 of" in message and "has 2 fields; the header has 3" in message


def test_csv_task_labels_are_kept_as_written_after_a_byte_order_mark(tmp_path, capsys):
    rng = np.random.RandomState(0)
    labels = ["1", "01", "1.0", "2", "7", "007"]  # six tasks, not the numbers 1, 2 and 7
    rows = [[label, round(x, 4), round(2 * x + 0.1 * rng.randn(), 4)] for label in labels for x in rng.randn(6)]
    path = tmp_path / "tasks.csv"
    # Spreadsheet programs save "CSV UTF-8" with a byte-order mark before "task".
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        csv.writer(f).writerows([["task", "x", "y"], *rows])
    out = tmp_path / "tasks.json"
    main(["compare", str(path), "--target", "y", "--task-column", "task", "-q",
          "--models", "independent,pooled", "--n-splits", "2", "--json", str(out)])
    stdout = capsys.readouterr().out
    assert "6 tasks (task column 'task')" in stdout  # the heading
    assert "over 2 splits, 6 tasks." in stdout  # the table
    assert json.loads(out.read_text())["csv"]["comparison"]["tasks"] == sorted(labels)


def test_csv_missing_task_labels_name_their_lines(tmp_path, capsys):
    lines = ["x,t,y"] + [f"{i},{'ab'[i % 2]},{i}" for i in range(12)]
    # Data rows 2, 3, 5, 6, 8, 9 and 11 have no task (empty or pandas'
    # missing-value markers); a blank line shifts the later line numbers.
    for i, marker in zip((2, 3, 5, 6, 8, 9, 11), ("NA", "", "#N/A", "<NA>", "NULL", "nan", " NA ")):
        lines[i + 1] = f"{i},{marker},{i}"
    lines.insert(6, "")
    path = tmp_path / "na.csv"
    path.write_text("\n".join(lines) + "\n")
    message = _error(capsys, "compare", str(path), "--target", "y", "--task-column", "t")
    assert "task column 't' has no task on 7 row(s) (line(s) 4, 5, 8, 9, 11, ...)" in message
    assert "missing-value marker such as NA" in message
    # A task may still be called "na" or "None!": only the exact markers are missing.
    lines = ["x,t,y"] + [f"{i},{('na', 'None!')[i % 2]},{i}" for i in range(8)]
    path.write_text("\n".join(lines) + "\n")
    main(["compare", str(path), "--target", "y", "--task-column", "t", "-q", "--models", "independent",
          "--n-splits", "1", "--train-size", "0.5"])
    assert "over 1 splits, 2 tasks." in capsys.readouterr().out


def test_csv_class_labels_are_compared_with_logistic_baselines(tmp_path, capsys):
    rng = np.random.RandomState(0)
    X = rng.randn(90, 2)
    sites = np.repeat(["north", "south", "west"], 30)
    labels = np.where(X[:, 0] + 0.5 * rng.randn(90) > 0, "pass", "fail")
    rows = [[*np.round(x, 4), s, label] for x, s, label in zip(X, sites, labels)]
    path = _write_csv(tmp_path / "classes.csv", ["a", "b", "site", "result"], rows)
    out = tmp_path / "classes.json"
    main(["compare", str(path), "--target", "result", "--task-column", "site", "-q",
          "--n-splits", "3", "--json", str(out)])
    stdout = capsys.readouterr().out
    assert "Per-task test accuracy (greater is better)" in stdout
    comparison = json.loads(out.read_text())["csv"]["comparison"]
    assert comparison["tasks"] == ["north", "south", "west"]
    assert list(comparison["models"]) == [
        "independent", "pooled", "pooled+onehot", "mean-regularized", "hierarchical"
    ]  # no kernel
    assert comparison["models"]["pooled"]["summary"]["mean_score"] > 0.7
    main(["compare", str(path), "--target", "result", "--task-column", "site", "-q",
          "--n-splits", "2", "--models", "mean-regularized,clustered,hierarchical", "--json", str(out)])
    comparison = json.loads(out.read_text())["csv"]["comparison"]
    for name in ("mean-regularized", "clustered", "hierarchical"):  # the logistic multi-task models
        assert comparison["models"][name]["summary"]["mean_score"] > 0.7


def test_plot_without_matplotlib_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    message = _error(capsys, "compare", "demo", "--plot", "gains.png")
    assert "--plot needs matplotlib" in message


def test_csv_with_the_multi_task_models(long_csv, tmp_path, capsys):
    out = tmp_path / "models.json"
    main(["compare", str(long_csv), "--target", "score", "--task-column", "school", "-q",
          "--models", "independent,group-lasso,trace-norm,mlp", "--shuffle-splits", "2", "--json", str(out)])
    comparison = json.loads(out.read_text())["csv"]["comparison"]
    assert {"independent", "group-lasso", "trace-norm", "mlp"} <= set(comparison["models"])
    for name in ("group-lasso", "trace-norm"):
        # Five similar schools: a shared-structure linear model is at least fair.
        assert comparison["models"][name]["summary"]["mean_score"] > 0.5


# --------------------------------------------------------------------------
# What a new user ran into (issue 16)
# --------------------------------------------------------------------------


def _subjects_csv(path, n_tasks=6, n_rows=20, target=None):
    """Parkinsons-like rows: subjects as tasks, a per-subject age, near-duplicate measures.

    ``target(value)`` formats each target cell (numbers by default).
    """
    rng = np.random.RandomState(0)
    rows = []
    for subject in range(1, n_tasks + 1):
        age = rng.randint(50, 80)
        jitter = np.abs(rng.randn(n_rows)) / 100
        ddp = 3 * jitter + 1e-5 * rng.randn(n_rows)  # Jitter:DDP = 3 x Jitter:RAP
        y = 0.3 * age + 300 * jitter + rng.randn(n_rows)
        rows += [[subject, age, round(j, 6), round(d, 6), round(v, 3) if target is None else target(v)]
                 for j, d, v in zip(jitter, ddp, y)]
    return _write_csv(path, ["subject#", "age", "Jitter:RAP", "Jitter:DDP", "total_UPDRS"], rows)


def test_text_target_needs_a_task_type_and_the_header_says_which_runs(tmp_path, capsys):
    # "34.4 pts": numbers with a unit are not 120 classes.
    path = _subjects_csv(tmp_path / "pts.csv", target=lambda v: f"{v:.1f} pts")
    args = ["compare", str(path), "--target", "total_UPDRS", "--task-column", "subject#"]
    message = _error(capsys, *args)
    assert message.startswith("skmtl: error: target column 'total_UPDRS' holds text")
    assert "pts' on line 2" in message and "--task-type classification" in message
    message = _error(capsys, *args, "--task-type", "regression")
    assert "--task-type regression needs a numeric target" in message
    message = _error(capsys, "compare", "demo", "--task-type", "classification")
    assert "--task-type applies to a CSV file" in message
    # Numbers: a regression unless asked otherwise; the header says which.
    path = _subjects_csv(tmp_path / "numbers.csv")
    main(["compare", str(path), "--target", "total_UPDRS", "--task-column", "subject#", "-q",
          "--models", "independent", "--shuffle-splits", "2"])
    assert "120 rows; regression of 'total_UPDRS'; 2 per-task 75/25 splits" in capsys.readouterr().out
    grades = _write_csv(tmp_path / "grades.csv", ["x", "t", "grade"],
                        [[i % 5, "ab"[i % 2], 1 + (i // 2) % 2] for i in range(24)])
    main(["compare", str(grades), "--target", "grade", "--task-column", "t", "-q",
          "--models", "independent", "--shuffle-splits", "2", "--task-type", "classification"])
    out = capsys.readouterr().out
    assert "classification of 'grade' (2 classes)" in out and "Per-task test accuracy" in out


@pytest.mark.filterwarnings("error")
def test_a_default_run_on_subjects_prints_no_warning(tmp_path, capsys):
    # Every warning is an error here: none may come from the default models.
    path = _subjects_csv(tmp_path / "subjects.csv")
    main(["compare", str(path), "--target", "total_UPDRS", "--task-column", "subject#",
          "--shuffle-splits", "2"])
    captured = capsys.readouterr()
    assert "Warnings during the fits" not in captured.out
    progress = captured.err.strip().splitlines()
    assert all(line.startswith("[compare] ") for line in progress)
    assert progress[-1].startswith("[compare] 12/12 fits")


def test_the_mean_regularized_grid_converges_on_parkinsons():
    # Its weakest grid point on Parkinsons' near-duplicate voice measures
    # needed ~2,000 iterations: with 1,000 every outer split warned.
    path = Path(os.environ["SKMTL_DATA"]) / "parkinsons" / "parkinsons_updrs.data"
    if not path.exists():
        pytest.skip(f"Parkinsons data not in the data home {path.parent.parent}")
    from skmtl.__main__ import _build_models
    from skmtl.model_selection import TaskStratifiedShuffleSplit

    A = np.loadtxt(path, delimiter=",", skiprows=1)
    X, y = np.c_[A[:, 1:4], A[:, 6:], A[:, 0]], A[:, 5]
    train, _ = next(TaskStratifiedShuffleSplit(1, train_size=0.5, test_size=0.5, task_column=-1,
                                               random_state=0).split(X))
    search = _build_models(["mean-regularized"], -1, False, len(train), 0)["mean-regularized"]
    weakest = {"meanregularizedregressor__alpha": min(search.param_grid["meanregularizedregressor__alpha"]),
               "meanregularizedregressor__mixing": max(search.param_grid["meanregularizedregressor__mixing"])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        search.estimator.set_params(**weakest).fit(X[train], y[train])


def test_a_single_class_task_is_one_error_line_before_fitting(tmp_path, capsys):
    rows = [[i, t, "yes" if t == "c" or i % 2 else "no"] for t in "abc" for i in range(10)]
    path = _write_csv(tmp_path / "single.csv", ["x", "site", "passed"], rows)
    message = _error(capsys, "compare", str(path), "--target", "passed", "--task-column", "site")
    assert message == (
        "skmtl: error: task 'c' (column 'site') has a single class ('yes') in the target: a "
        "per-task classifier needs two; leave the task out of the file"
    )
    assert capsys.readouterr().err == ""  # no fit started
    # One "no" in task c: some training splits lack it.
    rows[20][2] = "no"
    _write_csv(path, ["x", "site", "passed"], rows)
    message = _error(capsys, "compare", str(path), "--target", "passed", "--task-column", "site")
    assert "task 'c' (column 'site') has" in message and "training row(s) of class 'no' in split" in message


def test_cv_is_k_fold_within_tasks_and_random_splits_have_their_own_option(long_csv, tmp_path, capsys):
    out = tmp_path / "kfold.json"
    main(["compare", str(long_csv), "--target", "score", "--task-column", "school", "-q",
          "--models", "independent", "--cv", "3", "--json", str(out)])
    assert "180 rows; regression of 'score'; 3-fold CV within every task" in capsys.readouterr().out
    comparison = json.loads(out.read_text())["csv"]["comparison"]
    assert comparison["n_splits"] == 3
    # Each task's 30 rows: 10 test rows per fold, every row tested once.
    assert comparison["models"]["independent"]["per_task"]["n_scored"] == [3] * 6
    message = _error(capsys, "compare", str(long_csv), "--target", "score", "--task-column", "school",
                     "--cv", "3", "--train-size", "0.5")
    assert "--cv (K-fold) and --train-size (random splits) are two protocols" in message
    message = _error(capsys, "compare", str(long_csv), "--target", "score", "--task-column", "school",
                     "--cv", "31")
    assert message.startswith("skmtl: error: --cv 31: ") and "needs at least 31 rows per task" in message


def test_all_tasks_and_the_plotted_model_are_chosen_on_the_command_line(tmp_path, capsys):
    rng = np.random.RandomState(0)
    rows = [[round(x, 3), f"t{t:02d}", round(x + rng.randn(), 3)] for t in range(32) for x in rng.randn(8)]
    path = _write_csv(tmp_path / "many.csv", ["x", "task", "y"], rows)
    args = ["compare", str(path), "--target", "y", "--task-column", "task", "-q",
            "--models", "independent,pooled", "--shuffle-splits", "2"]
    main(args)
    out = capsys.readouterr().out
    assert "of 32 tasks shown" in out and "; --all-tasks for all)" in out
    assert "report(max_tasks" not in out
    main([*args, "--all-tasks"])
    out = capsys.readouterr().out
    assert all(f"t{t:02d}" in out for t in range(32)) and "tasks shown" not in out
    message = _error(capsys, *args, "--plot-model", "pooled")
    assert "--plot-model chooses the model of --plot PATH" in message
    message = _error(capsys, *args, "--plot", str(tmp_path / "g.png"), "--plot-model", "kernel")
    assert "--plot-model 'kernel' is not among the compared models: independent, pooled" in message
    if importlib.util.find_spec("matplotlib"):
        main([*args, "--plot", str(tmp_path / "g.png"), "--plot-model", "pooled"])
        assert "Per-task gains of 'pooled' plotted to" in capsys.readouterr().out
