"""Gathering what the policy needs to know about a page of subjects, in a few batch reads.

For one request the Graph API asks the graph store for profiles with their privacy vectors
(one query) and the subjects' relation to the token's owner (none when the caller knows it,
as for the owner's own friend list), and the consent service for the subjects' own
authorizations of the app (and, for an app in development mode, which of them hold a role
on it): two to four queries per batch, whatever the batch size, and each
subject is read at most once per request (the :class:`FactSheet` remembers). Facts are
interned (:func:`facts_from_vector`), so the policy sees one object per distinct combination.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graphwarden.consent.interfaces import AuthorizationInfo, ConsentService
from graphwarden.core.types import AppId, PersonId
from graphwarden.graph.fields import AUDIENCE_FIELDS, FIELDS, AppsOthersUse, Audience, Relation
from graphwarden.graph.interfaces import GraphStore, PrivacySettings, PrivacyVector, Profile
from graphwarden.policy.context import SubjectFacts

_CATEGORIES = tuple(AppsOthersUse)
# ``id`` is always public and first; the other fields follow in catalogue order
if FIELDS[0].name != "id" or tuple(f.name for f in FIELDS[1:]) != AUDIENCE_FIELDS:
    raise ImportError("the field catalogue no longer starts with id followed by AUDIENCE_FIELDS")


@dataclass(frozen=True, slots=True)
class Subject:
    """A person as one request sees them: their profile and what the policy is told."""

    profile: Profile
    facts: SubjectFacts


def subject_facts(
    relation: Relation,
    privacy: PrivacySettings,
    profile: Profile,
    authorization: AuthorizationInfo | None,
    *,
    has_role: bool = False,
) -> SubjectFacts:
    """The policy's view of one subject, from store and consent facts."""
    uses_app = authorization is not None and authorization.removed_at is None
    granted = (
        authorization.granted - authorization.declined
        if authorization is not None and uses_app
        else frozenset()
    )
    return SubjectFacts(
        relation=relation,
        audiences=(Audience.PUBLIC, *map(privacy.audiences.__getitem__, AUDIENCE_FIELDS)),
        apps_others_use=tuple(privacy.apps_others_use.get(c, True) for c in _CATEGORIES),
        platform_enabled=profile.platform_enabled,
        uses_app=uses_app,
        subject_granted=frozenset(granted),
        subject_has_role=has_role,
    )


#: interned facts: a page of friends has few distinct fact combinations, and one shared
#: (immutable) object per combination lets the policy decide each combination once
_INTERNED: dict[tuple[object, ...], SubjectFacts] = {}
_MAX_INTERNED = 4096
_N_AUDIENCES = len(AUDIENCE_FIELDS)
_AUDIENCE_OF: tuple[Audience, ...] = tuple(sorted(Audience, key=int))


def facts_from_vector(
    relation: Relation,
    vector: PrivacyVector,
    platform_enabled: bool,
    granted: frozenset[str] | None,
    has_role: bool = False,
) -> SubjectFacts:
    """The policy's view of one subject from plain values (``granted``: the permissions the
    subject granted this app, None when they do not use it; ``has_role``: they hold a role
    on it). Equal inputs give the same object, so a page's repeated combinations are built,
    and decided, once."""
    key = (relation, vector, platform_enabled, granted, has_role)
    facts = _INTERNED.get(key)
    if facts is None:
        if len(_INTERNED) >= _MAX_INTERNED:
            _INTERNED.clear()
        facts = SubjectFacts(
            relation=relation,
            audiences=(Audience.PUBLIC, *map(_AUDIENCE_OF.__getitem__, vector[:_N_AUDIENCES])),
            apps_others_use=tuple(map(bool, vector[_N_AUDIENCES:])),
            platform_enabled=platform_enabled,
            uses_app=granted is not None,
            subject_granted=frozenset() if granted is None else granted,
            subject_has_role=has_role,
        )
        _INTERNED[key] = facts
    return facts


class FactSheet:
    """Per-request cache of subjects; :meth:`load` reads only the people not yet known.

    With ``enforcing=False`` (the benchmark-only switch) only profiles are read: nothing
    consults the policy, so nothing needs its facts. With the policy on, a batch costs two
    queries when the relations are known (the owner's own friend list), four otherwise.
    """

    def __init__(
        self,
        store: GraphStore,
        consent: ConsentService,
        *,
        app_id: AppId,
        owner_id: PersonId,
        enforcing: bool = True,
        development: bool = False,
    ) -> None:
        self._store = store
        #: the app is in development mode: who holds a role on it is a fact the policy needs
        self._development = development
        self._consent = consent
        self._app_id = app_id
        self._owner = owner_id
        self._enforcing = enforcing
        self._known: dict[PersonId, Subject | None] = {}

    def load(
        self,
        people: Sequence[PersonId],
        *,
        relation: Relation | None = None,
        relations: Mapping[PersonId, Relation] | None = None,
    ) -> dict[PersonId, Subject]:
        """The subjects among ``people`` who exist (others are absent from the result).

        ``relation``: how all of ``people`` stand to the owner when the caller already knows
        (the owner's own friend list); ``relations``: the same, person by person (the owner
        is SELF, their friends FRIEND). Either saves the relations query.
        """
        known = self._known
        missing = [p for p in dict.fromkeys(people) if p not in known]
        if missing:
            self._read(missing, relation, relations)
        out: dict[PersonId, Subject] = {}
        for person in people:
            subject = known.get(person)
            if subject is not None:
                out[person] = subject
        return out

    def get(self, person: PersonId) -> Subject | None:
        return self.load([person]).get(person)

    def _read(
        self,
        people: list[PersonId],
        relation: Relation | None,
        relations: Mapping[PersonId, Relation] | None,
    ) -> None:
        known = self._known
        if not self._enforcing:
            profiles = self._store.get_profiles(people)
            for person in people:
                profile = profiles.get(person)
                known[person] = None if profile is None else Subject(profile, _UNENFORCED)
            return
        rows = self._store.profiles_with_privacy(people)
        present = [p for p in people if p in rows]
        if not present:
            known.update(dict.fromkeys(people))
            return
        if relation is not None:
            relation_of: Mapping[PersonId, Relation] = dict.fromkeys(present, relation)
        elif relations is not None and all(p in relations for p in present):
            relation_of = relations
        else:
            relation_of = self._store.relations(self._owner, present)
        granted: dict[PersonId, frozenset[str] | None] = {}
        for person, auth in self._consent.authorizations_of(self._app_id, present).items():
            if auth.removed_at is None:
                granted[person] = auth.granted - auth.declined
        holders = (
            self._consent.role_holders_among(self._app_id, present)
            if self._development
            else frozenset()
        )
        stranger = Relation.STRANGER
        interned = _INTERNED
        for person in people:
            row = rows.get(person)
            if row is None:
                known[person] = None
                continue
            profile, vector = row
            relation_ = relation_of.get(person, stranger)
            grant = granted.get(person)
            role = person in holders
            # the lookup of facts_from_vector, inlined: it runs once per subject of a page
            facts = interned.get((relation_, vector, profile.platform_enabled, grant, role))
            if facts is None:
                facts = facts_from_vector(relation_, vector, profile.platform_enabled, grant, role)
            known[person] = Subject(profile, facts)


# Facts of no one: used only when the benchmark switch turns the policy off.
_UNENFORCED = SubjectFacts(
    relation=Relation.STRANGER,
    audiences=tuple(f.default_audience for f in FIELDS),
    apps_others_use=(True,) * len(_CATEGORIES),
)

__all__ = ["FactSheet", "Subject", "facts_from_vector", "subject_facts"]
