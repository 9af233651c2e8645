"""The ledger services: every bad request refused with its own code and nothing written; policies by date."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone, translation

from timebank.common.services import policy_set
from timebank.ledger import errors, selectors, services
from timebank.ledger.models import Account, Batch, PoolGrant, Transfer
from timebank.notify.models import Notification
from timebank.people.services import relationship_create

from .conftest import ledger_counts

pytestmark = pytest.mark.django_db

BAD_MINUTES = [0, -5, 1.5, "30", True, None, Decimal("30")]


def posted(resident) -> int:
    return selectors.resident_balance(resident).posted


def set_policy(key: str, value, *, on: dt.date | None = None) -> None:
    policy_set(actor=None, key=key, value=value, effective_from=on or timezone.localdate(), allow_past=True)


@pytest.fixture
def family(make_resident, fund):
    """Li (35) with 10 h, her mother (65) and a friend (40)."""
    li = make_resident("李华", 35)
    mother = make_resident("王秀英", 65, roles=("elder",))
    friend = make_resident("周朋友", 40)
    relationship_create(actor=None, resident=li, relative=mother, kind="parent")
    relationship_create(actor=None, resident=li, relative=friend, kind="friend")
    fund(li, 600)
    return li, mother, friend


def refused(error: type[errors.DomainError], call, *args, **kwargs) -> errors.DomainError:
    """Run ``call``, expect ``error`` (by class and code), and check that no ledger row was written."""
    before = ledger_counts()
    with pytest.raises(error) as info:
        call(*args, **kwargs)
    assert info.value.code == error.code
    assert ledger_counts() == before, "a refused request wrote something"
    return info.value


# --------------------------------------------------------------------------------------------- amounts, keys


@pytest.mark.parametrize("minutes", BAD_MINUTES)
def test_bad_minutes_refused_everywhere(family, make_resident, minutes):
    li, mother, _friend = family
    elder = make_resident("黄老伯", 85, roles=("elder",), lives_alone=True)
    refused(errors.BadAmount, services.family_transfer, key="bad-min-1", sender=li, recipient=mother, minutes=minutes)
    refused(errors.BadAmount, services.donate, key="bad-min-2", donor=li, minutes=minutes)
    refused(
        errors.BadAmount,
        services.service_credit,
        key="bad-min-3",
        volunteer=li,
        payer="government",
        elder=elder,
        minutes=minutes,
    )
    refused(
        errors.BadAmount,
        services.transfer_post,
        key="bad-min-4",
        debit=services.account_for(li),
        credit=services.account_for(mother),
        minutes=minutes,
        kind=Transfer.Kind.FAMILY_TRANSFER,
    )
    refused(errors.BadAmount, services.credited_minutes, minutes)


@pytest.mark.parametrize("key", ["short", "has space 123", "x" * 81, "emoji-key-😀", 12345678, None, "a/b/c/d/e"])
def test_bad_key_refused(family, key):
    li, mother, _friend = family
    refused(errors.BadKey, services.family_transfer, key=key, sender=li, recipient=mother, minutes=30)


def test_same_account_on_both_sides(family, make_resident):
    li, _mother, _friend = family
    account = services.account_for(li)
    refused(
        errors.SameAccount,
        services.transfer_post,
        key="same-acct-1",
        debit=account,
        credit=account,
        minutes=30,
        kind=Transfer.Kind.ADJUSTMENT,
    )
    refused(errors.SameAccount, services.family_transfer, key="same-acct-2", sender=li, recipient=li, minutes=30)
    # an elder paying herself with her own hours, before she ever had an account: no account opened either
    lonely = make_resident("自己付", 70, roles=("elder", "volunteer"))
    refused(
        errors.SameAccount,
        services.service_credit,
        key="same-acct-3",
        volunteer=lonely,
        payer="own",
        elder=lonely,
        minutes=30,
    )


def test_overdraft_refused_and_no_account_opened(make_resident, family):
    li, _mother, _friend = family
    son = make_resident("李小明", 12, roles=())
    relationship_create(actor=None, resident=li, relative=son, kind="child")
    with translation.override("en"):
        error = refused(
            errors.InsufficientBalance,
            services.family_transfer,
            key="overdraw-1",
            sender=li,
            recipient=son,
            minutes=630,
        )
    assert "10 h" in error.text and "10.5 h" in error.text
    assert not Account.objects.filter(resident=son).exists()
    # a resident with no hours at all
    poor = make_resident("穷小子", 30)
    relationship_create(actor=None, resident=poor, relative=son, kind="sibling")
    set_policy("people.transfer_relative_kinds", ["sibling", "parent", "child"])
    refused(
        errors.InsufficientBalance, services.family_transfer, key="overdraw-2", sender=poor, recipient=son, minutes=1
    )
    refused(errors.InsufficientBalance, services.donate, key="overdraw-3", donor=poor, minutes=30)
    # exactly the balance is fine
    services.family_transfer(key="overdraw-4", sender=li, recipient=family[1], minutes=600)
    assert posted(li) == 0


def test_held_hours_cannot_be_spent_twice(family, make_resident):
    li, mother, _friend = family
    services.transfer_post(
        key="hold-spend-1",
        debit=services.account_for(li),
        credit=services.account_for(mother),
        minutes=400,
        kind=Transfer.Kind.FAMILY_TRANSFER,
        hold=True,
    )
    assert selectors.resident_balance(li).available == 200
    refused(
        errors.InsufficientBalance,
        services.family_transfer,
        key="hold-spend-2",
        sender=li,
        recipient=mother,
        minutes=201,
    )
    services.family_transfer(key="hold-spend-3", sender=li, recipient=mother, minutes=200)


def test_frozen_and_closed_accounts(family, supervisor, plain_user):
    li, mother, _friend = family
    account = services.account_for(li)
    social = plain_user
    with pytest.raises(errors.NotAllowed):
        services.account_set_status(actor=social, account=account, status="frozen", reason="audit")
    refused(
        errors.ReasonRequired,
        services.account_set_status,
        actor=supervisor,
        account=account,
        status="frozen",
        reason="  ",
    )
    services.account_set_status(actor=supervisor, account=account, status="frozen", reason="fraud check")
    refused(errors.AccountNotOpen, services.family_transfer, key="frozen-1", sender=li, recipient=mother, minutes=30)
    refused(errors.AccountNotOpen, services.family_transfer, key="frozen-2", sender=mother, recipient=li, minutes=30)
    refused(
        errors.AccountNotOpen,
        services.service_credit,
        key="frozen-3",
        volunteer=li,
        payer="government",
        elder=None,
        minutes=30,
    )
    # a frozen account cannot be closed while it holds hours
    refused(
        errors.AccountNotEmpty,
        services.account_set_status,
        actor=supervisor,
        account=account,
        status="closed",
        reason="moved away",
    )
    services.account_set_status(actor=supervisor, account=account, status="open", reason="cleared")
    services.family_transfer(key="frozen-4", sender=li, recipient=mother, minutes=600)
    services.account_set_status(actor=supervisor, account=account, status="closed", reason="moved away")
    refused(errors.AccountNotOpen, services.family_transfer, key="frozen-5", sender=mother, recipient=li, minutes=30)
    refused(
        errors.BadAccountStatus,
        services.account_set_status,
        actor=supervisor,
        account=account,
        status="sleeping",
        reason="typo",
    )
    # every change is on record: who, from what, to what, why
    from timebank.ledger.models import AccountStatusChange

    assert [(c.from_status, c.to_status, c.reason, c.actor_id) for c in account.status_changes.all()] == [
        ("open", "frozen", "fraud check", supervisor.pk),
        ("frozen", "open", "cleared", supervisor.pk),
        ("open", "closed", "moved away", supervisor.pk),
    ]
    assert AccountStatusChange.objects.count() == 3


def test_only_registered_relatives_of_allowed_kinds(family, make_resident):
    li, mother, friend = family
    stranger = make_resident("路人甲", 50)
    refused(errors.NotARelative, services.family_transfer, key="relative-1", sender=li, recipient=stranger, minutes=30)
    refused(errors.NotARelative, services.family_transfer, key="relative-2", sender=li, recipient=friend, minutes=30)
    assert not Account.objects.filter(resident__in=[stranger, friend]).exists()
    # the inverse relation (Li is her mother's child) counts too
    services.family_transfer(key="relative-3", sender=li, recipient=mother, minutes=60)
    services.family_transfer(key="relative-4", sender=mother, recipient=li, minutes=30)
    # a policy that allows friends, from today
    set_policy("people.transfer_relative_kinds", ["spouse", "parent", "child", "friend"])
    services.family_transfer(key="relative-5", sender=li, recipient=friend, minutes=30)
    assert posted(friend) == 30


def test_redemption_needs_the_policy_age(make_resident, fund):
    young = make_resident("未满六十", 59, roles=())
    old = make_resident("刚满六十", 60, roles=("elder",))
    volunteer = make_resident("志愿者", 30)
    fund(young, 120)
    fund(old, 120)
    refused(
        errors.RedeemNotAllowed,
        services.service_credit,
        key="redeem-1",
        volunteer=volunteer,
        payer="own",
        elder=young,
        minutes=60,
    )
    refused(errors.RedeemNotAllowed, services.guarantee_redeem, key="redeem-2", elder=young, minutes=60)
    assert not Account.objects.filter(resident=volunteer).exists()
    services.service_credit(key="redeem-3", volunteer=volunteer, payer="own", elder=old, minutes=60)
    assert posted(old) == 60 and posted(volunteer) == 60
    services.guarantee_redeem(key="redeem-4", elder=old, minutes=60)
    assert posted(old) == 0
    assert selectors.balance(services.system_account("guarantee")).posted == 60


def test_pool_pays_only_for_priority_elders(make_resident):
    volunteer = make_resident("志愿者", 30)
    ordinary = make_resident("普通老人", 75, roles=("elder",))
    refused(
        errors.NotPriority,
        services.service_credit,
        key="pool-pay-1",
        volunteer=volunteer,
        payer="pool",
        elder=ordinary,
        minutes=60,
    )
    refused(
        errors.BadPayer,
        services.service_credit,
        key="pool-pay-2",
        volunteer=volunteer,
        payer="x",
        elder=None,
        minutes=60,
    )
    refused(
        errors.BadPayer,
        services.service_credit,
        key="pool-pay-3",
        volunteer=volunteer,
        payer="own",
        elder=None,
        minutes=60,
    )


def test_pool_overdraft_refused(make_resident):
    volunteer = make_resident("志愿者", 30)
    priority = make_resident("孤老", 85, roles=("elder",), lives_alone=True)
    assert selectors.balance(services.system_account("pool")).posted == 0
    refused(
        errors.InsufficientBalance,
        services.service_credit,
        key="pool-empty-1",
        volunteer=volunteer,
        payer="pool",
        elder=priority,
        minutes=60,
    )


# --------------------------------------------------------------------------------------------- idempotency


def test_replay_returns_the_first_result_and_other_data_is_refused(family):
    li, mother, _friend = family
    first = services.family_transfer(key="idem-family-1", sender=li, recipient=mother, minutes=60)
    before = ledger_counts()
    again = services.family_transfer(key="idem-family-1", sender=li, recipient=mother, minutes=60)
    assert again.pk == first.pk and ledger_counts() == before
    refused(
        errors.IdempotencyConflict,
        services.family_transfer,
        key="idem-family-1",
        sender=li,
        recipient=mother,
        minutes=90,
    )
    refused(
        errors.IdempotencyConflict,
        services.family_transfer,
        key="idem-family-1",
        sender=mother,
        recipient=li,
        minutes=60,
    )
    refused(errors.IdempotencyConflict, services.donate, key="idem-family-1", donor=li, minutes=60)
    assert posted(li) == 540 and posted(mother) == 60


def test_replay_of_a_spent_transfer_does_not_fail_on_balance(family):
    """The retry of a transfer that emptied the account returns the first result, not 'insufficient'."""
    li, mother, _friend = family
    first = services.family_transfer(key="idem-spent-1", sender=li, recipient=mother, minutes=600)
    again = services.family_transfer(key="idem-spent-1", sender=li, recipient=mother, minutes=600)
    assert again.pk == first.pk and posted(li) == 0


# --------------------------------------------------------------------------------------------- holds


@pytest.fixture
def held(family, make_resident):
    """A disputed visit: 2 h of Mother's hours held for a volunteer."""
    li, mother, _friend = family
    services.family_transfer(key="held-seed-1", sender=li, recipient=mother, minutes=300)
    volunteer = make_resident("张志愿", 30)
    credit = services.service_credit(
        key="held-visit-1", volunteer=volunteer, payer="own", elder=mother, minutes=120, hold=True
    )
    return mother, volunteer, credit.transfer


def test_hold_full_post(held):
    mother, volunteer, pending = held
    assert selectors.resident_balance(mother).available == 180
    assert selectors.resident_balance(mother).posted == 300
    result = services.hold_post(key="held-post-1", pending=pending)
    assert result.transfer.phase == Transfer.Phase.POST and result.transfer.amount == 120
    assert selectors.resident_balance(mother) == selectors.Balance(180, 0, 0)
    assert selectors.resident_balance(volunteer) == selectors.Balance(120, 0, 0)
    again = services.hold_post(key="held-post-1", pending=pending)
    assert again.transfer.pk == result.transfer.pk


def test_hold_partial_post_returns_the_rest(held):
    mother, volunteer, pending = held
    services.hold_post(key="held-part-1", pending=pending, minutes=90, reason="left early")
    assert selectors.resident_balance(mother) == selectors.Balance(210, 0, 0)
    assert selectors.resident_balance(volunteer) == selectors.Balance(90, 0, 0)


def test_hold_void(held):
    mother, volunteer, pending = held
    services.hold_void(key="held-void-1", pending=pending, reason="did not come")
    assert selectors.resident_balance(mother) == selectors.Balance(300, 0, 0)
    assert selectors.resident_balance(volunteer) == selectors.Balance(0, 0, 0)


def test_hold_resolved_once_only(held):
    _mother, _volunteer, pending = held
    services.hold_post(key="held-once-1", pending=pending, minutes=60)
    refused(errors.PendingResolved, services.hold_void, key="held-once-2", pending=pending)
    refused(errors.PendingResolved, services.hold_post, key="held-once-3", pending=pending)
    refused(errors.PendingResolved, services.hold_post, key="held-once-4", pending=pending, minutes=30)
    resolution = Transfer.objects.get(pending=pending)
    refused(errors.NotPending, services.hold_post, key="held-once-5", pending=resolution)
    refused(errors.NotPending, services.hold_void, key="held-once-6", pending=resolution)


def test_hold_post_more_than_held(held):
    _mother, _volunteer, pending = held
    error = refused(errors.PostExceedsHold, services.hold_post, key="held-more-1", pending=pending, minutes=121)
    assert "120" in error.text
    for bad in [m for m in BAD_MINUTES if m is not None]:  # None means "all of it"
        refused(errors.BadAmount, services.hold_post, key="held-more-2", pending=pending, minutes=bad)


def test_hold_post_applies_the_cap_when_released(family, make_resident, fund):
    set_policy("ledger.balance_cap_minutes", 600)
    volunteer = make_resident("快满了", 30)
    fund(volunteer, 540)
    pending = services.service_credit(
        key="cap-hold-1", volunteer=volunteer, payer="government", elder=None, minutes=120, hold=True
    ).transfer
    result = services.hold_post(key="cap-hold-2", pending=pending)
    assert result.transfer.amount == 60 and result.overflow.amount == 60
    assert posted(volunteer) == 600
    assert selectors.balance(services.system_account("pool")).posted == 60
    assert Notification.objects.filter(recipient=volunteer, topic="ledger.cap_overflow").count() == 1


# --------------------------------------------------------------------------------------------- cap


def test_cap_replay_when_everything_went_to_the_pool(make_resident, fund):
    """A volunteer at the cap: the whole credit goes to the pool; the retry returns it, writes nothing."""
    set_policy("ledger.balance_cap_minutes", 600)
    volunteer = make_resident("满额", 30)
    fund(volunteer, 600)
    first = services.service_credit(key="cap-full-1", volunteer=volunteer, payer="government", elder=None, minutes=60)
    assert first.transfer is None and first.overflow is not None and first.overflow.amount == 60
    before = ledger_counts()
    again = services.service_credit(key="cap-full-1", volunteer=volunteer, payer="government", elder=None, minutes=60)
    assert again.transfer is None and again.overflow.pk == first.overflow.pk
    assert ledger_counts() == before
    refused(
        errors.IdempotencyConflict,
        services.service_credit,
        key="cap-full-1",
        volunteer=volunteer,
        payer="government",
        elder=None,
        minutes=90,
    )


def test_pool_paid_credit_at_the_cap_is_not_paid_again_on_retry(make_resident, fund, family):
    """The pool pays a volunteer at the cap: nothing moves. A later retry must not pay either."""
    set_policy("ledger.balance_cap_minutes", 600)
    li, _mother, _friend = family
    services.donate(key="cap-pool-seed", donor=li, minutes=600)
    volunteer = make_resident("满额", 30)
    priority = make_resident("孤老", 85, roles=("elder",), lives_alone=True)
    fund(volunteer, 600)
    first = services.service_credit(key="cap-pool-1", volunteer=volunteer, payer="pool", elder=priority, minutes=60)
    assert first.to_volunteer == 0
    services.donate(key="cap-pool-2", donor=volunteer, minutes=120)  # now there is room again
    before_pool = selectors.balance(services.system_account("pool")).posted
    again = services.service_credit(key="cap-pool-1", volunteer=volunteer, payer="pool", elder=priority, minutes=60)
    assert again.to_volunteer == 0
    assert posted(volunteer) == 480
    assert selectors.balance(services.system_account("pool")).posted == before_pool


# --------------------------------------------------------------------------------------------- reversals


def test_reversal_mirrors_once(family, supervisor, plain_user):
    li, mother, _friend = family
    original = services.family_transfer(key="rev-orig-1", sender=li, recipient=mother, minutes=120)
    reversal = services.transfer_reverse(key="reverse-1", original=original, actor=supervisor, reason="wrong person")
    assert (reversal.debit_account_id, reversal.credit_account_id) == (
        original.credit_account_id,
        original.debit_account_id,
    )
    assert reversal.amount == 120 and reversal.reverses_id == original.pk
    assert posted(li) == 600 and posted(mother) == 0
    assert services.transfer_reverse(
        key="reverse-1", original=original, actor=supervisor, reason="wrong person"
    ).pk == (reversal.pk)
    refused(
        errors.AlreadyReversed,
        services.transfer_reverse,
        key="reverse-2",
        original=original,
        actor=supervisor,
        reason="x",
    )
    refused(
        errors.NotAllowed,
        services.transfer_reverse,
        key="reverse-3",
        original=reversal,
        actor=plain_user,
        reason="x",
    )
    refused(
        errors.ReasonRequired,
        services.transfer_reverse,
        key="reverse-4",
        original=reversal,
        actor=supervisor,
        reason=" ",
    )


def test_reversal_of_spent_hours_is_refused(family, supervisor):
    li, mother, _friend = family
    original = services.family_transfer(key="rev-spent-1", sender=li, recipient=mother, minutes=120)
    services.guarantee_redeem(key="rev-spent-2", elder=mother, minutes=60)
    refused(
        errors.InsufficientBalance,
        services.transfer_reverse,
        key="rev-spent-3",
        original=original,
        actor=supervisor,
        reason="x",
    )


def test_a_hold_cannot_be_reversed(held, supervisor):
    _mother, _volunteer, pending = held
    refused(
        errors.NotReversible,
        services.transfer_reverse,
        key="rev-hold-1",
        original=pending,
        actor=supervisor,
        reason="x",
    )


# --------------------------------------------------------------------------------------------- pool grants


def test_pool_grant_four_eyes(make_resident, make_staff, family, plain_user):
    li, _mother, _friend = family
    services.donate(key="grant-seed-1", donor=li, minutes=600)
    elder = make_resident("孤老", 85, roles=("elder",), lives_alone=True)
    ordinary = make_resident("普通", 70, roles=("elder",))
    first, second, third = make_staff(), make_staff(), make_staff()
    refused(errors.NotPriority, services.pool_grant_request, actor=first, elder=ordinary, minutes=60, reason="help")
    refused(errors.ReasonRequired, services.pool_grant_request, actor=first, elder=elder, minutes=60, reason="  ")
    refused(errors.BadAmount, services.pool_grant_request, actor=first, elder=elder, minutes=0, reason="help")
    refused(errors.NotAllowed, services.pool_grant_request, actor=plain_user, elder=elder, minutes=60, reason="help")
    grant = services.pool_grant_request(actor=first, elder=elder, minutes=120, reason="winter help")
    refused(errors.GrantSameApprover, services.pool_grant_approve, actor=first, grant=grant)
    approved = services.pool_grant_approve(actor=second, grant=grant)
    assert approved.status == PoolGrant.Status.APPROVED and approved.transfer.amount == 120
    assert posted(elder) == 120
    refused(errors.GrantSameApprover, services.pool_grant_approve, actor=second, grant=grant)
    refused(errors.GrantDecided, services.pool_grant_approve, actor=third, grant=grant)
    refused(errors.GrantDecided, services.pool_grant_reject, actor=third, grant=grant, reason="too late")
    assert Transfer.objects.filter(kind=Transfer.Kind.POOL_GRANT).count() == 1


def test_pool_grant_larger_than_the_pool(make_resident, make_staff):
    elder = make_resident("孤老", 85, roles=("elder",), lives_alone=True)
    first, second = make_staff(), make_staff()
    grant = services.pool_grant_request(actor=first, elder=elder, minutes=120, reason="winter help")
    refused(errors.InsufficientBalance, services.pool_grant_approve, actor=second, grant=grant)
    grant.refresh_from_db()
    assert grant.status == PoolGrant.Status.REQUESTED
    services.pool_grant_reject(actor=second, grant=grant, reason="pool empty")
    grant.refresh_from_db()
    assert grant.status == PoolGrant.Status.REJECTED


# --------------------------------------------------------------------------------------------- group hours


def test_group_hours_may_only_be_donated(make_resident, family):
    li, mother, _friend = family
    services.group_credit_batch(key="group-event-1", volunteers=[(li, 120)], memo="重阳节")
    group = services.account_for(li, kind=Account.Kind.GROUP_EARNED)
    assert selectors.group_balance(li).posted == 120 and posted(li) == 600
    for kind in (Transfer.Kind.FAMILY_TRANSFER, Transfer.Kind.REDEMPTION, Transfer.Kind.ADJUSTMENT):
        refused(
            errors.GroupHoursDonationOnly,
            services.transfer_post,
            key="group-spend-1",
            debit=group,
            credit=services.account_for(mother),
            minutes=30,
            kind=kind,
        )
    refused(
        errors.GroupHoursDonationOnly,
        services.batch_post,
        key="group-spend-2",
        entries=[
            services.BatchEntry("1", group, services.account_for(mother), 30, Transfer.Kind.FAMILY_TRANSFER),
        ],
    )
    services.donate(key="group-spend-3", donor=li, minutes=60, from_group_hours=True)
    assert selectors.group_balance(li).posted == 60
    assert selectors.balance(services.system_account("pool")).posted == 60


# --------------------------------------------------------------------------------------------- batches


def test_batch_all_or_nothing(make_resident, family):
    li, mother, _friend = family
    a, b = services.account_for(li), services.account_for(mother)
    entries = [
        services.BatchEntry("1", a, b, 300, Transfer.Kind.FAMILY_TRANSFER),
        services.BatchEntry("2", a, b, 300, Transfer.Kind.FAMILY_TRANSFER),
        services.BatchEntry("3", a, b, 1, Transfer.Kind.FAMILY_TRANSFER),  # overdraws halfway through
    ]
    refused(errors.InsufficientBalance, services.batch_post, key="batch-over-1", entries=entries)
    assert posted(li) == 600 and not Batch.objects.filter(key="batch-over-1").exists()
    refused(errors.EmptyBatch, services.batch_post, key="batch-empty-1", entries=[])
    refused(errors.DuplicateInBatch, services.batch_post, key="batch-dup-1", entries=[entries[0], entries[0]])
    refused(
        errors.BadAmount, services.batch_post, key="batch-bad-1", entries=[dataclasses.replace(entries[0], minutes=0)]
    )
    refused(
        errors.SameAccount,
        services.batch_post,
        key="batch-same-1",
        entries=[services.BatchEntry("1", a, a, 30, Transfer.Kind.ADJUSTMENT)],
    )
    refused(errors.BadKey, services.batch_post, key="bad key", entries=entries[:1])


def test_batch_replay_returns_the_same_batch(make_resident, family):
    li, mother, _friend = family
    a, b = services.account_for(li), services.account_for(mother)
    entries = [services.BatchEntry(str(i), a, b, 60, Transfer.Kind.FAMILY_TRANSFER) for i in range(3)]
    batch = services.batch_post(key="batch-replay-1", entries=entries)
    assert batch.count == 3 and batch.total == 180 and batch.transfers.count() == 3
    assert posted(li) == 420 and posted(mother) == 180
    before = ledger_counts()
    assert services.batch_post(key="batch-replay-1", entries=entries).pk == batch.pk
    assert ledger_counts() == before
    refused(errors.IdempotencyConflict, services.batch_post, key="batch-replay-1", entries=entries[:2])


def test_group_credit_batch_replay_opens_nothing(make_resident):
    volunteers = [(make_resident(f"队员{i}", 25), 120) for i in range(3)]
    batch = services.group_credit_batch(key="group-batch-1", volunteers=volunteers, memo="学雷锋日")
    before = ledger_counts()
    assert services.group_credit_batch(key="group-batch-1", volunteers=volunteers, memo="学雷锋日").pk == batch.pk
    assert ledger_counts() == before
    newcomer = make_resident("新队员", 25)
    refused(
        errors.IdempotencyConflict,
        services.group_credit_batch,
        key="group-batch-1",
        volunteers=[*volunteers, (newcomer, 60)],
    )
    assert all(selectors.group_balance(v).posted == 120 for v, _m in volunteers)


# --------------------------------------------------------------------------------------------- policies by date


def test_cap_change_from_tomorrow_does_not_touch_today(make_resident, fund):
    today = timezone.localdate()
    set_policy("ledger.balance_cap_minutes", 120, on=today + dt.timedelta(days=1))
    volunteer = make_resident("今天", 30)
    result = services.service_credit(key="cap-date-1", volunteer=volunteer, payer="government", elder=None, minutes=300)
    assert result.to_volunteer == 300 and result.overflow is None
    with time_machine.travel(timezone.now() + dt.timedelta(days=1, hours=1)):
        other = make_resident("明天", 30)
        tomorrow = services.service_credit(
            key="cap-date-2", volunteer=other, payer="government", elder=None, minutes=300
        )
        assert tomorrow.to_volunteer == 120 and tomorrow.overflow.amount == 180


def test_rounding_policy_step_and_modes():
    assert services.credited_minutes(290) == 300
    assert services.credited_minutes(44) == 30
    assert services.credited_minutes(45) == 60  # halves go up
    assert services.credited_minutes(10) == 0  # less than half a step is not service time
    set_policy("ledger.rounding_step_minutes", 15)
    assert services.credited_minutes(52) == 45
    assert services.credited_minutes(53) == 60
    set_policy("ledger.rounding_mode", "down", on=timezone.localdate() + dt.timedelta(days=1))
    assert services.credited_minutes(59) == 60  # "down" is not in force yet
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert services.credited_minutes(59, on=tomorrow) == 45
    assert services.credited_minutes(44, on=tomorrow) == 30
    set_policy("ledger.rounding_mode", "up", on=tomorrow + dt.timedelta(days=1))
    assert services.credited_minutes(31, on=tomorrow + dt.timedelta(days=1)) == 45
    assert services.credited_minutes(30, on=tomorrow + dt.timedelta(days=1)) == 30


def test_coefficients():
    assert services.credited_minutes(60, Decimal("2.0")) == 120
    assert services.credited_minutes(60, "2") == 120
    assert services.credited_minutes(45, 2) == 90
    assert services.credited_minutes(100, "1.5") == 150
    for bad in ("0", "0.05", "10.5", "abc", "NaN", "Infinity", -1):
        with pytest.raises(errors.BadCoefficient):
            services.credited_minutes(60, bad)


def test_adjustments_need_a_supervisor(family, plain_user):
    li, _mother, _friend = family
    town = plain_user
    refused(
        errors.NotAllowed,
        services.adjustment_post,
        key="adjust-1",
        account=services.account_for(li),
        minutes=60,
        actor=town,
        reason="x",
    )
