"""Demo city, part 1: villages/communities under the 23 towns, and about 90 (small) to 230 (city) sites.

The city and its 23 towns come from the migration ``places/0002`` (with end-2021 populations). This step
adds, through :mod:`timebank.places.services`:

* communities under each town, their number proportional to the town's population (at least one per
  town; two at city scale). 街道 have 社区; 镇 have a mix of 社区 and 村. Codes extend the town code the way
  the national statistics codes do: 001-199 for 社区 (residents' committees), 201-399 for 村 (villages),
  e.g. ``442000001001``. Each community gets a share of the town's population (random weights), and a
  centre jittered within about 3 km of the town seat (the town coordinates are only good to ±1-3 km).
* one 镇街综合养老服务中心 per town near the seat, one 社区服务站 per community, 红十字会博爱家园 points in the
  most populous communities, and care homes (敬老院/颐养院) spread over the towns by population.

Names are plausible, not the real list of Zhongshan's communities.
"""

from __future__ import annotations

import math
import random

from django.conf import settings

from timebank.common.management.demo import DemoContext, demo_step, fingerprint_fields

from . import services
from .geo import offset
from .models import Region, Site


def words(text: str) -> tuple[str, ...]:
    """The space-separated words of ``text`` (keeps long lists of names readable)."""
    return tuple(text.split())


# Plausible stems for community and village names in the Pearl River Delta (not the real list).
COMMUNITY_STEMS = words(
    "康乐 凤鸣 光明 民生 太平 仁厚 长洲 员峰 沙岗 濠头 兴中 岐关 福涌 龙山 东明 白石 南门 北台 新安 水关 "
    "海傍 基边 涌头 福兴 永乐 和平 东海 碧涛 翠景 华柏 金叶 银湖 锦绣 荔景 桂园 沙涌 大岭 龙塘 秀山 石门 "
    "朗心 安栏 莲峰 悦来 逸仙 孙文 博爱 富华 星宝 雍景 紫马 柏苑 库充 槎桥 竹苑 树涌 亨尾 大信 岐江 "
    "南华 西苑 东苑 龙腾 德政 麻洲 灰炉 埔园 石鼓 泮沙 茶园 竹秀 双龙 象角 联丰 新丰 安堂 东兴 平山"
)
VILLAGE_STEMS = words(
    "沙边 大岑 涌口 新涌 合山 南塘 北帝 西江 旗溪 莆山 马鞍 上塘 下塘 鸦岗 横海 茂生 同安 裕安 岚田 "
    "圣狮 群联 新伦 敦陶 泗门 乌石 大布 溪角 白企 沙栏 吉大 涌边 渡头 冲口 沙尾 石排 田心 曹边 永宁 "
    "长沙 南蓢 平岚 坦背 前进 联石湾 十四 裕洲 福源 新兴 安阜 隆镇 水塘 大雁 三洲 群众 四围 丫髻"
)
ROADS = words(
    "兴中道 孙文中路 岐关西路 悦来路 博爱路 中山路 民族路 富华道 起湾道 康华路 沙岗路 长江路 "
    "环城路 新安路 龙塘路 东明路 福涌路 安康路 和平路 东兴路 文昌路 沿江路 民安路 宏基路"
)
CARE_HOME_NAMES = ("敬老院", "颐养院", "护养院", "康宁颐养中心", "长者护理院")

fingerprint_fields("places.Region", ("code", "name", "level", "kind", "parent__code", "lat", "lon", "population"))
fingerprint_fields("places.Site", ("code", "name", "kind", "region__code", "lat", "lon", "address", "phone"))

# Share of a 镇's communities that are villages (村); 街道 are urban and have only 社区.
VILLAGE_SHARE_IN_TOWNS = 0.6


def allocate(total: int, weights: list[float], minimum: int) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), each part at least ``minimum``."""
    n = len(weights)
    base = [minimum] * n
    rest = max(0, total - minimum * n)
    whole = sum(weights) or 1.0
    quotas = [rest * w / whole for w in weights]
    parts = [math.floor(q) for q in quotas]
    order = sorted(range(n), key=lambda i: (-(quotas[i] - parts[i]), i))
    for i in order[: rest - sum(parts)]:
        parts[i] += 1
    return [b + p for b, p in zip(base, parts, strict=True)]


def jitter(rng: random.Random, lat: float, lon: float, radius_m: float) -> tuple[float, float]:
    """A point uniformly distributed in the disc of ``radius_m`` around (lat, lon)."""
    r = radius_m * math.sqrt(rng.random())
    angle = rng.random() * 2 * math.pi
    return offset(lat, lon, r * math.cos(angle), r * math.sin(angle))


def landline(rng: random.Random) -> str:
    """A plausible Zhongshan landline (area code 0760, 8-digit numbers starting with 8 or 2)."""
    return f"0760-{rng.choice('82')}{rng.randrange(1_000_000, 9_999_999)}"


def address_in(rng: random.Random, town: Region, community: Region) -> str:
    return f"中山市{town.name}{community.name}{rng.choice(ROADS)}{rng.randrange(1, 300)}号"


def _short(town: Region) -> str:
    """石岐街道 → 石岐, 小榄镇 → 小榄."""
    for suffix in ("街道", "镇"):
        if town.name.endswith(suffix):
            return town.name[: -len(suffix)]
    return town.name


@demo_step("places.communities", order=100, description="communities under the 23 towns, by population")
def create_communities(ctx: DemoContext) -> None:
    rng = ctx.rng("places.communities")
    ctx.city = Region.objects.get(code=settings.CITY_REGION_CODE)
    ctx.towns = list(Region.objects.filter(level=Region.Level.TOWN, parent=ctx.city).order_by("code"))
    populations = [float(t.population or 0) for t in ctx.towns]
    counts = allocate(ctx.scale.communities, populations, ctx.scale.min_communities_per_town)
    for town, n in zip(ctx.towns, counts, strict=True):
        is_street = town.kind == "街道"
        villages = 0 if is_street else round(n * VILLAGE_SHARE_IN_TOWNS)
        community_stems = rng.sample(COMMUNITY_STEMS, n - villages)
        village_stems = rng.sample(VILLAGE_STEMS, villages)
        weights = [rng.uniform(0.5, 1.5) for _ in range(n)]
        pops = allocate(town.population or 0, weights, 0)
        made: list[Region] = []
        for i, stem in enumerate(community_stems):
            made.append(_community(rng, town, f"{town.code}{i + 1:03d}", f"{stem}社区", "社区", pops[len(made)]))
        for i, stem in enumerate(village_stems):
            made.append(_community(rng, town, f"{town.code}{201 + i:03d}", f"{stem}村", "村", pops[len(made)]))
        ctx.communities_by_town[town.pk] = made
        ctx.communities.extend(made)
    ctx.count("towns", len(ctx.towns))
    ctx.count("communities", len(ctx.communities))
    ctx.log(f"        {len(ctx.towns)} towns, {len(ctx.communities)} communities")


def _community(rng: random.Random, town: Region, code: str, name: str, kind: str, population: int) -> Region:
    assert town.lat is not None and town.lon is not None
    lat, lon = jitter(rng, town.lat, town.lon, 3000)
    return services.region_create(
        parent=town,
        code=code,
        name=name,
        level=Region.Level.COMMUNITY,
        kind=kind,
        lat=round(lat, 6),
        lon=round(lon, 6),
        population=population,
    )


@demo_step("places.sites", order=110, description="service centres, stations, Red Cross points, care homes")
def create_sites(ctx: DemoContext) -> None:
    rng = ctx.rng("places.sites")
    for town in ctx.towns:
        assert town.lat is not None and town.lon is not None
        first = ctx.communities_by_town[town.pk][0]
        lat, lon = jitter(rng, town.lat, town.lon, 500)
        centre = _site(
            ctx, rng, f"{town.code}-C", f"{town.name}综合养老服务中心", Site.Kind.CENTRE, first, town, lat, lon
        )
        ctx.centres[town.pk] = centre
        for community in ctx.communities_by_town[town.pk]:
            assert community.lat is not None and community.lon is not None
            lat, lon = jitter(rng, community.lat, community.lon, 150)
            name = f"{community.name}服务站" if community.kind == "社区" else f"{community.name}居家养老服务站"
            ctx.stations[community.pk] = _site(
                ctx, rng, f"{community.code}-S", name, Site.Kind.STATION, community, town, lat, lon
            )
    # Red Cross 博爱家园 points in the most populous communities (ties broken by code).
    town_of = {c.pk: t for t in ctx.towns for c in ctx.communities_by_town[t.pk]}
    by_size = sorted(ctx.communities, key=lambda c: (-(c.population or 0), c.code))
    for community in by_size[: ctx.scale.redcross_points]:
        assert community.lat is not None and community.lon is not None
        town = town_of[community.pk]
        lat, lon = jitter(rng, community.lat, community.lon, 300)
        name = f"{_short(town)}{community.name}红十字博爱家园"
        _site(ctx, rng, f"{community.code}-RC", name, Site.Kind.REDCROSS, community, town, lat, lon)
    # Care homes: spread over the towns by population, each in one of the town's communities.
    per_town = allocate(ctx.scale.care_homes, [float(t.population or 0) for t in ctx.towns], 0)
    for town, n in zip(ctx.towns, per_town, strict=True):
        for i in range(n):
            assert town.lat is not None and town.lon is not None
            community = rng.choice(ctx.communities_by_town[town.pk])
            lat, lon = jitter(rng, town.lat, town.lon, 3000)
            name = f"中山市{_short(town)}{CARE_HOME_NAMES[(i + len(town.name)) % len(CARE_HOME_NAMES)]}"
            if i:
                name = f"{name}（{i + 1}院）"
            _site(ctx, rng, f"{town.code}-H{i + 1:02d}", name, Site.Kind.CARE_HOME, community, town, lat, lon)
    for kind in Site.Kind:
        ctx.count(f"sites.{kind.value}", sum(1 for s in ctx.sites if s.kind == kind.value))
    ctx.count("sites", len(ctx.sites))
    ctx.log(
        f"        {len(ctx.sites)} sites: {len(ctx.centres)} centres, {len(ctx.stations)} stations, "
        f"{ctx.counts['sites.redcross']} Red Cross points, {ctx.counts['sites.care_home']} care homes"
    )


def _site(
    ctx: DemoContext,
    rng: random.Random,
    code: str,
    name: str,
    kind: str,
    community: Region,
    town: Region,
    lat: float,
    lon: float,
) -> Site:
    site = services.site_create(
        actor=None,
        code=code,
        name=name,
        kind=kind,
        region=community if kind != Site.Kind.CENTRE else town,
        lat=round(lat, 6),
        lon=round(lon, 6),
        address=address_in(rng, town, community),
        phone=landline(rng),
    )
    ctx.sites.append(site)
    return site
