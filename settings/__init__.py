"""Stack settings: the one place that reads Pulumi config.

`load_settings` turns a stack's config into a frozen, typed `Settings` object
and validates all of it before any resource is declared. Every problem is
reported at once, each naming its key path, the bad value (never a secret),
what is allowed and the `pulumi config set` command that fixes it.
Components receive `Settings` (or the parts they need) and never read
`pulumi.Config` themselves.

The package follows the ladder from data to loading, each module one concern:

    contract       names, managed keys, the secrets the program reads
    base, fields   the section base model and field types
    addresses      CIDR coverage and the metadata range
    schedules      cron validity, gaps and overlaps
    workload, edge, observability, data   the sections
    cloudnativepg, database               the database: the in-cluster PostgreSQL, its RPO, recovery and DR
    model          the root `Settings`: every section, and what components derive from them
    keys           the keys as the user types them, their defaults and types
    rules          the rules across sections, each yielding every problem it finds
    advice         valid but worth a warning at `pulumi up`
    errors         problems in the user's words
    validation     raw values to `Settings`, every problem of every kind in one pass
    loading        reading config through the Pulumi SDK (its internals only here)

The pure part (`settings_from_raw`) takes plain dicts, so it is tested
without Pulumi mocks; `load_settings` only gathers the raw values and secrets.
"""

from settings.addresses import covers_the_internet, public_addresses
from settings.advice import advice
from settings.contract import (
    COLORS,
    DEFAULT_OPERATOR_LABELS,
    MANAGED_APP_KEYS,
    OPTIONAL_SECRET_KEYS,
    PROJECT,
    SECRET_KEYS,
    SYSTEM_NAMESPACES,
)
from settings.data import Backup, BackupStorage, Restore, RestoreDrill, S3Storage
from settings.database import Database
from settings.edge import (
    ClientIp,
    Edge,
    EgressTarget,
    GatewayEdge,
    Network,
    PreviewEdge,
    RateLimit,
    RpcEgress,
    SharedGateway,
)
from settings.errors import Problem, SettingsError
from settings.fields import parse_quantity
from settings.keys import TOP_LEVEL_KEYS
from settings.loading import KubernetesConfig, StackInputs, StackSecrets, load_settings
from settings.model import Settings
from settings.observability import Alerting, Exporters, Monitoring
from settings.promotion import Analysis, Promotion, SmokeCheck, Verification
from settings.schedules import first_overlap, max_interval_seconds
from settings.validation import settings_from_raw
from settings.workload import (
    Autoscaling,
    PriorityClassSettings,
    Probes,
    Resources,
    SwitchGate,
    Toolbox,
    Vpa,
    node_heap_mebibytes,
)

__all__ = [
    "COLORS",
    "DEFAULT_OPERATOR_LABELS",
    "MANAGED_APP_KEYS",
    "OPTIONAL_SECRET_KEYS",
    "PROJECT",
    "SECRET_KEYS",
    "SYSTEM_NAMESPACES",
    "TOP_LEVEL_KEYS",
    "Alerting",
    "ClientIp",
    "Analysis",
    "Autoscaling",
    "Backup",
    "BackupStorage",
    "Database",
    "Edge",
    "EgressTarget",
    "Exporters",
    "GatewayEdge",
    "KubernetesConfig",
    "Monitoring",
    "Network",
    "PreviewEdge",
    "PriorityClassSettings",
    "Probes",
    "Toolbox",
    "Problem",
    "Promotion",
    "SmokeCheck",
    "RateLimit",
    "Resources",
    "Restore",
    "RestoreDrill",
    "RpcEgress",
    "S3Storage",
    "Settings",
    "SettingsError",
    "SharedGateway",
    "StackInputs",
    "StackSecrets",
    "SwitchGate",
    "Verification",
    "Vpa",
    "covers_the_internet",
    "first_overlap",
    "load_settings",
    "max_interval_seconds",
    "node_heap_mebibytes",
    "parse_quantity",
    "public_addresses",
    "settings_from_raw",
    "advice",
]
