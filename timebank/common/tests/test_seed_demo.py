"""seed_demo and demo_logins: the demo city is complete, valid, deterministic, and its logins work.

The tests load the "tiny" scale (one community per town, 60 volunteers, 90 elders); the small and city
scales run the same steps with larger counts.
"""

from __future__ import annotations

import io
from typing import Any

import phonenumbers
import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import RequestFactory

from timebank.common.management.demo import DEMO_PASSWORD, DEMO_REFERENCE_DATE, SCALES, discover_steps, fingerprint
from timebank.people import idnumber
from timebank.people.demo import DEMO_ACCOUNTS, elder_age_weights, share_65_of_60, volunteer_age_weights
from timebank.people.models import Relationship, Resident, StaffRole, User
from timebank.people.selectors import eligibility
from timebank.places.models import Region, Site


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(seed: int = 7, **options: Any) -> str:
    out = io.StringIO()
    call_command("seed_demo", scale="tiny", seed=seed, stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_the_tiny_city_is_complete_valid_and_its_logins_work() -> None:
    """One load (each load takes a few seconds), then every check on it."""
    output = seed()
    check_every_town_has_communities_stations_and_a_centre()
    check_residents_have_valid_id_numbers_phones_and_homes()
    check_volunteers_may_serve_elders_are_60_plus_minors_do_not_serve(output)
    check_some_elders_are_priority_and_have_proxies_with_consent()
    check_demo_logins_exist_for_every_role_and_authenticate()
    check_if_empty_is_a_no_op_and_a_second_load_is_refused()


def check_every_town_has_communities_stations_and_a_centre() -> None:
    towns = Region.objects.filter(level=Region.Level.TOWN)
    assert towns.count() == 23
    for town in towns:
        communities = Region.objects.filter(parent=town, level=Region.Level.COMMUNITY)
        assert communities.exists(), town.name
        for community in communities:
            assert community.code.startswith(town.code) and len(community.code) == 12
            assert Site.objects.filter(region=community, kind=Site.Kind.STATION).count() == 1
        centre = Site.objects.get(region=town, kind=Site.Kind.CENTRE)
        assert centre.name == f"{town.name}综合养老服务中心"
        assert centre.phone.startswith("0760-")
    assert Site.objects.filter(kind=Site.Kind.REDCROSS).count() == SCALES["tiny"].redcross_points
    assert Site.objects.filter(kind=Site.Kind.CARE_HOME).count() == SCALES["tiny"].care_homes


def check_residents_have_valid_id_numbers_phones_and_homes() -> None:
    residents = list(Resident.objects.select_related("home_region"))
    assert len(residents) > 150
    for r in residents:
        parsed = idnumber.parse(r.id_number)  # raises on a bad checksum, shape or date
        assert parsed.birth_date == r.birth_date and parsed.sex == r.sex and parsed.area_code == "442000"
        assert r.id_hash == idnumber.keyed_hash(r.id_number)
        assert r.home_region.level == Region.Level.COMMUNITY
        assert r.languages and set(r.languages) <= {"yue", "cmn", "other"}
        if r.phone:
            assert phonenumbers.is_valid_number(phonenumbers.parse(r.phone))
        assert 1 <= len(r.name) <= 4
    phones = [r.phone for r in residents if r.phone]
    assert len(phones) == len(set(phones))


def check_volunteers_may_serve_elders_are_60_plus_minors_do_not_serve(output: str) -> None:
    volunteers = Resident.objects.filter(is_volunteer=True)
    assert volunteers.count() == SCALES["tiny"].volunteers + 1  # + the demo volunteer
    for v in volunteers:
        assert eligibility(v).may_serve, v.name
        assert 18 <= eligibility(v, on=DEMO_REFERENCE_DATE).age <= 75
    elders = Resident.objects.filter(is_elder=True)
    assert elders.count() == SCALES["tiny"].elders + 1  # + the demo elder
    assert all(eligibility(e).age >= 60 and eligibility(e).may_be_elder for e in elders)
    minors = Resident.objects.filter(is_volunteer=False, is_elder=False, is_proxy=False)
    assert minors.count() == SCALES["tiny"].minors
    assert all(not eligibility(m).may_serve for m in minors)
    assert "minors (volunteer role refused)=2" in output


def check_some_elders_are_priority_and_have_proxies_with_consent() -> None:
    elders = list(Resident.objects.filter(is_elder=True))
    priority = [e for e in elders if eligibility(e).is_priority]
    assert 0 < len(priority) < len(elders) // 3
    proxies = Relationship.objects.filter(is_proxy=True)
    assert proxies.exists()
    for rel in proxies.select_related("resident", "relative"):
        assert rel.kind == "child" and rel.resident.is_elder and rel.relative.is_proxy
        assert rel.consent_recorded_at is not None and rel.consent_note
        assert Relationship.objects.filter(resident=rel.relative, relative=rel.resident, kind="parent").exists()


def test_the_same_seed_gives_the_same_city_and_another_seed_another(db: None) -> None:
    prints = []
    for value in (7, 7, 8):
        with transaction.atomic():
            seed(value)
            prints.append((fingerprint(), list(Resident.objects.order_by("id_hash").values_list("name", "id_hash"))))
            transaction.set_rollback(True)
        assert not Resident.objects.exists()
    assert prints[0] == prints[1]
    assert prints[0][0] != prints[2][0]
    assert prints[0][1] != prints[2][1]


def check_demo_logins_exist_for_every_role_and_authenticate() -> None:
    request = RequestFactory().post("/login/")
    users = {}
    for account in DEMO_ACCOUNTS:
        user = authenticate(request, username=account.phone, password=DEMO_PASSWORD)
        assert isinstance(user, User), account.role
        assert user.first_name == account.name
        users[account.key] = user
    roles = {key: {r.role for r in StaffRole.objects.filter(user=u)} for key, u in users.items()}
    assert roles["city_supervisor"] == {"city_supervisor"}
    assert roles["town_admin"] == {"town_admin"}
    assert StaffRole.objects.get(user=users["town_admin"]).region.name == "石岐街道"
    assert StaffRole.objects.get(user=users["social_worker"]).site.kind == Site.Kind.STATION  # type: ignore[union-attr]
    assert {StaffRole.objects.get(user=users[k]).organisation for k in ("partner_redcross", "partner_youth")} == {
        "中山市红十字会",
        "共青团中山市委",
    }
    volunteer, proxy, elder = (users[k].resident for k in ("volunteer", "proxy", "elder"))
    assert volunteer is not None and volunteer.is_volunteer
    assert elder is not None and elder.is_elder and eligibility(elder).is_priority
    assert proxy is not None and proxy.is_proxy
    assert Relationship.objects.get(resident=elder, relative=proxy).is_proxy
    # one town admin and one social worker in every town
    assert StaffRole.objects.filter(role="town_admin").values("region").distinct().count() == 23
    assert StaffRole.objects.filter(role="social_worker").values("site__region__parent").distinct().count() == 23

    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    assert DEMO_PASSWORD in text
    assert all(a.phone in text and a.name in text for a in DEMO_ACCOUNTS)
    assert "(missing)" not in text and "(password changed)" not in text


def check_if_empty_is_a_no_op_and_a_second_load_is_refused() -> None:
    before = fingerprint()
    assert "demo data not loaded" in seed(if_empty=True)
    with pytest.raises(CommandError):
        seed()
    assert fingerprint() == before


def test_demo_logins_on_an_empty_database_says_so(db: None) -> None:
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    assert "no demo accounts" in out.getvalue()


def test_age_pyramid_follows_the_census_shares() -> None:
    elders = elder_age_weights()
    assert set(elders) == set(range(60, 101))
    assert sum(elders.values()) == pytest.approx(1.0)
    assert share_65_of_60() == pytest.approx(8.58 / 12.35)  # Guangdong: Zhongshan's 65+ was not published
    assert sum(elders[a] for a in range(60, 65)) == pytest.approx(1 - 8.58 / 12.35)
    bands = [sum(elders[a] for a in range(lo, lo + 5)) for lo in range(60, 100, 5)]
    assert bands == sorted(bands, reverse=True)  # declines band by band
    assert 0.08 < sum(elders[a] for a in range(80, 101)) < 0.2
    volunteers = volunteer_age_weights()
    assert set(volunteers) == set(range(18, 76)) and sum(volunteers.values()) == pytest.approx(1.0)
    retirees = sum(volunteers[a] for a in range(60, 70))
    assert 0.1 < retirees < 0.35


def test_scales_and_steps() -> None:
    city = SCALES["city"]
    assert city.volunteers >= 20_000 and city.elders >= 30_000
    assert 200 <= 23 + city.communities + city.redcross_points + city.care_homes <= 260
    names = [s.name for s in discover_steps()]
    assert names.index("places.communities") < names.index("people.volunteers") < names.index("people.families")
