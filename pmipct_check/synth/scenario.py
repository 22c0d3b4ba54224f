"""A handover scenario as data: named nodes, mobile nodes, and a timeline of steps.

The same model serves the built-in scenarios and a lab's own TOML file, so a lab describes its
topology and flow in the vocabulary the built-ins use.  A step is one protocol action (a
registration with the LMA's answer, a CXTP message, an HI/HAck); the builder turns the timeline
into packets and adds what every real trace has around them (SCTP association set-up and SACKs,
user-plane traffic through the LMA-MAG tunnels, jitter).

TOML layout (every key below is checked; an unknown or ill-typed key is a :class:`ScenarioError`
naming it)::

    [scenario]
    name = "my-lab"                     # optional, defaults to the file name
    description = "one line"
    case = "reactive-1"                 # what the analysis should classify it as (documentation)
    transport = "ipv6"                  # or "ipv4" (RFC 5844: PBU/PBA in IPv4 UDP 5436)
    base_time = "2024-01-01T00:00:00Z"
    lifetime_s = 3600                   # granted/asked PBU lifetime
    traffic_interval_ms = 100           # user-plane downlink period per MN, 0 = none
    jitter_ms = 0.8                     # seeded timing jitter added to every step
    cxtp_sctp_port = 5500

    [[nodes]]                           # one LMA, any number of MAGs
    name = "lma"
    role = "lma"                        # or "mag"
    ipv6 = "2001:db8:ffff::1"
    ipv4 = "192.0.2.1"                  # needed with transport = "ipv4"

    [[mns]]
    name = "mn1"
    nai = "mn1@lab.example"
    hnp = "2001:db8:1:1::/64"
    ll_id = "02:00:00:00:01:01"

    [[steps]]                           # at_ms and action, then the action's keys
    at_ms = 10.0
    action = "register"
    mag = "mag1"
    mn = "mn1"
    hi = 1

See :data:`ACTIONS` for every action and its keys, ``captures/lab-example.toml`` for a whole
file, and ``pmipct-check synth NAME --dump-scenario`` for any built-in written out this way.
"""

from __future__ import annotations

import ipaddress
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .. import registry

DEFAULT_BASE_TIME = "2024-01-01T00:00:00Z"
DEFAULT_CXTP_SCTP_PORT = 5500  # RFC 4065's "Seamoby SCTP port" was never assigned; profile-settable
TRANSPORTS = ("ipv6", "ipv4")
#: Bounds on what a scenario file may ask for, so a typo cannot make synth run for hours:
#: the last step at most a day after base_time, at most this many user-plane packets.
MAX_TIMELINE_MS = 86_400_000.0
MAX_USER_PLANE_PACKETS = 5_000_000
ROLES = ("lma", "mag")
#: Option keys a PBU may leave out (faults) and a PBA may fail to echo.
PBU_OPTION_KEYS = ("mn_id", "hnp", "handoff", "att", "timestamp", "mn_ll_id", "ipv4_hoa_req")
PBA_OPTION_KEYS = ("mn_id", "hnp", "handoff", "att", "timestamp", "mn_ll_id", "ipv4_hoa_rep",
                   "pmag_address", "pmag_id")


class ScenarioError(ValueError):
    """A scenario that cannot be built; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class Node:
    """An LMA or a MAG: its name, role and addresses (IPv6 always, IPv4 for RFC 5844)."""

    name: str
    role: str
    ipv6: str
    ipv4: str = ""
    mac: str = ""  # derived from the name when empty
    pmag_id: str = ""  # identifier sent in the draft's pMAG_ID option (hex octets or text)


@dataclass(frozen=True, slots=True)
class MobileNode:
    """A mobile node: its NAI, home network prefix, link-layer identifier, IPv4 home address."""

    name: str
    nai: str
    hnp: str  # "prefix/len"
    ll_id: str = ""
    ipv4_hoa: str = ""
    att: int = 4  # IEEE 802.11a/b/g (registry "att" table)

    @property
    def prefix(self) -> ipaddress.IPv6Network:
        return ipaddress.IPv6Network(self.hnp, strict=False)

    @property
    def home_address(self) -> str:
        """The MN's address inside its HNP: the CXTP "previous IP address" (protocol notes g)."""
        return str(self.prefix.network_address + 0x100)


@dataclass(frozen=True, slots=True)
class Step:
    """One timeline entry: when (ms after the base time), what, and the action's keys."""

    at_ms: float
    action: str
    params: Mapping[str, Any] = field(default_factory=dict)
    where: str = ""  # "steps[3]" or "built-in": for error messages

    def get(self, key: str) -> Any:
        """The parameter's value, or the action's default."""
        if key in self.params:
            return self.params[key]
        return ACTIONS[self.action][key].default


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    nodes: tuple[Node, ...]
    mns: tuple[MobileNode, ...]
    steps: tuple[Step, ...]
    description: str = ""
    case: str = ""
    transport: str = "ipv6"
    base_time: str = DEFAULT_BASE_TIME
    lifetime_s: int = 3600
    traffic_interval_ms: float = 100.0
    jitter_ms: float = 0.8
    cxtp_sctp_port: int = DEFAULT_CXTP_SCTP_PORT
    source: str = "(built-in)"

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise ScenarioError(f"{self.source}: no node named {name!r}")

    def mn(self, name: str) -> MobileNode:
        for mn in self.mns:
            if mn.name == name:
                return mn
        raise ScenarioError(f"{self.source}: no mobile node named {name!r}")

    @property
    def lma(self) -> Node:
        return next(n for n in self.nodes if n.role == "lma")

    @property
    def base_time_ns(self) -> int:
        return parse_time(self.base_time, f"{self.source}: scenario.base_time") * 1_000_000_000

    def with_steps(self, steps: tuple[Step, ...]) -> Scenario:
        return replace(self, steps=tuple(sorted(steps, key=lambda s: s.at_ms)))


# --------------------------------------------------------------------------------------------
# The step vocabulary: every action and its keys, with types and defaults
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Key:
    kind: str  # node:<role>|node|mn|int|float|bool|str|list|choice
    default: Any = None
    required: bool = False
    choices: tuple[Any, ...] = ()
    help: str = ""


def _req(kind: str, help: str = "") -> Key:
    return Key(kind, required=True, help=help)


_REGISTER = {
    "mag": _req("node:mag", "the MAG sending the PBU"),
    "mn": _req("mn"),
    "hi": Key("int", 1, help="Handoff Indicator value (registry 'handoff' table)"),
    "lifetime_s": Key("int", -1, help="PBU lifetime in seconds; -1 = the scenario's lifetime_s"),
    "reply_ms": Key("float", 3.0, help="LMA processing delay before the PBA"),
    "pmag_address": Key("bool", False, help="PBA carries the draft's pMAG_Address (previous Proxy-CoA)"),
    "pmag_id": Key("bool", False, help="PBA carries the draft's pMAG_ID of the previous MAG"),
    "omit": Key("list", (), choices=PBU_OPTION_KEYS, help="PBU options left out (a fault)"),
    "pba_omit": Key("list", (), choices=PBA_OPTION_KEYS, help="PBA options the LMA fails to echo"),
    "pba_seq_delta": Key("int", 0, help="added to the echoed sequence number (a fault)"),
    "ts_offset_ms": Key("float", 0.0, help="MAG clock error in its Timestamp option"),
    "status": Key("int", -1, help="force the PBA status; -1 = what RFC 5213 section 5.3 says"),
    "reply": Key("choice", "auto", choices=("auto", "always", "never"),
                 help="auto: the LMA answers as RFC 5213 5.3.5 says; always/never override"),
    "mh_bad_checksum": Key("bool", False, help="corrupt the PBU's MH checksum"),
}
_CXTP_COMMON = {
    "src": _req("node:mag"),
    "dst": _req("node:mag"),
    "mn": _req("mn"),
    "prev_addr": Key("str", "", help="MN previous IP address; empty = the MN's address in its HNP"),
    "ordered": Key("bool", False, help="SCTP DATA chunk with U bit clear (RFC 4067 3.1 says U=1)"),
    "length_excludes_header": Key("bool", False, help="CXTP Length without the 4-octet header"),
}
_HI_COMMON = {
    "src": _req("node:mag"),
    "dst": _req("node:mag"),
    "mn": _req("mn"),
    "code": Key("int", 0),
    "mh_bad_checksum": Key("bool", False),
}

ACTIONS: Mapping[str, Mapping[str, Key]] = MappingProxyType(
    {
        "register": MappingProxyType(_REGISTER),
        "deregister": MappingProxyType({**_REGISTER, "hi": Key("int", 4), "lifetime_s": Key("int", 0)}),
        "ct-req": MappingProxyType({**_CXTP_COMMON, "token": Key("int", 0), "seq": Key("int", 0),
                                    "fpts": Key("list", (1,))}),
        "ctd": MappingProxyType({**_CXTP_COMMON, "ack": Key("bool", True), "pctd": Key("bool", False),
                                 "elapsed_ms": Key("int", 0)}),
        "ctdr": MappingProxyType({**_CXTP_COMMON, "success": Key("bool", True, help="S flag"),
                                  "status": Key("int", -1, help="FPT status; -1 = 0 on success, else BAD_CHECKSUM")}),
        "ctc": MappingProxyType(dict(_CXTP_COMMON)),
        "hi": MappingProxyType({**_HI_COMMON, "buffer": Key("bool", False, help="U flag: ask the peer to buffer packets"),
                                "forward": Key("bool", False),
                                "context_request": Key("bool", False, help="RFC 5949 option 40"),
                                "lmaa": Key("bool", True, help="RFC 5949 option 41")}),
        "hack": MappingProxyType({**_HI_COMMON, "code": Key("int", 5), "seq_delta": Key("int", 0),
                                  "hnp": Key("bool", True)}),
    }
)
ACTION_HELP: Mapping[str, str] = MappingProxyType(
    {
        "register": "PBU from a MAG and the LMA's PBA (status and reply from its binding cache)",
        "deregister": "PBU with lifetime 0 and HI=4; the LMA ignores it if the MAG is no longer the Proxy-CoA",
        "ct-req": "CXTP Context Transfer Request (nMAG -> pMAG)",
        "ctd": "CXTP Context Transfer Data, or Predictive CTD with pctd = true (pMAG -> nMAG)",
        "ctdr": "CXTP Context Transfer Data Reply (nMAG -> pMAG)",
        "ctc": "CXTP Context Transfer Cancel (nMAG -> pMAG)",
        "hi": "RFC 5949 Handover Initiate",
        "hack": "RFC 5949 Handover Acknowledge answering the last HI between the pair",
    }
)

# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

_SCENARIO_KEYS = {
    "name": str, "description": str, "case": str, "transport": str, "base_time": str,
    "lifetime_s": int, "traffic_interval_ms": (int, float), "jitter_ms": (int, float),
    "cxtp_sctp_port": int,
}
_NODE_KEYS = {"name": str, "role": str, "ipv6": str, "ipv4": str, "mac": str, "pmag_id": str}
_MN_KEYS = {"name": str, "nai": str, "hnp": str, "ll_id": str, "ipv4_hoa": str, "att": int}


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; every problem is one :class:`ScenarioError` line."""
    src = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{src}: cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{src}: not valid TOML: {exc}") from None
    return scenario_from_dict(data, src, default_name=Path(path).stem)


def scenario_from_dict(data: Mapping[str, Any], src: str, default_name: str = "scenario") -> Scenario:
    unknown = set(data) - {"scenario", "nodes", "mns", "steps"}
    if unknown:
        raise ScenarioError(f"{src}: unknown top-level key {sorted(unknown)[0]!r} "
                            "(expected scenario, nodes, mns, steps)")
    head = data.get("scenario", {})
    if not isinstance(head, Mapping):
        raise ScenarioError(f"{src}: scenario: expected a table")
    head = _typed(head, _SCENARIO_KEYS, f"{src}: scenario")
    nodes = tuple(_node(n, f"{src}: nodes[{i}]") for i, n in enumerate(_array(data, "nodes", src)))
    mns = tuple(_mn(m, f"{src}: mns[{i}]") for i, m in enumerate(_array(data, "mns", src)))
    steps = tuple(_step(s, f"steps[{i}]", src) for i, s in enumerate(_array(data, "steps", src)))
    scenario = Scenario(
        name=head.get("name", default_name), nodes=nodes, mns=mns, steps=steps,
        description=head.get("description", ""), case=head.get("case", ""),
        transport=head.get("transport", "ipv6"), base_time=head.get("base_time", DEFAULT_BASE_TIME),
        lifetime_s=head.get("lifetime_s", 3600),
        traffic_interval_ms=float(head.get("traffic_interval_ms", 100.0)),
        jitter_ms=float(head.get("jitter_ms", 0.8)),
        cxtp_sctp_port=head.get("cxtp_sctp_port", DEFAULT_CXTP_SCTP_PORT), source=src,
    )
    validate(scenario)
    return scenario.with_steps(scenario.steps)


def validate(scenario: Scenario) -> None:
    """Cross-checks: one LMA, unique names, references resolve to the right roles, values fit."""
    src = scenario.source
    if scenario.transport not in TRANSPORTS:
        raise ScenarioError(f"{src}: scenario.transport: expected one of {', '.join(TRANSPORTS)}, "
                            f"got {scenario.transport!r}")
    parse_time(scenario.base_time, f"{src}: scenario.base_time")
    if not 0 <= scenario.lifetime_s <= 0xFFFF * 4:
        raise ScenarioError(f"{src}: scenario.lifetime_s: expected 0..{0xFFFF * 4}")
    if not 1 <= scenario.cxtp_sctp_port <= 0xFFFF:
        raise ScenarioError(f"{src}: scenario.cxtp_sctp_port: expected 1..65535")
    for key in ("traffic_interval_ms", "jitter_ms"):  # not (x >= 0) also refuses nan
        if not 0 <= getattr(scenario, key) < math.inf:
            raise ScenarioError(f"{src}: scenario.{key}: expected a finite number >= 0, got {getattr(scenario, key)!r}")
    last = max((s.at_ms for s in scenario.steps), default=0.0)
    if not last <= MAX_TIMELINE_MS:
        raise ScenarioError(f"{src}: steps.at_ms: expected at most {MAX_TIMELINE_MS:.0f} (one day), got {last!r}")
    if scenario.traffic_interval_ms and (last + 1000.0) / scenario.traffic_interval_ms * max(1, len(scenario.mns)) \
            > MAX_USER_PLANE_PACKETS:
        raise ScenarioError(f"{src}: scenario.traffic_interval_ms: {scenario.traffic_interval_ms!r} ms over a "
                            f"{last:.0f} ms timeline is more than {MAX_USER_PLANE_PACKETS} user-plane packets; "
                            "expected a longer interval (or 0 for none)")
    names = [n.name for n in scenario.nodes] + [m.name for m in scenario.mns]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise ScenarioError(f"{src}: name {dup!r} is used twice (nodes and mns share one namespace)")
    if sum(n.role == "lma" for n in scenario.nodes) != 1:
        raise ScenarioError(f"{src}: nodes: expected exactly one node with role = \"lma\"")
    for i, node in enumerate(scenario.nodes):
        if scenario.transport == "ipv4" and not node.ipv4:
            raise ScenarioError(f"{src}: nodes[{i}].ipv4: required with transport = \"ipv4\"")
    for i, mn in enumerate(scenario.mns):
        if scenario.transport == "ipv4" and not mn.ipv4_hoa:
            raise ScenarioError(f"{src}: mns[{i}].ipv4_hoa: required with transport = \"ipv4\"")
    roles = {n.name: n.role for n in scenario.nodes}
    mn_names = {m.name for m in scenario.mns}
    for step in scenario.steps:
        where = f"{src}: {step.where}"
        for key, spec in ACTIONS[step.action].items():
            value = step.params.get(key)
            if value is None:
                continue
            if spec.kind.startswith("node"):
                if value not in roles:
                    raise ScenarioError(f"{where}.{key}: no node named {value!r}")
                want = spec.kind.partition(":")[2]
                if want and roles[value] != want:
                    raise ScenarioError(f"{where}.{key}: {value!r} is a {roles[value]}, expected a {want}")
            elif spec.kind == "mn" and value not in mn_names:
                raise ScenarioError(f"{where}.{key}: no mobile node named {value!r}")
            elif key == "hi" and value not in registry.TABLES["handoff"]:
                raise ScenarioError(f"{where}.hi: {value} is not a Handoff Indicator value")
            elif key == "prev_addr" and value:
                _address(value, f"{where}.prev_addr")


def parse_time(text: str, where: str) -> int:
    """RFC 3339 time -> integer epoch seconds (sub-second base times are not needed)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ScenarioError(f"{where}: expected an RFC 3339 time such as {DEFAULT_BASE_TIME}, got {text!r}") from None
    if moment.tzinfo is None:
        raise ScenarioError(f"{where}: the time needs a zone (Z or +hh:mm), got {text!r}")
    return int(moment.timestamp())


def _array(data: Mapping[str, Any], key: str, src: str) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ScenarioError(f"{src}: {key}: expected an array of tables ([[{key}]])")
    return value


def _typed(table: Mapping[str, Any], spec: Mapping[str, Any], where: str) -> dict[str, Any]:
    for key, value in table.items():
        if key not in spec:
            raise ScenarioError(f"{where}.{key}: unknown key (expected one of {', '.join(spec)})")
        want = spec[key]
        if isinstance(value, bool) or not isinstance(value, want):
            name = want.__name__ if isinstance(want, type) else "number"
            raise ScenarioError(f"{where}.{key}: expected {name}, got {value!r}")
    return dict(table)


def _address(text: str, where: str, version: int = 0) -> str:
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise ScenarioError(f"{where}: not an IP address: {text!r}") from None
    if version and addr.version != version:
        raise ScenarioError(f"{where}: expected an IPv{version} address, got {text!r}")
    return str(addr)


def _node(table: Mapping[str, Any], where: str) -> Node:
    t = _typed(table, _NODE_KEYS, where)
    for key in ("name", "role", "ipv6"):
        if key not in t:
            raise ScenarioError(f"{where}.{key}: required")
    if t["role"] not in ROLES:
        raise ScenarioError(f"{where}.role: expected \"lma\" or \"mag\", got {t['role']!r}")
    t["ipv6"] = _address(t["ipv6"], f"{where}.ipv6", 6)
    if t.get("ipv4"):
        t["ipv4"] = _address(t["ipv4"], f"{where}.ipv4", 4)
    if t.get("mac"):
        _mac(t["mac"], f"{where}.mac")
    return Node(**t)


def _mn(table: Mapping[str, Any], where: str) -> MobileNode:
    t = _typed(table, _MN_KEYS, where)
    for key in ("name", "nai", "hnp"):
        if key not in t:
            raise ScenarioError(f"{where}.{key}: required")
    try:
        net = ipaddress.IPv6Network(t["hnp"], strict=False)
    except ValueError:
        raise ScenarioError(f"{where}.hnp: expected an IPv6 prefix such as 2001:db8:1::/64, "
                            f"got {t['hnp']!r}") from None
    t["hnp"] = str(net)
    if t.get("ll_id"):
        _mac(t["ll_id"], f"{where}.ll_id")
    if t.get("ipv4_hoa"):
        t["ipv4_hoa"] = _address(t["ipv4_hoa"], f"{where}.ipv4_hoa", 4)
    if "att" in t and t["att"] not in registry.TABLES["att"]:
        raise ScenarioError(f"{where}.att: {t['att']} is not an Access Technology Type value")
    return MobileNode(**t)


def _mac(text: str, where: str) -> bytes:
    try:
        raw = bytes.fromhex(text.replace(":", "").replace("-", ""))
    except ValueError:
        raw = b""
    if len(raw) not in (6, 8):
        raise ScenarioError(f"{where}: expected a link-layer address such as 02:00:00:00:00:01, got {text!r}")
    return raw


_KIND_TYPES: Mapping[str, Any] = MappingProxyType(
    {"int": int, "float": (int, float), "bool": bool, "str": str, "list": list, "choice": str,
     "mn": str, "node": str}
)


def _step(table: Mapping[str, Any], where: str, src: str) -> Step:
    full = f"{src}: {where}"
    if "action" not in table:
        raise ScenarioError(f"{full}.action: required (one of {', '.join(ACTIONS)})")
    action = table["action"]
    if action not in ACTIONS:
        raise ScenarioError(f"{full}.action: unknown action {action!r} (expected one of {', '.join(ACTIONS)})")
    if "at_ms" not in table:
        raise ScenarioError(f"{full}.at_ms: required (milliseconds after scenario.base_time)")
    at = table["at_ms"]
    if isinstance(at, bool) or not isinstance(at, (int, float)) or at < 0:
        raise ScenarioError(f"{full}.at_ms: expected a number >= 0, got {at!r}")
    spec = ACTIONS[action]
    params: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("action", "at_ms", "note"):
            continue
        if key not in spec:
            raise ScenarioError(f"{full}.{key}: unknown key for action {action!r} "
                                f"(expected one of {', '.join(spec)})")
        kind = spec[key].kind.partition(":")[0]
        want = _KIND_TYPES[kind]
        if (isinstance(value, bool) and kind != "bool") or not isinstance(value, want):
            raise ScenarioError(f"{full}.{key}: expected {kind}, got {value!r}")
        if kind == "choice" and value not in spec[key].choices:
            raise ScenarioError(f"{full}.{key}: expected one of {', '.join(spec[key].choices)}, got {value!r}")
        if kind == "list":
            bad = [v for v in value if spec[key].choices and v not in spec[key].choices]
            if bad:
                raise ScenarioError(f"{full}.{key}: {bad[0]!r} is not one of {', '.join(spec[key].choices)}")
            value = tuple(value)
        params[key] = value
    for key, k in spec.items():
        if k.required and key not in params:
            raise ScenarioError(f"{full}.{key}: required for action {action!r}")
    return Step(float(at), action, MappingProxyType(params), where)


# --------------------------------------------------------------------------------------------
# Writing a scenario back out (a lab starts from a built-in and edits it)
# --------------------------------------------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def _table(header: str, items: list[tuple[str, Any]]) -> list[str]:
    return [header, *(f"{k} = {_toml_value(v)}" for k, v in items if v not in ("", None)), ""]


def scenario_to_toml(scenario: Scenario) -> str:
    """The scenario as a file :func:`load_scenario` reads back into the same timeline."""
    sc = scenario
    lines = [f"# pmipct-check synth scenario: {sc.name}", ""]
    lines += _table("[scenario]", [
        ("name", sc.name), ("description", sc.description), ("case", sc.case), ("transport", sc.transport),
        ("base_time", sc.base_time), ("lifetime_s", sc.lifetime_s),
        ("traffic_interval_ms", sc.traffic_interval_ms), ("jitter_ms", sc.jitter_ms),
        ("cxtp_sctp_port", sc.cxtp_sctp_port),
    ])
    for n in sc.nodes:
        lines += _table("[[nodes]]", [("name", n.name), ("role", n.role), ("ipv6", n.ipv6), ("ipv4", n.ipv4),
                                      ("mac", n.mac), ("pmag_id", n.pmag_id)])
    for m in sc.mns:
        lines += _table("[[mns]]", [("name", m.name), ("nai", m.nai), ("hnp", m.hnp), ("ll_id", m.ll_id),
                                    ("ipv4_hoa", m.ipv4_hoa), ("att", m.att)])
    for s in sc.steps:
        lines += _table("[[steps]]", [("at_ms", s.at_ms), ("action", s.action), *s.params.items()])
    return "\n".join(lines)
