"""What makes CloudNativePG restart a Cluster's instances (pure): the
operator rolls them, replicas first and the primary last (a switchover or a
restart in place), when the PostgreSQL image or the pods' resources change,
or a parameter PostgreSQL reads only at start (pg_settings.context
`postmaster`) changes; other parameters are reloaded live. (CloudNativePG
docs/src/rolling_update.md; pkg/controller/instance rollout checks.)

The parameters are those of the settings' allow list whose context is
`postmaster` in PostgreSQL 15 (`postgres --describe-config`; the test holds
them to a real server), plus pg_stat_statements.max, which its extension
documents as settable only at server start."""

from __future__ import annotations

from typing import Iterable

RESTART_PARAMETERS = frozenset(
    {"autovacuum_max_workers", "max_connections", "max_worker_processes", "shared_buffers", "pg_stat_statements.max"}
)
PARAMETERS_PATH = "spec.postgresql.parameters."


def restarts_instances(paths: Iterable[str]) -> bool:
    """Whether changing these paths of a Cluster restarts its instances."""
    for path in paths:
        if path == "spec.imageName" or path.startswith(("spec.imageName.", "spec.resources")):
            return True
        if path.startswith(PARAMETERS_PATH) and path[len(PARAMETERS_PATH) :] in RESTART_PARAMETERS:
            return True
    return False
