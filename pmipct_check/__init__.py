"""pmipct-check: decode and check Proxy Mobile IPv6 handovers with context transfer."""

__version__ = "0.1.0"
