"""people.privacy: correction requests (asked by the person, answered by station staff of their area),
departures and pseudonymisation. Every refusal has its code and writes nothing."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from timebank.common.errors import OutOfScope
from timebank.conftest import PASSWORD
from timebank.people import idnumber
from timebank.people import privacy as p
from timebank.people import services as people_services
from timebank.people.errors import (
    CorrectionDecided,
    CorrectionNotYours,
    CorrectionReasonRequired,
    CorrectionTooMany,
    CorrectionValueRequired,
    DecisionNoteRequired,
    InvalidFlag,
    InvalidLanguage,
    InvalidPhone,
    PersonLeft,
    PhoneInUse,
)
from timebank.people.models import CorrectionRequest, Departure, Relationship, Resident, User


@pytest.fixture
def person(make_resident):
    r = make_resident(name="林小红", phone="13912345678", roles=("volunteer",), address="莲峰路1号")
    people_services.login_create(actor=None, resident=r, password=PASSWORD)
    return r


@pytest.fixture
def stranger(make_resident):
    r = make_resident(name="王路人", phone="13987654321")
    people_services.login_create(actor=None, resident=r, password=PASSWORD)
    return r


def login_of(resident: Resident) -> User:
    return User.objects.get(resident=resident)


def ask(resident: Resident, **kw) -> CorrectionRequest:
    kw.setdefault("field", "address")
    kw.setdefault("new_value", "莲峰路2号")
    kw.setdefault("reason", "搬家了")
    return p.correction_request_create(actor=login_of(resident), resident=resident, **kw)


# --------------------------------------------------------------------------------------------- asking


def test_the_person_asks_and_the_request_waits(person):
    req = ask(person)
    assert req.status == "open" and req.asked_by == login_of(person) and req.new_value == "莲峰路2号"


def test_someone_else_may_not_ask_for_a_person(person, stranger, social_worker):
    for actor in (login_of(stranger), social_worker):
        with pytest.raises(CorrectionNotYours) as exc:
            p.correction_request_create(actor=actor, resident=person, field="name", new_value="X", reason="r")
        assert exc.value.code == "people.correction_not_yours" and exc.value.status == 403
    assert not CorrectionRequest.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "reason", "error"),
    [
        ("address", "莲峰路2号", "", CorrectionReasonRequired),
        ("address", "莲峰路2号", "   ", CorrectionReasonRequired),
        ("address", "莲峰路2号", "x" * 501, CorrectionReasonRequired),
        ("address", "", "搬家", CorrectionValueRequired),
        ("name", "林\u202eHACK", "改名", CorrectionValueRequired),  # a bidirectional override
        ("name", "林\u200b红", "改名", CorrectionValueRequired),  # a zero-width space
        ("phone", "12345", "换号", InvalidPhone),
        ("languages", "klingon", "说粤语", InvalidLanguage),
        ("height", "180", "长高了", InvalidFlag),
    ],
)
def test_bad_requests_are_refused_with_a_code_and_write_nothing(person, field, value, reason, error):
    with pytest.raises(error) as exc:
        ask(person, field=field, new_value=value, reason=reason)
    assert exc.value.status == 400
    assert not CorrectionRequest.objects.exists()


def test_the_refusal_speaks_the_users_language(person):
    with translation.override("zh-hans"), pytest.raises(CorrectionReasonRequired) as exc:
        ask(person, reason="")
    assert "500" in exc.value.text and any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.text)
    with translation.override("en"):
        with pytest.raises(CorrectionReasonRequired) as exc:
            ask(person, reason="")
        assert exc.value.text.startswith("Say in a few words")  # the message is lazy: read it in English


def test_languages_may_be_named_in_either_language(person, social_worker):
    req = ask(person, field="languages", new_value="粤语、Mandarin", reason="我会说粤语")
    assert req.new_value == "yue cmn"
    p.correction_request_accept(actor=social_worker, request=req)
    person.refresh_from_db()
    assert person.languages == ["yue", "cmn"]


def test_a_name_with_a_middle_dot_is_a_name(person, social_worker):
    req = ask(person, field="name", new_value="买买提·艾力", reason="身份证上的名字")
    p.correction_request_accept(actor=social_worker, request=req)
    person.refresh_from_db()
    assert person.name == "买买提·艾力"


def test_at_most_five_open_requests(person):
    for _ in range(p.MAX_OPEN_CORRECTIONS):
        ask(person)
    with pytest.raises(CorrectionTooMany):
        ask(person)
    assert CorrectionRequest.objects.count() == p.MAX_OPEN_CORRECTIONS


# --------------------------------------------------------------------------------------------- answering


def test_accepting_applies_the_change_through_the_service(person, social_worker):
    req = ask(person, field="name", new_value="林晓红", reason="登记时写错了字")
    done = p.correction_request_accept(actor=social_worker, request=req)
    person.refresh_from_db()
    user = login_of(person)
    assert done.status == "accepted" and done.decided_by == social_worker and done.decided_at is not None
    assert person.name == "林晓红" and person.name_initials == "lxh" and user.first_name == "林晓红"


def test_accepting_a_new_phone_moves_the_login_name(person, social_worker):
    req = ask(person, field="phone", new_value="139 1111 2222", reason="换了号码")
    p.correction_request_accept(actor=social_worker, request=req)
    person.refresh_from_db()
    assert person.phone == "+8613911112222" and login_of(person).username == "13911112222"


def test_a_phone_used_by_another_login_is_refused_and_nothing_changes(person, stranger, social_worker):
    req = ask(person, field="phone", new_value=stranger.phone, reason="换了号码")
    with pytest.raises(PhoneInUse):
        p.correction_request_accept(actor=social_worker, request=req)
    req.refresh_from_db()
    person.refresh_from_db()
    assert req.status == "open" and person.phone == "+8613912345678"


def test_staff_outside_the_area_and_partners_may_not_answer(person, other_town_admin, partner_admin):
    req = ask(person)
    for actor in (other_town_admin, partner_admin):
        with pytest.raises(OutOfScope):
            p.correction_request_accept(actor=actor, request=req)
        with pytest.raises(OutOfScope):
            p.correction_request_reject(actor=actor, request=req, note="不行")
    req.refresh_from_db()
    person.refresh_from_db()
    assert req.status == "open" and person.address == "莲峰路1号"


def test_rejecting_needs_a_reason_and_answers_once(person, town_admin):
    req = ask(person)
    with pytest.raises(DecisionNoteRequired):
        p.correction_request_reject(actor=town_admin, request=req, note=" ")
    done = p.correction_request_reject(actor=town_admin, request=req, note="请带户口本来服务站")
    assert done.status == "rejected" and done.decision_note == "请带户口本来服务站"
    with pytest.raises(CorrectionDecided):
        p.correction_request_accept(actor=town_admin, request=req)
    person.refresh_from_db()
    assert person.address == "莲峰路1号"


def test_something_else_is_accepted_only_with_what_was_done(person, social_worker):
    req = ask(person, field="other", new_value="", reason="我的出生日期不对")
    with pytest.raises(DecisionNoteRequired):
        p.correction_request_accept(actor=social_worker, request=req)
    done = p.correction_request_accept(actor=social_worker, request=req, note="已核对身份证，重新登记")
    assert done.status == "accepted"


def test_the_database_refuses_a_rejection_without_a_reason(person, social_worker):
    req = ask(person)
    with pytest.raises(IntegrityError), transaction.atomic():
        CorrectionRequest.objects.filter(pk=req.pk).update(status="rejected", decision_note="")


# --------------------------------------------------------------------------------------------- leaving


def test_leaving_disables_the_login_and_ends_relations(person, stranger, social_worker):
    people_services.relationship_create(
        actor=None, resident=stranger, relative=person, kind="child", is_proxy=True, consent_note="签字"
    )
    ask(person)
    departure = p.departure_record(actor=login_of(person), resident=person, reason="asked")
    person.refresh_from_db()
    user = login_of(person)
    assert departure.left_on and not person.active and not user.is_active and not user.has_usable_password()
    assert not Relationship.objects.filter(ended_at__isnull=True).exists()
    assert not Relationship.objects.filter(is_proxy=True).exists()
    assert not CorrectionRequest.objects.filter(status="open").exists()
    with pytest.raises(PersonLeft):
        p.departure_record(actor=social_worker, resident=person, reason="moved")
    assert Departure.objects.count() == 1


def test_only_the_person_or_staff_of_the_area_record_a_departure(person, stranger, other_town_admin):
    for actor in (login_of(stranger), other_town_admin):
        with pytest.raises(OutOfScope):
            p.departure_record(actor=actor, resident=person, reason="moved")
    with pytest.raises(Exception) as exc:
        p.departure_record(actor=None, resident=person, reason="bored")
    assert getattr(exc.value, "code", "") == "people.bad_departure_reason"
    person.refresh_from_db()
    assert person.active and not Departure.objects.exists()


def test_pseudonymising_clears_every_personal_field(person, stranger, social_worker):
    people_services.relationship_create(
        actor=None, resident=stranger, relative=person, kind="child", is_proxy=True, consent_note="签字于服务站"
    )
    people_services.resident_set_flags(actor=None, resident=person, lives_alone=True, disability="semi")
    ask(person, reason="地址写错")
    birth_year = person.birth_date.year
    p.departure_record(actor=None, resident=person, reason="moved")
    p.resident_pseudonymise(resident=person)
    person.refresh_from_db()
    assert person.name == p.pseudonym(person.pk) and person.name_pinyin == "" and person.phone == ""
    assert person.address == "" and person.languages == [] and not person.lives_alone
    assert person.disability == "none" and person.birth_date.isoformat() == f"{birth_year}-01-01"
    assert str(person.id_number) == p.PSEUDONYM_ID_NUMBER and person.id_hash.startswith(p.PSEUDONYM_HASH_PREFIX)
    assert (person.lat, person.lon) == (person.home_region.lat, person.home_region.lon)
    user = login_of(person)
    assert user.username.startswith("left-") and user.first_name == "" and not user.is_active
    assert Relationship.objects.filter(consent_note="").count() == 2
    assert CorrectionRequest.objects.get(resident=person).reason == ""
    # the same person may register again later: their number is no longer held
    number = idnumber.make("442000", person.birth_date.replace(month=6), 7)
    assert not Resident.objects.filter(id_hash=idnumber.keyed_hash(number)).exists()
    # a second run changes nothing, and corrections are refused
    p.resident_pseudonymise(resident=person)
    with pytest.raises(PersonLeft):
        p.resident_details_update(actor=social_worker, resident=person, name="复活")


def test_only_a_person_who_left_is_pseudonymised(person):
    with pytest.raises(Exception) as exc:
        p.resident_pseudonymise(resident=person)
    assert getattr(exc.value, "code", "") == "people.bad_departure_reason"
    person.refresh_from_db()
    assert person.name == "林小红"
