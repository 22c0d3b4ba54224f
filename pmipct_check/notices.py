"""Notices: what any stage has to say about its input that is not a result.

A malformed option, a truncated pcap record, an SCTP message that never completed: each is a
``Notice`` naming the file (and frame, and byte offset where known) with a stable ``code`` so
that the rule engine can turn it into a finding and users can filter on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Notice:
    """One problem found in the input, located as precisely as the stage can."""

    code: str  # stable, dotted: "capture.truncated-record", "mh.option-overrun", ...
    message: str  # one line, for people
    file: str = ""
    frame: int | None = None  # 1-based frame number, None for file-level problems
    offset: int | None = None  # byte offset in the file (file-level) or in the frame
    severity: Severity = "warning"

    def where(self) -> str:
        """``file:frame`` or ``file@offset``, the form every renderer prints."""
        if self.frame is not None:
            return f"{self.file}:{self.frame}"
        if self.offset is not None:
            return f"{self.file}@{self.offset}"
        return self.file

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"code": self.code, "severity": self.severity, "message": self.message}
        if self.file:
            out["file"] = self.file
        if self.frame is not None:
            out["frame"] = self.frame
        if self.offset is not None:
            out["offset"] = self.offset
        return out
