"""The contract between the Graph API (which discloses) and the ledger (which records first)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from graphwarden.core.types import ApiVersion, AppId, PersonId


class DisclosureItem(NamedTuple):
    """One (subject, field) that leaves, and the rule that allowed it.

    A named tuple rather than a dataclass: a friends page makes hundreds per response, on the
    Graph API's hot path.
    """

    subject_id: PersonId
    field: str
    #: the policy rule that allowed it
    rule_id: str


@dataclass(frozen=True, slots=True)
class DisclosureBatch:
    """All disclosures of one response: written together, before the body is sent."""

    request_id: str
    at: datetime
    app_id: AppId
    api_version: ApiVersion
    #: the person whose consent (token) was used
    owner_id: PersonId
    items: Sequence[DisclosureItem]


@dataclass(frozen=True, slots=True)
class AppendReceipt:
    first_seq: int
    count: int
    tree_size: int


class DisclosureLedger(Protocol):
    def append(self, batch: DisclosureBatch) -> AppendReceipt:
        """Make ``batch`` durable, or raise ``LedgerWriteError`` having written nothing."""
        ...


__all__ = ["AppendReceipt", "DisclosureBatch", "DisclosureItem", "DisclosureLedger"]
