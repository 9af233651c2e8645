"""people.services: registration, roles, relatives and proxies, logins, staff; every bad input refused cleanly."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import override

from timebank.common.errors import DomainError, NotAllowed, OutOfScope
from timebank.people import errors, idnumber, services
from timebank.people.models import PersonalDataView, Relationship, Resident, StaffRole, User
from timebank.people.selectors import eligibility, resident_search
from timebank.people.tests.factories import birth_date_for_age
from timebank.places.errors import BadCoordinates

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def counts():
    return (
        Resident.objects.count(),
        Relationship.objects.count(),
        User.objects.count(),
        StaffRole.objects.count(),
        PersonalDataView.objects.count(),
    )


def refused(exc_type, code, english, fn, **kwargs):
    """Call ``fn(**kwargs)``; assert it raises ``exc_type`` with ``code`` and the English text, writing nothing."""
    before = counts()
    with pytest.raises(exc_type) as info:
        fn(**kwargs)
    assert counts() == before, "a refused call must write nothing"
    err = info.value
    assert err.code == code
    with override("en"):
        assert english in err.text, err.text
        en_code = err.as_dict()["code"]
    with override("zh-hans"):
        assert err.as_dict()["code"] == en_code == code
        assert err.text  # renders in Chinese too (translations arrive with the .po files)
    return err


def register(community, **kwargs):
    kwargs.setdefault("actor", None)
    kwargs.setdefault("name", "张伟明")
    kwargs.setdefault("id_number", idnumber.make("442000", dt.date(1950, 5, 17), 231))
    kwargs.setdefault("home_region", community)
    return services.resident_register(**kwargs)


# --- registration -------------------------------------------------------------------------------------


def test_register_derives_birth_date_and_sex(community):
    r = register(community, phone="138 0013 8000", languages=["yue", "cmn", "yue"])
    r.refresh_from_db()
    assert r.birth_date == dt.date(1950, 5, 17)
    assert r.sex == "M"  # sequence 231: odd
    assert r.phone == "+8613800138000"
    assert r.languages == ["yue", "cmn"]
    assert (r.lat, r.lon) == (community.lat, community.lon)  # home coordinates default to the community's
    assert r.name_initials == "zwm"
    female = register(community, name="李芳", id_number=idnumber.make("442000", dt.date(1990, 1, 2), 12))
    assert female.sex == "F"


def test_register_accepts_matching_typed_birth_date(community):
    r = register(community, birth_date=dt.date(1950, 5, 17))
    assert r.birth_date == dt.date(1950, 5, 17)


@pytest.mark.parametrize(
    ("raw", "english"),
    [
        ("12345", "17 digits followed by a digit or X"),
        ("44200019500517231A", "17 digits followed by a digit or X"),
        ("442000195005172310", "does not match"),  # wrong check character (the right one is not 0)
        ("44200019500230231" + idnumber.check_char("44200019500230231"), "birth date in it does not exist"),
    ],
)
def test_invalid_id_number_refused(community, raw, english):
    assert idnumber.make("442000", dt.date(1950, 5, 17), 231)[-1] != "0"
    refused(
        errors.InvalidIdNumber,
        "people.invalid_id_number",
        english,
        register,
        community=community,
        id_number=raw,
    )


def test_id_number_with_future_birth_date_refused(community):
    future = idnumber.make("442000", TODAY + dt.timedelta(days=1), 11)
    refused(
        errors.InvalidIdNumber,
        "people.invalid_id_number",
        "lies in the future",
        register,
        community=community,
        id_number=future,
    )


@pytest.mark.parametrize("spelling", ["lower", "spaces", "same"])
def test_duplicate_id_number_refused_however_written(community, spelling):
    number = "11010519491231002X"
    register(community, id_number=number)
    other = {"lower": number.lower(), "spaces": " 110105 19491231 002X ", "same": number}[spelling]
    refused(
        errors.DuplicateIdNumber,
        "people.duplicate_id_number",
        "already registered",
        register,
        community=community,
        name="王五",
        id_number=other,
    )


def test_typed_birth_date_in_future_refused(community):
    refused(
        errors.BirthDateInFuture,
        "people.birth_date_future",
        "lies in the future",
        register,
        community=community,
        birth_date=TODAY + dt.timedelta(days=3),
    )


def test_typed_birth_date_not_matching_id_refused(community):
    err = refused(
        errors.BirthDateMismatch,
        "people.birth_date_mismatch",
        "does not match the one in the ID number (1950-05-17)",
        register,
        community=community,
        birth_date=dt.date(1950, 5, 18),
    )
    assert err.field == "birth_date"


@pytest.mark.parametrize("phone", ["12345", "1380013800", "phone", "+1 555"])
def test_malformed_phone_refused(community, phone):
    refused(
        errors.InvalidPhone,
        "people.invalid_phone",
        "phone number is not valid",
        register,
        community=community,
        phone=phone,
    )


def test_landline_with_area_code_accepted(community):
    assert register(community, phone="0760-88881234").phone == "+8676088881234"


def test_other_bad_fields_refused(community, town):
    refused(
        errors.InvalidName, "people.invalid_name", "Enter the person's name", register, community=community, name="  "
    )
    refused(
        errors.InvalidLanguage,
        "people.invalid_language",
        "Unknown language: fr",
        register,
        community=community,
        languages=["fr"],
    )
    refused(
        errors.HomeNotCommunity, "people.home_not_community", "must be a village or community", register, community=town
    )
    refused(
        errors.InvalidFlag, "people.invalid_flag", "Unknown value bad", register, community=community, disability="bad"
    )
    refused(
        BadCoordinates,
        "places.bad_coordinates",
        "position is not valid",
        register,
        community=community,
        lat=95.0,
        lon=113.0,
    )
    refused(
        errors.InvalidFlag, "people.invalid_flag", "Unknown value pilot", register, community=community, roles=["pilot"]
    )


def test_messages_are_lazy_translatable_strings():
    for cls in (errors.InvalidIdNumber, errors.DuplicateIdNumber, errors.SelfRelation, errors.NotEligibleForRole):
        assert isinstance(cls.message, Promise)
    assert isinstance(errors.ID_REASONS["checksum"], Promise)


# --- roles and eligibility at registration --------------------------------------------------------------


def test_twelve_year_old_volunteer_alone_refused_with_reason(community):
    child = idnumber.make("442000", birth_date_for_age(12), 44)
    err = refused(
        errors.NotEligibleForRole,
        "people.not_eligible_for_role",
        "小明 cannot be registered as a volunteer: under 18: may serve only in a group led by a guardian or teacher",
        register,
        community=community,
        name="小明",
        id_number=child,
        roles=["volunteer"],
    )
    assert isinstance(err, NotAllowed)
    # the reason stays lazy: it is translated when shown, not in whatever language the service ran in
    assert isinstance(err.params["reason"], Promise)
    # the same child may be registered without the role
    assert register(community, name="小明", id_number=child).is_volunteer is False


def test_elder_and_proxy_roles_need_the_age(community):
    refused(
        errors.NotEligibleForRole,
        "people.not_eligible_for_role",
        "too young to be registered as an elder",
        register,
        community=community,
        id_number=idnumber.make("442000", birth_date_for_age(59), 2),
        roles=["elder"],
    )
    refused(
        errors.NotEligibleForRole,
        "people.not_eligible_for_role",
        "too young to act for someone else",
        register,
        community=community,
        id_number=idnumber.make("442000", birth_date_for_age(17), 2),
        roles=["proxy"],
    )
    r = register(community, roles=["elder", "volunteer"])
    assert (r.is_elder, r.is_volunteer, r.is_proxy) == (True, True, False)


def test_grant_role_checks_eligibility_and_scope(make_resident, town_admin, other_town_admin):
    teen = make_resident(age=16)
    refused(
        errors.NotEligibleForRole,
        "people.not_eligible_for_role",
        "under 18",
        services.resident_grant_role,
        actor=town_admin,
        resident=teen,
        role="volunteer",
    )
    adult = make_resident(age=30)
    refused(
        OutOfScope,
        "out_of_scope",
        "outside the area",
        services.resident_grant_role,
        actor=other_town_admin,
        resident=adult,
        role="volunteer",
    )
    services.resident_grant_role(actor=town_admin, resident=adult, role="volunteer")
    adult.refresh_from_db()
    assert adult.is_volunteer


def test_barred_volunteer_grant_refused(make_resident):
    r = make_resident(age=30)
    Resident.objects.filter(pk=r.pk).update(barred_until=TODAY + dt.timedelta(days=30))
    r.refresh_from_db()
    refused(
        errors.NotEligibleForRole,
        "people.not_eligible_for_role",
        "barred from serving until",
        services.resident_grant_role,
        actor=None,
        resident=r,
        role="volunteer",
    )


# --- search, encryption, masking --------------------------------------------------------------------------


def test_pinyin_initials_find_the_name(community, superuser):
    zwm = register(community)
    register(community, name="李芳", id_number=idnumber.make("442000", dt.date(1990, 1, 2), 12))
    assert list(resident_search(superuser, "zwm")) == [zwm]
    assert list(resident_search(superuser, "ZhangWei")) == [zwm]
    assert list(resident_search(superuser, "伟明")) == [zwm]
    assert list(resident_search(superuser, "xyz")) == []


def test_exact_id_search_by_keyed_hash(community, superuser):
    number = "11010519491231002X"
    r = register(community, id_number=number)
    assert list(resident_search(superuser, "11010519491231002x")) == [r]
    assert list(resident_search(superuser, "110105 19491231 002X")) == [r]
    assert list(resident_search(superuser, "110105194912310021")) == []
    assert r.id_hash == idnumber.keyed_hash(number)


def test_id_number_is_encrypted_at_rest(community):
    number = "11010519491231002X"
    r = register(community, id_number=number)
    with connection.cursor() as cur:
        cur.execute("SELECT id_number, id_hash FROM people_resident WHERE id = %s", [r.pk])
        stored, stored_hash = cur.fetchone()
    assert number not in stored
    assert number.lower() not in stored.lower()
    assert stored_hash != number and number not in stored_hash
    assert Resident.objects.get(pk=r.pk).id_number == number  # decrypts on read


def test_masking_shows_first_and_last_four(community):
    r = register(community, id_number="11010519491231002X")
    assert r.id_number_masked == "1101**********002X"
    assert "19491231" not in r.id_number_masked


# --- relatives and proxies ------------------------------------------------------------------------------


def test_relationship_writes_both_directions_with_inverse_kinds(make_resident, social_worker):
    mother = make_resident(name="陈桂英", age=82)
    son = make_resident(name="陈志强", age=55)
    row = services.relationship_create(
        actor=social_worker, resident=mother, relative=son, kind="child", is_proxy=True, consent_note="站点签字"
    )
    assert (row.resident, row.relative, row.kind, row.is_proxy) == (mother, son, "child", True)
    assert row.consent_recorded_at is not None and row.consent_note == "站点签字"
    inverse = Relationship.objects.get(resident=son, relative=mother)
    assert inverse.kind == "parent" and inverse.is_proxy is False
    son.refresh_from_db()
    assert son.is_proxy
    for kind, inv in [("spouse", "spouse"), ("grandchild", "grandparent"), ("sibling", "sibling")]:
        a, b = make_resident(age=70), make_resident(age=68)
        services.relationship_create(actor=None, resident=a, relative=b, kind=kind)
        assert Relationship.objects.get(resident=b, relative=a).kind == inv


def test_self_relation_refused(make_resident):
    r = make_resident(age=70)
    for is_proxy in (False, True):
        refused(
            errors.SelfRelation,
            "people.self_relation",
            "cannot be their own relative or proxy",
            services.relationship_create,
            actor=None,
            resident=r,
            relative=r,
            kind="spouse",
            is_proxy=is_proxy,
            consent_note="x",
        )


def test_proxy_without_consent_refused(make_resident):
    elder, daughter = make_resident(age=85), make_resident(age=50)
    refused(
        errors.ProxyNeedsConsent,
        "people.proxy_needs_consent",
        "Record how the person agreed",
        services.relationship_create,
        actor=None,
        resident=elder,
        relative=daughter,
        kind="child",
        is_proxy=True,
        consent_note="   ",
    )


def test_minor_proxy_duplicate_and_unknown_kind_refused(make_resident):
    elder, grandson, daughter = make_resident(age=85), make_resident(age=15), make_resident(age=50)
    refused(
        errors.NotEligibleForRole,
        "people.not_eligible_for_role",
        "too young to act for someone else",
        services.relationship_create,
        actor=None,
        resident=elder,
        relative=grandson,
        kind="grandchild",
        is_proxy=True,
        consent_note="口头同意",
    )
    refused(
        errors.InvalidFlag,
        "people.invalid_flag",
        "Unknown value cousin",
        services.relationship_create,
        actor=None,
        resident=elder,
        relative=daughter,
        kind="cousin",
    )
    services.relationship_create(actor=None, resident=elder, relative=daughter, kind="child")
    for a, b in [(elder, daughter), (daughter, elder)]:
        refused(
            errors.RelationExists,
            "people.relation_exists",
            "already linked",
            services.relationship_create,
            actor=None,
            resident=a,
            relative=b,
            kind="child",
        )


def test_relationship_outside_region_refused(make_resident, other_community, social_worker, town_admin):
    elder = make_resident(age=85)
    far = make_resident(age=50, home_region=other_community)
    for actor in (social_worker, town_admin):
        refused(
            OutOfScope,
            "out_of_scope",
            "outside the area you look after",
            services.relationship_create,
            actor=actor,
            resident=elder,
            relative=far,
            kind="child",
        )


# --- scope of every write ---------------------------------------------------------------------------------


def test_register_outside_region_refused_for_each_role(
    community, other_community, other_town_admin, social_worker, partner_admin, make_resident
):
    number = idnumber.make("442000", dt.date(1960, 1, 1), 7)
    for actor in (other_town_admin, partner_admin):
        refused(
            OutOfScope, "out_of_scope", "outside the area", register, community=community, actor=actor, id_number=number
        )
    refused(
        OutOfScope,
        "out_of_scope",
        "outside the area",
        register,
        community=other_community,
        actor=social_worker,
        id_number=number,
    )
    resident = make_resident(age=30, phone="13800138001")
    login = services.login_create(actor=None, resident=resident, password="x-pass-1234")
    refused(
        OutOfScope, "out_of_scope", "outside the area", register, community=community, actor=login, id_number=number
    )
    assert register(community, actor=social_worker, id_number=number).registered_by == social_worker


def test_set_flags_scope_and_values(make_resident, town_admin, other_town_admin, partner_admin):
    r = make_resident(age=75)
    for actor in (other_town_admin, partner_admin):
        refused(
            OutOfScope,
            "out_of_scope",
            "outside the area",
            services.resident_set_flags,
            actor=actor,
            resident=r,
            lives_alone=True,
        )
    refused(
        errors.InvalidFlag,
        "people.invalid_flag",
        "Unknown value total",
        services.resident_set_flags,
        actor=town_admin,
        resident=r,
        disability="total",
    )
    services.resident_set_flags(actor=town_admin, resident=r, disability="semi", low_income=True)
    r.refresh_from_db()
    assert (r.disability, r.low_income, r.lives_alone) == ("semi", True, False)


def test_personal_data_view_is_audited_and_scoped(make_resident, town_admin, other_town_admin, partner_admin):
    r = make_resident(age=70)
    for actor in (other_town_admin, partner_admin):
        refused(
            OutOfScope, "out_of_scope", "outside the area", services.personal_data_view_record, viewer=actor, resident=r
        )
    assert services.personal_data_view_record(viewer=town_admin, resident=r, purpose="核对") == r.id_number
    assert PersonalDataView.objects.filter(viewer=town_admin, resident=r, purpose="核对").count() == 1


# --- logins and staff -------------------------------------------------------------------------------------


def test_login_create_uses_national_number_and_refuses_reuse(make_resident):
    r = make_resident(age=30, phone="+86 138-0013-8000")
    user = services.login_create(actor=None, resident=r, password="x-pass-1234")
    assert user.username == "13800138000" and user.resident == r and not user.is_staff
    refused(
        errors.PhoneInUse,
        "people.phone_in_use",
        "already used",
        services.login_create,
        actor=None,
        resident=r,
        password="y",
    )
    no_phone = make_resident(age=30)
    refused(
        errors.InvalidPhone,
        "people.invalid_phone",
        "not valid",
        services.login_create,
        actor=None,
        resident=no_phone,
        password="y",
    )


def test_staff_create_binds_social_worker_to_site(site, make_staff):
    user = make_staff("social_worker", site=site)
    role = StaffRole.objects.get(user=user)
    assert role.site == site and role.region == site.region and user.is_staff


@pytest.mark.parametrize(
    ("role", "where", "code", "english"),
    [
        ("social_worker", "none", "people.staff_role_invalid", "a social worker belongs to a site"),
        ("town_admin", "city", "people.staff_role_invalid", "looks after one town or street"),
        ("town_admin", "community", "people.staff_role_invalid", "looks after one town or street"),
        ("city_supervisor", "town", "people.staff_role_invalid", "looks after the whole city"),
        ("partner_admin", "town-no-org", "people.staff_role_invalid", "name the partner organisation"),
        ("janitor", "town", "people.invalid_flag", "Unknown value janitor"),
    ],
)
def test_staff_create_refuses_roles_that_do_not_fit(city, town, community, role, where, code, english):
    region = {"none": None, "city": city, "community": community, "town": town, "town-no-org": town}[where]
    exc = errors.InvalidFlag if code == "people.invalid_flag" else errors.StaffRoleInvalid
    refused(
        exc,
        code,
        english,
        services.staff_create,
        actor=None,
        phone="13912340000",
        name="某人",
        password="x-pass-1234",
        role=role,
        region=region,
    )


def test_staff_create_outside_actor_region_refused(town_admin, other_site, site, other_town, partner_admin, make_staff):
    refused(
        OutOfScope,
        "out_of_scope",
        "outside the area",
        services.staff_create,
        actor=town_admin,
        phone="13912340001",
        name="某人",
        password="x-pass-1234",
        role="social_worker",
        site=other_site,
    )
    refused(
        OutOfScope,
        "out_of_scope",
        "outside the area",
        services.staff_create,
        actor=partner_admin,
        phone="13912340001",
        name="某人",
        password="x-pass-1234",
        role="social_worker",
        site=site,
    )
    make_staff("social_worker", site=site, actor=town_admin, phone="13912340001")
    refused(
        errors.PhoneInUse,
        "people.phone_in_use",
        "already used",
        services.staff_create,
        actor=None,
        phone="139 1234 0001",
        name="某人",
        password="x-pass-1234",
        role="town_admin",
        region=other_town,
    )


def test_elder_mode_is_remembered_on_the_account(make_resident):
    user = services.login_create(actor=None, resident=make_resident(age=70, phone="13800138000"), password="x-pass-1")
    services.user_set_elder_mode(user=user, on=True)
    assert User.objects.get(pk=user.pk).elder_mode is True


def test_every_refusal_is_a_domain_error():
    for name in dir(errors):
        obj = getattr(errors, name)
        if isinstance(obj, type) and issubclass(obj, DomainError) and obj.__module__ == errors.__name__:
            assert obj.code.startswith("people."), name
            assert isinstance(obj.message, Promise), name


def test_eligibility_of_registered_resident_is_consistent(make_resident):
    r = make_resident(age=40)
    e = eligibility(r)
    assert e.age == 40 and e.may_serve and not e.may_redeem and not e.is_priority


@pytest.mark.parametrize("password", ["short1", "12345678901", "password123"])
def test_weak_passwords_refused(make_resident, password):
    r = make_resident(age=30, phone="13800138000")
    refused(
        errors.WeakPassword,
        "people.weak_password",
        "Choose a stronger password",
        services.login_create,
        actor=None,
        resident=r,
        password=password,
    )
    refused(
        errors.WeakPassword,
        "people.weak_password",
        "Choose a stronger password",
        services.staff_create,
        actor=None,
        phone="13912340002",
        name="某人",
        password=password,
        role="city_supervisor",
        region=r.home_region.parent.parent,
    )


def test_staff_without_a_name_refused(city):
    refused(
        errors.InvalidName,
        "people.invalid_name",
        "Enter the person's name",
        services.staff_create,
        actor=None,
        phone="13912340003",
        name=" ",
        password="x-pass-1234",
        role="city_supervisor",
        region=city,
    )
