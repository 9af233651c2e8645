"""The elder's printable card (长者服务卡): one A6 page (105 × 148 mm) with a check-in QR code and a PIN.

What is printed: the title, the elder's name masked to the surname (何＊＊), a large QR code, the 6-digit
PIN, the community station's name and phone, how to get a new card, the issue date and one English line.
Never printed: the full name, the ID number, the address or the phone of the elder.

QR format
    ``timebank:checkin:<token>``, where ``<token>`` is the URL-safe token returned by
    :func:`timebank.care.services.card_issue` (24 characters of ``A–Z a–z 0–9 - _``). The scanning app
    strips the prefix with :func:`token_from_payload` and passes the bare token as ``code`` to
    :func:`timebank.care.services.visit_check_in`. The code is a regular QR code (not Micro QR), error
    correction level Q (a worn or slightly dirty card still scans), printed at least 45 mm wide.

Font choice
    The PDF embeds a TrueType CJK font when one is found, in this order: ``settings.CARD_FONT_PATH`` (if
    set), then the usual Debian/Ubuntu/Fedora paths of WenQuanYi Zen Hei (``fonts-wqy-zenhei``), WenQuanYi
    Micro Hei, AR PL UMing and Droid Sans Fallback. An embedded (subset) font prints the same on every
    viewer, phone and printer, which matters for a card that is printed at a station and read by people
    with poor sight. The Noto CJK fonts that Debian installs by default (``fonts-noto-cjk``) cannot be used:
    they are CFF-based OpenType and ReportLab's ``TTFont`` refuses them ("postscript outlines are not
    supported"). When no TrueType CJK font is found the card falls back to ReportLab's built-in CID font
    ``STSong-Light`` (Adobe-GB1): it needs no file and never fails, but its glyphs are not embedded, so the
    viewer supplies them (poppler substitutes an installed CJK font through fontconfig, Acrobat uses its
    Asian font pack). Install ``fonts-wqy-zenhei`` on the server for a self-contained PDF. Nothing is ever
    downloaded.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import segno
from django.conf import settings
from django.utils import timezone
from reportlab.lib.pagesizes import A6
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

if TYPE_CHECKING:
    from timebank.people.models import Resident
    from timebank.places.models import Site

log = logging.getLogger(__name__)

QR_PREFIX = "timebank:checkin:"
QR_ERROR = "q"
QR_SIDE_MM = 48  # the symbol itself, without the quiet zone; at least 45 mm

TITLE = "时间银行 · 长者服务卡"
RESET_TEXT = "忘记密码或卡片丢失：请带身份证到社区服务站重新打卡，旧卡立即作废。"
ENGLISH_TEXT = (
    "Time Bank elder card. Show the QR code or tell your volunteer the PIN. Lost card or PIN? "
    "Your community station prints a new card and the old one stops working at once."
)
MASK = "＊"  # FULLWIDTH ASTERISK, as wide as a Chinese character

#: TrueType CJK fonts tried in order after ``settings.CARD_FONT_PATH``; index 0 of a .ttc is the regular face.
KNOWN_FONT_PATHS: Sequence[str] = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # Debian/Ubuntu fonts-wqy-zenhei
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",  # Fedora
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # Debian/Ubuntu fonts-wqy-microhei
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",  # Debian fonts-arphic-uming
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",  # Debian fonts-droid-fallback
)
CID_FONT = "STSong-Light"
DIGIT_FONT = "Helvetica-Bold"  # the PIN and the phone: plain ASCII, a standard PDF font
_PROBE = "时间银行长者服务卡忘记密码社区站电话＊"

#: Compound surnames kept whole by :func:`mask_name` (欧阳娜娜 → 欧阳＊＊).
COMPOUND_SURNAMES = frozenset(
    {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文"}
    | {"司徒", "令狐", "夏侯", "轩辕", "端木", "百里", "呼延", "南宫", "西门", "独孤", "澹台"}
)


def mask_name(name: str) -> str:
    """The surname followed by one ＊ per remaining character: 何美玲 → 何＊＊, 欧阳娜娜 → 欧阳＊＊.

    Separators (the middle dot of minority names, spaces) are kept so the shape stays familiar:
    阿依古丽·买买提 → 阿＊＊＊·＊＊＊. A one-character name still shows a mask (何 → 何＊).
    """
    name = (name or "").strip()
    if not name:
        return MASK
    keep = 2 if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES else 1
    rest = "".join(c if c in "·・ " else MASK for c in name[keep:])
    return name[:keep] + (rest or MASK)


def checkin_payload(token: str) -> str:
    """What the QR code holds: ``timebank:checkin:<token>``."""
    return f"{QR_PREFIX}{token}"


def token_from_payload(payload: str) -> str:
    """The bare token from a scanned QR payload (a bare token is returned as it is)."""
    payload = (payload or "").strip()
    return payload[len(QR_PREFIX) :] if payload.startswith(QR_PREFIX) else payload


def card_qr(token: str) -> segno.QRCode:
    """The QR code printed on the card for ``token``."""
    return segno.make_qr(checkin_payload(token), error=QR_ERROR)


# --------------------------------------------------------------------------------------------- fonts


@functools.cache
def _register_ttf(path: str) -> str | None:
    """Register the TrueType font at ``path`` (face 0 of a collection); None if unusable for Chinese."""
    name = "TBCard-" + hashlib.sha256(path.encode()).hexdigest()[:10]
    try:
        font = TTFont(name, path, subfontIndex=0)
    except (TTFError, OSError) as exc:
        log.warning("card font %s not usable: %s", path, exc)
        return None
    if not all(ord(c) in font.face.charWidths for c in _PROBE):
        log.warning("card font %s has no Chinese glyphs", path)
        return None
    pdfmetrics.registerFont(font)
    return name


@functools.cache
def _register_cid() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return CID_FONT


def card_font() -> str:
    """The registered name of the font the card's Chinese text is set in (see the module docstring)."""
    configured = getattr(settings, "CARD_FONT_PATH", "") or ""
    candidates = [configured, *KNOWN_FONT_PATHS] if configured else list(KNOWN_FONT_PATHS)
    for path in candidates:
        if os.path.isfile(path):
            name = _register_ttf(path)
            if name:
                return name
        elif path == configured:
            log.warning("CARD_FONT_PATH %s does not exist", path)
    return _register_cid()


# --------------------------------------------------------------------------------------------- drawing


def _wrap_cjk(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy line breaking by character (Chinese has no spaces); no line starts with closing punctuation."""
    lines: list[str] = []
    line = ""
    for char in text:
        if line and pdfmetrics.stringWidth(line + char, font, size) > width and char not in "，。：；、！？）」":
            lines.append(line)
            line = ""
        line += char
    if line:
        lines.append(line)
    return lines


def _draw_qr(canvas: Canvas, qr: segno.QRCode, x: float, y: float, side: float) -> None:
    """The QR symbol as vector squares (sharp at any print resolution), lower-left corner at (x, y)."""
    rows = [list(row) for row in qr.matrix_iter(scale=1, border=0)]
    module = side / len(rows)
    canvas.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(rows):
        top = y + side - (r + 1) * module
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            # a hair wider so neighbouring runs do not leave white seams when rasterised
            canvas.rect(x + start * module, top, (c - start) * module + 0.05, module + 0.05, stroke=0, fill=1)


def _centred(canvas: Canvas, text: str, y: float, font: str, size: float, *, char_space: float = 0) -> None:
    if font == CID_FONT:  # the viewer's substitute for STSong-Light often lacks U+00B7; U+30FB is in Adobe-GB1
        text = text.replace("·", "・")
    width = pdfmetrics.stringWidth(text, font, size) + char_space * max(len(text) - 1, 0)
    canvas.setFont(font, size)
    canvas.drawString((A6[0] - width) / 2, y, text, charSpace=char_space)


def render_card_pdf(
    *, elder: Resident, token: str, pin: str, station: Site | None, issued_on: dt.date | None = None
) -> bytes:
    """One A6 page for ``elder``'s card with the plain ``token`` (as a QR code) and ``pin``.

    ``token`` and ``pin`` are what :func:`timebank.care.services.card_issue` returned; they are not stored
    anywhere, so this is the only moment they can be printed. ``station`` is the elder's community station
    (its name and phone are printed); ``issued_on`` defaults to today.
    """
    font = card_font()
    page_w, page_h = A6
    margin = 7 * mm
    text_w = page_w - 2 * margin
    issued_on = issued_on or timezone.localdate()

    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A6, pageCompression=1)
    canvas.setTitle("时间银行长者服务卡")
    canvas.setSubject("Time Bank elder card")
    canvas.setCreator("timebank")
    canvas.setAuthor("")

    # frame and title band
    canvas.setStrokeColorRGB(0.75, 0.1, 0.1)
    canvas.setLineWidth(1.2)
    canvas.roundRect(3 * mm, 3 * mm, page_w - 6 * mm, page_h - 6 * mm, 3 * mm, stroke=1, fill=0)
    canvas.setFillColorRGB(0.75, 0.1, 0.1)
    canvas.roundRect(3 * mm, page_h - 16 * mm, page_w - 6 * mm, 13 * mm, 3 * mm, stroke=0, fill=1)
    canvas.rect(3 * mm, page_h - 16 * mm, page_w - 6 * mm, 4 * mm, stroke=0, fill=1)
    canvas.setFillColorRGB(1, 1, 1)
    _centred(canvas, TITLE, page_h - 12 * mm, font, 16)

    # the masked name
    canvas.setFillColorRGB(0, 0, 0)
    _centred(canvas, mask_name(elder.name), page_h - 24 * mm, font, 20)

    # the QR code, QR_SIDE_MM wide, with at least four modules of white around it
    side = QR_SIDE_MM * mm
    qr_y = page_h - 31 * mm - side
    _draw_qr(canvas, card_qr(token), (page_w - side) / 2, qr_y, side)
    canvas.setFillColorRGB(0.3, 0.3, 0.3)
    _centred(canvas, "志愿者扫码签到 · Scan to check in", qr_y - 6.5 * mm, font, 8)

    # the PIN
    canvas.setFillColorRGB(0, 0, 0)
    _centred(canvas, "签到密码 PIN", qr_y - 12.5 * mm, font, 10)
    _centred(canvas, pin, qr_y - 22.5 * mm, DIGIT_FONT, 28, char_space=4)

    # the station
    y = qr_y - 30.5 * mm
    station_name = station.name if station else "所在社区服务站"
    phone = (station.phone if station else "") or "请咨询社区居委会"
    for line in _wrap_cjk(f"服务站：{station_name}", font, 11, text_w):
        _centred(canvas, line, y, font, 11)
        y -= 5 * mm
    label = "电话："
    label_w = pdfmetrics.stringWidth(label, font, 11)
    phone_font = DIGIT_FONT if phone.isascii() else font
    phone_w = pdfmetrics.stringWidth(phone, phone_font, 13)
    x = (page_w - label_w - phone_w) / 2
    canvas.setFont(font, 11)
    canvas.drawString(x, y, label)
    canvas.setFont(phone_font, 13)
    canvas.drawString(x + label_w, y, phone)

    # how to get a new card
    y -= 7 * mm
    canvas.setFont(font, 10)
    for line in _wrap_cjk(RESET_TEXT, font, 10, text_w):
        canvas.drawString(margin, y, line)
        y -= 4.8 * mm

    # the issue date and the English line, at the foot
    canvas.setFillColorRGB(0.3, 0.3, 0.3)
    foot = 6.5 * mm
    english = simpleSplit(ENGLISH_TEXT, "Helvetica", 6.5, text_w)
    canvas.setFont("Helvetica", 6.5)
    for i, line in enumerate(reversed(english)):
        canvas.drawString(margin, foot + i * 3 * mm, line)
    canvas.setFont(font, 8)
    date_y = foot + len(english) * 3 * mm + 0.8 * mm
    canvas.drawString(margin, date_y, f"发卡日期：{issued_on.year}年{issued_on.month}月{issued_on.day}日")

    canvas.showPage()
    canvas.save()
    return buf.getvalue()
