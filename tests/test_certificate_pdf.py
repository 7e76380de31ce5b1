"""The printed certificate: one A4 page whose Chinese text is really drawn in an embedded font, and whose QR code
decodes to the public verification link.

Text extraction alone would pass with a font that has no glyphs (the text is there, invisible), so the page is
rendered to pixels (pypdfium2) and the cell that holds the volunteer's name must contain ink.
"""

from __future__ import annotations

import ctypes
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import zxingcpp
from PIL import Image
from starlette.applications import Starlette

from resolvers.certificate_pdf import NAME_BOX, QR_BOX, Box
from tests.certificate_helpers import (
    ISSUE,
    PERIOD,
    REQUEST,
    YUELU,
    World,
    make_world,
    region_grant,
    team_grant,
)
from tests.conftest import Api
from tests.visibility import gid

SCALE = 3.0
"""Pixels per PDF point (216 dpi)."""
MM = 72 / 25.4
NAME = "欧阳明堃"
"""堃 is outside GB 2312: a font limited to common characters would miss it."""


@pytest.fixture(scope="module")
async def issued(app: Starlette, api: Api) -> dict[str, Any]:
    w: World = await make_world(app, api)
    team = await w.team(YUELU)
    volunteer = await w.volunteer(YUELU, name=NAME)
    await w.record(volunteer, team, "12.75")
    admin = await w.admin(team_grant(team, YUELU), region_grant(YUELU))
    requested = (await w.as_(volunteer).data(REQUEST, {"t": gid("Team", team), **PERIOD}))[
        "requestCertificate"
    ]
    variables = {"c": requested["id"], "p": "岳麓负责", "h": "岳麓经办", "k": "0731-12345678"}
    result: dict[str, Any] = (await w.as_(admin).data(ISSUE, variables))["issueCertificate"]
    return result


@pytest.fixture(scope="module")
async def pdf(api: Api, issued: dict[str, Any]) -> bytes:
    response = await api.client.get(issued["pdfUrl"].removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response.content


def _page_image(pdf: bytes) -> Image.Image:
    document = pdfium.PdfDocument(pdf)
    assert len(document) == 1
    width, height = document[0].get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    image: Image.Image = document[0].render(scale=SCALE).to_pil().convert("L")
    return image


def _ink(image: Image.Image, box: Box, inset: float = 1.0) -> int:
    """Dark pixels inside ``box`` (millimetres), ``inset`` mm away from its borders."""
    left, top = (box.x + inset) * MM * SCALE, (box.y + inset) * MM * SCALE
    right, bottom = (box.x + box.w - inset) * MM * SCALE, (box.y + box.h - inset) * MM * SCALE
    crop = image.crop((round(left), round(top), round(right), round(bottom)))
    return sum(crop.histogram()[:128])


def test_the_qr_code_is_the_verification_link(pdf: bytes, issued: dict[str, Any]) -> None:
    image = _page_image(pdf)
    codes = zxingcpp.read_barcodes(image)
    assert [c.text for c in codes] == [issued["verificationUrl"]]
    assert codes[0].format == zxingcpp.BarcodeFormat.QRCode
    assert _ink(image, QR_BOX, inset=0) > 0


def test_the_name_is_drawn_not_just_encoded(pdf: bytes) -> None:
    image = _page_image(pdf)
    name_w = len(NAME) * 11 / 72 * 25.4 + 4  # 11 pt characters, and the cell padding
    drawn = Box(NAME_BOX.x, NAME_BOX.y, name_w, NAME_BOX.h)
    blank = Box(NAME_BOX.x + name_w + 5, NAME_BOX.y, NAME_BOX.w - name_w - 10, NAME_BOX.h)
    assert _ink(image, drawn) > 150  # the glyphs' strokes
    assert _ink(image, blank) == 0  # the rest of the cell: so the ink above is the name, not a border
    text = pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert NAME in text and "志愿服务记录证明" in text


def test_every_font_is_embedded(pdf: bytes) -> None:
    page = pdfium.PdfDocument(pdf)[0]
    fonts = set()
    for obj in page.get_objects():
        if obj.type != pdfium_c.FPDF_PAGEOBJ_TEXT:
            continue
        font = pdfium_c.FPDFTextObj_GetFont(obj.raw)
        size = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
        name = ctypes.create_string_buffer(size)
        pdfium_c.FPDFFont_GetBaseFontName(font, name, size)
        assert pdfium_c.FPDFFont_GetIsEmbedded(font) == 1, name.value
        fonts.add(name.value.decode())
    assert fonts and all(f.split("+")[-1] == "NotoSansSC" for f in fonts), fonts
