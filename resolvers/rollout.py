"""Province switch-over (分批次切换): writes for volunteers and teams of a LEGACY province are refused."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models import ProvinceRollout
from models.enums import ProvinceStatus
from schema.errors import AppError


def province_of(region_code: str) -> str:
    return region_code[:2].ljust(12, "0")


async def province_status(session: AsyncSession, region_code: str, default: str) -> ProvinceStatus:
    row = await session.get(ProvinceRollout, province_of(region_code))
    return ProvinceStatus(row.status) if row is not None else ProvinceStatus(default)


async def ensure_live(
    session: AsyncSession, region_code: str, default: str, field: str = "regionCode"
) -> None:
    """PROVINCE_NOT_LIVE unless the region's province is in TRIAL or LIVE."""
    if await province_status(session, region_code, default) is ProvinceStatus.LEGACY:
        raise AppError("PROVINCE_NOT_LIVE", field=field)
