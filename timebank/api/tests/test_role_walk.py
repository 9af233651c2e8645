"""Every role walks every admin list and every API list, and finds nothing outside its area.

A city with two towns (石岐街道 and 坦洲镇), each with an elder, her son as proxy, a volunteer, a social
worker and a town administrator; each town has a confirmed and rated visit, a disputed visit and an open
need. The roles walk:

- every registered admin model's changelist (and the admin index): only operators (superusers) and city
  supervisors get in (``people.selectors.may_use_admin``); everyone else is sent to the login page or
  refused, and the page they get names nobody;
- every GET list of the API's OpenAPI schema (paths without parameters), with a token of every scope:
  every row they get is checked against the people of the other town, by name, by region code and by the
  ids under keys that name a person.

Town-bound roles live in 石岐 (town A), so 坦洲 (town B) is "elsewhere" for each of them; a partner
organisation's administrator (area: town A) sees volunteers, never an elder. The city supervisor and the
operator see the whole city (both towns) and are checked to be shown both (the walk is not empty).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from timebank.api.services import token_create
from timebank.care import services as care
from timebank.care.models import Visit
from timebank.conftest import PASSWORD
from timebank.people import services as people
from timebank.people.models import Resident, User
from timebank.places.models import Region, Site

pytestmark = pytest.mark.django_db

#: JSON keys whose integer value is a resident's id.
PERSON_KEYS = {"elder_id", "volunteer_id", "resident_id", "holder_id", "person_id", "relative_id", "recipient_id"}


@dataclass
class Town:
    key: str
    region: Region
    site: Site
    elder: Resident
    proxy: Resident
    volunteer: Resident
    users: dict[str, User] = field(default_factory=dict)

    @property
    def people(self) -> list[Resident]:
        return [self.elder, self.proxy, self.volunteer]


@dataclass
class City:
    a: Town
    b: Town
    users: dict[str, User]  # role -> user; town-bound roles are of town A


def _login(resident: Resident) -> User:
    return people.login_create(actor=None, resident=resident, password=PASSWORD)


def _town(key: str, label: str, community: Region, site: Site, make_resident: Any, make_staff: Any) -> Town:
    elder = make_resident(name=f"{label}长者", age=84, roles=["elder"], home_region=community, phone=f"1380000{key}001")
    proxy = make_resident(name=f"{label}儿子", age=55, roles=["proxy"], home_region=community, phone=f"1380000{key}002")
    volunteer = make_resident(
        name=f"{label}志愿者", age=30, roles=["volunteer"], home_region=community, phone=f"1380000{key}003"
    )
    people.relationship_create(
        actor=None, resident=elder, relative=proxy, kind="child", is_proxy=True, consent_note="签字"
    )
    town = Town(key, community, site, elder, proxy, volunteer)
    town.users = {
        "elder": _login(elder),
        "proxy": _login(proxy),
        "volunteer": _login(volunteer),
        "social_worker": make_staff("social_worker", site=site, name=f"{label}社工"),
        "town_admin": make_staff("town_admin", region=community.parent, name=f"{label}镇街管理员"),
    }
    worker = town.users["social_worker"]
    start = (timezone.now() + dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    visits = []
    for n in range(2):
        begin = start + dt.timedelta(days=n)
        [need] = care.need_publish(
            actor=worker,
            elder=elder,
            item="chat",
            window_start=begin,
            window_end=begin + dt.timedelta(hours=2),
            payer="government",
        )
        visit = care.visit_assign(actor=worker, need=need, volunteer=volunteer)
        visit = care.visit_check_in(actor=worker, visit=visit, at=begin)
        visits.append(
            care.visit_check_out(actor=town.users["volunteer"], visit=visit, at=begin + dt.timedelta(hours=1))
        )
    confirmed = care.visit_confirm(actor=town.users["proxy"], visit=visits[0])
    care.visit_rate(actor=town.users["proxy"], visit=confirmed, stars=5)
    care.visit_dispute(actor=town.users["proxy"], visit=visits[1], complaint="时间不对")
    begin = start + dt.timedelta(days=5)
    care.need_publish(
        actor=worker, elder=elder, item="chat", window_start=begin, window_end=begin + dt.timedelta(hours=2)
    )
    return town


@pytest.fixture
def city_of_two_towns(
    make_resident: Any,
    make_staff: Any,
    community: Region,
    other_community: Region,
    site: Site,
    other_site: Site,
    supervisor: User,
    superuser: User,
) -> City:
    a = _town("1", "石岐", community, site, make_resident, make_staff)
    b = _town("2", "坦洲", other_community, other_site, make_resident, make_staff)
    users = dict(a.users)
    users["partner_admin"] = make_staff(
        "partner_admin", region=community.parent, name="石岐红会", organisation="石岐红十字会"
    )
    users["city_supervisor"] = supervisor
    users["operator"] = superuser
    return City(a, b, users)


ROLES = (
    "elder",
    "proxy",
    "volunteer",
    "social_worker",
    "town_admin",
    "partner_admin",
    "city_supervisor",
    "operator",
)
CITY_WIDE = {"city_supervisor", "operator"}


def _forbidden(city: City, role: str) -> tuple[set[str], set[int]]:
    """Names and ids a role must never be shown: the other town's people; for a partner, every elder too."""
    if role in CITY_WIDE:
        return set(), set()
    banned = list(city.b.people)
    if role == "partner_admin":
        banned += [city.a.elder]
    return {r.name for r in banned} | {city.b.region.code}, {r.pk for r in banned}


def _person_ids(value: Any) -> Iterator[int]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in PERSON_KEYS and isinstance(inner, int):
                yield inner
            yield from _person_ids(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _person_ids(inner)


def _rows(body: Any) -> list[Any]:
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return list(body["items"])
    if isinstance(body, list):
        return body
    return [body]


# ------------------------------------------------------------------------------------------------ admin


def _changelists() -> list[str]:
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") for model in admin.site._registry
    ]


#: Admin pages for operators only: login accounts, staff roles, webhooks, django-axes' lock-out records and
#: staff authenticator devices.
OPERATORS_ONLY = (
    "/admin/people/user/",
    "/admin/people/staffrole/",
    "/admin/certificates/webhook",
    "/admin/axes/",
    "/admin/otp_totp/",  # staff authenticator devices (django-otp)
)


def _operators_only(url: str) -> bool:
    return url.startswith(OPERATORS_ONLY)


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_list_as_every_role(client: Client, city_of_two_towns: City, role: str) -> None:
    city = city_of_two_towns
    user = city.users[role]
    client.force_login(user)
    names, _ = _forbidden(city, role)
    pages = ["/admin/", *_changelists()]
    assert len(pages) > 40  # every app's admin is registered (the walk is not empty)
    for url in pages:
        response = client.get(url, follow=True)
        body = response.content.decode()
        if role == "operator" or (role in CITY_WIDE and not _operators_only(url)):
            assert response.status_code == 200, url
        elif role in CITY_WIDE:
            assert response.status_code == 403, url  # accounts, staff roles, webhooks, login lock-outs
        else:
            assert response.status_code == 403, url  # sent to the admin's login, which refuses a signed-in person
            assert response.redirect_chain and "/admin/login/" in response.redirect_chain[0][0], url
        leaked = sorted(n for n in names if n in body)
        assert not leaked, (url, leaked)
    if role in CITY_WIDE:  # the city-wide lists do show both towns (the check above would pass on empty pages)
        body = client.get(reverse("admin:care_visit_changelist")).content.decode()
        assert city.a.volunteer.name in body and city.b.volunteer.name in body


def test_the_admin_sends_strangers_to_the_one_login_page(client: Client, city_of_two_towns: City) -> None:
    response = client.get("/admin/care/visit/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("web:login"))
    assert "next=/admin/care/visit/" in response.redirect_chain[-1][0]
    # a forged next= pointing elsewhere is not followed
    response = client.get("/admin/login/", {"next": "https://evil.example/"})
    assert response.status_code == 302 and "evil.example" not in response["Location"]


# -------------------------------------------------------------------------------------------------- API


def _api_lists(client: Client) -> list[str]:
    schema = client.get("/api/v1/openapi.json").json()
    return sorted(path for path, ops in schema["paths"].items() if "get" in ops and "{" not in path)


@pytest.mark.parametrize("role", ROLES)
def test_every_api_list_as_every_role(city_of_two_towns: City, role: str) -> None:
    city = city_of_two_towns
    client = Client()
    secret = token_create(user=city.users[role], name="walk", scopes=("read", "write", "ledger")).secret
    names, ids = _forbidden(city, role)
    paths = _api_lists(client)
    assert {"/api/v1/people/residents", "/api/v1/needs", "/api/v1/visits"} <= set(paths)
    seen: set[str] = set()
    for path in paths:
        response = client.get(path, {"limit": 100}, headers={"Authorization": f"Bearer {secret}"})
        if response.status_code in (400, 403, 404):  # a list this role may not use, or one that needs a filter
            continue
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        if not response["Content-Type"].startswith("application/json"):  # a file (the export): read it as text
            text = response.content.decode("utf-8", "replace")
            leaked = sorted(n for n in names if n in text)
            assert not leaked, (role, path, leaked)
            seen.add(text)
            continue
        for row in _rows(response.json()):
            text = json.dumps(row, ensure_ascii=False)
            seen.add(text)
            leaked = sorted(n for n in names if n in text) + sorted(set(_person_ids(row)) & ids)
            assert not leaked, (role, path, leaked, text[:300])
    everything = "".join(seen)
    if role in CITY_WIDE:  # shown both towns: the walk really reads rows
        assert city.a.elder.name in everything and city.b.elder.name in everything
    elif role in ("social_worker", "town_admin", "elder", "proxy"):
        assert city.a.elder.name in everything


def _records_elsewhere(city: City, role: str) -> dict[str, list[int]]:
    """For each id in a path: the ids of records the role must not read (the other town's; a partner: elders')."""
    from timebank.care.models import Need

    banned = list(city.b.people) + ([city.a.elder] if role == "partner_admin" else [])
    elders = [r for r in banned if r.is_elder]
    return {
        "resident_id": [r.pk for r in banned],
        "need_id": list(Need.objects.filter(elder__in=elders).values_list("pk", flat=True)),
        # a partner sees its volunteers' visits, with the elder hidden (checked by the id and name checks below)
        "visit_id": list(Visit.objects.filter(need__elder=city.b.elder).values_list("pk", flat=True)),
    }


@pytest.mark.parametrize("role", [r for r in ROLES if r not in CITY_WIDE])
def test_every_api_record_of_elsewhere_is_404(city_of_two_towns: City, role: str) -> None:
    """Every GET of one record (``/…/{resident_id}``, ``{need_id}``, ``{visit_id}``) with another area's ids."""
    city = city_of_two_towns
    client = Client()
    secret = token_create(user=city.users[role], name="walk", scopes=("read", "write", "ledger")).secret
    schema = client.get("/api/v1/openapi.json").json()
    names, ids = _forbidden(city, role)
    elsewhere = _records_elsewhere(city, role)
    walked = 0
    for path, ops in schema["paths"].items():
        params = [p["name"] for p in ops.get("get", {}).get("parameters", []) if p["in"] == "path"]
        if len(params) != 1 or params[0] not in elsewhere:
            continue
        for pk in elsewhere[params[0]]:
            url = path.replace("{" + params[0] + "}", str(pk))
            response = client.get(url, headers={"Authorization": f"Bearer {secret}"})
            walked += 1
            assert response.status_code in (403, 404), (role, url, response.status_code)
            body = response.content.decode()
            assert not [n for n in names if n in body], (role, url)
    if role == "partner_admin":  # its volunteer's visit to an elder: readable, without the elder
        visit = Visit.objects.filter(volunteer=city.a.volunteer).first()
        assert visit is not None
        row = client.get(f"/api/v1/visits/{visit.pk}", headers={"Authorization": f"Bearer {secret}"}).json()
        assert row["volunteer_id"] == city.a.volunteer.pk and row["elder_id"] is None
        assert not set(_person_ids(row)) & ids
    assert walked >= 8  # residents (record, eligibility, balance, statement, star level), needs, visits


def test_two_towns_have_their_own_visits(city_of_two_towns: City) -> None:
    """The world is what the walks assume: each town's visits are its own people's."""
    for town in (city_of_two_towns.a, city_of_two_towns.b):
        visits = Visit.objects.filter(need__elder=town.elder)
        assert visits.count() == 2 and set(visits.values_list("volunteer_id", flat=True)) == {town.volunteer.pk}
