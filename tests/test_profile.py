"""Profile files: defaults, round trip through `profile show`, and one-line errors naming the key."""

from __future__ import annotations

import pytest

from pmipct_check.profile import DEFAULT_PROFILE, ProfileError, dump_profile, load_profile, parse_profile

LAB = """
[nodes.lma]
role = "lma"
addresses = ["2001:db8:ffff::1"]

[nodes.mag1]
role = "mag"
addresses = ["2001:db8:1::1", "192.0.2.11"]
pmag_id = "mag1"

[nodes.mag2]
addresses = ["2001:db8:2::1"]
pmag_id = "0x0a0b"

[mns."mn1@lab.example"]
addresses = ["2001:db8:a::100"]

[codepoints]
pmag_address_option = 201
option_type_map = { "7" = 8 }

[cxtp]
sctp_ports = [5555]
sctp_ppis = [99]

[timers]
ct_max_transfer_time = 0.5
"""


def test_defaults_are_the_documented_ones() -> None:
    assert DEFAULT_PROFILE.pmag_address_option == 18
    assert DEFAULT_PROFILE.pmag_address_subtype == 1
    assert DEFAULT_PROFILE.pmag_id_subtype == 2
    assert DEFAULT_PROFILE.pmip_udp_ports == frozenset({5436})
    assert DEFAULT_PROFILE.timers.ct_max_transfer_time == 0.2
    assert DEFAULT_PROFILE.cxtp_header_check is True


def test_lab_profile_values() -> None:
    p = parse_profile(LAB, "lab.toml")
    assert p.name_for("2001:db8:1::1") == "mag1"
    assert p.name_for("2001:0db8:0001::0001") == "mag1"  # canonical comparison
    assert p.name_for("2001:db8:9::1") == "2001:db8:9::1"
    assert p.node_by_pmag_id(b"\x0a\x0b").name == "mag2"
    assert p.mn_addresses == {"2001:db8:a::100": "mn1@lab.example"}
    assert p.pmag_address_option == 201
    assert p.option_type_map == {7: 8}
    assert p.cxtp_sctp_ports == frozenset({5555})
    assert p.timers.ct_max_transfer_time == 0.5
    assert p.timers.initial_bindack_timeout == 1.0


def test_dump_reads_back_identically(tmp_path) -> None:
    p = parse_profile(LAB, "lab.toml")
    path = tmp_path / "again.toml"
    path.write_text(dump_profile(p))
    again = load_profile(path)
    assert dump_profile(again).splitlines()[1:] == dump_profile(p).splitlines()[1:]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[cxtp]\nsctp_ports = [70000]", "cxtp.sctp_ports"),
        ("[cxtp]\nsctp_port = [1]", "cxtp.sctp_port: expected no such key"),
        ("[nodes.a]\naddresses = ['not-an-ip']", "nodes.a.addresses"),
        ("[nodes.a]\nrole = 'router'", "nodes.a.role"),
        ("[timers]\nct_max_transfer_time = -1", "timers.ct_max_transfer_time"),
        ("[codepoints]\noption_type_map = { x = 1 }", "codepoints.option_type_map.x"),
        ("[codepoints]\npmag_id_option = true", "codepoints.pmag_id_option"),
        ("nonsense = ", "not valid TOML"),
    ],
)
def test_errors_name_file_and_key(text: str, needle: str) -> None:
    with pytest.raises(ProfileError) as err:
        parse_profile(text, "lab.toml")
    message = str(err.value)
    assert message.startswith("lab.toml: ")
    assert needle in message
    assert "\n" not in message


def test_missing_file_is_a_profile_error(tmp_path) -> None:
    with pytest.raises(ProfileError, match="cannot read profile"):
        load_profile(tmp_path / "absent.toml")
