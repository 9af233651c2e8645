"""Zhongshan city and its 23 current town-level units (8 街道 + 15 镇, since the 2021 merger of 小榄 and 东升).

Data: timebank/places/data/zhongshan_towns.csv, a copy of the project's shared reference data
(see docs/reference-data.md for sources and confidence). Population: end-2021 city statistics, or the
nearest year given when 2021 is missing (中山港街道: end-2022).
"""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "zhongshan_towns.csv"
CITY_CODE = "442000"


def load(apps, schema_editor):
    Region = apps.get_model("places", "Region")
    city, _ = Region.objects.get_or_create(
        code=CITY_CODE,
        defaults={
            "name": "中山市",
            "level": "city",
            "kind": "地级市",
            "path": f"{CITY_CODE}/",
            "lat": 22.5176,
            "lon": 113.3926,
            "population": 4466900,
            "coord_confidence": "MEDIUM",
        },
    )
    with DATA.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            pop = row["pop_end2021"] or row["pop_end2022"] or row["pop2020_census"]
            Region.objects.get_or_create(
                code=row["nbs_code"],
                defaults={
                    "name": row["name"],
                    "level": "town",
                    "kind": row["kind"],
                    "parent": city,
                    "path": f"{city.path}{row['nbs_code']}/",
                    "lat": float(row["lat"]),
                    "lon": float(row["lon"]),
                    "population": int(pop) if pop else None,
                    "coord_confidence": row["coord_confidence"],
                },
            )


class Migration(migrations.Migration):
    dependencies = [("places", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
