"""Every protocol fact pmipct-check knows, stated once.

The fast decoder, the scapy layers, the Lua exporter, the rule engine and the docs all read
these tables; nothing else in the code base may restate a code point.  Layouts are data: a
message or option is a tuple of :class:`Field` records, walked by whoever needs them.

Sources are the IANA registries and the RFC sections cited in ``../shared/spec/protocol-notes.md``.
Values the specifications leave open (the draft's pMAG options, CXTP's SCTP port and PPI) are
not here: they are profile settings, with defaults in :data:`PROFILE_DEFAULTS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# --------------------------------------------------------------------------------------------
# Layout vocabulary
# --------------------------------------------------------------------------------------------

#: Field kinds understood by every consumer of a layout (the fast decoder's interpreter of
#: each kind is pmipct_check/decode/fields.py; it asserts it knows every kind listed here).
#:  uint      unsigned big-endian integer of ``size`` octets (times ``scale``)
#:  flags     unsigned integer whose ``bits`` are named booleans (the rest is reserved)
#:  bits      unsigned integer split into named sub-fields by mask (``bits`` = (name, mask))
#:  ipv6 / ipv4   an address of 16 / 4 octets
#:  addr      an address whose size the message says (CXTP V flag, RFC 5949 option code)
#:  text      UTF-8 text (an NAI), the rest of the option
#:  lladdr    a link-layer address, colon-separated hex, the rest of the option
#:  bytes     opaque octets (hex); ``size`` 0 means the rest
#:  ident     MN identifier value: rendered by the preceding subtype, see MN_ID_SUBTYPES
#:  ts48_16   RFC 5213 timestamp: 48-bit seconds + 16-bit 1/65536 fractions
#:  tlvs      repeated (type 8, length 8, value) tuples (RFC 5949 Context Request)
#:  statuses  repeated (FPT 16, status 8, reserved 8) tuples (CXTP CTAA/CTDR)
#:  cdbs      repeated CXTP Context Data Blocks (RFC 4067 section 2.4)
#:  key       octets whose count is the preceding ``key_length`` field (CXTP PCTD)
#:  ipv6_list IPv6 addresses, as many as the earlier field named by ``count`` says (RFC 5142 HAS)
KINDS = frozenset(
    {"uint", "flags", "bits", "ipv6", "ipv4", "addr", "text", "lladdr", "bytes", "ident", "ts48_16", "tlvs",
     "statuses", "cdbs", "key", "ipv6_list"}
)


@dataclass(frozen=True, slots=True)
class Field:
    """One wire field: a name (also the JSON key and the Wireshark field suffix) and a kind."""

    name: str
    kind: str
    size: int = 0
    table: str = ""
    bits: tuple[tuple[str, int], ...] = ()
    scale: int = 1
    title: str = ""
    count: str = ""  # ipv6_list: the name of the field that counts its items

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown field kind {self.kind!r} for {self.name}")
        if (self.kind == "ipv6_list") != bool(self.count):
            raise ValueError(f"{self.name}: an ipv6_list names its count field, and only an ipv6_list does")


def u8(name: str, table: str = "", title: str = "") -> Field:
    return Field(name, "uint", 1, table, title=title)


def u16(name: str, table: str = "", scale: int = 1, title: str = "") -> Field:
    return Field(name, "uint", 2, table, scale=scale, title=title)


def u32(name: str, title: str = "") -> Field:
    return Field(name, "uint", 4, title=title)


def reserved(size: int, name: str = "reserved") -> Field:
    return Field(name, "uint", size, title="Reserved")


# --------------------------------------------------------------------------------------------
# Value tables (IANA registries)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MHType:
    value: int
    short: str  # the record ``type`` name (PBU/PBA are chosen by the P flag, see P_FLAG_NAMES)
    name: str
    ref: str
    protocol: str  # mipv6 | pmipv6 | fmipv6


MH_TYPES: Mapping[int, MHType] = MappingProxyType(
    {
        t.value: t
        for t in (
            MHType(0, "BRR", "Binding Refresh Request", "RFC 6275", "mipv6"),
            MHType(1, "HoTI", "Home Test Init", "RFC 6275", "mipv6"),
            MHType(2, "CoTI", "Care-of Test Init", "RFC 6275", "mipv6"),
            MHType(3, "HoT", "Home Test", "RFC 6275", "mipv6"),
            MHType(4, "CoT", "Care-of Test", "RFC 6275", "mipv6"),
            MHType(5, "BU", "Binding Update", "RFC 6275", "mipv6"),
            MHType(6, "BA", "Binding Acknowledgement", "RFC 6275", "mipv6"),
            MHType(7, "BE", "Binding Error", "RFC 6275", "mipv6"),
            MHType(8, "FBU", "Fast Binding Update", "RFC 5568", "fmipv6"),
            MHType(9, "FBack", "Fast Binding Acknowledgment", "RFC 5568", "fmipv6"),
            MHType(10, "FNA", "Fast Neighbor Advertisement", "RFC 5568", "fmipv6"),
            MHType(11, "EMH", "Experimental Mobility Header", "RFC 5096", "mipv6"),
            MHType(12, "HAS", "Home Agent Switch", "RFC 5142", "mipv6"),
            MHType(13, "HB", "Heartbeat", "RFC 5847", "pmipv6"),
            MHType(14, "HI", "Handover Initiate", "RFC 5568, RFC 5949", "fmipv6"),
            MHType(15, "HAck", "Handover Acknowledge", "RFC 5568, RFC 5949", "fmipv6"),
            MHType(16, "BR", "Binding Revocation", "RFC 5846", "pmipv6"),
            MHType(17, "LRI", "Localized Routing Initiation", "RFC 6705", "pmipv6"),
            MHType(18, "LRA", "Localized Routing Acknowledgment", "RFC 6705", "pmipv6"),
            MHType(19, "UPN", "Update Notification", "RFC 7077", "pmipv6"),
            MHType(20, "UPA", "Update Notification Acknowledgement", "RFC 7077", "pmipv6"),
            MHType(21, "FBM", "Flow Binding Message", "RFC 7109", "mipv6"),
            MHType(22, "SQ", "Subscription Query", "RFC 7161", "pmipv6"),
            MHType(23, "SR", "Subscription Response", "RFC 7161", "pmipv6"),
        )
    }
)

#: MH type -> (record type with P flag set, without). RFC 5213 section 8; RFC 5949 section 6.1.
P_FLAG_NAMES: Mapping[int, tuple[str, str]] = MappingProxyType(
    {5: ("PBU", "BU"), 6: ("PBA", "BA"), 14: ("HI", "HI"), 15: ("HAck", "HAck")}
)
#: Binding Revocation type field (RFC 5846 section 6.1): record type names.
BR_TYPES: Mapping[int, str] = MappingProxyType({1: "BRI", 2: "BRA"})

#: IANA "Binding Update Flags" (16-bit word after the sequence number).
BU_FLAGS: tuple[tuple[str, int], ...] = (
    ("A", 0x8000), ("H", 0x4000), ("L", 0x2000), ("K", 0x1000), ("M", 0x0800), ("R", 0x0400),
    ("P", 0x0200), ("F", 0x0100), ("T", 0x0080), ("B", 0x0040), ("S", 0x0020), ("D", 0x0010),
)
#: IANA "Binding Acknowledgment Flags" (octet after the status).
BA_FLAGS: tuple[tuple[str, int], ...] = (
    ("K", 0x80), ("R", 0x40), ("P", 0x20), ("T", 0x10), ("B", 0x08), ("S", 0x04), ("D", 0x02),
)
#: RFC 5568 / RFC 5949 Handover Initiate and Acknowledge flags.
HI_FLAGS: tuple[tuple[str, int], ...] = (("S", 0x80), ("U", 0x40), ("P", 0x20), ("F", 0x10))
HACK_FLAGS: tuple[tuple[str, int], ...] = (("U", 0x80), ("P", 0x40), ("F", 0x20))
#: RFC 5847 Heartbeat flags (16-bit word).
HB_FLAGS: tuple[tuple[str, int], ...] = (("U", 0x0002), ("R", 0x0001))
#: RFC 5846 sections 6.1.1-6.1.2 Binding Revocation flags: Proxy Binding (P), IPv4 HoA Binding
#: Only (V), Global (G), the same three bits in BRI and BRA (masks as Wireshark's packet-mip6.c).
BRI_FLAGS: tuple[tuple[str, int], ...] = (("P", 0x8000), ("V", 0x4000), ("G", 0x2000))
BRA_FLAGS: tuple[tuple[str, int], ...] = (("P", 0x8000), ("V", 0x4000), ("G", 0x2000))

TABLES: Mapping[str, Mapping[int, str]] = MappingProxyType(
    {
        # IANA Binding Acknowledgement status codes (RFC 5213 names where it defines them).
        "ba_status": MappingProxyType(
            {
                0: "Binding Update accepted", 1: "Accepted but prefix discovery necessary",
                2: "GRE_KEY_OPTION_NOT_REQUIRED", 3: "GRE_TUNNELING_BUT_TLV_HEADER_NOT_SUPPORTED",
                4: "MCOA NOTCOMPLETE", 5: "MCOA RETURNHOME WO/NDP",
                6: "PBU_ACCEPTED_TB_IGNORED_SETTINGSMISMATCH",
                128: "Reason unspecified", 129: "Administratively prohibited",
                130: "Insufficient resources", 131: "Home registration not supported",
                132: "Not home subnet", 133: "Not home agent for this mobile node",
                134: "Duplicate Address Detection failed", 135: "Sequence number out of window",
                136: "Expired home nonce index", 137: "Expired care-of nonce index",
                138: "Expired nonces", 139: "Registration type change disallowed",
                140: "Mobile Router Operation not permitted", 141: "Invalid Prefix",
                142: "Not Authorized for Prefix", 143: "Forwarding Setup failed",
                144: "MIPV6-ID-MISMATCH", 145: "MIPV6-MESG-ID-REQD", 146: "MIPV6-AUTH-FAIL",
                147: "Permanent home keygen token unavailable",
                148: "CGA and signature verification failed",
                149: "Permanent home keygen token exists",
                150: "Non-null home nonce index expected", 151: "SERVICE_AUTHORIZATION_FAILED",
                152: "PROXY_REG_NOT_ENABLED", 153: "NOT_LMA_FOR_THIS_MOBILE_NODE",
                154: "MAG_NOT_AUTHORIZED_FOR_PROXY_REG",
                155: "NOT_AUTHORIZED_FOR_HOME_NETWORK_PREFIX", 156: "TIMESTAMP_MISMATCH",
                157: "TIMESTAMP_LOWER_THAN_PREV_ACCEPTED",
                158: "MISSING_HOME_NETWORK_PREFIX_OPTION",
                159: "BCE_PBU_PREFIX_SET_DO_NOT_MATCH", 160: "MISSING_MN_IDENTIFIER_OPTION",
                161: "MISSING_HANDOFF_INDICATOR_OPTION", 162: "MISSING_ACCESS_TECH_TYPE_OPTION",
                163: "GRE_KEY_OPTION_REQUIRED", 164: "MCOA MALFORMED",
                165: "MCOA NON-MCOA BINDING EXISTS", 166: "MCOA PROHIBITED",
                167: "MCOA UNKNOWN COA", 168: "MCOA BULK REGISTRATION PROHIBITED",
                169: "MCOA SIMULTANEOUS HOME AND FOREIGN PROHIBITED",
                170: "NOT_AUTHORIZED_FOR_IPV4_MOBILITY_SERVICE",
                171: "NOT_AUTHORIZED_FOR_IPV4_HOME_ADDRESS",
                172: "NOT_AUTHORIZED_FOR_IPV6_MOBILITY_SERVICE",
                173: "MULTIPLE_IPV4_HOME_ADDRESS_ASSIGNMENT_NOT_SUPPORTED",
                174: "Invalid Care-of Address", 175: "INVALID_MOBILE_NODE_GROUP_IDENTIFIER",
                176: "REINIT_SA_WITH_HAC", 177: "NOT_AUTHORIZED_FOR_DELEGATED_MNP",
                178: "REQUESTED_DMNP_IN_USE", 179: "CANNOT_MEET_QOS_SERVICE_REQUEST",
                180: "CANNOT_SUPPORT_MULTIPATH_BINDING",
            }
        ),
        # RFC 6275 section 6.1.9.
        "be_status": MappingProxyType(
            {1: "Unknown binding for Home Address destination option", 2: "Unrecognized MH Type value"}
        ),
        # RFC 5213 section 8.5 / IANA Handoff Indicator values.
        "handoff": MappingProxyType(
            {
                0: "Reserved", 1: "Attachment over a new interface",
                2: "Handoff between two different interfaces of the mobile node",
                3: "Handoff between mobile access gateways for the same interface",
                4: "Handoff state unknown", 5: "Handoff state not changed (Re-registration)",
                6: "Attachment over a new interface sharing prefixes",
            }
        ),
        # RFC 5213 section 8.6 / IANA Access Technology Type values.
        "att": MappingProxyType(
            {
                0: "Reserved", 1: "Virtual", 2: "PPP", 3: "IEEE 802.3", 4: "IEEE 802.11a/b/g",
                5: "IEEE 802.16e", 6: "3GPP GERAN", 7: "3GPP UTRAN", 8: "3GPP E-UTRAN",
                9: "3GPP2 eHRPD", 10: "3GPP2 HRPD", 11: "3GPP2 1xRTT", 12: "3GPP2 UMB",
                13: "3GPP NB-IOT",
            }
        ),
        # IANA Mobile Node Identifier Option Subtypes (RFC 4283, RFC 8371).
        "mn_id_subtype": MappingProxyType(
            {1: "NAI", 2: "IPv6 Address", 3: "IMSI", 4: "P-TMSI", 5: "EUI-48", 6: "EUI-64",
             7: "GUTI", 8: "DUID"}
        ),
        # RFC 5949 section 6.2.2 and RFC 5844: option code of an address option.
        "addr_code": MappingProxyType({0: "Reserved", 1: "IPv6", 2: "IPv4"}),
        # RFC 5568 / RFC 5949 Handover Initiate and Acknowledge codes (P flag set).
        "hi_code": MappingProxyType(
            {0: "Default", 1: "FBU whose source is not PCoA", 2: "Indicate the completion of forwarding",
             3: "All available context transferred"}
        ),
        "hack_code": MappingProxyType(
            {
                0: "Handover Accepted or Successful", 1: "NCoA not valid", 2: "NCoA assigned",
                3: "Use PCoA", 4: "Message sent unsolicited",
                5: "Context Transfer Accepted or Successful", 6: "All available Context Transferred",
                128: "Handover Not Accepted, reason unspecified", 129: "Administratively prohibited",
                130: "Insufficient resources", 131: "Requested Context Not Available",
                132: "Forwarding Not Available",
            }
        ),
        # RFC 5846 section 6.1 revocation triggers and acknowledgement status.
        "br_trigger": MappingProxyType(
            {
                0: "Unspecified", 1: "Administrative Reason",
                2: "Inter-MAG Handover - same Access Type",
                3: "Inter-MAG Handover - different Access Type",
                4: "Inter-MAG Handover - Unknown", 5: "User-Initiated Session(s) Termination",
                6: "Access Network Session(s) Termination", 7: "Possible Out-of Sync BCE State",
                250: "Per-Peer Policy", 251: "Revoking Mobility Node Local Policy",
            }
        ),
        "bra_status": MappingProxyType(
            {
                0: "success", 1: "partial success", 128: "Binding Does NOT Exist",
                129: "IPv4 Home Address Option Required", 130: "Global Revocation NOT Authorized",
                131: "Revoked Mobility Session(s) Unknown", 132: "Revocation Function NOT Supported",
                133: "PMIPv6 Bindings NOT Supported",
            }
        ),
        # RFC 5844 section 3.2 IPv4 Home Address Reply status.
        "ipv4_hoa_status": MappingProxyType(
            {0: "Success", 128: "Failure, reason unspecified", 129: "Administratively prohibited",
             130: "Incorrect IPv4 home address", 131: "Invalid IPv4 address",
             132: "Dynamic IPv4 home address assignment not available"}
        ),
        # CXTP (RFC 4067 / RFC 4065 IANA registries).
        "cxtp_type": MappingProxyType(
            {1: "CTAR", 2: "CTAA", 3: "CTD", 4: "PCTD", 5: "CTDR", 6: "CTC", 7: "CT-Req"}
        ),
        "cxtp_fpt": MappingProxyType({0: "Reserved", 1: "IPv6 Multicast Listener Context"}),
        "cxtp_algorithm": MappingProxyType({1: "HMAC_SHA1"}),
        "cxtp_status": MappingProxyType({0: "success", 1: "BAD_CHECKSUM"}),
        # IANA Experimental Mobility Protocol Subtypes (ICMP type 150 / 41).
        "exp_mobility_subtype": MappingProxyType(
            {0: "CARD", 1: "CXTP", 2: "RtSolPr", 3: "PrRtAdv", 4: "HI", 5: "HAck",
             6: "RtSolPr (IPv4)", 7: "PrRtAdv (IPv4)", 8: "HI (IPv4)", 9: "HAck (IPv4)"}
        ),
        "mh_type": MappingProxyType({t.value: t.name for t in MH_TYPES.values()}),
    }
)

# The IANA "Mobility Options" names, for options whose body this tool keeps raw.
OPTION_NAMES: Mapping[int, str] = MappingProxyType(
    {
        0: "Pad1", 1: "PadN", 2: "Binding Refresh Advice", 3: "Alternate Care-of Address",
        4: "Nonce Indices", 5: "Binding Authorization Data", 6: "Mobile Network Prefix",
        7: "Mobility Header Link-Layer Address", 8: "Mobile Node Identifier",
        9: "Authentication", 10: "Mobility Message Identification", 11: "CGA Parameters Request",
        12: "CGA Parameters", 13: "Signature", 14: "Permanent Home Keygen Token",
        15: "Care-of Test Init", 16: "Care-of Test", 17: "DNS Update",
        18: "Experimental Mobility Option", 19: "Vendor Specific Mobility Option",
        20: "Service Selection", 21: "Binding Authorization Data for FMIPv6",
        22: "Home Network Prefix", 23: "Handoff Indicator", 24: "Access Technology Type",
        25: "Mobile Node Link-layer Identifier", 26: "Link-local Address", 27: "Timestamp",
        28: "Restart Counter", 29: "IPv4 Home Address", 30: "IPv4 Address Acknowledgement",
        31: "NAT Detection", 32: "IPv4 Care-of Address", 33: "GRE Key",
        34: "Mobility Header IPv6 Address/Prefix", 35: "Binding Identifier",
        36: "IPv4 Home Address Request", 37: "IPv4 Home Address Reply",
        38: "IPv4 Default-Router Address", 39: "IPv4 DHCP Support Mode", 40: "Context Request",
        41: "Local Mobility Anchor Address", 42: "MN Link-local Address Interface Identifier",
        43: "Transient Binding", 44: "Flow Summary", 45: "Flow Identification",
        46: "Redirect-Capability", 47: "Redirect", 48: "Load Information",
        49: "Alternate IPv4 Care-of Address", 50: "Mobile Node Group Identifier",
        51: "MAG IPv6 Address", 52: "Access Network Identifier",
        53: "IPv4 Traffic Offload Selector", 54: "Dynamic IP Multicast Selector",
        55: "Delegated Mobile Network Prefix", 56: "Active Multicast Subscription IPv4",
        57: "Active Multicast Subscription IPv6", 58: "Quality-of-Service",
        59: "LMA User-Plane Address", 60: "Multicast Mobility", 61: "Multicast Acknowledgement",
        62: "LMA-Controlled MAG Parameters", 63: "MAG Multipath-Binding", 64: "MAG Identifier",
        65: "Anchored Prefix", 66: "Local Prefix", 67: "Previous MAAR", 68: "Serving MAAR",
        69: "DLIF Link-Local Address", 70: "DLIF Link-Layer Address",
    }
)

#: MN Identifier subtype -> field kind used to render the identifier.
MN_ID_RENDER: Mapping[int, str] = MappingProxyType(
    {1: "text", 2: "ipv6", 3: "bytes", 4: "bytes", 5: "lladdr", 6: "lladdr", 7: "bytes", 8: "bytes"}
)

# --------------------------------------------------------------------------------------------
# Mobility Header message bodies (after the 6-octet MH header) and mobility options
# --------------------------------------------------------------------------------------------

#: Octets of the common Mobility Header before the message data (RFC 6275 section 6.1.1).
MH_HEADER_LEN = 6
IPPROTO_MH = 135
IPPROTO_MH_OLD = 62  # used by pre-RFC 3775 implementations (tcpdump's "mobility (old)")
IPPROTO_SCTP = 132
IPPROTO_NONE = 59
PMIP6_UDP_PORT = 5436  # RFC 5844 IPv4 transport (IANA pmip6-cntl)

_SEQ = u16("seq", title="Sequence Number")
_LIFETIME = u16("lifetime", scale=4, title="Lifetime (s)")

#: MH type -> its fixed message data, options follow.  Types absent here are kept raw.
MH_BODIES: Mapping[int, tuple[Field, ...]] = MappingProxyType(
    {
        0: (reserved(2),),
        1: (reserved(2), Field("home_init_cookie", "bytes", 8)),
        2: (reserved(2), Field("care_of_init_cookie", "bytes", 8)),
        3: (u16("home_nonce_index"), Field("home_init_cookie", "bytes", 8),
            Field("home_keygen_token", "bytes", 8)),
        4: (u16("care_of_nonce_index"), Field("care_of_init_cookie", "bytes", 8),
            Field("care_of_keygen_token", "bytes", 8)),
        5: (_SEQ, Field("flags", "flags", 2, bits=BU_FLAGS), _LIFETIME),
        6: (u8("status", "ba_status"), Field("flags", "flags", 1, bits=BA_FLAGS), _SEQ, _LIFETIME),
        7: (u8("status", "be_status"), reserved(1), Field("home_address", "ipv6", 16)),
        8: (_SEQ, Field("flags", "flags", 2, bits=BU_FLAGS), _LIFETIME),
        9: (u8("status", "ba_status"), Field("flags", "flags", 1, bits=(("K", 0x80),)), _SEQ, _LIFETIME),
        10: (reserved(2),),
        # RFC 5142 section 5.1: # of Addresses, Reserved, that many Home Agent Addresses, then options
        12: (u8("num_addresses"), reserved(1),
             Field("ha_addresses", "ipv6_list", title="Home Agent Addresses", count="num_addresses")),
        13: (Field("flags", "flags", 2, bits=HB_FLAGS), u32("seq", title="Sequence Number")),
        14: (_SEQ, Field("flags", "flags", 1, bits=HI_FLAGS), u8("code", "hi_code")),
        15: (_SEQ, Field("flags", "flags", 1, bits=HACK_FLAGS), u8("code", "hack_code")),
    }
)
#: Binding Revocation bodies by B.R. Type (RFC 5846 sections 6.1.1-6.1.2).
BR_BODIES: Mapping[int, tuple[Field, ...]] = MappingProxyType(
    {
        1: (u8("br_type"), u8("trigger", "br_trigger"), _SEQ, Field("flags", "flags", 2, bits=BRI_FLAGS)),
        2: (u8("br_type"), u8("status", "bra_status"), _SEQ, Field("flags", "flags", 2, bits=BRA_FLAGS)),
    }
)


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """A mobility option: its layout after Type and Length, and what RFC says of its size."""

    type: int
    key: str  # JSON / Wireshark short name
    layout: tuple[Field, ...]
    lengths: tuple[int, ...] = ()  # permitted Length values; empty = variable
    min_length: int = 0
    align: tuple[int, int] | None = None  # (n, k): option starts at n*x + k
    ref: str = ""
    title: str = ""  # display name when the type is not an IANA one (pre-RFC dialects)

    @property
    def name(self) -> str:
        return self.title or OPTION_NAMES.get(self.type, f"Option {self.type}")


OPTIONS: Mapping[int, OptionSpec] = MappingProxyType(
    {
        o.type: o
        for o in (
            OptionSpec(1, "padn", (Field("padding", "bytes"),), ref="RFC 6275 6.2.2"),
            OptionSpec(2, "refresh_advice", (u16("interval", scale=4),), (2,), ref="RFC 6275 6.2.4"),
            OptionSpec(3, "alt_coa", (Field("address", "ipv6", 16),), (16,), ref="RFC 6275 6.2.5"),
            OptionSpec(4, "nonce_indices", (u16("home_nonce_index"), u16("care_of_nonce_index")),
                       (4,), ref="RFC 6275 6.2.6"),
            OptionSpec(5, "auth_data", (Field("authenticator", "bytes"),), ref="RFC 6275 6.2.7"),
            OptionSpec(6, "mnp", (reserved(1), u8("prefix_len"), Field("prefix", "ipv6", 16)),
                       (18,), ref="RFC 3963"),
            OptionSpec(7, "mh_lla", (u8("code"), Field("lla", "lladdr")), min_length=1, ref="RFC 5568"),
            OptionSpec(8, "mn_id", (u8("subtype", "mn_id_subtype"), Field("identifier", "ident")),
                       min_length=1, ref="RFC 4283"),
            OptionSpec(9, "auth", (u8("subtype"), u32("spi"), Field("auth_data", "bytes")),
                       min_length=5, ref="RFC 4285"),
            OptionSpec(10, "mesg_id", (Field("timestamp", "ts48_16", 8),), (8,), ref="RFC 4285"),
            OptionSpec(18, "experimental", (Field("data", "bytes"),), ref="RFC 5096"),
            OptionSpec(19, "vendor", (u32("vendor_id"), u8("subtype"), Field("data", "bytes")),
                       min_length=5, ref="RFC 5094"),
            OptionSpec(20, "service_selection", (Field("identifier", "text"),), min_length=1,
                       ref="RFC 5149"),
            OptionSpec(22, "hnp", (reserved(1), u8("prefix_len"), Field("prefix", "ipv6", 16)),
                       (18,), align=(8, 4), ref="RFC 5213 8.3"),
            OptionSpec(23, "handoff", (reserved(1), u8("value", "handoff")), (2,), ref="RFC 5213 8.4"),
            OptionSpec(24, "att", (reserved(1), u8("value", "att")), (2,), ref="RFC 5213 8.5"),
            OptionSpec(25, "mn_ll_id", (reserved(2), Field("identifier", "lladdr")), min_length=2,
                       ref="RFC 5213 8.6"),
            OptionSpec(26, "lla", (Field("address", "ipv6", 16),), (16,), align=(8, 6),
                       ref="RFC 5213 8.7"),
            OptionSpec(27, "timestamp", (Field("value", "ts48_16", 8),), (8,), align=(8, 2),
                       ref="RFC 5213 8.8"),
            OptionSpec(28, "restart_counter", (u32("counter"),), (4,), ref="RFC 5847"),
            OptionSpec(29, "ipv4_hoa", (Field("prefix", "bits", 2, bits=(("prefix_len", 0xFC00),
                                                                         ("P", 0x0200))),
                                        Field("address", "ipv4", 4)), (6,), ref="RFC 5555"),
            OptionSpec(30, "ipv4_ack", (u8("status"), Field("prefix", "bits", 1, bits=(("prefix_len", 0xFC),)),
                                        Field("address", "ipv4", 4)), (6,), ref="RFC 5555"),
            OptionSpec(31, "nat_detect", (Field("flags", "flags", 2, bits=(("F", 0x8000),)),
                                          u32("refresh_time")), (6,), ref="RFC 5555"),
            OptionSpec(32, "ipv4_coa", (reserved(2), Field("address", "ipv4", 4)), (6,), ref="RFC 5555"),
            OptionSpec(33, "gre_key", (reserved(2), u32("gre_key", title="GRE Key Identifier")), (6,), ref="RFC 5845"),
            OptionSpec(36, "ipv4_hoa_req", (Field("prefix", "bits", 2, bits=(("prefix_len", 0xFC00),)),
                                            Field("address", "ipv4", 4)), (6,), ref="RFC 5844 3.1"),
            OptionSpec(37, "ipv4_hoa_rep", (u8("status", "ipv4_hoa_status"),
                                            Field("prefix", "bits", 1, bits=(("prefix_len", 0xFC),)),
                                            Field("address", "ipv4", 4)), (6,), ref="RFC 5844 3.2"),
            OptionSpec(38, "ipv4_dra", (reserved(2), Field("address", "ipv4", 4)), (6,),
                       ref="RFC 5844 3.3"),
            OptionSpec(39, "ipv4_dhcp", (Field("flags", "flags", 2, bits=(("S", 0x0001),)),), (2,),
                       ref="RFC 5844 3.4"),
            OptionSpec(40, "context_req", (reserved(2), Field("requests", "tlvs")), min_length=2,
                       ref="RFC 5949 6.2.1"),
            OptionSpec(41, "lmaa", (u8("code", "addr_code"), reserved(1), Field("address", "addr")),
                       (6, 18), ref="RFC 5949 6.2.2"),
            OptionSpec(42, "mn_lla_iid", (reserved(2), Field("iid", "bytes", 8)), (10,),
                       ref="RFC 5949 6.2.3"),
        )
    }
)

# --------------------------------------------------------------------------------------------
# The draft's pMAG options (draft-liebsch-netlmm-proxymip6ct-00 section 5.1)
# --------------------------------------------------------------------------------------------

#: pMAG_Address data after the sub-type octet (or after Type/Length in a dedicated option).
PMAG_ADDRESS_LAYOUT: tuple[Field, ...] = (
    u8("code", "addr_code"), reserved(1), Field("address", "addr"),
)
#: pMAG_ID data after the sub-type octet (or after Type/Length in a dedicated option).
PMAG_ID_LAYOUT: tuple[Field, ...] = (reserved(1), Field("identifier", "bytes"))
PMAG_ADDRESS_KEY = "pmag_address"
PMAG_ID_KEY = "pmag_id"
PMAG_ADDRESS_NAME = "pMAG_Address (draft-liebsch-netlmm-proxymip6ct-00)"
PMAG_ID_NAME = "pMAG_ID (draft-liebsch-netlmm-proxymip6ct-00)"

# --------------------------------------------------------------------------------------------
# Pre-RFC 5213 dialects: option numbering of implementations that predate the IANA code points
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dialect:
    """A named pre-RFC option numbering a profile can select (``[codepoints] dialect``).

    ``options`` maps the wire option type to the spec used to decode it.  A spec whose ``type``
    differs from the wire type is the IANA option under another number (the record keeps
    ``wire_type``); a spec with a ``title`` is an option only that implementation knows.
    """

    name: str
    source: str
    options: Mapping[int, OptionSpec]
    mh_type_names: Mapping[int, str] = field(default_factory=dict)


def _dialect_addr(wire: int, key: str, title: str) -> OptionSpec:
    return OptionSpec(wire, key, (Field("address", "ipv6", 16),), (16,), ref="pmip6d", title=title)


#: OpenAirInterface / Eurecom pmip6d (UMIP 0.4 based), "12th of October 2010":
#: mspublic/openair4G-mirror openair3/PMIP6D/pmipv6-daemon-umip-0.4/src/pmip/pmip_consts.h,
#: pmip_types.h and pmip_msgs.c (commit 9e33c35d9e9157df28f50f7b83f3294e8c06e99d).  Its options:
#: 7 Home Network Prefix (reserved, prefix length, prefix; Length 18), 8 MN identifier as a 16-bit
#: flags word + a 64-bit interface identifier (Length 10, not RFC 4283), 9 Timestamp (Length 8),
#: 10 link-local address (Length 16), 11-15 route-optimisation addresses (Length 16).  It sends
#: no Handoff Indicator or Access Technology Type option.  Its MH types 8/9 are Proxy Binding
#: Request/Response (bodies not documented there, kept raw).  The 2008 Eurecom pmip6d used the same
#: 7-10 and 11 for the serving MAG address.  Later OAI/ODMM releases use the IANA numbers.
PMIP6D_2010 = Dialect(
    "pmip6d-2010",
    "OpenAirInterface pmip6d 2010 (openair4G PMIP6D pmip_consts.h / pmip_types.h)",
    MappingProxyType(
        {
            7: OptionSpec(22, "hnp", (reserved(1), u8("prefix_len"), Field("prefix", "ipv6", 16)), (18,),
                          ref="pmip6d IP6_MHOPT_HOM_NET_PREX"),
            8: OptionSpec(8, "mn_id", (u16("flags"), Field("identifier", "bytes", 8)), (10,),
                          ref="pmip6d IP6_MHOPT_MOB_IDENTIFIER",
                          title="Mobile Node Identifier (pmip6d: flags + 64-bit interface identifier)"),
            9: OptionSpec(27, "timestamp", (Field("value", "ts48_16", 8),), (8,),
                          ref="pmip6d IP6_MHOPT_TIME_STAMP"),
            10: OptionSpec(26, "lla", (Field("address", "ipv6", 16),), (16,),
                           ref="pmip6d IP6_MHOPT_LINK_ADDR"),
            11: _dialect_addr(11, "dst_mn_addr", "Destination MN Address (pmip6d)"),
            12: _dialect_addr(12, "serv_mag_addr", "Serving MAG Address (pmip6d)"),
            13: _dialect_addr(13, "serv_lma_addr", "Serving LMA Address (pmip6d)"),
            14: _dialect_addr(14, "src_mn_addr", "Source MN Address (pmip6d)"),
            15: _dialect_addr(15, "src_mag_addr", "Source MAG Address (pmip6d)"),
        }
    ),
    MappingProxyType({8: "PBREQ", 9: "PBRES"}),
)

DIALECTS: Mapping[str, Dialect] = MappingProxyType({d.name: d for d in (PMIP6D_2010,)})

# --------------------------------------------------------------------------------------------
# CXTP (RFC 4067)
# --------------------------------------------------------------------------------------------

CXTP_VERSION = 1
CXTP_HEADER_LEN = 4
CXTP_V_FLAG = 0x80  # octet 1: IPv4 addresses
CXTP_A_FLAG = 0x40  # octet 1: acknowledgement requested (CTAR, CTD, PCTD)
CXTP_S_FLAG = 0x40  # octet 1, CTDR only: all contexts received
CXTP_RESERVED_MASK = 0x3F
#: Which octet-1 flags each type may carry (RFC 4067 section 2.5 figures).
CXTP_FLAGS: Mapping[int, tuple[tuple[str, int], ...]] = MappingProxyType(
    {
        1: (("V", CXTP_V_FLAG), ("A", CXTP_A_FLAG)),
        2: (("V", CXTP_V_FLAG),),
        3: (("V", CXTP_V_FLAG), ("A", CXTP_A_FLAG)),
        4: (("V", CXTP_V_FLAG), ("A", CXTP_A_FLAG)),
        5: (("V", CXTP_V_FLAG), ("S", CXTP_S_FLAG)),
        6: (("V", CXTP_V_FLAG),),
        7: (("V", CXTP_V_FLAG),),
    }
)
_PREV = Field("mn_prev_addr", "addr", title="MN Previous IP Address")
_ELAPSED = u32("elapsed_ms", title="Elapsed Time (ms)")
_CDBS = Field("cdbs", "cdbs", title="Context Data Blocks")
#: CXTP type -> its body after the 4-octet header.
CXTP_BODIES: Mapping[int, tuple[Field, ...]] = MappingProxyType(
    {
        1: (_PREV, Field("ar_addr", "addr", title="pAR/nAR Address"), u32("seq", "Sequence Number"),
            u32("token", "Authorization Token"), _CDBS),
        2: (_PREV, Field("statuses", "statuses", title="Status")),
        3: (_ELAPSED, _PREV, _CDBS),
        4: (_ELAPSED, _PREV, u16("algorithm", "cxtp_algorithm"), u16("key_length"),
            Field("key", "key"), _CDBS),
        5: (_PREV, Field("statuses", "statuses", title="Status")),
        6: (_PREV,),
        7: (_PREV, u32("seq", "Sequence Number"), u32("token", "Authorization Token"), _CDBS),
    }
)
#: Messages that request contexts: a CDB may be its 4-octet header only (RFC 4067 section 2.5.1).
CXTP_REQUEST_TYPES = frozenset({1, 7})
CXTP_ICMPV6_TYPE = 150  # Experimental Mobility (RFC 4065 section 8)
CXTP_ICMPV4_TYPE = 41
CXTP_ICMP_SUBTYPE = 1

# RFC 4861 Neighbor Discovery on the access link (issue 5): the MN's Router Solicitation is the
# first observable sign of attachment, the Router Advertisement with its HNP follows the PBA.
ND_TYPES: Mapping[int, str] = MappingProxyType({133: "RS", 134: "RA"})
ND_RS_HEADER_LEN = 8  # type, code, checksum, reserved
ND_RA_HEADER_LEN = 16  # + cur hop limit, M/O flags, router lifetime, reachable time, retrans timer
ND_OPTION_SOURCE_LLA = 1
ND_OPTION_PREFIX_INFORMATION = 3
ND_PREFIX_INFORMATION_LEN = 32  # octets, option header included

# RFC 4067 section 4 constants (seconds unless said).
CT_REQUEST_RATE = 10  # per second
CT_MAX_TRANSFER_TIME = 0.200
CT_REQUEST_RETRY = 2.0
CT_RETRY_MAX = 15.0

# --------------------------------------------------------------------------------------------
# SCTP (RFC 9260) chunk types, only as far as the CXTP transport walk needs them
# --------------------------------------------------------------------------------------------

SCTP_CHUNK_TYPES: Mapping[int, str] = MappingProxyType(
    {0: "DATA", 1: "INIT", 2: "INIT ACK", 3: "SACK", 4: "HEARTBEAT", 5: "HEARTBEAT ACK",
     6: "ABORT", 7: "SHUTDOWN", 8: "SHUTDOWN ACK", 9: "ERROR", 10: "COOKIE ECHO",
     11: "COOKIE ACK", 14: "SHUTDOWN COMPLETE", 64: "I-DATA", 192: "FORWARD TSN"}
)
SCTP_DATA_U = 0x04
SCTP_DATA_B = 0x02
SCTP_DATA_E = 0x01

# --------------------------------------------------------------------------------------------
# Defaults for what the specifications leave open (protocol-notes.md section (g)).
# A profile overrides any of them; README documents them.
# --------------------------------------------------------------------------------------------

EXPERIMENTAL_OPTION = 18  # RFC 5096
PMAG_ADDRESS_SUBTYPE = 1
PMAG_ID_SUBTYPE = 2


@dataclass(frozen=True, slots=True)
class Timers:
    """RFC defaults, in seconds (RFC 5213 section 9, RFC 6275 section 12, RFC 4067 section 4)."""

    min_delay_before_bce_delete: float = 10.0
    max_delay_before_new_bce_assign: float = 1.5
    initial_bindack_timeout: float = 1.0
    max_bindack_timeout: float = 32.0
    timestamp_validity_window: float = 0.300
    ct_max_transfer_time: float = CT_MAX_TRANSFER_TIME


PROFILE_DEFAULTS: Mapping[str, object] = MappingProxyType(
    {
        "pmag_address_option": EXPERIMENTAL_OPTION,
        "pmag_address_subtype": PMAG_ADDRESS_SUBTYPE,
        "pmag_id_option": EXPERIMENTAL_OPTION,
        "pmag_id_subtype": PMAG_ID_SUBTYPE,
        "cxtp_sctp_ppis": (),
        "cxtp_sctp_ports": (),
        "cxtp_udp_ports": (),
        "cxtp_header_check": True,
        "cxtp_length_includes_header": True,
        "pmip_udp_ports": (PMIP6_UDP_PORT,),
        "timers": Timers(),
    }
)


def table_name(table: str, value: int) -> str:
    """The registered name of ``value`` in ``table``, or ``"unassigned (N)"``."""
    return TABLES[table].get(value, f"unassigned ({value})")
