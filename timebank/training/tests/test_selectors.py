"""Reads: expiring certificates (the policy's window, the reader's area), open sessions, my enrolments,
progress against targets per track and town."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from timebank.common import services as common_services
from timebank.training import selectors, services

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 1)


def _cert(holder, number, until, *, start=DAY - dt.timedelta(days=300), track="elderly"):
    return services.certificate_issue(
        actor=None, holder=holder, track=track, number=number, valid_from=start, valid_until=until
    )


def test_expiring_within_the_policy_window(make_resident, town_admin, other_town_admin, other_community):
    me = make_resident(name="持证人", age=40, roles=["volunteer"])
    far = make_resident(name="坦洲人", age=40, roles=["volunteer"], home_region=other_community)
    last = _cert(me, "E-1", DAY + dt.timedelta(days=60))  # the 60th day: listed
    _cert(me, "E-2", DAY + dt.timedelta(days=61))  # beyond the window
    _cert(me, "E-3", DAY - dt.timedelta(days=1))  # already expired: not "expiring"
    today = _cert(me, "E-4", DAY, track="medical")  # ends today: listed first
    other = _cert(far, "E-5", DAY + dt.timedelta(days=10))
    assert selectors.expiry_warning_days(on=DAY) == 60
    assert list(selectors.certificates_expiring(me, on=DAY)) == [today, last]
    assert list(selectors.certificates_expiring(me, on=DAY, days=30)) == [today]
    assert list(selectors.certificates_expiring_visible_to(town_admin, on=DAY)) == [today, last]
    assert list(selectors.certificates_expiring_visible_to(other_town_admin, on=DAY)) == [other]


def test_the_window_follows_the_policy(make_resident, supervisor):
    me = make_resident(name="持证人", age=40, roles=["volunteer"])
    cert = _cert(me, "E-6", DAY + dt.timedelta(days=80))
    assert not selectors.certificates_expiring(me, on=DAY).exists()
    common_services.policy_set(
        actor=supervisor, key="training.expiry_warning_days", value=90, effective_from=DAY, allow_past=True
    )
    assert list(selectors.certificates_expiring(me, on=DAY)) == [cert]


def test_open_sessions_nearest_first_and_my_enrolments(
    make_session, trainees, social_worker, other_site, other_town_admin, site
):
    near = make_session()
    far = make_session(actor=other_town_admin, site=other_site)
    make_session(starts_at=timezone.now() - dt.timedelta(hours=1))  # started: not open
    cancelled = make_session()
    services.session_cancel(actor=social_worker, session=cancelled, reason="取消")
    me = trainees[0]
    assert [s for s, _m in selectors.open_sessions_near(me)] == [near, far]
    for person in trainees[1:3]:
        services.enrolment_create(actor=social_worker, session=near, resident=person)
    services.enrolment_create(actor=social_worker, session=near, resident=me)
    [(enrolment, position)] = selectors.my_enrolments(me)
    assert (enrolment.status, position) == ("waiting", 1)
    assert near in selectors.sessions_visible_to(social_worker)
    assert far not in selectors.sessions_visible_to(social_worker)
    assert far in selectors.sessions_visible_to(other_town_admin)


def test_progress_counts_people_who_passed_in_the_year_per_town(
    make_session, trainees, social_worker, supervisor, town_admin, other_town_admin, town, next_week
):
    session = make_session(capacity=5)
    for person in trainees[:4]:
        services.enrolment_create(actor=social_worker, session=session, resident=person)
    after = next_week + dt.timedelta(hours=7)
    services.attendance_record(
        actor=social_worker, session=session, attendance=dict.fromkeys(trainees[:4], True), at=after
    )
    scores = {trainees[0]: 90, trainees[1]: 75, trainees[2]: 40, trainees[3]: 60}
    year = next_week.year
    services.assessment_record(actor=social_worker, session=session, scores=scores, at=after)
    services.target_set(actor=town_admin, year=year, track="elderly", region=town, count=6)
    services.target_set(actor=supervisor, year=year, track="elderly", region=None, count=900)
    city, towns = selectors.training_progress(supervisor, year)
    elderly = next(p for p in city if p.track == "elderly")
    assert (elderly.target, elderly.passed) == (900, 3)
    mine = [p for p in towns if p.region == town and p.track == "elderly"]
    assert [(p.target, p.passed, p.percent, p.bar) for p in mine] == [(6, 3, 50, 50)]
    assert len(towns) == 23 * 4
    city, towns = selectors.training_progress(town_admin, year)
    assert city == [] and {p.region for p in towns} == {town}
    _city, theirs = selectors.training_progress(other_town_admin, year)
    assert {p.passed for p in theirs} == {0} and {p.region for p in theirs} != {town}
    _city, worker = selectors.training_progress(social_worker, year)
    assert {p.region for p in worker} == {town}
    assert selectors.training_progress(social_worker, year - 1)[1][0].passed == 0
