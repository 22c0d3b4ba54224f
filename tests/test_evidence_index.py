"""analysis.evidence's compact option index and its C-library address shortcuts.

The option index is one shared mapping of positions per sequence of option keys, and prefix
text is made with ``inet_pton``/``inet_ntop``: both must answer exactly as the plain readings
(scanning ``fields["options"]``, Python's ``ipaddress``) do, whatever the record holds.
"""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from pmipct_check.analysis.evidence import (
    NodeKeys,
    is_all_zero_prefix,
    network_text,
    node_of,
    option,
    option_count,
    option_num,
    option_value,
    options,
    prefix_texts,
    prefixes,
)
from pmipct_check.decode.model import Message
from pmipct_check.profile import DEFAULT_PROFILE, Node, Profile


def _msg(opts: object) -> Message:
    return Message("t.pcap", 1, 0, "2001:db8::1", "2001:db8::2", "pmipv6", "PBU", {"options": opts})


def _ipaddress_text(address: str, length: object) -> str | None:
    try:
        return str(ipaddress.ip_network(f"{address}/{length}", strict=False))
    except (ValueError, TypeError):
        return None


def _ipaddress_all_zero(prefix: object) -> bool:
    if not isinstance(prefix, str):
        return True
    try:
        return ipaddress.ip_address(prefix).packed == bytes(16)
    except ValueError:
        return True


ODD_ADDRESSES = [
    "::", "::1", "2001:DB8:0:0:1::", "2001:0db8:0000::", "::ffff:192.0.2.1", "::192.0.2.1", "64:ff9b::192.0.2.1",
    "1:2:3:4:5:6:192.0.2.1", "fe80::1%eth0", "1::2:3:4:5:6:7", "1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:8:9", ":::",
    "", ":", "00000::1", " ::1", "::1 ", "192.0.2.1", "192.0.2.01", "256.0.0.1", "192.0.2", "0.0.0.0", "::0.0.0.0",
    "not-an-ip", "1:0:0:1:0:0:0:1", "0:0:1::", "::ffff:0:0",
]
hextets = st.lists(st.one_of(st.just(0), st.integers(0, 15), st.integers(0, 0xFFFF)), min_size=8, max_size=8)


@st.composite
def ipv6_texts(draw: st.DrawFn) -> str:
    """An IPv6 address in its canonical text, or written out in full with case and leading zeros varied."""
    words = draw(hextets)
    if draw(st.booleans()):
        return str(ipaddress.IPv6Address(b"".join(w.to_bytes(2, "big") for w in words)))
    return ":".join(draw(st.sampled_from(["%x", "%04x", "%X", "%04X"])) % w for w in words)


addresses = st.one_of(ipv6_texts(), st.sampled_from(ODD_ADDRESSES),
                      st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t))))
lengths = st.one_of(st.integers(-2, 130), st.sampled_from([0, 32, 48, 56, 64, 96, 128]))


@given(addresses, lengths)
def test_network_text_is_ipaddress_text(address: str, length: int) -> None:
    assert network_text.__wrapped__(address, length) == _ipaddress_text(address, length)
    assert network_text(address, length) == _ipaddress_text(address, length)


@given(st.one_of(addresses, st.none(), st.integers()))
def test_all_zero_prefix_is_ipaddress_reading(prefix: object) -> None:
    assert is_all_zero_prefix({"prefix": prefix}) is _ipaddress_all_zero(prefix)


@given(st.lists(st.fixed_dictionaries({"key": st.just("hnp"), "prefix": addresses, "prefix_len": lengths}),
                max_size=4))
def test_prefix_texts_are_the_prefixes_as_text(hnps: list[dict[str, object]]) -> None:
    msg = _msg(hnps)
    assert prefix_texts(msg) == [str(p) for p in prefixes(msg)]


KEYS = ["mn_id", "hnp", "att", "timestamp", "padn"]
entries = st.one_of(
    st.fixed_dictionaries({"key": st.sampled_from(KEYS), "value": st.integers(0, 9)}),
    st.fixed_dictionaries({"value": st.integers()}),  # no key
    st.fixed_dictionaries({"key": st.one_of(st.integers(), st.lists(st.integers(), max_size=1))}),  # odd keys
    st.integers(), st.text(max_size=2), st.none(),  # no option record at all
)


@given(st.one_of(st.lists(entries, max_size=8), st.none(), st.text(max_size=3), st.dictionaries(st.text(), st.none())))
def test_accessors_read_what_a_scan_of_the_options_reads(opts: object) -> None:
    msg = _msg(opts)
    records = [o for o in opts if isinstance(o, dict)] if isinstance(opts, list) else []
    for key in KEYS:
        scan = [o for o in records if o.get("key") == key and isinstance(o.get("key"), str)]
        assert options(msg, key) == scan and all(a is b for a, b in zip(options(msg, key), scan, strict=True))
        assert option_count(msg, key) == len(scan)
        assert option(msg, key) is (scan[0] if scan else None)
        assert option_value(msg, key) == (scan[0].get("value") if scan else None)
        assert option_num(msg, key) == (scan[0].get("value") if scan else None)


def test_index_is_shared_per_key_sequence_and_options_are_copies() -> None:
    a = _msg([{"key": "mn_id", "identifier": "a@x"}, {"key": "hnp", "prefix": "2001:db8:1::", "prefix_len": 64},
              {"key": "hnp", "prefix": "2001:db8:2::", "prefix_len": 64}])
    b = _msg([{"key": "mn_id", "identifier": "b@x"}, {"key": "hnp", "prefix": "2001:db8:3::", "prefix_len": 64},
              {"key": "hnp", "prefix": "2001:db8:4::", "prefix_len": 64}])
    assert option_value(a, "mn_id", "identifier") == "a@x" and option_value(b, "mn_id", "identifier") == "b@x"
    assert a.option_index is b.option_index  # one mapping for both: no per-message memory
    assert prefix_texts(b) == ["2001:db8:3::/64", "2001:db8:4::/64"]
    found = options(a, "hnp")
    found.clear()
    assert option_count(a, "hnp") == 2 and len(options(a, "hnp")) == 2
    assert a == _msg(a.fields["options"])  # the index is no part of the record's value


def test_node_keys_answer_as_node_of() -> None:
    profile = Profile(nodes=(Node("mag1", ("2001:db8::1", "192.0.2.1")), Node("lma", ("2001:db8::ff",))))
    for prof in (profile, DEFAULT_PROFILE):
        keys = NodeKeys(prof)
        for address in ("2001:db8::1", "2001:0db8::1", "192.0.2.1", "2001:db8::ff", "2001:db8::7", "junk", None, 5):
            assert keys[address] == node_of(prof, address)  # type: ignore[arg-type]
            assert keys[address] == node_of(prof, address)  # type: ignore[arg-type]  # and again, from the map
    assert NodeKeys(profile)["2001:0db8::1"] == "node:mag1"

