"""Expiry of hours older than the policy allows."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

from timebank.common.selectors import policy_value
from timebank.notify.services import notification_send

from ..models import Account, Transfer
from .core import Kind, Phase, _hours, system_account_cached
from .postings import transfer_post

if TYPE_CHECKING:
    from timebank.people.models import User

# --------------------------------------------------------------------------------------------- expiry


def hours_expire(*, on: dt.date | None = None, actor: User | None = None) -> list[Transfer]:
    """Expire hours older than ``ledger.expiry_days`` (0, the default, means hours never expire).

    Spending is counted first-in, first-out: the hours still unspent from what an account received
    before the cut-off day are ``credits before the cut-off − all debits so far`` (earlier expiries are
    debits too), so running this twice on a day, or every day, never expires an hour twice. Expired
    hours go back to the issuance account (kind ``expiry``) and the holder is told.
    """
    day = on or timezone.localdate()
    days = int(policy_value("ledger.expiry_days", on=day))
    if days <= 0:
        return []
    from django.db.models import Sum

    cutoff = timezone.make_aware(dt.datetime.combine(day - dt.timedelta(days=days), dt.time.min))
    issuance = system_account_cached("issuance")
    posted = (Phase.POSTED, Phase.POST)
    old_credits = (
        Transfer.objects.filter(created_at__lt=cutoff, phase__in=posted, credit_account__kind=Account.Kind.PERSONAL)
        .values("credit_account")
        .annotate(s=Sum("amount"))
    )
    made = []
    for row in old_credits:
        account = Account.objects.get(pk=row["credit_account"])
        spent = Transfer.objects.filter(debit_account=account, phase__in=posted).aggregate(s=Sum("amount"))["s"] or 0
        due = min(int(row["s"]) - spent, account.available_balance)
        if due <= 0:
            continue
        made.append(
            transfer_post(
                key=f"expire:{account.pk}:{day.isoformat()}",
                debit=account,
                credit=issuance,
                minutes=due,
                kind=Kind.EXPIRY,
                actor=actor,
                memo=_("hours earned before %(day)s") % {"day": cutoff.date()},
            )
        )
        if account.resident is not None:
            notification_send(
                recipient=account.resident,
                topic="ledger.expiry",
                text=_("%(hours)s of your stored hours expired under the rule in force.") % {"hours": _hours(due)},
            )
    return made
