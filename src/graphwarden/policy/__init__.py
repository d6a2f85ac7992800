"""The one policy decision point. Every field that leaves graphwarden is decided here."""
