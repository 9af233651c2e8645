"""The care services one by one: what each does, and every bad input refused with its code and nothing written."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
import time_machine
from django.utils import timezone

from timebank.care import errors, services
from timebank.care.models import Application, CareEvent, Item, Need, Visit
from timebank.common.errors import NotAllowed, OutOfScope
from timebank.ledger import selectors as ledger_selectors
from timebank.ledger.models import Transfer
from timebank.people.services import relationship_create
from timebank.places.errors import BadCoordinates
from timebank.training.services import certificate_issue

from .conftest import care_counts

pytestmark = pytest.mark.django_db

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


@contextmanager
def refused(error: type[Exception], code: str):
    """The block raises ``error`` with ``code`` and writes no row of any care or ledger table."""
    before = care_counts()
    with pytest.raises(error) as info:
        yield info
    assert info.value.code == code, info.value
    assert care_counts() == before


def window(world, hours: float = 2, shift: dt.timedelta = dt.timedelta(0)) -> dict:
    return {"window_start": world.start + shift, "window_end": world.start + shift + dt.timedelta(hours=hours)}


def certify(resident, track: str, *, days: int = 365, start_days_ago: int = 10) -> None:
    today = timezone.localdate()
    certificate_issue(
        actor=None,
        holder=resident,
        track=track,
        number=f"C-{resident.pk}-{track}-{days}",
        valid_from=today - dt.timedelta(days=start_days_ago),
        valid_until=today + dt.timedelta(days=days),
    )


# --------------------------------------------------------------------------------------------- publishing


def test_elder_proxy_and_station_publish_and_the_payer_is_fixed(world, login, make_resident):
    elder_user = login(world.elder)
    [own] = services.need_publish(actor=elder_user, elder=world.elder, item="chat", **window(world))
    [by_son] = services.need_publish(actor=world.son, elder=world.elder, item="meal", **window(world))
    other = make_resident(name="李伯", age=70, roles=["elder"])  # not a priority elder
    [by_station] = services.need_publish(actor=world.worker, elder=other, item="chat", **window(world))
    assert (own.via, own.payer) == (Need.Via.ELDER, Need.Payer.POOL)  # 82 and living alone
    assert (by_son.via, by_son.payer) == (Need.Via.PROXY, Need.Payer.POOL)
    assert (by_station.via, by_station.payer) == (Need.Via.STATION, Need.Payer.GOVERNMENT)
    assert by_station.site is not None and by_station.site.code == "S-LF"
    for need in (own, by_son, by_station):
        assert need.status == Need.Status.OPEN and need.item_version.number == 1
        [event] = CareEvent.objects.filter(need=need)
        assert (event.from_status, event.to_status) == ("", "open")


def test_own_hours_reserve_the_estimate(world, make_resident, fund):
    elder = make_resident(name="周婆婆", age=66, roles=["elder"])
    fund(elder, 120)
    [need] = services.need_publish(actor=world.worker, elder=elder, item="chat", payer="own", **window(world))
    assert need.payer == Need.Payer.OWN and need.minutes_reserved == 60
    # the second hour is the last one: a third need is more than she holds (120 − 2 × 60 reserved)
    services.need_publish(actor=world.worker, elder=elder, item="chat", payer="own", **window(world))
    with refused(errors.NotEnoughHours, "care.not_enough_hours"):
        services.need_publish(actor=world.worker, elder=elder, item="chat", payer="own", **window(world))


def test_weekly_needs_share_a_series(world):
    needs = services.need_publish(actor=world.worker, elder=world.elder, item="meal", weeks=3, **window(world))
    assert [n.window_start for n in needs] == [world.start + dt.timedelta(weeks=w) for w in range(3)]
    assert len({n.series for n in needs}) == 1 and needs[0].series
    assert CareEvent.objects.filter(need__in=needs, to_status="open").count() == 3


@pytest.mark.parametrize("weeks", [0, 13, True, "2"])
def test_bad_number_of_weeks(world, weeks):
    with refused(errors.BadPreference, "care.bad_preference"):
        services.need_publish(actor=world.worker, elder=world.elder, item="meal", weeks=weeks, **window(world))


def test_unknown_or_inactive_item(world):
    with refused(errors.UnknownItem, "care.unknown_item"):
        services.need_publish(actor=world.worker, elder=world.elder, item="juggling", **window(world))
    Item.objects.filter(code="pet_care").update(active=False)
    with refused(errors.UnknownItem, "care.unknown_item"):
        services.need_publish(actor=world.worker, elder=world.elder, item="pet_care", **window(world))
    with refused(errors.UnknownItem, "care.unknown_item"):
        services.need_publish(
            actor=world.worker, elder=world.elder, item=Item.objects.get(code="pet_care"), **window(world)
        )


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (-3 * H, -1 * H),  # in the past
        (3 * H, 1 * H),  # ends before it starts
        (3 * H, 3 * H),  # ends when it starts
        (1 * H, 26 * H),  # longer than a day
        (dt.timedelta(days=121), dt.timedelta(days=121, hours=1)),  # too far ahead
    ],
)
def test_impossible_windows(world, start, end):
    now = timezone.now()
    with time_machine.travel(now, tick=False), refused(errors.BadWindow, "care.bad_window"):
        services.need_publish(
            actor=world.worker, elder=world.elder, item="chat", window_start=now + start, window_end=now + end
        )


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("pref_language", "fr", errors.BadPreference),
        ("pref_gender", "X", errors.BadPreference),
        ("payer", "cash", errors.BadPreference),
    ],
)
def test_unknown_preferences(world, field, value, error):
    with refused(error, error.code):
        services.need_publish(actor=world.worker, elder=world.elder, item="chat", **{field: value}, **window(world))


def test_bad_place(world):
    with refused(BadCoordinates, "places.bad_coordinates"):
        services.need_publish(actor=world.worker, elder=world.elder, item="chat", lat=95.0, lon=113.0, **window(world))


def test_who_pays_is_checked(world, make_resident, fund):
    young = make_resident(name="年轻人", age=59, roles=[])
    with refused(errors.NotAnElder, "care.not_an_elder"):  # needs are for registered elders
        services.need_publish(actor=world.worker, elder=young, item="chat", **window(world))
    # Shanghai redeems from 65: an elder of 62 with hours may not redeem them under that policy.
    from django.utils import timezone

    from timebank.common.services import policy_set

    policy_set(actor=None, key="people.redeem_min_age", value=65, effective_from=timezone.localdate(), allow_past=True)
    sixty_two = make_resident(name="六十二", age=62, roles=["elder"])
    fund(sixty_two, 600)
    with refused(errors.BadPayer, "care.bad_payer"):  # below the redemption age, whatever she holds
        services.need_publish(actor=world.worker, elder=sixty_two, item="chat", payer="own", **window(world))
    ordinary = make_resident(name="普通长者", age=70, roles=["elder"])
    with refused(errors.BadPayer, "care.bad_payer"):  # the pool pays for priority elders only
        services.need_publish(actor=world.worker, elder=ordinary, item="chat", payer="pool", **window(world))
    with refused(errors.NotEnoughHours, "care.not_enough_hours"):
        services.need_publish(actor=world.worker, elder=ordinary, item="chat", payer="own", **window(world))


def test_only_the_elder_a_proxy_or_their_station_publish(world, other_town_admin, partner_admin):
    for actor in (world.vol, other_town_admin, partner_admin):
        with refused(errors.NotTheirElder, "care.not_their_elder"):
            services.need_publish(actor=actor, elder=world.elder, item="chat", **window(world))


def test_cancel_a_need(world, assigned):
    visit = assigned()
    with refused(errors.ReasonRequired, "care.reason_required"):
        services.need_cancel(actor=world.son, need=visit.need, reason="  ")
    with refused(errors.NotTheirElder, "care.not_their_elder"):
        services.need_cancel(actor=world.vol2, need=visit.need, reason="不要了")
    need = services.need_cancel(actor=world.son, need=visit.need, reason="住院了")
    visit.refresh_from_db()
    assert (need.status, visit.status) == (Need.Status.CANCELLED, Visit.Status.CANCELLED)


def test_a_need_being_served_cannot_be_cancelled(world, assigned):
    visit = services.visit_check_in(actor=world.worker, visit=assigned(), at=world.start)
    with refused(errors.IllegalTransition, "care.illegal_transition"):
        services.need_cancel(actor=world.son, need=visit.need, reason="不要了")


def test_open_needs_expire(world, publish):
    need = publish(hours=1)
    assert services.needs_expire(now=world.start + 30 * M) == 0
    assert services.needs_expire(now=world.start + 2 * H) == 1
    need.refresh_from_db()
    assert need.status == Need.Status.EXPIRED
    assert CareEvent.objects.filter(need=need, to_status="expired").count() == 1


def test_a_visit_nobody_checked_in_for_is_closed_a_day_after_its_window(world, make_resident, fund):
    elder = make_resident(name="周婆婆", age=66, roles=["elder"], languages=["yue"])
    fund(elder, 60)
    [need] = services.need_publish(actor=world.worker, elder=elder, item="chat", payer="own", **window(world, 1))
    visit = services.visit_assign(actor=world.worker, need=need, volunteer=world.vol.resident)
    end = need.window_end
    assert services.needs_expire(now=end + 23 * H) == 0  # the station still has time to record a paper check-in
    visit.refresh_from_db()
    assert visit.status == Visit.Status.ASSIGNED
    with refused(errors.NotEnoughHours, "care.not_enough_hours"):  # the elder's hour is still promised
        services.need_publish(actor=world.worker, elder=elder, item="chat", payer="own", **window(world, 1, 3 * H))
    assert services.needs_expire(now=end + 25 * H) == 1
    visit.refresh_from_db()
    need.refresh_from_db()
    assert (visit.status, need.status) == (Visit.Status.CANCELLED, Need.Status.EXPIRED)
    moves = list(CareEvent.objects.filter(need=need).order_by("pk").values_list("from_status", "to_status"))
    assert moves[-3:] == [("assigned", "cancelled"), ("assigned", "open"), ("open", "expired")]
    # the elder's hour is free again
    services.need_publish(actor=world.worker, elder=elder, item="chat", payer="own", **window(world, 1, 3 * H))


def test_a_checked_in_visit_is_not_closed_by_expiry(world, assigned):
    visit = services.visit_check_in(actor=world.worker, visit=assigned(hours=1), at=world.start)
    assert services.needs_expire(now=visit.need.window_end + 48 * H) == 0
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CHECKED_IN and visit.need.status == Need.Status.ASSIGNED


# --------------------------------------------------------------------------------------------- volunteers


def test_certificate_gates_an_item(world, publish):
    need = publish(item="bath")  # 助浴 needs an elderly-care certificate
    with refused(errors.NotQualified, "care.not_qualified"):
        services.visit_assign(actor=world.worker, need=need, volunteer=world.vol.resident)
    with refused(errors.NotQualified, "care.not_qualified"):
        services.application_apply(actor=world.vol, need=need)
    certify(world.vol.resident, "medical")  # the wrong track does not help
    with refused(errors.NotQualified, "care.not_qualified"):
        services.visit_assign(actor=world.worker, need=need, volunteer=world.vol.resident)
    certify(world.vol.resident, "elderly", days=-1, start_days_ago=400)  # expired yesterday
    with refused(errors.NotQualified, "care.not_qualified"):
        services.visit_assign(actor=world.worker, need=need, volunteer=world.vol.resident)
    certify(world.vol.resident, "elderly")
    visit = services.visit_assign(actor=world.worker, need=need, volunteer=world.vol.resident)
    assert visit.status == Visit.Status.ASSIGNED


def test_preferences_are_hard_rules(world, publish):
    cantonese = publish(pref_language="yue")
    with refused(errors.NotQualified, "care.not_qualified"):  # vol2 speaks Mandarin only
        services.visit_assign(actor=world.worker, need=cantonese, volunteer=world.vol2.resident)
    woman = publish(pref_gender="F", start=world.start + 3 * H)
    with refused(errors.NotQualified, "care.not_qualified"):
        services.application_apply(actor=world.vol2, need=woman)
    assert world.vol.resident.sex == "F"
    services.visit_assign(actor=world.worker, need=woman, volunteer=world.vol.resident)


def test_who_cannot_serve(world, publish, make_resident, person, login):
    need = publish()
    not_volunteer = make_resident(name="路人", age=40, roles=[])
    teen = person(name="中学生", age=16, roles=[])
    for resident in (not_volunteer, teen, world.elder):
        with refused(errors.NotQualified, "care.not_qualified"):
            services.visit_assign(actor=world.worker, need=need, volunteer=resident)


def test_apply_then_dispatch(world, publish):
    need = publish()
    first = services.application_apply(actor=world.vol, need=need)
    second = services.application_apply(actor=world.vol2, need=need)
    assert services.application_apply(actor=world.vol, need=need).pk == first.pk  # applying twice is one
    services.visit_assign(actor=world.worker, need=need, volunteer=world.vol.resident)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Application.Status.ACCEPTED, Application.Status.NOT_CHOSEN)
    need.refresh_from_db()
    with refused(errors.IllegalTransition, "care.illegal_transition"):
        services.application_apply(actor=world.vol2, need=need)


def test_only_an_open_application_can_be_withdrawn(world, publish):
    need = publish()
    application = services.application_apply(actor=world.vol, need=need)
    with pytest.raises(errors.NotYourVisit):
        services.application_withdraw(actor=world.vol2, application=application)
    services.visit_assign(actor=world.worker, need=need, volunteer=world.vol.resident)
    application.refresh_from_db()
    with refused(errors.IllegalTransition, "care.illegal_transition"):  # declining the visit is the way out
        services.application_withdraw(actor=world.vol, application=application)
    application.refresh_from_db()
    assert application.status == Application.Status.ACCEPTED


def test_staff_without_a_login_of_their_own_cannot_apply(world, publish):
    need = publish()
    with refused(NotAllowed, "not_allowed"):
        services.application_apply(actor=world.worker, need=need)


def test_decline_reopens_the_need(world, assigned):
    visit = assigned()
    with refused(errors.ReasonRequired, "care.reason_required"):
        services.visit_decline(actor=world.vol, visit=visit, reason="")
    with refused(errors.NotYourVisit, "care.not_your_visit"):
        services.visit_decline(actor=world.vol2, visit=visit, reason="我替她说")
    visit = services.visit_decline(actor=world.vol, visit=visit, reason="孩子生病")
    visit.need.refresh_from_db()
    assert (visit.status, visit.need.status) == (Visit.Status.CANCELLED, Need.Status.OPEN)
    again = services.visit_assign(actor=world.worker, need=visit.need, volunteer=world.vol2.resident)
    assert again.status == Visit.Status.ASSIGNED
    assert [e.to_status for e in CareEvent.objects.filter(need=visit.need)] == [
        "open",
        "assigned",
        "assigned",
        "cancelled",
        "open",
        "assigned",
        "assigned",
    ]


def test_no_show_reopens_the_need(world, assigned, other_town_admin):
    visit = assigned()
    with refused(OutOfScope, "out_of_scope"):
        services.visit_no_show(actor=other_town_admin, visit=visit)
    visit = services.visit_no_show(actor=world.worker, visit=visit, note="没来")
    visit.need.refresh_from_db()
    assert (visit.status, visit.need.status) == (Visit.Status.NO_SHOW, Need.Status.OPEN)


def test_one_volunteer_cannot_be_booked_twice(world, publish, other_town_admin):
    first = publish()
    services.visit_assign(actor=world.worker, need=first, volunteer=world.vol.resident)
    overlapping = publish(start=world.start + H)
    with refused(errors.DoubleBooked, "care.double_booked"):
        services.visit_assign(actor=world.worker, need=overlapping, volunteer=world.vol.resident)
    with refused(OutOfScope, "out_of_scope"):
        services.visit_assign(actor=other_town_admin, need=overlapping, volunteer=world.vol2.resident)
    later = publish(start=world.start + 2 * H)  # starts when the first ends: not an overlap
    services.visit_assign(actor=world.worker, need=later, volunteer=world.vol.resident)


# --------------------------------------------------------------------------------------------- check-in and out


def test_check_in_by_pin_or_qr_and_out(world, assigned):
    card = services.card_issue(actor=world.worker, elder=world.elder)
    assert len(card.pin) == 6 and card.pin.isdigit() and card.token
    assert card.token not in card.card.token_hash and card.pin not in card.card.pin_hash
    by_pin = services.visit_check_in(actor=world.vol, visit=assigned(), code=card.pin, at=world.start)
    assert by_pin.check_in_method == "pin"
    out = services.visit_check_out(actor=world.vol, visit=by_pin, at=world.start + 45 * M)
    assert (out.status, out.actual_minutes) == (Visit.Status.CHECKED_OUT, 45)
    later = world.start + 3 * H
    by_qr = services.visit_check_in(
        actor=world.vol,
        visit=assigned(start=later),
        code=f" {card.token} ",
        lat=world.elder.lat,
        lon=world.elder.lon,
        at=later - 30 * M,  # half an hour early is fine
    )
    assert by_qr.check_in_method == "qr" and by_qr.check_in_lat == world.elder.lat


def test_regenerating_the_card_revokes_the_old_one(world, assigned):
    old = services.card_issue(actor=world.worker, elder=world.elder)
    new = services.card_issue(actor=world.worker, elder=world.elder)
    old.card.refresh_from_db()
    assert old.card.revoked_at is not None
    visit = assigned()
    for code in (old.pin, old.token):
        if code == new.pin:
            continue
        with refused(errors.WrongCode, "care.wrong_code"):
            services.visit_check_in(actor=world.vol, visit=visit, code=code, at=world.start)
    services.visit_check_in(actor=world.vol, visit=visit, code=new.pin, at=world.start)


def test_card_is_printed_only_by_their_station(world, other_town_admin):
    with refused(OutOfScope, "out_of_scope"):
        services.card_issue(actor=other_town_admin, elder=world.elder)


def test_no_card_and_wrong_codes(world, assigned):
    visit = assigned()
    with refused(errors.NoCard, "care.no_card"):
        services.visit_check_in(actor=world.vol, visit=visit, code="123456", at=world.start)
    card = services.card_issue(actor=world.worker, elder=world.elder)
    wrong = "000000" if card.pin != "000000" else "111111"
    for code in (wrong, "", "not-the-token", card.pin[:5]):
        with refused(errors.WrongCode, "care.wrong_code") as info:
            services.visit_check_in(actor=world.vol, visit=visit, code=code, at=world.start)
        assert info.value.field == "code"
    visit.refresh_from_db()
    assert visit.status == Visit.Status.ASSIGNED and visit.code_failures == 4


def test_too_many_wrong_codes_lock_the_visit(world, assigned):
    card = services.card_issue(actor=world.worker, elder=world.elder)
    wrong = "000000" if card.pin != "000000" else "111111"
    visit = assigned()  # the same object throughout, as a page holding it would pass it
    for _ in range(5):  # care.code_max_failures
        with pytest.raises(errors.WrongCode):
            services.visit_check_in(actor=world.vol, visit=visit, code=wrong, at=world.start)
    with refused(errors.TooManyCodeAttempts, "care.too_many_attempts"):
        services.visit_check_in(actor=world.vol, visit=visit, code=card.pin, at=world.start)
    visit.refresh_from_db()
    assert visit.code_failures == 5
    # the station can still check the volunteer in
    visit = services.visit_check_in(actor=world.worker, visit=visit, at=world.start)
    assert visit.check_in_method == "station"


def test_position_is_checked_when_given(world, assigned):
    card = services.card_issue(actor=world.worker, elder=world.elder)
    visit = assigned()
    lat, lon = world.elder.lat, world.elder.lon
    with refused(errors.TooFar, "care.too_far") as info:  # about 1.1 km north
        services.visit_check_in(actor=world.vol, visit=visit, code=card.pin, lat=lat + 0.01, lon=lon, at=world.start)
    assert info.value.params["limit"] == 500 and 1000 < info.value.params["distance"] < 1200
    with refused(BadCoordinates, "places.bad_coordinates"):
        services.visit_check_in(actor=world.vol, visit=visit, code=card.pin, lat=lat, lon=500.0, at=world.start)
    # about 440 m away: inside the 500 m
    visit = services.visit_check_in(
        actor=world.vol, visit=visit, code=card.pin, lat=lat + 0.004, lon=lon, at=world.start
    )
    with refused(errors.TooFar, "care.too_far"):
        services.visit_check_out(actor=world.vol, visit=visit, lat=lat - 0.01, lon=lon, at=world.start + H)
    services.visit_check_out(actor=world.vol, visit=visit, lat=lat, lon=lon, at=world.start + H)


def test_check_in_only_around_the_window(world, assigned):
    visit = assigned()
    for moment in (world.start - 61 * M, world.start + 2 * H + M):
        with refused(errors.OutsideWindow, "care.outside_window"):
            services.visit_check_in(actor=world.worker, visit=visit, at=moment)


def test_someone_else_cannot_check_in_or_out(world, assigned, other_town_admin):
    card = services.card_issue(actor=world.worker, elder=world.elder)
    visit = assigned()
    with refused(errors.NotYourVisit, "care.not_your_visit"):
        services.visit_check_in(actor=world.vol2, visit=visit, code=card.pin, at=world.start)
    with refused(errors.NotYourVisit, "care.not_your_visit"):
        services.visit_check_in(actor=other_town_admin, visit=visit, at=world.start)
    visit = services.visit_check_in(actor=world.vol, visit=visit, code=card.pin, at=world.start)
    with refused(errors.NotYourVisit, "care.not_your_visit"):
        services.visit_check_out(actor=world.vol2, visit=visit, at=world.start + H)


def test_implausible_check_out_times(world, assigned):
    visit = services.visit_check_in(actor=world.worker, visit=assigned(), at=world.start)
    for moment in (world.start, world.start - M):
        with refused(errors.ImplausibleTime, "care.implausible_time"):
            services.visit_check_out(actor=world.vol, visit=visit, at=moment)
    with refused(errors.ImplausibleTime, "care.implausible_time"):  # 30 seconds
        services.visit_check_out(actor=world.vol, visit=visit, at=world.start + dt.timedelta(seconds=30))


def test_one_volunteer_cannot_be_in_two_places(world, assigned):
    first = services.visit_check_in(actor=world.worker, visit=assigned(hours=1), at=world.start)
    second = assigned(start=world.start + H, hours=1)
    with refused(errors.ImplausibleTime, "care.implausible_time"):  # still checked in at the first
        services.visit_check_in(actor=world.worker, visit=second, at=world.start + 50 * M)
    services.visit_check_out(actor=world.vol, visit=first, at=world.start + 90 * M)
    # the first visit ran until 90 min: checking in at 70 min falls inside it
    with refused(errors.ImplausibleTime, "care.implausible_time"):
        services.visit_check_in(actor=world.worker, visit=second, at=world.start + 70 * M)
    second = services.visit_check_in(actor=world.worker, visit=second, at=world.start + 95 * M)
    services.visit_check_out(actor=world.vol, visit=second, at=world.start + 120 * M)


def test_overlapping_visits_refused_at_check_out(world, assigned):
    """A check-in recorded later for an earlier time cannot make two visits overlap."""
    late = assigned(start=world.start + 2 * H, hours=1)
    early = assigned(hours=1)
    late = services.visit_check_in(actor=world.worker, visit=late, at=world.start + 2 * H)
    late = services.visit_check_out(actor=world.vol, visit=late, at=world.start + 3 * H)
    early = services.visit_check_in(actor=world.worker, visit=early, at=world.start)
    with refused(errors.ImplausibleTime, "care.implausible_time"):
        services.visit_check_out(actor=world.vol, visit=early, at=world.start + 2 * H + 30 * M)
    services.visit_check_out(actor=world.vol, visit=early, at=world.start + 2 * H)


def test_at_most_ten_hours_a_day(world, assigned):
    day = timezone.localtime(world.start).date() + dt.timedelta(days=1)
    morning = timezone.make_aware(dt.datetime.combine(day, dt.time(7, 0)))
    first = assigned(start=morning, hours=6)
    second = assigned(start=morning + 7 * H, hours=8)
    first = services.visit_check_in(actor=world.worker, visit=first, at=morning)
    services.visit_check_out(actor=world.vol, visit=first, at=morning + 5 * H)  # 300 min
    second = services.visit_check_in(actor=world.worker, visit=second, at=morning + 7 * H)
    with refused(errors.ImplausibleTime, "care.implausible_time"):  # 300 + 301 > 600
        services.visit_check_out(actor=world.vol, visit=second, at=morning + 12 * H + M)
    second = services.visit_check_out(actor=world.vol, visit=second, at=morning + 12 * H)
    assert second.actual_minutes == 300


# --------------------------------------------------------------------------------------------- confirmation


def test_confirm_pays_once(world, checked_out):
    visit = checked_out(minutes=50)
    visit = services.visit_confirm(actor=world.son, visit=visit)
    assert (visit.status, visit.confirmed_via, visit.credited_minutes) == (Visit.Status.CONFIRMED, "proxy", 60)
    again = services.visit_confirm(actor=world.son, visit=visit)
    assert again.transfer_id == visit.transfer_id
    assert Transfer.objects.filter(ref=f"visit:{visit.pk}").count() == 1
    assert ledger_selectors.resident_balance(world.vol.resident).posted == 60
    visit.need.refresh_from_db()
    assert visit.need.status == Need.Status.DONE


def test_station_confirms_for_an_elder_without_a_phone(world, checked_out):
    assert not world.elder.phone
    visit = services.visit_confirm(actor=world.worker, visit=checked_out())
    assert visit.confirmed_via == "station" and visit.confirmed_by == world.worker


def test_confirming_someone_elses_visit(world, checked_out, other_town_admin, partner_admin):
    visit = checked_out()
    for actor in (world.vol, world.vol2, other_town_admin, partner_admin):
        with refused(errors.CannotConfirm, "care.cannot_confirm"):
            services.visit_confirm(actor=actor, visit=visit)


def test_a_volunteer_who_is_also_the_proxy_cannot_confirm_their_own_visit(world, checked_out, person, login):
    daughter = person(name="梁美玲", age=30, sex="F", roles=["volunteer", "proxy"], languages=["yue"])
    relationship_create(
        actor=None, resident=world.elder, relative=daughter, kind="child", is_proxy=True, consent_note="签字"
    )
    daughter_user = login(daughter)
    visit = checked_out(volunteer=daughter_user)
    for action in (services.visit_confirm, lambda **kw: services.visit_dispute(complaint="x", **kw)):
        with refused(errors.CannotConfirm, "care.cannot_confirm"):
            action(actor=daughter_user, visit=visit)
    services.visit_confirm(actor=world.son, visit=visit)


def test_a_staff_member_cannot_confirm_their_own_visit(world, checked_out, make_staff, site, person):
    worker_volunteer = person(name="兼职社工", age=30, sex="F", roles=["volunteer"], languages=["yue"])
    staff = make_staff("social_worker", site=site, name="兼职社工")
    staff.resident = worker_volunteer
    staff.save(update_fields=["resident"])
    visit = checked_out(volunteer=staff)
    with refused(errors.CannotConfirm, "care.cannot_confirm"):
        services.visit_confirm(actor=staff, visit=visit)


def test_redemption_spends_the_elders_hours(world, make_resident, fund, login):
    elder = make_resident(name="周婆婆", age=66, roles=["elder"], languages=["yue"])
    fund(elder, 120)
    [need] = services.need_publish(actor=world.worker, elder=elder, item="chat", payer="own", **window(world))
    visit = services.visit_assign(actor=world.worker, need=need, volunteer=world.vol.resident)
    visit = services.visit_check_in(actor=world.worker, visit=visit, at=world.start)
    visit = services.visit_check_out(actor=world.vol, visit=visit, at=world.start + 90 * M)
    services.visit_confirm(actor=world.worker, visit=visit)
    assert ledger_selectors.resident_balance(elder).posted == 30
    assert ledger_selectors.resident_balance(world.vol.resident).posted == 90


def test_redemption_refused_at_confirmation_when_the_hours_are_gone(world, make_resident, fund, supervisor):
    elder = make_resident(name="周婆婆", age=66, roles=["elder"], languages=["yue"])
    fund(elder, 60)
    [need] = services.need_publish(actor=world.worker, elder=elder, item="chat", payer="own", **window(world))
    visit = services.visit_assign(actor=world.worker, need=need, volunteer=world.vol.resident)
    visit = services.visit_check_in(actor=world.worker, visit=visit, at=world.start)
    visit = services.visit_check_out(actor=world.vol, visit=visit, at=world.start + 120 * M)
    with refused(errors.NotEnoughHours, "care.not_enough_hours"):
        services.visit_confirm(actor=world.worker, visit=visit)
    with refused(errors.NotEnoughHours, "care.not_enough_hours"):  # a hold needs the hours too
        services.visit_dispute(actor=world.worker, visit=visit, complaint="太久了")


# --------------------------------------------------------------------------------------------- ratings


def test_both_sides_rate_once(world, checked_out):
    visit = services.visit_confirm(actor=world.son, visit=checked_out())
    with refused(errors.CannotConfirm, "care.cannot_confirm"):
        services.visit_rate(actor=world.vol2, visit=visit, stars=5)
    for stars in (0, 6, True, "5", 4.5):
        with refused(errors.BadRating, "care.bad_rating"):
            services.visit_rate(actor=world.son, visit=visit, stars=stars)
    services.visit_rate(actor=world.vol, visit=visit, stars=4, comment="阿姨很热情")
    with refused(errors.AlreadyRated, "care.already_rated"):
        services.visit_rate(actor=world.vol, visit=visit, stars=5)
    services.visit_rate(actor=world.son, visit=visit, stars=2, complaint=True, comment="迟到")
    with refused(errors.AlreadyRated, "care.already_rated"):
        services.visit_rate(actor=world.worker, visit=visit, stars=5)  # the elder's side is rated already
    visit.refresh_from_db()
    assert visit.status == Visit.Status.RATED


# --------------------------------------------------------------------------------------------- disputes


def test_dispute_holds_then_voids(world, checked_out):
    visit = checked_out(minutes=90)
    with refused(errors.ReasonRequired, "care.reason_required"):
        services.visit_dispute(actor=world.son, visit=visit, complaint=" ")
    with refused(errors.CannotConfirm, "care.cannot_confirm"):
        services.visit_dispute(actor=world.vol, visit=visit, complaint="我也有意见")
    dispute = services.visit_dispute(actor=world.son, visit=visit, complaint="没有来够时间")
    assert ledger_selectors.resident_balance(world.vol.resident).held_in == 90
    with refused(errors.ReasonRequired, "care.reason_required"):
        services.dispute_resolve(actor=world.worker, dispute=dispute, outcome="void", reason="")
    with refused(errors.BadPreference, "care.bad_preference"):
        services.dispute_resolve(actor=world.worker, dispute=dispute, outcome="maybe", reason="再说")
    dispute = services.dispute_resolve(actor=world.worker, dispute=dispute, outcome="void", reason="邻居证实没来")
    assert (dispute.outcome, dispute.minutes_paid) == ("void", 0)
    balance = ledger_selectors.resident_balance(world.vol.resident)
    assert (balance.posted, balance.held_in) == (0, 0)
    visit.refresh_from_db()
    visit.need.refresh_from_db()
    assert (visit.status, visit.transfer_id, visit.need.status) == (Visit.Status.VOIDED, None, Need.Status.DONE)
    with refused(errors.IllegalTransition, "care.illegal_transition"):
        services.dispute_resolve(actor=world.worker, dispute=dispute, outcome="post", reason="改判")


def test_dispute_paid_in_full(world, checked_out):
    visit = checked_out(minutes=60)
    dispute = services.visit_dispute(actor=world.worker, visit=visit, complaint="态度不好")
    services.dispute_resolve(actor=world.worker, dispute=dispute, outcome="post", reason="核实无误")
    visit.refresh_from_db()
    assert visit.status == Visit.Status.CONFIRMED and visit.credited_minutes == 60
    assert ledger_selectors.resident_balance(world.vol.resident).posted == 60
    assert services.visit_confirm(actor=world.son, visit=visit).transfer_id == visit.transfer_id


def test_a_disputed_own_hours_visit_is_counted_once_against_the_elders_hours(world, make_resident, fund):
    """The hold of a disputed visit already lowers the available balance; its need must not reserve the
    same hours a second time (found in the Care issue's review)."""
    elder = make_resident(name="周婆婆", age=66, roles=["elder"], languages=["yue"])
    fund(elder, 120)
    [need] = services.need_publish(actor=world.worker, elder=elder, item="chat", payer="own", **window(world))
    visit = services.visit_assign(actor=world.worker, need=need, volunteer=world.vol.resident)
    visit = services.visit_check_in(actor=world.worker, visit=visit, at=world.start)
    visit = services.visit_check_out(actor=world.vol, visit=visit, at=world.start + 60 * M)
    services.visit_dispute(actor=world.worker, visit=visit, complaint="没有做完")
    assert ledger_selectors.resident_balance(elder).available == 60  # 120 minus the 60 held
    later = world.start + dt.timedelta(days=2)
    [second] = services.need_publish(
        actor=world.worker, elder=elder, item="chat", payer="own", window_start=later, window_end=later + H
    )  # the last 60 minutes can still be promised once
    assert second.minutes_reserved == 60
    with refused(errors.NotEnoughHours, "care.not_enough_hours"):
        services.need_publish(
            actor=world.worker, elder=elder, item="chat", payer="own", window_start=later + H, window_end=later + 2 * H
        )


@pytest.mark.parametrize("minutes", [None, 0, -30, 120, 150, "30"])
def test_part_payment_needs_minutes_below_the_hold(world, checked_out, minutes):
    dispute = services.visit_dispute(actor=world.son, visit=checked_out(minutes=120), complaint="一半")
    with refused(errors.BadPartPayment, "care.bad_part_payment"):
        services.dispute_resolve(actor=world.worker, dispute=dispute, outcome="part", minutes=minutes, reason="一半")


def test_only_their_station_resolves(world, checked_out, other_town_admin, town_admin):
    dispute = services.visit_dispute(actor=world.son, visit=checked_out(), complaint="一半")
    for actor in (other_town_admin, world.son, world.vol):
        with refused(OutOfScope, "out_of_scope"):
            services.dispute_resolve(actor=actor, dispute=dispute, outcome="void", reason="不行")
    services.dispute_resolve(actor=town_admin, dispute=dispute, outcome="part", minutes=30, reason="一半")


# --------------------------------------------------------------------------------------------- guarantee


def test_guarantee_after_72_hours_still_spends_the_hours(world, make_resident, fund, other_town_admin):
    elder = make_resident(name="周婆婆", age=66, roles=["elder"], languages=["yue"])
    fund(elder, 180)
    start = world.start + dt.timedelta(days=5)
    [need] = services.need_publish(
        actor=world.worker, elder=elder, item="chat", payer="own", window_start=start, window_end=start + H
    )
    with refused(errors.GuaranteeNotYet, "care.guarantee_not_yet"):
        services.need_fulfil_by_guarantee(actor=world.worker, need=need, provider="颐康家政")
    with time_machine.travel(timezone.now() + dt.timedelta(hours=73), tick=False):
        with refused(errors.ReasonRequired, "care.reason_required"):
            services.need_fulfil_by_guarantee(actor=world.worker, need=need, provider=" ")
        with refused(OutOfScope, "out_of_scope"):
            services.need_fulfil_by_guarantee(actor=other_town_admin, need=need, provider="颐康家政")
        need = services.need_fulfil_by_guarantee(actor=world.worker, need=need, provider="颐康家政")
    assert need.status == Need.Status.GUARANTEED
    assert ledger_selectors.resident_balance(elder) == ledger_selectors.Balance(120, 0, 0)  # the hold is gone
    [transfer] = Transfer.objects.filter(ref=f"need:{need.pk}", phase="posted")
    assert transfer.amount == 60 and "颐康家政" in transfer.memo
    # the reservation made at publication was released in the same transaction
    assert set(Transfer.objects.filter(ref=f"need:{need.pk}").values_list("phase", flat=True)) == {
        "pending",
        "void",
        "posted",
    }
    assert CareEvent.objects.filter(need=need, to_status="guaranteed").count() == 1


def test_guarantee_only_for_an_open_redemption(world, publish, make_resident, fund):
    government = publish(start=world.start + dt.timedelta(days=5))
    elder = make_resident(name="周婆婆", age=66, roles=["elder"], languages=["yue"])
    fund(elder, 60)
    start = world.start + dt.timedelta(days=5)
    [own] = services.need_publish(
        actor=world.worker, elder=elder, item="chat", payer="own", window_start=start, window_end=start + H
    )
    services.visit_assign(actor=world.worker, need=own, volunteer=world.vol.resident)
    own.refresh_from_db()
    with time_machine.travel(timezone.now() + dt.timedelta(hours=73), tick=False):
        for need in (government, own):
            with refused(errors.IllegalTransition, "care.illegal_transition"):
                services.need_fulfil_by_guarantee(actor=world.worker, need=need, provider="颐康家政")


def test_guarantee_without_the_hours(world, make_resident, fund, supervisor):
    elder = make_resident(name="周婆婆", age=66, roles=["elder"], languages=["yue"])
    fund(elder, 60)
    start = world.start + dt.timedelta(hours=1)
    [need] = services.need_publish(
        actor=world.worker, elder=elder, item="chat", payer="own", window_start=start, window_end=start + H
    )
    from timebank.ledger import services as ledger
    from timebank.ledger.errors import InsufficientBalance

    # the hour is held for the need: not even a supervisor's adjustment can take it away (it could before)
    with pytest.raises(InsufficientBalance):
        ledger.adjustment_post(
            key="take-it-back", account=ledger.account_for(elder), minutes=-60, actor=supervisor, reason="录入错误"
        )
    with time_machine.travel(start + M, tick=False), refused(errors.NotEnoughHours, "care.not_enough_hours"):
        services.need_fulfil_by_guarantee(actor=world.worker, need=need, provider="颐康家政", minutes=120)
    need.refresh_from_db()
    assert need.status == Need.Status.OPEN  # nothing written: still open, the hour still held
    assert ledger_selectors.resident_balance(elder) == ledger_selectors.Balance(60, 0, 60)


# --------------------------------------------------------------------------------------------- catalogue


def test_catalogue_revision_keeps_old_needs_on_their_version(world, publish, supervisor, checked_out):
    old = checked_out(minutes=60)
    item = Item.objects.get(code="chat")
    with refused(errors.ReasonRequired, "care.reason_required"):
        services.catalogue_item_revise(actor=supervisor, item=item, coefficient="1.5", note="")
    with pytest.raises(NotAllowed):
        services.catalogue_item_revise(actor=world.worker, item=item, coefficient="1.5", note="重阳节")
    for bad in ("0", "11", "abc", "NaN"):
        with refused(errors.BadPreference, "care.bad_preference"):
            services.catalogue_item_revise(actor=supervisor, item=item, coefficient=bad, note="重阳节")
    version = services.catalogue_item_revise(actor=supervisor, item=item, coefficient="1.5", note="重阳节")
    assert version.number == 2
    new = checked_out(minutes=60, start=world.start + 3 * H)
    assert (old.need.item_version.number, new.need.item_version.number) == (1, 2)
    assert services.visit_confirm(actor=world.son, visit=old).credited_minutes == 60
    assert services.visit_confirm(actor=world.son, visit=new).credited_minutes == 90
