"""The per-request face of the policy: one token, a page of subjects, a list of fields.

>>> from graphwarden.graph.fields import Relation, N_FIELDS, N_CATEGORIES, FIELDS
>>> ctx = AccessContext("v1.0", "active", True, frozenset({"friends_birthday"}))
>>> friend = SubjectFacts(Relation.FRIEND, tuple(f.default_audience for f in FIELDS),
...                       (True,) * N_CATEGORIES)
>>> decide(ctx, friend, "birthday").rule_id
'v1.0/friend-field'
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from graphwarden.core.errors import InvalidInput
from graphwarden.graph.fields import FIELD_BY_NAME, N_CATEGORIES, N_FIELDS, FieldSpec, Relation
from graphwarden.policy.context import AccessContext, Decision, SubjectFacts
from graphwarden.policy.rules import (
    MEMBER,
    development,
    evaluate,
    field_permissions,
    gate,
    reviewed,
)
from graphwarden.policy.tables import PUBLIC_PROFILE, Rule

#: (own granted, own reviewed, twin granted, twin reviewed) of one field for one owner
OwnerFacts = tuple[bool, bool, bool, bool]


@lru_cache(maxsize=1024)
def _decision(rule: Rule) -> Decision:
    return Decision(allowed=rule.allowed, rule_id=rule.id, reason=rule.reason)


@lru_cache(maxsize=8192)
def _owner_facts(
    version: str,
    granted: frozenset[str],
    approved: frozenset[str],
    has_role: bool,
    field_index: int,
) -> OwnerFacts:
    own, twin = field_permissions(version, field_index)
    return (
        own == PUBLIC_PROFILE or (own is not None and own in granted),
        reviewed(version, own, approved, has_role),
        twin is not None and twin in granted,
        reviewed(version, twin, approved, has_role),
    )


def _gate(ctx: AccessContext) -> Decision | None:
    rule = gate(
        ctx.api_version,
        ctx.app_status,
        ctx.token_active,
        ctx.owner_authorized,
        ctx.app_in_development,
        ctx.owner_has_role,
    )
    return None if rule is None else _decision(rule)


def _subject_gate(ctx: AccessContext, subject: SubjectFacts) -> Rule | None:
    """Development mode, subject by subject: the owner passed the gate; anyone else needs a
    role on the app."""
    return development(
        ctx.api_version,
        ctx.app_in_development,
        subject.relation is Relation.SELF or subject.subject_has_role,
    )


def admit(ctx: AccessContext) -> Decision | None:
    """The decision that stops a request before any subject or field (a suspended or deleted
    app, an inactive token, an owner who removed the app or turned the platform off, an app
    in development mode and an owner without a role on it), or ``None`` when the request may
    go on to per-field decisions."""
    return _gate(ctx)


def _spec(field_name: str) -> FieldSpec:
    spec = FIELD_BY_NAME.get(field_name)
    if spec is None:
        raise InvalidInput(f"unknown field {field_name!r}")
    return spec


def _check_subject(subject: SubjectFacts) -> None:
    if len(subject.audiences) != N_FIELDS or len(subject.apps_others_use) != N_CATEGORIES:
        raise InvalidInput(
            f"subject facts need {N_FIELDS} audiences and {N_CATEGORIES} apps-others-use switches"
        )


def _facts(ctx: AccessContext, field_index: int) -> OwnerFacts:
    return _owner_facts(
        ctx.api_version,
        ctx.owner_granted,
        ctx.approved_permissions,
        ctx.owner_has_role,
        field_index,
    )


def _one(ctx: AccessContext, subject: SubjectFacts, spec: FieldSpec, facts: OwnerFacts) -> Rule:
    stopped = _subject_gate(ctx, subject)
    if stopped is not None:
        return stopped
    shares = True if spec.category is None else subject.apps_others_use[spec.category]
    return evaluate(
        ctx.api_version,
        spec.index,
        subject.relation,
        subject.audiences[spec.index],
        shares,
        subject.platform_enabled,
        subject.uses_app,
        "user_friends" in subject.subject_granted,
        *facts,
        ctx.data_access_active,
    )


def decide(ctx: AccessContext, subject: SubjectFacts, field: str) -> Decision:
    """Whether ``field`` of ``subject`` may leave under ``ctx``, with the deciding rule.

    Raises :class:`InvalidInput` for an unknown field and :class:`PolicyError` for an
    unknown API version.
    """
    spec = _spec(field)
    _check_subject(subject)
    denied = _gate(ctx)
    if denied is not None:
        return denied
    return _decision(_one(ctx, subject, spec, _facts(ctx, spec.index)))


def decide_page(
    ctx: AccessContext, subjects: Sequence[SubjectFacts], fields: Sequence[str]
) -> list[list[Decision]]:
    """Decisions for every (subject, field) of a page: ``result[i][j]`` is subject i, field j.

    The token-level rules and the owner's grants are evaluated once per page, not per cell,
    and each distinct facts object once per page (callers that intern their facts, as the
    Graph API does, pay for a handful of combinations, not for every subject).
    """
    specs = [_spec(f) for f in fields]
    seen: dict[int, list[Decision]] = {}
    for subject in subjects:
        if id(subject) not in seen:
            _check_subject(subject)
            seen[id(subject)] = []
    denied = _gate(ctx)
    if denied is not None:
        return [[denied] * len(specs) for _ in subjects]
    plans = [(spec, _facts(ctx, spec.index)) for spec in specs]
    out: list[list[Decision]] = []
    for s in subjects:
        row = seen[id(s)]
        if not row and plans:
            row.extend(_decision(_one(ctx, s, spec, facts)) for spec, facts in plans)
        out.append(row.copy())
    return out


def edge_members(ctx: AccessContext, subjects: Sequence[SubjectFacts]) -> list[Decision]:
    """:func:`edge_member` of each of ``subjects``, each distinct facts object decided once.

    ``edge_members(ctx, page)[i] == edge_member(ctx, page[i])`` for every ``i``.
    """
    seen: dict[int, Decision] = {}
    out: list[Decision] = []
    for subject in subjects:
        decision = seen.get(id(subject))
        if decision is None:
            decision = seen[id(subject)] = edge_member(ctx, subject)
        out.append(decision)
    return out


def edge_member(ctx: AccessContext, subject: SubjectFacts) -> Decision:
    """Whether ``subject`` appears in the token owner's ``friends`` edge listing.

    v1.0 lists every friend; v2.0+ only friends who use the app and granted ``user_friends``,
    and only when the owner's own friends edge is allowed.
    """
    _check_subject(subject)
    denied = _gate(ctx)
    if denied is not None:
        return denied
    stopped = _subject_gate(ctx, subject)
    if stopped is not None:
        return _decision(stopped)
    facts = _facts(ctx, MEMBER)
    rule = evaluate(
        ctx.api_version,
        MEMBER,
        subject.relation,
        subject.audiences[FIELD_BY_NAME["friends"].index],
        True,
        subject.platform_enabled,
        subject.uses_app,
        "user_friends" in subject.subject_granted,
        *facts,
        ctx.data_access_active,
    )
    return _decision(rule)


__all__ = ["admit", "decide", "decide_page", "edge_member", "edge_members"]
