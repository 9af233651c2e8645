"""The Django admin: in Chinese, read-only, scoped like the selectors, ID numbers masked."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_towns(make_resident, community, other_community):
    return (
        make_resident(name="莲峰居民", age=70, id_number="11010519491231002X", home_region=community),
        make_resident(name="坦洲居民", age=70, home_region=other_community),
    )


def test_changelist_for_town_admin_lists_only_their_town_and_masks_ids(client, town_admin, two_towns):
    mine, theirs = two_towns
    client.force_login(town_admin)
    response = client.get("/admin/people/resident/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "莲峰居民" in body and "坦洲居民" not in body
    assert "1101**********002X" in body
    assert mine.id_number not in body and theirs.id_number not in body
    assert 'lang="zh-hans"' in body  # the admin speaks Chinese by default


def test_changelist_search_stays_in_scope(client, town_admin, two_towns):
    client.force_login(town_admin)
    body = client.get("/admin/people/resident/", {"q": "居民"}).content.decode()
    assert "莲峰居民" in body and "坦洲居民" not in body


@pytest.mark.parametrize("who", ["superuser", "supervisor"])
def test_city_wide_admin_sees_everyone_masked(client, request, who, two_towns):
    client.force_login(request.getfixturevalue(who))
    body = client.get("/admin/people/resident/").content.decode()
    assert "莲峰居民" in body and "坦洲居民" in body
    assert two_towns[0].id_number not in body


def test_social_worker_and_partner_admin_changelists(client, social_worker, partner_admin, make_resident, community_b):
    make_resident(name="悦来志愿者", age=30, roles=["volunteer"], home_region=community_b)
    elder = make_resident(name="莲峰长者", age=85, roles=["elder"])
    client.force_login(social_worker)
    body = client.get("/admin/people/resident/").content.decode()
    assert "莲峰长者" in body and "悦来志愿者" not in body
    client.force_login(partner_admin)
    body = client.get("/admin/people/resident/").content.decode()
    assert "悦来志愿者" in body and "莲峰长者" not in body
    assert elder.name not in body


def test_detail_page_is_read_only_masked_and_scoped(client, town_admin, two_towns):
    mine, theirs = two_towns
    client.force_login(town_admin)
    response = client.get(reverse("admin:people_resident_change", args=[mine.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "1101**********002X" in body and mine.id_number not in body
    assert 'name="_save"' not in body
    # another town's resident does not exist for this admin (redirect to the admin index with a message)
    response = client.get(reverse("admin:people_resident_change", args=[theirs.pk]))
    assert response.status_code == 302


def test_add_change_delete_refused(client, town_admin, superuser, two_towns):
    mine, _ = two_towns
    for user in (town_admin, superuser):
        client.force_login(user)
        assert client.get(reverse("admin:people_resident_add")).status_code == 403
        assert client.post(reverse("admin:people_resident_change", args=[mine.pk]), {"name": "改名"}).status_code == 403
        assert client.get(reverse("admin:people_resident_delete", args=[mine.pk])).status_code == 403
        assert client.post(reverse("admin:people_resident_delete", args=[mine.pk]), {"post": "yes"}).status_code == 403
    mine.refresh_from_db()
    assert mine.name == "莲峰居民"


def test_region_admin_scoped(client, social_worker, community, other_community):
    client.force_login(social_worker)
    body = client.get("/admin/places/region/").content.decode()
    assert "莲峰社区" in body and "坦洲村" not in body and "坦洲镇" not in body


def test_residents_without_staff_flag_cannot_enter_admin(client, make_resident):
    from timebank.people import services

    user = services.login_create(
        actor=None, resident=make_resident(age=30, phone="13800138000"), password="x-pass-1234"
    )
    client.force_login(user)
    response = client.get("/admin/people/resident/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_roles_and_audit_only_for_superusers(client, town_admin, superuser):
    client.force_login(town_admin)
    assert client.get("/admin/people/staffrole/").status_code == 403
    assert client.get("/admin/people/personaldataview/").status_code == 403
    assert client.get("/admin/people/user/").status_code == 403
    client.force_login(superuser)
    assert client.get("/admin/people/staffrole/").status_code == 200


def test_relationship_admin_never_reveals_people_out_of_scope(
    client, partner_admin, town_admin, make_resident, community_b, other_community
):
    from timebank.people import services

    volunteer = make_resident(name="悦来志愿者", age=30, roles=["volunteer"], home_region=community_b)
    grandma = make_resident(name="悦来奶奶", age=88, roles=["elder"], home_region=community_b)
    far_son = make_resident(name="坦洲儿子", age=50, home_region=other_community)
    services.relationship_create(actor=None, resident=grandma, relative=volunteer, kind="grandchild")
    services.relationship_create(actor=None, resident=grandma, relative=far_son, kind="child")
    client.force_login(partner_admin)
    body = client.get("/admin/people/relationship/").content.decode()
    assert "悦来奶奶" not in body  # a partner sees volunteers, never elders, not even through a link
    client.force_login(town_admin)
    body = client.get("/admin/people/relationship/").content.decode()
    assert "悦来奶奶" in body and "悦来志愿者" in body and "坦洲儿子" not in body
