"""common.services.policy_set: who may change a policy, and what values and dates it accepts."""

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.translation import override

from timebank.common.errors import NotAllowed
from timebank.common.models import PolicyValue
from timebank.common.services import (
    BadPolicyValue,
    PolicyBackdated,
    PolicyVersionExists,
    UnknownPolicy,
    policy_set,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LATER = TODAY + dt.timedelta(days=30)


def refused(exc_type, code, english, **kwargs):
    before = PolicyValue.objects.count()
    with pytest.raises(exc_type) as info:
        policy_set(**kwargs)
    assert PolicyValue.objects.count() == before
    assert info.value.code == code
    with override("en"):
        assert english in info.value.text, info.value.text
    return info.value


def test_supervisor_adds_a_version(supervisor):
    row = policy_set(actor=supervisor, key="people.redeem_min_age", value=65, effective_from=LATER, note="沪标准")
    assert (row.value, row.effective_from, row.created_by, row.note) == (65, LATER, supervisor, "沪标准")


def test_system_may_add_a_version_today():
    assert policy_set(actor=None, key="people.serve_min_age", value=16, effective_from=TODAY).value == 16


def test_unknown_key_refused(supervisor):
    refused(
        UnknownPolicy,
        "policy_unknown",
        "no policy called people.fly_min_age",
        actor=supervisor,
        key="people.fly_min_age",
        value=1,
        effective_from=LATER,
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("people.serve_min_age", "18"),
        ("people.serve_min_age", 18.0),
        ("people.serve_min_age", True),
        ("people.serve_min_age", 5),
        ("people.redeem_min_age", 120),
        ("people.transfer_relative_kinds", ["spouse", "neighbour"]),
        ("people.transfer_relative_kinds", "spouse"),
    ],
)
def test_bad_values_refused(supervisor, key, value):
    refused(
        BadPolicyValue,
        "policy_bad_value",
        "is not allowed for",
        actor=supervisor,
        key=key,
        value=value,
        effective_from=LATER,
    )


def test_backdating_refused_unless_allowed(supervisor):
    yesterday = TODAY - dt.timedelta(days=1)
    refused(
        PolicyBackdated,
        "policy_backdated",
        "cannot take effect before today",
        actor=supervisor,
        key="people.serve_min_age",
        value=16,
        effective_from=yesterday,
    )
    assert policy_set(actor=None, key="people.serve_min_age", value=16, effective_from=yesterday, allow_past=True)


def test_duplicate_effective_date_refused(supervisor):
    policy_set(actor=supervisor, key="people.serve_min_age", value=16, effective_from=LATER)
    err = refused(
        PolicyVersionExists,
        "policy_version_exists",
        f"already has a version starting on {LATER}",
        actor=supervisor,
        key="people.serve_min_age",
        value=17,
        effective_from=LATER,
    )
    assert err.status == 409
    # the default version (2020-01-01) cannot be overwritten either
    refused(
        PolicyVersionExists,
        "policy_version_exists",
        "already has a version",
        actor=None,
        key="people.serve_min_age",
        value=17,
        effective_from=dt.date(2020, 1, 1),
        allow_past=True,
    )


@pytest.mark.parametrize("who", ["town_admin", "social_worker", "partner_admin"])
def test_non_supervisors_refused(request, who):
    actor = request.getfixturevalue(who)
    refused(
        NotAllowed,
        "not_allowed",
        "not allowed",
        actor=actor,
        key="people.serve_min_age",
        value=16,
        effective_from=LATER,
    )
    # refused for who they are, before anything about the value is revealed
    refused(NotAllowed, "not_allowed", "not allowed", actor=actor, key="people.nope", value="x", effective_from=LATER)


def test_resident_login_refused(make_resident):
    from timebank.people.services import login_create

    user = login_create(actor=None, resident=make_resident(age=40, phone="13800138000"), password="x-pass-1234")
    refused(
        NotAllowed, "not_allowed", "not allowed", actor=user, key="people.serve_min_age", value=16, effective_from=LATER
    )
