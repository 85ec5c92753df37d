"""Run the real Pulumi program in-process under Pulumi's mock engine.

Used by the offline renderer and by the tests. Two halves:

* `resolve_config` reproduces how the Pulumi CLI builds a stack's config:
  `Pulumi.yaml` defaults, then `Pulumi.<stack>.yaml`, then overrides with
  `pulumi config set --path` semantics. Encrypted (`secure:`) values cannot be
  decrypted without the stack's secrets provider, so they, and declared
  secrets that are not set, become placeholders (and a warning).
* `run_program` evaluates `__main__.py` inside a stack under
  `pulumi.runtime.set_mocks(preview=False)` and records every registered
  resource (inputs exactly as the SDK sends them, parent, dependencies) and the
  stack outputs, keeping track of which values are Pulumi secrets.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import re
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
REDACTED = "[secret]"
SECRET_PLACEHOLDER = "<redacted>"

# Kinds without a namespace; everything else is namespaced.
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "ClusterIssuer",
        "CustomResourceDefinition",
        "IngressClass",
        "PersistentVolume",
        "PriorityClass",
        "StorageClass",
        "GatewayClass",
    }
)


class ConfigInputError(Exception):
    """A stack name, stack file or --set flag the renderer cannot use."""


# --- config resolution ---------------------------------------------------------


@dataclass
class ResolvedConfig:
    project: str
    stack: str
    values: dict[str, Any]  # top-level keys of the project namespace
    foreign: dict[str, Any]  # other namespaces (kubernetes:context, ...)
    secret_keys: set[str] = field(default_factory=set)
    secret_plaintexts: set[str] = field(default_factory=set)
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
        raise ConfigInputError(f"{flag} expects PATH=VALUE, got {assignment!r}")
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


def resolve_config(
    stack: str,
    sets: tuple[str, ...] = (),
    secret_sets: tuple[str, ...] = (),
    project_dir: Path = PROJECT_DIR,
) -> ResolvedConfig:
    project_file = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())
    project = project_file["name"]
    stack_path = project_dir / f"Pulumi.{stack}.yaml"
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", stack) or not stack_path.is_file():
        known = ", ".join(available_stacks(project_dir)) or "none"
        raise ConfigInputError(
            f"unknown stack {stack!r}: there is no Pulumi.{stack}.yaml. Known stacks: {known}. "
            f"Create one with `pulumi stack init {stack}` and commit its Pulumi.{stack}.yaml."
        )
    stack_file = yaml.safe_load(stack_path.read_text()) or {}
    declarations: dict[str, Any] = project_file.get("config") or {}

    resolved = ResolvedConfig(project=project, stack=stack, values={}, foreign={})
    for key, declaration in declarations.items():
        if isinstance(declaration, dict) and "default" in declaration:
            resolved.values[key] = copy.deepcopy(declaration["default"])
        if isinstance(declaration, dict) and declaration.get("secret"):
            resolved.secret_keys.add(key)

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
            resolved.values[key] = value
            if is_secure:
                resolved.secret_keys.add(key)
        else:
            resolved.foreign[f"{namespace}:{key}"] = value

    declared_secrets = {key for key, declaration in declarations.items() if isinstance(declaration, dict) and declaration.get("secret")}
    for flag, assignments, secret in (("--set", sets, False), ("--set-secret", secret_sets, True)):
        for assignment in assignments:
            path, text = _split_assignment(flag, assignment)
            parts = parse_path(path)
            if not secret and parts[0] in declared_secrets:
                raise ConfigInputError(f"{parts[0]} is a secret: pass it with --set-secret {path}=VALUE, not --set")
            value = text if secret else parse_path_value(text)
            _set_path(resolved.values, parts, value)
            if secret:
                resolved.secret_keys.add(parts[0])
                if text:
                    resolved.secret_plaintexts.add(text)

    for key in sorted(resolved.secret_keys):
        if key not in resolved.values:
            resolved.warnings.append(
                f"secret {key} is not set for stack {stack}; rendering a redacted placeholder "
                f"(on a real stack: pulumi config set --secret {key} VALUE -s {stack})"
            )
            resolved.values[key] = SECRET_PLACEHOLDER
    return resolved


# --- running the program ---------------------------------------------------------


@dataclass(frozen=True)
class RegisteredResource:
    urn: str
    type: str
    name: str
    parent: Optional[str]
    depends_on: tuple[str, ...]
    inputs: Any  # deserialized inputs, secrets still wrapped

    @property
    def is_kubernetes(self) -> bool:
        return self.type.startswith("kubernetes:") and not self.type.startswith("pulumi:providers:")


@dataclass
class ProgramRun:
    resources: list[RegisteredResource]
    outputs: dict[str, Any]  # secrets still wrapped
    warnings: list[str]
    generated_secrets: set[str]


def _import_pulumi():
    import pulumi
    from pulumi.runtime import mocks, rpc

    return pulumi, mocks, rpc


_ROOT_PLACEHOLDER = object()


class _WarningCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def run_program(resolved: ResolvedConfig, project_dir: Path = PROJECT_DIR) -> ProgramRun:
    """Evaluate __main__.py for the resolved stack config. Exceptions from the
    program (a SettingsError, say) propagate after the runtime has settled."""
    flat_config, secret_keys = resolved.runtime_config()
    main_path = str(project_dir / "__main__.py")
    added_path = str(project_dir) not in sys.path
    if added_path:
        sys.path.insert(0, str(project_dir))
    try:
        return run_in_stack_with_mocks(
            resolved.project,
            resolved.stack,
            flat_config,
            secret_keys,
            lambda: runpy.run_path(main_path, run_name="__main__"),
        )
    finally:
        if added_path:
            sys.path.remove(str(project_dir))


def run_in_stack_with_mocks(
    project: str,
    stack: str,
    flat_config: dict[str, str],
    secret_keys: list[str],
    program: Callable[[], Any],
) -> ProgramRun:
    """Run `program` inside a stack under the mock engine, recording everything.
    Component tests call this directly with a program that builds one component."""
    pulumi, mocks, rpc = _import_pulumi()
    from pulumi.runtime import config as runtime_config
    from pulumi.runtime import settings as runtime_settings
    from pulumi.runtime.stack import run_in_stack
    from pulumi.runtime.sync_await import _sync_await

    recorded: list[RegisteredResource] = []
    stack_outputs: dict[str, Any] = {}
    generated: set[str] = set()

    class StackMocks(mocks.Mocks):
        def new_resource(self, args):
            state = dict(args.inputs)
            if args.typ.startswith("random:index/randomPassword"):
                # Deterministic stand-in for the provider's random value, so
                # renders are reproducible; a new keeper gives a new value.
                seed = json.dumps([args.name, _unwrap_all(args.inputs, rpc)], sort_keys=True, default=str)
                length = int(_unwrap_all(args.inputs, rpc).get("length", 32))
                value = (hashlib.sha256(seed.encode()).hexdigest() * 4)[:length]
                generated.add(value)
                state["result"] = value
            metadata = _unwrap_all(args.inputs, rpc).get("metadata") or {}
            identity = "/".join(part for part in (metadata.get("namespace"), metadata.get("name")) if part)
            return identity or args.name, state

        def call(self, args):
            return {}

    class RecordingMonitor(mocks.MockMonitor):
        def RegisterResource(self, request):
            response = super().RegisterResource(request)
            recorded.append(
                RegisteredResource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent or None,
                    depends_on=tuple(sorted(set(request.dependencies))),
                    inputs=rpc.deserialize_properties(request.object, keep_unknowns=True),
                )
            )
            return response

        def RegisterResourceOutputs(self, request):
            if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
                stack_outputs.update(rpc.deserialize_properties(request.outputs, keep_unknowns=True))
            return super().RegisterResourceOutputs(request)

    collector = _WarningCollector()
    # One logger for every run (loggers live forever); each run collects
    # the warnings through its own handler.
    logger = logging.getLogger("monad-synapse.render")
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    logger.addHandler(collector)

    runtime_config.set_all_config(flat_config, secret_keys)
    stack_mocks = StackMocks()
    monitor = RecordingMonitor(stack_mocks)
    # set_mocks would register a throwaway root stack of its own; occupy the
    # root slot so it does not, and run the program in a fresh stack below,
    # as the language host does, so its outputs are registered for real.
    runtime_settings.ROOT.set(_ROOT_PLACEHOLDER)
    mocks.set_mocks(
        stack_mocks,
        project=project,
        stack=stack,
        preview=False,
        logger=logger,
        monitor=monitor,
    )
    runtime_settings.ROOT.set(None)
    try:
        _sync_await(run_in_stack(program))
    finally:
        logger.removeHandler(collector)
    return ProgramRun(
        resources=list(recorded),
        outputs=dict(stack_outputs),
        warnings=list(collector.messages),
        generated_secrets=generated,
    )


# --- secrets -------------------------------------------------------------------


def _unwrap_all(value: Any, rpc: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return _unwrap_all(rpc.unwrap_rpc_secret(value), rpc)
    if isinstance(value, dict):
        return {key: _unwrap_all(item, rpc) for key, item in value.items()}
    if isinstance(value, list):
        return [_unwrap_all(item, rpc) for item in value]
    return value


def _redact_tree(value: Any) -> Any:
    """Keep the shape (keys, list lengths) of a secret value, hide every leaf."""
    if isinstance(value, dict):
        return {key: _redact_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_tree(item) for item in value]
    return REDACTED


def redact(value: Any) -> Any:
    """Replace every Pulumi secret in deserialized values by a redacted leaf."""
    _, _, rpc = _import_pulumi()
    if rpc.is_rpc_secret(value):
        return _redact_tree(_unwrap_all(rpc.unwrap_rpc_secret(value), rpc))
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def kubernetes_identity(obj: dict[str, Any]) -> str:
    """`Kind/namespace/name`, or `Kind/name` for cluster-scoped kinds."""
    metadata = obj.get("metadata") or {}
    kind = obj.get("kind", "?")
    if kind in CLUSTER_SCOPED_KINDS:
        return f"{kind}/{metadata.get('name')}"
    return f"{kind}/{metadata.get('namespace')}/{metadata.get('name')}"
