"""The life of a service, told end to end: need → dispatch → check-in → check-out → confirm → rating."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from timebank.care import errors, services
from timebank.care.models import CareEvent, Item, Need, Visit
from timebank.ledger import selectors as ledger_selectors
from timebank.ledger.models import Transfer
from timebank.ledger.sealing import verify_ledger
from timebank.people.services import login_create, relationship_create

pytestmark = pytest.mark.django_db

PASSWORD = "Tb-test-pass-2026"


@pytest.fixture
def story(make_resident, social_worker):
    elder = make_resident(name="何惠珍", age=82, roles=["elder"], lives_alone=True, languages=["yue"])
    son = make_resident(name="梁志明", age=55, roles=["proxy"], phone="13600000002")
    volunteer = make_resident(name="黄嘉欣", age=27, roles=["volunteer"], phone="13600000001", languages=["yue", "cmn"])
    relationship_create(
        actor=None, resident=elder, relative=son, kind="child", is_proxy=True, consent_note="signed at the station"
    )
    return {
        "elder": elder,
        "son": login_create(actor=None, resident=son, password=PASSWORD),
        "volunteer": login_create(actor=None, resident=volunteer, password=PASSWORD),
        "worker": social_worker,
    }


def test_a_visit_from_need_to_statement(story):
    elder, son, vol, worker = story["elder"], story["son"], story["volunteer"], story["worker"]
    start = timezone.now() + dt.timedelta(hours=2)
    [need] = services.need_publish(
        actor=son,
        elder=elder,
        item="medical",
        window_start=start,
        window_end=start + dt.timedelta(hours=4),
        pref_language="yue",
    )
    assert need.via == Need.Via.PROXY
    assert need.payer == Need.Payer.POOL  # 82 and living alone: a priority elder

    # 助医 needs a medical certificate: the volunteer has none yet.
    with pytest.raises(errors.NotQualified):
        services.visit_assign(actor=worker, need=need, volunteer=vol.resident)
    from timebank.training.services import certificate_issue

    certificate_issue(
        actor=None,
        holder=vol.resident,
        track="medical",
        number="YH-2026-001",
        valid_from=timezone.localdate(),
        valid_until=timezone.localdate() + dt.timedelta(days=365),
    )
    services.application_apply(actor=vol, need=need)
    visit = services.visit_assign(actor=worker, need=need, volunteer=vol.resident)

    card = services.card_issue(actor=worker, elder=elder)
    with pytest.raises(errors.WrongCode):
        services.visit_check_in(actor=vol, visit=visit, code="000000" if card.pin != "000000" else "111111", at=start)
    with pytest.raises(errors.TooFar):
        services.visit_check_in(actor=vol, visit=visit, code=card.pin, lat=elder.lat + 0.01, lon=elder.lon, at=start)
    visit = services.visit_check_in(actor=vol, visit=visit, code=card.token, lat=elder.lat, lon=elder.lon, at=start)
    assert visit.check_in_method == "qr"
    visit = services.visit_check_out(actor=vol, visit=visit, at=start + dt.timedelta(minutes=170))
    assert visit.actual_minutes == 170

    # The pool pays: give it hours first (a donation), as the demo city does.
    from timebank.ledger.services import adjustment_post, donate
    from timebank.people.services import staff_create

    boss = staff_create(
        actor=None,
        phone="13811112222",
        name="督导",
        password=PASSWORD,
        role="city_supervisor",
        region=elder.home_region.parent.parent,
    )
    adjustment_post(
        key="seed-donor-hours",
        account=__import__("timebank.ledger.services", fromlist=["x"]).account_for(vol.resident),
        minutes=600,
        actor=boss,
        reason="test opening balance",
    )
    donate(key="donation-to-pool-1", donor=vol.resident, minutes=600)

    visit = services.visit_confirm(actor=son, visit=visit)
    again = services.visit_confirm(actor=worker, visit=visit)  # pressed twice: nothing more happens
    assert again.transfer_id == visit.transfer_id
    # 170 min × 1.5 = 255 → nearest 30 min = 270
    assert visit.credited_minutes == 270
    assert Transfer.objects.filter(ref=f"visit:{visit.pk}").count() == 1
    assert ledger_selectors.resident_balance(vol.resident).posted == 270

    rating = services.visit_rate(actor=son, visit=visit, stars=5, tags=["准时", "耐心"], comment="很细心")
    assert rating.side == "elder"
    with pytest.raises(errors.AlreadyRated):
        services.visit_rate(actor=son, visit=visit, stars=4)
    services.visit_rate(actor=vol, visit=visit, stars=5)
    visit.refresh_from_db()
    assert visit.status == Visit.Status.RATED
    line = ledger_selectors.statement_recent(ledger_selectors.Account.objects.get(resident=vol.resident))
    assert line.lines[0].who == "何惠珍" and "助医" in line.lines[0].what
    assert [e.to_status for e in CareEvent.objects.filter(visit=visit)] == [
        "assigned",
        "checked_in",
        "checked_out",
        "confirmed",
        "rated",
    ]
    assert verify_ledger().ok


def test_dispute_holds_then_pays_part(story, make_resident):
    elder, son, vol, worker = story["elder"], story["son"], story["volunteer"], story["worker"]
    start = timezone.now() + dt.timedelta(hours=1)
    [need] = services.need_publish(
        actor=worker,
        elder=elder,
        item="cleaning",
        window_start=start,
        window_end=start + dt.timedelta(hours=3),
        payer="government",
    )
    visit = services.visit_assign(actor=worker, need=need, volunteer=vol.resident)
    visit = services.visit_check_in(actor=worker, visit=visit, at=start)  # the station checks in for her
    visit = services.visit_check_out(actor=vol, visit=visit, at=start + dt.timedelta(minutes=120))
    dispute = services.visit_dispute(actor=son, visit=visit, complaint="只打扫了一半")
    assert ledger_selectors.resident_balance(vol.resident).held_in == 120
    with pytest.raises(errors.ReasonRequired):
        services.dispute_resolve(actor=worker, dispute=dispute, outcome="part", minutes=60, reason=" ")
    services.dispute_resolve(actor=worker, dispute=dispute, outcome="part", minutes=60, reason="核实后按一小时计")
    assert ledger_selectors.resident_balance(vol.resident).posted == 60
    assert ledger_selectors.resident_balance(vol.resident).held_in == 0
    with pytest.raises(errors.IllegalTransition):
        services.dispute_resolve(actor=worker, dispute=dispute, outcome="void", reason="again")
    assert verify_ledger().ok


def test_redemption_needs_hours_and_age(story, make_resident, social_worker):
    young = make_resident(name="年轻人", age=59, roles=[])
    with pytest.raises(errors.NotTheirElder):
        services.need_publish(
            actor=story["volunteer"],
            elder=young,
            item="chat",
            window_start=timezone.now() + dt.timedelta(hours=1),
            window_end=timezone.now() + dt.timedelta(hours=2),
        )
    start = timezone.now() + dt.timedelta(hours=1)
    with pytest.raises(errors.NotAnElder):
        services.need_publish(
            actor=social_worker,
            elder=young,
            item="chat",
            window_start=start,
            window_end=start + dt.timedelta(hours=1),
            payer="own",
        )
    with pytest.raises(errors.NotEnoughHours):
        services.need_publish(
            actor=social_worker,
            elder=story["elder"],
            item="chat",
            window_start=start,
            window_end=start + dt.timedelta(hours=1),
            payer="own",
        )
    assert Need.objects.count() == 0


def test_catalogue_revision_keeps_old_terms(story, supervisor):
    worker, elder = story["worker"], story["elder"]
    start = timezone.now() + dt.timedelta(hours=1)
    [old] = services.need_publish(
        actor=worker, elder=elder, item="chat", window_start=start, window_end=start + dt.timedelta(hours=1)
    )
    services.catalogue_item_revise(
        actor=supervisor, item=Item.objects.get(code="chat"), coefficient="1.5", note="重阳节加倍"
    )
    [new] = services.need_publish(
        actor=worker, elder=elder, item="chat", window_start=start, window_end=start + dt.timedelta(hours=1)
    )
    assert str(old.item_version.coefficient) == "1.00" and str(new.item_version.coefficient) == "1.50"


def test_window_in_the_past_and_backwards(story):
    worker, elder = story["worker"], story["elder"]
    now = timezone.now()
    with time_machine.travel(now):
        with pytest.raises(errors.BadWindow):
            services.need_publish(
                actor=worker,
                elder=elder,
                item="chat",
                window_start=now - dt.timedelta(hours=3),
                window_end=now - dt.timedelta(hours=1),
            )
        with pytest.raises(errors.BadWindow):
            services.need_publish(
                actor=worker,
                elder=elder,
                item="chat",
                window_start=now + dt.timedelta(hours=3),
                window_end=now + dt.timedelta(hours=1),
            )
        with pytest.raises(errors.UnknownItem):
            services.need_publish(
                actor=worker,
                elder=elder,
                item="nope",
                window_start=now + dt.timedelta(hours=1),
                window_end=now + dt.timedelta(hours=2),
            )
    assert Need.objects.count() == 0


def test_weekly_redemption_with_a_decline_a_no_show_and_the_guarantee(story, make_resident, supervisor):
    """王伯 (68) earned hours as a volunteer; now he redeems them for a weekly meal, three weeks ahead.

    Week 1: the first volunteer declines, the station sends another, who serves; 王伯 confirms on the phone
    and both rate. Week 2: the volunteer does not come, nobody else takes it; when the window has begun the
    bureau buys the meal from a provider and his hours are still spent. Week 3: he cancels.
    """
    from timebank.ledger.services import account_for, adjustment_post

    worker, vol = story["worker"], story["volunteer"]
    wang = make_resident(name="王伯", age=68, roles=["elder"], phone="13600000009", languages=["yue"])
    wang_user = login_create(actor=None, resident=wang, password=PASSWORD)
    adjustment_post(key="wang-earned", account=account_for(wang), minutes=300, actor=supervisor, reason="旧账转入")
    other = make_resident(name="陈义工", age=45, roles=["volunteer"], phone="13600000010", languages=["yue"])
    other_user = login_create(actor=None, resident=other, password=PASSWORD)

    start = (timezone.now() + dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    weeks = services.need_publish(
        actor=wang_user,
        elder=wang,
        item="meal",
        window_start=start,
        window_end=start + dt.timedelta(hours=2),
        payer="own",
        weeks=3,
        pref_language="yue",
    )
    assert [n.via for n in weeks] == ["elder"] * 3 and {n.minutes_reserved for n in weeks} == {60}  # 45 min → 60

    first = services.visit_assign(actor=worker, need=weeks[0], volunteer=vol.resident)
    services.visit_decline(actor=vol, visit=first, reason="临时加班")
    visit = services.visit_assign(actor=worker, need=weeks[0], volunteer=other)
    card = services.card_issue(actor=worker, elder=wang)
    visit = services.visit_check_in(actor=other_user, visit=visit, code=card.pin, lat=wang.lat, lon=wang.lon, at=start)
    visit = services.visit_check_out(actor=other_user, visit=visit, at=start + dt.timedelta(minutes=50))
    visit = services.visit_confirm(actor=wang_user, visit=visit)
    assert visit.confirmed_via == "elder" and visit.credited_minutes == 60
    services.visit_rate(actor=wang_user, visit=visit, stars=5)
    services.visit_rate(actor=other_user, visit=visit, stars=5)

    week2 = weeks[1].window_start
    missed = services.visit_assign(actor=worker, need=weeks[1], volunteer=vol.resident)
    with time_machine.travel(week2 + dt.timedelta(minutes=30), tick=False):
        services.visit_no_show(actor=worker, visit=missed, note="电话不通")
        need = services.need_fulfil_by_guarantee(
            actor=worker, need=Need.objects.get(pk=weeks[1].pk), provider="长者饭堂"
        )
    assert need.status == Need.Status.GUARANTEED
    services.need_cancel(actor=wang_user, need=weeks[2], reason="去女儿家住")

    balance = ledger_selectors.resident_balance(wang)
    assert balance.posted == 300 - 60 - 60
    statement = ledger_selectors.statement_recent(ledger_selectors.Account.objects.get(resident=wang))
    assert [line.minutes for line in statement.lines] == [-60, -60, 300]
    assert "长者饭堂" in statement.lines[0].what
    assert ledger_selectors.resident_balance(other).posted == 60
    assert verify_ledger().ok
