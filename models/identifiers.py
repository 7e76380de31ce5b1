"""Exact identifier algorithms: resident ID numbers, unified social credit codes, volunteer numbers.

Pure functions, no database access.

* Resident ID number (公民身份号码, GB 11643-1999): 18 characters ``AAAAAA YYYYMMDD SSS C`` — the area code
  where the number was issued, the birth date, a sequence whose last digit is odd for men and even for
  women, and an ISO 7064 MOD 11-2 check character (``X`` stands for 10). Legacy 15-digit numbers
  (``AAAAAA YYMMDD SSS``) are converted by inserting ``19`` before the year and appending the check
  character. The area code is *not* checked against the region list here: retired codes are never reused
  and stay valid in old numbers, so the caller decides what to accept.
* Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters over
  ``0123456789ABCDEFGHJKLMNPQRTUWXY`` — registering authority (``5`` = civil affairs), kind (for ``5``:
  ``1`` social group, ``2`` social service organisation, ``3`` foundation, ``9`` other), the authority's
  6-digit region code, the 9-character organisation code and a MOD 31 check character.
* Volunteer number (志愿者编号): 14 digits ``CCCCCC NNNNNNNN`` — the 6-digit county code of the volunteer's
  service region followed by an 8-digit, zero-padded sequence counted per county code, e.g.
  ``37010200001234``. It is unique because each county code has its own sequence; registration (and the
  demo generator) takes the next free number of the county. It is public and identifies a volunteer
  instead of the ID number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from models.enums import Sex

ID_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH_YEAR = 1900

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))
SOCIAL_ORGANISATION_PREFIXES = frozenset({"51", "52", "53"})

VOLUNTEER_SEQUENCE_DIGITS = 8
VOLUNTEER_NUMBER_RE = re.compile(r"^\d{6}\d{8}$")

_ID18_RE = re.compile(r"^\d{17}[\dX]$")
_ID15_RE = re.compile(r"^\d{15}$")
_CREDIT_VALUE = {char: value for value, char in enumerate(CREDIT_ALPHABET)}


class IdentifierError(ValueError):
    """An identifier failed validation; ``code`` is a stable machine-readable reason."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


@dataclass(frozen=True)
class ResidentId:
    """A validated 18-character resident ID number and what it encodes."""

    number: str
    area_code: str
    birth_date: date
    sex: Sex


# ---------------------------------------------------------------------------------------------------------
# Resident ID numbers
# ---------------------------------------------------------------------------------------------------------


def resident_id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise IdentifierError("ID_NUMBER_FORMAT", "expected 17 digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def _birth_date(yyyymmdd: str, today: date) -> date:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError as exc:
        raise IdentifierError("ID_NUMBER_BIRTH_DATE", f"{yyyymmdd} is not a date") from exc
    if born.year < EARLIEST_BIRTH_YEAR or born >= today:
        raise IdentifierError("ID_NUMBER_BIRTH_DATE", f"{yyyymmdd} is not a plausible past birth date")
    return born


def normalize_resident_id(raw: str, today: date | None = None) -> ResidentId:
    """Validate an 18-digit (or legacy 15-digit) resident ID number and return it normalised to 18 chars.

    Raises ``IdentifierError`` with code ``ID_NUMBER_FORMAT``, ``ID_NUMBER_CHECKSUM`` or
    ``ID_NUMBER_BIRTH_DATE``. ``today`` (default: the current date) bounds the birth date.
    """
    text = raw.strip().upper()
    if _ID15_RE.fullmatch(text):
        first17 = text[:6] + "19" + text[6:]
        text = first17 + resident_id_check_char(first17)
    elif not _ID18_RE.fullmatch(text):
        raise IdentifierError("ID_NUMBER_FORMAT", "expected 18 characters (17 digits and a digit or X)")
    elif resident_id_check_char(text[:17]) != text[17]:
        raise IdentifierError("ID_NUMBER_CHECKSUM", "the check character does not match")
    if text[0] == "0":
        raise IdentifierError("ID_NUMBER_FORMAT", "an area code never starts with 0")
    born = _birth_date(text[6:14], today or date.today())
    sex = Sex.MALE if int(text[16]) % 2 else Sex.FEMALE
    return ResidentId(number=text, area_code=text[:6], birth_date=born, sex=sex)


def make_resident_id(area6: str, birth: date, seq: int, sex: Sex) -> str:
    """Build a valid number: ``seq`` (0..499) and ``sex`` give the 3-digit sequence (odd 17th digit = male)."""
    if len(area6) != 6 or not area6.isdigit() or area6[0] == "0":
        raise ValueError(f"area code must be 6 digits not starting with 0: {area6!r}")
    if not 0 <= seq < 500:
        raise ValueError(f"seq must be in 0..499: {seq}")
    if sex is Sex.UNKNOWN:
        raise ValueError("a resident ID number encodes MALE or FEMALE")
    sequence = seq * 2 + (1 if sex is Sex.MALE else 0)
    first17 = f"{area6}{birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


# ---------------------------------------------------------------------------------------------------------
# Unified social credit codes
# ---------------------------------------------------------------------------------------------------------


def credit_code_check_char(first17: str) -> str:
    """The MOD 31 check character of the first 17 characters of a credit code."""
    if len(first17) != 17 or any(char not in _CREDIT_VALUE for char in first17):
        raise IdentifierError("CREDIT_CODE_FORMAT", f"expected 17 characters of {CREDIT_ALPHABET}")
    total = sum(_CREDIT_VALUE[char] * weight for char, weight in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(raw: str) -> str:
    """The code normalised to upper case; ``IdentifierError`` CREDIT_CODE_FORMAT / CREDIT_CODE_CHECKSUM."""
    code = raw.strip().upper()
    if len(code) != 18 or any(char not in _CREDIT_VALUE for char in code) or not code[2:8].isdigit():
        raise IdentifierError("CREDIT_CODE_FORMAT", "expected 18 characters with a 6-digit region code")
    if credit_code_check_char(code[:17]) != code[17]:
        raise IdentifierError("CREDIT_CODE_CHECKSUM", "the check character does not match")
    return code


def is_social_organisation(code: str) -> bool:
    """Registered by civil affairs as a social group, social service organisation or foundation."""
    return code[:2] in SOCIAL_ORGANISATION_PREFIXES


def credit_code_region(code: str) -> str:
    """The registering authority's 6-digit region code (positions 3-8)."""
    return code[2:8]


def make_credit_code(authority: str, kind: str, region6: str, org9: str) -> str:
    """Assemble a valid code from its parts, appending the check character."""
    if len(authority) != 1 or len(kind) != 1 or len(org9) != 9:
        raise ValueError("authority and kind are one character, the organisation code nine")
    if len(region6) != 6 or not region6.isdigit():
        raise ValueError(f"region code must be 6 digits: {region6!r}")
    first17 = f"{authority}{kind}{region6}{org9}".upper()
    return first17 + credit_code_check_char(first17)


# ---------------------------------------------------------------------------------------------------------
# Volunteer numbers
# ---------------------------------------------------------------------------------------------------------


def make_volunteer_number(region_code12: str, seq: int) -> str:
    """``<6-digit county code of the service region><8-digit sequence>``, e.g. ``37010200001234``."""
    if len(region_code12) != 12 or not region_code12.isdigit():
        raise ValueError(f"region code must be 12 digits: {region_code12!r}")
    if not 0 < seq < 10**VOLUNTEER_SEQUENCE_DIGITS:
        raise ValueError(f"sequence out of range: {seq}")
    return f"{region_code12[:6]}{seq:0{VOLUNTEER_SEQUENCE_DIGITS}d}"
