"""What the analysis stage hands on: per-MN bindings and handovers, with their evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ..decode.model import Message

#: Handover cases (draft sections 5.1-5.4, section 4.2, RFC 5949), see rules/cases.toml.
CASES = (
    "reactive-1", "reactive-2", "proactive-1", "proactive-2", "reactive-pmag",
    "rfc5949-predictive", "rfc5949-reactive", "none", "unknown",
)


@dataclass(frozen=True, slots=True)
class Handover:
    """One move of one MN's registration from a previous MAG to a new MAG.

    ``messages`` is every signalling message that belongs to the handover, in time order:
    the nMAG's PBU/PBA, the pMAG's de-registration, HI/HAck, and the CXTP exchange.
    Addresses are canonical text; display names come from the profile at render time.
    """

    id: str  # "H1", "H2", ... in order of the nMAG's registration
    mn: str  # MN identifier as text (an NAI as is), or the fallback key
    case: str  # one of CASES
    case_reason: str  # why the classifier chose the case (or why it could not)
    pmag: str | None
    nmag: str
    lma: str | None
    messages: tuple[Message, ...]
    timings: Mapping[str, float] = field(default_factory=dict)  # seconds, see README
    vantage: frozenset[str] = frozenset()  # roles whose traffic the capture shows: lma, pmag, nmag


@dataclass(frozen=True, slots=True)
class Binding:
    """An MN's registrations over the capture: which MAG served it when."""

    mn: str
    key_kind: str  # "mn-id", "ll-id+att", "hnp" (RFC 5213 section 5.4.1 fallbacks)
    prefixes: tuple[str, ...]  # home network prefixes, "2001:db8:1::/64"
    registrations: tuple[Message, ...]  # accepted PBUs (lifetime > 0), in order
