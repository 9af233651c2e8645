"""Every transfer carries a mark (HMAC of its fields, ``ledger/marks.py``); the rows already written get theirs.

The rows are append-only, so the backfill switches the update-refusing trigger off for its own UPDATEs only,
inside this migration's transaction (PostgreSQL: ``ALTER TABLE … DISABLE TRIGGER``; SQLite: the trigger is
dropped and re-created from the copy below, the text ledger/0002 installed). Rows are marked with the
``LEDGER_MARK_KEY`` in force when the migration runs: set the production key before migrating.
"""

from django.db import migrations, models

# ledger/0002's SQLite trigger, verbatim (frozen here: this migration must not depend on the .sql files)
SQLITE_NO_UPDATE = """CREATE TRIGGER ledger_transfer_no_update BEFORE UPDATE ON ledger_transfer
BEGIN SELECT RAISE(ABORT, 'ledger_transfer is append-only: UPDATE refused'); END;"""

CHUNK = 2000


def backfill(apps, schema_editor):
    from timebank.ledger.marks import MARKED_FIELDS, transfer_mark

    Transfer = apps.get_model("ledger", "Transfer")
    vendor = schema_editor.connection.vendor
    rows = Transfer.objects.filter(mark="").order_by("id").values("id", *MARKED_FIELDS)
    if not rows.exists():
        return
    with schema_editor.connection.cursor() as cur:
        if vendor == "postgresql":
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("ALTER TABLE ledger_transfer DISABLE TRIGGER ledger_transfer_append_only")
        else:
            cur.execute("DROP TRIGGER IF EXISTS ledger_transfer_no_update")
        batch = []
        for row in rows.iterator(chunk_size=CHUNK):
            batch.append((transfer_mark(row), row["id"]))
            if len(batch) >= CHUNK:
                cur.executemany("UPDATE ledger_transfer SET mark = %s WHERE id = %s", batch)
                batch = []
        if batch:
            cur.executemany("UPDATE ledger_transfer SET mark = %s WHERE id = %s", batch)
        if vendor == "postgresql":
            cur.execute("ALTER TABLE ledger_transfer ENABLE TRIGGER ledger_transfer_append_only")
        else:
            cur.execute(SQLITE_NO_UPDATE)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0008_seal_derived_snapshot")]

    operations = [
        migrations.AddField(
            model_name="transfer",
            name="mark",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="transfer",
            constraint=models.CheckConstraint(condition=models.Q(("mark", ""), _negated=True), name="transfer_marked"),
        ),
    ]
