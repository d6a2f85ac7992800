"""Authlib's request and response types over plain values, so the OAuth server needs no web
framework: the HTTP layers (``api/oauth_routes.py``, ``web/routes.py``) hand the server an
:class:`OAuthHttpRequest` and turn the :class:`OAuthResponse` it returns into their own."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from authlib.oauth2.rfc6749 import JsonPayload, JsonRequest, OAuth2Payload, OAuth2Request


@dataclass(frozen=True)
class OAuthHttpRequest:
    """An HTTP request as plain values (what a framework adapter builds)."""

    method: str
    url: str
    headers: Mapping[str, str]
    query: Sequence[tuple[str, str]] = ()
    form: Sequence[tuple[str, str]] = ()


class _Values(dict[str, str]):
    """First value of each name, like a framework's MultiDict ``.get``."""

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> _Values:
        values = cls()
        for key, value in pairs:
            values.setdefault(key, value)
        return values


class PlainOAuth2Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, request: OAuthHttpRequest) -> None:
        self._request = request

    @cached_property
    def data(self) -> _Values:
        # query first, then form, like Flask's ``request.values``
        return _Values.of([*self._request.query, *self._request.form])

    @cached_property
    def datalist(self) -> defaultdict[str, list[str]]:
        values: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in [*self._request.query, *self._request.form]:
            values[key].append(value)
        return values


class PlainOAuth2Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, request: OAuthHttpRequest) -> None:
        super().__init__(method=request.method, uri=request.url, headers=request.headers)
        self._plain = request
        self.payload = PlainOAuth2Payload(request)

    @cached_property
    def args(self) -> _Values:
        return _Values.of(self._plain.query)

    @cached_property
    def form(self) -> _Values:
        return _Values.of(self._plain.form)


class PlainJsonPayload(JsonPayload):  # type: ignore[misc]
    def __init__(self, request: OAuthHttpRequest) -> None:
        self._request = request

    @property
    def data(self) -> dict[str, Any]:
        return dict(_Values.of(self._request.form))


class PlainJsonRequest(JsonRequest):  # type: ignore[misc]
    def __init__(self, request: OAuthHttpRequest) -> None:
        super().__init__(request.method, request.url, request.headers)
        self.payload = PlainJsonPayload(request)


@dataclass
class OAuthResponse:
    """What an endpoint answers: status, body (JSON text or empty) and headers."""

    status: int
    body: str
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def location(self) -> str | None:
        for name, value in self.headers:
            if name.lower() == "location":
                return value
        return None

    @location.setter
    def location(self, value: str) -> None:
        self.headers = [(n, v) for n, v in self.headers if n.lower() != "location"]
        self.headers.append(("Location", value))

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


__all__ = [
    "OAuthHttpRequest",
    "OAuthResponse",
    "PlainJsonPayload",
    "PlainJsonRequest",
    "PlainOAuth2Payload",
    "PlainOAuth2Request",
]
