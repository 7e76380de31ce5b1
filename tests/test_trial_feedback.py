"""Trial feedback (试运行意见反馈表): province admins submit their own province's form; the ministry reads every
form and the summary; bad answers are refused with a code and write nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from starlette.applications import Starlette

import models as m
from models.enums import ProvinceStatus, Role
from tests.conftest import Api, login
from tests.visibility import add_account, codes, remove_account

SHANDONG, ZHEJIANG, JIANGSU = "370000000000", "330000000000", "320000000000"
FORM_FIELDS = """
  provinceCode province { name } organisation formDate contactName contactPhone organisedTrial deepestLevel
  accountsLoginOk modules supportOk stable meetsNeeds improvements revision
"""
SUBMIT = f"mutation($input: TrialFeedbackInput!) {{ submitTrialFeedback(input: $input) {{ {FORM_FIELDS} }} }}"
FORMS = f"query($p: String) {{ trialFeedback(provinceCode: $p) {{ {FORM_FIELDS} }} }}"
SUMMARY = """
{ trialFeedbackSummary {
    submitted yesNo { question yes no } levels { option count } modules { option count }
    suggestions { provinceCode text } missing { code name }
} }
"""


def form(province: str, **changes: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "provinceCode": province,
        "organisation": "民政厅慈善事业促进和社会工作处",
        "formDate": "2026-05-20",
        "contactName": "王芳",
        "contactPhone": "0531-86912345",
        "organisedTrial": True,
        "deepestLevel": "COUNTY",
        "accountsLoginOk": True,
        "modules": ["SYSTEM", "APP"],
        "supportOk": True,
        "stable": False,
        "meetsNeeds": False,
        "improvements": ["证明打印速度较慢", "  ", "希望增加批量导入服务时长"],
    }
    answers.update(changes)
    return answers


async def stored(app: Starlette, province: str) -> m.TrialFeedback | None:
    async with app.state.services.sessions() as session:
        row: m.TrialFeedback | None = await session.get(m.TrialFeedback, province)
        return row


async def submissions(app: Starlette, province: str) -> int:
    query = (
        select(func.count())
        .select_from(m.AuditEvent)
        .where(m.AuditEvent.action == "SUBMIT_TRIAL_FEEDBACK", m.AuditEvent.region_code == province)
    )
    async with app.state.services.sessions() as session:
        return int((await session.execute(query)).scalar_one())


@pytest.fixture(scope="module")
async def provinces(app: Starlette, api: Api) -> AsyncIterator[dict[str, Api]]:
    """Admins of 浙江省 and 江苏省 (trial provinces), whose forms the summary is about."""
    ids = [
        await add_account(app, name, "Feedback@2026", m.RoleGrant(role=Role.REGION_ADMIN, region_code=code))
        for name, code in (("fb_zhejiang", ZHEJIANG), ("fb_jiangsu", JIANGSU))
    ]
    async with app.state.services.sessions() as session, session.begin():
        for code in (ZHEJIANG, JIANGSU):
            await session.merge(m.ProvinceRollout(province_code=code, status=ProvinceStatus.TRIAL))
    yield {
        ZHEJIANG: api.as_(await login(api, "fb_zhejiang", "Feedback@2026")),
        JIANGSU: api.as_(await login(api, "fb_jiangsu", "Feedback@2026")),
    }
    async with app.state.services.sessions() as session, session.begin():
        await session.execute(
            delete(m.TrialFeedback).where(m.TrialFeedback.province_code.in_([ZHEJIANG, JIANGSU]))
        )
        await session.execute(
            delete(m.ProvinceRollout).where(m.ProvinceRollout.province_code.in_([ZHEJIANG, JIANGSU]))
        )
    for account_id in ids:
        await remove_account(app, account_id)


async def test_a_province_admin_submits_and_resubmits(
    app: Starlette, api: Api, tokens: dict[str, str]
) -> None:
    shandong = api.as_(tokens["demo_shandong"])
    before = await submissions(app, SHANDONG)
    first = (await shandong.data(SUBMIT, {"input": form(SHANDONG)}))["submitTrialFeedback"]
    assert first["province"] == {"name": "山东省"}
    assert first["improvements"] == ["证明打印速度较慢", "希望增加批量导入服务时长"]
    assert (first["deepestLevel"], first["modules"], first["stable"]) == ("COUNTY", ["SYSTEM", "APP"], False)
    # 山东's admin may reveal personal data in the province: the phone comes back whole
    assert first["contactPhone"] == "0531-86912345"

    again = form(SHANDONG, stable=True, meetsNeeds=True, improvements=[])
    second = (await shandong.data(SUBMIT, {"input": again}))["submitTrialFeedback"]
    assert (second["stable"], second["improvements"], second["revision"]) == (True, [], first["revision"] + 1)
    assert await submissions(app, SHANDONG) == before + 2
    row = await stored(app, SHANDONG)
    assert row is not None and row.contact_phone_enc != b"0531-86912345"  # encrypted at rest

    forms = (await shandong.data(FORMS))["trialFeedback"]
    assert [f["provinceCode"] for f in forms] == [SHANDONG]


@pytest.mark.parametrize(
    ("who", "province", "code"),
    [
        (None, SHANDONG, "UNAUTHENTICATED"),
        ("demo_volunteer", SHANDONG, "FORBIDDEN"),
        ("demo_team", SHANDONG, "FORBIDDEN"),
        ("demo_lixia", SHANDONG, "FORBIDDEN"),  # a county admin does not speak for the province
        ("demo_jinan", SHANDONG, "FORBIDDEN"),  # nor a city admin
        ("demo_ministry", SHANDONG, "FORBIDDEN"),  # the ministry reads, provinces submit
        ("demo_shandong", ZHEJIANG, "FORBIDDEN"),  # nor one province for another
    ],
)
async def test_who_may_not_submit(
    app: Starlette, api: Api, tokens: dict[str, str], who: str | None, province: str, code: str
) -> None:
    before = (await stored(app, province), await submissions(app, province))
    body = await api.as_(tokens[who] if who else None).gql(
        SUBMIT, {"input": form(province, organisation="X")}
    )
    assert body["data"] is None and codes(body) == [code]
    after = await stored(app, province)
    assert (before[0] and before[0].organisation) == (after and after.organisation)
    assert await submissions(app, province) == before[1]


@pytest.mark.parametrize(
    ("changes", "key", "field"),
    [
        ({"deepestLevel": None}, "FEEDBACK_TRIAL_DETAILS", "deepestLevel"),
        ({"modules": []}, "FEEDBACK_TRIAL_DETAILS", "deepestLevel"),
        ({"organisedTrial": False}, "FEEDBACK_NO_TRIAL", "organisedTrial"),
        ({"contactPhone": "12345"}, "FEEDBACK_PHONE", "contactPhone"),
        ({"contactName": "王芳123"}, "NAME_FORMAT", "contactName"),
        ({"organisation": "  "}, "FEEDBACK_ORGANISATION", "organisation"),
        ({"formDate": "2999-01-01"}, "FEEDBACK_DATE", "formDate"),
        ({"improvements": ["长" * 2001]}, "FEEDBACK_IMPROVEMENTS", "improvements"),
        ({"improvements": ["建议"] * 21}, "FEEDBACK_IMPROVEMENTS", "improvements"),
    ],
)
async def test_bad_answers_are_refused_and_write_nothing(
    app: Starlette, api: Api, tokens: dict[str, str], changes: dict[str, Any], key: str, field: str
) -> None:
    before = await submissions(app, SHANDONG)
    body = await api.as_(tokens["demo_shandong"]).gql(SUBMIT, {"input": form(SHANDONG, **changes)})
    assert body["data"] is None and codes(body) == ["BAD_USER_INPUT"]
    error = body["errors"][0]
    assert (error["extensions"]["reason"], error["extensions"]["field"]) == (key, field)
    assert await submissions(app, SHANDONG) == before


async def test_messages_follow_the_language(api: Api, tokens: dict[str, str]) -> None:
    shandong = api.as_(tokens["demo_shandong"])
    bad = {"input": form(SHANDONG, modules=[])}
    zh = (await shandong.gql(SUBMIT, bad))["errors"][0]["message"]
    en = (await shandong.gql(SUBMIT, bad, **{"accept-language": "en"}))["errors"][0]["message"]
    assert "第 2 题" in zh and "question 2" in en


async def test_the_ministry_reads_every_form_and_the_summary(
    app: Starlette, api: Api, tokens: dict[str, str], provinces: dict[str, Api]
) -> None:
    ministry = api.as_(tokens["demo_ministry"])
    summary = (await ministry.data(SUMMARY))["trialFeedbackSummary"]
    missing = {r["code"] for r in summary["missing"]}
    assert {ZHEJIANG, JIANGSU} <= missing
    base = summary["submitted"]

    await provinces[ZHEJIANG].data(
        SUBMIT,
        {"input": form(ZHEJIANG, contactPhone="13812345678", improvements=["移动端签到偶尔失败"])},
    )
    no_trial = form(
        JIANGSU, organisedTrial=False, deepestLevel=None, modules=[], stable=True, improvements=[]
    )
    await provinces[JIANGSU].data(SUBMIT, {"input": no_trial})

    summary = (await ministry.data(SUMMARY))["trialFeedbackSummary"]
    assert summary["submitted"] == base + 2
    assert not {ZHEJIANG, JIANGSU} & {r["code"] for r in summary["missing"]}
    assert {"provinceCode": ZHEJIANG, "text": "移动端签到偶尔失败"} in summary["suggestions"]

    # The summary's counts are those of the forms the ministry reads, question by question
    forms = (await ministry.data(FORMS))["trialFeedback"]
    assert len(forms) == summary["submitted"]
    assert {f["provinceCode"] for f in forms} >= {ZHEJIANG, JIANGSU}
    for entry in summary["yesNo"]:
        yes = sum(1 for f in forms if f[entry["question"]])
        assert (entry["yes"], entry["no"]) == (yes, len(forms) - yes)
    for entry in summary["levels"]:
        assert entry["count"] == sum(1 for f in forms if f["deepestLevel"] == entry["option"])
    for entry in summary["modules"]:
        assert entry["count"] == sum(1 for f in forms if entry["option"] in f["modules"])

    # The ministry may not reveal: contact details come back masked, and no reveal is audited
    zhejiang = next(f for f in forms if f["provinceCode"] == ZHEJIANG)
    assert (zhejiang["contactPhone"], zhejiang["contactName"]) == ("138****5678", "王*")


async def test_a_province_reads_only_its_own_form(
    api: Api, tokens: dict[str, str], provinces: dict[str, Api]
) -> None:
    zhejiang = provinces[ZHEJIANG]
    await zhejiang.data(SUBMIT, {"input": form(ZHEJIANG)})
    own = (await zhejiang.data(FORMS))["trialFeedback"]
    assert [f["provinceCode"] for f in own] == [ZHEJIANG]
    body = await zhejiang.gql(FORMS, {"p": SHANDONG})
    assert codes(body) == ["FORBIDDEN"]
    for who in ("demo_jinan", "demo_lixia", "demo_team"):
        body = await api.as_(tokens[who]).gql(SUMMARY)
        assert body["data"] is None and codes(body) == ["FORBIDDEN"]
    assert codes(await zhejiang.gql(SUMMARY)) == ["FORBIDDEN"]
    # a city admin reads no province's form (they administer part of it, not the province)
    assert codes(await api.as_(tokens["demo_jinan"]).gql(FORMS, {"p": SHANDONG})) == ["FORBIDDEN"]
    assert (await api.as_(tokens["demo_jinan"]).data(FORMS))["trialFeedback"] == []
