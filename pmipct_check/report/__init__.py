"""One result model, many renderers (as ruff's emitters): ``render(result, fmt, **opts) -> str``,
and ``write(result, fmt, out, **opts)`` for a file (streamed by formats that can: json).

Formats for ``check --format``: ``text`` (rich; ``width``, ``color``, ``profile``), ``json``
(versioned document, ``schema.json``; ``include_messages``), ``junit`` (``fail_on``),
``sarif``, ``github``; and ``html`` (the self-contained report page; ``profile``, ``title``).
Ladders: :mod:`pmipct_check.report.ladder` (model, terminal) and
:mod:`pmipct_check.report.export` (svg, html, txt, mmd, puml).
"""

from __future__ import annotations

import importlib
from typing import Any, TextIO

from ..rules.model import CheckResult

#: format name -> module under pmipct_check.report with ``render(result, **opts) -> str``.
FORMATS = {
    "text": "text",
    "json": "jsonfmt",
    "junit": "junit",
    "sarif": "sarif",
    "github": "github",
    "html": "html",
}


def _module(fmt: str) -> Any:
    module = FORMATS.get(fmt)
    if module is None:
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    return importlib.import_module(f"{__name__}.{module}")


def render(result: CheckResult, fmt: str, **opts: Any) -> str:
    """``result`` in format ``fmt``; unknown options are ignored by formats that do not use them."""
    return _module(fmt).render(result, **opts)


def write(result: CheckResult, fmt: str, out: TextIO, **opts: Any) -> None:
    """What :func:`render` returns, written to ``out``; a format with its own ``write`` streams it."""
    module = _module(fmt)
    if hasattr(module, "write"):
        module.write(result, out, **opts)
    else:
        out.write(module.render(result, **opts))
