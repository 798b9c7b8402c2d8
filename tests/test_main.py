"""The ``skmtl`` command line, end to end through a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


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
    assert set(models) == {"independent", "pooled", "pooled+onehot"}
    assert len(report["tasks"]) == 15
    # Pooling helps the twelve similar tasks and hurts the three unrelated ones.
    onehot = np.array(models["pooled+onehot"]["per_task_r2_mean"])
    alone = np.array(models["independent"]["per_task_r2_mean"])
    assert np.mean(onehot[:12]) > np.mean(alone[:12]) + 0.1
    assert np.all(onehot[12:] < alone[12:])


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


def test_bad_arguments_are_rejected():
    result = _run("compare", "demo", "--n-splits", "0")
    assert result.returncode != 0 and "--n-splits must be at least 1" in result.stderr
    result = _run("compare", "nowhere")
    assert result.returncode != 0 and "invalid choice" in result.stderr
