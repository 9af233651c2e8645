"""Errors of star levels, falsification bars, honours and non-cash rewards (stable codes, lazy messages)."""

from django.utils.translation import gettext_lazy as _

from timebank.common.errors import Conflict, InvalidInput, NotAllowed


class StarLevelNotByHand(NotAllowed):
    code = "rewards.star_level_not_by_hand"
    message = _(
        "Star levels cannot be awarded by hand: they are counted from recorded service. "
        "Record the service instead; the level follows by itself."
    )


class Barred(NotAllowed):
    code = "rewards.barred"
    message = _("{name} is barred from star levels, honours and rewards until {until} (falsified service records).")


class BelowStarLevel(NotAllowed):
    code = "rewards.below_star_level"
    message = _("{name} has {stars} stars; “{reward}” needs at least {needed} stars.")


class NotAVolunteer(InvalidInput):
    code = "rewards.not_a_volunteer"
    message = _("{name} is not registered as a volunteer.")


class BadHonourKind(InvalidInput):
    code = "rewards.bad_honour_kind"
    message = _("Unknown kind of honour: {value}.")


class BadYear(InvalidInput):
    code = "rewards.bad_year"
    message = _("The year must be between 2000 and next year.")


class TitleRequired(InvalidInput):
    code = "rewards.title_required"
    message = _("Please write the title and the citation of the honour.")


class DuplicateHonour(Conflict):
    code = "rewards.duplicate_honour"
    message = _("{name} already holds this honour for {year}.")


class AlreadyWithdrawn(Conflict):
    code = "rewards.already_withdrawn"
    message = _("This has already been withdrawn or revoked.")


class ReasonRequired(InvalidInput):
    code = "rewards.reason_required"
    message = _("Please give the reason.")


class RewardInactive(InvalidInput):
    code = "rewards.reward_inactive"
    message = _("“{reward}” is no longer offered.")


class AlreadyEntitled(Conflict):
    code = "rewards.already_entitled"
    message = _("{name} already holds “{reward}”.")


class BadRewardKind(InvalidInput):
    code = "rewards.bad_reward_kind"
    message = _("The reward is not valid: {reason}.")


class NotFalsifiable(InvalidInput):
    code = "rewards.not_falsifiable"
    message = _("This record cannot be marked as falsified: {reason}.")


class AlreadyFalsified(Conflict):
    code = "rewards.already_falsified"
    message = _("This record has already been marked as falsified.")


class WhatToFalsify(InvalidInput):
    code = "rewards.what_to_falsify"
    message = _("Name exactly one visit or one ledger transfer.")


class HonourSubject(InvalidInput):
    code = "rewards.honour_subject"
    message = _("An honour names one volunteer, or one team for “outstanding team”.")


class TeamInactive(InvalidInput):
    code = "rewards.team_inactive"
    message = _("The team {name} is no longer active.")
