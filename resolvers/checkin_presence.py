"""Proof that a volunteer is at the project (签到凭证): a short-lived QR token shown by the organiser, or GPS
coordinates inside a sign-in point's radius, checked here on the server (the old system trusted the phone).

QR tokens are HS256 JWTs signed with the access-token keys (named by ``kid``, so key rotation applies) but with
their own audience ``checkin``: an access token is never a QR token and a QR token is never an access token
(it has an audience the access-token check refuses, and no subject). They carry the project id (``prj``) and
optionally the sign-in point (``pt``) and live ``checkin_qr_ttl`` seconds.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import SignInPoint
from models.columns import utcnow
from models.enums import AttendanceMethod
from schema.errors import AppError
from settings import Settings

AUDIENCE = "checkin"
ISSUER = "zhiyuan"
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class Presence:
    method: AttendanceMethod
    latitude: float | None = None
    longitude: float | None = None


def issue_qr(settings: Settings, project_id: int, point_id: int | None) -> tuple[str, datetime]:
    now = utcnow()
    expires = now + timedelta(seconds=settings.checkin_qr_ttl)
    claims: dict[str, object] = {
        "aud": AUDIENCE,
        "iss": ISSUER,
        "prj": project_id,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_urlsafe(8),
    }
    if point_id is not None:
        claims["pt"] = point_id
    kid = settings.jwt_active_kid
    token = jwt.encode(claims, settings.jwt_keys[kid], algorithm="HS256", headers={"kid": kid})
    return token, expires.replace(microsecond=0)


def verify_qr(settings: Settings, token: str, project_id: int) -> None:
    """QR_EXPIRED, QR_INVALID (forged, tampered, not a QR token) or QR_WRONG_PROJECT."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str) or kid not in settings.jwt_keys:
            raise jwt.InvalidTokenError("unknown key")
        claims = jwt.decode(
            token,
            settings.jwt_keys[kid],
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "aud", "iss", "prj"]},
        )
    except jwt.ExpiredSignatureError:
        raise AppError("BAD_USER_INPUT", key="QR_EXPIRED", field="qrToken") from None
    except jwt.InvalidTokenError:
        raise AppError("BAD_USER_INPUT", key="QR_INVALID", field="qrToken") from None
    if claims.get("prj") != project_id:
        raise AppError("BAD_USER_INPUT", key="QR_WRONG_PROJECT", field="qrToken")


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _check_coordinates(latitude: float, longitude: float) -> None:
    finite = math.isfinite(latitude) and math.isfinite(longitude)
    if not finite or not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        raise AppError("BAD_USER_INPUT", key="COORDINATES_FORMAT", field="latitude")


async def presence(
    session: AsyncSession,
    settings: Settings,
    project_id: int,
    qr_token: str | None,
    latitude: float | None,
    longitude: float | None,
) -> Presence:
    """A valid QR token for the project, else coordinates inside some sign-in point's radius (OUT_OF_RANGE with
    the distance to the nearest point and its radius otherwise). With a QR token no coordinates are kept (minimal data)."""
    if qr_token:
        verify_qr(settings, qr_token, project_id)
        return Presence(AttendanceMethod.QR)
    if latitude is None or longitude is None:
        raise AppError("BAD_USER_INPUT", key="LOCATION_REQUIRED", field="qrToken")
    _check_coordinates(latitude, longitude)
    statement = select(SignInPoint).where(col(SignInPoint.project_id) == project_id)
    points = (await session.execute(statement)).scalars().all()
    if not points:
        raise AppError("INVALID_STATE", key="NO_SIGN_IN_POINT", field="latitude")
    distance, radius = min(
        ((distance_m(latitude, longitude, p.latitude, p.longitude), p.radius_m) for p in points),
        key=lambda pair: pair[0] - pair[1],
    )
    if distance > radius:
        raise AppError(
            "BAD_USER_INPUT",
            key="OUT_OF_RANGE",
            field="latitude",
            distance_m=math.ceil(distance),
            radius_m=radius,
        )
    return Presence(AttendanceMethod.GPS, latitude, longitude)
