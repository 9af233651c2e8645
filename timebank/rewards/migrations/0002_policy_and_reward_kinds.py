"""The falsification bar policy (DOMAIN.md: barred 1–3 years; default 2, from 2020-01-01) and the starting
set of non-cash rewards. Later versions and rewards are added by the city supervisor."""

import datetime as dt

from django.db import migrations

START = dt.date(2020, 1, 1)

REWARD_KINDS = [
    {
        "code": "care-home-priority",
        "name": "公办养老机构优先入住",
        "description": "轮候入住公办养老机构时优先安排（凭记录核验，不涉及时间币或现金）。",
        "min_stars": 5,
        "provider": "中山市民政局（公办养老机构）",
        "priority_admission": True,
    },
    {
        "code": "health-check",
        "name": "免费健康体检一次",
        "description": "每年一次基础健康体检，由合作医院提供。",
        "min_stars": 3,
        "provider": "合作医院",
        "priority_admission": False,
    },
    {
        "code": "bus-card-discount",
        "name": "公交卡乘车优惠",
        "description": "志愿者公交卡乘车折扣，由合作公交企业提供。",
        "min_stars": 1,
        "provider": "合作公交企业",
        "priority_admission": False,
    },
]


def load(apps, schema_editor):
    PolicyValue = apps.get_model("common", "PolicyValue")
    PolicyValue.objects.get_or_create(
        key="rewards.falsification_bar_years",
        effective_from=START,
        defaults={"value": 2, "note": "DOMAIN.md: barred 1–3 years after falsified hours; 2 by default"},
    )
    RewardKind = apps.get_model("rewards", "RewardKind")
    for row in REWARD_KINDS:
        RewardKind.objects.get_or_create(code=row["code"], defaults=row)


class Migration(migrations.Migration):
    dependencies = [("rewards", "0001_initial"), ("common", "0003_default_policies")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
