"""The insert trigger names its refusals (``CONSTRAINT``), so the services tell them apart by
``diag.constraint_name`` instead of by message text.

The function's text is frozen here (not read from sql/postgresql.sql), so a later edit of that file does not
change what this migration installs. SQLite has no constraint names in its errors; nothing to do there.
"""

from django.db import migrations

APPLY = r"""
CREATE OR REPLACE FUNCTION ledger_transfer_apply() RETURNS trigger AS $$
DECLARE
  p ledger_transfer%ROWTYPE;
  o ledger_transfer%ROWTYPE;
BEGIN
  IF NEW.reverses_id IS NOT NULL THEN
    SELECT * INTO o FROM ledger_transfer WHERE id = NEW.reverses_id;
    IF o.phase NOT IN ('posted', 'post') OR o.debit_account_id <> NEW.credit_account_id
       OR o.credit_account_id <> NEW.debit_account_id OR o.amount <> NEW.amount OR NEW.phase <> 'posted' THEN
      RAISE EXCEPTION 'reversal % does not mirror transfer %', NEW.key, NEW.reverses_id
        USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_reversal_mirrors_original';
    END IF;
  END IF;
  IF NEW.phase IN ('post', 'void') THEN
    SELECT * INTO p FROM ledger_transfer WHERE id = NEW.pending_id;
    IF p.phase <> 'pending' OR p.debit_account_id <> NEW.debit_account_id
       OR p.credit_account_id <> NEW.credit_account_id OR NEW.amount > p.amount
       OR (NEW.phase = 'void' AND NEW.amount <> p.amount) THEN
      RAISE EXCEPTION 'resolution % does not match pending transfer %', NEW.key, NEW.pending_id
        USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_resolution_matches_pending';
    END IF;
    UPDATE ledger_account SET debits_pending = debits_pending - p.amount,
        debits_posted = debits_posted + CASE WHEN NEW.phase = 'post' THEN NEW.amount ELSE 0 END
      WHERE id = NEW.debit_account_id AND cached;
    UPDATE ledger_account SET credits_pending = credits_pending - p.amount,
        credits_posted = credits_posted + CASE WHEN NEW.phase = 'post' THEN NEW.amount ELSE 0 END
      WHERE id = NEW.credit_account_id AND cached;
  ELSIF NEW.phase = 'pending' THEN
    UPDATE ledger_account SET debits_pending = debits_pending + NEW.amount WHERE id = NEW.debit_account_id AND cached;
    UPDATE ledger_account SET credits_pending = credits_pending + NEW.amount WHERE id = NEW.credit_account_id AND cached;
  ELSE
    UPDATE ledger_account SET debits_posted = debits_posted + NEW.amount WHERE id = NEW.debit_account_id AND cached;
    UPDATE ledger_account SET credits_posted = credits_posted + NEW.amount WHERE id = NEW.credit_account_id AND cached;
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""


# What this migration changes in the SQL that ledger/0002 installed, frozen (pinned by
# ledger/tests/test_migration_sql.py; ledger/sql/postgresql.sql ends with it).
LEDGER_SQL_CHANGES = {"postgresql": APPLY}


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPLY, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0010_transfer_key_client_namespace")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
