"""Ledger errors: each with a stable code and a message people can act on."""

from django.utils.translation import gettext_lazy as _

from timebank.common.errors import Conflict, InvalidInput, NotAllowed


class BadAmount(InvalidInput):
    code = "ledger.bad_amount"
    message = _("The number of minutes must be a whole number above zero.")


class BadKey(InvalidInput):
    code = "ledger.bad_key"
    message = _("The request key must be 8 to 80 characters: letters, digits and - _ : .")


class SameAccount(InvalidInput):
    code = "ledger.same_account"
    message = _("Hours cannot move from an account to itself.")


class InsufficientBalance(Conflict):
    code = "ledger.insufficient_balance"
    message = _("Not enough hours: {available} available, {needed} needed.")


class AccountNotOpen(Conflict):
    code = "ledger.account_not_open"
    message = _("The account “{name}” is {status}: no hours can move through it.")


class AccountNotEmpty(Conflict):
    code = "ledger.account_not_empty"
    message = _("Only an account with no hours and nothing held can be closed.")


class IdempotencyConflict(Conflict):
    code = "ledger.idempotency_conflict"
    message = _("This request key was already used for a different request.")


class NotARelative(NotAllowed):
    code = "ledger.not_a_relative"
    message = _("{name} is not registered as a relative who may receive your hours.")


class RedeemNotAllowed(NotAllowed):
    code = "ledger.redeem_not_allowed"
    message = _("{name} cannot redeem stored hours yet: hours can be redeemed from age {age}.")


class NotPriority(NotAllowed):
    code = "ledger.not_priority"
    message = _("{name} is not a priority elder, so the public pool cannot pay for this.")


class NotPending(InvalidInput):
    code = "ledger.not_pending"
    message = _("This transfer is not a hold, so it cannot be released or cancelled.")


class PendingResolved(Conflict):
    code = "ledger.pending_resolved"
    message = _("This hold was already settled.")


class PostExceedsHold(InvalidInput):
    code = "ledger.post_exceeds_hold"
    message = _("At most {held} minutes can be released from this hold.")


class AlreadyReversed(Conflict):
    code = "ledger.already_reversed"
    message = _("This transfer was already corrected.")


class NotReversible(InvalidInput):
    code = "ledger.not_reversible"
    message = _("Only a completed transfer can be corrected; settle or cancel a hold instead.")


class GroupHoursDonationOnly(NotAllowed):
    code = "ledger.group_hours_donation_only"
    message = _("Hours earned in group activities can only be donated.")


class GrantSameApprover(NotAllowed):
    code = "ledger.grant_same_approver"
    message = _("A different staff member must approve this grant (four-eyes rule).")


class GrantDecided(Conflict):
    code = "ledger.grant_decided"
    message = _("This grant was already decided.")


class ReasonRequired(InvalidInput):
    code = "ledger.reason_required"
    message = _("Write the reason.")


class BadCoefficient(InvalidInput):
    code = "ledger.bad_coefficient"
    message = _("The service coefficient must be a number between 0.1 and 10.")


class EmptyBatch(InvalidInput):
    code = "ledger.empty_batch"
    message = _("The batch has no entries.")


class DuplicateInBatch(InvalidInput):
    code = "ledger.duplicate_in_batch"
    message = _("Entry {index} repeats the key of an earlier entry.")


class BadPayer(InvalidInput):
    code = "ledger.bad_payer"
    message = _("Unknown payer {payer}: choose own hours, the public pool or the government.")


class BadAccountStatus(InvalidInput):
    code = "ledger.bad_account_status"
    message = _("Unknown account status {value}: choose open, frozen or closed.")
