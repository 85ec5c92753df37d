"""appConfig maps (the shared one and each color's overlay): flat environment
variables for a plaintext ConfigMap, so no managed key, nothing secret."""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Annotated, Any, Mapping

from pydantic import AfterValidator, BeforeValidator

from settings.base import _custom_error
from settings.contract import (
    _CREDENTIAL_URL,
    _ENV_VAR_NAME,
    _SECRET_LOOKING_KEY,
    APP_CONFIG_MAX_BYTES,
    MANAGED_APP_KEYS,
)

# The settings that own a managed key, for the fix line (what the user meant).
_MANAGING_SETTING = {
    "MAINTENANCE_MODE": ("maintenanceMode", "true"),
    "JWT_SECRET": ("jwtSecretVersion", "2"),
    "DATABASE_URL": ("databaseUrl", None),
    "REDIS_URL": ("redisUrl", None),
}


def env_var_name_for(key: str) -> str:
    """The environment variable name a mistyped key most likely meant: feature-x is FEATURE_X."""
    renamed = re.sub(r"[^A-Z0-9_]", "_", key.upper())
    return renamed if _ENV_VAR_NAME.match(renamed) else f"_{renamed}"


def _check_app_config_key(key: str) -> str:
    # Every fix removes the key first: setting it again would repeat the refusal.
    if not _ENV_VAR_NAME.match(key):
        renamed = env_var_name_for(key)
        if renamed in MANAGED_APP_KEYS or _SECRET_LOOKING_KEY.search(renamed):
            # The name it would become is refused too: say why, suggest no rename.
            managed = renamed in MANAGED_APP_KEYS
            why = (
                "managed by the program (use its own config)"
                if managed
                else "secret-looking, and appConfig lands in a plaintext ConfigMap: it belongs in appSecrets"
            )
            raise _custom_error(
                "bad_app_config_key",
                "not an environment variable name ([A-Z_][A-Z0-9_]*), and {renamed} would be " + why,
                renamed=renamed,
                remove=True,
                **({} if managed else {"instead": f"appSecrets.{renamed}", "instead_secret": True}),
            )
        raise _custom_error(
            "bad_app_config_key",
            "not an environment variable name ([A-Z_][A-Z0-9_]*); did you mean {renamed}?",
            renamed=renamed,
            remove=True,
            rename=renamed,
        )
    if key in MANAGED_APP_KEYS:
        instead, instead_value = _MANAGING_SETTING.get(key, (None, None))
        raise _custom_error(
            "managed_app_config_key",
            "collides with a key the program manages ({managed}); use that key's own config instead",
            managed=", ".join(sorted(MANAGED_APP_KEYS)),
            remove=True,
            instead=instead,
            instead_value=instead_value,
        )
    if _SECRET_LOOKING_KEY.search(key):
        raise _custom_error(
            "secret_in_app_config",
            "looks like a secret, and appConfig lands in a plaintext ConfigMap; "
            "app secrets go in appSecrets, encrypted, which reach the pods through their Secret",
            remove=True,
            instead=f"appSecrets.{key}",
            instead_secret=True,
        )
    return key


AppConfigKey = Annotated[str, AfterValidator(_check_app_config_key)]


def _app_config_is_flat(value: Any) -> Any:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _custom_error("not_mapping", "must be a map of KEY: value; set entries with --path appConfig.KEY")
    flat: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, (dict, list)):
            raise _custom_error(
                "nested_app_config",
                "appConfig.{key} is a {shape}; app settings are environment variables, give a plain value",
                field=str(key),
                key=str(key),
                value=item,
                shape=type(item).__name__,
            )
        flat[str(key)] = "true" if item is True else "false" if item is False else "" if item is None else str(item)
    return flat


def _app_config_is_read_only(value: Mapping[str, str]) -> Mapping[str, str]:
    for key, item in value.items():
        if len(key) > 253:
            raise _custom_error(
                "long_app_config_key",
                "appConfig keys are at most 253 characters (this one has {length})",
                field=f'["{key}"]',
                value=None,
                length=len(key),
                remove=True,
            )
        if _CREDENTIAL_URL.match(item):
            raise _custom_error(
                "credential_in_app_config",
                "appConfig.{key} holds a URL with a password, and appConfig lands in a plaintext ConfigMap; "
                "keep credentials in Pulumi secrets (pulumi config set --secret)",
                field=key,
                key=key,
                value="[credential URL]",
            )
    size = sum(len(key.encode()) + len(item.encode()) for key, item in value.items())
    if size > APP_CONFIG_MAX_BYTES:
        raise _custom_error(
            "app_config_too_large",
            "appConfig holds {size} bytes; the API server refuses a ConfigMap over 1 MiB (at most {limit} "
            "bytes here, with the program's own keys)",
            size=size,
            limit=APP_CONFIG_MAX_BYTES,
        )
    return MappingProxyType(dict(sorted(value.items())))


AppConfig = Annotated[
    Mapping[AppConfigKey, str], BeforeValidator(_app_config_is_flat), AfterValidator(_app_config_is_read_only)
]
