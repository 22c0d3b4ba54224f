"""The Lua generator and ``export-lua``: the plugin is made from the registry and the profile.

Where tshark is here, the plugin is installed the way the README says (into the personal plugin
folder under ``$HOME``) and Wireshark itself lists its fields, value names and preferences.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import MappingProxyType

import pytest
from click.testing import CliRunner

from pmipct_check import registry
from pmipct_check.cli import cli
from pmipct_check.lua import _check_names, _range_text, generate_lua, lua_data, to_lua
from pmipct_check.profile import parse_profile

PLUGIN_DIR = Path(".local/lib/wireshark/plugins")


def test_lua_literals() -> None:
    assert to_lua('a"b\\c\n\u00e9') == '"a\\"b\\\\c\\010\\195\\169"'
    assert to_lua({1: [1, 2], "k": {"x y": True}, "n": None}) == (
        '{\n  [1] = { 1, 2 },\n  k = {\n    ["x y"] = true,\n  },\n  n = nil,\n}'
    )
    assert to_lua([]) == "{}" and to_lua({}) == "{}"
    for bad in (1.5, {1, 2}, {(1, 2): 3}):
        with pytest.raises(TypeError):
            to_lua(bad)


def test_range_text() -> None:
    assert _range_text([10, 1, 2, 3, 7, 9]) == "1-3,7,9-10"
    assert _range_text([]) == ""
    assert _range_text([5]) == "5"


def test_data_is_the_registry_and_the_profile() -> None:
    profile = parse_profile(
        "[cxtp]\nsctp_ppis = [7, 8, 3000000000]\nsctp_ports = [9001]\nudp_ports = [7777, 7778]\n"
        "header_check = false\nlength_includes_header = false\n"
        "[codepoints]\npmag_address_option = 200\npmag_id_subtype = 5\n",
        "lab.toml",
    )
    data = lua_data(profile)
    assert data["tables"]["cxtp_type"] == dict(registry.TABLES["cxtp_type"])
    assert data["tables"]["cxtp_status"] == dict(registry.TABLES["cxtp_status"])
    assert data["cxtp"]["bodies"].keys() == registry.CXTP_BODIES.keys()
    assert [f["name"] for f in data["cxtp"]["bodies"][4]] == [f.name for f in registry.CXTP_BODIES[4]]
    assert data["cxtp"]["version_mask"] | data["cxtp"]["type_mask"] == 0xFF
    assert data["prefs"] == {
        "sctp_ppis": "7-8", "sctp_ports": "9001", "udp_ports": "7777-7778", "header_check": False,
        "length_includes_header": False, "pmag_address_option": 200, "pmag_address_subtype": 1,
        "pmag_id_option": 18, "pmag_id_subtype": 5,
    }
    assert data["fixed_ppis"] == [3000000000]
    assert data["profile_source"] == "lab.toml"
    text = generate_lua(profile)
    assert "--[[@DATA@]]" not in text
    assert text.count('"CT-Req"') == 1  # the name table is written once, as data


def test_one_shape_per_field_name() -> None:
    clash = {1: (registry.u16("seq"),), 2: (registry.u32("seq"),)}
    with pytest.raises(ValueError, match="seq"):
        _check_names(clash)
    _check_names(registry.CXTP_BODIES)


def test_export_lua_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    runner = CliRunner()
    result = runner.invoke(cli, ["export-lua", "-o", "~/" + str(PLUGIN_DIR / "pmipct.lua")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / PLUGIN_DIR / "pmipct.lua").read_text() == generate_lua()
    result = runner.invoke(cli, ["export-lua"])
    assert result.exit_code == 0 and result.output == generate_lua()
    result = runner.invoke(cli, ["export-lua", "-o", "-"])
    assert result.output == generate_lua()
    profile = tmp_path / "lab.toml"
    profile.write_text("[cxtp]\nsctp_ports = [9001]\n")
    result = runner.invoke(cli, ["export-lua", "--profile", str(profile)])
    assert 'sctp_ports = "9001"' in result.output
    profile.write_text("[cxtp]\nsctp_ports = [99999]\n")
    result = runner.invoke(cli, ["export-lua", "--profile", str(profile)])
    assert result.exit_code == 2 and "sctp_ports" in result.output


def _installed(tmp_path: Path, text: str) -> dict[str, str]:
    """Install ``text`` as the README says; environment for a tshark that loads it."""
    plugins = tmp_path / PLUGIN_DIR
    plugins.mkdir(parents=True, exist_ok=True)
    (plugins / "pmipct.lua").write_text(text, encoding="utf-8")
    return {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}


def _glossary(tshark: str, env: dict[str, str], report: str) -> list[list[str]]:
    proc = subprocess.run([tshark, "-G", report], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [line.split("\t") for line in proc.stdout.splitlines()]


def test_wireshark_lists_the_fields(tshark: str, tmp_path: Path) -> None:
    env = _installed(tmp_path, generate_lua())
    fields = {row[2]: row[3] for row in _glossary(tshark, env, "fields") if row[0] == "F"}
    required = {
        "cxtp.type": "FT_UINT8", "cxtp.version": "FT_UINT8", "cxtp.flags.v": "FT_BOOLEAN",
        "cxtp.flags.a": "FT_BOOLEAN", "cxtp.flags.s": "FT_BOOLEAN", "cxtp.length": "FT_UINT16",
        "cxtp.mn_prev_addr": "FT_IPv6", "cxtp.elapsed_ms": "FT_UINT32", "cxtp.seq": "FT_UINT32",
        "cxtp.token": "FT_UINT32", "cxtp.algorithm": "FT_UINT16", "cxtp.key_length": "FT_UINT16",
        "cxtp.key": "FT_BYTES", "cxtp.ar_addr": "FT_IPv6", "cxtp.cdb.fpt": "FT_UINT16",
        "cxtp.cdb.length": "FT_UINT8", "cxtp.cdb.p": "FT_BOOLEAN", "cxtp.cdb.presence_vector": "FT_UINT32",
        "cxtp.cdb.data": "FT_BYTES", "cxtp.status.fpt": "FT_UINT16", "cxtp.status.code": "FT_UINT8",
        "pmipct.pmag_addr": "FT_IPv6", "pmipct.pmag_id": "FT_BYTES",
    }
    assert {name: fields.get(name) for name in required} == required


def test_value_names_come_from_the_registry(tshark: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A name added to the registry shows up in Wireshark after regenerating, and only then."""
    tables = dict(registry.TABLES)
    tables["cxtp_type"] = MappingProxyType({**registry.TABLES["cxtp_type"], 8: "CT-Test"})
    tables["cxtp_fpt"] = MappingProxyType({**registry.TABLES["cxtp_fpt"], 2: "Test Context"})
    monkeypatch.setattr(registry, "TABLES", MappingProxyType(tables))
    monkeypatch.setattr(registry, "CXTP_BODIES", MappingProxyType({**registry.CXTP_BODIES, 8: registry.CXTP_BODIES[6]}))
    monkeypatch.setattr(registry, "CXTP_FLAGS", MappingProxyType({**registry.CXTP_FLAGS, 8: registry.CXTP_FLAGS[6]}))
    env = _installed(tmp_path, generate_lua())
    values = {(row[1], int(row[2], 0)): row[3] for row in _glossary(tshark, env, "values")
              if row[0] == "V" and row[1].startswith(("cxtp.", "pmipct."))}
    for table, field in (("cxtp_type", "cxtp.type"), ("cxtp_fpt", "cxtp.cdb.fpt"), ("cxtp_fpt", "cxtp.status.fpt"),
                         ("cxtp_status", "cxtp.status.code"), ("cxtp_algorithm", "cxtp.algorithm"),
                         ("addr_code", "pmipct.pmag_addr.code")):
        got = {value: name for (f, value), name in values.items() if f == field}
        assert got == dict(registry.TABLES[table]), field
    assert values[("cxtp.type", 8)] == "CT-Test"


def test_profile_sets_the_preference_defaults(tshark: str, tmp_path: Path) -> None:
    profile = parse_profile("[cxtp]\nsctp_ports = [9000, 9001]\nudp_ports = [7777]\nheader_check = false\n"
                            "[codepoints]\npmag_id_option = 201\n", "lab.toml")
    env = _installed(tmp_path, generate_lua(profile))
    proc = subprocess.run([tshark, "-G", "currentprefs"], capture_output=True, text=True, env=env, timeout=60)
    prefs = {}
    for line in proc.stdout.splitlines():
        if line.startswith(("#cxtp.", "cxtp.", "#pmipct.", "pmipct.")) and ": " in line:
            key, _, value = line.lstrip("#").partition(": ")
            prefs[key] = value
    assert prefs["cxtp.sctp_ports"] == "9000-9001"
    assert prefs["cxtp.udp_ports"] == "7777"
    assert prefs["cxtp.sctp_ppis"] == ""
    assert prefs["cxtp.header_check"] == "FALSE"
    assert prefs["pmipct.pmag_id_option"] == "201"
    assert prefs["pmipct.pmag_address_option"] == str(registry.EXPERIMENTAL_OPTION)
