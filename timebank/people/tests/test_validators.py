"""Names: invisible and control characters are refused wherever a person's, an organisation's or a
team's name is typed; real names (Chinese, with the middle dot, rare characters, Latin) are kept."""

from __future__ import annotations

import unicodedata

import pytest
from django.test import Client

from timebank.common.errors import InvalidInput
from timebank.common.names import HiddenCharacters, clean_name, refused_characters
from timebank.people import idnumber, services
from timebank.people.models import Resident, User
from timebank.people.tests.factories import birth_date_for_age
from timebank.people.validators import person_name

#: One example of each kind of character a name may not hold.
HIDDEN = {
    "right-to-left override": "\u202e",
    "left-to-right override": "\u202d",
    "right-to-left isolate": "\u2067",
    "pop directional isolate": "\u2069",
    "right-to-left mark": "\u200f",
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "zero-width non-joiner": "\u200c",
    "word joiner": "\u2060",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "tag character": "\U000e0041",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "NUL": "\x00",
    "escape": "\x1b",
    "newline": "\n",
    "delete": "\x7f",
    "C1 control": "\x85",
    "lone surrogate": "\ud800",
    "private use": "\ue000",
    "supplementary private use": "\U000f0000",
    "interlinear annotation": "\ufff9",
    "arabic letter mark": "\u061c",
}

KEPT = [
    "王秀英",
    "阿卜杜·热合曼",
    "爱新觉罗·溥仪",
    "买买提·艾力",
    "玛丽·居里",
    "𠀾𪚥",  # CJK extension B characters (rare name characters, 生僻字)
    "张\U000e0100三",  # an ideographic variation selector picks a glyph of 张: a mark, not a format character
    "José García",
    "O'Brien-Smith",
    "Nguyễn Văn An",
]


@pytest.mark.parametrize("char", HIDDEN.values(), ids=HIDDEN.keys())
def test_hidden_characters_are_refused(char):
    assert refused_characters(f"张{char}三")
    with pytest.raises(HiddenCharacters) as caught:
        person_name(f"张{char}三")
    assert caught.value.code == "text.hidden_characters" and caught.value.field == "name"


@pytest.mark.parametrize("name", KEPT)
def test_real_names_are_kept(name):
    assert person_name(name) == unicodedata.normalize("NFC", name)


@pytest.mark.parametrize("dot", ["\u30fb", "\u2027", "\u2022", "\u2219", "\u22c5", "\uff65"])
def test_look_alike_middle_dots_are_stored_as_one_dot(dot):
    assert person_name(f"阿卜杜{dot}热合曼") == "阿卜杜·热合曼"


def test_nfc_length_and_blank():
    assert person_name("  Jose\u0301 ") == "José"
    assert clean_name(None) == ""
    for bad in ("", "   ", "字" * 65):
        with pytest.raises(InvalidInput) as caught:
            person_name(bad)
        assert caught.value.code == "people.invalid_name"


def test_the_message_is_chinese_by_default():
    from django.utils.translation import override

    with override("zh-hans"):
        text = HiddenCharacters().text
    assert "看不见" in text or "控制" in text


# ---------------------------------------------------------------------------------- where names are typed


def _number() -> str:
    return idnumber.make("442000", birth_date_for_age(75), 321)


@pytest.mark.django_db
def test_resident_register_refuses_a_bidi_name_and_writes_nothing(community):
    with pytest.raises(HiddenCharacters):
        services.resident_register(actor=None, name="\u202e英秀王", id_number=_number(), home_region=community)
    assert not Resident.objects.exists()
    kept = services.resident_register(actor=None, name="阿卜杜·热合曼", id_number=_number(), home_region=community)
    assert kept.name == "阿卜杜·热合曼"


@pytest.mark.django_db
def test_staff_create_refuses_hidden_characters_in_the_name_and_the_organisation(town):
    with pytest.raises(HiddenCharacters):
        services.staff_create(
            actor=None, phone="13800138111", name="李\u200b四", password="Tb-long-pass-2026", role="town_admin",
            region=town,
        )  # fmt: skip
    with pytest.raises(HiddenCharacters) as caught:
        services.staff_create(
            actor=None, phone="13800138111", name="李四", password="Tb-long-pass-2026", role="partner_admin",
            region=town, organisation="红十字会\u202e",
        )  # fmt: skip
    assert caught.value.field == "organisation"
    assert not User.objects.filter(username="13800138111").exists()


@pytest.mark.django_db
def test_the_api_refuses_a_zero_width_name_with_400(social_worker, community):
    from timebank.api.services import token_create

    secret = token_create(user=social_worker, name="t", scopes=["write"]).secret
    body = {"name": "王\u200b秀英", "id_number": _number(), "home_region": community.code, "roles": ["elder"]}
    r = Client().post(
        "/api/v1/people/residents",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}", "Accept-Language": "en"},
    )
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "text.hidden_characters" and r.json()["field"] == "name"
    assert not Resident.objects.exists()


@pytest.mark.django_db
def test_teams_and_sites_refuse_hidden_characters(supervisor, city, community):
    from timebank.places import services as places
    from timebank.teams import services as teams
    from timebank.teams.models import Organisation

    with pytest.raises(HiddenCharacters):
        teams.organisation_create(actor=supervisor, kind="social_org", name="义工\u2066协会", region=city)
    assert not Organisation.objects.exists()
    org = teams.organisation_create(actor=supervisor, kind="social_org", name="义工协会", region=city)
    assert org.name == "义工协会"
    with pytest.raises(HiddenCharacters):
        places.site_create(
            actor=None, code="S-1", name="站\u200b点", kind="station", region=community, lat=22.5, lon=113.4
        )
