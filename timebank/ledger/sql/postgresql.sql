-- Ledger invariants kept by PostgreSQL itself (applied by migration ledger/0002_triggers).
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
-- statement
DROP TRIGGER IF EXISTS ledger_transfer_apply ON ledger_transfer
-- statement
CREATE TRIGGER ledger_transfer_apply AFTER INSERT ON ledger_transfer
  FOR EACH ROW WHEN (NEW.batch_id IS NULL) EXECUTE FUNCTION ledger_transfer_apply()
-- statement
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
-- statement
CREATE TRIGGER ledger_transfer_apply_batch AFTER INSERT ON ledger_transfer
  REFERENCING NEW TABLE AS ledger_new_transfers
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_transfer_apply_batch()
