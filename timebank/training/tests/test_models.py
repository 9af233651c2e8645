"""The database itself refuses what must never happen, even when the services are bypassed (raw SQL)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from timebank.training import services
from timebank.training.models import Enrolment

pytestmark = pytest.mark.django_db


def _refused(sql: str, params: list[object]) -> None:
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_seats_cannot_be_overfilled_or_zero(session):
    _refused("UPDATE training_session SET enrolled_count = capacity + 1 WHERE id = %s", [session.pk])
    _refused("UPDATE training_session SET capacity = 0, enrolled_count = 0 WHERE id = %s", [session.pk])


def test_a_session_cannot_end_before_it_starts(session):
    _refused("UPDATE training_session SET ends_at = starts_at WHERE id = %s", [session.pk])


def test_one_live_enrolment_per_person(session, trainees, social_worker):
    e = services.enrolment_create(actor=social_worker, session=session, resident=trainees[0])
    _refused(
        "INSERT INTO training_enrolment (session_id, resident_id, status, queued_at) VALUES (%s, %s, 'waiting', %s)",
        [session.pk, trainees[0].pk, timezone.now()],
    )
    # attendance only for enrolled people, an assessment only after attendance, scores up to 100
    _refused("UPDATE training_enrolment SET status = 'waiting', attended = true WHERE id = %s", [e.pk])
    _refused("UPDATE training_enrolment SET passed = true, score = 90 WHERE id = %s", [e.pk])
    _refused("UPDATE training_enrolment SET attended = true, score = 101 WHERE id = %s", [e.pk])
    assert Enrolment.objects.get(pk=e.pk).attended is None


def test_targets_are_not_negative(supervisor, town):
    t = services.target_set(actor=supervisor, year=2026, track="elderly", region=town, count=5)
    _refused("UPDATE training_trainingtarget SET count = -1 WHERE id = %s", [t.pk])
    _refused(
        "INSERT INTO training_trainingtarget (year, track, region_id, count, set_at)"
        " VALUES (2026, 'elderly', %s, 3, %s)",
        [town.pk, timezone.now()],
    )
