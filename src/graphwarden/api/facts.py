"""Gathering what the policy needs to know about a page of subjects, in a few batch reads.

For one request the Graph API asks the graph store for profiles, privacy settings and the
subjects' relation to the token's owner, and the consent service for the subjects' own
authorizations of the app: four queries per batch, whatever the batch size, and each subject
is read at most once per request (the :class:`FactSheet` remembers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from graphwarden.consent.interfaces import AuthorizationInfo, ConsentService
from graphwarden.core.types import AppId, PersonId
from graphwarden.graph.fields import AUDIENCE_FIELDS, FIELDS, AppsOthersUse, Audience, Relation
from graphwarden.graph.interfaces import GraphStore, PrivacySettings, Profile
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
    )


class FactSheet:
    """Per-request cache of subjects; :meth:`load` reads only the people not yet known.

    With ``enforcing=False`` (the benchmark-only switch) only profiles are read: nothing
    consults the policy, so nothing needs its facts.
    """

    def __init__(
        self,
        store: GraphStore,
        consent: ConsentService,
        *,
        app_id: AppId,
        owner_id: PersonId,
        enforcing: bool = True,
    ) -> None:
        self._store = store
        self._consent = consent
        self._app_id = app_id
        self._owner = owner_id
        self._enforcing = enforcing
        self._known: dict[PersonId, Subject | None] = {}

    def load(
        self, people: Sequence[PersonId], *, relation: Relation | None = None
    ) -> dict[PersonId, Subject]:
        """The subjects among ``people`` who exist (others are absent from the result).

        ``relation``: how all of ``people`` stand to the owner when the caller already knows
        (the owner's own friend list), which saves the relations query.
        """
        missing = list(dict.fromkeys(p for p in people if p not in self._known))
        if missing:
            self._read(missing, relation)
        out: dict[PersonId, Subject] = {}
        for person in people:
            subject = self._known.get(person)
            if subject is not None:
                out[person] = subject
        return out

    def get(self, person: PersonId) -> Subject | None:
        return self.load([person]).get(person)

    def _read(self, people: list[PersonId], relation: Relation | None) -> None:
        profiles = self._store.get_profiles(people)
        present = [p for p in people if p in profiles]
        if self._enforcing and present:
            privacy = self._store.get_privacy(present)
            relations = (
                self._store.relations(self._owner, present)
                if relation is None
                else dict.fromkeys(present, relation)
            )
            authorizations = self._consent.authorizations_of(self._app_id, present)
        for person in people:
            profile = profiles.get(person)
            if profile is None:
                self._known[person] = None
                continue
            if self._enforcing:
                facts = subject_facts(
                    relations.get(person, Relation.STRANGER),
                    privacy.get(person) or PrivacySettings(),
                    profile,
                    authorizations.get(person),
                )
            else:
                facts = _UNENFORCED
            self._known[person] = Subject(profile=profile, facts=facts)


# Facts of no one: used only when the benchmark switch turns the policy off.
_UNENFORCED = SubjectFacts(
    relation=Relation.STRANGER,
    audiences=tuple(f.default_audience for f in FIELDS),
    apps_others_use=(True,) * len(_CATEGORIES),
)

__all__ = ["FactSheet", "Subject", "subject_facts"]
