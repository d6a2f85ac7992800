"""Secrets never reach a log line.

The access log of the server writes each request's path with its query string, and Graph API
clients put ``access_token`` there (the platform's own convention); OAuth redirects carry
``code``, token requests ``client_secret`` and ``refresh_token``, ``/debug_token`` takes
``input_token``. :class:`RedactSecrets` is a :class:`logging.Filter` that rewrites any such
value to ``[redacted]`` in a record before a handler formats it: in ``name=value`` form (raw or
percent-encoded, as in a ``next=`` parameter), in ``"name": "value"`` form, after ``Bearer``,
and the password of a database URL.

``graphwarden serve`` installs it through its logging configuration
(:func:`graphwarden.server.logging_config`), on uvicorn's access and error loggers, the
project's ``graphwarden`` loggers and their handlers, in the master and in every worker.
"""

from __future__ import annotations

import logging
import re
from typing import Any

#: the parameter names whose values are secrets
SECRET_NAMES = ("access_token", "code", "client_secret", "refresh_token", "input_token")

REDACTED = "[redacted]"

_NAMES = "|".join(re.escape(name) for name in SECRET_NAMES)
# name=value in a query string or form body, raw or percent-encoded (``code%3Dabc%26x``)
_QUERY = re.compile(
    rf"(?i)(?:(?<=%3F)|(?<=%26)|(?<![A-Za-z0-9_]))({_NAMES})(=|%3D)((?:(?!%26|%2526)[^&\s\"'#<>;,)\]}}])+)"
)
# "name": "value" (JSON, repr of a dict)
_QUOTED = re.compile(rf"(?i)([\"']({_NAMES})[\"']\s*:\s*[\"'])([^\"']+)")
_BEARER = re.compile(r"(?i)\b(bearer\s+)([^\s\"',;]+)")
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)([^@\s/]+)(@)")


def redact(text: str) -> str:
    """``text`` with every secret value replaced by ``[redacted]``.

    >>> redact('GET /v2.0/me?fields=id&access_token=EAAB123 HTTP/1.1')
    'GET /v2.0/me?fields=id&access_token=[redacted] HTTP/1.1'
    """
    text = _QUERY.sub(rf"\1\2{REDACTED}", text)
    text = _QUOTED.sub(rf"\1{REDACTED}", text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    return _URL_PASSWORD.sub(rf"\1{REDACTED}\3", text)


class RedactSecrets(logging.Filter):
    """Rewrite a record's message, arguments and traceback so no secret value remains.

    The arguments are redacted one by one first, so formatters that read ``record.args``
    (uvicorn's access formatter takes the request line from them) keep working; a secret that
    only shows once the message is formatted (a name in the format string, its value in an
    argument, or the name and the value both in the format string) makes the record carry the
    redacted, formatted message instead. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; always keep it."""
        if getattr(record, "_graphwarden_redacted", False):
            return True  # a record passes a logger's filter and then its handler's
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_value(arg) for key, arg in record.args.items()}
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: keep it as logging would
            message = None
        if message is not None and redact(message) != message:
            record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._graphwarden_redacted = True
        return True


def _redact_value(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


__all__ = ["REDACTED", "SECRET_NAMES", "RedactSecrets", "redact"]
