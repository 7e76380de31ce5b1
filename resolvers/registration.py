"""Volunteer registration (志愿者注册) and real-name review.

* Resident ID numbers must carry a valid check character and a real past birth date; sex and birth date are
  derived from them; 15-digit numbers are converted; area codes that once existed are accepted. They start
  PENDING and the verification worker checks them against the population database (resolvers/verifiers).
* Other documents (HK/Macau/Taiwan permits, passports) go to manual review (UNDER_REVIEW), decided by the
  admins of the volunteer's region.
* Minors follow the configurable age rules in settings (guardian details and consent below 18 unless
  self-supporting from 16; refused below the minimum age).
* A duplicate ID number gives DUPLICATE_IDENTITY without revealing the existing account; two concurrent
  registrations with one number: the unique blind index lets exactly one win.
* Nothing is written unless every check passes; the account, the volunteer and the number are one transaction.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from auth.scope import scope
from auth.viewer import Viewer
from models import Account, AuditEvent, Volunteer
from models.columns import utcnow
from models.enums import IdType, InviteConsent, RealNameStatus, Sex
from models.identifiers import IdentifierError, normalize_resident_id
from resolvers.credentials import check_password, check_username
from resolvers.people import age_on, area_code_known, check_mobile, check_name, service_region
from resolvers.rollout import ensure_live
from resolvers.volunteer_numbers import next_volunteer_number
from schema.context import Services
from schema.errors import AppError

OTHER_ID = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789()-")


@dataclass(frozen=True)
class Guardian:
    name: str
    phone: str
    relation: str
    consent: bool


@dataclass(frozen=True)
class NewVolunteer:
    name: str
    id_type: IdType
    id_number: str
    phone: str
    username: str
    password: str
    region_code: str
    residence_region_code: str | None = None
    skills: list[str] = field(default_factory=list)
    availability: str = ""
    invite_consent: InviteConsent = InviteConsent.ASK
    birth_date: date | None = None
    sex: Sex | None = None
    self_supporting: bool = False
    guardian: Guardian | None = None


@dataclass(frozen=True)
class Identity:
    number: str
    birth_date: date
    sex: Sex
    status: RealNameStatus


def _identity(new: NewVolunteer, today: date) -> Identity:
    if new.id_type is IdType.RESIDENT_ID:
        try:
            resident = normalize_resident_id(new.id_number, today)
        except IdentifierError as error:
            raise AppError("BAD_USER_INPUT", key=error.code, field="idNumber") from None
        return Identity(resident.number, resident.birth_date, resident.sex, RealNameStatus.PENDING)
    number = new.id_number.strip().upper()
    if not 5 <= len(number) <= 30 or not set(number) <= OTHER_ID:
        raise AppError("BAD_USER_INPUT", key="ID_NUMBER_FORMAT", field="idNumber")
    if new.birth_date is None or new.birth_date >= today:
        raise AppError("BAD_USER_INPUT", key="ID_NUMBER_BIRTH_DATE", field="birthDate")
    return Identity(number, new.birth_date, new.sex or Sex.UNKNOWN, RealNameStatus.UNDER_REVIEW)


def _check_age(services: Services, new: NewVolunteer, birth: date, today: date) -> None:
    rules, age = services.settings, age_on(birth, today)
    if age < rules.min_age_accepted:
        raise AppError("BAD_USER_INPUT", key="TOO_YOUNG", field="idNumber")
    free = age >= rules.min_age_free or (new.self_supporting and age >= rules.min_age_self_supporting)
    if free:
        return
    if new.guardian is None:
        raise AppError("BAD_USER_INPUT", key="GUARDIAN_REQUIRED", field="guardian")
    check_name(new.guardian.name, "guardian.name")
    check_mobile(new.guardian.phone, "guardian.phone")
    if not new.guardian.consent:
        raise AppError("BAD_USER_INPUT", key="GUARDIAN_CONSENT_REQUIRED", field="guardian.consent")


async def register_volunteer(services: Services, new: NewVolunteer) -> tuple[int, Volunteer]:
    """Validates everything, then writes account + volunteer in one transaction; returns (account id, row)."""
    today = date.today()
    name = check_name(new.name)
    identity = _identity(new, today)
    phone = check_mobile(new.phone)
    check_username(new.username)
    check_password(new.password)
    _check_age(services, new, identity.birth_date, today)
    cipher = services.cipher
    id_hash = cipher.blind_index(identity.number)
    password_hash = await asyncio.to_thread(services.passwords.hash, new.password)
    try:
        async with services.writes() as session, session.begin():
            region = await service_region(session, new.region_code, "regionCode")
            if new.residence_region_code:
                await service_region(session, new.residence_region_code, "residenceRegionCode")
            if new.id_type is IdType.RESIDENT_ID and not await area_code_known(session, identity.number[:6]):
                raise AppError("BAD_USER_INPUT", key="ID_AREA_UNKNOWN", field="idNumber")
            await ensure_live(session, region.code, services.settings.default_province_status)
            taken = select(col(Account.id)).where(col(Account.username_key) == new.username.lower())
            if (await session.execute(taken)).first():
                raise AppError("BAD_USER_INPUT", key="USERNAME_TAKEN", field="username")
            known = select(col(Volunteer.id)).where(col(Volunteer.id_number_hash) == id_hash)
            if (await session.execute(known)).first():
                raise AppError("BAD_USER_INPUT", key="DUPLICATE_IDENTITY", field="idNumber")
            account = Account(
                username=new.username,
                username_key=new.username.lower(),
                password_hash=password_hash,
                display_name=name,
            )
            session.add(account)
            await session.flush()
            guardian = (
                new.guardian if age_on(identity.birth_date, today) < services.settings.min_age_free else None
            )
            volunteer = Volunteer(
                account_id=account.id,
                volunteer_number=await next_volunteer_number(session, region.code),
                name=name,
                id_type=new.id_type,
                id_number_enc=cipher.encrypt(identity.number, "volunteer.id_number"),
                id_number_hash=id_hash,
                birth_date=identity.birth_date,
                sex=identity.sex,
                phone_enc=cipher.encrypt(phone, "volunteer.phone"),
                phone_hash=cipher.blind_index(phone),
                real_name_status=identity.status,
                verification_next_at=utcnow() if identity.status is RealNameStatus.PENDING else None,
                region_code=region.code,
                residence_region_code=new.residence_region_code or region.code,
                skills=[s.strip() for s in new.skills if s.strip()][:20],
                availability=new.availability.strip()[:200],
                invite_consent=new.invite_consent,
                guardian_name=guardian.name.strip() if guardian else None,
                guardian_phone_enc=cipher.encrypt(guardian.phone, "volunteer.guardian_phone")
                if guardian
                else None,
                guardian_relation=guardian.relation.strip()[:20] if guardian else None,
                guardian_consent_at=utcnow() if guardian else None,
            )
            session.add(volunteer)
            await session.flush()
    except IntegrityError:
        # a concurrent registration won the race on the unique username or ID-number index
        async with services.sessions() as session:
            taken = select(col(Account.id)).where(col(Account.username_key) == new.username.lower())
            clash = "USERNAME_TAKEN" if (await session.execute(taken)).first() else "DUPLICATE_IDENTITY"
        raise AppError(
            "BAD_USER_INPUT", key=clash, field="username" if clash == "USERNAME_TAKEN" else "idNumber"
        ) from None
    assert account.id is not None
    return account.id, volunteer


async def review_real_name(
    services: Services, viewer: Viewer, volunteer_id: int, approve: bool, note: str, request_id: str
) -> Volunteer:
    """Manual real-name decision by an admin of the volunteer's region (documents other than resident IDs,
    and resident IDs the verifier failed)."""
    async with services.writes() as session, session.begin():
        statement = scope(select(Volunteer).where(col(Volunteer.id) == volunteer_id), Volunteer, viewer)
        volunteer = (await session.execute(statement.with_for_update())).scalar_one_or_none()
        if volunteer is None:
            raise AppError("NOT_FOUND", field="volunteerId")
        if not viewer.administers_region(volunteer.region_code):
            raise AppError("FORBIDDEN", field="volunteerId")
        if volunteer.real_name_status not in (RealNameStatus.UNDER_REVIEW, RealNameStatus.FAILED):
            raise AppError("INVALID_STATE", field="volunteerId")
        if not approve and not note.strip():
            raise AppError("BAD_USER_INPUT", key="REASON_REQUIRED", field="note")
        volunteer.real_name_status = RealNameStatus.PASSED if approve else RealNameStatus.FAILED
        volunteer.verification_note = note.strip()[:200]
        volunteer.updated_at = utcnow()
        session.add(
            AuditEvent(
                actor_id=viewer.account_id,
                action="REAL_NAME_" + ("APPROVED" if approve else "REJECTED"),
                subject_type="Volunteer",
                subject_id=volunteer.id,
                region_code=volunteer.region_code,
                request_id=request_id,
                detail={"note": volunteer.verification_note},
            )
        )
    return volunteer
