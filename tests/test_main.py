"""The ``skmtl`` command line, end to end through a subprocess."""

import csv
import importlib.util
import json
import os
import subprocess
import sys
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
    result = _run("compare", "demo", "--n-splits", "0")
    assert result.returncode != 0 and "--n-splits must be at least 1" in result.stderr
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
        "--models", "independent,pooled,kernel", "--cv", "3", "--train-size", "0.7",
        "--json", str(out), *plot,
    )
    assert result.returncode == 0, result.stderr
    assert "6 tasks (task column 'school'), 4 features, 180 rows; 3 per-task 70/30 splits" in result.stdout
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
                         [[i, "ab"[i % 2], "yes" if i % 3 else "no"] for i in range(12)])
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
          "--models", "independent,group-lasso,trace-norm,mlp", "--cv", "2", "--json", str(out)])
    comparison = json.loads(out.read_text())["csv"]["comparison"]
    assert {"independent", "group-lasso", "trace-norm", "mlp"} <= set(comparison["models"])
    for name in ("group-lasso", "trace-norm"):
        # Five similar schools: a shared-structure linear model is at least fair.
        assert comparison["models"][name]["summary"]["mean_score"] > 0.5
