"""The installed package must hold every subpackage and the mapping data (a non-editable
install only gets what pyproject.toml lists)."""

from __future__ import annotations

import tomllib

from .conftest import ROOT


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {"migrate"} | {
        "migrate." + str(p.parent.relative_to(ROOT / "migrate")).replace("/", ".")
        for p in (ROOT / "migrate").glob("**/__init__.py") if p.parent != ROOT / "migrate"}
    assert on_disk | {"migrate.mappings"} == listed


def test_mappings_are_installed_as_package_data():
    from importlib.resources import files

    assert files("migrate.mappings").joinpath("README.md").is_file()
