"""One module per sub-command; each defines a click command named ``command``."""
