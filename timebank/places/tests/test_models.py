"""The city and its 23 towns are loaded by migration places/0002 (data: places/data/zhongshan_towns.csv)."""

import pytest
from django.db import IntegrityError, transaction

from timebank.places.models import Region
from timebank.places.selectors import city, region_subtree, sites_in, town_of, towns

pytestmark = pytest.mark.django_db


def test_the_city_and_its_23_towns():
    root = city()
    assert (root.code, root.name, root.level, root.path, root.parent) == ("442000", "中山市", "city", "442000/", None)
    all_towns = list(towns())
    assert len(all_towns) == 23
    assert all(t.parent == root and t.path == f"442000/{t.code}/" for t in all_towns)
    by_name = {t.name: t for t in all_towns}
    assert by_name["小榄镇"].code == "442000100"
    assert by_name["石岐街道"].code == "442000001"
    assert by_name["坦洲镇"].code == "442000107"
    assert "东升镇" not in by_name  # merged into 小榄镇 in 2021
    assert sum(1 for t in all_towns if t.kind == "街道") == 8
    assert sum(1 for t in all_towns if t.kind == "镇") == 15
    assert len({t.code for t in all_towns}) == 23


def test_town_populations_add_up_to_the_city():
    all_towns = list(towns())
    assert all(t.population and t.population > 30_000 for t in all_towns)
    total = sum(t.population for t in all_towns)
    assert total == 4_482_036  # end-2021 figures, end-2022 where 2021 is missing (中山港, 民众)
    assert abs(total - city().population) / city().population < 0.01
    assert {t.name: t.population for t in all_towns}["小榄镇"] == 790_454


def test_every_town_has_coordinates_in_zhongshan():
    for t in towns():
        assert 22.1 < t.lat < 22.8 and 113.1 < t.lon < 113.7, t.name


def test_subtree_and_town_of(town, community, community_b, other_community, site, other_site):
    assert set(region_subtree(town)) == {town, community, community_b}
    assert town_of(community) == town and town_of(town) == town and town_of(city()) is None
    assert list(sites_in(town)) == [site]
    assert set(sites_in(city())) == {site, other_site}


def test_root_must_be_a_city_in_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.create(code="X1", name="孤岛", level="town", path="X1/")
