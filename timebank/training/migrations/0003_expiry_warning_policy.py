"""The training policy of issue 8: certificates ending within 60 days are listed as expiring.

60 days: about two months, time enough to book a refresher session (most run monthly). A city supervisor
changes it later with a new version.
"""

import datetime as dt

from django.db import migrations


def load(apps, schema_editor):
    PolicyValue = apps.get_model("common", "PolicyValue")
    PolicyValue.objects.get_or_create(
        key="training.expiry_warning_days",
        effective_from=dt.date(2020, 1, 1),
        defaults={"value": 60, "note": "issue 8 default"},
    )


class Migration(migrations.Migration):
    dependencies = [("training", "0002_courses_sessions_enrolment_targets"), ("common", "0003_default_policies")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
