"""The Graph API's read path, free of any web framework: facts → policy → body → ledger.

For one request :class:`GraphReader` resolves the target, gathers the facts the policy needs
in batch reads (:mod:`graphwarden.api.facts`), asks :func:`graphwarden.policy.decide.decide_page`
and :func:`~graphwarden.policy.decide.edge_member` (the one decision point), builds a body
holding ONLY allowed fields with a value, and appends one
:class:`~graphwarden.ledger.interfaces.DisclosureBatch` naming every (subject, field) in that
body. The append happens before the body is returned; if it fails, :class:`LedgerWriteError`
propagates and the caller serves an error instead. A field with no value is neither served
nor recorded; an edge listing records each listed subject's ``id``; a ``likes`` listing
records ``likes`` of its subject.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import Any

from graphwarden.api.access import Caller, build_access, effective_version
from graphwarden.api.cursors import Cursor, CursorCodec
from graphwarden.api.facts import FactSheet, Subject
from graphwarden.api.fields import (
    DEFAULT_LIMIT,
    PAGE,
    PERSON,
    FieldSelection,
    parse_fields,
    render_fields,
    selection_cost,
)
from graphwarden.consent.interfaces import ConsentService
from graphwarden.core.clock import Clock
from graphwarden.core.errors import (
    AuthError,
    InvalidInput,
    LedgerWriteError,
    NotFound,
    PermissionDenied,
)
from graphwarden.core.types import ApiVersion, AppId, PageId, PersonId
from graphwarden.graph.fields import Relation
from graphwarden.graph.interfaces import GraphStore, PageInfo, Profile
from graphwarden.ledger.interfaces import DisclosureBatch, DisclosureColumns, DisclosureLedger
from graphwarden.policy.context import Decision
from graphwarden.policy.decide import admit, decide_page, edge_members
from graphwarden.policy.tables import known_permissions, permission_for

#: ``(path, query parameters) -> absolute URL``; the HTTP layer knows the base URL
LinkBuilder = Callable[[str, Mapping[str, str]], str]
#: the most objects one response may carry, all nesting levels together
MAX_OBJECTS = 5000
#: how many platform ids may be written as one: digits only, below 2**63
_MAX_ID_DIGITS = 18
_MAX_SCOPED_ID_CHARS = 64

_UNENFORCED = Decision(allowed=True, rule_id="enforcement-off", reason="benchmark only")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Paging parameters of an edge request."""

    limit: int = DEFAULT_LIMIT
    after: str | None = None
    before: str | None = None


@dataclass(slots=True)
class _Slice:
    members: list[tuple[int, str]]  # (item id, rule id) in ascending id order
    has_previous: bool
    has_next: bool


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


class _IdSpace:
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


class GraphReader:
    """The Graph API's read path. One instance serves many requests (it keeps no request
    state); ``enforcement=False`` turns policy and ledger off and exists only so the
    benchmark can measure what they cost.
    """

    def __init__(
        self,
        *,
        store: GraphStore,
        consent: ConsentService,
        ledger: DisclosureLedger | None,
        clock: Clock,
        cursors: CursorCodec,
        remove_app: Callable[[AppId, PersonId], object],
        enforcement: bool = True,
        picture_url: str = "/static/silhouette.png",
    ) -> None:
        if enforcement and ledger is None:
            raise ValueError("an enforcing Graph API needs a disclosure ledger")
        self.store = store
        self.consent = consent
        self.ledger = ledger
        self.clock = clock
        self.cursors = cursors
        #: the whole removal (authorization, tokens, deletion callback): consent.removal
        self.remove_app = remove_app
        self.enforcement = enforcement
        self.picture_url = picture_url

    # --- the caller ------------------------------------------------------------------------
    def authenticate(self, token_text: str, path_version: ApiVersion, request_id: str) -> Caller:
        """Resolve a token into the caller, or raise ``AuthError`` (Graph API code 190)."""
        token = self.consent.resolve_token(token_text)
        version = effective_version(path_version, token.app.api_version)
        state = self.consent.owner_state(token)
        access = build_access(token, state, version, self.clock.now())
        # the policy's gate (app, token, owner) answers before any work: code 190
        stopped = admit(access)
        if stopped is not None:
            raise AuthError(stopped.reason)
        return Caller(
            token=token,
            access=access,
            path_version=path_version,
            request_id=request_id,
            access_token=token_text,
        )

    # --- public reads ----------------------------------------------------------------------
    def node(
        self, caller: Caller, target: str, fields: str | None, links: LinkBuilder
    ) -> dict[str, Any]:
        """``GET /{version}/{target}``: one person, or 803 if the policy reveals nothing."""
        selection = _parse(fields, PERSON)
        work = _Request(self, caller, links)
        person = work.resolve(target)
        found = work.people([person], selection, listed=None, ref_of={person: target})
        if person not in found:
            raise NotFound(UNKNOWN_TARGET)
        body = found[person]
        self._commit(caller, work.sheet)
        return body

    def edge(
        self,
        caller: Caller,
        target: str,
        edge: str,
        fields: str | None,
        page: PageRequest,
        links: LinkBuilder,
    ) -> dict[str, Any]:
        """``GET /{version}/{target}/{edge}`` for ``friends`` and ``likes``, one page."""
        if edge not in ("friends", "likes"):
            raise InvalidInput(f"(#100) Unknown edge ({edge[:40]})")
        if page.after is not None and page.before is not None:
            raise InvalidInput("(#100) Give at most one of after and before")
        selection = _parse(fields, PERSON if edge == "friends" else PAGE)
        _check_cost(selection, page.limit)
        work = _Request(self, caller, links)
        person = work.resolve(target)
        if edge == "friends" and page.after is None and page.before is None:
            work.read_ahead(person, page.limit)
        subject = work.facts.get(person)
        if subject is None:
            raise NotFound(UNKNOWN_TARGET)
        id_decision, edge_decision = work.decide([subject], ["id", edge])[0]
        if not id_decision.allowed:
            raise NotFound(UNKNOWN_TARGET)
        if not edge_decision.allowed:
            raise PermissionDenied(_edge_denied(caller.version, edge, subject.facts.relation))
        cursor = self._cursor(caller, edge, person, page)
        body = work.listing(person, target, edge, edge_decision, selection, page.limit, cursor)
        self._commit(caller, work.sheet)
        return body

    def permissions(self, caller: Caller, target: str) -> dict[str, Any]:
        """``GET /{version}/me/permissions``: each permission, granted or declined."""
        work = _Request(self, caller, _no_links)
        if work.resolve(target) != caller.token.person_id:
            raise PermissionDenied("(#200) Permissions can be read only for the token's user")
        auth = self.consent.get_authorization(caller.token.app.id, caller.token.person_id)
        if auth is None:
            return {"data": []}
        granted = sorted(auth.granted - auth.declined)
        declined = sorted(auth.declined)
        return {
            "data": [{"permission": p, "status": "granted"} for p in granted]
            + [{"permission": p, "status": "declined"} for p in declined]
        }

    def revoke(self, caller: Caller, target: str, permission: str | None) -> dict[str, Any]:
        """``DELETE /{version}/me/permissions[/{permission}]``: revoke one, or remove the app."""
        work = _Request(self, caller, _no_links)
        owner = caller.token.person_id
        app = caller.token.app.id
        if work.resolve(target) != owner:
            raise PermissionDenied("(#200) Permissions can be revoked only by the token's user")
        if permission is None:
            self.remove_app(app, owner)
            return {"success": True}
        if permission not in known_permissions(caller.version):
            raise InvalidInput(f"(#100) Unknown permission ({permission[:60]})")
        if permission == "public_profile":
            raise InvalidInput(
                "(#100) public_profile cannot be revoked alone; "
                "DELETE /me/permissions removes the app"
            )
        auth = self.consent.get_authorization(app, owner)
        if auth is not None and permission in auth.granted - auth.declined:
            revoke = getattr(self.consent, "revoke_permission", None)
            if callable(revoke):
                revoke(app, owner, permission)
            else:  # the contract's way: consent is incremental, a declined one is taken back
                self.consent.authorize(app, owner, granted=(), declined=(permission,))
        return {"success": True}

    # --- internals -------------------------------------------------------------------------
    def _cursor(
        self, caller: Caller, edge: str, person: PersonId, page: PageRequest
    ) -> tuple[str, int] | None:
        text = page.after if page.after is not None else page.before
        if text is None:
            return None
        opened = self.cursors.open(
            text, edge=edge, app_id=int(caller.token.app.id), subject_id=int(person)
        )
        return ("after" if page.after is not None else "before", opened.position)

    def _commit(self, caller: Caller, sheet: DisclosureSheet) -> None:
        """Make the response's disclosures durable; raise ``LedgerWriteError`` otherwise."""
        if not self.enforcement or self.ledger is None or not len(sheet):
            return
        batch = DisclosureBatch(
            request_id=caller.request_id,
            at=self.clock.now(),
            app_id=caller.token.app.id,
            api_version=caller.version,
            owner_id=caller.token.person_id,
            items=sheet.items(),
        )
        try:
            self.ledger.append(batch)
        except LedgerWriteError:
            raise
        except Exception as exc:  # any failure to record means nothing may leave
            raise LedgerWriteError(f"the ledger failed: {exc.__class__.__name__}") from exc


UNKNOWN_TARGET = "(#803) Some of the aliases you requested do not exist"


def _no_links(_path: str, _params: Mapping[str, str]) -> str:
    return ""


def _parse(fields: str | None, node_type: str) -> tuple[FieldSelection, ...]:
    selection = parse_fields(fields, node_type)
    _check_cost(selection, 1)
    return selection


def _check_cost(selection: tuple[FieldSelection, ...], limit: int) -> None:
    if limit * selection_cost(selection) > MAX_OBJECTS:
        raise InvalidInput(
            f"(#100) The request asks for too many objects (at most {MAX_OBJECTS}); "
            "use smaller limits"
        )


def _edge_denied(version: ApiVersion, edge: str, relation: Relation) -> str:
    needed = permission_for(version, edge, relation)
    if needed is not None and relation is Relation.SELF:
        return f"(#200) Requires the {needed} permission"
    return f"(#200) The {edge} edge of this person is not available to this app"


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


class _Request:
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
        )
        self.ids = _IdSpace(reader.consent, caller)
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
            id(subject.facts): _Plan(selection, asked, row, self.reader.picture_url)
            for subject, row in zip(distinct, self.decide(distinct, asked), strict=True)
        }
        decided: dict[PersonId, _Plan] = {}
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
        decided: Mapping[PersonId, _Plan],
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
        common = {
            "access_token": self.caller.access_token,
            "fields": render_fields(selection),
            "limit": str(limit),
        }
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


def _birthday(profile: Profile) -> str | None:
    value = profile.birthday
    if isinstance(value, str) and len(value) == 10:
        year, month, day = value.split("-")
        return f"{month}/{day}/{year}"
    return value


class _Plan:
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
                getter = _value_getter(item.name, picture_url)
                self.scalars.append((item.name, getter, by_name[item.name].rule_id))
        # asked only outside an edge listing, where a denied id hides the person
        id_decision = by_name.get("id")
        self.id_rule: str | None = (
            id_decision.rule_id if id_decision is not None and id_decision.allowed else None
        )


def _value_getter(name: str, picture_url: str) -> Callable[[Profile], Any]:
    """A function giving ``name`` of a profile as the Graph API writes it (see
    :func:`wire_value`; None: no value, nothing served)."""
    if name == "birthday":
        return _birthday
    if name == "picture":
        return lambda _profile: {"data": {"is_silhouette": True, "url": picture_url}}
    return attrgetter(name)


__all__ = [
    "MAX_OBJECTS",
    "UNKNOWN_TARGET",
    "DisclosureSheet",
    "GraphReader",
    "LinkBuilder",
    "PageRequest",
    "page_value",
    "wire_value",
]
