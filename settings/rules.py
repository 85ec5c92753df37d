"""The rules that span sections: each judges a `Settings` whose sections are
already valid, and yields every problem it finds.

Pydantic stops at the first model validator that raises, so these are not
validators: `validation.settings_from_raw` runs every rule in one pass and
reports all their problems together.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Callable, Iterator
from urllib.parse import urlparse

from pydantic_core import PydanticCustomError

from platform_contract import prometheus_url
from settings.addresses import covers_the_internet
from settings.base import _custom_error
from settings.contract import _DNS_LABEL
from settings.database import same_archive
from settings.fields import parse_quantity
from settings.workload import MIN_NODE_HEAP_MIB, NODE_NATIVE_OVERHEAD_MIB

if TYPE_CHECKING:
    from settings.model import Settings

Rule = Callable[["Settings"], Iterator[PydanticCustomError]]


def preview_is_safe(settings: Settings) -> Iterator[PydanticCustomError]:
    preview = settings.edge.preview
    if preview.host is not None and not preview.host.endswith("." + settings.domain):
        yield _custom_error(
            "preview_outside_domain",
            "preview host {value} is not under domain {domain}; the certificate and cookies are scoped to it",
            field="edge.preview.host",
            value=preview.host,
            domain=settings.domain,
            suggestion=f"preview.{settings.domain}",
        )
    if preview.host is not None and not all(_DNS_LABEL.match(label) for label in preview.host.split(".")):
        yield _custom_error("bad_preview_host", "not a valid host name", field="edge.preview.host", value=preview.host)
    # Judged by the address space covered, however it is split up.
    if (
        settings.stack == "production"
        and preview.enabled
        and (not preview.allow_cidrs or covers_the_internet(preview.allow_cidrs))
    ):
        yield _custom_error(
            "preview_exposed",
            "in production the preview host serves unreleased code; restrict it to trusted ranges "
            "(office, VPN) or disable it with edge.preview.enabled false",
            field="edge.preview.allowCidrs",
            value=list(preview.allow_cidrs),
            list=True,
        )


def analysis_can_reach_prometheus(settings: Settings) -> Iterator[PydanticCustomError]:
    """The analysis Job's NetworkPolicy lets it reach the monitoring
    namespace only (components/app/promotion.py): a Prometheus elsewhere is
    unreachable, and every promotion would fail closed."""
    url = settings.promotion.analysis.prometheus_url
    if url is None or not settings.promotion.analysis.enabled:
        return
    labels = (urlparse(url).hostname or "").split(".")
    namespace = settings.network.monitoring_namespace
    if not (len(labels) >= 2 and labels[1] == namespace and (len(labels) == 2 or labels[2] == "svc")):
        yield _custom_error(
            "prometheus_unreachable",
            "the analysis may only reach the monitoring namespace ({namespace}), and {value} is not a Service "
            "there: every promotion would fail closed. Point it at <service>.{namespace}.svc, or set "
            "network.monitoringNamespace to Prometheus' namespace",
            field="promotion.analysis.prometheusUrl",
            value=url,
            namespace=namespace,
            suggestion=prometheus_url(namespace),
        )


def heap_lets_the_hpa_settle(settings: Settings) -> Iterator[PydanticCustomError]:
    if settings.node_heap_mebibytes >= MIN_NODE_HEAP_MIB:
        return
    request = int(parse_quantity(settings.resources.requests.memory) / (Decimal(2) ** 20))
    utilization = settings.autoscaling.memory_utilization
    # Requests never exceed limits (a section rule), so the HPA target is
    # always the binding bound here: 75% of a limit >= such a request is
    # never below MIN_NODE_HEAP_MIB when the target bound is not.
    needed_request = -(-(MIN_NODE_HEAP_MIB + NODE_NATIVE_OVERHEAD_MIB) * 100 // utilization)
    yield _custom_error(
        "heap_below_target",
        "with requests.memory {value} and autoscaling.memoryUtilization {utilization}% the HPA scales out "
        "above {target} MiB per pod, which leaves Node.js a heap of {heap} MiB after its native overhead "
        "({overhead} MiB); at least {minimum} MiB is needed",
        field="resources.requests.memory",
        value=settings.resources.requests.memory,
        utilization=utilization,
        target=int(request * utilization / 100),
        heap=settings.node_heap_mebibytes,
        overhead=NODE_NATIVE_OVERHEAD_MIB,
        minimum=MIN_NODE_HEAP_MIB,
        suggestion=f"{max(needed_request, request + 1)}Mi",
    )


def restore_is_guarded(settings: Settings) -> Iterator[PydanticCustomError]:
    restore = settings.restore
    if restore.from_backup is None:
        for key, value in (("confirm", restore.confirm), ("requestId", restore.request_id)):
            if value is not None:
                yield _custom_error(
                    "confirm_without_restore",
                    f"restore.{key} without restore.fromBackup; remove it",
                    field=f"restore.{key}",
                    value=value,
                    remove=True,
                )
        return
    if restore.request_id is None:
        yield _custom_error(
            "restore_without_request_id",
            "a restore needs a request id that no earlier restore used (a request that already ran is "
            "never applied again); name it after the incident or change",
            field="restore.requestId",
            value=None,
            suggestion="incident-4711",
        )
    if restore.confirm != settings.namespace:
        yield _custom_error(
            "restore_unconfirmed",
            "restoring overwrites the {namespace} database; confirm by setting restore.confirm to the "
            "namespace name, {namespace}",
            field="restore.confirm",
            value=restore.confirm,
            namespace=settings.namespace,
            suggestion=settings.namespace,
        )
    if not settings.maintenance_mode:
        # Maintenance mode goes off after a restore: a restore still set then
        # has run. Before one, maintenance mode goes on first.
        yield _custom_error(
            "restore_outside_maintenance",
            "a restore replaces the data under a running app. If it has run, remove it (the fix); to restore now, "
            "turn maintenance mode on first: pulumi config set maintenanceMode true -s {stack}",
            field="maintenanceMode",
            value=settings.maintenance_mode,
            stack=settings.stack,
            remove_key="restore",
        )
    if not settings.backup.enabled:
        yield _custom_error(
            "restore_without_backups",
            "restores read the backup volume, which backup.enabled false does not declare",
            field="backup.enabled",
            value=False,
            suggestion=True,
        )


def recovery_is_guarded(settings: Settings) -> Iterator[PydanticCustomError]:
    """Point-in-time recovery: confirmed by the namespace name, and while
    the app still writes to the old cluster, only in maintenance mode
    (writes after the target would be lost at the switch)."""
    database = settings.database
    if not database.recovering:
        return
    if settings.restore.from_backup is not None:
        # Both rewrite the data, each from another point in time: which
        # one the app ends up with would depend on timing.
        yield _custom_error(
            "restore_during_recovery",
            "a dump restore and a point-in-time recovery in one change would each rewrite the data from another "
            "point in time; finish the recovery (or remove it), then restore",
            field="restore.fromBackup",
            value=settings.restore.from_backup,
            remove=True,
        )
    if database.recovery.confirm != settings.namespace:
        yield _custom_error(
            "recovery_unconfirmed",
            "a point-in-time recovery to {target} discards every change after it once the app is switched; "
            "confirm by setting database.recovery.confirm to the namespace name, {namespace}",
            field="database.recovery.confirm",
            value=database.recovery.confirm,
            target=database.recovery.target_time,
            namespace=settings.namespace,
            suggestion=settings.namespace,
        )
    if not settings.maintenance_mode and not database.recovery.serve_app:
        yield _custom_error(
            "recovery_outside_maintenance",
            "recover while the app is in maintenance mode: writes to the old cluster after the recovery "
            "would be lost when the app switches to the recovered one",
            field="maintenanceMode",
            value=settings.maintenance_mode,
            suggestion=True,
        )


def production_database_has_a_standby(settings: Settings) -> Iterator[PydanticCustomError]:
    instances = settings.database.cloudnativepg.instances
    if settings.stack == "production" and settings.database.is_cloudnativepg and instances < 2:
        yield _custom_error(
            "production_without_standby",
            "production needs at least one standby ({value} instance): without one, a node failure is a "
            "database outage until the volume is back, and a lost volume loses up to the RPO",
            field="database.cloudnativepg.instances",
            value=instances,
            suggestion=3,
        )


def dumps_can_read_the_cluster(settings: Settings) -> Iterator[PydanticCustomError]:
    backup, server = settings.backup, settings.database.cloudnativepg.postgres_major_version
    if settings.database.is_cloudnativepg and backup.enabled and backup.postgres_major_version < server:
        yield _custom_error(
            "dump_older_than_server",
            "pg_dump {value} cannot dump the in-cluster PostgreSQL {server}; pin backup.postgresMajorVersion "
            "and backup.image to {server} too",
            field="backup.postgresMajorVersion",
            value=backup.postgres_major_version,
            server=server,
            suggestion=server,
        )


def sites_never_share_an_archive(settings: Settings) -> Iterator[PydanticCustomError]:
    replica = settings.database.replica
    store = settings.database.cloudnativepg.object_store
    if not replica.enabled or store is None or replica.source.object_store is None:
        return
    if same_archive(
        store,
        settings.database.serving_cluster_name,
        replica.source.object_store,
        replica.source.server_name,
        settings.namespace,
    ):
        yield _custom_error(
            "shared_archive",
            "both sites would archive WAL into the same folder and corrupt each other's archive; give the DR "
            "site its own bucket or path",
            field="database.replica.source.objectStore.bucket",
            value=replica.source.object_store.bucket,
        )


CROSS_SECTION_RULES: tuple[Rule, ...] = (
    preview_is_safe,
    analysis_can_reach_prometheus,
    heap_lets_the_hpa_settle,
    restore_is_guarded,
    recovery_is_guarded,
    production_database_has_a_standby,
    dumps_can_read_the_cluster,
    sites_never_share_an_archive,
)


def cross_section_errors(settings: Settings) -> list[PydanticCustomError]:
    """Every rule's every problem, in rule order."""
    return [error for rule in CROSS_SECTION_RULES for error in rule(settings)]
