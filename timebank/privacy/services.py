"""A person's rights across every domain (docs/privacy.md): leaving, pseudonymising, corrections answered.

The people-level writes are in :mod:`timebank.people.privacy`; these add what needs the higher domains: the
hours left on the person's accounts (given to the public pool through the ledger's own ``donate``, so the
ledger stays balanced and the move is a recorded transfer), the names on their ledger accounts and the
places and notes of the help they asked for, and the message that tells the person the station's answer.
Each function is one transaction: a refusal writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from timebank.care.models import Need, Visit
from timebank.common.errors import OutOfScope
from timebank.common.selectors import policy_value
from timebank.ledger import services as ledger
from timebank.ledger.models import Account
from timebank.ledger.selectors import balance
from timebank.notify.services import notification_send
from timebank.people import privacy as people_privacy
from timebank.people.errors import PersonLeft
from timebank.people.models import CorrectionRequest, Departure, PersonalDataView, Resident, User
from timebank.people.selectors import can_manage_resident

from .errors import LeaveHoursHeld

LEAVE_MEMO = "注销：余下时间捐给公益时间池"  # stored in the ledger as written (like the other memos)
_ACCOUNT_LABELS: dict[str, str] = {Account.Kind.PERSONAL: "时间账户", Account.Kind.GROUP_EARNED: "团体服务时间"}


def hours_to_leave(resident: Resident) -> tuple[int, int]:
    """(minutes that would go to the public pool, minutes held for unsettled visits) if ``resident`` left now."""
    free = held = 0
    for account in Account.objects.filter(resident=resident):
        b = balance(account, just_read=True)
        free += max(b.available, 0)
        held += b.held_out + b.held_in
    return free, held


@transaction.atomic
def resident_leave(
    *, actor: User | None, resident: Resident, reason: str, erase_now: bool, on: dt.date | None = None
) -> Departure:
    """The person leaves the time bank (注销).

    * Hours held for a visit that is not settled: refused (settle or cancel the visit first).
    * Hours left on the personal and group accounts go to the public time pool, one recorded donation per
      account (key ``leave-<resident>-<kind>``). To give them to family instead, the person transfers
      them before leaving.
    * The registration becomes inactive, the login is disabled, relations and proxies end.
    * ``erase_now`` (the person asked to leave): their personal data is pseudonymised at once; otherwise
      (staff record a move or a death) after ``privacy.retention_years_after_leaving`` by the daily task.
    """
    if actor is not None and actor.resident_id != resident.pk and not can_manage_resident(actor, resident):
        raise OutOfScope()
    if Departure.objects.filter(resident=resident).exists() or people_privacy.is_pseudonymised(resident):
        raise PersonLeft()
    if reason not in Departure.Reason.values:
        from timebank.people.errors import BadDepartureReason

        raise BadDepartureReason(field="reason")
    moved = 0
    keys = []
    # Lock the person's accounts and the pool in primary-key order, as the ledger does (no deadlock with a
    # concurrent posting), so no visit is credited or held meanwhile.
    locked = Account.objects.select_for_update().filter(Q(resident=resident) | Q(code="pool")).order_by("pk")
    accounts = [a for a in locked if a.resident_id == resident.pk]
    for account in accounts:
        b = balance(account, just_read=True)
        if b.held_out or b.held_in:
            raise LeaveHoursHeld(minutes=b.held_out + b.held_in)
    for account in accounts:
        b = balance(account, just_read=True)
        if b.available <= 0:
            continue
        key = f"leave-{resident.pk}-{account.kind}"
        ledger.donate(
            key=key,
            donor=resident,
            minutes=b.available,
            from_group_hours=account.kind == Account.Kind.GROUP_EARNED,
            actor=actor,
            memo=LEAVE_MEMO,
        )
        moved += b.available
        keys.append(key)
    departure = people_privacy.departure_record(
        actor=actor, resident=resident, reason=reason, on=on, hours_minutes=moved, hours_key=",".join(keys)[:80]
    )
    if erase_now:
        resident_forget(resident=resident)
    return departure


@transaction.atomic
def resident_forget(*, resident: Resident) -> Resident:
    """Pseudonymise a person who left, in every domain. The ledger's transfers are not touched."""
    done = people_privacy.resident_pseudonymise(resident=resident)
    name = people_privacy.pseudonym(resident.pk)
    for account in Account.objects.select_for_update().filter(resident=resident).order_by("pk"):
        label = _ACCOUNT_LABELS.get(account.kind, "")
        Account.objects.filter(pk=account.pk).update(name=f"{name} · {label}" if label else name)
    needs = Need.objects.filter(elder=resident)
    Visit.objects.filter(need__in=needs).update(check_in_lat=None, check_in_lon=None)
    needs.update(address="", notes="")
    return done


@dataclass(frozen=True)
class RetentionResult:
    pseudonymised: int
    views_deleted: int


def retention_apply(*, on: dt.date | None = None) -> RetentionResult:
    """The daily task: pseudonymise the people whose retention after leaving has passed, and delete the records
    of staff views older than ``privacy.audit_retention_years``. Each person in their own transaction."""
    day = on or timezone.localdate()
    keep_years = int(policy_value("privacy.retention_years_after_leaving", on=day))
    due = Departure.objects.filter(pseudonymised_at__isnull=True, left_on__lte=_years_before(day, keep_years))
    count = 0
    for departure in due.select_related("resident").order_by("left_on", "pk"):
        resident_forget(resident=departure.resident)
        count += 1
    audit_years = int(policy_value("privacy.audit_retention_years", on=day))
    cutoff = timezone.make_aware(dt.datetime.combine(_years_before(day, audit_years), dt.time.min))
    with transaction.atomic():
        deleted, _by_model = PersonalDataView.objects.filter(viewed_at__lt=cutoff).delete()
    return RetentionResult(count, deleted)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@transaction.atomic
def correction_answer(*, actor: User, request: CorrectionRequest, accept: bool, note: str = "") -> CorrectionRequest:
    """Staff accept (apply) or reject a correction request, and the person is told by a message."""
    if accept:
        done = people_privacy.correction_request_accept(actor=actor, request=request, note=note)
        text = _("Your request to correct your %(field)s was accepted: the record is corrected.") % {
            "field": done.get_field_display()
        }
    else:
        done = people_privacy.correction_request_reject(actor=actor, request=request, note=note)
        text = _("Your request to correct your %(field)s was not accepted. The station's reason: %(note)s") % {
            "field": done.get_field_display(),
            "note": done.decision_note,
        }
    if done.decision_note and accept:
        text += " " + done.decision_note
    notification_send(recipient=done.resident, topic="privacy.correction", text=text)
    return done
