"""Reading a stack's config through the Pulumi SDK: the only module that touches its runtime internals."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import pulumi
from pydantic.alias_generators import to_snake

from settings.app_secrets import read_app_secrets
from settings.contract import (
    APP_SECRETS,
    OPTIONAL_SECRET_KEYS,
    OPTIONAL_SECRET_NEEDED_BY,
    PROJECT,
    SECRET_KEYS,
    secret_shape_problem,
)
from settings.errors import _MISSING, Problem, SettingsError, _fix_command
from settings.keys import default_for, known_keys
from settings.model import Settings
from settings.validation import settings_from_raw

# --- loading from Pulumi config ----------------------------------------------


@dataclass(frozen=True)
class StackSecrets:
    """Secret config values, kept as Pulumi secret Outputs end to end."""

    redis_url: pulumi.Output[str]
    alert_slack_webhook_url: pulumi.Output[str]
    alert_pagerduty_routing_key: pulumi.Output[str]
    # None with database.kind cloudnativepg: the operator generates the credentials.
    database_url: Optional[pulumi.Output[str]] = None
    backup_s3_access_key_id: Optional[pulumi.Output[str]] = None
    backup_s3_secret_access_key: Optional[pulumi.Output[str]] = None
    database_s3_access_key_id: Optional[pulumi.Output[str]] = None
    database_s3_secret_access_key: Optional[pulumi.Output[str]] = None
    # The application role's password on both sites of a DR topology.
    database_app_password: Optional[pulumi.Output[str]] = None
    # appSecrets: KEY -> its value, each a secret Output (the keys are not secret).
    app_secrets: Mapping[str, pulumi.Output[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class KubernetesConfig:
    """The `kubernetes:*` stack config the default provider would have read."""

    context: Optional[str] = None
    cluster: Optional[str] = None
    kubeconfig: Optional[pulumi.Output[str]] = None


@dataclass(frozen=True)
class StackInputs:
    settings: Settings
    secrets: StackSecrets
    kubernetes: KubernetesConfig = KubernetesConfig()


_OBJECT_KEYS = frozenset(
    key
    for key in known_keys(())
    if key not in ("activeColor", "idleReplicas", "maintenanceMode", "jwtSecretVersion", "domain", "namespace")
)


def _configured_keys() -> set[str]:
    """Top-level keys set for this project, to catch typos Pulumi passes through."""
    from pulumi.runtime import config as runtime_config

    names = set()
    for full_key in list(runtime_config.CONFIG.get()) + list(runtime_config.get_config_env()):
        namespace, _, key = full_key.partition(":")
        if namespace == PROJECT and key:
            names.add(key)
    return names


def _encrypted_section_fix(key: str, text: Optional[str], stack: str) -> str:
    """For a section given encrypted: remove it, then set the very fields it
    held in plaintext (their names, never their values)."""
    try:
        given = json.loads(text or "")
    except json.JSONDecodeError:
        given = None

    def leaves(value: Any, prefix: str) -> list[str]:
        if isinstance(value, dict) and value:
            return [leaf for name, item in value.items() for leaf in leaves(item, f"{prefix}.{name}")]
        return [prefix]

    fields = leaves(given, key)[:3] if isinstance(given, dict) and given else [f"{key}.<field>"]
    sets = " && ".join(f"pulumi config set --path {shlex.quote(field)} '<value>' -s {stack}" for field in fields)
    return f"pulumi config rm {shlex.quote(key)} -s {stack} && {sets}"


def _secret_value_problem(key: str, value: str, example: str, stack: str) -> Optional[Problem]:
    """What is wrong with a secret's value (empty, or not the shape its key
    needs), never quoting it; None when it is usable."""
    message, kind = (
        ("is empty", "empty_secret") if not value.strip() else (secret_shape_problem(key, value), "malformed_secret")
    )
    if not message:
        return None
    return Problem(key, None, message, _fix_command(key, stack, example, secret=True), secret=True, kind=kind)


def load_settings(config: pulumi.Config, stack: str) -> StackInputs:
    """Read and validate the whole stack config. Raises SettingsError.

    A value given encrypted (`pulumi config set --secret`, `--set-secret`)
    is never shown in a problem, whatever else is wrong with it: this runs
    under `pulumi up` too, and its messages reach CI logs."""
    from pulumi.runtime import config as runtime_config

    def plaintext(key: str) -> Optional[str]:
        return runtime_config.get_config(f"{PROJECT}:{key}")

    def given_encrypted(key: str) -> bool:
        return bool(runtime_config.is_config_secret(f"{PROJECT}:{key}"))

    raw: dict[str, Any] = {}
    problems: list[Problem] = []
    configured = _configured_keys()
    encrypted = frozenset(key for key in configured if given_encrypted(key))
    settings_keys = set(known_keys(()))
    for key in sorted(configured | settings_keys):
        if key in SECRET_KEYS or key in OPTIONAL_SECRET_KEYS or key == APP_SECRETS:
            continue
        if key in encrypted and key in settings_keys:
            # A plain setting would be written in plaintext into the cluster's
            # objects; refuse it rather than leak or half-apply it.
            fix = (
                _encrypted_section_fix(key, plaintext(key), stack)
                if key in _OBJECT_KEYS
                else _fix_command(key, stack, default_for((key,)))
            )
            problems.append(
                Problem(
                    key,
                    None,
                    "is not a secret setting, but was given encrypted (--secret); set it in plaintext",
                    fix,
                    secret=True,
                    kind="plain_setting_encrypted",
                )
            )
            continue
        text = plaintext(key)
        if key in _OBJECT_KEYS and text is not None:
            try:
                raw[key] = json.loads(text)
            except json.JSONDecodeError:
                raw[key] = text  # the model refuses it as "must be a map"
        else:
            raw[key] = text
    secrets: dict[str, pulumi.Output[str]] = {}
    for key, example in SECRET_KEYS.items():
        value = plaintext(key)
        if value is None:
            problems.append(
                Problem(
                    key,
                    _MISSING,
                    "required secret, and not set",
                    _fix_command(key, stack, example, secret=True),
                    kind="missing_secret",
                )
            )
        elif problem := _secret_value_problem(key, value, example, stack):
            problems.append(problem)
        else:
            secrets[key] = config.get_secret(key)

    optional: dict[str, pulumi.Output[str]] = {}
    for key, example in OPTIONAL_SECRET_KEYS.items():
        value = plaintext(key)
        if not value:
            continue
        if not given_encrypted(key):
            problems.append(
                Problem(
                    key,
                    None,
                    "holds a credential but is not encrypted",
                    _fix_command(key, stack, example, secret=True),
                    secret=True,
                    kind="plaintext_credential",
                )
            )
            continue
        if problem := _secret_value_problem(key, value, example, stack):
            problems.append(problem)
            continue
        optional[key] = config.get_secret(key)
    try:
        settings = settings_from_raw(raw, stack, secret_keys=encrypted)
    except SettingsError as error:
        reported = {problem.path for problem in problems}
        later = [problem for problem in error.problems if problem.path.split(".")[0] not in reported]
        raise SettingsError(stack, problems + later) from None
    needed = {
        "database.kind external": not settings.database.is_cloudnativepg,
        "backup.storage.kind s3": settings.backup.enabled and settings.backup.storage.kind == "s3",
        "database.kind cloudnativepg": settings.database.is_cloudnativepg,
        "database.replica.enabled": settings.database.is_cloudnativepg and settings.database.replica.enabled,
    }
    for key, example in OPTIONAL_SECRET_KEYS.items():
        reason = OPTIONAL_SECRET_NEEDED_BY[key]
        if needed[reason] and key not in optional and not any(problem.path == key for problem in problems):
            problems.append(
                Problem(
                    key,
                    _MISSING,
                    f"required with {reason}",
                    _fix_command(key, stack, example, secret=True),
                    kind="missing_secret",
                )
            )
    app_secret_problems, app_secrets = read_app_secrets(
        plaintext(APP_SECRETS), given_encrypted(APP_SECRETS), stack, settings.app_config
    )
    problems += app_secret_problems
    if problems:
        raise SettingsError(stack, problems)
    secrets.update(optional)
    kubernetes = pulumi.Config("kubernetes")
    return StackInputs(
        settings=settings,
        secrets=StackSecrets(
            **{to_snake(key): value for key, value in secrets.items()},
            app_secrets={key: pulumi.Output.secret(value) for key, value in app_secrets.items()},
        ),
        kubernetes=KubernetesConfig(
            context=kubernetes.get("context"),
            cluster=kubernetes.get("cluster"),
            kubeconfig=kubernetes.get_secret("kubeconfig"),
        ),
    )
