"""Balances and statements people can read: running balances add up, months open where the last one closed."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.utils import translation

from timebank.ledger import selectors, services
from timebank.ledger.models import Account, Transfer
from timebank.people.services import relationship_create
from timebank.places.models import Region

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def history(make_resident, supervisor, fund):
    """Li's account after a varied month: services, family, a donation, a redemption, a hold, a correction."""
    li = make_resident("李华", 62, roles=("volunteer", "elder"))
    mother = make_resident("王秀英", 85, roles=("elder",), lives_alone=True)
    helper = make_resident("张伟明", 30)
    relationship_create(actor=None, resident=li, relative=mother, kind="parent")
    town = Region.objects.get(code="442000001")
    services.service_credit(
        key="stmt-visit-1", volunteer=li, payer="government", elder=mother, minutes=90, place=town, memo="助餐"
    )
    services.service_credit(key="stmt-visit-2", volunteer=li, payer="government", elder=mother, minutes=120)
    services.family_transfer(key="stmt-family-1", sender=li, recipient=mother, minutes=60)
    services.donate(key="stmt-donate-1", donor=li, minutes=30)
    services.service_credit(key="stmt-redeem-1", volunteer=helper, payer="own", elder=li, minutes=30)
    held = services.service_credit(
        key="stmt-hold-1", volunteer=helper, payer="own", elder=li, minutes=30, hold=True
    ).transfer
    services.hold_post(key="stmt-hold-2", pending=held, minutes=15)
    wrong = services.service_credit(key="stmt-visit-3", volunteer=li, payer="government", elder=mother, minutes=60)
    services.transfer_reverse(key="stmt-reverse-1", original=wrong.transfer, actor=supervisor, reason="recorded twice")
    services.service_credit(key="stmt-hold-3", volunteer=helper, payer="own", elder=li, minutes=30, hold=True)
    return li, mother, helper


def assert_consistent(statement: selectors.Statement) -> None:
    lines = statement.lines
    assert lines, "empty statement"
    assert lines[0].balance == statement.closing
    for newer, older in itertools.pairwise(lines):
        assert newer.balance - newer.minutes == older.balance
        assert newer.transfer_id > older.transfer_id
    assert lines[-1].balance - lines[-1].minutes == statement.opening


def test_recent_statement_running_balances(history):
    li, _mother, _helper = history
    account = services.account_for(li)
    statement = selectors.statement_recent(account)
    assert_consistent(statement)
    assert statement.opening == 0
    assert statement.closing == selectors.resident_balance(li).posted == 90 + 120 - 60 - 30 - 30 - 15 + 60 - 60
    assert statement.held == 30  # the last hold is reserved, not yet in the lines
    assert [line.minutes for line in reversed(statement.lines)] == [90, 120, -60, -30, -30, -15, 60, -60]
    assert not {t.pk for t in Transfer.objects.filter(phase=Transfer.Phase.PENDING)} & {
        line.transfer_id for line in statement.lines
    }


@pytest.mark.parametrize("limit", [1, 3, 5, 7])
def test_recent_statement_with_a_limit_opens_at_the_balance_before_its_oldest_line(history, limit):
    li, _mother, _helper = history
    full = selectors.statement_recent(services.account_for(li))
    part = selectors.statement_recent(services.account_for(li), limit=limit)
    assert len(part.lines) == limit
    assert part.lines == full.lines[:limit]
    assert_consistent(part)
    assert part.opening == full.lines[limit].balance


def test_statement_lines_say_who_what_where_in_plain_words(history):
    li, mother, helper = history
    with translation.override("en"):
        lines = {line.transfer_id: line for line in selectors.statement_recent(services.account_for(li)).lines}
        by_key = {t.key: lines.get(t.pk) for t in Transfer.objects.all()}
        visit = by_key["stmt-visit-1"]
        assert visit.what == "Service given · 助餐"
        assert visit.where == "石岐街道"
        assert visit.minutes == 90 and visit.hours == Decimal("1.5")
        family = by_key["stmt-family-1"]
        assert (family.what, family.who, family.hours) == ("Hours to family", mother.name, Decimal("-1.0"))
        donation = by_key["stmt-donate-1"]
        assert (donation.what, donation.who) == ("Donation", "the public time pool")
        redemption = by_key["stmt-redeem-1"]
        assert (redemption.what, redemption.who) == ("Service received", helper.name)
        partial = by_key["stmt-hold-2"]
        assert (partial.what, partial.who, partial.minutes) == ("Service received", helper.name, -15)
        correction = by_key["stmt-reverse-1"]
        assert correction.what == "Correction · recorded twice" and correction.minutes == -60
        assert by_key["stmt-visit-2"].balance_hours == Decimal("3.5")
        # the other side of the family transfer reads the other way round
        mother_lines = selectors.statement_recent(services.account_for(mother)).lines
        assert [(line.what, line.who) for line in mother_lines] == [("Hours from family", li.name)]
    with translation.override("zh-hans"):
        donation = next(
            line
            for line in selectors.statement_recent(services.account_for(li)).lines
            if line.transfer_id == Transfer.objects.get(key="stmt-donate-1").pk
        )
        assert donation.what != "Donation" and donation.who != "the public time pool"  # in Chinese, not English


def _at(year, month, day, hour, minute=0):
    return time_machine.travel(dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI), tick=False)


def test_month_statements_across_the_boundary(make_resident):
    volunteer = make_resident("月末", 40)
    with _at(2025, 1, 10, 9):
        services.service_credit(key="month-jan-1", volunteer=volunteer, payer="government", elder=None, minutes=120)
    with _at(2025, 1, 31, 23, 30):  # 15:30 UTC: still January in Zhongshan
        services.service_credit(key="month-jan-2", volunteer=volunteer, payer="government", elder=None, minutes=60)
    with _at(2025, 2, 1, 0, 30):  # 16:30 UTC on 31 January, but February in Zhongshan
        services.donate(key="month-feb-1", donor=volunteer, minutes=30)
    with _at(2025, 2, 20, 10):
        services.service_credit(key="month-feb-2", volunteer=volunteer, payer="government", elder=None, minutes=90)
    with _at(2025, 3, 3, 10):
        services.donate(key="month-mar-1", donor=volunteer, minutes=30)
    account = services.account_for(volunteer)
    dec = selectors.statement_month(account, year=2024, month=12)
    jan = selectors.statement_month(account, year=2025, month=1)
    feb = selectors.statement_month(account, year=2025, month=2)
    mar = selectors.statement_month(account, year=2025, month=3)
    assert (dec.opening, dec.closing, dec.lines) == (0, 0, [])
    assert (jan.opening, jan.closing) == (0, 180)
    assert [line.minutes for line in jan.lines] == [120, 60]
    assert [line.balance for line in jan.lines] == [120, 180]
    assert (feb.opening, feb.closing) == (180, 240)
    assert [line.minutes for line in feb.lines] == [-30, 90]
    assert [line.balance for line in feb.lines] == [150, 240]
    assert (mar.opening, mar.closing) == (240, 210)
    assert feb.period == "2025-02"
    assert selectors.resident_balance(volunteer).posted == mar.closing
    # the month statement and the recent statement agree line by line
    recent = selectors.statement_recent(account)
    assert [line.balance for line in reversed(recent.lines)] == [
        line.balance for s in (jan, feb, mar) for line in s.lines
    ]


def test_december_statement_ends_at_new_year(make_resident):
    volunteer = make_resident("年末", 40)
    with _at(2024, 12, 31, 23, 59):
        services.service_credit(key="year-end-1", volunteer=volunteer, payer="government", elder=None, minutes=60)
    with _at(2025, 1, 1, 0, 1):
        services.service_credit(key="year-end-2", volunteer=volunteer, payer="government", elder=None, minutes=30)
    account = services.account_for(volunteer)
    dec = selectors.statement_month(account, year=2024, month=12)
    jan = selectors.statement_month(account, year=2025, month=1)
    assert (dec.opening, dec.closing, len(dec.lines)) == (0, 60, 1)
    assert (jan.opening, jan.closing, len(jan.lines)) == (60, 90, 1)


def test_balances_of_derived_and_cached_accounts(history):
    li, mother, helper = history
    issuance = services.system_account("issuance")
    pool = services.system_account("pool")
    # the government issued 90 + 120 + 60 and took 60 back by the correction
    assert selectors.outstanding_hours() == 210
    assert selectors.balance(issuance).posted == -210
    assert selectors.balance(pool).posted == 30
    assert selectors.resident_balance(helper) == selectors.Balance(45, 30, 0)
    assert selectors.resident_balance(li).available == selectors.resident_balance(li).posted - 30
    total = sum(selectors.balance(a).posted for a in Account.objects.all())
    assert total == 0
    assert [t.key for t in selectors.open_holds(services.account_for(li))] == ["stmt-hold-3"]
    assert selectors.resident_balance(mother).posted == 60


def test_no_account_means_zero(make_resident):
    newcomer = make_resident("新人", 30)
    assert selectors.resident_balance(newcomer) == selectors.Balance(0, 0, 0)
    assert selectors.group_balance(newcomer) == selectors.Balance(0, 0, 0)
