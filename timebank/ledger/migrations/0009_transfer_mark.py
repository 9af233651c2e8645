"""Every transfer carries a mark (HMAC of its fields, ``ledger/marks.py``); the rows already written get theirs.

The rows are append-only, so the backfill switches the update-refusing trigger off for its own UPDATEs only,
inside this migration's transaction (PostgreSQL: ``ALTER TABLE … DISABLE TRIGGER``, on again after). Rows
are marked with the ``LEDGER_MARK_KEY`` in force when the migration runs: set the production key first.

SQLite cannot add a NOT NULL column or a CHECK constraint in place: Django rebuilds the table, and the
rebuilt table has none of the ledger's triggers. So on SQLite the last step installs them again, from the
copy below (``LEDGER_SQL``, the same text ledger/0002 installed; frozen here, pinned by
``ledger/tests/test_migration_sql.py``). PostgreSQL keeps its triggers: nothing to do there.
"""

from django.db import migrations, models

# Installed on SQLite by this migration, verbatim.
LEDGER_SQL = {
    "sqlite": r"""-- The same ledger invariants as postgresql.sql, in SQLite's trigger dialect.
CREATE TRIGGER ledger_transfer_no_update BEFORE UPDATE ON ledger_transfer
BEGIN SELECT RAISE(ABORT, 'ledger_transfer is append-only: UPDATE refused'); END;
-- statement
CREATE TRIGGER ledger_transfer_no_delete BEFORE DELETE ON ledger_transfer
BEGIN SELECT RAISE(ABORT, 'ledger_transfer is append-only: DELETE refused'); END;
-- statement
CREATE TRIGGER ledger_seal_no_update BEFORE UPDATE ON ledger_seal
BEGIN SELECT RAISE(ABORT, 'ledger_seal is append-only: UPDATE refused'); END;
-- statement
CREATE TRIGGER ledger_seal_no_delete BEFORE DELETE ON ledger_seal
BEGIN SELECT RAISE(ABORT, 'ledger_seal is append-only: DELETE refused'); END;
-- statement
CREATE TRIGGER ledger_transfer_check_reversal BEFORE INSERT ON ledger_transfer WHEN NEW.reverses_id IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, 'reversal does not mirror its transfer') WHERE NOT EXISTS (
    SELECT 1 FROM ledger_transfer o WHERE o.id = NEW.reverses_id AND o.phase IN ('posted', 'post')
      AND o.debit_account_id = NEW.credit_account_id AND o.credit_account_id = NEW.debit_account_id
      AND o.amount = NEW.amount AND NEW.phase = 'posted');
END;
-- statement
CREATE TRIGGER ledger_transfer_check_resolution BEFORE INSERT ON ledger_transfer WHEN NEW.phase IN ('post', 'void')
BEGIN
  SELECT RAISE(ABORT, 'resolution does not match its pending transfer') WHERE NOT EXISTS (
    SELECT 1 FROM ledger_transfer p WHERE p.id = NEW.pending_id AND p.phase = 'pending'
      AND p.debit_account_id = NEW.debit_account_id AND p.credit_account_id = NEW.credit_account_id
      AND NEW.amount <= p.amount AND (NEW.phase = 'post' OR NEW.amount = p.amount));
END;
-- statement
CREATE TRIGGER ledger_transfer_apply_posted AFTER INSERT ON ledger_transfer WHEN NEW.phase = 'posted'
BEGIN
  UPDATE ledger_account SET debits_posted = debits_posted + NEW.amount WHERE id = NEW.debit_account_id AND cached;
  UPDATE ledger_account SET credits_posted = credits_posted + NEW.amount WHERE id = NEW.credit_account_id AND cached;
END;
-- statement
CREATE TRIGGER ledger_transfer_apply_pending AFTER INSERT ON ledger_transfer WHEN NEW.phase = 'pending'
BEGIN
  UPDATE ledger_account SET debits_pending = debits_pending + NEW.amount WHERE id = NEW.debit_account_id AND cached;
  UPDATE ledger_account SET credits_pending = credits_pending + NEW.amount WHERE id = NEW.credit_account_id AND cached;
END;
-- statement
CREATE TRIGGER ledger_transfer_apply_resolution AFTER INSERT ON ledger_transfer WHEN NEW.phase IN ('post', 'void')
BEGIN
  UPDATE ledger_account SET
      debits_pending = debits_pending - (SELECT amount FROM ledger_transfer WHERE id = NEW.pending_id),
      debits_posted = debits_posted + CASE WHEN NEW.phase = 'post' THEN NEW.amount ELSE 0 END
    WHERE id = NEW.debit_account_id AND cached;
  UPDATE ledger_account SET
      credits_pending = credits_pending - (SELECT amount FROM ledger_transfer WHERE id = NEW.pending_id),
      credits_posted = credits_posted + CASE WHEN NEW.phase = 'post' THEN NEW.amount ELSE 0 END
    WHERE id = NEW.credit_account_id AND cached;
END;
""",
}

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
        else:  # gone already if the table was rebuilt; install_sqlite_triggers puts every trigger back
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


def install_sqlite_triggers(apps, schema_editor):
    """SQLite: every ledger trigger again (the table rebuilds of this migration dropped them)."""
    if schema_editor.connection.vendor != "sqlite":
        return
    statements = [s.strip() for s in LEDGER_SQL["sqlite"].split("-- statement") if s.strip()]
    for sql in statements:
        name = sql.split("CREATE TRIGGER ", 1)[1].split()[0]
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}", params=None)
        schema_editor.execute(sql, params=None)


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
        migrations.RunPython(install_sqlite_triggers, migrations.RunPython.noop),
    ]
