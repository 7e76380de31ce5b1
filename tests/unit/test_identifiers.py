"""Identifier algorithms: published vectors, tampering, impossible dates and round trips."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from models.enums import Sex
from models.identifiers import (
    CREDIT_ALPHABET,
    VOLUNTEER_NUMBER_RE,
    IdentifierError,
    credit_code_check_char,
    credit_code_region,
    is_social_organisation,
    make_credit_code,
    make_resident_id,
    make_volunteer_number,
    normalize_resident_id,
    resident_id_check_char,
    validate_credit_code,
)

TODAY = date(2026, 3, 17)
ID_VECTORS = ["11010519491231002X", "360426199101010071", "110101199003078515"]
CREDIT_VECTORS = ["91110000600037341L", "91350100M000100Y43"]


def _error_code(raw: str, today: date = TODAY) -> str:
    with pytest.raises(IdentifierError) as caught:
        normalize_resident_id(raw, today)
    return caught.value.code


# --- resident ID numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ID_VECTORS)
def test_resident_id_vectors(number: str) -> None:
    assert resident_id_check_char(number[:17]) == number[17]
    parsed = normalize_resident_id(number, TODAY)
    assert parsed.number == number
    assert parsed.area_code == number[:6]


def test_resident_id_fields() -> None:
    parsed = normalize_resident_id("11010519491231002X", TODAY)
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex is Sex.FEMALE
    male = normalize_resident_id("360426199101010071", TODAY)
    assert (male.area_code, male.birth_date, male.sex) == ("360426", date(1991, 1, 1), Sex.MALE)


def test_lower_case_x_and_whitespace_are_normalised() -> None:
    assert normalize_resident_id(" 11010519491231002x ", TODAY).number == "11010519491231002X"


@pytest.mark.parametrize("number", ID_VECTORS)
def test_flipped_check_char_is_rejected(number: str) -> None:
    for wrong in "0123456789X":
        if wrong != number[17]:
            assert _error_code(number[:17] + wrong) == "ID_NUMBER_CHECKSUM"


def test_changed_digit_is_rejected() -> None:
    number = "360426199101010071"
    for position in range(17):
        digit = str((int(number[position]) + 1) % 10)
        tampered = number[:position] + digit + number[position + 1 :]
        assert _error_code(tampered) in {"ID_NUMBER_CHECKSUM", "ID_NUMBER_FORMAT"}


@pytest.mark.parametrize(
    "raw", ["", "1101051949123100", "11010519491231002Y", "1101051949123100XX", "ABCDEF199101010071"]
)
def test_malformed_numbers(raw: str) -> None:
    assert _error_code(raw) == "ID_NUMBER_FORMAT"


def _with_check(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


@pytest.mark.parametrize("birth", ["19900230", "19901301", "19900000", "18991231", "20260317", "20300101"])
def test_impossible_or_future_birth_dates(birth: str) -> None:
    assert _error_code(_with_check(f"110101{birth}123")) == "ID_NUMBER_BIRTH_DATE"


def test_birth_date_bound_follows_today() -> None:
    number = _with_check("110101202603160011"[:17])
    assert normalize_resident_id(number, TODAY).birth_date == date(2026, 3, 16)
    assert _error_code(number, date(2026, 3, 16)) == "ID_NUMBER_BIRTH_DATE"


def test_fifteen_digit_legacy_numbers() -> None:
    parsed = normalize_resident_id("110105491231002", TODAY)
    assert parsed.number == "11010519491231002X"
    assert parsed.birth_date == date(1949, 12, 31)
    assert normalize_resident_id("360426910101007", TODAY).number == "360426199101010071"
    assert _error_code("110105490230002") == "ID_NUMBER_BIRTH_DATE"


def test_retired_area_codes_are_accepted() -> None:
    chongwen = _with_check("11010319800101001")  # 崇文区, merged into 东城区 in 2010
    assert normalize_resident_id(chongwen, TODAY).area_code == "110103"


def test_make_resident_id_round_trip() -> None:
    rng = random.Random(11643)
    for _ in range(2000):
        area = f"{rng.randint(11, 82)}{rng.randint(0, 9999):04d}"
        birth = date(1900, 1, 1) + timedelta(days=rng.randint(0, (TODAY - date(1900, 1, 2)).days))
        seq = rng.randint(0, 499)
        sex = rng.choice([Sex.MALE, Sex.FEMALE])
        number = make_resident_id(area, birth, seq, sex)
        parsed = normalize_resident_id(number.lower(), TODAY)
        assert (parsed.number, parsed.area_code, parsed.birth_date, parsed.sex) == (number, area, birth, sex)


def test_make_resident_id_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        make_resident_id("110101", date(1990, 1, 1), 500, Sex.MALE)
    with pytest.raises(ValueError):
        make_resident_id("11010", date(1990, 1, 1), 1, Sex.MALE)
    with pytest.raises(ValueError):
        make_resident_id("110101", date(1990, 1, 1), 1, Sex.UNKNOWN)


# --- unified social credit codes ----------------------------------------------------------------------


@pytest.mark.parametrize("code", CREDIT_VECTORS)
def test_credit_code_vectors(code: str) -> None:
    assert credit_code_check_char(code[:17]) == code[17]
    assert validate_credit_code(code.lower()) == code
    assert not is_social_organisation(code)


def test_credit_code_parts() -> None:
    assert credit_code_region("91350100M000100Y43") == "350100"
    code = make_credit_code("5", "2", "370102", "MJD123456")
    assert is_social_organisation(code)
    assert credit_code_region(code) == "370102"


@pytest.mark.parametrize("code", CREDIT_VECTORS)
def test_credit_code_tampering(code: str) -> None:
    for wrong in CREDIT_ALPHABET:
        if wrong != code[17]:
            with pytest.raises(IdentifierError) as caught:
                validate_credit_code(code[:17] + wrong)
            assert caught.value.code == "CREDIT_CODE_CHECKSUM"
    for position in range(8, 17):
        replacement = "Q" if code[position] != "Q" else "R"
        with pytest.raises(IdentifierError) as caught:
            validate_credit_code(code[:position] + replacement + code[position + 1 :])
        assert caught.value.code == "CREDIT_CODE_CHECKSUM"


@pytest.mark.parametrize(
    "raw", ["", "91110000600037341", "91110000600037341LL", "9111000060003734IL", "91ABCDEF600037341L"]
)
def test_credit_code_format(raw: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        validate_credit_code(raw)
    assert caught.value.code == "CREDIT_CODE_FORMAT"


def test_make_credit_code_round_trip() -> None:
    rng = random.Random(32100)
    for _ in range(2000):
        kind = rng.choice("1239")
        region = f"{rng.randint(11, 65)}{rng.randint(0, 9999):04d}"
        org = "".join(rng.choice(CREDIT_ALPHABET) for _ in range(9))
        code = make_credit_code("5", kind, region, org)
        assert validate_credit_code(code) == code
        assert code[:17] == f"5{kind}{region}{org}"
        assert is_social_organisation(code) == (kind in "123")
        assert credit_code_region(code) == region


# --- volunteer numbers ---------------------------------------------------------------------------------


def test_volunteer_number_format() -> None:
    assert make_volunteer_number("370102001000", 1234) == "37010200001234"
    rng = random.Random(2021)
    for _ in range(500):
        region = f"{rng.randint(11, 65)}{rng.randint(0, 10**10 - 1):010d}"
        seq = rng.randint(1, 10**8 - 1)
        number = make_volunteer_number(region, seq)
        assert VOLUNTEER_NUMBER_RE.fullmatch(number)
        assert (number[:6], int(number[6:])) == (region[:6], seq)


def test_volunteer_number_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        make_volunteer_number("3701", 1)
    with pytest.raises(ValueError):
        make_volunteer_number("370102000000", 10**8)
