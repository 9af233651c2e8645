"""common.selectors.policy_value: the version in force on a day."""

import datetime as dt

import pytest

from timebank.common.models import PolicyValue
from timebank.common.selectors import PolicyMissing, policy_history, policy_value
from timebank.common.services import policy_set

pytestmark = pytest.mark.django_db


def test_defaults_are_loaded_by_migration():
    assert policy_value("people.serve_min_age") == 18
    assert policy_value("people.redeem_min_age") == 60
    assert policy_value("people.priority_alone_min_age") == 80
    assert policy_value("people.transfer_relative_kinds") == ["spouse", "parent", "child", "grandparent", "grandchild"]


def test_value_in_force_on_each_day():
    policy_set(actor=None, key="people.redeem_min_age", value=65, effective_from=dt.date(2024, 1, 1), allow_past=True)
    policy_set(actor=None, key="people.redeem_min_age", value=62, effective_from=dt.date(2025, 7, 1), allow_past=True)
    assert policy_value("people.redeem_min_age", on=dt.date(2023, 12, 31)) == 60
    assert policy_value("people.redeem_min_age", on=dt.date(2024, 1, 1)) == 65
    assert policy_value("people.redeem_min_age", on=dt.date(2025, 6, 30)) == 65
    assert policy_value("people.redeem_min_age", on=dt.date(2025, 7, 1)) == 62
    assert policy_value("people.redeem_min_age", on=dt.date(2040, 1, 1)) == 62
    assert [p.value for p in policy_history("people.redeem_min_age")] == [60, 65, 62]


def test_before_any_version_or_unknown_key_is_missing():
    with pytest.raises(PolicyMissing) as info:
        policy_value("people.serve_min_age", on=dt.date(2019, 12, 31))
    assert info.value.code == "policy_missing"
    with pytest.raises(PolicyMissing):
        policy_value("no.such.key")


def test_other_keys_are_not_affected():
    policy_set(actor=None, key="people.redeem_min_age", value=70, effective_from=dt.date(2024, 1, 1), allow_past=True)
    assert policy_value("people.elder_min_age", on=dt.date(2025, 1, 1)) == 60
    assert PolicyValue.objects.filter(key="people.elder_min_age").count() == 1
