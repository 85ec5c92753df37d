"""appSecrets: the app's own secrets (payment API keys, webhook signing keys),
one environment variable each. They are read only when given encrypted
(`pulumi config set --secret --path appSecrets.KEY VALUE`), and reach the pods
through the app's Secret, never a ConfigMap; no value is ever shown."""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional

from settings.app_config import env_var_name_for
from settings.contract import _ENV_VAR_NAME, APP_SECRETS, MANAGED_APP_KEYS
from settings.errors import Problem, _remove_command


def _set_command(stack: str, key: str = "<KEY>") -> str:
    return f"pulumi config set --secret --path 'appSecrets.{key}' '<value>' -s {stack}"


def read_app_secrets(
    text: Optional[str], encrypted: bool, stack: str, app_config: Mapping[str, str]
) -> tuple[list[Problem], dict[str, str]]:
    """(problems, KEY -> value) from the config's decrypted appSecrets text."""
    if text is None or not text.strip() or text.strip() == "{}":
        return [], {}
    remove_all = _remove_command(APP_SECRETS, stack)
    if not encrypted:
        return [
            Problem(
                APP_SECRETS,
                None,
                "holds the app's secrets but is not encrypted; set each value with --secret",
                f"{remove_all} && {_set_command(stack)}",
                secret=True,
                kind="plaintext_app_secret",
            )
        ], {}
    try:
        parsed: Any = json.loads(text)
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        return [
            Problem(
                APP_SECRETS,
                None,
                "must be a map of KEY: secret value",
                f"{remove_all} && {_set_command(stack)}",
                secret=True,
                kind="app_secrets_not_map",
            )
        ], {}
    problems: list[Problem] = []
    values: dict[str, str] = {}
    for key, value in sorted(parsed.items(), key=lambda item: str(item[0])):
        path = f"{APP_SECRETS}.{key}"
        remove = _remove_command(path, stack)
        if not _ENV_VAR_NAME.match(str(key)):
            renamed = env_var_name_for(str(key))
            message = "not an environment variable name ([A-Z_][A-Z0-9_]*)"
            fix = remove
            if renamed not in MANAGED_APP_KEYS:
                message += f"; did you mean {renamed}?"
                fix += f" && {_set_command(stack, renamed)}"
            problems.append(Problem(path, None, message, fix, secret=True, kind="bad_app_secret_key"))
        elif key in MANAGED_APP_KEYS:
            problems.append(
                Problem(
                    path,
                    None,
                    "collides with a key the program manages; use that key's own config",
                    remove,
                    secret=True,
                    kind="managed_app_secret_key",
                )
            )
        elif key in app_config:
            problems.append(
                Problem(
                    path,
                    None,
                    f"is also appConfig.{key}: the pod would see one of two values; keep it in one place",
                    f"pulumi config rm --path 'appConfig.{key}' -s {stack}",
                    secret=True,
                    kind="app_secret_in_app_config",
                )
            )
        elif isinstance(value, (dict, list)) or value is None or not str(value).strip():
            problems.append(
                Problem(
                    path,
                    None,
                    "must be a non-empty plain value",
                    f"{remove} && {_set_command(stack, str(key))}",
                    secret=True,
                    kind="empty_app_secret",
                )
            )
        else:
            values[str(key)] = str(value)
    return problems, values
