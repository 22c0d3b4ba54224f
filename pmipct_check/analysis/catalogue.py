"""Where the top-level catalogue (``rules/*.toml``) is: installed as ``pmipct_check.catalogue``.

The analysis stage reads the case definitions from it and the rule stage the rules, so the
locating lives here, in the earlier stage.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path
from typing import Protocol


class CatalogueFile(Protocol):
    name: str

    def read_text(self, encoding: str = ...) -> str: ...


def catalogue_files() -> list[CatalogueFile]:
    """The catalogue's TOML files in name order, installed package first, then the checkout."""
    try:
        root = importlib.resources.files("pmipct_check.catalogue")
        files = [f for f in root.iterdir() if f.name.endswith(".toml") and f.is_file()]
        if files:
            return sorted(files, key=lambda f: f.name)
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        pass
    checkout = Path(__file__).resolve().parents[2] / "rules"
    return sorted(checkout.glob("*.toml"), key=lambda f: f.name)


def catalogue_file(name: str) -> CatalogueFile:
    for item in catalogue_files():
        if item.name == name:
            return item
    raise FileNotFoundError(f"rules/{name}: not found in the installed catalogue or the checkout")
