"""The one policy decision point. Every field that leaves graphwarden is decided here.

- :mod:`~graphwarden.policy.tables`: the declared rule tables of v1.0, v2.0 and v3.0;
- :mod:`~graphwarden.policy.rules`: the interpreter both faces share;
- :mod:`~graphwarden.policy.decide`: the per-request face (``decide``, ``decide_page``,
  ``edge_member``);
- :mod:`~graphwarden.policy.bulk`: the bulk numpy face (``BulkPolicy``), imported on demand;
- :mod:`~graphwarden.policy.docs`: renders ``docs/policy.md`` from the tables.
"""

from graphwarden.policy.context import AccessContext, Decision, SubjectFacts
from graphwarden.policy.decide import decide, decide_page, edge_member
from graphwarden.policy.tables import (
    POLICIES,
    known_permissions,
    lapse_days,
    needs_review,
    permission_for,
    requestable,
)

__all__ = [
    "POLICIES",
    "AccessContext",
    "Decision",
    "SubjectFacts",
    "decide",
    "decide_page",
    "edge_member",
    "known_permissions",
    "lapse_days",
    "needs_review",
    "permission_for",
    "requestable",
]
