#!/usr/bin/env bash
# Backup and restore drill (docs/operators.md, "Backups and recovery").
#
# Builds a live demo city in a scratch PostgreSQL database, backs it up with pg_dump (custom format),
# restores it into a fresh database with pg_restore, and proves the copy is whole:
#   * `manage.py ledger_verify` on the restored database reports OK (balances, zero sum, every seal);
#   * every table has the same number of rows, every account the same four balance counters, and the
#     latest seal hash is the same as in the original;
#   * `manage.py id_keys_check` decrypts every ID number with this machine's FIELD_SALT_KEY/ID_HASH_KEY
#     and finds its keyed hash (a backup restored without the right keys fails here).
# It prints how long each step took and the size of the backup (the figures in docs/operators.md).
#
# Usage:  scripts/backup_drill.sh [--scale tiny|small|city] [--keep] [--workdir DIR]
# Env:    DRILL_SERVER   postgres://user@host:port of a server where scratch databases may be made
#                        (default postgres://postgres@127.0.0.1:5432)
#         DRILL_PREFIX   name prefix of the two scratch databases (default tb_drill); both are DROPPED
#                        and made again, so never point it at a real database
#         PY             the Python with the project installed (default .venv/bin/python)
# Exit status 0 only when every check passed.
set -euo pipefail
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
cd "$(dirname "$0")/.."

scale=tiny
keep=0
workdir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --workdir) workdir="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "backup_drill: unknown option $1" >&2; exit 2 ;;
  esac
done

server="${DRILL_SERVER:-postgres://postgres@127.0.0.1:5432}"
prefix="${DRILL_PREFIX:-tb_drill}"
PY="${PY:-.venv/bin/python}"
case "$prefix" in
  *[!a-z0-9_]*|"") echo "backup_drill: DRILL_PREFIX must be lower-case letters, digits and _" >&2; exit 2 ;;
esac
src="${prefix}_src"
dst="${prefix}_dst"
src_url="$server/$src"
dst_url="$server/$dst"
if [ -z "$workdir" ]; then workdir="$(mktemp -d)"; cleanup_dir=1; else mkdir -p "$workdir"; cleanup_dir=0; fi
dump="$workdir/$src.dump"

cleanup() {
  if [ "$keep" = 0 ]; then
    psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS $src" -c "DROP DATABASE IF EXISTS $dst" >/dev/null 2>&1 || true
    if [ "$cleanup_dir" = 1 ]; then rm -rf "$workdir"; fi
  fi
}
trap cleanup EXIT

now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
step() { echo "backup_drill: $*"; }

# The same query on both databases: exact row counts of every table, the accounts' balance counters and
# the latest seal. Its output must be identical.
fingerprint_sql="
SELECT 'rows ' || table_name || ' ' ||
       (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name),
                                             false, true, '')))[1]::text
  FROM information_schema.tables
 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
UNION ALL
SELECT 'balances ' || count(*) || ' ' ||
       coalesce(md5(string_agg(code || ':' || debits_posted || ':' || credits_posted || ':' || debits_pending
                               || ':' || credits_pending || ':' || status, ',' ORDER BY code)), '-')
  FROM ledger_account
UNION ALL
SELECT 'transfers ' || count(*) || ' ' || coalesce(sum(amount), 0) || ' ' ||
       coalesce(md5(string_agg(id || ':' || key || ':' || amount || ':' || debit_account_id || ':' ||
                               credit_account_id || ':' || phase, ',' ORDER BY id)), '-')
  FROM ledger_transfer
UNION ALL
SELECT 'seal ' || coalesce((SELECT hash FROM ledger_seal ORDER BY last_id DESC LIMIT 1), 'none')
ORDER BY 1;"

step "scale $scale, databases $src and $dst on $server, backup file $dump"
psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS $src" -c "DROP DATABASE IF EXISTS $dst" >/dev/null
psql -q "$server/postgres" -c "CREATE DATABASE $src" >/dev/null

t0=$(now)
DATABASE_URL="$src_url" "$PY" manage.py migrate --noinput >/dev/null
DATABASE_URL="$src_url" "$PY" manage.py seed_demo --scale "$scale" >/dev/null
DATABASE_URL="$src_url" "$PY" manage.py ledger_seal >/dev/null
t1=$(now)
step "built the demo city and sealed its ledger in $(took "$t0" "$t1") s"

DATABASE_URL="$src_url" "$PY" manage.py ledger_verify >"$workdir/verify_src.txt" || {
  cat "$workdir/verify_src.txt"; echo "backup_drill: FAILED: the ORIGINAL ledger does not verify" >&2; exit 1; }
psql -qAt "$src_url" -c "$fingerprint_sql" >"$workdir/fingerprint_src.txt"

t2=$(now)
pg_dump --format=custom --compress=6 --file="$dump" "$src_url"
t3=$(now)
size=$(du -k "$dump" | cut -f1)
db_size=$(psql -qAt "$src_url" -c "SELECT pg_database_size(current_database()) / 1024")
step "pg_dump: ${size} KiB backup of a ${db_size} KiB database in $(took "$t2" "$t3") s"

psql -q "$server/postgres" -c "CREATE DATABASE $dst" >/dev/null
t4=$(now)
pg_restore --no-owner --exit-on-error --jobs=2 --dbname="$dst_url" "$dump"
t5=$(now)
step "pg_restore into $dst in $(took "$t4" "$t5") s"

t6=$(now)
if ! DATABASE_URL="$dst_url" "$PY" manage.py ledger_verify >"$workdir/verify_dst.txt"; then
  cat "$workdir/verify_dst.txt"; echo "backup_drill: FAILED: ledger_verify on the restored database" >&2; exit 1
fi
t7=$(now)
step "ledger_verify on the restored database: OK in $(took "$t6" "$t7") s"
sed -n 's/^ *\(transfers checked\|seals checked\|sum over all\|latest seal\)/    \1/p' "$workdir/verify_dst.txt"

psql -qAt "$dst_url" -c "$fingerprint_sql" >"$workdir/fingerprint_dst.txt"
if ! diff -u "$workdir/fingerprint_src.txt" "$workdir/fingerprint_dst.txt"; then
  echo "backup_drill: FAILED: the restored database differs from the original (diff above)" >&2; exit 1
fi
tables=$(grep -c '^rows ' "$workdir/fingerprint_dst.txt")
step "row counts of $tables tables, account balances, transfers and the latest seal are identical"

if ! DATABASE_URL="$dst_url" "$PY" manage.py id_keys_check; then
  echo "backup_drill: FAILED: the ID numbers of the restored database cannot be read with these keys" >&2; exit 1
fi

step "OK (restore + verify: $(took "$t4" "$t7") s; whole drill: $(took "$t0" "$(now)") s)"
