# ruff: noqa: F811 - the care fixtures are imported into this module and used as arguments
"""Station and area pages through the Django test client: scope, bad input writes nothing, confirmation steps."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from timebank.care import services as care
from timebank.care.models import CareEvent, Dispute, ElderCard, Need, Visit
from timebank.care.tests.conftest import (  # noqa: F401 - fixtures
    assigned,
    checked_out,
    login,
    person,
    publish,
    world,
)
from timebank.common.models import PolicyValue
from timebank.common.selectors import policy_value
from timebank.ledger.models import Transfer
from timebank.people import idnumber
from timebank.people.models import PersonalDataView, Resident
from timebank.people.tests.factories import birth_date_for_age

pytestmark = pytest.mark.django_db


@pytest.fixture
def disputed(world, checked_out):
    visit = checked_out(minutes=90)
    return care.visit_dispute(actor=world.son, visit=visit, complaint="只来了半小时")


@pytest.fixture
def other_worker(make_staff, other_site):
    return make_staff("social_worker", site=other_site, name="坦洲社工")


def _pages(world, need, visit, dispute):
    elder = world.elder.pk
    return [
        f"/station/residents/{elder}/",
        f"/station/residents/{elder}/card/",
        f"/station/residents/{elder}/need/",
        f"/station/needs/{need.pk}/",
        f"/station/visits/{visit.pk}/",
        f"/station/disputes/{dispute.pk}/",
    ]


def test_a_social_worker_of_another_town_gets_404(client, world, disputed, other_worker, publish):
    need = publish(start=world.start + dt.timedelta(days=1))
    client.force_login(other_worker)
    for url in _pages(world, need, disputed.visit, disputed):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "404.html" in [t.name for t in response.templates]
    before = (PersonalDataView.objects.count(), ElderCard.objects.count(), Dispute.objects.filter(outcome="").count())
    assert client.post(f"/station/residents/{world.elder.pk}/id-number/").status_code == 404
    assert client.post(f"/station/residents/{world.elder.pk}/card/").status_code == 404
    payload = {"idem": "k" * 10, "outcome": "void", "reason": "x"}
    assert client.post(f"/station/disputes/{disputed.pk}/", payload).status_code == 404
    after = (PersonalDataView.objects.count(), ElderCard.objects.count(), Dispute.objects.filter(outcome="").count())
    assert before == after


def test_the_own_social_worker_sees_the_pages(client, world, disputed, publish):
    need = publish(start=world.start + dt.timedelta(days=1))
    client.force_login(world.worker)
    for url in [*_pages(world, need, disputed.visit, disputed), "/station/", "/station/residents/new/"]:
        assert client.get(url).status_code == 200, url
    dashboard = client.get("/station/").content.decode()
    assert f"/station/disputes/{disputed.pk}/" in dashboard
    assert f"/station/needs/{need.pk}/" in dashboard


def test_a_volunteer_gets_403_on_the_station(client, world):
    client.force_login(world.vol)
    response = client.get("/station/")
    assert response.status_code == 403
    assert "403.html" in [t.name for t in response.templates]
    assert client.get("/area/").status_code == 403


def _register_payload(community, **overrides):
    data = {
        "idem": "web-register-1",
        "name": "张伟明",
        "id_number": idnumber.make("442000", birth_date_for_age(82), 11),
        "phone": "",
        "home_region": community.pk,
        "address": "莲峰路 3 号",
        "languages": ["yue"],
        "roles": ["elder"],
        "lives_alone": "on",
        "disability": "none",
    }
    return data | overrides


def test_register_with_a_bad_id_keeps_what_was_typed_and_writes_nothing(client, social_worker, community):
    client.force_login(social_worker)
    before = Resident.objects.count()
    response = client.post("/station/residents/new/", _register_payload(community, id_number="44200019400101123"))
    assert response.status_code == 400  # a refused entry (it was 200: issue 13)
    form = response.context["form"]
    assert form.errors["id_number"]
    body = response.content.decode()
    assert 'value="张伟明"' in body and 'value="44200019400101123"' in body and 'value="莲峰路 3 号"' in body
    assert Resident.objects.count() == before


def test_register_then_show_the_full_id_number_is_recorded(client, social_worker, community):
    client.force_login(social_worker)
    payload = _register_payload(community)
    response = client.post("/station/residents/new/", payload)
    assert response.status_code == 302
    resident = Resident.objects.get(name="张伟明")
    page = client.get(response["Location"]).content.decode()
    assert resident.id_number_masked in page and payload["id_number"] not in page
    # the same form posted again (a double click) registers nobody new and leads to the same page
    again = client.post("/station/residents/new/", payload)
    assert again.status_code == 302 and again["Location"] == response["Location"]
    assert Resident.objects.filter(name="张伟明").count() == 1
    shown = client.post(f"/station/residents/{resident.pk}/id-number/")
    assert payload["id_number"] in shown.content.decode()
    assert PersonalDataView.objects.filter(viewer=social_worker, resident=resident, kind="id_number").count() == 1


def test_a_community_outside_the_area_is_not_offered(client, social_worker, other_community):
    client.force_login(social_worker)
    before = Resident.objects.count()
    response = client.post("/station/residents/new/", _register_payload(other_community))
    assert response.status_code == 400 and response.context["form"].errors["home_region"]
    assert Resident.objects.count() == before


def test_search_by_initials(client, world):
    client.force_login(world.worker)
    response = client.get("/station/residents/", {"q": "hhz"})
    assert [r.pk for r in response.context["found"]] == [world.elder.pk]


def test_publish_a_need_and_a_bad_window_writes_nothing(client, world):
    client.force_login(world.worker)
    items = Need.objects.count()
    day = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    from timebank.care.models import Item

    item = Item.objects.get(code="chat")
    bad = {"idem": "web-need-bad-1", "item": item.pk, "day": day, "start": "11:00", "end": "09:00"}
    response = client.post(f"/station/residents/{world.elder.pk}/need/", bad)
    assert response.status_code == 400 and response.context["form"].errors["end"]
    assert Need.objects.count() == items
    good = bad | {"idem": "web-need-good-1", "start": "09:00", "end": "11:00", "payer": "government"}
    response = client.post(f"/station/residents/{world.elder.pk}/need/", good)
    assert response.status_code == 302
    need = Need.objects.get(elder=world.elder)
    assert need.via == Need.Via.STATION and response["Location"] == f"/station/needs/{need.pk}/"
    client.post(f"/station/residents/{world.elder.pk}/need/", good)  # double submit
    assert Need.objects.count() == items + 1


def test_dispatch_assign_and_double_booking_in_plain_words(client, world, publish):
    first = publish()
    second = publish(item="grocery")  # the same window
    client.force_login(world.worker)
    page = client.get(f"/station/needs/{first.pk}/")
    assert page.status_code == 200
    response = client.post(f"/station/needs/{first.pk}/", {"idem": "web-assign-1", "volunteer": world.vol.resident_id})
    assert response.status_code == 302
    visit = Visit.objects.get(need=first)
    assert response["Location"] == f"/station/visits/{visit.pk}/"
    refused = client.post(f"/station/needs/{second.pk}/", {"idem": "web-assign-2", "volunteer": world.vol.resident_id})
    assert refused.status_code == 400 and refused.context["error"]
    assert not Visit.objects.filter(need=second).exists()


def test_check_in_out_and_confirm_for_an_elder_without_a_phone(client, world, assigned):
    visit = assigned()
    client.force_login(world.worker)
    url = f"/station/visits/{visit.pk}/"
    start = timezone.localtime(visit.need.window_start)
    fmt = "%Y-%m-%dT%H:%M"
    # a time far outside the window is refused next to the field, and nothing moves
    early = {"idem": "web-in-0", "action": "check_in", "at": (start - dt.timedelta(days=1)).strftime(fmt)}
    response = client.post(url, early)
    assert response.status_code == 400 and response.context["form"].errors["at"]
    visit.refresh_from_db()
    assert visit.status == Visit.Status.ASSIGNED
    assert client.post(url, {"idem": "web-in-1", "action": "check_in", "at": start.strftime(fmt)}).status_code == 302
    out = (start + dt.timedelta(minutes=75)).strftime(fmt)
    assert client.post(url, {"idem": "web-out-1", "action": "check_out", "at": out}).status_code == 302
    assert client.post(url, {"idem": "web-ok-1", "action": "confirm"}).status_code == 302
    assert client.post(url, {"idem": "web-ok-1", "action": "confirm"}).status_code == 302  # double click
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CONFIRMED and visit.confirmed_via == "station"
    assert visit.check_in_method == "station" and visit.actual_minutes == 75
    assert visit.transfer_id is not None


def test_resolve_without_a_reason_writes_nothing(client, world, disputed):
    client.force_login(world.worker)
    url = f"/station/disputes/{disputed.pk}/"
    transfers, events = Transfer.objects.count(), CareEvent.objects.count()
    response = client.post(url, {"idem": "web-res-1", "outcome": "void", "reason": "   "})
    assert response.status_code == 400 and response.context["form"].errors["reason"]
    bad_part = client.post(url, {"idem": "web-res-2", "outcome": "part", "reason": "半小时", "minutes": "9999"})
    assert bad_part.context["form"].errors["minutes"]
    disputed.refresh_from_db()
    assert disputed.outcome == "" and Transfer.objects.count() == transfers and CareEvent.objects.count() == events
    done = client.post(url, {"idem": "web-res-3", "outcome": "part", "minutes": "30", "reason": "只服务了半小时"})
    assert done.status_code == 302
    disputed.refresh_from_db()
    assert disputed.outcome == "part" and disputed.minutes_paid == 30


def test_print_a_card_is_a_pdf_download_and_revokes_the_old_card(client, world):
    client.force_login(world.worker)
    old = care.card_issue(actor=world.worker, elder=world.elder).card
    page = client.get(f"/station/residents/{world.elder.pk}/card/")
    assert page.status_code == 200 and ElderCard.objects.get(pk=old.pk).revoked_at is None
    response = client.post(f"/station/residents/{world.elder.pk}/card/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert response.content.startswith(b"%PDF")
    assert ElderCard.objects.get(pk=old.pk).revoked_at is not None


KEY = "ledger.balance_cap_minutes"


def test_policy_change_needs_the_confirmation_step_and_a_supervisor(client, supervisor, town_admin):
    day = (timezone.localdate() + dt.timedelta(days=40)).isoformat()
    url = f"/area/policies/{KEY}/"
    payload = {"idem": "web-pol-1", "value": "72,000", "effective_from": day, "note": "试行"}
    versions = PolicyValue.objects.count()
    client.force_login(town_admin)
    assert client.get("/area/").status_code == 200
    assert client.get("/area/policies/").status_code == 403
    assert client.post(url, payload | {"step": "confirm"}).status_code == 403
    assert PolicyValue.objects.count() == versions

    client.force_login(supervisor)
    assert client.get("/area/policies/").status_code == 200
    check = client.post(url, payload | {"step": "check"})
    assert check.status_code == 200 and "web/area/policy_confirm.html" in [t.name for t in check.templates]
    assert PolicyValue.objects.count() == versions  # nothing yet
    backdated = client.post(url, payload | {"step": "confirm", "effective_from": "2020-01-01"})
    assert backdated.context["form"].errors["effective_from"]
    silly = client.post(url, payload | {"step": "check", "value": "abc"})
    assert silly.context["form"].errors["value"]
    assert PolicyValue.objects.count() == versions
    done = client.post(url, payload | {"step": "confirm"})
    assert done.status_code == 302
    assert PolicyValue.objects.count() == versions + 1
    assert policy_value(KEY, on=dt.date.fromisoformat(day)) == 72000
    again = client.post(url, payload | {"step": "confirm"})  # the same day twice: refused in plain words
    assert again.status_code == 400 and again.context["form"].errors["effective_from"]


def test_confirmation_sentence_in_english(client, supervisor):
    client.cookies["django_language"] = "en"
    client.force_login(supervisor)
    day = (timezone.localdate() + dt.timedelta(days=40)).isoformat()
    body = client.post(
        f"/area/policies/{KEY}/", {"idem": "web-pol-2", "value": "72000", "effective_from": day, "step": "check"}
    ).content.decode()
    assert f"From {day}" in body and "72,000 minutes (1,200 h)" in body and "90,000 minutes (1,500 h)" in body


def test_area_overview_counts_only_the_area(client, town_admin, other_town_admin, world):
    client.force_login(town_admin)
    mine = client.get("/area/").context["figures"]
    client.force_login(other_town_admin)
    theirs = client.get("/area/").context["figures"]
    assert mine.elders == 1 and mine.priority_elders == 1 and mine.volunteers == 2
    assert theirs.elders == 0 and theirs.volunteers == 0


def test_policy_values_read_as_words_not_codes():
    from django.utils.translation import override

    from timebank.common.policies import SPECS
    from timebank.web.area.views import show_value

    with override("en"):
        assert show_value(SPECS["ledger.rounding_mode"], "nearest") == "to the nearest step"
        assert show_value(SPECS["people.transfer_relative_kinds"], ["spouse", "child"]) == "Spouse, Child"
    with override("zh-hans"):
        assert show_value(SPECS["people.transfer_relative_kinds"], ["spouse", "child"]) == "配偶、子女"
        assert show_value(SPECS["ledger.rounding_mode"], "nearest") == "四舍五入到最近的一档"
