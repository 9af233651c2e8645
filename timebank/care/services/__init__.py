"""Every write of the life of a service: publish, apply, dispatch, check in/out, confirm, rate, dispute.

Each function checks the actor, the input and the allowed transition before it writes, writes the change
and a :class:`~timebank.care.models.CareEvent` in one transaction, and moves hours only through
:mod:`timebank.ledger.services`.

The package is split by concern; callers import from here (``from timebank.care import services``):

* :mod:`._common`: the state machine (:data:`NEED_MOVES`, :data:`VISIT_MOVES`) and shared helpers;
* :mod:`.catalogue`: items and their versioned terms;
* :mod:`.needs`: publish, cancel, expire, the government guarantee;
* :mod:`.dispatch`: who may serve, applications, dispatch, declines and no-shows;
* :mod:`.elder_cards`: the elder's QR/PIN card;
* :mod:`.visits`: check-in and check-out;
* :mod:`.confirmation`: the confirmation that pays the volunteer;
* :mod:`.disputes`: complaints and their resolution;
* :mod:`.ratings`: ratings of a finished visit.
"""

from ._common import NEED_MOVES, NS, VISIT_MOVES, VS, _confirmer, _move_need, _move_visit, _not_enough, _payer_now, _via
from .catalogue import catalogue_item_create, catalogue_item_revise, item_current_version
from .confirmation import visit_confirm
from .dispatch import (
    application_apply,
    application_withdraw,
    visit_assign,
    visit_decline,
    visit_no_show,
    volunteer_check,
)
from .disputes import dispute_resolve, visit_dispute
from .elder_cards import IssuedCard, _code_matches, _digest, card_issue
from .needs import (
    STALE_ASSIGNED_AFTER,
    need_cancel,
    need_fulfil_by_guarantee,
    need_publish,
    needs_expire,
)
from .ratings import visit_rate
from .visits import visit_check_in, visit_check_out

__all__ = [
    "NEED_MOVES",
    "NS",
    "STALE_ASSIGNED_AFTER",
    "VISIT_MOVES",
    "VS",
    "IssuedCard",
    "_code_matches",
    "_confirmer",
    "_digest",
    "_move_need",
    "_move_visit",
    "_not_enough",
    "_payer_now",
    "_via",
    "application_apply",
    "application_withdraw",
    "card_issue",
    "catalogue_item_create",
    "catalogue_item_revise",
    "dispute_resolve",
    "item_current_version",
    "need_cancel",
    "need_fulfil_by_guarantee",
    "need_publish",
    "needs_expire",
    "visit_assign",
    "visit_check_in",
    "visit_check_out",
    "visit_confirm",
    "visit_decline",
    "visit_dispute",
    "visit_no_show",
    "visit_rate",
    "volunteer_check",
]
