#!/bin/sh
# Object-storage leg of the backups (backup.storage.kind: s3), run with the
# AWS CLI in its own container beside the PostgreSQL one:
#   s3.sh upload           upload the newest local dump (+ .sha256), then prune remotely
#   s3.sh download NAME    fetch NAME, or "latest", into $BACKUP_DIR
#   s3.sh prune            delete remote dumps older than RETENTION_DAYS, never the newest
#   s3.sh list             the remote dumps a restore can name, oldest first
# S3_BUCKET, S3_PREFIX and optionally S3_ENDPOINT (S3-compatible stores);
# credentials come from the usual AWS_* variables.
set -eu
. "$(dirname "$0")/common.sh"
require_env BACKUP_DIR S3_BUCKET

prefix="${S3_PREFIX:+${S3_PREFIX%/}/}"
# As the settings allow (backup.storage.s3.prefix): safe in a filter and in
# the JSON of a delete request.
case "$prefix" in *[!A-Za-z0-9/_.-]*) fail "S3_PREFIX may hold only letters, digits and / _ . -: $S3_PREFIX" ;; esac
aws_s3() {
  if [ -n "${S3_ENDPOINT:-}" ]; then aws --endpoint-url "$S3_ENDPOINT" "$@"; else aws "$@"; fi
}

is_dump_name() {
  # The names the backup writes (and the settings accept for a restore):
  # fixed width, so name order is time order. Anything else under the prefix
  # (a manual copy, monad-synapse-manual.dump) is not ours to list, restore
  # or delete, and a glob never reaches the CLI's filters.
  case "$1" in
    "$DUMP_PREFIX"-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z.dump) return 0 ;;
  esac
  return 1
}

remote_dumps() {
  # Our dumps' names only, oldest first.
  keys=$(aws_s3 s3api list-objects-v2 --bucket "$S3_BUCKET" --prefix "${prefix}${DUMP_PREFIX}-" \
    --query 'Contents[].Key' --output text) || fail "cannot list s3://$S3_BUCKET/${prefix}"
  printf '%s\n' "$keys" | tr '\t' '\n' | while IFS= read -r key; do
    name="${key#"$prefix"}"
    if is_dump_name "$name"; then printf '%s\n' "$name"; fi
  done | sort
}

upload() {
  dump=$(newest_dump)
  [ -n "$dump" ] || fail "no dump in $BACKUP_DIR to upload"
  name=$(basename "$dump")
  aws_s3 s3 cp --only-show-errors "$dump" "s3://$S3_BUCKET/${prefix}$name" || fail "upload of $name failed"
  aws_s3 s3 cp --only-show-errors "$dump.sha256" "s3://$S3_BUCKET/${prefix}$name.sha256" || fail "upload of $name.sha256 failed"
  log "uploaded $name to s3://$S3_BUCKET/${prefix}"
  prune
}

download() {
  name="$1"
  if [ "$name" = "latest" ]; then
    names=$(remote_dumps) || exit 1  # a failed listing is no empty bucket
    name=$(printf '%s\n' "$names" | tail -n 1)
    [ -n "$name" ] || fail "no dump under s3://$S3_BUCKET/${prefix}"
  fi
  is_dump_name "$name" || fail "not a dump name (${DUMP_PREFIX}-YYYYMMDDTHHMMSSZ.dump): $name"
  # The dump and its checksum file in one CLI run (each start of the CLI
  # costs about half a second of CPU); the filters match these two keys only.
  aws_s3 s3 cp --only-show-errors --recursive --exclude '*' --include "$name" --include "$name.sha256" \
    "s3://$S3_BUCKET/${prefix}" "$BACKUP_DIR/" || fail "download of $name failed"
  [ -f "$BACKUP_DIR/$name" ] || fail "download of $name failed: no such dump under s3://$S3_BUCKET/${prefix}"
  [ -f "$BACKUP_DIR/$name.sha256" ] || log "no checksum file for $name"
  log "downloaded $name"
}

prune() {
  require_env RETENTION_DAYS
  case "$RETENTION_DAYS" in ''|*[!0-9]*|0) fail "RETENTION_DAYS must be a whole number of days >= 1" ;; esac
  cutoff="${DUMP_PREFIX}-$(date -u -d "@$(( $(date -u +%s) - RETENTION_DAYS * 86400 ))" +%Y%m%dT%H%M%SZ).dump"
  # One listing: the newest kept is one of the names judged (and each aws
  # start costs about half a second of CPU).
  names=$(remote_dumps) || exit 1
  newest=$(printf '%s\n' "$names" | tail -n 1)
  # DeleteObjects takes at most 1000 keys per request: 500 dumps and their
  # checksum files (S3_DELETE_BATCH, fewer, for a test).
  batch="${S3_DELETE_BATCH:-500}"
  case "$batch" in ''|*[!0-9]*|0) fail "S3_DELETE_BATCH must be 1..500" ;; esac
  [ "$batch" -le 500 ] || fail "S3_DELETE_BATCH must be 1..500"
  objects=""
  pruned=""
  count=0
  for name in $names; do
    # Same fixed-width names: string order is time order ("sort", as
    # `[ a \< b ]` is not POSIX).
    older=$(printf '%s\n%s\n' "$name" "$cutoff" | sort | head -n 1)
    if [ "$name" = "$newest" ] || [ "$name" = "$cutoff" ] || [ "$older" != "$name" ]; then
      continue
    fi
    # Dump names and the key prefix (the settings allow letters, digits and
    # / _ . -) need no JSON escaping.
    objects="${objects:+$objects,}{\"Key\":\"${prefix}$name\"},{\"Key\":\"${prefix}$name.sha256\"}"
    pruned="$pruned $name"
    count=$((count + 1))
    if [ "$count" -eq "$batch" ]; then
      delete_objects "$objects" "$pruned"
      objects=""
      pruned=""
      count=0
    fi
  done
  [ -z "$objects" ] || delete_objects "$objects" "$pruned"
}

delete_objects() {
  # One request for many keys; a key S3 could not delete comes back in Errors.
  failed=$(aws_s3 s3api delete-objects --bucket "$S3_BUCKET" --delete "{\"Objects\":[$1],\"Quiet\":true}" \
    --query 'Errors[].Key' --output text) || fail "pruning s3://$S3_BUCKET/${prefix} failed"
  case "$failed" in ''|None) ;; *) fail "could not prune: $failed" ;; esac
  for name in $2; do log "pruned s3://$S3_BUCKET/${prefix}$name"; done
}

list() {
  names=$(remote_dumps) || exit 1
  if [ -z "$names" ]; then
    echo "no dump under s3://$S3_BUCKET/${prefix} yet"
    return 0
  fi
  for name in $names; do printf '%s\n' "$name"; done
  echo "restore one with: pulumi config set --path restore.fromBackup <name> (or latest)"
}

case "${1:-}" in
  upload) upload ;;
  download) download "${2:-latest}" ;;
  prune) prune ;;
  list) list ;;
  *) fail "usage: s3.sh upload | download NAME|latest | prune | list" ;;
esac
