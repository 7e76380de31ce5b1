"""The printable certificate: a one-page A4 PDF, and the public pages around it.

The PDF prints exactly the signed fields (resolvers/certificate_signing.py) in an embedded CJK font, with a QR
code of the public verification link ``<public_base_url>/verify?number=…&code=…``. The font is Noto Sans SC
(SIL OFL 1.1) from the ``pylopdf-fonts-zh-cn`` package, or the file named by ``ZHIYUAN_CERT_FONT``; fpdf2
embeds the subset of the glyphs used, so a certificate is about 30 KB and renders the same everywhere.
Characters the font lacks (CJK extension B and beyond, rare in names) render as empty boxes, and fpdf2 logs
them.

Routes (public; the number and the code are the key, as for ``verifyCertificate``):

* ``GET /certificates/{number}.pdf?code=…`` — the PDF of an ISSUED certificate; 404 for a wrong number or
  code, 410 for a revoked certificate (``verifyCertificate`` shows when it was revoked).
* ``GET /verify?number=…&code=…`` — the page the QR code opens: the printed fields and the status.
* ``GET /certificates/signing-keys`` — the public keys, for offline verification.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import quote, urlencode

import pylopdf_fonts_zh_cn
import segno
from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, WrapMode, XPos, YPos
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from models.enums import CertificateStatus, IdType
from resolvers.certificate_signing import signing_keys_route
from settings import Settings

if TYPE_CHECKING:
    from resolvers.certificates import Verified

FONT = "cjk"
CHINA = timezone(timedelta(hours=8))
ID_TYPE_NAMES: dict[str, str] = {
    IdType.RESIDENT_ID: "居民身份证",
    IdType.HK_MACAO_PERMIT: "港澳居民来往内地通行证",
    IdType.TAIWAN_PERMIT: "台湾居民来往大陆通行证",
    IdType.PASSPORT: "护照",
    IdType.FOREIGNER_PERMANENT_ID: "外国人永久居留身份证",
}


@dataclass(frozen=True)
class Box:
    """A rectangle on the page, in millimetres from the top-left corner."""

    x: float
    y: float
    w: float
    h: float


LEFT, WIDTH, LABEL_W, ROW_H, LINE_H = 20.0, 170.0, 36.0, 9.0, 5.5
TABLE_TOP = 50.0
NAME_BOX = Box(LEFT + LABEL_W, TABLE_TOP, WIDTH - LABEL_W, ROW_H)
"""Where the volunteer's name is drawn: the first row's value cell (the PDF test looks for ink there)."""
QR_BOX = Box(LEFT, 238.0, 38.0, 38.0)


def china_date(moment: datetime) -> date:
    """The calendar day in China of a stored instant (SQLite returns naive UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(CHINA).date()


def verification_url(base_url: str, number: str, code: str) -> str:
    """The public link printed as the certificate's QR code."""
    return f"{base_url}/verify?{urlencode({'number': number, 'code': code})}"


def pdf_url(base_url: str, number: str, code: str) -> str:
    return f"{base_url}/certificates/{quote(number)}.pdf?{urlencode({'code': code})}"


def font_path(settings: Settings) -> Path:
    return Path(settings.cert_font_path) if settings.cert_font_path else pylopdf_fonts_zh_cn.sans_path()


def _chinese_date(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.year}年{day.month}月{day.day}日"


def _rows(p: Mapping[str, str]) -> list[tuple[str, str]]:
    return [
        ("志愿者姓名", p["volunteerName"]),
        ("证件类型", ID_TYPE_NAMES.get(p["idType"], p["idType"])),
        ("证件号码", p["idNumber"]),
        ("志愿者编号", p["volunteerNumber"]),
        ("服务时段", f"{_chinese_date(p['periodStart'])} 至 {_chinese_date(p['periodEnd'])}"),
        ("服务时长", f"{p['totalHours']} 小时"),
        ("服务内容", p["content"]),
        ("出具单位", p["issuerName"]),
        ("负责人", p["personInCharge"]),
        ("经办人", p["handlerName"]),
        ("联系方式", p["contact"]),
        ("出具日期", _chinese_date(p["issueDate"])),
    ]


def _qr(pdf: FPDF, text: str, box: Box) -> None:
    """The QR code as vector squares (runs of dark modules merged), with its 4-module quiet zone inside."""
    matrix = segno.make(text, error="m", boost_error=False).matrix
    border = 4
    module = box.w / (len(matrix) + 2 * border)
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            x, y = box.x + (border + start) * module, box.y + (border + r) * module
            pdf.rect(x, y, (c - start) * module, module, style="F")


def _table(pdf: FPDF, rows: list[tuple[str, str]]) -> float:
    y = TABLE_TOP
    value_w = WIDTH - LABEL_W
    for label, value in rows:
        pdf.set_font(FONT, size=11)
        lines = cast(
            list[str],
            pdf.multi_cell(
                value_w, LINE_H, value, dry_run=True, output=MethodReturnValue.LINES, wrapmode=WrapMode.CHAR
            ),
        )
        height = max(ROW_H, len(lines) * LINE_H + 3.5)
        pdf.rect(LEFT, y, LABEL_W, height)
        pdf.rect(LEFT + LABEL_W, y, value_w, height)
        pdf.set_xy(LEFT, y)
        pdf.cell(LABEL_W, height, label, align=Align.C)
        pdf.set_xy(LEFT + LABEL_W, y + (height - len(lines) * LINE_H) / 2)
        pdf.multi_cell(value_w, LINE_H, value, align=Align.L, wrapmode=WrapMode.CHAR)
        y += height
    return y


def render_pdf(printed: Mapping[str, str], code: str, *, base_url: str, key_id: str, font: Path) -> bytes:
    """The certificate's one A4 page. CPU-bound (a quarter second): call it in a worker thread."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(f"志愿服务记录证明 {printed['number']}")
    pdf.set_creator("Zhiyuan 全国志愿服务信息系统")
    pdf.set_lang("zh-CN")
    pdf.add_font(FONT, fname=str(font))
    pdf.add_page()
    pdf.set_font(FONT, size=24)
    pdf.set_xy(LEFT, 22)
    pdf.cell(WIDTH, 14, "志愿服务记录证明", align=Align.C)
    pdf.set_font(FONT, size=10)
    pdf.set_xy(LEFT, 40)
    pdf.cell(WIDTH, 6, f"证明编号：{printed['number']}", align=Align.R)
    bottom = _table(pdf, _rows(printed))
    pdf.set_font(FONT, size=11)
    pdf.set_xy(LEFT, bottom + 6)
    pdf.multi_cell(
        WIDTH,
        6,
        "兹证明上述志愿者参加本单位组织的志愿服务，以上记录真实、准确。本证明免费出具，"
        "可扫描下方二维码或凭证明编号和验证码在线核验。",
        wrapmode=WrapMode.CHAR,
        new_x=XPos.LEFT,
        new_y=YPos.NEXT,
    )
    pdf.set_xy(LEFT + WIDTH / 3, pdf.get_y() + 6)
    pdf.multi_cell(
        WIDTH * 2 / 3,
        7,
        f"出具单位（盖章）：{printed['issuerName']}\n{_chinese_date(printed['issueDate'])}",
        align=Align.R,
        wrapmode=WrapMode.CHAR,
    )
    # A long content or issuer name pushes the QR block down, at most to the bottom margin.
    qr = Box(QR_BOX.x, min(max(QR_BOX.y, pdf.get_y() + 4), 297 - 12 - QR_BOX.h), QR_BOX.w, QR_BOX.h)
    _qr(pdf, verification_url(base_url, printed["number"], code), qr)
    pdf.set_font(FONT, size=9)
    notes = [
        "扫码核验真伪",
        f"验证码：{code}",
        f"核验地址：{base_url}/verify",
        f"电子签名 Ed25519，密钥 {key_id}",
    ]
    for i, note in enumerate(notes):
        pdf.set_xy(qr.x + qr.w + 4, qr.y + 6 + i * 6)
        pdf.cell(WIDTH - qr.w - 4, 5, note)
    return bytes(pdf.output())


@cache
def _font_ok(path: Path) -> Path:
    if not path.is_file():
        raise RuntimeError(f"certificate font not found: {path}")
    return path


# --- routes ---------------------------------------------------------------------------------------------


async def _verified(request: Request, number: str) -> Verified | None:
    # Imported here: resolvers.certificates needs the schema package, which server.py loads after this module.
    from resolvers.certificates import verify
    from schema.errors import AppError

    try:
        return await verify(request.app.state.services, number, request.query_params.get("code", ""))
    except AppError:
        return None


async def pdf_route(request: Request) -> Response:
    number = request.path_params["number"]
    found = await _verified(request, number)
    if found is None:
        return JSONResponse({"error": "NOT_FOUND"}, status_code=404)
    if found.status is not CertificateStatus.ISSUED:
        return JSONResponse({"error": "REVOKED"}, status_code=410)
    settings: Settings = request.app.state.services.settings
    data = await asyncio.to_thread(
        render_pdf,
        found.printed,
        found.code,
        base_url=settings.public_base_url,
        key_id=found.key.key_id if found.key else "",
        font=_font_ok(font_path(settings)),
    )
    headers = {
        "content-disposition": f'inline; filename="{found.printed["number"]}.pdf"',
        "cache-control": "no-store",
    }
    return Response(data, media_type="application/pdf", headers=headers)


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    page = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(page, status_code=status_code, headers={"cache-control": "no-store"})


async def verify_page(request: Request) -> Response:
    found = await _verified(request, request.query_params.get("number", ""))
    if found is None:
        return _page("未找到该证明", "<p>请核对证明编号和验证码。</p>", 404)
    if found.status is CertificateStatus.ISSUED:
        state = "有效" if found.key else "签名无效，请联系出具单位"
    else:
        revoked = china_date(found.revoked_at).isoformat() if found.revoked_at else ""
        state = f"已撤销 {revoked}".strip()
    rows = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in [("证明编号", found.printed["number"]), *_rows(found.printed), ("状态", state)]
    )
    return _page("志愿服务记录证明核验", f"<table>{rows}</table>")


ROUTES = [
    Route("/certificates/signing-keys", signing_keys_route, methods=["GET"]),
    Route("/certificates/{number}.pdf", pdf_route, methods=["GET"]),
    Route("/verify", verify_page, methods=["GET"]),
]
"""The certificate routes, added next to /graphql in server.py."""
