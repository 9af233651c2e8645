"""The ledger: balances and statements of residents in scope; transfers to relatives and donations.

Transfers need the ``ledger`` scope and an idempotency key (the ``Idempotency-Key`` header or the ``key``
field): a retry with the same key and the same request returns the first transfer (``replayed: true``);
the same key with different data is refused (409 ``ledger.idempotency_conflict``), nothing written.
Keys are the caller's own: two callers may use the same key, and no key reaches the system's own postings.
"""

from __future__ import annotations

from typing import Any

from django.db.models import FilteredRelation, Q
from django.http import HttpRequest
from ninja import Field, Query, Router, Status
from ninja.params import functions as param_functions

from timebank.common.errors import InvalidInput, NotFound
from timebank.ledger import selectors, services
from timebank.ledger.models import Account, Transfer
from timebank.people.models import Resident, User
from timebank.people.selectors import residents_visible_to

from .auth import auth_for, caller
from .common import MAX_ID, IdInt, In, get_visible, id_path, responses
from .errors import KeyMismatch, KeyRequired, NoResident
from .schemas import BalanceOut, StatementOut, TransferOut
from .selectors import visible_residents_q

router = Router(tags=["ledger"])

KEY = r"^[A-Za-z0-9_\-:.]{8,80}$"


def _resident(user: User, resident_id: int) -> Resident:
    return get_visible(residents_visible_to(user), resident_id)


@router.get(
    "/residents/{resident_id}/balance", response=responses(BalanceOut), auth=auth_for("read"), summary="Balance"
)
def balance(request: HttpRequest, resident_id: int = id_path()) -> dict[str, Any]:
    # One statement after authentication: the scope check and the personal account's four counters together
    # (selectors.resident_balance would read the caller's roles, the resident and the account one by one).
    rows: list[tuple[Any, Any, Any, Any]] = list(
        Resident.objects.filter(visible_residents_q(caller(request)), pk=resident_id)
        .annotate(personal=FilteredRelation("accounts", condition=Q(accounts__kind=Account.Kind.PERSONAL)))
        .values_list(
            "personal__credits_posted",
            "personal__debits_posted",
            "personal__credits_pending",
            "personal__debits_pending",
        )[:1]
        if 0 < resident_id <= MAX_ID
        else []
    )
    if not rows:
        raise NotFound()
    credits, debits, held_in, held_out = (value or 0 for value in rows[0])  # no account yet: all 0
    b = selectors.Balance(credits - debits, held_in, held_out)
    return {
        "resident_id": resident_id,
        "posted_minutes": b.posted,
        "available_minutes": b.available,
        "held_in_minutes": b.held_in,
        "held_out_minutes": b.held_out,
        "available_hours": str(selectors.hours(b.available)),
    }


class StatementQuery(In):
    year: int | None = Field(None, ge=2000, le=2100, description="With month: that calendar month.")
    month: int | None = Field(None, ge=1, le=12)
    limit: int = Field(50, ge=1, le=100, description="Without year/month: the latest this many entries.")


@router.get(
    "/residents/{resident_id}/statement",
    response=responses(StatementOut),
    auth=auth_for("read"),
    summary="Statement: a calendar month, or the latest entries",
)
def statement(request: HttpRequest, query: Query[StatementQuery], resident_id: int = id_path()) -> dict[str, Any]:
    # The scope check and the account in one statement (as for the balance); the lines are the ledger's.
    found = list(
        Account.objects.filter(
            pk__in=Resident.objects.filter(visible_residents_q(caller(request)), pk=resident_id)
            .annotate(personal=FilteredRelation("accounts", condition=Q(accounts__kind=Account.Kind.PERSONAL)))
            .values("personal__id")
        )
        if 0 < resident_id <= MAX_ID
        else []
    )
    account = found[0] if found else None
    if account is None and not (
        0 < resident_id <= MAX_ID
        and Resident.objects.filter(visible_residents_q(caller(request)), pk=resident_id).exists()
    ):
        raise NotFound()
    if account is None:  # no transfer yet: an empty statement (reading opens no account)
        period = f"{query.year}-{query.month:02d}" if query.year and query.month else ""
        return {
            "resident_id": resident_id,
            "period": period,
            "opening_minutes": 0,
            "closing_minutes": 0,
            "held_minutes": 0,
            "lines": [],
        }
    if (query.year is None) != (query.month is None):
        raise InvalidInput(field="month" if query.month is None else "year")
    if query.year is not None and query.month is not None:
        st = selectors.statement_month(account, year=query.year, month=query.month)
    else:
        st = selectors.statement_recent(account, limit=query.limit)
    return {
        "resident_id": resident_id,
        "period": st.period,
        "opening_minutes": st.opening,
        "closing_minutes": st.closing,
        "held_minutes": st.held,
        "lines": [vars(line) for line in st.lines],
    }


def _key(header: str | None, field: str | None) -> str:
    if header and field and header != field:
        raise KeyMismatch(field="key")
    key = header or field
    if not key:
        raise KeyRequired(field="key")
    return key


def _me(user: User) -> Resident:
    if user.resident is None:
        raise NoResident()
    return user.resident


def _answer(transfer: Transfer, key: str) -> Status[dict[str, Any]]:
    """201 with the new transfer, or 200 with the first one when ``key`` was already used (the service says)."""
    existed = transfer.replayed
    data = {
        "id": transfer.pk,
        "key": key,  # the caller's key (stored in the caller's namespace, see ledger.services.client_key)
        "kind": transfer.kind,
        "minutes": transfer.amount,
        "memo": transfer.memo,
        "created_at": transfer.created_at,
        "replayed": existed,
    }
    return Status((200 if existed else 201), data)


class TransferIn(In):
    recipient_id: IdInt
    minutes: int = Field(..., ge=1, le=100_000, examples=[120])
    memo: str = Field("", max_length=200)
    key: str | None = Field(None, pattern=KEY, description="The idempotency key, if not sent as a header.")


IdempotencyKey = param_functions.Header(
    None, alias="Idempotency-Key", pattern=KEY, description="A key you choose, unique per transfer."
)


@router.post(
    "/transfers",
    response={200: TransferOut, **responses(TransferOut, 201)},
    auth=auth_for("ledger"),
    summary="Give hours to a registered relative (from your own account)",
)
def transfer(
    request: HttpRequest, payload: TransferIn, idempotency_key: str | None = IdempotencyKey
) -> Status[dict[str, Any]]:
    user = caller(request)
    key = _key(idempotency_key, payload.key)
    sender = _me(user)
    recipient = _resident(user, payload.recipient_id)
    t = services.family_transfer(
        key=key,
        sender=sender,
        recipient=recipient,
        minutes=payload.minutes,
        actor=user,
        memo=payload.memo,
        client=user,
    )
    return _answer(t, key)


class DonationIn(In):
    minutes: int = Field(..., ge=1, le=100_000, examples=[60])
    to_elder_id: int | None = Field(None, ge=1, le=MAX_ID, description="A priority elder; default: the public pool.")
    from_group_hours: bool = False
    memo: str = Field("", max_length=200)
    key: str | None = Field(None, pattern=KEY)


@router.post(
    "/donations",
    response={200: TransferOut, **responses(TransferOut, 201)},
    auth=auth_for("ledger"),
    summary="Donate hours to the public pool or a priority elder",
)
def donation(
    request: HttpRequest, payload: DonationIn, idempotency_key: str | None = IdempotencyKey
) -> Status[dict[str, Any]]:
    user = caller(request)
    key = _key(idempotency_key, payload.key)
    donor = _me(user)
    elder = _resident(user, payload.to_elder_id) if payload.to_elder_id else None
    t = services.donate(
        key=key,
        donor=donor,
        minutes=payload.minutes,
        to_elder=elder,
        from_group_hours=payload.from_group_hours,
        actor=user,
        memo=payload.memo,
        client=user,
    )
    return _answer(t, key)
