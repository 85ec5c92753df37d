#!/bin/sh
# Restore a dump into TARGET_DATABASE_URL (default DATABASE_URL).
# RESTORE_FROM is "latest" or a dump file name in BACKUP_DIR.
#
# Idempotent per request: RESTORE_REQUEST_ID names the request, and a ledger
# table in the target database (schema monad_synapse_ops, never part of a
# dump) records it. A request is claimed before anything else happens, and
# marked done inside the restore's own transaction, so whoever re-creates
# the Job (a changed pod template, `pulumi up --refresh` after the Job's
# TTL, a retried `pulumi up`), a request that already ran never touches the
# data again: done is a no-op, failed or interrupted is refused.
# RESTORE_SCRATCH=1 (the drill, into a throwaway database) skips the ledger.
set -eu
. "$(dirname "$0")/common.sh"
require_env BACKUP_DIR RESTORE_FROM
target="${TARGET_DATABASE_URL:-${DATABASE_URL:-}}"
[ -n "$target" ] || fail "TARGET_DATABASE_URL (or DATABASE_URL) is not set"
scratch="${RESTORE_SCRATCH:-0}"
request="${RESTORE_REQUEST_ID:-}"
if [ "$scratch" != "1" ]; then
  [ -n "$request" ] || fail "RESTORE_REQUEST_ID is not set: every restore of a live database needs a request id"
  # One line of printable text (no newline, carriage return or tab).
  [ "$(printf '%s' "$request" | tr -d '\r\t' | wc -l)" -eq 0 ] && [ "$(printf '%s' "$request" | tr -d '\r\t')" = "$request" ] \
    || fail "RESTORE_REQUEST_ID must be one line of text"
fi

if [ "$RESTORE_FROM" = "latest" ]; then
  dump=$(newest_dump)
  [ -n "$dump" ] || fail "no dump in $BACKUP_DIR"
else
  case "$RESTORE_FROM" in */*|*..*) fail "RESTORE_FROM must be a file name in the backup directory" ;; esac
  dump="$BACKUP_DIR/$RESTORE_FROM"
  [ -f "$dump" ] || fail "no dump named $RESTORE_FROM in $BACKUP_DIR"
fi
name=$(basename "$dump")

# SQL string literal of a value (standard_conforming_strings is on: only ' needs doubling).
sql_literal() {
  printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"
}

ledger_sql() {
  psql --no-psqlrc --quiet --tuples-only --no-align -v ON_ERROR_STOP=1 --dbname="$target" "$@"
}

if [ "$scratch" != "1" ]; then
  request_sql=$(sql_literal "$request")
  # Claim the request in a transaction of its own, before any check that
  # could fail: a request that failed once is remembered as failed.
  state=$(ledger_sql <<SQL
CREATE SCHEMA IF NOT EXISTS monad_synapse_ops;
CREATE TABLE IF NOT EXISTS monad_synapse_ops.restore_requests (
  request_id text PRIMARY KEY,
  dump text NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
WITH claimed AS (
  INSERT INTO monad_synapse_ops.restore_requests (request_id, dump, status)
  VALUES ($request_sql, $(sql_literal "$name"), 'running')
  ON CONFLICT (request_id) DO NOTHING
  RETURNING 'claimed'::text AS state
)
SELECT coalesce((SELECT state FROM claimed),
                (SELECT status || ' ' || dump || ' ' || started_at FROM monad_synapse_ops.restore_requests
                 WHERE request_id = $request_sql));
SQL
  ) || fail "cannot record the restore request in the target database (the role needs CREATE on it)"
  case "$state" in
    claimed) log "restore request claimed" ;;
    done*) log "restore request already done (${state#done }); nothing to do: the database is not touched again"; exit 0 ;;
    *) fail "restore request already ran and did not complete (${state}); the database was not touched again. Set a new restore.requestId to try again" ;;
  esac
fi

mark_failed() {
  [ "$scratch" = "1" ] && return 0
  ledger_sql -c "UPDATE monad_synapse_ops.restore_requests SET status = 'failed', finished_at = now() WHERE request_id = $request_sql" \
    > /dev/null 2>&1 || true
}

if [ -f "$dump.sha256" ]; then
  (cd "$BACKUP_DIR" && sha256sum -c "$name.sha256" > /dev/null) || { mark_failed; fail "checksum mismatch for $name"; }
fi
verify_dump "$dump" || { mark_failed; fail "$name does not read back with pg_restore --list"; }

# Extensions are the superuser's: CloudNativePG creates pg_stat_statements in
# the app database at initdb (postInitApplicationSQL), and the app role this
# runs as may neither drop nor create it ("must be owner of extension",
# "must be superuser to create this extension"). They hold no data: leave
# their entries out of the restore (pg_restore --use-list), and the target
# keeps the extensions it has.
toc=$(mktemp)
trap 'rm -f "$toc"' EXIT
pg_restore --list "$dump" | grep -v -E '^[0-9]+; [0-9]+ [0-9]+ (EXTENSION|COMMENT - EXTENSION) ' > "$toc" \
  || { mark_failed; fail "cannot read the table of contents of $name"; }

log "restoring $name"
# One transaction: the restore and the ledger's "done" commit together, or
# neither does and the database is left as it was.
if ! {
  pg_restore --clean --if-exists --no-owner --no-privileges --exclude-schema=monad_synapse_ops --use-list="$toc" \
    --file=- "$dump" \
    || printf '\\.\nSELECT 1 / 0 AS pg_restore_failed;\n'  # ends any COPY, then fails the transaction
  if [ "$scratch" != "1" ]; then
    printf "UPDATE monad_synapse_ops.restore_requests SET status = 'done', finished_at = now() WHERE request_id = %s;\n" \
      "$request_sql"
  fi
} | psql --no-psqlrc --quiet --single-transaction -v ON_ERROR_STOP=1 --dbname="$target" > /dev/null; then
  mark_failed
  fail "the restore failed; the target database was left unchanged"
fi
log "restore complete: $name"
