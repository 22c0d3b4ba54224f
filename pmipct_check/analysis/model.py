"""What the analysis stage hands on: per-MN bindings and handovers, with their evidence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..capture.model import PathSwitch
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
    # The evidence the rules and renderers read, by role in the handover (all optional):
    pbu: Message | None = None  # the nMAG's registration that moved the binding
    pba: Message | None = None  # the LMA's answer to it
    previous: Message | None = None  # the pMAG's last accepted registration before the move
    previous_pba: Message | None = None
    deregs: tuple[Message, ...] = ()  # lifetime-0 PBUs from the pMAG (and their PBAs), in time order
    cxtp: tuple[Message, ...] = ()  # CXTP messages of this MN between the two MAGs
    fho: tuple[Message, ...] = ()  # RFC 5949 HI/HAck of this MN
    mn_key: str = "mn-id"  # how the MN was identified, see Binding.key_kind
    data_path: tuple[PathSwitch, ...] = ()  # user-plane tunnel switches that time "interruption(_up)"


@dataclass(frozen=True, slots=True)
class Binding:
    """An MN's registrations over the capture: which MAG served it when."""

    mn: str
    key_kind: str  # "mn-id", "ll-id+att", "hnp" (RFC 5213 section 5.4.1 fallbacks)
    prefixes: tuple[str, ...]  # home network prefixes, "2001:db8:1::/64"
    registrations: tuple[Message, ...]  # accepted PBUs (lifetime > 0), in order


@dataclass(frozen=True, slots=True)
class Exchange:
    """A PBU and the PBA that answers it (matched by swapped addresses, sequence number, MN)."""

    pbu: Message
    pba: Message | None
    mn: str
    mag: str  # Proxy-CoA: the PBU's source
    lma: str  # the PBU's destination

    @property
    def lifetime(self) -> int:
        value = self.pbu.fields.get("lifetime")
        if type(value) is int:  # the usual case, first: rules read this ~5 times per exchange
            return value if value > 0 else 0
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    @property
    def accepted(self) -> bool | None:
        """True/False from the PBA status; None when no PBA was seen."""
        if self.pba is None:
            return None
        status = self.pba.fields.get("status")
        if type(status) is int:
            return status < 128
        return isinstance(status, int) and not isinstance(status, bool) and status < 128


@dataclass(frozen=True, slots=True)
class Analysis:
    """The analysis stage's output: every message with its MN and handover, and the roles."""

    messages: tuple[Message, ...]
    mns: tuple[str | None, ...]  # aligned with messages: the MN each message belongs to
    handover_of: tuple[str | None, ...]  # aligned with messages: Handover.id or None
    exchanges: tuple[Exchange, ...]
    bindings: tuple[Binding, ...]
    handovers: tuple[Handover, ...]
    lmas: frozenset[str] = frozenset()  # PBU destinations
    mags: frozenset[str] = frozenset()  # PBU sources and CXTP/HI peers
    names: Mapping[str, str] = field(default_factory=dict)  # address -> display name
    vantage: frozenset[str] = frozenset()  # "lma", "inter-mag", "access": which traffic is visible
    observed_mags: frozenset[str] = frozenset()  # MAG nodes whose inter-MAG traffic is visible
