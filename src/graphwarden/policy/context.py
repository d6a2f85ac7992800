"""What the policy decision point is told. Plain values: the policy reads, never writes.

The caller (the Graph API, the simulator, what-if) gathers these facts from the graph and
consent stores; :mod:`graphwarden.policy.decide` turns them into a :class:`Decision`.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphwarden.core.types import ApiVersion
from graphwarden.graph.fields import AppsOthersUse, Audience, Relation


@dataclass(frozen=True, slots=True)
class AccessContext:
    """The app, the token and the consent of the token's owner."""

    api_version: ApiVersion
    #: "active", "suspended" or "deleted"
    app_status: str
    #: the token exists, is not revoked and not expired
    token_active: bool
    #: permissions the owner granted to the app and the token carries (declined ones excluded)
    owner_granted: frozenset[str]
    #: permissions the app was approved for in App Review
    approved_permissions: frozenset[str] = frozenset()
    #: the owner holds a role (admin, developer, tester) on the app
    owner_has_role: bool = False
    #: the owner used the app within the version's lapse window (v3.0: 90 days)
    data_access_active: bool = True
    #: the owner has not removed the app and has the platform turned on
    owner_authorized: bool = True
    #: the app is in development mode: only people with a role on it may be read
    app_in_development: bool = False


@dataclass(frozen=True, slots=True)
class SubjectFacts:
    """What the policy needs to know about the person whose field is asked for."""

    relation: Relation
    #: the subject's audience for each field, indexed by ``FieldSpec.index``
    audiences: tuple[Audience, ...]
    #: the subject's "apps others use" switches, indexed by ``AppsOthersUse``
    apps_others_use: tuple[bool, ...]
    platform_enabled: bool = True
    #: the subject has authorized this app themselves (and not removed it)
    uses_app: bool = False
    #: permissions the subject granted to this app (empty when they do not use it)
    subject_granted: frozenset[str] = frozenset()
    #: the subject holds a role (admin, developer, tester) on the app (read in development
    #: mode only; elsewhere it does not matter)
    subject_has_role: bool = False

    def audience(self, field_index: int) -> Audience:
        return self.audiences[field_index]

    def shares(self, category: AppsOthersUse) -> bool:
        return self.apps_others_use[int(category)]


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    #: the id of the rule that allowed or denied, e.g. ``"v1.0/friend-field"``
    rule_id: str
    reason: str


__all__ = ["AccessContext", "Decision", "SubjectFacts"]
