"""The runbook operations of the README's table, as config changes (data
shared by the benchmark and the tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone


@dataclass(frozen=True)
class Operation:
    name: str
    sets: tuple[str, ...]  # the config change, as render --set flags; {namespace} is filled in
    # The state it starts from (render --set flags on top of the stack file),
    # and the secrets both renders need (--set-secret).
    base: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()

    def base_for(self, namespace: str) -> tuple[str, ...]:
        return tuple(assignment.format(namespace=namespace) for assignment in self.base)

    def sets_for(self, namespace: str) -> tuple[str, ...]:
        """The full config of the state after: the base, then the change."""
        return self.base_for(namespace) + tuple(assignment.format(namespace=namespace) for assignment in self.sets)


# The in-cluster database, and each step of a point-in-time recovery.
IN_CLUSTER = ("database.kind=cloudnativepg", "database.cloudnativepg.objectStore.bucket=monad-synapse-wal")
OBJECT_STORE_KEYS = ("databaseS3AccessKeyId=AKIAEXAMPLEKEY0001", "databaseS3SecretAccessKey=example-secret-access-key")
# A target the settings accept on any day: in the past, and within the object
# store's retention (30 days by default): 10:00 UTC yesterday.
RECOVERY_MOMENT = (datetime.now(timezone.utc) - timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
RECOVERY_TARGET = RECOVERY_MOMENT.strftime("%Y-%m-%dT%H:%M:%SZ")
# The recovered cluster's name ends with the target's UTC minutes.
RECOVERED_CLUSTER = "monad-synapse-db-pitr-" + RECOVERY_MOMENT.strftime("%Y%m%d%H%M")
RECOVER = (f"database.recovery.targetTime={RECOVERY_TARGET}", "database.recovery.confirm={namespace}")


OPERATIONS = (
    Operation("maintenance mode on", ("maintenanceMode=true",)),
    Operation("new app setting", ("appConfig.NEW_CONFIG_KEY=new_value",)),
    Operation("stage a setting on the idle color", ("colors.green.appConfig.NEW_CONFIG_KEY=new_value",)),
    Operation("rotate JWT secret", ("jwtSecretVersion=2",)),
    Operation("scale up (min 8)", ("autoscaling.minReplicas=8",)),
    Operation("raise HPA max (15)", ("autoscaling.maxReplicas=15",)),
    Operation("memory limit 2Gi", ("resources.limits.memory=2Gi",)),
    Operation("release to idle color", ("colors.green.image=ghcr.io/monad-synapse/monad-synapse:1.5.0",)),
    Operation("switch / roll back", ("activeColor=green",)),
    Operation("emergency switch (no analysis)", ("activeColor=green", "promotion.skipAnalysis=true")),
    Operation("VPA Initial", ("vpa.updateMode=Initial",)),
    Operation("DDoS: rps 5", ("rateLimit.rps=5",)),
    Operation(
        "DDoS on ingress-nginx: connections 10",
        ("rateLimit.connections=10",),
        base=("edge.kind=ingress-nginx", "edge.keepIngressDuringMigration=false"),
    ),
    Operation("allow-list a source", ("rateLimit.allowlistCidrs[0]=203.0.113.0/24",)),
    # Maintenance mode first, the restore in a change of its own (in one
    # change, tools.diff names it a hazard: the Job races the old pods).
    Operation(
        "restore latest backup",
        ("restore.fromBackup=latest", "restore.confirm={namespace}", "restore.requestId=drill-{namespace}"),
        base=("maintenanceMode=true",),
    ),
    # In maintenance mode: the new cluster starts empty, and a dump is restored into it next.
    Operation(
        "database: external to in-cluster", IN_CLUSTER, base=("maintenanceMode=true",), secrets=OBJECT_STORE_KEYS
    ),
    Operation("point-in-time recovery", RECOVER, base=(*IN_CLUSTER, "maintenanceMode=true"), secrets=OBJECT_STORE_KEYS),
    Operation(
        "app to the recovered cluster",
        ("database.recovery.serveApp=true",),
        base=(*IN_CLUSTER, "maintenanceMode=true", *RECOVER),
        secrets=OBJECT_STORE_KEYS,
    ),
    Operation(
        "retire the old cluster",
        ("database.recovery.retireSource=true",),
        base=(*IN_CLUSTER, "maintenanceMode=true", *RECOVER, "database.recovery.serveApp=true"),
        secrets=OBJECT_STORE_KEYS,
    ),
)
