"""Tamper evidence: a hash chain of seals over the transfers, and the verification of the whole ledger.

Sealing does not slow postings down: a posting never touches a seal. ``seal_transfers`` first waits
for the transfers being written at that moment (PostgreSQL: a brief ``LOCK TABLE … IN SHARE MODE``,
which waits for open inserts and is released at once), so every id up to the one it reads is
committed and no later transfer can take a smaller id. It then hashes those rows in id order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, Sum

from .marks import ALL_MARKED_FIELDS, verify_mark
from .models import Account, Seal, Transfer

POSTED = ("posted", "post")  # phases that move posted minutes (a hold released counts when posted)

GENESIS = "0" * 64
SEAL_SIZE = 20_000
_FIELDS = (
    "id", "key", "request_hash", "debit_account_id", "credit_account_id", "amount", "kind", "phase", "pending_id",
    "reverses_id", "batch_id", "memo", "beneficiary_id", "place_id", "ref", "actor_id", "created_at",
)  # fmt: skip


def _canonical_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_hash(row: dict[str, object]) -> str:
    """SHA-256 of every column of a transfer, in a fixed order and format."""
    parts = []
    for name in _FIELDS:
        value = row[name]
        if isinstance(value, dt.datetime):
            value = _canonical_time(value)
        parts.append("" if value is None else str(value))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def chain_hash(prev_hash: str, entries: list[list[object]], derived: dict[str, list[int]] | None = None) -> str:
    body = json.dumps(entries, separators=(",", ":"))
    if derived is not None:  # seals made before snapshots existed hash their entries only
        body += json.dumps(derived, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _derived_ids() -> list[int]:
    return list(Account.objects.filter(cached=False).order_by("pk").values_list("pk", flat=True))


def _posted_sums_through(ids: list[int], last_id: int) -> dict[str, list[int]]:
    """Posted debits and credits of the accounts ``ids`` over every transfer up to ``last_id`` (one pass)."""
    totals = {str(pk): [0, 0] for pk in ids}
    posted = Transfer.objects.filter(id__lte=last_id, phase__in=POSTED)
    for side, column in ((0, "debit_account_id"), (1, "credit_account_id")):
        rows = posted.filter(**{f"{column}__in": ids}).values(column).annotate(s=Sum("amount")).order_by()
        for row in rows:
            totals[str(row[column])][side] = int(row["s"] or 0)
    return totals


def _advance(totals: dict[str, list[int]], rows: list[dict[str, object]]) -> dict[str, list[int]]:
    """The snapshot after ``rows`` (transfers in id order) are added to ``totals``."""
    new = {k: list(v) for k, v in totals.items()}
    for row in rows:
        if row["phase"] not in POSTED:
            continue
        for side, column in ((0, "debit_account_id"), (1, "credit_account_id")):
            key = str(row[column])
            if key in new:
                new[key][side] += int(row["amount"])  # type: ignore[call-overload]
    return new


def _rows(first_id: int, last_id: int) -> Iterator[dict[str, object]]:
    qs = Transfer.objects.filter(id__gte=first_id, id__lte=last_id).order_by("id").values(*_FIELDS)
    yield from qs.iterator(chunk_size=5000)


def _committed_horizon() -> int:
    """The largest transfer id below which every transfer is committed."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("LOCK TABLE ledger_transfer IN SHARE MODE")
        return Transfer.objects.aggregate(m=Max("id"))["m"] or 0


def seal_transfers(*, size: int = SEAL_SIZE) -> list[Seal]:
    """Seal every committed transfer not yet sealed, in links of at most ``size`` transfers."""
    horizon = _committed_horizon()
    made: list[Seal] = []
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(727001)")  # one sealer at a time
        last = Seal.objects.order_by("-last_id").first()
        prev_hash = last.hash if last else GENESIS
        start = (last.last_id + 1) if last else 1
        first = start  # a range with no transfers (a gap in the ids) joins the next seal: the chain stays contiguous
        ids = _derived_ids()
        if last is not None and last.derived is not None and set(last.derived) == {str(pk) for pk in ids}:
            totals = {k: list(v) for k, v in last.derived.items()}
        else:  # the first seal, or the first since snapshots began (or a derived account was added): count once
            totals = _posted_sums_through(ids, start - 1)
        while start <= horizon:
            end = min(horizon, start + size - 1)
            rows = list(_rows(start, end))
            totals = _advance(totals, rows)
            entries: list[list[object]] = [[r["id"], row_hash(r)] for r in rows]
            if entries:
                seal = Seal.objects.create(
                    first_id=first,
                    last_id=end,
                    count=len(entries),
                    entries=entries,
                    prev_hash=prev_hash,
                    hash=chain_hash(prev_hash, entries, totals),
                    derived=totals,
                )
                made.append(seal)
                prev_hash = seal.hash
                first = end + 1
            start = end + 1
    return made


def published_seals(*, limit: int = 10) -> list[Seal]:
    """The newest seals, newest first, with only what may be published (no transfer entries, no names).

    Publishing the latest hash outside the database (the public page ``/ledger/seal/``, the command
    ``ledger_seal_hash``, the monthly report) anchors the chain: whoever noted the hash of the seal up to
    transfer #N will see a different hash for #N if the chain is ever rewritten.
    """
    fields = ("pk", "first_id", "last_id", "count", "hash", "created_at")
    return list(Seal.objects.order_by("-last_id").only(*fields)[:limit])


@dataclass
class Problem:
    kind: str
    text: str


@dataclass
class Report:
    accounts: int = 0
    transfers: int = 0
    marks: int = 0  # transfers whose mark was checked (every one)
    seals: int = 0
    unsealed: int = 0
    outstanding_minutes: int = 0
    total_minutes: int = 0
    problems: list[Problem] = field(default_factory=list)
    last_seal_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        return not self.problems


def _sums() -> tuple[dict[int, list[int]], int, int]:
    """Per account: [debits_posted, credits_posted, debits_pending, credits_pending] from the transfers."""
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT t.debit_account_id, t.credit_account_id, t.phase, t.amount,
                   (SELECT p.amount FROM ledger_transfer p WHERE p.id = t.pending_id)
            FROM ledger_transfer t
            """
        )
        count = 0
        while batch := cur.fetchmany(10_000):
            for debit, credit, phase, amount, held in batch:
                count += 1
                if phase in ("posted", "post"):
                    sums[debit][0] += amount
                    sums[credit][1] += amount
                if phase == "pending":
                    sums[debit][2] += amount
                    sums[credit][3] += amount
                if phase in ("post", "void"):
                    sums[debit][2] -= held or 0
                    sums[credit][3] -= held or 0
    return sums, count, len(sums)


def _difference(cached: list[int], summed: list[int]) -> str:
    """What the cached balance counts that the transfers do not (a deleted row), or the reverse (a row
    inserted around the trigger): e.g. "; the cached balance counts 90 min more posted credits"."""
    names = ("posted debits", "posted credits", "pending debits", "pending credits")
    parts = []
    for name, c, s in zip(names, cached, summed, strict=True):
        if c != s:
            parts.append(f"{abs(c - s)} min {'more' if c > s else 'fewer'} {name}")
    return "; the cached balance counts " + ", ".join(parts) if parts else ""


def verify_ledger() -> Report:
    """Recompute every balance from the transfers, check conservation and every seal; name each problem."""
    report = Report()
    sums, report.transfers, _ = _sums()
    total = 0
    for account in Account.objects.order_by("pk"):
        report.accounts += 1
        d_p, c_p, d_h, c_h = sums.get(account.pk, [0, 0, 0, 0])
        if account.cached:
            cached = [account.debits_posted, account.credits_posted, account.debits_pending, account.credits_pending]
            if cached != [d_p, c_p, d_h, c_h]:
                report.problems.append(
                    Problem(
                        "balance",
                        f"account {account.code} ({account.name}): cached debits/credits posted "
                        f"{cached[0]}/{cached[1]}, pending {cached[2]}/{cached[3]}; "
                        f"the transfers give {d_p}/{c_p}, pending {d_h}/{c_h}"
                        + _difference(cached, [d_p, c_p, d_h, c_h]),
                    )
                )
            total += account.credits_posted - account.debits_posted
        else:
            total += c_p - d_p
        if account.no_overdraw and c_p - d_p - d_h < 0:
            report.problems.append(
                Problem("overdrawn", f"account {account.code} ({account.name}) is overdrawn: {c_p - d_p - d_h} min")
            )
        if account.code == "issuance":
            report.outstanding_minutes = d_p - c_p
    report.total_minutes = total
    if total != 0:
        report.problems.append(Problem("conservation", f"the accounts sum to {total} minutes instead of 0"))
    _verify_marks(report)
    _verify_seals(report)
    return report


def _verify_marks(report: Report) -> None:
    """Every transfer's mark matches its fields, and every hold or original it points at still exists.

    A row inserted or edited without the application's key is named by id, whether or not it was sealed.
    A row deleted after sealing is named by the seals; one deleted before sealing changes the cached
    balances of its accounts (``balance`` problems), and if another transfer resolved or reversed it, that
    transfer's link now points at nothing (named here).
    """
    rows = Transfer.objects.order_by("id").values("id", "mark", *ALL_MARKED_FIELDS)
    for row in rows.iterator(chunk_size=5000):
        report.marks += 1
        if not verify_mark(row, row["mark"]):
            report.problems.append(
                Problem(
                    "row_forged",
                    f"transfer #{row['id']}: its mark does not match its contents: it was written or changed "
                    "outside the application",
                )
            )
    for link, what in (("pending_id", "the hold it resolves"), ("reverses_id", "the transfer it reverses")):
        dangling = (
            Transfer.objects.filter(**{f"{link}__isnull": False})
            .exclude(Exists(Transfer.objects.filter(pk=OuterRef(link))))
            .order_by("id")
            .values_list("id", link)
        )
        for tid, target in dangling:
            report.problems.append(
                Problem("row_missing", f"transfer #{target} is gone: transfer #{tid} points at it as {what}")
            )


def _verify_seals(report: Report) -> None:
    prev_hash = GENESIS
    expected_first = 1
    last_sealed = 0
    running: dict[str, list[int]] | None = None  # the derived accounts' sums so far, once a snapshot is met
    for seal in Seal.objects.order_by("last_id").iterator(chunk_size=50):
        report.seals += 1
        where = f"seal {seal.pk} (transfers {seal.first_id}–{seal.last_id})"
        if seal.prev_hash != prev_hash:
            report.problems.append(Problem("chain", f"{where}: does not link to the seal before it"))
        if seal.first_id != expected_first:
            report.problems.append(Problem("chain", f"{where}: starts at {seal.first_id}, expected {expected_first}"))
        entries = [list(e) for e in seal.entries]
        if chain_hash(seal.prev_hash, entries, seal.derived) != seal.hash:
            report.problems.append(Problem("chain", f"{where}: its own hash does not match its contents"))
        rows = list(_rows(seal.first_id, seal.last_id))
        if seal.derived is not None:
            if running is None or set(running) != set(seal.derived):
                running = _posted_sums_through([int(k) for k in seal.derived], seal.first_id - 1)
            running = _advance(running, rows)
            for key, (debits, credits) in sorted(seal.derived.items()):
                if running.get(key) != [debits, credits]:
                    report.problems.append(
                        Problem(
                            "snapshot",
                            f"{where}: account #{key} has posted debits/credits {debits}/{credits} in the seal's "
                            f"snapshot, but the transfers give {running.get(key)}",
                        )
                    )
        recorded = {int(i): h for i, h in entries}
        current = {int(r["id"]): row_hash(r) for r in rows}  # type: ignore[call-overload]
        for tid in sorted(recorded.keys() - current.keys()):
            report.problems.append(Problem("row_missing", f"transfer #{tid} was sealed in {where} but is gone"))
        for tid in sorted(current.keys() - recorded.keys()):
            report.problems.append(Problem("row_inserted", f"transfer #{tid} was inserted into {where} afterwards"))
        for tid in sorted(recorded.keys() & current.keys()):
            if recorded[tid] != current[tid]:
                report.problems.append(Problem("row_edited", f"transfer #{tid} was changed after {where}"))
        prev_hash = seal.hash
        expected_first = seal.last_id + 1
        last_sealed = seal.last_id
    report.last_seal_hash = prev_hash
    report.unsealed = Transfer.objects.filter(id__gt=last_sealed).count()
