"""Settings of the database: external (a URL), or an in-cluster PostgreSQL
run by CloudNativePG (settings/cloudnativepg.py), with its RPO, point-in-time
recovery into a new cluster, and a DR replica site."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal, Optional

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from settings.base import _custom_error, _Model
from settings.cloudnativepg import (
    ARCHIVE_UPLOAD_MARGIN_SECONDS,
    DEFAULT_CLUSTER_NAME,
    MIN_ARCHIVE_TIMEOUT_SECONDS,
    CloudNativePg,
    ClusterName,
    DatabaseObjectStore,
)
from settings.fields import matching, parse_quantity, path_segments

_RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})")


EARLIEST_TARGET = datetime(2022, 1, 1, tzinfo=timezone.utc)
# Go's time.Time.String() of a UTC time: what the CLI passes for a time left
# unquoted in the stack file (yaml.v3 reads it as a time.Time; Pulumi's
# config object.go keeps v.String()).
_GO_TIME_TEXT = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}) ([0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?) \+0000 UTC")


def _check_target_time(value: Any) -> Any:
    if value is None:
        return None
    go_text = _GO_TIME_TEXT.fullmatch(value) if isinstance(value, str) else None
    if go_text:
        meant = f"{go_text[1]}T{go_text[2]}Z"
        raise _custom_error(
            "unquoted_target_time",
            f"is Go's text for a time: the stack file has it unquoted, so the CLI read it as a time; quote it "
            f"there (targetTime: '{meant}') or set it with the command below",
            suggestion=meant,
        )
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
    if moment < EARLIEST_TARGET:
        # 1970-01-01 is a zeroed clock or a typo, never a moment with WAL: the
        # in-cluster database (CloudNativePG 1.26+, released in 2025) has none that old.
        raise _custom_error(
            "ancient_target_time",
            "is before 2022: no archive of the in-cluster database goes back "
            "that far; give the moment just before the mistake, such as 2026-11-30T01:55:00Z",
        )
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


# The old primary's .status.demotionToken: base64 of a small JSON document.
# The fields CloudNativePG requires of a token (pkg/utils/parser.go,
# PgControldataTokenContent.IsValid): base64 (standard) of a JSON object.
_TOKEN_FIELDS = (
    "latestCheckpointTimelineID",
    "redoWalFile",
    "databaseSystemIdentifier",
    "latestCheckpointREDOLocation",
    "timeOfLatestCheckpoint",
    "operatorVersion",
)


def _decodes_as_a_token(token: str) -> str:
    try:
        content = json.loads(base64.b64decode(token, validate=True))
    except (ValueError, binascii.Error):
        content = None
    missing = [name for name in _TOKEN_FIELDS if not (isinstance(content, dict) and content.get(name))]
    if missing:
        raise _custom_error(
            "bad_promotion_token",
            "is not a CloudNativePG demotion token (base64 of its JSON; "
            "{missing} missing): copy it whole from the old primary's status "
            "(kubectl get cluster <name> -o jsonpath='{.status.demotionToken}')",
            missing=", ".join(missing),
        )
    return token


PromotionToken = Annotated[
    str,
    matching(
        "bad_promotion_token",
        r"[A-Za-z0-9+/=_-]{16,4096}",
        "must be the demotion token from the old primary's status "
        "(kubectl get cluster monad-synapse-db -o jsonpath='{.status.demotionToken}')",
    ),
    AfterValidator(_decodes_as_a_token),
]


def delay_seconds(delay: Optional[str]) -> int:
    """A delay such as 1h30m in seconds (0 for none)."""
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(number) * units[unit] for number, unit in re.findall(r"([0-9]+)(h|m|s)", delay or ""))


def _fits_go_duration(delay: str) -> str:
    """CloudNativePG parses minApplyDelay as a Go time.Duration (int64
    nanoseconds): about 2562047 hours at most."""
    if delay_seconds(delay) * 10**9 > 2**63 - 1:
        raise _custom_error(
            "delay_too_long",
            "is longer than a Go duration can hold (about 2562047h); a DR site's delay is hours, e.g. 1h",
        )
    return delay


Delay = Annotated[
    str,
    matching("bad_delay", r"([0-9]+(h|m|s))+", "must be a duration such as 1h, 30m or 1h30m"),
    AfterValidator(_fits_go_duration),
]


# Server connections kept for replication, the operator, the exporter and dumps.
CONNECTION_HEADROOM = 10
_POSTGRES_SIZE = re.compile(r"^\s*([0-9]+)\s*(B|kB|MB|GB|TB)?\s*$")
_POSTGRES_SIZE_UNITS = {"B": 1, "kB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40, None: 2**20}


def postgres_size_bytes(value: str) -> Optional[int]:
    """A PostgreSQL size parameter in bytes (min/max_wal_size: a bare number is
    MB; units kB, MB, GB, TB are powers of 1024), as CloudNativePG's
    parsePostgresQuantityValue reads it; None when it is not one."""
    match = _POSTGRES_SIZE.match(str(value))
    return int(match.group(1)) * _POSTGRES_SIZE_UNITS[match.group(2)] if match else None


_POSTGRES_TIME = re.compile(r"^\s*([0-9]+)\s*(s|min|h|d)?\s*$")
_POSTGRES_TIME_UNITS = {"s": 1, "min": 60, "h": 3600, "d": 86400, None: 1}


def postgres_seconds(value: str) -> Optional[int]:
    """A PostgreSQL time parameter whose bare number is seconds (checkpoint_timeout); None otherwise."""
    match = _POSTGRES_TIME.match(str(value))
    return int(match.group(1)) * _POSTGRES_TIME_UNITS[match.group(2)] if match else None


class Replica(_Model):
    """CloudNativePG's distributed topology: both sites declare it; the one
    whose `primary` names itself is the primary, the other a replica cluster
    following the primary's WAL archive."""

    enabled: bool = False
    self_name: SiteName = Field(None, alias="self")
    primary: SiteName = None
    source: ReplicaSource = ReplicaSource()
    # The demotion token the old primary publishes; needed to promote.
    promotion_token: Optional[PromotionToken] = None
    # Replay WAL only this long after it was written (a window to stop a bad
    # change reaching the DR site), e.g. 1h; none by default.
    min_apply_delay: Optional[Delay] = None

    @model_validator(mode="after")
    def _topology_is_complete(self) -> "Replica":
        if not self.enabled:
            return self
        for field, value, example in (
            ("self", self.self_name, "dr"),
            ("primary", self.primary, "main"),
            ("source.name", self.source.name, "main"),
        ):
            if value is None:
                raise _custom_error(
                    "replica_incomplete",
                    "database.replica.enabled needs {field}",
                    field=field,
                    value=None,
                    suggestion=example,
                )
        if self.source.name == self.self_name:
            raise _custom_error(
                "replica_source_is_self",
                "the source must be the other site, not this one ({value})",
                field="source.name",
                value=self.source.name,
            )
        if self.primary not in (self.self_name, self.source.name):
            raise _custom_error(
                "replica_unknown_primary",
                "the primary must be this site ({self}) or the source ({source})",
                field="primary",
                value=self.primary,
                self=self.self_name,
                source=self.source.name,
                suggestion=self.source.name,
            )
        if self.source.object_store is None:
            raise _custom_error(
                "replica_without_source_store",
                "a replica site follows the source's WAL archive: give its bucket",
                field="source.objectStore.bucket",
                value=None,
                suggestion="<the other site's bucket>",
            )
        if not self.source.object_store.path:
            # Left out, the path would be this site's namespace: the other
            # site's archive is under *its* namespace (or its own path).
            raise _custom_error(
                "replica_source_path_required",
                "give the path of the other site's archive in its bucket: its "
                "database.cloudnativepg.objectStore.path, or else its namespace",
                field="source.objectStore.path",
                value=None,
                suggestion="<the other site's objectStore.path, else its namespace>",
            )
        if self.promotion_token and self.min_apply_delay:
            # cloudnative-pg internal/webhook/v1/cluster_webhook.go, validatePromotionToken.
            raise _custom_error(
                "token_with_apply_delay",
                'CloudNativePG refuses a promotion token together with minApplyDelay ("minApplyDelay '
                'cannot be applied with a promotion token"); remove minApplyDelay for the promotion',
                field="minApplyDelay",
                value=self.min_apply_delay,
                remove=True,
            )
        return self

    @property
    def is_replica(self) -> bool:
        return self.enabled and self.primary != self.self_name

    @property
    def min_apply_delay_seconds(self) -> int:
        """minApplyDelay in seconds (0 without one): a standby applies WAL that
        much later on purpose."""
        return delay_seconds(self.min_apply_delay)


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
                least=least,
                margin=ARCHIVE_UPLOAD_MARGIN_SECONDS,
                floor=MIN_ARCHIVE_TIMEOUT_SECONDS,
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
            names += [
                name
                for name in (self.cloudnativepg.cluster_name, self.recovered_cluster_name)
                if name not in names and not (self.recovery.retire_source and name == self.cloudnativepg.cluster_name)
            ]
        return tuple(names)

    @model_validator(mode="after")
    def _cloudnativepg_is_complete(self) -> "Database":
        uses = self.kind == "cloudnativepg"
        if uses and self.cloudnativepg.object_store is None:
            raise _custom_error(
                "cnpg_without_object_store",
                "database.kind cloudnativepg archives WAL to object storage; give its bucket (and the stack secrets "
                "databaseS3AccessKeyId and databaseS3SecretAccessKey)",
                field="cloudnativepg.objectStore.bucket",
                value=None,
                suggestion="monad-synapse-wal",
            )
        for field, used in (("recovery.targetTime", self.recovering), ("replica.enabled", self.replica.enabled)):
            if used and not uses:
                raise _custom_error(
                    "needs_cloudnativepg",
                    "{field} applies to the in-cluster database only (database.kind cloudnativepg); the external "
                    "database recovers with its provider's point-in-time recovery",
                    field=field,
                    value=True,
                    remove=True,
                )
        if self.replica.enabled and self.recovering:
            raise _custom_error(
                "recovery_in_topology",
                "a point-in-time recovery inside a replica topology would fork it; recover with "
                "database.replica.enabled false, then rebuild the other site from the recovered cluster",
                field="recovery.targetTime",
                value=self.recovery.target_time,
                remove=True,
            )
        return self

    @model_validator(mode="after")
    def _target_within_the_kept_backups(self) -> "Database":
        """A target older than the object store's retention has no base
        backup to start from: the Barman Cloud plugin prunes backups and WAL
        past `retention` (a recovery window: RECOVERY WINDOW OF n DAYS/WEEKS/
        MONTHS, months counted as 31 days so nothing kept is refused)."""
        store = self.cloudnativepg.object_store
        if not self.recovering or store is None:
            return self
        count, unit = int(store.retention[:-1]), store.retention[-1]
        window = timedelta(days=count * {"d": 1, "w": 7, "m": 31}[unit])
        target = datetime.fromisoformat(str(self.recovery.target_time).replace("Z", "+00:00"))
        if target < datetime.now(timezone.utc) - window:
            raise _custom_error(
                "target_beyond_retention",
                "is older than database.cloudnativepg.objectStore.retention ({retention}): base backups and WAL "
                "past it are pruned, so nothing can recover to it; give a moment within the last {retention}",
                field="recovery.targetTime",
                value=self.recovery.target_time,
                retention=store.retention,
            )
        return self

    @model_validator(mode="after")
    def _parameters_fit_the_volumes(self) -> "Database":
        """What CloudNativePG's webhook refuses at apply time, refused at
        preview (cluster_webhook.go, validateWalSizeConfiguration: min_wal_size below
        max_wal_size, both below the WAL volume)."""
        if self.kind != "cloudnativepg":
            return self
        cnpg = self.cloudnativepg
        parameters = dict(cnpg.postgresql.parameters)
        min_wal = postgres_size_bytes(parameters.get("min_wal_size", "80MB"))
        max_wal = postgres_size_bytes(parameters.get("max_wal_size", "1GB"))
        prefix = "cloudnativepg.postgresql.parameters."
        if min_wal is not None and max_wal is not None and min_wal >= max_wal:
            raise _custom_error(
                "min_wal_not_below_max",
                "min_wal_size must be smaller than max_wal_size ({maximum})",
                field=prefix + "min_wal_size",
                value=parameters.get("min_wal_size", "80MB"),
                maximum=parameters.get("max_wal_size", "1GB"),
                remove=True,
            )
        volume = parse_quantity(cnpg.wal_storage.size)
        if max_wal is not None and "max_wal_size" not in parameters and max_wal >= volume:
            # PostgreSQL keeps up to max_wal_size (1GB unless set) of WAL between checkpoints.
            raise _custom_error(
                "wal_volume_below_max_wal_size",
                "walStorage.size {value} does not fit PostgreSQL's max_wal_size (1GB unless set): the WAL volume "
                "would fill between checkpoints; give it more room",
                field="cloudnativepg.walStorage.size",
                value=cnpg.wal_storage.size,
                suggestion="10Gi",
            )
        for name in ("min_wal_size", "max_wal_size"):
            size = postgres_size_bytes(parameters[name]) if name in parameters else None
            if size is not None and size >= volume:
                raise _custom_error(
                    "wal_size_beyond_volume",
                    "{name} {value} does not fit the WAL volume ({volume}); CloudNativePG refuses it: lower it, "
                    "or grow database.cloudnativepg.walStorage.size",
                    field=prefix + name,
                    name=name,
                    value=parameters[name],
                    volume=cnpg.wal_storage.size,
                    suggestion=f"{int(volume * 3 // 4 // 2**20)}MB",
                )
        # PgBouncer opens up to default_pool_size server connections per
        # pooler pod; the server keeps room for replication, the operator,
        # the exporter and the dumps.
        max_connections = (
            int(parameters.get("max_connections", "100"))
            if str(parameters.get("max_connections", "100")).isdigit()
            else 100
        )
        pooled = cnpg.pooler.instances * cnpg.pooler.default_pool_size
        if pooled > max_connections - CONNECTION_HEADROOM:
            raise _custom_error(
                "pooler_beyond_max_connections",
                "{instances} pooler pods x defaultPoolSize {size} = {pooled} server connections, more than "
                "max_connections {maximum} leaves after {headroom} for replication, the operator and the dumps: "
                "PostgreSQL would refuse the excess",
                field="cloudnativepg.pooler.defaultPoolSize",
                value=cnpg.pooler.default_pool_size,
                instances=cnpg.pooler.instances,
                size=cnpg.pooler.default_pool_size,
                pooled=pooled,
                maximum=max_connections,
                headroom=CONNECTION_HEADROOM,
                suggestion=max(1, (max_connections - CONNECTION_HEADROOM) // cnpg.pooler.instances),
            )
        if "checkpoint_timeout" in parameters:
            seconds = postgres_seconds(parameters["checkpoint_timeout"])
            if seconds is None or not 30 <= seconds <= self.archive_timeout_seconds:
                raise _custom_error(
                    "checkpoint_beyond_archive_timeout",
                    "checkpoint_timeout {value} must be from 30s (PostgreSQL's minimum) to archive_timeout "
                    "({timeout}s, from database.rpoSeconds): after a restart PostgreSQL archives its first WAL "
                    "segment only at a checkpoint, so a longer one breaks the RPO after every restart; leave it "
                    "out (it follows archive_timeout)",
                    field=prefix + "checkpoint_timeout",
                    value=parameters["checkpoint_timeout"],
                    timeout=self.archive_timeout_seconds,
                    remove=True,
                )
        return self

    @model_validator(mode="after")
    def _recovery_is_staged(self) -> "Database":
        recovery = self.recovery
        if not self.recovering:
            for key, value in (
                ("confirm", recovery.confirm),
                ("clusterName", recovery.cluster_name),
                ("serveApp", recovery.serve_app or None),
                ("retireSource", recovery.retire_source or None),
            ):
                if value is not None:
                    raise _custom_error(
                        "recovery_key_without_target",
                        f"recovery.{key} without recovery.targetTime; remove it",
                        field=f"recovery.{key}",
                        value=value,
                        remove=True,
                    )
            return self
        if self.recovered_cluster_name == self.cloudnativepg.cluster_name:
            raise _custom_error(
                "recovery_overwrites",
                "the recovered cluster must be a new one; {value} is the running cluster (cloudnativepg.clusterName)",
                field="recovery.clusterName",
                value=recovery.cluster_name,
                remove=True,
            )
        if recovery.retire_source and not recovery.serve_app:
            raise _custom_error(
                "retire_before_switch",
                "the old cluster still serves the app; switch first (recovery.serveApp true), retire in a later change",
                field="recovery.retireSource",
                value=True,
                suggestion=False,
            )
        return self


def _archive_location(store: DatabaseObjectStore, server: str, default_path: str) -> tuple:
    """Where a cluster's WAL goes, by meaning: the path without leading,
    trailing or repeated slashes, the endpoint's host lower-cased with its
    default port and trailing slash dropped (no endpoint, or any AWS endpoint, is AWS S3)."""
    path = path_segments(store.path or default_path)
    endpoint = (store.endpoint or "https://s3.amazonaws.com").rstrip("/").lower().removesuffix(":443")
    if endpoint.endswith(".amazonaws.com"):
        endpoint = "aws"  # AWS bucket names are global: any regional endpoint reaches the same bucket
    return store.bucket, path, endpoint, server.strip().strip("/")


def same_archive(
    first: DatabaseObjectStore, first_server: str, second: DatabaseObjectStore, second_server: str, default_path: str
) -> bool:
    """Whether two clusters would write WAL into the same folder."""
    return _archive_location(first, first_server, default_path) == _archive_location(
        second, second_server, default_path
    )
