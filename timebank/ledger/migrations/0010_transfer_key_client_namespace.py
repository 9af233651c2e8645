"""Client idempotency keys are stored in the caller's namespace (``c:<user id>:<key>``), so the key column
is widened to 100 characters (issue 12).

On SQLite, altering a column rebuilds the table, which drops its triggers: they are installed again here,
their text frozen in this migration (the same rules as sql/sqlite.sql at the time of writing).
"""

from django.db import migrations, models

SQLITE_TRANSFER_TRIGGERS = [
    """
CREATE TRIGGER IF NOT EXISTS ledger_transfer_no_update BEFORE UPDATE ON ledger_transfer
BEGIN SELECT RAISE(ABORT, 'ledger_transfer is append-only: UPDATE refused'); END;
""",
    """
CREATE TRIGGER IF NOT EXISTS ledger_transfer_no_delete BEFORE DELETE ON ledger_transfer
BEGIN SELECT RAISE(ABORT, 'ledger_transfer is append-only: DELETE refused'); END;
""",
    """
CREATE TRIGGER IF NOT EXISTS ledger_transfer_check_reversal BEFORE INSERT ON ledger_transfer WHEN NEW.reverses_id IS NOT NULL
BEGIN
  SELECT RAISE(ABORT, 'reversal does not mirror its transfer') WHERE NOT EXISTS (
    SELECT 1 FROM ledger_transfer o WHERE o.id = NEW.reverses_id AND o.phase IN ('posted', 'post')
      AND o.debit_account_id = NEW.credit_account_id AND o.credit_account_id = NEW.debit_account_id
      AND o.amount = NEW.amount AND NEW.phase = 'posted');
END;
""",
    """
CREATE TRIGGER IF NOT EXISTS ledger_transfer_check_resolution BEFORE INSERT ON ledger_transfer WHEN NEW.phase IN ('post', 'void')
BEGIN
  SELECT RAISE(ABORT, 'resolution does not match its pending transfer') WHERE NOT EXISTS (
    SELECT 1 FROM ledger_transfer p WHERE p.id = NEW.pending_id AND p.phase = 'pending'
      AND p.debit_account_id = NEW.debit_account_id AND p.credit_account_id = NEW.credit_account_id
      AND NEW.amount <= p.amount AND (NEW.phase = 'post' OR NEW.amount = p.amount));
END;
""",
    """
CREATE TRIGGER IF NOT EXISTS ledger_transfer_apply_posted AFTER INSERT ON ledger_transfer WHEN NEW.phase = 'posted'
BEGIN
  UPDATE ledger_account SET debits_posted = debits_posted + NEW.amount WHERE id = NEW.debit_account_id AND cached;
  UPDATE ledger_account SET credits_posted = credits_posted + NEW.amount WHERE id = NEW.credit_account_id AND cached;
END;
""",
    """
CREATE TRIGGER IF NOT EXISTS ledger_transfer_apply_pending AFTER INSERT ON ledger_transfer WHEN NEW.phase = 'pending'
BEGIN
  UPDATE ledger_account SET debits_pending = debits_pending + NEW.amount WHERE id = NEW.debit_account_id AND cached;
  UPDATE ledger_account SET credits_pending = credits_pending + NEW.amount WHERE id = NEW.credit_account_id AND cached;
END;
""",
    """
CREATE TRIGGER IF NOT EXISTS ledger_transfer_apply_resolution AFTER INSERT ON ledger_transfer WHEN NEW.phase IN ('post', 'void')
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
]


def reinstall_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_TRANSFER_TRIGGERS:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0009_transfer_mark"),
    ]

    operations = [
        migrations.AlterField(
            model_name="transfer",
            name="key",
            field=models.CharField(max_length=100, unique=True),
        ),
        migrations.RunPython(reinstall_sqlite_triggers, migrations.RunPython.noop),
    ]
