"""privacy.services: leaving (hours to the public pool, recorded), pseudonymising across domains with the ledger
untouched and still verifying, the retention task, and answers to corrections that tell the person."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from timebank.common.errors import OutOfScope
from timebank.common.services import policy_set
from timebank.conftest import PASSWORD
from timebank.ledger import services as ledger
from timebank.ledger.models import Account, Transfer
from timebank.ledger.sealing import seal_transfers, verify_ledger
from timebank.ledger.selectors import balance, resident_balance
from timebank.notify.models import Notification
from timebank.people import privacy as people_privacy
from timebank.people import services as people_services
from timebank.people.errors import PersonLeft
from timebank.people.models import CorrectionRequest, Departure, PersonalDataView, Resident, User
from timebank.privacy import services
from timebank.privacy.errors import LeaveHoursHeld
from timebank.privacy.tasks import retention

_keys = itertools.count(1)


@pytest.fixture
def fund(supervisor):
    def give(resident: Resident, minutes: int) -> None:
        ledger.adjustment_post(
            key=f"fund-{resident.pk}-{next(_keys)}",
            account=ledger.account_for(resident),
            minutes=minutes,
            actor=supervisor,
            reason="opening balance for the test",
        )

    return give


@pytest.fixture
def person(make_resident):
    r = make_resident(name="林小红", phone="13912345678", roles=("volunteer",), address="莲峰路1号")
    people_services.login_create(actor=None, resident=r, password=PASSWORD)
    return r


@pytest.fixture
def mother(make_resident):
    return make_resident(name="林妈妈", age=75, roles=("elder",))


def login_of(resident: Resident) -> User:
    return User.objects.get(resident=resident)


def test_leaving_gives_the_hours_left_to_the_pool_with_a_record(person, fund):
    fund(person, 300)
    pool_before = balance(ledger.system_account("pool")).posted
    departure = services.resident_leave(actor=login_of(person), resident=person, reason="asked", erase_now=False)
    assert departure.hours_minutes == 300 and departure.hours_key == f"leave-{person.pk}-personal"
    gift = Transfer.objects.get(key=departure.hours_key)
    assert gift.kind == "donation" and gift.amount == 300 and gift.memo == services.LEAVE_MEMO
    assert resident_balance(person).posted == 0
    assert balance(ledger.system_account("pool")).posted == pool_before + 300
    assert verify_ledger().ok


def test_hours_may_go_to_family_first(person, mother, fund):
    people_services.relationship_create(actor=None, resident=person, relative=mother, kind="parent")
    fund(person, 120)
    ledger.family_transfer(key="before-leaving-1", sender=person, recipient=mother, minutes=120)
    departure = services.resident_leave(actor=login_of(person), resident=person, reason="asked", erase_now=True)
    assert departure.hours_minutes == 0 and resident_balance(mother).posted == 120


def test_leaving_is_refused_while_hours_are_held_and_nothing_is_written(person, fund):
    fund(person, 200)
    ledger.transfer_post(
        key="hold-for-visit-1",
        debit=ledger.account_for(person),
        credit=ledger.system_account("pool"),
        minutes=60,
        kind="redemption",
        hold=True,
    )
    transfers = Transfer.objects.count()
    with pytest.raises(LeaveHoursHeld) as exc:
        services.resident_leave(actor=login_of(person), resident=person, reason="asked", erase_now=True)
    assert exc.value.code == "privacy.leave_hours_held" and exc.value.status == 409
    person.refresh_from_db()
    assert Transfer.objects.count() == transfers and person.active and person.name == "林小红"
    assert not Departure.objects.exists() and login_of(person).is_active


def test_only_the_person_or_staff_of_their_area_make_them_leave(person, make_resident, other_town_admin, fund):
    fund(person, 60)
    neighbour = make_resident(name="邻居", phone="13900001111")
    people_services.login_create(actor=None, resident=neighbour, password=PASSWORD)
    for actor in (login_of(neighbour), other_town_admin):
        with pytest.raises(OutOfScope):
            services.resident_leave(actor=actor, resident=person, reason="asked", erase_now=True)
    assert resident_balance(person).posted == 60 and not Departure.objects.exists()


def test_erasing_pseudonymises_every_domain_and_the_ledger_still_verifies(person, mother, fund, social_worker):
    people_services.relationship_create(actor=None, resident=person, relative=mother, kind="parent")
    fund(person, 90)
    ledger.family_transfer(key="gift-to-mum-1", sender=person, recipient=mother, minutes=30)
    seal_transfers()
    before = list(Transfer.objects.order_by("pk").values_list("pk", "key", "amount", "debit_account", "memo"))
    people_services.personal_data_view_record(viewer=social_worker, resident=person, purpose="核对身份")

    services.resident_leave(actor=social_worker, resident=person, reason="asked", erase_now=True)

    person.refresh_from_db()
    assert person.name == people_privacy.pseudonym(person.pk) and person.phone == "" and not person.active
    account = Account.objects.get(resident=person, kind="personal")
    assert "林小红" not in account.name and account.name.startswith(people_privacy.pseudonym(person.pk))
    after = list(Transfer.objects.order_by("pk").values_list("pk", "key", "amount", "debit_account", "memo"))
    assert after[: len(before)] == before  # the ledger's rows are as they were; one donation was added
    seal_transfers()
    report = verify_ledger()
    assert report.ok, report.problems
    assert resident_balance(mother).posted == 30
    with pytest.raises(PersonLeft):
        services.resident_leave(actor=social_worker, resident=person, reason="moved", erase_now=True)


def test_staff_recording_a_move_keeps_the_data_until_the_retention_ends(person, social_worker):
    today = timezone.localdate()
    services.resident_leave(
        actor=social_worker, resident=person, reason="moved", erase_now=False, on=today - dt.timedelta(days=30)
    )
    assert services.retention_apply(on=today).pseudonymised == 0
    person.refresh_from_db()
    assert person.name == "林小红" and not person.active

    later = today + dt.timedelta(days=3 * 366)  # the default: three years after leaving
    assert services.retention_apply(on=later).pseudonymised == 1
    person.refresh_from_db()
    assert person.name == people_privacy.pseudonym(person.pk)
    assert Departure.objects.get(resident=person).pseudonymised_at is not None
    assert services.retention_apply(on=later).pseudonymised == 0  # once


def test_the_retention_is_a_policy(person, social_worker, supervisor):
    today = timezone.localdate()
    services.resident_leave(
        actor=social_worker, resident=person, reason="died", erase_now=False, on=today - dt.timedelta(days=400)
    )
    assert services.retention_apply(on=today).pseudonymised == 0
    policy_set(actor=supervisor, key="privacy.retention_years_after_leaving", value=1, effective_from=today)
    assert services.retention_apply(on=today).pseudonymised == 1


def test_the_daily_task_drops_old_audit_rows_only(person, social_worker):
    people_services.personal_data_view_record(viewer=social_worker, resident=person, purpose="旧的")
    people_services.personal_data_view_record(viewer=social_worker, resident=person, purpose="新的")
    old = timezone.now() - dt.timedelta(days=4 * 366)
    PersonalDataView.objects.filter(purpose="旧的").update(viewed_at=old)
    assert retention() == {"pseudonymised": 0, "views_deleted": 1}
    assert list(PersonalDataView.objects.values_list("purpose", flat=True)) == ["新的"]


def test_an_answer_is_told_to_the_person(person, social_worker):
    req = people_privacy.correction_request_create(
        actor=login_of(person), resident=person, field="address", new_value="莲峰路9号", reason="搬家"
    )
    services.correction_answer(actor=social_worker, request=req, accept=False, note="请带租房合同来")
    note = Notification.objects.get(recipient=person, topic="privacy.correction")
    assert "请带租房合同来" in note.text
    req2 = people_privacy.correction_request_create(
        actor=login_of(person), resident=person, field="address", new_value="莲峰路9号", reason="搬家,已带合同"
    )
    services.correction_answer(actor=social_worker, request=req2, accept=True)
    person.refresh_from_db()
    assert person.address == "莲峰路9号"
    assert Notification.objects.filter(recipient=person, topic="privacy.correction").count() == 2
    assert CorrectionRequest.objects.filter(status="open").count() == 0


def test_a_refused_answer_sends_nothing(person, other_town_admin):
    req = people_privacy.correction_request_create(
        actor=login_of(person), resident=person, field="address", new_value="莲峰路9号", reason="搬家"
    )
    with pytest.raises(OutOfScope):
        services.correction_answer(actor=other_town_admin, request=req, accept=True)
    assert not Notification.objects.exists()
