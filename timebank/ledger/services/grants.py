"""Pool grants: a staff member proposes, a second one approves, the pool pays once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from timebank.common.errors import NotAllowed
from timebank.people.models import Resident
from timebank.people.selectors import eligibility, is_staff_member

from ..errors import (
    GrantDecided,
    GrantSameApprover,
    NotPriority,
    ReasonRequired,
)
from ..models import Account, PoolGrant
from .core import Kind, _check_minutes, resident_accounts, system_account_cached
from .postings import transfer_post

if TYPE_CHECKING:
    from timebank.people.models import User

# --------------------------------------------------------------------------------------------- pool grants


def pool_grant_request(*, actor: User, elder: Resident, minutes: int, reason: str) -> PoolGrant:
    """A staff member proposes a grant from the public pool to a priority elder (first pair of eyes)."""
    if not is_staff_member(actor):
        raise NotAllowed()
    _check_minutes(minutes)
    if not reason.strip():
        raise ReasonRequired(field="reason")
    if not eligibility(elder).is_priority:
        raise NotPriority(field="elder", name=elder.name)
    with transaction.atomic():
        return PoolGrant.objects.create(elder=elder, minutes=minutes, reason=reason.strip(), requested_by=actor)


def pool_grant_approve(*, actor: User, grant: PoolGrant) -> PoolGrant:
    """A second, different staff member approves: the minutes move from the pool to the elder, once."""
    if not is_staff_member(actor):
        raise NotAllowed()
    if actor.pk == grant.requested_by_id:
        raise GrantSameApprover()
    pool = system_account_cached("pool")
    with transaction.atomic():
        [target] = resident_accounts((grant.elder, Account.Kind.PERSONAL))
        locked = PoolGrant.objects.select_for_update().get(pk=grant.pk)
        if locked.status != PoolGrant.Status.REQUESTED:
            if locked.approved_by_id == actor.pk:
                raise GrantSameApprover()
            raise GrantDecided()
        transfer = transfer_post(
            key=f"pool-grant:{locked.pk}",
            debit=pool,
            credit=target,
            minutes=locked.minutes,
            kind=Kind.POOL_GRANT,
            actor=actor,
            memo=locked.reason,
            ref=f"grant:{locked.pk}",
        )
        locked.status = PoolGrant.Status.APPROVED
        locked.approved_by = actor
        locked.decided_at = timezone.now()
        locked.transfer = transfer
        locked.save(update_fields=["status", "approved_by", "decided_at", "transfer"])
    return locked


def pool_grant_reject(*, actor: User, grant: PoolGrant, reason: str) -> PoolGrant:
    if not is_staff_member(actor):
        raise NotAllowed()
    if not reason.strip():
        raise ReasonRequired(field="reason")
    with transaction.atomic():
        locked = PoolGrant.objects.select_for_update().get(pk=grant.pk)
        if locked.status != PoolGrant.Status.REQUESTED:
            raise GrantDecided()
        locked.status = PoolGrant.Status.REJECTED
        locked.decided_at = timezone.now()
        locked.reason = f"{locked.reason}\n— {reason.strip()}"
        locked.save(update_fields=["status", "decided_at", "reason"])
    return locked
