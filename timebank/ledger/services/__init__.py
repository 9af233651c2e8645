"""Every write to the ledger. Nothing else inserts transfers.

The services by concern: :mod:`.accounts`, :mod:`.postings` (transfers, family transfers, donations,
guarantee purchases, corrections), :mod:`.credits` (service credits and the balance cap), :mod:`.holds`,
:mod:`.grants` (pool grants), :mod:`.batches`, :mod:`.expiry`; :mod:`.core` holds what they share.
Callers import from here (``from timebank.ledger import services as ledger``); every name they use is
re-exported below.

Each public function:
* checks its input and the policies before anything is written, and raises a :mod:`timebank.ledger.errors`
  error;
* takes a ``key``: the same call again returns the first result (marked ``replayed``); the same key with a
  different request raises :class:`IdempotencyConflict`. A key chosen by a client (API, web form) is passed
  with ``client=`` and lives in that user's namespace (:func:`client_key`), apart from the system's keys;
* writes in one transaction; the database trigger updates the cached balances and the CHECK constraints
  are the last line of defence.
"""

from .accounts import account_for, account_open, account_set_status, accounts_for, system_account
from .batches import BatchEntry, batch_post, group_credit_batch
from .core import MAX_ATTEMPTS, Credit, Kind, Phase, client_key, request_hash
from .credits import PAYERS, credited_minutes, service_credit
from .expiry import hours_expire
from .grants import pool_grant_approve, pool_grant_reject, pool_grant_request
from .holds import hold_post, hold_void
from .postings import (
    adjustment_post,
    donate,
    family_transfer,
    group_hours_spend_check,
    guarantee_redeem,
    transfer_post,
    transfer_reverse,
)

__all__ = [
    "MAX_ATTEMPTS",
    "PAYERS",
    "BatchEntry",
    "Credit",
    "Kind",
    "Phase",
    "account_for",
    "account_open",
    "account_set_status",
    "accounts_for",
    "adjustment_post",
    "batch_post",
    "client_key",
    "credited_minutes",
    "donate",
    "family_transfer",
    "group_credit_batch",
    "group_hours_spend_check",
    "guarantee_redeem",
    "hold_post",
    "hold_void",
    "hours_expire",
    "pool_grant_approve",
    "pool_grant_reject",
    "pool_grant_request",
    "request_hash",
    "service_credit",
    "system_account",
    "transfer_post",
    "transfer_reverse",
]
