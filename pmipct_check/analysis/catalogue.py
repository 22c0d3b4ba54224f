"""Where the top-level catalogue (``rules/*.toml``) is: installed as ``pmipct_check.catalogue``.

The analysis stage reads the case definitions from it and the rule stage the rules, so the
locating lives here, in the earlier stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class CatalogueFile(Protocol):
    name: str

    def read_text(self, encoding: str = ...) -> str: ...


def catalogue_files() -> list[CatalogueFile]:
    """The catalogue's TOML files in name order, installed package first, then the checkout.

    An installed package has them in its ``catalogue`` folder and a checkout in ``rules/`` beside
    the package: both are looked at on disk first.  ``importlib.resources`` (whose import costs
    about a tenth of the start-up of a ``check``) is asked only when neither holds them: a package
    loaded from a zip, or an editable install that maps the catalogue elsewhere.
    """
    package = Path(__file__).resolve().parents[1]
    installed = package / "catalogue"
    if installed.is_dir():
        files = [f for f in installed.iterdir() if f.name.endswith(".toml") and f.is_file()]
        if files:
            return sorted(files, key=lambda f: f.name)
    checkout = package.parent / "rules"
    found = sorted(checkout.glob("*.toml"), key=lambda f: f.name)
    if found:
        return found
    try:
        import importlib.resources

        root = importlib.resources.files("pmipct_check.catalogue")
        files = [f for f in root.iterdir() if f.name.endswith(".toml") and f.is_file()]
        if files:
            return sorted(files, key=lambda f: f.name)
    except (ModuleNotFoundError, FileNotFoundError, NotADirectoryError):
        pass
    return found


def catalogue_file(name: str) -> CatalogueFile:
    for item in catalogue_files():
        if item.name == name:
            return item
    raise FileNotFoundError(f"rules/{name}: not found in the installed catalogue or the checkout")
