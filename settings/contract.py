"""The app contract: names, the keys the program manages, the secrets it reads (pure data)."""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Mapping, Optional

from platform_contract import OPERATOR_SELECTOR_LABELS

PROJECT = "monad-synapse"
COLORS = ("blue", "green")

# Keys the program writes into the ConfigMap or Secret itself; appConfig may
# not override them, or a typo'd appConfig entry would silently win over the
# managed value (or shadow a secret with a plaintext one).
MANAGED_CONFIGMAP_KEYS = frozenset(
    {"MAINTENANCE_MODE", "NODE_ENV", "PORT", "HOSTNAME", "APP_URL", "NEXT_TELEMETRY_DISABLED"}
)
MANAGED_SECRET_KEYS = frozenset({"JWT_SECRET", "DATABASE_URL", "REDIS_URL"})
# NODE_OPTIONS always; with the in-cluster database, the URLs and the
# credentials they are composed from.
MANAGED_ENV_KEYS = frozenset(
    {"NODE_OPTIONS", "DATABASE_READ_URL", "MONAD_SYNAPSE_DB_USER", "MONAD_SYNAPSE_DB_PASSWORD"}
)
MANAGED_APP_KEYS = MANAGED_CONFIGMAP_KEYS | MANAGED_SECRET_KEYS | MANAGED_ENV_KEYS

# Top-level config keys that are Pulumi secrets every stack needs (declared
# `secret: true` without a default), with an example for messages.
SECRET_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "redisUrl": "rediss://:PASSWORD@HOST:6379/0",
        "alertSlackWebhookUrl": "https://hooks.slack.com/services/T000/B000/XXXX",
        "alertPagerdutyRoutingKey": "<32-character PagerDuty Events v2 integration key>",
    }
)

# What each secret must look like (checked without ever printing it).
SECRET_SHAPES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "databaseUrl": (r"postgres(ql)?://\S+", "a postgresql:// URL"),
        "redisUrl": (r"rediss?://\S+", "a redis:// or rediss:// URL"),
        "alertSlackWebhookUrl": (r"https://\S+", "an https:// URL"),
        "alertPagerdutyRoutingKey": (r"[A-Za-z0-9]{16,64}", "16 to 64 letters and digits"),
        "backupS3AccessKeyId": (r"[A-Za-z0-9]{8,128}", "8 to 128 letters and digits"),
        "backupS3SecretAccessKey": (r"\S{8,256}", "8 to 256 characters without spaces"),
        "databaseS3AccessKeyId": (r"[A-Za-z0-9]{8,128}", "8 to 128 letters and digits"),
        "databaseS3SecretAccessKey": (r"\S{8,256}", "8 to 256 characters without spaces"),
        # It goes into DATABASE_URL unescaped, like the operator's own passwords.
        "databaseAppPassword": (r"[A-Za-z0-9]{24,128}", "24 to 128 letters and digits"),
    }
)
# What the offline renderer stands in for a secret it cannot decrypt.
OFFLINE_SECRET_PLACEHOLDER = "<redacted>"


def secret_shape_problem(key: str, value: str) -> Optional[str]:
    """What is wrong with a secret's value, in words that never quote it."""
    if value == OFFLINE_SECRET_PLACEHOLDER or key not in SECRET_SHAPES:
        return None
    pattern, shape = SECRET_SHAPES[key]
    if not re.fullmatch(pattern, value.strip()):
        return f"must be {shape} (the value is a secret and is not shown)"
    return None


# Secrets needed only by some configurations (declared with an empty default
# so the CLI does not require them; the program checks they are encrypted).
OPTIONAL_SECRET_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "databaseUrl": "postgresql://USER:PASSWORD@HOST:5432/monad_synapse",
        "backupS3AccessKeyId": "AKIA...",
        "backupS3SecretAccessKey": "<secret access key>",
        "databaseS3AccessKeyId": "AKIA...",
        "databaseS3SecretAccessKey": "<secret access key>",
        "databaseAppPassword": "<the same 64 random letters and digits on both sites, e.g. openssl rand -hex 32>",
    }
)
# What each optional secret is needed for (the settings property that needs it).
OPTIONAL_SECRET_NEEDED_BY: Mapping[str, str] = MappingProxyType(
    {
        # The in-cluster database needs none: the operator generates its credentials.
        "databaseUrl": "database.kind external",
        "backupS3AccessKeyId": "backup.storage.kind s3",
        "backupS3SecretAccessKey": "backup.storage.kind s3",
        "databaseS3AccessKeyId": "database.kind cloudnativepg",
        "databaseS3SecretAccessKey": "database.kind cloudnativepg",
        "databaseAppPassword": "database.replica.enabled",
    }
)

# Example values used in "fix:" hints where a key has no default to suggest.
EXAMPLES: Mapping[str, str] = MappingProxyType(
    {
        "colors.blue.image": "ghcr.io/monad-synapse/monad-synapse:1.4.2",
        "colors.green.image": "ghcr.io/monad-synapse/monad-synapse:1.4.2",
        "domain": "monad-synapse.com",
        "namespace": "production",
    }
)

# The app's own secrets: a map of KEY -> value, every value encrypted.
APP_SECRETS = "appSecrets"
_SECRET_LOOKING_KEY = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL)")
_CREDENTIAL_URL = re.compile(r"^\s*[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", re.IGNORECASE)
# The API server's limit on a ConfigMap is 1 MiB in all; keep room for the
# program's own keys and the object's metadata.
APP_CONFIG_MAX_BYTES = 1024 * 1024 - 16 * 1024
_ENV_VAR_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# Namespaces the cluster itself uses: the app never goes there.
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "default"})


DEFAULT_OPERATOR_LABELS: Mapping[str, str] = OPERATOR_SELECTOR_LABELS
