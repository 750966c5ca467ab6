"""A newcomer with Python 3.12 or 3.13 can start: neither the package nor dev.py refuses a newer
Python than 3.11."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parent.parent


def _dev():
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("version", "allowed"), [("3.10.13", False), ("3.11.7", True), ("3.12.1", True), ("3.13.0", True)]
)
def test_the_package_and_dev_py_accept_every_python_from_3_11(version, allowed):
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert (version in SpecifierSet(requires)) is allowed
    assert _dev().python_supported(tuple(int(part) for part in version.split("."))) is allowed
