"""Decode and capture notices as findings (issue 9): each notice becomes one rule's finding."""

from __future__ import annotations

from collections.abc import Iterator

from ...notices import Notice
from ..context import Context, Hit
from ..model import Rule


def notice_codes(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """Every notice this rule claims (``params.codes``), with its file and frame (or offset)."""
    claimed = ctx.claimed(rule.id)
    if rule.params.get("once_per_file"):
        yield from _once_per_file(claimed)
        return
    for notice in claimed:
        where = f" at offset {notice.offset}" if notice.frame is None and notice.offset is not None else ""
        yield Hit(f"{notice.message} [{notice.code}]{where}", (notice,))


def _once_per_file(claimed: list[Notice]) -> Iterator[Hit]:
    """One finding per file and code, citing the first frame and counting the rest."""
    groups: dict[tuple[str, str], list[Notice]] = {}
    for notice in claimed:
        groups.setdefault((notice.file, notice.code), []).append(notice)
    for (_, code), notices in groups.items():
        more = f" (and {len(notices) - 1} more messages like it)" if len(notices) > 1 else ""
        yield Hit(f"{notices[0].message} [{code}]{more}", (notices[0],))


CHECKS = {"notice_codes": notice_codes}
