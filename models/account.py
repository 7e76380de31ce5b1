"""Sign-in accounts, their role grants and refresh tokens."""

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.columns import enum_field, id_field, ref_field, region_field, time_field
from models.enums import AccountStatus, Role


class Account(SQLModel, table=True):
    id: int | None = id_field()
    username: str = Field(max_length=40, unique=True)
    username_key: str = Field(
        max_length=40,
        unique=True,
        sa_column_kwargs={"default": lambda ctx: ctx.get_current_parameters()["username"].lower()},
    )
    """The username folded to lower case: usernames are unique regardless of case."""
    password_hash: str = Field(sa_type=Text)
    """argon2id PHC string, or a migrated ``legacy$<algo>$<salt>$<hex>`` hash (auth/passwords.py)."""
    display_name: str = Field(default="", max_length=100)
    status: AccountStatus = enum_field(AccountStatus.ACTIVE)
    is_legacy: bool = False
    created_at: datetime = time_field(default_now=True)
    last_login_at: datetime | None = time_field(nullable=True)
    created_by_id: int | None = ref_field("account.id", nullable=True, index=False)


class RoleGrant(SQLModel, table=True):
    """A role held by an account: ministry admin, admin of a region subtree, or admin of a team."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("account_id", "role", "region_code", "team_id"),)

    id: int | None = id_field()
    account_id: int = ref_field("account.id")
    role: Role = enum_field()
    region_code: str | None = region_field(nullable=True)
    team_id: int | None = ref_field("team.id", nullable=True)
    can_reveal: bool = False
    """May read unmasked ID numbers and phones inside the grant's scope (each read is audited)."""
    granted_by_id: int | None = ref_field("account.id", nullable=True, index=False)
    granted_at: datetime = time_field(default_now=True)
    revoked_at: datetime | None = time_field(nullable=True)


class RefreshToken(SQLModel, table=True):
    """Opaque refresh tokens, stored as SHA-256 hashes; rotated on every use within a family."""

    __tablename__ = "refresh_token"

    id: int | None = id_field()
    account_id: int = ref_field("account.id")
    token_hash: str = Field(max_length=64, unique=True)
    family: str = Field(max_length=32, index=True)
    issued_at: datetime = time_field(default_now=True)
    expires_at: datetime = time_field()
    revoked_at: datetime | None = time_field(nullable=True)
