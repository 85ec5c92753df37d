"""The runbook operations of the README's table, as config changes (data
shared by the benchmark and the tests)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    name: str
    sets: tuple[str, ...]  # the config change, as render --set flags; {namespace} is filled in

    def sets_for(self, namespace: str) -> tuple[str, ...]:
        return tuple(assignment.format(namespace=namespace) for assignment in self.sets)


OPERATIONS = (
    Operation("maintenance mode on", ("maintenanceMode=true",)),
    Operation("new app setting", ("appConfig.NEW_CONFIG_KEY=new_value",)),
    Operation("rotate JWT secret", ("jwtSecretVersion=2",)),
    Operation("scale up (min 8)", ("autoscaling.minReplicas=8",)),
    Operation("raise HPA max (15)", ("autoscaling.maxReplicas=15",)),
    Operation("memory limit 2Gi", ("resources.limits.memory=2Gi",)),
    Operation("release to idle color", ("colors.green.image=ghcr.io/monad-synapse/monad-synapse:1.5.0",)),
    Operation("switch / roll back", ("activeColor=green",)),
    Operation("emergency switch (no analysis)", ("activeColor=green", "promotion.skipAnalysis=true")),
    Operation("VPA Initial", ("vpa.updateMode=Initial",)),
    Operation("DDoS: connections 10", ("rateLimit.connections=10",)),
    Operation("allow-list a source", ("rateLimit.allowlistCidrs[0]=203.0.113.0/24",)),
    Operation("restore latest backup", ("maintenanceMode=true", "restore.fromBackup=latest", "restore.confirm={namespace}",
                                           "restore.requestId=drill-{namespace}")),
)
