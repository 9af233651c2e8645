"""Shared by every ledger service: keys, request digests, caches, the one transfer INSERT, retries, errors.

How a posting reaches the database (see docs/ledger.md, "The write path"):

* **One statement on the normal path.** :func:`insert_transfers` sends a single ``INSERT … SELECT … WHERE
  <guards> ON CONFLICT (key) DO NOTHING RETURNING id``. On PostgreSQL its first part locks the cached
  accounts of the transfer in primary-key order (``FOR UPDATE`` in a CTE), so the guards read the locked
  rows: the accounts are open, the payer can pay, the receiver stays under the balance cap, a hold is not
  settled yet, a transfer is not reversed yet, and the policies the service decided with are still the
  ones in force (a version stamp, below). Outside a transaction the statement is its own transaction:
  no BEGIN, no COMMIT, no savepoint. The insert trigger updates the cached balances; the CHECK and
  UNIQUE constraints stay the last line of defence.
* **Only when nothing was inserted** does the service look further (:func:`explain`): the key was used
  before (a replay, or a conflict), or a guard refused (the user's error, with figures read then), or the
  balance cap was crossed (the service's split path, in a transaction with the rows locked).
* **Caches.** System accounts and residents' account ids never change once written (accounts are never
  deleted; only their status changes, and the guards read the status live), so they are kept per process;
  an id is remembered only once the transaction that read or made it has committed. Policies are kept per
  process, keyed by a version stamp (the newest policy row's id: policy rows are only ever added); every
  guarded INSERT re-reads the stamp in the same statement and inserts nothing if it moved, and this process
  forgets its copy when it writes a policy (signal) or sees another stamp.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from timebank.certificates import events as webhook_events
from timebank.common.errors import DomainError
from timebank.common.models import PolicyValue
from timebank.common.selectors import PolicyMissing

from ..errors import (
    AccountNotOpen,
    AlreadyReversed,
    BadKey,
    IdempotencyConflict,
    InsufficientBalance,
    PendingResolved,
    SameAccount,
)
from ..marks import transfer_mark
from ..models import Account, Transfer

if TYPE_CHECKING:
    from timebank.people.models import Resident, User


T = TypeVar("T")
Kind = Transfer.Kind
Phase = Transfer.Phase

_KEY = re.compile(r"^[A-Za-z0-9_\-:.]{8,80}$")
MAX_ATTEMPTS = 4


# --------------------------------------------------------------------------------------------- keys


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise BadKey(field="key")
    return key


def client_key(client: User, key: str) -> str:
    """Where a client's key is stored: ``c:<user id>:<key>``, in the caller's own namespace.

    System keys (``visit-<id>-credit``, ``pool-grant:<id>``, ``need-<id>-guarantee``, ``expire:…``) never
    start with ``c:``, so a client cannot take one: a client key shaped like a system key is not refused, it
    simply lives in the client's namespace and blocks nothing; nor can a client reach another client's keys.
    """
    return f"c:{client.pk}:{_check_key(key)}"


def _scoped(key: str, client: User | None) -> str:
    return client_key(client, key) if client is not None else _check_key(key)


def _check_minutes(amount: Any) -> int:
    from ..errors import BadAmount

    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise BadAmount(field="minutes")
    return amount


def request_hash(**request: Any) -> str:
    """A stable digest of what a caller asked for under a key (model instances by primary key)."""

    def plain(value: Any) -> Any:
        if hasattr(value, "pk"):
            return f"{type(value).__name__}:{value.pk}"
        if isinstance(value, Decimal | dt.date):
            return str(value)
        return value

    body = json.dumps({k: plain(v) for k, v in sorted(request.items())}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}".rstrip("0").rstrip(".") + _(" h")


# --------------------------------------------------------------------------------------------- results


@dataclass
class Credit:
    """The result of a service credit: the transfer to the volunteer and, above the cap, to the pool."""

    transfer: Transfer | None
    overflow: Transfer | None
    minutes: int
    payer: str
    extra: list[Transfer] = field(default_factory=list)
    replayed: bool = False  # True when the key had already been used for this request

    @property
    def to_volunteer(self) -> int:
        return self.transfer.amount if self.transfer else 0


def _replayed(result: T) -> T:
    """Mark a result returned for a repeated key (what the API answers as ``replayed``)."""
    if isinstance(result, Transfer | Credit):
        result.replayed = True
    return result


# --------------------------------------------------------------------------------------------- caches

_lock = threading.Lock()
_systems: dict[str, Account] = {}
_account_ids: dict[tuple[int, str], int] = {}
_by_id: dict[int, Account] = {}
_ACCOUNT_FACTS = ("id", "code", "kind", "name", "resident_id", "cached", "no_overdraw", "status")


class _Policies:
    """Every policy row, by key and day, as of version ``stamp`` (the newest row's id)."""

    def __init__(self, stamp: int, rows: Iterable[tuple[str, dt.date, Any]]):
        self.stamp = stamp
        self.by_key: dict[str, tuple[list[dt.date], list[Any]]] = {}
        for key, day, value in sorted(rows, key=lambda r: (r[0], r[1])):
            days, values = self.by_key.setdefault(key, ([], []))
            days.append(day)
            values.append(value)

    def value(self, key: str, day: dt.date) -> Any:
        days, values = self.by_key.get(key, ([], []))
        i = bisect.bisect_right(days, day)
        if i == 0:
            raise PolicyMissing(key=key, day=day.isoformat())
        return values[i - 1]


_policies: _Policies | None = None


def _load_policies() -> _Policies:
    global _policies
    rows = list(PolicyValue.objects.values_list("id", "key", "effective_from", "value"))
    loaded = _Policies(max((r[0] for r in rows), default=0), [(k, d, v) for _i, k, d, v in rows])
    with _lock:
        _policies = loaded
    return loaded


def policies() -> _Policies:
    return _policies or _load_policies()


def ledger_policy(key: str, *, on: dt.date | None = None) -> Any:
    """The value of policy ``key`` in force on ``on`` (today), from this process's copy.

    Decisions made with it are checked in the statement that writes (the stamp guard of
    :func:`insert_transfers`); a refusal made with it is checked against a fresh stamp (:func:`policies_fresh`).
    """
    value = policies().value(key, on or timezone.localdate())
    return json.loads(json.dumps(value)) if isinstance(value, dict | list) else value


def policies_fresh() -> bool:
    """Re-read the stamp; forget the policies if it moved. True when they had changed."""
    current = policies()
    stamp = PolicyValue.objects.order_by("-id").values_list("id", flat=True).first() or 0
    if stamp != current.stamp:
        _load_policies()
        return True
    return False


def _forget_policies(**_kwargs: Any) -> None:
    global _policies
    with _lock:
        _policies = None


post_save.connect(_forget_policies, sender=PolicyValue, dispatch_uid="ledger_policy_cache_save")
post_delete.connect(_forget_policies, sender=PolicyValue, dispatch_uid="ledger_policy_cache_delete")


def _stub(facts: dict[str, Any]) -> Account:
    """An account as the write path knows it: identity and flags, no balances (read those with selectors)."""
    return Account(**facts)


def system_account_cached(code: str) -> Account:
    """The issuance, guarantee or pool account, from this process's copy (ids and flags never change)."""
    account = _systems.get(code)
    if account is None:
        facts = Account.objects.filter(code__in=("issuance", "guarantee", "pool")).values(*_ACCOUNT_FACTS)
        found = {f["code"]: _stub(f) for f in facts}  # opened by migration ledger/0002: always committed
        with _lock:
            _systems.update(found)
        account = found[code]
    return account


def _remember_accounts(found: dict[tuple[int, str], int]) -> None:
    def remember() -> None:
        with _lock:
            _account_ids.update(found)

    transaction.on_commit(remember)  # an account opened by a transaction that rolls back is not remembered


def resident_accounts(*wanted: tuple[Resident, str]) -> list[Account]:
    """The residents' accounts (identity and flags), opened on first use in a fixed order (resident, kind).

    Known ids come from this process's copy without a query; the others are read in one query, and the
    missing ones are opened (``INSERT … ON CONFLICT DO NOTHING``), so call this inside the transaction that
    uses them when one may be opened (:func:`resident_accounts_known` tells).
    """
    result: dict[tuple[int, str], Account] = {}
    missing: list[tuple[Resident, str]] = []
    for resident, kind in wanted:
        pk = _account_ids.get((resident.pk, kind))
        if pk is not None:
            result[(resident.pk, kind)] = _stub(
                {
                    "id": pk,
                    "code": _code(resident.pk, kind),
                    "kind": kind,
                    "name": "",
                    "resident_id": resident.pk,
                    "cached": True,
                    "no_overdraw": True,
                    "status": Account.Status.OPEN,
                }
            )
        else:
            missing.append((resident, kind))
    if missing:
        codes = {_code(r.pk, k): (r, k) for r, k in missing}
        found = {}
        for facts in Account.objects.filter(code__in=list(codes)).values(*_ACCOUNT_FACTS):
            resident, kind = codes[facts["code"]]
            result[(resident.pk, kind)] = _stub(facts)
            found[(resident.pk, kind)] = facts["id"]
        for resident, kind in sorted(missing, key=lambda w: (w[0].pk, w[1])):
            if (resident.pk, kind) not in result:
                account = _open(resident, kind)
                result[(resident.pk, kind)] = account
                found[(resident.pk, kind)] = account.pk
        _remember_accounts(found)
    return [result[(r.pk, k)] for r, k in wanted]


def accounts_by_id(*ids: int) -> list[Account]:
    """Accounts by id (identity and flags), from this process's copy when known, else in one query."""
    missing = [pk for pk in ids if pk not in _by_id]
    found = dict(_by_id)
    if missing:
        read = {f["id"]: _stub(f) for f in Account.objects.filter(pk__in=missing).values(*_ACCOUNT_FACTS)}
        found |= read

        def remember() -> None:
            with _lock:
                _by_id.update(read)

        transaction.on_commit(remember)
    return [found[pk] for pk in ids]


_BALANCE_COLUMNS = (
    "id",
    "name",
    "status",
    "no_overdraw",
    "credits_posted",
    "credits_pending",
    "debits_posted",
    "debits_pending",
)


def lock_accounts(accounts: Iterable[Account]) -> dict[int, dict[str, Any]]:
    """The balances and status of these accounts, the cached ones locked in id order (``FOR UPDATE``);
    derived ones (issuance, guarantee) are read, never locked: the split paths' and batches' one read."""
    wanted = {a.pk: a for a in accounts}
    cached = sorted(pk for pk, a in wanted.items() if a.cached)
    derived = sorted(pk for pk, a in wanted.items() if not a.cached)
    rows: dict[int, dict[str, Any]] = {}
    if cached:
        qs = Account.objects.select_for_update().filter(pk__in=cached).order_by("pk")
        rows |= {a["id"]: a for a in qs.values(*_BALANCE_COLUMNS)}
    if derived:
        rows |= {a["id"]: a for a in Account.objects.filter(pk__in=derived).values(*_BALANCE_COLUMNS)}
    return rows


def check_locked(locked: dict[int, dict[str, Any]], row: Row, *, spent: int = 0) -> None:
    """The refusals of :func:`explain`, on rows the caller has locked (no database error, so the caller's
    transaction stays usable). ``spent``: minutes the payer already gives in this transaction."""
    for pk in (row.debit.pk, row.credit.pk):
        a = locked[pk]
        if a["status"] != Account.Status.OPEN:
            raise AccountNotOpen(name=a["name"], status=Account.Status(a["status"]).label)
    a = locked[row.debit.pk]
    if row.phase in (Phase.POSTED, Phase.PENDING) and a["no_overdraw"]:
        available = a["credits_posted"] - a["debits_posted"] - a["debits_pending"] - spent
        if available < row.amount:
            raise InsufficientBalance(available=_hours(max(available, 0)), needed=_hours(row.amount))


def resident_accounts_known(*wanted: tuple[Resident, str]) -> bool:
    return all((r.pk, k) in _account_ids for r, k in wanted)


def _code(resident_id: int, kind: str) -> str:
    return f"{'p' if kind == Account.Kind.PERSONAL else 'g'}:{resident_id}"


def _open(resident: Resident, kind: str) -> Account:
    # Stored data, so not translated at creation time: the account kind is shown translated next to it.
    label = "时间账户" if kind == Account.Kind.PERSONAL else "团体服务时间"
    facts: dict[str, Any] = {
        "code": _code(resident.pk, kind),
        "kind": kind,
        "name": f"{resident.name} · {label}"[:96],
        "resident_id": resident.pk,
        "cached": True,
        "no_overdraw": True,
        "status": Account.Status.OPEN,
    }
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO ledger_account (code, kind, name, resident_id, cached, no_overdraw, status, debits_posted,"
            " credits_posted, debits_pending, credits_pending, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s,"
            " 0, 0, 0, 0, %s) ON CONFLICT DO NOTHING RETURNING id",
            [*facts.values(), timezone.now()],
        )
        row = cur.fetchone()
    if row is None:  # opened meanwhile by a concurrent request
        return _stub(Account.objects.filter(code=facts["code"]).values(*_ACCOUNT_FACTS).get())
    return _stub({"id": row[0], **facts})


# --------------------------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class Row:
    """One transfer to insert (built once per service; variants with :func:`dataclasses.replace`)."""

    key: str
    request_hash: str
    debit: Account
    credit: Account
    amount: int
    kind: str
    phase: str = Phase.POSTED
    pending_id: int | None = None
    reverses_id: int | None = None
    batch_id: int | None = None
    memo: str = ""
    beneficiary_id: int | None = None
    place_id: int | None = None
    ref: str = ""
    actor_id: int | None = None

    def but(self, **changes: Any) -> Row:
        return dataclasses.replace(self, **changes)

    def values(self, now: dt.datetime) -> list[Any]:
        """The row's column values in ``_COLUMNS`` order, ending with its mark (ledger/marks.py)."""
        values: list[Any] = [
            self.key,
            self.request_hash,
            self.debit.pk,
            self.credit.pk,
            self.amount,
            self.kind,
            self.phase,
            self.pending_id,
            self.reverses_id,
            self.batch_id,
            self.memo[:200],
            self.beneficiary_id,
            self.place_id,
            self.ref[:64],
            self.actor_id,
            now,
        ]
        return [*values, transfer_mark(dict(zip(_MARKED_COLUMNS, values, strict=True)))]

    def transfer(self, pk: int, now: dt.datetime) -> Transfer:
        """The inserted row as a model instance (no query); its accounts are the write path's stubs."""
        t = Transfer(
            id=pk,
            key=self.key,
            request_hash=self.request_hash,
            debit_account=self.debit,
            credit_account=self.credit,
            amount=self.amount,
            kind=self.kind,
            phase=self.phase,
            pending_id=self.pending_id,
            reverses_id=self.reverses_id,
            batch_id=self.batch_id,
            memo=self.memo[:200],
            beneficiary_id=self.beneficiary_id,
            place_id=self.place_id,
            ref=self.ref[:64],
            actor_id=self.actor_id,
            created_at=now,
        )
        t.mark = transfer_mark(t)
        t._state.adding = False
        t._state.db = "default"
        return t


def actor_id(actor: User | None) -> int | None:
    return actor.pk if actor is not None and actor.pk else None


_COLUMNS = (
    ("key", "varchar"),
    ("request_hash", "varchar"),
    ("debit_account_id", "bigint"),
    ("credit_account_id", "bigint"),
    ("amount", "bigint"),
    ("kind", "varchar"),
    ("phase", "varchar"),
    ("pending_id", "bigint"),
    ("reverses_id", "bigint"),
    ("batch_id", "bigint"),
    ("memo", "varchar"),
    ("beneficiary_id", "bigint"),
    ("place_id", "bigint"),
    ("ref", "varchar"),
    ("actor_id", "bigint"),
    ("created_at", "timestamptz"),
    ("mark", "varchar"),  # last: computed from the columns above (Row.values)
)
_MARKED_COLUMNS = tuple(c for c, _t in _COLUMNS[:-1])
_COLUMN_LIST = ", ".join(c for c, _t in _COLUMNS)


@dataclass(frozen=True)
class Guard:
    """What must hold, on the locked rows, for the row to be inserted."""

    lock: tuple[int, ...]  # cached accounts: locked in id order, must be open
    derived: tuple[int, ...] = ()  # derived accounts (not locked): must be open
    payer: int | None = None  # ... must keep ``need`` minutes available
    need: int = 0
    capped: int | None = None  # ... must stay at or under ``cap`` with ``gain`` more minutes
    gain: int = 0
    cap: int = 0
    unsettled: int | None = None  # this hold must not be settled yet
    unreversed: int | None = None  # this transfer must not be reversed yet
    stamp: int | None = None  # the policies decided with are still in force


def guard_for(row: Row, **more: Any) -> Guard:
    """The guard of a row: both accounts open, the payer can pay (postings and holds), + ``more``."""
    accounts = (row.debit, row.credit)
    payer = row.debit.pk if row.phase in (Phase.POSTED, Phase.PENDING) and row.debit.no_overdraw else None
    return Guard(
        lock=tuple(sorted(a.pk for a in accounts if a.cached)),
        derived=tuple(sorted(a.pk for a in accounts if not a.cached)),
        payer=payer,
        need=row.amount if payer else 0,
        unsettled=row.pending_id,
        unreversed=row.reverses_id,
        **more,
    )


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def insert_transfers(rows: Sequence[Row], *, guard: Guard | None = None) -> list[Transfer]:
    """THE insert of transfers: every transfer row of the ledger is written here (or by :func:`insert_rows`,
    its bulk form for batches, which shares the statement and the row values of :meth:`Row.values`).

    With ``guard``: one row, inserted only if the guard holds and its key is new; returns [] otherwise.
    Without: all rows in one statement (the caller holds the locks and made the checks); a row whose key
    exists is skipped (so a concurrent duplicate of the first row is seen as [] or a shorter list).
    Each inserted posting is announced to partner systems on commit.
    """
    now = timezone.now()
    inserted = _execute_insert(rows, guard, now)
    made = [row.transfer(inserted[row.key], now) for row in rows if row.key in inserted]
    for t in made:
        webhook_events.transfer_posted(t)  # sent to partner systems on commit
    return made


def insert_rows(rows: Sequence[Row]) -> int:
    """The bulk form for batches: no model instances, no per-transfer event (a batch is not announced
    transfer by transfer). Returns how many rows were inserted. A row whose key exists is skipped (SQLite)
    or fails the statement (PostgreSQL's COPY: an IntegrityError on ``ledger_transfer_key_key``)."""
    now = timezone.now()
    if not _postgres():
        return len(_execute_insert(rows, None, now))
    # PostgreSQL: COPY (the insert trigger and the constraints apply to copied rows as to inserted ones). A
    # line key already taken fails the unique index instead of being skipped: the batch is refused whole.
    with connection.cursor() as cur, connection.wrap_database_errors:
        with cur.copy(f"COPY ledger_transfer ({_COLUMN_LIST}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([str(v) if isinstance(v, str) else v for v in row.values(now)])
        return int(cur.rowcount)


def _execute_insert(rows: Sequence[Row], guard: Guard | None, now: dt.datetime) -> dict[str, int]:
    pg = _postgres()
    cast = [f"%s::{t}" if pg else "%s" for _c, t in _COLUMNS]
    params: list[Any] = []
    if guard is None:
        placeholders = ", ".join(["(" + ", ".join(cast) + ")"] * len(rows))
        for row in rows:
            params += row.values(now)
        sql = (
            f"INSERT INTO ledger_transfer ({_COLUMN_LIST}) VALUES {placeholders} "  # noqa: S608 (no user text)
            "ON CONFLICT (key) DO NOTHING RETURNING id, key"
        )
    else:
        assert len(rows) == 1
        sql, params = _guarded_sql(rows[0], guard, cast, now)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return {k: pk for pk, k in cur.fetchall()}


def _guarded_sql(row: Row, g: Guard, cast: list[str], now: dt.datetime) -> tuple[str, list[Any]]:
    pg = _postgres()
    params: list[Any] = []
    parts: list[str] = []
    if g.lock:
        ids = ", ".join(["%s"] * len(g.lock))
        lock = " ORDER BY id FOR UPDATE" if pg else ""
        materialized = "MATERIALIZED " if pg else ""
        columns = "id, status, no_overdraw, credits_posted, credits_pending, debits_posted, debits_pending"
        head = f"WITH locked AS {materialized}(SELECT {columns} FROM ledger_account WHERE id IN ({ids}){lock}) "  # noqa: S608
        params += g.lock
        bad = ["status <> 'open'"]
        if g.payer is not None:
            bad.append("(id = %s AND no_overdraw AND credits_posted - debits_posted - debits_pending < %s)")
        if g.capped is not None:
            bad.append("(id = %s AND credits_posted + credits_pending - debits_posted + %s > %s)")
        guard_params: list[Any] = []
        if g.payer is not None:
            guard_params += [g.payer, g.need]
        if g.capped is not None:
            guard_params += [g.capped, g.gain, g.cap]
        parts.append(f"NOT EXISTS (SELECT 1 FROM locked WHERE {' OR '.join(bad)})")  # noqa: S608
    else:
        head = ""
        guard_params = []
    values = ", ".join(cast)
    params += row.values(now)
    params += guard_params
    if g.derived:
        parts.append(
            "NOT EXISTS (SELECT 1 FROM ledger_account WHERE id IN ("  # noqa: S608 (placeholders only)
            + ", ".join(["%s"] * len(g.derived))
            + ") AND status <> 'open')"
        )
        params += g.derived
    if g.unsettled is not None:
        parts.append("NOT EXISTS (SELECT 1 FROM ledger_transfer WHERE pending_id = %s)")
        params.append(g.unsettled)
    if g.unreversed is not None:
        parts.append("NOT EXISTS (SELECT 1 FROM ledger_transfer WHERE reverses_id = %s)")
        params.append(g.unreversed)
    if g.stamp is not None:
        parts.append("(SELECT coalesce(max(id), 0) FROM common_policyvalue) = %s")
        params.append(g.stamp)
    where = " AND ".join(parts) or "1 = 1"
    sql = (
        f"{head}INSERT INTO ledger_transfer ({_COLUMN_LIST}) SELECT {values} WHERE {where} "
        "ON CONFLICT (key) DO NOTHING RETURNING id, key"
    )
    return sql, params


# --------------------------------------------------------------------------------------------- nothing inserted


class Again(Exception):
    """Internal: what the service decided with has changed (policies, a race); decide again."""


def lookup(key: str) -> Transfer | None:
    return next(iter(Transfer.objects.filter(key=key)), None)


def post_one(row: Row, **guard: Any) -> Transfer:
    """Insert one guarded row; a replay returns the first transfer (marked), a refusal raises."""
    g = guard_for(row, stamp=policies().stamp, **guard)
    made = insert_transfers([row], guard=g)
    if made:
        return made[0]
    existing = replay_or_conflict(row.key, row.request_hash)
    if existing is not None:
        return _replayed(existing)
    explain(row, g)
    raise Again()


def replay_or_conflict(key: str, digest: str) -> Transfer | None:
    """The transfer already stored under ``key`` for this request, or None; another request: a conflict."""
    existing = lookup(key)
    if existing is not None and existing.request_hash != digest:
        raise IdempotencyConflict(field="key")
    return existing


def explain(row: Row, guard: Guard) -> None:
    """Nothing was inserted and the key is new: raise the refusal, or :class:`Again` when it was a race
    or the policies changed; returns only when the balance cap was the reason (the caller splits)."""
    if guard.unsettled is not None and Transfer.objects.filter(pending_id=guard.unsettled).exists():
        raise PendingResolved()
    if guard.unreversed is not None and Transfer.objects.filter(reverses_id=guard.unreversed).exists():
        raise AlreadyReversed()
    read = Account.objects.filter(pk__in=[*guard.lock, *guard.derived]).values(*_BALANCE_COLUMNS)
    accounts = {a["id"]: a for a in read}
    check_locked(accounts, row)
    if policies_fresh():
        raise Again()
    if guard.capped is not None:
        a = accounts[guard.capped]
        if a["credits_posted"] + a["credits_pending"] - a["debits_posted"] + guard.gain > guard.cap:
            return
    raise Again()  # a guard failed on rows that have changed since (e.g. the payer was paid meanwhile)


def refuse_unless_fresh(error: DomainError) -> DomainError:
    """A refusal decided with this process's policies: decide again if they have changed."""
    if policies_fresh():
        raise Again()
    return error


# --------------------------------------------------------------------------------------------- retries


def _is_retryable(exc: OperationalError) -> bool:
    code = getattr(getattr(exc, "__cause__", None), "sqlstate", None)
    return code in ("40P01", "40001") or "database is locked" in str(exc)


def run(attempt: Callable[[], T]) -> T:
    """Run ``attempt`` until it decides: again after :class:`Again`; again after a deadlock or a
    serialisation failure, when this is the outermost transaction (inside a caller's transaction the
    error is the caller's to retry: the transaction is lost). Integrity errors become the user's error."""
    for round_ in range(MAX_ATTEMPTS):
        try:
            return attempt()
        except Again:
            if round_ == MAX_ATTEMPTS - 1:
                raise IdempotencyConflict() from None
        except IntegrityError as exc:
            raise integrity_to_domain(exc) from exc
        except OperationalError as exc:
            if connection.in_atomic_block or not _is_retryable(exc) or round_ == MAX_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def atomic() -> AbstractContextManager[Any]:
    """The services' transaction: BEGIN/COMMIT when outermost; inside a caller's transaction nothing at all
    (no savepoint, and a refusal raised by a service does not mark the caller's transaction as broken: a
    refusal is decided before anything fails in the database)."""
    return nullcontext() if connection.in_atomic_block else transaction.atomic()


# Constraint names (``diag.constraint_name``) of the database's refusals, to the user's error.
_CONSTRAINTS: dict[str, Callable[[], DomainError]] = {
    "ledger_transfer_pending_id_key": PendingResolved,
    "ledger_resolution_matches_pending": PendingResolved,
    "ledger_transfer_reverses_id_key": AlreadyReversed,
    "ledger_reversal_mirrors_original": AlreadyReversed,
    "account_no_overdraw": lambda: InsufficientBalance(_("Not enough hours in the account for this transfer.")),
    "transfer_distinct_accounts": SameAccount,
}


_SQLITE_NAMES = {
    "ledger_transfer.pending_id": "ledger_transfer_pending_id_key",
    "ledger_transfer.reverses_id": "ledger_transfer_reverses_id_key",
}


def integrity_to_domain(exc: IntegrityError) -> DomainError:
    """Map a refusal by the database to the user's error, by constraint name. Reached only under races the
    guards forbid (or a caller that skipped the checks): the statement that failed wrote nothing."""
    diag = getattr(getattr(exc, "__cause__", None), "diag", None)
    name = getattr(diag, "constraint_name", None) or ""
    if diag is None:  # SQLite reports no constraint name but the failed constraint's own, after "failed: "
        failed = re.search(r"constraint failed: ([\w.]+)", str(exc))
        name = _SQLITE_NAMES.get(failed.group(1), failed.group(1)) if failed else ""
    make = _CONSTRAINTS.get(name)
    return make() if make is not None else IdempotencyConflict()
