"""Training services: certificates and their validity boundary, courses, sessions, enrolment with a waiting
list, attendance, assessment and targets; every bad input is refused with its code and nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from timebank.common.errors import NotAllowed, OutOfScope
from timebank.notify.models import Notification
from timebank.training import errors, services
from timebank.training.models import Certificate, Enrolment, Session, TrainingTarget
from timebank.training.selectors import holds_valid_certificate, waiting_position

from .conftest import training_counts

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 1)


def test_valid_from_the_first_to_the_last_day(make_resident):
    v = make_resident(name="持证人", age=40, roles=["volunteer"])
    services.certificate_issue(
        actor=None,
        holder=v,
        track="elderly",
        number="YL-T-0001",
        valid_from=DAY,
        valid_until=DAY + dt.timedelta(days=30),
    )
    assert not holds_valid_certificate(v, "elderly", on=DAY - dt.timedelta(days=1))
    assert holds_valid_certificate(v, "elderly", on=DAY)
    assert holds_valid_certificate(v, "elderly", on=DAY + dt.timedelta(days=30))
    assert not holds_valid_certificate(v, "elderly", on=DAY + dt.timedelta(days=31))
    assert not holds_valid_certificate(v, "medical", on=DAY)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"track": "cooking"}, errors.BadTrack),
        ({"valid_until": DAY - dt.timedelta(days=1)}, errors.BadPeriod),
    ],
)
def test_bad_certificates_are_refused_and_nothing_is_written(make_resident, kwargs, error):
    v = make_resident(name="持证人", age=40, roles=["volunteer"])
    args = {"track": "elderly", "number": "YL-T-0002", "valid_from": DAY, "valid_until": DAY, **kwargs}
    with pytest.raises(error):
        services.certificate_issue(actor=None, holder=v, **args)
    assert Certificate.objects.count() == 0


def test_a_number_is_used_once(make_resident):
    v = make_resident(name="持证人", age=40, roles=["volunteer"])
    services.certificate_issue(
        actor=None, holder=v, track="elderly", number="YL-T-0003", valid_from=DAY, valid_until=DAY
    )
    with pytest.raises(errors.DuplicateCertificate):
        services.certificate_issue(
            actor=None, holder=v, track="medical", number="YL-T-0003", valid_from=DAY, valid_until=DAY
        )
    assert Certificate.objects.count() == 1


def test_staff_outside_the_area_cannot_record(make_resident, other_town_admin):
    v = make_resident(name="持证人", age=40, roles=["volunteer"])
    with pytest.raises(OutOfScope):
        services.certificate_issue(
            actor=other_town_admin, holder=v, track="elderly", number="YL-T-0004", valid_from=DAY, valid_until=DAY
        )
    assert Certificate.objects.count() == 0


# --------------------------------------------------------------------------------------------- courses, sessions
# (fixtures in conftest.py: a 12-month elderly-care course, a 2-seat session next week at the test station)


def refused(error, code):
    """Assert the block raises ``error`` with ``code`` and writes nothing."""

    class Check:
        def __enter__(self):
            self.before = training_counts()
            return self

        def __exit__(self, kind, exc, tb):
            assert kind is not None, f"{code} was not raised"
            assert issubclass(kind, error), exc
            assert exc.code == code, exc
            assert training_counts() == self.before
            return True

    return Check()


def test_add_months_keeps_the_day_or_the_month_end():
    assert services.add_months(dt.date(2026, 1, 15), 12) == dt.date(2027, 1, 15)
    assert services.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert services.add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert services.add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)


def test_a_session_ending_before_it_starts_is_refused(make_session, next_week):
    with refused(errors.BadSchedule, "training.bad_schedule"):
        make_session(ends_at=next_week - dt.timedelta(hours=1))
    with refused(errors.BadSchedule, "training.bad_schedule"):
        make_session(ends_at=next_week)


@pytest.mark.parametrize("capacity", [0, -3, True])
def test_a_session_needs_seats(make_session, capacity):
    with refused(errors.BadCapacity, "training.bad_capacity"):
        make_session(capacity=capacity)


def test_sessions_only_at_sites_in_ones_area(make_session, other_site, other_town_admin, partner_admin, site):
    with refused(OutOfScope, "out_of_scope"):
        make_session(site=other_site)  # the social worker of 莲峰 at a 坦洲 site
    with refused(OutOfScope, "out_of_scope"):
        make_session(actor=other_town_admin, site=site)
    with refused(OutOfScope, "out_of_scope"):
        make_session(actor=partner_admin)
    assert make_session(actor=other_town_admin, site=other_site).site == other_site


def test_courses_are_for_city_supervisors_only(social_worker, town_admin, supervisor, course):
    for actor in (social_worker, town_admin):
        with refused(NotAllowed, "not_allowed"):
            services.course_create(actor=actor, track="domestic", title="家政", teaching_minutes=60, validity_months=6)
    with refused(errors.BadCourse, "training.bad_course"):
        services.course_create(actor=supervisor, track="domestic", title="家政", teaching_minutes=0, validity_months=6)
    with refused(errors.BadCourse, "training.bad_course"):
        services.course_create(
            actor=supervisor, track="elderly", title=course.title, teaching_minutes=60, validity_months=6
        )
    with refused(errors.BadCourse, "training.bad_course"):
        services.course_create(
            actor=supervisor, track="domestic", title="家" * 121, teaching_minutes=60, validity_months=6
        )
    for months in (0, 121):
        with refused(errors.BadCourse, "training.bad_course"):
            services.course_create(
                actor=supervisor, track="domestic", title="家政", teaching_minutes=60, validity_months=months
            )
    with refused(errors.BadCourse, "training.bad_course"):
        services.course_create(
            actor=supervisor, track="domestic", title="家政", teaching_minutes=60, validity_months=6, pass_score=101
        )
    with refused(errors.BadTrack, "training.bad_track"):
        services.course_create(actor=supervisor, track="cooking", title="烹饪", teaching_minutes=60, validity_months=6)
    made = services.course_create(
        actor=supervisor, track="domestic", title=" 家政 ", teaching_minutes=60, validity_months=6, pass_score=70
    )
    assert (made.title, made.pass_score, made.active, made.created_by) == ("家政", 70, True, supervisor)


def test_a_course_no_longer_offered_gets_no_new_session_nor_people(
    course, supervisor, town_admin, social_worker, make_session, trainees
):
    planned = make_session()
    for actor in (town_admin, social_worker):
        with refused(NotAllowed, "not_allowed"):
            services.course_set_active(actor=actor, course=course, active=False)
    assert services.course_set_active(actor=supervisor, course=course, active=False).active is False
    course.refresh_from_db()
    assert course.active is False
    with refused(errors.CourseInactive, "training.course_inactive"):
        make_session()
    with refused(errors.CourseInactive, "training.course_inactive"):
        services.enrolment_create(actor=social_worker, session=planned, resident=trainees[0])
    planned.refresh_from_db()
    assert planned.status == Session.Status.OPEN  # sessions already planned are not cancelled
    # stopping it again changes nothing; offering it again opens sessions and joining
    assert services.course_set_active(actor=supervisor, course=course, active=False).active is False
    assert services.course_set_active(actor=supervisor, course=course, active=True).active is True
    course.refresh_from_db()
    assert make_session().course == course
    services.enrolment_create(actor=social_worker, session=planned, resident=trainees[0])
    assert Enrolment.objects.get(resident=trainees[0]).status == "enrolled"


# --------------------------------------------------------------------------------------------- enrolment


def test_seats_then_the_waiting_list_and_promotion_in_order(session, trainees, social_worker):
    _a, b, w1, w2, w3, _ = trainees
    for person in trainees[:5]:
        services.enrolment_create(actor=social_worker, session=session, resident=person)
    rows = {e.resident_id: e for e in Enrolment.objects.filter(session=session)}
    assert [rows[p.pk].status for p in trainees[:5]] == ["enrolled", "enrolled", "waiting", "waiting", "waiting"]
    assert [waiting_position(rows[p.pk]) for p in (w1, w2, w3)] == [1, 2, 3]
    session.refresh_from_db()
    assert session.enrolled_count == 2

    services.enrolment_cancel(actor=social_worker, enrolment=rows[b.pk])
    statuses = dict(Enrolment.objects.filter(session=session).values_list("resident_id", "status"))
    assert statuses[b.pk] == "cancelled"
    assert statuses[w1.pk] == "enrolled"  # the first waiting, not the last
    assert statuses[w2.pk] == statuses[w3.pk] == "waiting"
    assert [waiting_position(Enrolment.objects.get(pk=rows[p.pk].pk)) for p in (w2, w3)] == [1, 2]
    note = Notification.objects.get(recipient=w1)
    assert note.topic == "training.promoted"
    assert not Notification.objects.filter(recipient__in=[w2, w3]).exists()
    session.refresh_from_db()
    assert session.enrolled_count == 2

    # someone leaving the waiting list frees no seat
    services.enrolment_cancel(actor=social_worker, enrolment=rows[w2.pk])
    assert Enrolment.objects.get(pk=rows[w3.pk].pk).status == "waiting"
    assert waiting_position(Enrolment.objects.get(pk=rows[w3.pk].pk)) == 1


def test_the_waiting_order_is_by_time_asked_not_by_row(session, trainees, social_worker, next_week):
    early = timezone.now()
    for person in trainees[:2]:
        services.enrolment_create(actor=social_worker, session=session, resident=person, at=early)
    late = services.enrolment_create(actor=social_worker, session=session, resident=trainees[2], at=early)
    first = services.enrolment_create(
        actor=social_worker, session=session, resident=trainees[3], at=early - dt.timedelta(minutes=5)
    )
    assert (waiting_position(first), waiting_position(late)) == (1, 2)
    services.enrolment_cancel(actor=social_worker, enrolment=Enrolment.objects.get(resident=trainees[0]))
    assert Enrolment.objects.get(pk=first.pk).status == "enrolled"
    assert Enrolment.objects.get(pk=late.pk).status == "waiting"


def test_more_seats_take_people_from_the_waiting_list(session, trainees, social_worker):
    for person in trainees[:5]:
        services.enrolment_create(actor=social_worker, session=session, resident=person)
    services.session_set_capacity(actor=social_worker, session=session, capacity=4)
    statuses = [Enrolment.objects.get(resident=p).status for p in trainees[:5]]
    assert statuses == ["enrolled", "enrolled", "enrolled", "enrolled", "waiting"]
    assert Notification.objects.filter(topic="training.promoted").count() == 2


def test_seats_cannot_go_below_the_people_enrolled(session, trainees, social_worker):
    for person in trainees[:2]:
        services.enrolment_create(actor=social_worker, session=session, resident=person)
    with refused(errors.CapacityBelowEnrolled, "training.capacity_below_enrolled"):
        services.session_set_capacity(actor=social_worker, session=session, capacity=1)
    with refused(errors.BadCapacity, "training.bad_capacity"):
        services.session_set_capacity(actor=social_worker, session=session, capacity=0)


def test_nobody_is_added_beyond_the_seats(session, trainees, social_worker):
    for person in trainees[:2]:
        services.enrolment_create(actor=social_worker, session=session, resident=person, wait=False)
    with refused(errors.SessionFull, "training.session_full"):
        services.enrolment_create(actor=social_worker, session=session, resident=trainees[2], wait=False)


def test_a_person_is_enrolled_once(session, trainees, social_worker):
    services.enrolment_create(actor=social_worker, session=session, resident=trainees[0])
    with refused(errors.AlreadyEnrolled, "training.already_enrolled"):
        services.enrolment_create(actor=social_worker, session=session, resident=trainees[0])
    # after cancelling, joining again is a new enrolment at the end of the queue
    services.enrolment_cancel(actor=social_worker, enrolment=Enrolment.objects.get(resident=trainees[0]))
    again = services.enrolment_create(actor=social_worker, session=session, resident=trainees[0])
    assert again.status == "enrolled"


def test_a_volunteer_enrols_themselves_but_not_others(session, trainees, login_for):
    me = login_for(trainees[0])
    mine = services.enrolment_create(actor=me, session=session, resident=trainees[0])
    assert mine.status == "enrolled"
    with refused(OutOfScope, "out_of_scope"):
        services.enrolment_create(actor=me, session=session, resident=trainees[1])
    with refused(OutOfScope, "out_of_scope"):
        services.enrolment_cancel(actor=login_for(trainees[1]), enrolment=mine)


def test_staff_of_another_area_cannot_enrol_or_cancel(session, trainees, other_town_admin, social_worker):
    with refused(OutOfScope, "out_of_scope"):
        services.enrolment_create(actor=other_town_admin, session=session, resident=trainees[0])
    e = services.enrolment_create(actor=social_worker, session=session, resident=trainees[0])
    with refused(OutOfScope, "out_of_scope"):
        services.enrolment_cancel(actor=other_town_admin, enrolment=e)
    with refused(OutOfScope, "out_of_scope"):
        services.session_cancel(actor=other_town_admin, session=session, reason="x")


def test_no_joining_or_leaving_once_started_or_cancelled(session, trainees, social_worker, next_week):
    e = services.enrolment_create(actor=social_worker, session=session, resident=trainees[0])
    later = next_week + dt.timedelta(minutes=1)
    with refused(errors.SessionClosed, "training.session_closed"):
        services.enrolment_create(actor=social_worker, session=session, resident=trainees[1], at=later)
    with refused(errors.SessionClosed, "training.session_closed"):
        services.enrolment_cancel(actor=social_worker, enrolment=e, at=later)
    services.enrolment_create(actor=social_worker, session=session, resident=trainees[1])
    services.enrolment_create(actor=social_worker, session=session, resident=trainees[2])  # waiting
    services.session_cancel(actor=social_worker, session=session, reason="讲师生病")
    assert set(Enrolment.objects.values_list("status", flat=True)) == {"cancelled"}
    assert Notification.objects.filter(topic="training.session_cancelled").count() == 3
    session.refresh_from_db()
    assert (session.status, session.enrolled_count) == ("cancelled", 0)
    with refused(errors.SessionClosed, "training.session_closed"):
        services.enrolment_create(actor=social_worker, session=session, resident=trainees[3])


# --------------------------------------------------------------------------------------------- attendance, assessment


@pytest.fixture
def held(session, trainees, social_worker, next_week):
    """The session with two enrolled and one waiting, now over (the clock is given as ``at``)."""
    for person in trainees[:3]:
        services.enrolment_create(actor=social_worker, session=session, resident=person)
    return session, next_week + dt.timedelta(hours=7)


def test_attendance_then_assessment_issues_a_certificate(held, trainees, social_worker, next_week):
    session, after = held
    a, b, _waiting = trainees[:3]
    assert (
        services.attendance_record(actor=social_worker, session=session, attendance={a: True, b: False}, at=after) == 2
    )
    day = next_week.date()
    [row] = services.assessment_record(actor=social_worker, session=session, scores={a: 85}, on=day, at=after)
    assert row.passed and row.score == 85
    cert = row.certificate
    assert cert.holder == a and cert.track == "elderly"
    assert (cert.valid_from, cert.valid_until) == (day, services.add_months(day, 12))
    assert cert.issued_by == social_worker
    assert holds_valid_certificate(a, "elderly", on=day)


def test_a_fail_issues_no_certificate(held, trainees, social_worker):
    session, after = held
    a = trainees[0]
    services.attendance_record(actor=social_worker, session=session, attendance={a: True}, at=after)
    [row] = services.assessment_record(actor=social_worker, session=session, scores={a: 59}, at=after)
    assert row.passed is False and row.certificate is None
    assert Certificate.objects.count() == 0


def test_attendance_for_someone_not_enrolled_is_refused(held, trainees, social_worker, make_resident):
    session, after = held
    a, _b, waiting = trainees[:3]
    stranger = make_resident(name="路人", age=44)
    for person in (waiting, stranger):
        with refused(errors.NotEnrolled, "training.not_enrolled"):
            services.attendance_record(
                actor=social_worker, session=session, attendance={a: True, person: True}, at=after
            )
    # and not before the session starts
    with refused(errors.SessionNotStarted, "training.session_not_started"):
        services.attendance_record(actor=social_worker, session=session, attendance={a: True})


def test_assessing_someone_absent_is_refused(held, trainees, social_worker):
    session, after = held
    a, b = trainees[:2]
    with refused(errors.NotAttended, "training.not_attended"):  # attendance not recorded yet
        services.assessment_record(actor=social_worker, session=session, scores={a: 90}, at=after)
    services.attendance_record(actor=social_worker, session=session, attendance={a: True, b: False}, at=after)
    with refused(errors.NotAttended, "training.not_attended"):  # b was absent: a's pass is not written either
        services.assessment_record(actor=social_worker, session=session, scores={a: 90, b: 90}, at=after)


def test_scores_and_second_assessments_are_refused(held, trainees, social_worker):
    session, after = held
    a = trainees[0]
    services.attendance_record(actor=social_worker, session=session, attendance={a: True}, at=after)
    for bad in (101, -1, "80"):
        with refused(errors.BadScore, "training.bad_score"):
            services.assessment_record(actor=social_worker, session=session, scores={a: bad}, at=after)
    services.assessment_record(actor=social_worker, session=session, scores={a: 70}, at=after)
    with refused(errors.AlreadyAssessed, "training.already_assessed"):
        services.assessment_record(actor=social_worker, session=session, scores={a: 90}, at=after)
    with refused(errors.AlreadyAssessed, "training.already_assessed"):
        services.attendance_record(actor=social_worker, session=session, attendance={a: False}, at=after)


def test_attendance_and_assessment_only_in_ones_area(held, trainees, other_town_admin):
    session, after = held
    with refused(OutOfScope, "out_of_scope"):
        services.attendance_record(actor=other_town_admin, session=session, attendance={trainees[0]: True}, at=after)
    with refused(OutOfScope, "out_of_scope"):
        services.assessment_record(actor=other_town_admin, session=session, scores={trainees[0]: 80}, at=after)


# --------------------------------------------------------------------------------------------- targets


def test_targets_by_town_and_city(supervisor, town_admin, town, other_town, social_worker, community):
    t = services.target_set(actor=town_admin, year=2026, track="domestic", region=town, count=300)
    assert (t.count, t.set_by) == (300, town_admin)
    services.target_set(actor=town_admin, year=2026, track="domestic", region=town, count=350)
    assert TrainingTarget.objects.get(region=town, track="domestic", year=2026).count == 350
    services.target_set(actor=supervisor, year=2026, track="elderly", region=None, count=900)
    services.target_set(actor=supervisor, year=2026, track="elderly", region=other_town, count=40)
    with refused(errors.BadTarget, "training.bad_target"):
        services.target_set(actor=town_admin, year=2026, track="domestic", region=town, count=-1)
    with refused(OutOfScope, "out_of_scope"):
        services.target_set(actor=town_admin, year=2026, track="domestic", region=other_town, count=10)
    with refused(OutOfScope, "out_of_scope"):
        services.target_set(actor=town_admin, year=2026, track="domestic", region=None, count=10)
    with refused(NotAllowed, "not_allowed"):
        services.target_set(actor=social_worker, year=2026, track="domestic", region=town, count=10)
    with refused(errors.BadTargetRegion, "training.bad_target_region"):
        services.target_set(actor=supervisor, year=2026, track="domestic", region=community, count=10)
    with refused(errors.BadTargetYear, "training.bad_target_year"):
        services.target_set(actor=supervisor, year=1999, track="domestic", region=town, count=10)
    with refused(errors.BadTrack, "training.bad_track"):
        services.target_set(actor=supervisor, year=2026, track="cooking", region=town, count=10)


def test_session_counts_match_the_rows(session, trainees, social_worker):
    for person in trainees:
        services.enrolment_create(actor=social_worker, session=session, resident=person)
    services.enrolment_cancel(actor=social_worker, enrolment=Enrolment.objects.get(resident=trainees[0]))
    services.session_set_capacity(actor=social_worker, session=session, capacity=3)
    session = Session.objects.get(pk=session.pk)
    assert session.enrolled_count == Enrolment.objects.filter(session=session, status="enrolled").count() == 3


def test_a_class_list_is_enrolled_in_order_all_or_nothing(session, trainees, social_worker):
    with refused(errors.SessionFull, "training.session_full"):
        services.enrolments_create(actor=social_worker, session=session, residents=trainees[:3], wait=False)
    with refused(errors.AlreadyEnrolled, "training.already_enrolled"):
        services.enrolments_create(actor=social_worker, session=session, residents=[trainees[0], trainees[0]])
    rows = services.enrolments_create(actor=social_worker, session=session, residents=trainees[:4])
    assert [r.status for r in rows] == ["enrolled", "enrolled", "waiting", "waiting"]
    assert [waiting_position(r) for r in rows[2:]] == [1, 2]
    with refused(errors.AlreadyEnrolled, "training.already_enrolled"):
        services.enrolments_create(actor=social_worker, session=session, residents=[trainees[5], trainees[3]])
