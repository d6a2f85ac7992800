"""Deletion callbacks never reach into the platform's own network."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphwarden.consent.egress import refusal

INTERNAL = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "0.0.0.0/8",
]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(INTERNAL).flatmap(lambda net: st.ip_addresses(network=net)))
def test_every_internal_ipv4_address_is_refused(address: ipaddress.IPv4Address) -> None:
    assert refusal(f"https://{address}/delete") is not None
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    assert refusal(f"https://[{mapped}]:8443/delete") is not None


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/delete",
        "http://[::1]/delete",
        "http://[fe80::1]/delete",
        "http://[fd00::5]/delete",
        "https://169.254.169.254/latest/meta-data/",
        "http://224.0.0.1/",
        "ftp://quiz.example/delete",
        "https:///no-host",
        "http://[::1/broken",
    ],
)
def test_internal_and_malformed_callbacks_are_refused(url: str) -> None:
    assert refusal(url) is not None


def test_a_public_address_may_be_called() -> None:
    assert refusal("https://93.184.215.14/delete") is None
    assert refusal("https://[2606:4700::6810:85e5]/delete") is None


@pytest.mark.parametrize("scheme", ["http", "https", "HTTP", "Https"])
def test_a_public_address_may_be_called_over_http_and_https(scheme: str) -> None:
    # only the destination is screened: plain http to a public host is the developer's choice
    assert refusal(f"{scheme}://93.184.215.14/delete") is None
    assert refusal(f"{scheme}://93.184.215.14:8080/delete?user=1") is None
    assert refusal(f"{scheme}://[2606:4700::6810:85e5]:8443/delete") is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://93.184.215.14/delete",
        "file:///etc/passwd",
        "gopher://93.184.215.14/",
        "httpx://93.184.215.14/",
        "//93.184.215.14/delete",
        "93.184.215.14/delete",
        "http:///delete",
        "http://93.184.215.14:99999/delete",
        "https://93.184.215.14:-1/delete",
    ],
)
def test_other_schemes_missing_hosts_and_bad_ports_are_refused(url: str) -> None:
    assert refusal(url) is not None


def _effective(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress._BaseAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@settings(max_examples=300, deadline=None)
@given(st.ip_addresses(), st.sampled_from(["http", "https"]))
def test_refused_exactly_when_the_address_is_not_public(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, scheme: str
) -> None:
    host = f"[{address}]" if address.version == 6 else str(address)
    effective = _effective(address)
    public = effective.is_global and not effective.is_multicast
    assert (refusal(f"{scheme}://{host}/delete") is None) == public, (address, scheme)
