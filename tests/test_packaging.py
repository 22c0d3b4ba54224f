"""The wheel must carry every subpackage, the rule catalogue and the non-Python data files."""

from __future__ import annotations

import tomllib

from conftest import ROOT


def _declared() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return set(data["tool"]["setuptools"]["packages"])


def test_every_subpackage_is_declared() -> None:
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "pmipct_check").rglob("__init__.py")
    }
    assert found - _declared() == set()
    assert "pmipct_check.catalogue" in _declared()


def test_data_files_are_declared() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    package_data = data["tool"]["setuptools"]["package-data"]
    for package, patterns in package_data.items():
        directory = ROOT / ("rules" if package == "pmipct_check.catalogue" else package.replace(".", "/"))
        matched = [p for pattern in patterns for p in directory.glob(pattern)]
        assert matched, f"{package}: {patterns} match no file"
