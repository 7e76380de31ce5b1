"""Trial feedback (试运行意见反馈表): the form's questions as a type, its submission, the ministry's summary."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from models.feedback import TrialFeedback as TrialFeedbackRow
from models.feedback import TrialLevel, TrialModule
from resolvers import trial_feedback
from schema.context import Info
from schema.directives import Requirement, SensitiveKind
from schema.permissions import requires, sensitive
from schema.types.region import Region, region_by_code

strawberry.enum(TrialLevel, description="Deepest level the trial reached (试用层级)")
strawberry.enum(TrialModule, description="Module of system 2.0 (系统模块)")

REGION_ADMIN = requires(Requirement.REGION_ADMIN)
MINISTRY = requires(Requirement.MINISTRY_ADMIN)


@strawberry.type(
    description="A province's trial feedback form, attachment 1 of the notice (试运行意见反馈表)"
)
class TrialFeedback:
    row: strawberry.Private[TrialFeedbackRow]
    contact_phone_plain: strawberry.Private[str]

    @property
    def id(self) -> int:
        """The province's 2-digit code as a number: the subject id audit events name for this form."""
        return int(self.row.province_code[:2])

    def owner_volunteer_id(self) -> int | None:
        return None

    def owner_region_code(self) -> str | None:
        return self.row.province_code

    @strawberry.field(description="Province code (省级区划代码)")
    def province_code(self) -> str:
        return self.row.province_code

    @strawberry.field(description="The province (省份)")
    async def province(self, info: Info) -> Region | None:
        return await region_by_code(info, self.row.province_code)

    @strawberry.field(description="Submitting department (单位)")
    def organisation(self) -> str:
        return self.row.organisation

    @strawberry.field(description="Date on the form (日期)")
    def form_date(self) -> date:
        return self.row.form_date

    @strawberry.field(description="Contact person (联系人)", extensions=[sensitive(SensitiveKind.NAME)])
    def contact_name(self) -> str:
        return self.row.contact_name

    @strawberry.field(description="Contact phone (联系电话)", extensions=[sensitive(SensitiveKind.PHONE)])
    def contact_phone(self) -> str:
        return self.contact_phone_plain

    @strawberry.field(description="Q1: was a trial of system 2.0 organised? (是否组织系统 2.0 版试用工作)")
    def organised_trial(self) -> bool:
        return self.row.organised_trial

    @strawberry.field(description="Q2: deepest level the trial reached (系统 2.0 版试用至哪个层级)")
    def deepest_level(self) -> TrialLevel | None:
        return TrialLevel(self.row.deepest_level) if self.row.deepest_level else None

    @strawberry.field(description="Q3: can accounts at every level sign in? (各级账号是否可以正常登陆)")
    def accounts_login_ok(self) -> bool:
        return self.row.accounts_login_ok

    @strawberry.field(description="Q4: modules tried (系统 2.0 版已试用哪些模块)")
    def modules(self) -> list[TrialModule]:
        return [TrialModule(m) for m in self.row.modules]

    @strawberry.field(description="Q5: are the support channels working? (信息系统客服渠道是否畅通)")
    def support_ok(self) -> bool:
        return self.row.support_ok

    @strawberry.field(description="Q6: does system 2.0 run stably? (系统 2.0 版运行是否稳定)")
    def stable(self) -> bool:
        return self.row.stable

    @strawberry.field(description="Q7: does it meet current business needs? (是否满足现有志愿服务业务需求)")
    def meets_needs(self) -> bool:
        return self.row.meets_needs

    @strawberry.field(description="Q8: functions to improve (哪些功能需要继续完善)")
    def improvements(self) -> list[str]:
        return list(self.row.improvements)

    @strawberry.field(description="Submissions so far; each replaces the previous answers (提交次数)")
    def revision(self) -> int:
        return self.row.revision

    @strawberry.field(description="When last submitted (提交时间)")
    def submitted_at(self) -> datetime:
        return self.row.submitted_at


def _form(info: Info, row: TrialFeedbackRow) -> TrialFeedback:
    phone = info.context.services.cipher.decrypt(row.contact_phone_enc, "trial_feedback.contact_phone")
    return TrialFeedback(row=row, contact_phone_plain=phone)


@strawberry.input(description="A province's trial feedback form (试运行意见反馈表)")
class TrialFeedbackInput:
    province_code: str = strawberry.field(description="Your province's code (省级区划代码)")
    organisation: str = strawberry.field(description="Submitting department (单位)")
    form_date: date = strawberry.field(description="Date on the form (日期)")
    contact_name: str = strawberry.field(description="Contact person (联系人)")
    contact_phone: str = strawberry.field(description="Contact phone: mobile or landline (联系电话)")
    organised_trial: bool = strawberry.field(description="Q1 (是否组织系统 2.0 版试用工作)")
    accounts_login_ok: bool = strawberry.field(description="Q3 (各级账号是否可以正常登陆)")
    support_ok: bool = strawberry.field(description="Q5 (信息系统客服渠道是否畅通)")
    stable: bool = strawberry.field(description="Q6 (系统 2.0 版运行是否稳定)")
    meets_needs: bool = strawberry.field(description="Q7 (是否满足现有志愿服务业务需求)")
    deepest_level: TrialLevel | None = strawberry.field(
        default=None, description="Q2, exactly when Q1 is yes (试用层级)"
    )
    modules: list[TrialModule] = strawberry.field(
        default_factory=list, description="Q4, exactly when Q1 is yes (已试用模块)"
    )
    improvements: list[str] = strawberry.field(
        default_factory=list, description="Q8, at most 20 items of 2,000 characters (需要继续完善的功能)"
    )


@strawberry.type(description="Forms answering yes to a question (是/否题统计)")
class YesCount:
    question: str = strawberry.field(description="The question's field, e.g. stable (题目)")
    yes: int = strawberry.field(description="Forms answering yes (是)")
    no: int = strawberry.field(description="Forms answering no (否)")


@strawberry.type(description="How many forms chose an option (选项统计)")
class OptionCount:
    option: str = strawberry.field(description="The option (选项)")
    count: int = strawberry.field(description="Forms (份数)")


@strawberry.type(description="One province's suggestion (完善建议)")
class Suggestion:
    province_code: str = strawberry.field(description="Province code (省级区划代码)")
    text: str = strawberry.field(description="Suggestion (建议)")


@strawberry.type(description="Summary of every province's trial feedback (试运行意见汇总)")
class TrialFeedbackSummary:
    submitted: int = strawberry.field(description="Forms submitted (已提交份数)")
    yes_no: list[YesCount] = strawberry.field(description="Q1, Q3, Q5, Q6, Q7 (是/否题)")
    levels: list[OptionCount] = strawberry.field(description="Q2 (试用层级)")
    modules: list[OptionCount] = strawberry.field(description="Q4 (已试用模块)")
    suggestions: list[Suggestion] = strawberry.field(description="Q8, every suggestion (完善建议)")
    missing: list[Region] = strawberry.field(
        description="Trial provinces with no form yet (未提交的试点省份)"
    )


@strawberry.type
class TrialFeedbackQuery:
    @strawberry.field(
        description="Trial feedback forms: every province's for the ministry, your own for a province admin "
        "(试运行意见反馈表)",
        extensions=[REGION_ADMIN],
    )
    async def trial_feedback(self, info: Info, province_code: str | None = None) -> list[TrialFeedback]:
        ctx = info.context
        rows = await trial_feedback.forms(ctx.services, ctx.viewer, province_code)
        return [_form(info, row) for row in rows]

    @strawberry.field(
        description="Summary of all provinces' feedback (试运行意见汇总)", extensions=[MINISTRY]
    )
    async def trial_feedback_summary(self, info: Info) -> TrialFeedbackSummary:
        found = await trial_feedback.summary(info.context.services)
        return TrialFeedbackSummary(
            submitted=found.submitted,
            yes_no=[
                YesCount(question=_camel(q), yes=found.yes[q], no=found.submitted - found.yes[q])
                for q in trial_feedback.YES_NO_QUESTIONS
            ],
            levels=[OptionCount(option=level.value, count=found.levels[level.value]) for level in TrialLevel],
            modules=[
                OptionCount(option=module.value, count=found.modules[module.value]) for module in TrialModule
            ],
            suggestions=[Suggestion(province_code=code, text=text) for code, text in found.improvements],
            missing=[Region.from_row(row) for row in found.missing],
        )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@strawberry.type
class TrialFeedbackMutation:
    @strawberry.mutation(
        description="Submit (or resubmit) your province's trial feedback form (提交试运行意见反馈表)",
        extensions=[REGION_ADMIN],
    )
    async def submit_trial_feedback(self, info: Info, input: TrialFeedbackInput) -> TrialFeedback:
        ctx = info.context
        answers = trial_feedback.FeedbackAnswers(
            organisation=input.organisation,
            form_date=input.form_date,
            contact_name=input.contact_name,
            contact_phone=input.contact_phone,
            organised_trial=input.organised_trial,
            deepest_level=input.deepest_level,
            accounts_login_ok=input.accounts_login_ok,
            modules=tuple(input.modules),
            support_ok=input.support_ok,
            stable=input.stable,
            meets_needs=input.meets_needs,
            improvements=tuple(input.improvements),
        )
        row = await trial_feedback.submit(
            ctx.services, ctx.viewer, input.province_code, answers, ctx.request_id
        )
        return _form(info, row)
