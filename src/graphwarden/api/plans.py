"""What a response carries and discloses: the sheet of (subject, field) pairs, the ids an app
sees, and the plan of fields one combination of decisions serves (with the Graph API's way of
writing each value)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter, itemgetter
from typing import Any

from graphwarden.api.access import Caller
from graphwarden.api.fields import (
    FieldSelection,
)
from graphwarden.consent.interfaces import ConsentService
from graphwarden.core.types import PersonId
from graphwarden.graph.interfaces import PageInfo, Profile
from graphwarden.ledger.interfaces import DisclosureColumns
from graphwarden.policy.context import Decision

_first = itemgetter(0)
_second = itemgetter(1)


class DisclosureSheet:
    """The (subject, field) pairs of one response, each with the rule that allowed it.

    A pair met twice (a person listed in two places of one body) is recorded once, under the
    rule that first allowed it.
    """

    def __init__(self) -> None:
        #: (subject, field) -> the rule that allowed it; written directly by the page builder
        self.entries: dict[tuple[int, str], str] = {}

    def add(self, subject: int, field: str, rule_id: str) -> None:
        key = (subject, field)
        if key not in self.entries:
            self.entries[key] = rule_id

    def pairs(self) -> set[tuple[int, str]]:
        return set(self.entries)

    def items(self) -> DisclosureColumns:
        """The items in the order they were met, as columns (no object per item)."""
        keys = self.entries.keys()
        return DisclosureColumns(
            list(map(_first, keys)), list(map(_second, keys)), list(self.entries.values())
        )

    def __len__(self) -> int:
        return len(self.entries)


class IdSpace:
    """The ids an app sees: platform ids under v1.0, app-scoped ids from v2.0 on."""

    def __init__(self, consent: ConsentService, caller: Caller) -> None:
        self._consent = consent
        self._app = caller.token.app.id
        self._scoped = caller.version != "v1.0"
        self._known: dict[PersonId, str] = {}

    def of(self, people: Sequence[PersonId]) -> dict[PersonId, str]:
        if not self._scoped:
            return {p: str(p) for p in people}
        missing = [p for p in people if p not in self._known]
        if missing:
            self._known.update(self._consent.scoped_ids(self._app, missing))
        return {p: self._known[p] for p in people}


def wire_value(profile: Profile, name: str, picture_url: str) -> Any:
    """A profile field as the Graph API writes it (``None``: no value, nothing served)."""
    if name == "picture":
        return {"data": {"is_silhouette": True, "url": picture_url}}
    value = getattr(profile, name, None)
    if name == "birthday" and isinstance(value, str) and len(value) == 10:
        year, month, day = value.split("-")
        return f"{month}/{day}/{year}"
    return value


def page_value(page: PageInfo, name: str) -> Any:
    if name == "id":
        return str(page.id)
    return getattr(page, name, None)


def _birthday(profile: Profile) -> str | None:
    value = profile.birthday
    if isinstance(value, str) and len(value) == 10:
        year, month, day = value.split("-")
        return f"{month}/{day}/{year}"
    return value


class FieldPlan:
    """What one combination of decisions serves of a person: the scalar fields in selection
    order as (name, value getter, allowing rule), ``id`` as a getter of None; the rule that
    allows the id (None: the person is hidden); the decisions of the selected edges."""

    __slots__ = ("edges", "id_rule", "scalars")

    def __init__(
        self,
        selection: tuple[FieldSelection, ...],
        asked: Sequence[str],
        row: Sequence[Decision],
        picture_url: str,
    ) -> None:
        by_name = dict(zip(asked, row, strict=True))
        self.scalars: list[tuple[str, Callable[[Profile], Any] | None, str]] = []
        self.edges: dict[str, Decision] = {}
        for item in selection:
            if item.name == "id":
                self.scalars.append(("id", None, ""))
            elif item.is_edge:
                self.edges[item.name] = by_name[item.name]
            elif by_name[item.name].allowed:
                getter = value_getter(item.name, picture_url)
                self.scalars.append((item.name, getter, by_name[item.name].rule_id))
        # asked only outside an edge listing, where a denied id hides the person
        id_decision = by_name.get("id")
        self.id_rule: str | None = (
            id_decision.rule_id if id_decision is not None and id_decision.allowed else None
        )


def value_getter(name: str, picture_url: str) -> Callable[[Profile], Any]:
    """A function giving ``name`` of a profile as the Graph API writes it (see
    :func:`wire_value`; None: no value, nothing served)."""
    if name == "birthday":
        return _birthday
    if name == "picture":
        return lambda _profile: {"data": {"is_silhouette": True, "url": picture_url}}
    return attrgetter(name)


__all__ = ["DisclosureSheet", "FieldPlan", "IdSpace", "page_value", "value_getter", "wire_value"]
