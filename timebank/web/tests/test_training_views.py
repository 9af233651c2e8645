"""The training pages with Django's test client: who may see what, joining and leaving with a confirmation,
the staff session page (add, seats, attendance, results), bad input (400, nothing written), other areas (404)."""
# ruff: noqa: F811 - the fixtures are imported and then requested by name

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from timebank.training import services
from timebank.training.models import Course, Enrolment, Session, TrainingTarget
from timebank.training.tests.conftest import (  # noqa: F401 - fixtures
    course,
    login_for,
    make_session,
    next_week,
    session,
    trainees,
    training_counts,
)

pytestmark = pytest.mark.django_db


def url(name: str, *args: object) -> str:
    return reverse(f"web:training:{name}", args=args)


@pytest.fixture
def volunteer(trainees, login_for):
    return login_for(trainees[0])


@pytest.fixture
def past_session(make_session):
    start = (timezone.now() - dt.timedelta(days=1)).replace(microsecond=0)
    return make_session(starts_at=start, capacity=5)


def codes(form) -> list[str]:
    return [e.code for errors in form.errors.as_data().values() for e in errors]


def _fill(session, people, actor, at=None):
    for p in people:
        services.enrolment_create(actor=actor, session=session, resident=p, at=at)


# --------------------------------------------------------------------------------------------- volunteers


def test_volunteer_sees_sessions_and_joins_after_confirming(client, volunteer, session, trainees):
    client.force_login(volunteer)
    page = client.get(url("index"))
    assert page.status_code == 200
    assert session.course.title in page.content.decode()
    confirm = client.get(url("join", session.pk))
    assert confirm.status_code == 200 and Enrolment.objects.count() == 0  # GET writes nothing
    done = client.post(url("join", session.pk))
    assert done.status_code == 302
    assert Enrolment.objects.get(resident=trainees[0]).status == "enrolled"


def test_a_full_session_puts_the_volunteer_on_the_waiting_list_with_a_number(
    client, volunteer, session, trainees, social_worker
):
    _fill(session, trainees[1:3], social_worker)
    client.force_login(volunteer)
    assert 'data-testid="join-confirm"' in client.get(url("join", session.pk)).content.decode()
    client.post(url("join", session.pk))
    mine = Enrolment.objects.get(resident=trainees[0])
    assert mine.status == "waiting"
    page = client.get(url("index")).content.decode()
    assert 'data-testid="waiting-position"' in page
    # joining twice: a clear 400, nothing written
    before = training_counts()
    again = client.post(url("join", session.pk))
    assert again.status_code == 400 and 'data-testid="refusal"' in again.content.decode()
    assert training_counts() == before


def test_leaving_needs_a_confirmation_and_promotes_the_first_waiting(
    client, volunteer, session, trainees, social_worker
):
    _fill(session, [trainees[0], trainees[1], trainees[2], trainees[3]], social_worker)
    mine = Enrolment.objects.get(resident=trainees[0])
    client.force_login(volunteer)
    assert client.get(url("leave", mine.pk)).status_code == 200
    assert Enrolment.objects.get(pk=mine.pk).status == "enrolled"
    assert client.post(url("leave", mine.pk)).status_code == 302
    statuses = [Enrolment.objects.get(resident=p).status for p in trainees[:4]]
    assert statuses == ["cancelled", "enrolled", "enrolled", "waiting"]


def test_someone_elses_enrolment_is_not_found(client, volunteer, session, trainees, social_worker):
    _fill(session, [trainees[1]], social_worker)
    theirs = Enrolment.objects.get(resident=trainees[1])
    client.force_login(volunteer)
    assert client.get(url("leave", theirs.pk)).status_code == 404
    assert client.post(url("leave", theirs.pk)).status_code == 404
    assert Enrolment.objects.get(pk=theirs.pk).status == "enrolled"


def test_expiring_certificate_warning_on_training_and_certificates_pages(client, volunteer, trainees):
    today = timezone.localdate()
    services.certificate_issue(
        actor=None,
        holder=trainees[0],
        track="elderly",
        number="YL-W-1",
        valid_from=today - dt.timedelta(days=300),
        valid_until=today + dt.timedelta(days=20),
    )
    client.force_login(volunteer)
    assert 'data-testid="expiring"' in client.get(url("index")).content.decode()
    certs = client.get(reverse("web:volunteer:certificates")).content.decode()
    assert 'data-testid="cert-expiring"' in certs


def test_staff_pages_are_closed_to_volunteers_and_partners(client, volunteer, partner_admin):
    client.force_login(volunteer)
    assert client.get(url("staff")).status_code == 403
    client.force_login(partner_admin)
    assert client.get(url("staff")).status_code == 403
    assert client.get(url("index")).status_code == 403


# --------------------------------------------------------------------------------------------- staff


@pytest.mark.parametrize("who", ["social_worker", "town_admin", "supervisor"])
@pytest.mark.parametrize("page", ["staff", "session_new", "expiring", "targets"])
def test_staff_pages_open(client, request, who, page, session):
    client.force_login(request.getfixturevalue(who))
    assert client.get(url(page)).status_code == 200
    assert client.get(url("session", session.pk)).status_code == 200


def test_plan_a_session_and_bad_dates(client, social_worker, course, site):
    client.force_login(social_worker)
    start = timezone.localtime() + dt.timedelta(days=3)
    data = {
        "idem": "web-test-session-1",
        "course": course.pk,
        "site": site.pk,
        "trainer": "黄老师",
        "capacity": "12",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
    }
    before = training_counts()
    bad = client.post(url("session_new"), data)
    assert bad.status_code == 400 and "training.bad_schedule" in codes(bad.context["form"])
    assert training_counts() == before
    zero = client.post(url("session_new"), data | {"capacity": "0"})
    assert zero.status_code == 400 and training_counts() == before
    ok = client.post(url("session_new"), data | {"ends_at": (start + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")})
    assert ok.status_code == 302 and Session.objects.count() == 1


def test_add_people_seats_and_no_one_beyond_the_seats(client, social_worker, session, trainees):
    for i, p in enumerate(trainees[:3]):
        p.phone = f"1370000000{i}"
        p.save(update_fields=["phone"])
    client.force_login(social_worker)
    for p in trainees[:2]:
        assert (
            client.post(url("session_add", session.pk), {"idem": f"web-add-{p.pk}", "who": p.phone}).status_code == 302
        )
    before = training_counts()
    full = client.post(url("session_add", session.pk), {"idem": "web-add-x", "who": trainees[2].phone})
    assert full.status_code == 400 and "training.session_full" in codes(full.context["add_form"])
    assert training_counts() == before
    lower = client.post(url("session_capacity", session.pk), {"capacity": "1"})
    assert lower.status_code == 400 and training_counts() == before
    waiting = client.post(url("session_add", session.pk), {"idem": "web-add-y", "who": trainees[2].phone, "wait": "on"})
    assert waiting.status_code == 302
    assert Enrolment.objects.get(resident=trainees[2]).status == "waiting"
    assert client.post(url("session_capacity", session.pk), {"capacity": "3"}).status_code == 302
    assert Enrolment.objects.get(resident=trainees[2]).status == "enrolled"


def test_attendance_sheet_refuses_people_not_enrolled(client, social_worker, past_session, trainees, next_week):
    _fill(past_session, trainees[:2], social_worker, at=past_session.starts_at - dt.timedelta(days=2))
    client.force_login(social_worker)
    page = client.get(url("session", past_session.pk)).content.decode()
    assert 'data-testid="attendance-form"' in page
    before = training_counts()
    stranger = trainees[4]
    bad = client.post(
        url("attendance", past_session.pk),
        {f"present-{trainees[0].pk}": "1", f"present-{stranger.pk}": "1"},
    )
    assert bad.status_code == 400 and 'data-testid="sheet-error"' in bad.content.decode()
    assert training_counts() == before
    ok = client.post(
        url("attendance", past_session.pk), {f"present-{trainees[0].pk}": "1", f"present-{trainees[1].pk}": "0"}
    )
    assert ok.status_code == 302
    # the absent person cannot be assessed; nothing is written, not even the present person's pass
    before = training_counts()
    absent = client.post(
        url("assessment", past_session.pk), {f"score-{trainees[0].pk}": "90", f"score-{trainees[1].pk}": "90"}
    )
    assert absent.status_code == 400 and training_counts() == before
    bad_score = client.post(url("assessment", past_session.pk), {f"score-{trainees[0].pk}": "abc"})
    assert bad_score.status_code == 400 and training_counts() == before
    passed = client.post(url("assessment", past_session.pk), {f"score-{trainees[0].pk}": "90"})
    assert passed.status_code == 302
    assert Enrolment.objects.get(resident=trainees[0]).certificate is not None


def test_other_areas_sessions_are_not_found(client, other_town_admin, session, trainees):
    client.force_login(other_town_admin)
    before = training_counts()
    assert client.get(url("session", session.pk)).status_code == 404
    assert client.post(url("session_capacity", session.pk), {"capacity": "9"}).status_code == 404
    assert client.post(url("attendance", session.pk), {f"present-{trainees[0].pk}": "1"}).status_code == 404
    assert client.post(url("session_cancel", session.pk), {"reason": "x"}).status_code == 404
    assert training_counts() == before
    assert session.course.title not in client.get(url("staff")).content.decode()


def test_cancel_a_session_after_confirming(client, social_worker, session, trainees):
    _fill(session, trainees[:3], social_worker)
    client.force_login(social_worker)
    assert client.get(url("session_cancel", session.pk)).status_code == 200
    assert client.post(url("session_cancel", session.pk), {"reason": ""}).status_code == 400
    assert Session.objects.get(pk=session.pk).status == "open"
    assert client.post(url("session_cancel", session.pk), {"reason": "讲师生病"}).status_code == 302
    assert Session.objects.get(pk=session.pk).status == "cancelled"


def test_targets_set_and_refused(client, town_admin, supervisor, social_worker, town, other_town):
    year = timezone.localdate().year
    client.force_login(town_admin)
    page = client.get(url("targets"))
    assert [c for c, _ in page.context["form"].fields["region"].choices] == [str(town.pk)]
    ok = client.post(url("targets"), {"year": year, "track": "domestic", "region": town.pk, "count": "120"})
    assert ok.status_code == 302 and TrainingTarget.objects.get(region=town).count == 120
    before = training_counts()
    negative = client.post(url("targets"), {"year": year, "track": "domestic", "region": town.pk, "count": "-5"})
    assert negative.status_code == 400 and "training.bad_target" in codes(negative.context["form"])
    other = client.post(url("targets"), {"year": year, "track": "domestic", "region": other_town.pk, "count": "5"})
    assert other.status_code == 400  # not a choice for this admin
    assert training_counts() == before
    client.force_login(supervisor)
    city = client.post(url("targets"), {"year": year, "track": "elderly", "region": "city", "count": "900"})
    assert city.status_code == 302 and TrainingTarget.objects.get(region=None).count == 900
    client.force_login(social_worker)
    assert client.get(url("targets")).context["form"] is None
    assert (
        client.post(url("targets"), {"year": year, "track": "elderly", "region": "city", "count": "1"}).status_code
        == 403
    )


# --------------------------------------------------------------------------------------------- courses

COURSE = {
    "track": "domestic",
    "title": "居家保洁与收纳",
    "description": "清洁、收纳、安全用电",
    "teaching_hours": "16.5",
    "validity_months": "24",
    "pass_score": "70",
}


def test_courses_list_new_course_after_a_confirmation(client, supervisor, course):
    client.force_login(supervisor)
    listing = client.get(url("courses"))
    assert listing.status_code == 200
    page = listing.content.decode()
    assert course.title in page and 'data-testid="courses-link"' in page
    assert client.get(url("course_new")).status_code == 200
    before = training_counts()
    review = client.post(url("course_new"), COURSE | {"step": "review"})
    assert review.status_code == 200 and 'data-testid="course-confirm"' in review.content.decode()
    assert training_counts() == before  # the check writes nothing
    back = client.post(url("course_new"), COURSE | {"change": "1"})
    assert back.status_code == 200 and back.context["form"]["title"].value() == COURSE["title"]
    assert training_counts() == before
    done = client.post(url("course_new"), COURSE | {"step": "confirm"})
    assert done.status_code == 302
    made = Course.objects.get(title=COURSE["title"])
    assert (made.track, made.teaching_minutes, made.validity_months, made.pass_score, made.active) == (
        "domestic",
        990,
        24,
        70,
        True,
    )
    assert made.created_by == supervisor and made.description == COURSE["description"]
    # the same title again is the service's refusal next to the title, at either step
    for step in ("review", "confirm"):
        before = training_counts()
        again = client.post(url("course_new"), COURSE | {"step": step})
        assert again.status_code == 400 and "training.bad_course" in codes(again.context["form"])
        assert "title" in again.context["form"].errors
        assert training_counts() == before


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("teaching_hours", "0", "training.bad_course"),
        ("teaching_hours", "-2", "training.bad_course"),
        ("validity_months", "0", "training.bad_course"),
        ("validity_months", "121", "training.bad_course"),
        ("pass_score", "101", "training.bad_course"),
        ("pass_score", "-1", "training.bad_course"),
        ("teaching_hours", "abc", "invalid"),
        ("track", "cooking", "invalid_choice"),
        ("title", "   ", "required"),
    ],
)
@pytest.mark.parametrize("step", ["review", "confirm"])
def test_a_bad_course_is_refused_next_to_its_field_and_nothing_written(client, supervisor, field, value, code, step):
    client.force_login(supervisor)
    before = training_counts()
    bad = client.post(url("course_new"), COURSE | {field: value, "step": step})
    assert bad.status_code == 400
    form = bad.context["form"]
    assert code in [e.code for e in form.errors.as_data()[field]]
    assert 'data-testid="course-confirm"' not in bad.content.decode()
    assert training_counts() == before
    assert not Course.objects.filter(title=COURSE["title"]).exists()


@pytest.mark.parametrize("who", ["town_admin", "social_worker", "volunteer", "partner_admin"])
def test_only_city_supervisors_keep_the_course_catalogue(client, request, who, course, supervisor):
    client.force_login(request.getfixturevalue(who))
    before = training_counts()
    assert client.get(url("courses")).status_code == 403
    assert client.get(url("course_new")).status_code == 403
    assert client.post(url("course_new"), COURSE | {"step": "confirm"}).status_code == 403
    assert client.get(url("course_offer", course.pk)).status_code == 403
    assert client.post(url("course_offer", course.pk), {"active": "0"}).status_code == 403
    assert training_counts() == before
    assert Course.objects.get(pk=course.pk).active
    if who in ("town_admin", "social_worker"):  # staff pages without the catalogue link
        assert 'data-testid="courses-link"' not in client.get(url("staff")).content.decode()


def test_stop_offering_a_course_after_a_confirmation_then_offer_it_again(
    client, supervisor, social_worker, course, session, site
):
    client.force_login(supervisor)
    confirm = client.get(url("course_offer", course.pk))
    assert confirm.status_code == 200 and 'data-testid="coming-sessions"' in confirm.content.decode()
    assert Course.objects.get(pk=course.pk).active  # GET writes nothing
    before = training_counts()
    odd = client.post(url("course_offer", course.pk), {"active": "maybe"})
    assert odd.status_code == 400 and training_counts() == before
    assert client.post(url("course_offer", course.pk), {"active": "0"}).status_code == 302
    assert not Course.objects.get(pk=course.pk).active
    assert Session.objects.get(pk=session.pk).status == "open"  # planned sessions are not cancelled
    listing = client.get(url("courses")).content.decode()
    assert url("course_offer", course.pk) in listing
    # a course no longer offered: not in the planning form, and a forged post is refused, nothing written
    client.force_login(social_worker)
    page = client.get(url("session_new"))
    assert course.pk not in [c.pk for c in page.context["form"].fields["course"].queryset]
    start = timezone.localtime() + dt.timedelta(days=3)
    data = {
        "idem": "web-test-inactive-course",
        "course": course.pk,
        "site": site.pk,
        "trainer": "黄老师",
        "capacity": "12",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
    }
    before = training_counts()
    assert client.post(url("session_new"), data).status_code == 400
    assert training_counts() == before
    # offered again: sessions can be planned
    client.force_login(supervisor)
    assert client.post(url("course_offer", course.pk), {"active": "1"}).status_code == 302
    assert Course.objects.get(pk=course.pk).active
    client.force_login(social_worker)
    assert client.post(url("session_new"), data | {"idem": "web-test-active-again"}).status_code == 302
