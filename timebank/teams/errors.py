"""Errors of teams, projects, competitions and group events (stable codes; messages translated)."""

from django.utils.translation import gettext_lazy as _

from timebank.common.errors import Conflict, InvalidInput, NotAllowed, OutOfScope


class NotManager(NotAllowed):
    code = "teams.not_manager"
    message = _("Only the team's leaders and its organisation's staff may do this.")


class OtherOrganisation(NotAllowed):
    code = "teams.other_organisation"
    message = _("This team belongs to another organisation.")


class OutsideTeamArea(OutOfScope):
    code = "teams.outside_area"
    message = _("{name} lives outside the area of this team ({area}).")


class BadName(InvalidInput):
    code = "teams.bad_name"
    message = _("Please give a name (at most {max} characters).")


class AlreadyMember(Conflict):
    code = "teams.already_member"
    message = _("{name} is already in this team.")


class NotMember(InvalidInput):
    code = "teams.not_member"
    message = _("{name} is not in this team.")


class LastLeader(Conflict):
    code = "teams.last_leader"
    message = _("A team must keep a leader: name another leader first.")


class NotAVolunteer(InvalidInput):
    code = "teams.not_a_volunteer"
    message = _("{name} is not registered as a volunteer.")


class ProjectClosed(Conflict):
    code = "teams.project_closed"
    message = _("This project is closed.")


class ProjectFull(Conflict):
    code = "teams.project_full"
    message = _("This project has all the volunteers it wants.")


class AlreadySignedUp(Conflict):
    code = "teams.already_signed_up"
    message = _("{name} has already signed up.")


class BadStatus(InvalidInput):
    code = "teams.bad_status"
    message = _("Unknown status: {value}.")


class BadNumber(InvalidInput):
    code = "teams.bad_number"
    message = _("Please give a whole number from {low} to {high}.")


class BadEventTime(InvalidInput):
    code = "teams.bad_event_time"
    message = _("An event must end after it starts.")


class FutureDay(InvalidInput):
    code = "teams.future_day"
    message = _("The day cannot be in the future.")


class TeamRequired(InvalidInput):
    code = "teams.team_required"
    message = _("An event needs a team, and its project must be one of that team's projects.")


class EventFull(Conflict):
    code = "teams.event_full"
    message = _("This event is full ({capacity} places).")


class EventOver(Conflict):
    code = "teams.event_over"
    message = _("This event has already ended; sign-up is closed.")


class GuardianRequired(NotAllowed):
    code = "teams.guardian_required"
    message = _("{name} is under {age}: they may join only an event that names an accompanying guardian or teacher.")


class MayNotServe(NotAllowed):
    code = "teams.may_not_serve"
    message = _("{name} may not serve now: {reason}.")


class EventStarted(Conflict):
    code = "teams.event_started"
    message = _("This event has already started; a sign-up can no longer be cancelled.")


class SignupWithdrawn(Conflict):
    code = "teams.signup_withdrawn"
    message = _("The sign-up of {name} was already cancelled.")


class SheetEmpty(InvalidInput):
    code = "teams.sheet_empty"
    message = _("The attendance sheet has nobody ticked.")


class NotSignedUp(InvalidInput):
    code = "teams.not_signed_up"
    message = _("{name} did not sign up for this event.")


class AttendeeTwice(InvalidInput):
    code = "teams.attendee_twice"
    message = _("{name} is on the sheet twice.")


class TimeOutsideEvent(InvalidInput):
    code = "teams.time_outside_event"
    message = _("{name}: the times must lie within the event ({start}–{end}) and end after they start.")


class BadMinutes(InvalidInput):
    code = "teams.bad_minutes"
    message = _("{name}: the minutes served must be more than 0 and at most the length of the event ({max}).")


class EventNotStarted(Conflict):
    code = "teams.event_not_started"
    message = _("The event has not started yet: fill in the sheet after it.")


class SheetAlreadyPosted(Conflict):
    code = "teams.sheet_already_posted"
    message = _(
        "The attendance sheet of this event was already posted, with other entries. Hours cannot be "
        "posted twice; ask the time bank to correct the posted sheet."
    )


class EventPosted(Conflict):
    code = "teams.event_posted"
    message = _("The attendance sheet of this event is posted; sign-ups are closed.")


class BadCriteria(InvalidInput):
    code = "teams.bad_criteria"
    message = _("Give at least one criterion, each named once.")


class CompetitionClosed(Conflict):
    code = "teams.competition_closed"
    message = _("This competition is closed.")


class AlreadyNominated(Conflict):
    code = "teams.already_nominated"
    message = _("This project is already nominated.")


class NotAJudge(NotAllowed):
    code = "teams.not_a_judge"
    message = _("You are not a judge of this competition.")


class OwnTeam(NotAllowed):
    code = "teams.own_team"
    message = _("You may not score a project of a team you belong to.")


class BadCriterion(InvalidInput):
    code = "teams.bad_criterion"
    message = _("Unknown criterion: {value}.")


class BadPoints(InvalidInput):
    code = "teams.bad_points"
    message = _("Points must be a whole number from 0 to 100.")


class NotSupervisor(NotAllowed):
    code = "teams.not_supervisor"
    message = _("Only city supervisors and partner organisation staff may run competitions.")
