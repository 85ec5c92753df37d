#!/bin/sh
# The dumps on the backup volume a restore can name, oldest first, with their
# size and whether their checksum is there:
#   list.sh
# Each name is what restore.fromBackup takes (or "latest" for the last one).
set -eu
. "$(dirname "$0")/common.sh"
require_env BACKUP_DIR

found=0
for dump in $(ls -1 "$BACKUP_DIR"/$DUMP_GLOB 2>/dev/null || true); do
  found=1
  size=$(wc -c < "$dump" | tr -d ' ')
  if [ -f "$dump.sha256" ]; then checked="checksum"; else checked="no-checksum"; fi
  printf '%s\t%s bytes\t%s\n' "$(basename "$dump")" "$size" "$checked"
done
if [ "$found" = 0 ]; then
  echo "no dump in $BACKUP_DIR yet"
else
  echo "restore one with: pulumi config set --path restore.fromBackup <name> (or latest)"
fi
