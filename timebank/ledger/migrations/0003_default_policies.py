"""Default ledger policies of DOMAIN.md, in force from 2020-01-01."""

import datetime as dt

from django.db import migrations

START = dt.date(2020, 1, 1)

DEFAULTS = {
    "ledger.balance_cap_minutes": 1500 * 60,  # Nanjing, Guangzhou: 1,500 hours per person
    "ledger.rounding_step_minutes": 30,
    "ledger.rounding_mode": "nearest",  # nearest step, halves up; "down" and "up" also allowed
    "ledger.expiry_days": 0,  # 0 = hours never expire (the government guarantees them)
    "ledger.group_hours_donation_only": True,
}


def load(apps, schema_editor):
    PolicyValue = apps.get_model("common", "PolicyValue")
    for key, value in DEFAULTS.items():
        PolicyValue.objects.get_or_create(
            key=key, effective_from=START, defaults={"value": value, "note": "DOMAIN.md default"}
        )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_triggers_and_system_accounts"), ("common", "0003_default_policies")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
