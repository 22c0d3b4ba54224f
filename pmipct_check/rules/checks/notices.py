"""Decode and capture notices as findings (issue 9): each notice becomes one rule's finding."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import Context, Hit
from ..model import Rule


def notice_codes(ctx: Context, rule: Rule) -> Iterator[Hit]:
    """Every notice this rule claims (``params.codes``), with its file and frame (or offset)."""
    for notice in ctx.claimed(rule.id):
        where = f" at offset {notice.offset}" if notice.frame is None and notice.offset is not None else ""
        yield Hit(f"{notice.message} [{notice.code}]{where}", (notice,))


CHECKS = {"notice_codes": notice_codes}
