"""Star levels of volunteers (星级志愿者) as a versioned policy: DOMAIN.md's national thresholds, from 2020-01-01."""

import datetime as dt

from django.db import migrations

START = dt.date(2020, 1, 1)

# DOMAIN.md "Star levels": 1★ 100 h, 2★ 300 h, 3★ 600 h, 4★ 1000 h, 5★ 1500 h of recorded service.
STAR_THRESHOLDS_HOURS = [100, 300, 600, 1000, 1500]


def load(apps, schema_editor):
    PolicyValue = apps.get_model("common", "PolicyValue")
    PolicyValue.objects.get_or_create(
        key="rewards.star_thresholds_hours",
        effective_from=START,
        defaults={"value": STAR_THRESHOLDS_HOURS, "note": "DOMAIN.md default (national 星级志愿者)"},
    )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0005_transfer_beneficiary"), ("common", "0003_default_policies")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
