"""Falsification bars, star levels recorded from history, honours and non-cash rewards: every refusal
asserts its code and that nothing was written."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from timebank.common.errors import DomainError
from timebank.common.services import policy_set
from timebank.ledger import services as ledger
from timebank.ledger.models import Account, Transfer
from timebank.ledger.selectors import resident_balance
from timebank.people.services import relationship_create
from timebank.rewards import services
from timebank.rewards.models import Bar, Entitlement, RewardKind, StarLevelReached
from timebank.rewards.selectors import active_bar, claimable_kinds, service_minutes, star_level, town_roll

from .conftest import rewards_counts

pytestmark = pytest.mark.django_db


def refused(expected: str, call, *args, **kwargs) -> DomainError:  # type: ignore[no-untyped-def]
    before = rewards_counts()
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    assert info.value.code == expected, info.value
    assert rewards_counts() == before
    return info.value


def kind(code: str) -> RewardKind:
    return RewardKind.objects.get(code=code)


# --------------------------------------------------------------------------------------------- star levels


def test_awarding_a_star_level_by_hand_is_refused(vol, town_admin):
    refused("rewards.star_level_not_by_hand", services.star_level_award, actor=town_admin, resident=vol, stars=3)
    for asked in ("star_level", "三星级志愿者", "stars"):
        refused(
            "rewards.star_level_not_by_hand",
            services.honour_grant,
            actor=town_admin,
            person=vol,
            kind=asked,
            title="三星志愿者",
            year=timezone.localdate().year,
            citation="服务满600小时",
        )


def test_levels_are_recorded_once_with_the_day_they_were_crossed(vol, serve):
    with time_machine.travel(dt.datetime(2025, 3, 5, 10, tzinfo=dt.UTC), tick=False):
        serve(vol, 80 * 60)
    with time_machine.travel(dt.datetime(2025, 6, 1, 10, tzinfo=dt.UTC), tick=False):
        serve(vol, 40 * 60)
    assert services.star_levels_record(residents=[vol]) == 1
    row = StarLevelReached.objects.get(person=vol)
    assert (row.level, row.reached_on) == (1, dt.date(2025, 6, 1))
    assert services.star_levels_record() == 0  # nothing new: one row per person and level
    with pytest.raises(IntegrityError), transaction.atomic():
        StarLevelReached.objects.create(person=vol, level=1, reached_on=dt.date(2025, 6, 2), minutes=1)


def test_a_correction_voids_a_level_no_longer_supported(vol, serve, supervisor):
    credit = serve(vol, 100 * 60)
    services.star_levels_record()
    ledger.transfer_reverse(key="rewards-test-correct", original=credit, actor=supervisor, reason="录入错误")
    assert services.star_levels_record() == 1
    row = StarLevelReached.objects.get(person=vol)
    assert row.voided_at is not None and row.void_reason


def test_the_database_refuses_impossible_rows(vol, town_admin):
    for sql, params in [
        (
            "INSERT INTO rewards_starlevelreached (person_id, level, reached_on, minutes, recorded_at, void_reason)"
            " VALUES (%s, 6, now(), 1, now(), '')",
            [vol.pk],
        ),
        (
            "INSERT INTO rewards_bar (person_id, years, starts_on, ends_on, reason, created_by_id, created_at)"
            " VALUES (%s, 4, '2026-01-01', '2030-01-01', 'x', %s, now())",
            [vol.pk, town_admin.pk],
        ),
        (
            "INSERT INTO rewards_rewardkind (code, name, description, min_stars, provider, priority_admission, active,"
            " created_at) VALUES ('x', 'x', '', 0, 'p', false, true, now())",
            [],
        ),
    ]:
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)


# --------------------------------------------------------------------------------------------- falsification


def test_falsification_reverses_to_the_elder_and_bars_until_the_period_ends(
    world, vol, serve, paid_visit, fund, town_admin
):
    fund(world.elder, 300)
    serve(vol, 100 * 60)
    visit = paid_visit(minutes=60, payer="own")
    assert visit.transfer is not None and visit.transfer.kind == Transfer.Kind.REDEMPTION
    assert resident_balance(world.elder).posted == 240
    services.star_levels_record()
    assert StarLevelReached.objects.filter(person=vol, voided_at__isnull=True).count() == 1
    record = services.falsification_record(actor=town_admin, visit=visit, reason="未实际上门，伪造签到")
    assert (record.minutes, record.reversed_minutes, record.unreversed_minutes) == (60, 60, 0)
    assert resident_balance(world.elder).posted == 300  # the elder got her own hours back
    assert visit.transfer.reversal.kind == Transfer.Kind.REVERSAL
    assert service_minutes(vol) == 100 * 60
    bar = Bar.objects.get(person=vol)
    today = timezone.localdate()
    assert bar.years == 2 and bar.starts_on == today and bar.ends_on == today.replace(year=today.year + 2)
    level = star_level(vol)
    assert level.suspended and level.stars == 1 and level.effective_stars == 0
    assert claimable_kinds(vol) == []
    # while barred: no honour, no reward, no new level recorded
    refused(
        "rewards.barred",
        services.honour_grant,
        actor=town_admin,
        person=vol,
        kind="excellent_volunteer",
        title="优秀志愿者",
        year=today.year,
        citation="长期服务",
    )
    refused(
        "rewards.barred", services.entitlement_grant, actor=town_admin, resident=vol, kind=kind("bus-card-discount")
    )
    serve(vol, 250 * 60)  # 350 h now: 2 stars counted, but not recorded while barred
    assert services.star_levels_record() == 0
    # after the bar, eligibility returns by itself
    with time_machine.travel(bar.ends_on + dt.timedelta(days=1), tick=False):
        assert active_bar(vol) is None and not star_level(vol).suspended
        assert services.star_levels_record() == 1
        assert StarLevelReached.objects.get(person=vol, level=2).reached_on == bar.ends_on
        granted = services.entitlement_grant(actor=town_admin, resident=vol, kind=kind("bus-card-discount"))
        assert granted.stars_at_grant == 2


def test_falsifying_a_group_credit_and_a_repeat_is_refused(vol, town_admin):
    batch = ledger.group_credit_batch(key="rewards-test-group", volunteers=[(vol, 240)], memo="学雷锋日")
    credit = batch.transfers.get()
    services.falsification_record(actor=town_admin, transfer=credit, reason="未参加活动")
    assert service_minutes(vol) == 0
    assert Account.objects.get(resident=vol, kind=Account.Kind.GROUP_EARNED).posted_balance == 0
    refused(
        "rewards.already_falsified", services.falsification_record, actor=town_admin, transfer=credit, reason="再次"
    )


def test_hours_already_given_away_stay_but_the_record_stops_counting(world, vol, person, paid_visit, town_admin):
    visit = paid_visit(minutes=60)
    mother = person(name="黄母", age=66, roles=["elder"])
    relationship_create(actor=None, resident=vol, relative=mother, kind="parent", is_proxy=False, consent_note="")
    ledger.family_transfer(key="rewards-test-gone", sender=vol, recipient=mother, minutes=60)
    record = services.falsification_record(actor=town_admin, visit=visit, reason="伪造记录")
    assert (record.reversed_minutes, record.unreversed_minutes) == (0, 60)
    assert resident_balance(mother).posted == 60 and service_minutes(vol) == 0
    assert Bar.objects.filter(person=vol).count() == 1


def test_falsification_needs_area_staff_in_scope_and_a_reason(world, vol, paid_visit, other_town_admin, social_worker):
    visit = paid_visit(minutes=60)
    refused("out_of_scope", services.falsification_record, actor=other_town_admin, visit=visit, reason="伪造")
    refused("not_allowed", services.falsification_record, actor=social_worker, visit=visit, reason="伪造")
    refused("rewards.reason_required", services.falsification_record, actor=other_town_admin, visit=visit, reason=" ")
    refused("rewards.what_to_falsify", services.falsification_record, actor=social_worker, reason="伪造")


def test_an_unpaid_visit_cannot_be_falsified(world, checked_out, town_admin):
    visit = checked_out(minutes=60)
    refused("rewards.not_falsifiable", services.falsification_record, actor=town_admin, visit=visit, reason="伪造")


def test_the_bar_length_follows_the_policy(world, vol, serve, town_admin):
    policy_set(actor=None, key="rewards.falsification_bar_years", value=3, effective_from=timezone.localdate())
    credit = serve(vol, 60)
    services.falsification_record(actor=town_admin, transfer=credit, reason="伪造")
    assert Bar.objects.get(person=vol).years == 3
    with pytest.raises(DomainError):
        policy_set(actor=None, key="rewards.falsification_bar_years", value=4, effective_from=timezone.localdate())


# --------------------------------------------------------------------------------------------- honours


def test_honours_granted_withdrawn_and_shown_masked_on_the_roll(world, vol, serve, town, town_admin):
    year = timezone.localdate().year
    honour = services.honour_grant(
        actor=town_admin, person=vol, kind="excellent_volunteer", title="优秀志愿者", year=year, citation="陪伴独居长者"
    )
    assert honour.town == town
    refused(
        "rewards.duplicate_honour",
        services.honour_grant,
        actor=town_admin,
        person=vol,
        kind="excellent_volunteer",
        title="优秀志愿者",
        year=year,
        citation="again",
    )
    serve(vol, 700 * 60)
    services.star_levels_record()
    roll = town_roll(town)
    assert [h.name for h in roll.honours] == ["黄*欣"] and [s.stars for s in roll.stars] == [3]
    assert all("黄嘉欣" not in (h.name + h.citation) for h in roll.honours)
    services.honour_withdraw(actor=town_admin, honour=honour, reason="评选有误")
    assert town_roll(town).honours == []
    refused("rewards.already_withdrawn", services.honour_withdraw, actor=town_admin, honour=honour, reason="x")


def test_bad_honours_are_refused(vol, town_admin, other_town_admin, world):
    year = timezone.localdate().year
    good = {"person": vol, "kind": "excellent_volunteer", "title": "优秀志愿者", "year": year, "citation": "服务"}
    refused("out_of_scope", services.honour_grant, actor=other_town_admin, **good)
    refused("rewards.bad_honour_kind", services.honour_grant, actor=town_admin, **(good | {"kind": "medal"}))
    refused("rewards.bad_year", services.honour_grant, actor=town_admin, **(good | {"year": 1990}))
    refused("rewards.title_required", services.honour_grant, actor=town_admin, **(good | {"citation": " "}))
    refused("rewards.below_star_level", services.honour_grant, actor=town_admin, **(good | {"kind": "five_star"}))
    refused("rewards.not_a_volunteer", services.honour_grant, actor=town_admin, **(good | {"person": world.elder}))


# --------------------------------------------------------------------------------------------- rewards


def test_entitlements_never_touch_the_ledger(vol, serve, town_admin):
    serve(vol, 1600 * 60)
    transfers = Transfer.objects.count()
    balance = resident_balance(vol)
    for code in ("bus-card-discount", "health-check", "care-home-priority"):
        services.entitlement_grant(actor=town_admin, resident=vol, kind=kind(code))
    priority = Entitlement.objects.get(resident=vol, kind__priority_admission=True)
    services.entitlement_revoke(actor=town_admin, entitlement=priority, reason="已入住")
    assert Transfer.objects.count() == transfers and resident_balance(vol) == balance
    assert [k.code for k in claimable_kinds(vol)] == ["care-home-priority"]


def test_bad_entitlements_are_refused(vol, serve, town_admin, other_town_admin, supervisor):
    serve(vol, 350 * 60)  # 2 stars
    refused(
        "rewards.below_star_level",
        services.entitlement_grant,
        actor=town_admin,
        resident=vol,
        kind=kind("care-home-priority"),
    )
    refused("out_of_scope", services.entitlement_grant, actor=other_town_admin, resident=vol, kind=kind("health-check"))
    bus = services.reward_kind_set_active(actor=supervisor, kind=kind("bus-card-discount"), active=False)
    refused("rewards.reward_inactive", services.entitlement_grant, actor=town_admin, resident=vol, kind=bus)
    services.reward_kind_set_active(actor=supervisor, kind=bus, active=True)
    granted = services.entitlement_grant(actor=town_admin, resident=vol, kind=bus)
    refused("rewards.already_entitled", services.entitlement_grant, actor=town_admin, resident=vol, kind=bus)
    refused("rewards.reason_required", services.entitlement_revoke, actor=town_admin, entitlement=granted, reason="")
    refused("out_of_scope", services.entitlement_revoke, actor=other_town_admin, entitlement=granted, reason="不在本镇")


def test_reward_kinds_are_made_by_city_supervisors(town_admin, supervisor):
    refused(
        "not_allowed",
        services.reward_kind_create,
        actor=town_admin,
        code="museum",
        name="博物馆免票",
        min_stars=1,
        provider="市博物馆",
    )
    refused(
        "rewards.bad_reward_kind",
        services.reward_kind_create,
        actor=supervisor,
        code="museum",
        name="博物馆免票",
        min_stars=6,
        provider="市博物馆",
    )
    made = services.reward_kind_create(
        actor=supervisor, code="museum", name="博物馆免票", min_stars=1, provider="市博物馆"
    )
    assert made.active and not made.priority_admission
