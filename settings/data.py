"""Settings of the database's safety net: backups, the restore drill, object storage, restores."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Optional

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    field_validator,
    model_validator,
)

from settings.addresses import EgressCidrs
from settings.base import _custom_error, _Model
from settings.fields import URL_PORT, ImageRef, KeyPrefix, ObjectName, PositiveSize, matching
from settings.schedules import CronSchedule, first_overlap, max_interval_seconds


class RestoreDrill(_Model):
    enabled: bool = True
    # The runbook's monthly disaster-recovery test, on the 1st, 35 minutes
    # after the hourly backup: with the deadlines below the two never share
    # the backup volume (ReadWriteOnce) at the same time.
    schedule: CronSchedule = "35 4 1 * *"
    active_deadline_seconds: int = Field(1200, ge=60, le=86400)
    sanity_query: str = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"

    @field_validator("sanity_query")
    @classmethod
    def _sanity_query_only_reads(cls, query: str) -> str:
        """It runs as the owner of the live database (scripts/backup/drill.sh
        runs it read-only too): one statement that reads."""
        statement = query.strip().rstrip(";").strip()
        if ";" in statement or not re.match(r"(?is)^(select|with|values|table)\b", statement) or len(statement) > 2000:
            raise _custom_error(
                "unsafe_sanity_query",
                "the drill's sanity query runs as the owner of the live database: give one statement that only "
                "reads (SELECT ..., no ';' inside), e.g. SELECT count(*) FROM <your main table>",
                suggestion="SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
            )
        return statement


def _s3_bucket_rules(name: str) -> str:
    """AWS's bucket naming rules beyond the characters: no "..", not an IP
    address, none of the reserved prefixes and suffixes."""
    if (
        ".." in name
        or re.fullmatch(r"[0-9]+(\.[0-9]+){3}", name)
        or name.startswith(("xn--", "sthree-", "amzn-s3-demo-"))
        or name.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"))
    ):
        raise _custom_error(
            "bad_bucket",
            "not an S3 bucket name: no '..', no IP address, no xn--/sthree- prefix or -s3alias/--ol-s3 suffix",
        )
    return name


BucketName = Annotated[
    str,
    matching(
        "bad_bucket",
        r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
        "not an S3 bucket name (3-63 lower-case letters, digits, '.', '-')",
    ),
    AfterValidator(_s3_bucket_rules),
]
RegionName = Annotated[
    str, matching("bad_region", r"[a-z0-9][a-z0-9-]{0,40}", "must be a region name such as us-east-1")
]
HttpsEndpoint = Annotated[
    str,
    matching(
        "bad_endpoint",
        r"https://[A-Za-z0-9.-]+" + URL_PORT + r"?/?",
        "must be an https:// URL of the S3 API (a port from 1 to 65535), such as https://minio.example.com",
    ),
]


class ObjectLocation(_Model):
    """A bucket in S3 or an S3-compatible store (MinIO, R2, GCS interop): off
    the cluster's failure domain, unlike a volume."""

    bucket: BucketName
    region: RegionName = "us-east-1"
    endpoint: Optional[HttpsEndpoint] = None  # for S3-compatible stores
    # Where the store's API answers: egress is allowed there on 443 (or the
    # endpoint's port); the whole internet unless pinned.
    cidrs: EgressCidrs = ("0.0.0.0/0",)

    @property
    def port(self) -> int:
        match = re.search(r":([0-9]+)/?$", self.endpoint or "")
        return int(match.group(1)) if match else 443


class S3Storage(ObjectLocation):
    """Where the pg_dump files go."""

    prefix: Optional[KeyPrefix] = None  # default: the namespace
    image: ImageRef = "amazon/aws-cli:2.22.35"


class BackupStorage(_Model):
    kind: Literal["pvc", "s3"] = "pvc"
    # The volume's size, or with s3 the scratch space a dump is written to.
    size: PositiveSize = "20Gi"
    storage_class_name: Optional[ObjectName] = None
    s3: Optional[S3Storage] = None

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> "BackupStorage":
        if self.kind == "s3" and self.s3 is None:
            raise _custom_error(
                "s3_without_bucket",
                "backup.storage.kind s3 needs a bucket",
                field="s3.bucket",
                value=None,
                suggestion="monad-synapse-backups",
            )
        return self


class Backup(_Model):
    enabled: bool = True
    schedule: CronSchedule = "0 * * * *"
    retention_days: int = Field(7, ge=1, le=3650)
    # pg_dump must be of the server's major version (or newer); pin both.
    postgres_major_version: int = Field(15, ge=10, le=30)
    image: ImageRef = "postgres:15.10-alpine"
    # A dump that runs longer is stopped; with hourly dumps, half the interval.
    active_deadline_seconds: int = Field(1800, ge=60, le=86400)
    storage: BackupStorage = BackupStorage()
    drill: RestoreDrill = RestoreDrill()

    @model_validator(mode="after")
    def _schedules_fire_often_enough(self) -> "Backup":
        for field, schedule, most, why in (
            ("schedule", self.schedule, 7 * 86400, "backups less often than weekly leave days of data unprotected"),
            (
                "drill.schedule",
                self.drill.schedule,
                93 * 86400,
                "the runbook tests recovery monthly; at least quarterly",
            ),
        ):
            if (field == "schedule" or self.drill.enabled) and max_interval_seconds(schedule) > most:
                raise _custom_error(
                    "schedule_too_rare",
                    "{value} runs too rarely: " + why,
                    field=field,
                    value=schedule,
                    suggestion=(RestoreDrill if field.startswith("drill.") else Backup)
                    .model_fields["schedule"]
                    .default,
                )
        return self

    @model_validator(mode="after")
    def _drill_and_backup_never_share_the_volume(self) -> "Backup":
        """A ReadWriteOnce volume attaches to one node at a time: a drill and a
        backup running together on different nodes leave one stuck."""
        if not self.drill.enabled or self.storage.kind != "pvc":
            return self
        clash = first_overlap(
            self.schedule, self.active_deadline_seconds, self.drill.schedule, self.drill.active_deadline_seconds
        )
        if clash is not None:
            from datetime import datetime, timezone

            when = datetime.fromtimestamp(clash, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            minute, rest = self.drill.schedule.split(" ", 1)
            free = next(
                (
                    f"{offset} {rest}"
                    for offset in range(0, 60, 5)
                    if first_overlap(
                        self.schedule,
                        self.active_deadline_seconds,
                        f"{offset} {rest}",
                        self.drill.active_deadline_seconds,
                    )
                    is None
                ),
                None,
            )
            raise _custom_error(
                "drill_overlaps_backup",
                "the drill at {when} (up to {drill}s) would run while a backup ({backup}s at most) holds the "
                "ReadWriteOnce backup volume; move the drill between backups or shorten the deadlines",
                field="drill.schedule",
                value=self.drill.schedule,
                when=when,
                drill=self.drill.active_deadline_seconds,
                backup=self.active_deadline_seconds,
                suggestion=free,
            )
        return self

    @model_validator(mode="after")
    def _image_matches_server(self) -> "Backup":
        repository, _, tag = self.image.split("@")[0].rpartition(":")
        if (
            repository.rsplit("/", 1)[-1] == "postgres"
            and tag
            and not re.match(rf"{self.postgres_major_version}(\D|$)", tag)
        ):
            raise _custom_error(
                "backup_image_major",
                "image {value} is not PostgreSQL {major}; pg_dump must match the server's major version "
                "(backup.postgresMajorVersion)",
                field="image",
                value=self.image,
                major=self.postgres_major_version,
                suggestion=f"postgres:{self.postgres_major_version}-alpine",
            )
        return self

    @property
    def stale_after_seconds(self) -> int:
        """No success for longer than this is an alert: the longest gap between
        scheduled runs, plus one run's deadline, plus 15 minutes of slack."""
        return max_interval_seconds(self.schedule) + self.active_deadline_seconds + 900


_DUMP_NAME = re.compile(r"monad-synapse-[0-9]{8}T[0-9]{6}Z\.dump")


def _number_as_text(value: Any) -> Any:
    """`pulumi config set --path restore.requestId 4711` stores a number; it is an id."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _check_request_id(request_id: Optional[str]) -> Optional[str]:
    if request_id is None:
        return None
    if not request_id.strip():
        raise _custom_error("empty_request_id", "must not be empty; name the request, e.g. incident-4711")
    if len(request_id) > 200 or any(not character.isprintable() for character in request_id):
        raise _custom_error("bad_request_id", "must be one line of printable text, at most 200 characters")
    return request_id


class Restore(_Model):
    # "latest" or a dump file name; restores into DATABASE_URL.
    from_backup: Optional[str] = None
    # Must equal the namespace: typing it is the confirmation.
    confirm: Optional[str] = None
    # Names this restore: a request that already ran never touches the
    # database again, so a new restore needs a new id.
    request_id: Annotated[Optional[str], BeforeValidator(_number_as_text), AfterValidator(_check_request_id)] = None

    @field_validator("from_backup")
    @classmethod
    def _known_backup(cls, value: Optional[str]) -> Optional[str]:
        # fullmatch: "$" would let a trailing newline through.
        if value is not None and value != "latest" and not _DUMP_NAME.fullmatch(value):
            raise _custom_error(
                "bad_backup_name",
                "must be 'latest' or a dump file name like monad-synapse-20261127T030000Z.dump",
            )
        return value
