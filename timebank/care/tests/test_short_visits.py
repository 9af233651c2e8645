"""Every path ends: a visit of a few minutes earns no hours and is closed, not left waiting for ever.

With half-hour steps rounded to the nearest, a visit under 15 minutes is credited 0 minutes; before, its
check-out succeeded and every confirmation then failed (the ledger refuses 0 minutes), so the elder could
never confirm it and the need stayed assigned. Now the check-out closes it as "too short to earn hours".
Notifications are written in the recipient's language, not in the language of whoever pressed the button.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from timebank.care import errors, services
from timebank.care.models import CareEvent, Need, Visit
from timebank.common.services import policy_set
from timebank.ledger import selectors as ledger_selectors
from timebank.ledger.models import Transfer
from timebank.notify.models import Notification

from .conftest import care_counts

pytestmark = pytest.mark.django_db

M = dt.timedelta(minutes=1)


def test_a_ten_minute_visit_ends_as_too_short_and_the_elder_is_told(world, checked_out):
    with translation.override("en"):  # the volunteer uses the English pages; the elder reads Chinese
        visit = checked_out(minutes=10)
    assert visit.status == Visit.Status.TOO_SHORT
    assert (visit.actual_minutes, visit.credited_minutes, visit.transfer) == (10, 0, None)
    need = Need.objects.get(pk=visit.need_id)
    assert need.status == Need.Status.DONE
    moves = list(CareEvent.objects.filter(visit=visit).values_list("from_status", "to_status"))
    assert moves[-2:] == [("checked_in", "checked_out"), ("checked_out", "too_short")]
    assert not Transfer.objects.filter(ref=f"visit:{visit.pk}").exists()
    [told] = Notification.objects.filter(recipient=world.elder, topic="care.too_short")
    assert "10 分钟" in told.text and "时间太短" in told.text and world.vol.resident.name in told.text


def test_confirming_a_too_short_visit_says_why_and_writes_nothing(world, checked_out):
    visit = checked_out(minutes=14)
    before = care_counts()
    with translation.override("zh-hans"), pytest.raises(errors.TooShort) as info:
        services.visit_confirm(actor=world.son, visit=visit)
    assert info.value.code == "care.too_short" and info.value.status == 409
    with translation.override("zh-hans"):
        assert info.value.text == (
            "这次服务只有 14 分钟，时间太短，不计时间（服务满 15 分钟才计时间）：这次服务不支付时间。"
        )
    with translation.override("en"):
        assert "from 15 minutes" in info.value.text
    with pytest.raises(errors.IllegalTransition):
        services.visit_dispute(actor=world.son, visit=visit, complaint="只待了一会儿")
    assert care_counts() == before


def test_fifteen_minutes_is_enough(world, checked_out):
    visit = checked_out(minutes=15)
    assert visit.status == Visit.Status.CHECKED_OUT
    assert services.visit_confirm(actor=world.son, visit=visit).credited_minutes == 30


def test_the_least_minutes_follow_the_coefficient_and_the_rounding(world, checked_out):
    today = timezone.localdate()
    policy_set(actor=None, key="ledger.rounding_mode", value="down", effective_from=today, allow_past=True)
    visit = checked_out(minutes=29)
    assert visit.status == Visit.Status.TOO_SHORT
    with pytest.raises(errors.TooShort) as info:
        services.visit_confirm(actor=world.son, visit=visit)
    assert info.value.params == {"minutes": 29, "least": 30}


def test_a_too_short_visit_paid_by_own_hours_releases_the_hold(world, fund, assigned):
    fund(world.elder, 60)
    visit = assigned(payer="own")
    visit = services.visit_check_in(actor=world.worker, visit=visit, at=visit.need.window_start)
    assert ledger_selectors.resident_balance(world.elder).held_out == 60
    visit = services.visit_check_out(actor=world.vol, visit=visit, at=visit.need.window_start + 5 * M)
    assert visit.status == Visit.Status.TOO_SHORT
    assert ledger_selectors.resident_balance(world.elder) == ledger_selectors.Balance(60, 0, 0)


def test_a_short_visit_checked_out_before_the_fix_is_closed_by_its_confirmation(world, checked_out):
    visit = checked_out(minutes=60)
    Visit.objects.filter(pk=visit.pk).update(actual_minutes=5)  # as the old check-out left it: unconfirmable
    visit = services.visit_confirm(actor=world.son, visit=Visit.objects.get(pk=visit.pk))
    assert visit.status == Visit.Status.TOO_SHORT and visit.credited_minutes == 0
    assert Need.objects.get(pk=visit.need_id).status == Need.Status.DONE


def test_a_too_short_visit_can_still_be_rated_with_a_complaint(world, checked_out):
    visit = checked_out(minutes=3)
    rating = services.visit_rate(actor=world.son, visit=visit, stars=1, complaint=True, comment="来了三分钟就走了")
    assert rating.is_complaint and Visit.objects.get(pk=visit.pk).status == Visit.Status.TOO_SHORT


def test_the_cap_notice_is_in_the_volunteers_language_not_the_confirmers(world, checked_out, fund):
    policy_set(
        actor=None, key="ledger.balance_cap_minutes", value=600, effective_from=timezone.localdate(), allow_past=True
    )
    fund(world.vol.resident, 570)
    visit = checked_out(minutes=60)
    with translation.override("en"):  # the son reads the English pages
        services.visit_confirm(actor=world.son, visit=visit)
    [told] = Notification.objects.filter(recipient=world.vol.resident, topic="ledger.cap_overflow")
    assert told.text.startswith("您存储的时间已达到 10 小时的存储上限") and "0.5 小时" in told.text, told.text
