"""Shared helpers for registration tests: unique identities and a registration call through the API."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from models.enums import Sex
from models.identifiers import make_credit_code, make_resident_id
from tests.conftest import Api

RETIRED_AREA = "110103"
"""崇文区, retired in 2010: demo data never uses it, and ID numbers may still carry it."""
LIXIA_TOWNSHIP_PARENT = "370102000000"
PASSWORD = "Regist3r#ok"
_counter = itertools.count(1)

REGISTER = """
mutation Register($input: RegisterVolunteerInput!) {
  registerVolunteer(input: $input) {
    volunteerNumber realNameStatus
    session { accessToken refreshToken viewer { username volunteer { name idNumber phone sex birthDate } } }
  }
}
"""


def unique() -> int:
    return next(_counter)


def adult_id(area: str = RETIRED_AREA, born: date | None = None) -> str:
    n = unique()
    birth = born or date(1960 + n % 30, 1 + n % 12, 1 + n % 28)
    return make_resident_id(area, birth, 100 + n % 400, Sex.FEMALE if n % 2 else Sex.MALE)


def credit_code(region6: str = "370102") -> str:
    n = unique()
    return make_credit_code("5", "2", region6, f"MJ{n:07d}")


def volunteer_input(**overrides: Any) -> dict[str, Any]:
    n = unique()
    values: dict[str, Any] = {
        "name": "测试志愿者",
        "idNumber": adult_id(),
        "phone": f"139{n:08d}",
        "username": f"reg_user_{n:06d}",
        "password": PASSWORD,
        "regionCode": LIXIA_TOWNSHIP_PARENT,
        "skills": ["急救", "外语"],
    }
    values.update(overrides)
    return values


async def register(api: Api, **overrides: Any) -> dict[str, Any]:
    return await api.gql(REGISTER, {"input": volunteer_input(**overrides)})


def code_of(body: dict[str, Any]) -> tuple[str, str | None, str | None]:
    ext = body["errors"][0]["extensions"]
    return ext["code"], ext.get("reason"), ext.get("field")
