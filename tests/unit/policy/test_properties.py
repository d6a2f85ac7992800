"""Security properties of the policy, for every generated case (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from graphwarden.graph.fields import FIELD_BY_NAME, FIELD_NAMES, N_FIELDS, Relation
from graphwarden.policy.bulk import MEMBER_FIELD, BulkPolicy
from graphwarden.policy.context import AccessContext, Decision, SubjectFacts
from graphwarden.policy.decide import decide, decide_page, edge_member

from .facts import bulk_arrays, bulk_context, contexts, field_names, subjects

field_codes = st.integers(min_value=0, max_value=MEMBER_FIELD)


def _any(c: AccessContext, s: SubjectFacts, code: int) -> Decision:
    return edge_member(c, s) if code == MEMBER_FIELD else decide(c, s, FIELD_NAMES[code])


@given(contexts(), subjects(), field_codes)
def test_every_decision_names_a_rule_of_its_version(
    c: AccessContext, s: SubjectFacts, code: int
) -> None:
    d = _any(c, s, code)
    assert d.rule_id.startswith(f"{c.api_version}/")
    assert d.reason


@given(contexts(), subjects(), field_codes)
def test_nothing_of_a_non_user_leaves_after_v1(
    c: AccessContext, s: SubjectFacts, code: int
) -> None:
    """v2.0/v3.0: nothing at all of a subject who is not the owner and does not use the app;
    of one who does, only basic info (and friends-edge membership)."""
    if c.api_version == "v1.0" or s.relation is Relation.SELF:
        return
    d = _any(c, s, code)
    if not s.uses_app:
        assert not d.allowed
    elif d.allowed and code != MEMBER_FIELD:
        assert FIELD_BY_NAME[FIELD_NAMES[code]].basic


@given(contexts(), subjects(), field_codes)
def test_broken_tokens_disclose_nothing(c: AccessContext, s: SubjectFacts, code: int) -> None:
    if c.app_status == "active" and c.token_active and c.owner_authorized:
        return
    assert not _any(c, s, code).allowed


@given(contexts(), subjects(), field_codes)
def test_phone_and_withdrawn_permissions_never_leave(
    c: AccessContext, s: SubjectFacts, code: int
) -> None:
    d = _any(c, s, code)
    if code == FIELD_BY_NAME["phone"].index:
        assert not d.allowed
    if c.api_version == "v3.0" and code < N_FIELDS:
        withdrawn = {"religion", "political", "relationship_status", "education", "work"}
        if FIELD_NAMES[code] in withdrawn:
            assert not d.allowed


@given(contexts(), subjects(), field_codes)
def test_a_friends_field_under_v1_needs_twin_audience_and_switch(
    c: AccessContext, s: SubjectFacts, code: int
) -> None:
    if c.api_version != "v1.0" or s.relation is Relation.SELF or code == MEMBER_FIELD:
        return
    spec = FIELD_BY_NAME[FIELD_NAMES[code]]
    d = _any(c, s, code)
    if d.allowed and not spec.basic:
        assert s.relation is Relation.FRIEND
        assert spec.category is not None
        assert s.apps_others_use[spec.category]
        assert s.audiences[spec.index].name != "ONLY_ME"


@given(contexts(), subjects(), field_codes)
def test_development_mode_discloses_nobody_without_a_role(
    c: AccessContext, s: SubjectFacts, code: int
) -> None:
    """An app in development mode reads nothing through the token of someone without a role
    on it, and nothing of anyone else without one (friends of testers included)."""
    if not c.app_in_development:
        return
    d = _any(c, s, code)
    if not c.owner_has_role or (s.relation is not Relation.SELF and not s.subject_has_role):
        assert not d.allowed
        assert d.rule_id in (
            f"{c.api_version}/app-in-development",
            f"{c.api_version}/app-suspended",
            f"{c.api_version}/app-deleted",
            f"{c.api_version}/app-not-active",
            f"{c.api_version}/token-inactive",
            f"{c.api_version}/owner-not-authorized",
        )


@given(contexts(), subjects(), field_codes)
def test_development_mode_among_role_holders_is_live_mode(
    c: AccessContext, s: SubjectFacts, code: int
) -> None:
    """Between role holders a development-mode app is decided exactly as a live one."""
    if not c.app_in_development or not c.owner_has_role:
        return
    if s.relation is not Relation.SELF and not s.subject_has_role:
        return
    live = AccessContext(**{**_fields(c), "app_in_development": False})
    assert _any(c, s, code) == _any(live, s, code)


def _fields(c: AccessContext) -> dict[str, object]:
    return {name: getattr(c, name) for name in AccessContext.__dataclass_fields__}


@settings(max_examples=200)
@given(contexts(), st.lists(st.tuples(subjects(), field_codes), min_size=1, max_size=40))
def test_bulk_face_equals_per_request_face(
    c: AccessContext, cases: list[tuple[SubjectFacts, int]]
) -> None:
    policy = BulkPolicy.for_version(c.api_version)
    allowed, codes = policy.decide(**bulk_arrays(cases), **bulk_context(c))
    for (s, code), ok, rc in zip(cases, allowed, codes, strict=True):
        d = _any(c, s, code)
        assert (bool(ok), policy.rule_ids[rc]) == (d.allowed, d.rule_id)


@settings(max_examples=50)
@given(contexts(), st.lists(subjects(), max_size=8), st.lists(field_names, max_size=6))
def test_page_equals_single_decisions(
    c: AccessContext, page: list[SubjectFacts], fields: list[str]
) -> None:
    assert decide_page(c, page, fields) == [[decide(c, s, f) for f in fields] for s in page]
