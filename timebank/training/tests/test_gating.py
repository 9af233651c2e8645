"""A certificate from training gates the catalogue items that need it, through care's real services:
allowed on the last day of its validity, refused the day after."""
# ruff: noqa: F811 - the care fixtures are imported and then requested by name

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from timebank.care import errors as care_errors
from timebank.care import services as care
from timebank.care.models import Visit
from timebank.care.tests.conftest import login, person, publish, world  # noqa: F401 - fixtures
from timebank.training import services

pytestmark = pytest.mark.django_db


def test_certificate_from_training_gates_bathing_across_its_last_day(world, publish, supervisor, site):
    course = services.course_create(
        actor=supervisor, track="elderly", title="养老护理员（初级）", teaching_minutes=2400, validity_months=12
    )
    today = timezone.localdate()
    passed_on = today - dt.timedelta(days=360)  # so the certificate ends in the coming days
    start = timezone.make_aware(dt.datetime.combine(passed_on - dt.timedelta(days=1), dt.time(9)))
    session = services.session_create(
        actor=world.worker,
        course=course,
        site=site,
        trainer="李护士长",
        capacity=10,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=6),
    )
    volunteer = world.vol.resident
    services.enrolment_create(actor=world.worker, session=session, resident=volunteer, at=start - dt.timedelta(days=7))
    after = start + dt.timedelta(days=1)
    services.attendance_record(actor=world.worker, session=session, attendance={volunteer: True}, at=after)
    [row] = services.assessment_record(
        actor=world.worker, session=session, scores={volunteer: 88}, on=passed_on, at=after
    )
    last_day = row.certificate.valid_until
    assert last_day == services.add_months(passed_on, 12) and last_day > today

    def bath_on(day: dt.date):
        begin = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
        return publish(item="bath", start=begin)  # 助浴 needs an elderly-care certificate

    visit = care.visit_assign(actor=world.worker, need=bath_on(last_day), volunteer=volunteer)
    assert visit.status == Visit.Status.ASSIGNED
    with pytest.raises(care_errors.NotQualified) as info:
        care.visit_assign(actor=world.worker, need=bath_on(last_day + dt.timedelta(days=1)), volunteer=volunteer)
    assert info.value.code == "care.not_qualified"
    assert Visit.objects.count() == 1
