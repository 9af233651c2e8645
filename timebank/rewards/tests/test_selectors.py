"""Recorded service and star levels: counted from the service history, never from the balance."""

from __future__ import annotations

import datetime as dt

import pytest

from timebank.care import services as care
from timebank.ledger import services as ledger
from timebank.ledger.models import Transfer
from timebank.ledger.selectors import resident_balance
from timebank.people.services import relationship_create
from timebank.rewards.selectors import roll_name, service_minutes, star_level

pytestmark = pytest.mark.django_db


def test_star_level_unchanged_by_family_transfers_donations_and_redemptions(
    world, vol, serve, paid_visit, fund, person, publish, supervisor
):
    serve(vol, 320 * 60)
    paid_visit(minutes=60)
    assert service_minutes(vol) == 321 * 60
    assert star_level(vol).stars == 2
    mother = person(name="黄母", age=66, roles=["elder"])
    relationship_create(actor=None, resident=vol, relative=mother, kind="parent", is_proxy=False, consent_note="")
    ledger.family_transfer(key="rewards-test-fam", sender=vol, recipient=mother, minutes=200 * 60)
    ledger.donate(key="rewards-test-don", donor=vol, minutes=100 * 60)
    assert resident_balance(vol).posted == 21 * 60
    assert service_minutes(vol) == 321 * 60 and star_level(vol).stars == 2
    # the mother redeems the hours she was given: her volunteer son-in-law-free world.vol2 serves her
    mother_need = care.need_publish(
        actor=world.worker,
        elder=mother,
        item="chat",
        window_start=world.start,
        window_end=world.start + dt.timedelta(hours=2),
        payer="own",
    )[0]
    visit = care.visit_assign(actor=world.worker, need=mother_need, volunteer=world.vol2.resident)
    visit = care.visit_check_in(actor=world.worker, visit=visit, at=world.start)
    visit = care.visit_check_out(actor=world.vol2, visit=visit, at=world.start + dt.timedelta(minutes=60))
    care.visit_confirm(actor=world.worker, visit=visit)
    # one redemption posted (the hold that reserved her hours from publication was voided when it was paid)
    assert Transfer.objects.filter(kind=Transfer.Kind.REDEMPTION, phase=Transfer.Phase.POSTED).count() == 1
    assert service_minutes(vol) == 321 * 60 and star_level(vol).stars == 2
    assert service_minutes(world.vol2.resident) == 60  # who served the redemption earned recorded service


def test_a_volunteer_who_redeems_keeps_the_stars(world, person, serve, fund, login):
    """An older volunteer who also spends stored hours on help for themself keeps the stars earned."""
    older = person(name="周志强", age=65, roles=["volunteer", "elder"])
    serve(older, 110 * 60)
    assert star_level(older).stars == 1

    [need] = care.need_publish(
        actor=world.worker,
        elder=older,
        item="chat",
        window_start=world.start,
        window_end=world.start + dt.timedelta(hours=2),
        payer="own",
    )
    visit = care.visit_assign(actor=world.worker, need=need, volunteer=world.vol2.resident)
    visit = care.visit_check_in(actor=world.worker, visit=visit, at=world.start)
    visit = care.visit_check_out(actor=world.vol2, visit=visit, at=world.start + dt.timedelta(minutes=90))
    care.visit_confirm(actor=world.worker, visit=visit)
    assert resident_balance(older).posted == 110 * 60 - 90
    assert service_minutes(older) == 110 * 60 and star_level(older).stars == 1


def test_star_level_keeps_growing_past_the_balance_cap(world, vol, paid_visit, supervisor):
    """Above the cap the overflow goes to the public pool; the full credited minutes still count."""
    cap = 1500 * 60
    ledger.adjustment_post(
        key="rewards-test-near-cap",
        account=ledger.account_for(vol),
        minutes=cap - 30,
        actor=supervisor,
        reason="opening",
    )
    visit = paid_visit(minutes=120)
    overflow = Transfer.objects.get(kind=Transfer.Kind.CAP_OVERFLOW)
    assert visit.credited_minutes == 120 and overflow.amount == 90
    assert resident_balance(vol).posted == cap
    assert service_minutes(vol) == 120  # the adjustment is not service; the visit counts in full
    # a second visit, all of it above the cap, still counts
    paid_visit(minutes=60, day=1)
    assert resident_balance(vol).posted == cap
    assert service_minutes(vol) == 180


def test_group_event_hours_count(vol):
    ledger.group_credit_batch(key="rewards-test-group", volunteers=[(vol, 180)], memo="重阳节")
    assert service_minutes(vol) == 180
    ledger.donate(key="rewards-test-group-don", donor=vol, minutes=180, from_group_hours=True)
    assert service_minutes(vol) == 180


def test_a_complaint_paid_in_part_counts_what_was_paid_and_a_void_counts_nothing(world, vol, checked_out):
    visit = checked_out(minutes=120)
    dispute = care.visit_dispute(actor=world.son, visit=visit, complaint="迟到")
    care.dispute_resolve(actor=world.worker, dispute=dispute, outcome="part", reason="减半", minutes=60)
    assert service_minutes(vol) == 60

    other = checked_out(minutes=60, start=world.start + dt.timedelta(days=1))
    dispute = care.visit_dispute(actor=world.son, visit=other, complaint="没来")
    care.dispute_resolve(actor=world.worker, dispute=dispute, outcome="void", reason="未服务")
    assert service_minutes(vol) == 60


def test_a_reversed_record_does_not_count(vol, serve, paid_visit, supervisor):
    visit = paid_visit(minutes=60)
    credit = serve(vol, 100 * 60)
    assert star_level(vol).stars == 1
    ledger.transfer_reverse(key="rewards-test-rev", original=credit, actor=supervisor, reason="录入错误")
    assert service_minutes(vol) == 60
    assert visit.transfer is not None
    ledger.transfer_reverse(key="rewards-test-rev-visit", original=visit.transfer, actor=supervisor, reason="录入错误")
    assert service_minutes(vol) == 0 and star_level(vol).stars == 0


def test_star_level_progress(vol, serve):
    serve(vol, 150 * 60)
    level = star_level(vol)
    assert (level.stars, level.next_stars, level.next_hours, level.percent) == (1, 2, 300, 25)
    assert level.missing_hours == 150 and not level.suspended and level.effective_stars == 1


@pytest.mark.parametrize(
    ("name", "shown"),
    [("张小明", "张*明"), ("张明", "张*"), ("欧阳娜娜", "欧阳*娜"), ("何", "何*"), ("司马相如", "司马*如"), ("", "*")],
)
def test_roll_name_masks_the_given_name(name, shown):
    assert roll_name(name) == shown
