"""Where the platform may send a request on an app's behalf.

A deletion callback is a ``POST`` to a URL the app's developer chose. Left unscreened it would
let anyone who registers an app make the platform's servers call into their own network: the
database, a metadata service at 169.254.169.254, an admin port on localhost (server-side
request forgery). :func:`refusal` resolves the URL's host and refuses it when any address it
resolves to is not globally routable — loopback, private, link-local, shared, reserved,
multicast or unspecified, IPv4-mapped IPv6 included. Development against a local receiver
turns the screen off with ``GRAPHWARDEN_ALLOW_INTERNAL_CALLBACKS=1``.

The host is resolved again by the HTTP client when it connects, so a name whose answers change
between the two lookups (DNS rebinding) is not covered; the callback carries no secret and its
answer is only stored, which bounds what such a race can do.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


def refusal(url: str) -> str | None:
    """Why the platform must not post to ``url``, or ``None`` when it may. A host that does
    not resolve is not refused here: the attempt then fails, and is retried, like any
    unreachable callback."""
    try:
        parts = urlsplit(url)
        port = parts.port  # reading it checks it: a port out of range is malformed
    except ValueError as exc:
        return f"the callback URL is malformed: {exc}"
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return "the callback URL must be an http(s) URL with a host"
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    for *_, sockaddr in answers:
        address = ipaddress.ip_address(sockaddr[0])  # a scope id ("%eth0") parses too
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            return (
                f"refused: the callback host {host} resolves to {address}, an address inside "
                "the platform's network"
            )
    return None


__all__ = ["refusal"]
