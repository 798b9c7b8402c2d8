"""The documentation builds offline without a single warning.

Sphinx comes with the ``test`` extra, so this test runs (and fails) rather
than being skipped when it is missing. The gallery scripts are not executed
(``plot_gallery=0``): their pages are still generated, and the scripts
themselves are examples, run by a full ``make -C doc html``.
"""

import importlib
import inspect
from pathlib import Path

from sphinx.cmd.build import build_main

DOC = Path(__file__).resolve().parents[1] / "doc"

# The subpackages whose public names (``__all__``) the API reference lists.
PUBLIC_MODULES = [
    "skmtl.base",
    "skmtl.multitask",
    "skmtl.linear_model",
    "skmtl.kernel_ridge",
    "skmtl.neural_network",
    "skmtl.metrics",
    "skmtl.model_selection",
    "skmtl.datasets",
    "skmtl.preprocessing",
    "skmtl.plotting",
    "skmtl.utils",
]


def test_doc_builds_without_warnings(tmp_path):
    out = tmp_path / "html"
    status = build_main(
        [
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-D",
            "plot_gallery=0",
            "-d",
            str(tmp_path / "doctrees"),
            str(DOC),
            str(out),
        ]
    )
    assert status == 0

    # Every public class and function has its own API page; the other
    # public names (the ready-made scorers) are listed on the API page.
    api = (out / "api.html").read_text(encoding="utf-8")
    missing = []
    for module in PUBLIC_MODULES:
        mod = importlib.import_module(module)
        for name in mod.__all__:
            if isinstance(getattr(mod, name), type) or inspect.isfunction(getattr(mod, name)):
                if not (out / "generated" / f"{module}.{name}.html").is_file():
                    missing.append(f"{module}.{name}")
            elif name not in api:
                missing.append(f"{module}.{name}")
    assert missing == []
    for page in ("index", "getting_started", "choosing_a_model", "auto_examples/index"):
        assert (out / f"{page}.html").is_file(), page


def test_gallery_runs_the_school_examples_only_with_school_in_the_data_home(tmp_path, monkeypatch):
    # The build never downloads: without School in the data home, the School
    # examples' pages are generated without running them.
    import re
    import runpy

    examples = sorted(str(p) for p in (DOC.parent / "examples").rglob("plot_*.py"))
    school = [p for p in examples if "plot_school_" in p]
    assert len(school) == 2
    for home, runs_school in ((tmp_path, False), (DOC.parents[1] / "shared" / "data", True)):
        if runs_school and not (home / "school" / "school.mat").exists():
            continue
        monkeypatch.setenv("SKMTL_DATA", str(home))
        pattern = runpy.run_path(str(DOC / "conf.py"))["sphinx_gallery_conf"]["filename_pattern"]
        executed = [p for p in examples if re.search(pattern, p)]
        assert executed == (examples if runs_school else [p for p in examples if p not in school])
