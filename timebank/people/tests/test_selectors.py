"""people.selectors: eligibility from age, flags and versioned policy; data scope for every role."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.translation import override

from timebank.common.services import policy_set
from timebank.people import services
from timebank.people.models import Relationship, Resident, StaffRole
from timebank.people.selectors import (
    age_on,
    can_manage_region,
    can_manage_resident,
    can_see_resident,
    eligibility,
    is_city_supervisor,
    is_staff_member,
    regions_visible_to,
    resident_search,
    residents_visible_to,
)


@pytest.fixture(autouse=True)
def _english():
    """These tests compare the English wording of reasons; Chinese is covered by test_translations."""
    with override("en"):
        yield


pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 6, 1)


# --- age and eligibility ----------------------------------------------------------------------------------


def test_age_on_birthday_boundaries():
    assert age_on(dt.date(1966, 6, 1), DAY) == 60
    assert age_on(dt.date(1966, 6, 2), DAY) == 59
    assert age_on(dt.date(1960, 2, 29), dt.date(2025, 2, 28)) == 64
    assert age_on(dt.date(1960, 2, 29), dt.date(2025, 3, 1)) == 65


def born(age, *, on=DAY):
    """Born exactly ``age`` years before ``on``."""
    return on.replace(year=on.year - age)


@pytest.mark.parametrize(
    ("age", "flags", "priority"),
    [
        (80, {"lives_alone": True}, True),
        (92, {"lives_alone": True}, True),
        (79, {"lives_alone": True}, False),
        (80, {}, False),
        (70, {"disability": "semi", "low_income": True}, True),
        (60, {"disability": "full", "low_income": True}, True),
        (70, {"disability": "semi"}, False),
        (70, {"low_income": True}, False),
        (70, {}, False),
        (65, {"lost_only_child": True}, True),
        (72, {"childless_widowed": True}, True),
        (59, {"disability": "full", "low_income": True, "lives_alone": True}, False),
    ],
)
def test_priority_free_service(make_resident, age, flags, priority):
    r = make_resident(birth=born(age), **flags)
    e = eligibility(r, on=DAY)
    assert e.age == age
    assert e.is_priority is priority
    assert bool(e.priority_reasons) is priority


def test_priority_reasons_say_why(make_resident):
    r = make_resident(birth=born(85), lives_alone=True, disability="semi", low_income=True)
    reasons = [str(x) for x in eligibility(r, on=DAY).priority_reasons]
    assert reasons == ["aged 80 or over and living alone", "disabled or semi-disabled in a low-income family"]


def test_redeem_from_sixty(make_resident):
    assert eligibility(make_resident(birth=born(59)), on=DAY).may_redeem is False
    assert eligibility(make_resident(birth=born(60)), on=DAY).may_redeem is True
    sixty_tomorrow = make_resident(birth=born(60) + dt.timedelta(days=1))
    assert eligibility(sixty_tomorrow, on=DAY).may_redeem is False
    assert eligibility(sixty_tomorrow, on=DAY + dt.timedelta(days=1)).may_redeem is True


def test_serve_from_eighteen_and_not_while_barred(make_resident):
    assert eligibility(make_resident(birth=born(17)), on=DAY).may_serve is False
    adult = make_resident(birth=born(18))
    assert eligibility(adult, on=DAY).may_serve is True
    Resident.objects.filter(pk=adult.pk).update(barred_until=DAY)
    adult.refresh_from_db()
    e = eligibility(adult, on=DAY)
    assert e.may_serve is False
    assert [str(x) for x in e.serve_reasons] == ["barred from serving until 2026-06-01"]
    assert eligibility(adult, on=DAY + dt.timedelta(days=1)).may_serve is True  # the bar has run out


def test_inactive_resident_may_neither_serve_nor_redeem(make_resident):
    r = make_resident(birth=born(70))
    Resident.objects.filter(pk=r.pk).update(active=False)
    r.refresh_from_db()
    e = eligibility(r, on=DAY)
    assert not e.may_serve and not e.may_redeem


def test_policy_change_applies_from_its_effective_date_only(make_resident):
    r = make_resident(birth=born(62))
    change = dt.date(2026, 7, 1)
    policy_set(actor=None, key="people.redeem_min_age", value=65, effective_from=change, allow_past=True)
    assert eligibility(r, on=DAY).may_redeem is True
    assert eligibility(r, on=change - dt.timedelta(days=1)).may_redeem is True
    assert eligibility(r, on=change).may_redeem is False
    assert eligibility(r, on=dt.date(2029, 6, 1)).may_redeem is True  # 65 by then


def test_policy_change_in_the_future_leaves_today_alone(make_resident, supervisor):
    today = timezone.localdate()
    r = make_resident(age=17)
    assert eligibility(r).may_serve is False
    policy_set(actor=supervisor, key="people.serve_min_age", value=16, effective_from=today + dt.timedelta(days=10))
    assert eligibility(r).may_serve is False
    assert eligibility(r, on=today + dt.timedelta(days=10)).may_serve is True


def test_priority_age_policy_is_data(make_resident):
    r = make_resident(birth=born(76), lives_alone=True)
    assert eligibility(r, on=DAY).is_priority is False
    policy_set(actor=None, key="people.priority_alone_min_age", value=75, effective_from=DAY, allow_past=True)
    e = eligibility(r, on=DAY)
    assert e.is_priority is True
    assert [str(x) for x in e.priority_reasons] == ["aged 75 or over and living alone"]


# --- scope for every role ---------------------------------------------------------------------------------


@pytest.fixture
def people(make_resident, community, community_b, other_community):
    """a1: elder in the site's community; a2: volunteer elsewhere in the same town; b1, b2: the other town."""
    return {
        "a1": make_resident(name="张伟明", age=82, roles=["elder"], home_region=community),
        "a2": make_resident(name="张伟民", age=30, roles=["volunteer"], phone="13800138000", home_region=community_b),
        "b1": make_resident(name="赵文敏", age=25, roles=["volunteer"], home_region=other_community),
        "b2": make_resident(name="周婉梅", age=90, roles=["elder"], home_region=other_community),
    }


@pytest.fixture
def resident_user(people):
    services.relationship_create(actor=None, resident=people["a2"], relative=people["a1"], kind="grandparent")
    return services.login_create(actor=None, resident=people["a2"], password="x-pass-1234")


EXPECTED = {
    # actor: (visible, manageable)
    "superuser": ({"a1", "a2", "b1", "b2"}, {"a1", "a2", "b1", "b2"}),
    "supervisor": ({"a1", "a2", "b1", "b2"}, {"a1", "a2", "b1", "b2"}),
    "town_admin": ({"a1", "a2"}, {"a1", "a2"}),
    "other_town_admin": ({"b1", "b2"}, {"b1", "b2"}),
    "social_worker": ({"a1"}, {"a1"}),
    "partner_admin": ({"a2"}, set()),
    "resident_user": ({"a1", "a2"}, set()),
    "anonymous": (set(), set()),
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_scope_of_every_role(request, people, who):
    actor = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    visible, manageable = EXPECTED[who]
    names = {v.pk: k for k, v in people.items()}
    assert {names[r.pk] for r in residents_visible_to(actor)} == visible
    assert {k for k, r in people.items() if can_see_resident(actor, r)} == visible
    assert {k for k, r in people.items() if can_manage_resident(actor, r)} == manageable
    # search: "zw" matches all four names' initials, but only within the scope
    assert {names[r.pk] for r in resident_search(actor, "zw")} == visible
    a1_number = people["a1"].id_number
    assert [names[r.pk] for r in resident_search(actor, a1_number)] == (["a1"] if "a1" in visible else [])


def test_search_by_phone_digits_within_scope(people, town_admin, other_town_admin):
    assert list(resident_search(town_admin, "0013 8000")) == [people["a2"]]
    assert list(resident_search(other_town_admin, "00138000")) == []


def test_an_eighteen_letter_name_query_is_not_taken_for_an_id_number(people, superuser, make_resident):
    long_name = make_resident(name="欧阳伟明振华", age=40)  # pinyin: ouyangweimingzhenhua
    assert list(resident_search(superuser, "ouyangweimingzhenh")) == [long_name]  # 18 letters
    assert set(resident_search(superuser, "zhangweimin")) == {people["a1"], people["a2"]}


def test_inactive_role_sees_nothing(people, town_admin):
    StaffRole.objects.filter(user=town_admin).update(active=False)
    town_admin.refresh_from_db()
    assert not residents_visible_to(town_admin).exists()
    assert not can_manage_resident(town_admin, people["a1"])
    assert not is_staff_member(town_admin)


def test_ended_relationship_is_no_longer_visible(people, resident_user):
    Relationship.objects.filter(resident=people["a2"]).update(ended_at=timezone.now())
    assert set(residents_visible_to(resident_user)) == {people["a2"]}


def test_region_scope(
    city, town, other_town, community, superuser, supervisor, town_admin, social_worker, partner_admin
):
    assert can_manage_region(supervisor, other_town) and can_manage_region(superuser, city)
    assert can_manage_region(town_admin, town) and can_manage_region(town_admin, community)
    assert not can_manage_region(town_admin, other_town) and not can_manage_region(town_admin, city)
    assert can_manage_region(social_worker, community) and not can_manage_region(social_worker, town)
    assert not can_manage_region(partner_admin, community)  # partners never change residents or places
    assert set(regions_visible_to(town_admin)) == {town, community}
    assert set(regions_visible_to(social_worker)) == {community}
    assert regions_visible_to(supervisor).count() == regions_visible_to(superuser).count() == 25
    assert not regions_visible_to(AnonymousUser()).exists()
    assert is_city_supervisor(supervisor) and is_city_supervisor(superuser) and not is_city_supervisor(town_admin)


def test_services_refuse_out_of_scope_actors_for_every_role(
    people, town_admin, social_worker, partner_admin, resident_user
):
    from timebank.common.errors import OutOfScope

    b1 = people["b1"]
    for actor in (town_admin, social_worker, partner_admin, resident_user):
        before = Resident.objects.filter(pk=b1.pk).values().get()
        with pytest.raises(OutOfScope):
            services.resident_set_flags(actor=actor, resident=b1, lives_alone=True)
        with pytest.raises(OutOfScope):
            services.resident_grant_role(actor=actor, resident=b1, role="proxy")
        with pytest.raises(OutOfScope):
            services.personal_data_view_record(viewer=actor, resident=b1)
        assert Resident.objects.filter(pk=b1.pk).values().get() == before
