from django.utils.translation import gettext_lazy as _

from timebank.common.errors import Conflict, InvalidInput


class BadPeriod(InvalidInput):
    code = "training.bad_period"
    message = _("A certificate must end on or after the day it starts.")


class BadTrack(InvalidInput):
    code = "training.bad_track"
    message = _("Unknown training track: {value}.")


class DuplicateCertificate(Conflict):
    code = "training.duplicate_certificate"
    message = _("A certificate with this number already exists.")


class BadCourse(InvalidInput):
    code = "training.bad_course"
    message = _("The course is not valid: {reason}.")


class CourseInactive(Conflict):
    code = "training.course_inactive"
    message = _("This course is no longer offered.")


class BadCapacity(InvalidInput):
    code = "training.bad_capacity"
    message = _("The number of seats must be a whole number above zero.")


class CapacityBelowEnrolled(Conflict):
    code = "training.capacity_below_enrolled"
    message = _("{enrolled} people are already enrolled: the session cannot have fewer seats than that.")


class BadSchedule(InvalidInput):
    code = "training.bad_schedule"
    message = _("A session must end after it starts.")


class SiteInactive(Conflict):
    code = "training.site_inactive"
    message = _("This site is closed; choose another one.")


class SessionFull(Conflict):
    code = "training.session_full"
    message = _("All {capacity} seats of this session are taken. Nobody can be added beyond the seats.")


class SessionClosed(Conflict):
    code = "training.session_closed"
    message = _("This session is cancelled or has already started; nobody can join or leave it now.")


class SessionNotStarted(Conflict):
    code = "training.session_not_started"
    message = _("This session has not started yet: attendance and results are recorded after it starts.")


class AlreadyEnrolled(Conflict):
    code = "training.already_enrolled"
    message = _("{name} is already enrolled or waiting for this session.")


class NotEnrolled(Conflict):
    code = "training.not_enrolled"
    message = _("{name} is not enrolled in this session.")


class NotAttended(Conflict):
    code = "training.not_attended"
    message = _("{name} was not recorded as present, so cannot be assessed.")


class AlreadyAssessed(Conflict):
    code = "training.already_assessed"
    message = _("{name} has already been assessed for this session.")


class BadScore(InvalidInput):
    code = "training.bad_score"
    message = _("A score must be a whole number from 0 to 100.")


class EnrolmentCancelled(Conflict):
    code = "training.enrolment_cancelled"
    message = _("This enrolment is already cancelled.")


class BadTarget(InvalidInput):
    code = "training.bad_target"
    message = _("A target must be a whole number of people, zero or more.")


class BadTargetYear(InvalidInput):
    code = "training.bad_target_year"
    message = _("Targets can be set for the years 2000 to 2100.")


class BadTargetRegion(InvalidInput):
    code = "training.bad_target_region"
    message = _("Targets are set for a town or street, or for the whole city.")
