"""The volunteer pages with Django's test client: who may see what, bad input, double submits, star levels."""
# ruff: noqa: F811 - the care fixtures are imported and then requested by name

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from timebank.care import services as care
from timebank.care.models import Application, CareEvent, Visit
from timebank.care.tests.conftest import (  # noqa: F401 - fixtures
    assigned,
    care_counts,
    checked_out,
    fund,
    login,
    person,
    publish,
    world,
)
from timebank.ledger import services as ledger
from timebank.ledger.models import Transfer
from timebank.ledger.selectors import resident_balance
from timebank.people.services import relationship_create
from timebank.rewards.selectors import service_minutes, star_level
from timebank.training.services import certificate_issue

pytestmark = pytest.mark.django_db

URL = "/volunteer/"


def url(name: str, *args: object) -> str:
    return reverse(f"web:volunteer:{name}", args=args)


@pytest.fixture
def vol_client(client, world):
    client.force_login(world.vol)
    return client


@pytest.fixture
def soon(world, assigned):
    """A visit of the world's volunteer starting in 30 minutes (check-in is open), and the card's PIN."""
    card = care.card_issue(actor=None, elder=world.elder)
    start = (timezone.now() + dt.timedelta(minutes=30)).replace(second=0, microsecond=0)
    return assigned(start=start), card


# --------------------------------------------------------------------------------------------- access


@pytest.mark.parametrize("name", ["index", "needs", "schedule", "hours", "stars", "certificates", "give"])
def test_pages_open_for_the_volunteer(vol_client, name):
    response = vol_client.get(url(name))
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["index", "needs", "schedule", "hours", "stars", "certificates", "give"])
def test_a_non_volunteer_gets_403(client, world, name):
    client.force_login(world.son)  # a proxy, not a volunteer
    response = client.get(url(name))
    assert response.status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get(url("needs"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_someone_elses_visit_is_404(client, world, soon):
    visit, card = soon
    client.force_login(world.vol2)
    before = care_counts()
    assert client.get(url("visit", visit.pk)).status_code == 404
    assert client.post(url("check_in", visit.pk), {"pin": card.pin}).status_code == 404
    assert client.post(url("decline", visit.pk), {"reason": "x"}).status_code == 404
    assert care_counts() == before
    visit.refresh_from_db()
    assert visit.status == Visit.Status.ASSIGNED


# --------------------------------------------------------------------------------------------- needs


def test_needs_near_me_lists_distance_time_and_payer(vol_client, world, publish):
    need = publish()
    body = vol_client.get(url("needs")).content.decode()
    assert f'id="need-{need.pk}"' in body
    assert "0.0" in body  # same community: 0.0 km
    assert url("apply", need.pk) in body


def test_apply_then_applied(vol_client, world, publish):
    need = publish()
    response = vol_client.post(url("apply", need.pk))
    assert response.status_code == 302
    assert Application.objects.filter(need=need, volunteer=world.vol.resident).count() == 1
    body = vol_client.get(url("needs")).content.decode()
    assert 'data-testid="applied"' in body


def test_apply_refused_in_plain_words_without_certificate(vol_client, world, publish):
    need = publish(item="bath")
    vol_client.cookies["django_language"] = "en"
    response = vol_client.post(url("apply", need.pk))
    assert response.status_code == 400
    assert "certificate" in response.content.decode()
    assert not Application.objects.filter(need=need).exists()


# --------------------------------------------------------------------------------------------- schedule


def test_schedule_shows_upcoming_and_decline_needs_a_reason(vol_client, world, assigned):
    visit = assigned()
    body = vol_client.get(url("schedule")).content.decode()
    assert url("visit", visit.pk) in body and url("decline", visit.pk) in body
    before = care_counts()
    response = vol_client.post(url("decline", visit.pk), {"reason": "   "})
    assert response.status_code == 400
    assert response.context["form"].errors["reason"]
    assert care_counts() == before
    response = vol_client.post(url("decline", visit.pk), {"reason": "家里有事"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CANCELLED


# --------------------------------------------------------------------------------------------- on site


def test_check_in_page_has_pin_field_and_scanner(vol_client, soon):
    visit, _card = soon
    body = vol_client.get(url("visit", visit.pk)).content.decode()
    assert 'name="pin"' in body and 'inputmode="numeric"' in body
    assert "vendor/jsqr/jsQR.js" in body
    assert 'data-testid="camera-fallback"' in body


@pytest.mark.parametrize("typed", ["12ab56", "12345", ""])
def test_malformed_pin_keeps_what_was_typed_and_writes_nothing(vol_client, soon, typed):
    visit, _card = soon
    before = care_counts()
    response = vol_client.post(url("check_in", visit.pk), {"pin": typed})
    assert response.status_code == 400
    assert response.context["check_in"].errors["pin"]
    assert f'value="{typed}"' in response.content.decode()
    assert care_counts() == before
    visit.refresh_from_db()
    assert visit.status == Visit.Status.ASSIGNED and visit.code_failures == 0


def test_wrong_pin_is_shown_next_to_the_field(vol_client, soon):
    visit, card = soon
    wrong = "000000" if card.pin != "000000" else "111111"
    vol_client.cookies["django_language"] = "en"
    response = vol_client.post(url("check_in", visit.pk), {"pin": wrong})
    assert response.status_code == 400
    assert "does not match" in response.context["check_in"].errors["pin"][0]
    visit.refresh_from_db()
    assert visit.status == Visit.Status.ASSIGNED


def test_too_far_is_refused_in_plain_words(vol_client, soon):
    visit, card = soon
    vol_client.cookies["django_language"] = "en"
    response = vol_client.post(url("check_in", visit.pk), {"pin": card.pin, "lat": "22.0", "lon": "113.0"})
    assert response.status_code == 400
    assert "check-in works within" in " ".join(response.context["check_in"].non_field_errors())
    visit.refresh_from_db()
    assert visit.status == Visit.Status.ASSIGNED


def test_outside_the_window_is_refused(vol_client, world, assigned):
    card = care.card_issue(actor=None, elder=world.elder)
    visit = assigned()  # starts in two hours: check-in opens one hour before
    response = vol_client.post(url("check_in", visit.pk), {"pin": card.pin})
    assert response.status_code == 400
    assert response.context["check_in"].non_field_errors()


def test_check_in_with_pin_or_qr_then_out_double_submit_once(vol_client, soon):
    visit, card = soon
    data = {"pin": f"{card.pin[:3]} {card.pin[3:]}", "lat": "", "lon": ""}  # spaces as people type them
    assert vol_client.post(url("check_in", visit.pk), data).status_code == 302
    assert vol_client.post(url("check_in", visit.pk), data).status_code == 302  # second press: nothing more
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CHECKED_IN and visit.check_in_method == "pin"
    assert CareEvent.objects.filter(visit=visit, to_status=Visit.Status.CHECKED_IN).count() == 1
    # check-out (service time must be at least a minute: move the check-in back)
    Visit.objects.filter(pk=visit.pk).update(check_in_at=timezone.now() - dt.timedelta(minutes=50))
    assert vol_client.post(url("check_out", visit.pk), {}).status_code == 302
    assert vol_client.post(url("check_out", visit.pk), {}).status_code == 302
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CHECKED_OUT
    assert CareEvent.objects.filter(visit=visit, to_status=Visit.Status.CHECKED_OUT).count() == 1


def test_a_visit_of_a_few_minutes_is_closed_at_check_out_and_the_volunteer_told(vol_client, soon):
    visit, card = soon
    assert vol_client.post(url("check_in", visit.pk), {"pin": card.pin}).status_code == 302
    Visit.objects.filter(pk=visit.pk).update(check_in_at=timezone.now() - dt.timedelta(minutes=5, seconds=10))
    vol_client.cookies["django_language"] = "en"
    response = vol_client.post(url("check_out", visit.pk), {}, follow=True)
    assert response.status_code == 200
    assert "only 5 minutes, too short to earn hours" in response.content.decode()
    assert vol_client.post(url("check_out", visit.pk), {}).status_code == 302  # pressed again: nothing more
    visit.refresh_from_db()
    assert visit.status == Visit.Status.TOO_SHORT and visit.credited_minutes == 0


def test_check_in_with_scanned_qr_payload(vol_client, soon):
    visit, card = soon
    response = vol_client.post(url("check_in", visit.pk), {"qr": f"timebank:checkin:{card.token}"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CHECKED_IN and visit.check_in_method == "qr"


# --------------------------------------------------------------------------------------------- hours and giving


@pytest.fixture
def family(world):
    """The volunteer's mother, registered as a relative who may receive hours."""
    from timebank.conftest import ResidentFactory

    mother = ResidentFactory(name="黄妈妈", age=70, roles=["elder"], home_region=world.elder.home_region)
    relationship_create(actor=None, resident=world.vol.resident, relative=mother, kind="parent")
    return mother


def test_give_to_family_review_confirm_and_double_submit_posts_once(vol_client, world, fund, family):
    me = world.vol.resident
    fund(me, 300)
    page = vol_client.get(url("give"))
    idem = page.context["form"].initial["idem"]
    data = {"idem": idem, "to": str(family.pk), "amount": "1.5", "step": "review"}
    review = vol_client.post(url("give"), data)
    assert review.status_code == 200
    assert "web/volunteer/give_confirm.html" in [t.name for t in review.templates]
    assert not Transfer.objects.filter(kind=Transfer.Kind.FAMILY_TRANSFER).exists()  # not yet
    data["step"] = "confirm"
    assert vol_client.post(url("give"), data).status_code == 302
    assert vol_client.post(url("give"), data).status_code == 302  # the same form sent twice
    assert Transfer.objects.filter(kind=Transfer.Kind.FAMILY_TRANSFER).count() == 1
    assert resident_balance(me).posted == 300 - 90
    assert resident_balance(family).posted == 90


def test_donate_to_pool(vol_client, world, fund):
    me = world.vol.resident
    fund(me, 120)
    data = {"idem": "web-test-donate-1", "to": "pool", "amount": "2", "step": "confirm"}
    assert vol_client.post(url("give"), data).status_code == 302
    assert Transfer.objects.filter(kind=Transfer.Kind.DONATION).count() == 1
    assert resident_balance(me).posted == 0


@pytest.mark.parametrize("amount", ["1.3", "abc", "0", "-2", ""])
def test_bad_amount_keeps_what_was_typed_and_writes_nothing(vol_client, world, fund, family, amount):
    fund(world.vol.resident, 300)
    before = Transfer.objects.count()
    data = {"idem": "web-test-bad-amount", "to": str(family.pk), "amount": amount, "step": "confirm"}
    response = vol_client.post(url("give"), data)
    assert response.status_code == 400
    assert response.context["form"].errors["amount"]
    assert f'value="{amount}"' in response.content.decode()
    assert Transfer.objects.count() == before


def test_more_than_available_is_refused_and_writes_nothing(vol_client, world, fund, family):
    fund(world.vol.resident, 60)
    before = Transfer.objects.count()
    data = {"idem": "web-test-too-much", "to": str(family.pk), "amount": "5", "step": "confirm"}
    response = vol_client.post(url("give"), data)
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() or response.context["form"].errors
    assert Transfer.objects.count() == before


def test_a_stranger_cannot_be_chosen(vol_client, world, fund):
    fund(world.vol.resident, 300)
    data = {"idem": "web-test-stranger", "to": str(world.elder.pk), "amount": "1", "step": "confirm"}
    response = vol_client.post(url("give"), data)
    assert response.status_code == 400
    assert response.context["form"].errors["to"]
    assert not Transfer.objects.filter(kind=Transfer.Kind.FAMILY_TRANSFER).exists()


def test_group_hours_only_to_the_pool(vol_client, world, family):
    me = world.vol.resident
    ledger.group_credit_batch(key="web-test-group", volunteers=[(me, 120)], memo="重阳节")
    hours_page = vol_client.get(url("hours")).content.decode()
    assert 'data-testid="group-hours"' in hours_page
    data = {"idem": "web-test-group-1", "to": str(family.pk), "amount": "1", "from_group": "on", "step": "confirm"}
    response = vol_client.post(url("give"), data)
    assert response.status_code == 400 and response.context["form"].errors["from_group"]
    data |= {"to": "pool"}
    assert vol_client.post(url("give"), data).status_code == 302
    assert Transfer.objects.filter(kind=Transfer.Kind.DONATION).count() == 1


# --------------------------------------------------------------------------------------------- stars


def test_star_level_counts_service_not_balance(vol_client, world, supervisor, family):
    me = world.vol.resident
    credit = ledger.service_credit(
        key="web-test-svc-1", volunteer=me, payer="government", elder=world.elder, minutes=150 * 60
    )
    assert service_minutes(me) == 150 * 60
    assert star_level(me).stars == 1
    # a family transfer lowers the balance, not the star level
    ledger.family_transfer(key="web-test-fam-1", sender=me, recipient=family, minutes=120 * 60)
    assert star_level(me).stars == 1 and service_minutes(me) == 150 * 60
    level = star_level(me)
    assert level.next_stars == 2 and level.missing_hours == 150 and level.percent == 25
    body = vol_client.get(url("stars")).content.decode()
    assert 'data-stars="1"' in body and 'aria-valuenow="25"' in body
    # a correction of a service credit does lower it
    assert credit.transfer is not None
    ledger.adjustment_post(
        key="web-test-adj", account=ledger.account_for(me), minutes=200 * 60, actor=supervisor, reason="x"
    )
    ledger.transfer_reverse(key="web-test-rev", original=credit.transfer, actor=supervisor, reason="记录有误")
    assert service_minutes(me) == 0 and star_level(me).stars == 0


def test_certificates_valid_and_expired(vol_client, world):
    me = world.vol.resident
    today = timezone.localdate()
    certificate_issue(
        actor=None,
        holder=me,
        track="elderly",
        number="YL-1",
        valid_from=today - dt.timedelta(days=10),
        valid_until=today + dt.timedelta(days=300),
    )
    certificate_issue(
        actor=None,
        holder=me,
        track="medical",
        number="YH-1",
        valid_from=today - dt.timedelta(days=800),
        valid_until=today - dt.timedelta(days=70),
    )
    response = vol_client.get(url("certificates"))
    body = response.content.decode()
    assert body.count('data-testid="cert-valid"') == 1 and body.count('data-testid="cert-other"') == 1


def test_index_shows_next_visit(vol_client, assigned):
    visit = assigned()
    body = vol_client.get(URL).content.decode()
    assert url("visit", visit.pk) in body
