"""Install the ledger's database triggers (sql/<vendor>.sql) and open the city's system accounts."""

from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"

SYSTEM_ACCOUNTS = [
    # code, kind, name, cached, no_overdraw
    ("issuance", "issuance", "政府发行账户 Government issuance", False, False),
    ("guarantee", "guarantee", "政府兜底采购账户 Guarantee purchases", False, False),
    ("pool", "pool", "公益时间池 Public time pool", True, True),
]


def statements(vendor: str) -> list[str]:
    text = (SQL_DIR / f"{vendor}.sql").read_text(encoding="utf-8")
    return [s.strip() for s in text.split("-- statement") if s.strip()]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise RuntimeError(f"the ledger needs PostgreSQL or SQLite, not {vendor}")
    for sql in statements(vendor):
        schema_editor.execute(sql, params=None)
    Account = apps.get_model("ledger", "Account")
    for code, kind, name, cached, no_overdraw in SYSTEM_ACCOUNTS:
        Account.objects.get_or_create(
            code=code, defaults={"kind": kind, "name": name, "cached": cached, "no_overdraw": no_overdraw}
        )


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
