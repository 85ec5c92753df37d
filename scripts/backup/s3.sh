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
aws_s3() {
  if [ -n "${S3_ENDPOINT:-}" ]; then aws --endpoint-url "$S3_ENDPOINT" "$@"; else aws "$@"; fi
}

remote_dumps() {
  # Names only, sorted: they carry a UTC timestamp.
  aws_s3 s3api list-objects-v2 --bucket "$S3_BUCKET" --prefix "${prefix}${DUMP_PREFIX}-" \
    --query 'Contents[].Key' --output text \
    | tr '\t' '\n' | grep '\.dump$' | grep -v '^None$' | sed "s|^${prefix}||" | sort || true
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
    name=$(remote_dumps | tail -n 1)
    [ -n "$name" ] || fail "no dump under s3://$S3_BUCKET/${prefix}"
  fi
  case "$name" in */*|*..*) fail "a dump name, not a path: $name" ;; esac
  aws_s3 s3 cp --only-show-errors "s3://$S3_BUCKET/${prefix}$name" "$BACKUP_DIR/$name" || fail "download of $name failed"
  aws_s3 s3 cp --only-show-errors "s3://$S3_BUCKET/${prefix}$name.sha256" "$BACKUP_DIR/$name.sha256" \
    || log "no checksum file for $name"
  log "downloaded $name"
}

prune() {
  require_env RETENTION_DAYS
  case "$RETENTION_DAYS" in ''|*[!0-9]*|0) fail "RETENTION_DAYS must be a whole number of days >= 1" ;; esac
  cutoff="${DUMP_PREFIX}-$(date -u -d "@$(( $(date -u +%s) - RETENTION_DAYS * 86400 ))" +%Y%m%dT%H%M%SZ).dump"
  # One listing: the newest kept is one of the names judged (and each aws
  # start costs about half a second of CPU).
  names=$(remote_dumps)
  newest=$(printf '%s\n' "$names" | tail -n 1)
  for name in $names; do
    # Same fixed-width names: string order is time order ("sort", as
    # `[ a \< b ]` is not POSIX).
    older=$(printf '%s\n%s\n' "$name" "$cutoff" | sort | head -n 1)
    if [ "$name" = "$newest" ] || [ "$name" = "$cutoff" ] || [ "$older" != "$name" ]; then
      continue
    fi
    aws_s3 s3 rm --only-show-errors "s3://$S3_BUCKET/${prefix}$name"
    aws_s3 s3 rm --only-show-errors "s3://$S3_BUCKET/${prefix}$name.sha256" || true
    log "pruned s3://$S3_BUCKET/${prefix}$name"
  done
}

list() {
  names=$(remote_dumps)
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
