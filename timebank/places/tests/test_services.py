"""places.services: the region tree keeps its levels and codes; sites are opened inside the actor's area."""

import math

import pytest
from django.utils.translation import override

from timebank.common.errors import OutOfScope
from timebank.places import errors
from timebank.places.models import Region, Site
from timebank.places.services import region_create, site_create

pytestmark = pytest.mark.django_db


def refused(exc_type, error_code, english, fn, /, **kwargs):
    before = (Region.objects.count(), Site.objects.count())
    with pytest.raises(exc_type) as info:
        fn(**kwargs)
    assert (Region.objects.count(), Site.objects.count()) == before
    assert info.value.code == error_code
    with override("en"):
        assert english in info.value.text, info.value.text


def test_community_under_town_gets_its_path(town, community):
    assert community.parent == town
    assert community.path == "442000/442000001/442000001001/"
    assert town.contains(community) and not community.contains(town)


@pytest.mark.parametrize(
    ("parent_code", "level", "english"),
    [
        ("442000", "community", "A Village or community cannot sit directly under a City"),
        ("442000001", "town", "A Town or street cannot sit directly under a Town or street"),
        ("442000001", "city", "cannot sit directly under"),
        ("442000001", "village", "A village cannot sit directly under"),
        (None, "town", "cannot sit directly under a —"),
    ],
)
def test_levels_are_enforced(parent_code, level, english):
    parent = Region.objects.get(code=parent_code) if parent_code else None
    refused(
        errors.BadRegionLevel,
        "places.bad_level",
        english,
        region_create,
        parent=parent,
        code="999",
        name="某地",
        level=level,
    )


def test_nothing_under_a_community(community):
    for level in ("community", "town"):
        refused(
            errors.BadRegionLevel,
            "places.bad_level",
            "cannot sit directly under a Village or community",
            region_create,
            parent=community,
            code="4420000010019",
            name="小组",
            level=level,
        )


def test_duplicate_codes_refused(town, community):
    refused(
        errors.DuplicateCode,
        "places.duplicate_code",
        "The code 442000001001 is already in use",
        region_create,
        parent=town,
        code="442000001001",
        name="重复",
        level="community",
    )
    refused(
        errors.DuplicateCode,
        "places.duplicate_code",
        "already in use",
        region_create,
        parent=None,
        code="442000",
        name="中山市",
        level="city",
    )


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(91.0, 113.0), (22.5, 181.0), (-91.0, 0.0), (22.5, None), (None, 113.4), (math.nan, 113.4), (22.5, math.inf)],
)
def test_bad_coordinates_refused(town, lat, lon):
    refused(
        errors.BadCoordinates,
        "places.bad_coordinates",
        "latitude must lie between -90 and 90",
        region_create,
        parent=town,
        code="442000001099",
        name="某社区",
        level="community",
        lat=lat,
        lon=lon,
    )


@pytest.mark.parametrize("code", ["", "442000/442000107", "a b", "x" * 25, "44200\n"])
def test_bad_codes_refused(town, code):
    refused(
        errors.BadCode,
        "places.bad_code",
        "The code must be 1 to 24",
        region_create,
        parent=town,
        code=code,
        name="某社区",
        level="community",
    )


def test_blank_name_refused(town):
    refused(
        errors.BadName,
        "places.bad_name",
        "Enter a name",
        region_create,
        parent=town,
        code="442000001099",
        name="  ",
        level="community",
    )


def test_site_create_checks_kind_code_and_position(community):
    base = {
        "actor": None,
        "code": "S-X",
        "name": "站",
        "kind": "station",
        "region": community,
        "lat": 22.5,
        "lon": 113.4,
    }
    refused(
        errors.BadSiteKind,
        "places.bad_site_kind",
        "Unknown kind of site: shop",
        site_create,
        **{**base, "kind": "shop"},
    )
    refused(errors.BadCoordinates, "places.bad_coordinates", "not valid", site_create, **{**base, "lat": 200.0})
    refused(errors.BadCode, "places.bad_code", "1 to 32", site_create, **{**base, "code": "S X"})
    refused(errors.BadName, "places.bad_name", "Enter a name", site_create, **{**base, "name": ""})
    site = site_create(**base)
    assert site.region == community and site.active
    refused(errors.DuplicateCode, "places.duplicate_code", "S-X is already in use", site_create, **base)


def test_site_create_scope(
    community, other_community, town_admin, other_town_admin, social_worker, partner_admin, supervisor
):
    base = {"name": "站", "kind": "station", "region": community, "lat": 22.5, "lon": 113.4}
    for i, actor in enumerate((other_town_admin, partner_admin)):
        refused(OutOfScope, "out_of_scope", "outside the area", site_create, actor=actor, code=f"S-{i}", **base)
    refused(
        OutOfScope,
        "out_of_scope",
        "outside the area",
        site_create,
        actor=social_worker,
        code="S-9",
        **{**base, "region": other_community},
    )
    assert site_create(actor=town_admin, code="S-A", **base).region == community
    assert site_create(actor=social_worker, code="S-B", **base).region == community
    assert site_create(actor=supervisor, code="S-C", **{**base, "region": other_community}).region == other_community
