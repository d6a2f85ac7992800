"""graphwarden: a social platform's data-access layer where every field that leaves is decided
by one policy and recorded first in a verifiable disclosure ledger."""

__version__ = "0.1.0"
__all__ = ["__version__"]
