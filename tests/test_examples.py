"""Every gallery script in examples/ runs to completion (each under a minute)."""

import os
import runpy
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").rglob("*.py"))


def test_examples_exist():
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, monkeypatch, capsys):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    uses_school = "fetch_school" in script.read_text()
    if uses_school and not (Path(os.environ["SKMTL_DATA"]) / "school" / "school.mat").exists():
        pytest.skip("example needs the School data in SKMTL_DATA")
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out.strip()  # every example reports its result
