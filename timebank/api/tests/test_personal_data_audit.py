# ruff: noqa: F811 - the care fixtures are imported into this module and used as arguments
"""The API's resident record: a staff caller's read is recorded in the same request; lists are not."""

from __future__ import annotations

import pytest

from timebank.api.tests.conftest import world  # noqa: F401 - fixture
from timebank.care.tests.conftest import login, person  # noqa: F401 - fixtures
from timebank.people.models import PersonalDataView

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/people/residents/{pk}", "/people/residents/{pk}/eligibility"])
def test_a_staff_read_of_one_record_is_recorded(api, token, world, path):
    t = token(world.worker, "read")
    response = api.get(path.format(pk=world.elder.pk), token=t)
    assert response.status_code == 200
    [row] = PersonalDataView.objects.filter(viewer=world.worker, resident=world.elder)
    assert row.kind == "record" and row.purpose.startswith("api: resident")
    assert "phone" not in response.json()  # the API never carries phone numbers


def test_lists_and_own_reads_are_not_recorded(api, token, world):
    assert api.get("/people/residents", token=token(world.worker, "read")).status_code == 200
    assert not PersonalDataView.objects.exists()
    # a proxy reading their own record, or their mother's, is not a staff read
    t = token(world.son, "read")
    assert api.get(f"/people/residents/{world.son.resident_id}", token=t).status_code == 200
    assert api.get(f"/people/residents/{world.elder.pk}", token=t).status_code == 200
    assert not PersonalDataView.objects.exists()


def test_a_refused_read_records_nothing(api, token, world, make_staff, other_site):
    stranger = make_staff("social_worker", site=other_site, name="坦洲社工")
    assert api.get(f"/people/residents/{world.elder.pk}", token=token(stranger, "read")).status_code == 404
    assert not PersonalDataView.objects.exists()
