"""My data (我的信息): see, download, ask for a correction, leave; the staff queue answers within its area.
Refusals are a clear 4xx in the user's language and write nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from timebank.conftest import PASSWORD
from timebank.ledger import services as ledger
from timebank.ledger.models import Transfer
from timebank.ledger.sealing import verify_ledger
from timebank.notify.models import Notification
from timebank.people import privacy as people_privacy
from timebank.people import services as people_services
from timebank.people.models import CorrectionRequest, Departure, User

pytestmark = pytest.mark.django_db

MINE = "/my-data/"


@pytest.fixture
def alice(make_resident):
    r = make_resident(name="李志愿", age=30, roles=["volunteer"], phone="13800138000", address="莲峰路3号")
    return people_services.login_create(actor=None, resident=r, password=PASSWORD)


@pytest.fixture
def bob(make_resident):
    r = make_resident(name="王志愿", age=31, roles=["volunteer"], phone="13800138001", address="悦来路8号")
    return people_services.login_create(actor=None, resident=r, password=PASSWORD)


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_signed_out_people_are_sent_to_the_login_page(client):
    for url in (MINE, MINE + "download/", MINE + "leave/", MINE + "requests/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_page_shows_my_data_and_not_someone_elses(alice, bob, social_worker):
    people_services.personal_data_view_record(viewer=social_worker, resident=alice.resident, purpose="核对身份")
    page = as_user(alice).get(MINE)
    text = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert "李志愿" in text and "莲峰路3号" in text and alice.resident.id_number_masked in text
    assert str(alice.resident.id_number) not in text  # masked, even for the person
    assert "王志愿" not in text and "悦来路8号" not in text
    assert "核对身份" in text and "莲峰社工" in text  # who looked at my full data
    keys = [s.key for s in page.context["sections"]]
    assert keys[:4] == ["profile", "roles", "circumstances", "relatives"] and "ledger" in keys and "views" in keys


def test_the_download_is_my_data_as_json(alice, bob):
    response = as_user(alice).get(MINE + "download/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment;") and "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["format"] == "timebank.my-data/1" and data["resident_id"] == alice.resident.pk
    profile = {row["item"]: row["value"] for row in data["sections"]["profile"]}
    assert "李志愿" in profile.values() and "王志愿" not in response.content.decode()


def test_a_staff_login_without_a_resident_record_is_told_so(town_admin):
    page = as_user(town_admin).get(MINE)
    assert page.status_code == 200 and b'data-testid="no-resident"' in page.content
    assert as_user(town_admin).get(MINE + "download/").status_code == 404


def test_asking_for_a_correction_and_the_station_answers(alice, social_worker):
    sent = as_user(alice).post(
        MINE + "correct/", {"field": "address", "new_value": "莲峰路5号", "reason": "门牌号写错了"}
    )
    assert sent.status_code == 302 and sent["Location"].endswith("?done=asked#requests")
    req = CorrectionRequest.objects.get()
    staff = as_user(social_worker)
    queue = staff.get(MINE + "requests/")
    assert queue.status_code == 200 and f'data-testid="req-{req.pk}"' in queue.content.decode()
    detail = staff.get(f"{MINE}requests/{req.pk}/")
    assert detail.status_code == 200 and "莲峰路3号" in detail.content.decode()
    answered = staff.post(f"{MINE}requests/{req.pk}/", {"decision": "accept", "note": ""})
    assert answered.status_code == 302
    alice.resident.refresh_from_db()
    assert alice.resident.address == "莲峰路5号"
    assert Notification.objects.filter(recipient=alice.resident, topic="privacy.correction").exists()
    assert (
        "已更正" in as_user(alice).get(MINE).content.decode()
        or "Corrected" in as_user(alice).get(MINE).content.decode()
    )


@pytest.mark.parametrize(
    ("data", "status", "code_text"),
    [
        ({"field": "address", "new_value": "莲峰路5号", "reason": ""}, 400, "哪里不对"),
        ({"field": "address", "new_value": "", "reason": "搬家"}, 400, "正确的内容"),
        ({"field": "phone", "new_value": "123", "reason": "换号"}, 400, "11 位"),
        ({"field": "salary", "new_value": "1", "reason": "x"}, 400, "salary"),
        ({"field": "name", "new_value": "李\u202e志愿", "reason": "改名"}, 400, "正确的内容"),
    ],
)
def test_bad_requests_answer_4xx_in_chinese_and_write_nothing(alice, data, status, code_text):
    response = as_user(alice).post(MINE + "correct/", data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == status
    text = response.content.decode()
    assert code_text in text and "没有保存" in text
    assert not CorrectionRequest.objects.exists()


def test_staff_outside_the_area_do_not_see_or_answer(alice, other_town_admin, partner_admin):
    req = people_privacy.correction_request_create(
        actor=alice, resident=alice.resident, field="address", new_value="莲峰路5号", reason="写错"
    )
    other = as_user(other_town_admin)
    assert f"req-{req.pk}" not in other.get(MINE + "requests/").content.decode()
    assert other.get(f"{MINE}requests/{req.pk}/").status_code == 404
    assert other.post(f"{MINE}requests/{req.pk}/", {"decision": "accept"}).status_code == 404
    partner = as_user(partner_admin)
    assert partner.get(MINE + "requests/").status_code == 403
    assert partner.post(f"{MINE}requests/{req.pk}/", {"decision": "accept"}).status_code == 403
    residents_queue = as_user(alice).get(MINE + "requests/")
    assert residents_queue.status_code == 403
    req.refresh_from_db()
    alice.resident.refresh_from_db()
    assert req.status == "open" and alice.resident.address == "莲峰路3号"


def test_a_rejection_needs_a_reason(alice, social_worker):
    req = people_privacy.correction_request_create(
        actor=alice, resident=alice.resident, field="name", new_value="李志原", reason="写错"
    )
    response = as_user(social_worker).post(
        f"{MINE}requests/{req.pk}/", {"decision": "reject", "note": ""}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 400 and "理由" in response.content.decode()
    req.refresh_from_db()
    assert req.status == "open" and not Notification.objects.exists()


def test_leaving_from_the_page(alice, supervisor):
    ledger.adjustment_post(
        key="fund-alice-0001", account=ledger.account_for(alice.resident), minutes=90, actor=supervisor, reason="t"
    )
    client = as_user(alice)
    confirm = client.get(MINE + "leave/")
    assert (
        confirm.status_code == 200
        and b'data-testid="leave-yes"' in confirm.content
        and "1.5" in (confirm.content.decode())
    )
    done = client.post(MINE + "leave/", {"step": "confirm"})
    assert done.status_code == 200 and b'data-testid="left"' in done.content
    alice.refresh_from_db()
    resident = alice.resident
    assert not alice.is_active and resident.name == people_privacy.pseudonym(resident.pk)
    assert Departure.objects.get(resident=resident).hours_minutes == 90
    assert Transfer.objects.filter(key=f"leave-{resident.pk}-personal").exists()
    assert verify_ledger().ok
    assert client.get(MINE).status_code == 302  # logged out


def test_staff_record_that_someone_left_and_the_data_is_kept_until_the_retention(alice, social_worker):
    staff = as_user(social_worker)
    found = staff.get(MINE + "departures/", {"q": "李志愿"})
    assert found.status_code == 200 and f"/my-data/departures/{alice.resident.pk}/" in found.content.decode()
    page = staff.get(f"{MINE}departures/{alice.resident.pk}/")
    assert page.status_code == 200
    done = staff.post(f"{MINE}departures/{alice.resident.pk}/", {"reason": "moved"})
    assert done.status_code == 302 and done["Location"].endswith("?done=recorded")
    alice.refresh_from_db()
    alice.resident.refresh_from_db()
    assert not alice.is_active and alice.resident.name == "李志愿"  # kept until the retention period ends
    assert Departure.objects.get(resident=alice.resident).reason == "moved"
    again = staff.post(f"{MINE}departures/{alice.resident.pk}/", {"reason": "moved"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert again.status_code == 409 and "已注销" in again.content.decode()


def test_departures_outside_the_area_or_bad_input_write_nothing(alice, other_town_admin, partner_admin, social_worker):
    url = f"{MINE}departures/{alice.resident.pk}/"
    assert as_user(other_town_admin).post(url, {"reason": "moved"}).status_code == 404
    assert url not in as_user(other_town_admin).get(MINE + "departures/", {"q": "李志愿"}).content.decode()
    assert as_user(partner_admin).post(url, {"reason": "moved"}).status_code == 403
    assert as_user(alice).post(url, {"reason": "moved"}).status_code == 403
    assert as_user(social_worker).post(url, {"reason": "bored"}).status_code == 400
    assert not Departure.objects.exists()
    alice.refresh_from_db()
    assert alice.is_active
