# ruff: noqa: F811 - the care and matching fixtures are imported into this module and used as arguments
"""The day's plan (batch dispatch) through the Django test client: make, change, accept; scope; double submits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from timebank.care.models import Visit
from timebank.care.tests.conftest import login, person, publish, world  # noqa: F401 - fixtures
from timebank.matching import services as matching
from timebank.matching.models import DispatchProposal, ProposalRow
from timebank.matching.tests.conftest import _fresh_index, need_at, tomorrow_at, volunteer  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_worker(make_staff, other_site):
    return make_staff("social_worker", site=other_site, name="坦洲社工")


@pytest.fixture
def day(tomorrow_at):
    return tomorrow_at().date()


def _make(client, area, day, idem="web-plan-1"):
    return client.post("/station/dispatch/", {"idem": idem, "day": day.isoformat(), "area": area.pk})


def test_the_dashboard_links_to_the_plan_and_tomorrow_is_the_default(client, world, community):
    client.force_login(world.worker)
    assert 'href="/station/dispatch/"' in client.get("/station/").content.decode()
    page = client.get("/station/dispatch/")
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["day"] == timezone.localdate() + dt.timedelta(days=1)
    assert list(form.fields["area"].queryset) == [community]


def test_make_change_leave_out_and_accept(client, world, volunteer, need_at, community, day):
    near = volunteer(north_m=200)
    far = volunteer(north_m=900)
    n1 = need_at(hour=9)
    n2 = need_at(hour=9, item="grocery")
    n3 = need_at(hour=15)
    client.force_login(world.worker)
    made = _make(client, community, day)
    assert made.status_code == 302
    proposal = DispatchProposal.objects.get()
    assert made["Location"] == f"/station/dispatch/{proposal.pk}/"
    again = _make(client, community, day)  # a double click makes no second plan
    assert again["Location"] == made["Location"] and DispatchProposal.objects.count() == 1

    page = client.get(made["Location"])
    body = page.content.decode()
    assert page.status_code == 200 and "何*珍" in body and "何惠珍" not in body  # the elder's name is shortened
    rows = {r.need_id: r for r in proposal.rows.all()}
    assert {rows[n1.pk].volunteer_id, rows[n2.pk].volunteer_id} == {near.pk, far.pk}
    assert not Visit.objects.filter(need__in=[n1, n2, n3]).exists()  # a proposal books nobody

    # the worker gives n1 the volunteer proposed for n2 (a clash inside the plan, shown in words)
    url = f"/station/dispatch/{proposal.pk}/rows/{rows[n1.pk].pk}/"
    other = rows[n2.pk].volunteer_id
    cands = client.get(url)
    assert cands.status_code == 200
    listed = {c["volunteer"].pk: c for c in cands.context["candidates"]}
    assert other in listed and listed[other]["busy"]
    choose = {"idem": "web-row-1", "row": rows[n1.pk].pk, "action": "choose", "volunteer": other}
    changed = client.post(url, choose)
    assert changed.status_code == 302 and changed["Location"].startswith(f"/station/dispatch/{proposal.pk}/")
    row1 = ProposalRow.objects.get(pk=rows[n1.pk].pk)
    assert row1.volunteer_id == other and row1.changed_by_hand
    assert client.get(f"/station/dispatch/{proposal.pk}/").context["matched"][0].clash

    # leave the afternoon need out
    drop = {"idem": "web-row-2", "row": rows[n3.pk].pk, "action": "drop"}
    assert client.post(f"/station/dispatch/{proposal.pk}/", drop).status_code == 302
    assert not ProposalRow.objects.get(pk=rows[n3.pk].pk).included

    # the confirmation step writes nothing
    confirm = client.get(f"/station/dispatch/{proposal.pk}/accept/")
    assert confirm.status_code == 200 and len(confirm.context["to_book"]) == 2
    assert not Visit.objects.filter(need__in=[n1, n2, n3]).exists()

    accepted = client.post(f"/station/dispatch/{proposal.pk}/accept/", {"idem": "web-accept-1"})
    assert accepted.status_code == 302 and accepted["Location"].endswith("?done=accepted")
    # booked through care.services.visit_assign: n1 with the chosen volunteer; n2 refused (double booking)
    assert [(v.need_id, v.volunteer_id) for v in Visit.objects.filter(need__in=[n1, n2, n3])] == [(n1.pk, other)]
    result = client.get(accepted["Location"])
    assert [r.need_id for r in result.context["booked"]] == [n1.pk]
    [refused] = result.context["refused"]
    assert refused.need_id == n2.pk and refused.refusal_code == "care.double_booked" and refused.message
    assert refused.message in result.content.decode()
    assert [r.need_id for r in result.context["skipped"]] == [n3.pk]

    # a double submit of accept books nothing more; a fresh submit is refused in words
    twice = client.post(f"/station/dispatch/{proposal.pk}/accept/", {"idem": "web-accept-1"})
    assert twice.status_code == 302 and twice["Location"] == accepted["Location"]
    late = client.post(f"/station/dispatch/{proposal.pk}/accept/", {"idem": "web-accept-2"})
    assert late.status_code == 400 and late.context["error"]
    assert Visit.objects.filter(need__in=[n1, n2, n3]).count() == 1
    # a closed plan cannot be changed
    closed = client.post(url, choose | {"idem": "web-row-3", "volunteer": near.pk})
    assert closed.status_code == 400 and closed.context["error"]


def test_accept_books_every_row_once(client, world, volunteer, need_at, community, day):
    volunteer(north_m=200)
    volunteer(north_m=500)
    needs = [need_at(hour=9), need_at(hour=9, item="grocery"), need_at(hour=14)]
    client.force_login(world.worker)
    proposal = matching.proposal_create(actor=world.worker, region=community, day=day)
    for key in ("web-acc-a", "web-acc-a", "web-acc-a"):
        client.post(f"/station/dispatch/{proposal.pk}/accept/", {"idem": key})
    visits = Visit.objects.filter(need__in=needs)
    assert visits.count() == 3 and len({v.need_id for v in visits}) == 3
    proposal.refresh_from_db()
    assert proposal.status == "accepted" and proposal.summary["assigned"] == 3


def test_a_volunteer_outside_the_suggestions_is_refused(client, world, volunteer, need_at, community, day):
    v = volunteer(north_m=200)
    stranger = volunteer(north_m=200, slots=None)  # no schedule: never suggested
    need_at(hour=9)
    proposal = matching.proposal_create(actor=world.worker, region=community, day=day)
    [row] = proposal.rows.all()
    client.force_login(world.worker)
    url = f"/station/dispatch/{proposal.pk}/rows/{row.pk}/"
    response = client.post(url, {"idem": "web-row-x", "row": row.pk, "action": "choose", "volunteer": stranger.pk})
    assert response.status_code == 400 and response.context["error"]
    row.refresh_from_db()
    assert row.volunteer_id == v.pk and not row.changed_by_hand
    nobody = client.post(url, {"idem": "web-row-y", "row": row.pk, "action": "nobody"})
    assert nobody.status_code == 302
    row.refresh_from_db()
    assert row.volunteer_id is None
    page = client.get(f"/station/dispatch/{proposal.pk}/")
    assert [r.pk for r in page.context["unmatched"]] == [row.pk]


def test_bad_input_writes_nothing(client, world, community, other_community, day):
    client.force_login(world.worker)
    past = _make(client, community, timezone.localdate() - dt.timedelta(days=1), idem="web-plan-p")
    assert past.status_code == 400 and past.context["form"].errors["day"]
    empty = _make(client, community, day, idem="web-plan-e")  # no open needs that day
    assert empty.status_code == 400 and empty.context["form"].errors["day"]
    foreign = _make(client, other_community, day, idem="web-plan-f")
    assert foreign.status_code == 400 and foreign.context["form"].errors["area"]
    junk = client.post("/station/dispatch/", {"idem": "web-plan-j", "day": "tomorrow", "area": "x"})
    assert junk.status_code == 400 and set(junk.context["form"].errors) == {"day", "area"}
    assert not DispatchProposal.objects.exists()


def test_a_town_admin_plans_the_whole_town(client, town_admin, town, world, volunteer, need_at, day):
    volunteer(north_m=200)
    need_at(hour=9)
    client.force_login(town_admin)
    page = client.get("/station/dispatch/")
    assert list(page.context["form"].fields["area"].queryset) == [town]
    made = _make(client, town, day)
    assert made.status_code == 302
    assert DispatchProposal.objects.get().region == town


def test_another_areas_plan_is_404_and_a_volunteer_gets_403(
    client, world, volunteer, need_at, community, day, other_worker
):
    volunteer(north_m=200)
    need_at(hour=9)
    proposal = matching.proposal_create(actor=world.worker, region=community, day=day)
    [row] = proposal.rows.all()
    urls = [
        f"/station/dispatch/{proposal.pk}/",
        f"/station/dispatch/{proposal.pk}/rows/{row.pk}/",
        f"/station/dispatch/{proposal.pk}/accept/",
    ]
    client.force_login(other_worker)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404 and "404.html" in [t.name for t in response.templates], url
    assert client.post(urls[2], {"idem": "web-acc-o"}).status_code == 404
    assert client.post(urls[0], {"idem": "web-row-o", "row": row.pk, "action": "drop"}).status_code == 404
    client.force_login(world.vol)
    for url in ["/station/dispatch/", *urls]:
        response = client.get(url)
        assert response.status_code == 403 and "403.html" in [t.name for t in response.templates], url
    assert client.post(urls[2], {"idem": "web-acc-v"}).status_code == 403
    proposal.refresh_from_db()
    row.refresh_from_db()
    assert proposal.status == "draft" and row.included and not Visit.objects.exists()
    assert client.get("/station/dispatch/999999/").status_code == 403
    client.force_login(world.worker)
    assert client.get("/station/dispatch/999999/").status_code == 404
