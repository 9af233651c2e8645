"""What the time bank holds about one person, from every domain (PIPL art. 44–45: the right to know and to
a copy). The same sections feed the "my data" page and its JSON download.

Each section lists rows of plain values (strings and numbers) under stable English keys; the page shows the
translated column labels. Other people appear only as far as the person already knows them (their
relatives and proxies by name); the elders a volunteer visited and the volunteers who visited an elder are
not named here (that is their data, not this person's).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from timebank.care.models import Need, Visit
from timebank.ledger.models import Account
from timebank.ledger.selectors import balance, statement_recent
from timebank.notify.models import Notification
from timebank.people.models import CorrectionRequest, Departure, PersonalDataView, Relationship, Resident, User
from timebank.people.selectors import active_roles
from timebank.people.services import LANGUAGES
from timebank.rewards.models import Honour, StarLevelReached
from timebank.teams.models import TeamMember
from timebank.training.models import Certificate, Enrolment

LEDGER_LINES = 500
NOTIFICATIONS = 200


@dataclass
class Section:
    key: str
    title: str | Promise
    why: str | Promise  # why it is held, in plain words
    columns: list[tuple[str, str | Promise]]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def table(self) -> list[list[tuple[str | Promise, Any]]]:
        """Rows as (column label, value) pairs in column order (for the page)."""
        return [[(label, row.get(k, "")) for k, label in self.columns] for row in self.rows]


def _day(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _yes(flag: bool) -> str:
    return str(_("yes") if flag else _("no"))


def _profile(resident: Resident) -> Section:
    r = resident
    rows = [
        {"item": _("Name"), "value": r.name},
        {"item": _("ID number (masked)"), "value": r.id_number_masked},
        {"item": _("Birth date"), "value": _day(r.birth_date)},
        {"item": _("Sex"), "value": r.get_sex_display()},
        {"item": _("Phone"), "value": r.phone},
        {"item": _("Home community"), "value": f"{r.home_region.parent.name if r.home_region.parent else ''} "
         f"{r.home_region.name}".strip()},
        {"item": _("Address"), "value": r.address},
        {"item": _("Languages"), "value": " ".join(str(LANGUAGES.get(c, c)) for c in r.languages)},
        {"item": _("Registered on"), "value": _day(r.created_at)},
        {"item": _("Registration active"), "value": _yes(r.active)},
    ]  # fmt: skip
    for row in rows:
        row["item"] = str(row["item"])
    return Section(
        "profile",
        _("About you"),
        _("To register you, find you at the station and reach you about visits."),
        [("item", _("What")), ("value", _("What we hold"))],
        rows,
    )


def _roles(resident: Resident, user: User | None) -> Section:
    rows: list[dict[str, Any]] = []
    for flag, label in (("is_elder", _("Elder")), ("is_volunteer", _("Volunteer")), ("is_proxy", _("Family proxy"))):
        if getattr(resident, flag):
            rows.append({"role": str(label), "area": resident.home_region.name})
    if user is not None:
        for role in active_roles(user):
            rows.append({"role": str(role.get_role_display()), "area": role.region.name})
    return Section(
        "roles", _("Your roles"), _("To know what you may do here."), [("role", _("Role")), ("area", _("Area"))], rows
    )


def _circumstances(resident: Resident) -> Section:
    r = resident
    rows = [
        {"item": str(_("Lives alone")), "value": _yes(r.lives_alone)},
        {"item": str(_("Disability")), "value": str(r.get_disability_display())},
        {"item": str(_("Low-income family (dibao)")), "value": _yes(r.low_income)},
        {"item": str(_("Lost their only child")), "value": _yes(r.lost_only_child)},
        {"item": str(_("Widowed with no children")), "value": _yes(r.childless_widowed)},
        {"item": str(_("Barred from serving until")), "value": _day(r.barred_until)},
    ]
    return Section(
        "circumstances",
        _("Your circumstances"),
        _("Sensitive: decides free service for people in hardship. Only station staff of your area see it."),
        [("item", _("What")), ("value", _("What we hold"))],
        rows,
    )


def _relatives(resident: Resident) -> Section:
    rows = []
    links = Relationship.objects.filter(Q(resident=resident) | Q(relative=resident)).select_related(
        "resident", "relative"
    )
    for link in links.order_by("created_at", "pk"):
        if link.resident_id == resident.pk:
            other, how = (
                link.relative,
                _("%(name)s is your %(kind)s")
                % {
                    "name": link.relative.name,
                    "kind": link.get_kind_display(),
                },
            )
        else:
            if not link.is_proxy:
                continue  # the inverse row of one already listed
            other, how = link.resident, _("you act for %(name)s") % {"name": link.resident.name}
        rows.append(
            {
                "person": other.name,
                "relation": str(how),
                "proxy": _yes(link.is_proxy),
                "consent": f"{_day(link.consent_recorded_at)} {link.consent_note}".strip(),
                "ended": _day(link.ended_at),
            }
        )
    return Section(
        "relatives",
        _("Relatives and proxies"),
        _("Relatives may receive your hours; a proxy may ask for help and confirm visits for you, with your consent."),
        [
            ("person", _("Person")),
            ("relation", _("Relation")),
            ("proxy", _("Acts as proxy")),
            ("consent", _("Consent recorded")),
            ("ended", _("Ended")),
        ],
        rows,
    )


def _needs(resident: Resident) -> Section:
    rows = [
        {
            "when": _day(n.window_start),
            "service": n.item.name,
            "place": n.address,
            "notes": n.notes,
            "status": str(n.get_status_display()),
        }
        for n in Need.objects.filter(elder=resident).select_related("item").order_by("-window_start", "-pk")
    ]
    return Section(
        "needs",
        _("Help you asked for"),
        _("To find a volunteer and send them to the right place."),
        [
            ("when", _("When")),
            ("service", _("Service")),
            ("place", _("Place")),
            ("notes", _("Notes")),
            ("status", _("Status")),
        ],
        rows,
    )


def _visits(resident: Resident) -> Section:
    visits = Visit.objects.filter(volunteer=resident).select_related("need__item", "need__region")
    rows = [
        {
            "when": _day(v.check_in_at or v.need.window_start),
            "service": v.need.item.name,
            "community": v.need.region.name,
            "minutes": v.credited_minutes or 0,
            "status": str(v.get_status_display()),
        }
        for v in visits.order_by("-need__window_start", "-pk")
    ]
    return Section(
        "visits",
        _("Visits you made as a volunteer"),
        _("To credit your hours, and as the record of the service (check-in time and place)."),
        [
            ("when", _("When")),
            ("service", _("Service")),
            ("community", _("Community")),
            ("minutes", _("Minutes credited")),
            ("status", _("Status")),
        ],
        rows,
    )


def _ledger(resident: Resident) -> Section:
    rows: list[dict[str, Any]] = []
    for account in Account.objects.filter(resident=resident).order_by("kind"):
        b = balance(account, just_read=True)
        rows.append(
            {
                "when": "",
                "what": str(_("Balance of %(account)s") % {"account": account.get_kind_display()}),
                "minutes": b.posted,
                "balance": b.available,
            }
        )
        for line in statement_recent(account, limit=LEDGER_LINES).lines:
            rows.append({"when": _day(line.when), "what": line.what, "minutes": line.minutes, "balance": line.balance})
    return Section(
        "ledger",
        _("Your hours"),
        _("The time bank's accounts: kept for as long as the ledger exists (entries are never changed)."),
        [("when", _("When")), ("what", _("What")), ("minutes", _("Minutes")), ("balance", _("Balance (minutes)"))],
        rows,
    )


def _training(resident: Resident) -> Section:
    rows = [
        {
            "what": str(_("Certificate %(number)s") % {"number": c.number}),
            "detail": str(c.get_track_display()),
            "from": _day(c.valid_from),
            "until": _day(c.valid_until),
        }
        for c in Certificate.objects.filter(holder=resident).order_by("-valid_from")
    ]
    rows += [
        {
            "what": str(_("Course: %(title)s") % {"title": e.session.course.title}),
            "detail": str(e.get_status_display()),
            "from": _day(e.session.starts_at),
            "until": "",
        }
        for e in Enrolment.objects.filter(resident=resident).select_related("session__course").order_by("-queued_at")
    ]
    return Section(
        "training",
        _("Training and certificates"),
        _("Some services need a certificate."),
        [("what", _("What")), ("detail", _("Detail")), ("from", _("From")), ("until", _("Until"))],
        rows,
    )


def _rewards(resident: Resident) -> Section:
    rows = [
        {"what": str(_("%(level)s stars") % {"level": s.level}), "when": _day(s.reached_on)}
        for s in StarLevelReached.objects.filter(person=resident, voided_at__isnull=True).order_by("level")
    ]
    rows += [
        {"what": h.title, "when": str(h.year)}
        for h in Honour.objects.filter(person=resident, withdrawn_at__isnull=True).order_by("-year")
    ]
    rows += [
        {"what": str(_("Team: %(team)s") % {"team": m.team.name}), "when": _day(m.joined_on)}
        for m in TeamMember.objects.filter(resident=resident).select_related("team").order_by("joined_on")
    ]
    return Section(
        "rewards",
        _("Star levels, honours and teams"),
        _("To recognise your service."),
        [("what", _("What")), ("when", _("When"))],
        rows,
    )


def _notifications(resident: Resident) -> Section:
    rows = [
        {"when": _day(n.created_at), "text": n.text}
        for n in Notification.objects.filter(recipient=resident).order_by("-created_at")[:NOTIFICATIONS]
    ]
    return Section(
        "notifications",
        _("Messages sent to you"),
        _("To tell you about visits, hours and answers."),
        [("when", _("When")), ("text", _("Message"))],
        rows,
    )


def _views(resident: Resident) -> Section:
    rows = []
    for v in PersonalDataView.objects.filter(resident=resident).select_related("viewer").order_by("-viewed_at"):
        roles = ", ".join(str(r.get_role_display()) for r in active_roles(v.viewer)) or str(_("operator"))
        rows.append({"when": _day(v.viewed_at), "who": v.viewer.first_name, "role": roles, "purpose": v.purpose})
    return Section(
        "views",
        _("Staff who looked at your full data"),
        _("Every time staff see your full ID number it is recorded, so you can check."),
        [("when", _("When")), ("who", _("Who")), ("role", _("Role")), ("purpose", _("Purpose"))],
        rows,
    )


def _requests(resident: Resident) -> Section:
    rows = [
        {
            "asked": _day(c.created_at),
            "field": str(c.get_field_display()),
            "new_value": c.new_value,
            "reason": c.reason,
            "status": str(c.get_status_display()),
            "answer": c.decision_note,
        }
        for c in CorrectionRequest.objects.filter(resident=resident).order_by("-created_at", "-pk")
    ]
    return Section(
        "corrections",
        _("Your correction requests"),
        _("What you asked us to correct, and our answer."),
        [
            ("asked", _("Asked on")),
            ("field", _("What")),
            ("new_value", _("Correct value")),
            ("reason", _("Why")),
            ("status", _("Status")),
            ("answer", _("Answer")),
        ],
        rows,
    )


def data_held(resident: Resident) -> list[Section]:
    """Every section of what is held about ``resident`` (the caller has checked the reader may see it)."""
    user = User.objects.filter(resident=resident).first()
    return [
        _profile(resident),
        _roles(resident, user),
        _circumstances(resident),
        _relatives(resident),
        _needs(resident),
        _visits(resident),
        _ledger(resident),
        _training(resident),
        _rewards(resident),
        _notifications(resident),
        _views(resident),
        _requests(resident),
    ]


def data_held_json(resident: Resident) -> dict[str, Any]:
    """The download: every section's rows under their keys, with when it was made."""
    departure = Departure.objects.filter(resident=resident).first()
    return {
        "format": "timebank.my-data/1",
        "generated_at": timezone.now().isoformat(),
        "resident_id": resident.pk,
        "left_on": departure.left_on.isoformat() if departure else None,
        "sections": {s.key: s.rows for s in data_held(resident)},
    }
