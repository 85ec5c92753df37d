"""How pods reach the database (pure): which Secret key holds its URL, the
NetworkPolicy egress that reaches it, and the app's DATABASE_URL and
DATABASE_READ_URL with the in-cluster database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from components.common.egress import egress_rule
from settings import EgressTarget

POSTGRES_PORT = 5432
# CloudNativePG's pod labels (pkg/utils/labels_annotations.go): every
# instance and pooler pod has cnpg.io/cluster; cnpg.io/podRole tells them
# apart (instance | pooler); pooler pods carry cnpg.io/poolerName.
CLUSTER_LABEL = "cnpg.io/cluster"
POD_ROLE_LABEL = "cnpg.io/podRole"
POOLER_LABEL = "cnpg.io/poolerName"
# CloudNativePG's generated credentials of the application owner: the
# Secret <cluster>-app (pkg/specs/secrets.go), with username, password,
# and uri (to <cluster>-rw in the namespace).
APP_CREDENTIALS_SUFFIX = "-app"
APP_DATABASE = "app"
# The variables the app's DATABASE_URL is composed from (Kubernetes expands
# $(NAME) of variables defined before it in the same container).
USER_VARIABLE = "MONAD_SYNAPSE_DB_USER"
PASSWORD_VARIABLE = "MONAD_SYNAPSE_DB_PASSWORD"


def app_credentials_secret(cluster: str) -> str:
    return f"{cluster}{APP_CREDENTIALS_SUFFIX}"


def instance_selector(clusters: tuple[str, ...]) -> dict:
    """The PostgreSQL instance pods of these clusters (not their poolers)."""
    return {
        "matchLabels": {POD_ROLE_LABEL: "instance"},
        "matchExpressions": [{"key": CLUSTER_LABEL, "operator": "In", "values": sorted(clusters)}],
    }


def database_pod_selector(clusters: tuple[str, ...]) -> dict:
    """Every pod that runs PostgreSQL for these clusters: the instances and
    the operator's bootstrap Jobs (initdb, join, full-recovery, ...), whose
    pods carry cnpg.io/jobRole and no cnpg.io/podRole (cloudnative-pg
    pkg/specs/jobs.go, CreatePrimaryJob); not the poolers."""
    return {
        "matchExpressions": [
            {"key": CLUSTER_LABEL, "operator": "In", "values": sorted(clusters)},
            {"key": POD_ROLE_LABEL, "operator": "NotIn", "values": ["pooler"]},
        ],
    }


def pooler_name(cluster: str) -> str:
    """Each cluster's own Pooler: a Pooler's spec.cluster is immutable
    (cloudnative-pg api/v1/pooler_types.go, XValidation "self == oldSelf"),
    so serving another cluster means another Pooler. The default cluster's
    is the runbook's monad-synapse-db-pooler-rw."""
    return f"{cluster}-pooler-rw"


def pooler_selector(clusters: tuple[str, ...]) -> dict:
    """The PgBouncer pods of these clusters' Poolers (pkg/specs/pgbouncer/deployments.go)."""
    return {
        "matchLabels": {POD_ROLE_LABEL: "pooler"},
        "matchExpressions": [{"key": CLUSTER_LABEL, "operator": "In", "values": sorted(clusters)}],
    }


@dataclass(frozen=True)
class DatabaseAccess:
    """How a pod gets the database URL into a variable of its choice, and
    the NetworkPolicy egress rules that let it connect. The URL is either a
    key of a Secret (`secret_name`/`secret_key`), or composed from a
    credentials Secret's username and password (`credentials_secret`) and a
    host: Kubernetes expands $(NAME) of variables defined before it."""

    egress: tuple[dict, ...]
    secret_name: Any = None  # pulumi.Input[str]
    secret_key: str = ""
    credentials_secret: Optional[str] = None
    host: str = ""
    namespace: str = ""

    def url(self, host: Optional[str] = None) -> str:
        # CloudNativePG's generated passwords are letters and digits only
        # (internal/controller/cluster_create.go: password.Generate(64, 10,
        # 0, ...), no symbols), and databaseAppPassword is refused otherwise,
        # so they need no escaping inside a URL.
        return (
            f"postgresql://$({USER_VARIABLE}):$({PASSWORD_VARIABLE})@{host or self.host}.{self.namespace}.svc:"
            f"{POSTGRES_PORT}/{APP_DATABASE}?sslmode=require"
        )

    def credentials_env(self) -> list[dict]:
        def from_secret(name: str, key: str) -> dict:
            return {"name": name, "valueFrom": {"secretKeyRef": {"name": self.credentials_secret, "key": key}}}

        return [from_secret(USER_VARIABLE, "username"), from_secret(PASSWORD_VARIABLE, "password")]

    def env(self, variable: str) -> list[dict]:
        """Container env defining `variable` as the URL (credentials first)."""
        if self.credentials_secret is None:
            return [
                {"name": variable, "valueFrom": {"secretKeyRef": {"name": self.secret_name, "key": self.secret_key}}}
            ]
        return [*self.credentials_env(), {"name": variable, "value": self.url()}]


def external_access(app_secret_name: Any, postgres: EgressTarget) -> DatabaseAccess:
    """The external database: DATABASE_URL of the app's Secret, over the
    configured CIDRs."""
    return DatabaseAccess((egress_rule(postgres),), secret_name=app_secret_name, secret_key="DATABASE_URL")


def _to_instances(cluster: str) -> dict:
    return {
        "to": [{"podSelector": instance_selector((cluster,))}],
        "ports": [{"protocol": "TCP", "port": POSTGRES_PORT}],
    }


def cluster_access(cluster: str, namespace: str = "", credentials_secret: Optional[str] = None) -> DatabaseAccess:
    """An in-cluster database, straight to its primary (<cluster>-rw): pg_dump
    and the exporter bypass the pooler, whose transaction pooling would
    break a dump's snapshot. With the operator's generated credentials the
    Secret's `uri` is the URL; with our own (a DR topology) it is composed."""
    if credentials_secret is None:
        return DatabaseAccess((_to_instances(cluster),), secret_name=app_credentials_secret(cluster), secret_key="uri")
    return DatabaseAccess(
        (_to_instances(cluster),), credentials_secret=credentials_secret, host=f"{cluster}-rw", namespace=namespace
    )


@dataclass(frozen=True)
class AppDatabase:
    """The app's view of the in-cluster database: env variables and egress."""

    cluster: str
    namespace: str
    # Standbys exist (instances > 1): reads go to the read-only service.
    has_standbys: bool
    # The Secret with the application role's username and password.
    credentials_secret: str = ""

    @property
    def read_service(self) -> str:
        """<cluster>-ro (standbys only) when there are standbys; with one
        instance, -ro has no endpoints, so reads go to the primary."""
        return f"{self.cluster}-ro" if self.has_standbys else f"{self.cluster}-rw"

    def env(self) -> list[dict]:
        """Container env (after envFrom, so these win over the app Secret)."""
        access = DatabaseAccess(
            (),
            credentials_secret=self.credentials_secret or app_credentials_secret(self.cluster),
            namespace=self.namespace,
        )
        return [
            *access.credentials_env(),
            {"name": "DATABASE_URL", "value": access.url(pooler_name(self.cluster))},
            {"name": "DATABASE_READ_URL", "value": access.url(self.read_service)},
        ]

    def egress(self) -> list[dict]:
        port = [{"protocol": "TCP", "port": POSTGRES_PORT}]
        return [{"to": [{"podSelector": pooler_selector((self.cluster,))}], "ports": port}, _to_instances(self.cluster)]


# Our own credentials Secret for the application role, used instead of the
# operator's generated one where both sites of a DR topology need the same
# password (CloudNativePG: identical role secrets across the topology).
SHARED_CREDENTIALS_SECRET = "monad-synapse-db-app-credentials"


def app_database(cluster: str, namespace: str, instances: int, credentials_secret: Optional[str] = None) -> AppDatabase:
    return AppDatabase(cluster, namespace, instances > 1, credentials_secret or app_credentials_secret(cluster))
