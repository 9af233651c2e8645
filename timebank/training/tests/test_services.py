"""Training certificates: recording them, and the validity boundary the care rules rely on."""

from __future__ import annotations

import datetime as dt

import pytest

from timebank.training import errors, services
from timebank.training.models import Certificate
from timebank.training.selectors import holds_valid_certificate

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
    from timebank.common.errors import OutOfScope

    v = make_resident(name="持证人", age=40, roles=["volunteer"])
    with pytest.raises(OutOfScope):
        services.certificate_issue(
            actor=other_town_admin, holder=v, track="elderly", number="YL-T-0004", valid_from=DAY, valid_until=DAY
        )
    assert Certificate.objects.count() == 0
