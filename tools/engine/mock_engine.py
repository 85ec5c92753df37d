"""Run the real Pulumi program in-process under Pulumi's mock engine.

Used by the offline renderer and by the tests; the stack config it runs with
comes from `tools.engine.stack_config` (pure, no SDK), which the tools that only
read renders (`diff`, `manifest`, `schemas`) use instead of this module.

* `run_program` evaluates `__main__.py` inside a stack under
  `pulumi.runtime.set_mocks(preview=False)` and records every registered
  resource (inputs exactly as the SDK sends them, parent, dependencies) and the
  stack outputs, keeping track of which values are Pulumi secrets.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from tools.engine.live import api_server_defaults
from tools.engine.stack_config import PROJECT_DIR, ResolvedConfig

REDACTED = "[secret]"

# --- running the program ---------------------------------------------------------


@dataclass(frozen=True)
class RegisteredResource:
    urn: str
    type: str
    name: str
    parent: Optional[str]
    depends_on: tuple[str, ...]
    inputs: Any  # deserialized inputs, secrets still wrapped
    # Provider reference (`<provider URN>::<id>`), empty for the default provider.
    provider: str = ""
    # Resource options the engine acts on later: fields an update leaves
    # alone, and whether a delete leaves the object in the cluster.
    ignore_changes: tuple[str, ...] = ()
    retain_on_delete: bool = False

    @property
    def is_kubernetes(self) -> bool:
        """A Kubernetes object (a Helm release or chart is a package of them, not one)."""
        return self.type.startswith("kubernetes:") and not self.is_helm

    @property
    def is_helm(self) -> bool:
        """A helm.v3.Release or helm.v4.Chart: under the mock engine, one resource with its inputs."""
        return self.type.startswith("kubernetes:helm.sh/")

    @property
    def is_provider(self) -> bool:
        return self.type.startswith("pulumi:providers:")

    @property
    def provider_urn(self) -> str:
        return self.provider.rsplit("::", 1)[0] if self.provider else ""


@dataclass
class ProgramRun:
    resources: list[RegisteredResource]
    outputs: dict[str, Any]  # secrets still wrapped
    warnings: list[str]
    generated_secrets: set[str]


def engine_urn(stack: str, project: str, parent_urn: str, type_: str, name: str) -> str:
    """The URN the real engine gives a resource (pulumi/sdk/go/common/resource/urn.go,
    `NewURN`): the type is qualified by the parent's whole qualified type,
    except under the root stack. Pulumi's mock monitor prefixes
    `pulumi:pulumi:Stack$` and keeps only the parent's last type segment, so
    URNs copied from its output into --target or `pulumi state` would not match."""
    qualified = type_
    if parent_urn:
        parent_type = parent_urn.split("::")[2]
        if parent_type != "pulumi:pulumi:Stack":
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


@functools.cache  # redact and the secret helpers call it at every level of every value
def _import_pulumi():
    import pulumi
    from pulumi.runtime import mocks, resource, rpc, stack
    from pulumi.runtime.proto import source_pb2

    # The SDK walks the Python stack at every registration to tell the engine
    # where a resource was declared (pulumi/runtime/resource.py
    # _get_stack_trace), for its error messages. The mock monitor drops it,
    # and it was a tenth of every render.
    resource._get_stack_trace = source_pb2.StackTrace
    global SDK_WAIT_FOR_RPCS
    SDK_WAIT_FOR_RPCS = stack.wait_for_rpcs
    stack.wait_for_rpcs = _wait_for_rpcs  # looked up at call time by run_pulumi_func
    return pulumi, mocks, rpc


SDK_WAIT_FOR_RPCS = None  # the SDK's own, kept for tests/tools/engine/test_mock_engine.py


async def _wait_for_rpcs(await_all_outstanding_tasks: bool = True) -> None:
    """pulumi/runtime/stack.py `wait_for_rpcs` (SDK 3.272.0), which the
    runtime awaits at the end of a program, waiting on the outstanding
    outputs in one pass each round. The SDK waits for the FIRST_COMPLETED of
    them, and puts the rest back, over and over: a done-callback added to
    and removed from every pending output per completion, quadratic in their
    number, a tenth of a render here. Waiting for FIRST_EXCEPTION returns as
    soon as one fails (re-raised as before) or when all are done; outputs
    created meanwhile are waited on in the next round, as before. Only the
    offline engine runs this; `pulumi up` runs the SDK's own."""
    import asyncio

    from pulumi.runtime.settings import SETTINGS, _get_rpc_manager

    rpc_manager = _get_rpc_manager()
    while True:
        while len(rpc_manager.rpcs) > 0:
            await asyncio.sleep(0)
            try:
                await rpc_manager.rpcs.pop()
            except Exception as exn:
                if rpc_manager.unhandled_exception is not None:
                    cause = rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
                    raise exn from cause
                raise
        if rpc_manager.unhandled_exception is not None:
            raise rpc_manager.unhandled_exception.with_traceback(rpc_manager.exception_traceback)
        if await_all_outstanding_tasks:
            while True:
                with SETTINGS.lock:
                    if len(SETTINGS.outputs) == 0:
                        break
                    pending = list(SETTINGS.outputs)
                    SETTINGS.outputs.clear()
                # Returns when all are done, or early when one failed, which
                # awaiting it re-raises (so none is ever left unfinished).
                done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    await task
        if len(rpc_manager.rpcs) == 0:
            break


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
            plain = _unwrap_all(args.inputs, rpc)
            metadata = plain.get("metadata") or {}
            identity = "/".join(part for part in (metadata.get("namespace"), metadata.get("name")) if part)
            if args.typ.startswith("kubernetes:") and isinstance(plain.get("kind"), str):
                # The provider returns the live object: the API server's
                # defaults included (secret-wrapped inputs keep their inputs).
                defaulted = api_server_defaults(plain)
                if "spec" in defaulted and not _contains_secret(state.get("spec"), rpc):
                    state["spec"] = defaulted["spec"]
            return identity or args.name, state

        def call(self, args):
            return {}

    class RecordingMonitor(mocks.MockMonitor):
        def make_urn(self, parent: str, type_: str, name: str) -> str:
            return engine_urn(stack, project, parent, type_, name)

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
                    provider=request.provider,
                    ignore_changes=tuple(request.ignoreChanges),
                    retain_on_delete=bool(request.retainOnDelete),
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


def _contains_secret(value: Any, rpc: Any) -> bool:
    if rpc.is_rpc_secret(value):
        return True
    if isinstance(value, dict):
        return any(_contains_secret(item, rpc) for item in value.values())
    if isinstance(value, list):
        return any(_contains_secret(item, rpc) for item in value)
    return False


def contains_secret(value: Any) -> bool:
    """Whether deserialized values hold a Pulumi secret anywhere."""
    _, _, rpc = _import_pulumi()
    return _contains_secret(value, rpc)


def unwrap_secrets(value: Any) -> Any:
    """Deserialized values with secret markers removed (plaintext: never write it out)."""
    _, _, rpc = _import_pulumi()
    return _unwrap_all(value, rpc)


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
