"""Demo city, part 2: volunteers, elders, their families and proxies, staff of every role, demo logins.

Everyone is written through :mod:`timebank.people.services` (``resident_register``,
``relationship_create``, ``staff_create``, ``login_create``) with ``actor=None`` (the system), so every
ID number, phone number, age and proxy consent is checked exactly as for real registrations.

How the ages are drawn (the age pyramid)
----------------------------------------
Source: ``timebank/people/data/population_age_2020.csv`` (7th census, 2020-11-01, see
docs/reference-data.md). Zhongshan published only three broad shares: 0-14 15.69 %, 15-59 75.44 %,
60+ 8.87 %. Its 65+ share was not published, so the split of 60+ uses Guangdong's ratio
65+/60+ = 8.58 / 12.35 = 69.5 % (the file's Guangdong rows are read; a published Zhongshan 65+ row would
be used instead). That gives 60-64 = 30.5 % of the elders.

Assumption (no five-year groups were found): above 65, each five-year band holds
:data:`ELDER_BAND_DECLINE` times the band before it (0.72, 0.65, 0.60, 0.50, 0.40, 0.30 for 70-74 … 95-100,
the decline steepening with mortality). Within a band every year of age is equally likely; the last band
runs to 100. The result: 80+ is about 13 % of the elders, close to China's 2020 figure (13.6 %).

Volunteers are 18-75. Their base weight per year of age is the census share of that age (15-59 spread
evenly over its 45 years; 60-75 from the elder pyramid), times an assumed participation factor
(:data:`VOLUNTEER_PARTICIPATION`: students and young retirees join most, working-age adults less).
The registered elders follow the census pyramid of the 60+ population (assumption: registration does not
depend on age). A few 15-16-year-old students are registered too: the volunteer role is refused to them by
``resident_register`` (under 18 they may serve only in a group with a teacher), which the step shows by
trying and recording the refusal.

Other rates (hardship flags, phones, languages, families) are assumptions stated next to each constant.
All ages are as of :data:`~timebank.common.management.demo.DEMO_REFERENCE_DATE`, not the clock.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, wraps
from pathlib import Path
from typing import TypedDict

from timebank.common.management.demo import DemoContext, DemoLogin, StepFunction, demo_step, fingerprint_fields
from timebank.places.demo import address_in, allocate, jitter, words
from timebank.places.models import Region

from . import idnumber, services
from .errors import NotEligibleForRole
from .models import Resident, User
from .selectors import policies_frozen

CENSUS_CSV = Path(__file__).resolve().parent / "data" / "population_age_2020.csv"
AREA_CODE = "442000"  # 中山市 (the city has no districts; residents' ID numbers start with 442000)

fingerprint_fields(
    "people.Resident",
    (
        "id_hash", "name", "birth_date", "sex", "phone", "languages", "home_region__code", "address", "lat", "lon",
        "is_elder", "is_volunteer", "is_proxy", "lives_alone", "disability", "low_income", "lost_only_child",
        "childless_widowed",
    ),
)  # fmt: skip
fingerprint_fields(
    "people.Relationship", ("resident__id_hash", "relative__id_hash", "kind", "is_proxy", "consent_note")
)
fingerprint_fields(
    "people.StaffRole", ("user__username", "user__first_name", "role", "region__code", "site__code", "organisation")
)
fingerprint_fields("people.User", ("username", "first_name", "resident__id_hash", "is_staff"))

# --- the age pyramid -------------------------------------------------------------------------------------

#: Ratio of each five-year band above 65 to the band before it (70-74/65-69, …, 95-100/90-94). Assumption.
ELDER_BAND_DECLINE = (0.72, 0.65, 0.60, 0.50, 0.40, 0.30)
ELDER_MAX_AGE = 100
#: (first age, last age, participation factor) for volunteers. Assumption.
VOLUNTEER_PARTICIPATION = ((18, 22, 1.3), (23, 34, 0.7), (35, 49, 0.8), (50, 59, 1.2), (60, 69, 3.2), (70, 75, 1.5))


@cache
def census_shares() -> dict[tuple[str, str], float]:
    """{(region, age group): share in %} for the rows of the census file that give a share."""
    shares: dict[tuple[str, str], float] = {}
    with CENSUS_CSV.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["share_pct"]:
                shares[(row["region"], row["age_group"])] = float(row["share_pct"])
    return shares


def share_65_of_60() -> float:
    """The 65+ share of the 60+ population: Zhongshan's if published, else Guangdong's (8.58/12.35)."""
    shares = census_shares()
    for region in ("中山市", "广东省", "全国"):
        if (region, "65+") in shares and (region, "60+") in shares:
            return shares[(region, "65+")] / shares[(region, "60+")]
    raise ValueError("the census file has no 65+ share")


@cache
def elder_age_weights() -> dict[int, float]:
    """Probability of each age 60..100 among the elders (sums to 1)."""
    over_65 = share_65_of_60()
    bands = [1.0]
    for ratio in ELDER_BAND_DECLINE:
        bands.append(bands[-1] * ratio)
    total = sum(bands)
    weights: dict[int, float] = dict.fromkeys(range(60, 65), (1 - over_65) / 5)
    for i, band in enumerate(bands):
        first = 65 + 5 * i
        last = ELDER_MAX_AGE if i == len(bands) - 1 else first + 4
        for age in range(first, last + 1):
            weights[age] = over_65 * band / total / (last - first + 1)
    return weights


@cache
def volunteer_age_weights() -> dict[int, float]:
    """Probability of each age 18..75 among the volunteers (sums to 1)."""
    shares = census_shares()
    per_year_15_59 = shares[("中山市", "15-59")] / 45
    share_60 = shares[("中山市", "60+")]
    elder = elder_age_weights()
    weights: dict[int, float] = {}
    for first, last, factor in VOLUNTEER_PARTICIPATION:
        for age in range(first, last + 1):
            base = per_year_15_59 if age < 60 else share_60 * elder[age]
            weights[age] = base * factor
    total = sum(weights.values())
    return {age: w / total for age, w in weights.items()}


def birth_date_for(rng: random.Random, age: int, on: dt.date) -> dt.date:
    """A birth date that makes the person exactly ``age`` on ``on``."""
    latest = on.replace(year=on.year - age)
    earliest = on.replace(year=on.year - age - 1) + dt.timedelta(days=1)
    return earliest + dt.timedelta(days=rng.randrange((latest - earliest).days + 1))


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# --- names, numbers and languages ------------------------------------------------------------------------

#: Common surnames of Guangdong with rough relative weights (陈 is the most common name in the province).
SURNAMES: tuple[tuple[str, float], ...] = (
    ("陈", 10.5), ("李", 6.5), ("黄", 6.3), ("梁", 4.5), ("林", 3.6), ("何", 3.0), ("吴", 3.0), ("张", 3.0),
    ("刘", 2.8), ("郑", 2.3), ("杨", 2.2), ("冯", 1.8), ("罗", 1.8), ("邓", 1.6), ("王", 1.5), ("周", 1.5),
    ("谢", 1.5), ("曾", 1.4), ("叶", 1.4), ("苏", 1.3), ("卢", 1.3), ("钟", 1.2), ("郭", 1.1), ("麦", 1.0),
    ("蔡", 1.0), ("余", 0.9), ("彭", 0.9), ("潘", 0.9), ("萧", 0.8), ("朱", 0.8), ("莫", 0.7), ("高", 0.7),
    ("胡", 0.7), ("徐", 0.7), ("孙", 0.6), ("区", 0.5), ("温", 0.5), ("马", 0.5), ("赵", 0.5), ("阮", 0.4),
    ("甘", 0.4), ("欧阳", 0.4), ("简", 0.3), ("容", 0.3), ("古", 0.3), ("缪", 0.2),
)  # fmt: skip
_SURNAME_NAMES = [s for s, _ in SURNAMES]
_SURNAME_CUM = [sum(w for _, w in SURNAMES[: i + 1]) for i in range(len(SURNAMES))]

#: Given names by generation (born before 1965, 1965-1989, from 1990) and sex; 1-character names last.
GIVEN_NAMES: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("old", "F"): (
        words(
            "桂英 秀英 玉珍 惠珍 淑芬 美玲 带娣 少娟 丽华 凤英 月娥 金好 瑞卿 玉兰 秀芳 桂芳 彩霞 亚娇 银娣 润好 "
            "少芳 婉仪 翠萍 素珍 碧霞 玉英 凤仪 惠芳 月娇 淑贤 佩玲 秀莲 亚妹 桂兰 瑞芬 洁仪 丽珍"
        ),
        words("妹 珍 好 容 群 燕 英 娟 芳 莲"),
    ),
    ("old", "M"): (
        words(
            "国强 志明 伟雄 汉强 炳坤 锦华 耀祖 启明 德昌 炳南 润生 桂林 建国 永康 伟文 树根 金水 荣光 志坚 "
            "文辉 俊华 锦棠 福林 国华 汉明 耀华 炳辉 松林 焕章 振邦 家驹 广才 达明 瑞麟 添福 灿明"
        ),
        words("松 福 荣 强 明 华 根 胜 坤 财"),
    ),
    ("mid", "F"): (
        words(
            "丽娟 晓燕 惠玲 美华 少玲 婉婷 秀娟 艳芳 丽萍 燕萍 慧敏 淑仪 小红 嘉玲 丽珊 凤玲 晓玲 碧珊 咏梅 "
            "雪梅 海燕 结玲 秀琼 丽霞 文静 少珍 银萍 玉莹 美珍 伟玲 绮华 洁莹"
        ),
        words("敏 静 颖 玲 霞 丽 萍 红"),
    ),
    ("mid", "M"): (
        words(
            "志强 伟明 建华 国良 志伟 家明 振华 海涛 晓东 锦鸿 俊杰 健文 德明 卫东 永新 文杰 国栋 耀明 志华 "
            "展鹏 伟权 泽民 荣辉 家豪 智勇 永明 汉文 伟强 炜 锐明 少雄 国辉"
        ),
        words("伟 杰 强 军 涛 斌 勇 辉 东 健"),
    ),
    ("young", "F"): (
        words(
            "嘉欣 婷婷 诗琪 梓琪 雅婷 美琪 慧敏 嘉怡 思敏 佩珊 晓彤 咏琳 倩雯 紫晴 梓晴 雨桐 欣怡 子琳 晓琳 "
            "宛婷 芷晴 诗韵 颖琳 可欣 安琪 泳欣 绮雯 凯琳 诗敏 嘉慧 乐瑶"
        ),
        words("颖 静 敏 琪 婷 欣 倩 蕾"),
    ),
    ("young", "M"): (
        words(
            "俊杰 浩然 子轩 嘉豪 家乐 梓豪 宇航 浩轩 志豪 俊熙 健豪 嘉伟 子健 家俊 伟豪 锦涛 俊宇 梓杰 晓峰 "
            "泽宇 振宇 文轩 皓轩 铭浩 卓然 嘉乐 子豪 宏达 梓轩"
        ),
        words("杰 浩 豪 宇 健 乐 峰 斌"),
    ),
}
SINGLE_CHARACTER_SHARE = 0.12  # share of 1-character given names (assumption)
COMPOUND_SURNAMES = {"欧阳"}


def surname_of(name: str) -> str:
    return name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]


def random_surname(rng: random.Random) -> str:
    return _SURNAME_NAMES[bisect.bisect_right(_SURNAME_CUM, rng.random() * _SURNAME_CUM[-1])]


def random_name(rng: random.Random, sex: str, birth_year: int, surname: str | None = None) -> str:
    generation = "old" if birth_year < 1965 else "mid" if birth_year < 1990 else "young"
    two, one = GIVEN_NAMES[(generation, sex)]
    given = rng.choice(one) if rng.random() < SINGLE_CHARACTER_SHARE else rng.choice(two)
    return (surname or random_surname(rng)) + given


#: Mobile prefixes of the three Chinese carriers (all valid for libphonenumber).
MOBILE_PREFIXES = words(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 173 176 177 178 180 181 182 183 184 185 186 187 188 189 198 199"
)
#: Demo staff use 1380000xxxx and demo residents 1390000xxxx; generated people never do.
RESERVED_PREFIXES = ("1380000", "1390000")


class NumberBook:
    """Unique phone and ID numbers for one demo run (drawn from the step's random generator)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.phones: set[str] = set()
        self.id_slots: set[tuple[dt.date, int]] = set()

    def mobile(self) -> str:
        while True:
            number = f"{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randrange(100_000_000):08d}"
            if number not in self.phones and not number.startswith(RESERVED_PREFIXES):
                self.phones.add(number)
                return number

    def id_number(self, birth: dt.date, sex: str) -> str:
        """A valid number: 442000, the birth date, a sequence (odd for men, even for women), check digit."""
        while True:
            seq = 2 * self.rng.randrange(0, 500) + (1 if sex == "M" else 0)
            if seq and (birth, seq) not in self.id_slots:
                self.id_slots.add((birth, seq))
                return idnumber.make(AREA_CODE, birth, seq)


def numbers(ctx: DemoContext) -> NumberBook:
    """The run's shared number book, so numbers stay unique across steps."""
    book = ctx.extra.get("people.numbers")
    if book is None:
        book = ctx.extra["people.numbers"] = NumberBook(ctx.rng("people.numbers"))
    assert isinstance(book, NumberBook)
    return book


#: Towns where many natives also speak a Hakka or Min (隆都话/三乡话) dialect. Language "other".
OTHER_DIALECT_TOWNS = frozenset({"五桂山街道", "三乡镇", "南朗街道", "坦洲镇", "神湾镇", "沙溪镇", "大涌镇"})


def migrant_share(age: int) -> float:
    """Share of people who moved to Zhongshan from outside the Cantonese-speaking area (assumption)."""
    return 0.35 if age < 45 else 0.20 if age < 60 else 0.08


def languages_for(rng: random.Random, age: int, town: Region) -> list[str]:
    """Most speak Cantonese and Mandarin; some of the oldest only Cantonese; younger migrants Mandarin."""
    if rng.random() < migrant_share(age):
        langs = ["cmn"]
        if rng.random() < 0.15:
            langs.append("yue")  # learnt Cantonese here
        if rng.random() < 0.3:
            langs.append("other")  # their home dialect
        return langs
    yue_only = 0.0 if age < 60 else 0.15 if age < 70 else 0.30 if age < 80 else 0.50
    langs = ["yue"] if rng.random() < yue_only else ["yue", "cmn"]
    if town.name in OTHER_DIALECT_TOWNS and rng.random() < (0.25 if age >= 60 else 0.10):
        langs.append("other")
    return langs


class Hardship(TypedDict):
    """The flags that decide free service (重点对象), as ``resident_register`` takes them."""

    lives_alone: bool
    disability: str
    low_income: bool
    lost_only_child: bool
    childless_widowed: bool


NO_HARDSHIP: Hardship = {
    "lives_alone": False,
    "disability": "none",
    "low_income": False,
    "lost_only_child": False,
    "childless_widowed": False,
}


# --- placing people --------------------------------------------------------------------------------------


@dataclass
class Home:
    town: Region
    community: Region


def homes(ctx: DemoContext, rng: random.Random, total: int) -> list[Home]:
    """``total`` homes spread over the towns by population, and within a town by community population."""
    per_town = allocate(total, [float(t.population or 0) for t in ctx.towns], 0)
    result: list[Home] = []
    for town, n in zip(ctx.towns, per_town, strict=True):
        communities = ctx.communities_by_town[town.pk]
        weights = [float(c.population or 1) for c in communities]
        result.extend(Home(town, c) for c in rng.choices(communities, weights=weights, k=n))
    rng.shuffle(result)
    return result


def _register(
    ctx: DemoContext,
    rng: random.Random,
    *,
    home: Home,
    age: int,
    sex: str,
    roles: tuple[str, ...],
    phone: bool = True,
    surname: str | None = None,
    flags: Hardship | None = None,
) -> Resident:
    book = numbers(ctx)
    birth = birth_date_for(rng, age, ctx.today)
    community = home.community
    assert community.lat is not None and community.lon is not None
    lat, lon = jitter(rng, community.lat, community.lon, 800)
    return services.resident_register(
        actor=None,
        name=random_name(rng, sex, birth.year, surname),
        id_number=book.id_number(birth, sex),
        home_region=community,
        phone=book.mobile() if phone else "",
        languages=languages_for(rng, age, home.town),
        address=address_in(rng, home.town, community),
        lat=round(lat, 6),
        lon=round(lon, 6),
        roles=roles,
        **(flags or NO_HARDSHIP),
    )


def _draw_age(rng: random.Random, weights: dict[int, float]) -> int:
    ages = list(weights)
    return rng.choices(ages, weights=[weights[a] for a in ages])[0]


def frozen_policies(step: StepFunction) -> StepFunction:
    """Run a step with each day's eligibility policies read once (no step here changes a policy)."""

    @wraps(step)
    def run(ctx: DemoContext) -> None:
        with policies_frozen():
            step(ctx)

    return run


# --- steps -----------------------------------------------------------------------------------------------

VOLUNTEER_FEMALE_SHARE = 0.58  # volunteers lean female (assumption)


@demo_step("people.volunteers", order=200, description="volunteers aged 18-75 (and students refused the role)")
@frozen_policies
def create_volunteers(ctx: DemoContext) -> None:
    rng = ctx.rng("people.volunteers")
    weights = volunteer_age_weights()
    for home in homes(ctx, rng, ctx.scale.volunteers):
        sex = "F" if rng.random() < VOLUNTEER_FEMALE_SHARE else "M"
        ctx.volunteers.append(
            _register(ctx, rng, home=home, age=_draw_age(rng, weights), sex=sex, roles=("volunteer",))
        )
    # Secondary-school students (15-16 on the reference date) may serve only in a group led by a teacher:
    # the service refuses them the volunteer role, and they are registered without it.
    for home in homes(ctx, rng, ctx.scale.minors):
        sex = rng.choice("MF")
        age = rng.choice((15, 16))
        state = rng.getstate()
        try:
            adult = _register(ctx, rng, home=home, age=age, sex=sex, roles=("volunteer",))
        except NotEligibleForRole:
            rng.setstate(state)  # the same person again, without the role
            _register(ctx, rng, home=home, age=age, sex=sex, roles=())
            ctx.count("minors (volunteer role refused)")
        else:  # only when the demo is loaded years after DEMO_REFERENCE_DATE: they have come of age
            ctx.volunteers.append(adult)
    ctx.count("volunteers", len(ctx.volunteers))
    ctx.log(f"        {len(ctx.volunteers)} volunteers, {ctx.counts.get('minors (volunteer role refused)', 0)} minors")


def female_share(age: int) -> float:
    """Women outlive men: share of women among elders by age (assumption)."""
    return 0.50 if age < 70 else 0.53 if age < 80 else 0.58 if age < 90 else 0.65


def phone_share(age: int) -> float:
    """Share of elders with their own mobile phone (assumption)."""
    return 0.85 if age < 70 else 0.65 if age < 80 else 0.35


#: Hardship rates (assumptions, chosen so that about 6 % of elders are 重点对象 who get free service):
LIVES_ALONE = ((70, 0.08), (80, 0.12), (200, 0.30))  # (below age, share)
DISABILITY = ((70, 0.04, 0.01), (80, 0.08, 0.03), (90, 0.16, 0.07), (200, 0.25, 0.15))  # (below, semi, full)
LOW_INCOME = 0.04  # 低保 families; 0.15 among the disabled
LOW_INCOME_IF_DISABLED = 0.15
LOST_ONLY_CHILD = 0.006  # 失独 (one-child-policy parents, so ages 60-90)
CHILDLESS_WIDOWED = 0.01  # 孤寡


def _rate(table: tuple[tuple[int, float], ...], age: int) -> float:
    return next(share for below, share in table if age < below)


def hardship_flags(rng: random.Random, age: int) -> Hardship:
    semi, full = next((s, f) for below, s, f in DISABILITY if age < below)
    draw = rng.random()
    disability = "full" if draw < full else "semi" if draw < full + semi else "none"
    childless = rng.random() < CHILDLESS_WIDOWED
    return {
        "lives_alone": rng.random() < _rate(LIVES_ALONE, age) or (childless and rng.random() < 0.7),
        "disability": disability,
        "low_income": rng.random() < (LOW_INCOME_IF_DISABLED if disability != "none" else LOW_INCOME),
        "lost_only_child": age < 90 and not childless and rng.random() < LOST_ONLY_CHILD,
        "childless_widowed": childless,
    }


@demo_step("people.elders", order=210, description="elders aged 60-100 from the census pyramid, hardship flags")
@frozen_policies
def create_elders(ctx: DemoContext) -> None:
    rng = ctx.rng("people.elders")
    weights = elder_age_weights()
    for home in homes(ctx, rng, ctx.scale.elders):
        age = _draw_age(rng, weights)
        sex = "F" if rng.random() < female_share(age) else "M"
        flags = hardship_flags(rng, age)
        has_phone = rng.random() < phone_share(age)
        elder = _register(ctx, rng, home=home, age=age, sex=sex, roles=("elder",), phone=has_phone, flags=flags)
        ctx.elders.append(elder)
    ctx.count("elders", len(ctx.elders))
    ctx.log(f"        {len(ctx.elders)} elders")


SPOUSE_SHARE = 0.45  # share of elders (not living alone, not widowed) paired with a spouse in the demo
CHILD_LINK = 0.25  # share of elders with a registered child ...
CHILD_LINK_IF_FRAIL = 0.55  # ... when 80+, disabled or without a phone
VOLUNTEER_CHILD = 0.4  # share of those children taken from the volunteers (same town, plausible age)
PROXY_IF_FRAIL = 0.8  # share of frail elders whose child acts as proxy
CONSENT_NOTES = (
    "长者本人在社区服务站签署代理授权书，社工见证",
    "长者口头同意，社工上门记录并拍照存档",
    "长者书面委托，子女持身份证到站点登记",
    "监护人书面同意（长者行动不便），站点存档",
)


def _frail(elder: Resident, age: int) -> bool:
    return age >= 80 or elder.disability != Resident.Disability.NONE or not elder.phone


@demo_step("people.families", order=220, description="spouses, children (some volunteers), proxies with consent")
@frozen_policies
def create_families(ctx: DemoContext) -> None:
    rng = ctx.rng("people.families")
    town_of = {c.pk: t for t in ctx.towns for c in ctx.communities_by_town[t.pk]}
    spouses = _pair_spouses(ctx, rng)
    # Volunteers by town and age, to find plausible children of an elder.
    by_town_age: dict[tuple[int, int], list[Resident]] = defaultdict(list)
    for v in ctx.volunteers:
        by_town_age[(town_of[v.home_region_id].pk, age_on(v.birth_date, ctx.today))].append(v)
    used: set[int] = set()
    for elder in ctx.elders:
        if elder.childless_widowed or elder.lost_only_child:
            continue
        age = age_on(elder.birth_date, ctx.today)
        frail = _frail(elder, age)
        if rng.random() >= (CHILD_LINK_IF_FRAIL if frail else CHILD_LINK):
            continue
        proxy = frail and rng.random() < PROXY_IF_FRAIL
        note = rng.choice(CONSENT_NOTES) if proxy else ""
        town = town_of[elder.home_region_id]
        spouse = spouses.get(elder.pk)
        father = elder if elder.sex == "M" else spouse
        child: Resident | None = None
        if rng.random() < VOLUNTEER_CHILD:
            candidates = [
                v
                for child_age in range(max(18, age - 40), age - 21)
                for v in by_town_age.get((town.pk, child_age), ())
                if v.pk not in used and (father is None or surname_of(v.name) == surname_of(father.name))
            ]
            if candidates:
                child = rng.choice(candidates)
                used.add(child.pk)
                ctx.count("volunteers who are children of elders")
        if child is None:
            if not proxy:
                continue  # only relatives who will act for the elder are registered here
            home = Home(town, elder.home_region) if rng.random() < 0.7 else _elsewhere(ctx, rng, town)
            child = _register(
                ctx,
                rng,
                home=home,
                age=age - rng.randint(22, 38),
                sex=rng.choice("MF"),
                roles=("proxy",),
                surname=surname_of(father.name) if father is not None else None,
            )
            ctx.proxies.append(child)
        services.relationship_create(
            actor=None, resident=elder, relative=child, kind="child", is_proxy=proxy, consent_note=note
        )
        ctx.count("relationships", 2)
        if proxy:
            ctx.count("proxy relations")
        if spouse is not None:
            services.relationship_create(actor=None, resident=spouse, relative=child, kind="child")
            ctx.count("relationships", 2)
    ctx.count("relatives registered as proxies", len(ctx.proxies))
    ctx.log(
        f"        {ctx.counts.get('relationships', 0)} relationship rows, "
        f"{ctx.counts.get('proxy relations', 0)} proxies, "
        f"{ctx.counts.get('volunteers who are children of elders', 0)} volunteers linked as children"
    )


def _elsewhere(ctx: DemoContext, rng: random.Random, town: Region) -> Home:
    """A home in the same town (most) or anywhere in the city, for children who moved out."""
    if rng.random() < 0.6:
        return Home(town, rng.choice(ctx.communities_by_town[town.pk]))
    other = rng.choice(ctx.towns)
    return Home(other, rng.choice(ctx.communities_by_town[other.pk]))


def _pair_spouses(ctx: DemoContext, rng: random.Random) -> dict[int, Resident]:
    """Pair some elders of one community as couples (similar ages); returns each partner's spouse."""
    spouse_of: dict[int, Resident] = {}
    by_community: dict[int, list[Resident]] = defaultdict(list)
    for elder in ctx.elders:
        if not elder.lives_alone and not elder.childless_widowed:
            by_community[elder.home_region_id].append(elder)
    for community in ctx.communities:
        people = by_community.get(community.pk, [])
        men = sorted((e for e in people if e.sex == "M" and rng.random() < SPOUSE_SHARE), key=lambda e: e.birth_date)
        women = sorted((e for e in people if e.sex == "F" and rng.random() < SPOUSE_SHARE), key=lambda e: e.birth_date)
        for husband, wife in zip(men, women, strict=False):
            services.relationship_create(actor=None, resident=husband, relative=wife, kind="spouse")
            spouse_of[husband.pk] = wife
            spouse_of[wife.pk] = husband
            ctx.count("relationships", 2)
            ctx.count("couples")
    return spouse_of


# --- staff and demo accounts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    """A demo login shown by ``manage.py demo_logins``: role label, phone (= login name) and who it is."""

    key: str
    role: str
    phone: str
    name: str


#: The accounts printed by ``demo_logins``. All use DEMO_PASSWORD. Town admins and social workers exist for
#: every town: 138000010NN and 138000020NN, NN = the town's position in code order (01 = 石岐街道).
DEMO_ACCOUNTS = (
    DemoAccount("city_supervisor", "city supervisor (市民政局)", "13800000001", "周建华"),
    DemoAccount("town_admin", "town admin (石岐街道)", "13800001001", "林晓燕"),
    DemoAccount("social_worker", "social worker (石岐街道 community station)", "13800002001", "郑丽娟"),
    DemoAccount("partner_redcross", "partner admin (中山市红十字会)", "13800003001", "苏志坚"),
    DemoAccount("partner_youth", "partner admin (共青团中山市委)", "13800003002", "吴嘉怡"),
    DemoAccount("volunteer", "volunteer", "13900000001", "黄嘉欣"),
    DemoAccount("proxy", "family proxy (son of the demo elder)", "13900000002", "梁志明"),
    DemoAccount("elder", "elder with a login (82, lives alone)", "13900000003", "何惠珍"),
)
ACCOUNT = {a.key: a for a in DEMO_ACCOUNTS}
PARTNERS = {"partner_redcross": "中山市红十字会", "partner_youth": "共青团中山市委"}


def town_admin_phone(index: int) -> str:
    return f"138000010{index + 1:02d}"


def social_worker_phone(index: int) -> str:
    return f"138000020{index + 1:02d}"


def _staff(ctx: DemoContext, role: str, **kwargs: object) -> User:
    user = services.staff_create(actor=None, password=ctx.password, role=role, **kwargs)  # type: ignore[arg-type]
    ctx.staff.setdefault(role, []).append(user)
    ctx.count(f"staff.{role}")
    return user


@demo_step("people.staff", order=230, description="staff of every role (one admin and one social worker per town)")
def create_staff(ctx: DemoContext) -> None:
    rng = ctx.rng("people.staff")
    assert ctx.city is not None
    a = ACCOUNT["city_supervisor"]
    _staff(ctx, "city_supervisor", phone=a.phone, name=a.name, region=ctx.city, organisation="中山市民政局")
    ctx.logins.append(DemoLogin(a.role, a.phone, a.name, ctx.city.name))
    for index, town in enumerate(ctx.towns):
        first = index == 0
        name = ACCOUNT["town_admin"].name if first else random_name(rng, rng.choice("MF"), rng.randint(1970, 1995))
        _staff(ctx, "town_admin", phone=town_admin_phone(index), name=name, region=town)
        station = ctx.stations[ctx.communities_by_town[town.pk][0].pk]
        worker = ACCOUNT["social_worker"].name if first else random_name(rng, rng.choice("MF"), rng.randint(1985, 2000))
        _staff(ctx, "social_worker", phone=social_worker_phone(index), name=worker, site=station)
        if first:
            ctx.logins.append(DemoLogin(ACCOUNT["town_admin"].role, town_admin_phone(index), name, town.name))
            ctx.logins.append(
                DemoLogin(ACCOUNT["social_worker"].role, social_worker_phone(index), worker, station.name)
            )
    for key, organisation in PARTNERS.items():
        a = ACCOUNT[key]
        _staff(ctx, "partner_admin", phone=a.phone, name=a.name, region=ctx.city, organisation=organisation)
        ctx.logins.append(DemoLogin(a.role, a.phone, a.name, organisation))
    ctx.log("        " + ", ".join(f"{n} {role}" for role, n in ((r, len(u)) for r, u in ctx.staff.items())))


@demo_step("people.demo_accounts", order=240, description="the demo volunteer, elder and proxy, with logins")
@frozen_policies
def create_demo_accounts(ctx: DemoContext) -> None:
    """The three residents with logins live in 石岐街道's first community, beside its social worker."""
    town = ctx.towns[0]
    community = ctx.communities_by_town[town.pk][0]
    assert community.lat is not None and community.lon is not None
    book = numbers(ctx)

    def person(key: str, birth: dt.date, sex: str, roles: tuple[str, ...], flags: Hardship = NO_HARDSHIP) -> Resident:
        a = ACCOUNT[key]
        resident = services.resident_register(
            actor=None,
            name=a.name,
            id_number=book.id_number(birth, sex),
            home_region=community,
            phone=a.phone,
            languages=["yue", "cmn"],
            address=f"中山市{town.name}{community.name}孙文中路{len(key) * 7}号",
            lat=community.lat,
            lon=community.lon,
            roles=roles,
            **flags,
        )
        services.login_create(actor=None, resident=resident, password=ctx.password)
        ctx.logins.append(DemoLogin(a.role, a.phone, a.name, community.name))
        return resident

    volunteer = person("volunteer", dt.date(1999, 9, 9), "F", ("volunteer",))
    elder = person("elder", dt.date(1944, 3, 12), "F", ("elder",), {**NO_HARDSHIP, "lives_alone": True})
    proxy = person("proxy", dt.date(1972, 6, 18), "M", ("proxy",))
    services.relationship_create(
        actor=None,
        resident=elder,
        relative=proxy,
        kind="child",
        is_proxy=True,
        consent_note=f"长者本人在{community.name}服务站签署代理授权书，社工郑丽娟见证",
    )
    ctx.volunteers.append(volunteer)
    ctx.elders.append(elder)
    ctx.proxies.append(proxy)
    ctx.count("volunteers")
    ctx.count("elders")
    ctx.count("relatives registered as proxies")
    ctx.count("proxy relations")
    ctx.count("relationships", 2)
    ctx.count("resident logins", 3)


@demo_step(
    "people.demo_second_factor",
    order=245,
    description="a known authenticator key for the demo staff who log in with a code (town admins, city supervisor)",
)
def give_demo_staff_a_second_factor(ctx: DemoContext) -> None:
    """Town admins and the city supervisor confirm logins with a TOTP code; the demo's key is published
    (DEMO_TOTP_KEY_HEX, printed by ``demo_logins``) as the demo password is, so anyone can try the demo."""
    from timebank.common.management.demo import DEMO_TOTP_KEY_HEX

    from .second_factor import second_factor_role, totp_device_set

    for role in ("city_supervisor", "town_admin"):
        for user in ctx.staff.get(role, []):
            if second_factor_role(user):
                totp_device_set(user=user, key_hex=DEMO_TOTP_KEY_HEX)
                ctx.count("staff with a demo authenticator key")
