"""Settings of the database: external (a URL), or an in-cluster PostgreSQL
run by the CloudNativePG operator, with WAL archiving, point-in-time
recovery and a DR replica site."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Annotated, Any, Literal, Mapping, Optional

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from settings.base import _Model, _custom_error
from settings.data import ObjectLocation
from settings.addresses import EgressCidrs
from settings.fields import ImageRef, NamespaceName, ObjectName, parse_quantity
from settings.schedules import SecondsCronSchedule, max_interval_seconds
from settings.workload import ResourceAmounts, Resources

# The runbook's name for the database, and the prefix of everything around it.
DEFAULT_CLUSTER_NAME = "monad-synapse-db"

# WAL reaches object storage within archive_timeout of being written, plus
# the time to upload one 16 MiB segment (gzip'd, seconds to S3). Leave that
# much of the RPO for the upload, so a segment forced out at archive_timeout
# still lands in time.
ARCHIVE_UPLOAD_MARGIN_SECONDS = 30
# archive_timeout below this forces a segment switch so often that the
# archive fills with mostly empty 16 MiB segments (PostgreSQL's docs warn
# against very short timeouts; gzip shrinks them, the request count stays).
MIN_ARCHIVE_TIMEOUT_SECONDS = 30

# PostgreSQL parameters a stack may set. Everything else is the operator's
# (archive_*, wal_level, shared_preload_libraries, listen_addresses, ...) or
# this program's: a parameter outside this list is refused, not passed on.
ALLOWED_PARAMETERS = frozenset({
    "max_connections", "shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem",
    "random_page_cost", "effective_io_concurrency", "max_wal_size", "min_wal_size", "checkpoint_timeout",
    "checkpoint_completion_target", "wal_compression", "wal_keep_size", "default_statistics_target",
    "log_min_duration_statement", "log_lock_waits", "log_temp_files", "log_autovacuum_min_duration",
    "statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "idle_session_timeout",
    "max_parallel_workers", "max_parallel_workers_per_gather", "max_worker_processes",
    "autovacuum_max_workers", "autovacuum_naptime", "autovacuum_vacuum_scale_factor",
    "autovacuum_analyze_scale_factor", "autovacuum_vacuum_cost_limit", "jit", "timezone",
    "pg_stat_statements.max", "pg_stat_statements.track", "track_io_timing",
})
# Why some well-known parameters are refused (the rest: "not in the allow list").
REFUSED_PARAMETERS: Mapping[str, str] = MappingProxyType({
    "archive_timeout": "is set from database.rpoSeconds, so the RPO and the archive agree; set that instead",
    "archive_mode": "is managed by CloudNativePG (WAL archiving through the Barman Cloud plugin)",
    "archive_command": "is managed by CloudNativePG (WAL archiving through the Barman Cloud plugin)",
    "wal_level": "is managed by CloudNativePG (replication and archiving need 'logical' or 'replica')",
    "shared_preload_libraries": "is managed by CloudNativePG; pg_stat_statements is loaded by the program",
    "listen_addresses": "is managed by CloudNativePG",
    "port": "is managed by CloudNativePG",
    "ssl": "is managed by CloudNativePG (TLS is always on)",
    "fsync": "turning fsync off loses committed data on a crash",
    "synchronous_commit": "is managed by CloudNativePG's synchronous replication settings",
    "full_page_writes": "turning it off corrupts data on a torn page write",
})
_PARAMETER_VALUE = re.compile(r"[A-Za-z0-9 ._:/+-]{1,100}")


def _parameters_as_text(value: Any) -> Any:
    """`--path ...parameters.max_connections 200` stores a number; PostgreSQL takes text."""
    if not isinstance(value, Mapping):
        return value
    return {
        key: ("on" if item is True else "off" if item is False else str(item))
        if isinstance(item, (bool, int, float)) else item
        for key, item in value.items()
    }


def _check_parameters(parameters: Mapping[str, str]) -> Mapping[str, str]:
    for name, value in parameters.items():
        if name in REFUSED_PARAMETERS:
            raise _custom_error("refused_parameter", "{name} " + REFUSED_PARAMETERS[name], field=name, name=name,
                                value=value, remove=True)
        if name not in ALLOWED_PARAMETERS:
            raise _custom_error(
                "unknown_parameter",
                "{name} is not among the PostgreSQL parameters a stack may set ({allowed})",
                field=name, name=name, value=value, allowed=", ".join(sorted(ALLOWED_PARAMETERS)), remove=True,
            )
        if not isinstance(value, str) or not _PARAMETER_VALUE.fullmatch(value):
            raise _custom_error(
                "bad_parameter_value",
                "{name} must be a plain value such as 200, 256MB, 5min or on (letters, digits, spaces and . _ : / + -)",
                field=name, name=name, value=value,
            )
    return MappingProxyType(dict(sorted(parameters.items())))


PostgresParameters = Annotated[
    Mapping[str, Any], BeforeValidator(_parameters_as_text), BeforeValidator(lambda value: {} if value is None else value)
]


class Postgresql(_Model):
    parameters: PostgresParameters = Field(default_factory=dict)

    @field_validator("parameters")
    @classmethod
    def _allowed(cls, parameters: Mapping[str, Any]) -> Mapping[str, str]:
        return _check_parameters(parameters)


def _positive_size(size: str) -> str:
    try:
        if parse_quantity(size) <= 0:
            raise ValueError
    except ValueError:
        raise _custom_error("bad_size", "must be a positive Kubernetes quantity such as 20Gi") from None
    return size


class VolumeSettings(_Model):
    size: str = "20Gi"
    storage_class: Optional[ObjectName] = None

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, size: Any) -> Any:
        return _positive_size(str(size)) if isinstance(size, (str, int)) and not isinstance(size, bool) else size


class WalVolumeSettings(VolumeSettings):
    # A separate WAL volume: a full data volume cannot stop WAL (and archiving).
    size: str = "10Gi"


class DatabaseRequests(ResourceAmounts):
    cpu: str = "500m"
    memory: str = "1Gi"


class DatabaseLimits(ResourceAmounts):
    cpu: str = "2"
    memory: str = "2Gi"


class DatabaseResources(Resources):
    requests: DatabaseRequests = DatabaseRequests()
    limits: DatabaseLimits = DatabaseLimits()


class Pooler(_Model):
    """PgBouncer in front of the primary (`monad-synapse-db-pooler-rw`)."""

    instances: int = Field(2, ge=1, le=20)
    # Transaction pooling: a server connection per transaction, so hundreds of
    # app connections share a few dozen PostgreSQL backends.
    pool_mode: Literal["transaction", "session"] = "transaction"
    default_pool_size: int = Field(20, ge=1, le=1000)
    max_client_conn: int = Field(1000, ge=10, le=100000)


class DatabaseObjectStore(ObjectLocation):
    """Where WAL and base backups go: S3 or an S3-compatible store, off the
    cluster's failure domain. Credentials: the stack secrets
    databaseS3AccessKeyId and databaseS3SecretAccessKey."""

    path: Optional[str] = None  # default: the namespace
    # Base backups and the WAL they need are kept this long ('30d', '8w', '6m').
    retention: str = "30d"

    @field_validator("path")
    @classmethod
    def _key_prefix(cls, path: Optional[str]) -> Optional[str]:
        if path is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9/_.-]{0,200}", path.strip("/")):
            raise _custom_error("bad_prefix", "must be an object key prefix: letters, digits, '/', '_', '.', '-'")
        return path.strip("/") if path is not None else None

    @field_validator("retention")
    @classmethod
    def _retention(cls, retention: str) -> str:
        # The Barman Cloud plugin's ObjectStore schema: ^[1-9][0-9]*[dwm]$.
        if not re.fullmatch(r"[1-9][0-9]*[dwm]", retention):
            raise _custom_error("bad_retention", "must be a count and a unit: 30d (days), 8w (weeks) or 6m (months)")
        return retention

    def destination(self, default_path: str) -> str:
        return f"s3://{self.bucket}/{self.path or default_path}"


class BaseBackups(_Model):
    # CloudNativePG's schedule has a seconds field first (robfig/cron):
    # "0 0 3 * * *" is 03:00:00 every day.
    schedule: SecondsCronSchedule = "0 0 3 * * *"
    # How long a base backup may take before "no base backup" alerts.
    margin_seconds: int = Field(7200, ge=600, le=7 * 86400)

    @field_validator("schedule")
    @classmethod
    def _often_enough(cls, schedule: str) -> str:
        if max_interval_seconds(schedule, seconds_field=True) > 7 * 86400:
            raise _custom_error(
                "schedule_too_rare",
                "{value} runs too rarely: recovery replays all WAL since the last base backup; at least weekly",
                value=schedule,
            )
        return schedule

    @property
    def stale_after_seconds(self) -> int:
        return max_interval_seconds(self.schedule, seconds_field=True) + self.margin_seconds


def _major_of(image: str) -> Optional[int]:
    tag = image.split("@")[0].rpartition(":")[2]
    match = re.match(r"([0-9]+)(\.|-|$)", tag)
    return int(match.group(1)) if match else None


def _check_cluster_name(name: str) -> str:
    # Services <name>-rw/-ro/-r and the Secret <name>-app derive from it, and
    # CloudNativePG wants a DNS label; keep room for those suffixes.
    if not re.fullmatch(r"[a-z]([-a-z0-9]{0,48}[a-z0-9])?", name):
        raise _custom_error("bad_cluster_name", "must be a DNS label of at most 50 characters, starting with a letter")
    return name


ClusterName = Annotated[str, AfterValidator(_check_cluster_name)]


class CloudNativePg(_Model):
    # The cluster the app uses. A point-in-time recovery creates another one
    # (database.recovery); once the old one is retired, this key takes its name.
    cluster_name: ClusterName = DEFAULT_CLUSTER_NAME
    instances: int = Field(3, ge=1, le=9)
    # The runbook's PostgreSQL 15, the major the pg_dump image is pinned to.
    postgres_major_version: int = Field(15, ge=13, le=18)
    image: ImageRef = "ghcr.io/cloudnative-pg/postgresql:15.10"
    storage: VolumeSettings = VolumeSettings()
    wal_storage: WalVolumeSettings = WalVolumeSettings()
    resources: DatabaseResources = DatabaseResources()
    postgresql: Postgresql = Field(default_factory=Postgresql)
    pooler: Pooler = Pooler()
    object_store: Optional[DatabaseObjectStore] = None
    backup: BaseBackups = BaseBackups()
    # A standby further behind than this alerts: a failover would lose it.
    replication_lag_seconds: int = Field(60, ge=5, le=86400)
    # Where the CloudNativePG operator runs: it talks to the instances.
    operator_namespace: NamespaceName = "cnpg-system"
    # The Kubernetes API server's addresses: the instance manager in every
    # database and pooler pod watches the Cluster through it.
    api_server_cidrs: EgressCidrs = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")

    @model_validator(mode="after")
    def _image_matches_major(self) -> "CloudNativePg":
        major = _major_of(self.image)
        if major is not None and major != self.postgres_major_version:
            raise _custom_error(
                "image_major_mismatch",
                "image {value} is PostgreSQL {major}, but postgresMajorVersion is {expected}; a major upgrade is a "
                "migration, not an image change: set both together only when you mean it",
                field="image", value=self.image, major=major, expected=self.postgres_major_version,
                suggestion=f"ghcr.io/cloudnative-pg/postgresql:{self.postgres_major_version}",
            )
        return self


_RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})")


def _check_target_time(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise _custom_error(
            "bad_target_time",
            "must be an RFC 3339 time with its offset, such as 2026-11-30T01:30:00Z or 2026-11-30T02:30:00+01:00",
        )
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _custom_error("bad_target_time", "is not a date and time that exists") from None
    if moment > datetime.now(timezone.utc):
        raise _custom_error("future_target_time", "is in the future; recovery can only go back to WAL that exists")
    return value


class Recovery(_Model):
    """Point-in-time recovery into a new cluster. Three reviewed changes:
    recover (targetTime, confirm), serve the app from it (serveApp), retire
    the old cluster (retireSource)."""

    target_time: Annotated[Optional[str], BeforeValidator(_check_target_time)] = None
    # Must equal the namespace: typing it is the confirmation.
    confirm: Optional[str] = None
    # The new cluster; default <cluster>-pitr-<target time, minutes>.
    cluster_name: Optional[ClusterName] = None
    serve_app: bool = False
    retire_source: bool = False

    def recovered_cluster_name(self, source: str) -> str:
        if self.cluster_name:
            return self.cluster_name
        stamp = datetime.fromisoformat(str(self.target_time).replace("Z", "+00:00")).astimezone(timezone.utc)
        base = re.sub(r"-pitr-[0-9]{12}$", "", source)
        return f"{base[:32]}-pitr-{stamp:%Y%m%d%H%M}"


_SITE_NAME = re.compile(r"[a-z]([-a-z0-9]{0,30}[a-z0-9])?")


def _check_site(name: Optional[str]) -> Optional[str]:
    if name is not None and not _SITE_NAME.fullmatch(name):
        raise _custom_error("bad_site_name", "must be a short DNS label naming a site, such as eu-west or dr")
    return name


SiteName = Annotated[Optional[str], BeforeValidator(_check_site)]


class ReplicaSource(_Model):
    """The other site of the distributed topology: its name and where its
    WAL archive is (read with this stack's object-store credentials)."""

    name: SiteName = None
    object_store: Optional[DatabaseObjectStore] = None
    # The other site's archive folder (its cluster name, unless it was recovered).
    server_name: str = DEFAULT_CLUSTER_NAME


class Replica(_Model):
    """CloudNativePG's distributed topology: both sites declare it; the one
    whose `primary` names itself is the primary, the other a replica cluster
    following the primary's WAL archive."""

    enabled: bool = False
    self_name: SiteName = Field(None, alias="self")
    primary: SiteName = None
    source: ReplicaSource = ReplicaSource()
    # The demotion token the old primary publishes; needed to promote.
    promotion_token: Optional[str] = None
    # Replay WAL only this long after it was written (a window to stop a bad
    # change reaching the DR site), e.g. 1h; none by default.
    min_apply_delay: Optional[str] = None

    @field_validator("promotion_token")
    @classmethod
    def _token(cls, token: Optional[str]) -> Optional[str]:
        if token is not None and not re.fullmatch(r"[A-Za-z0-9+/=_-]{16,4096}", token):
            raise _custom_error(
                "bad_promotion_token",
                "must be the demotion token from the old primary's status "
                "(kubectl get cluster monad-synapse-db -o jsonpath='{.status.demotionToken}')",
            )
        return token

    @field_validator("min_apply_delay")
    @classmethod
    def _delay(cls, delay: Optional[str]) -> Optional[str]:
        if delay is not None and not re.fullmatch(r"([0-9]+(h|m|s))+", delay):
            raise _custom_error("bad_delay", "must be a duration such as 1h, 30m or 1h30m")
        return delay

    @model_validator(mode="after")
    def _topology_is_complete(self) -> "Replica":
        if not self.enabled:
            return self
        for field, value, example in (("self", self.self_name, "dr"), ("primary", self.primary, "main"),
                                      ("source.name", self.source.name, "main")):
            if value is None:
                raise _custom_error("replica_incomplete", "database.replica.enabled needs {field}",
                                    field=field, value=None, suggestion=example)
        if self.source.name == self.self_name:
            raise _custom_error("replica_source_is_self", "the source must be the other site, not this one ({value})",
                                field="source.name", value=self.source.name)
        if self.primary not in (self.self_name, self.source.name):
            raise _custom_error(
                "replica_unknown_primary", "the primary must be this site ({self}) or the source ({source})",
                field="primary", value=self.primary, self=self.self_name, source=self.source.name,
                suggestion=self.source.name,
            )
        if self.source.object_store is None:
            raise _custom_error("replica_without_source_store",
                                "a replica site follows the source's WAL archive: give its bucket",
                                field="source.objectStore.bucket", value=None, suggestion="monad-synapse-wal-main")
        return self

    @property
    def is_replica(self) -> bool:
        return self.enabled and self.primary != self.self_name


class Database(_Model):
    kind: Literal["external", "cloudnativepg"] = "external"
    # The most data a lost primary may take with it. WAL segments reach
    # object storage at least this often (archive_timeout).
    rpo_seconds: int = Field(300, le=86400)
    cloudnativepg: CloudNativePg = Field(default_factory=CloudNativePg)
    recovery: Recovery = Recovery()
    replica: Replica = Replica()

    @field_validator("rpo_seconds")
    @classmethod
    def _archive_can_meet_it(cls, rpo: int) -> int:
        least = MIN_ARCHIVE_TIMEOUT_SECONDS + ARCHIVE_UPLOAD_MARGIN_SECONDS
        if rpo < least:
            raise _custom_error(
                "rpo_unreachable",
                "WAL archiving cannot promise an RPO under {least} seconds: archive_timeout is the RPO less "
                "{margin} s for the upload, and below {floor} s every forced switch writes a mostly empty 16 MiB "
                "segment; for less, use synchronous replicas (cloudnativepg.instances) on top",
                least=least, margin=ARCHIVE_UPLOAD_MARGIN_SECONDS, floor=MIN_ARCHIVE_TIMEOUT_SECONDS,
                suggestion=300,
            )
        return rpo

    @property
    def archive_timeout_seconds(self) -> int:
        """archive_timeout: the RPO less the upload margin."""
        return self.rpo_seconds - ARCHIVE_UPLOAD_MARGIN_SECONDS

    @property
    def is_cloudnativepg(self) -> bool:
        return self.kind == "cloudnativepg"

    @property
    def recovering(self) -> bool:
        return self.recovery.target_time is not None

    @property
    def recovered_cluster_name(self) -> Optional[str]:
        return self.recovery.recovered_cluster_name(self.cloudnativepg.cluster_name) if self.recovering else None

    @property
    def serving_cluster_name(self) -> str:
        """The cluster the app, the pooler, the dumps and the exporter use."""
        if self.recovering and self.recovery.serve_app:
            return str(self.recovered_cluster_name)
        return self.cloudnativepg.cluster_name

    @property
    def cluster_names(self) -> tuple[str, ...]:
        """Every Cluster this stack declares, the serving one first."""
        names = [self.serving_cluster_name]
        if self.recovering:
            names += [name for name in (self.cloudnativepg.cluster_name, self.recovered_cluster_name)
                      if name not in names and not (self.recovery.retire_source and name == self.cloudnativepg.cluster_name)]
        return tuple(names)

    @model_validator(mode="after")
    def _cloudnativepg_is_complete(self) -> "Database":
        uses = self.kind == "cloudnativepg"
        if uses and self.cloudnativepg.object_store is None:
            raise _custom_error(
                "cnpg_without_object_store",
                "database.kind cloudnativepg archives WAL to object storage; give its bucket (and the stack secrets "
                "databaseS3AccessKeyId and databaseS3SecretAccessKey)",
                field="cloudnativepg.objectStore.bucket", value=None, suggestion="monad-synapse-wal",
            )
        for field, used in (("recovery.targetTime", self.recovering), ("replica.enabled", self.replica.enabled)):
            if used and not uses:
                raise _custom_error(
                    "needs_cloudnativepg",
                    "{field} applies to the in-cluster database only (database.kind cloudnativepg); the external "
                    "database recovers with its provider's point-in-time recovery",
                    field=field, value=True, remove=True,
                )
        if self.replica.enabled and self.recovering:
            raise _custom_error(
                "recovery_in_topology",
                "a point-in-time recovery inside a replica topology would fork it; recover with "
                "database.replica.enabled false, then rebuild the other site from the recovered cluster",
                field="recovery.targetTime", value=self.recovery.target_time, remove=True,
            )
        return self

    @model_validator(mode="after")
    def _recovery_is_staged(self) -> "Database":
        recovery = self.recovery
        if not self.recovering:
            for key, value in (("confirm", recovery.confirm), ("clusterName", recovery.cluster_name),
                               ("serveApp", recovery.serve_app or None), ("retireSource", recovery.retire_source or None)):
                if value is not None:
                    raise _custom_error("recovery_key_without_target", f"recovery.{key} without recovery.targetTime; "
                                        "remove it", field=f"recovery.{key}", value=value, remove=True)
            return self
        if self.recovered_cluster_name == self.cloudnativepg.cluster_name:
            raise _custom_error(
                "recovery_overwrites",
                "the recovered cluster must be a new one; {value} is the running cluster (cloudnativepg.clusterName)",
                field="recovery.clusterName", value=recovery.cluster_name, remove=True,
            )
        if recovery.retire_source and not recovery.serve_app:
            raise _custom_error(
                "retire_before_switch",
                "the old cluster still serves the app; switch first (recovery.serveApp true), retire in a later change",
                field="recovery.retireSource", value=True, suggestion=False,
            )
        return self


ARCHIVE_PATH_FIELDS = ("bucket", "path", "endpoint")


def same_archive(first: DatabaseObjectStore, first_server: str, second: DatabaseObjectStore, second_server: str,
                 default_path: str) -> bool:
    """Whether two clusters would write WAL into the same folder."""
    return (first.bucket, first.path or default_path, first.endpoint, first_server) == (
        second.bucket, second.path or default_path, second.endpoint, second_server)


__all__ = [
    "ALLOWED_PARAMETERS", "ARCHIVE_UPLOAD_MARGIN_SECONDS", "BaseBackups", "CloudNativePg", "DEFAULT_CLUSTER_NAME",
    "Database", "DatabaseObjectStore", "Pooler", "Postgresql", "Recovery", "Replica", "ReplicaSource",
    "same_archive",
]
