"""Shared test helpers: where the third-party captures are, and whether tshark is here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_CAPTURES = ROOT.parent / "shared" / "captures"
TCPDUMP_MOBILITY = SHARED_CAPTURES / "tcpdump-mobility"
PROJECT_CAPTURES = ROOT / "captures"


@pytest.fixture
def tcpdump_mobility() -> Path:
    """The tcpdump project's mobility-header captures, read in place (never copied)."""
    if not TCPDUMP_MOBILITY.is_dir():
        pytest.skip("../shared/captures/tcpdump-mobility is absent")
    return TCPDUMP_MOBILITY


@pytest.fixture
def tshark() -> str:
    path = shutil.which("tshark")
    if path is None:
        pytest.skip("tshark is not installed")
    return path
