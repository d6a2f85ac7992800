"""The contract between the Graph API (which discloses) and the ledger (which records first)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol, overload

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


class DisclosureColumns(Sequence[DisclosureItem]):
    """A batch's items held as three columns (subjects, fields, rules) instead of one tuple
    per item: what the Graph API builds for a page and what the ledger writes, with no
    per-item object in between. Reads as a sequence of :class:`DisclosureItem` for anyone
    else."""

    __slots__ = ("fields", "rules", "subjects")

    def __init__(
        self, subjects: Sequence[int], fields: Sequence[str], rules: Sequence[str]
    ) -> None:
        if not len(subjects) == len(fields) == len(rules):
            raise ValueError("disclosure columns must have one entry per item")
        self.subjects = subjects
        self.fields = fields
        self.rules = rules

    def __len__(self) -> int:
        return len(self.subjects)

    @overload
    def __getitem__(self, index: int) -> DisclosureItem: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[DisclosureItem]: ...
    def __getitem__(self, index: int | slice) -> DisclosureItem | Sequence[DisclosureItem]:
        if isinstance(index, slice):
            return DisclosureColumns(self.subjects[index], self.fields[index], self.rules[index])
        return DisclosureItem(PersonId(self.subjects[index]), self.fields[index], self.rules[index])

    def __iter__(self) -> Iterator[DisclosureItem]:
        return map(DisclosureItem._make, zip(self.subjects, self.fields, self.rules, strict=True))


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


__all__ = [
    "AppendReceipt",
    "DisclosureBatch",
    "DisclosureColumns",
    "DisclosureItem",
    "DisclosureLedger",
]
