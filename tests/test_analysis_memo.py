"""correlate's memoised identity and address lookups give what the long way gives, message by message."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmipct_check.analysis.correlate import _Identities
from pmipct_check.analysis.evidence import prev_addr
from pmipct_check.capture import iter_carried
from pmipct_check.decode import Message, decode_stream
from pmipct_check.profile import DEFAULT_PROFILE

CAPTURES = sorted(p for p in (Path(__file__).resolve().parent.parent / "captures").iterdir()
                  if p.suffix in (".pcap", ".pcapng"))


def _messages(path: Path) -> list[Message]:
    found = decode_stream(iter_carried([str(path)], DEFAULT_PROFILE), DEFAULT_PROFILE)
    return sorted((m for m in found if isinstance(m, Message)), key=lambda m: m.time_ns)


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_memoised_identity_and_address_lookups_match_the_long_way(path: Path) -> None:
    messages = _messages(path)
    fast, slow = _Identities(DEFAULT_PROFILE), _Identities(DEFAULT_PROFILE)
    for msg in messages * 2:  # the second pass answers from the memos
        if msg.type in ("PBU", "PBA", "HI", "HAck"):
            create = msg.type == "PBU"
            assert fast.identify(msg, create) == slow._identify(msg, create), msg.frame
        if msg.protocol == "cxtp":
            assert fast.by_address(prev_addr(msg)) == slow._by_address(prev_addr(msg)), msg.frame  # type: ignore[arg-type]
    assert fast.alias == slow.alias and fast.alias_nets == slow.alias_nets and fast.lengths == slow.lengths
    assert {k: (v.kind, v.prefixes) for k, v in fast.mns.items()} == {k: (v.kind, v.prefixes) for k, v in slow.mns.items()}


def test_an_address_is_looked_up_again_once_a_longer_prefix_names_it() -> None:
    ids = _Identities(DEFAULT_PROFILE)
    ids.alias_nets["2001:db8:1::/48"], ids.lengths[6] = "wide", [48]
    assert ids.by_address("2001:db8:1:2::5") == "wide"
    ids._near.clear()  # as _identify does when it records a prefix
    ids.alias_nets["2001:db8:1:2::/64"], ids.lengths[6] = "narrow", [64, 48]
    assert ids.by_address("2001:db8:1:2::5") == "narrow"
