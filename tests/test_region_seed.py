"""The vendored region tree loads into a fresh SQLite database, once, with a consistent hierarchy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, func, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlmodel import SQLModel

from models.region import Region
from models.region_seed import REGION_TABLE, REGIONS_CSV, load_regions, read_regions


def _foreign_keys_on(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # so the database itself checks parents-before-children
    cursor.close()


async def test_load_regions(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'regions.db'}")
    event.listen(engine.sync_engine, "connect", _foreign_keys_on)
    table = REGION_TABLE
    try:
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all, tables=[table])
        factory = async_sessionmaker(engine, expire_on_commit=False)

        expected = len(read_regions(REGIONS_CSV))
        assert await load_regions(factory) == expected
        assert await load_regions(factory) == 0

        async with factory() as session:
            current = select(table.c.level, func.count()).where(table.c.retired_year.is_(None))
            counts: dict[int, int] = {
                level: n for level, n in (await session.execute(current.group_by(table.c.level))).all()
            }
            assert counts[1] == 34
            assert 330 <= counts[2] <= 340
            assert 2800 <= counts[3] <= 2900
            assert 37_000 <= counts[4] <= 41_000
            retired = (
                await session.execute(select(func.count()).where(table.c.retired_year.is_not(None)))
            ).scalar_one()
            assert retired > 1000

            async def row(code: str) -> Region:
                found = await session.get(Region, code)
                assert found is not None, code
                return found

            dongcheng = await row("110101000000")
            assert (dongcheng.name, dongcheng.level, dongcheng.parent_code) == ("东城区", 3, "110000000000")
            assert (await row("110000000000")).name == "北京市"
            shandong = await row("370000000000")
            assert (shandong.name, shandong.level, shandong.parent_code) == ("山东省", 1, None)
            shenzhen = await row("440300000000")
            assert (shenzhen.name, shenzhen.level, shenzhen.parent_code) == ("深圳市", 2, "440000000000")
            xiantao = await row("429004000000")  # county-level city directly under the province
            assert (xiantao.level, xiantao.parent_code) == (3, "420000000000")
            jianbei = await row("130102001000")
            assert (jianbei.name, jianbei.level, jianbei.parent_code) == ("建北街道", 4, "130102000000")
            assert (await row("130102000000")).name == "长安区"
            chongwen = await row("110103000000")  # merged into 东城区 in 2010; old ID numbers still carry it
            assert (chongwen.name, chongwen.level, chongwen.retired_year) == ("崇文区", 3, 2010)

            parent = table.alias("parent")
            dangling = (
                await session.execute(
                    select(func.count())
                    .select_from(table.outerjoin(parent, table.c.parent_code == parent.c.code))
                    .where(table.c.parent_code.is_not(None), parent.c.code.is_(None))
                )
            ).scalar_one()
            assert dangling == 0
            wrong_level = (
                await session.execute(
                    select(func.count())
                    .select_from(table.join(parent, table.c.parent_code == parent.c.code))
                    .where(parent.c.level >= table.c.level)
                )
            ).scalar_one()
            assert wrong_level == 0

        # a partly filled table gets only the missing codes
        async with factory() as session, session.begin():
            gone = await session.execute(delete(table).where(table.c.parent_code == "130102000000"))
            assert gone.rowcount > 0  # type: ignore[attr-defined]
        assert await load_regions(factory) == gone.rowcount  # type: ignore[attr-defined]
        assert await load_regions(factory) == 0
    finally:
        await engine.dispose()
