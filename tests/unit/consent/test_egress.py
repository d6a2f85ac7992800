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


@given(st.sampled_from(INTERNAL).flatmap(lambda net: st.ip_addresses(network=net)))
def test_every_internal_ipv4_address_is_refused(address: ipaddress.IPv4Address) -> None:
    assert refusal(f"https://{address}/delete") is not None
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    assert refusal(f"https://[{mapped}]:8443/delete") is not None


def _embeddings(v4: ipaddress.IPv4Address, low: int) -> list[ipaddress.IPv6Address]:
    """The IPv6 forms a translator or relay would deliver to ``v4``: NAT64 well-known
    (RFC 6052), NAT64 local-use /48 (RFC 8215, /96 layout), 6to4 (RFC 3056) with any subnet and
    interface bits, and Teredo (RFC 4380) with ``v4`` as server or (obfuscated) client."""
    n = int(v4)
    return [
        ipaddress.IPv6Address((0x0064FF9B << 96) | n),
        ipaddress.IPv6Address((0x0064FF9B0001 << 80) | n),
        ipaddress.IPv6Address((0x2002 << 112) | (n << 80) | (low & ((1 << 80) - 1))),
        ipaddress.IPv6Address((0x20010000 << 96) | (n << 64) | (low & ((1 << 64) - 1))),
        ipaddress.IPv6Address(
            (0x20010000 << 96) | (low << 32 & (0xFFFFFFFF << 32)) | n ^ 0xFFFFFFFF
        ),
    ]


@settings(deadline=None, max_examples=300)
@given(
    st.sampled_from(INTERNAL).flatmap(lambda net: st.ip_addresses(network=net)),
    st.integers(min_value=0, max_value=(1 << 80) - 1),
)
def test_internal_ipv4_inside_nat64_6to4_and_teredo_is_refused(
    address: ipaddress.IPv4Address, low: int
) -> None:
    for form in _embeddings(address, low):
        assert refusal(f"https://[{form}]/delete") is not None, form


@pytest.mark.parametrize(
    "url",
    [
        "https://[64:ff9b::a9fe:a9fe]/latest/meta-data/",  # NAT64 of 169.254.169.254
        "https://[64:ff9b:1::808:808]/delete",  # local-use NAT64: layout unknown, refused
        "https://[2002:7f00:1::1]/delete",  # 6to4 of 127.0.0.1
        "https://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/delete",  # Teredo
    ],
)
def test_translated_forms_are_refused(url: str) -> None:
    assert refusal(url) is not None


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
    # the same forms around a public IPv4 address stay callable (NAT64, 6to4)
    assert refusal("https://[64:ff9b::5db8:d70e]/delete") is None
    assert refusal("https://[2002:5db8:d70e::1]/delete") is None
