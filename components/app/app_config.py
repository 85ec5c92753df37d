"""The app's ConfigMaps (shared, and one overlay per color) and Secret, and
the checksums that roll pods when they change."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.common.checksums import checksum
from components.common.labels import common_labels
from components.common.vocabulary import APP_NAME, APP_PORT

CONFIG_MAP_NAME = f"{APP_NAME}-config"
SECRET_NAME = f"{APP_NAME}-secrets"
JWT_SECRET_LENGTH = 64


def config_map_data(domain: str, maintenance_mode: bool, app_config: Mapping[str, str]) -> dict[str, str]:
    """Everything the app reads from monad-synapse-config (settings already
    refused appConfig keys that collide with the managed ones)."""
    managed = {
        "MAINTENANCE_MODE": "true" if maintenance_mode else "false",
        "NODE_ENV": "production",
        "PORT": str(APP_PORT),
        # Next.js standalone binds to HOSTNAME; the pod IP, not localhost.
        "HOSTNAME": "0.0.0.0",
        "APP_URL": f"https://{domain}",
        "NEXT_TELEMETRY_DISABLED": "1",
    }
    return dict(sorted({**app_config, **managed}.items()))


def color_config_map_name(color: str) -> str:
    return f"{CONFIG_MAP_NAME}-{color}"


@dataclass(frozen=True)
class AppConfigurationArgs:
    namespace: pulumi.Input[str]
    domain: str
    maintenance_mode: bool
    app_config: Mapping[str, str]
    # colors.<color>.appConfig: each color's overlay of app_config.
    color_app_config: Mapping[str, Mapping[str, str]]
    jwt_secret_version: int
    # None with the in-cluster database: the app composes DATABASE_URL from
    # CloudNativePG's generated credentials (database_access.py).
    database_url: Optional[pulumi.Output[str]]
    redis_url: pulumi.Output[str]
    # appSecrets: the app's own secrets, KEY -> secret value.
    app_secrets: Mapping[str, pulumi.Output[str]] = field(default_factory=dict)


class AppConfiguration(pulumi.ComponentResource):
    """ConfigMap `monad-synapse-config` (both colors), `monad-synapse-config-<color>`
    (one color's overlay) and Secret `monad-synapse-secrets`."""

    config_map_name: pulumi.Output[str]
    """Name of the ConfigMap the app reads with envFrom."""
    secret_name: pulumi.Output[str]
    """Name of the Secret the app reads with envFrom."""
    color_config_map_names: Mapping[str, pulumi.Output[str]]
    """Per color, the ConfigMap of its overlay (read after the shared one)."""
    config_checksums: Mapping[str, str]
    """Per color, SHA-256 of the config its pods see (shared data with the
    color's overlay on top); a pod annotation, so a change rolls that color
    only. Folding an overlay into the shared map changes nothing for the
    color that had it."""
    secret_checksum: pulumi.Output[str]
    """SHA-256 over the Secret values; a pod annotation, so a change rolls the pods."""
    connection_checksums: Mapping[str, pulumi.Output[str]]
    """Per data store (postgres, redis): a salted SHA-256 of its URL (the
    stack secret; none for the in-cluster database), for the exporter that
    reads just that one."""

    def __init__(self, name: str, args: AppConfigurationArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("monad:app:AppConfiguration", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        data = config_map_data(args.domain, args.maintenance_mode, args.app_config)
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-config-map",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=CONFIG_MAP_NAME, namespace=args.namespace, labels=common_labels("web")
            ),
            data=data,
            opts=child,
        )
        color_config_maps = {
            color: k8s.core.v1.ConfigMap(
                f"{name}-{color}-config-map",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=color_config_map_name(color), namespace=args.namespace, labels=common_labels("web")
                ),
                data=dict(overlay),
                opts=child,
            )
            for color, overlay in args.color_app_config.items()
        }
        # Rotation: a new keeper value replaces the RandomPassword, which
        # yields a new value (what `kubectl patch secret` did by hand).
        jwt_secret = random.RandomPassword(
            f"{name}-jwt-secret",
            length=JWT_SECRET_LENGTH,
            special=False,
            keepers={"jwtSecretVersion": str(args.jwt_secret_version)},
            opts=child,
        )
        secret_values = {
            "JWT_SECRET": jwt_secret.result,
            **({"DATABASE_URL": args.database_url} if args.database_url is not None else {}),
            "REDIS_URL": args.redis_url,
        }
        # The app's own secrets hash with their names (a renamed key rolls the
        # pods too); a stack without any keeps the checksum it had.
        named_app_secrets = [pulumi.Output.concat(key, "=", value) for key, value in sorted(args.app_secrets.items())]
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=SECRET_NAME, namespace=args.namespace, labels=common_labels("web")
            ),
            type="Opaque",
            string_data={
                key: pulumi.Output.secret(value) for key, value in {**args.app_secrets, **secret_values}.items()
            },
            opts=child,
        )
        # The checksum must not be a secret, or the whole pod template would be
        # marked secret. Revealing it is safe: it hashes the 64-character random
        # JWT secret together with the URLs, so it cannot be brute-forced back
        # to a URL's password.
        secret_checksum = pulumi.Output.unsecret(
            pulumi.Output.all(*(secret_values[key] for key in sorted(secret_values)), *named_app_secrets).apply(
                lambda values: checksum({str(index): value for index, value in enumerate(values)})
            )
        )
        # Hashing the URLs alone could let a weak password be guessed from the
        # checksum; salt it with a random value generated once per stack.
        salt = random.RandomPassword(f"{name}-checksum-salt", length=32, special=False, opts=child)
        # One per data store: changing one store's URL rolls only its exporter.
        connection_checksums = {
            kind: pulumi.Output.unsecret(
                pulumi.Output.all(salt.result, url if url is not None else "").apply(
                    lambda values: checksum({str(index): value for index, value in enumerate(values)})
                )
            )
            for kind, url in (("postgres", args.database_url), ("redis", args.redis_url))
        }
        self.config_map_name = config_map.metadata.name
        self.secret_name = secret.metadata.name
        self.color_config_map_names = {
            color: config_map.metadata.name for color, config_map in color_config_maps.items()
        }
        self.config_checksums = {
            color: checksum({**data, **overlay}) for color, overlay in args.color_app_config.items()
        }
        self.secret_checksum = secret_checksum
        self.connection_checksums = connection_checksums
        self.register_outputs(
            {
                "connection_checksums": pulumi.Output.all(**connection_checksums),
                "config_map_name": self.config_map_name,
                "secret_name": self.secret_name,
                "color_config_map_names": pulumi.Output.all(**self.color_config_map_names),
                "config_checksums": self.config_checksums,
                "secret_checksum": self.secret_checksum,
            }
        )

    def rollout_annotations(self, restarts: Mapping[str, str]) -> dict[str, dict[str, pulumi.Input[str]]]:
        """Per color, the pod template annotations whose change rolls its pods:
        the checksums of its effective config and of the Secret, and the
        restart token (colors.<color>.restart, the runbook's `rollout restart`)."""
        return {
            color: {
                "monad-synapse.com/config-checksum": config_checksum,
                "monad-synapse.com/secret-checksum": self.secret_checksum,
                **({"monad-synapse.com/restart": restarts[color]} if restarts.get(color) else {}),
            }
            for color, config_checksum in self.config_checksums.items()
        }
