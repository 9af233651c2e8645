"""The matching policies of issue 5 (a city supervisor changes them later with a new version).

walk_radius_m 1500: about 15 minutes' walk at 80-100 m/min (the "15-minute service circle").
"""

import datetime as dt

from django.db import migrations

POLICIES = {
    "matching.walk_radius_m": 1500,
    "matching.score_weights": {
        "distance": 1.0,
        "rating": 0.5,
        "continuity": 1.0,
        "fairness": 0.4,
        "reliability": 0.8,
        "preference": 0.2,
    },
    "matching.fairness_days": 30,
    "matching.reliability_days": 180,
    "matching.max_visits_per_day": 2,
    "matching.walk_speed_m_per_min": 80,
}


def load(apps, schema_editor):
    PolicyValue = apps.get_model("common", "PolicyValue")
    for key, value in POLICIES.items():
        PolicyValue.objects.get_or_create(
            key=key, effective_from=dt.date(2020, 1, 1), defaults={"value": value, "note": "issue 5 default"}
        )


class Migration(migrations.Migration):
    dependencies = [("matching", "0001_initial"), ("common", "0003_default_policies")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
