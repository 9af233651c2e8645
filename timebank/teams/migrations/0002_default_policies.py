"""The teams policy of issue 8: festival bonus coefficients for group events, empty by default (1.0).

A city supervisor adds a version, e.g. {"重阳节": 1.5}, with its own effective date.
"""

import datetime as dt

from django.db import migrations

POLICIES: dict[str, object] = {"teams.festival_coefficients": {}}


def load(apps, schema_editor):
    PolicyValue = apps.get_model("common", "PolicyValue")
    for key, value in POLICIES.items():
        PolicyValue.objects.get_or_create(
            key=key, effective_from=dt.date(2020, 1, 1), defaults={"value": value, "note": "issue 8 default"}
        )


class Migration(migrations.Migration):
    dependencies = [("teams", "0001_initial"), ("common", "0003_default_policies")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
