"""Exports (导出): a scoped list or a statistics report as CSV or XLSX, through a short-lived signed link.

``create_export`` (the ``createExport`` mutation, after the list field's own permission extensions have run)
validates the filter and the columns, counts the rows through ``scope()`` against the viewer's row limit,
writes the audit events (EXPORT, and REVEAL_<kind> when sensitive columns are to be revealed) and signs a
link. Nothing is stored besides the audit events: the link's token carries the export's spec.

``GET /exports/<token>`` (``download``) verifies the token, re-derives the viewer from the account's live
grants (a disabled account or a revoked grant stops the export), re-checks the list field's permissions,
writes an EXPORT_DOWNLOAD event and streams the rows in keyset batches through ``scope()``
(resolvers/export_formats.py writes them).

The token is an HS256 JWT (``aud`` ``zhiyuan-export``) signed with a key *derived* from the access-token key
of the same ``kid``, so an export link can never pass as an access token nor the reverse; it names the
account (``sub``) and expires after ``export_link_ttl`` seconds. A request that carries a bearer token of
another account is refused; one without a bearer token is served (the link itself is the short-lived
credential, so a browser can follow it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import jwt
from sqlalchemy import func, select
from sqlmodel import SQLModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from auth.accounts import viewer_for
from auth.jurisdiction import REGION_CODE
from auth.scope import scope
from auth.viewer import ANONYMOUS, Viewer
from loaders.filtering import apply
from loaders.team_contacts import TeamContacts
from models import Account
from models.enums import AccountStatus, Role
from resolvers import statistics as stats
from resolvers.audit import audit_event
from resolvers.export_columns import LISTS, Column, ListSpec
from resolvers.export_formats import Batch, Cell, cell, csv_stream, xlsx_stream
from resolvers.export_report import cells as report_cells
from resolvers.export_report import headers as report_headers
from schema.context import Services
from schema.directives import SensitiveKind
from schema.errors import AppError
from schema.permissions import mask

AUDIENCE = "zhiyuan-export"
BATCH_ROWS = 1000
MAX_TEXT = 100
STATISTICS = "statistics"
MEDIA_TYPES = {
    "CSV": "text/csv; charset=utf-8",
    "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_HIDDEN = (SensitiveKind.LOCATION, SensitiveKind.BIRTH_DATE)
"""Kinds that are left empty rather than masked, as ``@sensitive`` returns null for them."""


@dataclass(frozen=True)
class ExportSpec:
    """What to export: a root list with its filter items, or a statistics request; the file's shape."""

    source: str
    format: str
    locale: str = "zh"
    where: tuple[tuple[str, Any], ...] = ()
    columns: tuple[str, ...] = ()
    reveal: bool = False
    report: stats.Request | None = None


@dataclass(frozen=True)
class Ticket:
    token: str
    url: str
    expires_at: datetime
    rows: int
    filename: str
    columns: list[str] = field(default_factory=list)


class LinkError(Exception):
    """A download link that cannot be served: ``code`` (and ``reason``) for the client, with an HTTP status."""

    def __init__(self, status: int, code: str, reason: str | None = None) -> None:
        super().__init__(reason or code)
        self.status, self.code, self.reason = status, code, reason


# --- row limits ------------------------------------------------------------------------------------------

_LEVELS = {2: "province", 4: "city", 6: "county", 9: "township"}


def row_limit(viewer: Viewer, limits: dict[str, int]) -> int:
    """The most rows one export may hold: the limit of the viewer's widest role."""
    roles: list[str] = []
    if viewer.is_ministry:
        roles.append("ministry")
    roles += [_LEVELS.get(len(p), "township") for p in viewer.region_prefixes]
    if viewer.team_ids:
        roles.append("team")
    if viewer.volunteer_id is not None or not roles:
        roles.append("volunteer")
    return max(limits.get(role, 0) for role in roles)


# --- validation -----------------------------------------------------------------------------------------


def _validate_where(where: tuple[tuple[str, Any], ...], path: str) -> None:
    items = dict(where)
    for name, value in where:
        where_ = f"{path}.{_camel(name)}"
        if (name == "region" or name.endswith("_region")) and not REGION_CODE.match(str(value)):
            raise AppError("BAD_USER_INPUT", key="REGION_UNKNOWN", field=where_)
        if name.endswith("_contains") and len(str(value)) > MAX_TEXT:
            raise AppError("BAD_USER_INPUT", key="TEXT_TOO_LONG", field=where_, max=MAX_TEXT)
        if name.endswith("_after"):
            before = items.get(name.removesuffix("_after") + "_before")
            if before is not None and value >= before:
                raise AppError("BAD_USER_INPUT", key="BAD_PERIOD", field=where_)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def chosen_columns(spec: ListSpec, names: tuple[str, ...]) -> tuple[Column, ...]:
    if not names:
        return tuple(c for c in spec.columns if c.default)
    known = spec.by_name()
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name not in known:
            raise AppError("BAD_USER_INPUT", key="UNKNOWN_COLUMN", field=f"input.columns[{i}]", column=name)
        if name in seen:
            raise AppError("BAD_USER_INPUT", key="DUPLICATE_COLUMN", field=f"input.columns[{i}]", column=name)
        seen.add(name)
    return tuple(known[n] for n in names)


# --- the link -------------------------------------------------------------------------------------------


def _key(services: Services, kid: str) -> bytes:
    return hmac.new(services.settings.jwt_keys[kid], b"zhiyuan export link v1", hashlib.sha256).digest()


def _pack(value: Any) -> list[Any]:
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    if isinstance(value, Decimal):
        return ["n", str(value)]
    if isinstance(value, tuple | list):
        return ["l", list(value)]
    return ["v", value]


def _unpack(tag: str, value: Any) -> Any:
    match tag:
        case "t":
            return datetime.fromisoformat(value)
        case "d":
            return date.fromisoformat(value)
        case "n":
            return Decimal(value)
        case "l":
            return tuple(value)
    return value


def _report_claim(request: stats.Request) -> dict[str, Any]:
    return {
        "measure": request.measure.value,
        "group_by": [d.value for d in request.group_by],
        **{
            k: _pack(getattr(request, k))
            for k in ("region", "from_", "to", "category", "team_id", "descending", "limit", "having")
        },
    }


def _report_from(claim: dict[str, Any]) -> stats.Request:
    values = {k: _unpack(*v) for k, v in claim.items() if k not in ("measure", "group_by")}
    return stats.Request(
        measure=stats.Measure(claim["measure"]),
        group_by=tuple(stats.Dimension(d) for d in claim["group_by"]),
        **values,
    )


def issue_link(services: Services, viewer: Viewer, spec: ExportSpec, jti: str, now: datetime) -> str:
    settings = services.settings
    claims: dict[str, Any] = {
        "iss": "zhiyuan",
        "aud": AUDIENCE,
        "sub": str(viewer.account_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=settings.export_link_ttl)).timestamp()),
        "jti": jti,
        "src": spec.source,
        "fmt": spec.format,
        "lc": spec.locale,
        "f": [[name, *_pack(value)] for name, value in spec.where],
        "c": list(spec.columns),
        "rv": spec.reveal,
    }
    if spec.report is not None:
        claims["st"] = _report_claim(spec.report)
    kid = settings.jwt_active_kid
    return jwt.encode(claims, _key(services, kid), algorithm="HS256", headers={"kid": kid})


def read_link(services: Services, token: str) -> tuple[int, str, ExportSpec]:
    """``(account id, jti, spec)`` of a valid link; LinkError when expired, forged or malformed."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str) or kid not in services.settings.jwt_keys:
            raise LinkError(401, "EXPORT_LINK_INVALID")
        claims = jwt.decode(
            token,
            _key(services, kid),
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer="zhiyuan",
            options={"require": ["exp", "sub", "jti", "aud"]},
        )
        spec = ExportSpec(
            source=claims["src"],
            format=claims["fmt"],
            locale=claims["lc"],
            where=tuple((name, _unpack(tag, value)) for name, tag, value in claims["f"]),
            columns=tuple(claims["c"]),
            reveal=bool(claims["rv"]),
            report=_report_from(claims["st"]) if "st" in claims else None,
        )
        if spec.format not in MEDIA_TYPES or (spec.source not in LISTS and spec.report is None):
            raise LinkError(401, "EXPORT_LINK_INVALID")
        return int(claims["sub"]), str(claims["jti"]), spec
    except jwt.ExpiredSignatureError:
        raise LinkError(410, "EXPORT_LINK_EXPIRED") from None
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        raise LinkError(401, "EXPORT_LINK_INVALID") from None


# --- rows -----------------------------------------------------------------------------------------------


def _statement(spec: ListSpec, viewer: Viewer, where: tuple[tuple[str, Any], ...], columns: list[str]) -> Any:
    table: Any = spec.model.__table__  # type: ignore[attr-defined]
    return scope(apply(select(*(table.c[n] for n in columns)), spec.model, where), spec.model, viewer)


def _primary_key(model: type[SQLModel]) -> Any:
    (pk,) = model.__table__.primary_key.columns  # type: ignore[attr-defined]
    return pk


async def count_rows(services: Services, viewer: Viewer, spec: ListSpec, where: Any, cap: int) -> int:
    """Rows the export would hold, counted up to ``cap`` (one more than the limit is enough to refuse)."""
    pk = _primary_key(spec.model)
    inner = _statement(spec, viewer, where, [pk.name]).limit(cap).subquery()
    async with services.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(inner))).scalar_one())


class _Renderer:
    """A row's cells, sensitive ones masked unless the data is the viewer's own or may be revealed."""

    def __init__(
        self,
        services: Services,
        viewer: Viewer,
        spec: ListSpec,
        chosen: tuple[Column, ...],
        sources: list[str],
        export: ExportSpec,
    ) -> None:
        self.viewer, self.spec, self.reveal, self.locale = viewer, spec, export.reveal, export.locale
        at = {name: i for i, name in enumerate(sources)}
        self.readers = [(c.reader(at[c.column], services.cipher), c.sensitive) for c in chosen]
        self.region_at = at.get("region_code")
        self.sensitive = any(c.sensitive for c in chosen)
        self.phones = any(c.sensitive is SensitiveKind.PHONE for c in chosen)
        self.sessions = services.sessions
        self._may: dict[str | None, bool] = {}

    def _reveals(self, row: Any) -> bool:
        owner = self.spec.owner(row)
        if owner is not None and owner == self.viewer.volunteer_id:
            return True
        if not self.reveal:
            return False
        region = None if self.region_at is None else row[self.region_at]
        if region not in self._may:
            self._may[region] = self.viewer.can_reveal_in(region)
        return self._may[region]

    async def contacts(self, rows: Sequence[Any]) -> set[int]:
        """Of a batch, the volunteers whose phones a revealing team admin may see (the team-contacts rule of
        ``@sensitive(kind: PHONE)``): one query per batch, a fresh loader each time so nothing accumulates."""
        if not (self.reveal and self.viewer.is_team_admin and self.phones):
            return set()
        owners = [o for o in (self.spec.owner(r) for r in rows) if o is not None]
        found = await TeamContacts(self.sessions, self.viewer).load_many(owners)
        return {o for o, ok in zip(owners, found, strict=True) if ok}

    def __call__(self, row: Any, contacts: set[int]) -> list[Cell]:
        locale = self.locale
        if not self.sensitive:
            return [cell(read(row), locale) for read, _ in self.readers]
        reveals = self._reveals(row)
        phone = reveals or (bool(contacts) and self.spec.owner(row) in contacts)
        cells: list[Cell] = []
        for read, kind in self.readers:
            value = read(row)
            if (
                kind is not None
                and value is not None
                and not (phone if kind is SensitiveKind.PHONE else reveals)
            ):
                value = None if kind in _HIDDEN else mask(str(value), kind)
            cells.append(cell(value, locale))
        return cells


async def list_batches(
    services: Services, viewer: Viewer, spec: ListSpec, export: ExportSpec, batch_rows: int = BATCH_ROWS
) -> AsyncIterator[Batch]:
    """The rows in primary-key order from ONE statement read through a server-side cursor (``yield_per``:
    asyncpg's cursor, sqlite's stepwise fetch), ``batch_rows`` at a time, so memory holds one batch whatever
    the row count. (Keyset pages — ``WHERE pk > last`` — were tried first: with a filter on another indexed
    column each page re-reads the filtered range, quadratic on a million rows.)"""
    chosen = chosen_columns(spec, export.columns)
    sources = spec.sources(chosen)
    render = _Renderer(services, viewer, spec, chosen, sources, export)
    pk = _primary_key(spec.model)
    statement = _statement(spec, viewer, export.where, sources).order_by(pk)
    async with services.sessions() as session:
        result = await session.stream(statement.execution_options(yield_per=batch_rows))
        async for rows in result.partitions(batch_rows):
            contacts = await render.contacts(rows)
            yield [render(r, contacts) for r in rows]


async def run_report(services: Services, viewer: Viewer, request: stats.Request) -> stats.Result:
    from schema.types.registry import global_id

    try:
        return await stats.statistics(services.sessions, viewer, request, global_id)
    except stats.StatisticsInputError as error:
        field_ = "input.source.statistics" + error.field.removeprefix("input")
        raise AppError("BAD_USER_INPUT", key=error.reason, field=field_, **error.params) from None


async def report_batches(services: Services, viewer: Viewer, export: ExportSpec) -> AsyncIterator[Batch]:
    assert export.report is not None
    result = await run_report(services, viewer, export.report)
    yield [report_cells(row, export.locale) for row in result.rows]


# --- creating -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Subject:
    id: int | None
    region_code: str | None


def _audit_region(viewer: Viewer, where: tuple[tuple[str, Any], ...]) -> str | None:
    """The events' region: the filter's region, else the viewer's own region grant (so region admins see
    their exports in auditEvents); None for the ministry."""
    region = dict(where).get("region")
    if isinstance(region, str):
        return region
    codes = sorted(
        g.region_code for g in viewer.grants if g.region_code and g.role is not Role.MINISTRY_ADMIN
    )
    return codes[0] if codes and not viewer.is_ministry else None


def filename(export: ExportSpec, now: datetime) -> tuple[str, str]:
    """``(ascii, localised)`` file names, e.g. ``volunteers-20261129-2148.csv`` / ``志愿者-20261129-2148.csv``."""
    stamp = now.astimezone(UTC) + timedelta(hours=8)
    suffix = f"-{stamp:%Y%m%d-%H%M%S}.{export.format.lower()}"
    if export.report is not None:
        return f"statistics{suffix}", ("statistics" if export.locale == "en" else "统计报表") + suffix
    spec = LISTS[export.source]
    return spec.en.replace(" ", "-") + suffix, (spec.en if export.locale == "en" else spec.zh) + suffix


async def create_export(
    services: Services, viewer: Viewer, export: ExportSpec, request_id: str, base_url: str
) -> Ticket:
    may_reveal = any(g.can_reveal for g in viewer.grants)
    if export.reveal and not (may_reveal or viewer.is_team_admin):
        raise AppError("FORBIDDEN", key="REVEAL_NOT_ALLOWED", field="input.reveal")
    limit = row_limit(viewer, services.settings.export_row_limits)
    revealed: list[str] = []
    if export.report is not None:
        if export.columns:
            raise AppError("BAD_USER_INPUT", key="COLUMNS_NOT_FOR_REPORT", field="input.columns")
        rows = len((await run_report(services, viewer, export.report)).rows)
        headers = report_headers(export.report, export.locale)
        detail_filter: dict[str, Any] = {
            k: v[1] for k, v in _report_claim(export.report).items() if k != "group_by"
        }
        detail_filter["group_by"] = [d.value for d in export.report.group_by]
    else:
        spec = LISTS[export.source]
        _validate_where(export.where, f"input.source.{_camel(export.source)}")
        chosen = chosen_columns(spec, export.columns)
        rows = await count_rows(services, viewer, spec, export.where, limit + 1)
        headers = [c.header(export.locale) for c in chosen]
        detail_filter = {_camel(k): _pack(v)[1] for k, v in export.where}
        if export.reveal:  # a team admin without a reveal grant reveals only phones (team contacts)
            kinds = {c.sensitive for c in chosen if c.sensitive is not None}
            revealed = sorted(k.value for k in kinds if may_reveal or k is SensitiveKind.PHONE)
    if rows > limit:
        raise AppError("EXPORT_ROW_LIMIT", field="input.source", max=limit)
    now = datetime.now(UTC)
    jti = secrets.token_urlsafe(12)
    token = issue_link(services, viewer, export, jti, now)
    subject = _Subject(None, _audit_region(viewer, export.where))
    detail = {
        "list": _camel(export.source),
        "filter": detail_filter,
        "format": export.format,
        "columns": headers,
        "rows": rows,
        "reveal": revealed,
        "export": jti,
    }
    events = [audit_event(viewer, "EXPORT", subject, request_id, detail, subject="Export")]
    events += [
        audit_event(viewer, f"REVEAL_{kind}", subject, request_id, detail, subject="Export")
        for kind in revealed
    ]
    async with services.writes() as session, session.begin():
        session.add_all(events)
    ascii_name, _ = filename(export, now)
    return Ticket(
        token=token,
        url=f"{base_url}/exports/{token}",
        expires_at=now + timedelta(seconds=services.settings.export_link_ttl),
        rows=rows,
        filename=ascii_name,
        columns=headers,
    )


# --- downloading ----------------------------------------------------------------------------------------

PermissionCheck = Callable[[str, Viewer], Awaitable[bool]]


async def live_viewer(services: Services, account_id: int) -> Viewer:
    async with services.sessions() as session:
        account = await session.get(Account, account_id)
        if account is None or account.status != AccountStatus.ACTIVE:
            raise LinkError(401, "UNAUTHENTICATED", "ACCOUNT_DISABLED")
        return await viewer_for(session, account)


async def open_download(
    services: Services, token: str, bearer: Viewer, request_id: str, permitted: PermissionCheck
) -> tuple[ExportSpec, AsyncIterator[bytes], tuple[str, str]]:
    """Checks a link and returns ``(spec, body, (ascii, localised) file names)``; LinkError when refused."""
    account_id, jti, export = read_link(services, token)
    if bearer.is_authenticated and bearer.account_id != account_id:
        raise LinkError(403, "FORBIDDEN", "EXPORT_OTHER_ACCOUNT")
    viewer = await live_viewer(services, account_id)
    if not await permitted(export.source, viewer):
        raise LinkError(403, "FORBIDDEN")
    if export.report is not None:
        headers = report_headers(export.report, export.locale)
        batches = report_batches(services, viewer, export)
        region = None
    else:
        spec = LISTS[export.source]
        headers = [c.header(export.locale) for c in chosen_columns(spec, export.columns)]
        batches = list_batches(services, viewer, spec, export)
        region = _audit_region(viewer, export.where)
    await _write_event(
        services,
        viewer,
        request_id,
        region,
        {"export": jti, "list": _camel(export.source), "format": export.format},
    )
    body = csv_stream(headers, batches) if export.format == "CSV" else xlsx_stream(headers, batches)
    return export, body, filename(export, datetime.now(UTC))


async def _write_event(
    services: Services, viewer: Viewer, request_id: str, region: str | None, detail: dict[str, Any]
) -> None:
    event = audit_event(
        viewer, "EXPORT_DOWNLOAD", _Subject(None, region), request_id, detail, subject="Export"
    )
    async with services.writes() as session, session.begin():
        session.add(event)


def content_disposition(ascii_name: str, name: str) -> str:
    """RFC 6266 with the RFC 5987 ``filename*`` for the Chinese name, and a plain ASCII fallback."""
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


# --- the route ------------------------------------------------------------------------------------------


def _refusal(error: LinkError, locale: str) -> Response:
    from schema.messages import message

    extensions = {"code": error.code} | ({"reason": error.reason} if error.reason else {})
    body = {"errors": [{"message": message(error.reason or error.code, locale), "extensions": extensions}]}
    return JSONResponse(body, status_code=error.status, headers={"cache-control": "no-store"})


async def download_route(request: Request) -> Response:
    """``GET /exports/<token>``: the file, streamed; a JSON error with a code when the link is refused."""
    from schema.exports import field_permitted
    from schema.messages import locale_from
    from schema.observability import request_id

    services: Services = request.app.state.services
    bearer = getattr(request.user, "viewer", ANONYMOUS)
    try:
        export, body, (ascii_name, name) = await open_download(
            services, request.path_params["token"], bearer, request_id.get(), field_permitted
        )
    except LinkError as error:
        return _refusal(error, locale_from(request.headers.get("accept-language")))
    headers = {
        "content-disposition": content_disposition(ascii_name, name),
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
    }
    return StreamingResponse(body, media_type=MEDIA_TYPES[export.format], headers=headers)


ROUTES = [Route("/exports/{token}", download_route, methods=["GET"])]
"""Added next to /graphql in server.py."""
