# Shared helpers of the backup scripts. POSIX sh: the jobs run on the
# postgres Alpine image (busybox), the tests on Debian's dash.
# Never print DATABASE_URL or anything derived from it: it holds a password.

log() {
  printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

fail() {
  log "ERROR: $*"
  exit 1
}

require_env() {
  for name in "$@"; do
    eval "value=\${$name:-}"
    [ -n "$value" ] || fail "$name is not set"
  done
}

# Good dumps: verified, renamed from .partial; names sort by time.
DUMP_PREFIX="${DUMP_PREFIX:-monad-synapse}"
DUMP_GLOB="${DUMP_PREFIX}-*.dump"

newest_dump() {
  # ls -1 sorts by name, and names carry a UTC timestamp.
  ls -1 "$BACKUP_DIR"/$DUMP_GLOB 2>/dev/null | tail -n 1
}

verify_dump() {
  # pg_restore reads the whole table of contents; a truncated or corrupt
  # custom-format dump fails here.
  contents=$(pg_restore --list "$1") || return 1
  [ "$(printf '%s\n' "$contents" | grep -c ' TABLE DATA ')" -ge "${MIN_TABLES:-0}" ]
}
