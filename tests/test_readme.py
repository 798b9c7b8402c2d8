"""The README's quick start runs as written."""

import re
from pathlib import Path


def test_quick_start_runs(capsys):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    code = re.search(r"## Quick start\n\n```python\n(.*?)```", readme, re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    lines = capsys.readouterr().out.split("\n")
    scores = {line.split()[0]: float(line.split()[1]) for line in lines if line}
    assert set(scores) == {"IndependentTasks", "PooledTasks"}
    assert scores["PooledTasks"] > scores["IndependentTasks"]  # similar tasks: sharing helps
