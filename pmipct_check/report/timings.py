"""Handover timings: which keys the reports show, in which order, and their statistics.

The analysis stage fills ``Handover.timings`` (seconds; the keys are
``pmipct_check.analysis.timings.TIMINGS``).  The reports show, in this order:

=====================  ============================================================================
``pbu_pba``            nMAG's registering PBU -> the LMA's PBA
``ctreq_ctd``          first CT-Req -> first CTD/PCTD after it
``ctd_ctdr``           first CTD/PCTD -> first CTDR after it
``cr_ca``              context ready -> context activated (when the analysis provides it)
``attach_registered``  first sign of the MN at the nMAG -> registration complete (PBA)
``attach_activated``   the MN's RS (or logged ATT) -> first CTD/PCTD (access-side captures, event logs)
``att_pbu``            logged ATT event -> the nMAG's PBU
``pht_transfer``       logged PHT event -> first context-transfer message
``pba_ra``             PBA -> the RA carrying the HNP on the new access link
``interruption``       last downlink packet tunnelled to the pMAG -> first one to the nMAG
``interruption_up``    last uplink packet tunnelled from the pMAG -> first one from the nMAG
``hi_hack``            RFC 5949 HI -> HAck
``dereg_pba``          pMAG's de-registration PBU -> its PBA
``transfer``           first -> last context-transfer message
``handover``           first -> last signalling message of the handover
=====================  ============================================================================

Any other key the analysis adds is shown after these under its own name.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import methodcaller

from ..analysis.model import Handover

#: key -> label, in display order.
TIMING_LABELS: Mapping[str, str] = {
    "pbu_pba": "PBU → PBA",
    "ctreq_ctd": "CT-Req → CTD",
    "ctd_ctdr": "CTD → CTDR",
    "cr_ca": "context ready → activated",
    "attach_registered": "attach → registration complete",
    "attach_activated": "attach (RS/ATT) → context activated",
    "att_pbu": "ATT event → PBU",
    "pht_transfer": "PHT event → context transfer",
    "pba_ra": "PBA → RA with the HNP",
    "interruption": "data-path interruption",
    "interruption_up": "uplink interruption",
    "hi_hack": "HI → HAck",
    "dereg_pba": "de-registration → PBA",
    "transfer": "context transfer (first → last)",
    "handover": "handover signalling (first → last)",
}
#: The same labels without arrows, for plain ASCII output.
ASCII_LABELS: Mapping[str, str] = {k: v.replace("→", "->") for k, v in TIMING_LABELS.items()}


def label(key: str, ascii_only: bool = False) -> str:
    table = ASCII_LABELS if ascii_only else TIMING_LABELS
    return table.get(key, key)


def timing_keys(handovers: Iterable[Handover]) -> list[str]:
    """Keys present in any handover: the known ones in their order, then the rest sorted."""
    return ordered_keys({key for h in handovers for key in h.timings})


def ordered_keys(keys: Iterable[str]) -> list[str]:
    """``keys`` in display order: the known ones in their order, then the rest sorted."""
    present = set(keys)
    return [k for k in TIMING_LABELS if k in present] + sorted(present - TIMING_LABELS.keys())


@dataclass(frozen=True, slots=True)
class Stats:
    """Order statistics of one timing over many handovers (seconds)."""

    count: int
    min: float
    median: float
    p95: float
    max: float
    mean: float

    def to_json(self) -> dict[str, float | int]:
        return {"count": self.count, "min": self.min, "median": self.median, "p95": self.p95,
                "max": self.max, "mean": self.mean}


def percentile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default, Excel's PERCENTILE.INC)."""
    if not ordered:
        raise ValueError("no values")
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def stats(values: Iterable[float]) -> Stats | None:
    """Statistics of the finite values (None, NaN and infinities left out); None when there are none."""
    ordered = list(values)
    total = _finite_sum(ordered)
    if total is None:  # something to leave out (or a sum beyond a double): value by value
        ordered = [v for v in ordered if v is not None and math.isfinite(v)]
        total = math.fsum(ordered) if ordered else 0.0
    if not ordered:
        return None
    ordered.sort()
    return Stats(len(ordered), ordered[0], percentile(ordered, 0.5), percentile(ordered, 0.95),
                 ordered[-1], total / len(ordered))


def _finite_sum(values: list[float]) -> float | None:
    """The exact sum of ``values`` when every one is a finite number, else None.

    ``fsum`` is exact and order-free, and any NaN or infinity makes it non-finite (or raise):
    one C pass that stands for a per-value test on thousands of handovers' timings.
    """
    if None in values:
        return None
    try:
        total = math.fsum(values)
    except (OverflowError, ValueError):
        return None
    return total if math.isfinite(total) else None


def timing_stats(handovers: Sequence[Handover]) -> dict[str, Stats]:
    """key -> statistics over every handover that has that timing.

    Handovers are grouped by their timings' keys (a capture's thousands of handovers show a
    handful of key sequences), and each group's values are taken column by column in C
    (``zip`` over the dicts' values) rather than one Python step per value: the statistics do
    not depend on the order the values come in (sorted, then an exactly rounded sum).
    """
    groups: dict[tuple[str, ...], list[Mapping[str, float]]] = {}
    for h in handovers:
        values = h.timings
        groups.setdefault(tuple(values), []).append(values)
    columns: dict[str, list[float]] = {}
    for keys, group in groups.items():
        for key, column in zip(keys, zip(*map(_values, group), strict=True), strict=True):
            columns.setdefault(key, []).extend(column)
    out: dict[str, Stats] = {}
    for key in ordered_keys(columns):
        result = stats(columns[key])
        if result is not None:
            out[key] = result
    return out


_values = methodcaller("values")


def ms(seconds: float | None) -> str:
    """Seconds as milliseconds for people: ``12.3 ms``, ``1.204 s``."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if abs(seconds) >= 10:
        return f"{seconds:.2f} s"
    if abs(seconds) >= 1:
        return f"{seconds:.3f} s"
    value = seconds * 1000
    if abs(value) >= 100:
        return f"{value:.0f} ms"
    if abs(value) >= 1:
        return f"{value:.1f} ms"
    return f"{value:.3f} ms"
