"""Trial feedback (试运行意见反馈表, attachment 1 of the notice): province admins submit, the ministry reads all.

* Submitting is for a REGION_ADMIN whose grant is the province itself (a city or county admin of the province
  may not speak for it; the ministry reads but does not submit). One form per province: a new submission
  replaces the answers, bumps ``revision`` and writes an audit event with the previous answers' revision.
* The answers must agree with each other: questions 2 and 4 are answered exactly when question 1 is "yes".
* Reading: a province's admin reads their province's form; the ministry reads every form and the summary,
  which counts the answers per question and names the trial provinces (rollout status TRIAL) still missing.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from auth.viewer import Viewer
from models import AuditEvent, ProvinceRollout, Region, TrialFeedback
from models.columns import utcnow
from models.enums import ProvinceStatus
from models.feedback import TrialLevel, TrialModule
from resolvers.people import check_name
from schema.context import Services
from schema.errors import AppError

PHONE = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?")
"""A mobile number, or a landline with its area code (an office's 联系电话), optionally an extension."""
MAX_IMPROVEMENTS = 20
MAX_IMPROVEMENT_LENGTH = 2000
YES_NO_QUESTIONS = ("organised_trial", "accounts_login_ok", "support_ok", "stable", "meets_needs")


@dataclass(frozen=True)
class FeedbackAnswers:
    organisation: str
    form_date: date
    contact_name: str
    contact_phone: str
    organised_trial: bool
    deepest_level: TrialLevel | None
    accounts_login_ok: bool
    modules: tuple[TrialModule, ...]
    support_ok: bool
    stable: bool
    meets_needs: bool
    improvements: tuple[str, ...]


def _check(answers: FeedbackAnswers) -> FeedbackAnswers:
    organisation = answers.organisation.strip()
    if not 1 <= len(organisation) <= 100:
        raise AppError("BAD_USER_INPUT", key="FEEDBACK_ORGANISATION", field="organisation")
    if answers.form_date > date.today():
        raise AppError("BAD_USER_INPUT", key="FEEDBACK_DATE", field="formDate")
    phone = answers.contact_phone.strip()
    if not PHONE.fullmatch(phone):
        raise AppError("BAD_USER_INPUT", key="FEEDBACK_PHONE", field="contactPhone")
    if answers.organised_trial and (answers.deepest_level is None or not answers.modules):
        raise AppError("BAD_USER_INPUT", key="FEEDBACK_TRIAL_DETAILS", field="deepestLevel")
    if not answers.organised_trial and (answers.deepest_level is not None or answers.modules):
        raise AppError("BAD_USER_INPUT", key="FEEDBACK_NO_TRIAL", field="organisedTrial")
    improvements = tuple(text.strip() for text in answers.improvements if text.strip())
    if len(improvements) > MAX_IMPROVEMENTS or any(len(t) > MAX_IMPROVEMENT_LENGTH for t in improvements):
        raise AppError("BAD_USER_INPUT", key="FEEDBACK_IMPROVEMENTS", field="improvements")
    return FeedbackAnswers(
        organisation=organisation,
        form_date=answers.form_date,
        contact_name=check_name(answers.contact_name, "contactName"),
        contact_phone=phone,
        organised_trial=answers.organised_trial,
        deepest_level=answers.deepest_level,
        accounts_login_ok=answers.accounts_login_ok,
        modules=tuple(dict.fromkeys(answers.modules)),
        support_ok=answers.support_ok,
        stable=answers.stable,
        meets_needs=answers.meets_needs,
        improvements=improvements,
    )


async def submit(
    services: Services, viewer: Viewer, province_code: str, answers: FeedbackAnswers, request_id: str
) -> TrialFeedback:
    if province_code not in viewer.provinces:
        raise AppError("FORBIDDEN", field="provinceCode")
    answers = _check(answers)
    values: dict[str, Any] = {
        "organisation": answers.organisation,
        "form_date": answers.form_date,
        "contact_name": answers.contact_name,
        "contact_phone_enc": services.cipher.encrypt(answers.contact_phone, "trial_feedback.contact_phone"),
        "organised_trial": answers.organised_trial,
        "deepest_level": answers.deepest_level.value if answers.deepest_level else None,
        "accounts_login_ok": answers.accounts_login_ok,
        "modules": [m.value for m in answers.modules],
        "support_ok": answers.support_ok,
        "stable": answers.stable,
        "meets_needs": answers.meets_needs,
        "improvements": list(answers.improvements),
        "submitted_by_id": viewer.account_id,
        "submitted_at": utcnow(),
    }
    async with services.writes() as session, session.begin():
        row = await session.get(TrialFeedback, province_code)
        if row is None:
            row = TrialFeedback(province_code=province_code, revision=1, **values)
            session.add(row)
        else:
            for name, value in values.items():
                setattr(row, name, value)
            row.revision += 1
        session.add(
            AuditEvent(
                actor_id=viewer.account_id,
                action="SUBMIT_TRIAL_FEEDBACK",
                subject_type="TrialFeedback",
                region_code=province_code,
                request_id=request_id,
                detail={"revision": row.revision},
            )
        )
    return row


def _readable(viewer: Viewer, province_code: str) -> bool:
    return viewer.is_ministry or province_code in viewer.provinces


async def forms(services: Services, viewer: Viewer, province_code: str | None) -> list[TrialFeedback]:
    """The forms this viewer may read (the ministry: all; a province admin: their own), by province code."""
    if province_code is not None and not _readable(viewer, province_code):
        raise AppError("FORBIDDEN", field="provinceCode")
    stmt = select(TrialFeedback).order_by(col(TrialFeedback.province_code))
    if province_code is not None:
        stmt = stmt.where(col(TrialFeedback.province_code) == province_code)
    elif not viewer.is_ministry:
        stmt = stmt.where(col(TrialFeedback.province_code).in_(sorted(viewer.provinces)))
    async with services.sessions() as session:
        return list((await session.execute(stmt)).scalars().all())


@dataclass
class FeedbackSummary:
    submitted: int = 0
    yes: Counter[str] = field(default_factory=Counter)
    """Question (snake_case field name) → forms answering yes."""
    levels: Counter[str] = field(default_factory=Counter)
    modules: Counter[str] = field(default_factory=Counter)
    improvements: list[tuple[str, str]] = field(default_factory=list)
    """(province code, suggestion), in province order."""
    missing: list[Region] = field(default_factory=list)
    """Provinces in TRIAL with no form yet."""


async def summary(services: Services) -> FeedbackSummary:
    """Counts over every submitted form, and the trial provinces still missing (ministry only)."""
    result = FeedbackSummary()
    trial = (
        select(Region)
        .join(ProvinceRollout, col(ProvinceRollout.province_code) == col(Region.code))
        .where(col(ProvinceRollout.status) == ProvinceStatus.TRIAL.value)
        .where(~col(Region.code).in_(select(col(TrialFeedback.province_code))))
        .order_by(col(Region.code))
    )
    async with services.sessions() as session:
        rows = (
            await session.execute(select(TrialFeedback).order_by(col(TrialFeedback.province_code)))
        ).scalars()
        for row in rows:
            result.submitted += 1
            result.yes.update(q for q in YES_NO_QUESTIONS if getattr(row, q))
            if row.deepest_level:
                result.levels[str(row.deepest_level)] += 1
            result.modules.update(row.modules)
            result.improvements.extend((row.province_code, text) for text in row.improvements)
        result.missing = list((await session.execute(trial)).scalars().all())
    return result
