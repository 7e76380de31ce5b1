"""The permission directives as they appear in the SDL (and survive federation composition).

They document; the field extensions in schema/permissions.py enforce.
"""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.federation.schema_directive import Location, schema_directive

IMPORT_URL = "https://zhiyuan.mca.example/permissions/v1.0"


@strawberry.enum(description="Who may use a field (访问要求)")
class Requirement(Enum):
    PUBLIC = "PUBLIC"
    AUTHENTICATED = "AUTHENTICATED"
    VOLUNTEER = "VOLUNTEER"
    TEAM_ADMIN = "TEAM_ADMIN"
    REGION_ADMIN = "REGION_ADMIN"
    MINISTRY_ADMIN = "MINISTRY_ADMIN"
    PEER = "PEER"


@strawberry.enum(description="Kind of personal data (敏感信息类别)")
class SensitiveKind(Enum):
    ID_NUMBER = "ID_NUMBER"
    PHONE = "PHONE"
    LOCATION = "LOCATION"
    BIRTH_DATE = "BIRTH_DATE"
    NAME = "NAME"


@schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="auth",
    description="Who may read the field or run the mutation; any listed requirement suffices (访问权限)",
    compose=True,
    import_url=IMPORT_URL,
)
class AuthDirective:
    requires: list[Requirement]


@schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="inJurisdiction",
    description="Rows are filtered to the viewer's region subtree, team or self (按管辖范围过滤)",
    compose=True,
    import_url=IMPORT_URL,
)
class InJurisdictionDirective:
    pass


@schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="sensitive",
    description="Personal data, masked unless the viewer owns it or may reveal it; reveals are audited (敏感信息)",
    compose=True,
    import_url=IMPORT_URL,
)
class SensitiveDirective:
    kind: SensitiveKind
