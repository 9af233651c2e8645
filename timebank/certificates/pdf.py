"""The certificate as a PDF: one A4 page in Chinese, with the fields 民发〔2015〕149号 lists.

Printed: title 志愿服务证明, the volunteer's full name, ID type (居民身份证) and the MASKED ID number
(4420**********123X), the volunteer number, the period, the hours of service recorded in the ledger when
the certificate was issued (and all recorded hours to that day), the service content, the issuing body,
the certificate number (serial), the issue date, and a QR code with the public verification address
``<base>/verify/<code>`` (the code is also printed, for typing in). Fonts: the card's font finder
(:func:`timebank.care.card_pdf.card_font`), so the same CJK font rules apply.
"""

from __future__ import annotations

import io

import segno
from django.http import HttpRequest
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from timebank.care.card_pdf import _draw_qr, _wrap_cjk, card_font
from timebank.ledger.selectors import hours

from .links import verify_url
from .models import VolunteerCertificate

TITLE = "志愿服务证明"
ID_TYPE = "居民身份证"


def _date(d: object) -> str:
    return f"{d.year}年{d.month}月{d.day}日"  # type: ignore[attr-defined]


def render_certificate_pdf(cert: VolunteerCertificate, *, request: HttpRequest | None = None) -> bytes:
    """The PDF of an issued (or published, or revoked) certificate."""
    if cert.code is None or cert.minutes is None or cert.issued_at is None:
        raise ValueError("only an issued certificate has a PDF")
    font = card_font()
    page_w, page_h = A4
    margin = 25 * mm
    text_w = page_w - 2 * margin
    url = verify_url(cert.code, request)
    volunteer = cert.volunteer

    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"{TITLE} {cert.serial}")
    canvas.setSubject("Volunteer service certificate")
    canvas.setCreator("timebank")
    canvas.setAuthor(cert.issuer_name)

    canvas.setStrokeColorRGB(0.75, 0.1, 0.1)
    canvas.setLineWidth(2)
    canvas.rect(12 * mm, 12 * mm, page_w - 24 * mm, page_h - 24 * mm, stroke=1, fill=0)
    canvas.setLineWidth(0.6)
    canvas.rect(14 * mm, 14 * mm, page_w - 28 * mm, page_h - 28 * mm, stroke=1, fill=0)

    canvas.setFillColorRGB(0.6, 0.05, 0.05)
    canvas.setFont(font, 28)
    canvas.drawCentredString(page_w / 2, page_h - 45 * mm, TITLE)
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setFont(font, 11)
    canvas.drawRightString(page_w - margin, page_h - 57 * mm, f"证明编号：{cert.serial}")

    rows = [
        ("姓　　名", volunteer.name),
        ("证件类型", ID_TYPE),
        ("证件号码", volunteer.id_number_masked),
        ("志愿者编号", cert.volunteer_number),
        ("服务时段", f"{_date(cert.period_start)} 至 {_date(cert.period_end)}"),
        ("服务时长", f"{hours(cert.minutes)} 小时"),
        ("累计服务时长", f"{hours(cert.total_minutes or 0)} 小时（截至开具之日）"),
        ("服务内容", cert.content or "志愿服务"),
    ]
    y = page_h - 72 * mm
    label_w = 32 * mm
    for label, value in rows:
        canvas.setFont(font, 12)
        canvas.drawString(margin, y, f"{label}：")
        lines = _wrap_cjk(str(value), font, 12, text_w - label_w)
        for line in lines:
            canvas.drawString(margin + label_w, y, line)
            y -= 7 * mm
        y -= 2 * mm

    y -= 4 * mm
    statement = (
        f"兹证明 {volunteer.name} 同志于上述时段在{cert.issuer_name}参加志愿服务，"
        f"记录服务时长共计 {hours(cert.minutes)} 小时。以上服务记录由本机构依据时间银行服务记录出具，"
        "真实有效。特此证明。"
    )
    canvas.setFont(font, 12)
    for line in _wrap_cjk(statement, font, 12, text_w):
        canvas.drawString(margin, y, line)
        y -= 7 * mm

    # the issuing body and date, at the right
    y -= 10 * mm
    canvas.drawRightString(page_w - margin, y, f"出具单位：{cert.issuer_name}")
    y -= 8 * mm
    canvas.drawRightString(page_w - margin, y, f"出具日期：{_date(timezone.localdate(cert.issued_at))}")

    # the QR code and how to check the certificate
    side = 32 * mm
    qr_y = 24 * mm
    _draw_qr(canvas, segno.make_qr(url, error="m"), margin, qr_y, side)
    canvas.setFont(font, 10)
    tx = margin + side + 6 * mm
    canvas.drawString(tx, qr_y + side - 5 * mm, "扫描二维码或访问以下网址核验本证明：")
    canvas.setFont("Helvetica", 8)
    canvas.drawString(tx, qr_y + side - 11 * mm, url)
    canvas.setFont(font, 10)
    canvas.drawString(tx, qr_y + side - 17 * mm, f"核验码：{cert.code}")
    canvas.setFont(font, 8)
    canvas.setFillColorRGB(0.3, 0.3, 0.3)
    canvas.drawString(tx, qr_y + 2 * mm, "依据《志愿服务记录与证明出具办法（试行）》（民发〔2015〕149号）出具。")

    canvas.showPage()
    canvas.save()
    return buf.getvalue()
