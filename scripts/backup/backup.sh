#!/bin/sh
# Dump DATABASE_URL in custom format to $BACKUP_DIR, verify the dump with
# pg_restore --list, and only then give it its final name; then prune.
set -eu
. "$(dirname "$0")/common.sh"
require_env DATABASE_URL BACKUP_DIR

timestamp=$(date -u +%Y%m%dT%H%M%SZ)
final="$BACKUP_DIR/${DUMP_PREFIX}-${timestamp}.dump"
partial="$final.partial"
trap 'rm -f "$partial"' EXIT INT TERM

log "dumping database to $(basename "$final")"
# The restore ledger (schema monad_synapse_ops) stays out of dumps: restoring
# an old dump must never roll back the record of which restores ran.
pg_dump --format=custom --compress=6 --no-owner --no-privileges --exclude-schema=monad_synapse_ops \
  --file="$partial" --dbname="$DATABASE_URL" \
  || fail "pg_dump failed"
verify_dump "$partial" || fail "the dump does not read back with pg_restore --list"
(cd "$BACKUP_DIR" && sha256sum "$(basename "$partial")") | sed 's/\.partial$//' > "$final.sha256"
mv "$partial" "$final"
trap - EXIT INT TERM
log "backup complete: $(basename "$final") ($(wc -c < "$final") bytes)"

"$(dirname "$0")/prune.sh"
