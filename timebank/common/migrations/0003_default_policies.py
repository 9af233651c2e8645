"""The default policy values of DOMAIN.md, in force from 2020-01-01 (before any demo history).

Sources: Beijing, Shanghai, Nanjing, Guangzhou and Qingdao time-bank schemes (see docs/policies.md).
Later versions are added by the city supervisor with their own effective dates.
"""

import datetime as dt

from django.db import migrations

START = dt.date(2020, 1, 1)

DEFAULTS = {
    "people.serve_min_age": 18,
    "people.elder_min_age": 60,
    "people.proxy_min_age": 18,
    "people.redeem_min_age": 60,
    "people.priority_alone_min_age": 80,
    "people.priority_disabled_min_age": 60,
    "people.transfer_relative_kinds": ["spouse", "parent", "child", "grandparent", "grandchild"],
}


def load(apps, schema_editor):
    PolicyValue = apps.get_model("common", "PolicyValue")
    for key, value in DEFAULTS.items():
        PolicyValue.objects.get_or_create(
            key=key, effective_from=START, defaults={"value": value, "note": "DOMAIN.md default"}
        )


class Migration(migrations.Migration):
    dependencies = [("common", "0002_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
