"""How pods reach the database (pure): which Secret key holds its URL, the
NetworkPolicy egress that reaches it, and the app's DATABASE_URL and
DATABASE_READ_URL with the in-cluster database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from components.egress import egress_rule
from components.vocabulary import DATABASE_POOLER
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


def pooler_selector() -> dict:
    return {"matchLabels": {POD_ROLE_LABEL: "pooler", POOLER_LABEL: DATABASE_POOLER}}


@dataclass(frozen=True)
class DatabaseAccess:
    """Where a pod that reads the database URL from a Secret finds it, and
    the NetworkPolicy egress rules that let it connect."""

    secret_name: Any  # pulumi.Input[str]
    secret_key: str
    egress: tuple[dict, ...]


def external_access(app_secret_name: Any, postgres: EgressTarget) -> DatabaseAccess:
    """The external database: DATABASE_URL of the app's Secret, over the
    configured CIDRs."""
    return DatabaseAccess(app_secret_name, "DATABASE_URL", (egress_rule(postgres),))


def cluster_access(cluster: str) -> DatabaseAccess:
    """An in-cluster database, straight to its primary (`uri` points at
    <cluster>-rw): pg_dump and the exporter bypass the pooler, whose
    transaction pooling would break a dump's snapshot."""
    return DatabaseAccess(
        app_credentials_secret(cluster),
        "uri",
        ({"to": [{"podSelector": instance_selector((cluster,))}], "ports": [{"protocol": "TCP", "port": POSTGRES_PORT}]},),
    )


@dataclass(frozen=True)
class AppDatabase:
    """The app's view of the in-cluster database: env variables and egress."""

    cluster: str
    namespace: str
    # Standbys exist (instances > 1): reads go to the read-only service.
    has_standbys: bool

    @property
    def read_service(self) -> str:
        """<cluster>-ro (standbys only) when there are standbys; with one
        instance, -ro has no endpoints, so reads go to the primary."""
        return f"{self.cluster}-ro" if self.has_standbys else f"{self.cluster}-rw"

    def url(self, host: str) -> str:
        # CloudNativePG's generated passwords are letters and digits only
        # (internal/controller/cluster_create.go: password.Generate(64, 10,
        # 0, ...), no symbols), so they need no escaping inside a URL.
        return (f"postgresql://$({USER_VARIABLE}):$({PASSWORD_VARIABLE})@{host}.{self.namespace}.svc:{POSTGRES_PORT}/"
                f"{APP_DATABASE}?sslmode=require")

    def env(self) -> list[dict]:
        """Container env (after envFrom, so these win over the app Secret)."""
        secret = app_credentials_secret(self.cluster)

        def from_secret(name: str, key: str) -> dict:
            return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}

        return [
            from_secret(USER_VARIABLE, "username"),
            from_secret(PASSWORD_VARIABLE, "password"),
            {"name": "DATABASE_URL", "value": self.url(DATABASE_POOLER)},
            {"name": "DATABASE_READ_URL", "value": self.url(self.read_service)},
        ]

    def egress(self) -> list[dict]:
        port = [{"protocol": "TCP", "port": POSTGRES_PORT}]
        return [
            {"to": [{"podSelector": pooler_selector()}], "ports": port},
            {"to": [{"podSelector": instance_selector((self.cluster,))}], "ports": port},
        ]


def app_database(cluster: Optional[str], namespace: str, instances: int) -> Optional[AppDatabase]:
    return AppDatabase(cluster, namespace, instances > 1) if cluster else None
