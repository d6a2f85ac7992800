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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphwarden.api.access import Caller, build_access, effective_version
from graphwarden.api.assembly import (
    MAX_OBJECTS,
    UNKNOWN_TARGET,
    DisclosureSheet,
    LinkBuilder,
    PageAssembly,
    check_cost,
    edge_denied,
    no_links,
    page_value,
    parse_selection,
    wire_value,
)
from graphwarden.api.cursors import CursorCodec
from graphwarden.api.fields import (
    DEFAULT_LIMIT,
    PAGE,
    PERSON,
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
from graphwarden.core.types import ApiVersion, AppId, PersonId
from graphwarden.graph.interfaces import GraphStore
from graphwarden.ledger.interfaces import DisclosureBatch, DisclosureLedger
from graphwarden.policy.decide import admit
from graphwarden.policy.tables import known_permissions


#: ``(path, query parameters) -> absolute URL``; the HTTP layer knows the base URL
@dataclass(frozen=True, slots=True)
class PageRequest:
    """Paging parameters of an edge request."""

    limit: int = DEFAULT_LIMIT
    after: str | None = None
    before: str | None = None


#: the most ids one ``?ids=`` read may name (the Graph API's own limit)
MAX_IDS = 50

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
        selection = parse_selection(fields, PERSON)
        work = PageAssembly(self, caller, links)
        person = work.resolve(target)
        found = work.people([person], selection, listed=None, ref_of={person: target})
        if person not in found:
            raise NotFound(UNKNOWN_TARGET)
        body = found[person]
        self._commit(caller, work.sheet)
        return body

    def nodes(
        self, caller: Caller, targets: list[str], fields: str | None, links: LinkBuilder
    ) -> dict[str, Any]:
        """``GET /{version}/?ids=a,b``: each target by the id it was asked by, in one response
        and one ledger batch. As in the Graph API, one target the policy reveals nothing of
        makes the whole request 803 (and nothing is recorded or served)."""
        if not targets:
            raise InvalidInput("(#100) The parameter ids is required")
        if len(targets) > MAX_IDS:
            raise InvalidInput(f"(#100) Give at most {MAX_IDS} ids")
        selection = parse_selection(fields, PERSON)
        check_cost(selection, len(targets))
        work = PageAssembly(self, caller, links)
        people = {target: work.resolve(target) for target in targets}
        found = work.people(
            list(dict.fromkeys(people.values())),
            selection,
            listed=None,
            ref_of={person: target for target, person in people.items()},
        )
        if any(person not in found for person in people.values()):
            raise NotFound(UNKNOWN_TARGET)
        self._commit(caller, work.sheet)
        return {target: found[person] for target, person in people.items()}

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
        selection = parse_selection(fields, PERSON if edge == "friends" else PAGE)
        check_cost(selection, page.limit)
        work = PageAssembly(self, caller, links)
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
            raise PermissionDenied(edge_denied(caller.version, edge, subject.facts.relation))
        cursor = self._cursor(caller, edge, person, page)
        body = work.listing(person, target, edge, edge_decision, selection, page.limit, cursor)
        self._commit(caller, work.sheet)
        return body

    def permissions(self, caller: Caller, target: str) -> dict[str, Any]:
        """``GET /{version}/me/permissions``: each permission, granted or declined."""
        work = PageAssembly(self, caller, no_links)
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
        work = PageAssembly(self, caller, no_links)
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


__all__ = [
    "MAX_IDS",
    "MAX_OBJECTS",
    "UNKNOWN_TARGET",
    "DisclosureSheet",
    "GraphReader",
    "LinkBuilder",
    "PageRequest",
    "page_value",
    "wire_value",
]
