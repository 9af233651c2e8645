"""Fixtures for the training tests: a course, a session at the test station next week, trainees."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from timebank.notify.models import Notification
from timebank.people.models import Resident
from timebank.training import services
from timebank.training.models import Certificate, Course, Enrolment, Session, TrainingTarget


def training_counts() -> dict[str, int]:
    """Rows of every table a training service may write: compare before and after a refused request."""
    return {
        m.__name__: m.objects.count() for m in (Course, Session, Enrolment, Certificate, TrainingTarget, Notification)
    } | {
        "courses offered": Course.objects.filter(active=True).count(),
        "enrolled": Enrolment.objects.filter(status="enrolled").count(),
        "attended": Enrolment.objects.filter(attended__isnull=False).count(),
        "assessed": Enrolment.objects.filter(passed__isnull=False).count(),
        "seats taken": sum(Session.objects.values_list("enrolled_count", flat=True)),
        "seats": sum(Session.objects.values_list("capacity", flat=True)),
    }


@pytest.fixture
def course(supervisor) -> Course:
    return services.course_create(
        actor=supervisor,
        track="elderly",
        title="养老护理员（初级）",
        teaching_minutes=40 * 60,
        validity_months=12,
        description="助浴、助餐、翻身与转移",
    )


@pytest.fixture
def next_week() -> dt.datetime:
    return (timezone.now() + dt.timedelta(days=7)).replace(hour=9, minute=0, second=0, microsecond=0)


@pytest.fixture
def make_session(course, site, social_worker, next_week) -> Callable[..., Session]:
    def make(**kw: Any) -> Session:
        start = kw.pop("starts_at", next_week)
        args = {
            "actor": social_worker,
            "course": course,
            "site": site,
            "trainer": "李护士长",
            "capacity": 2,
            "starts_at": start,
            "ends_at": start + dt.timedelta(hours=6),
        } | kw
        return services.session_create(**args)

    return make


@pytest.fixture
def session(make_session) -> Session:
    return make_session()


@pytest.fixture
def trainees(make_resident) -> list[Resident]:
    names = ["陈一", "林二", "黄三", "张四", "李五", "王六"]
    return [make_resident(name=n, age=30 + i, roles=["volunteer"]) for i, n in enumerate(names)]


@pytest.fixture
def login_for() -> Callable[[Resident], Any]:
    from timebank.conftest import PASSWORD
    from timebank.people.services import login_create
    from timebank.people.tests.factories import next_seq

    def make(resident: Resident) -> Any:
        if not resident.phone:
            resident.phone = f"+86136{next_seq():08d}"
            resident.save(update_fields=["phone"])
        return login_create(actor=None, resident=resident, password=PASSWORD)

    return make
