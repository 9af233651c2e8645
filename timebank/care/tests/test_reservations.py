"""Own hours promised to a need are held in the ledger from publication until the need is paid or ends.

Before, the reservation was only counted when another need was published: a family transfer, a donation or an
adjustment could spend hours already promised to a visit, and once the visit was served it could not be paid
(``care.not_enough_hours``). Now a need paid by own hours carries a ledger hold (``Need.hold``), which the
ledger's available balance already counts, so every way of spending hours meets it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import translation

from timebank.care import errors, services
from timebank.care.models import Need, Visit
from timebank.ledger import selectors as ledger_selectors
from timebank.ledger import services as ledger
from timebank.ledger.errors import InsufficientBalance
from timebank.ledger.models import Transfer
from timebank.people.models import User

from .conftest import care_counts

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
Balance = ledger_selectors.Balance


def own_need(world: Any, *, start: dt.datetime | None = None, item: str = "chat") -> Need:
    begin = start or world.start
    [need] = services.need_publish(
        actor=world.worker, elder=world.elder, item=item, payer="own", window_start=begin, window_end=begin + 2 * H
    )
    return need


def served(world: Any, need: Need, *, minutes: int = 60) -> Visit:
    visit = services.visit_assign(actor=world.worker, need=need, volunteer=world.vol.resident)
    visit = services.visit_check_in(actor=world.worker, visit=visit, at=need.window_start)
    return services.visit_check_out(actor=world.vol, visit=visit, at=need.window_start + minutes * M)


def holds_of(need: Need) -> list[str]:
    return list(Transfer.objects.filter(ref=f"need:{need.pk}").order_by("id").values_list("phase", flat=True))


@pytest.mark.django_db
def test_publishing_holds_the_estimate_in_the_ledger(world, fund):
    fund(world.elder, 120)
    need = own_need(world)
    assert need.hold is not None and need.hold.phase == "pending" and need.hold.amount == need.minutes_reserved == 60
    assert ledger_selectors.resident_balance(world.elder) == Balance(120, 0, 60)  # posted, held in, held out
    assert holds_of(need) == ["pending"]


@pytest.mark.django_db
def test_a_family_transfer_cannot_spend_held_hours(world, fund):
    fund(world.elder, 120)
    need = own_need(world)
    before = care_counts()
    with translation.override("zh-hans"), pytest.raises(InsufficientBalance) as info:
        ledger.family_transfer(key="gift-to-son-1", sender=world.elder, recipient=world.son.resident, minutes=120)
    assert info.value.code == "ledger.insufficient_balance"
    with translation.override("zh-hans"):
        assert "时间不够" in info.value.text and "1 小时" in info.value.text  # 1 h available, 2 h asked
    assert care_counts() == before  # nothing written
    # the unheld hour may still be given
    ledger.family_transfer(key="gift-to-son-2", sender=world.elder, recipient=world.son.resident, minutes=60)
    # ... and the visit already promised is paid in full afterwards (before: care.not_enough_hours)
    visit = services.visit_confirm(actor=world.son, visit=served(world, need))
    assert visit.status == Visit.Status.CONFIRMED and visit.credited_minutes == 60
    assert ledger_selectors.resident_balance(world.elder) == Balance(0, 0, 0)
    assert ledger_selectors.resident_balance(world.vol.resident).posted == 60


@pytest.mark.django_db
def test_a_donation_or_an_adjustment_cannot_spend_held_hours(world, fund, supervisor):
    fund(world.elder, 60)
    need = own_need(world)
    before = care_counts()
    with pytest.raises(InsufficientBalance):
        ledger.donate(key="donate-all-1", donor=world.elder, minutes=30)
    with pytest.raises(InsufficientBalance):
        ledger.adjustment_post(
            key="take-back-1", account=ledger.account_for(world.elder), minutes=-30, actor=supervisor, reason="错"
        )
    assert care_counts() == before
    assert holds_of(need) == ["pending"]


@pytest.mark.django_db
def test_a_second_need_cannot_take_held_hours_and_nothing_is_written(world, fund):
    fund(world.elder, 100)
    own_need(world)
    before = care_counts()
    with pytest.raises(errors.NotEnoughHours) as info:
        own_need(world, start=world.start + 24 * H)
    assert info.value.code == "care.not_enough_hours"
    assert care_counts() == before


@pytest.mark.django_db
def test_weekly_needs_hold_each_week_or_none(world, fund):
    fund(world.elder, 150)
    before = care_counts()
    with pytest.raises(errors.NotEnoughHours):
        services.need_publish(
            actor=world.worker, elder=world.elder, item="chat", payer="own", weeks=3, **_window(world)
        )
    assert care_counts() == before
    weeks = services.need_publish(
        actor=world.worker, elder=world.elder, item="chat", payer="own", weeks=2, **_window(world)
    )
    assert [n.hold.amount for n in weeks] == [60, 60]  # type: ignore[union-attr]
    assert ledger_selectors.resident_balance(world.elder).available == 30


def _window(world: Any) -> dict[str, dt.datetime]:
    return {"window_start": world.start, "window_end": world.start + 2 * H}


@pytest.mark.django_db
def test_cancel_releases_the_hold(world, fund):
    fund(world.elder, 60)
    need = own_need(world)
    services.visit_assign(actor=world.worker, need=need, volunteer=world.vol.resident)
    services.need_cancel(actor=world.son, need=need, reason="住院了")
    assert holds_of(need) == ["pending", "void"]
    assert ledger_selectors.resident_balance(world.elder) == Balance(60, 0, 0)
    ledger.family_transfer(key="gift-after-cancel", sender=world.elder, recipient=world.son.resident, minutes=60)


@pytest.mark.django_db
def test_expiry_releases_the_hold_and_a_reopened_need_keeps_it(world, fund):
    fund(world.elder, 120)
    declined = own_need(world)
    lapsing = own_need(world, start=world.start + 3 * H)
    visit = services.visit_assign(actor=world.worker, need=declined, volunteer=world.vol.resident)
    services.visit_decline(actor=world.vol, visit=visit, reason="病了")
    declined.refresh_from_db()
    assert declined.status == Need.Status.OPEN and holds_of(declined) == ["pending"]  # open again: still held
    assert services.needs_expire(now=world.start + 30 * H) == 2
    assert holds_of(declined) == holds_of(lapsing) == ["pending", "void"]
    assert ledger_selectors.resident_balance(world.elder) == Balance(120, 0, 0)


@pytest.mark.django_db
def test_confirmation_spends_the_actual_minutes_and_releases_the_rest(world, fund):
    fund(world.elder, 180)
    need = own_need(world)
    visit = services.visit_confirm(actor=world.son, visit=served(world, need, minutes=95))  # 95 → 90 credited
    assert visit.credited_minutes == 90  # more than the 60 reserved: the redemption takes the actual minutes
    assert holds_of(need) == ["pending", "void"]
    assert ledger_selectors.resident_balance(world.elder) == Balance(90, 0, 0)
    assert visit.transfer is not None and visit.transfer.kind == Transfer.Kind.REDEMPTION
    assert visit.transfer.amount == 90 and visit.transfer.ref == f"visit:{visit.pk}"


@pytest.mark.django_db
def test_a_confirmation_that_cannot_be_paid_keeps_the_hold(world, fund, supervisor):
    fund(world.elder, 60)
    need = own_need(world)
    visit = served(world, need, minutes=150)  # 150 minutes: 2.5 h, she holds 1 h
    before = care_counts()
    with pytest.raises(errors.NotEnoughHours):
        services.visit_confirm(actor=world.son, visit=visit)
    assert care_counts() == before and holds_of(need) == ["pending"]


@pytest.mark.django_db
def test_a_dispute_replaces_the_reservation_by_its_own_hold(world, fund, supervisor):
    fund(world.elder, 120)
    need = own_need(world)
    dispute = services.visit_dispute(actor=world.son, visit=served(world, need), complaint="只做了一半")
    assert holds_of(need) == ["pending", "void"]
    assert ledger_selectors.resident_balance(world.elder) == Balance(120, 0, 60)  # held once, by the dispute
    services.dispute_resolve(actor=world.worker, dispute=dispute, outcome="void", reason="回访后不付")
    assert ledger_selectors.resident_balance(world.elder) == Balance(120, 0, 0)


# --------------------------------------------------------------------------------------------- races


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = calls[i]()
        except Exception as exc:  # the test inspects what each thread met
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread is stuck (deadlock?)"
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("round_", range(3))
def test_publish_and_transfer_racing_for_the_same_hours(world, fund, round_):
    """One hour, two takers at the same moment: a need paid by own hours and a family transfer of that hour.
    Exactly one wins; the balance never goes below what is held; a need exists only with its hold."""
    fund(world.elder, 60)
    worker_pk, elder_pk, son_pk = world.worker.pk, world.elder.pk, world.son.resident.pk

    def publish() -> Any:
        from timebank.people.models import Resident

        [need] = services.need_publish(
            actor=User.objects.get(pk=worker_pk),
            elder=Resident.objects.get(pk=elder_pk),
            item="chat",
            payer="own",
            window_start=world.start,
            window_end=world.start + 2 * H,
        )
        return need

    def give() -> Any:
        from timebank.people.models import Resident

        return ledger.family_transfer(
            key=f"race-gift-{round_}",
            sender=Resident.objects.get(pk=elder_pk),
            recipient=Resident.objects.get(pk=son_pk),
            minutes=60,
        )

    published, given = race([publish, give])
    wins = [r for r in (published, given) if not isinstance(r, Exception)]
    losses = [r for r in (published, given) if isinstance(r, Exception)]
    assert len(wins) == 1 and len(losses) == 1, (published, given)
    assert isinstance(losses[0], errors.NotEnoughHours | InsufficientBalance), losses[0]
    balance = ledger_selectors.resident_balance(world.elder)
    needs = Need.objects.filter(elder=world.elder, payer="own")
    if isinstance(published, Need):
        assert balance == Balance(60, 0, 60) and needs.get().hold_id is not None
    else:
        assert balance == Balance(0, 0, 0) and not needs.exists()
