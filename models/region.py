"""The national region tree (行政区划): 12-digit statistical codes, current and retired."""

from sqlmodel import Field, SQLModel


class Region(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=12)
    name: str = Field(max_length=100)
    level: int = Field(index=True)
    """1 province, 2 prefecture, 3 county, 4 township."""
    parent_code: str | None = Field(default=None, foreign_key="region.code", index=True, max_length=12)
    retired_year: int | None = None
    """None while the code is current; retired codes stay because old ID numbers carry them."""
