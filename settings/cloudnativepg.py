"""Settings of the in-cluster PostgreSQL run by CloudNativePG: the cluster,
its PostgreSQL parameters (an allow list), volumes, resources, the pooler,
the object store and the base backups."""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Annotated, Any, Literal, Mapping, Optional

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from platform_contract import CLOUDNATIVEPG_NAMESPACE
from settings import postgres_parameters
from settings.addresses import EgressCidrs
from settings.base import _custom_error, _Model
from settings.data import ObjectLocation
from settings.fields import ImageRef, KeyPrefix, NamespaceName, ObjectName, PositiveSize, matching, parse_quantity
from settings.schedules import SecondsCronSchedule, max_interval_seconds
from settings.workload import ResourceAmounts, Resources

# The runbook's name for the database, and the prefix of everything around it.
DEFAULT_CLUSTER_NAME = "monad-synapse-db"
# The PgBouncer Pooler in front of whichever cluster serves (components/common/vocabulary.py).
POOLER_NAME = f"{DEFAULT_CLUSTER_NAME}-pooler-rw"
# The app's ServiceAccount (components/platform/namespace.py names it after the app).
APP_SERVICE_ACCOUNT = "monad-synapse"

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
ALLOWED_PARAMETERS = frozenset(
    {
        "max_connections",
        "shared_buffers",
        "effective_cache_size",
        "work_mem",
        "maintenance_work_mem",
        "random_page_cost",
        "effective_io_concurrency",
        "max_wal_size",
        "min_wal_size",
        "checkpoint_timeout",
        "checkpoint_completion_target",
        "wal_compression",
        "wal_keep_size",
        "default_statistics_target",
        "log_min_duration_statement",
        "log_lock_waits",
        "log_temp_files",
        "log_autovacuum_min_duration",
        "statement_timeout",
        "lock_timeout",
        "idle_in_transaction_session_timeout",
        "idle_session_timeout",
        "max_parallel_workers",
        "max_parallel_workers_per_gather",
        "max_worker_processes",
        "autovacuum_max_workers",
        "autovacuum_naptime",
        "autovacuum_vacuum_scale_factor",
        "autovacuum_analyze_scale_factor",
        "autovacuum_vacuum_cost_limit",
        "jit",
        "timezone",
        "pg_stat_statements.max",
        "pg_stat_statements.track",
        "track_io_timing",
    }
)
# Why some well-known parameters are refused (the rest: "not in the allow list").
REFUSED_PARAMETERS: Mapping[str, str] = MappingProxyType(
    {
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
    }
)
_PARAMETER_VALUE = re.compile(r"[A-Za-z0-9 ._:/+-]{1,100}")


def _parameters_as_text(value: Any) -> Any:
    """`--path ...parameters.max_connections 200` stores a number; PostgreSQL takes text.
    `--path ...parameters.pg_stat_statements.max 5000` stores a nested map
    (the CLI splits the path at the dot): a parameter whose name has a dot
    is what was meant, and is taken as one."""
    if not isinstance(value, Mapping):
        return value
    flat: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, Mapping) and item and all(f"{key}.{sub}" in ALLOWED_PARAMETERS for sub in item):
            flat.update({f"{key}.{sub}": inner for sub, inner in item.items()})
        else:
            flat[key] = item
    value = flat
    return {
        key: ("on" if item is True else "off" if item is False else str(item))
        if isinstance(item, (bool, int, float))
        else item
        for key, item in value.items()
    }


def _check_parameters(parameters: Mapping[str, str]) -> Mapping[str, str]:
    for name, value in parameters.items():
        if name in REFUSED_PARAMETERS:
            raise _custom_error(
                "refused_parameter",
                "{name} " + REFUSED_PARAMETERS[name],
                field=name,
                name=name,
                value=value,
                remove=True,
            )
        if name not in ALLOWED_PARAMETERS:
            raise _custom_error(
                "unknown_parameter",
                "{name} is not among the PostgreSQL parameters a stack may set ({allowed})",
                field=name,
                name=name,
                value=value,
                allowed=", ".join(sorted(ALLOWED_PARAMETERS)),
                remove=True,
            )
        if not isinstance(value, str) or not _PARAMETER_VALUE.fullmatch(value):
            raise _custom_error(
                "bad_parameter_value",
                "{name} must be a plain value such as 200, 256MB, 5min or on (letters, digits, spaces and . _ : / + -)",
                field=name,
                name=name,
                value=value,
            )
        refused = postgres_parameters.problem(name, value)
        if refused:
            # PostgreSQL would refuse it when the instance starts (a crash loop), not here.
            raise _custom_error(
                "postgres_refuses_value",
                "{name} {value} " + refused.replace("{", "(").replace("}", ")"),
                field=name,
                name=name,
                value=value,
            )
    return MappingProxyType(dict(sorted(parameters.items())))


PostgresParameters = Annotated[
    Mapping[str, Any],
    BeforeValidator(_parameters_as_text),
    BeforeValidator(lambda value: {} if value is None else value),
]


class Postgresql(_Model):
    parameters: PostgresParameters = Field(default_factory=dict)

    @field_validator("parameters")
    @classmethod
    def _allowed(cls, parameters: Mapping[str, Any]) -> Mapping[str, str]:
        return _check_parameters(parameters)


class VolumeSettings(_Model):
    size: PositiveSize = "20Gi"
    storage_class: Optional[ObjectName] = None

    @field_validator("size")
    @classmethod
    def _room_for_a_database(cls, size: str) -> str:
        # A cluster's volume below 1Gi (a bare "20" is 20 bytes) cannot hold
        # initdb's files and a WAL segment or two: the instance never starts.
        if parse_quantity(size) < 2**30:
            raise _custom_error(
                "volume_too_small",
                "{value} is too small for a PostgreSQL volume (at least 1Gi; a number without a unit is bytes)",
                value=size,
                suggestion="20Gi",
            )
        return size


class WalVolumeSettings(VolumeSettings):
    # A separate WAL volume: a full data volume cannot stop WAL (and archiving).
    size: PositiveSize = "10Gi"


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


# The Barman Cloud plugin's ObjectStore schema: ^[1-9][0-9]*[dwm]$.
Retention = Annotated[
    str,
    matching("bad_retention", r"[1-9][0-9]*[dwm]", "must be a count and a unit: 30d (days), 8w (weeks) or 6m (months)"),
]


class DatabaseObjectStore(ObjectLocation):
    """Where WAL and base backups go: S3 or an S3-compatible store, off the
    cluster's failure domain. Credentials: the stack secrets
    databaseS3AccessKeyId and databaseS3SecretAccessKey."""

    path: Optional[KeyPrefix] = None  # default: the namespace
    # Base backups and the WAL they need are kept this long ('30d', '8w', '6m').
    retention: Retention = "30d"

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
    # Each cluster's Pooler, <cluster>-pooler-rw, names its Service: no
    # cluster may take that name (CloudNativePG's Pooler webhook), nor own a
    # <name>-rw Service of that name.
    # CloudNativePG names the cluster's ServiceAccount (and Role) after it:
    # named like the app's ServiceAccount, the operator would take that over.
    if name == APP_SERVICE_ACCOUNT:
        raise _custom_error(
            "cluster_name_taken",
            "{value} is the app's ServiceAccount, which CloudNativePG would "
            "take over as the cluster's own; pick another",
            value=name,
            suggestion=DEFAULT_CLUSTER_NAME,
        )
    if name.endswith(("-pooler-rw", "-pooler")):
        raise _custom_error(
            "cluster_name_taken",
            "{value} ends like a pooler's name (<cluster>-pooler-rw, whose "
            "Service a cluster's -rw Service would collide with); pick another",
            value=name,
        )
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
    operator_namespace: NamespaceName = CLOUDNATIVEPG_NAMESPACE
    # The Kubernetes API server's addresses: the instance manager in every
    # database and pooler pod watches the Cluster through it.
    api_server_cidrs: EgressCidrs = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")

    @model_validator(mode="after")
    def _image_matches_major(self) -> "CloudNativePg":
        # cloudnative-pg cluster_webhook.go validateImageName: the tag must
        # start with a PostgreSQL version (machinery version.FromTag,
        # ^(\d\.?)+), so the operator can tell upgrades; not latest, not a digest alone.
        reference = self.image.split("@", 1)[0]
        last = reference.rsplit("/", 1)[-1]
        tag = last.rsplit(":", 1)[1] if ":" in last else ""
        if not re.match(r"[0-9]", tag):
            raise _custom_error(
                "image_tag_not_a_version",
                "image {value} needs a tag that starts with its PostgreSQL version (such as 15.10 or "
                "16.4-bookworm); CloudNativePG refuses other tags, as it could not tell upgrades",
                field="image",
                value=self.image,
                suggestion=f"ghcr.io/cloudnative-pg/postgresql:{self.postgres_major_version}",
            )
        major = _major_of(self.image)
        if major is not None and major != self.postgres_major_version:
            raise _custom_error(
                "image_major_mismatch",
                "image {value} is PostgreSQL {major}, but postgresMajorVersion is {expected}; a major upgrade is a "
                "migration, not an image change: set both together only when you mean it",
                field="image",
                value=self.image,
                major=major,
                expected=self.postgres_major_version,
                suggestion=f"ghcr.io/cloudnative-pg/postgresql:{self.postgres_major_version}",
            )
        return self
