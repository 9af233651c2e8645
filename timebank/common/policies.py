"""The catalogue of policy keys: what each means and what values it accepts.

The values themselves are data (:class:`timebank.common.models.PolicyValue`, first loaded by the
migration ``common/0002_default_policies`` from the defaults of DOMAIN.md). This module only says which
keys exist and checks a proposed value, so a supervisor cannot set "abc" as an age.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


def _int_between(low: int, high: int) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high

    return check


def _list_of(allowed: set[str]) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return isinstance(value, list) and all(isinstance(v, str) and v in allowed for v in value)

    return check


@dataclass(frozen=True)
class PolicySpec:
    key: str
    label: str | Promise
    check: Callable[[Any], bool]
    unit: str | Promise = ""


RELATIVE_KINDS = {"spouse", "parent", "child", "grandparent", "grandchild", "sibling", "friend"}

SPECS: dict[str, PolicySpec] = {
    spec.key: spec
    for spec in [
        PolicySpec("people.serve_min_age", _("Minimum age to serve alone"), _int_between(14, 30), _("years")),
        PolicySpec(
            "people.elder_min_age", _("Minimum age to be registered as an elder"), _int_between(50, 80), _("years")
        ),
        PolicySpec("people.proxy_min_age", _("Minimum age to act as a proxy"), _int_between(16, 30), _("years")),
        PolicySpec("people.redeem_min_age", _("Minimum age to redeem stored hours"), _int_between(50, 80), _("years")),
        PolicySpec(
            "people.priority_alone_min_age",
            _("Free service: minimum age for people living alone"),
            _int_between(60, 100),
            _("years"),
        ),
        PolicySpec(
            "people.priority_disabled_min_age",
            _("Free service: minimum age for disabled people in low-income families"),
            _int_between(50, 100),
            _("years"),
        ),
        PolicySpec(
            "ledger.balance_cap_minutes",
            _("Most hours one person may hold"),
            _int_between(60, 10_000_000),
            _("minutes"),
        ),
        PolicySpec(
            "ledger.rounding_step_minutes", _("Service time is rounded to steps of"), _int_between(1, 120), _("minutes")
        ),
        PolicySpec("ledger.rounding_mode", _("Rounding of service time"), lambda v: v in ("nearest", "down", "up")),
        PolicySpec(
            "ledger.expiry_days", _("Days after which unspent hours expire (0 = never)"), _int_between(0, 36_500)
        ),
        PolicySpec(
            "ledger.group_hours_donation_only",
            _("Hours earned in groups may only be donated"),
            lambda v: isinstance(v, bool),
        ),
        PolicySpec(
            "care.checkin_max_distance_m",
            _("Check-in works within this distance of the visit place"),
            _int_between(50, 5000),
            _("metres"),
        ),
        PolicySpec("care.code_max_failures", _("Wrong card codes allowed per visit"), _int_between(1, 20)),
        PolicySpec(
            "care.max_minutes_per_day",
            _("Most service time one volunteer may record in a day"),
            _int_between(60, 24 * 60),
            _("minutes"),
        ),
        PolicySpec(
            "care.guarantee_after_hours",
            _("A redemption nobody takes may go to the guarantee after"),
            _int_between(1, 24 * 30),
            _("hours"),
        ),
        PolicySpec(
            "people.transfer_relative_kinds",
            _("Relations that may receive transferred hours"),
            _list_of(RELATIVE_KINDS),
        ),
        PolicySpec(
            "matching.walk_radius_m",
            _("Volunteers are suggested within this distance of a need (the 15-minute circle)"),
            _int_between(100, 50_000),
            _("metres"),
        ),
        PolicySpec(
            "matching.score_weights",
            _("Weights of distance, rating, continuity, fairness, reliability and preference in the ranking"),
            lambda v: (
                isinstance(v, dict)
                and set(v) == {"distance", "rating", "continuity", "fairness", "reliability", "preference"}
                and all(isinstance(x, (int, float)) and not isinstance(x, bool) and 0 <= x <= 10 for x in v.values())
            ),
        ),
        PolicySpec(
            "matching.fairness_days", _("Fairness counts the hours served in the last"), _int_between(1, 365), _("days")
        ),
        PolicySpec(
            "matching.reliability_days",
            _("Reliability counts no-shows and cancellations in the last"),
            _int_between(1, 730),
            _("days"),
        ),
        PolicySpec(
            "matching.max_visits_per_day",
            _("Most visits the daily dispatch gives one volunteer"),
            _int_between(1, 8),
        ),
        PolicySpec(
            "rewards.star_thresholds_hours",
            _("Hours of recorded service for star levels 1 to 5 (星级志愿者)"),
            lambda v: (
                isinstance(v, list)
                and len(v) == 5
                and all(isinstance(x, int) and not isinstance(x, bool) and 0 < x <= 100_000 for x in v)
                and v == sorted(set(v))
            ),
            _("hours"),
        ),
        PolicySpec(
            "rewards.falsification_bar_years",
            _("Years a person is barred from star levels, honours and rewards after falsified hours"),
            _int_between(1, 3),
            _("years"),
        ),
        PolicySpec(
            "teams.festival_coefficients",
            _("Bonus coefficient for group events on festival days (festival name: coefficient; others 1.0)"),
            lambda v: (
                isinstance(v, dict)
                and all(
                    isinstance(k, str)
                    and 0 < len(k) <= 32
                    and isinstance(x, (int, float))
                    and not isinstance(x, bool)
                    and 0.5 <= x <= 5
                    for k, x in v.items()
                )
            ),
        ),
        PolicySpec(
            "training.expiry_warning_days",
            _("Certificates ending within this many days are shown as expiring"),
            _int_between(1, 365),
            _("days"),
        ),
        PolicySpec(
            "matching.walk_speed_m_per_min",
            _("Walking speed assumed between visits"),
            _int_between(20, 1000),
            _("metres per minute"),
        ),
        PolicySpec(
            "privacy.retention_years_after_leaving",
            _("Years the personal data of someone who left is kept before it is pseudonymised"),
            _int_between(0, 30),
            _("years"),
        ),
        PolicySpec(
            "privacy.audit_retention_years",
            _("Years the records of who viewed a person's data are kept"),
            _int_between(1, 30),
            _("years"),
        ),
    ]
}


def spec_for(key: str) -> PolicySpec | None:
    return SPECS.get(key)
