"""Deletion callbacks never reach into the platform's own network."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
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
