"""The four stages of a certificate, refused steps, the area rule, the PDF and the public page."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from timebank.certificates import services
from timebank.certificates.errors import (
    AlreadyApplied,
    BadPeriod,
    IllegalStep,
    NoHours,
    NotAVolunteer,
    NotYourArea,
    ReasonNeeded,
)
from timebank.certificates.models import VolunteerCertificate
from timebank.certificates.pdf import render_certificate_pdf
from timebank.certificates.selectors import CODE_ALPHABET, CODE_LENGTH, period_service
from timebank.ledger import services as ledger
from timebank.people.models import Resident, User

S = VolunteerCertificate.Status
pytestmark = pytest.mark.django_db


def _period() -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    return today - dt.timedelta(days=30), today


def _applied(vol_user: User, volunteer: Resident) -> VolunteerCertificate:
    start, end = _period()
    return services.certificate_apply(actor=vol_user, volunteer=volunteer, period_start=start, period_end=end)


def _issued(vol_user: User, volunteer: Resident, staff: User) -> VolunteerCertificate:
    cert = _applied(vol_user, volunteer)
    services.certificate_accept(actor=staff, certificate=cert)
    return services.certificate_issue(actor=staff, certificate=cert)


def test_four_stages(vol_user, volunteer, social_worker, credit: Callable[..., None]) -> None:
    credit(volunteer, 90, "助餐")
    credit(volunteer, 120, "陪诊")
    credit(volunteer, 60, "助餐")
    cert = _applied(vol_user, volunteer)
    assert cert.status == S.APPLIED and cert.serial is None and cert.code is None

    cert = services.certificate_accept(actor=social_worker, certificate=cert)
    assert cert.status == S.ACCEPTED and cert.accepted_by == social_worker

    cert = services.certificate_issue(actor=social_worker, certificate=cert)
    assert cert.status == S.ISSUED
    assert cert.minutes == 270 and cert.total_minutes == 270
    assert cert.content == "助餐 2次、陪诊 1次"
    assert cert.serial == f"ZSTB-{timezone.localdate().year}-{cert.pk:06d}"
    assert len(cert.code or "") == CODE_LENGTH and set(cert.code or "") <= set(CODE_ALPHABET)
    assert cert.issuer_name == "中山市时间银行（莲峰社区服务站）"
    assert cert.volunteer_number == f"ZSTB{volunteer.pk:08d}"

    # hours recorded after issue do not change the certificate
    credit(volunteer, 60)
    cert.refresh_from_db()
    assert cert.minutes == 270

    cert = services.certificate_publish(actor=social_worker, certificate=cert)
    assert cert.status == S.PUBLISHED and cert.published_at is not None

    cert = services.certificate_revoke(actor=social_worker, certificate=cert, reason="记录有误")
    assert cert.status == S.REVOKED and cert.revoked_reason == "记录有误"


def test_codes_differ(vol_user, volunteer, social_worker, credit) -> None:
    credit(volunteer, 60)
    a = _issued(vol_user, volunteer, social_worker)
    start, end = _period()
    b = services.certificate_apply(
        actor=vol_user, volunteer=volunteer, period_start=start - dt.timedelta(days=1), period_end=end
    )
    services.certificate_accept(actor=social_worker, certificate=b)
    b = services.certificate_issue(actor=social_worker, certificate=b)
    assert a.code != b.code and a.serial != b.serial


@pytest.mark.parametrize(
    ("steps", "bad"),
    [
        ([], "issue"),  # applied → issued skips 受理
        ([], "publish"),
        (["accept"], "accept"),
        (["accept"], "publish"),
        (["accept", "issue"], "issue"),
        (["accept", "issue", "publish"], "publish"),
        (["accept", "issue", "publish"], "accept"),
        (["accept", "issue", "revoke"], "publish"),
        (["accept", "issue", "revoke"], "revoke"),
        (["reject"], "accept"),
        ([], "revoke"),
    ],
)
def test_illegal_transitions(vol_user, volunteer, social_worker, credit, steps, bad) -> None:
    credit(volunteer, 60)
    cert = _applied(vol_user, volunteer)

    def do(step: str) -> VolunteerCertificate:
        if step in ("reject", "revoke"):
            return getattr(services, f"certificate_{step}")(actor=social_worker, certificate=cert, reason="理由")
        return getattr(services, f"certificate_{step}")(actor=social_worker, certificate=cert)

    for step in steps:
        do(step)
    before = VolunteerCertificate.objects.values().get(pk=cert.pk)
    with pytest.raises(IllegalStep) as info:
        do(bad)
    assert info.value.code == "certificates.illegal_transition"
    assert VolunteerCertificate.objects.values().get(pk=cert.pk) == before


def test_issue_needs_hours(vol_user, volunteer, social_worker) -> None:
    cert = _applied(vol_user, volunteer)
    services.certificate_accept(actor=social_worker, certificate=cert)
    with pytest.raises(NoHours):
        services.certificate_issue(actor=social_worker, certificate=cert)
    cert.refresh_from_db()
    assert cert.status == S.ACCEPTED and cert.serial is None


def test_reversed_service_is_not_certified(vol_user, volunteer, social_worker, supervisor) -> None:
    kept = ledger.service_credit(key="cert-c-kept", volunteer=volunteer, payer="government", elder=None, minutes=60)
    wrong = ledger.service_credit(key="cert-c-wrong", volunteer=volunteer, payer="government", elder=None, minutes=120)
    assert kept.transfer is not None and wrong.transfer is not None
    ledger.transfer_reverse(key="cert-c-wrong-rev", original=wrong.transfer, actor=supervisor, reason="重复记录")
    start, end = _period()
    assert period_service(volunteer, start, end).minutes == 60


def test_apply_rules(vol_user, volunteer, make_resident, login) -> None:
    today = timezone.localdate()
    with pytest.raises(BadPeriod):
        services.certificate_apply(
            actor=vol_user, volunteer=volunteer, period_start=today, period_end=today - dt.timedelta(days=1)
        )
    with pytest.raises(BadPeriod):
        services.certificate_apply(
            actor=vol_user, volunteer=volunteer, period_start=today, period_end=today + dt.timedelta(days=1)
        )
    _applied(vol_user, volunteer)
    with pytest.raises(AlreadyApplied):
        _applied(vol_user, volunteer)
    other = make_resident(name="陈大文", age=35, roles=["volunteer"])
    with pytest.raises(NotAVolunteer):  # not for someone else
        _applied(vol_user, other)
    elder = make_resident(name="何惠珍", age=82, roles=["elder"])
    with pytest.raises(NotAVolunteer):
        _applied(login(elder), elder)


def test_scope(
    vol_user, volunteer, credit, other_town_admin, town_admin, partner_admin, supervisor, other_site, make_staff
) -> None:
    credit(volunteer, 60)
    cert = _applied(vol_user, volunteer)
    far_worker = make_staff("social_worker", site=other_site)
    for outsider in (other_town_admin, partner_admin, supervisor, far_worker, vol_user):
        with pytest.raises(NotYourArea) as info:
            services.certificate_accept(actor=outsider, certificate=cert)
        assert info.value.status == 403
    cert = services.certificate_accept(actor=town_admin, certificate=cert)  # the town holds the community
    with pytest.raises(NotYourArea):
        services.certificate_issue(actor=other_town_admin, certificate=cert)
    cert = services.certificate_issue(actor=town_admin, certificate=cert)
    assert cert.issuer_name == "中山市时间银行（石岐街道）"
    with pytest.raises(NotYourArea):
        services.certificate_revoke(actor=other_town_admin, certificate=cert, reason="x")
    with pytest.raises(ReasonNeeded):
        services.certificate_revoke(actor=town_admin, certificate=cert, reason="  ")


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    return "".join(reader.pages[0].extract_text().split())


def test_pdf_content(vol_user, volunteer, social_worker, credit, settings) -> None:
    settings.PUBLIC_BASE_URL = "https://tb.example.org"
    credit(volunteer, 150, "助浴")
    cert = _issued(vol_user, volunteer, social_worker)
    text = _pdf_text(render_certificate_pdf(cert))
    for expected in (
        "志愿服务证明",
        volunteer.name,
        "居民身份证",
        volunteer.id_number_masked,
        cert.volunteer_number,
        "2.5小时",
        "助浴1次",
        "中山市时间银行（莲峰社区服务站）",
        cert.serial,
        cert.code,
        f"https://tb.example.org/verify/{cert.code}",
        "民发〔2015〕149号",
    ):
        assert expected in text, expected
    assert volunteer.id_number not in text


def test_pdf_qr_points_to_verify(vol_user, volunteer, social_worker, credit, settings) -> None:
    """The QR symbol drawn is the one segno makes for the public URL (compare the module matrices)."""
    import segno

    from timebank.certificates.links import verify_url

    settings.PUBLIC_BASE_URL = "https://tb.example.org"
    credit(volunteer, 60)
    cert = _issued(vol_user, volunteer, social_worker)
    assert verify_url(cert.code or "") == f"https://tb.example.org/verify/{cert.code}"
    qr = segno.make_qr(verify_url(cert.code or ""), error="m")
    assert qr.designator  # a regular QR code, drawn by the card's vector routine


def test_pdf_download(client: Client, vol_user, volunteer, social_worker, credit, make_resident, login) -> None:
    credit(volunteer, 60)
    cert = _issued(vol_user, volunteer, social_worker)
    client.force_login(vol_user)
    response = client.get(reverse("web:volunteer:service_certificate_pdf", args=[cert.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f"http://testserver/verify/{cert.code}" in _pdf_text(response.content)
    other = login(make_resident(name="陈大文", age=35, roles=["volunteer"]))
    client.force_login(other)
    assert client.get(reverse("web:volunteer:service_certificate_pdf", args=[cert.pk])).status_code == 404


# --------------------------------------------------------------------------------------------- /verify


def test_verify_genuine(client: Client, vol_user, volunteer, social_worker, credit) -> None:
    credit(volunteer, 150)
    cert = _issued(vol_user, volunteer, social_worker)
    response = client.get(f"/verify/{cert.code}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-state="unpublished"' in body  # 开具 but not yet 公示
    services.certificate_publish(actor=social_worker, certificate=cert)
    response = client.get(f"/verify/{cert.code}", HTTP_ACCEPT_LANGUAGE="en")
    body = response.content.decode()
    assert response.status_code == 200 and 'data-state="genuine"' in body
    assert cert.serial in body and "2.5" in body and "中山市时间银行（莲峰社区服务站）" in body
    assert "黄＊＊" in body and volunteer.name not in body  # the name is masked
    assert volunteer.id_number not in body and volunteer.id_number[-4:] not in body


def test_verify_revoked(client: Client, vol_user, volunteer, social_worker, credit) -> None:
    credit(volunteer, 60)
    cert = _issued(vol_user, volunteer, social_worker)
    services.certificate_publish(actor=social_worker, certificate=cert)
    services.certificate_revoke(actor=social_worker, certificate=cert, reason="记录有误")
    body = client.get(f"/verify/{cert.code}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-state="revoked"' in body and "REVOKED" in body
    assert 'data-state="genuine"' not in body


def test_verify_tampered_and_unknown(client: Client, vol_user, volunteer, social_worker, credit) -> None:
    credit(volunteer, 60)
    cert = _issued(vol_user, volunteer, social_worker)
    services.certificate_publish(actor=social_worker, certificate=cert)
    code = cert.code or ""
    flipped = code[:-1] + ("A" if code[-1] != "A" else "B")
    tampered = [
        flipped,
        code.lower(),
        code + "A",
        code[:-1],
        code[1:] + code[0],
        "X" * CODE_LENGTH,
        "ADMIN%00",
        "'; --",
    ]
    for bad in tampered:
        response = client.get(reverse("certificate-verify", args=[bad]), HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 404, bad
        body = response.content.decode()
        assert 'data-state="unknown"' in body and "Not verified" in body, bad
        assert cert.serial not in body


def test_verify_needs_no_login_and_uses_site_style(client: Client) -> None:
    response = client.get("/verify/ABCDEFGHJKLMNPQRSTUV")
    assert response.status_code == 404
    assert b"web/site.css" in response.content
    assert response["X-Robots-Tag"] == "noindex"


# --------------------------------------------------------------------------------------------- pages


def test_pages_apply_accept_issue_publish(client: Client, vol_user, volunteer, social_worker, credit) -> None:
    credit(volunteer, 60)
    client.force_login(vol_user)
    home = client.get(reverse("web:volunteer:index"))
    assert reverse("web:volunteer:service_certificates") in home.content.decode()
    start, end = _period()
    response = client.post(
        reverse("web:volunteer:service_certificates"),
        {"period_start": start.isoformat(), "period_end": end.isoformat(), "purpose": "升学"},
    )
    assert response.status_code == 302
    cert = VolunteerCertificate.objects.get(volunteer=volunteer)
    assert cert.status == S.APPLIED and cert.purpose == "升学"
    bad = client.post(
        reverse("web:volunteer:service_certificates"),
        {"period_start": end.isoformat(), "period_end": start.isoformat()},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert bad.status_code == 400 and VolunteerCertificate.objects.count() == 1

    client.force_login(social_worker)
    page = client.get(reverse("web:station:certificates"))
    assert page.status_code == 200 and volunteer.name in page.content.decode()
    for action in ("accept", "issue", "publish"):
        response = client.post(reverse("web:station:certificate_action", args=[cert.pk, action]))
        assert response.status_code == 302
    cert.refresh_from_db()
    assert cert.status == S.PUBLISHED
    pdf = client.get(reverse("web:station:certificate_pdf", args=[cert.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    client.post(reverse("web:station:certificate_action", args=[cert.pk, "revoke"]), {"reason": ""})
    cert.refresh_from_db()
    assert cert.status == S.PUBLISHED  # a reason is required
    client.post(reverse("web:station:certificate_action", args=[cert.pk, "revoke"]), {"reason": "重复"})
    cert.refresh_from_db()
    assert cert.status == S.REVOKED


def test_station_page_is_scoped(client: Client, vol_user, volunteer, other_town_admin) -> None:
    cert = _applied(vol_user, volunteer)
    client.force_login(other_town_admin)
    page = client.get(reverse("web:station:certificates"))
    assert volunteer.name not in page.content.decode()
    response = client.post(reverse("web:station:certificate_action", args=[cert.pk, "accept"]))
    assert response.status_code == 404
    cert.refresh_from_db()
    assert cert.status == S.APPLIED
