"""The runbook operations of the README's table, as config changes (data
shared by the benchmark and the tests)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    name: str
    runbook: str  # what on-call ran by hand
    sets: tuple[str, ...]  # the config change, as render --set flags; {namespace} is filled in

    def sets_for(self, namespace: str) -> tuple[str, ...]:
        return tuple(assignment.format(namespace=namespace) for assignment in self.sets)


OPERATIONS = (
    Operation("maintenance mode on", "kubectl patch configmap ... MAINTENANCE_MODE + rollout restart",
              ("maintenanceMode=true",)),
    Operation("new app setting", "kubectl patch configmap ... NEW_CONFIG_KEY + rollout restart",
              ("appConfig.NEW_CONFIG_KEY=new_value",)),
    Operation("rotate JWT secret", "kubectl patch secret ... JWT_SECRET + rollout restart", ("jwtSecretVersion=2",)),
    Operation("scale up (min 8)", "kubectl scale deployment ... --replicas=8", ("autoscaling.minReplicas=8",)),
    Operation("raise HPA max (15)", "kubectl patch hpa ... maxReplicas 15", ("autoscaling.maxReplicas=15",)),
    Operation("memory limit 2Gi", "kubectl patch deployment ... resources", ("resources.limits.memory=2Gi",)),
    Operation("release to idle color", "deploy a release",
              ("colors.green.image=ghcr.io/monad-synapse/monad-synapse:1.5.0",)),
    Operation("switch / roll back", "rollback.sh rollback-blue-green", ("activeColor=green",)),
    Operation("VPA Initial", "VPA updateMode", ("vpa.updateMode=Initial",)),
    Operation("DDoS: connections 10", "kubectl patch ingress ... rate-limit-connections", ("rateLimit.connections=10",)),
    Operation("allow-list a source", "-", ("rateLimit.allowlistCidrs[0]=203.0.113.0/24",)),
    Operation("restore latest backup", "kubectl run ... pg_restore -d $DATABASE_URL",
              ("maintenanceMode=true", "restore.fromBackup=latest", "restore.confirm={namespace}")),
)
