"""The viewer: who is asking, decoded once per request from the access token."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auth.jurisdiction import jurisdiction_prefix
from models.enums import Role


@dataclass(frozen=True)
class Grant:
    role: Role
    region_code: str | None = None
    team_id: int | None = None
    can_reveal: bool = False

    @property
    def prefix(self) -> str | None:
        return jurisdiction_prefix(self.region_code) if self.region_code else None

    def to_claim(self) -> dict[str, Any]:
        claim: dict[str, Any] = {"r": self.role.value}
        if self.region_code:
            claim["g"] = self.region_code
        if self.team_id is not None:
            claim["t"] = self.team_id
        if self.can_reveal:
            claim["x"] = True
        return claim

    @classmethod
    def from_claim(cls, claim: dict[str, Any]) -> Grant:
        return cls(Role(claim["r"]), claim.get("g"), claim.get("t"), bool(claim.get("x", False)))


@dataclass(frozen=True)
class Viewer:
    account_id: int | None = None
    username: str = ""
    volunteer_id: int | None = None
    grants: tuple[Grant, ...] = ()
    region_prefixes: tuple[str, ...] = field(init=False)
    """Prefixes of the region subtrees this viewer administers."""
    team_ids: frozenset[int] = field(init=False)
    is_ministry: bool = field(init=False)

    def __post_init__(self) -> None:
        prefixes = tuple(sorted({g.prefix for g in self.grants if g.role is Role.REGION_ADMIN and g.prefix}))
        object.__setattr__(self, "region_prefixes", prefixes)
        teams = frozenset(g.team_id for g in self.grants if g.role is Role.TEAM_ADMIN and g.team_id)
        object.__setattr__(self, "team_ids", teams)
        object.__setattr__(self, "is_ministry", any(g.role is Role.MINISTRY_ADMIN for g in self.grants))

    @property
    def is_authenticated(self) -> bool:
        return self.account_id is not None

    @property
    def is_region_admin(self) -> bool:
        return self.is_ministry or bool(self.region_prefixes)

    @property
    def is_team_admin(self) -> bool:
        return bool(self.team_ids)

    @property
    def provinces(self) -> frozenset[str]:
        """Provinces this viewer administers as a whole: region-admin grants on a province's own code (a city
        or county admin administers part of a province, not the province)."""
        return frozenset(
            g.region_code
            for g in self.grants
            if g.role is Role.REGION_ADMIN
            and g.region_code
            and g.region_code == g.region_code[:2].ljust(12, "0")
        )

    def administers_region(self, code: str | None) -> bool:
        """True when ``code`` lies inside this viewer's jurisdiction (the ministry administers everything)."""
        if self.is_ministry:
            return True
        return code is not None and any(code.startswith(p) for p in self.region_prefixes)

    def can_reveal_in(self, code: str | None) -> bool:
        for grant in self.grants:
            if not grant.can_reveal:
                continue
            if grant.role is Role.MINISTRY_ADMIN:
                return True
            if grant.role is Role.REGION_ADMIN and code and grant.prefix and code.startswith(grant.prefix):
                return True
        return False

    def to_claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {"name": self.username, "grants": [g.to_claim() for g in self.grants]}
        if self.volunteer_id is not None:
            claims["vid"] = self.volunteer_id
        return claims

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Viewer:
        grants = tuple(Grant.from_claim(c) for c in claims.get("grants", []))
        vid = claims.get("vid")
        return cls(int(claims["sub"]), str(claims.get("name", "")), int(vid) if vid else None, grants)


ANONYMOUS = Viewer()
