"""The elder's printable card: an A6 PDF with the masked name, QR code, PIN and station; reissue revokes."""

from __future__ import annotations

import io
import os
import shutil
import subprocess

import pytest
import segno
from django.utils import timezone
from pypdf import PdfReader
from reportlab.lib.units import mm

from timebank.care import card_pdf, cards, services
from timebank.care.models import ElderCard
from timebank.common.errors import OutOfScope
from timebank.places import services as places_services

pytestmark = pytest.mark.django_db

PHONE = "0760-88812345"


@pytest.fixture
def site(community):
    """The community station of the shared fixtures, with a phone number to print."""
    return places_services.site_create(
        actor=None,
        code="S-LF",
        name="莲峰社区服务站",
        kind="station",
        region=community,
        lat=22.523,
        lon=113.379,
        phone=PHONE,
    )


@pytest.fixture
def elder(make_resident, site):
    return make_resident(name="何美玲", age=81, roles=["elder"])


@pytest.fixture
def issued(monkeypatch):
    """Records what ``services.card_issue`` returned inside ``card_reissue_pdf`` (token and PIN are not stored)."""
    seen = []
    real = services.card_issue

    def spy(**kwargs):
        result = real(**kwargs)
        seen.append(result)
        return result

    monkeypatch.setattr(services, "card_issue", spy)
    return seen


def _text(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("何美玲", "何＊＊"),
        ("李明", "李＊"),
        ("欧阳娜娜", "欧阳＊＊"),
        ("欧阳", "欧＊"),  # two characters: surname 欧, given name 阳
        ("阿依古丽·买买提", "阿＊＊＊·＊＊＊"),
        ("何", "何＊"),
        (" 梁志明 ", "梁＊＊"),
        ("", "＊"),
    ],
)
def test_mask_name_keeps_only_the_surname(name, masked):
    assert card_pdf.mask_name(name) == masked


def test_qr_payload_format():
    token = "Abc-def_GHIjklMNOpqrSTUv"
    assert card_pdf.checkin_payload(token) == "timebank:checkin:" + token
    assert card_pdf.token_from_payload("timebank:checkin:" + token) == token
    assert card_pdf.token_from_payload(token) == token
    qr = card_pdf.card_qr(token)
    expected = segno.make_qr("timebank:checkin:" + token, error="q")
    assert not qr.is_micro
    assert qr.designator == expected.designator
    assert qr.matrix == expected.matrix
    assert card_pdf.QR_SIDE_MM >= 45


def test_reissued_card_is_one_a6_page_with_the_masked_name_pin_and_station(elder, social_worker, issued):
    pdf = cards.card_reissue_pdf(actor=social_worker, elder=elder)
    [card] = issued

    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(105 * mm, abs=0.5)
    assert float(box.height) == pytest.approx(148 * mm, abs=0.5)

    text = _text(pdf)
    assert "时间银行" in text and "长者服务卡" in text
    assert "何＊＊" in text
    assert "何美玲" not in text and "美玲" not in text
    assert card.pin in text
    assert "莲峰社区服务站" in text and PHONE in text
    assert "忘记密码或卡片丢失" in text and "旧卡立即作废" in text
    assert "Time Bank" in text
    issued_on = timezone.localdate(card.card.issued_at)
    assert f"发卡日期：{issued_on.year}年{issued_on.month}月{issued_on.day}日" in text
    # nothing that identifies the elder beyond the masked name
    assert elder.id_number not in text and elder.id_number.encode() not in pdf
    assert card.token not in text  # the token is only in the QR code
    assert "何美玲" not in str(reader.metadata)


def test_the_card_draws_the_qr_of_the_issued_token(elder, social_worker, issued, monkeypatch):
    drawn = []
    real = card_pdf.card_qr
    monkeypatch.setattr(card_pdf, "card_qr", lambda token: drawn.append(token) or real(token))
    cards.card_reissue_pdf(actor=social_worker, elder=elder)
    assert drawn == [issued[0].token]


@pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg")), reason="needs pdftoppm (poppler) and zbarimg (zbar)"
)
def test_the_printed_qr_scans_to_the_token(elder, social_worker, issued, tmp_path):
    (tmp_path / "card.pdf").write_bytes(cards.card_reissue_pdf(actor=social_worker, elder=elder))
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", "card.pdf", "card"], cwd=tmp_path, check=True)
    out = subprocess.run(
        ["zbarimg", "-q", "--raw", "card.png"], cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout.strip()
    assert card_pdf.token_from_payload(out) == issued[0].token
    assert services._code_matches(elder, card_pdf.token_from_payload(out))


def test_reissue_revokes_the_old_card(elder, social_worker, issued):
    old = services.card_issue(actor=social_worker, elder=elder)
    assert services._code_matches(elder, old.token)

    cards.card_reissue_pdf(actor=social_worker, elder=elder)
    new = issued[-1]

    old.card.refresh_from_db()
    assert old.card.revoked_at is not None
    assert ElderCard.objects.filter(elder=elder, revoked_at__isnull=True).get() == new.card
    assert not services._code_matches(elder, old.token)
    if old.pin != new.pin:  # one chance in a million that the new PIN is the same
        assert not services._code_matches(elder, old.pin)
    assert services._code_matches(elder, new.pin)
    assert services._code_matches(elder, new.token)


def test_reissue_outside_the_actors_area_is_refused_and_keeps_the_old_card(elder, other_town_admin, social_worker):
    old = services.card_issue(actor=social_worker, elder=elder)
    with pytest.raises(OutOfScope):
        cards.card_reissue_pdf(actor=other_town_admin, elder=elder)
    old.card.refresh_from_db()
    assert old.card.revoked_at is None
    assert services._code_matches(elder, old.token)


def test_a_failed_render_keeps_the_old_card(elder, social_worker, monkeypatch):
    old = services.card_issue(actor=social_worker, elder=elder)

    def broken(**kwargs):
        raise OSError("printer spool full")

    monkeypatch.setattr(cards, "render_card_pdf", broken)
    with pytest.raises(OSError):
        cards.card_reissue_pdf(actor=social_worker, elder=elder)
    old.card.refresh_from_db()
    assert old.card.revoked_at is None
    assert ElderCard.objects.filter(elder=elder).count() == 1


def test_without_a_station_the_card_names_the_town_centre(make_resident, community_b, town, town_admin, issued):
    elder = make_resident(name="梁桂英", age=79, roles=["elder"], home_region=community_b)
    assert cards.card_station(elder) is None
    places_services.site_create(
        actor=None, code="C-SQ", name="石岐街道长者综合服务中心", kind="centre", region=town, lat=22.52, lon=113.38,
        phone="0760-88800000",
    )  # fmt: skip
    assert cards.card_station(elder).code == "C-SQ"
    text = _text(cards.card_reissue_pdf(actor=town_admin, elder=elder))
    assert "石岐街道长者综合服务中心" in text and "0760-88800000" in text
    assert "梁＊＊" in text and "桂英" not in text


def test_without_a_truetype_font_the_card_uses_the_builtin_cid_font(
    elder, social_worker, issued, settings, monkeypatch
):
    settings.CARD_FONT_PATH = "/nonexistent/font.ttc"
    monkeypatch.setattr(card_pdf, "KNOWN_FONT_PATHS", ())
    assert card_pdf.card_font() == "STSong-Light"
    pdf = cards.card_reissue_pdf(actor=social_worker, elder=elder)
    assert b"STSong-Light" in pdf
    text = _text(pdf)
    assert "何＊＊" in text and "何美玲" not in text
    assert issued[0].pin in text


def test_a_font_without_chinese_is_not_used(settings, monkeypatch):
    latin = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    if not os.path.isfile(latin):
        pytest.skip("DejaVu Sans is not installed")
    settings.CARD_FONT_PATH = latin
    monkeypatch.setattr(card_pdf, "KNOWN_FONT_PATHS", ())
    assert card_pdf.card_font() == "STSong-Light"
