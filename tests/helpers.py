"""Helpers the tests share (imported as a module, unlike conftest fixtures)."""

from __future__ import annotations

import fcntl
import functools
import glob
import hashlib
import json
import os
import pickle
import shutil
import socket
from pathlib import Path

import pytest

from tools.engine.stack_config import resolve_config
from tools.manifest import kubernetes_identity
from tools.operations import RECOVERED_CLUSTER, RECOVERY_MOMENT, RECOVERY_TARGET  # noqa: F401 (the tests import them from here)
from tools.render import Rendering, manifest_objects, render, render_resolved

# Where the session's renders are shared between test workers (set by the
# controlling process in conftest.py; unset, each process renders its own).
RENDER_CACHE_VARIABLE = "MONAD_SYNAPSE_TEST_RENDERS"


@functools.lru_cache(maxsize=None)
def cached_render(stack: str, sets: tuple[str, ...], secret_sets: tuple[str, ...]) -> Rendering:
    """One render per distinct program input in the session, shared by every
    test and every worker (the code cannot change during a session).

    Keyed by the config the program receives, so two spellings of one
    config (a default set explicitly, sets in another order) render once;
    a worker that needs a render another is making waits for it."""
    directory = os.environ.get(RENDER_CACHE_VARIABLE)
    if not directory:
        return render(stack, sets, secret_sets)
    resolved = resolve_config(stack, sets, secret_sets)
    flat_config, secret_keys = resolved.runtime_config()
    key = hashlib.sha256(
        json.dumps([resolved.project, resolved.stack, sorted(flat_config.items()), secret_keys]).encode()
    ).hexdigest()
    path = Path(directory) / f"{key}.pickle"
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            made = pickle.loads(path.read_bytes())
            # This spelling's own warnings (about the config as given).
            return Rendering(files=made.files, warnings=resolved.warnings + made.run.warnings, run=made.run)
        rendering = render_resolved(resolved)
        partial = path.with_suffix(f".{os.getpid()}")
        partial.write_bytes(pickle.dumps(rendering))
        os.replace(partial, path)  # whole or absent, should this process die while writing
    return rendering


def rendered_objects(rendering: Rendering) -> dict[str, dict]:
    """A render's manifest objects keyed by Kind/namespace/name, as
    load_objects(rendering.files["manifest.yaml"]) gives them (the caller's
    own to change: manifest_objects builds every dict and list afresh)."""
    return {kubernetes_identity(obj): obj for obj in manifest_objects(rendering.run)}


def require_tool(name: str) -> str:
    """Path of an external tool; skipped locally when absent, a failure in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


# The smallest valid production config (settings_from_raw input).
VALID_SETTINGS = {
    "colors": {
        "blue": {"image": "ghcr.io/monad-synapse/monad-synapse:1.4.2"},
        "green": {"image": "ghcr.io/monad-synapse/monad-synapse:1.5.0"},
    },
    "domain": "monad-synapse.com",
    "namespace": "production",
}

# The in-cluster database's minimum: the kind, the bucket, and the
# object-store credentials (as --set-secret).
CLOUDNATIVEPG = ("database.kind=cloudnativepg", "database.cloudnativepg.objectStore.bucket=monad-synapse-wal")
DATABASE_S3_SECRETS = (
    "databaseS3AccessKeyId=AKIAEXAMPLEKEY0001",
    "databaseS3SecretAccessKey=example-secret-access-key",
)
# A recovery target in the past and within the object store's retention (the
# settings refuse future ones, and ones older than the kept backups): 10:00
# UTC yesterday, so the suite never ages out.
RECOVERY_DAY = RECOVERY_MOMENT.strftime("%Y-%m-%d")
# The same day's 10:00 at UTC+01:00 is 09:00 UTC.
RECOVERED_CLUSTER_AT_0900 = "monad-synapse-db-pitr-" + RECOVERY_MOMENT.strftime("%Y%m%d") + "0900"
RECOVERY = (
    "maintenanceMode=true",
    f"database.recovery.targetTime={RECOVERY_TARGET}",
    "database.recovery.confirm=production",
)
# The application role's password, the same on both sites of a DR topology.
DR_APP_PASSWORD = "databaseAppPassword=" + "a1" * 16
DR_SITE = (
    "database.replica.enabled=true",
    "database.replica.self=dr",
    "database.replica.primary=main",
    "database.replica.source.name=main",
    "database.replica.source.objectStore.bucket=monad-synapse-wal-main",
    "database.replica.source.objectStore.path=production",
)


def secrets_for(variant: tuple[str, ...]) -> tuple[str, ...]:
    """The --set-secret values a variant needs."""
    needed: tuple[str, ...] = ()
    if "backup.storage.kind=s3" in variant:
        needed += ("backupS3AccessKeyId=AKIAEXAMPLEKEY0001", "backupS3SecretAccessKey=example-secret-access-key")
    if "database.kind=cloudnativepg" in variant:
        needed += DATABASE_S3_SECRETS
    if "database.replica.enabled=true" in variant:
        needed += (DR_APP_PASSWORD,)
    return needed


# --- a throwaway PostgreSQL server (Debian's postgresql package; .ci/run installs it) ---


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are missing (.ci/run installs Debian's postgresql)")
        pytest.skip("PostgreSQL server binaries not installed (Debian package postgresql)")
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_server_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root; CI runs as root."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


# --- a component run under the mock engine ---


def objects_of(run) -> dict[str, dict]:
    """The Kubernetes objects a run declared, keyed Kind/name."""
    return {f"{r.inputs['kind']}/{r.inputs['metadata']['name']}": r.inputs for r in run.resources if r.is_kubernetes}


def children_of(run, component_type: str) -> list:
    """The resources the one component of that type parents."""
    (component,) = [r for r in run.resources if r.type == component_type]
    return [r for r in run.resources if r.parent == component.urn]


def secret(value: str):
    """A secret Output, as the settings hand the components their secrets."""
    import pulumi

    return pulumi.Output.secret(value)
