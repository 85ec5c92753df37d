#!/usr/bin/env bash
# Writes the job environment's cluster credential to ~/.kube/config, or
# stops naming the environment whose secret is missing. There is no
# fallback to another credential: an empty production secret must never
# send a production job to the staging cluster (or the other way round).
set -euo pipefail
if [ -z "${KUBECONFIG_CONTENT:-}" ]; then
  echo "::error::secret KUBECONFIG is empty in environment ${ENVIRONMENT:-?}: set it in the repository's Settings > Environments" >&2
  exit 1
fi
mkdir -p "$HOME/.kube"
umask 077
printf '%s' "$KUBECONFIG_CONTENT" > "$HOME/.kube/config"
