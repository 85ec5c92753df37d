"""How the Pulumi CLI assembles a stack's config, without the CLI (pure: no Pulumi SDK).

`resolve_config` reproduces, in order:

* `Pulumi.yaml` defaults, then `Pulumi.<stack>.yaml`, then overrides with
  `pulumi config set --path` semantics;
* the CLI's YAML reading (tools.engine.stack_file);
* the CLI's secret check: a key declared `secret: true` in Pulumi.yaml must
  hold an encrypted (`secure:`) value in the stack file, or the CLI stops
  ("must be encrypted"; pulumi/pkg/workspace/config.go, `validateStackConfigValue`).

Encrypted values cannot be decrypted without the stack's secrets provider, so
they, and declared secrets that are not set, become placeholders (and a
warning).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from tools.engine.stack_file import ConfigInputError, load_stack_yaml, read_stack_file, resolve_plain_scalar

__all__ = [
    "PROJECT_DIR",
    "SECRET_PLACEHOLDER",
    "ConfigInputError",
    "ResolvedConfig",
    "available_stacks",
    "is_stack_name",
    "load_stack_yaml",
    "parse_path",
    "parse_path_value",
    "read_stack_file",
    "resolve_config",
    "resolve_plain_scalar",
]

PROJECT_DIR = Path(__file__).resolve().parents[2]
SECRET_PLACEHOLDER = "<redacted>"


# --- config resolution ---------------------------------------------------------


@dataclass
class ResolvedConfig:
    project: str
    stack: str
    values: dict[str, Any]  # top-level keys of the project namespace
    foreign: dict[str, Any]  # other namespaces (kubernetes:context, ...)
    secret_keys: set[str] = field(default_factory=set)
    secret_plaintexts: set[str] = field(default_factory=set)
    # Which key each plaintext came from (for a message that names the key, never the value).
    secret_sources: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def runtime_config(self) -> tuple[dict[str, str], list[str]]:
        """Config as the language host receives it: namespaced keys, string values."""
        flat = {f"{self.project}:{key}": _serialize(value) for key, value in self.values.items()}
        flat.update({key: _serialize(value) for key, value in self.foreign.items()})
        return flat, sorted(f"{self.project}:{key}" for key in self.secret_keys)


def _serialize(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def parse_path(path: str) -> list[Any]:
    """Split a `pulumi config set --path` path: a.b["c.d"][0] -> ["a", "b", "c.d", 0]."""
    parts: list[Any] = []
    token = re.compile(r'\.?([A-Za-z0-9_-]+)|\["([^"]+)"\]|\[(\d+)\]')
    position = 0
    while position < len(path):
        match = token.match(path, position)
        if not match or (position == 0 and path.startswith(".")):
            raise ConfigInputError(f"bad config path {path!r} at character {position + 1}")
        name, quoted, index = match.groups()
        parts.append(int(index) if index is not None else (name or quoted))
        position = match.end()
    if not parts or not isinstance(parts[0], str):
        raise ConfigInputError(f"bad config path {path!r}: it must start with a key name")
    return parts


def parse_path_value(text: str) -> Any:
    """`pulumi config set --path` typing: true/false are booleans, integers
    without a leading zero are numbers, everything else is a string."""
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?(0|[1-9][0-9]*)", text):
        return int(text)
    return text


def _set_path(values: dict[str, Any], parts: list[Any], value: Any) -> None:
    if len(parts) == 1:
        # Top-level values are always stored as strings by `pulumi config set`.
        values[parts[0]] = _serialize(value)
        return
    container: Any = values
    for index, part in enumerate(parts[:-1]):
        following = parts[index + 1]
        empty: Any = [] if isinstance(following, int) else {}
        if isinstance(container, dict):
            if not isinstance(container.get(part), (dict, list)):
                container[part] = empty
            container = container[part]
        else:
            while len(container) <= part:
                container.append(None)
            if not isinstance(container[part], (dict, list)):
                container[part] = empty
            container = container[part]
    last = parts[-1]
    if isinstance(container, list):
        if not isinstance(last, int):
            raise ConfigInputError(f"cannot set key {last!r} on a list")
        while len(container) <= last:
            container.append(None)
    elif isinstance(last, int):
        raise ConfigInputError(f"cannot set index [{last}] on a map")
    container[last] = value


def _split_assignment(flag: str, assignment: str) -> tuple[str, str]:
    path, separator, value = assignment.partition("=")
    if not separator or not path:
        # Never echo the assignment: under --set-secret it is a secret.
        shown = f"{path}=..." if separator else "<value without '='>"
        raise ConfigInputError(
            f"{flag} expects PATH=VALUE, got {shown if flag == '--set-secret' else repr(assignment)}"
        )
    return path, value


def _strip_secure(value: Any, on_secure: Callable[[], str]) -> tuple[Any, bool]:
    """Replace `{secure: ...}` leaves (encrypted values) with placeholders."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return on_secure(), True
        found = False
        result = {}
        for key, item in value.items():
            result[key], item_secure = _strip_secure(item, on_secure)
            found = found or item_secure
        return result, found
    if isinstance(value, list):
        items = [_strip_secure(item, on_secure) for item in value]
        return [item for item, _ in items], any(secure for _, secure in items)
    return value, False


def available_stacks(project_dir: Path = PROJECT_DIR) -> list[str]:
    return sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in project_dir.glob("Pulumi.*.yaml"))


# Secrets the program requires in its default configuration although
# Pulumi.yaml declares them with an empty default rather than `secret: true`,
# as other configurations need none (this module stays free of the settings
# package, and so of the SDK; tests/program/test_project_files.py checks the list).
SECRETS_WITH_EMPTY_DEFAULT = ("databaseUrl",)


def is_stack_name(stack: str) -> bool:
    """A stack name that can name a file beside Pulumi.yaml and nothing else (no '/', not '.' or '..')."""
    return bool(re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", stack)) and stack.strip(".") != ""


def read_project_file(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """Pulumi.yaml: the project's name and its config declarations. Parsed by
    libyaml where PyYAML has it, as every render reads the file and the
    pure-Python parser takes ten times as long (9 ms)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load((project_dir / "Pulumi.yaml").read_text(), Loader=loader)


def resolve_config(
    stack: str,
    sets: tuple[str, ...] = (),
    secret_sets: tuple[str, ...] = (),
    project_dir: Path = PROJECT_DIR,
) -> ResolvedConfig:
    project_file = read_project_file(project_dir)
    project = project_file["name"]
    stack_path = project_dir / f"Pulumi.{stack}.yaml"
    if not is_stack_name(stack) or not stack_path.is_file():
        known = ", ".join(available_stacks(project_dir)) or "none"
        if not is_stack_name(stack):
            raise ConfigInputError(
                f"{stack!r} is not a stack name (letters, digits, '-', '_' and '.', not only "
                f"dots; it names a stack file, not a path). Known stacks: {known}."
            )
        raise ConfigInputError(
            f"unknown stack {stack!r}: there is no Pulumi.{stack}.yaml. Known stacks: {known}. "
            f"Create one with `pulumi stack init {stack}` and commit its Pulumi.{stack}.yaml."
        )
    stack_file = load_stack_yaml(read_stack_file(stack_path), stack_path.name)
    declarations: dict[str, Any] = project_file.get("config") or {}
    declared_secrets = {
        key for key, declaration in declarations.items() if isinstance(declaration, dict) and declaration.get("secret")
    }
    # Secrets the program itself requires, some declared with an empty default
    # (databaseUrl: the in-cluster database needs none): unset, they render
    # with a placeholder too, and are never taken from --set.
    program_secrets = declared_secrets | (set(SECRETS_WITH_EMPTY_DEFAULT) & set(declarations))

    resolved = ResolvedConfig(project=project, stack=stack, values={}, foreign={})
    for key, declaration in declarations.items():
        if isinstance(declaration, dict) and "default" in declaration:
            resolved.values[key] = copy.deepcopy(declaration["default"])
    resolved.secret_keys |= declared_secrets

    for full_key, value in (stack_file.get("config") or {}).items():
        namespace, _, key = str(full_key).rpartition(":")
        if not namespace:
            namespace, key = project, str(full_key)

        def placeholder(key: str = key) -> str:
            resolved.warnings.append(
                f"{key} is encrypted in Pulumi.{stack}.yaml and cannot be decrypted offline; "
                f"rendering a redacted placeholder (pass --set-secret {key}=VALUE to use a value)"
            )
            return SECRET_PLACEHOLDER

        value, is_secure = _strip_secure(value, placeholder)
        if namespace == project:
            if key in declared_secrets and not is_secure:
                # The CLI refuses this stack file before the program runs. The
                # value itself is never shown: it is meant to be a secret.
                raise ConfigInputError(
                    f"{key} in Pulumi.{stack}.yaml is in plaintext, but Pulumi.yaml declares it secret: the CLI "
                    f'stops with "must be encrypted". Remove the line, then encrypt the value with '
                    f"`pulumi config set --secret {key} VALUE -s {stack}`"
                )
            resolved.values[key] = value
            if is_secure:
                resolved.secret_keys.add(key)
        else:
            resolved.foreign[f"{namespace}:{key}"] = value

    for flag, assignments, secret in (("--set", sets, False), ("--set-secret", secret_sets, True)):
        for assignment in assignments:
            path, text = _split_assignment(flag, assignment)
            parts = parse_path(path)
            if not secret and parts[0] in program_secrets:
                raise ConfigInputError(f"{parts[0]} is a secret: pass it with --set-secret {path}=VALUE, not --set")
            value = text if secret else parse_path_value(text)
            _set_path(resolved.values, parts, value)
            if secret:
                resolved.secret_keys.add(parts[0])
                if text:
                    resolved.secret_plaintexts.add(text)
                    resolved.secret_sources.setdefault(text, path)

    database = resolved.values.get("database")
    if isinstance(database, dict) and database.get("kind") == "cloudnativepg":
        # The in-cluster database brings its own credentials.
        program_secrets.discard("databaseUrl")
    for key in sorted(program_secrets - resolved.secret_keys):
        if resolved.values.get(key) in (None, ""):
            resolved.secret_keys.add(key)
            resolved.values.pop(key, None)
    for key in sorted(resolved.secret_keys):
        if key not in resolved.values:
            resolved.warnings.append(
                f"secret {key} is not set for stack {stack}; rendering a redacted placeholder "
                f"(on a real stack: pulumi config set --secret {key} VALUE -s {stack})"
            )
            resolved.values[key] = SECRET_PLACEHOLDER
    return resolved
