"""Whole stories, told the way a social worker would tell them."""

from __future__ import annotations

import pytest

from timebank.ledger import errors, selectors, services
from timebank.ledger.models import Transfer
from timebank.ledger.sealing import seal_transfers, verify_ledger
from timebank.notify.models import Notification
from timebank.people.services import relationship_create

pytestmark = pytest.mark.django_db


def test_volunteer_earns_gives_to_mother_who_redeems(make_resident):
    """Li Hua (35) serves a priority elder paid by the government, gives 3 h to her mother (65), who redeems 2 h."""
    li = make_resident("李华", 35)
    mother = make_resident("王秀英", 65, roles=("elder",))
    helper = make_resident("张伟明", 50)
    served = make_resident("黄老伯", 85, roles=("elder",), lives_alone=True)
    relationship_create(actor=None, resident=li, relative=mother, kind="parent")

    minutes = services.credited_minutes(290)  # 4 h 50 min rounds to 5 h (nearest 30 min)
    assert minutes == 300
    credit = services.service_credit(
        key="visit-1-credit", volunteer=li, payer="government", elder=served, minutes=minutes
    )
    assert credit.transfer is not None and credit.transfer.amount == 300
    assert selectors.resident_balance(li).posted == 300

    services.family_transfer(key="li-to-mum-001", sender=li, recipient=mother, minutes=180)
    assert selectors.resident_balance(li).posted == 120
    assert selectors.resident_balance(mother).posted == 180

    redemption = services.service_credit(key="visit-2-credit", volunteer=helper, payer="own", elder=mother, minutes=120)
    assert redemption.transfer.kind == Transfer.Kind.REDEMPTION
    assert selectors.resident_balance(mother).posted == 60
    assert selectors.resident_balance(helper).posted == 120
    assert selectors.outstanding_hours() == 300

    statement = selectors.statement_recent(services.account_for(mother))
    assert [line.minutes for line in statement.lines] == [-120, 180]
    assert [line.balance for line in statement.lines] == [60, 180]
    assert statement.lines[1].who == "李华"

    seal_transfers()
    report = verify_ledger()
    assert report.ok, report.problems
    assert report.total_minutes == 0


def test_cap_overflow_goes_to_pool_and_volunteer_is_told(make_resident):
    from django.utils import timezone

    from timebank.common.services import policy_set

    policy_set(
        actor=None, key="ledger.balance_cap_minutes", value=600, effective_from=timezone.localdate(), allow_past=True
    )
    v = make_resident("赵敏", 40)
    services.service_credit(key="cap-visit-1", volunteer=v, payer="government", elder=None, minutes=480)
    result = services.service_credit(key="cap-visit-2", volunteer=v, payer="government", elder=None, minutes=240)
    assert result.to_volunteer == 120
    assert result.overflow is not None and result.overflow.amount == 120
    assert selectors.resident_balance(v).posted == 600
    assert selectors.balance(services.system_account("pool")).posted == 120
    assert Notification.objects.filter(recipient=v, topic="ledger.cap_overflow").count() == 1
    again = services.service_credit(key="cap-visit-2", volunteer=v, payer="government", elder=None, minutes=240)
    assert again.transfer.pk == result.transfer.pk and again.overflow.pk == result.overflow.pk
    assert Notification.objects.filter(recipient=v).count() == 1


def test_disputed_visit_held_then_voided(make_resident):
    v = make_resident("钱多多", 30)
    elder = make_resident("孙婆婆", 70, roles=("elder",))
    services.adjustment_post(
        key="seed-elder-hours",
        account=services.account_for(elder),
        minutes=600,
        actor=_supervisor(),
        reason="opening balance",
    )
    hold = services.service_credit(key="disputed-visit", volunteer=v, payer="own", elder=elder, minutes=120, hold=True)
    assert selectors.resident_balance(elder).available == 480
    assert selectors.resident_balance(v).held_in == 120
    services.hold_void(key="disputed-visit-void", pending=hold.transfer, reason="volunteer did not come")
    assert selectors.resident_balance(elder).available == 600
    assert selectors.resident_balance(v).posted == 0
    with pytest.raises(errors.PendingResolved):
        services.hold_post(key="disputed-visit-post", pending=hold.transfer)
    assert verify_ledger().ok


def _supervisor():
    from timebank.people.services import staff_create
    from timebank.places.models import Region

    return staff_create(
        actor=None,
        phone="13900139000",
        name="督导",
        password="pw-123456-long",
        role="city_supervisor",
        region=Region.objects.get(code="442000"),
    )


def test_expiry_is_off_by_default_and_first_in_first_out_when_set(make_resident):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from timebank.common.services import policy_set

    v = make_resident("周志愿", 45)
    mum = make_resident("周妈妈", 70, roles=("elder",))
    relationship_create(actor=None, resident=v, relative=mum, kind="parent")
    with time_machine.travel(dt.datetime(2025, 1, 10, 10, tzinfo=dt.UTC)):
        services.service_credit(key="old-credit-1", volunteer=v, payer="government", elder=None, minutes=300)
    with time_machine.travel(dt.datetime(2025, 6, 10, 10, tzinfo=dt.UTC)):
        services.family_transfer(key="old-gift-001", sender=v, recipient=mum, minutes=120)
    services.service_credit(key="new-credit-1", volunteer=v, payer="government", elder=None, minutes=60)
    assert services.hours_expire() == []  # default policy: never expire

    today = timezone.localdate()
    policy_set(actor=None, key="ledger.expiry_days", value=365, effective_from=today, allow_past=True)
    made = services.hours_expire(on=today)
    # The volunteer: 300 old minus the 120 already given away; the new 60 stay. Mum's gift is old too.
    assert sorted((t.debit_account.resident.name, t.amount) for t in made) == [("周妈妈", 120), ("周志愿", 180)]
    assert selectors.resident_balance(v).posted == 60
    assert selectors.resident_balance(mum).posted == 0
    assert services.hours_expire(on=today) == []  # idempotent on the same day
    assert services.hours_expire(on=today + dt.timedelta(days=1)) == []  # and on later days
    assert Notification.objects.filter(topic="ledger.expiry").count() == 2
    assert verify_ledger().ok
