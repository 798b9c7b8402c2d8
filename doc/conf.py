# SPDX-License-Identifier: BSD-3-Clause
"""Sphinx configuration of the skmtl documentation.

Build (offline, warnings are errors)::

    python -m sphinx -W --keep-going -b html doc doc/_build/html

or ``make -C doc html``. The gallery scripts in ``examples/`` are executed
unless ``-D plot_gallery=0`` is given (``make -C doc html-noplot``) or the
``CI`` environment variable is set; ``tests/test_doc_build.py`` builds
without executing them. Nothing here needs the network: no intersphinx
mappings, and MathJax is only referenced by the generated pages.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The package is normally installed; the checkout comes first so that the
# documented code is the code next to this file.
sys.path.insert(0, str(HERE.parent))

import skmtl  # noqa: E402
import skmtl.datasets  # noqa: E402
from sphinx.ext.autosummary.generate import find_autosummary_in_files  # noqa: E402

project = "skmtl"
author = "skmtl developers"
copyright = "skmtl developers, BSD-3-Clause"
release = skmtl.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb"]

# -- API reference ----------------------------------------------------------
# autosummary never deletes a stub: one left over from a name that left the
# API would be "not included in any toctree", an error under -W. Remove only
# the stale ones, so that two builds of this tree at once do not collide.
_listed = {entry.name for entry in find_autosummary_in_files([str(HERE / "api.rst")])}
for _stub in (HERE / "generated").glob("*.rst"):
    if _stub.stem not in _listed:
        _stub.unlink(missing_ok=True)
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True}
autodoc_typehints = "none"
# numpydoc renders the Parameters/Attributes sections; listing every method
# again in a members table would duplicate autodoc's output.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- Gallery ------------------------------------------------------------------
# CI only checks that the gallery pages build; a local `make html` runs the
# scripts. The School examples read School from the data home (SKMTL_DATA,
# else the shared data folder next to the checkout, as the tests do); where
# it is absent their pages are built without running them, since the build
# never downloads.
if (HERE.parents[1] / "shared" / "data").is_dir():
    os.environ.setdefault("SKMTL_DATA", str(HERE.parents[1] / "shared" / "data"))
_HAS_SCHOOL = (Path(skmtl.datasets.get_data_home()) / "school" / "school.mat").exists()
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_" if _HAS_SCHOOL else r"/plot_(?!school_)",
    "plot_gallery": "False" if os.environ.get("CI") else "True",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skmtl",),
    "reference_url": {"skmtl": None},
    "backreferences_dir": "generated/backreferences",
    "show_memory": False,
    "image_scrapers": ("matplotlib",),
}

# -- HTML -----------------------------------------------------------------------
# alabaster ships with Sphinx: no extra dependency, and it renders the
# sidebar's toctree far faster than heavier themes (the API reference is
# ~60 pages).
html_theme = "alabaster"
html_theme_options = {
    "description": "multi-task learning for scikit-learn",
    "fixed_sidebar": True,
    "sidebar_collapse": True,
    "show_relbars": True,
}
html_title = f"skmtl {release}"
html_static_path = ["_static"]


# Class pages list skmtl's own methods, including those inherited from
# skmtl's private base classes, but not the ones scikit-learn's BaseEstimator
# and mixins add (get_params, set_params, set_output, set_*_request, ...):
# their docstrings point into scikit-learn's glossary and user guide, which
# this site does not have, and scikit-learn documents them.
def _defined_in_sklearn(obj):
    func = getattr(obj, "__func__", obj)
    return (getattr(func, "__module__", None) or "").startswith("sklearn.")


def _skip_sklearn_members(app, what, name, obj, skip, options):
    if what == "class" and _defined_in_sklearn(obj):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_sklearn_members)
