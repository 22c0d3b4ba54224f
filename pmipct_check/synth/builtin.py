"""The built-in scenarios: the draft's four cases, the pMAG-initiated reactive push, a handover
without context transfer, and RFC 5949's predictive and reactive flows.

Every MN lives the same life, staggered by :data:`MN_STAGGER_MS` so several MNs interleave on
the one MAG pair: initial attachment and registration at mag1 (HI=1), a re-registration (HI=5),
the handover to mag2 with the scenario's own exchange, and mag1's de-registration (HI=4,
lifetime 0).  Where mag1 de-registers after mag2 registered, the LMA ignores it and sends no PBA
(RFC 5213 section 5.3.5); in ``none`` mag1 de-registers first and the LMA accepts it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .scenario import MobileNode, Node, Scenario, ScenarioError, Step

MN_STAGGER_MS = 5.3
ATTACH_MS = 10.0  # initial registration at mag1
REREG_MS = 400.0  # re-registration at mag1
HANDOVER_MS = 800.0  # the MN attaches to mag2 (or the handover is prepared around then)
DEREG_MS = 1300.0  # mag1's late de-registration
END_MS = 1700.0  # the user plane runs until here (plus the stagger of the last MN)

NODES = (
    Node("lma", "lma", "2001:db8:ffff::1", "192.0.2.1"),
    Node("mag1", "mag", "2001:db8:ff01::1", "192.0.2.11", pmag_id="mag1"),
    Node("mag2", "mag", "2001:db8:ff02::1", "192.0.2.12", pmag_id="mag2"),
    Node("mag3", "mag", "2001:db8:ff03::1", "192.0.2.13", pmag_id="mag3"),
)


def mobile_node(i: int) -> MobileNode:
    return MobileNode(f"mn{i}", f"mn{i}@lab.example", f"2001:db8:1:{i:x}::/64",
                      f"02:00:00:00:01:{i:02x}", f"10.1.{i // 250}.{i % 250 + 1}")


def _s(at: float, action: str, **params: Any) -> Step:
    return Step(at, action, MappingProxyType(params), "built-in")


Flow = Callable[[str, float], list[Step]]


def _flow_reactive_1(mn: str, h: float) -> list[Step]:
    return [
        _s(h, "register", mag="mag2", mn=mn, hi=3, pmag_address=True),
        _s(h + 6, "ct-req", src="mag2", dst="mag1", mn=mn),
        _s(h + 9, "ctd", src="mag1", dst="mag2", mn=mn),
        _s(h + 13, "ctdr", src="mag2", dst="mag1", mn=mn),
    ]


def _flow_reactive_2(mn: str, h: float) -> list[Step]:
    return [
        _s(h, "register", mag="mag2", mn=mn, hi=3, reply_ms=7.0),
        _s(h + 2.5, "ct-req", src="mag2", dst="mag1", mn=mn),
        _s(h + 11, "ctd", src="mag1", dst="mag2", mn=mn),
        _s(h + 15, "ctdr", src="mag2", dst="mag1", mn=mn),
    ]


def _flow_proactive_1(pctd: bool) -> Flow:
    def flow(mn: str, h: float) -> list[Step]:
        return [
            _s(h - 60, "ctd", src="mag1", dst="mag2", mn=mn, pctd=pctd),
            _s(h - 56, "ctdr", src="mag2", dst="mag1", mn=mn),
            _s(h, "register", mag="mag2", mn=mn, hi=3),
        ]

    return flow


def _flow_proactive_2(mn: str, h: float) -> list[Step]:
    return [
        _s(h - 60, "ct-req", src="mag2", dst="mag1", mn=mn),
        _s(h - 57, "ctd", src="mag1", dst="mag2", mn=mn),
        _s(h - 53, "ctdr", src="mag2", dst="mag1", mn=mn),
        _s(h, "register", mag="mag2", mn=mn, hi=3),
    ]


def _flow_reactive_pmag(mn: str, h: float) -> list[Step]:
    # mag1 notices the MN has gone (link-layer timeout) after mag2 registered it: it
    # de-registers (ignored by the LMA, RFC 5213 5.3.5) and pushes the context it still holds.
    return [
        _s(h, "register", mag="mag2", mn=mn, hi=3),
        _s(h + 8, "deregister", mag="mag1", mn=mn),
        _s(h + 11, "ctd", src="mag1", dst="mag2", mn=mn),
        _s(h + 15, "ctdr", src="mag2", dst="mag1", mn=mn),
    ]


def _flow_none(mn: str, h: float) -> list[Step]:
    # mag1 sees the MN leave first: its de-registration is accepted (PBA), and mag2's
    # registration follows within MinDelayBeforeBCEDelete, accepted as an update.
    return [
        _s(h - 40, "deregister", mag="mag1", mn=mn),
        _s(h, "register", mag="mag2", mn=mn, hi=3),
    ]


def _flow_5949_predictive(mn: str, h: float) -> list[Step]:
    return [
        _s(h - 50, "hi", src="mag1", dst="mag2", mn=mn, code=0, lmaa=True),
        _s(h - 46, "hack", src="mag2", dst="mag1", mn=mn, code=5, hnp=False),
        _s(h, "register", mag="mag2", mn=mn, hi=3),
    ]


def _flow_5949_reactive(mn: str, h: float) -> list[Step]:
    return [
        _s(h, "hi", src="mag2", dst="mag1", mn=mn, code=0, lmaa=False, context_request=True),
        _s(h + 4, "hack", src="mag1", dst="mag2", mn=mn, code=6, hnp=True),
        _s(h + 7, "register", mag="mag2", mn=mn, hi=3),
    ]


@dataclass(frozen=True, slots=True)
class Builtin:
    name: str
    case: str
    description: str
    flow: Flow
    late_dereg: bool = True  # mag1 de-registers after mag2 registered (ignored, no PBA)


BUILTINS: Mapping[str, Builtin] = MappingProxyType(
    {
        b.name: b
        for b in (
            Builtin("reactive-1", "reactive-1",
                    "draft 5.1: PBA names the pMAG (pMAG_Address), then CT-Req, CTD (A), CTDR",
                    _flow_reactive_1),
            Builtin("reactive-2", "reactive-2",
                    "draft 5.2: nMAG knows the pMAG locally; CT-Req between PBU and PBA",
                    _flow_reactive_2),
            Builtin("proactive-1", "proactive-1",
                    "draft 5.3: pMAG pushes a CTD before the nMAG's PBU; CTDR", _flow_proactive_1(False)),
            Builtin("proactive-1-pctd", "proactive-1",
                    "draft 5.3 with RFC 4067's Predictive CTD (PCTD, HMAC_SHA1 key) as the push",
                    _flow_proactive_1(True)),
            Builtin("proactive-2", "proactive-2",
                    "draft 5.4: nMAG pulls (CT-Req, CTD, CTDR) before the MN attaches and registers",
                    _flow_proactive_2),
            Builtin("reactive-pmag", "reactive-pmag",
                    "draft 4.2: pMAG notices the detach, de-registers (ignored) and pushes a CTD",
                    _flow_reactive_pmag, late_dereg=False),
            Builtin("none", "none",
                    "handover with no context transfer; pMAG's de-registration comes first and is accepted",
                    _flow_none, late_dereg=False),
            Builtin("rfc5949-predictive", "rfc5949-predictive",
                    "RFC 5949 predictive: HI pMAG->nMAG (LMAA), HAck code 5, then nMAG's PBU",
                    _flow_5949_predictive),
            Builtin("rfc5949-reactive", "rfc5949-reactive",
                    "RFC 5949 reactive: HI nMAG->pMAG (Context Request), HAck code 6 with HNP, then PBU",
                    _flow_5949_reactive),
        )
    }
)


def builtin_scenario(name: str, mns: int = 1, transport: str = "ipv6") -> Scenario:
    """The named built-in scenario with ``mns`` MNs interleaved on the mag1 -> mag2 pair."""
    spec = BUILTINS.get(name)
    if spec is None:
        raise ScenarioError(f"unknown scenario {name!r} (known: {', '.join(BUILTINS)})")
    if not 1 <= mns <= 200:
        raise ScenarioError(f"--mns: expected 1..200, got {mns}")
    steps: list[Step] = []
    for i in range(1, mns + 1):
        mn, o = f"mn{i}", (i - 1) * MN_STAGGER_MS
        steps += [
            _s(o + ATTACH_MS, "register", mag="mag1", mn=mn, hi=1),
            _s(o + REREG_MS, "register", mag="mag1", mn=mn, hi=5),
            *spec.flow(mn, o + HANDOVER_MS),
        ]
        if spec.late_dereg:
            steps.append(_s(o + DEREG_MS, "deregister", mag="mag1", mn=mn))
    scenario = Scenario(
        name=name, nodes=NODES, mns=tuple(mobile_node(i) for i in range(1, mns + 1)),
        steps=(), description=spec.description, case=spec.case, transport=transport,
    )
    return scenario.with_steps(tuple(steps))


def end_ms(scenario: Scenario) -> float:
    """When the user plane stops: a while after the last step."""
    last = max((s.at_ms for s in scenario.steps), default=0.0)
    return max(last + 300.0, END_MS)
