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


def test_python_dash_m_runs_the_cli() -> None:
    """``python -m pmipct_check`` is the console script (for an interpreter without it on PATH)."""
    import subprocess
    import sys

    sample = ROOT / "captures" / "fault-context-deleted-early.pcap"
    done = subprocess.run([sys.executable, "-m", "pmipct_check", str(sample), "--format", "json", "--fail-on", "never"],
                          capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert '"rule": "DRAFT-D12"' in done.stdout
    failing = subprocess.run([sys.executable, "-m", "pmipct_check", str(sample)], capture_output=True, text=True,
                             check=False, cwd=ROOT)
    assert failing.returncode == 1  # the context deleted early is an error: the exit code comes through
