"""Where the platform may send a request on an app's behalf.

A deletion callback is a ``POST`` to a URL the app's developer chose. Left unscreened it would
let anyone who registers an app make the platform's servers call into their own network: the
database, a metadata service at 169.254.169.254, an admin port on localhost (server-side
request forgery). :func:`refusal` resolves the URL's host and refuses it when any address it
resolves to is not globally routable — loopback, private, link-local, shared, reserved,
multicast or unspecified, IPv4-mapped IPv6 included. Development against a local receiver
turns the screen off with ``GRAPHWARDEN_ALLOW_INTERNAL_CALLBACKS=1``.

IPv6 forms that carry an IPv4 address inside them are judged by that address, since a
translator or relay on the path would deliver the request to it:

- IPv4-mapped ``::ffff:a.b.c.d`` and NAT64 well-known ``64:ff9b::/96`` (RFC 6052): the last 32
  bits; refused when that IPv4 address is internal.
- 6to4 ``2002::/16`` (RFC 3056): bits 16..47; refused when that IPv4 address is internal.
- NAT64 local-use ``64:ff9b:1::/48`` (RFC 8215): where the IPv4 address sits depends on the
  operator's prefix length, which the platform cannot know, so the whole prefix is refused
  (fail closed).
- Teredo ``2001::/32`` (RFC 4380): a tunnel through relays the platform does not control,
  embedding both a server and an (obfuscated) client address; the whole prefix is refused.

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
        port = parts.port or (443 if parts.scheme == "https" else 80)
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
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if not is_external(address):
            return (
                f"refused: the callback host {host} resolves to {address}, an address inside "
                "the platform's network"
            )
    return None


_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
_TEREDO = ipaddress.IPv6Network("2001::/32")


def is_external(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``address`` (and any IPv4 address an IPv6 form carries inside it) is globally
    routable unicast, i.e. outside the platform's network.

    >>> is_external(ipaddress.ip_address("64:ff9b::a00:1"))  # NAT64 of 10.0.0.1
    False
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL_USE or address in _TEREDO:
            return False
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64_WELL_KNOWN:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_external(embedded)
    return address.is_global and not address.is_multicast


__all__ = ["is_external", "refusal"]
