"""The Django admin: for operators and city supervisors only; in Chinese, read-only, scoped like the selectors;
people shown by name with ID numbers and phones masked; every look at one person's form audited."""

import datetime as dt

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from timebank.care import services as care
from timebank.people import services
from timebank.people.models import PersonalDataView, Resident
from timebank.people.selectors import residents_visible_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_towns(make_resident, community, other_community):
    return (
        make_resident(
            name="莲峰居民", age=70, id_number="11010519491231002X", home_region=community, phone="13812345678"
        ),
        make_resident(name="坦洲居民", age=70, home_region=other_community, phone="13987654321"),
    )


# ------------------------------------------------------------------------------------ who may use /admin/


@pytest.mark.parametrize("who", ["town_admin", "social_worker", "partner_admin"])
def test_staff_of_an_area_are_refused(client, request, who, two_towns):
    client.force_login(request.getfixturevalue(who))
    response = client.get("/admin/people/resident/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    response = client.get(response["Location"])
    assert response.status_code == 403  # signed in: refused, not offered a second login form
    assert "莲峰居民" not in response.content.decode()


def test_partner_admin_gets_no_elder_data_from_any_admin_page(client, partner_admin, make_resident, site):
    """The defect: a partner organisation's administrator read visits with elders' names, every dispute and
    family links through the admin. Now no admin page (list or form) is open to them."""
    worker = services.staff_create(
        actor=None, phone="13900009999", name="悦来社工", password="Tb-test-pass-2026", role="social_worker", site=site
    )
    volunteer = make_resident(name="莲峰志愿者", age=30, roles=["volunteer"])
    elder = make_resident(name="莲峰奶奶", age=88, roles=["elder"])
    services.relationship_create(actor=None, resident=elder, relative=volunteer, kind="grandchild")
    begin = (timezone.now() + dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    [need] = care.need_publish(
        actor=worker, elder=elder, item="chat", window_start=begin, window_end=begin + dt.timedelta(hours=2)
    )
    visit = care.visit_assign(actor=worker, need=need, volunteer=volunteer)
    client.force_login(partner_admin)
    for model, model_admin in admin.site._registry.items():
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls = [reverse(f"{name}_changelist")]
        urls += [
            reverse(f"{name}_change", args=[pk]) for pk in model._default_manager.values_list("pk", flat=True)[:20]
        ]
        for url in urls:
            response = client.get(url, follow=True)
            body = response.content.decode()
            assert response.status_code == 403, url
            assert elder.name not in body, url
    assert visit.pk  # the data the partner must not see does exist


def test_anonymous_visitors_go_to_the_sites_login_page(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("web:login") + "?next=/admin/")


@pytest.mark.parametrize("who", ["superuser", "supervisor"])
def test_operators_and_city_supervisors_see_everyone_masked_by_name(client, request, who, two_towns):
    client.force_login(request.getfixturevalue(who))
    response = client.get("/admin/people/resident/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "莲峰居民" in body and "坦洲居民" in body
    assert "1101**********002X" in body and two_towns[0].id_number not in body
    assert "13812345678" not in body and "13987654321" not in body
    assert 'lang="zh-hans"' in body  # the admin speaks Chinese by default


def test_changelist_search_by_name(client, supervisor, two_towns):
    client.force_login(supervisor)
    body = client.get("/admin/people/resident/", {"q": "莲峰"}).content.decode()
    assert "莲峰居民" in body and "坦洲居民" not in body


# ------------------------------------------------------------------------------ masked, audited forms


def test_resident_form_is_read_only_masked_and_audited(client, supervisor, two_towns):
    mine, _ = two_towns
    client.force_login(supervisor)
    before = PersonalDataView.objects.filter(viewer=supervisor, resident=mine, kind="record").count()
    response = client.get(reverse("admin:people_resident_change", args=[mine.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "1101**********002X" in body and mine.id_number not in body
    assert "138****5678" in body and "13812345678" not in body
    assert 'name="_save"' not in body
    after = PersonalDataView.objects.filter(viewer=supervisor, resident=mine, kind="record")
    assert after.count() == before + 1 and after.latest("pk").purpose == "admin: resident form"
    # the list is not a look at one record: no row
    client.get("/admin/people/resident/")
    assert PersonalDataView.objects.filter(viewer=supervisor).count() == before + 1


def test_add_change_delete_refused(client, superuser, two_towns):
    mine, _ = two_towns
    client.force_login(superuser)
    assert client.get(reverse("admin:people_resident_add")).status_code == 403
    assert client.post(reverse("admin:people_resident_change", args=[mine.pk]), {"name": "改名"}).status_code == 403
    assert client.get(reverse("admin:people_resident_delete", args=[mine.pk])).status_code == 403
    assert client.post(reverse("admin:people_resident_delete", args=[mine.pk]), {"post": "yes"}).status_code == 403
    mine.refresh_from_db()
    assert mine.name == "莲峰居民"
    assert not PersonalDataView.objects.exists()  # refused requests showed nothing, so recorded nothing


def test_user_accounts_listed_by_name_with_the_login_masked(client, superuser, make_resident):
    resident = make_resident(name="登录居民", age=40, phone="13811112222")
    account = services.login_create(actor=None, resident=resident, password="Tb-test-pass-2026")
    assert str(account) == "登录居民"  # never the login name (a phone number)
    client.force_login(superuser)
    body = client.get("/admin/people/user/").content.decode()
    assert "登录居民" in body and "138****2222" in body and "13811112222" not in body
    response = client.get(reverse("admin:people_user_change", args=[account.pk]))
    assert response.status_code == 200 and "13811112222" not in response.content.decode()
    assert PersonalDataView.objects.filter(viewer=superuser, resident=resident, kind="record").count() == 1
    # read-only: nobody sets another person's password or flags here
    assert client.get(reverse("admin:auth_user_password_change", args=[account.pk])).status_code in (403, 404)
    assert (
        client.post(reverse("admin:people_user_change", args=[account.pk]), {"is_superuser": "on"}).status_code == 403
    )
    account.refresh_from_db()
    assert not account.is_superuser


def test_accounts_staff_roles_are_for_operators_only(client, supervisor, superuser):
    client.force_login(supervisor)
    assert client.get("/admin/people/staffrole/").status_code == 403
    assert client.get("/admin/people/user/").status_code == 403
    assert client.get("/admin/people/personaldataview/").status_code == 200  # the audit is the supervisor's job
    client.force_login(superuser)
    assert client.get("/admin/people/staffrole/").status_code == 200


def test_staff_roles_show_the_person_by_name(client, superuser, town_admin):
    client.force_login(superuser)
    body = client.get("/admin/people/staffrole/").content.decode()
    assert "石岐管理员" in body and town_admin.username not in body


# ----------------------------------------------------------- the scope still holds inside every admin list


@pytest.mark.parametrize("who", ["town_admin", "partner_admin"])
def test_every_admin_queryset_follows_the_scope_rule(request, who, two_towns, make_resident, community_b):
    """Were the site ever opened wider, each list is still read through the scope selectors: a town admin
    gets no other town's person, a partner no elder (defence in depth under ``has_permission``)."""
    user = request.getfixturevalue(who)
    make_resident(name="悦来长者", age=88, roles=["elder"], home_region=community_b)
    rf = RequestFactory().get("/admin/")
    rf.user = user
    visible = residents_visible_to(user).values("pk")
    forbidden = set(Resident.objects.exclude(pk__in=visible).values_list("pk", flat=True))
    assert forbidden
    for model, model_admin in admin.site._registry.items():
        people_fields = [
            f.name for f in model._meta.fields if f.is_relation and f.related_model is Resident and f.concrete
        ]
        if model is Resident:
            assert not set(model_admin.get_queryset(rf).values_list("pk", flat=True)) & forbidden
        for name in people_fields:
            shown = set(model_admin.get_queryset(rf).values_list(f"{name}_id", flat=True))
            assert not shown & forbidden, (model.__name__, name)
