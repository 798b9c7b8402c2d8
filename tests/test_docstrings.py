"""The Examples sections of public docstrings run and print what they claim."""

import doctest
import importlib
import pkgutil

import pytest

import skmtl

# Subpackages still being written are picked up automatically once importable.
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(skmtl.__path__, prefix="skmtl.")
    if info.name != "skmtl.__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0
