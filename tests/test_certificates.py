"""Certificates through HTTP: request → issue → verify, offline signature checks, every refusal (with its code,
and nothing written), 谁记录谁证明, rejection, revocation, and a dissolved team's region issuing in its place."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import select
from starlette.applications import Starlette

import models as m
from models.enums import ProjectCategory, ProvinceStatus, RecordStatus, TeamStatus
from tests.certificate_helpers import (
    FURONG,
    ISSUE,
    KEY,
    LONGHUA,
    PERIOD,
    REJECT,
    REQUEST,
    REVOKE,
    TIANXIN,
    VERIFY,
    YUELU,
    Who,
    World,
    code_of,
    make_world,
    refused,
    region_grant,
    team_grant,
)
from tests.conftest import Api
from tests.visibility import gid

PRINTED = (
    "number",
    "issueDate",
    "volunteerName",
    "idType",
    "idNumber",
    "volunteerNumber",
    "periodStart",
    "periodEnd",
    "totalHours",
    "content",
    "issuerName",
    "personInCharge",
    "handlerName",
    "contact",
)
SIGNER = {"p": "李负责", "h": "王经办", "k": "0731-88886666"}


@pytest.fixture(scope="module")
async def w(app: Starlette, api: Api) -> World:
    world = await make_world(app, api)
    world.teams["a"] = await world.team(FURONG)
    world.teams["b"] = await world.team(FURONG)
    return world


async def _admin_of(w: World, team: str, region: str = FURONG) -> Who:
    return await w.admin(team_grant(w.teams[team], region))


async def _request(w: World, who: Who, team: int, period: dict[str, str] = PERIOD) -> dict[str, Any]:
    body = await w.as_(who).data(REQUEST, {"t": gid("Team", team), **period})
    result: dict[str, Any] = body["requestCertificate"]
    return result


async def _issue(w: World, admin: Who, certificate: str) -> dict[str, Any]:
    body = await w.as_(admin).data(ISSUE, {"c": certificate, **SIGNER})
    result: dict[str, Any] = body["issueCertificate"]
    return result


def offline_check(verified: dict[str, Any], pem: str) -> None:
    """What anyone can do with the published key and cryptography: raises InvalidSignature when tampered."""
    payload = {k: str(verified[k]) for k in PRINTED}
    data = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    key = load_pem_public_key(pem.encode())
    assert isinstance(key, Ed25519PublicKey)
    key.verify(base64.b64decode(verified["signature"]), data)


async def test_request_issue_verify_and_check_offline(w: World, api: Api, app: Starlette) -> None:
    volunteer = await w.volunteer(name="欧阳·明堃")
    a, b = w.teams["a"], w.teams["b"]
    project = await w.project(a, "社区环境整治", ProjectCategory.ENVIRONMENT)
    await w.record(volunteer, a, "3.50", project=project, category=ProjectCategory.ENVIRONMENT)
    await w.record(volunteer, a, "2.00", day=date(2025, 6, 1), category=ProjectCategory.ELDERLY_DISABLED)
    await w.record(volunteer, a, "9.00", status=RecordStatus.PENDING)
    await w.record(volunteer, a, "9.00", status=RecordStatus.DECLINED)
    await w.record(volunteer, a, "9.00", status=RecordStatus.VOIDED)
    await w.record(volunteer, a, "9.00", day=date(2024, 12, 31))
    await w.record(volunteer, b, "9.00")  # another team's hours: not this certificate's

    requested = await _request(w, volunteer, a)
    assert requested["status"] == "REQUESTED" and requested["number"].startswith("SQ")
    assert requested["totalHours"] == "5.50"
    assert requested["verificationCode"] is None and requested["pdfUrl"] is None

    admin = await _admin_of(w, "a")
    issued = await _issue(w, admin, requested["id"])
    year = issued["issuedAt"][:4]
    assert re.fullmatch(rf"ZY{year}430102\d{{8}}", issued["number"]), issued["number"]
    assert issued["status"] == "ISSUED" and issued["totalHours"] == "5.50"
    assert (issued["personInCharge"], issued["handlerName"], issued["contact"]) == (
        "李负责",
        "王经办",
        "0731-88886666",
    )
    assert "社区环境整治（生态环保）1次3.50小时" in issued["content"]
    assert "扶老助残服务1次2.00小时" in issued["content"]
    code = issued["verificationCode"]
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{8}", code)
    assert issued["verificationUrl"] == f"http://127.0.0.1:8000/verify?number={issued['number']}&code={code}"

    verified = (await api.data(VERIFY, {"n": issued["number"], "c": code.lower()}))["verifyCertificate"]
    assert verified["volunteerName"] == "欧阳·明堃"
    assert verified["idNumber"] == volunteer.id_number[:4] + "*" * 10 + volunteer.id_number[-4:]
    assert verified["idType"] == "RESIDENT_ID" and verified["volunteerNumber"] == volunteer.number
    assert (verified["periodStart"], verified["periodEnd"]) == ("2025-01-01", "2025-12-31")
    assert verified["totalHours"] == "5.50" and verified["content"] == issued["content"]
    async with w.sessions() as session:
        team = await session.get(m.Team, a)
        assert team is not None
    assert verified["issuerName"] == team.name
    assert verified["status"] == "ISSUED" and verified["revokedAt"] is None and verified["signatureValid"]

    key = (await api.data(KEY))["certificateSigningKey"]
    assert key["algorithm"] == "Ed25519" and key["active"] and verified["keyId"] == key["keyId"]
    assert base64.b64decode(key["publicKey"]) == load_pem_public_key(key["pem"].encode()).public_bytes_raw()  # type: ignore[union-attr]
    assert json.loads(verified["signedPayload"]) == {k: str(verified[k]) for k in PRINTED}
    offline_check(verified, key["pem"])
    for name in PRINTED:  # tampering with any printed field breaks the signature
        forged = {**verified, name: f"{verified[name]}x"}
        with pytest.raises(InvalidSignature):
            offline_check(forged, key["pem"])

    published = (await api.client.get("/certificates/signing-keys")).json()["keys"]
    assert published[0]["keyId"] == key["keyId"] and published[0]["pem"] == key["pem"]
    page = await api.client.get(issued["verificationUrl"].removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 200 and "欧阳·明堃" in page.text and "有效" in page.text
    async with w.sessions() as session:
        actions = (
            await session.execute(
                select(m.AuditEvent.action).where(
                    m.AuditEvent.subject_type == "Certificate",
                    m.AuditEvent.subject_id == int(base64.b64decode(issued["id"]).decode().split(":")[1]),
                )
            )
        ).scalars()
        assert sorted(actions) == ["CERTIFICATE_ISSUED", "CERTIFICATE_REQUESTED"]

    mine = await w.as_(volunteer).data(
        "{ certificates(first: 10) { nodes { number verificationCode pdfUrl } } }"
    )
    assert mine["certificates"]["nodes"] == [
        {"number": issued["number"], "verificationCode": code, "pdfUrl": issued["pdfUrl"]}
    ]


async def test_a_wrong_code_answers_like_an_unknown_number(w: World, api: Api) -> None:
    volunteer = await w.volunteer()
    await w.record(volunteer, w.teams["a"], "1.00")
    requested = await _request(w, volunteer, w.teams["a"])
    issued = await _issue(w, await _admin_of(w, "a"), requested["id"])
    code = issued["verificationCode"]
    wrong = "".join("A" if ch != "A" else "B" for ch in code)
    unknown_number = "ZY2025430102" + "9" * 8
    answers = [
        await api.gql(VERIFY, {"n": issued["number"], "c": wrong}),
        await api.gql(VERIFY, {"n": unknown_number, "c": code}),
        await api.gql(VERIFY, {"n": requested["number"], "c": code}),  # a request's reference is not a number
        await api.gql(VERIFY, {"n": issued["number"], "c": ""}),
    ]
    for body in answers:
        assert body == answers[0]
    assert code_of(answers[0]) == ("NOT_FOUND", None)
    for path in (
        f"/certificates/{issued['number']}.pdf?code={wrong}",
        f"/verify?number={unknown_number}&code={code}",
    ):
        assert (await api.client.get(path)).status_code == 404


async def test_refusals_have_codes_and_write_nothing(w: World, api: Api, app: Starlette) -> None:
    a, b = w.teams["a"], w.teams["b"]
    volunteer = await w.volunteer()
    await w.record(volunteer, a, "2.00")
    await w.record(volunteer, b, "2.00", status=RecordStatus.PENDING)
    admin_a, admin_b = await _admin_of(w, "a"), await _admin_of(w, "b")
    county, neighbour = await w.admin(region_grant(FURONG)), await w.admin(region_grant(TIANXIN))
    team_only = await w.admin(team_grant(a, FURONG))
    ask = {"t": gid("Team", a), **PERIOD}

    await refused(w, None, REQUEST, ask, "UNAUTHENTICATED")
    await refused(w, team_only, REQUEST, ask, "FORBIDDEN")
    await refused(
        w,
        volunteer,
        REQUEST,
        {**ask, "s": "2025-12-31", "e": "2025-01-01"},
        "BAD_USER_INPUT",
        "PERIOD_INVALID",
    )
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    await refused(w, volunteer, REQUEST, {**ask, "e": tomorrow}, "BAD_USER_INPUT", "PERIOD_INVALID")
    await refused(w, volunteer, REQUEST, {**ask, "t": "bm90LWFuLWlk"}, "BAD_USER_INPUT", "BAD_ID")
    # 谁记录谁证明: team b only holds a pending record; a team that does not exist answers the same
    no_hours = await refused(w, volunteer, REQUEST, {**ask, "t": gid("Team", b)}, "INVALID_STATE", "NO_HOURS")
    missing = await refused(
        w, volunteer, REQUEST, {**ask, "t": gid("Team", 10**9)}, "INVALID_STATE", "NO_HOURS"
    )
    assert no_hours == missing
    await refused(w, volunteer, REQUEST, {**ask, "e": "2025-01-31"}, "INVALID_STATE", "NO_HOURS")

    requested = await _request(w, volunteer, a)
    cert = requested["id"]
    await refused(w, volunteer, REQUEST, ask, "INVALID_STATE", "ALREADY_REQUESTED")
    issue = {"c": cert, **SIGNER}
    await refused(w, None, ISSUE, issue, "UNAUTHENTICATED")
    await refused(w, volunteer, ISSUE, issue, "FORBIDDEN")
    await refused(w, admin_b, ISSUE, issue, "NOT_FOUND")  # another team cannot certify what it did not record
    await refused(w, neighbour, ISSUE, issue, "NOT_FOUND")
    await refused(w, county, ISSUE, issue, "FORBIDDEN")  # the region sees it, but the live team certifies
    await refused(w, admin_a, ISSUE, {**issue, "p": "x"}, "BAD_USER_INPUT", "NAME_FORMAT")
    await refused(w, admin_a, ISSUE, {**issue, "k": "  "}, "BAD_USER_INPUT", "CONTACT_FORMAT")
    await refused(w, admin_a, ISSUE, {**issue, "c": gid("Certificate", 10**9)}, "NOT_FOUND")
    await refused(w, admin_a, ISSUE, {**issue, "c": gid("Team", a)}, "BAD_USER_INPUT", "BAD_ID")
    await refused(w, admin_a, REJECT, {"c": cert, "r": " "}, "BAD_USER_INPUT", "REASON_REQUIRED")
    await refused(w, admin_b, REJECT, {"c": cert, "r": "不符"}, "NOT_FOUND")
    await refused(w, county, REJECT, {"c": cert, "r": "不符"}, "FORBIDDEN")
    await refused(w, admin_a, REVOKE, {"c": cert, "r": "错误"}, "INVALID_STATE")

    async with w.sessions() as session:
        record_ids = (
            (
                await session.execute(
                    select(m.ServiceRecord.id).where(
                        m.ServiceRecord.volunteer_id == volunteer.volunteer_id, m.ServiceRecord.team_id == a
                    )
                )
            )
            .scalars()
            .all()
        )
    for record in record_ids:  # the hours were voided after the request: nothing left to certify
        await w.set_record_status(record, RecordStatus.VOIDED)
    await refused(w, admin_a, ISSUE, issue, "INVALID_STATE", "NO_HOURS")
    for record in record_ids:
        await w.set_record_status(record, RecordStatus.CONFIRMED)

    issued = await _issue(w, admin_a, cert)
    await refused(w, admin_a, ISSUE, issue, "INVALID_STATE")
    await refused(w, admin_a, REJECT, {"c": cert, "r": "不符"}, "INVALID_STATE")
    await refused(w, admin_a, REVOKE, {"c": cert, "r": ""}, "BAD_USER_INPUT", "REASON_REQUIRED")
    await refused(w, admin_b, REVOKE, {"c": cert, "r": "错误"}, "NOT_FOUND")
    await refused(w, neighbour, REVOKE, {"c": cert, "r": "错误"}, "NOT_FOUND")
    await refused(w, volunteer, REVOKE, {"c": cert, "r": "错误"}, "FORBIDDEN")
    assert issued["status"] == "ISSUED"


async def test_legacy_provinces_are_refused(w: World, app: Starlette) -> None:
    team = await w.team(LONGHUA)
    volunteer = await w.volunteer(LONGHUA)
    await w.record(volunteer, team, "2.00")
    async with w.sessions() as session, session.begin():
        session.add(m.ProvinceRollout(province_code="460000000000", status=ProvinceStatus.LEGACY))
    ask = {"t": gid("Team", team), **PERIOD}
    await refused(w, volunteer, REQUEST, ask, "PROVINCE_NOT_LIVE")


async def test_rejection_keeps_the_reason_and_allows_a_new_request(w: World, api: Api) -> None:
    volunteer = await w.volunteer()
    await w.record(volunteer, w.teams["b"], "4.00")
    admin = await _admin_of(w, "b")
    requested = await _request(w, volunteer, w.teams["b"])
    rejected = (await w.as_(admin).data(REJECT, {"c": requested["id"], "r": "时段填写有误"}))[
        "rejectCertificate"
    ]
    assert (rejected["status"], rejected["revokeReason"], rejected["verificationCode"]) == (
        "REJECTED",
        "时段填写有误",
        None,
    )
    again = await _request(w, volunteer, w.teams["b"])
    assert again["status"] == "REQUESTED" and again["id"] != requested["id"]


async def test_revocation_shows_in_verification(w: World, api: Api) -> None:
    county = await w.admin(region_grant(FURONG))
    admin = await _admin_of(w, "a")
    revoked = []
    for revoker in (county, admin):  # the region's admin, and the issuing team's own
        volunteer = await w.volunteer()
        await w.record(volunteer, w.teams["a"], "6.25")
        issued = await _issue(w, admin, (await _request(w, volunteer, w.teams["a"]))["id"])
        result = (await w.as_(revoker).data(REVOKE, {"c": issued["id"], "r": "重复出具"}))[
            "revokeCertificate"
        ]
        assert (result["status"], result["revokeReason"], result["pdfUrl"]) == ("REVOKED", "重复出具", None)
        revoked.append(issued)
    for issued in revoked:
        verified = (await api.data(VERIFY, {"n": issued["number"], "c": issued["verificationCode"]}))[
            "verifyCertificate"
        ]
        assert verified["status"] == "REVOKED" and verified["revokedAt"] is not None
        assert verified[
            "signatureValid"
        ]  # what was issued stays provable; the status says it no longer holds
        pdf = await api.client.get(issued["pdfUrl"].removeprefix("http://127.0.0.1:8000"))
        assert pdf.status_code == 410
        page = await api.client.get(issued["verificationUrl"].removeprefix("http://127.0.0.1:8000"))
        assert "已撤销" in page.text
    await refused(w, admin, REVOKE, {"c": revoked[0]["id"], "r": "再次撤销"}, "INVALID_STATE")


async def test_a_dissolved_teams_region_issues_in_its_place(w: World, api: Api) -> None:
    team = await w.team(TIANXIN)
    volunteer = await w.volunteer(FURONG)
    await w.record(volunteer, team, "8.00")
    team_admin = await w.admin(team_grant(team, TIANXIN))
    county, neighbour = await w.admin(region_grant(TIANXIN)), await w.admin(region_grant(FURONG))
    city = await w.admin(region_grant("430100000000"))
    first = await _request(w, volunteer, team)
    await w.set_team_status(team, TeamStatus.DISSOLVED)
    second_volunteer = await w.volunteer(TIANXIN)
    await w.record(second_volunteer, team, "1.50")
    second = await _request(w, second_volunteer, team)  # a dissolved team's hours can still be certified

    issue = {"c": first["id"], **SIGNER}
    await refused(w, team_admin, ISSUE, issue, "FORBIDDEN")  # the team is gone: its admins no longer certify
    await refused(w, neighbour, ISSUE, issue, "NOT_FOUND")
    issued = await _issue(w, county, first["id"])
    assert issued["status"] == "ISSUED" and issued["number"][6:12] == "430103"
    by_city = await _issue(w, city, second["id"])
    assert int(by_city["number"][-8:]) == int(issued["number"][-8:]) + 1  # one sequence per county and year
    verified = (await api.data(VERIFY, {"n": issued["number"], "c": issued["verificationCode"]}))[
        "verifyCertificate"
    ]
    assert verified["signatureValid"] and verified["totalHours"] == "8.00"
    await refused(w, team_admin, REVOKE, {"c": issued["id"], "r": "错误"}, "FORBIDDEN")
    revoked = (await w.as_(county).data(REVOKE, {"c": issued["id"], "r": "错误"}))["revokeCertificate"]
    assert revoked["status"] == "REVOKED"


async def test_the_signing_key_lookup(api: Api) -> None:
    active = (await api.data(KEY))["certificateSigningKey"]
    same = (await api.data(KEY, {"k": active["keyId"]}))["certificateSigningKey"]
    assert same == active and len(active["keyId"]) == 16
    body = await api.gql(KEY, {"k": "0" * 16})
    assert code_of(body) == ("NOT_FOUND", None)


async def test_concurrent_issues_get_distinct_consecutive_numbers(w: World) -> None:
    team = await w.team(YUELU)
    admin = await w.admin(team_grant(team, YUELU))
    requests = []
    for _ in range(4):
        volunteer = await w.volunteer(YUELU)
        await w.record(volunteer, team, "1.00")
        requests.append((await _request(w, volunteer, team))["id"])
    issued = await asyncio.gather(*(_issue(w, admin, r) for r in requests))
    sequences = sorted(int(c["number"][-8:]) for c in issued)
    assert sequences == list(range(sequences[0], sequences[0] + 4))
    assert all(c["number"][6:12] == "430104" for c in issued)


async def test_an_issued_certificate_does_not_change_when_its_sources_do(w: World, api: Api) -> None:
    # given an issued certificate
    volunteer = await w.volunteer(name="林晓")
    team = await w.team(FURONG)
    await w.record(volunteer, team, "4.00")
    admin = await w.admin(team_grant(team, FURONG))
    issued = await _issue(w, admin, (await _request(w, volunteer, team))["id"])
    before = (await api.data(VERIFY, {"n": issued["number"], "c": issued["verificationCode"]}))[
        "verifyCertificate"
    ]
    # when the team is renamed and the volunteer's name corrected afterwards
    async with w.sessions() as session, session.begin():
        row = await session.get(m.Team, team)
        person = await session.get(m.Volunteer, volunteer.volunteer_id)
        assert row is not None and person is not None
        row.name, person.name = "改名后的队伍", "林晓明"
    # then the certificate still shows what was printed, and its signature still holds
    after = (await api.data(VERIFY, {"n": issued["number"], "c": issued["verificationCode"]}))[
        "verifyCertificate"
    ]
    assert after["issuerName"] == before["issuerName"] != "改名后的队伍"
    assert after["volunteerName"] == "林晓"
    assert after["signatureValid"] and after["signedPayload"] == before["signedPayload"]
