"""Hostile and mistaken input, table-driven, through the renderer's command
line (in-process): every case exits 2 without a traceback, names the key,
gives a `fix:` that is a valid command other than the mistake, writes and
deletes nothing, and never prints a secret it was given."""

from __future__ import annotations

import base64
import json
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import DR_SITE, RECOVERY_TARGET
from tools import render as renderer

SECRET = "Hunter2-Very-Secret-Value"
LONG_KEY = "A" * 260
SHARED = ("edge.kind=gateway", "edge.gateway.shared.name=infra", "edge.gateway.shared.namespace=gateways")
CNPG = ("database.kind=cloudnativepg", "database.cloudnativepg.objectStore.bucket=monad-synapse-wal")
CNPG_KEYS = ("databaseS3AccessKeyId=AKIA0000", "databaseS3SecretAccessKey=" + SECRET)
PITR = (
    "maintenanceMode=true",
    f"database.recovery.targetTime={RECOVERY_TARGET}",
    "database.recovery.confirm=production",
)
DR = DR_SITE


# A demotion token as CloudNativePG writes it: base64 of its JSON.
TOKEN = base64.b64encode(
    json.dumps(
        {
            "latestCheckpointTimelineID": "1",
            "redoWalFile": "000000010000000000000004",
            "databaseSystemIdentifier": "7443912336125857813",
            "latestCheckpointREDOLocation": "0/4000028",
            "timeOfLatestCheckpoint": "Mon 01 Dec 2026 10:00:00 AM UTC",
            "operatorVersion": "1.27.0",
        }
    ).encode()
).decode()


def db(case_id: str, *sets: str, key: str, bad_value: str | None = None, stack: str = "production") -> "Case":
    """A case on the in-cluster database (its minimum settings and keys included)."""
    return Case(case_id, (*CNPG, *sets), CNPG_KEYS, key=key, bad_value=bad_value, stack=stack)


@dataclass(frozen=True)
class Case:
    id: str
    sets: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    key: str = ""
    stack: str = "production"
    bad_value: str | None = None  # the value the fix must not repeat

    def argv(self, out: Path) -> list[str]:
        argv = [self.stack, "--out", str(out)]
        for item in self.sets:
            argv += ["--set", item]
        for item in self.secrets:
            argv += ["--set-secret", item]
        return argv


CASES = [
    # --- system namespaces
    *(
        Case(f"system-namespace-{name}", (f"namespace={name}",), key="namespace", bad_value=name)
        for name in ("kube-system", "kube-public", "kube-node-lease", "default")
    ),
    # --- allow lists covering the internet, however split
    Case(
        "preview-world-split",
        ("edge.preview.allowCidrs[0]=0.0.0.0/1", "edge.preview.allowCidrs[1]=128.0.0.0/1"),
        key="edge.preview.allowCidrs",
    ),
    Case("preview-world", ("edge.preview.allowCidrs[0]=0.0.0.0/0",), key="edge.preview.allowCidrs"),
    Case("preview-world-v6", ("edge.preview.allowCidrs[0]=::/0",), key="edge.preview.allowCidrs"),
    Case("allowlist-world", ("rateLimit.allowlistCidrs[0]=0.0.0.0/0",), key="rateLimit.allowlistCidrs"),
    Case(
        "allowlist-world-split",
        ("rateLimit.allowlistCidrs[0]=0.0.0.0/1", "rateLimit.allowlistCidrs[1]=128.0.0.0/1"),
        key="rateLimit.allowlistCidrs",
        stack="staging",
    ),
    Case("allowlist-half", ("rateLimit.allowlistCidrs[0]=0.0.0.0/2",), key="rateLimit.allowlistCidrs"),
    Case("allowlist-not-a-list", ("rateLimit.allowlistCidrs=10.0.0.0/8",), key="rateLimit.allowlistCidrs"),
    # --- the cloud metadata range
    Case("metadata-rpc", ("network.rpc.cidrs[0]=169.254.169.254/32",), key="network.rpc.cidrs"),
    Case("metadata-postgres", ("network.postgres.cidrs[0]=169.254.0.0/16",), key="network.postgres.cidrs"),
    Case(
        "metadata-s3",
        ("backup.storage.kind=s3", "backup.storage.s3.bucket=b-ackups", "backup.storage.s3.cidrs[0]=169.254.169.0/24"),
        ("backupS3AccessKeyId=AKIA0000", "backupS3SecretAccessKey=" + SECRET),
        key="backup.storage.s3.cidrs",
    ),
    # --- broken alert metadata, ignored alerts
    Case(
        "runbook-url-template",
        ("monitoring.runbookBaseUrl=https://x.example/{{ .Labels }}",),
        key="monitoring.runbookBaseUrl",
    ),
    Case("runbook-url-quote", ("monitoring.runbookBaseUrl=https://x.example/a'b",), key="monitoring.runbookBaseUrl"),
    Case("runbook-url-space", ("monitoring.runbookBaseUrl=https://x.example/a b",), key="monitoring.runbookBaseUrl"),
    Case("rule-labels-drop-release", ("monitoring.ruleLabels.release=",), key="monitoring.ruleLabels"),
    # --- non-finite numbers
    *(
        Case(f"non-finite-{key.rsplit('.', 1)[-1]}-{value}", (f"{key}={value}",), key=key, bad_value=value)
        for key in (
            "monitoring.alerts.latencyP95Seconds",
            "monitoring.alerts.errorRatio",
            "monitoring.alerts.walletBalanceMinimum",
            "monitoring.availabilityObjective",
        )
        for value in ("inf", "nan", "1e400", "-inf")
    ),
    # --- schedules that never (or hardly ever) fire
    Case("backup-never", ("backup.schedule=0 0 31 2 *",), key="backup.schedule", bad_value="0 0 31 2 *"),
    Case("drill-never", ("backup.drill.schedule=0 4 30 2 *",), key="backup.drill.schedule", bad_value="0 4 30 2 *"),
    Case("backup-yearly", ("backup.schedule=0 0 1 1 *",), key="backup.schedule", bad_value="0 0 1 1 *"),
    Case(
        "drill-overlaps-backup",
        ("backup.drill.schedule=0 4 1 * *",),
        key="backup.drill.schedule",
        bad_value="0 4 1 * *",
    ),
    # --- $(VAR) expansion where it would be a value
    Case(
        "s3-prefix-expansion",
        (
            "backup.storage.kind=s3",
            "backup.storage.s3.bucket=b-ackups",
            "backup.storage.s3.prefix=$(AWS_SECRET_ACCESS_KEY)",
        ),
        ("backupS3AccessKeyId=AKIA0000", "backupS3SecretAccessKey=" + SECRET),
        key="backup.storage.s3.prefix",
    ),
    Case(
        "s3-region-expansion",
        ("backup.storage.kind=s3", "backup.storage.s3.bucket=b-ackups", "backup.storage.s3.region=$(HOME)"),
        ("backupS3AccessKeyId=AKIA0000", "backupS3SecretAccessKey=" + SECRET),
        key="backup.storage.s3.region",
    ),
    # --- booleans taken as numbers
    Case("bool-min-replicas", ("autoscaling.minReplicas=true",), key="autoscaling.minReplicas", bad_value="true"),
    Case("bool-rps", ("rateLimit.rps=false",), key="rateLimit.rps", bad_value="false"),
    Case("bool-threshold", ("monitoring.alerts.latencyP95Seconds=true",), key="monitoring.alerts.latencyP95Seconds"),
    # --- unbounded or out-of-range numbers
    Case("idle-unbounded", ("idleReplicas=100000",), key="idleReplicas", bad_value="100000"),
    Case("jwt-beyond-int32", ("jwtSecretVersion=99999999999",), key="jwtSecretVersion", bad_value="99999999999"),
    Case(
        "gateway-connections-huge",
        ("edge.kind=gateway", "edge.gateway.maxConnections=99999999999"),
        key="edge.gateway.maxConnections",
    ),
    Case("hsts-huge", ("edge.hstsMaxAgeSeconds=99999999999",), key="edge.hstsMaxAgeSeconds"),
    # --- client addresses: a header no proxy sets lets clients pick their own rate limit
    Case(
        "client-ip-xff-untrusted",
        ("edge.kind=gateway", "edge.gateway.clientIp.source=x-forwarded-for"),
        key="edge.gateway.clientIp.trustedHops",
    ),
    Case(
        "client-ip-xff-both",
        (
            "edge.kind=gateway",
            "edge.gateway.clientIp.source=x-forwarded-for",
            "edge.gateway.clientIp.trustedHops=1",
            "edge.gateway.clientIp.trustedCidrs[0]=10.0.0.0/8",
        ),
        key="edge.gateway.clientIp.trustedHops",
    ),
    Case(
        "client-ip-hops-for-direct",
        ("edge.kind=gateway", "edge.gateway.clientIp.trustedHops=2"),
        key="edge.gateway.clientIp.trustedHops",
    ),
    Case(
        "client-ip-header-missing",
        ("edge.kind=gateway", "edge.gateway.clientIp.source=header"),
        key="edge.gateway.clientIp.header",
    ),
    Case(
        "client-ip-header-bad",
        ("edge.kind=gateway", "edge.gateway.clientIp.source=header", "edge.gateway.clientIp.header=X Real IP"),
        key="edge.gateway.clientIp.header",
        bad_value="X Real IP",
    ),
    Case(
        "client-ip-on-shared-gateway",
        (*SHARED, "edge.gateway.minTlsVersion=1.3"),
        key="edge.gateway.minTlsVersion",
    ),
    Case("tls-1-1", ("edge.kind=gateway", "edge.gateway.minTlsVersion=1.1"), key="edge.gateway.minTlsVersion"),
    Case(
        "memory-below-heap-floor",
        ("resources.requests.memory=200Mi",),
        key="resources.requests.memory",
        bad_value="200Mi",
    ),
    Case("memory-bare-number", ("resources.requests.memory=1024",), key="resources.requests.memory", bad_value="1024"),
    Case("memory-limit-tiny", ("resources.limits.memory=64Mi",), key="resources.requests.memory"),
    # --- objects the API server would reject
    Case("config-map-too-large", ("appConfig.BLOB=" + "x" * (1024 * 1024 + 10),), key="appConfig"),
    Case("config-key-too-long", (f"appConfig.{LONG_KEY}=1",), key="appConfig"),
    Case(
        "section-name",
        (*SHARED, "edge.gateway.shared.httpsSectionName=Bad_Name"),
        key="edge.gateway.shared.httpsSectionName",
    ),
    Case(
        "gateway-namespace-dot",
        ("edge.kind=gateway", "edge.gateway.shared.name=infra", "edge.gateway.shared.namespace=infra.gateways"),
        key="edge.gateway.shared.namespace",
    ),
    Case("network-namespace-dot", ("network.monitoringNamespace=infra.monitoring",), key="network.monitoringNamespace"),
    Case("preview-host-bad", ("edge.preview.host=Preview.monad-synapse.com",), key="edge.preview.host"),
    # --- empty secrets, credentials in plaintext
    Case("empty-secret", secrets=("databaseUrl=",), key="databaseUrl"),
    Case("malformed-secret", secrets=(f"databaseUrl={SECRET}",), key="databaseUrl"),
    Case("short-secret", secrets=("redisUrl=true",), key="redisUrl"),
    Case("blank-secret", secrets=("redisUrl=   ",), key="redisUrl"),
    Case(
        "credential-in-app-config",
        (f"appConfig.UPSTREAM_URL=postgresql://app:{SECRET}@db:5432/x",),
        key="appConfig.UPSTREAM_URL",
    ),
    Case("secret-looking-app-config-key", ("appConfig.STRIPE_API_KEY=sk_live_x",), key="appConfig.STRIPE_API_KEY"),
    # --- secrets under the wrong key: never printed
    Case("secret-key-typo", secrets=(f"databaseURL=postgresql://u:{SECRET}@h/db",), key="databaseURL"),
    Case("secret-on-plain-key", secrets=(f"domain={SECRET}.example.com",), key="domain"),
    Case("secret-on-nested-key", secrets=(f"autoscaling.minReplicas={SECRET}",), key="autoscaling"),
    Case("secret-on-app-config", secrets=(f"appConfig.FEATURE={SECRET}",), key="appConfig"),
    Case(
        "plaintext-s3-key",
        ("backup.storage.kind=s3", "backup.storage.s3.bucket=b-ackups", f"backupS3SecretAccessKey={SECRET}"),
        ("backupS3AccessKeyId=AKIA0000",),
        key="backupS3SecretAccessKey",
    ),
    # --- refusals the project already made
    Case("latest-image", ("colors.green.image=ghcr.io/monad-synapse/monad-synapse:latest",), key="colors.green.image"),
    Case("untagged-image", ("colors.blue.image=ghcr.io/monad-synapse/monad-synapse",), key="colors.blue.image"),
    Case("min-above-max", ("autoscaling.minReplicas=30",), key="autoscaling.minReplicas", bad_value="30"),
    Case("vpa-auto", ("vpa.updateMode=Auto",), key="vpa.updateMode", bad_value="Auto"),
    Case("bad-domain", ("domain=https://monad-synapse.com",), key="domain"),
    Case("bad-active-color", ("activeColor=purple",), key="activeColor", bad_value="purple"),
    Case("maintenance-on", ("maintenanceMode=on",), key="maintenanceMode", bad_value="on"),
    Case("top-level-slip", ("maxReplicas=15",), key="maxReplicas"),
    Case("unknown-nested", ("autoscaling.maxReplica=15",), key="autoscaling.maxReplica"),
    Case("section-not-a-map", ("autoscaling=5",), key="autoscaling"),
    Case("bad-cron", ("backup.schedule=every hour",), key="backup.schedule"),
    Case(
        "restore-unconfirmed",
        ("maintenanceMode=true", "restore.fromBackup=latest", "restore.requestId=r1"),
        key="restore.confirm",
    ),
    Case(
        "restore-without-request",
        ("maintenanceMode=true", "restore.fromBackup=latest", "restore.confirm=production"),
        key="restore.requestId",
    ),
    Case("confirm-without-restore", ("restore.confirm=production",), key="restore.confirm"),
    Case(
        "restore-outside-maintenance",
        ("restore.fromBackup=latest", "restore.confirm=production", "restore.requestId=r1"),
        key="maintenanceMode",
    ),
    Case("same-probe-paths", ("probes.livenessPath=/api/health",), key="probes.livenessPath"),
    Case("bad-cidr", ("network.redis.cidrs[0]=10.0.0.0/33",), key="network.redis.cidrs"),
    Case("bad-quantity", ("resources.limits.cpu=lots",), key="resources.limits.cpu", bad_value="lots"),
    Case("millibyte-memory", ("resources.limits.memory=1024m",), key="resources.limits.memory", bad_value="1024m"),
    Case(
        "migration-without-gateway",
        ("edge.kind=ingress-nginx", "edge.keepIngressDuringMigration=true"),
        key="edge.keepIngressDuringMigration",
    ),
    Case(
        "priority-create-without-name", ("priorityClass.create=true", "priorityClass.name="), key="priorityClass.name"
    ),
    Case("priority-create-no-name-at-all", ("priorityClass.create=true",), key="priorityClass.name", stack="staging"),
    Case("bad-app-config-key", ("appConfig.feature-x=1",), key="appConfig"),
    Case("managed-app-config-key", ("appConfig.MAINTENANCE_MODE=true",), key="appConfig"),
    Case("nested-app-config", ("appConfig.FEATURE.X=1",), key="appConfig.FEATURE"),
    Case("app-config-not-a-map", ("appConfig=x",), key="appConfig"),
    Case(
        "bad-bucket",
        ("backup.storage.kind=s3", "backup.storage.s3.bucket=Bad_Bucket"),
        ("backupS3AccessKeyId=AKIA0000", "backupS3SecretAccessKey=" + SECRET),
        key="backup.storage.s3.bucket",
    ),
    Case(
        "s3-without-bucket",
        ("backup.storage.kind=s3",),
        ("backupS3AccessKeyId=AKIA0000", "backupS3SecretAccessKey=" + SECRET),
        key="backup.storage.s3.bucket",
    ),
    Case(
        "s3-http-endpoint",
        ("backup.storage.kind=s3", "backup.storage.s3.bucket=b-ackups", "backup.storage.s3.endpoint=http://minio:9000"),
        ("backupS3AccessKeyId=AKIA0000", "backupS3SecretAccessKey=" + SECRET),
        key="backup.storage.s3.endpoint",
    ),
    Case("s3-missing-keys", ("backup.storage.kind=s3", "backup.storage.s3.bucket=b-ackups"), key="backupS3AccessKeyId"),
    Case("bad-slack-channel", ("monitoring.alerts.criticalChannel=critical",), key="monitoring.alerts.criticalChannel"),
    Case("bad-rule-label", ('monitoring.ruleLabels["Bad Key"]=x',), key="monitoring.ruleLabels"),
    Case("bad-ingress-class", ("edge.ingressClassName=Nginx_Class",), key="edge.ingressClassName"),
    Case("bad-metrics-path", ("monitoring.metricsPath=metrics",), key="monitoring.metricsPath"),
    Case(
        "bad-request-id",
        (
            "maintenanceMode=true",
            "restore.fromBackup=latest",
            "restore.confirm=production",
            "restore.requestId=" + "r" * 201,
        ),
        key="restore.requestId",
    ),
    Case(
        "empty-request-id",
        ("maintenanceMode=true", "restore.fromBackup=latest", "restore.confirm=production", "restore.requestId= "),
        key="restore.requestId",
    ),
    Case("bad-backup-size", ("backup.storage.size=big",), key="backup.storage.size"),
    Case("vpa-nonsense", ("vpa.updateMode=Sometimes",), key="vpa.updateMode"),
    Case("empty-image", ("colors.blue.image= ",), key="colors.blue.image"),
    Case("bad-image", ("colors.blue.image=Not An Image",), key="colors.blue.image"),
    Case("empty-egress", ("network.redis.cidrs=[]",), key="network.redis.cidrs"),
    Case("zero-cpu", ("resources.requests.cpu=0",), key="resources.requests.cpu"),
    Case("maintenance-yes", ("maintenanceMode=yes",), key="maintenanceMode"),
    Case("backup-image-major", ("backup.image=postgres:16.4-alpine",), key="backup.image"),
    Case(
        "bad-backup-name",
        (
            "maintenanceMode=true",
            "restore.fromBackup=../../etc/passwd",
            "restore.confirm=production",
            "restore.requestId=r1",
        ),
        key="restore.fromBackup",
    ),
    Case("preview-outside-domain", ("edge.preview.host=preview.evil.example",), key="edge.preview.host"),
    Case("request-above-limit", ("resources.requests.cpu=2",), key="resources.requests.cpu"),
    Case(
        "restore-without-backups",
        (
            "maintenanceMode=true",
            "restore.fromBackup=latest",
            "restore.confirm=production",
            "restore.requestId=r1",
            "backup.enabled=false",
        ),
        key="backup.enabled",
    ),
    Case("bad-namespace", ("namespace=Prod_1",), key="namespace"),
    Case("analysis-bad-interval", ("promotion.analysis.interval=soon",), key="promotion.analysis.interval"),
    Case(
        "analysis-failure-limit",
        ("promotion.analysis.count=3", "promotion.analysis.failureLimit=3"),
        key="promotion.analysis.failureLimit",
        bad_value="3",
    ),
    Case(
        "analysis-prometheus-url",
        ("promotion.analysis.prometheusUrl=ftp://prom",),
        key="promotion.analysis.prometheusUrl",
    ),
    Case(
        "analysis-smoke-path",
        ("promotion.analysis.smokePaths[0]=$(DATABASE_URL)",),
        key="promotion.analysis.smokePaths",
    ),
    Case("analysis-inconclusive", ("promotion.analysis.inconclusive=maybe",), key="promotion.analysis.inconclusive"),
    Case("analysis-bool-count", ("promotion.analysis.count=true",), key="promotion.analysis.count"),
    Case(
        "verification-error-ratio",
        ("promotion.verification.maxErrorRatio=1.5",),
        key="promotion.verification.maxErrorRatio",
        bad_value="1.5",
    ),
    Case("verification-interval", ("promotion.verification.interval=1s",), key="promotion.verification.interval"),
    Case(
        "bad-request-id-control",
        ("maintenanceMode=true", "restore.fromBackup=latest", "restore.confirm=production", "restore.requestId=a\tb"),
        key="restore.requestId",
    ),
    # --- the in-cluster database
    Case(
        "cnpg-without-object-store",
        ("database.kind=cloudnativepg",),
        CNPG_KEYS,
        key="database.cloudnativepg.objectStore.bucket",
    ),
    Case("cnpg-missing-keys", CNPG, key="databaseS3AccessKeyId"),
    Case("cnpg-one-key-missing", CNPG, ("databaseS3SecretAccessKey=" + SECRET,), key="databaseS3AccessKeyId"),
    db(
        "cnpg-archive-timeout",
        "database.cloudnativepg.postgresql.parameters.archive_timeout=30s",
        key="database.cloudnativepg.postgresql.parameters.archive_timeout",
    ),
    db(
        "cnpg-unknown-parameter",
        "database.cloudnativepg.postgresql.parameters.log_directory=/tmp",
        key="database.cloudnativepg.postgresql.parameters.log_directory",
    ),
    db(
        "cnpg-parameter-injection",
        "database.cloudnativepg.postgresql.parameters.work_mem=4MB'\nfsync=off",
        key="database.cloudnativepg.postgresql.parameters.work_mem",
    ),
    db(
        "cnpg-bad-retention",
        "database.cloudnativepg.objectStore.retention=forever",
        key="database.cloudnativepg.objectStore.retention",
    ),
    db(
        "cnpg-five-field-schedule",
        "database.cloudnativepg.backup.schedule=0 3 * * *",
        key="database.cloudnativepg.backup.schedule",
        bad_value="0 3 * * *",
    ),
    db(
        "cnpg-backup-never",
        "database.cloudnativepg.backup.schedule=0 0 0 31 2 *",
        key="database.cloudnativepg.backup.schedule",
    ),
    db(
        "cnpg-backup-yearly",
        "database.cloudnativepg.backup.schedule=0 0 3 1 1 *",
        key="database.cloudnativepg.backup.schedule",
    ),
    db(
        "cnpg-bad-cluster-name", "database.cloudnativepg.clusterName=Monad_DB", key="database.cloudnativepg.clusterName"
    ),
    db(
        "cnpg-cluster-named-like-the-pooler",
        "database.cloudnativepg.clusterName=monad-synapse-db-pooler",
        key="database.cloudnativepg.clusterName",
    ),
    db(
        "cnpg-image-major",
        "database.cloudnativepg.image=ghcr.io/cloudnative-pg/postgresql:17.2",
        key="database.cloudnativepg.image",
    ),
    db(
        "cnpg-latest-image",
        "database.cloudnativepg.image=ghcr.io/cloudnative-pg/postgresql:latest",
        key="database.cloudnativepg.image",
    ),
    db(
        "cnpg-production-without-standby",
        "database.cloudnativepg.instances=1",
        key="database.cloudnativepg.instances",
        bad_value="1",
    ),
    db("cnpg-rpo-unreachable", "database.rpoSeconds=30", key="database.rpoSeconds", bad_value="30"),
    db(
        "cnpg-dump-older",
        "database.cloudnativepg.postgresMajorVersion=16",
        "database.cloudnativepg.image=ghcr.io/cloudnative-pg/postgresql:16.6",
        key="backup.postgresMajorVersion",
    ),
    db(
        "cnpg-operator-system-dot",
        "database.cloudnativepg.operatorNamespace=cnpg.system",
        key="database.cloudnativepg.operatorNamespace",
    ),
    db(
        "metadata-api-server",
        "database.cloudnativepg.apiServerCidrs[0]=169.254.169.254/32",
        key="database.cloudnativepg.apiServerCidrs",
    ),
    db(
        "metadata-object-store",
        "database.cloudnativepg.objectStore.cidrs[0]=169.254.0.0/16",
        key="database.cloudnativepg.objectStore.cidrs",
    ),
    Case("pitr-external", PITR, key="database.recovery.targetTime"),
    db(
        "pitr-bad-time",
        "maintenanceMode=true",
        "database.recovery.targetTime=2026-11-29 10:00",
        "database.recovery.confirm=production",
        key="database.recovery.targetTime",
    ),
    # What the CLI passes for a time left unquoted in the stack file.
    db(
        "pitr-unquoted-in-the-stack-file",
        "maintenanceMode=true",
        "database.recovery.targetTime=2026-11-29 10:00:00 +0000 UTC",
        "database.recovery.confirm=production",
        key="database.recovery.targetTime",
    ),
    db(
        "pitr-no-offset",
        "maintenanceMode=true",
        "database.recovery.targetTime=2026-11-29T10:00:00",
        "database.recovery.confirm=production",
        key="database.recovery.targetTime",
    ),
    db(
        "pitr-future",
        "maintenanceMode=true",
        "database.recovery.targetTime=2999-01-01T00:00:00Z",
        "database.recovery.confirm=production",
        key="database.recovery.targetTime",
    ),
    db(
        "pitr-unconfirmed",
        "maintenanceMode=true",
        f"database.recovery.targetTime={RECOVERY_TARGET}",
        key="database.recovery.confirm",
    ),
    db(
        "pitr-wrong-namespace",
        "maintenanceMode=true",
        f"database.recovery.targetTime={RECOVERY_TARGET}",
        "database.recovery.confirm=staging",
        key="database.recovery.confirm",
        bad_value="staging",
    ),
    db(
        "pitr-outside-maintenance",
        f"database.recovery.targetTime={RECOVERY_TARGET}",
        "database.recovery.confirm=production",
        key="maintenanceMode",
    ),
    db("pitr-overwrites", *PITR, "database.recovery.clusterName=monad-synapse-db", key="database.recovery.clusterName"),
    db("pitr-retire-first", *PITR, "database.recovery.retireSource=true", key="database.recovery.retireSource"),
    db("pitr-confirm-alone", "database.recovery.confirm=production", key="database.recovery.confirm"),
    db("pitr-in-topology", *PITR, *DR, key="database.recovery.targetTime"),
    Case("replica-external", DR, key="database.replica.enabled"),
    db("replica-incomplete", "database.replica.enabled=true", key="database.replica.self"),
    db("replica-bad-site", *DR, "database.replica.self=DR Site", key="database.replica.self"),
    db("replica-source-is-self", *DR, "database.replica.source.name=dr", key="database.replica.source.name"),
    db(
        "replica-unknown-primary",
        *DR,
        "database.replica.primary=elsewhere",
        key="database.replica.primary",
        bad_value="elsewhere",
    ),
    db(
        "replica-without-source-store",
        "database.replica.enabled=true",
        "database.replica.self=dr",
        "database.replica.primary=main",
        "database.replica.source.name=main",
        key="database.replica.source.objectStore",
    ),
    db(
        "replica-source-path-missing",
        "database.replica.enabled=true",
        "database.replica.self=dr",
        "database.replica.primary=main",
        "database.replica.source.name=main",
        "database.replica.source.objectStore.bucket=monad-synapse-wal-main",
        key="database.replica.source.objectStore.path",
    ),
    db(
        "replica-token-with-delay",
        *DR,
        "database.replica.primary=dr",
        "database.replica.promotionToken=" + TOKEN,
        "database.replica.minApplyDelay=1h",
        key="database.replica.minApplyDelay",
        bad_value="1h",
    ),
    db(
        "cnpg-max-wal-beyond-volume",
        "database.cloudnativepg.postgresql.parameters.max_wal_size=10GB",
        key="database.cloudnativepg.postgresql.parameters.max_wal_size",
        bad_value="10GB",
    ),
    db(
        "cnpg-min-wal-above-max",
        "database.cloudnativepg.postgresql.parameters.min_wal_size=2GB",
        key="database.cloudnativepg.postgresql.parameters.min_wal_size",
        bad_value="2GB",
    ),
    db(
        "cnpg-checkpoint-beyond-archive-timeout",
        "database.cloudnativepg.postgresql.parameters.checkpoint_timeout=15min",
        key="database.cloudnativepg.postgresql.parameters.checkpoint_timeout",
        bad_value="15min",
    ),
    Case(
        "s3-endpoint-port-0",
        (
            "backup.storage.kind=s3",
            "backup.storage.s3.bucket=monad-backups",
            "backup.storage.s3.endpoint=https://minio.example.com:0",
        ),
        ("backupS3AccessKeyId=AKIA0000", "backupS3SecretAccessKey=" + SECRET),
        key="backup.storage.s3.endpoint",
    ),
    db(
        "wal-endpoint-port-99999",
        "database.cloudnativepg.objectStore.endpoint=https://minio.example.com:99999",
        key="database.cloudnativepg.objectStore.endpoint",
    ),
    Case(
        "prometheus-port-99999",
        ("promotion.analysis.prometheusUrl=http://prometheus.monitoring.svc:99999",),
        key="promotion.analysis.prometheusUrl",
    ),
    Case(
        "probe-paths-same-by-meaning",
        ("probes.livenessPath=/api/health/", "probes.readinessPath=/api/health?full=1"),
        key="probes.livenessPath",
    ),
    db(
        "replica-shared-archive-trailing-slash",
        *DR,
        "database.replica.source.objectStore.bucket=monad-synapse-wal",
        "database.replica.source.objectStore.path=production/",
        "database.replica.source.serverName=monad-synapse-db",
        key="database.replica.source.objectStore.bucket",
    ),
    db(
        "cnpg-cluster-named-like-the-app",
        "database.cloudnativepg.clusterName=monad-synapse",
        key="database.cloudnativepg.clusterName",
        bad_value="monad-synapse",
    ),
    Case(
        "priority-class-system",
        ("priorityClass.name=system-critical", "priorityClass.create=true"),
        key="priorityClass.name",
        bad_value="system-critical",
    ),
    db(
        "replica-delay-beyond-go",
        *DR,
        "database.replica.minApplyDelay=9999999h",
        key="database.replica.minApplyDelay",
        bad_value="9999999h",
    ),
    db(
        "wal-bucket-double-dot",
        "database.cloudnativepg.objectStore.bucket=monad..wal",
        key="database.cloudnativepg.objectStore.bucket",
    ),
    db(
        "wal-bucket-ip",
        "database.cloudnativepg.objectStore.bucket=192.168.1.10",
        key="database.cloudnativepg.objectStore.bucket",
    ),
    Case(
        "restore-name-trailing-newline",
        (
            "maintenanceMode=true",
            "restore.fromBackup=monad-synapse-20261127T030000Z.dump\n",
            "restore.confirm=production",
            "restore.requestId=r1",
        ),
        key="restore.fromBackup",
    ),
    db(
        "pooler-beyond-max-connections",
        "database.cloudnativepg.pooler.instances=4",
        "database.cloudnativepg.pooler.defaultPoolSize=50",
        key="database.cloudnativepg.pooler.defaultPoolSize",
        bad_value="50",
    ),
    db(
        "pitr-target-1970",
        "maintenanceMode=true",
        "database.recovery.targetTime=1970-01-01T00:00:00Z",
        "database.recovery.confirm=production",
        key="database.recovery.targetTime",
    ),
    db(
        "pitr-target-past-the-kept-backups",
        "maintenanceMode=true",
        "database.recovery.targetTime=2025-01-01T00:00:00Z",
        "database.recovery.confirm=production",
        key="database.recovery.targetTime",
    ),
    db(
        "restore-during-pitr",
        *PITR,
        "restore.fromBackup=latest",
        "restore.confirm=production",
        "restore.requestId=both",
        key="restore.fromBackup",
    ),
    Case(
        "prometheus-outside-monitoring",
        ("promotion.analysis.prometheusUrl=http://prometheus.observability.svc:9090",),
        key="promotion.analysis.prometheusUrl",
    ),
    db(
        "cnpg-image-digest-only",
        "database.cloudnativepg.image=ghcr.io/cloudnative-pg/postgresql@sha256:" + "a" * 64,
        key="database.cloudnativepg.image",
    ),
    db(
        "cnpg-image-named-tag",
        "database.cloudnativepg.image=ghcr.io/cloudnative-pg/postgresql:stable",
        key="database.cloudnativepg.image",
    ),
    db(
        "replica-token-not-a-token",
        *DR,
        "database.replica.primary=dr",
        "database.replica.promotionToken=" + "A" * 40,
        key="database.replica.promotionToken",
    ),
    db(
        "cnpg-parameter-out-of-range",
        "database.cloudnativepg.postgresql.parameters.max_connections=0",
        key="database.cloudnativepg.postgresql.parameters.max_connections",
    ),
    db(
        "cnpg-parameter-wrong-unit",
        "database.cloudnativepg.postgresql.parameters.work_mem=64mb",
        key="database.cloudnativepg.postgresql.parameters.work_mem",
    ),
    db(
        "cnpg-volume-20-bytes",
        "database.cloudnativepg.storage.size=20",
        key="database.cloudnativepg.storage.size",
        bad_value="20",
    ),
    db(
        "cnpg-wal-volume-below-max-wal",
        "database.cloudnativepg.walStorage.size=1Gi",
        key="database.cloudnativepg.walStorage.size",
        bad_value="1Gi",
    ),
    Case("restart-token-with-space", ("colors.blue.restart=now please",), key="colors.blue.restart"),
    db(
        "replica-shared-archive-regional-endpoint",
        *DR,
        "database.replica.source.objectStore.bucket=monad-synapse-wal",
        "database.replica.source.objectStore.endpoint=https://s3.eu-west-1.amazonaws.com",
        key="database.replica.source.objectStore.bucket",
    ),
    Case(
        "drill-query-writes",
        ("backup.drill.sanityQuery=SELECT 1; COMMIT; DROP DATABASE app WITH (FORCE)",),
        key="backup.drill.sanityQuery",
        bad_value="SELECT 1; COMMIT; DROP DATABASE app WITH (FORCE)",
    ),
    Case(
        "drill-query-not-a-read",
        ("backup.drill.sanityQuery=ALTER ROLE app PASSWORD 'x'",),
        key="backup.drill.sanityQuery",
    ),
    db(
        "replica-shared-archive",
        *DR,
        "database.replica.source.objectStore.bucket=monad-synapse-wal",
        key="database.replica.source.objectStore.bucket",
    ),
    db(
        "replica-bad-token",
        *DR,
        "database.replica.primary=dr",
        "database.replica.promotionToken=$(DATABASE_URL)",
        key="database.replica.promotionToken",
    ),
    db("replica-bad-delay", *DR, "database.replica.minApplyDelay=soon", key="database.replica.minApplyDelay"),
    Case(
        "replica-password-not-url-safe",
        (*CNPG, *DR),
        (*CNPG_KEYS, "databaseAppPassword=" + SECRET),
        key="databaseAppPassword",
    ),
]


def fix_lines(stderr: str) -> list[str]:
    return [line.split("fix:", 1)[1].strip() for line in stderr.splitlines() if line.strip().startswith("fix:")]


def assert_valid_fix(fix: str, case: Case) -> None:
    for command in fix.split(" && "):
        words = shlex.split(command)  # valid shell words
        assert words[:3] in (["pulumi", "config", "set"], ["pulumi", "config", "rm"]), fix
        assert words[-2] == "-s" and words[-1] == case.stack, fix
        if words[2] == "set" and case.bad_value is not None:
            assert words[-3] != case.bad_value, f"the fix repeats the mistake: {fix}"


# The settings' refusal codes of each case, recorded as the command runs it,
# so the coverage check below renders only the cases it has not seen.
_REFUSAL_CODES: dict[str, set[str]] = {}


def _recording_codes_of(case: Case):
    from settings import SettingsError

    real_render = renderer.render

    def render(*args, **kwargs):
        _REFUSAL_CODES[case.id] = set()  # refused before the settings: no code of theirs
        try:
            return real_render(*args, **kwargs)
        except SettingsError as error:
            _REFUSAL_CODES[case.id] = {problem.kind for problem in error.problems}
            raise

    return render


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_input_is_refused_cleanly(case, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.setattr(renderer, "render", _recording_codes_of(case))
    code = renderer.main(case.argv(out))
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert code == 2, text
    assert "Traceback" not in text and "internal error" not in text
    assert case.key in captured.err, captured.err
    fixes = fix_lines(captured.err)
    assert fixes, captured.err
    for fix in fixes:
        assert_valid_fix(fix, case)
    assert not out.exists()  # nothing written
    assert SECRET not in text  # no secret echoed, whatever was wrong
    for python_jargon in ("tuple", "dictionary", "instance of", "Input should", "Value error", "float", "<class"):
        assert python_jargon not in captured.err, python_jargon


def test_every_refusal_code_in_the_settings_has_a_case():
    """Each code the settings package can refuse with is produced by some case here."""
    import re

    from tools.engine.stack_config import PROJECT_DIR

    source = "".join(path.read_text() for path in sorted((PROJECT_DIR / "settings").glob("*.py")))
    # Refusals are raised with _custom_error, or declared by the field-type
    # factories (matching, _dns_subdomain).
    codes = set(re.findall(r'(?:_custom_error|matching|_dns_subdomain)\(\s*"([a-z_]+)"', source))
    seen: set[str] = set()
    for case in CASES:
        if case.id not in _REFUSAL_CODES:  # this test run alone
            try:
                _recording_codes_of(case)(case.stack, case.sets, case.secrets)
            except Exception:  # noqa: BLE001 - refused, which is what the cases are for
                pass
        seen |= _REFUSAL_CODES[case.id]
    # An empty list cannot be written with --set; tests/settings/test_settings.py gives one.
    only_from_stack_files = {"no_cidrs"}
    assert codes - seen - only_from_stack_files == set(), "refusals without a hostile-input case"


def test_every_class_of_the_review_has_a_case():
    ids = {case.id for case in CASES}
    for prefix in (
        "system-namespace",
        "preview-world-split",
        "allowlist-world-split",
        "metadata-",
        "runbook-url",
        "rule-labels",
        "non-finite",
        "backup-never",
        "drill-never",
        "s3-prefix-expansion",
        "bool-",
        "idle-unbounded",
        "jwt-beyond-int32",
        "memory-below-heap-floor",
        "config-map-too-large",
        "config-key-too-long",
        "section-name",
        "gateway-namespace-dot",
        "empty-secret",
        "credential-in-app-config",
        "secret-key-typo",
        "secret-on-plain-key",
    ):
        assert any(identifier.startswith(prefix) for identifier in ids), prefix


# --- values that are accepted, but reach the cluster safely ---------------------------


def test_expansion_in_the_drill_query_is_escaped(stack_objects):
    objects = stack_objects("production", "backup.drill.sanityQuery=SELECT '$(DATABASE_URL)'")
    pod = objects["CronJob/production/monad-synapse-restore-drill"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    env = {item["name"]: item.get("value") for item in pod["containers"][0]["env"]}
    assert env["DRILL_SANITY_QUERY"] == "SELECT '$$(DATABASE_URL)'"  # Kubernetes passes $$ as a literal $


def test_extra_rule_labels_add_to_the_operator_label(stack_objects):
    rule = stack_objects("production", "monitoring.ruleLabels.team=payments")["PrometheusRule/production/monad-synapse"]
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["metadata"]["labels"]["team"] == "payments"
    renamed = stack_objects("production", "monitoring.ruleLabels.release=prom")[
        "PrometheusRule/production/monad-synapse"
    ]
    assert renamed["metadata"]["labels"]["release"] == "prom"


def test_private_and_office_ranges_are_fine(stack_objects):
    objects = stack_objects(
        "production", "rateLimit.allowlistCidrs[0]=203.0.113.0/24", "rateLimit.allowlistCidrs[1]=44.0.0.0/8"
    )
    rules = objects["BackendTrafficPolicy/production/monad-synapse-rate-limit"]["spec"]["rateLimit"]["local"]["rules"]
    excluded = {selector["sourceCIDR"]["value"] for selector in rules[0]["clientSelectors"][1:]}
    assert excluded == {"203.0.113.0/24", "44.0.0.0/8"}


# --- the output directory ----------------------------------------------------------------


def test_out_never_replaces_a_directory_it_did_not_make(tmp_path, capsys):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")
    for out in (precious, tmp_path):
        assert renderer.main(["staging", "--out", str(out)]) == 2
        assert "was not made by the renderer" in capsys.readouterr().err
    assert (precious / "thesis.txt").read_text() == "years of work"


def test_out_refuses_files_links_and_git(tmp_path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("data")
    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    for out in (a_file, a_file / "below", link, tmp_path / ".git" / "x"):
        assert renderer.main(["staging", "--out", str(out)]) == 2, out
        error = capsys.readouterr().err
        assert "Traceback" not in error and str(out) in error
    assert a_file.read_text() == "data"


def test_out_unwritable_exits_2(tmp_path, capsys):
    import os

    # /proc refuses new directories even to root.
    assert renderer.main(["staging", "--out", "/proc/monad-synapse-render"]) == 2
    assert "cannot write" in capsys.readouterr().err
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):  # as a user root's bypass does not apply to
            assert renderer.main(["staging", "--out", str(locked / "out")]) == 2
            assert "cannot write" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_out_replaces_its_own_directory(tmp_path, capsys):
    out = tmp_path / "render"
    assert renderer.main(["staging", "--out", str(out)]) == 0
    (out / "stale.txt").write_text("old")
    assert renderer.main(["staging", "--out", str(out)]) == 0
    assert not (out / "stale.txt").exists() and (out / "manifest.yaml").is_file()
    capsys.readouterr()


def test_bad_flags_exit_2_without_echoing_a_secret(tmp_path, capsys):
    assert renderer.main(["staging", "--out", str(tmp_path / "o"), "--set", "no-equals-sign"]) == 2
    with pytest.raises(SystemExit) as caught:
        renderer.main(["staging", "--no-such-flag"])
    assert caught.value.code == 2
    assert renderer.main(["staging", "--out", str(tmp_path / "o"), "--set-secret", SECRET]) == 2
    assert SECRET not in capsys.readouterr().err


@pytest.mark.parametrize(
    "sets, secrets, expected_fix",
    [
        (
            ("appConfig.feature_x=1",),
            (),
            "pulumi config rm --path appConfig.feature_x -s staging && pulumi config set --path appConfig.FEATURE_X",
        ),
        (
            ("appConfig.MAINTENANCE_MODE=true",),
            (),
            "pulumi config rm --path appConfig.MAINTENANCE_MODE -s staging && pulumi config set maintenanceMode true",
        ),
        (("appConfig.API_TOKEN=x",), (), "pulumi config rm --path appConfig.API_TOKEN -s staging"),
        ((), ("autoscaling.minReplicas=5",), "pulumi config set --path autoscaling.minReplicas"),
    ],
    ids=["lower-case-key", "managed-key", "secret-looking-key", "section-given-encrypted"],
)
def test_fix_lines_move_toward_what_was_meant(sets, secrets, expected_fix):
    """Never the refused key again: a key renamed to what is allowed, a
    managed key moved to the setting that owns it, a section given
    encrypted set field by field."""
    from settings import SettingsError
    from tools.render import render

    with pytest.raises(SettingsError) as caught:
        render("staging", sets, secrets)
    (problem,) = caught.value.problems
    assert problem.fix.startswith(expected_fix) or expected_fix in problem.fix, problem.fix
    if problem.path.startswith("appConfig."):
        assert f"set --path {problem.path} " not in problem.fix  # the refused key is never set again


def test_unknown_keys_of_an_optional_section_list_what_it_takes():
    from settings import SettingsError
    from tools.render import render

    with pytest.raises(SettingsError) as caught:
        render("staging", ("database.cloudnativepg.objectStore.nope=1",), ())
    (problem,) = [problem for problem in caught.value.problems if problem.path.endswith(".nope")]
    assert "Known keys here: bucket, cidrs, endpoint, path, region, retention" in problem.message


def test_a_dotted_parameter_name_set_with_path_is_taken_as_one_parameter(stack_objects):
    """`--path ...parameters.pg_stat_statements.max 5000` splits at the dot;
    pg_stat_statements.max is what was meant."""
    objects = stack_objects(
        "staging", *CNPG, "database.cloudnativepg.postgresql.parameters.pg_stat_statements.max=5000", secrets=CNPG_KEYS
    )
    parameters = objects["Cluster/staging/monad-synapse-db"]["spec"]["postgresql"]["parameters"]
    assert parameters["pg_stat_statements.max"] == "5000"


def test_a_secret_equal_to_plain_text_is_named_by_key_and_is_the_users_to_fix(tmp_path, capsys):
    """The leak guard refuses to write a secret that equals other plain text
    (here the backup CronJob's name); it says which key, never the value."""
    from tools.render import main

    out = tmp_path / "out"
    code = main(
        [
            "staging",
            "--out",
            str(out),
            "--set",
            "backup.storage.kind=s3",
            "--set",
            "backup.storage.s3.bucket=monad-backups",
            "--set-secret",
            "backupS3AccessKeyId=AKIAEXAMPLE0000001",
            "--set-secret",
            "backupS3SecretAccessKey=monad-synapse-db-backup",
        ]
    )
    assert code == 2 and not out.exists()
    error = capsys.readouterr().err
    assert "secret backupS3SecretAccessKey" in error and "internal error" not in error
    assert "monad-synapse-db-backup" not in error  # the value itself is never shown
