"""Marks: every transfer carries an HMAC of its own fields that only the application can make.

The seals (``sealing.py``) prove that a sealed row has not changed since it was sealed, but they cannot
tell a genuine row from one slipped in by someone with database rights before the next seal: such a row
would be sealed as genuine. So each transfer carries a **mark**: HMAC-SHA-256, keyed with
``settings.LEDGER_MARK_KEY`` (from the environment; the database never sees the key), over

    the format tag ``ledger-transfer-mark/1`` and, in this order, ``key``, ``request_hash``,
    ``debit_account_id``, ``credit_account_id``, ``amount``, ``kind``, ``phase``, ``pending_id`` (the hold a
    post or void resolves), ``reverses_id`` (the transfer a reversal corrects), ``batch_id``, ``memo``,
    ``beneficiary_id``, ``place_id``, ``ref``, ``actor_id`` and ``created_at`` (UTC, microseconds),

encoded as one JSON array (no separator ambiguity: a memo cannot borrow characters from the next field),
followed by any column added later (``LATER_FIELDS``) whose value is not its default. Every column of the
row except ``id`` and ``mark`` itself is covered. The id is not known before the
insert and is not needed: ``key`` is unique, so a mark can never be reused by another row.

The mark depends on nothing but its own row: no chain through the previous transfer, so postings do not
queue on one row. ``ledger_verify`` recomputes every row's mark: a row inserted or edited without the key
is named by id, sealed or not.

How it is set: the model's ``mark`` column is a :class:`MarkField`, which computes the mark when the row
is inserted (``save()`` and ``bulk_create`` both call the field's ``pre_save``, in field order, after
``created_at`` got its value). Code that inserts rows with raw SQL must call :func:`transfer_mark` itself;
a CHECK constraint refuses an empty mark.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import models

FORMAT = "ledger-transfer-mark/1"
MARKED_FIELDS = (
    "key", "request_hash", "debit_account_id", "credit_account_id", "amount", "kind", "phase", "pending_id",
    "reverses_id", "batch_id", "memo", "beneficiary_id", "place_id", "ref", "actor_id", "created_at",
)  # fmt: skip
# Columns added to Transfer after format 1, each with the value the rows written before it hold (its
# default). A later column enters the message as a [name, value] pair, and only when its value differs from
# that default: so adding a column never invalidates the marks already made, and setting or clearing it
# afterwards still changes the message. Add every new column here (a test checks that all are covered).
LATER_FIELDS: dict[str, Any] = {}
ALL_MARKED_FIELDS = (*MARKED_FIELDS, *LATER_FIELDS)
_INTEGERS = frozenset(
    {"debit_account_id", "credit_account_id", "amount", "pending_id", "reverses_id", "batch_id"}
    | {"beneficiary_id", "place_id", "actor_id"}
)


def _canonical(name: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, enum.Enum):  # TextChoices members
        value = value.value
    if name == "created_at":
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise ValueError(f"a transfer's created_at must be an aware datetime, not {value!r}")
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if name in _INTEGERS:
        return int(value)
    return str(value)


def mark_message(values: Mapping[str, Any]) -> bytes:
    """The bytes a mark is computed over: the format tag and the marked fields, as one JSON array."""
    parts: list[Any] = [FORMAT, *(_canonical(name, values[name]) for name in MARKED_FIELDS)]
    for name, legacy in LATER_FIELDS.items():
        value = values.get(name, legacy)  # absent: a row (or historical model) from before the column
        if value != legacy:
            parts.append([name, _canonical(name, value)])
    return json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode()


def _key() -> bytes:
    key = getattr(settings, "LEDGER_MARK_KEY", "")
    if not key:
        raise RuntimeError("settings.LEDGER_MARK_KEY is empty: transfers cannot be marked or checked")
    return str(key).encode()


def transfer_mark(values: Mapping[str, Any] | models.Model) -> str:
    """The mark of a transfer, given its field values (a mapping by attribute name, or the row itself)."""
    if isinstance(values, models.Model):
        values = {name: getattr(values, name) for name in ALL_MARKED_FIELDS}
    return hmac.new(_key(), mark_message(values), hashlib.sha256).hexdigest()


def verify_mark(values: Mapping[str, Any], mark: str | None) -> bool:
    """Whether ``mark`` is the genuine mark of a transfer with these field values."""
    if not mark:
        return False
    try:
        expected = transfer_mark(values)
    except (ValueError, TypeError, KeyError):
        return False
    return hmac.compare_digest(expected, str(mark))


class MarkField(models.CharField):  # type: ignore[type-arg]
    """The ``mark`` column: filled in by the application as the row is inserted.

    Declare it after every marked field (``created_at`` gets its value in its own ``pre_save``, which must
    run first; ``ledger.tests`` checks the order). Migrations see a plain ``CharField``, so they do not
    depend on this module.
    """

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        mark = transfer_mark(model_instance)
        setattr(model_instance, self.attname, mark)
        return mark

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs
