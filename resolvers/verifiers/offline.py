"""The local default verifiers, used when no remote endpoint is configured.

They check what can be checked without the government systems:

* identity: the resident ID number's format, check character and birth date (``normalize_resident_id``) and
  that its 6-digit area code is, or once was, a region code. Retired codes are never reused and still appear
  in old ID numbers, so a retired code passes. The area code is looked up as ``area6 + "000000"`` in
  ``region``; county, prefecture and province codes are all accepted (older numbers carry prefecture-level
  codes such as ``110100``).
* legal person: the unified social credit code's format and check character.

Only resident ID numbers can be decided offline (or by the population database). Other ID types
(HK/Macau/Taiwan permits, passports, foreigners' permanent residence IDs) go to manual review
(``UNDER_REVIEW``) at registration and the worker never sends them to a verifier; should one arrive anyway,
the offline verifier answers RETRY with ``ID_TYPE_NEEDS_MANUAL_REVIEW`` rather than guess.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import col

from models.db import SessionFactory
from models.enums import IdType
from models.identifiers import IdentifierError, normalize_resident_id, validate_credit_code
from models.region import Region
from resolvers.verifiers.base import Outcome, Verdict

OFFLINE_PASS_NOTE = "OFFLINE_CHECK"
"""The note of an offline pass: the number is well formed, not confirmed by the population database."""

_KNOWN_AREAS_MAX = 8192


class OfflineIdentityVerifier:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        self._known_areas: set[str] = set()
        """Area codes found in ``region`` (region codes are never reused, so a hit stays true)."""

    async def _area_exists(self, area6: str) -> bool:
        if area6 in self._known_areas:
            return True
        code = area6 + "000000"
        async with self._sessions() as session:
            found = (
                await session.execute(select(col(Region.code)).where(col(Region.code) == code))
            ).scalar_one_or_none()
        if found is None:
            return False
        if len(self._known_areas) < _KNOWN_AREAS_MAX:
            self._known_areas.add(area6)
        return True

    async def verify_identity(self, name: str, id_type: IdType, id_number: str) -> Verdict:
        if id_type != IdType.RESIDENT_ID:  # may arrive as the stored string
            return Verdict(Outcome.RETRY, "ID_TYPE_NEEDS_MANUAL_REVIEW")
        try:
            resident = normalize_resident_id(id_number)
        except IdentifierError as error:
            return Verdict(Outcome.FAILED, error.code)
        if not await self._area_exists(resident.area_code):
            return Verdict(Outcome.FAILED, "AREA_CODE_UNKNOWN")
        return Verdict(Outcome.PASSED, OFFLINE_PASS_NOTE)

    async def aclose(self) -> None:
        """Nothing to release; present so every verifier can be closed the same way."""


class OfflineLegalPersonVerifier:
    async def verify_organisation(self, name: str, credit_code: str) -> Verdict:
        try:
            validate_credit_code(credit_code)
        except IdentifierError as error:
            return Verdict(Outcome.FAILED, error.code)
        return Verdict(Outcome.PASSED, OFFLINE_PASS_NOTE)

    async def aclose(self) -> None:
        """Nothing to release."""
