"""Volunteer registration: every rule, nothing written on failure, and races."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette

import models as m
from models.enums import Sex
from models.identifiers import make_resident_id
from tests.conftest import Api
from tests.registration_helpers import (
    RETIRED_AREA,
    adult_id,
    code_of,
    register,
    unique,
    volunteer_input,
)


async def _volunteers(app: Starlette) -> int:
    async with app.state.services.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(m.Volunteer))).scalar_one())


def _child_id(age: int) -> str:
    today = date.today()
    born = (
        date(today.year - age, 1, 15)
        if (today.month, today.day) >= (1, 15)
        else date(today.year - age - 1, 1, 15)
    )
    return make_resident_id("370102", born, 300 + unique() % 100, Sex.MALE)


async def test_a_volunteer_registers_and_is_signed_in(api: Api) -> None:
    # given a valid resident ID with a retired area code (崇文区) and a 历下区 service region
    id_number = adult_id(born=date(1985, 6, 1))
    body = await register(api, idNumber=id_number.lower(), name="欧阳·𠮷娜")
    # then the registration succeeds, the number is a 历下区 number and the identity check is pending
    result = body["data"]["registerVolunteer"]
    assert result["volunteerNumber"].startswith("370102") and len(result["volunteerNumber"]) == 14
    assert result["realNameStatus"] == "PENDING"
    # and the new session shows the owner their own data unmasked, with sex and birth date derived
    me = result["session"]["viewer"]["volunteer"]
    assert me["idNumber"] == id_number.upper()
    assert me["birthDate"] == "1985-06-01"
    assert me["sex"] in ("MALE", "FEMALE")
    token = result["session"]["accessToken"]
    viewer = await api.as_(token).data("{ viewer { volunteer { volunteerNumber } } }")
    assert viewer["viewer"]["volunteer"]["volunteerNumber"] == result["volunteerNumber"]


async def test_a_fifteen_digit_number_is_converted(api: Api) -> None:
    eighteen = make_resident_id("110105", date(1975, 3, 9), 123, Sex.MALE)
    fifteen = eighteen[:6] + eighteen[8:17]
    body = await register(api, idNumber=fifteen)
    me = body["data"]["registerVolunteer"]["session"]["viewer"]["volunteer"]
    assert me["idNumber"] == eighteen


@pytest.mark.parametrize(
    ("overrides", "reason", "field"),
    [
        ({"idNumber": "11010519491231002Y"}, "ID_NUMBER_FORMAT", "idNumber"),
        ({"idNumber": "110105194912310021"}, "ID_NUMBER_CHECKSUM", "idNumber"),
        (
            {
                "idNumber": make_resident_id("110105", date(1990, 2, 27), 1, Sex.MALE).replace(
                    "19900227", "19900230"
                )
            },
            None,
            "idNumber",
        ),
        (
            {"idNumber": make_resident_id("710101", date(1990, 2, 27), 1, Sex.MALE)},
            "ID_AREA_UNKNOWN",
            "idNumber",
        ),
        ({"name": "Robert'); DROP TABLE volunteer;--"}, "NAME_FORMAT", "name"),
        ({"phone": "12345678901"}, "PHONE_FORMAT", "phone"),
        ({"username": "mz_oldname1"}, "USERNAME_RESERVED", "username"),
        ({"username": "1abcdefg"}, "USERNAME_FORMAT", "username"),
        ({"username": "Demo_Jinan"}, "USERNAME_TAKEN", "username"),
        ({"password": "alllowercase1"}, "PASSWORD_WEAK", "password"),
        ({"regionCode": "370000000000"}, "REGION_UNKNOWN", "regionCode"),
        ({"regionCode": "370103999999"}, "REGION_UNKNOWN", "regionCode"),
    ],
)
async def test_bad_input_is_refused_with_a_code_and_writes_nothing(
    api: Api, app: Starlette, overrides: dict[str, Any], reason: str | None, field: str
) -> None:
    before = await _volunteers(app)
    body = await register(api, **overrides)
    code, got_reason, got_field = code_of(body)
    assert code == "BAD_USER_INPUT"
    assert got_field == field
    if reason:
        assert got_reason == reason
    else:
        assert got_reason in ("ID_NUMBER_BIRTH_DATE", "ID_NUMBER_CHECKSUM")
    assert await _volunteers(app) == before


async def test_impossible_and_future_birth_dates(api: Api) -> None:
    future = date.today() + timedelta(days=30)
    number = make_resident_id("110105", future, 5, Sex.MALE)
    assert code_of(await register(api, idNumber=number))[1] == "ID_NUMBER_BIRTH_DATE"
    feb30 = make_resident_id("110105", date(1990, 2, 28), 5, Sex.MALE)
    body = feb30[:6] + "19900230" + feb30[14:17]
    from models.identifiers import resident_id_check_char

    assert (
        code_of(await register(api, idNumber=body + resident_id_check_char(body)))[1]
        == "ID_NUMBER_BIRTH_DATE"
    )


async def test_a_duplicate_identity_reveals_nothing(api: Api, app: Starlette) -> None:
    number = adult_id()
    assert "errors" not in await register(api, idNumber=number)
    before = await _volunteers(app)
    body = await register(api, idNumber=number)
    assert code_of(body) == ("BAD_USER_INPUT", "DUPLICATE_IDENTITY", "idNumber")
    assert "reg_user" not in str(body) and number not in str(body)
    assert await _volunteers(app) == before


async def test_concurrent_registrations_with_one_identity_one_wins(api: Api) -> None:
    number = adult_id()
    bodies = await asyncio.gather(*(register(api, idNumber=number) for _ in range(5)))
    winners = [b for b in bodies if "errors" not in b]
    assert len(winners) == 1
    assert all(code_of(b)[1] == "DUPLICATE_IDENTITY" for b in bodies if "errors" in b)


async def test_concurrent_registrations_get_distinct_numbers(api: Api) -> None:
    bodies = await asyncio.gather(*(register(api) for _ in range(8)))
    numbers = [b["data"]["registerVolunteer"]["volunteerNumber"] for b in bodies]
    assert len(set(numbers)) == 8


async def test_other_documents_go_to_manual_review(api: Api, tokens: dict[str, str]) -> None:
    body = await register(api, idType="PASSPORT", idNumber="E12345678", birthDate="1990-05-05", sex="FEMALE")
    result = body["data"]["registerVolunteer"]
    assert result["realNameStatus"] == "UNDER_REVIEW"
    missing = await register(api, idType="HK_MACAO_PERMIT", idNumber="H12345678")
    assert code_of(missing)[1] == "ID_NUMBER_BIRTH_DATE"


class TestMinors:
    async def test_under_the_minimum_age_is_refused(self, api: Api) -> None:
        assert code_of(await register(api, idNumber=_child_id(5)))[1] == "TOO_YOUNG"

    async def test_a_minor_needs_a_guardian_and_consent(self, api: Api) -> None:
        guardian = {"name": "王父", "phone": "13800001111", "relation": "父亲", "consent": False}
        assert code_of(await register(api, idNumber=_child_id(15)))[1] == "GUARDIAN_REQUIRED"
        assert code_of(await register(api, idNumber=_child_id(15), guardian=guardian))[1] == (
            "GUARDIAN_CONSENT_REQUIRED"
        )
        ok = await register(api, idNumber=_child_id(15), guardian={**guardian, "consent": True})
        assert ok["data"]["registerVolunteer"]["realNameStatus"] == "PENDING"

    async def test_a_self_supporting_sixteen_year_old_registers_alone(self, api: Api) -> None:
        assert code_of(await register(api, idNumber=_child_id(16)))[1] == "GUARDIAN_REQUIRED"
        ok = await register(api, idNumber=_child_id(16), selfSupporting=True)
        assert "errors" not in ok


async def test_english_messages(api: Api) -> None:
    response = await api.post(
        "mutation($i: RegisterVolunteerInput!) { registerVolunteer(input: $i) { volunteerNumber } }",
        {"i": volunteer_input(phone="123")},
        **{"accept-language": "en"},
    )
    assert response.json()["errors"][0]["message"] == "Malformed mobile number"


SET_PROVINCE = """mutation($c: String!, $s: ProvinceStatus!) {
  setProvinceStatus(provinceCode: $c, status: $s) { provinceCode status } }"""


async def test_a_legacy_province_refuses_registration(
    api: Api, tokens: dict[str, str], app: Starlette
) -> None:
    ministry = api.as_(tokens["demo_ministry"])
    refused = await api.as_(tokens["demo_shandong"]).gql(SET_PROVINCE, {"c": "370000000000", "s": "LEGACY"})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await ministry.data(SET_PROVINCE, {"c": "370000000000", "s": "LEGACY"})
    try:
        before = await _volunteers(app)
        assert code_of(await register(api))[0] == "PROVINCE_NOT_LIVE"
        assert await _volunteers(app) == before
        statuses = await ministry.data("{ provinceStatuses { provinceCode status } }")
        assert {"provinceCode": "370000000000", "status": "LEGACY"} in statuses["provinceStatuses"]
    finally:
        await ministry.data(SET_PROVINCE, {"c": "370000000000", "s": "LIVE"})
    assert "errors" not in await register(api)


REVIEW = """mutation($id: ID!, $ok: Boolean!, $note: String!) {
  reviewRealName(volunteerId: $id, approve: $ok, note: $note) { realNameStatus verificationNote } }"""


async def test_manual_review_happens_inside_the_jurisdiction(api: Api, tokens: dict[str, str]) -> None:
    body = await register(api, idType="PASSPORT", idNumber=f"E{unique():08d}", birthDate="1991-01-01")
    session = body["data"]["registerVolunteer"]["session"]
    me = await api.as_(session["accessToken"]).data("{ viewer { volunteer { id } } }")
    volunteer_id = me["viewer"]["volunteer"]["id"]
    xihu = await api.as_(tokens["demo_xihu"]).gql(REVIEW, {"id": volunteer_id, "ok": True, "note": ""})
    assert xihu["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    own = await api.as_(session["accessToken"]).gql(REVIEW, {"id": volunteer_id, "ok": True, "note": ""})
    assert own["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    lixia = api.as_(tokens["demo_lixia"])
    no_reason = await lixia.gql(REVIEW, {"id": volunteer_id, "ok": False, "note": " "})
    assert code_of(no_reason)[1] == "REASON_REQUIRED"
    decided = await lixia.data(REVIEW, {"id": volunteer_id, "ok": True, "note": "护照核验通过"})
    assert decided["reviewRealName"] == {"realNameStatus": "PASSED", "verificationNote": "护照核验通过"}
    again = await lixia.gql(REVIEW, {"id": volunteer_id, "ok": True, "note": ""})
    assert again["errors"][0]["extensions"]["code"] == "INVALID_STATE"


async def test_retired_area_codes_are_accepted(api: Api) -> None:
    body = await register(api, idNumber=adult_id(area=RETIRED_AREA))
    assert "errors" not in body


async def test_pending_identities_are_verified_by_the_worker(api: Api, app: Starlette) -> None:
    from resolvers.verifiers.offline import OfflineIdentityVerifier
    from resolvers.verifiers.worker import verify_pending_identities

    body = await register(api)
    token = body["data"]["registerVolunteer"]["session"]["accessToken"]
    services = app.state.services
    counts = await verify_pending_identities(
        services.sessions, services.cipher, OfflineIdentityVerifier(services.sessions), batch=1000
    )
    assert counts["passed"] >= 1
    me = await api.as_(token).data("{ viewer { volunteer { realNameStatus } } }")
    assert me["viewer"]["volunteer"]["realNameStatus"] == "PASSED"
