"""Per-handover timings in seconds, named as the README and the reports show them."""

from __future__ import annotations

from ..decode.model import Message

#: timing name -> what it measures (for renderers' legends).
TIMINGS = {
    "pbu_pba": "nMAG's PBU -> the LMA's PBA",
    "ctreq_ctd": "first CT-Req -> first CTD/PCTD after it",
    "ctd_ctdr": "first CTD/PCTD -> first CTDR after it",
    "hi_hack": "first HI -> first HAck after it",
    "attach_registered": "first sign of the MN at the nMAG (its PBU, or a transfer it started) -> PBA",
    "dereg_pba": "pMAG's de-registration PBU -> its PBA",
    "transfer": "first -> last context-transfer message",
    "handover": "first -> last signalling message of the handover",
}


def _first(messages: list[Message], types: tuple[str, ...], after: int | None = None) -> Message | None:
    for m in messages:
        if m.type in types and (after is None or m.time_ns >= after):
            return m
    return None


def _span(a: Message | None, b: Message | None) -> float | None:
    if a is None or b is None:
        return None
    return (b.time_ns - a.time_ns) / 1e9


def timings(*, pbu: Message | None, pba: Message | None, deregs: tuple[Message, ...],
            transfer: list[Message], nmag_started: list[Message], everything: list[Message]) -> dict[str, float]:
    """Every timing the messages allow; absent ones are left out."""
    out: dict[str, float | None] = {"pbu_pba": _span(pbu, pba)}
    req = _first(transfer, ("CT-Req",))
    ctd = _first(transfer, ("CTD", "PCTD"), req.time_ns if req else None)
    out["ctreq_ctd"] = _span(req, ctd)
    first_ctd = _first(transfer, ("CTD", "PCTD"))
    out["ctd_ctdr"] = _span(first_ctd, _first(transfer, ("CTDR",), first_ctd.time_ns if first_ctd else None))
    hi = _first(transfer, ("HI",))
    out["hi_hack"] = _span(hi, _first(transfer, ("HAck",), hi.time_ns if hi else None))
    starts = [m for m in (pbu, *nmag_started) if m is not None]
    out["attach_registered"] = _span(min(starts, key=lambda m: m.time_ns), pba) if starts and pba else None
    dereg = _first(list(deregs), ("PBU",))
    out["dereg_pba"] = _span(dereg, _first(list(deregs), ("PBA",), dereg.time_ns if dereg else None))
    out["transfer"] = _span(transfer[0], transfer[-1]) if transfer else None
    out["handover"] = _span(everything[0], everything[-1]) if everything else None
    return {k: round(v, 9) for k, v in out.items() if v is not None}
