"""An independent encoding of the policy: the hand-written Cedar policies in ``cedar/``,
and the translation of :class:`AccessContext` / :class:`SubjectFacts` into a Cedar request.

Nothing here reads ``graphwarden.policy.tables``: the Cedar text was written from the prose
rules, so agreement between the two is evidence, not a tautology.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cedarpy

from graphwarden.graph.fields import FIELDS, AppsOthersUse
from graphwarden.policy.context import AccessContext, SubjectFacts

CEDAR_DIR = Path(__file__).parent / "cedar"
POLICY_FILES = ("common.cedar", "v1.cedar", "v2_v3.cedar")
MEMBER = len(FIELDS)

# The "apps others use" switch that governs each field, as the prose states it.
_SWITCH = {
    "birthday": AppsOthersUse.BIRTHDAY,
    "hometown": AppsOthersUse.HOMETOWN,
    "location": AppsOthersUse.LOCATION,
    "country": AppsOthersUse.LOCATION,
    "relationship_status": AppsOthersUse.RELATIONSHIPS,
    "religion": AppsOthersUse.RELIGION_POLITICS,
    "political": AppsOthersUse.RELIGION_POLITICS,
    "education": AppsOthersUse.EDUCATION,
    "work": AppsOthersUse.WORK,
    "likes": AppsOthersUse.LIKES,
}


def policies() -> cedarpy.PolicySet:
    text = "\n".join((CEDAR_DIR / name).read_text() for name in POLICY_FILES)
    return cedarpy.PolicySet.from_str(text)


def entities() -> cedarpy.Entities:
    return cedarpy.Entities.from_json_str((CEDAR_DIR / "entities.json").read_text())


def request(c: AccessContext, s: SubjectFacts, field_code: int) -> dict[str, Any]:
    """The Cedar request for a field (or, for ``MEMBER``, friends-edge membership)."""
    name = "friends" if field_code == MEMBER else FIELDS[field_code].name
    switch = _SWITCH.get(name)
    return {
        "principal": {"type": "App", "id": "app"},
        "action": {"type": "Action", "id": "list_friend" if field_code == MEMBER else "read"},
        "resource": {"type": "Field", "id": name},
        "context": {
            "version": c.api_version,
            "app_status": c.app_status,
            "token_active": c.token_active,
            "owner_authorized": c.owner_authorized,
            "data_access_active": c.data_access_active,
            "owner_has_role": c.owner_has_role,
            "app_in_development": c.app_in_development,
            "subject_has_role": s.subject_has_role,
            "granted": sorted(c.owner_granted),
            "approved": sorted(c.approved_permissions),
            "relation": s.relation.label,
            "audience": s.audiences[FIELDS[[f.name for f in FIELDS].index(name)].index].label,
            "shares": True if switch is None else s.apps_others_use[switch],
            "subject_platform": s.platform_enabled,
            "uses_app": s.uses_app,
            "subject_granted": sorted(s.subject_granted),
        },
    }


def cedar_allows(
    cases: list[tuple[AccessContext, SubjectFacts, int]],
    policy_set: cedarpy.PolicySet | None = None,
    entity_set: cedarpy.Entities | None = None,
) -> list[bool]:
    """Cedar's allow/deny for each case, evaluated as one batch."""
    results = cedarpy.is_authorized_batch(
        [request(c, s, code) for c, s, code in cases],
        policy_set or policies(),
        entity_set or entities(),
    )
    return [r.allowed for r in results]
