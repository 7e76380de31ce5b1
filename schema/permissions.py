"""Permission extensions: each enforces one rule and adds its directive to the SDL.

* ``requires(...)``: ``@auth(requires: [...])`` — who may use the field. Anonymous viewers failing it get
  UNAUTHENTICATED, signed-in ones FORBIDDEN.
* ``in_jurisdiction()``: ``@inJurisdiction`` — the field's rows come through ``scope()``; refuses anonymous.
* ``sensitive(kind)``: ``@sensitive(kind: …)`` — masks personal data unless the viewer owns it or may reveal it
  in the row's region (team admins see the phones of the volunteers they organise); every unmasked read by
  someone other than the owner is audited.
"""

from __future__ import annotations

from typing import Any, Protocol

from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types.field import StrawberryField

from auth.viewer import Viewer
from models.enums import Role
from schema.context import Info
from schema.directives import (
    AuthDirective,
    InJurisdictionDirective,
    Requirement,
    SensitiveDirective,
    SensitiveKind,
)
from schema.errors import AppError


def meets(viewer: Viewer, requirement: Requirement) -> bool:
    match requirement:
        case Requirement.PUBLIC:
            return True
        case Requirement.AUTHENTICATED:
            return viewer.is_authenticated
        case Requirement.VOLUNTEER:
            return viewer.volunteer_id is not None
        case Requirement.TEAM_ADMIN:
            return viewer.is_team_admin
        case Requirement.REGION_ADMIN:
            return viewer.is_region_admin
        case Requirement.MINISTRY_ADMIN:
            return viewer.is_ministry
        case Requirement.PEER:
            return any(g.role is Role.PEER for g in viewer.grants)


class Auth(BasePermission):
    def __init__(self, *requires: Requirement) -> None:
        self.requires = requires

    @property
    def schema_directive(self) -> object:
        return AuthDirective(requires=list(self.requires))

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        if any(meets(viewer, r) for r in self.requires):
            return True
        raise AppError("FORBIDDEN" if viewer.is_authenticated else "UNAUTHENTICATED")


def requires(*requirements: Requirement) -> PermissionExtension:
    return PermissionExtension([Auth(*requirements)])


class InJurisdiction(FieldExtension):
    def apply(self, field: StrawberryField) -> None:
        field.directives.append(InJurisdictionDirective())

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        if not info.context.viewer.is_authenticated:
            raise AppError("UNAUTHENTICATED")
        return await next_(source, info, **kwargs)


def in_jurisdiction() -> InJurisdiction:
    return InJurisdiction()


class PersonalData(Protocol):
    """What a type with sensitive fields tells the extension about the row."""

    id: Any

    def owner_volunteer_id(self) -> int | None: ...
    def owner_region_code(self) -> str | None: ...


def mask(value: str, kind: SensitiveKind) -> str:
    """Mobile numbers ``138****5678``; anything else keeps at most a quarter (and 4 characters) at each end,
    ``3701**********1962``, and nothing of 8 characters or fewer, so short values — landlines, passport and
    permit numbers — stay at least half hidden."""
    if kind is SensitiveKind.NAME:
        return value[:1] + "*" * (len(value) - 1)
    if kind is SensitiveKind.PHONE and len(value) >= 11:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    keep = min(4, len(value) // 4) if len(value) > 8 else 0
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[len(value) - keep :]


class Sensitive(FieldExtension):
    def __init__(self, kind: SensitiveKind) -> None:
        self.kind = kind

    def apply(self, field: StrawberryField) -> None:
        field.directives.append(SensitiveDirective(kind=self.kind))

    async def _reveals(self, source: PersonalData, info: Info, viewer: Viewer) -> bool:
        if viewer.can_reveal_in(source.owner_region_code()):
            return True
        owner = source.owner_volunteer_id()
        if self.kind is SensitiveKind.PHONE and owner is not None and viewer.is_team_admin:
            return await info.context.loaders_for(viewer).team_contacts.load(owner)
        return False

    async def resolve_async(self, next_: Any, source: PersonalData, info: Info, **kwargs: Any) -> Any:
        value = await next_(source, info, **kwargs)
        if value is None:
            return None
        owner = source.owner_volunteer_id()
        viewer = getattr(source, "reader", None) or info.context.viewer
        if owner is not None and owner == viewer.volunteer_id:
            return value
        if not await self._reveals(source, info, viewer):
            hidden = self.kind in (SensitiveKind.LOCATION, SensitiveKind.BIRTH_DATE)
            return None if hidden else mask(str(value), self.kind)
        # The subject is the person whose data was read; the detail names the object it was read on.
        info.context.audit.append(
            {
                "action": "REVEAL_" + self.kind.value,
                "subject_type": "Volunteer" if owner is not None else type(source).__name__,
                "subject_id": owner if owner is not None else source.id,
                "region_code": source.owner_region_code(),
                "detail": {"field": info.field_name, "type": type(source).__name__, "id": source.id},
            }
        )
        return value


def sensitive(kind: SensitiveKind) -> Sensitive:
    return Sensitive(kind)
