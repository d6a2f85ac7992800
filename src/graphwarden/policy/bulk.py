"""The bulk face of the policy: millions of (owner, subject, field) decisions as numpy arrays.

It is compiled from the same tables by the same interpreter as the per-request face: every
case of the finite domain (field, relation, audience, "apps others use" bit, subject platform
bit, subject uses the app, subject granted ``user_friends``, owner granted the field's
permission / its ``friends_*`` twin, App Review standing of both, data access active) is run
once through :func:`graphwarden.policy.rules.evaluate` into a lookup table of rule codes.
A decision is then a few bit operations and one gather.

Index layout of the lookup table (bit positions)::

    0-1 relation   2-3 audience   4 shares   5 subject platform   6 uses app
    7 subject granted user_friends   8 own granted   9 twin granted
    10 own reviewed   11 twin reviewed   12 data access active   13-17 field

The token-level rules (app status, token, owner authorization) come from
:func:`graphwarden.policy.rules.gate`, also shared with the per-request face.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from graphwarden.core.errors import InvalidInput
from graphwarden.graph.fields import N_FIELDS, Audience, Relation
from graphwarden.policy.context import AccessContext
from graphwarden.policy.rules import (
    MEMBER,
    development,
    evaluate,
    field_permissions,
    gate,
    reviewed,
)
from graphwarden.policy.tables import POLICIES, Rule, table


def _permission_layout() -> dict[str, int]:
    """One bit per permission, the same layout for every version (fits a uint32).

    Each ``friends_*`` twin sits right above its ``user_*`` permission, so one shift brings
    a field's own and twin bits down together (bits 0 and 1).
    """
    pairs = {base: twin for t in POLICIES.values() for twin, base in t.friend_twins.items()}
    names: list[str] = []
    for t in POLICIES.values():
        for perm in t.permissions:
            if perm not in names and perm not in pairs:
                names.append(perm)
    for base, twin in pairs.items():
        names += [base, twin]
    return {name: bit for bit, name in enumerate(names)}


PERMISSION_BITS: Final[dict[str, int]] = _permission_layout()
#: field code of the pseudo-field "listed in the owner's friends edge"
MEMBER_FIELD: Final = MEMBER
#: number of field codes the bulk face accepts (the catalogue plus ``MEMBER_FIELD``)
N_FIELD_CODES: Final = N_FIELDS + 1

_CHUNK = 1 << 16
_OWN_G, _TWIN_G, _OWN_R, _TWIN_R, _ACTIVE, _FIELD = 8, 9, 10, 11, 12, 13

BoolArray = npt.NDArray[np.bool_]
U8Array = npt.NDArray[np.uint8]
BoolLike = bool | npt.NDArray[np.bool_]
MaskLike = int | npt.NDArray[np.unsignedinteger[Any]]


def permission_mask(perms: Iterable[str]) -> int:
    """The bitmask of ``perms`` in :data:`PERMISSION_BITS` (names outside it cover no field
    and are left out)."""
    mask = 0
    for p in perms:
        bit = PERMISSION_BITS.get(p)
        if bit is not None:
            mask |= 1 << bit
    return mask


def context_arguments(ctx: AccessContext) -> dict[str, Any]:
    """The token-level keyword arguments of :meth:`BulkPolicy.decide` for one context.

    >>> ctx = AccessContext("v1.0", "active", True, frozenset({"email"}))
    >>> context_arguments(ctx)["owner_grant_mask"]
    2
    """
    return {
        "owner_grant_mask": permission_mask(ctx.owner_granted),
        "app_status": ctx.app_status,
        "approved_mask": permission_mask(ctx.approved_permissions),
        "owner_has_role": ctx.owner_has_role,
        "token_active": ctx.token_active,
        "owner_authorized": ctx.owner_authorized,
        "data_access_active": ctx.data_access_active,
        "app_in_development": ctx.app_in_development,
    }


@dataclass(frozen=True, eq=False)
class BulkPolicy:
    """A version's policy compiled to a lookup table of rule codes."""

    version: str
    #: code -> rule id; ``rule_codes`` is the inverse
    rule_ids: list[str]
    rules: list[Rule]
    rule_codes: dict[str, int]
    #: uint8[2**18]: index (see module docstring) -> rule code
    lut: U8Array
    #: bool[len(rule_ids)]: code -> allowed
    allowed_by_code: BoolArray
    #: per field code: bit of the own permission / twin (0 where none; the table ignores it)
    own_bit: U8Array
    twin_bit: U8Array
    #: ``own_bit`` as uint32, the shift operand of the per-case mask path
    own_bit32: npt.NDArray[np.uint32]

    @classmethod
    def for_version(cls, version: str) -> BulkPolicy:
        """The compiled policy of ``version`` (compiled once per process)."""
        return _compile(table(version).version)

    # --- per-call constants ----------------------------------------------------------------
    def _field_base(
        self, approved_mask: int, has_role: bool, data_access_active: bool
    ) -> npt.NDArray[np.uint32]:
        approved = frozenset(p for p, b in PERMISSION_BITS.items() if approved_mask >> b & 1)
        base = np.zeros(N_FIELD_CODES, dtype=np.uint32)
        for code in range(N_FIELD_CODES):
            own, twin = field_permissions(self.version, code)
            value = code << _FIELD
            value |= reviewed(self.version, own, approved, has_role) << _OWN_R
            value |= reviewed(self.version, twin, approved, has_role) << _TWIN_R
            value |= int(data_access_active) << _ACTIVE
            base[code] = value
        return base

    def decide(
        self,
        *,
        relation: U8Array,
        field: U8Array,
        audience: U8Array,
        shares: BoolArray,
        subject_platform: BoolArray,
        uses_app: BoolArray,
        subject_friends_grant: BoolArray,
        owner_grant_mask: MaskLike,
        app_status: str = "active",
        approved_mask: int = 0,
        owner_has_role: bool = False,
        token_active: BoolLike = True,
        owner_authorized: BoolLike = True,
        data_access_active: BoolLike = True,
        app_in_development: bool = False,
        subject_has_role: BoolLike = False,
    ) -> tuple[BoolArray, U8Array]:
        """Decide ``n`` cases at once; returns ``(allowed bool[n], rule_code uint8[n])``.

        ``field`` holds field indexes (``FieldSpec.index``) or :data:`MEMBER_FIELD`;
        ``shares`` is the subject's "apps others use" switch for the field's category (True
        where the field has none). ``owner_grant_mask`` (scalar or per case) and
        ``approved_mask`` use :data:`PERMISSION_BITS`. ``token_active``, ``owner_authorized``
        and ``data_access_active`` may be scalars or per-case arrays. For an app in
        development mode (``app_in_development``) the owner needs ``owner_has_role`` and every
        other subject ``subject_has_role`` (scalar or per case), by the same rule
        (:func:`graphwarden.policy.rules.development`) as the per-request face.
        """
        n = len(field)
        arrays = {
            "relation": relation,
            "field": field,
            "audience": audience,
            "shares": shares,
            "subject_platform": subject_platform,
            "uses_app": uses_app,
            "subject_friends_grant": subject_friends_grant,
        }
        for name, arr in arrays.items():
            if np.shape(arr) != (n,):
                raise InvalidInput(f"{name} must have shape ({n},), not {np.shape(arr)}")
        relation = np.asarray(relation, dtype=np.uint8)
        field = np.asarray(field, dtype=np.uint8)
        audience = np.asarray(audience, dtype=np.uint8)
        if n and (
            int(field.max()) >= N_FIELD_CODES
            or int(relation.max()) > max(Relation)
            or int(audience.max()) > max(Audience)
        ):
            raise InvalidInput("field, relation or audience code out of range")

        codes = np.empty(n, dtype=np.uint8)
        gate_rule = _scalar_gate(self, app_status, token_active, owner_authorized)
        if gate_rule is not None:
            codes.fill(self.rule_codes[gate_rule.id])
            return self.allowed_by_code[codes], codes

        active_scalar = isinstance(data_access_active, bool | np.bool_)
        base = self._field_base(
            approved_mask, owner_has_role, bool(data_access_active) if active_scalar else False
        )
        mask_scalar = np.ndim(owner_grant_mask) == 0
        if mask_scalar:
            # the owner's grants are the same for every case: fold them into the field base
            m = int(owner_grant_mask)
            for code in range(N_FIELD_CODES):
                base[code] |= (m >> int(self.own_bit[code]) & 1) << _OWN_G
                base[code] |= (m >> int(self.twin_bit[code]) & 1) << _TWIN_G
        else:
            mask = np.asarray(owner_grant_mask, dtype=np.uint32)
            if mask.shape != (n,):
                raise InvalidInput(f"owner_grant_mask must be a scalar or have shape ({n},)")
        active = None if active_scalar else np.asarray(data_access_active, dtype=np.bool_)
        if active is not None and active.shape != (n,):
            raise InvalidInput(f"data_access_active must be a scalar or have shape ({n},)")

        # booleans viewed as bytes: no conversion pass
        flags = [
            (np.ascontiguousarray(a, dtype=np.bool_).view(np.uint8), shift)
            for a, shift in (
                (shares, 4),
                (subject_platform, 5),
                (uses_app, 6),
                (subject_friends_grant, 7),
            )
        ]
        idx = np.empty(_CHUNK, dtype=np.uint32)
        tmp32b = np.empty(_CHUNK, dtype=np.uint32)
        sub = np.empty(_CHUNK, dtype=np.uint8)
        tmp8 = np.empty(_CHUNK, dtype=np.uint8)
        tmp32 = np.empty(_CHUNK, dtype=np.uint32)
        for lo in range(0, n, _CHUNK):
            hi = min(n, lo + _CHUNK)
            k = hi - lo
            s, t8, t32, t32b, ix = sub[:k], tmp8[:k], tmp32[:k], tmp32b[:k], idx[:k]
            f = field[lo:hi]
            # the subject byte, in uint8 arithmetic (bits 0-7)
            np.left_shift(audience[lo:hi], 2, out=s)
            np.bitwise_or(s, relation[lo:hi], out=s)
            for bits, shift in flags:
                np.left_shift(bits[lo:hi], shift, out=t8)
                np.bitwise_or(s, t8, out=s)
            np.take(base, f, out=ix)
            np.bitwise_or(ix, s, out=ix)
            if not mask_scalar:
                # own bit and twin bit are adjacent (see PERMISSION_BITS): one shift each way
                np.take(self.own_bit32, f, out=t32b)
                np.right_shift(mask[lo:hi], t32b, out=t32)
                np.bitwise_and(t32, 3, out=t32)
                np.left_shift(t32, _OWN_G, out=t32)
                np.bitwise_or(ix, t32, out=ix)
            if active is not None:
                np.left_shift(active[lo:hi], _ACTIVE, out=t32, dtype=np.uint32)
                np.bitwise_or(ix, t32, out=ix)
            np.take(self.lut, ix, out=codes[lo:hi])

        if app_in_development:
            # the per-request face's order: owner gate, then each subject, then the table
            dev = self.rule_codes[f"{self.version}/app-in-development"]
            if development(self.version, True, owner_has_role) is not None:
                codes.fill(dev)
            else:
                role = np.asarray(subject_has_role, dtype=np.bool_)
                if role.ndim and role.shape != (n,):
                    raise InvalidInput(f"subject_has_role must be a scalar or have shape ({n},)")
                blocked = np.logical_not(role) & (relation != int(Relation.SELF))
                codes[blocked] = dev
        # per-case token-level rules, lowest priority first so the first rule wins
        for flag, rule in (
            (owner_authorized, "owner-not-authorized"),
            (token_active, "token-inactive"),
        ):
            if not isinstance(flag, bool | np.bool_):
                arr = np.asarray(flag, dtype=np.bool_)
                if arr.shape != (n,):
                    raise InvalidInput(f"per-case flags must have shape ({n},)")
                codes[np.logical_not(arr)] = self.rule_codes[f"{self.version}/{rule}"]
        return self.allowed_by_code[codes], codes


def _scalar_gate(
    policy: BulkPolicy, app_status: str, token_active: BoolLike, owner_authorized: BoolLike
) -> Rule | None:
    """The gate rule when it does not depend on the case (per-case flags count as passing
    here and are applied after the lookup)."""
    tok = bool(token_active) if isinstance(token_active, bool | np.bool_) else True
    auth = bool(owner_authorized) if isinstance(owner_authorized, bool | np.bool_) else True
    return gate(policy.version, app_status, tok, auth)


@cache
def _compile(version: str) -> BulkPolicy:
    t = table(version)
    rules = list(t.rules.values())
    rule_ids = [r.id for r in rules]
    codes = {rid: i for i, rid in enumerate(rule_ids)}
    if len(rules) > 255:
        raise AssertionError("rule codes must fit a uint8")

    own_bit = np.zeros(N_FIELD_CODES, dtype=np.uint8)
    twin_bit = np.zeros(N_FIELD_CODES, dtype=np.uint8)
    for code in range(N_FIELD_CODES):
        own, twin = field_permissions(version, code)
        own_bit[code] = PERMISSION_BITS[own] if own is not None else 0
        twin_bit[code] = PERMISSION_BITS[twin] if twin is not None else 0
        if twin is not None and twin_bit[code] != own_bit[code] + 1:
            raise AssertionError(f"{twin} must sit right above {own} in PERMISSION_BITS")

    lut = np.full(1 << 18, codes[f"{version}/self-no-permission"], dtype=np.uint8)
    # uncached: the compile pass would otherwise crowd the serving cache out
    interpret = evaluate.__wrapped__
    relations = list(Relation)
    audiences = list(Audience)
    for code in range(N_FIELD_CODES):
        for hi in range(32):  # bits 8-12: own/twin granted, own/twin reviewed, active
            og, tg, orv, trv, act = (bool(hi >> i & 1) for i in range(5))
            for sub in range(256):
                rule = interpret(
                    version,
                    code,
                    relations[sub & 3],
                    audiences[sub >> 2 & 3],
                    bool(sub >> 4 & 1),
                    bool(sub >> 5 & 1),
                    bool(sub >> 6 & 1),
                    bool(sub >> 7 & 1),
                    og,
                    orv,
                    tg,
                    trv,
                    act,
                )
                lut[code << _FIELD | hi << 8 | sub] = codes[rule.id]
    return BulkPolicy(
        version=version,
        rule_ids=rule_ids,
        rules=rules,
        rule_codes=codes,
        lut=lut,
        allowed_by_code=np.array([r.allowed for r in rules], dtype=np.bool_),
        own_bit=own_bit,
        twin_bit=twin_bit,
        own_bit32=own_bit.astype(np.uint32),
    )


__all__ = [
    "MEMBER_FIELD",
    "N_FIELD_CODES",
    "PERMISSION_BITS",
    "BulkPolicy",
    "context_arguments",
    "permission_mask",
]
