#!/bin/sh
# Disaster-recovery drill (the runbook's monthly DR test, automated): restore
# the newest dump into a scratch database on the same server, run a sanity
# query, drop the scratch database. Exits non-zero if any step fails.
set -eu
. "$(dirname "$0")/common.sh"
require_env DATABASE_URL BACKUP_DIR
query="${DRILL_SANITY_QUERY:-SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'}"
# It runs as the owner of the live database, so it may only read: one
# statement (in one -c string, a COMMIT would end the read-only transaction
# and what follows would run read-write), in a read-only transaction.
query=$(printf '%s' "$query" | sed -e 's/[[:space:];]*$//')
case "$query" in
  *';'*) fail "the sanity query must be one statement (no ';' inside): it only reads the restored copy" ;;
esac
scratch="restore_drill_$(date -u +%Y%m%d%H%M%S)"

# The scratch database's URL: DATABASE_URL with its database name replaced.
scratch_url=$(printf '%s' "$DATABASE_URL" | sed -E "s|^([a-z]+://[^/]+)/[^?]*|\1/$scratch|")
# Never restore over the real database: stop unless the URL really changed.
case "$scratch_url" in
  *"/$scratch"|*"/$scratch?"*) ;;
  *) fail "DATABASE_URL must name a database (scheme://host/dbname) for the drill to derive its scratch database" ;;
esac

cleanup() {
  psql --quiet --no-psqlrc --dbname="$DATABASE_URL" -c "DROP DATABASE IF EXISTS $scratch" > /dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

psql --quiet --no-psqlrc --dbname="$DATABASE_URL" -v ON_ERROR_STOP=1 -c "CREATE DATABASE $scratch" > /dev/null \
  || fail "cannot create the scratch database (the backup role needs CREATEDB)"
RESTORE_FROM=latest RESTORE_SCRATCH=1 TARGET_DATABASE_URL="$scratch_url" "$(dirname "$0")/restore.sh"
result=$(PGOPTIONS="-c default_transaction_read_only=on" psql --no-psqlrc --tuples-only --no-align \
    --single-transaction --dbname="$scratch_url" -v ON_ERROR_STOP=1 -c "$query") \
  || fail "the sanity query failed on the restored copy (it may only read: it runs read-only)"
case "$result" in
  ''|0|f|false) fail "the sanity query returned '$result' on the restored copy" ;;
esac
log "drill passed: sanity query returned $result"
