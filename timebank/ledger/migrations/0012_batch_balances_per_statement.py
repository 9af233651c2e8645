"""Batches apply their transfers to the cached balances once per statement (PostgreSQL).

A batch of 1,000 transfers made the row trigger run 1,000 times (two UPDATEs each). Now rows that belong to
a batch (``batch_id`` set) are added up per account by a statement-level trigger over the inserted rows
(a transition table): one UPDATE for the credits, then one for the debits (credits first, so an account
that receives and spends in the same batch is never transiently below zero). Rows without a batch keep
the row trigger. Batch rows must be plain postings (no hold, resolution or reversal): the statement trigger
refuses others. So every path that writes a row still updates the balances in the same transaction.

The functions' text is frozen here. SQLite keeps its row triggers (it has no statement triggers).
"""

from django.db import migrations

STATEMENTS = [
    "DROP TRIGGER IF EXISTS ledger_transfer_apply ON ledger_transfer",
    """
CREATE TRIGGER ledger_transfer_apply AFTER INSERT ON ledger_transfer
  FOR EACH ROW WHEN (NEW.batch_id IS NULL) EXECUTE FUNCTION ledger_transfer_apply()
""",
    """
CREATE OR REPLACE FUNCTION ledger_transfer_apply_batch() RETURNS trigger AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM ledger_new_transfers WHERE batch_id IS NOT NULL) THEN
    RETURN NULL;
  END IF;
  IF EXISTS (SELECT 1 FROM ledger_new_transfers WHERE batch_id IS NOT NULL
             AND (phase <> 'posted' OR pending_id IS NOT NULL OR reverses_id IS NOT NULL)) THEN
    RAISE EXCEPTION 'a batch holds plain postings only'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_batch_rows_posted';
  END IF;
  UPDATE ledger_account a SET credits_posted = a.credits_posted + c.minutes
    FROM (SELECT credit_account_id AS id, sum(amount) AS minutes FROM ledger_new_transfers
          WHERE batch_id IS NOT NULL GROUP BY credit_account_id) c
    WHERE a.id = c.id AND a.cached;
  UPDATE ledger_account a SET debits_posted = a.debits_posted + d.minutes
    FROM (SELECT debit_account_id AS id, sum(amount) AS minutes FROM ledger_new_transfers
          WHERE batch_id IS NOT NULL GROUP BY debit_account_id) d
    WHERE a.id = d.id AND a.cached;
  RETURN NULL;
END
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER ledger_transfer_apply_batch AFTER INSERT ON ledger_transfer
  REFERENCING NEW TABLE AS ledger_new_transfers
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_transfer_apply_batch()
""",
]

# What this migration changes, frozen (pinned by ledger/tests/test_migration_sql.py; postgresql.sql ends with it).
LEDGER_SQL_CHANGES = {"postgresql": "\n-- statement\n".join(s.strip() for s in STATEMENTS) + "\n"}


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in STATEMENTS:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0011_trigger_constraint_names")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
