"""Install the ledger's database triggers and open the city's system accounts.

The SQL this migration installs is frozen below, verbatim (``LEDGER_SQL``): it never changes, whatever later
happens to ``ledger/sql/*.sql``. A change to the ledger's SQL is a new migration that carries its own
complete copy (see docs/ledger.md "The ledger's SQL"); ``ledger/tests/test_migration_sql.py`` pins a hash
of every copy and checks that the ``.sql`` files equal the latest one.
"""

from django.db import migrations

# Installed by this migration, verbatim; the same text as ledger/sql/<vendor>.sql had when it was written.
LEDGER_SQL = {
    "postgresql": r"""-- Ledger invariants kept by PostgreSQL itself (applied by migration ledger/0002_triggers).
-- 1. Transfers and seals are append-only: UPDATE and DELETE are refused.
-- 2. A post or void must match its pending transfer (same accounts, not more than reserved; void = all).
-- 3. A reversal must swap the accounts of a posted transfer, for the same amount.
-- 4. Every insert adds the transfer to the cached balances of its accounts, in the same transaction;
--    the CHECK constraints on ledger_account then refuse an overdrawn personal account.
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation';
END
$$ LANGUAGE plpgsql;
-- statement
CREATE TRIGGER ledger_transfer_append_only BEFORE UPDATE OR DELETE ON ledger_transfer
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
-- statement
CREATE TRIGGER ledger_seal_append_only BEFORE UPDATE OR DELETE ON ledger_seal
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
-- statement
CREATE OR REPLACE FUNCTION ledger_transfer_apply() RETURNS trigger AS $$
DECLARE
  p ledger_transfer%ROWTYPE;
  o ledger_transfer%ROWTYPE;
BEGIN
  IF NEW.reverses_id IS NOT NULL THEN
    SELECT * INTO o FROM ledger_transfer WHERE id = NEW.reverses_id;
    IF o.phase NOT IN ('posted', 'post') OR o.debit_account_id <> NEW.credit_account_id
       OR o.credit_account_id <> NEW.debit_account_id OR o.amount <> NEW.amount OR NEW.phase <> 'posted' THEN
      RAISE EXCEPTION 'reversal % does not mirror transfer %', NEW.key, NEW.reverses_id USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  IF NEW.phase IN ('post', 'void') THEN
    SELECT * INTO p FROM ledger_transfer WHERE id = NEW.pending_id;
    IF p.phase <> 'pending' OR p.debit_account_id <> NEW.debit_account_id
       OR p.credit_account_id <> NEW.credit_account_id OR NEW.amount > p.amount
       OR (NEW.phase = 'void' AND NEW.amount <> p.amount) THEN
      RAISE EXCEPTION 'resolution % does not match pending transfer %', NEW.key, NEW.pending_id
        USING ERRCODE = 'check_violation';
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
-- statement
CREATE TRIGGER ledger_transfer_apply AFTER INSERT ON ledger_transfer
  FOR EACH ROW EXECUTE FUNCTION ledger_transfer_apply();
""",
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

SYSTEM_ACCOUNTS = [
    # code, kind, name, cached, no_overdraw
    ("issuance", "issuance", "政府发行账户 Government issuance", False, False),
    ("guarantee", "guarantee", "政府兜底采购账户 Guarantee purchases", False, False),
    ("pool", "pool", "公益时间池 Public time pool", True, True),
]


def statements(vendor: str) -> list[str]:
    return [s.strip() for s in LEDGER_SQL[vendor].split("-- statement") if s.strip()]


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
