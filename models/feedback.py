"""Trial feedback (试运行意见反馈表): the 8-question form of attachment 1 of the notice.

Each province's civil-affairs admin submits one consolidated form for the province; submitting again replaces
the answers and bumps ``revision`` (every submission is in the audit trail). The contact's phone is personal
data: stored encrypted, masked on read unless the reader may reveal it.
"""

from datetime import date, datetime
from enum import Enum

from sqlalchemy import JSON, LargeBinary
from sqlmodel import Field, SQLModel

from models.columns import enum_field, ref_field, time_field


class TrialLevel(Enum):
    """Question 2: the deepest level the trial reached (试用至哪个层级)."""

    PROVINCE = "PROVINCE"
    CITY = "CITY"
    COUNTY = "COUNTY"


class TrialModule(Enum):
    """Question 4: modules tried (已试用哪些模块)."""

    WEBSITE = "WEBSITE"
    """中国志愿服务网"""
    SYSTEM = "SYSTEM"
    """全国志愿服务信息系统"""
    APP = "APP"
    """中国志愿 APP"""


class TrialFeedback(SQLModel, table=True):
    __tablename__ = "trial_feedback"

    province_code: str = Field(primary_key=True, max_length=12, foreign_key="region.code")
    organisation: str = Field(max_length=100)
    """单位 (the submitting department)."""
    form_date: date
    contact_name: str = Field(max_length=50)
    contact_phone_enc: bytes = Field(sa_type=LargeBinary)
    organised_trial: bool
    """Q1 是否组织系统 2.0 版试用工作"""
    deepest_level: TrialLevel | None = enum_field(None, length=12)
    """Q2 (only when the trial was organised)"""
    accounts_login_ok: bool
    """Q3 各级账号是否可以正常登陆"""
    modules: list[str] = Field(default_factory=list, sa_type=JSON)
    """Q4 TrialModule values (only when the trial was organised)"""
    support_ok: bool
    """Q5 信息系统客服渠道是否畅通"""
    stable: bool
    """Q6 系统 2.0 版运行是否稳定"""
    meets_needs: bool
    """Q7 是否满足现有志愿服务业务需求"""
    improvements: list[str] = Field(default_factory=list, sa_type=JSON)
    """Q8 哪些功能需要继续完善"""
    revision: int = 1
    submitted_by_id: int | None = ref_field("account.id", nullable=True, index=False)
    submitted_at: datetime = time_field(default_now=True)
