"""The database itself refuses bad people data, even when the services are bypassed."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from timebank.people.models import Relationship, Resident, StaffRole

pytestmark = pytest.mark.django_db


def test_relationship_with_oneself_refused_by_orm_bypass(make_resident):
    r = make_resident(age=70)
    with pytest.raises(IntegrityError), transaction.atomic():
        Relationship.objects.create(resident=r, relative=r, kind="spouse")
    assert not Relationship.objects.exists()


def test_relationship_with_oneself_refused_by_raw_sql(make_resident):
    r = make_resident(age=70)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO people_relationship (resident_id, relative_id, kind, is_proxy, consent_note, created_at)"
            " VALUES (%s, %s, 'spouse', %s, '', %s)",
            [r.pk, r.pk, False, timezone.now()],
        )
    assert not Relationship.objects.exists()


def test_proxy_without_consent_refused_by_the_database(make_resident):
    elder, son = make_resident(age=85), make_resident(age=50)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO people_relationship (resident_id, relative_id, kind, is_proxy, consent_note, created_at)"
            " VALUES (%s, %s, 'child', %s, '', %s)",
            [elder.pk, son.pk, True, timezone.now()],
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Relationship.objects.create(resident=elder, relative=son, kind="child", is_proxy=True)
    row = Relationship.objects.create(
        resident=elder, relative=son, kind="child", is_proxy=True, consent_recorded_at=timezone.now()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Relationship.objects.filter(pk=row.pk).update(consent_recorded_at=None)


def test_one_row_per_ordered_pair(make_resident):
    a, b = make_resident(age=70), make_resident(age=40)
    Relationship.objects.create(resident=a, relative=b, kind="child")
    with pytest.raises(IntegrityError), transaction.atomic():
        Relationship.objects.create(resident=a, relative=b, kind="friend")


def test_social_worker_without_site_refused_by_the_database(town_admin, community):
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffRole.objects.create(user=town_admin, role="social_worker", region=community, site=None)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO people_staffrole (user_id, role, region_id, site_id, organisation, active, created_at)"
            " VALUES (%s, 'social_worker', %s, NULL, '', %s, %s)",
            [town_admin.pk, community.pk, True, timezone.now()],
        )
    assert StaffRole.objects.filter(user=town_admin).count() == 1


def test_duplicate_id_hash_and_bad_disability_refused(make_resident):
    r = make_resident(age=70)
    with pytest.raises(IntegrityError), transaction.atomic():
        Resident.objects.filter(pk=make_resident(age=30).pk).update(id_hash=r.id_hash)
    with pytest.raises(IntegrityError), transaction.atomic():
        Resident.objects.filter(pk=r.pk).update(disability="bad")
