"""Type aliases and ``NewType`` ids shared by every layer.

A ``PersonId`` is never an ``AppId``: the type checker keeps them apart.
"""

from __future__ import annotations

from typing import Literal, NewType

PersonId = NewType("PersonId", int)
AppId = NewType("AppId", int)
PageId = NewType("PageId", int)
#: An app-scoped person id: what a v2.0+ app sees instead of the platform id.
ScopedId = NewType("ScopedId", str)
FieldName = str
PermissionName = str
RequestId = NewType("RequestId", str)

ApiVersion = Literal["v1.0", "v2.0", "v3.0"]
API_VERSIONS: tuple[ApiVersion, ...] = ("v1.0", "v2.0", "v3.0")

__all__ = [
    "API_VERSIONS",
    "ApiVersion",
    "AppId",
    "FieldName",
    "PageId",
    "PermissionName",
    "PersonId",
    "RequestId",
    "ScopedId",
]
