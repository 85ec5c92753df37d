#!/bin/sh
# Delete dumps older than RETENTION_DAYS, but always keep the newest good
# dump, however old: a backup that stopped working must not erase the last
# one that did. Leftover .partial files from killed runs go too.
set -eu
. "$(dirname "$0")/common.sh"
require_env BACKUP_DIR RETENTION_DAYS

case "$RETENTION_DAYS" in
  ''|*[!0-9]*|0) fail "RETENTION_DAYS must be a whole number of days >= 1" ;;
esac

newest=$(newest_dump)
find "$BACKUP_DIR" -maxdepth 1 -name "${DUMP_PREFIX}-*.dump.partial" -mmin +60 -exec rm -f {} \;
for dump in $(find "$BACKUP_DIR" -maxdepth 1 -name "$DUMP_GLOB" -mtime +"$((RETENTION_DAYS - 1))"); do
  if [ "$dump" = "$newest" ]; then
    log "keeping $(basename "$dump"): older than $RETENTION_DAYS days but the newest good dump"
    continue
  fi
  rm -f "$dump" "$dump.sha256"
  log "pruned $(basename "$dump")"
done
