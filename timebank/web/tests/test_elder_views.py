"""The elder area with the Django test client: who may see what, bad input, double submits.

The people are the care tests' ``world``: 何惠珍 (82, lives alone) and her son 梁志明, her proxy.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from timebank.care.models import ElderCard, Need, Rating, Visit
from timebank.care.tests import conftest as care
from timebank.conftest import PASSWORD
from timebank.ledger.models import Transfer
from timebank.ledger.selectors import resident_balance
from timebank.people.services import login_create, relationship_create

pytestmark = pytest.mark.django_db

# the care tests' fixtures: the world (elder, son, volunteers, social worker) and a visit's life
world, publish, assigned, checked_out, fund, person = (
    care.world,
    care.publish,
    care.assigned,
    care.checked_out,
    care.fund,
    care.person,
)
login = care.login
care_counts = care.care_counts


def sign_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def son(client, world):
    return sign_in(client, world.son)


@pytest.fixture
def stranger_elder(make_resident):
    """Another elder, with nothing to do with the son."""
    return make_resident(name="陈伯", age=85, roles=["elder"])


def url(name, elder, *args):
    return reverse(f"web:elder:{name}", args=[elder.pk, *args])


PAGES = ["home", "ask", "visits", "statement", "give", "card"]


# --------------------------------------------------------------------------------------------- who may see


def test_anonymous_goes_to_login(client, world):
    for name in PAGES:
        response = client.get(url(name, world.elder))
        assert response.status_code == 302 and response["Location"].startswith(reverse("web:login"))
    assert client.get(reverse("web:elder:index"))["Location"].startswith(reverse("web:login"))


def test_proxy_with_one_elder_goes_straight_to_her_page(son, world):
    response = son.get(reverse("web:elder:index"))
    assert response.status_code == 302 and response["Location"] == url("home", world.elder)
    page = son.get(url("home", world.elder))
    assert page.status_code == 200
    for name in ("ask", "visits", "statement", "give", "card"):
        assert url(name, world.elder) in page.content.decode()


def test_proxy_of_two_elders_chooses_first(son, world, make_resident):
    father = make_resident(name="梁伯", age=84, roles=["elder"])
    relationship_create(
        actor=None, resident=father, relative=world.son.resident, kind="child", is_proxy=True, consent_note="签字"
    )
    response = son.get(reverse("web:elder:index"))
    assert response.status_code == 200
    body = response.content.decode()
    assert url("home", world.elder) in body and url("home", father) in body


@pytest.mark.parametrize("name", PAGES)
def test_another_elders_id_is_404(son, stranger_elder, name):
    assert son.get(url(name, stranger_elder)).status_code == 404


def test_another_elders_id_is_404_for_every_post(son, world, stranger_elder, checked_out):
    visit = checked_out()
    before = care_counts()
    for target in (
        url("ask_when", stranger_elder, "chat"),
        url("give", stranger_elder),
        url("card", stranger_elder),
    ):
        assert son.post(target, {"when": "tomorrow_am"}).status_code == 404
    # the son's own elder's visit, but under another elder's id
    assert son.post(url("visit_confirm", stranger_elder, visit.pk), {"action": "confirm"}).status_code == 404
    assert care_counts() == before


def test_a_visit_of_another_elder_is_404(son, world, stranger_elder, checked_out):
    other = checked_out(elder=stranger_elder)
    assert son.get(url("visit_confirm", world.elder, other.pk)).status_code == 404
    assert son.post(url("visit_confirm", world.elder, other.pk), {"action": "confirm"}).status_code == 404
    assert son.post(url("visit_rate", world.elder, other.pk), {"stars": "5"}).status_code == 404
    assert Visit.objects.get(pk=other.pk).status == Visit.Status.CHECKED_OUT


def test_a_volunteer_without_elders_gets_403(client, world):
    sign_in(client, world.vol)
    assert client.get(reverse("web:elder:index")).status_code == 403
    assert client.get(url("home", world.elder)).status_code == 403


def test_the_elder_herself_can_use_the_pages(client, world):
    world.elder.phone = "13600000003"
    world.elder.save(update_fields=["phone"])
    user = login_create(actor=None, resident=world.elder, password=PASSWORD)
    sign_in(client, user)
    assert client.get(reverse("web:elder:index"))["Location"] == url("home", world.elder)
    for name in PAGES:
        assert client.get(url(name, world.elder)).status_code == 200


# --------------------------------------------------------------------------------------------- ask for help


def test_ask_for_help_in_three_steps(son, world):
    step1 = son.get(url("ask", world.elder))
    assert url("ask_when", world.elder, "chat") in step1.content.decode()
    step2 = son.get(url("ask_when", world.elder, "chat"))
    assert step2.status_code == 200
    response = son.post(url("ask_when", world.elder, "chat"), {"when": "tomorrow_pm", "notes": "请讲粤语"})
    assert response.status_code == 302
    need = Need.objects.get(elder=world.elder)
    assert response["Location"] == url("ask_done", world.elder, need.pk)
    start = timezone.localtime(need.window_start)
    assert start.date() == timezone.localdate() + dt.timedelta(days=1) and start.hour == 14
    assert need.via == Need.Via.PROXY and need.notes == "请讲粤语"
    assert need.payer == Need.Payer.POOL  # she lives alone at 82: a priority elder
    done = son.get(response["Location"])
    assert 'data-payer="pool"' in done.content.decode()


def test_another_day_needs_a_day_and_keeps_what_was_typed(son, world):
    before = care_counts()
    response = son.post(url("ask_when", world.elder, "chat"), {"when": "other", "day": "", "notes": "下午好"})
    assert response.status_code == 400
    assert response.context["form"].errors["day"]
    assert "下午好" in response.content.decode()
    assert re.search(r'value="other" id="id_when_\d" checked', response.content.decode())
    assert care_counts() == before


def test_a_day_in_the_past_is_refused_next_to_the_day(son, world):
    before = care_counts()
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    response = son.post(url("ask_when", world.elder, "chat"), {"when": "other", "day": yesterday, "part": "pm"})
    assert response.status_code == 400
    assert response.context["form"].errors["day"]
    assert yesterday in response.content.decode()
    assert care_counts() == before


@pytest.mark.parametrize("bad", [{}, {"when": "never"}, {"when": "other", "day": "2026-13-45"}])
def test_bad_times_write_nothing(son, world, bad):
    before = care_counts()
    response = son.post(url("ask_when", world.elder, "chat"), bad)
    assert response.status_code == 400
    assert care_counts() == before


def test_unknown_service_is_404(son, world):
    assert son.get(url("ask_when", world.elder, "no-such-thing")).status_code == 404


def test_own_hours_offered_only_when_the_balance_covers_it(son, world, fund):
    assert "own_hours" not in son.get(url("ask_when", world.elder, "chat")).context["form"].fields
    fund(world.elder, 120)
    assert "own_hours" in son.get(url("ask_when", world.elder, "chat")).context["form"].fields
    response = son.post(url("ask_when", world.elder, "chat"), {"when": "tomorrow_am", "own_hours": "on"})
    assert response.status_code == 302
    need = Need.objects.get(elder=world.elder)
    assert need.payer == Need.Payer.OWN
    assert 'data-payer="own"' in son.get(response["Location"]).content.decode()


# --------------------------------------------------------------------------------------------- visits


def test_upcoming_visit_shows_the_volunteers_card(son, world, assigned):
    assigned()
    response = son.get(url("visits", world.elder))
    body = response.content.decode()
    assert world.vol.resident.name in body
    assert 'data-status="coming"' in body
    assert "粤语" in body or "Cantonese" in body


def test_confirm_then_rate(son, world, checked_out):
    visit = checked_out(minutes=90)
    page = son.get(url("visits", world.elder))
    assert url("visit_confirm", world.elder, visit.pk) in page.content.decode()
    response = son.post(url("visit_confirm", world.elder, visit.pk), {"action": "confirm"})
    assert response["Location"] == url("visit_rate", world.elder, visit.pk)
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CONFIRMED and visit.confirmed_via == "proxy"
    transfers = Transfer.objects.count()
    # pressing confirm again posts nothing more
    son.post(url("visit_confirm", world.elder, visit.pk), {"action": "confirm"})
    assert Transfer.objects.count() == transfers
    response = son.post(
        url("visit_rate", world.elder, visit.pk), {"stars": "4", "tags": ["耐心", "准时"], "comment": "很好"}
    )
    assert response.status_code == 302
    rating = Rating.objects.get(visit=visit, side=Rating.Side.ELDER)
    assert (rating.stars, rating.tags, rating.comment) == (4, ["耐心", "准时"], "很好")
    assert Visit.objects.get(pk=visit.pk).status == Visit.Status.RATED
    # a second rating is refused, nothing written
    again = son.post(url("visit_rate", world.elder, visit.pk), {"stars": "1"})
    assert again.status_code == 200 and Rating.objects.filter(visit=visit).count() == 1


def test_rating_without_stars_keeps_the_comment(son, world, checked_out):
    visit = checked_out()
    son.post(url("visit_confirm", world.elder, visit.pk), {"action": "confirm"})
    response = son.post(url("visit_rate", world.elder, visit.pk), {"tags": ["耐心"], "comment": "还可以"})
    assert response.status_code == 400
    assert response.context["form"].errors["stars"]
    body = response.content.decode()
    assert "还可以" in body and 'value="耐心" id="id_tags_0" checked' in body
    assert not Rating.objects.filter(visit=visit).exists()


def test_dispute_needs_words_then_holds_the_hours(son, world, checked_out):
    visit = checked_out()
    before = care_counts()
    response = son.post(url("visit_confirm", world.elder, visit.pk), {"action": "dispute", "complaint": "  "})
    assert response.status_code == 400 and response.context["form"].errors["complaint"]
    assert care_counts() == before
    response = son.post(url("visit_confirm", world.elder, visit.pk), {"action": "dispute", "complaint": "只坐了十分钟"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == Visit.Status.DISPUTED and visit.dispute.complaint == "只坐了十分钟"
    assert 'data-status="held"' in son.get(url("visits", world.elder)).content.decode()


def test_confirm_of_a_visit_not_finished_is_refused_in_words(son, world, assigned):
    visit = assigned()
    page = son.get(url("visit_confirm", world.elder, visit.pk))
    assert page.status_code == 200 and not page.context["can_confirm"]
    response = son.post(url("visit_confirm", world.elder, visit.pk), {"action": "confirm"})
    assert response.status_code == 400 and response.context["form"].non_field_errors()
    assert Visit.objects.get(pk=visit.pk).status == Visit.Status.ASSIGNED


# --------------------------------------------------------------------------------------------- hours


def test_statement_in_hours(son, world, fund):
    fund(world.elder, 150)
    response = son.get(url("statement", world.elder))
    assert response.context["balance_hours"] == resident_balance(world.elder).posted / 60
    assert "2.5" in response.content.decode()


def give(client, elder, **data):
    return client.post(url("give", elder), data)


def test_give_hours_asks_first_then_posts_once(son, world, fund):
    fund(world.elder, 240)
    form = son.get(url("give", world.elder)).context["form"]
    [link] = list(form.fields["recipient"].queryset)
    assert link.relative == world.son.resident
    key = form.initial["idem"]
    data = {"idem": key, "recipient": link.pk, "hours": "2"}
    question = give(son, world.elder, **data)
    assert question.status_code == 200
    assert "web/elder/give_confirm.html" in [t.name for t in question.templates]
    assert world.son.resident.name in question.content.decode()
    assert not Transfer.objects.filter(kind="family_transfer").exists()  # nothing yet
    first = give(son, world.elder, **data, confirm="yes")
    second = give(son, world.elder, **data, confirm="yes")  # the same form sent twice
    assert first.status_code == second.status_code == 302
    [transfer] = Transfer.objects.filter(kind="family_transfer")
    assert transfer.amount == 120 and transfer.key == f"c:{world.son.pk}:{key}"  # in the caller's namespace
    assert resident_balance(world.elder).posted == 120
    assert resident_balance(world.son.resident).posted == 120


def test_give_no_goes_back_with_the_values_kept(son, world, fund):
    fund(world.elder, 240)
    form = son.get(url("give", world.elder)).context["form"]
    [link] = list(form.fields["recipient"].queryset)
    response = give(son, world.elder, idem=form.initial["idem"], recipient=link.pk, hours="1.5", confirm="no")
    assert "web/elder/give.html" in [t.name for t in response.templates]
    assert 'value="1.5"' in response.content.decode()
    assert not Transfer.objects.filter(kind="family_transfer").exists()


@pytest.mark.parametrize(
    ("hours", "field"), [("", "hours"), ("abc", "hours"), ("0", "hours"), ("1.25", "hours"), ("-2", "hours")]
)
def test_give_bad_amounts(son, world, fund, hours, field):
    fund(world.elder, 240)
    form = son.get(url("give", world.elder)).context["form"]
    [link] = list(form.fields["recipient"].queryset)
    response = give(son, world.elder, idem=form.initial["idem"], recipient=link.pk, hours=hours, confirm="yes")
    assert response.status_code == 400 and response.context["form"].errors[field]
    assert f'value="{hours}"' in response.content.decode()
    assert not Transfer.objects.filter(kind="family_transfer").exists()


def test_give_more_than_she_has_is_refused_next_to_the_hours(son, world, fund):
    fund(world.elder, 60)
    form = son.get(url("give", world.elder)).context["form"]
    [link] = list(form.fields["recipient"].queryset)
    before = Transfer.objects.count()
    response = give(son, world.elder, idem=form.initial["idem"], recipient=link.pk, hours="3", confirm="yes")
    assert response.status_code == 400 and response.context["form"].errors["hours"]
    assert Transfer.objects.count() == before


def test_give_only_to_her_relatives(son, world, fund, make_resident):
    fund(world.elder, 240)
    stranger = make_resident(name="路人", age=40)
    other_link = relationship_create(actor=None, resident=stranger, relative=make_resident(age=20), kind="child")
    form = son.get(url("give", world.elder)).context["form"]
    response = give(son, world.elder, idem=form.initial["idem"], recipient=other_link.pk, hours="1", confirm="yes")
    assert response.status_code == 400 and response.context["form"].errors["recipient"]
    assert not Transfer.objects.filter(kind="family_transfer").exists()


def test_friends_are_not_offered_by_default(son, world, make_resident):
    friend = make_resident(name="老友", age=80)
    relationship_create(actor=None, resident=world.elder, relative=friend, kind="friend")
    form = son.get(url("give", world.elder)).context["form"]
    assert [link.relative for link in form.fields["recipient"].queryset] == [world.son.resident]


# --------------------------------------------------------------------------------------------- card


def test_card_page_for_the_family_says_ask_the_station(son, world, site):
    page = son.get(url("card", world.elder))
    body = page.content.decode()
    assert page.status_code == 200 and not page.context["may_print"]
    assert site.name in body and 'data-testid="print-form"' not in body
    # printing anyway is refused by the service: no card issued
    response = son.post(url("card", world.elder))
    assert response.status_code == 403
    assert not ElderCard.objects.filter(elder=world.elder).exists()


def test_station_staff_who_is_also_proxy_can_print(client, world, social_worker):
    staff_resident = world.son.resident  # the son also works at her station: one login for both
    world.son.resident = None
    world.son.save(update_fields=["resident"])
    social_worker.resident = staff_resident
    social_worker.save(update_fields=["resident"])
    sign_in(client, social_worker)
    assert client.get(url("card", world.elder)).context["may_print"]
    response = client.post(url("card", world.elder))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert ElderCard.objects.filter(elder=world.elder, revoked_at__isnull=True).count() == 1
