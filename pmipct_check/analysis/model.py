"""What the analysis stage hands on: per-MN bindings and handovers, with their evidence."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, TypeVar

from ..capture.model import PathSwitch
from ..decode.model import Message

_Record = TypeVar("_Record")


def quick_init(cls: type[_Record]) -> type[_Record]:
    """Give a frozen, slotted dataclass an ``__init__`` that fills its slots through their descriptors.

    The generated ``__init__`` of a frozen dataclass sets each field with ``object.__setattr__``
    (looked up per field): ~0.25 us a field, 4 us for a Handover, and analysis makes one record
    per PBU (36k on the 100k bench) and per handover.  The slot descriptors' own setters, bound
    once, halve that.  Same signature, defaults and factories; the record stays frozen.
    """
    env: dict[str, Any] = {"_FACTORY": object()}
    params, body = ["self"], []
    for i, f in enumerate(fields(cls)):  # type: ignore[arg-type]
        env[f"_set{i}"] = getattr(cls, f.name).__set__
        if f.default is not MISSING:
            env[f"_default{i}"] = f.default
            params.append(f"{f.name}=_default{i}")
        elif f.default_factory is not MISSING:
            env[f"_factory{i}"] = f.default_factory
            params.append(f"{f.name}=_FACTORY")
            body.append(f" if {f.name} is _FACTORY: {f.name} = _factory{i}()")
        else:
            params.append(f.name)
        body.append(f" _set{i}(self, {f.name})")
    exec(f"def __init__({', '.join(params)}):\n" + "\n".join(body), env)  # as dataclasses make theirs
    init: Callable[..., None] = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init  # type: ignore[misc]
    return cls


#: Handover cases (draft sections 5.1-5.4, section 4.2, RFC 5949), see rules/cases.toml.
CASES = (
    "reactive-1", "reactive-2", "proactive-1", "proactive-2", "reactive-pmag",
    "rfc5949-predictive", "rfc5949-reactive", "none", "unknown",
)


@quick_init
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


@quick_init
@dataclass(frozen=True, slots=True)
class Binding:
    """An MN's registrations over the capture: which MAG served it when."""

    mn: str
    key_kind: str  # "mn-id", "ll-id+att", "hnp" (RFC 5213 section 5.4.1 fallbacks)
    prefixes: tuple[str, ...]  # home network prefixes, "2001:db8:1::/64"
    registrations: tuple[Message, ...]  # accepted PBUs (lifetime > 0), in order


@quick_init
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
