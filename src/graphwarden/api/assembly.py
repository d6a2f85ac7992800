"""Assembling one Graph API response: facts, decisions, the body, and what it discloses.

:class:`PageAssembly` holds the state of one request for :class:`~graphwarden.api.reader.
GraphReader`: the subjects' facts (batch reads), the policy's decisions (one call per page,
one plan per distinct combination of facts), the ids the app may see, and the
:class:`DisclosureSheet` of every (subject, field) the body carries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphwarden.api.access import Caller
from graphwarden.api.cursors import Cursor
from graphwarden.api.facts import FactSheet, Subject
from graphwarden.api.fields import (
    DEFAULT_LIMIT,
    FieldSelection,
    parse_fields,
    render_fields,
    selection_cost,
)
from graphwarden.api.plans import (
    DisclosureSheet,
    FieldPlan,
    IdSpace,
    page_value,
    wire_value,
)
from graphwarden.core.errors import (
    InvalidInput,
    NotFound,
)
from graphwarden.core.types import ApiVersion, PageId, PersonId
from graphwarden.graph.fields import Relation
from graphwarden.graph.interfaces import PageInfo
from graphwarden.policy.context import Decision
from graphwarden.policy.decide import decide_page, edge_members
from graphwarden.policy.tables import permission_for

if TYPE_CHECKING:
    from graphwarden.api.reader import GraphReader

#: ``(path, query parameters) -> absolute URL``; the HTTP layer knows the base URL
LinkBuilder = Callable[[str, Mapping[str, str]], str]
#: the most objects one response may carry, all nesting levels together
MAX_OBJECTS = 5000
#: how many platform ids may be written as one: digits only, below 2**63
_MAX_ID_DIGITS = 18
_MAX_SCOPED_ID_CHARS = 64

_UNENFORCED = Decision(allowed=True, rule_id="enforcement-off", reason="benchmark only")


@dataclass(slots=True)
class _Slice:
    members: list[tuple[int, str]]  # (item id, rule id) in ascending id order
    has_previous: bool
    has_next: bool


UNKNOWN_TARGET = "(#803) Some of the aliases you requested do not exist"


def no_links(_path: str, _params: Mapping[str, str]) -> str:
    return ""


def parse_selection(fields: str | None, node_type: str) -> tuple[FieldSelection, ...]:
    selection = parse_fields(fields, node_type)
    check_cost(selection, 1)
    return selection


def check_cost(selection: tuple[FieldSelection, ...], limit: int) -> None:
    if limit * selection_cost(selection) > MAX_OBJECTS:
        raise InvalidInput(
            f"(#100) The request asks for too many objects (at most {MAX_OBJECTS}); "
            "use smaller limits"
        )


def edge_denied(version: ApiVersion, edge: str, relation: Relation) -> str:
    needed = permission_for(version, edge, relation)
    if needed is not None and relation is Relation.SELF:
        return f"(#200) Requires the {needed} permission"
    return f"(#200) The {edge} edge of this person is not available to this app"


class PageAssembly:
    """The state of one request: its facts, ids and disclosures."""

    def __init__(self, reader: GraphReader, caller: Caller, links: LinkBuilder) -> None:
        self.reader = reader
        self.caller = caller
        self.links = links
        self.owner = caller.token.person_id
        self.app = caller.token.app.id
        self.enforcing = reader.enforcement
        self.facts = FactSheet(
            reader.store,
            reader.consent,
            app_id=self.app,
            owner_id=self.owner,
            enforcing=reader.enforcement,
            development=caller.access.app_in_development,
        )
        self.ids = IdSpace(reader.consent, caller)
        self.sheet = DisclosureSheet()
        #: friend id pages read in this request, by (person, after, limit)
        self._friend_pages: dict[tuple[PersonId, PersonId | None, int], list[PersonId]] = {}

    # --- policy ----------------------------------------------------------------------------
    def decide(self, subjects: Sequence[Subject], fields: Sequence[str]) -> list[list[Decision]]:
        if not self.enforcing:
            return [[_UNENFORCED] * len(fields) for _ in subjects]
        return decide_page(self.caller.access, [s.facts for s in subjects], fields)

    def members(self, subjects: Sequence[Subject]) -> list[Decision]:
        if not self.enforcing:
            return [_UNENFORCED] * len(subjects)
        return edge_members(self.caller.access, [s.facts for s in subjects])

    # --- ids -------------------------------------------------------------------------------
    def resolve(self, target: str) -> PersonId:
        """The person a path segment names; anything unknown or never given is 803."""
        if target == "me":
            return self.owner
        if self.caller.version == "v1.0":
            if not (target.isascii() and target.isdigit()) or len(target) > _MAX_ID_DIGITS:
                raise NotFound(UNKNOWN_TARGET)
            return PersonId(int(target))
        if len(target) > _MAX_SCOPED_ID_CHARS or not target.isascii() or not target.isalnum():
            raise NotFound(UNKNOWN_TARGET)
        person = self.reader.consent.resolve_scoped_id(self.app, target)
        if person is None:
            raise NotFound(UNKNOWN_TARGET)
        return person

    def ref(self, person: PersonId) -> str:
        return "me" if person == self.owner else self.ids.of([person])[person]

    # --- people ----------------------------------------------------------------------------
    def people(
        self,
        people: Sequence[PersonId],
        selection: tuple[FieldSelection, ...],
        *,
        listed: Mapping[PersonId, str] | None,
        ref_of: Mapping[PersonId, str] | None = None,
    ) -> dict[PersonId, dict[str, Any]]:
        """Bodies of ``people`` with ``selection``; a person the policy hides is absent.

        ``listed`` maps each person of an edge listing to the rule that listed them: their
        id is served under it. Outside a listing the id is decided like any field, and a
        person whose id is denied is hidden altogether.
        """
        subjects = self.facts.load(people)
        order = [p for p in people if p in subjects]
        asked = [f.name for f in selection if f.name != "id"]
        if listed is None:
            asked.append("id")
        # one plan per distinct facts object (the fact sheet interns them): a page of a
        # hundred friends usually has a handful of combinations
        distinct = list({id(subjects[p].facts): subjects[p] for p in order}.values())
        plans = {
            id(subject.facts): FieldPlan(selection, asked, row, self.reader.picture_url)
            for subject, row in zip(distinct, self.decide(distinct, asked), strict=True)
        }
        decided: dict[PersonId, FieldPlan] = {}
        id_rules: dict[PersonId, str] = {}
        for person in order:
            plan = plans[id(subjects[person].facts)]
            if listed is None:
                if plan.id_rule is None:
                    continue
                id_rules[person] = plan.id_rule
            else:
                id_rules[person] = listed[person]
            decided[person] = plan
        ids = self.ids.of(list(decided))
        bodies: dict[PersonId, dict[str, Any]] = {}
        # with enforcement off nothing is recorded: there is no ledger to write to
        sheet = self.sheet.entries if self.enforcing else {}
        for person, plan in decided.items():
            profile = subjects[person].profile
            body: dict[str, Any] = {}
            for name, value_of, rule_id in plan.scalars:
                if value_of is None:
                    body["id"] = ids[person]
                    continue
                value = value_of(profile)
                if value is not None:
                    body[name] = value
                    # DisclosureSheet.add, inlined for the hundreds of pairs of a page
                    if (person, name) not in sheet:
                        sheet[person, name] = rule_id
            if "id" not in body:
                body["id"] = ids[person]
            if (person, "id") not in sheet:
                sheet[person, "id"] = id_rules[person]
            bodies[person] = body
        for item in selection:
            if not item.is_edge:
                continue
            owners = [p for p in decided if decided[p].edges[item.name].allowed]
            if item.name == "likes":
                self._nested_likes(owners, item, decided, bodies)
            else:
                for person in owners:
                    bodies[person]["friends"] = self.listing(
                        person,
                        (ref_of or {}).get(person) or self.ref(person),
                        "friends",
                        decided[person].edges["friends"],
                        item.children or (),
                        item.limit or DEFAULT_LIMIT,
                        None,
                    )
        return bodies

    def _nested_likes(
        self,
        owners: list[PersonId],
        item: FieldSelection,
        decided: Mapping[PersonId, FieldPlan],
        bodies: dict[PersonId, dict[str, Any]],
    ) -> None:
        if not owners:
            return
        limit = item.limit or DEFAULT_LIMIT
        liked = self.reader.store.likes_of(owners)
        for person in owners:
            pages = liked.get(person, [])
            chunk = pages[:limit]
            if not chunk:
                continue
            bodies[person]["likes"] = self._page_listing(
                person,
                self.ref(person),
                chunk,
                item.children or (),
                limit,
                has_previous=False,
                has_next=len(pages) > limit,
            )
            self.sheet.add(person, "likes", decided[person].edges["likes"].rule_id)

    # --- listings --------------------------------------------------------------------------
    def listing(
        self,
        person: PersonId,
        ref: str,
        edge: str,
        edge_decision: Decision,
        selection: tuple[FieldSelection, ...],
        limit: int,
        cursor: tuple[str, int] | None,
    ) -> dict[str, Any]:
        """One page of ``person``'s ``edge``, with paging cursors and links."""
        if edge == "likes":
            pages, has_previous, has_next = self._likes_slice(person, limit, cursor)
            if pages:
                self.sheet.add(person, "likes", edge_decision.rule_id)
            return self._page_listing(
                person, ref, pages, selection, limit, has_previous=has_previous, has_next=has_next
            )
        found = self._friends_slice(person, limit, cursor)
        members = [PersonId(m) for m, _ in found.members]
        rules = {PersonId(m): r for m, r in found.members}
        bodies = self.people(members, selection, listed=rules)
        data = [bodies[m] for m in members if m in bodies]
        return self._with_paging(
            data,
            edge="friends",
            person=person,
            ref=ref,
            selection=selection,
            limit=limit,
            first=int(members[0]) if members else None,
            last=int(members[-1]) if members else None,
            has_previous=found.has_previous,
            has_next=found.has_next,
        )

    def _page_listing(
        self,
        person: PersonId,
        ref: str,
        pages: list[PageInfo],
        selection: tuple[FieldSelection, ...],
        limit: int,
        *,
        has_previous: bool,
        has_next: bool,
    ) -> dict[str, Any]:
        data: list[dict[str, Any]] = []
        for page in pages:
            body = {}
            for item in selection:
                value = page_value(page, item.name)
                if value is not None:
                    body[item.name] = value
            body.setdefault("id", str(page.id))
            data.append(body)
        return self._with_paging(
            data,
            edge="likes",
            person=person,
            ref=ref,
            selection=selection,
            limit=limit,
            first=int(pages[0].id) if pages else None,
            last=int(pages[-1].id) if pages else None,
            has_previous=has_previous,
            has_next=has_next,
        )

    def _with_paging(
        self,
        data: list[dict[str, Any]],
        *,
        edge: str,
        person: PersonId,
        ref: str,
        selection: tuple[FieldSelection, ...],
        limit: int,
        first: int | None,
        last: int | None,
        has_previous: bool,
        has_next: bool,
    ) -> dict[str, Any]:
        if first is None or last is None:
            return {"data": data}
        seal = self.reader.cursors.seal
        app = int(self.app)
        before = seal(Cursor(edge=edge, app_id=app, subject_id=int(person), position=first))
        after = seal(Cursor(edge=edge, app_id=app, subject_id=int(person), position=last))
        paging: dict[str, Any] = {"cursors": {"before": before, "after": after}}
        path = f"/{self.caller.path_version}/{ref}/{edge}"
        common = {"fields": render_fields(selection), "limit": str(limit)}
        if self.caller.access_token is not None:
            common = {"access_token": self.caller.access_token, **common}
        if has_previous:
            paging["previous"] = self.links(path, {**common, "before": before})
        if has_next:
            paging["next"] = self.links(path, {**common, "after": after})
        return {"data": data, "paging": paging}

    def _likes_slice(
        self, person: PersonId, limit: int, cursor: tuple[str, int] | None
    ) -> tuple[list[PageInfo], bool, bool]:
        store = self.reader.store
        if cursor is not None and cursor[0] == "before":
            earlier = [p for p in store.liked_pages(person) if p.id < cursor[1]]
            return earlier[-limit:], len(earlier) > limit, True
        after = PageId(cursor[1]) if cursor is not None else None
        pages = store.liked_pages(person, after=after, limit=limit + 1)
        return pages[:limit], cursor is not None, len(pages) > limit

    def _friends_slice(
        self, person: PersonId, limit: int, cursor: tuple[str, int] | None
    ) -> _Slice:
        """Members of ``person``'s friends edge around ``cursor``; one extra is looked for
        to know whether another page exists."""
        want = limit + 1
        chunk = self._chunk(limit)
        store = self.reader.store
        if cursor is not None and cursor[0] == "before":
            earlier = [f for f in store.friend_ids(person) if f < cursor[1]]
            earlier.reverse()
            found: list[tuple[int, str]] = []
            for start in range(0, len(earlier), chunk):
                batch = earlier[start : start + chunk]
                found.extend(self._members(person, batch, want - len(found)))
                if len(found) >= want:
                    break
            page = found[:limit]
            page.reverse()
            return _Slice(page, has_previous=len(found) > limit, has_next=True)
        position = PersonId(cursor[1]) if cursor is not None else None
        found = []
        while len(found) < want:
            candidates = self._friend_ids(person, position, chunk)
            found.extend(self._members(person, candidates, want - len(found)))
            if len(candidates) < chunk:
                break
            position = candidates[-1]
        return _Slice(found[:limit], has_previous=cursor is not None, has_next=len(found) > limit)

    def _chunk(self, limit: int) -> int:
        """How many friend ids to read at once for a page of ``limit`` (one more is looked
        for, to know whether another page exists)."""
        want = limit + 1
        # Under v2.0+ most friends are not listed (they do not use the app): read wider.
        return want if self.caller.version == "v1.0" or not self.enforcing else max(2 * want, 100)

    def _friend_ids(self, person: PersonId, after: PersonId | None, limit: int) -> list[PersonId]:
        key = (person, after, limit)
        found = self._friend_pages.get(key)
        if found is None:
            found = self._friend_pages[key] = self.reader.store.friend_ids(
                person, after=after, limit=limit
            )
        return found

    def read_ahead(self, person: PersonId, limit: int) -> None:
        """Read the owner together with the first friends of their own friends edge: one
        batch of facts instead of two. Reading is not disclosing; the policy still decides
        the owner's id and edge before anything of the friends is served."""
        if person != self.owner:
            return  # how another person's friends stand to the owner is not known here
        head = self._friend_ids(person, None, self._chunk(limit))
        relations = dict.fromkeys(head, Relation.FRIEND)
        relations[person] = Relation.SELF
        self.facts.load([person, *head], relations=relations)

    def _members(
        self, person: PersonId, candidates: Sequence[PersonId], wanted: int
    ) -> list[tuple[int, str]]:
        # the owner's own friends are friends: no need to ask the store how they relate
        known = Relation.FRIEND if person == self.owner else None
        subjects = self.facts.load(candidates, relation=known)
        present = [p for p in candidates if p in subjects]
        decisions = self.members([subjects[p] for p in present])
        out: list[tuple[int, str]] = []
        for person, decision in zip(present, decisions, strict=True):
            if decision.allowed:
                out.append((int(person), decision.rule_id))
                if len(out) >= wanted:
                    break
        return out


__all__ = [
    "MAX_OBJECTS",
    "UNKNOWN_TARGET",
    "DisclosureSheet",
    "LinkBuilder",
    "PageAssembly",
    "check_cost",
    "edge_denied",
    "no_links",
    "page_value",
    "parse_selection",
    "wire_value",
]
