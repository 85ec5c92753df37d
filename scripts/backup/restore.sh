#!/bin/sh
# Restore a dump into TARGET_DATABASE_URL (default DATABASE_URL).
# RESTORE_FROM is "latest" or a dump file name in BACKUP_DIR.
set -eu
. "$(dirname "$0")/common.sh"
require_env BACKUP_DIR RESTORE_FROM
target="${TARGET_DATABASE_URL:-${DATABASE_URL:-}}"
[ -n "$target" ] || fail "TARGET_DATABASE_URL (or DATABASE_URL) is not set"

if [ "$RESTORE_FROM" = "latest" ]; then
  dump=$(newest_dump)
  [ -n "$dump" ] || fail "no dump in $BACKUP_DIR"
else
  case "$RESTORE_FROM" in */*|*..*) fail "RESTORE_FROM must be a file name in the backup directory" ;; esac
  dump="$BACKUP_DIR/$RESTORE_FROM"
  [ -f "$dump" ] || fail "no dump named $RESTORE_FROM in $BACKUP_DIR"
fi
if [ -f "$dump.sha256" ]; then
  (cd "$BACKUP_DIR" && sha256sum -c "$(basename "$dump").sha256" > /dev/null) || fail "checksum mismatch for $(basename "$dump")"
fi
verify_dump "$dump" || fail "$(basename "$dump") does not read back with pg_restore --list"

log "restoring $(basename "$dump")"
# One transaction: a restore that fails half-way leaves the database as it was.
pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
  --dbname="$target" "$dump" || fail "pg_restore failed; the target database was left unchanged"
log "restore complete: $(basename "$dump")"
