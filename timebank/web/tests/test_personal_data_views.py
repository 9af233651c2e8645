# ruff: noqa: F811 - the care fixtures are imported into this module and used as arguments
"""Personal data on the pages: phones masked like ID numbers, shown in full only on purpose and audited;
every staff look at a resident's page is recorded; a volunteer sees what serving needs, no phone, no ID."""

from __future__ import annotations

import pytest

from timebank.care.tests.conftest import (  # noqa: F401 - fixtures
    assigned,
    login,
    person,
    publish,
    world,
)
from timebank.people.models import PersonalDataView, Resident

pytestmark = pytest.mark.django_db

PHONE = "+8613812345678"


@pytest.fixture
def elder(world) -> Resident:
    Resident.objects.filter(pk=world.elder.pk).update(phone=PHONE)
    world.elder.refresh_from_db()
    return world.elder


def _rows(**kw):
    return PersonalDataView.objects.filter(**kw)


def test_the_resident_page_masks_the_phone_and_records_the_look(client, world, elder):
    client.force_login(world.worker)
    body = client.get(f"/station/residents/{elder.pk}/").content.decode()
    assert "138****5678" in body and "13812345678" not in body
    assert elder.id_number not in body
    [row] = _rows(viewer=world.worker, resident=elder)
    assert (row.kind, row.purpose) == ("record", "station: resident page")


def test_the_full_phone_is_shown_on_purpose_and_recorded(client, world, elder):
    client.force_login(world.worker)
    response = client.post(f"/station/residents/{elder.pk}/phone/")
    assert response.status_code == 200
    body = response.content.decode()
    assert PHONE in body and 'data-testid="show-phone"' not in body
    assert _rows(viewer=world.worker, resident=elder, kind="phone").count() == 1
    # a GET does not reveal it
    assert client.get(f"/station/residents/{elder.pk}/phone/").status_code == 405
    assert _rows(kind="phone").count() == 1


def test_another_towns_worker_neither_sees_nor_reveals(client, world, elder, make_staff, other_site):
    stranger = make_staff("social_worker", site=other_site, name="坦洲社工")
    client.force_login(stranger)
    assert client.get(f"/station/residents/{elder.pk}/").status_code == 404
    response = client.post(f"/station/residents/{elder.pk}/phone/")
    assert response.status_code == 404 and PHONE not in response.content.decode()
    assert not _rows(viewer=stranger).exists()


def test_a_volunteer_on_the_visit_sees_name_and_address_not_phone_or_id(client, world, elder, assigned):
    """The rule: a volunteer serving an elder sees her name, the need's address, time and notes; never her
    phone or ID number (they call the station, whose number is on the elder's card and the station pages)."""
    visit = assigned()
    client.force_login(world.vol)
    for url in ("/volunteer/", "/volunteer/schedule/", f"/volunteer/visits/{visit.pk}/"):
        body = client.get(url).content.decode()
        assert elder.name in body, url
        assert "13812345678" not in body and "138****5678" not in body, url
        assert elder.id_number not in body and elder.id_number_masked not in body, url
    assert not _rows(viewer=world.vol).exists()  # a volunteer is not staff: nothing to audit, nothing shown


def test_people_are_named_not_numbered(client, world, elder):
    """A user account reads as the person's name wherever it is printed (never the login phone number)."""
    assert str(world.son) == "梁志明" and world.son.username not in str(world.son)
    client.force_login(world.son)
    body = client.get("/").content.decode()
    assert "梁志明" in body and world.son.username not in body


def test_the_rewards_page_of_a_person_is_a_recorded_look(client, world, town_admin):
    client.force_login(town_admin)
    volunteer = world.vol.resident
    assert client.get(f"/rewards/people/{volunteer.pk}/").status_code == 200
    [row] = _rows(viewer=town_admin, resident=volunteer)
    assert (row.kind, row.purpose) == ("record", "rewards: person page")
