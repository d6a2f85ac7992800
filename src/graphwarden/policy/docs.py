"""Renders ``docs/policy.md`` from the policy tables, so the documentation is the policy.

Regenerate with ``python -m graphwarden.policy.docs > docs/policy.md``; a test fails when the
file differs from the rendering.
"""

from __future__ import annotations

from graphwarden.core.types import API_VERSIONS
from graphwarden.policy.bulk import MEMBER_FIELD, PERMISSION_BITS
from graphwarden.policy.tables import (
    POLICIES,
    PUBLIC_PROFILE,
    FriendList,
    OthersBasic,
    PolicyTable,
    known_permissions,
    needs_review,
    requestable,
)

_FRIEND_LIST = {
    FriendList.ALL_FRIENDS: "every friend",
    FriendList.APP_USERS_WITH_USER_FRIENDS: (
        "only friends who use the app and granted `user_friends` themselves"
    ),
}
_OTHERS_BASIC = {
    OthersBasic.ANYONE: "anyone's, by id",
    OthersBasic.APP_USERS: "only of people who use the app themselves",
}

_INTRO = """\
# Policy

<!-- Rendered from graphwarden.policy.tables by `python -m graphwarden.policy.docs`.
     Do not edit by hand: a test fails when this file differs from the rendering. -->

Every field that leaves graphwarden is decided by `graphwarden.policy`: the per-request face
(`decide`, `decide_page`, `edge_member`) and the bulk face (`BulkPolicy`) both run the rule
interpreter over the tables below, and every decision names the rule that made it.

Order of evaluation, the same in every version:

1. the app (suspended, deleted, not active), the token (inactive), the owner (removed the
   app or turned the platform off): nothing leaves;
2. an app in development mode (`app-in-development`): nothing leaves through the token of an
   owner without a role on the app (admin, developer, tester), and nothing of any other
   subject without one — a role holder's friends are not read either. Between role holders
   a development-mode app is decided as a live one;
3. a subject who turned the platform off is seen by nobody but themselves;
4. when the owner's data access has lapsed, only the owner's own basic info remains;
5. the owner's own fields: the permission covering the field must be requestable, granted
   (`public_profile` is implicit) and, where the version has App Review, approved for the app
   or the owner must hold a role on it;
6. other people: the version's rules for friends' fields and others' basic info;
7. the friends edge lists a friend only when the owner's own friends edge is allowed and the
   version's friend-list rule admits that friend.
"""


def _permissions_overview() -> list[str]:
    perms = sorted(
        set().union(*(known_permissions(v) for v in API_VERSIONS)),
        key=lambda p: (p != PUBLIC_PROFILE, p.startswith("friends_"), p),
    )
    head = "| permission | " + " | ".join(API_VERSIONS) + " |"
    lines = ["## Permissions at a glance", "", head, "|---" * (len(API_VERSIONS) + 1) + "|"]
    for perm in perms:
        cells = []
        for v in API_VERSIONS:
            if perm not in known_permissions(v):
                cells.append("—")
            elif not requestable(v, perm):
                cells.append("withdrawn")
            elif needs_review(v, perm):
                cells.append("review")
            else:
                cells.append("yes")
        lines.append(f"| `{perm}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "yes: requestable without review; review: needs App Review; "
        "withdrawn: can no longer be requested; —: does not exist.",
        "",
    ]
    return lines


def _version(t: PolicyTable) -> list[str]:
    lapse = "never" if t.lapse_days is None else f"after {t.lapse_days} days without use"
    review = (
        "none in this version"
        if t.review_free is None
        else "needed for every permission except "
        + ", ".join(f"`{p}`" for p in sorted(t.review_free))
    )
    audiences = ", ".join(a.label for a in sorted(t.friend_audiences)) or "—"
    lines = [
        f"## {t.version}",
        "",
        f"- Friends edge lists: {_FRIEND_LIST[t.friend_list]}.",
        f"- Basic info of others: {_OTHERS_BASIC[t.others_basic]}.",
        f"- A friend's field through a `friends_*` twin when its audience is: {audiences}.",
        f"- App Review: {review}.",
        "- Withdrawn: " + (", ".join(f"`{p}`" for p in sorted(t.withdrawn)) or "none") + ".",
        f"- Data access lapses: {lapse}.",
        "",
        "| permission | owner's fields | friend's fields through |",
        "|---|---|---|",
    ]
    twin_of = {base: twin for twin, base in t.friend_twins.items()}
    for perm, fields in t.permissions.items():
        twin = f"`{twin_of[perm]}`" if perm in twin_of else "—"
        lines.append(f"| `{perm}` | {', '.join(fields)} | {twin} |")
    lines += ["", "| rule | effect | reason |", "|---|---|---|"]
    for rule in t.rules.values():
        lines.append(f"| `{rule.id}` | {rule.effect.value} | {rule.reason} |")
    lines.append("")
    return lines


def _bulk() -> list[str]:
    lines = [
        "## Bulk face",
        "",
        "`BulkPolicy.for_version(v)` runs every case of the finite domain through the same",
        "interpreter into a lookup table of rule codes (`rule_ids[code]` names the rule); a",
        "decision is then a few bit operations and one gather. Field codes are `FieldSpec.index`,",
        f'plus `MEMBER_FIELD = {MEMBER_FIELD}` for "listed in the owner\'s friends edge".',
        "Development mode is not in the table: `rules.development`, the same function the",
        "per-request face asks, is applied after the lookup (`app_in_development`,",
        "`owner_has_role`, per-case `subject_has_role`), before the per-case token and owner",
        "flags, so both faces decide in the same order.",
        "Owner grants and App Review approvals are bitmasks (uint32) in this layout, the same",
        "for every version; each `friends_*` twin sits right above its `user_*` permission:",
        "",
        "| bit | permission |",
        "|---|---|",
    ]
    lines += [f"| {bit} | `{perm}` |" for perm, bit in PERMISSION_BITS.items()]
    lines.append("")
    return lines


def render() -> str:
    """The Markdown text of ``docs/policy.md``."""
    lines = [_INTRO, *_permissions_overview()]
    for version in API_VERSIONS:
        lines += _version(POLICIES[version])
    lines += _bulk()
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")


__all__ = ["render"]
