"""Checks on personal details shared by registration and imports: names, phones, ages and regions."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from models import Region, SyncNode
from schema.errors import AppError

NAME = re.compile(
    r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134fA-Za-z][\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134fA-Za-z·• ]{0,48}[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134fA-Za-z]|[\u3400-\u9fff\U00020000-\U0003134f]"
)
"""Chinese names (rare characters included), minority names with "·", and Latin names."""
MOBILE = re.compile(r"1[3-9]\d{9}")


def check_name(name: str, field: str = "name") -> str:
    name = name.strip()
    if not NAME.fullmatch(name):
        raise AppError("BAD_USER_INPUT", key="NAME_FORMAT", field=field)
    return name


def check_mobile(phone: str, field: str = "phone") -> str:
    phone = phone.strip()
    if not MOBILE.fullmatch(phone):
        raise AppError("BAD_USER_INPUT", key="PHONE_FORMAT", field=field)
    return phone


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


async def service_region(session: AsyncSession, code: str, field: str) -> Region:
    """A current county or township: volunteers and teams register under one."""
    region = await session.get(Region, code)
    if region is None or region.retired_year is not None or region.level < 3:
        raise AppError("BAD_USER_INPUT", key="REGION_UNKNOWN", field=field)
    # a province's own instance holds only its province's subtree (docs/deploy.md)
    node = await session.get(SyncNode, 1)
    if node is not None and node.prefix and not code.startswith(node.prefix):
        raise AppError("OUT_OF_JURISDICTION", key="OUTSIDE_INSTANCE", field=field)
    return region


async def area_code_known(session: AsyncSession, area6: str) -> bool:
    """Whether an ID number's area code is, or once was, a region: the county code itself (current or
    retired), or a prefecture's own ``…00`` / ``…01`` (市辖区) code, which older ID numbers carry."""
    if await session.get(Region, area6.ljust(12, "0")) is not None:
        return True
    return area6[4:] in ("00", "01") and await session.get(Region, area6[:4].ljust(12, "0")) is not None
