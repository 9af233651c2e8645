"""Schedules and profiles through the services; a day's proposal reviewed, edited and accepted, every
assignment made by care.services.visit_assign."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from timebank.care.models import Visit
from timebank.common.errors import OutOfScope
from timebank.matching import errors, services
from timebank.matching.models import Availability, DispatchProposal, ProposalRow

pytestmark = pytest.mark.django_db


def test_availability_set_replaces_and_merges(volunteer):
    v = volunteer(slots=None)
    services.availability_set(
        actor=None, volunteer=v, slots=[(0, "09:00", "11:00"), (0, "10:30", "12:00"), (2, "14:00", "16:00")]
    )
    rows = list(Availability.objects.filter(volunteer=v).values_list("weekday", "start", "end"))
    assert rows == [(0, dt.time(9), dt.time(12)), (2, dt.time(14), dt.time(16))]
    services.availability_set(actor=None, volunteer=v, slots=[])
    assert not Availability.objects.filter(volunteer=v).exists()


@pytest.mark.parametrize(
    "slots",
    [
        [(7, "09:00", "10:00")],
        [(0, "10:00", "09:00")],
        [(0, "nine", "10:00")],
        [(True, "09:00", "10:00")],
        [(0, "09:00")],
    ],
)
def test_bad_schedules_are_refused(volunteer, slots):
    v = volunteer(slots=None)
    with pytest.raises(errors.BadSchedule):
        services.availability_set(actor=None, volunteer=v, slots=slots)
    assert not Availability.objects.filter(volunteer=v).exists()


@pytest.mark.parametrize("radius", [0, -100, "x"])
def test_profile_radius_must_be_positive(volunteer, radius):
    with pytest.raises(errors.BadRadius):
        volunteer(radius_m=radius)


def test_only_the_volunteer_or_their_area_edits_the_schedule(volunteer, other_town_admin, world):
    v = volunteer()
    with pytest.raises(OutOfScope):
        services.availability_set(actor=other_town_admin, volunteer=v, slots=[])
    services.availability_set(actor=world.worker, volunteer=v, slots=[(1, "08:00", "09:00")])
    with pytest.raises(errors.NotAVolunteer):
        services.availability_set(actor=None, volunteer=world.elder, slots=[])


def test_a_day_is_proposed_edited_and_accepted_through_care(world, volunteer, need_at, tomorrow_at, community):
    near = volunteer(north_m=200)
    far = volunteer(north_m=1000)
    n1 = need_at(hour=9)
    n2 = need_at(hour=9, item="grocery")
    n3 = need_at(hour=15)
    proposal = services.proposal_create(actor=world.worker, region=community, day=tomorrow_at().date())
    rows = {r.need_id: r for r in proposal.rows.all()}
    assert proposal.summary["needs"] == 3 and proposal.summary["matched"] == 3
    assert {rows[n1.pk].volunteer_id, rows[n2.pk].volunteer_id} == {near.pk, far.pk}
    assert rows[n3.pk].volunteer_id in {near.pk, far.pk}
    # the social worker leaves the afternoon need out and swaps nothing else
    services.proposal_row_change(actor=world.worker, proposal=proposal, row=rows[n3.pk], included=False)
    result = services.proposal_accept(actor=world.worker, proposal=proposal)
    assert len(result.assigned) == 2 and len(result.skipped) == 1 and not result.refused
    visits = Visit.objects.filter(need__in=[n1, n2, n3])
    assert {(v.need_id, v.volunteer_id) for v in visits} == {
        (n1.pk, rows[n1.pk].volunteer_id),
        (n2.pk, rows[n2.pk].volunteer_id),
    }
    with pytest.raises(errors.ProposalClosed):
        services.proposal_accept(actor=world.worker, proposal=proposal)


def test_rows_the_care_rules_refuse_are_reported(world, volunteer, need_at, tomorrow_at, community):
    from timebank.care import services as care_services

    v = volunteer(north_m=200)
    n1 = need_at(hour=9)
    proposal = services.proposal_create(actor=world.worker, region=community, day=tomorrow_at().date())
    # meanwhile someone books the volunteer by hand for an overlapping need
    n_other = need_at(hour=10)
    care_services.visit_assign(actor=world.worker, need=n_other, volunteer=v)
    result = services.proposal_accept(actor=world.worker, proposal=proposal)
    [row] = result.refused
    assert row.need_id == n1.pk and row.refusal_code == "care.double_booked"
    assert ProposalRow.objects.get(pk=row.pk).outcome == ProposalRow.Outcome.REFUSED
    assert not Visit.objects.filter(need=n1).exists()


def test_a_hand_picked_volunteer_is_checked_by_the_care_rules(world, volunteer, need_at, tomorrow_at, community):
    from timebank.care.errors import NotQualified

    volunteer(north_m=200)
    man = volunteer(north_m=300, sex="M")
    n1 = need_at(hour=9, pref_gender="F")
    proposal = services.proposal_create(actor=world.worker, region=community, day=tomorrow_at().date())
    [row] = proposal.rows.all()
    assert row.need_id == n1.pk
    with pytest.raises(NotQualified):
        services.proposal_row_change(actor=world.worker, proposal=proposal, row=row, volunteer=man)
    row = services.proposal_row_change(actor=world.worker, proposal=proposal, row=row, volunteer=None)
    assert row.volunteer is None and row.changed_by_hand


def test_bad_days_and_areas(world, volunteer, need_at, tomorrow_at, community, other_community, other_town_admin):
    with pytest.raises(errors.NothingToDispatch) as caught:
        services.proposal_create(actor=world.worker, region=community, day=tomorrow_at().date())
    with translation.override("en"):
        assert "nothing to dispatch" in caught.value.text
    with pytest.raises(errors.BadDay):
        services.proposal_create(actor=world.worker, region=community, day="tomorrow")
    with pytest.raises(OutOfScope):
        services.proposal_create(actor=other_town_admin, region=community, day=tomorrow_at().date())
    assert not DispatchProposal.objects.exists()


def test_needs_nobody_can_serve_stay_in_the_proposal_with_a_reason(world, volunteer, need_at, tomorrow_at, community):
    need_at(hour=9)
    proposal = services.proposal_create(actor=world.worker, region=community, day=tomorrow_at().date())
    [row] = proposal.rows.all()
    assert row.volunteer is None and row.reasons == [["nobody", {}]]
    result = services.proposal_accept(actor=world.worker, proposal=proposal)
    assert len(result.skipped) == 1
